//! `routes_test` cases in `ruletest test` files, through the real binary.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .arg("test")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().expect("killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn chat2sql_routes_pass() {
    assert!(
        root().join("rules/alertmanager-config.yaml").exists(),
        "rules/alertmanager-config.yaml is missing"
    );
    let (code, out, err) = run(&["tests/rules/routes.test.yml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("tests/rules/routes.test.yml:9: PASS \"routes_test\""),
        "{out}"
    );
    assert!(out.ends_with("1 passed, 0 failed\n"), "{out}");
    // Every route and receiver is reached by a case: no coverage note.
    assert!(!out.contains("not-covered"), "{out}");
}

#[test]
fn failures_show_expected_and_got_with_lines() {
    let (code, out, err) = run(&["fixtures/alertmanager/routes_test/failing.test.yml"]);
    assert_eq!(code, 1, "{out}{err}");
    let f = "fixtures/alertmanager/routes_test/failing.test.yml";
    assert!(
        out.contains(&format!("{f}:5: FAIL \"routes_test\"")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{f}:5: routes_test {{alertname=\"Intrusion\", component=\"security\", severity=\"critical\"}}: unexpected receivers\n    - expected security-team\n    + got      critical-alerts\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{f}:7: routes_test {{alertname=\"A\", severity=\"warning\"}}: unexpected inhibited\n    - expected false\n    + got      true (by {{alertname=\"A\", severity=\"critical\"}})\n")),
        "{out}"
    );
    // The passing third case is not listed.
    assert!(!out.contains(&format!("{f}:10:")), "{out}");
    // Coverage: security-team is reached by no case (no rule files here).
    assert!(
        out.contains("info[test/route-not-covered] route {}/{component=\"security\"} (receiver security-team)"),
        "{out}"
    );
    assert!(
        out.contains("receivers reached by no routes_test case and no loaded rule: security-team"),
        "{out}"
    );
    assert!(out.ends_with("0 passed, 1 failed\n"), "{out}");
}

#[test]
fn unknown_fields_are_errors_with_position() {
    let (code, out, err) = run(&["fixtures/alertmanager/routes_test/unknown-field.test.yml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("unknown-field.test.yml:4:5: error[test/unknown-field] field recievers not found in routes test"),
        "{out}"
    );
    assert!(out.contains("did you mean `receivers`?"), "{out}");
}

#[test]
fn standalone_file_with_time_intervals() {
    let (code, out, err) = run(&["fixtures/alertmanager/routes_test/timed.test.yml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("1 passed, 0 failed\n"), "{out}");
    // ghost and default are reached by no case.
    assert!(
        out.contains("route {}/{team=\"nobody\"} (receiver ghost)"),
        "{out}"
    );
    assert!(out.contains("no loaded rule: default, ghost"), "{out}");
}

#[test]
fn json_output_carries_route_failures() {
    let (code, out, err) = run(&[
        "--format",
        "json",
        "fixtures/alertmanager/routes_test/failing.test.yml",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let failures = &v["files"][0]["groups"][0]["failures"];
    assert_eq!(failures[0]["kind"], "route");
    assert_eq!(failures[0]["what"], "receivers");
    assert_eq!(failures[0]["expected"], "security-team");
    assert_eq!(failures[0]["got"], "critical-alerts");
    assert_eq!(failures[0]["line"], 5);
}
