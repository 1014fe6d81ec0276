//! `tune` as a library function: the alert's left side is evaluated once over the window, then every
//! threshold x `for` x `keep_firing_for` combination is applied to it, with what each would have done (alerts,
//! time firing, incidents caught, notifications per receiver). The result is a [`Tuned`]; `report::tune`
//! renders it.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use ruletest::project::{tune, Project};
//! use ruletest::series::store::Store;
//! let project = Project::load(&["rules/".into()])?;
//! let mut store = Store::with_compact_history();
//! ruletest::project::inputs::load_series("fixtures/chat2sql/crash-loop.yml".as_ref(), 0, &mut store)?;
//! let opts = tune::Options::new("PodCrashLooping", 0, 3_600_000);
//! let tuned = tune::run(&project.rule_files, &mut store, None, None, &opts)?;
//! println!("{} combinations", tuned.rows.len());
//! # Ok(())
//! # }
//! ```

use crate::alertmanager::config::Config;
use crate::alertmanager::feed::{self, Fired};
use crate::load::rules::{RuleFile, RuleKind};
use crate::promql::{Engine, EngineOptions};
use crate::rules::group::Mode;
use crate::rules::sweep::{split_comparison, CmpOp};
use crate::rules::timeline::{self, TimelineOptions, DEFAULT_INTERVAL_MS};
use crate::rules::tune::{self as sweep, Incident, Lhs, Row, SweepSpec};
use crate::series::store::Store;
use std::collections::BTreeMap;

/// What to sweep.
#[derive(Clone, Debug)]
pub struct Options {
    /// The alerting rule to tune.
    pub alert: String,
    /// The window, inclusive, in Unix milliseconds.
    pub from_ms: i64,
    pub to_ms: i64,
    /// The left side and comparison to sweep when the expression is not `<lhs> <op> <number>`.
    pub lhs: Option<(String, CmpOp)>,
    /// Thresholds; `None`: the rule's own and the left side's p90, p99 and max.
    pub thresholds: Option<Vec<f64>>,
    /// `for` values in milliseconds; `None`: the rule's own.
    pub fors: Option<Vec<i64>>,
    /// `keep_firing_for` values in milliseconds; `None`: the rule's own.
    pub keep_firing_fors: Option<Vec<i64>>,
    /// Known incidents: adds detection, time to detect and false alerts per combination.
    pub incidents: Vec<Incident>,
    /// Alerts per day allowed: marks the most sensitive combination within it.
    pub budget_per_day: Option<f64>,
}

impl Options {
    /// The rule's own settings over the window, nothing else.
    pub fn new(alert: &str, from_ms: i64, to_ms: i64) -> Self {
        Self {
            alert: alert.to_string(),
            from_ms,
            to_ms,
            lhs: None,
            thresholds: None,
            fors: None,
            keep_firing_fors: None,
            incidents: Vec::new(),
            budget_per_day: None,
        }
    }
}

/// What a sweep found.
pub struct Tuned {
    pub alert: String,
    /// The rule's expression, trimmed.
    pub expr: String,
    /// The left side swept (the rule's, or the one given).
    pub lhs_text: String,
    pub op: CmpOp,
    pub from: i64,
    pub to: i64,
    /// One per combination, in sweep order.
    pub rows: Vec<Row>,
    /// Per row: notifications per receiver (empty without an Alertmanager configuration).
    pub notifications: Vec<BTreeMap<String, usize>>,
    /// The row the budget picks.
    pub budget: Option<usize>,
    /// Whether incidents were given (the incident columns mean something).
    pub incidents: bool,
    /// The known incidents given, for plots.
    pub known_incidents: Vec<Incident>,
    /// The distribution of the left side's values (min, p50, p90, p99, max).
    pub distribution: Option<[f64; 5]>,
    /// The series with the highest values (label text, index into [`Self::lhs`], distribution).
    pub top: Vec<(String, usize, [f64; 5])>,
    /// The left side at the group's evaluation ticks.
    pub lhs: Lhs,
}

/// Sweeps `opts.alert` of `rule_files` over `store`. With `live`, the raw series the rules select are fetched
/// into the store first; with `alertmanager`, every combination's alerts are routed through it and the
/// notifications counted. Errors name what to change (an alert that does not exist, an expression that is
/// not a comparison, a window without an evaluation).
pub fn run(
    rule_files: &[RuleFile],
    store: &mut Store,
    live: Option<&crate::live::Client>,
    alertmanager: Option<&Config>,
    opts: &Options,
) -> anyhow::Result<Tuned> {
    let (from, to) = (opts.from_ms, opts.to_ms);
    if to < from {
        anyhow::bail!("--to is before --from");
    }
    let Some((group, rule)) = rule_files
        .iter()
        .flat_map(|f| f.groups.iter())
        .find_map(|g| {
            g.rules
                .iter()
                .find(|r| r.kind == RuleKind::Alerting && r.name.value == opts.alert)
                .map(|r| (g, r))
        })
    else {
        return Err(NoSuchAlert(opts.alert.clone()).into());
    };
    let (lhs_text, op, current_threshold) = match &opts.lhs {
        Some((l, op)) => (l.clone(), *op, None),
        None => {
            let expr = rule.parsed_expr().map_err(|e| anyhow::anyhow!("{e}"))?;
            match split_comparison(&expr) {
                Ok(s) => (s.lhs, s.op, Some(s.threshold)),
                Err(why) => anyhow::bail!(
                    "{}: cannot sweep {:?}: {why}; give the left side to sweep with --lhs EXPR (and --op)",
                    opts.alert,
                    rule.expr.value.trim()
                ),
            }
        }
    };
    let lhs_expr = crate::promql::parse(&lhs_text)
        .map_err(|e| anyhow::anyhow!("left side {lhs_text:?}: {e}"))?;
    let engine = Engine::new(EngineOptions::default());
    if let Some(client) = live {
        // The alert's own file supplies the selectors; a given left side adds its own.
        let mut files = rule_files.to_vec();
        if opts.lhs.is_some() {
            if let Some(g) = files.iter_mut().flat_map(|f| f.groups.iter_mut()).next() {
                let mut extra = rule.clone();
                extra.expr.value = lhs_text.clone();
                extra.ast = None;
                g.rules.push(extra);
            }
        }
        super::inputs::fetch_raw(client, &files, from, to, &engine, store)?;
    }
    // The recording rules the left side may read.
    let recording: Vec<RuleFile> = rule_files
        .iter()
        .map(|f| {
            let mut f = f.clone();
            for g in &mut f.groups {
                g.rules.retain(|r| r.kind == RuleKind::Recording);
            }
            f.groups.retain(|g| !g.rules.is_empty());
            f
        })
        .collect();
    let tl_opts = TimelineOptions {
        from_ms: from,
        to_ms: to,
        external_labels: BTreeMap::new(),
        external_url: String::new(),
        mode: Mode::Auto,
    };
    timeline::build(&recording, store, &engine, &tl_opts).map_err(|e| anyhow::anyhow!(e))?;
    let step = group
        .interval_ms
        .filter(|i| *i > 0)
        .unwrap_or(DEFAULT_INTERVAL_MS);
    let offset = group.query_offset_ms.unwrap_or(0);
    let start = crate::rules::timeline::first_tick(from, step);
    if start > to {
        anyhow::bail!(
            "the window holds no evaluation of {} (interval {})",
            opts.alert,
            crate::text::duration::format_duration(step)
        );
    }
    let lhs = sweep::left_side(
        store, &engine, &lhs_expr, &lhs_text, start, to, step, offset,
    )?;
    let distribution = sweep::distribution(
        lhs.series
            .iter()
            .flat_map(|(_, v)| v.iter().copied().filter_map(sweep::present)),
    );
    let thresholds = match &opts.thresholds {
        Some(t) => t.clone(),
        None => {
            let mut t: Vec<f64> = current_threshold.into_iter().collect();
            if let Some(d) = distribution {
                t.extend([d[2], d[3], d[4]]);
            }
            t.sort_by(|a, b| a.total_cmp(b));
            t.dedup();
            t
        }
    };
    let fors = opts
        .fors
        .clone()
        .unwrap_or_else(|| vec![rule.for_duration()]);
    let kffs = opts
        .keep_firing_fors
        .clone()
        .unwrap_or_else(|| vec![rule.keep_firing_for()]);
    let spec = SweepSpec {
        op,
        thresholds: &thresholds,
        fors: &fors,
        keep_firing_fors: &kffs,
        current: (
            current_threshold.unwrap_or(f64::NAN),
            rule.for_duration(),
            rule.keep_firing_for(),
        ),
        incidents: &opts.incidents,
    };
    let rows = sweep::sweep(&lhs, &spec);
    let budget = opts
        .budget_per_day
        .and_then(|b| sweep::within_budget(&rows, op, b, to - from));
    let mut notifications: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); rows.len()];
    if let Some(config) = alertmanager {
        let alert_labels: Vec<BTreeMap<String, String>> = lhs
            .series
            .iter()
            .map(|(l, _)| {
                let mut m: BTreeMap<String, String> = l
                    .iter()
                    .filter(|(k, _)| *k != "__name__")
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                for (k, v) in &rule.labels {
                    m.insert(k.value.clone(), v.value.clone());
                }
                m.insert("alertname".into(), opts.alert.clone());
                m
            })
            .collect();
        let empty = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            let fired: Vec<Fired> = r
                .fired
                .iter()
                .map(|(si, f, res)| Fired {
                    labels: &alert_labels[*si],
                    annotations: &empty,
                    fired_at: *f,
                    resolved_at: *res,
                    interval_ms: step,
                    generator_url: String::new(),
                })
                .collect();
            let sim = feed::simulate_fired(config, &fired, from, to);
            for rcv in &config.receivers {
                notifications[i].insert(rcv.name.clone(), 0);
            }
            for nt in &sim.notifications {
                *notifications[i].entry(nt.receiver.clone()).or_insert(0) += 1;
            }
        }
    }
    Ok(Tuned {
        alert: opts.alert.clone(),
        expr: rule.expr.value.trim().to_string(),
        lhs_text,
        op,
        from,
        to,
        rows,
        notifications,
        budget,
        incidents: !opts.incidents.is_empty(),
        known_incidents: opts.incidents.clone(),
        distribution,
        top: top_series(&lhs, 5),
        lhs,
    })
}

/// The rule files hold no alerting rule of the name asked for.
#[derive(Debug)]
pub struct NoSuchAlert(pub String);

impl std::fmt::Display for NoSuchAlert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no alerting rule named {:?}", self.0)
    }
}

impl std::error::Error for NoSuchAlert {}

/// The `n` series whose maximum is highest (lowest for `<` thresholds is not special-cased: both tails
/// matter less than where the bulk sits, which the overall distribution shows).
pub fn top_series(lhs: &Lhs, n: usize) -> Vec<(String, usize, [f64; 5])> {
    let mut v: Vec<(String, usize, [f64; 5])> = lhs
        .series
        .iter()
        .enumerate()
        .filter_map(|(i, (l, vals))| {
            Some((
                l.to_string(),
                i,
                sweep::distribution(vals.iter().copied().filter_map(sweep::present))?,
            ))
        })
        .collect();
    v.sort_by(|a, b| b.2[4].total_cmp(&a.2[4]).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}
