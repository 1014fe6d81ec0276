//! Queries where ruletest once answered differently from Prometheus (found by comparing with a real server,
//! issue #30). Each test states Prometheus's answer and why.

use ruletest::promql::{Engine, Value};
use ruletest::series::{fixture, Store};

fn store(load: &str) -> Store {
    let mut s = Store::new();
    fixture::load_block(load, &mut s).unwrap();
    s
}

/// (labels, value) of an instant query's vector, sorted.
fn vector(store: &Store, q: &str, t_ms: i64) -> Result<Vec<(String, f64)>, String> {
    let r = Engine::default()
        .instant_query(store, q, t_ms)
        .map_err(|e| e.to_string())?;
    match r.value {
        Value::Vector(v) => {
            let mut out: Vec<(String, f64)> =
                v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(out)
        }
        other => Err(format!("not a vector: {other:?}")),
    }
}

/// Prometheus sets the value label on each series before grouping (`aggregationCountValues`), so `without`
/// can remove it again: both series then count in one group.
#[test]
fn count_values_sets_the_label_before_grouping() {
    let s = store("load 1m\n  x{job=\"a\",instance=\"1\"} 1\n  x{job=\"b\",instance=\"1\"} 2\n");
    assert_eq!(
        vector(&s, "count_values without (job) (\"job\", x)", 0).unwrap(),
        vec![("{instance=\"1\"}".to_string(), 2.0)]
    );
    // `by` keeps the value label, whatever else it names.
    assert_eq!(
        vector(&s, "count_values by (instance) (\"v\", x)", 0).unwrap(),
        vec![
            ("{instance=\"1\", v=\"1\"}".to_string(), 1.0),
            ("{instance=\"1\", v=\"2\"}".to_string(), 1.0)
        ]
    );
    // Overwriting a grouped label: series with equal values merge.
    let s = store("load 1m\n  y{job=\"a\"} 5\n  y{job=\"b\"} 5\n  y{job=\"c\"} 6\n");
    assert_eq!(
        vector(&s, "count_values by (job) (\"job\", y)", 0).unwrap(),
        vec![
            ("{job=\"5\"}".to_string(), 2.0),
            ("{job=\"6\"}".to_string(), 1.0)
        ]
    );
}

/// `VectorBinop` returns at once when either side is empty at a step, before any cardinality check: the
/// duplicate match groups of the other side are no error then.
#[test]
fn an_empty_side_of_a_binary_operation_matches_nothing_and_fails_nothing() {
    let s = store(
        "load 1m\n  lat_bucket{job=\"a\",le=\"1\"} 1\n  lat_bucket{job=\"a\",le=\"2\"} 2\n  other{job=\"a\"} 1\n",
    );
    assert_eq!(
        vector(&s, "nothing + on(job) lat_bucket", 0).unwrap(),
        vec![]
    );
    assert_eq!(
        vector(&s, "lat_bucket + on(job) nothing", 0).unwrap(),
        vec![]
    );
    // With both sides present the duplicates are still an error, as in Prometheus.
    let e = vector(&s, "other + on(job) lat_bucket", 0).unwrap_err();
    assert!(
        e.contains("found duplicate series for the match group"),
        "{e}"
    );
}

/// Calendar functions read `time.Unix(int64(v), 0).UTC()`: Go turns NaN, ±Inf and out-of-range values into
/// math.MinInt64, whose date wraps to the year 292277026596 (Prometheus 2.42 answers these, checked with
/// promtool); years beyond chrono's range are computed, not NaN.
#[test]
fn calendar_functions_follow_go_on_nan_and_huge_values() {
    let s = Store::new();
    assert_eq!(
        vector(&s, "year(vector(NaN))", 0).unwrap(),
        vec![("{}".to_string(), 292_277_026_596.0)]
    );
    assert_eq!(
        vector(&s, "minute(vector(+Inf))", 0).unwrap(),
        vec![("{}".to_string(), 30.0)]
    );
    assert_eq!(
        vector(&s, "year(vector(1e15))", 0).unwrap(),
        vec![("{}".to_string(), 31_690_708.0)]
    );
}

/// (time, value) of a range query's single series.
fn range_points(
    engine: &Engine,
    store: &Store,
    q: &str,
    start: i64,
    end: i64,
    step: i64,
) -> Vec<(i64, f64)> {
    match engine
        .range_query(store, q, start, end, step)
        .unwrap()
        .value
    {
        Value::Matrix(m) => {
            assert!(m.len() <= 1, "{m:?}");
            m.into_iter().flat_map(|s| s.points).collect()
        }
        other => panic!("not a matrix: {other:?}"),
    }
}

/// Prometheus 2.42's answers, from its HTTP API over the same samples (x rises by 1 every 10 s up to 30 at
/// 300 s, then stays): in a range query, `predict_linear` (a function that reads the evaluation time, so not
/// step-invariant) slides its `@` range with the step, and the storage, asked only for the `@` window, cuts the
/// slid window at that window's end. 2.51 fixed it (prometheus#13559); `--semantics 2` reproduces it.
#[test]
fn semantics_2_slides_at_ranges_in_calls_that_read_the_step() {
    use ruletest::promql::EngineOptions;
    use ruletest::semantics::Semantics;
    let s = store("load 10s\n  x 0+1x30 30x170\n");
    let two = Engine::new(EngineOptions {
        semantics: Semantics::PROMETHEUS2,
        ..EngineOptions::default()
    });
    let three = Engine::default();
    // From 180 s: the windows are [0, 300], [60, 300], ... [240, 300], then a single sample (no prediction).
    assert_eq!(
        range_points(
            &two,
            &s,
            "predict_linear(x[5m] @ 300, 60)",
            180_000,
            600_000,
            60_000
        ),
        vec![
            (180_000, 24.0),
            (240_000, 30.0),
            (300_000, 36.0),
            (360_000, 42.0),
            (420_000, 48.0)
        ]
    );
    assert_eq!(
        range_points(
            &two,
            &s,
            "predict_linear(x[2m] @ 300 offset 1m, 0)",
            180_000,
            600_000,
            60_000
        ),
        vec![(180_000, 18.0), (240_000, 24.0)]
    );
    // Prometheus 3 keeps the window at (0, 300] for every step.
    let got = range_points(
        &three,
        &s,
        "predict_linear(x[5m] @ 300, 60)",
        180_000,
        600_000,
        60_000,
    );
    assert_eq!(got.len(), 8);
    for (t, v) in got {
        assert!((v - (t as f64 / 10_000.0 + 6.0)).abs() < 1e-9, "{t}: {v}");
    }
    // A step-invariant call (rate) does not slide, under either semantics.
    for e in [&two, &three] {
        let got = range_points(
            e,
            &s,
            "rate(x[2m] @ 300 offset 1m)",
            180_000,
            600_000,
            60_000,
        );
        assert_eq!(got.len(), 8);
        assert!(got.iter().all(|(_, v)| (v - 0.1).abs() < 1e-9), "{got:?}");
    }
}
