//! `ruletest test --coverage` / `--coverage-min` (issue #29) on kubernetes-mixin's suites (tests/data, Apache-2.0)
//! and on the shipped example (a PrometheusRule object): the figures, the threshold on both sides, JSON and
//! JUnit forms.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mixin_suites() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("tests/data/kubernetes-mixin/tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| format!("tests/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    v.sort();
    v
}

fn mixin(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root().join("tests/data/kubernetes-mixin"))
        .arg("test")
        .args(args)
        .args(mixin_suites())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The value in the figures table on the row whose first cell is `what` (`nth` for repeated names).
fn figure(out: &str, what: &str, nth: usize) -> u32 {
    out.lines()
        .filter_map(|l| l.split_once('|'))
        .filter(|(k, _)| k.trim() == what)
        .nth(nth)
        .unwrap_or_else(|| panic!("no row {what:?} in\n{out}"))
        .1
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn coverage_of_the_mixin_suites() {
    let (code, out) = mixin(&["--coverage"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("coverage: 59.6% of 136 rules"), "{out}");
    assert_eq!(figure(&out, "alerting rules", 0), 65);
    assert_eq!(figure(&out, "expected to fire", 0), 46);
    assert_eq!(figure(&out, "only expected silent", 0), 0);
    assert_eq!(figure(&out, "untested", 0), 19);
    assert_eq!(figure(&out, "recording rules", 0), 71);
    assert_eq!(figure(&out, "read by a tested expression", 0), 35);
    assert_eq!(figure(&out, "untested", 1), 36);
    assert_eq!(
        figure(&out, "alerts with label or annotation templates", 0),
        47
    );
    assert_eq!(figure(&out, "rendered and compared", 0), 34);
    // Each rule no test reaches, at its file and line.
    assert!(
        out.contains("prometheus_alerts.yaml:744: alert KubeNodeUnreachable (untested)"),
        "{out}"
    );
    assert!(
        out.contains("prometheus_rules.yaml:768: record cluster:node_cpu:ratio_rate5m (untested)"),
        "{out}"
    );
    assert_eq!(out.matches(" (untested)").count(), 19 + 36);
}

#[test]
fn coverage_min_fails_the_run_below_the_threshold_only() {
    let (code, out) = mixin(&["--coverage-min", "59"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("below"), "{out}");
    let (code, out) = mixin(&["--coverage-min", "60%"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("113 passed, 0 failed"), "{out}");
    assert!(
        out.contains("coverage 59.6% is below --coverage-min 60%"),
        "{out}"
    );
    assert!(
        out.contains("alert KubeNodeUnreachable (untested)"),
        "{out}"
    );
    // Not a percentage: a usage error.
    let (code, _) = mixin(&["--coverage-min", "120"]);
    assert_eq!(code, Some(2));
}

#[test]
fn coverage_in_json_and_junit() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let (code, out) = mixin(&[
        "--format",
        "json",
        "--coverage-min",
        "70",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &v["coverage"];
    assert!(
        (c["percent"].as_f64().unwrap() - 59.558).abs() < 0.01,
        "{c}"
    );
    assert_eq!(c["min"], 70.0);
    assert_eq!(c["below_min"], true);
    let rules = c["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 136);
    let crash = rules
        .iter()
        .find(|r| r["name"] == "KubePodCrashLooping")
        .unwrap();
    assert_eq!(crash["reach"], "expected_to_fire");
    assert_eq!(crash["kind"], "alert");
    assert_eq!(crash["templates_compared"], true);
    assert!(crash["file"]
        .as_str()
        .unwrap()
        .ends_with("prometheus_alerts.yaml"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<property name=\"coverage.percent\" value=\"59.6\"/>"),
        "{xml}"
    );
    assert_eq!(xml.matches("name=\"coverage.rule\"").count(), 136);
    assert!(xml.contains("alert KubeNodeUnreachable: untested"), "{xml}");
}

#[test]
fn coverage_of_a_prometheus_rule_object() {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args(["test", "--coverage", "tests/rules/chat2sql.test.yml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("coverage: 100.0% of 6 rules"), "{stdout}");
    // Without --coverage, no report.
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args(["test", "tests/rules/chat2sql.test.yml"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("coverage"));
}
