//! The `.test` script format of Prometheus's promqltest (`load`, `clear`, `eval instant|range`, expected
//! results), run end to end: fixtures, parsing, evaluation and comparison.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::promql::testfile::run_script;
use ruletest::promql::EngineOptions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = run_script(text, EngineOptions::default());
});
