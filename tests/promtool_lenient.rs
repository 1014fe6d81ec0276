//! promtool-lenient loading (issue #29): every optional field of promtool's test file structs (`unitTestFile`,
//! `testGroup`, `series`, `alertTestCase`, `alert`, `promqlTestCase`, `sample`) left out or written as null, and
//! null list items, read as Go reads them (the zero value), so that ruletest gives promtool's verdict (exit
//! status) on each. promtool 2.42 is Debian's, installed by .ci/run.
//!
//! Where 2.42 and promtool 3 differ: `fuzzy_compare` (and `start_timestamp`) are promtool 3 fields that 2.42
//! refuses as unknown; ruletest reads them as promtool 3 does, so for those the expected status is 3's.
//! Not carried over on purpose: a test file that is empty (or a lone null) passes under promtool and is refused
//! by ruletest (`test/not-a-test-file`: a file given to `test` that tests nothing is likelier a mistake).

use assert_cmd::Command;
use std::path::Path;

const RULES: &str = "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up == 1\n";

/// (name, test file). Each leaves out, or writes as null, one optional part.
const CASES: &[(&str, &str)] = &[
    // The case: a series without values has no samples, the other series load, the alert fires for it.
    ("no_values_beside_others", "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: up{job=\"a\"}\n      - series: up{job=\"b\"}\n        values: 1x5\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n          - exp_labels: {job: b}\n"),
    // ... and the alert does not fire for the series without samples.
    ("no_values_expected_to_fire", "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: up{job=\"a\"}\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n          - exp_labels: {job: a}\n"),
    ("no_values", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up{job=\"a\"}\n"),
    ("null_values", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up{job=\"a\"}\n        values:\n"),
    ("empty_values", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up{job=\"a\"}\n        values: \"\"\n"),
    ("no_expr", "rule_files: [rules.yml]\ntests:\n  - promql_expr_test:\n      - eval_time: 0\n  - interval: 1m\n    input_series:\n      - series: up{job=\"a\"}\n        values: 1x5\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n          - exp_labels: {job: a}\n"),
    ("no_interval_no_evaluation_interval", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up{job=\"a\"}\n        values: 1x5\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n          - exp_labels: {job: a}\n"),
    ("null_interval", "rule_files: [rules.yml]\ntests:\n  - interval:\n    input_series:\n      - series: up{job=\"a\"}\n        values: 1x5\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n          - exp_labels: {job: a}\n"),
    ("null_evaluation_interval", "rule_files: [rules.yml]\nevaluation_interval:\ntests:\n  - interval: 1m\n    input_series:\n      - series: up{job=\"a\"}\n        values: 1x5\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n          - exp_labels: {job: a}\n"),
    ("null_exp_alerts", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up{job=\"a\"}\n        values: 0x5\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n"),
    ("no_eval_time", "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: up{job=\"a\"}\n        values: 1x5\n    alert_rule_test:\n      - alertname: Up\n        exp_alerts:\n          - exp_labels: {job: a}\n"),
    ("null_eval_time", "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: up{job=\"a\"}\n        values: 1x5\n    alert_rule_test:\n      - eval_time:\n        alertname: Up\n        exp_alerts:\n          - exp_labels: {job: a}\n"),
    ("no_alertname", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up{job=\"a\"}\n        values: 1x5\n    alert_rule_test:\n      - eval_time: 2m\n"),
    ("no_exp_labels", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up\n        values: 1x5\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n          - exp_annotations: {}\n"),
    ("null_exp_labels", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up\n        values: 1x5\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Up\n        exp_alerts:\n          - exp_labels:\n            exp_annotations:\n"),
    ("null_exp_samples", "rule_files: [rules.yml]\ntests:\n  - promql_expr_test:\n      - expr: up\n        exp_samples:\n"),
    ("no_sample_value", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up\n        values: 0\n    promql_expr_test:\n      - expr: up\n        exp_samples:\n          - labels: up\n"),
    ("null_sample_value", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up\n        values: 0\n    promql_expr_test:\n      - expr: up\n        exp_samples:\n          - labels: up\n            value:\n"),
    ("null_tests", "rule_files: [rules.yml]\ntests:\n"),
    ("no_tests", "rule_files: [rules.yml]\n"),
    ("null_input_series", "rule_files: [rules.yml]\ntests:\n  - input_series:\n"),
    ("null_name", "rule_files: [rules.yml]\ntests:\n  - name:\n"),
    ("null_external", "rule_files: [rules.yml]\ntests:\n  - external_labels:\n    external_url:\n"),
    ("null_rule_files", "rule_files:\ntests:\n  - name: x\n"),
    ("no_rule_files", "tests:\n  - name: x\n"),
    ("null_group_eval_order", "rule_files: [rules.yml]\ngroup_eval_order:\ntests:\n  - name: x\n"),
    ("null_fuzzy_compare", "rule_files: [rules.yml]\nfuzzy_compare:\ntests:\n  - name: x\n"),
    ("null_start_timestamp", "rule_files: [rules.yml]\ntests:\n  - start_timestamp:\n"),
    ("null_alertname", "rule_files: [rules.yml]\ntests:\n  - alert_rule_test:\n      - eval_time: 1m\n        alertname:\n"),
    ("null_expr", "rule_files: [rules.yml]\ntests:\n  - promql_expr_test:\n      - expr:\n"),
    ("null_series", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series:\n        values: 1\n"),
    ("empty_test_group", "rule_files: [rules.yml]\ntests:\n  - {}\n"),
    ("null_test_group", "rule_files: [rules.yml]\ntests:\n  -\n"),
    ("null_exp_alert", "rule_files: [rules.yml]\ntests:\n  - alert_rule_test:\n      - eval_time: 1m\n        alertname: Up\n        exp_alerts:\n          -\n"),
    ("null_input_item", "rule_files: [rules.yml]\ntests:\n  - input_series:\n      -\n"),
];

/// promtool 3's status where 2.42 refuses a field it does not know yet.
fn promtool3_status(name: &str) -> Option<i32> {
    match name {
        // fuzzy_compare: null is false, and the group (with no tests) passes.
        "null_fuzzy_compare" => Some(0),
        // start_timestamp: null is not a timestamp (promtool 3 fails to unmarshal it).
        "null_start_timestamp" => Some(1),
        _ => None,
    }
}

fn promtool_status(dir: &Path, file: &str) -> i32 {
    std::process::Command::new("/usr/bin/promtool")
        .current_dir(dir)
        .args(["test", "rules", file])
        .output()
        .expect("promtool (Debian's prometheus package; .ci/run installs it)")
        .status
        .code()
        .unwrap()
}

#[test]
fn optional_fields_left_out_or_null_read_as_promtool_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    let mut differ = Vec::new();
    for (name, text) in CASES {
        let file = format!("{name}.yml");
        std::fs::write(dir.path().join(&file), text).unwrap();
        let promtool = promtool_status(dir.path(), &file);
        let expected = promtool3_status(name).unwrap_or(promtool);
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .current_dir(dir.path())
            .args(["test", &file])
            .output()
            .unwrap();
        let got = out.status.code().unwrap();
        if got != expected {
            differ.push(format!(
                "{name}: promtool {promtool} (expected {expected}), ruletest {got}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn a_series_without_values_has_no_samples_and_the_file_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    let text = CASES
        .iter()
        .find(|(n, _)| *n == "no_values_expected_to_fire")
        .unwrap()
        .1;
    std::fs::write(dir.path().join("t.yml"), text).unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(dir.path())
        .args(["test", "t.yml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Loaded and run: the alert test fails on its difference, not on the file.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
    assert!(!stdout.contains("missing-field"), "{stdout}");
    // A missing alertname fails its group with promtool's words; the group with it runs its other checks.
    std::fs::write(
        dir.path().join("u.yml"),
        "rule_files: [rules.yml]\ntests:\n  - alert_rule_test:\n      - eval_time: 2m\n  - name: other\n",
    )
    .unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(dir.path())
        .args(["test", "u.yml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("misses required attribute alertname at eval_time 2m"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
}
