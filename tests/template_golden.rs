//! Golden tests for template expansion: inputs and the exact text Prometheus / Alertmanager produce, kept in
//! tests/golden/templates/*.golden with a note on how each expectation follows from the Go source.

use ruletest::template::{
    check_syntax, expand_alert_template, AlertStatus, AlertTemplateData, NotificationAlert,
    NotificationData, TemplateSet,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Labels every Prometheus case sees as `$labels`.
const LABELS: &[(&str, &str)] = &[
    ("pod", "chat2sql-api-7d9f"),
    ("namespace", "chat2sql"),
    ("container", "api"),
    ("instance", "db-1.internal:5432"),
    ("severity", "warning"),
];

#[derive(Default, Debug)]
struct Case {
    name: String,
    fields: BTreeMap<String, String>,
    template: String,
    expect: String,
    why: String,
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/templates")
}

/// Parse the golden format: `== case`, `key: value` lines, then `-- template` / `-- expect` / `-- why` blocks.
fn parse_cases(file: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(golden_dir().join(file))
        .unwrap_or_else(|e| panic!("golden file {file} must exist: {e}"));
    let mut cases: Vec<Case> = Vec::new();
    let mut block: Option<String> = None;
    let mut lines: Vec<String> = Vec::new();
    let flush = |cases: &mut Vec<Case>, block: &Option<String>, lines: &mut Vec<String>| {
        if let (Some(b), Some(c)) = (block, cases.last_mut()) {
            let joined = lines.join("\n");
            match b.as_str() {
                "template" => c.template = joined,
                "expect" => c.expect = joined,
                "why" => c.why = joined,
                other => panic!("unknown block {other}"),
            }
        }
        lines.clear();
    };
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== case ") {
            flush(&mut cases, &block, &mut lines);
            block = None;
            cases.push(Case {
                name: name.trim().to_string(),
                ..Case::default()
            });
        } else if let Some(b) = line.strip_prefix("-- ") {
            flush(&mut cases, &block, &mut lines);
            block = Some(b.trim().to_string());
        } else if block.is_some() {
            lines.push(line.to_string());
        } else if let (Some((k, v)), Some(c)) = (line.split_once(": "), cases.last_mut()) {
            if !line.starts_with('#') {
                c.fields.insert(k.to_string(), v.to_string());
            }
        }
    }
    flush(&mut cases, &block, &mut lines);
    // The why block ends the case; trailing blank lines there belong to the file layout, not the case.
    for c in &mut cases {
        assert!(
            !c.why.trim().is_empty(),
            "case {} must say how its expectation was derived",
            c.name
        );
    }
    assert!(!cases.is_empty(), "{file} has no cases");
    cases
}

fn parse_value(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other
            .parse()
            .unwrap_or_else(|_| panic!("bad value {other}")),
    }
}

#[test]
fn prometheus_alert_templates() {
    let labels: BTreeMap<String, String> = LABELS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut failures = Vec::new();
    let cases = parse_cases("prometheus.golden");
    for c in &cases {
        let data = AlertTemplateData {
            labels: labels.clone(),
            external_labels: BTreeMap::from([("cluster".to_string(), "prod-cn".to_string())]),
            external_url: "http://prometheus.example.com:9090/prom".into(),
            value: parse_value(c.fields.get("value").map_or("0", String::as_str)),
            histogram: None,
        };
        let rule = c.fields.get("rule").map_or("R", String::as_str);
        let got = expand_alert_template(rule, &c.template, &data, 1_700_000_000_000, None);
        if got.text != c.expect {
            failures.push(format!(
                "case {}:\n  expected: {}\n  got:      {}",
                c.name, c.expect, got.text
            ));
        }
        // Errors are returned as well as embedded in the text.
        if c.expect.starts_with("<error expanding template: ") {
            let err = got.error.unwrap_or_default();
            if format!("<error expanding template: {err}>") != c.expect {
                failures.push(format!(
                    "case {}: returned error {err:?} does not match the text",
                    c.name
                ));
            }
        } else if let Some(e) = got.error {
            failures.push(format!("case {}: unexpected error {e}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn alert(instance: &str, description: &str, starts_at_ms: i64) -> NotificationAlert {
    NotificationAlert {
        status: AlertStatus::Firing,
        labels: BTreeMap::from([
            ("alertname".to_string(), "HighSQLQueryLatency".to_string()),
            ("severity".to_string(), "warning".to_string()),
            ("component".to_string(), "backend".to_string()),
            ("instance".to_string(), instance.to_string()),
        ]),
        annotations: BTreeMap::from([
            ("summary".to_string(), "SQL查询延迟过高".to_string()),
            ("description".to_string(), description.to_string()),
        ]),
        starts_at_ms,
        ends_at_ms: None,
        generator_url: "http://prometheus:9090/graph?g0.expr=x".into(),
        fingerprint: None,
    }
}

/// One group of two firing alerts, routed to `critical-alerts`.
fn data() -> NotificationData {
    NotificationData {
        receiver: "critical-alerts".into(),
        alerts: vec![
            alert(
                "api-1",
                "95%的SQL查询延迟超过10秒，当前值: 12.3456s",
                1_700_000_000_000,
            ),
            alert(
                "api-2",
                "95%的SQL查询延迟超过10秒，当前值: 15s",
                1_700_000_030_000,
            ),
        ],
        group_labels: BTreeMap::from([(
            "alertname".to_string(),
            "HighSQLQueryLatency".to_string(),
        )]),
        external_url: "http://alertmanager:9093".into(),
        notification_reason: String::new(),
    }
}

#[test]
fn alertmanager_notification_templates() {
    // `since` reads this clock: 600 s after the first alert started.
    let ts = TemplateSet::with_defaults(1_700_000_600_000).unwrap();
    let d = data();
    let mut failures = Vec::new();
    let cases = parse_cases("alertmanager.golden");
    for c in &cases {
        let got = match c.fields.get("name") {
            Some(n) => ts.render_named(n, &d),
            None => ts.render(&c.template, &d),
        };
        let got = match got {
            Ok(s) => s,
            Err(e) => format!("ERROR {e}"),
        };
        if got != c.expect {
            failures.push(format!(
                "case {}:\n  expected: {:?}\n  got:      {:?}",
                c.name, c.expect, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every annotation template of the Chat2SQL seed rules parses with the Prometheus function set.
#[test]
fn seed_annotations_parse() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/000_3e23f1f703a52589.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("seed file {} must exist: {e}", path.display()));
    let mut checked = 0;
    for line in text.lines() {
        let t = line.trim();
        let Some(v) = t
            .strip_prefix("description: ")
            .or_else(|| t.strip_prefix("summary: "))
        else {
            continue;
        };
        let v = v.trim_matches('"');
        if v.contains("{{") {
            check_syntax(v).unwrap_or_else(|e| panic!("{v}: {e}"));
            checked += 1;
        }
    }
    assert!(
        checked >= 6,
        "expected the Chat2SQL annotation templates, found {checked}"
    );
}

/// Every label and annotation template of the awesome-prometheus-alerts corpus (rules Prometheus accepts)
/// parses, and expands without error for a sample alert.
#[test]
fn corpus_templates_parse_and_expand() {
    use ruletest::text::yaml::parse_stream;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/awesome-prometheus-alerts");
    assert!(
        root.is_dir(),
        "corpus directory {} must exist",
        root.display()
    );
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(p);
            }
        }
    }
    let data = AlertTemplateData {
        labels: LABELS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        external_labels: BTreeMap::new(),
        external_url: "http://prometheus:9090".into(),
        value: 0.5,
        histogram: None,
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let Ok(stream) = parse_stream(&text) else {
            continue;
        };
        for doc in &stream.documents {
            for group in doc
                .root
                .get("groups")
                .and_then(|g| g.as_seq())
                .unwrap_or_default()
            {
                for rule in group
                    .get("rules")
                    .and_then(|r| r.as_seq())
                    .unwrap_or_default()
                {
                    let name = rule.get("alert").and_then(|a| a.as_str()).unwrap_or("R");
                    for section in ["labels", "annotations"] {
                        for (_, v) in rule
                            .get(section)
                            .and_then(|m| m.as_map())
                            .unwrap_or_default()
                        {
                            let Some(t) = v.as_str() else { continue };
                            checked += 1;
                            if let Err(e) = check_syntax(t) {
                                failures.push(format!("{}: {t:?}: {e}", f.display()));
                                continue;
                            }
                            let out =
                                expand_alert_template(name, t, &data, 1_700_000_000_000, None);
                            if let Some(e) = out.error {
                                failures.push(format!("{}: {t:?}: {e}", f.display()));
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!("checked {checked} corpus templates");
    assert!(
        checked > 500,
        "expected the corpus's templates, checked {checked}"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} templates failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
