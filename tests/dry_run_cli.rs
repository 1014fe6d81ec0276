//! `ruletest dry-run` on the Chat2SQL fixtures: each fixture's expected alerts and notifications.
//! Expected times follow from the fixture (fixtures/chat2sql/generate.py: the incident runs from 11:00 to
//! 11:30) and the rules (`for`, windows); each case says how.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dry_run(fixture: &str) -> Value {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "dry-run",
            "--rules",
            "rules/",
            "--alertmanager",
            "rules/alertmanager-config.yaml",
            "--format",
            "json",
        ])
        .args(["--series", &format!("fixtures/chat2sql/{fixture}.yml")])
        .args([
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (alertname, pod label or "", active_at, fired_at, resolved_at) as HH:MM:SS.
fn alerts(v: &Value) -> Vec<(String, String, String, String, String)> {
    let t = |x: &Value| {
        x.as_str()
            .map(|s| s[11..19].to_string())
            .unwrap_or_else(|| "-".into())
    };
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["alertname"].as_str().unwrap().to_string(),
                a["labels"]["pod"].as_str().unwrap_or("").to_string(),
                t(&a["active_at"]),
                t(&a["fired_at"]),
                t(&a["resolved_at"]),
            )
        })
        .collect()
}

fn notifications(v: &Value) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for n in v["notifications"].as_array().unwrap() {
        *m.entry((
            n["receiver"].as_str().unwrap().to_string(),
            n["integration"].as_str().unwrap().to_string(),
        ))
        .or_insert(0) += 1;
    }
    m
}

fn a(
    name: &str,
    pod: &str,
    active: &str,
    fired: &str,
    resolved: &str,
) -> (String, String, String, String, String) {
    (
        name.into(),
        pod.into(),
        active.into(),
        fired.into(),
        resolved.into(),
    )
}

fn n(pairs: &[(&str, &str, usize)]) -> BTreeMap<(String, String), usize> {
    pairs
        .iter()
        .map(|(r, i, c)| ((r.to_string(), i.to_string()), *c))
        .collect()
}

#[test]
fn normal_day_is_quiet() {
    let v = dry_run("normal");
    assert_eq!(alerts(&v), vec![]);
    assert_eq!(notifications(&v), n(&[]));
    assert_eq!(v["rules"].as_array().unwrap().len(), 6);
}

#[test]
fn crash_loop_pages_critical_alerts_only() {
    let v = dry_run("crash-loop");
    // Restarts at 11:00 .. 11:25; rate(...[15m]) > 0 until the last one leaves the window (11:40);
    // for: 5m -> firing at 11:05.
    assert_eq!(
        alerts(&v),
        vec![a(
            "PodCrashLooping",
            "api-7d9f",
            "11:00:00",
            "11:05:00",
            "11:40:00"
        )]
    );
    // severity=critical matches the first child route (no continue): critical-alerts, never
    // infrastructure-team. group_wait 0s; repeat 15m (+ group_interval phase); pagerduty alone sends resolved.
    assert_eq!(
        notifications(&v),
        n(&[
            ("critical-alerts", "email[0]", 3),
            ("critical-alerts", "pagerduty[0]", 4),
            ("critical-alerts", "slack[0]", 3)
        ])
    );
    let first = &v["notifications"][0];
    assert_eq!(first["time"], "2026-11-02T11:05:00Z");
    assert_eq!(first["reason"], "first notification");
}

#[test]
fn latency_incident_goes_to_the_default_webhook() {
    let v = dry_run("sql-latency");
    // From 11:00 the 5m window holds slow queries: p95 > 10 at once; for: 2m.
    assert_eq!(
        alerts(&v),
        vec![a(
            "HighSQLQueryLatency",
            "",
            "11:00:00",
            "11:02:00",
            "11:34:30"
        )]
    );
    // web.hook: first at 11:02:10 (group_wait 10s), resolved later (send_resolved true).
    assert_eq!(notifications(&v), n(&[("web.hook", "webhook[0]", 2)]));
}

#[test]
fn accuracy_drop_is_critical() {
    let v = dry_run("accuracy-drop");
    assert_eq!(
        alerts(&v),
        vec![a("LowAIAccuracy", "", "11:00:00", "11:05:00", "11:30:00")]
    );
    let got = notifications(&v);
    assert_eq!(
        got[&("critical-alerts".to_string(), "pagerduty[0]".to_string())],
        3
    );
    assert!(!got.keys().any(|(r, _)| r == "web.hook"));
}

#[test]
fn pool_exhaustion() {
    let v = dry_run("pool-exhaustion");
    // 95/100 = 0.95 > 0.9 from 11:00; for: 1m; back to 40 at 11:30.
    assert_eq!(
        alerts(&v),
        vec![a(
            "DatabaseConnectionPoolExhaustion",
            "",
            "11:00:00",
            "11:01:00",
            "11:30:00"
        )]
    );
    assert_eq!(
        v["alerts"][0]["annotations"]["description"],
        "数据库连接池使用率超过90%，当前: 0.95%"
    );
}

#[test]
fn memory_incident_and_the_container_without_a_limit() {
    let v = dry_run("memory");
    // The worker's limit is 0: 100 MiB / 0 = +Inf > 0.9 from the first evaluation, firing after 5m, never resolved.
    assert_eq!(
        alerts(&v),
        vec![
            a("HighMemoryUsage", "worker-5c2", "10:00:00", "10:05:00", "-"),
            a(
                "HighMemoryUsage",
                "api-7d9f",
                "11:00:00",
                "11:05:00",
                "11:30:00"
            ),
        ]
    );
}

#[test]
fn cpu_incident() {
    let v = dry_run("cpu");
    // 0.95 cores from 11:00: rate over 5m passes 0.8 once ~77% of the window is busy (11:04); for: 10m.
    assert_eq!(
        alerts(&v),
        vec![a(
            "HighCPUUsage",
            "api-7d9f",
            "11:04:00",
            "11:14:00",
            "11:31:30"
        )]
    );
}

#[test]
fn human_report_names_quiet_rules_and_receivers() {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "dry-run",
            "--rules",
            "rules/",
            "--alertmanager",
            "rules/alertmanager-config.yaml",
            "--show-text",
        ])
        .args([
            "--series",
            "fixtures/chat2sql/crash-loop.yml",
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("HighCPUUsage never fired"), "{text}");
    assert!(
        text.contains("infrastructure-team: no notification would have been sent"),
        "{text}"
    );
    assert!(
        text.contains(
            "2026-11-02 11:05:00  notify   critical-alerts email[0] (first notification)"
        ),
        "{text}"
    );
    assert!(
        text.contains("headers.Subject: 🚨 Chat2SQL关键告警: PodCrashLooping"),
        "{text}"
    );
    // Secrets of the config never appear in rendered output.
    assert!(
        !text.contains("your-pagerduty-service-key") && !text.contains("hooks.slack.com"),
        "{text}"
    );
}

#[test]
fn bad_time_is_a_usage_error() {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "dry-run",
            "--rules",
            "rules/",
            "--series",
            "fixtures/chat2sql/normal.yml",
            "--from",
            "yesterday",
            "--to",
            "now",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from"));
}

/// A file that holds no Alertmanager configuration at all is a usage error (2); one whose configuration has
/// errors is "problems found" (1), as `check` says for the same file (tests/malformed.rs has those cases).
#[test]
fn a_file_without_an_alertmanager_config_is_a_usage_error() {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args(["dry-run", "--rules", "rules/", "--alertmanager"])
        .args(["rules/chat2sql-prometheus-rules.yaml", "--series"])
        .args([
            "fixtures/chat2sql/crash-loop.yml",
            "--from",
            "2026-11-02T10:00:00Z",
        ])
        .args(["--to", "2026-11-02T12:00:00Z"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("chat2sql-prometheus-rules.yaml: no Alertmanager configuration in this file"),
        "{stderr}"
    );
}

/// `dry-run` of the crash-loop fixture through the Alertmanager configuration `am` (JSON report).
fn crash_loop_with_alertmanager(am: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("am.yml");
    std::fs::write(&path, am).unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args(["dry-run", "--rules", "rules/", "--format", "json"])
        .arg("--alertmanager")
        .arg(&path)
        .args(["--series", "fixtures/chat2sql/crash-loop.yml"])
        .args([
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Two sibling routes with the same matchers (the first with `continue: true`) share a route key, so their
/// groups' keys are equal; the muted flushes belong to the route that was muted, not to whichever route was
/// found last by key.
#[test]
fn muted_counts_go_to_the_muted_route_among_identical_siblings() {
    let v = crash_loop_with_alertmanager(
        "route:\n  receiver: web.hook\n  group_wait: 10s\n  group_interval: 1m\n  repeat_interval: 1h\n  routes:\n    - matchers: ['alertname=\"PodCrashLooping\"']\n      receiver: team-a\n      continue: true\n      mute_time_intervals: [always]\n    - matchers: ['alertname=\"PodCrashLooping\"']\n      receiver: team-b\ntime_intervals:\n  - name: always\n    time_intervals: [{times: [{start_time: '00:00', end_time: '24:00'}]}]\nreceivers:\n  - name: web.hook\n  - name: team-a\n    webhook_configs: [{url: 'http://127.0.0.1:1/a'}]\n  - name: team-b\n    webhook_configs: [{url: 'http://127.0.0.1:1/b'}]\n",
    );
    let receiver = |name: &str| {
        v["receivers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["receiver"] == name)
            .unwrap()
            .clone()
    };
    let (a, b) = (receiver("team-a"), receiver("team-b"));
    assert_eq!(a["notifications"], 0, "{a}");
    assert!(a["muted"].as_u64().unwrap() > 0, "{a}");
    assert!(b["notifications"].as_u64().unwrap() > 0, "{b}");
    assert_eq!(b["muted"], 0, "{b}");
}

/// A group flush between whole seconds keeps its milliseconds in the JSON report.
#[test]
fn notification_times_carry_milliseconds() {
    let v = crash_loop_with_alertmanager(
        "route:\n  receiver: hook\n  group_wait: 10500ms\n  group_interval: 1m\nreceivers:\n  - name: hook\n    webhook_configs: [{url: 'http://127.0.0.1:1/'}]\n",
    );
    let first = v["notifications"][0]["time"].as_str().unwrap();
    // The alert fires on a whole second; the first notification goes out 10.5 s later.
    assert!(first.ends_with(".500Z"), "{first}");
}

/// The library function the command calls gives, from code, the document the command prints (the path
/// examples/dry_run.rs shows).
#[test]
fn the_library_gives_what_the_command_prints() {
    use ruletest::project::dry_run::{self, Evaluation};
    use ruletest::project::inputs::{self, AlertmanagerFile};
    use ruletest::project::Project;
    let from = ruletest::text::time::parse_time("2026-11-02T10:00:00Z", 0).unwrap();
    let to = ruletest::text::time::parse_time("2026-11-02T12:00:00Z", 0).unwrap();
    for fixture in ["crash-loop", "sql-latency", "normal"] {
        let project = Project::load(&[root().join("rules")]).unwrap();
        let mut store = ruletest::series::Store::with_compact_history();
        let path = root().join(format!("fixtures/chat2sql/{fixture}.yml"));
        inputs::load_series(&path, from, &mut store).unwrap();
        let config = match inputs::load_alertmanager(&root().join("rules/alertmanager-config.yaml"))
        {
            Ok(AlertmanagerFile::Config { config, .. }) => Some(*config),
            _ => panic!("the shipped Alertmanager configuration does not load"),
        };
        let opts = dry_run::Options {
            from_ms: from,
            to_ms: to,
            ..dry_run::Options::default()
        };
        let run = dry_run::run(
            &project.rule_files,
            &mut store,
            config,
            Evaluation::Here,
            &opts,
        )
        .unwrap();
        // The command was given relative paths, this run absolute ones.
        let from_code = ruletest::report::dry_run::json(&run)
            .to_string()
            .replace(&format!("{}/", root().display()), "");
        let from_code: Value = serde_json::from_str(&from_code).unwrap();
        let printed = dry_run(fixture);
        assert_eq!(from_code, printed, "{fixture}");
        if fixture != "normal" {
            assert!(
                !printed["notifications"].as_array().unwrap().is_empty(),
                "{fixture}"
            );
        }
    }
}
