//! The alert timeline of a set of rules over a window: every group evaluated at its own interval (recording
//! groups that others read first, in dependency order), `for` / `keep_firing_for` applied, and each alert's
//! episodes (active, fired, resolved) with its annotations rendered when it fired. Shared by `dry-run` and
//! `tune`.
//!
//! Ticks are aligned to multiples of the group interval (Prometheus adds a per-group phase derived from a hash
//! of the group's name and file; a window of a few intervals makes that difference immaterial).

use super::group::{
    evaluate, range_asks, render_annotations, Mode, QuerySource, RangeAsk, RuleSet, Settings,
    StoreQuery, DEFAULT_CHUNK_TICKS,
};
use crate::load::rules::{RuleFile, RuleKind};
use crate::promql::Engine;
use crate::series::store::Store;
use std::collections::{BTreeMap, HashSet};

/// Default group interval (Prometheus's `evaluation_interval` default).
pub const DEFAULT_INTERVAL_MS: i64 = 60_000;

/// A group's first evaluation at or after `from`: its ticks fall on multiples of its interval (Unix ms).
pub fn first_tick(from: i64, interval: i64) -> i64 {
    let t = from.div_euclid(interval) * interval;
    if t < from {
        t + interval
    } else {
        t
    }
}

/// One episode of one alert.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRecord {
    /// Index into [`Timeline::rules`].
    pub rule: usize,
    pub alertname: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// The group's evaluation interval (Prometheus's sending cadence depends on it).
    pub interval_ms: i64,
    pub value_at_fire: Option<f64>,
}

/// What was evaluated, per alerting rule.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub alertname: String,
    pub group: String,
    pub file: String,
    pub line: u32,
    pub for_ms: i64,
    pub keep_firing_for_ms: i64,
    pub interval_ms: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Timeline {
    pub rules: Vec<RuleInfo>,
    pub alerts: Vec<AlertRecord>,
    /// Evaluation errors: (alertname or record name, time, message), first per rule and message.
    pub errors: Vec<(String, i64, String)>,
    pub template_errors: Vec<(String, String)>,
}

pub struct TimelineOptions {
    pub from_ms: i64,
    pub to_ms: i64,
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
    /// Range-native where the rules allow it ([`Mode::Auto`]), or every rule at every tick.
    pub mode: Mode,
}

/// Evaluates every group of `files` over [from, to] against `store` (recorded series are written into it).
pub fn build(
    files: &[RuleFile],
    store: &mut Store,
    engine: &Engine,
    opts: &TimelineOptions,
) -> Result<Timeline, String> {
    build_with(files, store, engine, engine, opts)
}

/// As [`build`], with rule expressions answered by `source` (a remote server, say); `engine` still answers
/// the `query` function of templates over `store`.
pub fn build_with(
    files: &[RuleFile],
    store: &mut Store,
    engine: &Engine,
    source: &dyn QuerySource,
    opts: &TimelineOptions,
) -> Result<Timeline, String> {
    let all = RuleSet::prepare(files, &[]).map_err(|e| e.to_string())?;
    let mut tl = Timeline::default();
    // One group at a time, so each ticks at its own interval.
    let mut groups = Vec::new();
    for gi in dependency_order(&all) {
        let g = &all.groups[gi];
        let single = RuleSet::prepare(&[one_group(files, &g.file, &g.name)], &[])
            .map_err(|e| e.to_string())?;
        let interval = g
            .interval_ms
            .filter(|i| *i > 0)
            .unwrap_or(DEFAULT_INTERVAL_MS);
        let start = first_tick(opts.from_ms, interval);
        let settings = Settings {
            start_ms: start,
            end_ms: opts.to_ms,
            interval_ms: interval,
            external_labels: opts.external_labels.clone(),
            external_url: opts.external_url.clone(),
            mode: opts.mode,
            episodes: true,
            snapshot_at: Vec::new(),
            chunk_ticks: DEFAULT_CHUNK_TICKS,
        };
        groups.push((gi, single, settings));
    }
    // A remote source answers every group's queries up front, side by side; its first lasting failure ends
    // the run before anything is evaluated.
    if !source.is_local() && opts.mode == Mode::Auto {
        let asks: Vec<RangeAsk> = groups
            .iter()
            .flat_map(|(_, single, settings)| range_asks(single, settings))
            .collect();
        source.prefetch(&asks).map_err(|(i, msg)| {
            let r = asks[i].rule;
            format!(
                "{} ({}:{}): the server could not evaluate it: {msg}",
                r.rule.name.value, r.file, r.rule.pos.line
            )
        })?;
    }
    for (gi, single, settings) in groups {
        let g = &all.groups[gi];
        let interval = settings.interval_ms;
        let ev = evaluate(&single, store, source, &settings);
        let mut seen = HashSet::new();
        for e in &ev.errors {
            let name = single.rules[e.rule].rule.name.value.clone();
            if seen.insert((name.clone(), e.message.clone())) {
                tl.errors.push((name, e.t, e.message.clone()));
            }
        }
        for (ri, state) in ev.alerts.iter().enumerate() {
            let Some(state) = state else { continue };
            let r = &single.rules[ri];
            debug_assert_eq!(r.rule.kind, RuleKind::Alerting);
            let rule_index = tl.rules.len();
            tl.rules.push(RuleInfo {
                alertname: r.rule.name.value.clone(),
                group: g.name.clone(),
                file: r.file.to_string(),
                line: r.rule.pos.line,
                for_ms: r.rule.for_duration(),
                keep_firing_for_ms: r.rule.keep_firing_for(),
                interval_ms: interval,
            });
            // A template's `query` may read any time: a compact store shows it all.
            if r.rule
                .annotations
                .iter()
                .any(|(_, v)| v.value.contains("query"))
            {
                store.set_window(i64::MIN, i64::MAX);
            }
            let query = StoreQuery { store, engine };
            for ep in state.episodes() {
                let (annotations, errors) =
                    render_annotations(r, &ep.payload, &settings, Some(&query));
                for e in errors {
                    tl.template_errors.push((r.rule.name.value.clone(), e));
                }
                tl.alerts.push(AlertRecord {
                    rule: rule_index,
                    alertname: r.rule.name.value.clone(),
                    labels: ep
                        .key
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    annotations: annotations.into_iter().collect(),
                    active_at: ep.active_at,
                    fired_at: ep.fired_at,
                    resolved_at: ep.resolved_at,
                    interval_ms: interval,
                    value_at_fire: ep.fired_at.map(|_| ep.payload.value),
                });
            }
        }
    }
    tl.alerts.sort_by(|a, b| {
        (a.active_at, &a.alertname, &a.labels).cmp(&(b.active_at, &b.alertname, &b.labels))
    });
    Ok(tl)
}

/// A rule file holding only the named group (so it can be evaluated at its own interval).
fn one_group(files: &[RuleFile], file: &str, name: &str) -> RuleFile {
    let f = files
        .iter()
        .find(|f| &*f.file == file)
        .expect("group comes from these files");
    RuleFile {
        file: f.file.clone(),
        origin: f.origin.clone(),
        groups: f
            .groups
            .iter()
            .filter(|g| g.name == name)
            .cloned()
            .collect(),
    }
}

/// Groups ordered so that a group reading series another group records comes after it; file order otherwise
/// (and where the reads form a cycle).
fn dependency_order(set: &RuleSet) -> Vec<usize> {
    let n = set.groups.len();
    let outputs: Vec<HashSet<String>> = set
        .groups
        .iter()
        .map(|g| {
            g.rules
                .iter()
                .filter(|&&r| set.rules[r].rule.kind == RuleKind::Recording)
                .map(|&r| set.rules[r].rule.name.value.clone())
                .collect()
        })
        .collect();
    let reads: Vec<HashSet<String>> = set
        .groups
        .iter()
        .map(|g| {
            g.rules
                .iter()
                .flat_map(|&r| super::group::metric_names(&set.rules[r].expr))
                .collect()
        })
        .collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n).find(|&i| {
            !done[i] && (0..n).all(|j| j == i || done[j] || outputs[j].is_disjoint(&reads[i]))
        });
        let i = next.unwrap_or_else(|| (0..n).find(|&i| !done[i]).unwrap_or(0));
        done[i] = true;
        order.push(i);
    }
    order
}

/// The alerts of a timeline that fired, each from its firing time (pending-only episodes are never sent), as
/// the Alertmanager simulator takes them ([`crate::alertmanager::feed::simulate_fired`]); `dry-run` and
/// `migrate-report` feed them so.
pub fn fired(alerts: &[AlertRecord]) -> Vec<crate::alertmanager::feed::Fired<'_>> {
    alerts
        .iter()
        .filter_map(|a| {
            Some(crate::alertmanager::feed::Fired {
                labels: &a.labels,
                annotations: &a.annotations,
                fired_at: a.fired_at?,
                resolved_at: a.resolved_at,
                interval_ms: a.interval_ms,
                generator_url: String::new(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::first_tick;

    #[test]
    fn the_first_tick_is_the_first_multiple_of_the_interval_not_before_from() {
        assert_eq!(first_tick(120_000, 60_000), 120_000);
        assert_eq!(first_tick(120_001, 60_000), 180_000);
        assert_eq!(first_tick(119_999, 60_000), 120_000);
        assert_eq!(first_tick(-1, 60_000), 0);
        assert_eq!(first_tick(-60_001, 60_000), -60_000);
    }
}
