//! `tune` against `dry-run`, setting by setting: over a 4-day and a 30-day history, every threshold x `for`
//! of a sweep gives the episodes and firing time that a dry run of the rule rewritten to that setting gives.
//! Incidents of several heights and lengths sit at all hours, some across midnight, where the pieces of the
//! window (a day of 30 s ticks each) meet.

use assert_cmd::Command;
use serde_json::Value;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Samples at 15 s per day.
const DAY: usize = 5_760;
const THRESHOLDS: [f64; 3] = [0.7, 0.8, 0.9];
const FORS: [&str; 3] = ["0s", "5m", "10m"];

/// A CPU counter's notation: `base` hundredths of a core, and `(start sample, samples, hundredths)` incidents
/// (in order; one that overlaps the one before is left out).
fn counter(n: usize, base: u32, incidents: &[(usize, usize, u32)]) -> String {
    let mut parts = Vec::new();
    let mut v = 0.0;
    let mut at = 0;
    let mut seg = |len: usize, cores: u32, parts: &mut Vec<String>| {
        if len == 0 {
            return;
        }
        let inc = f64::from(cores * 15) / 100.0;
        parts.push(format!("{v}+{inc}x{}", len - 1));
        v += inc * len as f64;
    };
    for &(start, len, cores) in incidents {
        if start < at + 40 || start + len > n {
            continue;
        }
        seg(start - at, base, &mut parts);
        seg(len, cores, &mut parts);
        at = start + len;
    }
    seg(n - at, base, &mut parts);
    parts.join(" ")
}

fn fixture(days: usize) -> String {
    let n = days * DAY;
    let mut s = String::from("interval: 15s\ninput_series:\n");
    for pod in 0..5usize {
        let mut incidents = Vec::new();
        for day in 0..days {
            // Two incidents a day per pod, heights 0.65 to 0.95, lengths 2 to 40 minutes; every third day's
            // first one crosses midnight.
            let k = day * 5 + pod;
            let height = 65 + (k % 7) as u32 * 5;
            let len = (2 + (k * 7) % 39) * 4;
            let start = if day % 3 == 0 && day > 0 {
                day * DAY - len / 2
            } else {
                day * DAY + ((k * 37) % 20 + 1) * 240
            };
            incidents.push((start, len, height));
            let start2 = day * DAY + 3_000 + (k * 53) % 2_000;
            incidents.push((start2, (1 + k % 13) * 20, 75 + (k % 5) as u32 * 5));
        }
        incidents.sort_by_key(|i| i.0);
        writeln!(
            s,
            "  - series: 'container_cpu_usage_seconds_total{{namespace=\"chat2sql\",pod=\"p{pod}\",container=\"app\"}}'\n    values: '{}'",
            counter(n, 20 + pod as u32 * 5, &incidents)
        )
        .unwrap();
    }
    s
}

fn run(args: &[&str], series: &Path) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(&root)
        .args(args)
        .arg("--series")
        .arg(series)
        .args(["--format", "json"])
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

fn secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp()
}

fn check(days: usize) {
    let dir = tempfile::tempdir().unwrap();
    let series = dir.path().join("history.yml");
    std::fs::write(&series, fixture(days)).unwrap();
    let from = "2026-11-01T00:00:00Z";
    let to = chrono::DateTime::parse_from_rfc3339(from).unwrap()
        + chrono::Duration::seconds(days as i64 * 86_400 - 15);
    let to = to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let thresholds = THRESHOLDS.map(|t| t.to_string()).join(",");
    let tune = run(
        &[
            "tune",
            "--rules",
            "rules/",
            "--alert",
            "HighCPUUsage",
            "--from",
            from,
            "--to",
            &to,
            "--threshold",
            &thresholds,
            "--for",
            &FORS.join(","),
        ],
        &series,
    );
    let rows = tune["rows"].as_array().unwrap();
    assert_eq!(rows.len(), THRESHOLDS.len() * FORS.len());
    let mut fired_somewhere = 0;
    for t in THRESHOLDS {
        for f in FORS {
            let rules = dir.path().join(format!("rule-{t}-{f}.yml"));
            std::fs::write(
                &rules,
                format!(
                    "groups:\n- name: chat2sql.infrastructure\n  interval: 30s\n  rules:\n  - alert: HighCPUUsage\n    expr: rate(container_cpu_usage_seconds_total[5m]) > {t}\n    for: {f}\n"
                ),
            )
            .unwrap();
            let dry = run(
                &[
                    "dry-run",
                    "--rules",
                    rules.to_str().unwrap(),
                    "--from",
                    from,
                    "--to",
                    &to,
                ],
                &series,
            );
            let fired: Vec<&Value> = dry["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| !a["fired_at"].is_null())
                .collect();
            // Every incident ends before the window does.
            assert!(fired.iter().all(|a| !a["resolved_at"].is_null()));
            let firing: i64 = fired
                .iter()
                .map(|a| secs(&a["resolved_at"]) - secs(&a["fired_at"]))
                .sum();
            let row = rows
                .iter()
                .find(|r| r["threshold"].as_f64() == Some(t) && r["for"] == f)
                .unwrap_or_else(|| panic!("no row for {t} {f}: {rows:?}"));
            assert_eq!(row["episodes"], fired.len(), "{days} days, {t} {f}");
            assert_eq!(row["firing_seconds"], firing, "{days} days, {t} {f}");
            if !fired.is_empty() {
                fired_somewhere += 1;
            }
        }
    }
    // The comparison is not vacuous: most settings fire, and fewer as they get stricter.
    assert!(fired_somewhere >= 7, "{fired_somewhere}");
    let count = |t: f64, f: &str| {
        rows.iter()
            .find(|r| r["threshold"].as_f64() == Some(t) && r["for"] == f)
            .unwrap()["episodes"]
            .as_u64()
            .unwrap()
    };
    assert!(count(0.7, "0s") > count(0.9, "10m"), "{rows:?}");
}

#[test]
fn four_days_every_setting() {
    check(4);
}

#[test]
fn thirty_days_every_setting() {
    check(30);
}
