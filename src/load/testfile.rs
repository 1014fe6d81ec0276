//! Rule unit test files in promtool's format (`rule_files`, `evaluation_interval`, `group_eval_order`,
//! `fuzzy_compare`, `tests: [...]`), read strictly: unknown fields are errors with file:line, as promtool 3.x
//! reads them.
//!
//! Input: an [`Item`] of kind TestFile. Output: a [`TestFile`] with positions, and diagnostics.

use crate::diag::Diagnostic;
use crate::load::documents::Item;
use crate::load::fields::{Codes, Fields, Spanned};
use crate::text::yaml::{Node, Pos};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct TestFile {
    pub file: Arc<str>,
    pub rule_files: Vec<Spanned<String>>,
    pub evaluation_interval_ms: i64,
    pub group_eval_order: Vec<String>,
    pub fuzzy_compare: bool,
    pub tests: Vec<TestGroup>,
    /// `alertmanager_config:` (relative to the test file), for `routes_test`.
    pub alertmanager_config: Option<Spanned<String>>,
    /// Top-level `routes_test:` cases (one list per file, checked against `alertmanager_config`).
    pub routes_tests: Vec<RouteTest>,
}

/// One `routes_test` case: an alert's labels and what Alertmanager should do with it at `at`.
#[derive(Clone, Debug)]
pub struct RouteTest {
    pub pos: Pos,
    pub labels: Vec<(String, String)>,
    /// Other alerts firing at `at` (inhibition sources).
    pub firing: Vec<Vec<(String, String)>>,
    /// Unix milliseconds; 0 when not given.
    pub at_ms: i64,
    /// Expected receivers in tree order, as amtool prints them.
    pub receivers: Option<Vec<String>>,
    pub inhibited: Option<bool>,
    pub muted: Option<bool>,
}

#[derive(Clone, Debug)]
pub struct TestGroup {
    pub name: String,
    pub pos: Pos,
    pub interval_ms: Option<i64>,
    /// Unix milliseconds of the test's time 0.
    pub start_ms: i64,
    pub input_series: Vec<InputSeries>,
    pub external_labels: Vec<(String, String)>,
    pub external_url: String,
    pub alert_rule_tests: Vec<AlertRuleTest>,
    pub promql_expr_tests: Vec<PromqlExprTest>,
}

#[derive(Clone, Debug)]
pub struct InputSeries {
    pub series: Spanned<String>,
    pub values: Spanned<String>,
}

#[derive(Clone, Debug)]
pub struct AlertRuleTest {
    pub pos: Pos,
    pub eval_time_ms: i64,
    pub alertname: String,
    pub exp_alerts: Vec<ExpAlert>,
}

#[derive(Clone, Debug)]
pub struct ExpAlert {
    pub pos: Pos,
    pub exp_labels: Vec<(String, String)>,
    pub exp_annotations: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct PromqlExprTest {
    pub pos: Pos,
    pub expr: Spanned<String>,
    pub eval_time_ms: i64,
    pub exp_samples: Vec<ExpSample>,
}

#[derive(Clone, Debug)]
pub struct ExpSample {
    pub pos: Pos,
    /// A series descriptor (`metric{a="b"}`); empty for a scalar-like sample without labels.
    pub labels: String,
    pub value: f64,
    /// A native histogram in the series notation (`{{...}}`); when given, `value` is ignored.
    pub histogram: Option<String>,
}

const FILE_FIELDS: &[&str] = &[
    "rule_files",
    "evaluation_interval",
    "group_eval_order",
    "fuzzy_compare",
    "tests",
    "alertmanager_config",
    "routes_test",
];
const GROUP_FIELDS: &[&str] = &[
    "name",
    "interval",
    "start_timestamp",
    "input_series",
    "external_labels",
    "external_url",
    "alert_rule_test",
    "promql_expr_test",
];
const SERIES_FIELDS: &[&str] = &["series", "values"];
const ALERT_TEST_FIELDS: &[&str] = &["eval_time", "alertname", "exp_alerts"];
const EXP_ALERT_FIELDS: &[&str] = &["exp_labels", "exp_annotations"];
const EXPR_TEST_FIELDS: &[&str] = &["expr", "eval_time", "exp_samples"];
const SAMPLE_FIELDS: &[&str] = &["labels", "value", "histogram"];
const ROUTE_TEST_FIELDS: &[&str] = &["labels", "firing", "at", "receivers", "inhibited", "muted"];

type Cx = Fields;

const TEST_CODES: Codes = Codes {
    unknown_field: "test/unknown-field",
    wrong_type: "test/wrong-type",
    bad_duration: "test/bad-duration",
};

/// A field that is there and not null: promtool (Go's YAML) reads a null as the field's zero value, which for
/// every optional field of a test file is its default.
fn given(node: Option<&Node>) -> Option<&Node> {
    node.filter(|n| !n.is_null())
}

/// Field `key` of mapping `m` as a string, the empty string (at the mapping) when it is not there: Go's zero
/// value, as promtool reads it.
fn string_or_empty(cx: &mut Cx, m: &Node, key: &str) -> Spanned<String> {
    m.get(key)
        .and_then(|n| cx.string(n, key))
        .unwrap_or(Spanned {
            value: String::new(),
            pos: m.pos,
        })
}

/// An optional mapping of strings, as plain pairs.
fn pairs(cx: &mut Cx, node: Option<&Node>, what: &str) -> Vec<(String, String)> {
    node.map(|n| {
        cx.string_map(n, what)
            .into_iter()
            .map(|(k, v)| (k.value, v.value))
            .collect()
    })
    .unwrap_or_default()
}

/// Reads a test file document.
pub fn load_test_file(item: &Item) -> (TestFile, Vec<Diagnostic>) {
    crate::load::reads::note(crate::load::reads::Read::TestFile);
    let mut cx = Cx::new(item.file.clone(), String::new(), &TEST_CODES);
    let root = &item.root;
    let mut tf = TestFile {
        file: item.file.clone(),
        rule_files: Vec::new(),
        evaluation_interval_ms: 60_000,
        group_eval_order: Vec::new(),
        fuzzy_compare: false,
        tests: Vec::new(),
        alertmanager_config: None,
        routes_tests: Vec::new(),
    };
    if !cx.known_fields(root, FILE_FIELDS, "test file") {
        return (tf, cx.diags);
    }
    for n in cx.seq_opt(root.get("rule_files"), "rule_files") {
        if let Some(s) = cx.string(n, "rule_files") {
            tf.rule_files.push(s);
        }
    }
    if let Some(n) = given(root.get("evaluation_interval")) {
        if let Some(d) = cx.duration(n, "evaluation_interval") {
            tf.evaluation_interval_ms = d.value;
        }
    }
    for n in cx.seq_opt(root.get("group_eval_order"), "group_eval_order") {
        if let Some(s) = cx.string(n, "group_eval_order") {
            // promtool refuses the whole file when a group is listed twice.
            if tf.group_eval_order.contains(&s.value) {
                cx.error_help(
                    "test/repeated-group",
                    s.pos,
                    format!("group name repeated in evaluation order: {}", s.value),
                    "list each rule group once in `group_eval_order`",
                );
                continue;
            }
            tf.group_eval_order.push(s.value);
        }
    }
    if let Some(n) = given(root.get("fuzzy_compare")) {
        match n.as_bool() {
            Some(b) => tf.fuzzy_compare = b,
            None => cx.error(
                "test/wrong-type",
                n.pos,
                "`fuzzy_compare` must be true or false",
            ),
        }
    }
    for t in cx.seq_opt(root.get("tests"), "tests") {
        if let Some(g) = load_group(&mut cx, t) {
            tf.tests.push(g);
        }
    }
    tf.alertmanager_config = root
        .get("alertmanager_config")
        .and_then(|n| cx.string(n, "alertmanager_config"));
    for c in cx.seq_opt(root.get("routes_test"), "routes_test") {
        if let Some(t) = load_route_test(&mut cx, c) {
            tf.routes_tests.push(t);
        }
    }
    if root.get("routes_test").is_some() && tf.alertmanager_config.is_none() {
        cx.diags.push(
            Diagnostic::error(
                "test/missing-field",
                "`routes_test` needs `alertmanager_config`",
            )
            .at(
                &cx.file,
                root.get("routes_test").map_or(root.pos, |n| n.pos),
            )
            .help("add `alertmanager_config: PATH` (relative to this test file)"),
        );
    }
    (tf, cx.diags)
}

fn load_route_test(cx: &mut Cx, c: &Node) -> Option<RouteTest> {
    if !cx.known_fields(c, ROUTE_TEST_FIELDS, "routes test") {
        return None;
    }
    let mut t = RouteTest {
        pos: c.pos,
        labels: pairs(cx, c.get("labels"), "labels"),
        firing: Vec::new(),
        at_ms: 0,
        receivers: None,
        inhibited: None,
        muted: None,
    };
    for f in cx.seq_opt(c.get("firing"), "firing") {
        t.firing.push(pairs(cx, Some(f), "firing"));
    }
    if let Some(n) = c.get("at") {
        match n.as_str().and_then(parse_timestamp) {
            Some(ms) => t.at_ms = ms,
            None => cx.diags.push(
                Diagnostic::error("test/bad-timestamp", "`at` must be Unix seconds or RFC3339")
                    .at(&cx.file, n.pos)
                    .help("for example 0, 1700000000 or 2024-01-01T09:30:00Z"),
            ),
        }
    }
    if let Some(n) = c.get("receivers") {
        let names = cx
            .seq_opt(Some(n), "receivers")
            .iter()
            .filter_map(|r| cx.string(r, "receivers").map(|s| s.value))
            .collect();
        t.receivers = Some(names);
    }
    for (key, slot) in [("inhibited", &mut t.inhibited), ("muted", &mut t.muted)] {
        if let Some(n) = c.get(key) {
            match n.as_bool() {
                Some(b) => *slot = Some(b),
                None => cx.error(
                    "test/wrong-type",
                    n.pos,
                    format!("`{key}` must be true or false"),
                ),
            }
        }
    }
    if t.receivers.is_none() && t.inhibited.is_none() && t.muted.is_none() {
        cx.diags.push(
            Diagnostic::error(
                "test/missing-field",
                "a routes test needs `receivers`, `inhibited` or `muted`",
            )
            .at(&cx.file, c.pos),
        );
        return None;
    }
    Some(t)
}

fn load_group(cx: &mut Cx, t: &Node) -> Option<TestGroup> {
    // A null item is an empty one (Go's zero value), as promtool reads it.
    if !t.is_null() && !cx.known_fields(t, GROUP_FIELDS, "test group") {
        return None;
    }
    let mut g = TestGroup {
        name: t
            .get("name")
            .and_then(|n| cx.string(n, "name"))
            .map(|s| s.value)
            .unwrap_or_default(),
        pos: t.pos,
        interval_ms: given(t.get("interval"))
            .and_then(|n| cx.duration(n, "interval"))
            .map(|d| d.value),
        start_ms: 0,
        input_series: Vec::new(),
        external_labels: pairs(cx, t.get("external_labels"), "external_labels"),
        external_url: t
            .get("external_url")
            .and_then(|n| cx.string(n, "external_url"))
            .map(|s| s.value)
            .unwrap_or_default(),
        alert_rule_tests: Vec::new(),
        promql_expr_tests: Vec::new(),
    };
    if let Some(n) = t.get("start_timestamp") {
        match n.as_str().and_then(parse_timestamp) {
            Some(ms) => g.start_ms = ms,
            None => cx.diags.push(
                Diagnostic::error(
                    "test/bad-timestamp",
                    "`start_timestamp` must be Unix seconds or RFC3339",
                )
                .at(&cx.file, n.pos)
                .help("for example 0, 1700000000 or 2024-01-01T00:00:00Z"),
            ),
        }
    }
    for s in cx.seq_opt(t.get("input_series"), "input_series") {
        if !s.is_null() && !cx.known_fields(s, SERIES_FIELDS, "input series") {
            continue;
        }
        let series = s.get("series").and_then(|n| cx.string(n, "series"));
        // promtool reads a series without `values` (or with empty ones) as a series with no samples.
        let values = string_or_empty(cx, s, "values");
        match series {
            Some(series) if !series.value.trim().is_empty() => {
                g.input_series.push(InputSeries { series, values })
            }
            // Nothing at all (a null or empty item) loads nothing, as under promtool.
            _ if values.value.trim().is_empty() => {}
            _ => cx.error(
                "test/missing-field",
                s.pos,
                "an input series with `values` needs `series`",
            ),
        }
    }
    for a in cx.seq_opt(t.get("alert_rule_test"), "alert_rule_test") {
        if !a.is_null() && !cx.known_fields(a, ALERT_TEST_FIELDS, "alert rule test") {
            continue;
        }
        let eval_time_ms = given(a.get("eval_time"))
            .and_then(|n| cx.duration(n, "eval_time"))
            .map_or(0, |d| d.value);
        let alertname = a
            .get("alertname")
            .and_then(|n| cx.string(n, "alertname"))
            .map(|s| s.value)
            .unwrap_or_default();
        let mut exp_alerts = Vec::new();
        for e in cx.seq_opt(a.get("exp_alerts"), "exp_alerts") {
            if !e.is_null() && !cx.known_fields(e, EXP_ALERT_FIELDS, "expected alert") {
                continue;
            }
            exp_alerts.push(ExpAlert {
                pos: e.pos,
                exp_labels: pairs(cx, e.get("exp_labels"), "exp_labels"),
                exp_annotations: pairs(cx, e.get("exp_annotations"), "exp_annotations"),
            });
        }
        g.alert_rule_tests.push(AlertRuleTest {
            pos: a.pos,
            eval_time_ms,
            alertname,
            exp_alerts,
        });
    }
    for p in cx.seq_opt(t.get("promql_expr_test"), "promql_expr_test") {
        if !p.is_null() && !cx.known_fields(p, EXPR_TEST_FIELDS, "PromQL expression test") {
            continue;
        }
        // promtool runs a test without `expr` as the empty query, which fails at its evaluation time.
        let expr = string_or_empty(cx, p, "expr");
        let eval_time_ms = given(p.get("eval_time"))
            .and_then(|n| cx.duration(n, "eval_time"))
            .map_or(0, |d| d.value);
        let mut exp_samples = Vec::new();
        for s in cx.seq_opt(p.get("exp_samples"), "exp_samples") {
            if !s.is_null() && !cx.known_fields(s, SAMPLE_FIELDS, "expected sample") {
                continue;
            }
            let labels = s
                .get("labels")
                .and_then(|n| cx.string(n, "labels"))
                .map(|s| s.value)
                .unwrap_or_default();
            let value = match given(s.get("value")) {
                Some(v) => match v.as_f64().or_else(|| v.as_str().and_then(parse_go_float)) {
                    Some(f) => f,
                    None => {
                        cx.error("test/wrong-type", v.pos, "`value` must be a number");
                        continue;
                    }
                },
                None => 0.0,
            };
            let histogram = given(s.get("histogram"))
                .and_then(|n| cx.string(n, "histogram"))
                .map(|s| s.value)
                .filter(|h| !h.is_empty());
            exp_samples.push(ExpSample {
                pos: s.pos,
                labels,
                value,
                histogram,
            });
        }
        g.promql_expr_tests.push(PromqlExprTest {
            pos: p.pos,
            expr,
            eval_time_ms,
            exp_samples,
        });
    }
    Some(g)
}

/// Go's ParseFloat spellings that YAML does not read as numbers (`Inf`, `+Inf`, `NaN`).
fn parse_go_float(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        t => t.parse().ok(),
    }
}

pub use crate::text::time::parse_timestamp;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::documents::{load_bytes, Kind, Loaded};

    fn load(text: &str) -> (TestFile, Vec<Diagnostic>) {
        let mut l = Loaded::default();
        load_bytes(Arc::from("t.yml"), text.as_bytes(), &mut l);
        let item = l
            .items
            .iter()
            .find(|i| i.kind == Kind::TestFile)
            .expect("a test file");
        load_test_file(item)
    }

    #[test]
    fn reads_promtool_test_files() {
        let (tf, d) = load(
            "rule_files: [rules.yml]\nevaluation_interval: 30s\ntests:\n- interval: 15s\n  start_timestamp: '2024-01-01T00:00:00Z'\n  input_series:\n  - series: 'up{job=\"a\"}'\n    values: '1 0x10'\n  alert_rule_test:\n  - eval_time: 5m\n    alertname: Down\n    exp_alerts:\n    - exp_labels: {job: a}\n  promql_expr_test:\n  - expr: up\n    eval_time: 1m\n    exp_samples:\n    - labels: 'up{job=\"a\"}'\n      value: 0\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(tf.evaluation_interval_ms, 30_000);
        let g = &tf.tests[0];
        assert_eq!(g.interval_ms, Some(15_000));
        assert_eq!(g.start_ms, 1_704_067_200_000);
        assert_eq!(g.input_series[0].values.value, "1 0x10");
        assert_eq!(g.alert_rule_tests[0].eval_time_ms, 300_000);
        assert_eq!(
            g.alert_rule_tests[0].exp_alerts[0].exp_labels,
            vec![("job".into(), "a".into())]
        );
        assert_eq!(g.promql_expr_tests[0].exp_samples[0].value, 0.0);
    }

    #[test]
    fn unknown_fields_are_errors_with_position() {
        let (_, d) = load("rule_files: []\ntests:\n- name: x\n  input_serie: []\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "test/unknown-field");
        assert_eq!(d[0].location.as_ref().unwrap().pos, Pos::new(4, 3));
        assert_eq!(d[0].help.as_deref(), Some("did you mean `input_series`? A test group has the fields name, interval, start_timestamp, input_series, external_labels, external_url, alert_rule_test, promql_expr_test"));
    }

    #[test]
    fn reads_routes_tests() {
        let (tf, d) = load(
            "alertmanager_config: am.yml\nroutes_test:\n- labels: {severity: warning}\n  firing: [{severity: critical}]\n  at: 2024-01-01T00:00:00Z\n  receivers: [a, b]\n  inhibited: true\n- labels: {}\n  muted: false\n  at: 60\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(tf.alertmanager_config.unwrap().value, "am.yml");
        let t = &tf.routes_tests[0];
        assert_eq!(t.pos, Pos::new(3, 3));
        assert_eq!(t.labels, vec![("severity".into(), "warning".into())]);
        assert_eq!(t.firing, vec![vec![("severity".into(), "critical".into())]]);
        assert_eq!(t.at_ms, 1_704_067_200_000);
        assert_eq!(t.receivers, Some(vec!["a".into(), "b".into()]));
        assert_eq!(t.inhibited, Some(true));
        assert_eq!(tf.routes_tests[1].muted, Some(false));
        assert_eq!(tf.routes_tests[1].at_ms, 60_000);
    }

    #[test]
    fn routes_tests_need_a_config_and_an_expectation() {
        let (_, d) = load("routes_test:\n- labels: {a: b}\n");
        let codes: Vec<&str> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["test/missing-field", "test/missing-field"]);
        assert!(d[0].message.contains("receivers"), "{d:?}");
        assert!(d[1].message.contains("alertmanager_config"), "{d:?}");
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("0"), Some(0));
        assert_eq!(parse_timestamp("1.5"), Some(1500));
        assert_eq!(parse_timestamp("1970-01-01T00:01:00Z"), Some(60_000));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn a_group_named_twice_in_group_eval_order_is_an_error() {
        let (tf, d) = load("rule_files: []\ngroup_eval_order: [a, b, a]\ntests: []\n");
        assert_eq!(tf.group_eval_order, ["a", "b"]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].message, "group name repeated in evaluation order: a");
        assert_eq!(d[0].location.as_ref().unwrap().pos, Pos::new(2, 26));
    }
}
