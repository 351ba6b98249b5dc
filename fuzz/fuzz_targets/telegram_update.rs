#![no_main]
//! `cargo +nightly fuzz run telegram_update`: the promise in `testkit/src/fuzz/properties.rs`.

use mgbridge_testkit::fuzz::properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::telegram_update(data));
