#![no_main]
//! `cargo +nightly fuzz run bot_token`: the promise in `tests/fuzz/properties.rs`.

#[path = "../../tests/fuzz/properties.rs"]
#[allow(dead_code)]
mod properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        properties::bot_token(text);
    }
});
