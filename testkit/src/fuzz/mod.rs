//! The fuzzing shared by the bounded run in the test suite (`tests/fuzz`) and the
//! coverage-guided targets (`fuzz/`): the mutator (also used by the HTTP-level hostile-input
//! test, `tests/api/hostile_http.rs`) and the parsers' promises.

pub mod mutate;
pub mod properties;
