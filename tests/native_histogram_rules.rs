//! Native histograms through the rule pipeline: a recording rule records the histogram `rate` gives, an
//! alert fires on `histogram_quantile` of it, an alert on a histogram itself fires with `$value` printed as
//! Prometheus prints a histogram, and `eval` answers in the Prometheus API's histogram JSON.

use assert_cmd::Command;
use std::path::PathBuf;

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/native-histograms")
        .join(file)
}

fn ruletest(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn recorded_histograms_and_alerts_on_them_pass_their_tests() {
    let tests = data("tests.yml");
    let (code, out) = ruletest(&["test", tests.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

#[test]
fn a_wrong_histogram_expectation_fails_and_shows_both() {
    let text = std::fs::read_to_string(data("tests.yml")).unwrap();
    let changed = text.replace(
        "buckets:[0.03333333333333333 0.13333333333333333]",
        "buckets:[0.1 0.1]",
    );
    assert_ne!(text, changed);
    let dir = std::env::temp_dir().join(format!("ruletest-nh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(data("rules.yml"), dir.join("rules.yml")).unwrap();
    std::fs::write(dir.join("tests.yml"), changed).unwrap();
    let (code, out) = ruletest(&["test", dir.join("tests.yml").to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("buckets:[0.1 0.1]"), "{out}");
    assert!(
        out.contains("buckets:[0.03333333333333333 0.13333333333333333]"),
        "{out}"
    );
}

#[test]
fn eval_answers_histograms_as_the_prometheus_api_does() {
    let series = data("tests.yml");
    let (code, out) = ruletest(&[
        "eval",
        "--series",
        series.to_str().unwrap(),
        "--at",
        "2m",
        "--format",
        "json",
        "latency",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let h = &v["data"]["result"][0]["histogram"][1];
    assert_eq!(h["count"], "20");
    assert_eq!(h["sum"], "10");
    assert_eq!(
        h["buckets"],
        serde_json::json!([[0, "0.5", "1", "4"], [0, "1", "2", "16"]])
    );
    let (_, text) = ruletest(&[
        "eval",
        "--series",
        series.to_str().unwrap(),
        "--at",
        "2m",
        "latency",
    ]);
    assert!(
        text.contains("latency => {count:20, sum:10, (0.5,1]:4, (1,2]:16} @[120000]"),
        "{text}"
    );
}

#[test]
fn openmetrics_export_refuses_histograms_by_name() {
    let series = data("tests.yml");
    let dir = std::env::temp_dir().join(format!("ruletest-nh-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("out.om");
    let (code, out) = ruletest(&[
        "export",
        "--openmetrics",
        "--series",
        series.to_str().unwrap(),
        "--output",
        out_file.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("native histogram"), "{out}");
}
