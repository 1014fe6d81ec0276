//! `ruletest tune` on the Chat2SQL crash-loop fixture.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tune(extra: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "tune",
            "--rules",
            "rules/",
            "--series",
            "fixtures/chat2sql/crash-loop.yml",
        ])
        .args([
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().expect("killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SWEEP: &[&str] = &[
    "--alert",
    "PodCrashLooping",
    "--threshold",
    "0,0.001,0.005,0.01",
    "--for",
    "0m,5m,15m",
];

#[test]
fn table_marks_the_current_setting() {
    let (code, out, err) = tune(SWEEP);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("-  "))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(rows.len(), 12, "{out}");
    // The rule's own setting (> 0, for 5m): one episode of 35m (see tests/dry_run_cli.rs).
    let current: Vec<&&str> = rows.iter().filter(|l| l.starts_with('*')).collect();
    assert_eq!(current.len(), 1, "{out}");
    let cols: Vec<&str> = current[0].split_whitespace().collect();
    assert_eq!(
        &cols[..8],
        &["*", "0", "5m", "0s", "1", "1", "35m", "35m"],
        "{out}"
    );
    // The restart rate peaks at 6 restarts / 30m of window ~ 0.0034: thresholds 0.005 and 0.01 never fire.
    let high: Vec<&&str> = rows
        .iter()
        .filter(|l| l.trim_start().starts_with("0.005") || l.trim_start().starts_with("0.01 "))
        .collect();
    assert_eq!(high.len(), 6, "{out}");
    assert!(
        high.iter()
            .all(|l| l.split_whitespace().nth(3) == Some("0")),
        "{out}"
    );
    assert!(out.contains("left side: min 0"), "{out}");
}

/// The JSON of [`SWEEP`] routed through the shipped Alertmanager configuration.
fn sweep_json() -> serde_json::Value {
    let (code, out, _) = tune(
        &[
            SWEEP,
            &[
                "--format",
                "json",
                "--alertmanager",
                "rules/alertmanager-config.yaml",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn json_and_csv() {
    let v = sweep_json();
    assert_eq!(v["rule"]["alert"], "PodCrashLooping");
    assert_eq!(
        v["rule"]["lhs"],
        "rate(kube_pod_container_status_restarts_total[15m])"
    );
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    let current: Vec<&serde_json::Value> = rows.iter().filter(|r| r["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["for"], "5m");
    assert_eq!(current[0]["keep_firing_for"], "0s");
    assert_eq!(current[0]["episodes"], 1);
    assert_eq!(current[0]["firing_seconds"], 2100);
    // Routed to critical-alerts only; the same count as the dry run (3 integrations).
    assert_eq!(current[0]["notifications"]["critical-alerts"], 10);
    assert_eq!(current[0]["notifications"]["infrastructure-team"], 0);
    assert!(v["lhs"]["overall"]["max"].as_f64().unwrap() > 0.003);
    let (_, csv, _) = tune(&[SWEEP, &["--format", "csv"]].concat());
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 13);
    assert!(lines[0].starts_with("threshold,for,keep_firing_for,episodes,series,firing_seconds"));
    assert_eq!(lines[2], "0,5m,0s,1,1,2100,2100,2100,0,1,true");
}

#[test]
fn budget_marks_the_most_sensitive_setting_within_it() {
    let (_, out, _) = tune(&[SWEEP, &["--budget", "0/day"]].concat());
    let marked: Vec<&str> = out.lines().filter(|l| l.starts_with("budget")).collect();
    // No setting with alerts fits a budget of 0: the most sensitive silent one is 0.005 with for 0s.
    assert_eq!(marked.len(), 1, "{out}");
    assert!(
        marked[0].split_whitespace().nth(1) == Some("0.005"),
        "{out}"
    );
}

#[test]
fn svg_plot_renders() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("plot.svg");
    let (code, _, err) = tune(&[SWEEP, &["--plot", svg.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"));
    assert!(text.contains("PodCrashLooping"));
    assert!(text.contains("pod=&quot;api-7d9f&quot;"), "series legend");
    assert!(
        text.matches("class=\"series\"").count() >= 2,
        "one line per series"
    );
    assert!(
        text.contains("class=\"span span-firing\""),
        "firing span shaded"
    );
    assert!(text.contains("class=\"threshold\""), "threshold lines");
    assert!(text.contains(">time (UTC)<"), "the time axis is captioned");
    assert!(
        text.contains("<style>"),
        "a file of its own carries its style"
    );
    // Render it as a person would see it: rsvg-convert (Debian librsvg2-bin, installed by .ci/run).
    let png = dir.path().join("plot.png");
    let status = std::process::Command::new("rsvg-convert")
        .arg(&svg)
        .arg("-o")
        .arg(&png)
        .status()
        .expect("rsvg-convert not found: install Debian's librsvg2-bin (.ci/run does)");
    assert!(status.success());
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(width, 900);
    assert!(height > 300, "plot, axis and legend: {height}");
    assert!(
        bytes.len() > 10_000,
        "a plot with content, not a blank page"
    );
}

#[test]
fn other_shapes_say_why_and_accept_lhs() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.yml");
    std::fs::write(
        &rules,
        "groups:\n- name: g\n  rules:\n  - alert: Absent\n    expr: absent(up)\n",
    )
    .unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "tune",
            "--rules",
            rules.to_str().unwrap(),
            "--alert",
            "Absent",
            "--series",
            "fixtures/chat2sql/crash-loop.yml",
        ])
        .args([
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not end in a comparison with a number") && err.contains("--lhs"),
        "{err}"
    );
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "tune",
            "--rules",
            rules.to_str().unwrap(),
            "--alert",
            "Absent",
            "--series",
            "fixtures/chat2sql/crash-loop.yml",
        ])
        .args([
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
            "--lhs",
            "kube_pod_container_status_restarts_total",
            "--threshold",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn incidents_add_detection() {
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("inc.yml");
    std::fs::write(&inc, "incidents:\n- start: 2026-11-02T11:00:00Z\n  end: 2026-11-02T11:30:00Z\n  labels: {pod: api-7d9f}\n").unwrap();
    let (code, out, err) = tune(
        &[
            SWEEP,
            &["--incidents", inc.to_str().unwrap(), "--format", "json"],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let current = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(current["detected"], 1);
    // Fired at 11:05, five minutes into the incident.
    assert_eq!(current["mean_time_to_detect_seconds"], 300);
    assert_eq!(current["false_alerts"], 0);
}

/// `project::tune::run`, called from code, gives the document the command prints.
#[test]
fn the_library_gives_what_the_command_prints() {
    use ruletest::project::inputs::{self, AlertmanagerFile};
    use ruletest::project::{tune as lib, Project};
    let from = ruletest::text::time::parse_time("2026-11-02T10:00:00Z", 0).unwrap();
    let to = ruletest::text::time::parse_time("2026-11-02T12:00:00Z", 0).unwrap();
    let project = Project::load(&[root().join("rules")]).unwrap();
    let mut store = ruletest::series::Store::with_compact_history();
    inputs::load_series(
        &root().join("fixtures/chat2sql/crash-loop.yml"),
        from,
        &mut store,
    )
    .unwrap();
    let Ok(AlertmanagerFile::Config { config, .. }) =
        inputs::load_alertmanager(&root().join("rules/alertmanager-config.yaml"))
    else {
        panic!("the shipped Alertmanager configuration does not load");
    };
    let mut opts = lib::Options::new("PodCrashLooping", from, to);
    opts.thresholds = Some(vec![0.0, 0.001, 0.005, 0.01]);
    opts.fors = Some(vec![0, 300_000, 900_000]);
    let tuned = lib::run(&project.rule_files, &mut store, None, Some(&config), &opts).unwrap();
    assert_eq!(tuned.rows.len(), 12);
    let from_code = ruletest::report::tune::json(&tuned);
    assert_eq!(from_code, sweep_json());
    // An alert the rules do not hold is a typed error the caller can tell apart.
    let missing = lib::run(
        &project.rule_files,
        &mut store,
        None,
        None,
        &lib::Options::new("NoSuchAlert", from, to),
    )
    .err()
    .unwrap();
    assert!(missing.downcast_ref::<lib::NoSuchAlert>().is_some());
    // A window between two evaluations holds nothing to sweep, and says so.
    let empty = lib::run(
        &project.rule_files,
        &mut store,
        None,
        None,
        &lib::Options::new("PodCrashLooping", from + 1_000, from + 2_000),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        empty.starts_with("the window holds no evaluation of PodCrashLooping (interval "),
        "{empty}"
    );
}
