//! Property: every step of a range query equals the instant query at that step's time, over generated
//! series and a set of generated expressions. This is what makes range-native evaluation trustworthy.

use super::{Engine, EngineOptions, Value};
use crate::series::store::stale_nan;
use crate::series::{Labels, Store};
use proptest::prelude::*;

const EXPRS: &[&str] = &[
    "m",
    "m offset 1m",
    "m @ 300",
    "rate(m[{r}])",
    "increase(m[{r}])",
    "delta(m[{r}])",
    "irate(m[{r}])",
    "idelta(m[{r}])",
    "deriv(m[{r}])",
    "predict_linear(m[{r}], 60)",
    "changes(m[{r}])",
    "resets(m[{r}])",
    "avg_over_time(m[{r}])",
    "sum_over_time(m[{r}])",
    "min_over_time(m[{r}])",
    "max_over_time(m[{r}])",
    "count_over_time(m[{r}])",
    "stddev_over_time(m[{r}])",
    "quantile_over_time(0.3, m[{r}])",
    "last_over_time(m[{r}])",
    "absent_over_time(m[{r}])",
    "max_over_time(rate(m[{r}])[5m:1m])",
    "sum_over_time(m[{r}:30s] offset 1m)",
    "sum by (job) (m)",
    "avg without (i) (m)",
    "count(m)",
    "topk(1, m)",
    "bottomk by (job) (1, m)",
    "quantile(0.5, m)",
    "stddev(m)",
    "count_values(\"v\", m)",
    "m * 2 - 1",
    "m > 3",
    "m > bool 3",
    "m / on(job, i) n",
    "m + on(job) group_left n2",
    "m and n",
    "m or n",
    "m unless n",
    "-m",
    "abs(m) + clamp(n, 1, 5)",
    "timestamp(m)",
    "absent(nonexistent)",
    "histogram_quantile(0.9, sum by (le) (rate(h[{r}])))",
    "label_replace(m, \"x\", \"$1\", \"job\", \"(.)\")",
    "scalar(count(m)) * n",
    "time() - timestamp(m)",
    "m + fill(0) n",
    "m / on(job, i) fill_left(1) fill_right(2) n",
    "info(m, {__name__=\"n\"})",
    "limitk(1, m)",
    "limit_ratio(0.5, m)",
    "absent(m)",
    "min_over_time(m[{r}] offset 30s)",
    "max_over_time(m[{r}:15s])",
    "round(mad_over_time(m[{r}]), 0.001)",
    "double_exponential_smoothing(m[{r}], 0.5, 0.5)",
    "histogram_fraction(0, 5, h)",
    "sort_desc(m)",
];

fn build_store(series: &[(u8, Vec<(u16, i8)>)]) -> Store {
    let mut s = Store::new();
    let jobs = ["a", "b"];
    for (k, (sel, samples)) in series.iter().enumerate() {
        let name = match sel % 3 {
            0 => "m",
            1 => "n",
            _ => "h",
        };
        let mut pairs = vec![
            ("__name__", name.to_string()),
            ("job", jobs[k % 2].to_string()),
            ("i", (k / 2).to_string()),
        ];
        if name == "h" {
            pairs.push(("le", ["1", "5", "+Inf"][k % 3].to_string()));
        }
        let labels = Labels::from_pairs(pairs);
        for &(t, v) in samples {
            // Times on a 10s grid up to ~20m; an occasional stale marker.
            let val = if v == i8::MIN { stale_nan() } else { v as f64 };
            s.append(&labels, t as i64 * 10_000, val);
        }
    }
    // The same "n2" series for group_left: one per job.
    for j in ["a", "b"] {
        s.append(
            &Labels::from_pairs([("__name__", "n2"), ("job", j)]),
            0,
            2.0,
        );
        s.append(
            &Labels::from_pairs([("__name__", "n2"), ("job", j)]),
            600_000,
            3.0,
        );
    }
    s
}

fn points_at(v: &Value, t: i64) -> Vec<(Labels, f64)> {
    match v {
        Value::Matrix(m) => m
            .iter()
            .filter_map(|s| {
                s.points
                    .iter()
                    .find(|p| p.0 == t)
                    .map(|p| (s.labels.clone(), p.1))
            })
            .collect(),
        Value::Vector(vs) => vs.iter().map(|s| (s.labels.clone(), s.v)).collect(),
        Value::Scalar { v, .. } => vec![(Labels::empty(), *v)],
        Value::String { .. } => Vec::new(),
    }
}

fn same(a: &[(Labels, f64)], b: &[(Labels, f64)]) -> bool {
    let eq = |x: f64, y: f64| {
        (x.is_nan() && y.is_nan()) || x == y || ((x - y).abs() <= 1e-9 * (x.abs() + y.abs()))
    };
    a.len() == b.len()
        && a.iter()
            .all(|(l, v)| b.iter().any(|(l2, v2)| l == l2 && eq(*v, *v2)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn range_steps_equal_instant_queries(
        series in prop::collection::vec((any::<u8>(), prop::collection::vec((0u16..120, prop_oneof![9 => -5i8..20, 1 => Just(i8::MIN)]), 0..40)), 1..7),
        expr_idx in 0..EXPRS.len(),
        range_s in prop_oneof![Just(60), Just(90), Just(300), Just(45)],
        start in 0i64..900,
        steps in 1i64..12,
        step_s in prop_oneof![Just(15), Just(30), Just(60), Just(47)],
    ) {
        let store = build_store(&series);
        let expr = EXPRS[expr_idx].replace("{r}", &format!("{range_s}s"));
        let engine = Engine::new(EngineOptions::default());
        let start_ms = start * 1000;
        let step_ms = step_s * 1000;
        let end_ms = start_ms + (steps - 1) * step_ms;
        let range = engine.range_query(&store, &expr, start_ms, end_ms, step_ms);
        for k in 0..steps {
            let t = start_ms + k * step_ms;
            let inst = engine.instant_query(&store, &expr, t);
            match (&range, inst) {
                (Ok(r), Ok(i)) => {
                    let a = points_at(&r.value, t);
                    let b = points_at(&i.value, t);
                    prop_assert!(same(&a, &b), "{expr} at {t}: range {a:?} vs instant {b:?}");
                }
                // An error at some step fails the whole range query; an instant query elsewhere may pass.
                (Err(_), _) => {}
                (Ok(_), Err(e)) => prop_assert!(false, "{expr} at {t}: instant failed ({e}) but range succeeded"),
            }
        }
    }
}
