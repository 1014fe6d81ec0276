//! The live client and `record` / `export` against a real Prometheus (Debian's package, 2.42) backfilled
//! with a fixture through `promtool tsdb create-blocks-from openmetrics`. Fixture times lie in the recent
//! past (from about now-6h, so the server's retention keeps them) and sit off the minute grid, so no sample
//! is ever on a range window's edge, where 2.42 (closed) and Prometheus 3 (open) differ.

mod support;

use assert_cmd::Command;
use ruletest::live::{Client, ClientOptions};
use ruletest::promql::{parse, Engine, Value};
use ruletest::series::formats::{load_any, Format};
use ruletest::series::{Labels, Store};
use std::time::Duration;
use support::prometheus::PrometheusServer;

const HOUR: i64 = 3_600_000;

/// The top of the hour about six hours ago.
fn base() -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    (now - 6 * HOUR) / HOUR * HOUR
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// Two hours of data: two counters (one with a reset) scraped every 15 s and 30 s, a gauge every 10 s with
/// awkward floats, all at odd seconds.
fn fixture(base: i64) -> Store {
    let mut s = Store::new();
    let a = labels(&[
        ("__name__", "http_requests_total"),
        ("job", "api"),
        ("instance", "a"),
    ]);
    let b = labels(&[
        ("__name__", "http_requests_total"),
        ("job", "api"),
        ("instance", "b"),
    ]);
    let q = labels(&[("__name__", "queue_depth"), ("job", "worker")]);
    let mut v = 0.0;
    for k in 0..480 {
        // Uneven increments; a restart (reset to a small value) after 75 minutes.
        v = if k == 300 {
            3.0
        } else {
            v + (k % 7) as f64 * 1.5 + 0.25
        };
        s.append(&a, base + 7_000 + k * 15_000, v);
    }
    for k in 0..240 {
        s.append(&b, base + 11_000 + k * 30_000, (k * k) as f64 / 10.0);
    }
    for k in 0..720 {
        let x = match k % 5 {
            0 => 0.1,
            1 => 1e-3 * k as f64,
            2 => 12_345_678.9,
            3 => -2.5,
            _ => k as f64 / 3.0,
        };
        s.append(&q, base + 3_000 + k * 10_000, x);
    }
    s
}

fn sorted(store: &Store) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let mut v: Vec<_> = store
        .iter()
        .map(|s| (s.labels.clone(), s.samples.to_vec()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn client(url: &str) -> ClientOptions {
    let mut o = ClientOptions::new(url);
    o.timeout = Duration::from_secs(30);
    o
}

#[test]
fn record_round_trips_raw_samples_in_both_formats() {
    let base = base();
    let want = fixture(base);
    let server = PrometheusServer::start(&want);
    let dir = tempfile::tempdir().unwrap();
    let from = (base / 1000).to_string();
    let to = ((base + 3 * HOUR) / 1000).to_string();
    for name in ["rec.om", "rec.json"] {
        let out = dir.path().join(name);
        Command::cargo_bin("ruletest")
            .unwrap()
            .args(["record", "--prometheus", &server.url])
            .args([
                "--match",
                "http_requests_total",
                "--match",
                "queue_depth{job=\"worker\"}",
            ])
            .args(["--from", &from, "--to", &to, "-o"])
            .arg(&out)
            .assert()
            .success()
            .stderr(predicates::str::contains("recorded 3 series, 1440 samples"));
        let text = std::fs::read_to_string(&out).unwrap();
        let mut got = Store::new();
        let format = load_any(&text, &mut got, 0).unwrap();
        let expected_format = if name.ends_with(".json") {
            Format::ApiJson
        } else {
            Format::OpenMetrics
        };
        assert_eq!(format, expected_format);
        assert_eq!(sorted(&got), sorted(&want), "{name}");
    }
}

#[test]
fn raw_series_over_many_windows_keeps_every_sample_once() {
    let base = base();
    let want = fixture(base);
    let server = PrometheusServer::start(&want);
    let mut o = client(&server.url);
    // About 40 samples per request: dozens of windows, fetched 3 at a time.
    o.max_samples_per_request = 40;
    o.concurrency = 3;
    let c = Client::new(o).unwrap();
    // The first window (1h) ends exactly on a sample of instance a (base+7s+1h); Prometheus 2.42's range
    // selector is closed on the left, so the next window returns it again and the client must drop it.
    let start = base + 7_001;
    let end = base + 2 * HOUR;
    let got = c
        .raw_series("http_requests_total", start, end)
        .unwrap()
        .series;
    let expected: Vec<_> = sorted(&want)
        .into_iter()
        .filter(|(l, _)| l.name() == Some("http_requests_total"))
        .map(|(l, s)| {
            (
                l,
                s.into_iter()
                    .filter(|&(t, _)| t >= start && t <= end)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(got[0].1.iter().any(|&(t, _)| t == base + 7_000 + HOUR));
}

/// Our engine's range evaluation of `expr` over the fixture, as (labels, points).
fn engine_range(
    store: &Store,
    expr: &str,
    start: i64,
    end: i64,
    step: i64,
) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let r = Engine::default()
        .range(store, &parse(expr).unwrap(), start, end, step)
        .unwrap();
    let Value::Matrix(series) = r.value else {
        panic!("expected a matrix")
    };
    let mut v: Vec<_> = series.into_iter().map(|s| (s.labels, s.points)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn assert_close(got: &[(Labels, Vec<(i64, f64)>)], want: &[(Labels, Vec<(i64, f64)>)]) {
    assert_eq!(got.len(), want.len());
    for ((gl, gp), (wl, wp)) in got.iter().zip(want) {
        assert_eq!(gl, wl);
        assert_eq!(gp.len(), wp.len(), "{gl}");
        for (&(gt, gv), &(wt, wv)) in gp.iter().zip(wp) {
            assert_eq!(gt, wt, "{gl}");
            let tol = 1e-9 * wv.abs().max(1.0);
            assert!(
                (gv - wv).abs() <= tol,
                "{gl} at {gt}: server {gv}, ruletest {wv}"
            );
        }
    }
}

#[test]
fn query_range_matches_our_engine_and_splitting_changes_nothing() {
    let base = base();
    let store = fixture(base);
    let server = PrometheusServer::start(&store);
    let (start, end, step) = (base + 10 * 60_000, base + 110 * 60_000, 60_000);
    let whole = Client::new(client(&server.url)).unwrap();
    for expr in [
        "rate(http_requests_total[5m])",
        "sum by (job) (increase(http_requests_total[10m]))",
        "avg_over_time(queue_depth[3m]) * 2",
    ] {
        let got = whole.query_range(expr, start, end, step).unwrap();
        assert!(!got.is_empty(), "{expr}: no data from the server");
        assert_eq!(got[0].1.len(), 101, "{expr}");
        assert_close(&got, &engine_range(&store, expr, start, end, step));
    }
    // Seven points per request: 15 requests, 4 in flight, merged back into the same matrix.
    let mut o = client(&server.url);
    o.max_points_per_request = 7;
    let split = Client::new(o).unwrap();
    let expr = "rate(http_requests_total[5m])";
    assert_eq!(
        split.query_range(expr, start, end, step).unwrap(),
        whole.query_range(expr, start, end, step).unwrap()
    );
}

#[test]
fn exported_input_series_backfills_with_promtool() {
    // A promtool test fixture, exported with its time 0 moved to a recent hour, is accepted by promtool's
    // backfill and served back unchanged.
    let base = base();
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("fixture.yml");
    std::fs::write(
        &yaml,
        "tests:\n  - interval: 1m\n    input_series:\n      - series: 'jobs_done_total{queue=\"q1\"}'\n        values: '0+5x30 stale'\n      - series: 'temperature{room=\"a b\"}'\n        values: '20.5 _ 21 21.5x10'\n",
    )
    .unwrap();
    let om = dir.path().join("fixture.om");
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["export", "--openmetrics", "--series"])
        .arg(&yaml)
        .args(["--start", &(base / 1000).to_string(), "-o"])
        .arg(&om)
        .assert()
        .success()
        .stderr(predicates::str::contains("exported 2 series"))
        .stderr(predicates::str::contains("1 staleness markers left out"));
    let text = std::fs::read_to_string(&om).unwrap();
    let mut want = Store::new();
    assert_eq!(
        load_any(&std::fs::read_to_string(&yaml).unwrap(), &mut want, base),
        Ok(Format::InputSeries)
    );
    let server = PrometheusServer::start_from_openmetrics(dir, &om);
    let c = Client::new(client(&server.url)).unwrap();
    let mut got = Store::new();
    for sel in ["jobs_done_total", "temperature"] {
        for (l, s) in c.raw_series(sel, base, base + HOUR).unwrap().series {
            got.add_series(l, s);
        }
    }
    let want: Vec<_> = sorted(&want)
        .into_iter()
        .map(|(l, s)| {
            (
                l,
                s.into_iter()
                    .filter(|(_, v)| !ruletest::series::is_stale(*v))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(sorted(&got), want, "exported text:\n{text}");
}
