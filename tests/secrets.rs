//! No output of any command shows a secret: configs whose secret fields all hold recognisable values (every
//! value contains `SECRET-`) are run through every command and format that can see an Alertmanager config or
//! live credentials, and stdout, stderr and written reports are scanned.
//!
//! - fixtures/secrets/alertmanager.yml: a valid config with a secret in every kind of secret field;
//! - fixtures/secrets/broken.yml: errors on lines that hold secrets, in block pairs, flow mappings, misspelled
//!   keys and wrongly typed values (code frames quote those lines);
//! - fixtures/secrets/secret-object.yaml: a Kubernetes Secret whose base64 `data` (the whole config, secrets
//!   included) carries an error, so a frame would quote the blob;
//! - fixtures/secrets/routes.test.yml: routing tests over alertmanager.yml, one failing;
//! - live commands against a port nothing listens on, with a bearer token, basic-auth passwords, credentials in
//!   the URL and secret headers.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The base64 `data` value of secret-object.yaml: printing any of it gives the config away.
fn secret_blob() -> String {
    let text = std::fs::read_to_string(root().join(SECRET_OBJECT)).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("alertmanager.yaml:"))
        .expect("secret-object.yaml has a data.alertmanager.yaml line");
    let blob = line.split_once(':').unwrap().1.trim().to_string();
    assert!(blob.len() > 100, "the blob is the whole config: {blob}");
    blob
}

/// Fails when `text` holds a secret: a `SECRET-` value or any 16-character piece of the base64 blob.
fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains("SECRET-"),
        "{what} printed a secret:\n{text}"
    );
    let blob = secret_blob();
    let pieces: Vec<&str> = (0..blob.len() - 16)
        .step_by(8)
        .map(|i| &blob[i..i + 16])
        .collect();
    assert!(
        !pieces.iter().any(|p| text.contains(p)),
        "{what} printed part of a Secret's base64 data:\n{text}"
    );
}

/// Runs ruletest with `args` (and no credentials from the calling environment); returns status and output.
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::cargo_bin("ruletest").unwrap();
    cmd.current_dir(root())
        .env_remove("RULETEST_BEARER_TOKEN")
        .env_remove("RULETEST_BASIC_AUTH_PASSWORD")
        .args(args)
        .timeout(std::time::Duration::from_secs(60));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn scan(args: &[&str]) {
    scan_env(args, &[]);
}

fn scan_env(args: &[&str], env: &[(&str, &str)]) -> String {
    let (code, text) = run(args, env);
    assert!(code.is_some_and(|c| c <= 2), "{args:?} ({code:?}): {text}");
    assert!(
        !text.is_empty(),
        "{args:?} printed nothing: the scan would prove nothing"
    );
    assert!(!text.contains("panicked"), "{args:?}: {text}");
    assert_clean(&format!("{args:?}"), &text);
    text
}

const CONFIG: &str = "fixtures/secrets/alertmanager.yml";
const BROKEN: &str = "fixtures/secrets/broken.yml";
const SECRET_OBJECT: &str = "fixtures/secrets/secret-object.yaml";
const ROUTES_TEST: &str = "fixtures/secrets/routes.test.yml";
const WINDOW: [&str; 4] = [
    "--from",
    "2026-11-02T10:00:00Z",
    "--to",
    "2026-11-02T12:00:00Z",
];

#[test]
fn check_in_every_format() {
    for format in ["human", "json", "sarif", "github", "junit"] {
        scan(&["check", "--format", format, CONFIG]);
        // Errors whose code frames would quote secret lines, and a Secret's base64 blob.
        let text = scan_env(&["check", "--format", format, BROKEN, SECRET_OBJECT], &[]);
        assert!(
            text.contains("pagr"),
            "{format}: the errors are reported: {text}"
        );
        if format == "human" {
            // The code frames are there, with the secret values masked.
            assert!(
                text.contains("bearer_token: <secret>, follow_redirects: maybe"),
                "{text}"
            );
            assert!(text.contains("alertmanager.yaml: <secret>"), "{text}");
        }
    }
    scan(&["check", "--verbose", CONFIG, SECRET_OBJECT, ROUTES_TEST]);
}

#[test]
fn routes() {
    scan(&["routes", "test", "--config", CONFIG, "severity=critical"]);
    scan(&["routes", "tree", "--config", CONFIG]);
    scan(&[
        "routes",
        "test",
        "--verify.receivers",
        "chat",
        "--config",
        CONFIG,
        "severity=critical",
    ]);
    for broken in [BROKEN, SECRET_OBJECT] {
        let text = scan_env(&["routes", "tree", "--config", broken], &[]);
        assert!(text.contains("pagr"), "{text}");
    }
}

#[test]
fn routing_tests_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    for format in ["human", "json"] {
        let text = scan_env(
            &[
                "test",
                "--format",
                format,
                "--junit",
                junit.to_str().unwrap(),
                ROUTES_TEST,
            ],
            &[],
        );
        assert!(
            text.contains("severity"),
            "the failing case is shown: {text}"
        );
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains("<failure"), "{xml}");
        assert_clean("test --junit", &xml);
    }
}

#[test]
fn tune_with_an_alertmanager_config() {
    for config in [CONFIG, BROKEN, SECRET_OBJECT] {
        let args = [
            &[
                "tune",
                "--rules",
                "rules/",
                "--alert",
                "PodCrashLooping",
                "--series",
                "fixtures/chat2sql/crash-loop.yml",
                "--alertmanager",
                config,
            ][..],
            &WINDOW,
        ]
        .concat();
        scan(&args);
    }
}

#[test]
fn dry_run_with_notification_text() {
    for config in [BROKEN, SECRET_OBJECT] {
        let args = [
            &[
                "dry-run",
                "--rules",
                "rules/",
                "--series",
                "fixtures/chat2sql/crash-loop.yml",
                "--alertmanager",
                config,
                "--show-text",
            ][..],
            &WINDOW,
        ]
        .concat();
        scan(&args);
    }
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

/// Environment variables one command runs with.
type Env = Vec<(&'static str, &'static str)>;

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn unused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn failing_live_requests_do_not_show_credentials() {
    let port = unused_port();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    let password_file = dir.path().join("password");
    std::fs::write(&token_file, "SECRET-FILE-TOKEN\n").unwrap();
    std::fs::write(&password_file, "SECRET-FILE-PASSWORD\n").unwrap();
    let token_file = token_file.to_str().unwrap();
    let password_file = password_file.to_str().unwrap();
    let plain = format!("http://127.0.0.1:{port}");
    let with_creds = format!("http://admin:SECRET-URL-PASSWORD@127.0.0.1:{port}/");
    let with_query = format!("http://127.0.0.1:{port}/?access_token=SECRET-QUERY-TOKEN");
    let dry = |url: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "dry-run",
            "--rules",
            "rules/",
            "--prometheus",
            url,
            "--retries",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v.extend(WINDOW.iter().map(|s| s.to_string()));
        v
    };
    let record = |url: &str, extra: &[&str]| -> Vec<String> {
        let out = dir.path().join("out.om");
        let mut v: Vec<String> = [
            "record",
            "--prometheus",
            url,
            "--match",
            "up",
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
            "--output",
            out.to_str().unwrap(),
            "--retries",
            "1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let tune = |url: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "tune",
            "--rules",
            "rules/",
            "--alert",
            "PodCrashLooping",
            "--prometheus",
            url,
            "--retries",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v.extend(WINDOW.iter().map(|s| s.to_string()));
        v
    };
    let cases: Vec<(Vec<String>, Env)> = vec![
        (dry(&with_creds, &[]), vec![]),
        (dry(&with_query, &[]), vec![]),
        (
            dry(&plain, &[]),
            vec![("RULETEST_BEARER_TOKEN", "SECRET-ENV-TOKEN")],
        ),
        (dry(&plain, &["--bearer-token-file", token_file]), vec![]),
        (
            dry(&plain, &["--basic-auth-user", "admin"]),
            vec![("RULETEST_BASIC_AUTH_PASSWORD", "SECRET-ENV-PASSWORD")],
        ),
        (
            tune(
                &plain,
                &[
                    "--basic-auth-user",
                    "admin",
                    "--basic-auth-password-file",
                    password_file,
                ],
            ),
            vec![],
        ),
        (
            record(
                &plain,
                &["--header", "Authorization: Bearer SECRET-HEADER-TOKEN"],
            ),
            vec![],
        ),
        // A token pasted without its header name is a malformed flag: the error must not echo it.
        (
            record(&plain, &["--header", "Bearer SECRET-PASTED-TOKEN"]),
            vec![],
        ),
        (
            vec![
                "routes".into(),
                "test".into(),
                "--alertmanager.url".into(),
                with_creds.clone(),
                "severity=critical".into(),
            ],
            vec![],
        ),
        (
            vec![
                "routes".into(),
                "tree".into(),
                "--alertmanager.url".into(),
                with_query.clone(),
            ],
            vec![],
        ),
    ];
    for (args, env) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, text) = run(&args, env);
        assert_eq!(code, Some(2), "{args:?} must fail as an I/O error: {text}");
        assert!(text.contains("error"), "{args:?} says what failed: {text}");
        assert_clean(&format!("{args:?} {env:?}"), &text);
    }
}
