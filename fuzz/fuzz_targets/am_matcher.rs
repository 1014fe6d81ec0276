//! Alertmanager matchers in every mode the config and amtool read them (fallback, classic, UTF-8, single),
//! matched against a label set; what parses must print (`display_matchers`) as text that parses to the
//! same matchers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::alertmanager::matcher::{
    display_matchers, matches_all, parse_matcher, parse_matchers, parse_matchers_classic,
    parse_matchers_utf8, Matcher,
};
use ruletest::alertmanager::LabelSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let labels: LabelSet = [
        ("alertname", "HighLatency"),
        ("severity", "critical"),
        ("team", "db"),
        ("instance", "10.0.0.1:9090"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let _ = parse_matcher(text);
    let _ = parse_matchers_classic(text);
    if let Ok(ms) = parse_matchers_utf8(text) {
        let _ = matches_all(&ms, &labels);
        // The UTF-8 parser reads what it prints.
        let printed = display_matchers(&ms);
        let again: Vec<Matcher> = parse_matchers_utf8(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?} which fails: {e}"));
        assert_eq!(again, ms, "{text:?} printed as {printed:?}");
    }
    if let Ok(ms) = parse_matchers(text) {
        let _ = matches_all(&ms, &labels);
        for m in &ms {
            let _ = m.matches_value(text);
        }
    }
});
