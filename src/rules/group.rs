//! Rule groups evaluated over time, as Prometheus's rule manager does it: at every tick, groups in order, rules
//! in order; recording-rule output written to the store (visible to later rules at the same tick), staleness
//! markers when a recorded or alert series disappears, `ALERTS` / `ALERTS_FOR_STATE` written, `query_offset`
//! and `limit` applied, alerts driven through the state machine of [`super::alerting`].
//!
//! Range-native: a rule that reads only input series and the output of rules evaluated before it is evaluated
//! once over the whole time range (one range query) and its result is then applied tick by tick, which gives
//! exactly the per-tick answer. Rules that read a later rule, `ALERTS`, a recording ahead of the tick or from
//! a group with a larger query offset, or a selector without a metric name ([`RuleSet::tick_reasons`]) are
//! evaluated tick by tick; the rules whose output they read are answered by range queries ahead and written
//! at their place in the tick loop, the rest run as range queries before or after it ([`RuleSet::schedule`]).
//! [`Mode::PerTick`] evaluates everything per tick.
//!
//! Input: loaded rule files, a store holding the input series, the ticks. Output: the alert states per rule
//! (with snapshots of firing alerts at requested ticks and, if asked, episodes) and the evaluation errors.

use super::alerting::{AlertingRuleState, Instance};
use crate::load::rules::{Rule, RuleFile, RuleKind};
use crate::promql::syntax::ast::VectorSelector;
use crate::promql::{self, Engine, Expr, Value};
use crate::series::histogram::FloatHistogram;
use crate::series::labels::{FxBuild, METRIC_NAME};
use crate::series::store::{stale_nan, SeriesId, Store};
use crate::series::Labels;
use crate::template::{expand_alert_template, AlertTemplateData, QueryFn, QuerySample};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// What the state machine keeps per alert to render annotations later: the sample it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    /// The sample's labels (with `__name__` if it had one), as `$labels` sees them.
    pub sample_labels: Labels,
    /// The sample's float value (0 for a native histogram, as Prometheus's `Alert.Value`).
    pub value: f64,
    /// The native histogram, when the alert's expression gave one.
    pub histogram: Option<Arc<FloatHistogram>>,
    /// Evaluation time (ms) of the sample.
    pub t: i64,
}

pub type AlertState = AlertingRuleState<Labels, Payload>;

/// A rule ready to evaluate.
pub struct PreparedRule {
    pub rule: Rule,
    /// The parsed expression (the one the rule file was read into, shared).
    pub expr: Arc<Expr>,
    /// Group labels (Prometheus 3) merged under the rule's own labels.
    pub labels: Vec<(String, String)>,
    pub group: usize,
    pub file: Arc<str>,
}

pub struct PreparedGroup {
    pub name: String,
    pub file: Arc<str>,
    pub interval_ms: Option<i64>,
    pub query_offset_ms: i64,
    pub limit: usize,
    /// Indices into [`RuleSet::rules`], in evaluation order.
    pub rules: Vec<usize>,
}

/// Every group and rule of a set of rule files, in evaluation order.
pub struct RuleSet {
    pub groups: Vec<PreparedGroup>,
    pub rules: Vec<PreparedRule>,
    /// The recording rules writing each metric name, and the alerting rules (which write `ALERTS` and
    /// `ALERTS_FOR_STATE`): [`RuleSet::writers`] looks selectors up here.
    recorders: HashMap<String, Vec<usize>>,
    alerting: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: group {group:?}, rule {rule:?}: {message}")]
pub struct PrepareError {
    pub file: Arc<str>,
    pub group: String,
    pub rule: String,
    pub message: String,
}

impl RuleSet {
    /// Prepares rule files for evaluation. `group_order` (promtool's `group_eval_order`) puts the named groups
    /// first, in that order; the others follow in file order.
    pub fn prepare(files: &[RuleFile], group_order: &[String]) -> Result<RuleSet, PrepareError> {
        let mut groups = Vec::new();
        let mut rules = Vec::new();
        let mut ordered: Vec<(&RuleFile, &crate::load::rules::Group)> = files
            .iter()
            .flat_map(|f| f.groups.iter().map(move |g| (f, g)))
            .collect();
        if !group_order.is_empty() {
            ordered.sort_by_key(|(_, g)| {
                group_order
                    .iter()
                    .position(|n| *n == g.name)
                    .unwrap_or(usize::MAX)
            });
        }
        let experimental_on = promql::parse::active_options().experimental_functions;
        for (f, g) in ordered {
            let gi = groups.len();
            let mut idx = Vec::new();
            for r in &g.rules {
                // The expression as the rule file was read, unless it uses what this run's parser refuses
                // (rule files are read with experimental functions on, for the lint that reports them):
                // then parsing again gives the error.
                let expr = match &r.ast {
                    Some(a) if experimental_on || !promql::facts::uses_experimental(a) => a.clone(),
                    _ => Arc::new(promql::parse(&r.expr.value).map_err(|e| PrepareError {
                        file: f.file.clone(),
                        group: g.name.clone(),
                        rule: r.name.value.clone(),
                        message: format!("could not parse expression: {e}"),
                    })?),
                };
                let mut labels: Vec<(String, String)> = g
                    .labels
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.value.clone()))
                    .collect();
                for (k, v) in &r.labels {
                    labels.retain(|(n, _)| *n != k.value);
                    labels.push((k.value.clone(), v.value.clone()));
                }
                idx.push(rules.len());
                rules.push(PreparedRule {
                    rule: r.clone(),
                    expr,
                    labels,
                    group: gi,
                    file: f.file.clone(),
                });
            }
            groups.push(PreparedGroup {
                name: g.name.clone(),
                file: f.file.clone(),
                interval_ms: g.interval_ms,
                query_offset_ms: g.query_offset_ms.unwrap_or(0),
                limit: g.limit as usize,
                rules: idx,
            });
        }
        let mut recorders: HashMap<String, Vec<usize>> = HashMap::new();
        let mut alerting = Vec::new();
        for (j, r) in rules.iter().enumerate() {
            match r.rule.kind {
                RuleKind::Recording => recorders
                    .entry(r.rule.name.value.clone())
                    .or_default()
                    .push(j),
                RuleKind::Alerting => alerting.push(j),
            }
        }
        Ok(RuleSet {
            groups,
            rules,
            recorders,
            alerting,
        })
    }

    /// Rules in evaluation order.
    pub fn order(&self) -> Vec<usize> {
        self.groups
            .iter()
            .flat_map(|g| g.rules.iter().copied())
            .collect()
    }

    /// The metric names the recording rules of this set write.
    fn recorded_names(&self) -> HashSet<&str> {
        self.rules
            .iter()
            .filter(|r| r.rule.kind == RuleKind::Recording)
            .map(|r| r.rule.name.value.as_str())
            .collect()
    }

    /// The rules (in evaluation order) whose expressions select no series that a recording rule of this set
    /// writes, nor `ALERTS`: their range queries read only input data, so they may run before, or beside,
    /// the rules ahead of them. Only meaningful when [`RuleSet::range_safe`] holds.
    pub fn independent_of_recordings(&self) -> Vec<usize> {
        let recorded = self.recorded_names();
        self.order()
            .into_iter()
            .filter(|&i| {
                let mut reads = false;
                walk_selectors(&self.rules[i].expr, &mut |vs, _| match vs.metric_name() {
                    None | Some("ALERTS") | Some("ALERTS_FOR_STATE") => reads = true,
                    Some(n) => reads |= recorded.contains(n),
                });
                !reads
            })
            .collect()
    }

    /// Whether every rule can be evaluated over the whole range at once (see the module documentation).
    pub fn range_safe(&self) -> bool {
        self.tick_reasons().iter().all(Option::is_none)
    }

    /// Per rule (index into `rules`), why it needs Prometheus's tick loop, or `None` when one range query
    /// over the window answers it as the ticks would: the first reason found, in the rule's selectors' order.
    pub fn tick_reasons(&self) -> Vec<Option<TickReason>> {
        let mut out = vec![None; self.rules.len()];
        // A rule reads the output of the rules before it at the same tick, and of itself and the rules after it
        // as of the previous tick.
        let pos = self.positions();
        for (i, rule) in self.rules.iter().enumerate() {
            let mut reason = None;
            walk_selectors(&rule.expr, &mut |vs, future| {
                if reason.is_some() {
                    return;
                }
                let name = vs.metric_name();
                if let Some(n @ ("ALERTS" | "ALERTS_FOR_STATE")) = name {
                    reason = Some(TickReason::ReadsAlerts(n.to_string()));
                    return;
                }
                let writers = self.writers(vs);
                let later = writers.iter().any(|&j| pos[j] >= pos[i]);
                let ahead = future && !writers.is_empty();
                let lagging = writers.iter().find(|&&j| self.lags(j, i));
                reason = match name {
                    None if later || ahead || lagging.is_some() => {
                        Some(TickReason::NamelessSelector)
                    }
                    None => None,
                    Some(n) if later => Some(TickReason::ReadsLaterRecording(n.to_string())),
                    Some(n) if ahead => Some(TickReason::ReadsRecordingAhead(n.to_string())),
                    Some(n) => lagging.map(|&j| TickReason::ReadsLaggingRecording {
                        name: n.to_string(),
                        group: self.groups[self.rules[j].group].name.clone(),
                    }),
                };
            });
            out[i] = reason;
        }
        out
    }

    /// Each rule's place in the evaluation order (indexed like `rules`).
    fn positions(&self) -> Vec<usize> {
        let mut pos = vec![0; self.rules.len()];
        for (p, i) in self.order().into_iter().enumerate() {
            pos[i] = p;
        }
        pos
    }

    /// Whether rule `j`'s output reaches rule `i` late: `j`'s group has the larger `query_offset`, so the
    /// samples it writes at a tick are stamped that much before it, and a range query of `i` would read, at a
    /// tick, samples Prometheus writes only at later ones.
    fn lags(&self, j: usize, i: usize) -> bool {
        let off = |r: usize| self.groups[self.rules[r].group].query_offset_ms;
        off(j) > off(i)
    }

    /// Whether rule `j` writes series that selector `vs`, which has no metric name, may read (a recording rule
    /// its metric, an alerting rule `ALERTS` and `ALERTS_FOR_STATE`), by its matchers on `__name__` (and, for
    /// the alert series, `alertname`). Matchers that do not compile match everything.
    fn nameless_may_read(&self, vs: &VectorSelector, j: usize) -> bool {
        let r = &self.rules[j].rule;
        let Ok(matchers) = crate::promql::engine::selector_matchers(vs) else {
            return true;
        };
        let outputs: &[&str] = match r.kind {
            RuleKind::Recording => &[r.name.value.as_str()],
            RuleKind::Alerting => &["ALERTS", "ALERTS_FOR_STATE"],
        };
        outputs.iter().any(|out| {
            matchers.iter().all(|m| match m.name.as_str() {
                METRIC_NAME => m.matches_value(out),
                "alertname" if r.kind == RuleKind::Alerting => m.matches_value(&r.name.value),
                _ => true,
            })
        })
    }

    /// The rules whose output selector `vs` may read, in rule order: by metric name, or by the matchers of a
    /// selector without one.
    pub fn writers(&self, vs: &VectorSelector) -> Vec<usize> {
        match vs.metric_name() {
            Some("ALERTS" | "ALERTS_FOR_STATE") => self.alerting.clone(),
            Some(n) => self.recorders.get(n).cloned().unwrap_or_default(),
            None => (0..self.rules.len())
                .filter(|&j| self.nameless_may_read(vs, j))
                .collect(),
        }
    }

    /// Per rule, the rules whose output it may read, each once, with whether it reads that output ahead of
    /// the tick (`@`, a negative offset, or a writer whose output lags: [`RuleSet::lags`]).
    pub fn reads(&self) -> Vec<Vec<(usize, bool)>> {
        let mut out = Vec::with_capacity(self.rules.len());
        for (i, rule) in self.rules.iter().enumerate() {
            let mut reads: Vec<(usize, bool)> = Vec::new();
            walk_selectors(&rule.expr, &mut |vs, future| {
                reads.extend(
                    self.writers(vs)
                        .into_iter()
                        .map(|j| (j, future || self.lags(j, i))),
                );
            });
            // Each writer once, read ahead if any selector reads it ahead.
            reads.sort_unstable_by_key(|&(j, ahead)| (j, !ahead));
            reads.dedup_by_key(|&mut (j, _)| j);
            out.push(reads);
        }
        out
    }

    /// How [`evaluate`] runs each rule (indexed like `rules`) with a local engine, or `None` when every rule
    /// runs as range queries ([`RuleSet::range_safe`]). Only the rules that need the ticks
    /// ([`RuleSet::tick_reasons`]), and those whose output they need inside the loop but that read a ticked
    /// rule's output themselves, are evaluated tick by tick ([`Run::Tick`]). The rules whose output a ticked
    /// rule reads as of the previous tick (or ahead of it) run as range queries before the loop, their output
    /// hidden from the ticked rules up to their place in each tick ([`Run::Ahead`]); the rules that read a
    /// ticked rule's output, and that no ticked rule needs, run as range queries after the loop
    /// ([`Run::After`]). Issue #16.
    pub fn schedule(&self) -> Option<Vec<Run>> {
        let reasons = self.tick_reasons();
        if reasons.iter().all(Option::is_none) {
            return None;
        }
        let pos = self.positions();
        let reads = self.reads();
        let mut run: Vec<Run> = reasons
            .iter()
            .map(|r| if r.is_some() { Run::Tick } else { Run::Before })
            .collect();
        // Every change moves a rule up Before < Ahead < After < Tick, so this ends.
        loop {
            let mut changed = false;
            for i in 0..run.len() {
                match run[i] {
                    // A range query before the loop sees only what the rules before the loop wrote.
                    Run::Before | Run::Ahead => {
                        if reads[i]
                            .iter()
                            .any(|&(j, _)| matches!(run[j], Run::Tick | Run::After))
                        {
                            run[i] = Run::After;
                            changed = true;
                        }
                    }
                    Run::Tick => {
                        for &(j, ahead) in &reads[i] {
                            let to = match run[j] {
                                // Shown whole, it would give this rule the tick's own output of a later rule,
                                // or output ahead of the tick.
                                Run::Before if ahead || pos[j] >= pos[i] => Run::Ahead,
                                // Needed inside the loop.
                                Run::After => Run::Tick,
                                other => other,
                            };
                            if to != run[j] {
                                run[j] = to;
                                changed = true;
                            }
                        }
                    }
                    Run::After => {}
                }
            }
            if !changed {
                return Some(run);
            }
        }
    }
}

/// How [`evaluate`] runs a rule of a set that is not range-safe ([`RuleSet::schedule`]). Per piece of the
/// window: the `Before` and `Ahead` rules' range queries in evaluation order, each result written at once;
/// then the tick loop, where at each tick the `Tick` rules' instant queries run in evaluation order and each
/// `Ahead` rule's output up to that tick is shown at its place; then the `After` rules' range queries in
/// evaluation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// A range query before the tick loop.
    Before,
    /// A range query before the tick loop, its output hidden from the `Tick` rules beyond what Prometheus's
    /// rule manager would have written when each of them runs ([`Store::set_visible_until`]).
    Ahead,
    /// An instant query at every tick, in the loop.
    Tick,
    /// A range query after the tick loop.
    After,
}

/// Why a rule is evaluated tick by tick ([`RuleSet::tick_reasons`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TickReason {
    /// It reads a metric that a recording rule at or after it in the evaluation order writes: at a tick it sees
    /// that rule's output of the previous tick, which a range query over the window cannot tell from this tick's.
    ReadsLaterRecording(String),
    /// It reads a recorded series ahead of the evaluated tick (`@` or a negative offset).
    ReadsRecordingAhead(String),
    /// It reads `ALERTS` or `ALERTS_FOR_STATE`, which alerting rules write as they are evaluated.
    ReadsAlerts(String),
    /// A selector without a metric name may match any recorded series or `ALERTS`.
    NamelessSelector,
    /// It reads a metric recorded in a group with a larger `query_offset` than its own: those samples are
    /// stamped before the tick that writes them, so a range query would read them ticks early.
    ReadsLaggingRecording { name: String, group: String },
}

impl std::fmt::Display for TickReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TickReason::ReadsLaterRecording(n) => {
                write!(f, "reads `{n}`, recorded later in the evaluation order")
            }
            TickReason::ReadsRecordingAhead(n) => {
                write!(
                    f,
                    "reads the recorded `{n}` ahead of the tick (`@` or a negative offset)"
                )
            }
            TickReason::ReadsAlerts(n) => write!(f, "reads `{n}`"),
            TickReason::ReadsLaggingRecording { name, group } => write!(
                f,
                "reads `{name}`, recorded in group {group:?} with a larger query_offset"
            ),
            TickReason::NamelessSelector => {
                write!(
                    f,
                    "has a selector without a metric name, which may match recorded series"
                )
            }
        }
    }
}

/// The selectors of `e` as text without `offset` / `@` (what the `local` strategy fetches raw), and how far
/// before an evaluation time the expression can look (ranges, offsets, subqueries, plus the lookback delta).
pub fn selectors_and_reach(e: &Expr, lookback_ms: i64) -> (Vec<String>, i64) {
    use crate::promql::syntax::ast::{Expr as E, VectorSelector};
    fn plain(vs: &VectorSelector) -> String {
        let mut v = vs.clone();
        v.offset_ms = 0;
        v.offset_expr = None;
        v.at = None;
        crate::promql::syntax::print(&E::Vector(v))
    }
    // Positive offsets reach further back; negative ones (into the future) do not.
    let off = |ms: i64| ms.max(0);
    let mut out = Vec::new();
    let mut reach = 0;
    // (node, how far back the enclosing subqueries already reach)
    let mut stack: Vec<(&Expr, i64)> = vec![(e, 0)];
    while let Some((e, extra)) = stack.pop() {
        match e {
            E::Subquery {
                expr,
                range_ms,
                offset_ms,
                ..
            } => stack.push((expr, extra + range_ms + off(*offset_ms))),
            E::Vector(vs) => {
                out.push(plain(vs));
                reach = reach.max(extra + off(vs.offset_ms) + lookback_ms);
            }
            E::Matrix {
                selector, range_ms, ..
            } => {
                out.push(plain(selector));
                reach = reach.max(extra + off(selector.offset_ms) + range_ms);
            }
            other => stack.extend(
                crate::promql::parse::children(other)
                    .into_iter()
                    .map(|c| (c, extra)),
            ),
        }
    }
    out.sort();
    out.dedup();
    (out, reach)
}

/// How far before and after its evaluation time `e` reads samples, in ms: `(back, ahead)`, or `None` when
/// no bound is known before evaluating (an `@` modifier, a duration written as an expression). A store with
/// compact history decodes that much around each piece of a range evaluation ([`show_window`]).
pub fn window_reach(e: &Expr, lookback_ms: i64) -> Option<(i64, i64)> {
    use crate::promql::syntax::ast::Expr as E;
    let (mut back, mut ahead) = (0i64, 0i64);
    // (node, how far back and ahead the enclosing subqueries already reach)
    let mut stack: Vec<(&Expr, i64, i64)> = vec![(e, 0, 0)];
    while let Some((e, xb, xa)) = stack.pop() {
        let (vs, range) = match e {
            E::Subquery {
                expr,
                range_ms,
                range_expr,
                step_expr,
                offset_ms,
                offset_expr,
                at,
                ..
            } => {
                if at.is_some()
                    || range_expr.is_some()
                    || step_expr.is_some()
                    || offset_expr.is_some()
                {
                    return None;
                }
                stack.push((
                    expr,
                    xb.saturating_add(*range_ms)
                        .saturating_add((*offset_ms).max(0)),
                    xa.saturating_add((-*offset_ms).max(0)),
                ));
                continue;
            }
            E::Vector(vs) => (vs, lookback_ms),
            E::Matrix {
                selector,
                range_ms,
                range_expr,
                ..
            } => {
                if range_expr.is_some() {
                    return None;
                }
                (selector, *range_ms)
            }
            other => {
                stack.extend(
                    crate::promql::parse::children(other)
                        .into_iter()
                        .map(|c| (c, xb, xa)),
                );
                continue;
            }
        };
        if vs.at.is_some() || vs.offset_expr.is_some() {
            return None;
        }
        back = back.max(xb.saturating_add(range).saturating_add(vs.offset_ms.max(0)));
        ahead = ahead.max(xa.saturating_add((-vs.offset_ms).max(0)));
    }
    Some((back, ahead))
}

/// In a store with compact history, shows queries the samples `set` reads when its rules are evaluated at
/// ticks `first..=last` (each less its group's query offset), as [`show_reach`] does.
pub fn show_window(
    set: &RuleSet,
    store: &mut Store,
    lookback_ms: Option<i64>,
    first: i64,
    last: i64,
    step: i64,
) {
    let offsets = || set.groups.iter().map(|g| g.query_offset_ms);
    let max_off = offsets().max().unwrap_or(0).max(0);
    let min_off = offsets().min().unwrap_or(0).min(0);
    show_reach(
        store,
        set.rules.iter().map(|r| &*r.expr),
        lookback_ms,
        first.saturating_sub(max_off),
        last.saturating_sub(min_off),
        step,
    );
}

/// In a store with compact history, shows queries of `exprs` evaluated at `first..=last` the samples they
/// read, with a step to spare: as far back and ahead as their [`window_reach`] (everything when that is
/// unbounded, or when `lookback_ms` is unknown: `None`, a remote source answers), and only for the series
/// their selectors match ([`selected_series`]).
pub fn show_reach<'e>(
    store: &mut Store,
    exprs: impl Iterator<Item = &'e Expr> + Clone,
    lookback_ms: Option<i64>,
    first: i64,
    last: i64,
    step: i64,
) {
    if !store.has_compact_history() {
        return;
    }
    let reach = lookback_ms.and_then(|lb| {
        exprs.clone().try_fold((0i64, 0i64), |(b, a), e| {
            window_reach(e, lb).map(|(eb, ea)| (b.max(eb), a.max(ea)))
        })
    });
    let (from, to) = match reach {
        Some((back, ahead)) => (
            first.saturating_sub(back).saturating_sub(step),
            last.saturating_add(ahead).saturating_add(step),
        ),
        None => (i64::MIN, i64::MAX),
    };
    match selected_series(exprs, store) {
        Some(ids) => store.set_window_for(&ids, from, to),
        None => store.set_window(from, to),
    }
}

/// The series of `store` that the selectors of `exprs` match, or `None` when a query may read others
/// (`info()` reads info metrics no selector names) or a matcher does not compile.
pub fn selected_series<'e>(
    exprs: impl Iterator<Item = &'e Expr>,
    store: &Store,
) -> Option<Vec<SeriesId>> {
    use crate::promql::syntax::ast::Expr as E;
    let mut ids = Vec::new();
    for e in exprs {
        let mut stack = vec![e];
        while let Some(x) = stack.pop() {
            if matches!(x, E::Call { func, .. } if func == "info") {
                return None;
            }
            stack.extend(crate::promql::parse::children(x));
        }
        let mut ok = true;
        walk_selectors(
            e,
            &mut |vs, _| match crate::promql::engine::selector_matchers(vs) {
                Ok(m) => ids.extend(store.select(&m)),
                Err(_) => ok = false,
            },
        );
        if !ok {
            return None;
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}

/// The metric names `e` selects (selectors without a name are left out).
pub fn metric_names(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    walk_selectors(e, &mut |vs, _| {
        if let Some(n) = vs.metric_name() {
            out.push(n.to_string());
        }
    });
    out
}

/// Calls `f(selector, may look into the future)` for every selector in `e`.
pub fn walk_selectors(e: &Expr, f: &mut dyn FnMut(&VectorSelector, bool)) {
    use crate::promql::syntax::ast::{Expr as E, VectorSelector};
    fn future(vs: &VectorSelector) -> bool {
        vs.at.is_some() || vs.offset_ms < 0
    }
    // (node, inside a subquery that looks into the future)
    let mut stack: Vec<(&Expr, bool)> = vec![(e, false)];
    while let Some((e, fut)) = stack.pop() {
        match e {
            E::Subquery {
                expr,
                at,
                offset_ms,
                ..
            } => stack.push((expr, fut || at.is_some() || *offset_ms < 0)),
            E::Vector(vs) => f(vs, fut || future(vs)),
            E::Matrix { selector, .. } => f(selector, fut || future(selector)),
            other => stack.extend(
                crate::promql::parse::children(other)
                    .into_iter()
                    .rev()
                    .map(|c| (c, fut)),
            ),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Range-native where the rule set allows it, per tick otherwise.
    Auto,
    /// Every rule at every tick (the reference behaviour; used to cross-check).
    PerTick,
}

/// When and how to evaluate.
#[derive(Clone, Debug)]
pub struct Settings {
    /// First tick (ms).
    pub start_ms: i64,
    /// Last tick is the largest `start + k * interval <= end`.
    pub end_ms: i64,
    /// Tick interval. promtool ticks every group at the test file's `evaluation_interval`.
    pub interval_ms: i64,
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
    pub mode: Mode,
    pub episodes: bool,
    /// Ticks at which to keep a snapshot of the firing alerts of every alerting rule.
    pub snapshot_at: Vec<i64>,
    /// Range-native evaluation asks for at most this many ticks per query ([`DEFAULT_CHUNK_TICKS`]), so a
    /// window of any length is evaluated in pieces of bounded memory.
    pub chunk_ticks: usize,
}

/// Ticks per range query in range-native evaluation: a day of 30 s ticks. A result holds at most this many
/// points per series, whatever the window's length; each piece costs one more lookup of the series.
pub const DEFAULT_CHUNK_TICKS: usize = 2_880;

/// An evaluation error of one rule at one tick (Prometheus logs these; promtool fails the test on them).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleError {
    pub rule: usize,
    pub t: i64,
    pub message: String,
}

/// A firing alert as a test sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct FiringAlert {
    pub labels: Labels,
    pub payload: Payload,
}

/// Per-rule runtime state.
struct Runtime {
    /// Series this rule wrote at the previous tick (for staleness markers).
    previous: HashSet<SeriesId, FxBuild>,
    alerts: Option<AlertState>,
    /// Alert labels per matrix series index, when the rule's labels have no templates.
    label_cache: HashMap<usize, Labels>,
    /// A recording rule's output series per matrix series index (range-native evaluation).
    output_ids: HashMap<usize, SeriesId, FxBuild>,
    /// Per alert: its `ALERTS` series when pending and when firing, and its `ALERTS_FOR_STATE` series,
    /// so that writing them each tick needs no label building.
    alert_ids: HashMap<Labels, AlertSeries, FxBuild>,
    /// For a [`Run::Ahead`] rule: the series it has written in this piece of the window, and those it wrote
    /// last (a staleness marker may follow), so that the tick loop can hide them.
    touched: Option<HashSet<SeriesId, FxBuild>>,
    /// Buffers [`apply`] reuses from tick to tick: the series written, the recorded series seen, and the
    /// next tick's set of series written.
    written: Vec<(SeriesId, f64)>,
    seen: HashSet<SeriesId, FxBuild>,
    current: HashSet<SeriesId, FxBuild>,
}

#[derive(Clone, Copy, Default)]
struct AlertSeries {
    pending: Option<SeriesId>,
    firing: Option<SeriesId>,
    for_state: Option<SeriesId>,
}

pub struct Evaluation {
    pub alerts: Vec<Option<AlertState>>,
    pub errors: Vec<RuleError>,
    /// (tick, rule index) -> firing alerts then.
    pub snapshots: HashMap<(i64, usize), Vec<FiringAlert>>,
    pub range_native: bool,
}

/// Where rule expressions are answered: the local engine over the store, or a remote server
/// ([`super::remote`]).
pub trait QuerySource {
    fn range(
        &self,
        store: &Store,
        rule: &PreparedRule,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Value, String>;
    fn instant(&self, store: &Store, rule: &PreparedRule, t: i64) -> Result<Value, String>;
    /// A remote source answers from its own data, so the rule set is always evaluated range-natively.
    fn is_local(&self) -> bool {
        true
    }
    /// Told once, before any evaluation, of every range query that [`evaluate`] will ask (see
    /// [`range_asks`]), so a remote source can send them all at once. An error names the ask that failed
    /// (its index) and ends the run: nothing is evaluated from a partial set of answers.
    fn prefetch(&self, _asks: &[RangeAsk<'_>]) -> Result<(), (usize, String)> {
        Ok(())
    }
    /// The local engine, when this source is one: its range queries of independent rules may then run
    /// side by side on the machine's cores.
    fn local_engine(&self) -> Option<&Engine> {
        None
    }
}

impl QuerySource for Engine {
    fn range(
        &self,
        store: &Store,
        rule: &PreparedRule,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Value, String> {
        Engine::range(self, store, &rule.expr, start, end, step)
            .map(|r| r.value)
            .map_err(|e| e.to_string())
    }
    fn instant(&self, store: &Store, rule: &PreparedRule, t: i64) -> Result<Value, String> {
        Engine::instant(self, store, &rule.expr, t)
            .map(|r| r.value)
            .map_err(|e| e.to_string())
    }
    fn local_engine(&self) -> Option<&Engine> {
        Some(self)
    }
}

/// One range query of one rule, as range-native [`evaluate`] asks it of its source.
#[derive(Clone, Copy)]
pub struct RangeAsk<'a> {
    pub rule: &'a PreparedRule,
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

/// The evaluation ticks of `settings`: `start + k * interval` up to `end`.
pub fn ticks(settings: &Settings) -> Vec<i64> {
    if settings.interval_ms > 0 && settings.end_ms >= settings.start_ms {
        let n = (settings.end_ms - settings.start_ms) / settings.interval_ms;
        (0..=n)
            .map(|k| settings.start_ms + k * settings.interval_ms)
            .collect()
    } else {
        vec![settings.start_ms]
    }
}

/// The pieces of at most `chunk_ticks` ticks range-native evaluation goes through, in order.
fn pieces<'t>(ticks: &'t [i64], settings: &Settings) -> std::slice::Chunks<'t, i64> {
    ticks.chunks(settings.chunk_ticks.max(1))
}

/// The range query rule `ri` gets for `piece`: its first and last tick shifted back by the group's query
/// offset, at the group's interval.
fn ask_for<'a>(set: &'a RuleSet, ri: usize, piece: &[i64], settings: &Settings) -> RangeAsk<'a> {
    let rule = &set.rules[ri];
    let off = set.groups[rule.group].query_offset_ms;
    RangeAsk {
        rule,
        start: piece[0] - off,
        end: piece[piece.len() - 1] - off,
        step: settings.interval_ms.max(1),
    }
}

/// The range queries range-native [`evaluate`] sends for `set` under `settings`: for each piece, each rule
/// in evaluation order.
/// Rules that [`answer`] asks tick by tick have none.
pub fn range_asks<'a>(set: &'a RuleSet, settings: &Settings) -> Vec<RangeAsk<'a>> {
    let ticks = ticks(settings);
    let order = set.order();
    pieces(&ticks, settings)
        .flat_map(|piece| order.iter().map(|&ri| ask_for(set, ri, piece, settings)))
        .filter(|a| promql::range_equals_instants(&a.rule.expr))
        .collect()
}

/// What `source` answers for `a`'s rule at each of its ticks, as Prometheus's instant queries would: one
/// range query, or one instant query per tick where a range query answers differently
/// ([`promql::range_equals_instants`]: `@ start()`, `@ end()`, `@` inside a subquery).
fn answer(source: &dyn QuerySource, store: &Store, a: &RangeAsk<'_>) -> Result<Value, String> {
    if promql::range_equals_instants(&a.rule.expr) {
        source.range(store, a.rule, a.start, a.end, a.step)
    } else {
        promql::matrix_of_instants(a.start, a.end, a.step, |t| source.instant(store, a.rule, t))
    }
}

/// Evaluates `set` over the ticks of `settings`, writing recorded series and ALERTS into `store`.
pub fn evaluate(
    set: &RuleSet,
    store: &mut Store,
    engine: &dyn QuerySource,
    settings: &Settings,
) -> Evaluation {
    let ticks = ticks(settings);
    let mut runtimes: Vec<Runtime> = set
        .rules
        .iter()
        .map(|r| Runtime {
            previous: HashSet::default(),
            output_ids: HashMap::default(),
            alert_ids: HashMap::default(),
            alerts: (r.rule.kind == RuleKind::Alerting).then(|| {
                let limit = set.groups[r.group].limit;
                let s =
                    AlertingRuleState::new(r.rule.for_duration(), r.rule.keep_firing_for(), limit);
                if settings.episodes {
                    s.with_episodes()
                } else {
                    s
                }
            }),
            label_cache: HashMap::new(),
            touched: None,
            written: Vec::new(),
            seen: HashSet::default(),
            current: HashSet::default(),
        })
        .collect();
    let snapshot_at: HashSet<i64> = settings.snapshot_at.iter().copied().collect();
    // A local engine follows `RuleSet::schedule` (none: the set is range-safe); a remote source answers
    // every rule with range queries.
    let schedule = match settings.mode {
        Mode::Auto if engine.is_local() => set.schedule(),
        _ => None,
    };
    let mut ev = Evaluation {
        alerts: Vec::new(),
        errors: Vec::new(),
        snapshots: HashMap::new(),
        range_native: settings.mode == Mode::Auto && schedule.is_none(),
    };
    let order = set.order();
    let plan = match (settings.mode, schedule) {
        (Mode::PerTick, _) => None,
        (Mode::Auto, None) => Some(vec![Run::Before; set.rules.len()]),
        (Mode::Auto, schedule) => schedule,
    };
    let lookback = engine.local_engine().map(|e| e.opts.lookback_delta_ms);
    let step = settings.interval_ms.max(1);
    let Some(plan) = plan else {
        for piece in pieces(&ticks, settings) {
            show_window(set, store, lookback, piece[0], piece[piece.len() - 1], step);
            for &t in piece {
                eval_tick(
                    set,
                    &order,
                    t,
                    &mut runtimes,
                    store,
                    engine,
                    settings,
                    &snapshot_at,
                    &mut ev,
                );
            }
        }
        ev.alerts = runtimes.into_iter().map(|r| r.alerts).collect();
        return ev;
    };
    // Rules that read no recorded series do not depend on the rules before them: the local engine evaluates
    // them side by side first; the others wait for their turn below.
    let independent: Vec<usize> = match engine.local_engine() {
        Some(_) => set
            .independent_of_recordings()
            .into_iter()
            .filter(|&ri| matches!(plan[ri], Run::Before | Run::Ahead))
            .collect(),
        None => Vec::new(),
    };
    let in_loop: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&ri| matches!(plan[ri], Run::Tick | Run::Ahead))
        .collect();
    for &ri in &order {
        if plan[ri] == Run::Ahead {
            runtimes[ri].touched = Some(HashSet::default());
        }
    }
    // The window goes in pieces, every rule over one piece before the next piece. That is the order of
    // Prometheus's ticks as far as any rule can tell: a range query reads recorded series only at or before
    // the evaluated tick, and those are all written by then.
    for piece in pieces(&ticks, settings) {
        show_window(set, store, lookback, piece[0], piece[piece.len() - 1], step);
        let mut early: HashMap<usize, Result<Value, String>> = HashMap::new();
        if let Some(local) = engine.local_engine() {
            if independent.len() > 1 {
                let shared: &Store = store;
                let results = crate::parallel::map(&independent, |&ri| {
                    answer(local, shared, &ask_for(set, ri, piece, settings))
                });
                early = independent.iter().copied().zip(results).collect();
            }
        }
        for &ri in &order {
            if matches!(plan[ri], Run::Before | Run::Ahead) {
                range_rule(
                    set,
                    ri,
                    piece,
                    settings,
                    engine,
                    store,
                    &mut early,
                    &mut runtimes,
                    &snapshot_at,
                    &mut ev,
                );
            }
        }
        if !in_loop.is_empty() {
            // An `Ahead` rule's output shows what it wrote up to the tick before the piece ...
            show_ahead(set, &in_loop, &runtimes, store, piece[0] - step);
            for &t in piece {
                for &ri in &in_loop {
                    if plan[ri] == Run::Tick {
                        eval_tick(
                            set,
                            &[ri],
                            t,
                            &mut runtimes,
                            store,
                            engine,
                            settings,
                            &snapshot_at,
                            &mut ev,
                        );
                    } else {
                        // ... and, from its place in each tick on, what it wrote at that tick.
                        show_ahead(set, &[ri], &runtimes, store, t);
                    }
                }
            }
            show_ahead(set, &in_loop, &runtimes, store, i64::MAX);
            for rt in runtimes.iter_mut() {
                if let Some(touched) = rt.touched.as_mut() {
                    touched.clear();
                    touched.extend(rt.previous.iter().copied());
                }
            }
        }
        for &ri in &order {
            if plan[ri] == Run::After {
                range_rule(
                    set,
                    ri,
                    piece,
                    settings,
                    engine,
                    store,
                    &mut early,
                    &mut runtimes,
                    &snapshot_at,
                    &mut ev,
                );
            }
        }
    }
    ev.alerts = runtimes.into_iter().map(|r| r.alerts).collect();
    ev
}

/// Rule `ri`'s range query over `piece` (taken from `early` when it was answered there), applied tick by tick
/// as [`eval_tick`] applies an instant query's result.
#[allow(clippy::too_many_arguments)]
fn range_rule(
    set: &RuleSet,
    ri: usize,
    piece: &[i64],
    settings: &Settings,
    engine: &dyn QuerySource,
    store: &mut Store,
    early: &mut HashMap<usize, Result<Value, String>>,
    runtimes: &mut [Runtime],
    snapshot_at: &HashSet<i64>,
    ev: &mut Evaluation,
) {
    let a = ask_for(set, ri, piece, settings);
    let off = set.groups[a.rule.group].query_offset_ms;
    let result = match early.remove(&ri) {
        Some(res) => res,
        None => answer(engine, store, &a),
    };
    let rt = &mut runtimes[ri];
    // Both caches are keyed by the series' index in this piece's result.
    rt.label_cache.clear();
    rt.output_ids.clear();
    match result.map(|v| columns_of(v, piece.len(), a.start, a.step)) {
        Err(msg) => {
            for &t in piece {
                ev.errors.push(RuleError {
                    rule: ri,
                    t,
                    message: msg.clone(),
                });
            }
        }
        Ok((series, cols, hcols)) => {
            for (k, &t) in piece.iter().enumerate() {
                let mut samples: Vec<RuleSample> = cols[k]
                    .iter()
                    .map(|&(si, v)| (si, series[si].clone(), v, None))
                    .collect();
                if let Some(hc) = hcols.get(k) {
                    samples.extend(
                        hc.iter()
                            .map(|(si, h)| (*si, series[*si].clone(), 0.0, Some(h.clone()))),
                    );
                }
                apply(set, ri, rt, t, off, samples, store, settings, ev);
                if snapshot_at.contains(&t) {
                    snapshot(rt, ri, t, ev);
                }
            }
        }
    }
}

/// Shows each of `rules`' `Ahead` output up to what it writes at tick `tick` (`i64::MAX`: all of it).
/// Its samples are stamped at the tick less its group's query offset.
fn show_ahead(set: &RuleSet, rules: &[usize], runtimes: &[Runtime], store: &mut Store, tick: i64) {
    for &ri in rules {
        if let Some(touched) = &runtimes[ri].touched {
            let until = if tick == i64::MAX {
                tick
            } else {
                tick - set.groups[set.rules[ri].group].query_offset_ms
            };
            for &id in touched {
                store.set_visible_until(id, until);
            }
        }
    }
}

/// One tick of `rules` (in evaluation order), each evaluated as an instant query, as Prometheus's rule
/// manager does.
#[allow(clippy::too_many_arguments)]
fn eval_tick(
    set: &RuleSet,
    rules: &[usize],
    t: i64,
    runtimes: &mut [Runtime],
    store: &mut Store,
    engine: &dyn QuerySource,
    settings: &Settings,
    snapshot_at: &HashSet<i64>,
    ev: &mut Evaluation,
) {
    for &ri in rules {
        let r = &set.rules[ri];
        let off = set.groups[r.group].query_offset_ms;
        match engine.instant(store, r, t - off) {
            Ok(value) => {
                let samples = match value {
                    Value::Vector(v) => v
                        .into_iter()
                        .map(|s| (usize::MAX, s.labels, s.v, s.h))
                        .collect(),
                    Value::Scalar { v, .. } => vec![(usize::MAX, Labels::empty(), v, None)],
                    _ => {
                        ev.errors.push(RuleError {
                            rule: ri,
                            t,
                            message: "rule result is not a vector".into(),
                        });
                        continue;
                    }
                };
                apply(
                    set,
                    ri,
                    &mut runtimes[ri],
                    t,
                    off,
                    samples,
                    store,
                    settings,
                    ev,
                );
            }
            Err(e) => ev.errors.push(RuleError {
                rule: ri,
                t,
                message: e.to_string(),
            }),
        }
        if snapshot_at.contains(&t) {
            snapshot(&runtimes[ri], ri, t, ev);
        }
    }
}

fn snapshot(rt: &Runtime, ri: usize, t: i64, ev: &mut Evaluation) {
    if let Some(a) = &rt.alerts {
        let firing = a
            .firing()
            .map(|a| FiringAlert {
                labels: a.key.clone(),
                payload: a.payload.clone(),
            })
            .collect();
        ev.snapshots.insert((t, ri), firing);
    }
}

/// One sample of a rule's result: (series index in a range result or `usize::MAX`, labels, float value,
/// native histogram).
type RuleSample = (usize, Labels, f64, Option<Arc<FloatHistogram>>);

/// A range result as columns: the series labels; per tick, the (series index, value) present; and per tick
/// the (series index, native histogram) present (empty when the result holds no histogram).
type Columns = (
    Vec<Labels>,
    Vec<Vec<(usize, f64)>>,
    Vec<Vec<(usize, Arc<FloatHistogram>)>>,
);

/// A range result as [`Columns`].
fn columns_of(v: Value, n: usize, first: i64, step: i64) -> Columns {
    let mut cols = vec![Vec::new(); n];
    let mut hcols: Vec<Vec<(usize, Arc<FloatHistogram>)>> = Vec::new();
    let mut labels = Vec::new();
    match v {
        Value::Matrix(series) => {
            for (si, s) in series.into_iter().enumerate() {
                for (t, val) in s.points {
                    let k = ((t - first) / step) as usize;
                    if k < n {
                        cols[k].push((si, val));
                    }
                }
                for (t, h) in s.histograms {
                    let k = ((t - first) / step) as usize;
                    if k < n {
                        if hcols.is_empty() {
                            hcols = vec![Vec::new(); n];
                        }
                        hcols[k].push((si, h));
                    }
                }
                labels.push(s.labels);
            }
        }
        Value::Scalar { v, .. } => {
            labels.push(Labels::empty());
            for c in cols.iter_mut() {
                c.push((0, v));
            }
        }
        Value::Vector(vec) => {
            for (si, s) in vec.into_iter().enumerate() {
                match s.h {
                    Some(h) => {
                        if hcols.is_empty() {
                            hcols = vec![Vec::new(); n];
                        }
                        hcols[0].push((si, h));
                    }
                    None => cols[0].push((si, s.v)),
                }
                labels.push(s.labels);
            }
        }
        Value::String { .. } => {}
    }
    (labels, cols, hcols)
}

/// Applies one rule's result at tick `t`: writes recorded samples or drives the alert state machine and
/// writes ALERTS, then staleness markers for what disappeared. Errors leave the rule's state untouched, as
/// in Prometheus.
#[allow(clippy::too_many_arguments)]
fn apply(
    set: &RuleSet,
    ri: usize,
    rt: &mut Runtime,
    t: i64,
    offset: i64,
    samples: Vec<RuleSample>,
    store: &mut Store,
    settings: &Settings,
    ev: &mut Evaluation,
) {
    let r = &set.rules[ri];
    let ts = t - offset;
    let limit = set.groups[r.group].limit;
    // Buffers kept from the rule's previous tick (a tick path without allocation for them).
    let mut written = std::mem::take(&mut rt.written);
    written.clear();
    // Recorded native histograms (no buffer kept: most rules record floats).
    let mut written_h: Vec<(SeriesId, Arc<FloatHistogram>)> = Vec::new();
    match r.rule.kind {
        RuleKind::Recording => {
            let mut seen = std::mem::take(&mut rt.seen);
            seen.clear();
            for (si, lbls, v, h) in samples {
                let cached = (si != usize::MAX)
                    .then(|| rt.output_ids.get(&si).copied())
                    .flatten();
                let id = match cached {
                    Some(id) => id,
                    None => {
                        let mut b = lbls.builder();
                        b.set(METRIC_NAME, &r.rule.name.value);
                        for (k, val) in &r.labels {
                            if val.is_empty() {
                                b.del(k);
                            } else {
                                b.set(k, val);
                            }
                        }
                        let id = store.series_id(&b.build());
                        if si != usize::MAX {
                            rt.output_ids.insert(si, id);
                        }
                        id
                    }
                };
                if !seen.insert(id) {
                    ev.errors.push(RuleError {
                        rule: ri,
                        t,
                        message: "vector contains metrics with the same labelset after applying rule labels".into(),
                    });
                    return;
                }
                match h {
                    Some(h) => written_h.push((id, h)),
                    None => written.push((id, v)),
                }
            }
            rt.seen = seen;
            let n = written.len() + written_h.len();
            if limit > 0 && n > limit {
                ev.errors.push(RuleError {
                    rule: ri,
                    t,
                    message: format!("exceeded limit of {limit} with {n} series"),
                });
                return;
            }
        }
        RuleKind::Alerting => {
            let templated = r.labels.iter().any(|(_, v)| v.contains("{{"));
            let mut instances = Vec::with_capacity(samples.len());
            let mut seen = HashSet::with_capacity(samples.len());
            for (si, lbls, v, histogram) in samples {
                let payload = Payload {
                    sample_labels: lbls.clone(),
                    value: v,
                    histogram,
                    t,
                };
                let key = match (templated, rt.label_cache.get(&si)) {
                    (false, Some(k)) if si != usize::MAX => k.clone(),
                    _ => {
                        let k = alert_labels(r, &payload, settings);
                        if !templated && si != usize::MAX {
                            rt.label_cache.insert(si, k.clone());
                        }
                        k
                    }
                };
                if !seen.insert(key.clone()) {
                    ev.errors.push(RuleError {
                        rule: ri,
                        t,
                        message: "vector contains metrics with the same labelset after applying alert labels".into(),
                    });
                    return;
                }
                instances.push(Instance { key, payload });
            }
            let Some(state) = rt.alerts.as_mut() else {
                return;
            };
            if let Err(e) = state.eval(t, instances) {
                ev.errors.push(RuleError {
                    rule: ri,
                    t,
                    message: e.to_string(),
                });
            }
            for a in state.active() {
                let ids = rt.alert_ids.entry(a.key.clone()).or_default();
                let firing = a.state == super::alerting::State::Firing;
                let slot = if firing {
                    &mut ids.firing
                } else {
                    &mut ids.pending
                };
                let alerts_id = *slot.get_or_insert_with(|| {
                    let mut b = a.key.builder();
                    b.set(METRIC_NAME, "ALERTS");
                    b.set("alertstate", a.state.as_str());
                    store.series_id(&b.build())
                });
                let for_state_id = *ids.for_state.get_or_insert_with(|| {
                    let mut b = a.key.builder();
                    b.set(METRIC_NAME, "ALERTS_FOR_STATE");
                    store.series_id(&b.build())
                });
                written.push((alerts_id, 1.0));
                written.push((for_state_id, (a.active_at / 1000) as f64));
            }
        }
    }
    let mut current = std::mem::take(&mut rt.current);
    current.clear();
    for &(id, v) in &written {
        store.append_id(id, ts, v);
        current.insert(id);
    }
    for (id, h) in written_h {
        store.append_histogram_id(id, ts, h);
        current.insert(id);
    }
    for &gone in rt.previous.difference(&current) {
        store.append_id(gone, ts, stale_nan());
    }
    if let Some(touched) = rt.touched.as_mut() {
        touched.extend(current.iter().copied());
    }
    rt.current = std::mem::replace(&mut rt.previous, current);
    rt.written = written;
}

/// Alert labels: the sample's labels without `__name__`, the rule's labels (templated, an empty result
/// removes the label), and `alertname`.
fn alert_labels(r: &PreparedRule, p: &Payload, settings: &Settings) -> Labels {
    let mut b = p.sample_labels.builder();
    b.del(METRIC_NAME);
    for (k, v) in &r.labels {
        let value = if v.contains("{{") {
            let data = template_data(p, settings);
            expand_alert_template(&r.rule.name.value, v, &data, p.t, None).text
        } else {
            v.clone()
        };
        if value.is_empty() {
            b.del(k);
        } else {
            b.set(k, &value);
        }
    }
    b.set("alertname", &r.rule.name.value);
    b.build()
}

fn template_data(p: &Payload, settings: &Settings) -> AlertTemplateData {
    AlertTemplateData {
        labels: p
            .sample_labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        external_labels: settings.external_labels.clone(),
        external_url: settings.external_url.clone(),
        value: p.value,
        histogram: p.histogram.as_ref().map(|h| h.go_string()),
    }
}

/// Template `query` function over the evaluated store.
pub struct StoreQuery<'a> {
    pub store: &'a Store,
    pub engine: &'a Engine,
}

impl QueryFn for StoreQuery<'_> {
    fn query(&self, expr: &str, t_ms: i64) -> Result<Vec<QuerySample>, String> {
        let res = self
            .engine
            .instant_query(self.store, expr, t_ms)
            .map_err(|e| e.to_string())?;
        let to_map = |l: &Labels| {
            l.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Ok(match res.value {
            Value::Vector(v) => v
                .iter()
                .map(|s| QuerySample {
                    labels: to_map(&s.labels),
                    value: s.v,
                })
                .collect(),
            Value::Scalar { v, .. } => vec![QuerySample {
                labels: BTreeMap::new(),
                value: v,
            }],
            _ => return Err("query result is not a vector or scalar".into()),
        })
    }
}

/// Renders a rule's annotations for an alert payload, as Prometheus does when it evaluates the rule.
/// Returns the annotations and the template errors (Prometheus puts the error text in the annotation).
pub fn render_annotations(
    r: &PreparedRule,
    p: &Payload,
    settings: &Settings,
    query: Option<&dyn QueryFn>,
) -> (Vec<(String, String)>, Vec<String>) {
    let data = template_data(p, settings);
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (k, v) in &r.rule.annotations {
        let e = expand_alert_template(&r.rule.name.value, &v.value, &data, p.t, query);
        if let Some(err) = e.error {
            errors.push(format!("annotation {:?}: {err}", k.value));
        }
        out.push((k.value.clone(), e.text));
    }
    out.sort();
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::documents::{load_bytes, Loaded};
    use crate::load::rules::load_rule_file;
    use crate::series::fixture::load_block;

    fn rules(text: &str) -> RuleSet {
        let mut l = Loaded::default();
        load_bytes(Arc::from("r.yml"), text.as_bytes(), &mut l);
        let files: Vec<RuleFile> = l.items.iter().map(|i| load_rule_file(i).0).collect();
        RuleSet::prepare(&files, &[]).unwrap()
    }

    fn settings(end_ms: i64, interval_ms: i64, mode: Mode) -> Settings {
        Settings {
            start_ms: 0,
            end_ms,
            interval_ms,
            external_labels: BTreeMap::new(),
            external_url: String::new(),
            mode,
            episodes: true,
            snapshot_at: vec![],
            chunk_ticks: DEFAULT_CHUNK_TICKS,
        }
    }

    const RULES: &str = "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n  - alert: JobDown\n    expr: job:up:sum == 0\n    for: 2m\n    labels: {severity: page}\n";

    fn run(mode: Mode) -> (Evaluation, Store) {
        run_set(&rules(RULES), mode)
    }

    /// Evaluates `set` over 10 minutes of `up`: 1 for 3 minutes, 0 for 5 minutes, then 1 again.
    fn run_set(set: &RuleSet, mode: Mode) -> (Evaluation, Store) {
        let mut store = Store::new();
        load_block(
            "load 1m\n  up{job=\"a\",instance=\"x\"} 1 1 1 0 0 0 0 0 1 1 1\n",
            &mut store,
        )
        .unwrap();
        let engine = Engine::new(Default::default());
        let ev = evaluate(set, &mut store, &engine, &settings(600_000, 60_000, mode));
        (ev, store)
    }

    #[test]
    fn recording_output_feeds_alerts_at_the_same_tick() {
        let (ev, store) = run(Mode::Auto);
        assert!(ev.range_native);
        assert!(ev.errors.is_empty(), "{:?}", ev.errors);
        let alerts = ev.alerts[1].as_ref().unwrap();
        let eps = alerts.episodes();
        assert_eq!(eps.len(), 1);
        // job:up:sum == 0 from 3m; pending at 3m, firing at 5m (for 2m), resolved at 8m.
        assert_eq!(
            (eps[0].active_at, eps[0].fired_at, eps[0].resolved_at),
            (180_000, Some(300_000), Some(480_000))
        );
        assert_eq!(eps[0].key.get("severity"), Some("page"));
        assert_eq!(eps[0].key.get("alertname"), Some("JobDown"));
        assert_eq!(eps[0].key.get("job"), Some("a"));
        // ALERTS written while active; its series goes stale when the alert resolves.
        let engine = Engine::new(Default::default());
        let q = |e: &str, t: i64| match engine.instant_query(&store, e, t).unwrap().value {
            Value::Vector(v) => v
                .iter()
                .map(|s| (s.labels.to_string(), s.v))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(q("ALERTS", 240_000), vec![("ALERTS{alertname=\"JobDown\", alertstate=\"pending\", job=\"a\", severity=\"page\"}".to_string(), 1.0)]);
        assert_eq!(q("ALERTS{alertstate=\"firing\"}", 420_000).len(), 1);
        assert_eq!(q("ALERTS", 480_000), vec![]);
        assert_eq!(q("ALERTS_FOR_STATE", 420_000)[0].1, 180.0);
    }

    #[test]
    fn range_native_equals_per_tick() {
        let (a, sa) = run(Mode::Auto);
        let (b, sb) = run(Mode::PerTick);
        assert!(!b.range_native);
        assert_eq!(
            a.alerts[1].as_ref().unwrap().episodes(),
            b.alerts[1].as_ref().unwrap().episodes()
        );
        let dump = |s: &Store| {
            let mut v: Vec<String> = s.iter().map(|x| format!("{:?}", x)).collect();
            v.sort();
            v
        };
        assert_eq!(dump(&sa), dump(&sb));
    }

    /// `@ start()` in a rule is the tick itself (each tick is its own instant query), not the window's first
    /// tick; range-native evaluation must agree with per-tick.
    #[test]
    fn start_and_end_in_rules_are_the_tick() {
        let set = rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(up @ start()) + sum(up @ end())\n  - alert: Down\n    expr: up @ start() == 0\n  - record: s\n    expr: max_over_time((up @ 60)[2m:1m] offset -90s)\n");
        let (a, sa) = run_set(&set, Mode::Auto);
        let (b, sb) = run_set(&set, Mode::PerTick);
        assert!(a.range_native && a.errors.is_empty(), "{:?}", a.errors);
        let dump = |s: &Store| {
            let mut v: Vec<String> = s.iter().map(|x| format!("{:?}", x)).collect();
            v.sort();
            v
        };
        assert_eq!(dump(&sa), dump(&sb));
        let eps = a.alerts[1].as_ref().unwrap().episodes();
        assert_eq!(eps, b.alerts[1].as_ref().unwrap().episodes());
        // up is 0 from 3m to 7m: the alert follows it, where the window's first tick (up = 1) would never fire.
        assert_eq!(eps.len(), 1);
        assert_eq!(
            (eps[0].active_at, eps[0].resolved_at),
            (180_000, Some(480_000))
        );
    }

    #[test]
    fn rules_reading_recorded_series_wait_for_their_turn() {
        let set = rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(up)\n  - alert: OnInput\n    expr: up == 0\n  - alert: OnRecorded\n    expr: r < 1\n  - alert: OnInput2\n    expr: rate(c[5m]) > 1\n");
        let names: Vec<&str> = set
            .independent_of_recordings()
            .into_iter()
            .map(|i| set.rules[i].rule.name.value.as_str())
            .collect();
        assert_eq!(names, vec!["r", "OnInput", "OnInput2"]);
    }

    #[test]
    fn one_thread_and_many_give_the_same_evaluation() {
        // RULES has a recording rule and an alert on it; add alerts on the input so that several rules
        // are evaluated side by side.
        let text = format!("{RULES}  - alert: Up\n    expr: up > 0\n  - alert: Down\n    expr: up == 0\n    for: 1m\n");
        let set = rules(&text);
        assert_eq!(set.independent_of_recordings().len(), 3);
        let run_with = |threads: usize| {
            let (ev, _) = crate::parallel::with_threads(threads, || run_set(&set, Mode::Auto));
            assert!(ev.range_native && ev.errors.is_empty());
            let mut episodes: Vec<String> = ev
                .alerts
                .iter()
                .flatten()
                .flat_map(|a| a.episodes())
                .map(|e| {
                    format!(
                        "{:?}",
                        (e.key.to_string(), e.active_at, e.fired_at, e.resolved_at)
                    )
                })
                .collect();
            episodes.sort();
            episodes
        };
        let one = run_with(1);
        assert!(!one.is_empty());
        assert_eq!(one, run_with(4));
    }

    #[test]
    fn reading_a_later_rule_or_alerts_forces_per_tick() {
        let later = rules("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: r > 0\n  - record: r\n    expr: up\n");
        assert!(!later.range_safe());
        let alerts = rules("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: ALERTS > 0\n");
        assert!(!alerts.range_safe());
        let nameless = rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n  - alert: A\n    expr: '{job=\"a\"} > 0'\n");
        assert!(!nameless.range_safe());
        assert!(rules(RULES).range_safe());
        // Why, per rule.
        assert_eq!(
            later.tick_reasons(),
            vec![Some(TickReason::ReadsLaterRecording("r".into())), None]
        );
        assert_eq!(
            alerts.tick_reasons()[0]
                .as_ref()
                .map(|r| r.to_string())
                .as_deref(),
            Some("reads `ALERTS`")
        );
        assert_eq!(
            nameless.tick_reasons(),
            vec![None, Some(TickReason::NamelessSelector)]
        );
        // A selector without a metric name reads the rules its matchers on `__name__` (and `alertname`) allow.
        let by_matchers = rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n  - alert: OnInput\n    expr: '{__name__=~\"up|node_.*\"} == 0'\n  - alert: OnEarlier\n    expr: '{__name__=~\"r|x\"} == 0'\n  - alert: OnLater\n    expr: '{__name__=~\"s.*\"} == 0'\n  - alert: OnOtherAlerts\n    expr: '{__name__=\"ALERTS\", alertname=\"OnInput\"} == 0'\n  - record: s\n    expr: up\n");
        assert_eq!(
            by_matchers.tick_reasons(),
            vec![
                None,
                None,
                None,
                Some(TickReason::NamelessSelector),
                Some(TickReason::ReadsAlerts("ALERTS".into())),
                None
            ]
        );
        let ahead = rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n  - alert: A\n    expr: r offset -1m > 0\n");
        assert_eq!(
            ahead.tick_reasons(),
            vec![None, Some(TickReason::ReadsRecordingAhead("r".into()))]
        );
        let itself = rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: r + 1\n");
        assert_eq!(
            itself.tick_reasons(),
            vec![Some(TickReason::ReadsLaterRecording("r".into()))]
        );
    }

    #[test]
    fn only_the_rules_that_need_the_ticks_run_tick_by_tick() {
        use Run::*;
        let set = rules("groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n  - alert: E\n    expr: c > 0\n  - record: b\n    expr: a * 2\n  - record: c\n    expr: b + 1\n  - record: d\n    expr: c * 2\n");
        // E reads c, written after it: E per tick; c answered before the loop and hidden from E up to its place
        // in each tick; a, b and d (which reads c at or before the tick) before the loop.
        assert_eq!(
            set.schedule(),
            Some(vec![Before, Tick, Before, Ahead, Before])
        );
        assert_eq!(rules(RULES).schedule(), None);
        let ahead = rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n  - record: x\n    expr: up\n  - alert: A\n    expr: r offset -1m > 0\n");
        assert_eq!(ahead.schedule(), Some(vec![Ahead, Before, Tick]));
        // y reads w, both read by alerts before them: both ahead.
        let chain = rules("groups:\n- name: g\n  rules:\n  - alert: E\n    expr: y > 0\n  - alert: F\n    expr: w > 0\n  - record: w\n    expr: up\n  - record: y\n    expr: w * 2\n");
        assert_eq!(chain.schedule(), Some(vec![Tick, Tick, Ahead, Ahead]));
        // z reads the ticked x: after the loop, unless a ticked rule needs it, which then ticks too.
        let after = rules("groups:\n- name: g\n  rules:\n  - record: x\n    expr: x + 1\n  - record: z\n    expr: x * 2\n");
        assert_eq!(after.schedule(), Some(vec![Tick, After]));
        let needed = rules("groups:\n- name: g\n  rules:\n  - alert: E\n    expr: z > 0\n  - record: x\n    expr: x + 1\n  - record: z\n    expr: x * 2\n");
        assert_eq!(needed.schedule(), Some(vec![Tick, Tick, Tick]));
        // A group with the larger query_offset stamps its output before the tick that writes it.
        let lagging = rules("groups:\n- name: w\n  query_offset: 1m\n  rules:\n  - record: r\n    expr: up\n- name: rd\n  rules:\n  - record: s\n    expr: r\n- name: same\n  query_offset: 1m\n  rules:\n  - record: u\n    expr: r\n");
        assert_eq!(
            lagging.tick_reasons(),
            vec![
                None,
                Some(TickReason::ReadsLaggingRecording {
                    name: "r".into(),
                    group: "w".into()
                }),
                None
            ]
        );
        // u (same offset as r) reads r without lag.
        assert_eq!(lagging.schedule(), Some(vec![Ahead, Tick, Before]));
    }

    /// A rule reading a group with a larger `query_offset` sees, at each tick, only what that group has
    /// written by then (its samples are stamped a minute before the tick that writes them).
    #[test]
    fn output_of_a_group_with_a_larger_query_offset_is_read_as_written() {
        let set = rules("groups:\n- name: w\n  query_offset: 1m\n  rules:\n  - record: r\n    expr: up\n- name: rd\n  rules:\n  - record: s\n    expr: r\n");
        let dump = |mode| {
            let (_, store) = run_set(&set, mode);
            let mut v: Vec<String> = store
                .iter()
                .map(|x| format!("{} {:?}", x.labels, x.samples))
                .collect();
            v.sort();
            v
        };
        let auto = dump(Mode::Auto);
        assert_eq!(auto, dump(Mode::PerTick));
        // r is stamped at 0 by the tick at 1m, so s (no offset) first reads it at 1m, not at 0.
        assert!(
            auto.iter()
                .any(|l| l.starts_with("s{") && l.contains("} [(60000, 1.0)")),
            "{auto:?}"
        );
    }

    #[test]
    fn duplicate_alert_labelsets_are_errors() {
        let set = rules("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels: {instance: same}\n");
        let mut store = Store::new();
        load_block(
            "load 1m\n  up{instance=\"x\"} 1\n  up{instance=\"y\"} 1\n",
            &mut store,
        )
        .unwrap();
        let ev = evaluate(
            &set,
            &mut store,
            &Engine::new(Default::default()),
            &settings(0, 60_000, Mode::Auto),
        );
        assert_eq!(ev.errors.len(), 1);
        assert_eq!(
            ev.errors[0].message,
            "vector contains metrics with the same labelset after applying alert labels"
        );
    }

    #[test]
    fn recorded_series_go_stale_when_they_disappear() {
        let set = rules("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up > 0\n");
        let mut store = Store::new();
        load_block("load 1m\n  up 1 1 0 0\n", &mut store).unwrap();
        let engine = Engine::new(Default::default());
        evaluate(
            &set,
            &mut store,
            &engine,
            &settings(180_000, 60_000, Mode::Auto),
        );
        let res = engine.instant_query(&store, "r", 150_000).unwrap();
        // The stale marker at 2m hides the 1m sample at 2m30s (lookback would otherwise find it).
        assert_eq!(res.value, Value::Vector(vec![]));
    }
}

/// Property: range-native evaluation equals per-tick evaluation, on generated series and rule sets.
#[cfg(test)]
mod modes_agree {
    use super::*;
    use crate::load::documents::{load_bytes, Loaded};
    use crate::load::rules::load_rule_file;
    use proptest::prelude::*;

    const EXPRS: &[&str] = &[
        "g > {t}",
        "g < {t}",
        "sum by (job) (g) > {t}",
        "rate(c[2m]) > {t} / 10",
        "avg_over_time(g[3m]) >= {t}",
        "r:g:sum > {t}",
        "r:c:rate > {t} / 20",
        "max_over_time(g[1m]) > {t} unless g < 1",
        "g * on(job, instance) group_left c > {t}",
        "absent(g{job=\"none\"}) * {t}",
        "last_over_time(g[2m] offset 7m) > {t}",
        "max_over_time(rate(c[1m])[4m:1m] offset 1m) > {t} / 10",
    ];

    fn rule_file(alerts: &[(usize, u8, u8, u8)]) -> String {
        let mut s = String::from(
            "groups:\n- name: rec\n  rules:\n  - record: r:g:sum\n    expr: sum by (job) (g)\n  - record: r:c:rate\n    expr: rate(c[2m])\n- name: alerts\n  rules:\n",
        );
        for (i, (e, t, f, k)) in alerts.iter().enumerate() {
            let expr = EXPRS[*e % EXPRS.len()].replace("{t}", &t.to_string());
            s.push_str(&format!(
                "  - alert: A{i}\n    expr: '{expr}'\n    for: {}s\n    keep_firing_for: {}s\n    labels: {{n: \"{i}\"}}\n",
                u32::from(*f % 4) * 30,
                u32::from(*k % 3) * 30
            ));
        }
        s
    }

    fn run(
        text: &str,
        series: &[(String, Vec<Option<f64>>)],
        mode: Mode,
        chunk_ticks: usize,
        compact: bool,
    ) -> (Vec<String>, Vec<String>, Vec<String>) {
        let mut l = Loaded::default();
        load_bytes(Arc::from("p.yml"), text.as_bytes(), &mut l);
        let files: Vec<RuleFile> = l.items.iter().map(|i| load_rule_file(i).0).collect();
        let set = RuleSet::prepare(&files, &[]).unwrap();
        let mut store = if compact {
            Store::with_compact_history()
        } else {
            Store::new()
        };
        for (desc, vals) in series {
            let labels = crate::series::notation::parse_series_descriptor(desc).unwrap();
            for (i, v) in vals.iter().enumerate() {
                if let Some(v) = v {
                    store.append(&labels, i as i64 * 30_000, *v);
                }
            }
        }
        let settings = Settings {
            start_ms: 0,
            end_ms: 20 * 60_000,
            interval_ms: 30_000,
            external_labels: BTreeMap::new(),
            external_url: String::new(),
            mode,
            episodes: true,
            snapshot_at: vec![],
            chunk_ticks,
        };
        let ev = evaluate(
            &set,
            &mut store,
            &Engine::new(Default::default()),
            &settings,
        );
        if !text.contains("- name: late") {
            assert_eq!(
                ev.range_native,
                mode == Mode::Auto,
                "the generated rule sets are all range-safe"
            );
        }
        let mut eps: Vec<String> = ev
            .alerts
            .iter()
            .flatten()
            .flat_map(|a| a.episodes())
            .map(|e| {
                format!(
                    "{} {} {:?} {:?} {}",
                    e.key, e.active_at, e.fired_at, e.resolved_at, e.payload.value
                )
            })
            .collect();
        eps.sort();
        store.set_window(i64::MIN, i64::MAX);
        let mut dump: Vec<String> = store
            .iter()
            .map(|s| format!("{} {:?}", s.labels, s.samples))
            .collect();
        dump.sort();
        let mut errs: Vec<String> = ev
            .errors
            .iter()
            .map(|e| format!("{} {} {}", e.rule, e.t, e.message))
            .collect();
        errs.sort();
        (eps, dump, errs)
    }

    fn series_strategy() -> impl Strategy<Value = Vec<(String, Vec<Option<f64>>)>> {
        let gauge = prop::collection::vec(prop::option::weighted(0.9, 0u8..20), 41);
        let counter_steps = prop::collection::vec(prop::option::weighted(0.9, 0u8..5), 41);
        (gauge.clone(), gauge, counter_steps).prop_map(|(g1, g2, c)| {
            let mut acc = 0.0;
            let counter: Vec<Option<f64>> = c
                .iter()
                .map(|s| {
                    s.map(|x| {
                        acc += f64::from(x);
                        acc
                    })
                })
                .collect();
            let f =
                |v: Vec<Option<u8>>| v.into_iter().map(|x| x.map(f64::from)).collect::<Vec<_>>();
            vec![
                ("g{job=\"a\",instance=\"1\"}".to_string(), f(g1)),
                ("g{job=\"b\",instance=\"2\"}".to_string(), f(g2)),
                ("c{job=\"a\",instance=\"1\"}".to_string(), counter),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn range_native_equals_per_tick(
            series in series_strategy(),
            alerts in prop::collection::vec((0usize..12, 0u8..20, any::<u8>(), any::<u8>()), 1..5),
            chunk in 1usize..16,
        ) {
            let text = rule_file(&alerts);
            let a = run(&text, &series, Mode::Auto, DEFAULT_CHUNK_TICKS, false);
            let b = run(&text, &series, Mode::PerTick, DEFAULT_CHUNK_TICKS, false);
            prop_assert_eq!(&a, &b);
            // The 41 ticks in pieces of `chunk`: every rule over a piece before the next piece.
            let c = run(&text, &series, Mode::Auto, chunk, false);
            prop_assert_eq!(&a, &c);
            // Over a store with compact history, which shows each piece only the samples its rules read.
            prop_assert_eq!(&c, &run(&text, &series, Mode::Auto, chunk, true));
            prop_assert_eq!(&a, &run(&text, &series, Mode::PerTick, chunk, true));
        }

        /// Rule sets with rules that need the ticks (alerts reading recordings written later, one of which
        /// comes and goes, an alert reading `ALERTS`, an alert reading a group with a larger query offset, two
        /// recordings reading each other): those run tick by tick, the rules they read answered ahead and
        /// hidden up to their place in each tick, or ticked with them, the others as range queries before and
        /// after the loop ([`RuleSet::schedule`]), and the answers are the per-tick ones.
        #[test]
        fn ticked_rules_among_range_queries_equal_per_tick(
            series in series_strategy(),
            alerts in prop::collection::vec((0usize..12, 0u8..20, any::<u8>(), any::<u8>()), 1..4),
            variant in 0u8..3,
            t in 0u8..20,
            chunk in 1usize..16,
            offset in 0u8..3,
        ) {
            let early = if variant != 1 {
                format!("- name: early\n  rules:\n  - alert: Early\n    expr: r:late > {t}\n    for: 30s\n  - alert: EarlyFlap\n    expr: r:flap > {t} / 2\n  - alert: EarlyByMatchers\n    expr: '{{__name__=~\"r:fl.*\"}} > {t}'\n")
            } else {
                String::new()
            };
            let meta = if variant != 0 {
                "  - alert: Meta\n    expr: count(ALERTS{alertstate=\"firing\"}) > 0\n"
            } else {
                ""
            };
            let base = rule_file(&alerts);
            let text = format!(
                "groups:\n{early}{}- name: late\n  query_offset: {}s\n  rules:\n{meta}  - record: r:late\n    expr: r:g:sum * 2\n  - record: r:after\n    expr: r:late + r:c:rate\n  - alert: After\n    expr: r:after > {t}\n  - record: r:flap\n    expr: g > 8\n  - record: r:prev\n    expr: (r:next + 1) or on(job) r:g:sum\n  - record: r:next\n    expr: r:prev % 7\n  - alert: Cycle\n    expr: r:next > 3\n- name: tail\n  rules:\n  - alert: Tail\n    expr: r:late > {t} / 2\n  - alert: ByMatchers\n    expr: 'label_replace({{__name__=~\"r:late|r:g:sum\"}}, \"src\", \"$1\", \"__name__\", \"(.*)\") > {t}'\n",
                base.trim_start_matches("groups:\n"),
                u32::from(offset) * 30,
            );
            let a = run(&text, &series, Mode::Auto, DEFAULT_CHUNK_TICKS, false);
            let b = run(&text, &series, Mode::PerTick, DEFAULT_CHUNK_TICKS, false);
            prop_assert_eq!(&a, &b);
            let c = run(&text, &series, Mode::Auto, chunk, false);
            prop_assert_eq!(&a, &c);
            // Over a store with compact history, which shows each piece only the samples its rules read.
            prop_assert_eq!(&c, &run(&text, &series, Mode::Auto, chunk, true));
            prop_assert_eq!(&a, &run(&text, &series, Mode::PerTick, chunk, true));
        }
    }
}
