//! Rule expressions answered by a live Prometheus-compatible server (the `remote` strategy of `dry-run`):
//! each rule's expression goes to the server as it is written, as a `query_range` at the group's step; the
//! state machine and everything after it run here as for fixtures.

use super::group::{PreparedRule, QuerySource};
use crate::live::Client;
use crate::promql::{Sample, Series, Value};
use crate::series::store::Store;

pub struct RemoteSource<'a> {
    pub client: &'a Client,
}

impl QuerySource for RemoteSource<'_> {
    fn range(
        &self,
        _store: &Store,
        rule: &PreparedRule,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Value, String> {
        let series = self
            .client
            .query_range(&rule.rule.expr.value, start, end, step)
            .map_err(|e| e.to_string())?;
        Ok(Value::Matrix(
            series
                .into_iter()
                .map(|(labels, points)| Series { labels, points })
                .collect(),
        ))
    }

    fn instant(&self, _store: &Store, rule: &PreparedRule, t: i64) -> Result<Value, String> {
        let series = self
            .client
            .query(&rule.rule.expr.value, t)
            .map_err(|e| e.to_string())?;
        Ok(Value::Vector(
            series
                .into_iter()
                .filter_map(|(labels, points)| points.last().map(|&(t, v)| Sample { labels, t, v }))
                .collect(),
        ))
    }

    fn is_local(&self) -> bool {
        false
    }
}
