//! `ruletest export` end to end over fixtures in a temporary directory: every input format, both output
//! formats, relative fixtures placed with --start, and errors that name the line.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;

fn run(name: &str, text: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    fs::write(&p, text).unwrap();
    Command::cargo_bin("ruletest")
        .unwrap()
        .arg("export")
        .args(args)
        .arg("--series")
        .arg(&p)
        .assert()
}

#[test]
fn prometheus_text_to_openmetrics_on_stdout() {
    // Milliseconds in, seconds out; the family b's samples stay together although the input interleaves.
    run(
        "f.prom",
        "b{i=\"2\"} 1 1700000000000\na 0.5 1700000000500\nb{i=\"1\"} 2 1700000001000\nb{i=\"2\"} 3 1700000002000\n",
        &["--openmetrics"],
    )
    .success()
    .stdout(
        "a 0.5 1700000000.5\nb{i=\"1\"} 2 1700000001\nb{i=\"2\"} 1 1700000000\nb{i=\"2\"} 3 1700000002\n# EOF\n",
    )
    .stderr(predicate::str::contains("exported 3 series from").and(predicate::str::contains("(Prometheus text exposition)")));
}

#[test]
fn load_block_to_json_with_start() {
    // 1m interval from --start 1000 s: samples at 1000 s and 1060 s.
    run("f.test", "load 1m\n  up{job=\"x\"} 1 0\n", &["--json", "--start", "1000"])
        .success()
        .stdout(
            "{\"data\":{\"result\":[{\"metric\":{\"__name__\":\"up\",\"job\":\"x\"},\"values\":[[1000.0,\"1\"],[1060.0,\"0\"]]}],\"resultType\":\"matrix\"},\"status\":\"success\"}\n",
        );
}

#[test]
fn relative_start_accepts_now_minus() {
    let a = run(
        "f.test",
        "load 1m\n  up 1\n",
        &["--openmetrics", "--start", "-6h"],
    )
    .success();
    let out = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let (sample, rest) = out.split_once('\n').unwrap();
    assert_eq!(rest, "# EOF\n");
    let t: f64 = sample.strip_prefix("up 1 ").unwrap().parse().unwrap();
    let six_hours_ago = chrono::Utc::now().timestamp() as f64 - 6.0 * 3600.0;
    assert!((t - six_hours_ago).abs() < 60.0, "{t} vs {six_hours_ago}");
}

#[test]
fn errors_name_the_file_and_line() {
    run(
        "bad.om",
        "x 1 1\nx{a=\"b\" 2 2\n# EOF\n",
        &["--openmetrics"],
    )
    .code(2)
    .stderr(predicate::str::contains("bad.om:2: expected ',' or '}'"));
    run("bad.json", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":[[1]]}]}}", &["--json"])
        .code(2)
        .stderr(predicate::str::contains("$.data.result[0].values[0]: expected [time, \"value\"]"));
}

#[test]
fn a_target_format_is_required() {
    run("f.prom", "x 1 1\n", &[])
        .code(2)
        .stderr(predicate::str::contains("--openmetrics"));
}
