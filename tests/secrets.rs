//! No output of any command shows a secret from the configuration: a config whose secret fields all hold
//! recognisable values (fixtures/secrets/alertmanager.yml, every value contains `SECRET-`) is run through
//! `check` in every format, `routes`, and `dry-run` with rendered notification text; stdout and stderr are
//! scanned. Also a broken copy, so error messages and code frames are covered.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scan(args: &[&str]) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "{args:?}: {text}"
    );
    assert!(
        !text.is_empty(),
        "{args:?} printed nothing: the scan would prove nothing"
    );
    assert!(
        !text.contains("SECRET-"),
        "{args:?} printed a secret:\n{text}"
    );
}

const CONFIG: &str = "fixtures/secrets/alertmanager.yml";

#[test]
fn check_in_every_format() {
    for format in ["human", "json", "sarif", "github", "junit"] {
        scan(&["check", "--format", format, CONFIG]);
    }
}

#[test]
fn routes() {
    scan(&["routes", "test", "--config", CONFIG, "severity=critical"]);
    scan(&["routes", "tree", "--config", CONFIG]);
}

#[test]
fn dry_run_with_notification_text() {
    for format in ["human", "json"] {
        scan(&[
            "dry-run",
            "--rules",
            "rules/",
            "--series",
            "fixtures/chat2sql/crash-loop.yml",
            "--alertmanager",
            CONFIG,
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
            "--show-text",
            "--format",
            format,
        ]);
    }
}

#[test]
fn errors_about_secret_lines() {
    // Break the config right at secret fields: the code frames of the errors quote those lines.
    let text = std::fs::read_to_string(root().join(CONFIG)).unwrap();
    let broken = text
        .replace("smtp_auth_password:", "smtp_auth_pasword:")
        .replace("routing_key:", "routing_kee:")
        .replace("bot_token:", "bot_tokn:");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("am.yml");
    std::fs::write(&f, broken).unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["check", f.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("smtp_auth_pasword"),
        "the error is reported: {text}"
    );
    assert!(
        !text.contains("SECRET-"),
        "a code frame printed a secret:\n{text}"
    );
}
