//! Alert label/annotation templates with Prometheus's function set (`query`, `humanize*`, `printf`, ...),
//! parsed as the rule loader checks them and expanded as the rule evaluator does. gotmpl bounds recursion
//! (200 levels) and range iterations; libFuzzer's -timeout and -rss_limit_mb bound the rest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::template::{
    check_alert_template, expand_alert_template, AlertTemplateData, QueryFn, QuerySample,
};
use std::collections::BTreeMap;

/// A `query` that answers every expression with two fixed samples, so templates that range over query
/// results reach the code that formats them.
struct FixedQuery;

impl QueryFn for FixedQuery {
    fn query(&self, expr: &str, _t_ms: i64) -> Result<Vec<QuerySample>, String> {
        if expr.contains("fail") {
            return Err(format!("query {expr:?} failed"));
        }
        let labels = |i: &str| {
            BTreeMap::from([
                ("__name__".to_string(), "up".to_string()),
                ("instance".to_string(), i.to_string()),
            ])
        };
        Ok(vec![
            QuerySample {
                labels: labels("a:9090"),
                value: 1.5,
            },
            QuerySample {
                labels: labels("b:9090"),
                value: f64::NAN,
            },
        ])
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = check_alert_template("Fuzz", text);
    let data = AlertTemplateData {
        labels: BTreeMap::from([
            ("alertname".to_string(), "Fuzz".to_string()),
            ("instance".to_string(), "host.example.com:9100".to_string()),
            ("severity".to_string(), "critical".to_string()),
        ]),
        external_labels: BTreeMap::from([("cluster".to_string(), "eu-1".to_string())]),
        external_url: "http://prometheus.example.com:9090".to_string(),
        value: 1234.5678,
    };
    let out = expand_alert_template("Fuzz", text, &data, 1_700_000_000_000, Some(&FixedQuery));
    // An error is reported in the text too, as Prometheus stores it.
    if let Some(e) = &out.error {
        assert!(out.text.contains(e.as_str()));
    }
});
