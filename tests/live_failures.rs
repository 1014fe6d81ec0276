//! The live client against servers that misbehave, all on 127.0.0.1: nothing listening, 503 then 200, 429
//! with Retry-After, a 400 carrying Prometheus's error JSON, a server that never answers, one that always
//! fails. Also the `record` command's handling of those errors and of secrets.

mod support;

use assert_cmd::Command;
use ruletest::live::{Client, ClientOptions, LiveError};
use std::time::{Duration, Instant};
use support::http::{answer, Reply, ScriptedServer};

const OK_VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1700000000,"1"]}]}}"#;

fn fast(url: &str) -> ClientOptions {
    let mut o = ClientOptions::new(url);
    o.timeout = Duration::from_secs(5);
    o.retries = 2;
    o.backoff = Duration::from_millis(20);
    o
}

#[test]
fn closed_port_is_an_error_not_a_hang() {
    let port = support::prometheus::free_port();
    let client = Client::new(fast(&format!("http://127.0.0.1:{port}"))).unwrap();
    let t0 = Instant::now();
    let e = client.query("up", 1_700_000_000_000).unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t0.elapsed()
    );
    match &e {
        LiveError::GaveUp { attempts: 3, last } => {
            assert!(matches!(**last, LiveError::Connect { .. }), "{e}")
        }
        other => panic!("expected a connection error after 3 attempts, got {other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("127.0.0.1:{port}/api/v1/query: cannot connect")),
        "{msg}"
    );
}

#[test]
fn a_503_is_retried_and_the_retry_succeeds() {
    let server = ScriptedServer::start(vec![
        answer(503, "<html>service unavailable</html>"),
        answer(200, OK_VECTOR),
    ]);
    let client = Client::new(fast(&server.url)).unwrap();
    let got = client.query("up", 1_700_000_000_000).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.to_string(), "up{job=\"a\"}");
    assert_eq!(got[0].1, vec![(1_700_000_000_000, 1.0)]);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_429_waits_for_retry_after() {
    let server = ScriptedServer::start(vec![
        Reply::Answer(429, vec!["Retry-After: 1".into()], "slow down".into()),
        answer(200, OK_VECTOR),
    ]);
    let client = Client::new(fast(&server.url)).unwrap();
    let t0 = Instant::now();
    client.query("up", 0).unwrap();
    // The backoff alone would be 20 ms; the server asked for a second.
    assert!(
        t0.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_400_shows_prometheus_error_text_and_is_not_retried() {
    let server = ScriptedServer::start(vec![answer(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:6: parse error: unclosed left parenthesis"}"#,
    )]);
    let client = Client::new(fast(&server.url)).unwrap();
    let e = client.query_range("rate(x", 0, 60_000, 15_000).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}/api/v1/query_range: HTTP 400: bad_data: invalid parameter \"query\": 1:6: parse error: unclosed left parenthesis",
            server.url
        )
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = ScriptedServer::start(vec![Reply::Hang]);
    let mut o = fast(&server.url);
    o.timeout = Duration::from_millis(800);
    let client = Client::new(o).unwrap();
    let t0 = Instant::now();
    let e = client.query("up", 0).unwrap_err();
    let took = t0.elapsed();
    assert!(matches!(e, LiveError::Timeout { .. }), "{e}");
    assert!(
        e.to_string().contains("no complete answer within 800ms"),
        "{e}"
    );
    // Timeouts are not retried: one request, about one timeout long.
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn persistent_5xx_gives_up_after_the_retries() {
    let server = ScriptedServer::start(vec![answer(
        500,
        r#"{"status":"error","errorType":"internal","error":"boom"}"#,
    )]);
    let client = Client::new(fast(&server.url)).unwrap();
    let e = client.query_range("up", 0, 600_000, 60_000).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("HTTP 500: internal: boom (gave up after 3 attempts)"),
        "{e}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_failed_part_fails_the_whole_split_call() {
    // Four chunks of 2 points; the third request gets a 422, so no partial matrix comes back.
    let ok = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[0,"1"]]}]}}"#;
    let server = ScriptedServer::start(vec![
        answer(200, ok),
        answer(200, ok),
        answer(
            422,
            r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#,
        ),
        answer(200, ok),
    ]);
    let mut o = fast(&server.url);
    o.max_points_per_request = 2;
    o.concurrency = 1;
    let client = Client::new(o).unwrap();
    let e = client.query_range("up", 0, 7_000, 1_000).unwrap_err();
    assert!(
        e.to_string()
            .contains("HTTP 422: execution: query processing would load too many samples"),
        "{e}"
    );
}

#[test]
fn a_garbled_answer_is_a_decode_error() {
    let server = ScriptedServer::start(vec![answer(200, "{\"status\":\"success\",")]);
    let client = Client::new(fast(&server.url)).unwrap();
    let e = client.query("up", 0).unwrap_err();
    assert!(matches!(e, LiveError::Decode { .. }), "{e}");
}

#[test]
fn credentials_are_sent_but_never_shown() {
    let server = ScriptedServer::start(vec![answer(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"unknown tenant"}"#,
    )]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec.om");
    let a = Command::cargo_bin("ruletest")
        .unwrap()
        .env("RULETEST_BEARER_TOKEN", "t0ps3cret")
        .args([
            "record",
            "--prometheus",
            &server.url,
            "--match",
            "up",
            "--from",
            "-1h",
        ])
        .args([
            "--header",
            "X-Scope-OrgID: tenant-7",
            "--retries",
            "0",
            "-o",
        ])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        stderr.contains("HTTP 400: bad_data: unknown tenant"),
        "{stderr}"
    );
    assert!(stderr.contains("recording up"), "{stderr}");
    assert!(!stderr.contains("t0ps3cret"), "{stderr}");
    assert!(!out.exists(), "a failed record must not leave a file");
    let head = server.requests().join("").to_ascii_lowercase();
    assert!(head.contains("authorization: bearer t0ps3cret"), "{head}");
    assert!(head.contains("x-scope-orgid: tenant-7"), "{head}");
    assert!(head.contains("get /api/v1/query?query=up"), "{head}");
}

#[test]
fn record_refuses_expressions_before_asking_the_server() {
    let server = ScriptedServer::start(vec![answer(200, OK_VECTOR)]);
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("ruletest")
        .unwrap()
        .args([
            "record",
            "--prometheus",
            &server.url,
            "--match",
            "rate(x[5m])",
            "--from",
            "-1h",
            "-o",
        ])
        .arg(dir.path().join("x.om"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is not a series selector"));
    assert!(server.requests().is_empty());
}

#[test]
fn basic_auth_from_the_url_is_sent_and_kept_out_of_messages() {
    let server = ScriptedServer::start(vec![answer(401, "Unauthorized")]);
    let url = server.url.replace("http://", "http://alice:pw0rd@");
    let e = Client::new(fast(&url)).unwrap().query("up", 0).unwrap_err();
    let msg = e.to_string();
    assert_eq!(
        msg,
        format!("{}/api/v1/query: HTTP 401: Unauthorized", server.url)
    );
    let head = server.requests().join("").to_ascii_lowercase();
    // base64("alice:pw0rd")
    assert!(
        head.contains("authorization: basic ywxpy2u6chcwcmq="),
        "{head}"
    );
    assert!(!head.contains("alice:pw0rd@"), "{head}");
}

#[test]
fn split_calls_stay_within_the_concurrency_and_merge_in_order() {
    let server = ScriptedServer::start(vec![Reply::EchoRange]);
    let mut o = fast(&server.url);
    o.max_points_per_request = 2;
    o.concurrency = 3;
    let client = Client::new(o).unwrap();
    // Steps 0, 100, ..., 1100 s: six requests of two points, answered after 400 or 200 ms depending on
    // their start, so they complete out of order.
    let got = client.query_range("t", 0, 1_100_000, 100_000).unwrap();
    assert_eq!(got.len(), 1);
    let want: Vec<(i64, f64)> = (0..12).map(|i| (i * 100_000, (i * 100) as f64)).collect();
    assert_eq!(got[0].1, want);
    assert_eq!(server.requests().len(), 6);
    assert_eq!(server.max_in_flight(), 3);
}

#[test]
fn tls_against_a_plain_http_port_says_so() {
    let server = ScriptedServer::start(vec![answer(200, OK_VECTOR)]);
    let https = server.url.replace("http://", "https://");
    let e = Client::new(fast(&https))
        .unwrap()
        .query("up", 0)
        .unwrap_err();
    // Not retried: another handshake would meet plain HTTP again.
    assert!(matches!(e, LiveError::PlainHttp { .. }), "{e:?}");
    assert_eq!(server.requests().len(), 1);
    let msg = e.to_string();
    assert!(
        msg.contains("the server answered in plain HTTP, not TLS: use http:// instead of https://"),
        "{msg}"
    );
    // The TLS library's own wording is left out.
    assert!(!msg.contains("InvalidContentType"), "{msg}");
}
