#![no_main]
//! `cargo +nightly fuzz run telegram_update`: the promise in `tests/fuzz/properties.rs`.

#[path = "../../tests/fuzz/properties.rs"]
#[allow(dead_code)]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::telegram_update(data));
