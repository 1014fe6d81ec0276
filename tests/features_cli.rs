//! `--enable-feature` with Prometheus's names: off by default, as in Prometheus 3 (and 2.42, which the
//! delayed-name-removal answers below were checked against with promtool).

use assert_cmd::Command;
use std::fs;

const LOAD: &str = "load 1m\n  a{job=\"x\"} 1\n  b{job=\"x\"} 2\n  x_total{job=\"x\"} 0+60x10\n";

fn eval(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let p = dir.join("f.test");
    fs::write(&p, LOAD).unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .env_remove("RULETEST_ENABLE_FEATURES")
        .arg("eval")
        .args(args)
        .arg("--series")
        .arg(&p)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn delayed_name_removal_is_off_unless_enabled() {
    let d = tempfile::tempdir().unwrap();
    // abs() drops both names at once: two series {job="x"}, which Prometheus refuses.
    let (code, _, err) = eval(d.path(), &["sum(abs({__name__=~\"a|b\"}))", "--at", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("vector cannot contain metrics with the same labelset"),
        "{err}"
    );
    let (code, out, err) = eval(
        d.path(),
        &[
            "sum(abs({__name__=~\"a|b\"}))",
            "--at",
            "0",
            "--enable-feature",
            "promql-delayed-name-removal",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "{} => 3 @[0]\n");
    // rate() has dropped the name before label_replace reads it: no `n` label.
    let q = "label_replace(rate(x_total[5m]), \"n\", \"$1\", \"__name__\", \"(.*)\")";
    let (_, out, _) = eval(d.path(), &[q, "--at", "10m"]);
    assert_eq!(out, "{job=\"x\"} => 1 @[600000]\n");
    let (_, out, _) = eval(
        d.path(),
        &[
            q,
            "--at",
            "10m",
            "--enable-feature",
            "promql-delayed-name-removal",
        ],
    );
    assert_eq!(out, "{job=\"x\", n=\"x_total\"} => 1 @[600000]\n");
}

#[test]
fn experimental_functions_are_refused_with_prometheus_message() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = eval(d.path(), &["sort_by_label(a, \"job\")", "--at", "0"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("function \"sort_by_label\" is not enabled"),
        "{err}"
    );
    let (code, out, _) = eval(
        d.path(),
        &[
            "sort_by_label(a, \"job\")",
            "--at",
            "0",
            "--enable-feature",
            "promql-experimental-functions",
        ],
    );
    assert_eq!((code, out.as_str()), (Some(0), "a{job=\"x\"} => 1 @[0]\n"));
    let (code, _, err) = eval(d.path(), &["a", "--enable-feature", "exemplar-storage"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("unknown feature \"exemplar-storage\""),
        "{err}"
    );
}

#[test]
fn check_refuses_a_rule_the_server_would_refuse_and_the_environment_enables_it() {
    let d = tempfile::tempdir().unwrap();
    let rules = d.path().join("r.yml");
    fs::write(
        &rules,
        "groups:\n- name: g\n  rules:\n  - alert: Top\n    expr: limitk(3, up) == 0\n",
    )
    .unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .env_remove("RULETEST_ENABLE_FEATURES")
        .arg("check")
        .arg(&rules)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("r.yml:5:11: error[promql/experimental-function] `limitk` is experimental"),
        "{text}"
    );
    assert!(
        text.contains("--enable-feature=promql-experimental-functions"),
        "{text}"
    );
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .env("RULETEST_ENABLE_FEATURES", "promql-experimental-functions")
        .arg("check")
        .arg(&rules)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("is experimental"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
}
