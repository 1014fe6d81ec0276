//! Drives `ruletest eval` end to end over fixtures written to a temporary directory.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;

fn fixture(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    fs::write(&p, text).unwrap();
    (dir, p)
}

const LOAD: &str = "load 1m\n  http_requests_total{job=\"a\"} 0+60x10\n  http_requests_total{job=\"b\"} 0+120x10\n";

#[test]
fn instant_text_output() {
    let (_d, p) = fixture("f.test", LOAD);
    // 60 per minute is 1/s; the window (5m, 10m] holds 5 samples, extrapolation is exact for a steady counter.
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "rate(http_requests_total[5m])", "--series"])
        .arg(&p)
        .args(["--at", "10m"])
        .assert()
        .success()
        .stdout("{job=\"a\"} => 1 @[600000]\n{job=\"b\"} => 2 @[600000]\n");
}

#[test]
fn range_json_output_in_api_shape() {
    let (_d, p) = fixture("f.test", LOAD);
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "sum(http_requests_total)", "--series"])
        .arg(&p)
        .args([
            "--from", "0", "--to", "2m", "--step", "1m", "--format", "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "matrix");
    // 0+0, 60+120, 120+240.
    assert_eq!(
        v["data"]["result"][0]["values"],
        serde_json::json!([[0.0, "0"], [60.0, "180"], [120.0, "360"]])
    );
}

#[test]
fn promtool_input_series_and_rfc3339() {
    let yaml = "tests:\n  - interval: 30s\n    input_series:\n      - series: 'up{job=\"x\"}'\n        values: '1 0 1'\n";
    let (_d, p) = fixture("t.yml", yaml);
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "up", "--series"])
        .arg(&p)
        .args(["--at", "1970-01-01T00:00:30Z"])
        .assert()
        .success()
        .stdout("up{job=\"x\"} => 0 @[30000]\n");
}

#[test]
fn bad_input_exits_2() {
    let (_d, p) = fixture("f.test", LOAD);
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "sum(", "--series"])
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error"));
    let (_d2, bad) = fixture("bad.test", "load 1m\n  x 1 oops\n");
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "x", "--series"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.test:2:"));
}

#[test]
fn long_range_is_refused_naming_our_flags_and_allowed_above_them() {
    let (_d, p) = fixture("f.test", LOAD);
    // 0 .. 24h at 1s is 86,401 steps: above the default cap of 11,000.
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "sum(http_requests_total)", "--series"])
        .arg(&p)
        .args(["--from", "0", "--to", "24h", "--step", "1s"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("86401 evaluation steps, more than --max-steps 11000")
                .and(predicate::str::contains("use --step 8s or more"))
                .and(predicate::str::contains("?step=").not()),
        );
    // The suggested step fits: 24h / 8s + 1 = 10,801 steps.
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "sum(http_requests_total)", "--series"])
        .arg(&p)
        .args(["--from", "0", "--to", "24h", "--step", "8s"])
        .assert()
        .success();
    // A higher --max-steps lets the long range through; the engine itself has no cap (its last step is
    // 24h, long after the fixture ends, so the series stops at the lookback).
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "sum(http_requests_total)", "--series"])
        .arg(&p)
        .args([
            "--from",
            "0",
            "--to",
            "24h",
            "--step",
            "1s",
            "--max-steps",
            "100000",
        ])
        .args(["--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    // Samples run to 10m; the 5m lookback (left-open, as in Prometheus 3) keeps the last one visible until
    // just before 15m: steps 0..=899 seconds.
    assert_eq!(
        v["data"]["result"][0]["values"].as_array().unwrap().len(),
        900
    );
}

/// `eval` reads what `dry-run`, `tune` and `export` read: OpenMetrics with timestamps, and promtool fixtures
/// at their `start_timestamp`.
#[test]
fn reads_every_fixture_format_dry_run_reads() {
    let (_d, p) = fixture(
        "f.om",
        "# TYPE up gauge\nup{job=\"a\"} 1 1762077600\nup{job=\"a\"} 0 1762077615\n# EOF\n",
    );
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "up", "--series"])
        .arg(&p)
        .args(["--at", "1762077620"])
        .assert()
        .success()
        .stdout("up{job=\"a\"} => 0 @[1762077620000]\n");
    let (_d2, y) = fixture(
        "f.yml",
        "start_timestamp: 2025-11-02T10:00:00Z\ninterval: 15s\ninput_series:\n  - series: 'up{job=\"b\"}'\n    values: '1 2 3'\n",
    );
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["eval", "up", "--series"])
        .arg(&y)
        .args(["--at", "2025-11-02T10:00:30Z"])
        .assert()
        .success()
        .stdout("up{job=\"b\"} => 3 @[1762077630000]\n");
}

/// `--semantics 2` predicts Prometheus 2: windows include their left edge, so a sample exactly 5m (the
/// lookback) or exactly a range before the evaluation time counts.
#[test]
fn semantics_2_includes_the_window_edge() {
    let (_d, p) = fixture("f.test", "load 1m\n  x 1 _ _ _ _ _ _\n  c 0 1 2 3 4 5 6\n");
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .arg("eval")
            .args(args)
            .arg("--series")
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The sample at 0 is exactly the lookback before 5m.
    assert_eq!(run(&["x", "--at", "5m"]), "");
    assert_eq!(
        run(&["x", "--at", "5m", "--semantics", "2"]),
        "x => 1 @[300000]\n"
    );
    // [2m, 4m] holds the samples at 2m, 3m and 4m; (2m, 4m] only two of them.
    assert_eq!(
        run(&["count_over_time(c[2m])", "--at", "4m"]),
        "{} => 2 @[240000]\n"
    );
    assert_eq!(
        run(&["count_over_time(c[2m])", "--at", "4m", "--semantics", "2"]),
        "{} => 3 @[240000]\n"
    );
    // A subquery's steps start at the left edge too.
    assert_eq!(
        run(&[
            "count_over_time(c[2m:1m])",
            "--at",
            "4m",
            "--semantics",
            "3"
        ]),
        "{} => 2 @[240000]\n"
    );
    assert_eq!(
        run(&[
            "count_over_time(c[2m:1m])",
            "--at",
            "4m",
            "--semantics",
            "2"
        ]),
        "{} => 3 @[240000]\n"
    );
}

/// `--semantics 2` also means Prometheus 2's function names and regexes: `holt_winters` exists (3.x calls it
/// `double_exponential_smoothing`, experimental) and `.` does not match a newline.
#[test]
fn semantics_2_has_holt_winters_and_newline_free_dots() {
    let (_d, p) = fixture("f.test", "load 1m\n  x 1 2 3 4 5\n  y{v=\"a\\nb\"} 1\n");
    let run = |args: &[&str]| {
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
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let hw = "holt_winters(x[5m], 0.5, 0.5)";
    assert_eq!(
        run(&[hw, "--at", "4m", "--semantics", "2"]),
        (Some(0), "{} => 5 @[240000]\n".into())
    );
    let (code, text) = run(&[hw, "--at", "4m"]);
    assert_eq!(code, Some(2));
    assert!(
        text.contains("unknown function with name") && text.contains("holt_winters"),
        "{text}"
    );
    let des = "double_exponential_smoothing(x[5m], 0.5, 0.5)";
    let (code, text) = run(&[
        des,
        "--at",
        "4m",
        "--semantics",
        "2",
        "--enable-feature",
        "promql-experimental-functions",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        text.contains("unknown function with name \"double_exponential_smoothing\""),
        "{text}"
    );
    assert_eq!(
        run(&[
            des,
            "--at",
            "4m",
            "--enable-feature",
            "promql-experimental-functions"
        ]),
        (Some(0), "{} => 5 @[240000]\n".into())
    );
    // A label value with a newline: `.` matches it in 3, not in 2.
    assert_eq!(
        run(&["y{v=~\"a.b\"}", "--at", "0"]),
        (Some(0), "y{v=\"a\\nb\"} => 1 @[0]\n".into())
    );
    assert_eq!(
        run(&["y{v=~\"a.b\"}", "--at", "0", "--semantics", "2"]),
        (Some(0), String::new())
    );
}

/// Prometheus 3 stores a scraped classic histogram's `le` and a summary's `quantile` as OpenMetrics floats
/// (`le="1"` becomes `le="1.0"`); Prometheus 2 keeps them as exposed. In an exposition-format fixture the
/// family's `# TYPE` decides, as in Prometheus's text parsers; other families and labels are left alone.
#[test]
fn le_and_quantile_values_are_normalised_as_prometheus_3_scrapes_them() {
    let text = "# TYPE req_seconds histogram\n\
                req_seconds_bucket{le=\"1\",code=\"2\"} 3 1700000000\n\
                req_seconds_bucket{le=\"+Inf\",code=\"2\"} 4 1700000000\n\
                # TYPE rpc_seconds summary\n\
                rpc_seconds{quantile=\"0.99\"} 0.5 1700000000\n\
                rpc_seconds{quantile=\"1\"} 0.7 1700000000\n\
                # TYPE other gauge\n\
                other{le=\"1\"} 1 1700000000\n\
                # EOF\n";
    let (_d, p) = fixture("f.om", text);
    let run = |semantics: &str| {
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .args(["eval", "--semantics", semantics, "--at", "1700000000"])
            .arg("--series")
            .arg(&p)
            .arg("{__name__=~\"req_seconds_bucket|rpc_seconds|other\"}")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split(" => ").next().unwrap().to_string())
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(
        run("3"),
        [
            "other{le=\"1\"}",
            "req_seconds_bucket{code=\"2\", le=\"+Inf\"}",
            "req_seconds_bucket{code=\"2\", le=\"1.0\"}",
            "rpc_seconds{quantile=\"0.99\"}",
            "rpc_seconds{quantile=\"1.0\"}",
        ]
    );
    assert_eq!(
        run("2"),
        [
            "other{le=\"1\"}",
            "req_seconds_bucket{code=\"2\", le=\"+Inf\"}",
            "req_seconds_bucket{code=\"2\", le=\"1\"}",
            "rpc_seconds{quantile=\"0.99\"}",
            "rpc_seconds{quantile=\"1\"}",
        ]
    );
}
