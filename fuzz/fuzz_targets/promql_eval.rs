//! PromQL: parse any text, and evaluate what parses over a small fixed store, as an instant query and as a
//! range query. The store has counters, gauges, a classic histogram, stale markers and gaps, so the
//! functions and operators that read them have something to chew on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::promql::{parse, Engine, EngineOptions};
use ruletest::series::{fixture, Store};
use std::sync::OnceLock;

const FIXTURE: &str = r#"
load 30s
  http_requests_total{job="api",instance="a",code="200"} 0+10x60
  http_requests_total{job="api",instance="b",code="500"} 0+1x20 0+2x20 _x10 stale 5+5x9
  up{job="api",instance="a"} 1x60
  up{job="api",instance="b"} 1x30 0x30
  node_memory_bytes{instance="a"} 1e9-1e6x60
  temperature{room="x"} NaN 1 -2 Inf -Inf 3.5x55
  latency_seconds_bucket{le="0.1",job="api"} 0+5x60
  latency_seconds_bucket{le="0.5",job="api"} 0+8x60
  latency_seconds_bucket{le="+Inf",job="api"} 0+10x60
  latency_seconds_count{job="api"} 0+10x60
  latency_seconds_sum{job="api"} 0+2.5x60
  {"utf8.metric", "a.b"="c"} 1 2 3 _ 5
"#;

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut s = Store::new();
        // A broken fixture would make every run meaningless: fail at once.
        fixture::load_block(FIXTURE, &mut s).expect("the fixed fuzz store loads");
        s
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = parse(text) else {
        return;
    };
    // A lower sample limit than Prometheus's default (50M) keeps a legitimately huge query inside
    // libFuzzer's memory limit; exceeding it is an error result, as in Prometheus.
    let engine = Engine::new(EngineOptions {
        max_samples: 2_000_000,
        ..EngineOptions::default()
    });
    let _ = engine.instant_with_text(store(), &expr, text, 15 * 60 * 1000);
    let _ = engine.range_with_text(store(), &expr, text, 0, 30 * 60 * 1000, 60 * 1000);
    // The query entry points parse with the step and range known (`@ start()`, duration expressions).
    let _ = engine.instant_query(store(), text, 29 * 60 * 1000);
    let _ = engine.range_query(store(), text, 5 * 60 * 1000, 25 * 60 * 1000, 15 * 1000);
});
