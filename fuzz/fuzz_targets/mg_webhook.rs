#![no_main]
//! `cargo +nightly fuzz run mg_webhook`: the promise in `testkit/src/fuzz/properties.rs`.

use mgbridge_testkit::fuzz::properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| properties::mg_webhook(data));
