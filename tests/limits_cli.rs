//! The resource limits through the real binary: a file that exceeds each limit gets an error naming the limit
//! and its flag, with the exit status of the command's other failures (1 for a failed test, 2 for a query
//! `eval` cannot answer); the defaults pass the shipped suites.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `ruletest ARGS` in `dir`; (exit code, stdout, stderr). A signal (a crash, a stack overflow) fails.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    (
        out.status.code().expect("killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const RULES: &str = r#"groups:
  - name: g
    rules:
      - alert: Loads
        expr: count_over_time(m[1h]) > 0
        annotations:
          big: '{{ range 100000 }}xxxxxxxxxx{{ end }}'
      - alert: Recurses
        expr: m > 0
        annotations:
          deep: '{{ define "a" }}{{ template "a" . }}{{ end }}{{ template "a" . }}'
"#;

/// One test group over 100 minutes of `m`; `alertname` picks which alert's annotations are compared.
fn test_file(alertname: &str) -> String {
    format!(
        r#"rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - name: limits
    interval: 1m
    input_series:
      - series: 'm{{job="a"}}'
        values: '1x100'
    alert_rule_test:
      - eval_time: 90m
        alertname: {alertname}
        exp_alerts:
          - exp_labels: {{job: a}}
"#
    )
}

fn suite(alertname: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    fs::write(dir.path().join("t.yml"), test_file(alertname)).unwrap();
    dir
}

#[test]
fn max_samples_fails_the_test_and_names_the_flag() {
    let dir = suite("Loads");
    let (code, out, err) = run(dir.path(), &["test", "--max-samples", "10", "t.yml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("t.yml:4: FAIL \"limits\""), "{out}");
    assert!(
        out.contains("rule Loads (rules.yml:5), time 0s: query processing would load too many samples into memory in query execution (the limit is 10 samples; raise it with --max-samples)"),
        "{out}"
    );
}

#[test]
fn template_output_limit_fails_the_test_and_names_the_flag() {
    let dir = suite("Loads");
    let (code, out, err) = run(
        dir.path(),
        &["test", "--template-max-output", "1KiB", "t.yml"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("template: __alert_Loads: output is larger than 1024 bytes (raise the limit with --template-max-output)"),
        "{out}"
    );
    // The 1 MB annotation never reaches the report.
    assert!(out.len() < 10_000, "{} bytes of output", out.len());
}

#[test]
fn a_recursive_template_is_an_error_not_a_crash() {
    let dir = suite("Recurses");
    let (code, out, err) = run(dir.path(), &["test", "t.yml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("exceeded maximum template depth (200)"),
        "{out}"
    );
}

#[test]
fn defaults_pass_the_suite_that_exceeds_nothing() {
    // The same rules with the bulky annotations under the defaults: the annotation is 1 MB, below 16 MiB.
    let dir = suite("Loads");
    let (code, out, _) = run(dir.path(), &["test", "t.yml"]);
    // It fails only because the expected alert lists no annotations, not because of a limit.
    assert_eq!(code, 1);
    assert!(!out.contains("raise it with") && !out.contains("raise the limit"));
    let (code, out, err) = run(&root(), &["test", "tests/rules/chat2sql.test.yml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("6 passed, 0 failed\n"), "{out}");
}

#[test]
fn defaults_pass_the_promql_conformance_files() {
    let corpus = root().join("../shared/promqltest");
    assert!(
        corpus.is_dir(),
        "conformance corpus missing at {}",
        corpus.display()
    );
    for name in ["subquery.test", "range_queries.test", "functions.test"] {
        let file = corpus.join(name);
        let file = file.to_str().unwrap();
        let (_, default_out, _) = run(&root(), &["promql-test", file]);
        // Explicit defaults give the same verdicts: the limits never decide a conformance case.
        let (_, explicit_out, _) = run(
            &root(),
            &[
                "promql-test",
                "--max-samples",
                "50000000",
                "--eval-timeout",
                "2m",
                file,
            ],
        );
        assert_eq!(default_out, explicit_out, "{name}");
        assert!(
            !default_out.contains("--max-samples"),
            "{name}: {default_out}"
        );
        assert!(
            !default_out.contains("--eval-timeout"),
            "{name}: {default_out}"
        );
        assert!(
            !default_out.contains("--max-points"),
            "{name}: {default_out}"
        );
    }
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("load 1m\n");
    for i in 0..200 {
        text.push_str(&format!("  big{{i=\"{i}\"}} 0+1x100\n"));
    }
    fs::write(dir.path().join("f.test"), text).unwrap();
    dir
}

#[test]
fn eval_max_points() {
    let dir = fixture();
    let args = [
        "eval", "big", "--series", "f.test", "--from", "0", "--to", "100m", "--step", "1m",
    ];
    let (code, out, err) = run(dir.path(), &[&args[..], &["--max-points", "1000"]].concat());
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(
            "query result would hold more than 1000 points (raise the limit with --max-points)"
        ),
        "{err}"
    );
    // 200 series x 101 steps fit under the default.
    let (code, out, err) = run(dir.path(), &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches(" @[").count(), 200 * 101, "{}", &out[..200]);
}

#[test]
fn eval_timeout() {
    let dir = fixture();
    let (code, out, err) = run(
        dir.path(),
        &[
            "eval",
            "max_over_time(rate(big[5m])[1d:1s])",
            "--series",
            "f.test",
            "--from",
            "0",
            "--to",
            "100m",
            "--step",
            "1s",
            "--eval-timeout",
            "1ms",
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(
            "query timed out in query execution (the limit is 1ms; raise it with --eval-timeout)"
        ),
        "{err}"
    );
}

#[test]
fn bad_limit_values_are_usage_errors() {
    let dir = fixture();
    for (flag, value) in [
        ("--max-samples", "0"),
        ("--max-points", "many"),
        ("--eval-timeout", "0s"),
        ("--template-max-output", "12 parsecs"),
        ("--max-response-bytes", "0"),
    ] {
        let (code, _, err) = run(
            dir.path(),
            &["eval", "big", "--series", "f.test", flag, value],
        );
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(err.contains(flag), "{flag}: {err}");
    }
}

#[test]
fn every_evaluating_command_takes_the_limit_flags() {
    for cmd in [
        "check",
        "test",
        "eval",
        "promql-test",
        "dry-run",
        "tune",
        "record",
    ] {
        let (code, out, err) = run(&root(), &[cmd, "--help"]);
        assert_eq!(code, 0, "{cmd}: {err}");
        for flag in [
            "--max-samples",
            "--max-points",
            "--eval-timeout",
            "--template-max-output",
            "--max-response-bytes",
        ] {
            assert!(out.contains(flag), "{cmd} --help lacks {flag}");
        }
    }
}
