//! Test support for mgbridge, shared by the integration tests (`tests/`), the benchmarks
//! (`benches/`) and the fuzz targets (`fuzz/`): fakes of the outside APIs served over real HTTP
//! on loopback, a database per test on SQLite or Postgres, the service run as a child process, a forward proxy,
//! the benchmarks' helpers, and the fuzz mutator and the parsers' promises.
//!
//! Everything but [`fuzz`] is behind the default `fakes` feature.

#[cfg(feature = "fakes")]
pub mod bench;
#[cfg(feature = "fakes")]
pub mod database;
#[cfg(feature = "fakes")]
pub mod fake_crm;
#[cfg(feature = "fakes")]
pub mod fake_max;
#[cfg(feature = "fakes")]
pub mod fake_mg;
#[cfg(feature = "fakes")]
pub mod fake_telegram;
pub mod fuzz;
#[cfg(feature = "fakes")]
pub mod proxy;
#[cfg(feature = "fakes")]
pub mod service_process;
