//! Recorded history read as a stream: exposition text over 1 MiB is read a line at a time into the compact
//! store. The same day of series written three ways (OpenMetrics and the Prometheus text format, both
//! streamed, and Prometheus API JSON, read whole) must give the same dry run, and an error deep in a
//! streamed file must name its line.

use assert_cmd::Command;
use serde_json::Value;
use std::fmt::Write;
use std::path::{Path, PathBuf};

const START_S: i64 = 1_700_000_000;
/// A day at 15 s.
const N: i64 = 5_760;

/// (metric name, labels, value at sample k): CPU counters, one of which runs hot for an hour; memory gauges
/// and their limit, one of which nears it for 20 minutes.
fn series() -> Vec<(String, String, Vec<f64>)> {
    let mut out = Vec::new();
    for pod in 0..4 {
        let labels = format!("namespace=\"chat2sql\",pod=\"pod-{pod}\",container=\"app\"");
        let mut cpu = Vec::new();
        let mut v = 100.0 + f64::from(pod);
        for k in 0..N {
            let hot = pod == 1 && (2_000..2_240).contains(&k);
            v += if hot {
                14.25
            } else {
                0.3 + (k % 7) as f64 * 0.05
            };
            cpu.push(v);
        }
        out.push((
            "container_cpu_usage_seconds_total".to_string(),
            labels.clone(),
            cpu,
        ));
        let mem: Vec<f64> = (0..N)
            .map(|k| {
                let near = pod == 2 && (4_000..4_080).contains(&k);
                if near {
                    500.0 * 1_048_576.0
                } else {
                    (200 + (k % 50)) as f64 * 1_048_576.0
                }
            })
            .collect();
        out.push((
            "container_memory_working_set_bytes".to_string(),
            labels.clone(),
            mem,
        ));
        out.push((
            "container_spec_memory_limit_bytes".to_string(),
            labels,
            vec![512.0 * 1_048_576.0; N as usize],
        ));
    }
    out
}

fn write_openmetrics(path: &Path, openmetrics: bool) {
    let mut s = String::new();
    for (name, labels, values) in series() {
        for (k, v) in values.iter().enumerate() {
            let t = START_S + k as i64 * 15;
            let ts = if openmetrics {
                t.to_string()
            } else {
                (t * 1000).to_string()
            };
            writeln!(s, "{name}{{{labels}}} {v} {ts}").unwrap();
        }
    }
    if openmetrics {
        s.push_str("# EOF\n");
    }
    std::fs::write(path, s).unwrap();
}

fn write_api_json(path: &Path) {
    let result: Vec<Value> = series()
        .into_iter()
        .map(|(name, labels, values)| {
            let mut metric = serde_json::Map::new();
            metric.insert("__name__".into(), Value::String(name));
            for pair in labels.split(',') {
                let (k, v) = pair.split_once('=').unwrap();
                metric.insert(k.into(), Value::String(v.trim_matches('"').into()));
            }
            let vals: Vec<Value> = values
                .iter()
                .enumerate()
                .map(|(k, v)| serde_json::json!([START_S + k as i64 * 15, v.to_string()]))
                .collect();
            serde_json::json!({"metric": metric, "values": vals})
        })
        .collect();
    let doc = serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": result}});
    std::fs::write(path, serde_json::to_vec(&doc).unwrap()).unwrap();
}

fn dry_run(series: &Path) -> std::process::Output {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(&root)
        .args([
            "dry-run",
            "--rules",
            "rules/",
            "--format",
            "json",
            "--from",
            "2023-11-14T22:13:20Z",
            "--to",
            "2023-11-15T22:13:05Z",
        ])
        .arg("--series")
        .arg(series)
        .output()
        .unwrap()
}

fn report(series: &Path) -> Value {
    let out = dry_run(series);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn streamed_text_and_whole_json_give_the_same_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let om = dir.path().join("history.om");
    let text = dir.path().join("history.prom");
    let json = dir.path().join("history.json");
    write_openmetrics(&om, true);
    write_openmetrics(&text, false);
    write_api_json(&json);
    // Both text forms are streamed (over 1 MiB).
    for p in [&om, &text] {
        assert!(std::fs::metadata(p).unwrap().len() > 1 << 20);
    }
    let a = report(&om);
    let alerts: Vec<String> = a["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["alertname"].as_str().unwrap().to_string())
        .collect();
    assert!(alerts.contains(&"HighCPUUsage".to_string()), "{a}");
    assert!(alerts.contains(&"HighMemoryUsage".to_string()), "{a}");
    assert_eq!(a, report(&text));
    assert_eq!(a, report(&json));
}

#[test]
fn an_error_deep_in_a_streamed_file_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let om = dir.path().join("history.om");
    write_openmetrics(&om, true);
    let text = std::fs::read_to_string(&om).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    // Line 30,001 goes back in time; line 40,001 is not UTF-8.
    lines.swap(30_000, 29_999);
    let mut bytes = lines.join("\n").into_bytes();
    bytes.push(b'\n');
    let path = dir.path().join("broken.om");
    std::fs::write(&path, &bytes).unwrap();
    let out = dry_run(&path);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}:30001: out of order sample", path.display())),
        "{err}"
    );

    let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
    lines[40_000].insert(3, 0xff);
    let path = dir.path().join("binary.om");
    std::fs::write(&path, lines.join(&b'\n')).unwrap();
    let out = dry_run(&path);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}:40001: not UTF-8 text (byte 4)",
            path.display()
        )),
        "{err}"
    );
}
