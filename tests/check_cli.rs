//! `ruletest check` on good and broken files, through the real binary.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().expect("ruletest was killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn shipped_rules_pass() {
    let (code, out, _) = check(&["rules/"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "2 groups, 6 rules (6 alerting, 0 recording), 1 Alertmanager config (4 receivers)"
        ),
        "{out}"
    );
}

/// Each broken file: exit status, the diagnostic code, and the `file:line` it must name.
const BROKEN: &[(&str, i32, &str, u32)] = &[
    ("bad-yaml.yaml", 1, "yaml/syntax", 6),
    ("bad-promql.yaml", 1, "rule/bad-expr", 5),
    ("unknown-field.yaml", 1, "rule/unknown-field", 6),
    ("bad-duration.yaml", 1, "rule/bad-duration", 6),
    ("duplicate-group.yaml", 1, "rule/duplicate-group", 6),
    ("tabs.yaml", 1, "yaml/syntax", 4),
    ("empty.yaml", 1, "load/empty", 1),
    ("binary.yaml", 1, "load/not-text", 1),
    ("recording-with-for.yaml", 1, "rule/recording-field", 4),
    (
        "missing-receiver.yaml",
        1,
        "alertmanager/undefined-receiver",
        5,
    ),
];

#[test]
fn broken_files_give_one_clear_message_each() {
    for (file, want_code, diag, line) in BROKEN {
        let path = format!("fixtures/invalid/{file}");
        let (code, out, err) = check(&[&path]);
        assert_eq!(code, *want_code, "{file}: {out}{err}");
        let first = out.lines().next().unwrap_or("");
        let expected = format!("{path}:{line}:");
        assert!(
            first.starts_with(&expected),
            "{file}: expected `{expected}` first, got:\n{out}"
        );
        assert!(
            first.contains(&format!("error[{diag}]")),
            "{file}: expected {diag}:\n{out}"
        );
        let errors = out.lines().filter(|l| l.contains(": error[")).count();
        assert_eq!(errors, 1, "{file}: exactly one error expected:\n{out}");
    }
}

#[test]
fn tabs_get_a_hint() {
    let (_, out, _) = check(&["fixtures/invalid/tabs.yaml"]);
    assert!(
        out.contains("help: YAML indentation must use spaces, not tabs"),
        "{out}"
    );
}

#[test]
fn unknown_field_suggests_the_right_name() {
    let (_, out, _) = check(&["fixtures/invalid/unknown-field.yaml"]);
    assert!(out.contains("did you mean `labels`?"), "{out}");
    assert!(
        out.contains("6 |     lables:"),
        "code frame expected:\n{out}"
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    let (code, _, err) = check(&["no/such/dir"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no/such/dir: no such file or directory"),
        "{err}"
    );
}

#[test]
fn no_arguments_is_a_usage_error() {
    let (code, _, _) = check(&[]);
    assert_eq!(code, 2);
}

#[test]
fn json_output_is_stable() {
    let (code, out, _) = check(&["--format", "json", "fixtures/invalid/bad-duration.yaml"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["errors"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "rule/bad-duration");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "fixtures/invalid/bad-duration.yaml");
    assert_eq!(d["line"], 6);
    assert_eq!(d["column"], 10);
    assert!(d["help"].as_str().unwrap().contains("Prometheus duration"));
}

#[test]
fn warnings_fail_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dup.yaml");
    std::fs::write(
        &f,
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n  - alert: A\n    expr: up\n",
    )
    .unwrap();
    let f = f.to_str().unwrap();
    assert_eq!(check(&[f]).0, 0);
    assert_eq!(check(&["--fail-on", "warning", f]).0, 1);
}

#[test]
fn kubernetes_documents_of_other_kinds_are_listed_with_verbose() {
    let (_, out, _) = check(&["-v", "fixtures/invalid/chat2sql-alertmanager-original.yaml"]);
    assert!(
        out.contains("skipped Deployment monitoring/alertmanager"),
        "{out}"
    );
}

/// The 112 files of awesome-prometheus-alerts are valid for Prometheus: nothing error-level may be reported.
#[test]
fn corpus_loads_without_errors() {
    let corpus = root().join("../shared/corpus/awesome-prometheus-alerts");
    assert!(
        Path::new(&corpus).is_dir(),
        "corpus missing at {}: ../shared must sit beside the repository",
        corpus.display()
    );
    let (code, out, err) = check(&["--format", "json", corpus.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["files"], 112);
    assert_eq!(v["summary"]["alerting_rules"], 954);
    assert_eq!(v["summary"]["errors"], 0, "{out}");
}

/// The guide's original Alertmanager file is not valid for Alertmanager: email has no `subject`/`body`.
#[test]
fn original_guide_alertmanager_config_names_the_subject_line() {
    let (code, out, _) = check(&["fixtures/invalid/chat2sql-alertmanager-original.yaml"]);
    assert_eq!(code, 1, "{out}");
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "fixtures/invalid/chat2sql-alertmanager-original.yaml:60:9: error[alertmanager/unknown-field] field subject not found in email_configs"
    );
    assert!(out.contains("help: Alertmanager puts the email subject in `headers: {Subject: ...}` and the body in `text` or `html`"));
    assert!(
        out.contains(":61:9: error[alertmanager/unknown-field] field body not found"),
        "{out}"
    );
    // The smtp password of the same file never appears.
    assert!(!out.contains("smtp-password"), "{out}");
}

/// `check` runs the rule unit tests it finds.
#[test]
fn check_runs_test_files() {
    let (code, out, _) = check(&["tests/rules/chat2sql.test.yml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 test file; 0 errors"), "{out}");
    let (code, out, _) = check(&["tests/rules/failing.test.yml"]);
    assert_eq!(code, 1);
    assert_eq!(out.matches("error[test/failed]").count(), 3, "{out}");
    assert!(out.contains("tests/rules/failing.test.yml:7:3: error[test/failed] rule unit test \"wrong annotation and a missing alert\" failed"), "{out}");
}

/// Bucket bounds known from fixtures make `histogram_quantile(...) > T` with T at or above the highest
/// finite bucket a finding.
#[test]
fn thresholds_above_the_highest_bucket_are_found_with_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.yml");
    std::fs::write(
        &rules,
        "groups:\n- name: g\n  rules:\n  - alert: Slow\n    expr: histogram_quantile(0.99, rate(d_bucket[5m])) > 10\n    labels: {severity: page}\n",
    )
    .unwrap();
    let (code, out, _) = check(&[rules.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(!out.contains("threshold-above-buckets"), "{out}");
    let series = dir.path().join("s.yml");
    std::fs::write(&series, "input_series:\n- series: 'd_bucket{le=\"5\"}'\n  values: '0+1x10'\n- series: 'd_bucket{le=\"10\"}'\n  values: '0+2x10'\n- series: 'd_bucket{le=\"+Inf\"}'\n  values: '0+3x10'\n").unwrap();
    let (code, out, _) = check(&[
        "--series",
        series.to_str().unwrap(),
        rules.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("warning[promql/threshold-above-buckets] the threshold 10 is at or above 10, the highest finite bucket of `d_bucket`"), "{out}");
}
