//! `migrate-report` names the cause of each verdict that changes from Prometheus 2 to 3: the difference that,
//! switched on alone over Prometheus 3, gives Prometheus 2's verdict (tests/data/migrate, which promtool 2.42
//! passes as a whole).

use assert_cmd::Command;
use std::path::PathBuf;

fn suite() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/migrate/causes.test.yml")
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
    let changes: Vec<(String, String, Vec<String>)> = v["changes"]
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
        .collect();
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
