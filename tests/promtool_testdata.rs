//! promtool's own unit-test cases (tests/data/promtool-testdata, carried over from Prometheus with its licence):
//! `ruletest test` gives the exit status Prometheus's `cmd/promtool/unittest_test.go` expects of promtool for
//! each, with the same arguments (`--run`, `--ignore-unknown-fields`). The cases that only turn an engine feature
//! off (the `@` modifier, negative offsets) have no counterpart: like promtool's command, ruletest always has
//! them on.

use assert_cmd::Command;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/promtool-testdata")
}

fn status(args: &[&str], file: &str) -> (i32, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("test")
        .args(args)
        .arg(dir().join(file))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// `TestRulesUnitTest` and `TestRulesUnitTestRun`, by name.
#[test]
fn exit_statuses_are_the_ones_unittest_test_go_expects() {
    let cases: &[(&str, &[&str], &str, i32)] = &[
        ("Long evaluation interval", &[], "long-period.yml", 0),
        ("Bad input series", &[], "bad-input-series.yml", 1),
        ("Bad PromQL", &[], "bad-promql.yml", 1),
        (
            "Bad rules (syntax error)",
            &[],
            "bad-rules-syntax-test.yml",
            1,
        ),
        (
            "Bad rules (error evaluating)",
            &[],
            "bad-rules-error-test.yml",
            1,
        ),
        ("Simple failing test", &[], "failing.yml", 1),
        (
            "Enabled feature (@ modifier)",
            &[],
            "at-modifier-test.yml",
            0,
        ),
        (
            "Enabled feature (negative offset)",
            &[],
            "negative-offset-test.yml",
            0,
        ),
        (
            "No test group interval",
            &[],
            "no-test-group-interval.yml",
            0,
        ),
        ("Start time tests", &[], "start-time-test.yml", 0),
        ("Test all without run arg", &[], "rules_run.yml", 1),
        (
            "Test all with run arg",
            &["--run", "correct", "--run", "wrong"],
            "rules_run.yml",
            1,
        ),
        ("Test correct", &["--run", "correct"], "rules_run.yml", 0),
        ("Test wrong", &["--run", "wrong"], "rules_run.yml", 1),
        (
            "Test all with extra fields",
            &["--ignore-unknown-fields"],
            "rules_run_extrafields.yml",
            0,
        ),
        (
            "Test precise floating point comparison expected failure",
            &[],
            "rules_run_no_fuzzy.yml",
            1,
        ),
        (
            "Test fuzzy floating point comparison correct match",
            &["--run", "correct"],
            "rules_run_fuzzy.yml",
            0,
        ),
        (
            "Test fuzzy floating point comparison wrong match",
            &["--run", "wrong"],
            "rules_run_fuzzy.yml",
            1,
        ),
    ];
    let mut wrong = Vec::new();
    for (name, args, file, want) in cases {
        let (got, out) = status(args, file);
        if got != *want {
            wrong.push(format!(
                "{name}: {file} {args:?}: exit {got}, want {want}\n{out}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A failure must be the file's own, not a load error: each failing case fails on what it tests.
#[test]
fn failing_cases_fail_for_their_reason() {
    let (_, out) = status(&[], "bad-promql.yml");
    assert!(
        out.contains("found duplicate series for the match group"),
        "{out}"
    );
    let (_, out) = status(&[], "bad-rules-syntax-test.yml");
    assert!(
        out.contains("bad-rules-syntax.yml:7:22: error[rule/bad-expr]"),
        "{out}"
    );
    let (_, out) = status(&["--run", "wrong"], "rules_run_fuzzy.yml");
    assert!(out.contains("samples differ"), "{out}");
    // Without the flag, the extra fields are errors naming the field.
    let (code, out) = status(&[], "rules_run_extrafields.yml");
    assert_eq!(code, 1);
    assert!(
        out.contains("field namespace not found in rule group"),
        "{out}"
    );
}

/// "Passing Unit Tests" (unittest.yml) expects 0: its expectations include native histograms (`histogram:`
/// in `exp_samples`, compared in the test notation with the counter-reset hints the TSDB gives them). A
/// changed histogram expectation fails it.
#[test]
fn unittest_yml_passes_with_its_native_histograms() {
    let (code, out) = status(&[], "unittest.yml");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("5 passed, 0 failed"), "{out}");
    let text = std::fs::read_to_string(dir().join("unittest.yml")).unwrap();
    let changed = text.replacen("counter_reset_hint:not_reset buckets:[4]", "buckets:[4]", 1);
    assert_ne!(
        text, changed,
        "the histogram expectation to change is in the file"
    );
    let tmp = std::env::temp_dir().join(format!("ruletest-unittest-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, tmp.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(tmp.join("unittest.yml"), changed).unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("test")
        .arg(tmp.join("unittest.yml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    std::fs::remove_dir_all(&tmp).ok();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("test_histogram_increase"), "{text}");
}
