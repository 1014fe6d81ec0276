//! `ruletest test` through the real binary.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .arg("test")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().expect("killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn chat2sql_suite_passes() {
    let (code, out, err) = run(&["tests/rules/chat2sql.test.yml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("6 passed, 0 failed\n"), "{out}");
    for name in [
        "HighSQLQueryLatency",
        "LowAIAccuracy",
        "DatabaseConnectionPoolExhaustion",
        "PodCrashLooping",
        "HighMemoryUsage",
        "HighCPUUsage",
    ] {
        assert!(out.contains(&format!("PASS {name:?}")), "{name}: {out}");
    }
}

#[test]
fn per_tick_mode_agrees() {
    let (code, out, _) = run(&["--per-tick", "tests/rules/chat2sql.test.yml"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn failing_suite_shows_a_diff() {
    let (code, out, _) = run(&["tests/rules/failing.test.yml"]);
    assert_eq!(code, 1);
    assert!(out.ends_with("1 passed, 3 failed\n"), "{out}");
    assert!(out.contains("tests/rules/failing.test.yml:15: alertname LowAIAccuracy, eval_time 6m: firing alerts differ"), "{out}");
    assert!(out.contains("    - {alertname=\"LowAIAccuracy\", component=\"ai-model\", model_name=\"gpt-4\", severity=\"critical\", time_window=\"1h\"} annotations {description=\"AI模型准确率低于85%，当前值: 0.85\""), "{out}");
    assert!(out.contains("    + {alertname=\"LowAIAccuracy\", component=\"ai-model\", model_name=\"gpt-4\", severity=\"critical\", time_window=\"1h\"} annotations {description=\"AI模型准确率低于85%，当前值: 0.8\""), "{out}");
    assert!(out.contains("    - {database=\"chat2sql\", pool=\"primary\"} 0.9\n    + {database=\"chat2sql\", pool=\"primary\"} 0.95"), "{out}");
}

#[test]
fn run_filter_and_json() {
    let (code, out, _) = run(&[
        "--run",
        "^this one",
        "--format",
        "json",
        "tests/rules/failing.test.yml",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["passed"], 1);
    assert_eq!(v["failed"], 0);
    assert_eq!(v["files"][0]["groups"].as_array().unwrap().len(), 1);
    let (_, out, _) = run(&["--format", "json", "tests/rules/failing.test.yml"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &v["files"][0]["groups"][2]["failures"][0];
    assert_eq!(f["kind"], "samples");
    assert_eq!(f["got"][0]["value"], 0.95);
}

#[test]
fn junit_report() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let (code, _, _) = run(&[
        "--junit",
        junit.to_str().unwrap(),
        "tests/rules/failing.test.yml",
    ]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(junit).unwrap();
    assert!(xml.contains("<testsuite name=\"tests/rules/failing.test.yml\" tests=\"4\" failures=\"3\" errors=\"0\">"), "{xml}");
    assert!(xml.contains("<testcase name=\"this one passes\""), "{xml}");
}

#[test]
fn bad_test_files_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.yml");
    std::fs::write(
        &f,
        "rule_files: [nothing-*.yml]\ntests:\n- name: x\n  input_serie: []\n",
    )
    .unwrap();
    let (code, out, _) = run(&[f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "t.yml:4:3: error[test/unknown-field] field input_serie not found in test group"
        ),
        "{out}"
    );
    std::fs::write(&f, "rule_files: [nothing-*.yml]\ntests: []\n").unwrap();
    let (code, out, _) = run(&[f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "t.yml:1:14: error[test/no-rule-files] rule_files: \"nothing-*.yml\" matches no file"
        ),
        "{out}"
    );
}

#[test]
fn a_file_without_tests_fails() {
    let (code, out, _) = run(&["rules/chat2sql-prometheus-rules.yaml"]);
    assert_eq!(code, 1);
    assert!(out.contains("error[test/not-a-test-file]"), "{out}");
}

/// Infos and warnings about a test file (here: a receiver no routing case reaches) are not load errors in
/// the JUnit report; only the failing routing case is.
#[test]
fn junit_counts_only_errors_as_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let (code, _, _) = run(&[
        "--junit",
        junit.to_str().unwrap(),
        "fixtures/secrets/routes.test.yml",
    ]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(junit).unwrap();
    assert!(xml.contains("failures=\"1\" errors=\"0\""), "{xml}");
    assert!(!xml.contains("<error"), "{xml}");
}

/// promtool's `--ignore-unknown-fields`: an unknown field is an error unless asked; with the flag the group
/// runs (here the misspelt `alert_rules_test` is ignored, so the group has nothing to check and passes).
#[test]
fn ignore_unknown_fields_as_promtool() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        "groups:\n- name: g\n  rules:\n  - alert: ApiDown\n    expr: up == 0\n",
    )
    .unwrap();
    let file = dir.path().join("t.test.yml");
    std::fs::write(
        &file,
        "rule_files: [rules.yaml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'up{job=\"api\"}'\n        values: '0x10'\n    alert_rules_test:\n      - eval_time: 10m\n        alertname: ApiDown\n",
    )
    .unwrap();
    let strict = assert_cmd::Command::cargo_bin("ruletest")
        .unwrap()
        .arg("test")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
    let text = String::from_utf8_lossy(&strict.stdout).into_owned()
        + &String::from_utf8_lossy(&strict.stderr);
    assert!(
        text.contains("field alert_rules_test not found in test group"),
        "{text}"
    );
    let lenient = assert_cmd::Command::cargo_bin("ruletest")
        .unwrap()
        .args(["test", "--ignore-unknown-fields"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&lenient.stdout).into_owned();
    assert_eq!(lenient.status.code(), Some(0), "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
}
