#![no_main]
//! `cargo +nightly fuzz run crm_url`: the promise in `testkit/src/fuzz/properties.rs`.

use std::sync::OnceLock;

use mgbridge_testkit::fuzz::properties;

static POLICIES: OnceLock<[mgbridge::crm::address::CrmPolicy; 2]> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        properties::crm_url(POLICIES.get_or_init(properties::crm_policies), text);
    }
});
