//! Threshold tuning: every threshold x `for` x `keep_firing_for` combination applied to one evaluation of the
//! alert's left side, with the statistics an SRE weighs (episodes, series, firing time, episode length,
//! re-fires, peak concurrency, notifications, detection of known incidents).

use super::sweep::{episodes, runs, CmpOp, TickEpisode};
use crate::series::Labels;
use std::collections::BTreeMap;

/// The left side, evaluated once: per series, its value at each tick.
pub struct Lhs {
    pub start_ms: i64,
    pub step_ms: i64,
    pub n: usize,
    pub series: Vec<(Labels, Vec<Option<f64>>)>,
}

impl Lhs {
    pub fn time(&self, k: usize) -> i64 {
        self.start_ms + k as i64 * self.step_ms
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
    for &t in spec.thresholds {
        let series_runs: Vec<Vec<(usize, usize)>> = lhs
            .series
            .iter()
            .map(|(_, v)| runs(v, spec.op, t))
            .collect();
        for &f in spec.fors {
            for &k in spec.keep_firing_fors {
                let eps: Vec<(usize, TickEpisode)> = series_runs
                    .iter()
                    .enumerate()
                    .flat_map(|(si, r)| {
                        episodes(r, lhs.step_ms, f, k, lhs.n)
                            .into_iter()
                            .map(move |e| (si, e))
                    })
                    .collect();
                rows.push(row(lhs, spec, t, f, k, &eps));
            }
        }
    }
    rows
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((p * (sorted.len() as f64 - 1.0)).round() as usize).min(sorted.len() - 1);
    sorted[idx]
}

fn row(lhs: &Lhs, spec: &SweepSpec, t: f64, f: i64, k: i64, eps: &[(usize, TickEpisode)]) -> Row {
    let end = lhs.time(lhs.n.saturating_sub(1));
    let mut fired: Vec<(usize, i64, Option<i64>)> = eps
        .iter()
        .filter_map(|(si, e)| Some((*si, lhs.time(e.fired?), e.resolved.map(|r| lhs.time(r)))))
        .collect();
    fired.sort_by_key(|(si, f, _)| (*f, *si));
    let mut durations: Vec<i64> = fired.iter().map(|(_, f, r)| r.unwrap_or(end) - f).collect();
    durations.sort_unstable();
    let mut series: Vec<usize> = fired.iter().map(|(s, _, _)| *s).collect();
    series.sort_unstable();
    series.dedup();
    // Re-fires: per series, an episode firing within an hour of the previous one's resolution.
    let mut refires = 0;
    let mut last_resolved: BTreeMap<usize, i64> = BTreeMap::new();
    for (si, f, r) in &fired {
        if let Some(prev) = last_resolved.get(si) {
            if f - prev <= REFIRE_WINDOW_MS {
                refires += 1;
            }
        }
        last_resolved.insert(*si, r.unwrap_or(i64::MAX / 2));
    }
    // Peak concurrency: sweep fire (+1) and resolve (-1) events; resolutions first at equal times.
    let mut events: Vec<(i64, i32)> = Vec::with_capacity(fired.len() * 2);
    for (_, f, r) in &fired {
        events.push((*f, 1));
        if let Some(r) = r {
            events.push((*r, -1));
        }
    }
    events.sort();
    let (mut cur, mut peak) = (0i32, 0i32);
    for (_, d) in events {
        cur += d;
        peak = peak.max(cur);
    }
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
        series: series.len(),
        firing_ms: durations.iter().sum(),
        median_episode_ms: percentile(&durations, 0.5),
        p95_episode_ms: percentile(&durations, 0.95),
        refires,
        peak_concurrent: peak.max(0) as usize,
        current: (t, f, k) == spec.current,
        fired,
        detected,
        mean_time_to_detect_ms: ttd,
        false_alerts,
    }
}

/// min, p50, p90, p99, max of a set of values (NaN left out).
pub fn distribution(values: impl Iterator<Item = f64>) -> Option<[f64; 5]> {
    let mut v: Vec<f64> = values.filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| v[((p * (v.len() as f64 - 1.0)).round() as usize).min(v.len() - 1)];
    Some([v[0], q(0.5), q(0.9), q(0.99), v[v.len() - 1]])
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
                .map(|(i, v)| {
                    (
                        Labels::from_pairs([("s", i.to_string())]),
                        v.iter().map(|x| Some(*x)).collect(),
                    )
                })
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
}
