//! Rule expressions answered by a live Prometheus-compatible server (the `remote` strategy of `dry-run`):
//! each rule's expression goes to the server as it is written, as a `query_range` at the group's step; the
//! state machine and everything after it run here as for fixtures.
//!
//! Before evaluation every rule query of the run is sent at once ([`QuerySource::prefetch`]), at most
//! `--concurrency` requests in flight; the first failure that retries do not cure cancels the rest and ends the
//! run. The server answers from its own data, so the queries need no order among themselves: a rule reading a
//! recorded series reads the server's copy of it.

use super::group::{PreparedRule, QuerySource, RangeAsk};
use crate::live::{Client, RangeQuery, SeriesSamples};
use crate::promql::{Sample, Series, Value};
use crate::series::store::Store;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct RemoteSource<'a> {
    pub client: &'a Client,
    /// Prefetched answers, with how many asks still want each.
    answers: Mutex<HashMap<RangeQuery, (usize, Vec<SeriesSamples>)>>,
}

impl<'a> RemoteSource<'a> {
    pub fn new(client: &'a Client) -> Self {
        RemoteSource {
            client,
            answers: Mutex::new(HashMap::new()),
        }
    }

    fn matrix(series: Vec<SeriesSamples>) -> Value {
        Value::Matrix(
            series
                .into_iter()
                .map(|(labels, points)| Series {
                    labels,
                    points,
                    histograms: Vec::new(),
                })
                .collect(),
        )
    }
}

fn query_of(rule: &PreparedRule, start: i64, end: i64, step: i64) -> RangeQuery {
    RangeQuery {
        expr: rule.rule.expr.value.clone(),
        start_ms: start,
        end_ms: end,
        step_ms: step,
    }
}

impl QuerySource for RemoteSource<'_> {
    fn prefetch(&self, asks: &[RangeAsk<'_>]) -> Result<(), (usize, String)> {
        // The same expression over the same span is asked once.
        let mut unique: Vec<RangeQuery> = Vec::new();
        let mut first_ask: Vec<usize> = Vec::new();
        let mut wanted: HashMap<RangeQuery, usize> = HashMap::new();
        for (i, a) in asks.iter().enumerate() {
            let q = query_of(a.rule, a.start, a.end, a.step);
            let n = wanted.entry(q.clone()).or_insert(0);
            if *n == 0 {
                unique.push(q);
                first_ask.push(i);
            }
            *n += 1;
        }
        let answers = self
            .client
            .query_range_many(&unique, "rules")
            .map_err(|(qi, e)| (first_ask[qi], e.to_string()))?;
        let mut map = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        for (q, series) in unique.into_iter().zip(answers) {
            let n = wanted[&q];
            map.insert(q, (n, series));
        }
        Ok(())
    }

    fn range(
        &self,
        _store: &Store,
        rule: &PreparedRule,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Value, String> {
        let q = query_of(rule, start, end, step);
        let prefetched = {
            let mut map = self.answers.lock().unwrap_or_else(|p| p.into_inner());
            match map.get_mut(&q) {
                Some((n, series)) if *n > 1 => {
                    *n -= 1;
                    Some(series.clone())
                }
                Some(_) => map.remove(&q).map(|(_, series)| series),
                None => None,
            }
        };
        let series = match prefetched {
            Some(series) => series,
            None => self
                .client
                .query_range(&q.expr, start, end, step)
                .map_err(|e| e.to_string())?,
        };
        Ok(Self::matrix(series))
    }

    fn instant(&self, _store: &Store, rule: &PreparedRule, t: i64) -> Result<Value, String> {
        let series = self
            .client
            .query(&rule.rule.expr.value, t)
            .map_err(|e| e.to_string())?;
        Ok(Value::Vector(
            series
                .into_iter()
                .filter_map(|(labels, points)| {
                    points.last().map(|&(t, v)| Sample {
                        labels,
                        t,
                        v,
                        h: None,
                    })
                })
                .collect(),
        ))
    }

    fn is_local(&self) -> bool {
        false
    }
}

/// A query's values at a group's ticks from `start` (a tick) to `to`, as the live server answers them: what
/// [`super::tune::left_side`] evaluates over the store, for a run whose rules the server evaluated.
pub fn left_side(
    client: &Client,
    query: &str,
    start: i64,
    to: i64,
    step: i64,
    offset: i64,
) -> anyhow::Result<super::tune::Lhs> {
    let mut rows = super::tune::Rows::new(start, to, step, offset);
    let first = start - offset;
    let last = first + (rows.n as i64 - 1) * step;
    for (labels, points) in client.query_range(query, first, last, step)? {
        rows.add(labels, points);
    }
    Ok(rows.finish())
}
