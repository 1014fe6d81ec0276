//! promtool series notation: a `series values` line, a bare value sequence, and a whole `load` block
//! loaded into a store (the path `.test` scripts and fixtures take).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::series::{fixture, notation, Store};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = notation::parse_series_line(text);
    let _ = notation::parse_values(text);
    let _ = notation::parse_series_descriptor(text);
    // The same text as a fixture: with a `load` header it is the `.test` form, otherwise YAML input_series.
    let mut store = Store::new();
    let _ = fixture::load_fixture(text, &mut store);
    let mut store = Store::new();
    let _ = fixture::load_block(&format!("load 1m\n{text}"), &mut store);
});
