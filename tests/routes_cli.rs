//! `ruletest routes` driven as a user runs it: receivers, verification, trees, ConfigMaps, config errors with
//! positions, and no secret ever printed.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/alertmanager")
        .join(name);
    assert!(p.exists(), "fixture {} is missing", p.display());
    p
}

fn ruletest() -> Command {
    Command::cargo_bin("ruletest").unwrap()
}

#[test]
fn critical_kubernetes_alert_goes_to_critical_alerts() {
    // The first matching child without `continue` wins: severity=critical comes before component=kubernetes.
    ruletest()
        .args(["routes", "test", "--config"])
        .arg(fixture("chat2sql.yml"))
        .args(["severity=critical", "component=kubernetes"])
        .assert()
        .success()
        .stdout("critical-alerts\n");
}

#[test]
fn verify_receivers_exit_status() {
    ruletest()
        .args(["routes", "test", "--config"])
        .arg(fixture("chat2sql.yml"))
        .args([
            "--verify.receivers=infrastructure-team",
            "component=kubernetes",
        ])
        .assert()
        .success()
        .stdout("infrastructure-team\n");
    ruletest()
        .args(["routes", "test", "--config"])
        .arg(fixture("chat2sql.yml"))
        .args(["--verify.receivers=web.hook", "component=kubernetes"])
        .assert()
        .code(1)
        .stdout(
            "infrastructure-team\nWARNING: Expected receivers did not match resolved receivers.\n",
        );
}

#[test]
fn continue_lists_every_receiver_in_tree_order() {
    ruletest()
        .args(["routes", "test", "--config"])
        .arg(fixture("nested.yml"))
        .args(["env=prod", "team=web", "severity=critical"])
        .assert()
        .success()
        // prod-pager's children: web-pager (continue) then any-team; then the root's critical (continue);
        // then nothing else matches.
        .stdout("web-pager,any-team,critical\n");
}

#[test]
fn labels_must_be_equalities() {
    ruletest()
        .args(["routes", "test", "--config"])
        .arg(fixture("chat2sql.yml"))
        .arg("severity=~crit.*")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "Labels must be specified as key=value pairs",
        ));
}

#[test]
fn config_errors_point_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("am.yml");
    std::fs::write(
        &f,
        "route:\n  receiver: team\nreceivers:\n  - name: team\n    email_configs:\n      - to: a@b\n        subject: hi\n        smarthost: m:25\n        from: x@y\n",
    )
    .unwrap();
    ruletest()
        .args(["routes", "tree", "--config"])
        .arg(&f)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "am.yml:7:9: error[alertmanager/unknown-field]",
        ))
        .stderr(predicate::str::contains("headers: {Subject: ...}"));
}

#[test]
fn secrets_never_reach_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("am.yml");
    // An error next to secrets: the diagnostics must not quote them.
    std::fs::write(
        &f,
        "global:\n  smtp_auth_password: hunter2\n  slack_api_url: https://hooks.slack.com/services/SECRETPATH\nroute:\n  receiver: nope\nreceivers:\n  - name: x\n    webhook_configs: [{url: 'http://user:pa55@hook/'}]\n",
    )
    .unwrap();
    let out = ruletest()
        .args(["routes", "test", "--config"])
        .arg(&f)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        all.contains("undefined receiver \"nope\" used in route"),
        "{all}"
    );
    for secret in ["hunter2", "SECRETPATH", "pa55"] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
}

#[test]
fn secret_manifest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secret.yaml");
    // base64 of "route: {receiver: x}\nreceivers: [{name: x}]\n"
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: am}\ndata:\n  alertmanager.yaml: cm91dGU6IHtyZWNlaXZlcjogeH0KcmVjZWl2ZXJzOiBbe25hbWU6IHh9XQo=\n",
    )
    .unwrap();
    ruletest()
        .args(["routes", "test", "--config"])
        .arg(&f)
        .assert()
        .success()
        .stdout("x\n");
}

#[test]
fn warnings_go_to_stderr_and_leave_stdout_alone() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("am.yml");
    std::fs::write(
        &f,
        "route:\n  receiver: x\n  routes:\n    - match: {service.name: api}\n      receiver: api\nreceivers: [{name: x}, {name: api}]\n",
    )
    .unwrap();
    ruletest()
        .args(["routes", "test", "--config"])
        .arg(&f)
        .arg("service.name=api")
        .assert()
        .success()
        .stdout("api\n")
        .stderr(predicate::str::contains(
            "warning[alertmanager/utf8-label-name]",
        ));
}
