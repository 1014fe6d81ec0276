//! Native histograms over the live client (issue #15): a server on 127.0.0.1 answers with `"histograms"`
//! as Prometheus 3 does for a native histogram series. The `local` strategy and `record` fetch them with the
//! raw series; `record` writes them to API JSON (and refuses OpenMetrics, which cannot carry them); a query
//! whose answer holds histograms (the `remote` strategy) says to use `--strategy local`.

mod support;

use assert_cmd::Command;
use ruletest::live::{Client, ClientOptions};
use ruletest::series::Store;
use std::time::Duration;
use support::http::{answer, ScriptedServer};

/// 1700000000 s, on a minute.
const BASE_S: i64 = 1_700_000_040;

/// A matrix answer: `h{job="a"}` with a histogram every minute for ten minutes (count k, sum 2k, two
/// buckets of schema 0), and `up{job="a"}` with floats. The same body answers every window; the client keeps
/// each window's own samples.
fn body() -> String {
    let hists: Vec<String> = (1..=10)
        .map(|k| {
            let t = BASE_S + 60 * k;
            let (a, b) = (k / 2, k - k / 2);
            format!(
                r#"[{t},{{"count":"{k}","sum":"{}","buckets":[[0,"0.5","1","{a}"],[0,"1","2","{b}"]]}}]"#,
                2 * k
            )
        })
        .collect();
    let floats: Vec<String> = (1..=10)
        .map(|k| format!(r#"[{},"1"]"#, BASE_S + 60 * k))
        .collect();
    format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"h","job":"a"}},"histograms":[{}]}},{{"metric":{{"__name__":"up","job":"a"}},"values":[{}]}}]}}}}"#,
        hists.join(","),
        floats.join(",")
    )
}

fn opts(url: &str) -> ClientOptions {
    let mut o = ClientOptions::new(url);
    o.timeout = Duration::from_secs(5);
    o.retries = 0;
    o
}

#[test]
fn the_local_strategy_loads_histograms_beside_floats() {
    let server = ScriptedServer::start(vec![answer(200, &body())]);
    let client = Client::new(opts(&server.url)).unwrap();
    let mut store = Store::new();
    let n = client
        .load_raw(
            &["h", "up"],
            BASE_S * 1000,
            (BASE_S + 600) * 1000,
            &mut store,
        )
        .unwrap();
    // Each selector's answer holds both series here: 10 histograms and 10 floats, twice.
    assert_eq!(n, 40);
    let h = store
        .iter()
        .find(|s| s.labels.name() == Some("h"))
        .expect("the histogram series is stored");
    let hs = h.visible_histograms();
    assert_eq!(hs.len(), 10);
    assert!(h.samples.is_empty());
    assert_eq!(hs[0].0, (BASE_S + 60) * 1000);
    assert_eq!(hs[9].1.count, 10.0);
    assert_eq!(hs[9].1.sum, 20.0);
    let up = store
        .iter()
        .find(|s| s.labels.name() == Some("up"))
        .unwrap();
    assert_eq!(up.samples.len(), 10);
    assert!(up.histograms.is_none());
}

#[test]
fn record_writes_histograms_to_api_json_and_refuses_openmetrics() {
    let server = ScriptedServer::start(vec![answer(200, &body())]);
    let dir = tempfile::tempdir().unwrap();
    let from = BASE_S.to_string();
    let to = (BASE_S + 600).to_string();
    let json = dir.path().join("rec.json");
    let record = |out: &std::path::Path| {
        Command::cargo_bin("ruletest")
            .unwrap()
            .args(["record", "--prometheus", &server.url, "--match", "h"])
            .args(["--from", &from, "--to", &to, "--retries", "0", "-o"])
            .arg(out)
            .output()
            .unwrap()
    };
    let out = record(&json);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&json).unwrap();
    let mut store = Store::new();
    ruletest::series::api_json::load_api_json(&text, &mut store).unwrap();
    let h = store
        .iter()
        .find(|s| s.labels.name() == Some("h"))
        .expect("h recorded");
    assert_eq!(h.visible_histograms().len(), 10);
    assert_eq!(h.visible_histograms()[4].1.count, 5.0);

    let om = dir.path().join("rec.om");
    let out = record(&om);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("native histogram") && stderr.contains("export it as Prometheus API JSON"),
        "{stderr}"
    );
    assert!(!om.exists(), "a refused record must not leave a file");
}

#[test]
fn a_query_answered_with_histograms_points_to_the_local_strategy() {
    let server = ScriptedServer::start(vec![answer(200, &body())]);
    let client = Client::new(opts(&server.url)).unwrap();
    let e = client
        .query_range("h", BASE_S * 1000, (BASE_S + 600) * 1000, 60_000)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("series h{job=\"a\"} has native histogram samples")
            && e.contains("--strategy local"),
        "{e}"
    );
}
