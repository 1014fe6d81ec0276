//! TLS against a real Prometheus serving HTTPS with a certificate from a test-only CA
//! (tests/support/tls): verification is on by default, `ca_file` makes the certificate trusted, and
//! `insecure_skip_verify` (`--insecure-skip-verify`) is what turns verification off.

mod support;

use assert_cmd::Command;
use ruletest::live::{Client, ClientOptions, LiveError};
use ruletest::series::{Labels, Store};
use std::time::Duration;
use support::prometheus::{tls_dir, PrometheusServer};

const WEB_TLS: &str =
    "tls_server_config:\n  cert_file: {tls}/server.pem\n  key_file: {tls}/server.key\n";

fn served() -> (PrometheusServer, i64) {
    let now = chrono::Utc::now().timestamp_millis();
    let base = (now - 6 * 3_600_000) / 60_000 * 60_000;
    let mut s = Store::new();
    let up = Labels::from_pairs([("__name__", "up"), ("job", "tls")]);
    for k in 0..10 {
        s.append(&up, base + 5_000 + k * 15_000, 1.0);
    }
    (PrometheusServer::start_with_web_config(&s, WEB_TLS), base)
}

fn opts(url: &str) -> ClientOptions {
    let mut o = ClientOptions::new(url);
    o.timeout = Duration::from_secs(10);
    o.retries = 0;
    o
}

#[test]
fn verification_is_on_unless_skipped_and_a_ca_file_is_trusted() {
    let (server, base) = served();
    assert!(server.url.starts_with("https://"));
    let (from, to) = (base, base + 600_000);

    let e = Client::new(opts(&server.url))
        .unwrap()
        .raw_series("up", from, to)
        .unwrap_err();
    assert!(matches!(e, LiveError::Connect { .. }), "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");

    let mut with_ca = opts(&server.url);
    with_ca.ca_file = Some(tls_dir().join("ca.pem"));
    let got = Client::new(with_ca)
        .unwrap()
        .raw_series("up", from, to)
        .unwrap()
        .series;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.len(), 10);

    let mut skip = opts(&server.url);
    skip.insecure_skip_verify = true;
    let got = Client::new(skip)
        .unwrap()
        .raw_series("up", from, to)
        .unwrap()
        .series;
    assert_eq!(got[0].1.len(), 10);

    // The same through the command line.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("up.om");
    let (f, t) = ((from / 1000).to_string(), (to / 1000).to_string());
    Command::cargo_bin("ruletest")
        .unwrap()
        .args([
            "record",
            "--prometheus",
            &server.url,
            "--match",
            "up",
            "--from",
            &f,
            "--to",
            &t,
        ])
        .args(["--retries", "0", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("certificate"));
    Command::cargo_bin("ruletest")
        .unwrap()
        .args([
            "record",
            "--prometheus",
            &server.url,
            "--match",
            "up",
            "--from",
            &f,
            "--to",
            &t,
        ])
        .arg("--ca-file")
        .arg(tls_dir().join("ca.pem"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicates::str::contains("recorded 1 series, 10 samples"));
}

#[test]
fn a_ca_file_without_certificates_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate\n").unwrap();
    let mut o = opts("https://127.0.0.1:1");
    o.ca_file = Some(bad);
    let e = Client::new(o).unwrap_err();
    assert!(e.to_string().contains("holds no"), "{e}");
}
