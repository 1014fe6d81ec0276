//! Instant queries at many steps, as rule evaluation asks them.
//!
//! Prometheus evaluates a rule as one instant query per tick. ruletest answers all the ticks of a window
//! with one range query where that gives the same answers, which is almost always. It does not in two
//! cases, both about what "the query" is:
//! - `@ start()` and `@ end()` stand for the range's first and last step in a range query, but for the
//!   evaluation time itself in an instant query (`x @ start() > 5` at every tick is `x > 5`).
//! - `@` inside a subquery: where such a selector reads depends on whether the subquery's start equals
//!   the query's start ([`super::engine::AtLevel`]), which an instant query decides at every tick and a
//!   range query once.
//!
//! Expressions like these are answered one step at a time.

use super::engine::EvalError;
use super::parse::{walk, Expr};
use super::syntax::ast::At;
use super::value::QueryResult;
use super::value::{Series, Value};
use super::Engine;
use crate::series::{Labels, Store};
use std::collections::HashMap;

/// Whether one range query of `e` answers each step as an instant query at that step would.
pub fn range_equals_instants(e: &Expr) -> bool {
    let mut same = true;
    walk(e, &mut |n| match n {
        Expr::Vector(vs) if pins_to_query(&vs.at) => same = false,
        Expr::Matrix { selector, .. } if pins_to_query(&selector.at) => same = false,
        Expr::Subquery { at, expr, .. } if pins_to_query(at) || has_at(expr) => same = false,
        _ => {}
    });
    same
}

fn pins_to_query(at: &Option<At>) -> bool {
    matches!(at, Some(At::Start | At::End))
}

fn has_at(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |n| match n {
        Expr::Vector(vs) if vs.at.is_some() => found = true,
        Expr::Matrix { selector, .. } if selector.at.is_some() => found = true,
        Expr::Subquery { at, .. } if at.is_some() => found = true,
        _ => {}
    });
    found
}

/// The steps `start, start + step, ..., <= end` answered one at a time by `instant`, gathered into a matrix
/// as a range query returns it (series in label order, each with its points in time order). A scalar answer
/// is a series without labels.
pub fn matrix_of_instants<E>(
    start: i64,
    end: i64,
    step: i64,
    mut instant: impl FnMut(i64) -> Result<Value, E>,
) -> Result<Value, E> {
    type Row = (Vec<(i64, f64)>, crate::series::store::HistogramSamples);
    let mut rows: HashMap<Labels, Row> = HashMap::new();
    let mut t = start;
    while t <= end {
        match instant(t)? {
            Value::Vector(v) => {
                for s in v {
                    let row = rows.entry(s.labels).or_default();
                    match s.h {
                        Some(h) => row.1.push((t, h)),
                        None => row.0.push((t, s.v)),
                    }
                }
            }
            Value::Scalar { v, .. } => rows.entry(Labels::empty()).or_default().0.push((t, v)),
            // Rule results are vectors; anything else is reported by whoever reads the matrix.
            other => return Ok(other),
        }
        if step <= 0 {
            break;
        }
        t += step;
    }
    let mut m: Vec<Series> = rows
        .into_iter()
        .map(|(labels, (points, histograms))| Series {
            labels,
            points,
            histograms,
        })
        .collect();
    m.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(Value::Matrix(m))
}

impl Engine {
    /// `expr` as an instant query at every step from `start` to `end`: one range query when that answers
    /// the same ([`range_equals_instants`]), one instant query per step otherwise.
    pub fn instants(
        &self,
        store: &Store,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, EvalError> {
        if range_equals_instants(expr) {
            return self.range(store, expr, start, end, step);
        }
        let mut annotations: Option<QueryResult> = None;
        let value = matrix_of_instants(start, end, step, |t| {
            let r = self.instant(store, expr, t)?;
            let value = r.value.clone();
            match &mut annotations {
                None => annotations = Some(r),
                Some(a) => {
                    for w in r.warnings {
                        if !a.warnings.contains(&w) {
                            a.warnings.push(w);
                        }
                    }
                    for i in r.infos {
                        if !a.infos.contains(&i) {
                            a.infos.push(i);
                        }
                    }
                }
            }
            Ok::<_, EvalError>(value)
        })?;
        let mut out = annotations.unwrap_or_else(|| QueryResult {
            value: Value::Matrix(Vec::new()),
            warnings: Vec::new(),
            infos: Vec::new(),
        });
        out.value = value;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::parse;

    fn store() -> Store {
        let mut store = Store::new();
        // x = t/10 at every 10 s from 0 to 2,000 s.
        let samples = (0..=200).map(|i| (i * 10_000, i as f64)).collect();
        store.add_series(Labels::from_pairs([("__name__", "x")]), samples);
        store
    }

    fn points(v: &Value) -> Vec<(i64, f64)> {
        match v {
            Value::Matrix(m) => m.iter().flat_map(|s| s.points.clone()).collect(),
            other => panic!("not a matrix: {other:?}"),
        }
    }

    #[test]
    fn which_expressions_a_range_query_answers_as_instants() {
        for (text, same) in [
            ("x", true),
            ("x @ 100", true),
            ("rate(x[5m] @ 100)", true),
            ("max_over_time(x[5m:1m] @ 100)", true),
            ("x @ start()", false),
            ("rate(x[5m] @ end())", false),
            ("max_over_time(x[5m:1m] @ start())", false),
            ("max_over_time((x @ 100)[5m:1m])", false),
            ("max_over_time(rate(x[1m] @ 100)[5m:1m])", false),
        ] {
            let e = parse::parse(text).unwrap();
            assert_eq!(range_equals_instants(&e), same, "{text}");
        }
    }

    #[test]
    fn start_and_end_are_each_steps_own_time() {
        let engine = Engine::default();
        let store = store();
        let e = parse::parse("x @ start()").unwrap();
        let got = engine
            .instants(&store, &e, 60_000, 180_000, 60_000)
            .unwrap();
        // As instant queries: x at 60 s, 120 s, 180 s; a range query would repeat x at 60 s.
        assert_eq!(
            points(&got.value),
            vec![(60_000, 6.0), (120_000, 12.0), (180_000, 18.0)]
        );
        let range = engine.range(&store, &e, 60_000, 180_000, 60_000).unwrap();
        assert_eq!(
            points(&range.value),
            vec![(60_000, 6.0), (120_000, 6.0), (180_000, 6.0)]
        );
    }

    #[test]
    fn at_inside_a_subquery_is_decided_at_every_step() {
        // promtool 2.42 and Prometheus 3: at 600 s the subquery starts at the query's start, so `x @ 300`
        // keeps the offset computed with the subquery's -4m30s and reads at 30 s (x = 3); at 660 s too; at
        // 630 s the subquery starts at 660 s and the offset is computed again: x @ 300 = 30.
        let engine = Engine::default();
        let store = store();
        let e = parse::parse("max_over_time((x @ 300)[5m:1m] offset -4m30s)").unwrap();
        let got = engine
            .instants(&store, &e, 600_000, 660_000, 30_000)
            .unwrap();
        assert_eq!(
            points(&got.value),
            vec![(600_000, 3.0), (630_000, 30.0), (660_000, 3.0)]
        );
        // One range query from 600 s decides once, at its start, for every step (as Prometheus's does).
        let range = engine.range(&store, &e, 600_000, 660_000, 30_000).unwrap();
        assert_eq!(
            points(&range.value),
            vec![(600_000, 3.0), (630_000, 3.0), (660_000, 3.0)]
        );
    }

    #[test]
    fn scalars_become_one_series_without_labels() {
        let engine = Engine::default();
        let store = store();
        let e = parse::parse("scalar(x @ end())").unwrap();
        let got = engine.instants(&store, &e, 0, 20_000, 10_000).unwrap();
        match got.value {
            Value::Matrix(m) => {
                assert_eq!(m.len(), 1);
                assert!(m[0].labels.is_empty());
                assert_eq!(m[0].points, vec![(0, 0.0), (10_000, 1.0), (20_000, 2.0)]);
            }
            other => panic!("not a matrix: {other:?}"),
        }
    }
}
