//! What the benchmarks share: the service benchmarks' load and setup (`bridge`, `fair`), CPU
//! time from `/proc`, and the rate a token sustained at the fake MG (`mg_rate`, `fair`).

pub mod load;
pub mod procfs;
pub mod rate;
pub mod setup;
pub mod threads;
