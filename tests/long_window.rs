//! Windows of any length: `dry-run` over 30 days of the Chat2SQL series (86,400 evaluations of each rule at
//! 30 s, far past the 11,000 points Prometheus's HTTP API answers per query). Range-native evaluation splits
//! the window into pieces; the result must equal `--per-tick`, which evaluates every rule at every tick as
//! Prometheus does. Incidents straddle midnight, where the pieces (a day of 30 s ticks each) meet.

use assert_cmd::Command;
use serde_json::Value;
use std::fmt::Write;
use std::path::PathBuf;

/// Samples at 15 s: a day holds 5,760, the 30 days 172,800.
const DAY: usize = 5_760;
const DAYS: usize = 30;
const N: usize = DAYS * DAY;

/// `[from, to)` in samples: `day` days plus `hh:mm`, lasting `minutes`.
fn window(day: usize, hh: usize, mm: usize, minutes: usize) -> (usize, usize) {
    let start = day * DAY + (hh * 60 + mm) * 4;
    (start, start + minutes * 4)
}

/// Series notation for a gauge: `normal` everywhere but `value` inside `w`.
fn gauge(normal: f64, incident: Option<((usize, usize), f64)>) -> String {
    match incident {
        None => format!("{normal}x{}", N - 1),
        Some(((a, b), v)) => format!(
            "{normal}x{} {v}x{} {normal}x{}",
            a - 1,
            b - a - 1,
            N - b - 1
        ),
    }
}

/// Series notation for a counter growing by `rate` per sample, `fast` per sample inside `w`.
fn counter(rate: f64, incident: Option<((usize, usize), f64)>) -> String {
    match incident {
        None => format!("0+{rate}x{}", N - 1),
        Some(((a, b), fast)) => {
            // Values at samples a and b are the first of their runs.
            let va = rate * a as f64;
            let vb = va + fast * (b - a) as f64;
            let mut s = format!("0+{rate}x{} ", a - 1);
            s += &if fast == 0.0 {
                format!("{va}x{} ", b - a - 1)
            } else {
                format!("{va}+{fast}x{} ", b - a - 1)
            };
            s + &format!("{vb}+{rate}x{}", N - b - 1)
        }
    }
}

/// A fixture with one incident of each kind; the ones at midnight cross a piece boundary.
fn fixture() -> String {
    let latency = window(3, 23, 50, 30);
    let accuracy = window(10, 23, 58, 32);
    let pool = window(15, 12, 0, 30);
    let crash = window(20, 23, 40, 60);
    let memory = window(25, 23, 56, 34);
    let cpu = window(28, 23, 55, 45);
    let mut y =
        String::from("start_timestamp: 2026-11-01T00:00:00Z\ninterval: 15s\ninput_series:\n");
    let mut add = |series: &str, values: String| {
        writeln!(y, "  - series: '{series}'\n    values: '{values}'").unwrap();
    };
    for le in ["0.1", "0.5", "1", "2", "5", "10", "30", "+Inf"] {
        let (normal, slow) = match le {
            "30" | "+Inf" => (10.0, 10.0),
            "0.1" => (5.0, 0.0),
            _ => (10.0, 0.0),
        };
        add(
            &format!("chat2sql_query_duration_seconds_bucket{{query_type=\"select\",status=\"ok\",le=\"{le}\"}}"),
            counter(normal, Some((latency, slow))),
        );
    }
    add(
        "chat2sql_ai_accuracy_rate{model_name=\"gpt-4\",time_window=\"1h\"}",
        gauge(0.93, Some((accuracy, 0.78))),
    );
    add(
        "chat2sql_db_connections_active{database=\"chat2sql\",pool=\"primary\"}",
        gauge(40.0, Some((pool, 95.0))),
    );
    // A restart every 5 minutes (20 samples) through the crash window, none elsewhere.
    let (a, b) = crash;
    let mut restarts = format!("0x{}", a - 1);
    let mut v = 0;
    for _ in (a..b).step_by(20) {
        v += 1;
        write!(restarts, " {v}x19").unwrap();
    }
    write!(restarts, " {v}x{}", N - b - 1).unwrap();
    add(
        "kube_pod_container_status_restarts_total{namespace=\"chat2sql\",pod=\"api-7d9f\",container=\"api\"}",
        restarts,
    );
    add(
        "kube_pod_container_status_restarts_total{namespace=\"chat2sql\",pod=\"worker-5c2\",container=\"worker\"}",
        gauge(0.0, None),
    );
    add(
        "container_memory_working_set_bytes{namespace=\"chat2sql\",pod=\"api-7d9f\",container=\"api\"}",
        gauge(629145600.0, Some((memory, 1020054732.0))),
    );
    add(
        "container_spec_memory_limit_bytes{namespace=\"chat2sql\",pod=\"api-7d9f\",container=\"api\"}",
        gauge(1073741824.0, None),
    );
    add(
        "container_cpu_usage_seconds_total{namespace=\"chat2sql\",pod=\"api-7d9f\",container=\"api\"}",
        counter(4.5, Some((cpu, 14.25))),
    );
    y
}

fn dry_run(series: &std::path::Path, per_tick: bool) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::cargo_bin("ruletest").unwrap();
    cmd.current_dir(&root).args([
        "dry-run",
        "--rules",
        "rules/",
        "--alertmanager",
        "rules/alertmanager-config.yaml",
        "--format",
        "json",
        "--from",
        "2026-11-01T00:00:00Z",
        "--to",
        "2026-11-30T23:59:45Z",
    ]);
    cmd.arg("--series").arg(series);
    if per_tick {
        cmd.arg("--per-tick");
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn thirty_days_range_native_equals_per_tick() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("30d.yml");
    std::fs::write(&path, fixture()).unwrap();
    let range = dry_run(&path, false);
    assert_eq!(
        range["errors"],
        serde_json::json!([]),
        "{:#}",
        range["errors"]
    );
    let fired: Vec<(String, String, String)> = range["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["alertname"].as_str().unwrap().to_string(),
                a["active_at"].as_str().unwrap().to_string(),
                a["fired_at"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    // Each alert fires once, in its incident; the ones at midnight go pending on one day and fire (or
    // resolve) on the next, across the boundary of two pieces.
    let names: std::collections::BTreeSet<&str> = fired.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names.len(), 6, "{fired:#?}");
    let find = |name: &str| fired.iter().find(|f| f.0 == name).unwrap().clone();
    // Accuracy below 0.85 from 11-11 23:58, for 5m: fires at 00:03 on the next day.
    assert_eq!(
        find("LowAIAccuracy"),
        (
            "LowAIAccuracy".into(),
            "2026-11-11T23:58:00Z".into(),
            "2026-11-12T00:03:00Z".into()
        )
    );
    // Memory at 95% from 11-26 23:56, for 5m: fires at 00:01.
    assert_eq!(
        find("HighMemoryUsage"),
        (
            "HighMemoryUsage".into(),
            "2026-11-26T23:56:00Z".into(),
            "2026-11-27T00:01:00Z".into()
        )
    );
    assert!(range["notifications"].as_array().unwrap().len() >= 6);
    let per_tick = dry_run(&path, true);
    assert_eq!(range, per_tick);
}

/// `tune` over the same 30 days: the rule's own setting (0.8, `for: 10m`) gives what `dry-run` found.
#[test]
fn thirty_days_tune_agrees_with_dry_run_at_the_rules_setting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("30d.yml");
    std::fs::write(&path, fixture()).unwrap();
    let dry = dry_run(&path, false);
    let cpu: Vec<&Value> = dry["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["alertname"] == "HighCPUUsage")
        .collect();
    assert_eq!(cpu.len(), 1);
    let secs = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(cpu[0][k].as_str().unwrap())
            .unwrap()
            .timestamp()
    };
    let firing = secs("resolved_at") - secs("fired_at");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(&root)
        .args(["tune", "--rules", "rules/", "--alert", "HighCPUUsage"])
        .arg("--series")
        .arg(&path)
        .args([
            "--from",
            "2026-11-01T00:00:00Z",
            "--to",
            "2026-11-30T23:59:45Z",
            "--threshold",
            "0.8,0.9",
            "--for",
            "5m,10m",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["threshold"] == 0.8 && r["for"] == "10m")
        .unwrap();
    assert_eq!(row["current"], true);
    assert_eq!(row["episodes"], 1);
    assert_eq!(row["firing_seconds"], firing);
    // The CPU reaches 0.95 at most: a 0.9 threshold still fires, for less time than 0.8.
    let higher = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["threshold"] == 0.9 && r["for"] == "10m")
        .unwrap();
    assert_eq!(higher["episodes"], 1);
    assert!(higher["firing_seconds"].as_i64().unwrap() < firing);
}
