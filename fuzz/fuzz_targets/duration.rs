//! Prometheus durations: whatever parses must print back to the same value, and printing any i64 (as
//! computed differences reach `format_duration`) must not fail.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::text::duration::{format_duration, parse_duration};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ms) = parse_duration(text) {
            assert!(ms >= 0, "{text:?} parsed to a negative duration {ms}");
            let printed = format_duration(ms);
            assert_eq!(
                parse_duration(&printed),
                Ok(ms),
                "{text:?} -> {ms} ms -> {printed:?} does not read back"
            );
        }
    }
    if data.len() >= 8 {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&data[..8]);
        let _ = format_duration(i64::from_le_bytes(raw));
    }
});
