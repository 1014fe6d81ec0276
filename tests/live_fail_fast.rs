//! `dry-run --prometheus` (the remote strategy) against servers on 127.0.0.1 that hang, drip, or answer
//! slowly: every rule query goes out at once, at most `--concurrency` in flight, and the first failure that
//! retries cannot cure ends the command: a hung server costs one timeout, not one per rule, and no report is
//! written from a partial set of rules.

mod support;

use assert_cmd::Command;
use std::path::Path;
use std::time::{Duration, Instant};
use support::http::{Reply, ScriptedServer};

/// A rule file of `n` alerting rules in one group at 30s, each with its own expression.
fn rules(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut text = String::from("groups:\n- name: many\n  interval: 30s\n  rules:\n");
    for i in 0..n {
        text.push_str(&format!(
            "  - alert: Rule{i}\n    expr: t > {i}\n    for: 1m\n"
        ));
    }
    let path = dir.join("rules.yml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `dry-run` over one hour against `url`; returns (exit code, stdout, stderr, wall time).
fn dry_run(rules: &Path, url: &str, extra: &[&str]) -> (Option<i32>, String, String, Duration) {
    let t0 = Instant::now();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("dry-run")
        .arg("--rules")
        .arg(rules)
        .args(["--prometheus", url, "--strategy", "remote"])
        .args([
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T11:00:00Z",
        ])
        .args(["--format", "json"])
        .args(extra)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        t0.elapsed(),
    )
}

#[test]
fn a_hung_server_costs_one_timeout_for_fifty_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), 50);
    let server = ScriptedServer::start(vec![Reply::Hang]);
    let (code, out, err, took) = dry_run(&rules, &server.url, &["--timeout", "1s"]);
    assert_eq!(code, Some(2), "{err}");
    // One after the other, 50 rules would wait 50 s.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(out.is_empty(), "a failed run writes no report: {out}");
    // The message names the rule (with its file and line), the endpoint and what to do.
    assert!(err.contains("Rule"), "{err}");
    assert!(err.contains("rules.yml:"), "{err}");
    assert!(err.contains("/api/v1/query_range"), "{err}");
    assert!(
        err.contains("no complete answer within 1s (raise --timeout"),
        "{err}"
    );
    // At most --concurrency (default 4) requests were sent before the first timeout ended the run.
    assert!(server.requests().len() <= 4, "{}", server.requests().len());
}

#[test]
fn a_dripping_server_costs_one_timeout_for_fifty_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), 50);
    let server = ScriptedServer::start(vec![Reply::Drip]);
    let (code, out, err, took) = dry_run(&rules, &server.url, &["--timeout", "2s"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("no complete answer within 2s"), "{err}");
}

#[test]
fn the_deadline_ends_the_command_whatever_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), 10);
    let server = ScriptedServer::start(vec![Reply::Hang]);
    let (code, out, err, took) = dry_run(
        &rules,
        &server.url,
        &["--timeout", "1m", "--deadline", "2s"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("no answer before the --deadline of 2s ran out"),
        "{err}"
    );
}

#[test]
fn rule_queries_run_side_by_side_within_the_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), 12);
    // Each answer takes up to 400 ms: the series `t` whose value is the time in seconds.
    let server = ScriptedServer::start(vec![Reply::EchoRange]);
    let (code, out, err, _) = dry_run(&rules, &server.url, &["--concurrency", "3"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // `t` is far above every threshold: each rule fires once, a minute (its `for`) after the window opens.
    let alerts = v["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 12, "{out}");
    assert!(alerts
        .iter()
        .all(|a| a["fired_at"] == "2026-11-02T10:01:00Z"));
    // One request per rule (121 ticks fit one piece), three at a time.
    assert_eq!(server.requests().len(), 12);
    assert_eq!(server.max_in_flight(), 3);
}
