//! `migrate-report` names the cause of each verdict that changes from Prometheus 2 to 3: the difference that,
//! switched on alone over Prometheus 3, gives Prometheus 2's verdict (tests/data/migrate, which promtool 2.42
//! passes as a whole).

mod support;

use assert_cmd::Command;
use std::path::PathBuf;

fn suite() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/migrate/causes.test.yml")
}

/// `(name, "passes" -> "fails", causes)` of each changed test group in `migrate-report --format json` output.
fn unit_changes(v: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                format!("{} -> {}", c["prometheus2"], c["prometheus3"]),
                c["causes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["difference"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

/// `migrate-report --format json` over tests/data/migrate's rules and series, from 0 to 540 s, with `extra`
/// arguments; the exit status and the `dry_run` part.
fn migrate_dry_run(extra: &[&std::ffi::OsStr]) -> (Option<i32>, serde_json::Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/migrate");
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args([
            "migrate-report",
            "--format",
            "json",
            "--from",
            "0",
            "--to",
            "540",
        ])
        .arg("--rules")
        .arg(dir.join("rules.yml"))
        .arg("--series")
        .arg(dir.join("series.yml"))
        .args(extra)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v["dry_run"].clone())
}

/// `(key, Prometheus 2's list, Prometheus 3's list, first cause)` of each entry of a dry run's `changes` or
/// `notification_changes`.
fn dry_changes(list: &serde_json::Value, key: &str) -> Vec<(String, String, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[key].as_str().unwrap().to_string(),
                c["prometheus2"].to_string(),
                c["prometheus3"].to_string(),
                c["causes"][0]["difference"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn each_change_names_its_cause() {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["migrate-report", "--format", "json"])
        .arg(suite())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["groups"], 3);
    let changes = unit_changes(&v);
    assert_eq!(
        changes,
        vec![
            (
                "a sample exactly 5m old".to_string(),
                "\"passes\" -> \"fails\"".to_string(),
                vec!["closed-windows".to_string()]
            ),
            (
                "stddev of a lone infinity".to_string(),
                "\"passes\" -> \"fails\"".to_string(),
                vec!["stddev-non-finite".to_string()]
            ),
        ]
    );
    // Human and Markdown say the same, with the explanation.
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("migrate-report")
        .arg(suite())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("  cause: stddev-non-finite\n"), "{text}");
    assert!(text.contains("prometheus#14941"), "{text}");
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["migrate-report", "--format", "markdown"])
        .arg(suite())
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("| passes | fails | closed-windows | line 11: expr \"x\", eval_time 5m: samples differ |"),
        "{md}"
    );
}

/// The suite's expectations are Prometheus 2's: promtool 2.42 passes it, and so does `test --semantics 2`.
#[test]
fn promtool_2_42_passes_the_suite() {
    let p = std::process::Command::new("/usr/bin/promtool")
        .args(["test", "rules"])
        .arg(suite())
        .output()
        .expect("promtool (Debian's prometheus package; .ci/run installs it)");
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stdout));
    let r = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["test", "--semantics", "2"])
        .arg(suite())
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0));
}

/// With `--rules`, the same rules over the same series under both semantics: every alert whose episodes
/// differ, with its cause.
#[test]
fn dry_run_lists_alerts_whose_episodes_change() {
    let (code, d) = migrate_dry_run(&[]);
    assert_eq!(code, Some(1));
    let v = &d;
    assert_eq!(d["alerts"], 3, "{v:#}");
    let got = dry_changes(&d["changes"], "alertname");
    assert_eq!(
        got,
        vec![
            (
                "XMissing".to_string(),
                r#"[{"active_at":360000,"fired_at":360000,"resolved_at":null}]"#.to_string(),
                r#"[{"active_at":300000,"fired_at":300000,"resolved_at":null}]"#.to_string(),
                "closed-windows".to_string()
            ),
            (
                "YSpreadIsZero".to_string(),
                r#"[{"active_at":0,"fired_at":0,"resolved_at":null}]"#.to_string(),
                "[]".to_string(),
                "stddev-non-finite".to_string()
            ),
        ]
    );
}

/// The dry run's Prometheus 2 column is what promtool 2.42 says of the same rules and series.
#[test]
fn dry_run_prometheus_2_column_matches_promtool_2_42() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/migrate");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(src.join("rules.yml"), dir.path().join("rules.yml")).unwrap();
    let series = std::fs::read_to_string(src.join("series.yml")).unwrap();
    let series = series.replace("interval: 1m\ninput_series:", "");
    let test = format!(
        "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:{}\n    alert_rule_test:\n      - {{eval_time: 5m, alertname: XMissing, exp_alerts: []}}\n      - {{eval_time: 6m, alertname: XMissing, exp_alerts: [{{exp_labels: {{}}}}]}}\n      - {{eval_time: 0m, alertname: YSpreadIsZero, exp_alerts: [{{exp_labels: {{}}}}]}}\n",
        series.trim_end().replace("\n", "\n  ")
    );
    let file = dir.path().join("t.test.yml");
    std::fs::write(&file, test).unwrap();
    let p = std::process::Command::new("/usr/bin/promtool")
        .args(["test", "rules"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        p.status.success(),
        "{}{}",
        String::from_utf8_lossy(&p.stdout),
        String::from_utf8_lossy(&p.stderr)
    );
}

/// A suite written for Prometheus 3's UTF-8 names: ruletest passes it by default; under `--semantics 2` it
/// fails the two groups promtool 2.42 fails, with promtool's messages, and `migrate-report` names the cause.
#[test]
fn utf8_names_are_prometheus_3s() {
    let suite = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/migrate/utf8.test.yml");
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .args(args)
            .arg(&suite)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(run(&["test"]).0, Some(0));
    let (code, two) = run(&["test", "--semantics", "2"]);
    assert_eq!(code, Some(1), "{two}");
    assert!(two.contains("1 passed, 2 failed"), "{two}");
    let p = std::process::Command::new("/usr/bin/promtool")
        .args(["test", "rules"])
        .arg(&suite)
        .output()
        .expect("promtool (Debian's prometheus package; .ci/run installs it)");
    assert_eq!(p.status.code(), Some(1));
    let promtool =
        String::from_utf8_lossy(&p.stdout).into_owned() + &String::from_utf8_lossy(&p.stderr);
    for message in [
        r#"unexpected string "\"http.serv"... in label set, expected identifier or "}""#,
        "invalid destination label name in label_replace(): team-name",
    ] {
        assert!(promtool.contains(message), "promtool: {promtool}");
        assert!(two.contains(message), "ruletest --semantics 2: {two}");
    }
    let (code, json) = run(&["migrate-report", "--format", "json"]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let changes = unit_changes(&v);
    let fixed = |name: &str| {
        (
            name.to_string(),
            "\"fails\" -> \"passes\"".to_string(),
            vec!["legacy-names".to_string()],
        )
    };
    assert_eq!(
        changes,
        vec![
            fixed("OpenTelemetry names"),
            fixed("dashes through label_replace")
        ]
    );
}

/// With `--alertmanager`, both runs' alerts go through the Alertmanager simulation and every notification
/// group whose notifications differ is listed with its cause.
#[test]
fn dry_run_lists_notification_groups_that_change() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/migrate");
    let am = dir.join("alertmanager.yml");
    let (code, d) = migrate_dry_run(&["--alertmanager".as_ref(), am.as_os_str()]);
    assert_eq!(code, Some(1));
    let v = &d;
    // XMissing, YSpreadIsZero and ZHigh each have a group (group_by: [alertname]); ZHigh's is the same.
    assert_eq!(d["notification_groups"], 3, "{v:#}");
    let got = dry_changes(&d["notification_changes"], "group_key");
    assert_eq!(
        got,
        vec![
            (
                r#"{}:{alertname="XMissing"}"#.to_string(),
                // group_wait 30s after the alert fired.
                r#"[{"at":390000,"firing":["{alertname=\"XMissing\"}"],"resolved":[]}]"#
                    .to_string(),
                r#"[{"at":330000,"firing":["{alertname=\"XMissing\"}"],"resolved":[]}]"#
                    .to_string(),
                "closed-windows".to_string()
            ),
            (
                r#"{}:{alertname="YSpreadIsZero"}"#.to_string(),
                r#"[{"at":30000,"firing":["{alertname=\"YSpreadIsZero\"}"],"resolved":[]}]"#
                    .to_string(),
                "[]".to_string(),
                "stddev-non-finite".to_string()
            ),
        ]
    );
    // Without --alertmanager the report has no notification part.
    let (_, d) = migrate_dry_run(&[]);
    assert!(d.get("notification_changes").is_none(), "{d:#}");
}

/// `--prometheus`: the raw series are fetched once from a real server (Debian's Prometheus 2.42, backfilled
/// with tests/data/migrate/series.yml at a recent time) and both semantics run here; the report equals the one
/// over the same series read from a file.
#[test]
fn dry_run_over_live_series_equals_the_offline_one() {
    use ruletest::series::formats::load_any;
    use ruletest::series::openmetrics::write_openmetrics;
    const HOUR: i64 = 3_600_000;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/migrate");
    let base = (chrono::Utc::now().timestamp_millis() - 6 * HOUR) / HOUR * HOUR;
    let mut store = ruletest::series::Store::new();
    let text = std::fs::read_to_string(dir.join("series.yml")).unwrap();
    load_any(&text, &mut store, base).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let om = tmp.path().join("series.om");
    write_openmetrics(&store, &mut std::fs::File::create(&om).unwrap()).unwrap();
    let server = support::prometheus::PrometheusServer::start(&store);
    let run = |source: &[&str]| {
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .args(["migrate-report", "--format", "json"])
            .args(["--from", &(base / 1000).to_string()])
            .args(["--to", &(base / 1000 + 540).to_string()])
            .arg("--rules")
            .arg(dir.join("rules.yml"))
            .arg("--alertmanager")
            .arg(dir.join("alertmanager.yml"))
            .args(source)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["dry_run"].clone()
    };
    let offline = run(&["--series", om.to_str().unwrap()]);
    let live = run(&["--prometheus", &server.url]);
    assert_eq!(
        offline["changes"].as_array().unwrap().len(),
        2,
        "{offline:#}"
    );
    assert_eq!(
        offline["notification_changes"].as_array().unwrap().len(),
        2,
        "{offline:#}"
    );
    assert_eq!(live, offline);
}
