//! Real-server test of `dry-run`: a Chat2SQL fixture exported as OpenMetrics, backfilled into Debian's
//! Prometheus 2.42 (started on 127.0.0.1 at a free port by tests/support), then `dry-run` live with both
//! strategies and offline on the same data must report identical alerts and notifications.
//! The fixtures change counter slopes only at sample times that are multiples of 30s, so 2.42's closed range
//! windows and Prometheus 3's left-open ones give the same answers at the 30s ticks.

mod support;

use assert_cmd::Command;
use ruletest::series::formats::load_any;
use ruletest::series::openmetrics::write_openmetrics;
use ruletest::series::Store;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::prometheus::PrometheusServer;

const HOUR: i64 = 3_600_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn dry_run(source: &[&str], from: i64, to: i64) -> Value {
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
        .args(source)
        .args(["--from", &rfc3339(from), "--to", &rfc3339(to)])
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

fn compare(fixture: &str, expect_alerts: usize) {
    // Recent data (the server keeps what it backfills, but a recent window is the realistic case).
    let base = (chrono::Utc::now().timestamp_millis() - 6 * HOUR) / HOUR * HOUR;
    let text = std::fs::read_to_string(root().join("fixtures/chat2sql").join(fixture)).unwrap();
    let mut store = Store::new();
    load_any(&text, &mut store, base).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let om = dir.path().join("fixture.om");
    write_openmetrics(&store, &mut std::fs::File::create(&om).unwrap()).unwrap();
    let server = PrometheusServer::start(&store);
    let (from, to) = (base, base + 2 * HOUR);
    let (offline_page, remote_page) = (dir.path().join("o.html"), dir.path().join("r.html"));
    let offline = dry_run(&["--series", om.to_str().unwrap()], from, to);
    // The values plotted are the server's: offline, 2.42's closed windows give the same ones.
    let offline_2 = dry_run(
        &[
            "--series",
            om.to_str().unwrap(),
            "--semantics",
            "2",
            "--html",
            offline_page.to_str().unwrap(),
        ],
        from,
        to,
    );
    assert_eq!(offline["alerts"], offline_2["alerts"]);
    let remote = dry_run(
        &[
            "--prometheus",
            &server.url,
            "--strategy",
            "remote",
            "--html",
            remote_page.to_str().unwrap(),
        ],
        from,
        to,
    );
    let local = dry_run(
        &["--prometheus", &server.url, "--strategy", "local"],
        from,
        to,
    );
    assert_eq!(
        offline["alerts"].as_array().unwrap().len(),
        expect_alerts,
        "{offline:#}"
    );
    assert_eq!(
        offline["alerts"], remote["alerts"],
        "remote strategy differs"
    );
    assert_eq!(offline["alerts"], local["alerts"], "local strategy differs");
    assert_eq!(offline["notifications"], remote["notifications"]);
    assert_eq!(offline["notifications"], local["notifications"]);
    assert!(!offline["notifications"].as_array().unwrap().is_empty());
    assert!(Path::new(&om).exists());
    // The page of the remote run plots the values the server answered, and they are the values plotted
    // offline under Prometheus 2 semantics (the server is 2.42): the same lines, point for point.
    let lines = |page: &Path| -> Vec<String> {
        let html = std::fs::read_to_string(page).unwrap();
        html.split("<path class=\"series\" d=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_string())
            .collect()
    };
    let (o, r) = (lines(&offline_page), lines(&remote_page));
    assert!(o.iter().any(|d| d.contains('L')), "{o:?}");
    assert_eq!(o.len(), r.len(), "{o:?} {r:?}");
    for (a, b) in o.iter().zip(&r) {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split('L').collect(), b.split('L').collect());
        let diff: Vec<(usize, &str, &str)> = a
            .iter()
            .zip(&b)
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .map(|(i, (x, y))| (i, *x, *y))
            .collect();
        assert!(
            diff.is_empty() && a.len() == b.len(),
            "the remote run plots other values: {} vs {} points, {diff:?}",
            a.len(),
            b.len()
        );
    }
}

#[test]
fn crash_loop_live_equals_offline() {
    compare("crash-loop.yml", 1);
}

#[test]
fn memory_live_equals_offline() {
    compare("memory.yml", 2);
}

#[test]
fn a_closed_port_is_an_error_not_a_hang() {
    let port = support::prometheus::free_port();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "dry-run",
            "--rules",
            "rules/",
            "--prometheus",
            &format!("http://127.0.0.1:{port}"),
            "--retries",
            "1",
        ])
        .args(["--from", "-1h", "--to", "now"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1"), "{err}");
}
