#![no_main]
//! `cargo +nightly fuzz run client_id`: the promise in `testkit/src/fuzz/properties.rs`.

use mgbridge_testkit::fuzz::properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        properties::client_id(text);
    }
});
