//! The kubernetes-mixin's own rule unit tests (tests/data/kubernetes-mixin, Apache-2.0), written for promtool 3:
//! ruletest passes every one with its default (Prometheus 3) semantics, and under `--semantics 2` fails exactly
//! the checks promtool 2.42 (Debian's, installed by .ci/run) fails, check by check: the same alert names or
//! expressions at the same evaluation times.

use assert_cmd::Command;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/kubernetes-mixin/tests")
}

fn suites() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    assert_eq!(v.len(), 8, "{v:?}");
    v
}

/// promtool's failed checks: `alertname: X, time: T` and `expr: "E", time: T`, sorted.
fn promtool_failures(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("alertname: ") {
                let (name, time) = rest.split_once(", time: ")?;
                Some(format!(
                    "alert {name} at {}",
                    time.trim_end_matches([',', ' '])
                ))
            } else if let Some(rest) = l.strip_prefix("expr: ") {
                let (expr, time) = rest.split_once(", time: ")?;
                let time = time.split(',').next()?.trim();
                Some(format!("expr {expr} at {time}"))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

/// ruletest's failed checks, in the same form: `FILE:LINE: alertname X, eval_time T: ...` and
/// `FILE:LINE: expr "E", eval_time T: ...`.
fn ruletest_failures(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let (_, rest) = l.trim().split_once(": ")?;
            if let Some(rest) = rest.strip_prefix("alertname ") {
                let (name, rest) = rest.split_once(", eval_time ")?;
                let time = rest.split(':').next()?;
                Some(format!("alert {name} at {time}"))
            } else if let Some(rest) = rest.strip_prefix("expr ") {
                let (expr, rest) = rest.rsplit_once(", eval_time ")?;
                let time = rest.split(':').next()?;
                Some(format!("expr {expr} at {time}"))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

fn ruletest(suite: &PathBuf, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("test")
        .args(extra)
        .arg(suite)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn every_mixin_suite_passes_with_prometheus_3_semantics() {
    for suite in suites() {
        let (code, out) = ruletest(&suite, &[]);
        assert_eq!(code, 0, "{}:\n{out}", suite.display());
    }
}

#[test]
fn semantics_2_fails_what_promtool_2_42_fails() {
    let promtool = PathBuf::from("/usr/bin/promtool");
    assert!(
        promtool.exists(),
        "promtool not found: install Debian's `prometheus` package (.ci/run does)"
    );
    let mut failing_suites = 0;
    for suite in suites() {
        let p = std::process::Command::new(&promtool)
            .args(["test", "rules"])
            .arg(&suite)
            .output()
            .unwrap();
        let ptext =
            String::from_utf8_lossy(&p.stdout).into_owned() + &String::from_utf8_lossy(&p.stderr);
        let (code, rtext) = ruletest(&suite, &["--semantics", "2"]);
        assert_eq!(
            code == 0,
            p.status.success(),
            "{}: promtool 2.42 and ruletest --semantics 2 disagree\npromtool:\n{ptext}\nruletest:\n{rtext}",
            suite.display()
        );
        let (pf, rf) = (promtool_failures(&ptext), ruletest_failures(&rtext));
        assert_eq!(pf, rf, "{}: the failed checks differ", suite.display());
        if !pf.is_empty() {
            failing_suites += 1;
        }
    }
    // The comparison means something: 2.42 fails some of these suites (left-closed windows, 2.x functions).
    assert!(failing_suites >= 2, "{failing_suites}");
}
