//! `ruletest capture` (issue #29): a test file written from recorded series passes unchanged under
//! `ruletest test` and `promtool test rules` (2.42, Debian's, installed by .ci/run), for the shipped example and
//! for a generated multi-series incident with recording rules, selectors and relabelling; and a later rule
//! change that alters the alerts fails it.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ruletest(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn promtool_passes(dir: &Path, file: &str) {
    let p = std::process::Command::new("/usr/bin/promtool")
        .current_dir(dir)
        .args(["test", "rules", file])
        .output()
        .expect("promtool (Debian's prometheus package; .ci/run installs it)");
    assert!(
        p.status.success(),
        "promtool 2.42 fails {file}:\n{}{}\n{}",
        String::from_utf8_lossy(&p.stdout),
        String::from_utf8_lossy(&p.stderr),
        std::fs::read_to_string(dir.join(file)).unwrap()
    );
}

/// The shipped PrometheusRule's groups as a plain rule file (promtool reads no PrometheusRule objects).
fn plain_rules(dir: &Path) {
    let text =
        std::fs::read_to_string(root().join("rules/chat2sql-prometheus-rules.yaml")).unwrap();
    let spec = text.split_once("\nspec:\n").unwrap().1;
    let plain: String = spec
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect();
    std::fs::write(dir.join("rules.yml"), plain).unwrap();
}

#[test]
fn a_captured_incident_of_the_shipped_example_passes_under_both() {
    let dir = tempfile::tempdir().unwrap();
    plain_rules(dir.path());
    let fixture = root().join("fixtures/chat2sql/memory.yml");
    let (code, _, err) = ruletest(
        dir.path(),
        &[
            "capture",
            "--rules",
            "rules.yml",
            "--series",
            fixture.to_str().unwrap(),
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
            "--interval",
            "15s",
            "--at",
            "30m",
            "--at",
            "75m",
            "--at",
            "2h",
            "-o",
            "memory.test.yml",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(dir.path().join("memory.test.yml")).unwrap();
    assert!(text.contains("alertname: \"HighMemoryUsage\""), "{text}");
    assert!(text.contains("exp_annotations: {"), "{text}");
    let (code, out, _) = ruletest(dir.path(), &["test", "memory.test.yml"]);
    assert_eq!(code, Some(0), "{out}");
    promtool_passes(dir.path(), "memory.test.yml");
    // The PrometheusRule object itself, for ruletest.
    let (code, _, err) = ruletest(
        dir.path(),
        &[
            "capture",
            "--rules",
            root().join("rules").to_str().unwrap(),
            "--series",
            fixture.to_str().unwrap(),
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
            "--interval",
            "15s",
            "--at",
            "75m",
            "-o",
            "object.test.yml",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, out, _) = ruletest(dir.path(), &["test", "object.test.yml"]);
    assert_eq!(code, Some(0), "{out}");
}

const INCIDENT_RULES: &str = "groups:
- name: api
  rules:
  - record: job:errors:rate1m
    expr: sum by (job) (rate(http_errors_total[1m]))
  - alert: ErrorsHigh
    expr: job:errors:rate1m > 0.5
    for: 2m
    labels: {severity: page}
    annotations: {summary: '{{ $labels.job }} errors at {{ $value }}/s'}
  - alert: InstanceDown
    expr: up == 0
    for: 1m
    annotations: {summary: '{{ $labels.instance }} down'}
";

/// Several jobs and pods, counters and gauges, a gap, a series that ends (staleness), and a noise metric
/// that `--match` leaves out: OpenMetrics with timestamps, 30 s apart, from 1700000000.
fn incident() -> String {
    let mut s = String::new();
    let t0 = 1_700_000_000i64;
    s.push_str("# TYPE http_errors_total counter\n");
    for (job, pod, rate) in [
        ("api", "api-7d9f", 1.0),
        ("api", "api-1a2b", 0.0),
        ("web", "web-9x", 0.2),
    ] {
        for k in 0..60i64 {
            let v = if k < 20 {
                0.0
            } else {
                (k - 20) as f64 * 30.0 * rate
            };
            s.push_str(&format!(
                "http_errors_total{{job=\"{job}\",pod=\"{pod}\",instance=\"{pod}:8080\"}} {v} {}\n",
                t0 + k * 30
            ));
        }
    }
    s.push_str("# TYPE up gauge\n");
    for k in 0..60i64 {
        // web-9x is down from 15 minutes in; a gap at 5 minutes for api.
        let web = if k >= 30 { 0 } else { 1 };
        s.push_str(&format!(
            "up{{job=\"web\",pod=\"web-9x\",instance=\"web-9x:8080\"}} {web} {}\n",
            t0 + k * 30
        ));
        if k != 10 {
            s.push_str(&format!(
                "up{{job=\"api\",pod=\"api-7d9f\",instance=\"api-7d9f:8080\"}} 1 {}\n",
                t0 + k * 30
            ));
        }
    }
    s.push_str("# TYPE noise gauge\n");
    for k in 0..60i64 {
        s.push_str(&format!("noise{{job=\"x\"}} {k} {}\n", t0 + k * 30));
    }
    s.push_str("# EOF\n");
    s
}

#[test]
fn a_generated_multi_series_incident_round_trips_and_a_rule_change_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), INCIDENT_RULES).unwrap();
    std::fs::write(dir.path().join("incident.om"), incident()).unwrap();
    let (code, _, err) = ruletest(
        dir.path(),
        &[
            "capture",
            "--rules",
            "rules.yml",
            "--series",
            "incident.om",
            "--from",
            "1700000000",
            "--to",
            "1700001770",
            "--interval",
            "30s",
            "--at",
            "15m",
            "--at",
            "25m",
            "--at",
            "29m",
            "--match",
            "http_errors_total",
            "--match",
            "up",
            "--drop-label",
            "pod",
            "--rename-label",
            "instance=target",
            "--recordings",
            "-o",
            "incident.test.yml",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("5 series"), "{err}");
    let text = std::fs::read_to_string(dir.path().join("incident.test.yml")).unwrap();
    // Selected and relabelled: no noise, no pod, instance renamed.
    assert!(!text.contains("noise"), "{text}");
    assert!(!text.contains("pod="), "{text}");
    assert!(text.contains("target=\\\"api-7d9f:8080\\\""), "{text}");
    // Compact notation: the counters as runs.
    assert!(text.contains("\"0x20 30+30x38\""), "{text}");
    assert!(text.contains("\"1x9 _ 1x48\""), "{text}");
    // The alerts that fired (labels and rendered annotations), the recordings' samples.
    assert!(text.contains("alertname: \"ErrorsHigh\""), "{text}");
    assert!(
        text.contains("\"summary\": \"api errors at 1/s\""),
        "{text}"
    );
    assert!(text.contains("expr: \"job:errors:rate1m\""), "{text}");
    // InstanceDown fires for web; its summary reads the label renamed away, so it renders empty there.
    assert!(text.contains("alertname: \"InstanceDown\""), "{text}");
    assert!(text.contains("\"summary\": \" down\""), "{text}");
    let (code, out, _) = ruletest(dir.path(), &["test", "incident.test.yml"]);
    assert_eq!(code, Some(0), "{out}");
    promtool_passes(dir.path(), "incident.test.yml");
    // A rule change that alters the alerts fails the test, with the difference.
    std::fs::write(
        dir.path().join("rules.yml"),
        INCIDENT_RULES.replace("> 0.5", "> 2"),
    )
    .unwrap();
    let (code, out, _) = ruletest(dir.path(), &["test", "incident.test.yml"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ErrorsHigh"), "{out}");
}

/// Native histograms (issue #15) go into the captured test as `{{...}}` values, and the test passes under
/// `ruletest test` (promtool 2.42 cannot read that notation, so it is not asked).
#[test]
fn captured_histograms_are_written_in_histogram_notation_and_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n- name: latency\n  rules:\n  - alert: SlowRequests\n    expr: histogram_quantile(0.9, rate(request_seconds[2m])) > 1\n    for: 1m\n  - record: job:request_count:rate2m\n    expr: histogram_count(rate(request_seconds[2m]))\n",
    )
    .unwrap();
    // 20 minutes: fast requests (bucket (0.5,1]) for 10, then slow ones (bucket (2,4]).
    let base = 1_700_000_000i64;
    let points: Vec<String> = (0..=20)
        .map(|k| {
            let (fast, slow) = (60 * k.min(10), 60 * (k - 10).max(0));
            format!(
                r#"[{},{{"count":"{}","sum":"{}","buckets":[[0,"0.5","1","{fast}"],[0,"2","4","{slow}"]]}}]"#,
                base + 60 * k,
                fast + slow,
                fast as f64 * 0.7 + slow as f64 * 3.0
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("incident.json"),
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"request_seconds","job":"api"}},"histograms":[{}]}}]}}}}"#,
            points.join(",")
        ),
    )
    .unwrap();
    let (code, _, err) = ruletest(
        dir.path(),
        &[
            "capture",
            "--rules",
            "rules.yml",
            "--series",
            "incident.json",
            "--from",
            &base.to_string(),
            "--to",
            &(base + 1200).to_string(),
            "--interval",
            "1m",
            "--at",
            "8m",
            "--at",
            "16m",
            "--recordings",
            "-o",
            "incident.test.yml",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(dir.path().join("incident.test.yml")).unwrap();
    assert!(text.contains("{{count:60 sum:42 buckets:[60]}}"), "{text}");
    // Quiet at 8m, firing at 16m: one expected alert, after the 16m check.
    let (at8, at16) = text.split_once("eval_time: 16m").unwrap();
    assert!(!at8.contains("exp_labels"), "{text}");
    assert!(at16.contains(r#"exp_labels: {"job": "api"}"#), "{text}");
    let (code, out, err) = ruletest(dir.path(), &["test", "incident.test.yml"]);
    assert_eq!(code, Some(0), "{out}{err}\n{text}");
}
