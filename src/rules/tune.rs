//! Threshold tuning: every threshold x `for` x `keep_firing_for` combination applied to one evaluation of the
//! alert's left side, with the statistics an SRE weighs (episodes, series, firing time, episode length,
//! re-fires, peak concurrency, notifications, detection of known incidents).

use super::sweep::{episodes, runs, CmpOp};
use crate::series::Labels;
use std::collections::BTreeMap;

/// The left side, evaluated once: per series, its value at each tick ([`ABSENT`] where it has none). Eight
/// bytes a tick: a month of 30 s ticks for a thousand series is 690 MB as `f64`, twice that as `Option<f64>`.
pub struct Lhs {
    pub start_ms: i64,
    pub step_ms: i64,
    pub n: usize,
    pub series: Vec<(Labels, Vec<f64>)>,
}

/// The value of a tick where a series has none: a signalling NaN, which no arithmetic produces (a NaN the
/// left side does return is a value: `!=` holds for it).
pub const ABSENT: f64 = f64::from_bits(ABSENT_BITS);
const ABSENT_BITS: u64 = 0x7ff4_a65e_17ab_5e17;

/// `v`, unless it is [`ABSENT`].
#[inline]
pub fn present(v: f64) -> Option<f64> {
    (v.to_bits() != ABSENT_BITS).then_some(v)
}

impl Lhs {
    pub fn time(&self, k: usize) -> i64 {
        self.start_ms + k as i64 * self.step_ms
    }
}

/// The left side at the group's ticks from `start` (a tick) to `to`. The window goes in pieces of at most
/// DEFAULT_CHUNK_TICKS steps, as rule evaluation does, so its length is not limited; a series keeps one row
/// across the pieces.
#[allow(clippy::too_many_arguments)]
pub fn left_side(
    store: &mut crate::series::store::Store,
    engine: &crate::promql::Engine,
    expr: &crate::promql::Expr,
    text: &str,
    start: i64,
    to: i64,
    step: i64,
    offset: i64,
) -> anyhow::Result<Lhs> {
    let mut rows = Rows::new(start, to, step, offset);
    let (n, first) = (rows.n, start - offset);
    let mut k0 = 0usize;
    while k0 < n {
        let k1 = (k0 + super::group::DEFAULT_CHUNK_TICKS).min(n);
        let (t0, t1) = (first + k0 as i64 * step, first + (k1 as i64 - 1) * step);
        super::group::show_reach(
            store,
            std::iter::once(expr),
            Some(engine.opts.lookback_delta_ms),
            t0,
            t1,
            step,
        );
        let res = engine.instants(store, expr, t0, t1, step)?;
        let crate::promql::Value::Matrix(m) = res.value else {
            anyhow::bail!("the left side {text:?} does not return a vector");
        };
        for s in m {
            rows.add(s.labels, s.points);
        }
        k0 = k1;
    }
    Ok(rows.finish())
}

/// The left side put together from answers in pieces (of time or of series): a row per series, its value
/// at each tick. Ticks run from `start` to `to` every `step`; the answers are at the query times, `offset`
/// (the group's `query_offset`) before the ticks.
pub struct Rows {
    start: i64,
    step: i64,
    first: i64,
    pub n: usize,
    series: Vec<(Labels, Vec<f64>)>,
    row_of: std::collections::HashMap<Labels, usize>,
}

impl Rows {
    pub fn new(start: i64, to: i64, step: i64, offset: i64) -> Rows {
        Rows {
            start,
            step,
            first: start - offset,
            n: ((to - start) / step) as usize + 1,
            series: Vec::new(),
            row_of: Default::default(),
        }
    }

    /// One series' points (query time, value); points off the ticks or outside them are dropped.
    pub fn add(&mut self, labels: Labels, points: impl IntoIterator<Item = (i64, f64)>) {
        let n = self.n;
        let row = *self.row_of.entry(labels.clone()).or_insert_with(|| {
            self.series.push((labels, vec![ABSENT; n]));
            self.series.len() - 1
        });
        for (t, v) in points {
            let d = t - self.first;
            if d < 0 || d % self.step != 0 {
                continue;
            }
            let k = (d / self.step) as usize;
            if k < n {
                self.series[row].1[k] = v;
            }
        }
    }

    pub fn finish(mut self) -> Lhs {
        // One order whatever the pieces: by labels, as one range query returns them.
        self.series.sort_by(|a, b| a.0.cmp(&b.0));
        Lhs {
            start_ms: self.start,
            step_ms: self.step,
            n: self.n,
            series: self.series,
        }
    }
}

/// A known incident: a time window, optionally restricted to series with these labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub start_ms: i64,
    pub end_ms: i64,
    pub labels: BTreeMap<String, String>,
}

/// One combination's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub threshold: f64,
    pub for_ms: i64,
    pub keep_firing_for_ms: i64,
    pub episodes: usize,
    pub series: usize,
    pub firing_ms: i64,
    pub median_episode_ms: i64,
    pub p95_episode_ms: i64,
    /// Episodes that fired within an hour after an earlier episode of the same series resolved.
    pub refires: usize,
    pub peak_concurrent: usize,
    pub current: bool,
    /// Fired episodes as (series index, fired at, resolved at) in ms, for notifications and plots.
    pub fired: Vec<(usize, i64, Option<i64>)>,
    pub detected: Option<usize>,
    pub mean_time_to_detect_ms: Option<i64>,
    pub false_alerts: Option<usize>,
}

pub struct SweepSpec<'a> {
    pub op: CmpOp,
    pub thresholds: &'a [f64],
    pub fors: &'a [i64],
    pub keep_firing_fors: &'a [i64],
    pub current: (f64, i64, i64),
    pub incidents: &'a [Incident],
}

const REFIRE_WINDOW_MS: i64 = 3_600_000;

pub fn sweep(lhs: &Lhs, spec: &SweepSpec) -> Vec<Row> {
    let mut rows = Vec::new();
    // Reused across combinations: +1 at a fire tick, -1 at a resolve tick.
    let mut diff = vec![0i32; lhs.n + 1];
    for &t in spec.thresholds {
        let series_runs: Vec<Vec<(usize, usize)>> = lhs
            .series
            .iter()
            .map(|(_, v)| runs(v, spec.op, t))
            .collect();
        for &f in spec.fors {
            for &k in spec.keep_firing_fors {
                rows.push(row(lhs, spec, t, f, k, &series_runs, &mut diff));
            }
        }
    }
    rows
}

fn percentile(sorted_or_not: &mut [i64], p: f64) -> i64 {
    if sorted_or_not.is_empty() {
        return 0;
    }
    let idx =
        ((p * (sorted_or_not.len() as f64 - 1.0)).round() as usize).min(sorted_or_not.len() - 1);
    *sorted_or_not.select_nth_unstable(idx).1
}

fn row(
    lhs: &Lhs,
    spec: &SweepSpec,
    t: f64,
    f: i64,
    k: i64,
    series_runs: &[Vec<(usize, usize)>],
    diff: &mut [i32],
) -> Row {
    let end = lhs.time(lhs.n.saturating_sub(1));
    let mut fired: Vec<(usize, i64, Option<i64>)> = Vec::new();
    let mut series = 0;
    let mut refires = 0;
    diff.iter_mut().for_each(|d| *d = 0);
    for (si, r) in series_runs.iter().enumerate() {
        if r.is_empty() {
            continue;
        }
        // Episodes of one series come in time order: re-fires are counted against the previous one.
        let mut last_resolved: Option<i64> = None;
        let before = fired.len();
        for e in episodes(r, lhs.step_ms, f, k, lhs.n) {
            let Some(fk) = e.fired else { continue };
            let fired_at = lhs.time(fk);
            if last_resolved.is_some_and(|prev| fired_at - prev <= REFIRE_WINDOW_MS) {
                refires += 1;
            }
            let resolved_at = e.resolved.map(|rk| lhs.time(rk));
            last_resolved = Some(resolved_at.unwrap_or(i64::MAX / 2));
            diff[fk] += 1;
            if let Some(rk) = e.resolved {
                diff[rk] -= 1;
            }
            fired.push((si, fired_at, resolved_at));
        }
        if fired.len() > before {
            series += 1;
        }
    }
    // Peak concurrency: at each tick, resolutions and new firings net out.
    let (mut cur, mut peak) = (0i32, 0i32);
    for d in diff.iter() {
        cur += d;
        peak = peak.max(cur);
    }
    let mut durations: Vec<i64> = fired.iter().map(|(_, f, r)| r.unwrap_or(end) - f).collect();
    let firing_ms = durations.iter().sum();
    let median = percentile(&mut durations, 0.5);
    let p95 = percentile(&mut durations, 0.95);
    let (detected, ttd, false_alerts) = if spec.incidents.is_empty() {
        (None, None, None)
    } else {
        let matches = |inc: &Incident, si: usize| {
            inc.labels
                .iter()
                .all(|(k, v)| lhs.series[si].0.get(k) == Some(v.as_str()))
        };
        let mut detected = 0;
        let mut ttds = Vec::new();
        for inc in spec.incidents {
            let first = fired
                .iter()
                .filter(|(si, f, _)| matches(inc, *si) && *f >= inc.start_ms && *f <= inc.end_ms)
                .map(|(_, f, _)| *f)
                .min();
            if let Some(f) = first {
                detected += 1;
                ttds.push(f - inc.start_ms);
            }
        }
        let false_alerts = fired
            .iter()
            .filter(|(si, f, r)| {
                let r = r.unwrap_or(end);
                !spec
                    .incidents
                    .iter()
                    .any(|inc| matches(inc, *si) && *f <= inc.end_ms && r >= inc.start_ms)
            })
            .count();
        let ttd = (!ttds.is_empty()).then(|| ttds.iter().sum::<i64>() / ttds.len() as i64);
        (Some(detected), ttd, Some(false_alerts))
    };
    Row {
        threshold: t,
        for_ms: f,
        keep_firing_for_ms: k,
        episodes: fired.len(),
        series,
        firing_ms,
        median_episode_ms: median,
        p95_episode_ms: p95,
        refires,
        peak_concurrent: peak.max(0) as usize,
        current: (t, f, k) == spec.current,
        fired,
        detected,
        mean_time_to_detect_ms: ttd,
        false_alerts,
    }
}

/// min, p50, p90, p99, max of a set of values (NaN left out), exact: the value at rank
/// `round(p * (n - 1))` of the sorted values, as sorting them would give. Found without copying them (a
/// month of a thousand series' left side is tens of millions of values): each pass counts the values by the
/// next 16 bits of an order-preserving key, narrowing each quantile to one bucket, four passes in all.
pub fn distribution<I: Iterator<Item = f64> + Clone>(values: I) -> Option<[f64; 5]> {
    let values = values.filter(|x| !x.is_nan());
    let mut n = 0usize;
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for k in values.clone().map(order_key) {
        n += 1;
        lo = lo.min(k);
        hi = hi.max(k);
    }
    if n == 0 {
        return None;
    }
    let rank = |p: f64| ((p * (n as f64 - 1.0)).round() as usize).min(n - 1);
    // Per quantile: the rank still to find within the values whose key starts with `prefix`.
    let mut wanted = [(rank(0.5), 0u64), (rank(0.9), 0u64), (rank(0.99), 0u64)];
    let mut counts = vec![[0usize; 3]; 1 << 16];
    for pass in 0..4u32 {
        let known = 16 * pass;
        let shift = 48 - known;
        counts.iter_mut().for_each(|c| *c = [0; 3]);
        for k in values.clone().map(order_key) {
            let bucket = ((k >> shift) & 0xffff) as usize;
            for (q, &(_, prefix)) in wanted.iter().enumerate() {
                if known == 0 || k >> (64 - known) == prefix {
                    counts[bucket][q] += 1;
                }
            }
        }
        for (q, (r, prefix)) in wanted.iter_mut().enumerate() {
            let mut below = 0;
            for (b, c) in counts.iter().enumerate() {
                if below + c[q] > *r {
                    *r -= below;
                    *prefix = (*prefix << 16) | b as u64;
                    break;
                }
                below += c[q];
            }
        }
    }
    Some([
        from_order_key(lo),
        from_order_key(wanted[0].1),
        from_order_key(wanted[1].1),
        from_order_key(wanted[2].1),
        from_order_key(hi),
    ])
}

/// A key whose unsigned order is `f64::total_cmp`'s.
fn order_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

fn from_order_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Index of the most sensitive row whose alert rate stays within `per_day` episodes a day.
pub fn within_budget(rows: &[Row], op: CmpOp, per_day: f64, window_ms: i64) -> Option<usize> {
    let days = (window_ms as f64 / 86_400_000.0).max(1e-9);
    let ok: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].episodes as f64 / days <= per_day)
        .collect();
    ok.into_iter().reduce(|best, i| {
        let (a, b) = (&rows[i], &rows[best]);
        let more = if a.threshold != b.threshold {
            op.more_sensitive(a.threshold, b.threshold)
        } else if a.for_ms != b.for_ms {
            a.for_ms < b.for_ms
        } else {
            a.keep_firing_for_ms > b.keep_firing_for_ms
        };
        if more {
            i
        } else {
            best
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lhs(vals: &[&[f64]]) -> Lhs {
        Lhs {
            start_ms: 0,
            step_ms: 60_000,
            n: vals[0].len(),
            series: vals
                .iter()
                .enumerate()
                .map(|(i, v)| (Labels::from_pairs([("s", i.to_string())]), v.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn counts_episodes_refires_and_peaks() {
        // Series 0 crosses 5 twice (ticks 1-2 and 5-6), series 1 once (ticks 2-3).
        let l = lhs(&[
            &[0., 9., 9., 0., 0., 9., 9., 0.],
            &[0., 0., 9., 9., 0., 0., 0., 0.],
        ]);
        let spec = SweepSpec {
            op: CmpOp::Gt,
            thresholds: &[5.0, 9.5],
            fors: &[0, 60_000],
            keep_firing_fors: &[0],
            current: (5.0, 0, 0),
            incidents: &[],
        };
        let rows = sweep(&l, &spec);
        assert_eq!(rows.len(), 4);
        let r = &rows[0];
        assert!(r.current);
        assert_eq!(
            (r.episodes, r.series, r.refires, r.peak_concurrent),
            (3, 2, 1, 2)
        );
        assert_eq!(r.firing_ms, 6 * 60_000);
        assert_eq!(r.median_episode_ms, 120_000);
        // for 1m: each run fires one tick later.
        assert_eq!(rows[1].episodes, 3);
        assert_eq!(rows[1].firing_ms, 3 * 60_000);
        assert_eq!(rows[2].episodes, 0);
    }

    #[test]
    fn incidents_and_budget() {
        let l = lhs(&[&[0., 9., 9., 0., 0., 6., 0., 0.]]);
        let inc = [Incident {
            start_ms: 0,
            end_ms: 150_000,
            labels: BTreeMap::new(),
        }];
        let spec = SweepSpec {
            op: CmpOp::Gt,
            thresholds: &[5.0, 7.0],
            fors: &[0],
            keep_firing_fors: &[0],
            current: (7.0, 0, 0),
            incidents: &inc,
        };
        let rows = sweep(&l, &spec);
        assert_eq!(
            (
                rows[0].detected,
                rows[0].false_alerts,
                rows[0].mean_time_to_detect_ms
            ),
            (Some(1), Some(1), Some(60_000))
        );
        assert_eq!((rows[1].detected, rows[1].false_alerts), (Some(1), Some(0)));
        // 8 minutes: 2 episodes is 360/day; 1 episode is 180/day.
        assert_eq!(within_budget(&rows, CmpOp::Gt, 200.0, 8 * 60_000), Some(1));
        assert_eq!(within_budget(&rows, CmpOp::Gt, 400.0, 8 * 60_000), Some(0));
    }

    #[test]
    fn distributions() {
        let d = distribution([3.0, 1.0, f64::NAN, 2.0].into_iter()).unwrap();
        assert_eq!(d, [1.0, 2.0, 3.0, 3.0, 3.0]);
        assert!(distribution(std::iter::empty()).is_none());
    }

    use proptest::prelude::*;

    proptest! {
        /// The exact quantiles, as sorting all values gives them.
        #[test]
        fn distribution_equals_sorting(
            v in proptest::collection::vec(
                proptest::prop_oneof![
                    (0u16..50).prop_map(|x| f64::from(x) / 4.0),
                    proptest::num::f64::ANY,
                    proptest::strategy::Just(-0.0),
                    proptest::strategy::Just(f64::INFINITY),
                    proptest::strategy::Just(f64::NEG_INFINITY),
                ],
                0..300,
            ),
        ) {
            let mut sorted: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            sorted.sort_by(|a, b| a.total_cmp(b));
            let got = distribution(v.iter().copied());
            if sorted.is_empty() {
                prop_assert!(got.is_none());
            } else {
                let q = |p: f64| sorted[((p * (sorted.len() as f64 - 1.0)).round() as usize).min(sorted.len() - 1)];
                let want = [sorted[0], q(0.5), q(0.9), q(0.99), sorted[sorted.len() - 1]];
                let bits = |a: [f64; 5]| a.map(f64::to_bits);
                prop_assert_eq!(bits(got.unwrap()), bits(want));
            }
        }
    }
}
