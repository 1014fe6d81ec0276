//! The counter-reset hints a selector's histograms carry when Prometheus reads them for their count and sum
//! only (`HistogramStatsIterator`).
//!
//! Under `histogram_count`, `histogram_sum` or `histogram_avg` (and with no subquery, `histogram_quantile`,
//! `histogram_quantiles`, `histogram_fraction` or trim operator `</` `>/` on the way up to it), Prometheus
//! reads a selector's histograms through an iterator that works out a hint for every histogram whose stored
//! hint is "unknown": it compares the histogram with the one it read before and says "counter reset" or "not
//! a counter reset" (`detectHistogramStatsDecoding`). Values do not change (rate and increase detect resets
//! the same way either way), but the hints can now collide: `histogram_count(sum(x))` over one series that
//! just reset and one that did not warns "conflicting counter resets during histogram aggregation", where
//! `sum(x)` alone does not.
//!
//! Which histogram was "read before" follows the storage iterators: a selector reads a series forward from the
//! first sample at or after its first step's window start (`t - lookback + 1ms` for an instant vector,
//! `t - range` for a range vector) and keeps reading forward from step to step; when a step's window starts
//! after the iterator's position, the iterator seeks and forgets what it read. The first histogram read after
//! a seek keeps its stored hint.
//!
//! Example: `reset` holding counts 3, 2, 2, 3 (a reset at the second sample, which the store keeps as "unknown")
//! reads, at 5m with a 5m lookback, as unknown, counter reset, not reset, not reset.

use crate::series::histogram::{CounterResetHint, FloatHistogram};
use std::sync::Arc;

/// Where a selector sits, as far as Prometheus's choice of iterator is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StatsPath {
    /// Inside `histogram_count`, `histogram_sum` or `histogram_avg`.
    pub under_stats: bool,
    /// Inside a subquery, a function that needs the buckets, or a trim operator.
    pub blocked: bool,
}

impl StatsPath {
    /// Whether selectors here read their histograms for statistics only.
    pub fn reads_stats(self) -> bool {
        self.under_stats && !self.blocked
    }

    /// The path inside a call of `func`.
    pub fn into_call(self, func: &str) -> StatsPath {
        match func {
            "histogram_count" | "histogram_sum" | "histogram_avg" => StatsPath {
                under_stats: true,
                ..self
            },
            "histogram_quantile" | "histogram_quantiles" | "histogram_fraction" => StatsPath {
                blocked: true,
                ..self
            },
            _ => self,
        }
    }

    /// The path inside a subquery or a trim operation.
    pub fn blocked(self) -> StatsPath {
        StatsPath {
            blocked: true,
            ..self
        }
    }
}

/// `hs` (one series' histograms, in time order) with the hints a statistics read gives them over the steps
/// `ends`, each reading the samples up to it from `end - reach` on. `None` when no hint changes (the caller
/// keeps the stored samples).
pub(crate) fn stats_hints(
    hs: &[(i64, Arc<FloatHistogram>)],
    ends: &[i64],
    reach: i64,
) -> Option<Vec<(i64, Arc<FloatHistogram>)>> {
    if !hs
        .iter()
        .any(|(_, h)| h.counter_reset_hint == CounterResetHint::Unknown)
    {
        return None;
    }
    let mut hints: Vec<Option<CounterResetHint>> = vec![None; hs.len()];
    // `pos`: the next sample to read; `at`: the iterator's position (the first sample at or after the last
    // step), which decides whether the next step seeks.
    let (mut pos, mut prev, mut at): (usize, Option<usize>, Option<i64>) = (0, None, None);
    let mut last_end = i64::MIN;
    for &end in ends {
        let from = end - reach;
        let seek = match at {
            _ if end < last_end => true,
            None => last_end == i64::MIN,
            Some(t) => from > t,
        };
        if seek {
            pos = hs.partition_point(|(t, _)| *t < from);
            prev = None;
        }
        last_end = end;
        while pos < hs.len() && hs[pos].0 <= end {
            let h = &hs[pos].1;
            if h.counter_reset_hint == CounterResetHint::Unknown {
                if let Some(k) = prev {
                    hints[pos] = Some(if h.detect_reset(&hs[k].1) {
                        CounterResetHint::CounterReset
                    } else {
                        CounterResetHint::NotCounterReset
                    });
                }
            }
            prev = Some(pos);
            pos += 1;
        }
        at = match pos.checked_sub(1).map(|k| hs[k].0) {
            Some(t) if t == end => Some(t),
            _ => hs.get(pos).map(|(t, _)| *t),
        };
    }
    if hints.iter().all(Option::is_none) {
        return None;
    }
    Some(
        hs.iter()
            .zip(hints)
            .map(|((t, h), hint)| match hint {
                Some(hint) if hint != h.counter_reset_hint => {
                    let mut h = (**h).clone();
                    h.counter_reset_hint = hint;
                    (*t, Arc::new(h))
                }
                _ => (*t, h.clone()),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::histogram::parse_description;

    fn series(counts: &[f64], hints: &[CounterResetHint]) -> Vec<(i64, Arc<FloatHistogram>)> {
        counts
            .iter()
            .zip(hints)
            .enumerate()
            .map(|(k, (c, hint))| {
                let mut h =
                    parse_description(&format!("{{{{schema:0 sum:1 count:{c} buckets:[1]}}}}"))
                        .unwrap()
                        .histogram;
                h.counter_reset_hint = *hint;
                (k as i64 * 60_000, Arc::new(h))
            })
            .collect()
    }

    use CounterResetHint::{CounterReset as R, NotCounterReset as N, Unknown as U};

    fn hints(hs: &[(i64, Arc<FloatHistogram>)]) -> Vec<CounterResetHint> {
        hs.iter().map(|(_, h)| h.counter_reset_hint).collect()
    }

    #[test]
    fn unknown_hints_are_worked_out_against_the_sample_read_before() {
        // As the store keeps 3, 2, 2, 3: the reset starts a chunk and reads back as unknown.
        let hs = series(&[3.0, 2.0, 2.0, 3.0], &[U, U, N, N]);
        // The first sample at or after 0m + 1ms is the one at 1m: nothing read before it, nothing changes.
        assert!(stats_hints(&hs, &[300_000], 300_000 - 1).is_none());
        // Reading from 0m on, the reset at 1m is found.
        let got = stats_hints(&hs, &[300_000], 300_000).unwrap();
        assert_eq!(hints(&got), vec![U, R, N, N]);
    }

    #[test]
    fn a_step_past_the_iterator_seeks_and_forgets() {
        let hs = series(&[1.0, 2.0, 1.0, 2.0], &[U, N, U, N]);
        // Steps 1m apart with a 1m reach: the reading goes on from step to step.
        let got = stats_hints(&hs, &[0, 60_000, 120_000, 180_000], 60_000).unwrap();
        assert_eq!(hints(&got), vec![U, N, R, N]);
        // A step that starts its window after the iterator's position seeks: the sample at 2m is the first
        // read after it and keeps "unknown".
        assert!(stats_hints(&hs, &[0, 180_000], 60_000).is_none());
    }

    #[test]
    fn the_path_decides_whether_a_selector_reads_stats() {
        let top = StatsPath::default();
        assert!(!top.reads_stats());
        assert!(top.into_call("histogram_count").reads_stats());
        assert!(!top.into_call("histogram_count").blocked().reads_stats());
        assert!(!top
            .into_call("histogram_quantile")
            .into_call("histogram_sum")
            .reads_stats());
        assert!(top
            .into_call("sum")
            .into_call("histogram_avg")
            .reads_stats());
    }
}
