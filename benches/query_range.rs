//! Times range queries the way the speed target is stated: 1,000 series over 12h at a 15s scrape
//! interval, queried at a 30s step, for `rate`, `sum`, `histogram_quantile` and a division.
//! Run with `cargo bench --bench query_range [SUBSTRING]`; prints the median of five runs per query.
//!
//! Measured 2026-11-24 on the shared 2-core machine (load average ~5), median of 5: rate 27ms,
//! sum(rate) 27ms, histogram_quantile 71ms, division 97ms. The same data loaded into Prometheus 2.42
//! (Debian package; blocks made with `promtool tsdb create-blocks-from openmetrics`, queried over
//! loopback with `/api/v1/query_range`, so its times include HTTP and JSON): 240ms, 169ms (its own
//! evalTotalTime 170-280ms), 498ms, 2080ms.

use ruletest::promql::{Engine, EngineOptions};
use ruletest::series::{Labels, Store};
use std::time::Instant;

fn build() -> Store {
    let mut s = Store::new();
    let step = 15_000i64;
    let n = 12 * 3600 * 1000 / step;
    // 100 instances x 10 buckets of a classic histogram (1,000 series), plus 1,000 counters split in two metrics.
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "5", "+Inf",
    ];
    for inst in 0..100 {
        for (b, le) in les.iter().enumerate() {
            let l = Labels::from_pairs([
                ("__name__", "http_request_duration_seconds_bucket"),
                ("instance", &format!("i{inst}")),
                ("job", "api"),
                ("le", le),
            ]);
            let samples = (0..n)
                .map(|k| (k * step, (k * (b as i64 + 1)) as f64))
                .collect();
            s.add_series(l, samples);
        }
    }
    for inst in 0..500 {
        for name in ["http_requests_total", "http_errors_total"] {
            let l = Labels::from_pairs([
                ("__name__", name),
                ("instance", &format!("i{inst}")),
                ("job", "api"),
            ]);
            let samples = (0..n)
                .map(|k| (k * step, (k * (inst % 7 + 1)) as f64))
                .collect();
            s.add_series(l, samples);
        }
    }
    s
}

fn main() {
    let t0 = Instant::now();
    let store = build();
    eprintln!("built store: {} series in {:?}", store.len(), t0.elapsed());
    // `--openmetrics FILE` writes the data for Prometheus to backfill (bench/query-range.sh) and stops.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--openmetrics") {
        let path = args.get(i + 1).expect("--openmetrics FILE");
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).expect("create the OpenMetrics file"),
        );
        ruletest::series::openmetrics::write_openmetrics(&store, &mut f)
            .expect("write OpenMetrics");
        return;
    }
    let engine = Engine::new(EngineOptions::default());
    let (start, end, step) = (0i64, 12 * 3600 * 1000, 30_000);
    let queries = [
        "rate(http_requests_total[5m])",
        "sum(rate(http_requests_total[5m]))",
        "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        "sum by (instance) (rate(http_errors_total[5m])) / sum by (instance) (rate(http_requests_total[5m]))",
        "max_over_time(http_requests_total[1h])",
        "avg_over_time(http_requests_total[1h])",
    ];
    // An optional argument picks the queries whose text contains it.
    let filter = std::env::args()
        .nth(1)
        .filter(|a| !a.starts_with('-') && !a.ends_with(".om"))
        .unwrap_or_default();
    for q in queries.iter().filter(|q| q.contains(filter.as_str())) {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let r = engine.range_query(&store, q, start, end, step);
            times.push(t.elapsed());
            if let Err(e) = r {
                eprintln!("{q}: {e}");
            }
        }
        times.sort();
        println!("{:.1}\t{q}", times[2].as_secs_f64() * 1000.0);
    }
}
