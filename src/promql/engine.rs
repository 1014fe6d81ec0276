//! The evaluator. Every query is evaluated over a list of step timestamps in one pass: an instant query is
//! a range of one step, a range query evaluates each node once for all its steps, and a subquery evaluates
//! its inner expression once over the union of its windows' steps. Selectors read each series' samples
//! once and find each step's sample or window with pointers that only move forward.
//!
//! Internally an instant-vector expression is a list of series, each with one optional value per step;
//! a range-vector argument is a list of series with their samples and, per step, the window into them.

pub(crate) use super::context::{
    coarse_now_ns, drop_metric_name, qerr, selector_matchers, Context, RangeArg, RangeSeries,
    StepHists, StepSeries, Val,
};
pub use super::context::{EngineOptions, EvalError};

use super::aggregate;
use super::binary;
use super::functions;
use super::histogram_stats::stats_hints;
use super::parse::{parse_for_query, Expr};
use super::syntax::ast::{At, VectorSelector};
use super::value::{QueryResult, Sample, Series, Value};
use crate::semantics::Difference;
use crate::series::histogram::FloatHistogram;
use crate::series::labels::FxBuild;
use crate::series::store::HistogramSamples;
use crate::series::{is_stale, Labels, Store};
use std::collections::HashMap;
use std::sync::Arc;

/// The narrow view functions, aggregations and binary operators get; each method is the evaluator's own.
impl Context for Ev<'_> {
    fn opts(&self) -> &EngineOptions {
        self.opts
    }
    fn store(&self) -> &Store {
        self.store
    }
    fn start(&self) -> i64 {
        self.start
    }
    fn end(&self) -> i64 {
        self.end
    }
    fn step(&self) -> i64 {
        self.step
    }
    fn is_range(&self) -> bool {
        self.is_range
    }
    fn call_start(&self) -> usize {
        self.call_start
    }
    fn pos_at(&self, at: usize) -> String {
        Ev::pos_at(self, at)
    }
    fn warn(&mut self, msg: String) {
        Ev::warn(self, msg)
    }
    fn info(&mut self, msg: String) {
        Ev::info(self, msg)
    }
    fn check_deadline(&self) -> Result<(), EvalError> {
        Ev::check_deadline(self)
    }
    fn eff_times(&self, at: &Option<At>, off: i64, ts: &[i64]) -> Vec<i64> {
        Ev::eff_times(self, at, off, ts)
    }
    fn eval(&mut self, e: &Expr, ts: &[i64]) -> Result<Val, EvalError> {
        Ev::eval(self, e, ts)
    }
    fn eval_vector_selector(
        &mut self,
        vs: &VectorSelector,
        ts: &[i64],
        want_ts: bool,
    ) -> Result<(Vec<StepSeries>, Vec<Vec<i64>>), EvalError> {
        Ev::eval_vector_selector(self, vs, ts, want_ts)
    }
    fn eval_timestamp_pinned(
        &mut self,
        vs: &VectorSelector,
        at: &At,
        ts: &[i64],
    ) -> Result<Vec<StepSeries>, EvalError> {
        Ev::eval_timestamp_pinned(self, vs, at, ts)
    }
    fn label_order(&self) -> bool {
        self.label_order
    }
    fn set_label_order(&mut self, on: bool) {
        self.label_order = on;
    }
    fn stats_path(&self) -> super::histogram_stats::StatsPath {
        self.stats_path
    }
    fn set_stats_path(&mut self, path: super::histogram_stats::StatsPath) {
        self.stats_path = path;
    }
}

/// State of one query's evaluation.
pub(crate) struct Ev<'a> {
    pub store: &'a Store,
    pub opts: &'a EngineOptions,
    /// Query start and end (for `@ start()` / `@ end()`).
    pub start: i64,
    pub end: i64,
    pub step: i64,
    pub is_range: bool,
    pub text: &'a str,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
    pub samples: usize,
    /// When the query's time is up (from `EngineOptions::timeout`).
    /// On [`coarse_now_ns`]'s clock.
    pub deadline: Option<u64>,
    /// Inside a subquery: how Prometheus last set the offsets of `@` selectors there (`None`: the top level).
    pub at_level: Option<AtLevel>,
    /// Set while the arguments of a call that Prometheus 2 (before 2.51) does not treat as step-invariant
    /// are evaluated: its `@` range argument then slides with the step ([`slides_at_ranges`]).
    pub slide_at_ranges: bool,
    /// Set while the argument of `topk`, `bottomk` or `limitk` is evaluated: selectors then return their series
    /// in label order, the order Prometheus reads them from a TSDB block, which decides among equal values.
    pub label_order: bool,
    /// Where the function call being evaluated starts in the query text (for annotations' positions).
    pub call_start: usize,
    /// Whether selectors evaluated now read histograms for their statistics only, with the counter-reset
    /// hints that gives them ([`super::histogram_stats`]).
    pub stats_path: super::histogram_stats::StatsPath,
}

/// Whether Prometheus 2 before 2.51 evaluates this call's range selector with `@` in a window that slides
/// with the step (a bug fixed by 2.51's "Fix wrongly scoped range vectors", prometheus#13559): the call is not
/// step-invariant (a function that reads the evaluation time, or an argument that changes per step), so it is
/// evaluated at every step, and the window's end is taken as `step - offset` with the offset computed once for
/// the first step; the storage, asked only for the `@` window, cuts it at that window's end. So
/// `predict_linear(x[5m] @ T, 60)` over a range query from `start` sees `(T - 5m + (t - start), T]` at step `t`
/// (closed on the left, as 2.x's windows are). A subquery with `@` in that place is not reproduced: it is
/// answered as Prometheus 3 does (docs/semantics.md).
pub(crate) fn slides_at_ranges(func: &str, args: &[Expr]) -> bool {
    STEP_VARIANT_2_42.contains(&func) || !args.iter().all(step_invariant_2_42)
}

/// The functions whose value Prometheus 2.42 treats as changing with the step (they read the evaluation time).
const STEP_VARIANT_2_42: [&str; 11] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
];

/// Prometheus 2.42's `preprocessExprHelper`: whether `e` has the same value at every step (every node
/// is, walked with a stack of its own).
fn step_invariant_2_42(e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Vector(vs) if vs.at.is_none() => return false,
            Expr::Matrix { selector, .. } if selector.at.is_none() => return false,
            Expr::Subquery { at: None, .. } => return false,
            Expr::Vector(_) | Expr::Matrix { .. } | Expr::Subquery { .. } => {}
            // 2.42 looks at the aggregated expression only, not at a parameter such as topk's k.
            Expr::Aggregate { expr, .. } | Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => {
                stack.push(expr)
            }
            Expr::Binary { lhs, rhs, .. } => {
                stack.push(rhs);
                stack.push(lhs);
            }
            Expr::Call { func, args, .. } => {
                if STEP_VARIANT_2_42.contains(&func.as_str()) {
                    return false;
                }
                stack.extend(args.iter());
            }
            Expr::Number { .. } | Expr::String { .. } => {}
        }
    }
    true
}

/// The `anchored` / `smoothed` modifiers are read but not evaluated yet: the error for a selector holding one.
fn unsupported_modifier(vs: &VectorSelector, what: &str) -> Option<EvalError> {
    let word = match (vs.anchored, vs.smoothed) {
        (true, _) => "anchored",
        (_, true) => "smoothed",
        _ => return None,
    };
    Some(EvalError::Unsupported(format!("the {word} {what}")))
}

/// Where the `@` selectors of one evaluation level read, as Prometheus computes it (a quirk reproduced, not
/// fixed). Prometheus turns `@ T` into an offset once, against the query start and the offsets of every
/// enclosing subquery (`setOffsetForAtModifier`); each subquery then recomputes it against its own start,
/// except when that start equals its parent's (`runSubquery` skips it). In that case the offsets stay the
/// ones computed for the level above, so `x @ T` inside `(...)[r:s] offset -d` reads at `T - d`, not `T`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AtLevel {
    /// The first time this level's evaluator runs at.
    pub start: i64,
    /// The evaluation time the offsets were last computed against.
    pub eval_time: i64,
    /// Sum of the subquery offsets between that computation and this level (since the last subquery
    /// pinned with `@`, whose time is `path_at`).
    pub path_offset: i64,
    pub path_at: Option<i64>,
}

impl AtLevel {
    /// How much later than `T - offset` an `@ T` selector at this level reads.
    fn shift(&self) -> i64 {
        self.start - self.eval_time
            + self.path_offset
            + self.path_at.map_or(0, |a| self.eval_time - a)
    }
}

impl<'a> Ev<'a> {
    /// `(line:col)` of byte `at` of the query text, as Prometheus appends to annotations.
    pub fn pos_at(&self, at: usize) -> String {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
        format!("({line}:{col})")
    }

    pub fn warn(&mut self, msg: String) {
        if !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }

    pub fn info(&mut self, msg: String) {
        if !self.infos.contains(&msg) {
            self.infos.push(msg);
        }
    }

    pub fn add_samples(&mut self, n: usize) -> Result<(), EvalError> {
        self.samples = self.samples.saturating_add(n);
        if self.samples > self.opts.max_samples {
            return Err(self.too_many_samples());
        }
        Ok(())
    }

    pub fn too_many_samples(&self) -> EvalError {
        EvalError::TooManySamples {
            limit: self.opts.max_samples,
        }
    }

    /// Fails once the query's time is up. Called per expression node and per series in the loops that
    /// read data, so a query over a huge store stops close to its deadline.
    pub fn check_deadline(&self) -> Result<(), EvalError> {
        match (self.deadline, self.opts.timeout) {
            (Some(d), Some(timeout)) if coarse_now_ns() >= d => Err(EvalError::Timeout { timeout }),
            _ => Ok(()),
        }
    }

    /// How far windows reach past their left edge: 0 for Prometheus 3's left-open windows, 1 ms for
    /// Prometheus 2's closed ones (`[t-r, t]` is `(t-r-1ms, t]` in integer milliseconds).
    fn edge(&self) -> i64 {
        i64::from(self.opts.prometheus2(Difference::ClosedWindows))
    }

    /// Per step, the time a selector or subquery with these modifiers reads at.
    pub fn eff_times(&self, at: &Option<At>, off: i64, ts: &[i64]) -> Vec<i64> {
        match at {
            None => ts.iter().map(|t| t - off).collect(),
            Some(a) => vec![self.at_time(a) - off + self.at_level().shift(); ts.len()],
        }
    }

    /// The time `@ start()`, `@ end()` or `@ T` stands for.
    fn at_time(&self, a: &At) -> i64 {
        match a {
            At::Start => self.start,
            At::End => self.end,
            At::Time(ms) => *ms,
        }
    }

    /// A function call; its range argument slides under Prometheus 2 when [`slides_at_ranges`] says so.
    fn eval_call(
        &mut self,
        func: &str,
        args: &[Expr],
        start: usize,
        ts: &[i64],
    ) -> Result<Val, EvalError> {
        // Prometheus refuses the range modifiers on functions they do not fit when it evaluates the call.
        for a in args {
            if let Expr::Matrix { selector, .. } = a {
                let (word, safe): (&str, &[&str]) = if selector.anchored {
                    (
                        "anchored",
                        &["changes", "delta", "increase", "rate", "resets"],
                    )
                } else if selector.smoothed {
                    ("smoothed", &["delta", "increase", "rate"])
                } else {
                    continue;
                };
                if !safe.contains(&func) {
                    return Err(qerr(format!(
                        "{word} modifier can only be used with: {} - not with {func}",
                        safe.join(", ")
                    )));
                }
            }
        }
        let slide =
            self.opts.prometheus2(Difference::SlidingAtRanges) && slides_at_ranges(func, args);
        let saved = std::mem::replace(&mut self.slide_at_ranges, slide);
        let saved_start = std::mem::replace(&mut self.call_start, start);
        let saved_path = self.stats_path;
        self.stats_path = saved_path.into_call(func);
        let r = functions::eval_call(self, func, args, ts);
        self.slide_at_ranges = saved;
        self.call_start = saved_start;
        self.stats_path = saved_path;
        r
    }

    /// Moves `@` window ends with the step when the enclosing call's range argument slides
    /// ([`slides_at_ranges`]).
    fn slide(&self, ends: &mut [i64], ts: &[i64]) {
        if self.slide_at_ranges {
            let start = self.at_level().start;
            for (e, t) in ends.iter_mut().zip(ts) {
                *e += t - start;
            }
        }
    }

    fn at_level(&self) -> AtLevel {
        self.at_level.unwrap_or(AtLevel {
            start: self.start,
            eval_time: self.start,
            path_offset: 0,
            path_at: None,
        })
    }

    /// Evaluates one node at every step; checks the deadline before and after, so the time a slow node
    /// took is noticed before its parent starts.
    pub fn eval(&mut self, e: &Expr, ts: &[i64]) -> Result<Val, EvalError> {
        self.check_deadline()?;
        let v = self.eval_node(e, ts)?;
        self.check_deadline()?;
        Ok(v)
    }

    fn eval_node(&mut self, e: &Expr, ts: &[i64]) -> Result<Val, EvalError> {
        match e {
            Expr::Number { value, .. } => Ok(Val::Scalar(vec![*value; ts.len()])),
            Expr::String { value, .. } => Ok(Val::Str(value.clone())),
            Expr::Paren { expr, .. } => self.eval(expr, ts),
            Expr::Unary { op, expr, .. } => match self.eval(expr, ts)? {
                // `+x` is `x` (the parser keeps the sign only to print the query as written).
                v if *op == super::syntax::TokenKind::Add => Ok(v),
                Val::Scalar(v) => Ok(Val::Scalar(v.into_iter().map(|x| -x).collect())),
                Val::Vector(mut vs) => {
                    for s in &mut vs {
                        s.drop_name = true;
                        for v in s.vals.iter_mut().flatten() {
                            *v = -*v;
                        }
                        for h in s.hists.iter_mut().flatten() {
                            Arc::make_mut(h).mul(-1.0);
                        }
                    }
                    Ok(Val::Vector(vs))
                }
                other => Err(qerr(format!("unary expression only allowed on expressions of type scalar or instant vector, got {}", other.type_name()))),
            },
            Expr::Binary { .. } => binary::eval_binary(self, e, ts),
            Expr::Aggregate { .. } => aggregate::eval_aggregate(self, e, ts),
            Expr::Call { func, args, span } => match self.eval_call(func, args, span.start, ts)? {
                // Without delayed name removal a function that drops names can make two series one;
                // Prometheus's rangeEval refuses that at once ("vector cannot contain metrics with the
                // same labelset"), where delayed removal would only merge them at the end.
                Val::Vector(vs) if !self.opts.delayed_name_removal => {
                    Ok(Val::Vector(finalize_names(vs, self.opts)?))
                }
                other => Ok(other),
            },
            Expr::Vector(vs) => Ok(Val::Vector(self.eval_vector_selector(vs, ts, false)?.0)),
            Expr::Matrix {
                selector, range_ms, ..
            } => {
                if let Some(e) = unsupported_modifier(selector, "range modifier") {
                    return Err(e);
                }
                let eff = self.eff_times(&selector.at, selector.offset_ms, ts);
                let range = *range_ms;
                if selector.at.is_none() || !self.slide_at_ranges {
                    return Ok(Val::Range(self.eval_matrix_selector(selector, range, eff)?));
                }
                let mut slid = eff.clone();
                self.slide(&mut slid, ts);
                let mut r = self.eval_matrix_selector(selector, range, slid)?;
                // The storage was asked only up to the `@` window's end, so a slid window holds the samples
                // between its own start and that end.
                for s in &mut r.series {
                    for (w, &end) in s.win.iter_mut().zip(&eff) {
                        let cap = s.samples.partition_point(|(t, _)| *t <= end);
                        w.1 = w.1.min(cap);
                        w.0 = w.0.min(w.1);
                    }
                }
                Ok(Val::Range(r))
            }
            Expr::Subquery { .. } => Ok(Val::Range(self.eval_subquery(e, ts)?)),
        }
    }

    /// Evaluates a vector selector; with `want_ts`, also returns each step's sample timestamp.
    #[allow(clippy::type_complexity)]
    pub fn eval_vector_selector(
        &mut self,
        vs: &VectorSelector,
        ts: &[i64],
        want_ts: bool,
    ) -> Result<(Vec<StepSeries>, Vec<Vec<i64>>), EvalError> {
        if let Some(e) = unsupported_modifier(vs, "modifier") {
            return Err(e);
        }
        let eff = self.eff_times(&vs.at, vs.offset_ms, ts);
        let lookback = self.opts.lookback_delta_ms;
        let edge = self.edge();
        let mut out = Vec::new();
        let mut out_ts = Vec::new();
        // Nothing after the last step is read: below it, hidden samples need no search to cut them off.
        let last_step = eff.iter().copied().max().unwrap_or(i64::MIN);
        for id in self.select(vs)? {
            self.check_deadline()?;
            let Some(s) = self.store.get(id) else {
                continue;
            };
            let samples = s.visible_through(last_step);
            let refined;
            let mut hs = s.visible_histograms_through(last_step);
            if self.stats_path.reads_stats() && !hs.is_empty() {
                if let Some(r) = stats_hints(hs, &eff, lookback + edge - 1) {
                    refined = r;
                    hs = &refined;
                }
            }
            let mut vals = Vec::with_capacity(eff.len());
            let mut hists = if hs.is_empty() {
                Vec::new()
            } else {
                Vec::with_capacity(eff.len())
            };
            let mut tss = if want_ts {
                Vec::with_capacity(eff.len())
            } else {
                Vec::new()
            };
            let mut any = false;
            let mut p = 0usize; // number of float samples with t <= current time
            let mut q = 0usize; // number of histogram samples with t <= current time
            let mut last_t = i64::MIN;
            if hs.is_empty() {
                // Floats only (the common case).
                for &t in &eff {
                    // The first step (and any step back in time) searches; later steps walk forward, so one
                    // query costs the samples it spans, not the series' length.
                    if last_t == i64::MIN || t < last_t {
                        p = s.position_after(samples, t);
                    } else {
                        while p < samples.len() && samples[p].0 <= t {
                            p += 1;
                        }
                    }
                    last_t = t;
                    let v = if p > 0 {
                        let (st, sv) = samples[p - 1];
                        // Prometheus 3: the lookback window is left-open; Prometheus 2: closed.
                        if st > t - lookback - edge && !is_stale(sv) {
                            if want_ts {
                                tss.push(st);
                            }
                            Some(sv)
                        } else {
                            if want_ts {
                                tss.push(0);
                            }
                            None
                        }
                    } else {
                        if want_ts {
                            tss.push(0);
                        }
                        None
                    };
                    any |= v.is_some();
                    vals.push(v);
                }
            } else {
                for &t in &eff {
                    // The first step (and any step back in time) searches; later steps walk forward, so one
                    // query costs the samples it spans, not the series' length.
                    if last_t == i64::MIN || t < last_t {
                        p = samples.partition_point(|(st, _)| *st <= t);
                        q = hs.partition_point(|(st, _)| *st <= t);
                    } else {
                        while p < samples.len() && samples[p].0 <= t {
                            p += 1;
                        }
                        while q < hs.len() && hs[q].0 <= t {
                            q += 1;
                        }
                    }
                    last_t = t;
                    let float = p.checked_sub(1).map(|k| samples[k]);
                    let hist = q.checked_sub(1).map(|k| &hs[k]);
                    // The latest sample of either kind; Prometheus 3's lookback window is left-open, 2's closed.
                    let in_window = |st: i64| st > t - lookback - edge;
                    let (v, h, st) = match (float, hist) {
                        (Some((ft, fv)), hist) if hist.is_none_or(|(ht, _)| ft > *ht) => {
                            ((in_window(ft) && !is_stale(fv)).then_some(fv), None, ft)
                        }
                        (_, Some((ht, h))) => (None, in_window(*ht).then(|| h.clone()), *ht),
                        _ => (None, None, 0),
                    };
                    let found = v.is_some() || h.is_some();
                    if want_ts {
                        tss.push(if found { st } else { 0 });
                    }
                    any |= found;
                    vals.push(v);
                    if !hs.is_empty() {
                        hists.push(h);
                    }
                }
            }
            if any {
                self.add_samples(vals.len())?;
                out.push(StepSeries {
                    labels: s.labels.clone(),
                    drop_name: false,
                    vals,
                    hists: hists.into(),
                });
                out_ts.push(tss);
            }
        }
        Ok((out, out_ts))
    }

    /// `timestamp(x @ T offset D)` as Prometheus computes it (`rangeEvalTimestampFunctionOverVectorSelector`,
    /// a quirk reproduced, not fixed): the offset is replaced by each step's distance to T, so the lookup
    /// happens at T, while the storage was asked only for `[T - D - lookback, T - D]`. What is found is the
    /// latest sample in both: with `D >= lookback` nothing, with a negative `D` only a sample at T itself.
    /// The answer is the same at every step.
    pub fn eval_timestamp_pinned(
        &mut self,
        vs: &VectorSelector,
        at: &At,
        ts: &[i64],
    ) -> Result<Vec<StepSeries>, EvalError> {
        let base = self.at_time(at);
        let d = vs.offset_ms;
        let lookback = self.opts.lookback_delta_ms;
        // The latest sample in (lo, hi].
        let hi = base.min(base - d);
        let lo = (base - lookback - self.edge()).max(base - d - lookback - 1);
        let mut out = Vec::new();
        for id in self.select(vs)? {
            self.check_deadline()?;
            let Some(s) = self.store.get(id) else {
                continue;
            };
            let visible = s.visible();
            let p = visible.partition_point(|(t, _)| *t <= hi);
            if p == 0 {
                continue;
            }
            let (t, v) = visible[p - 1];
            if t <= lo || is_stale(v) {
                continue;
            }
            self.add_samples(ts.len())?;
            out.push(StepSeries {
                labels: s.labels.clone(),
                drop_name: false,
                vals: vec![Some(t as f64 / 1000.0); ts.len()],
                hists: StepHists::default(),
            });
        }
        Ok(out)
    }

    pub fn select(&self, vs: &VectorSelector) -> Result<Vec<u32>, EvalError> {
        let matchers = selector_matchers(vs)?;
        let mut ids = self.store.select(&matchers);
        if self.label_order {
            // The order of a TSDB block's series: by label set.
            ids.sort_by(|a, b| match (self.store.get(*a), self.store.get(*b)) {
                (Some(x), Some(y)) => x.labels.cmp(&y.labels),
                _ => a.cmp(b),
            });
        }
        Ok(ids)
    }

    /// Reads a range selector's samples once and computes each step's left-open window `(end-range, end]`.
    pub fn eval_matrix_selector(
        &mut self,
        vs: &VectorSelector,
        range: i64,
        ends: Vec<i64>,
    ) -> Result<RangeArg, EvalError> {
        let mut series = Vec::new();
        let edge = self.edge();
        let (lo, hi) = match (ends.iter().min(), ends.iter().max()) {
            (Some(&a), Some(&b)) => (a - range - edge, b),
            _ => (0, -1),
        };
        for id in self.select(vs)? {
            self.check_deadline()?;
            let Some(s) = self.store.get(id) else {
                continue;
            };
            let visible = s.visible();
            let from = visible.partition_point(|(t, _)| *t <= lo);
            let to = visible.partition_point(|(t, _)| *t <= hi);
            let vh = s.visible_histograms();
            let hfrom = vh.partition_point(|(t, _)| *t <= lo);
            let hto = vh.partition_point(|(t, _)| *t <= hi);
            // `>=`: with no window ends (a subquery step longer than its range) the span is (0, -1], and a
            // sample at 0 puts `from` past `to` (found by fuzzing).
            if from >= to && hfrom >= hto {
                continue;
            }
            // Without staleness markers the stored samples are shared, not copied; windows index them.
            let samples: Arc<Vec<(i64, f64)>> = if s.has_stale {
                let v: Vec<(i64, f64)> = s.samples[from.min(to)..to]
                    .iter()
                    .copied()
                    .filter(|(_, v)| !is_stale(*v))
                    .collect();
                if v.is_empty() && hfrom >= hto {
                    continue;
                }
                Arc::new(v)
            } else {
                s.samples.clone()
            };
            self.add_samples(to.saturating_sub(from) + hto.saturating_sub(hfrom))?;
            // Windows end within the visible samples (a copy without markers holds only those).
            let n = samples.len().min(visible.len());
            let win = windows(&samples[..n], &ends, range + edge);
            let (hists, hwin) = match &s.histograms {
                Some(h) if hfrom < hto => {
                    let read = self
                        .stats_path
                        .reads_stats()
                        .then(|| stats_hints(vh, &ends, range + edge))
                        .flatten();
                    let h = read.map_or_else(|| h.clone(), Arc::new);
                    (Some(h), windows(vh, &ends, range + edge))
                }
                _ => (None, Vec::new()),
            };
            series.push(RangeSeries {
                labels: s.labels.clone(),
                drop_name: false,
                samples,
                win,
                hists,
                hwin,
                // A copy without staleness markers no longer lines up with them.
                start_timestamps: s.start_timestamps.clone().filter(|_| !s.has_stale),
            });
        }
        Ok(RangeArg {
            series,
            range_ms: range,
            ends,
        })
    }

    /// Evaluates a subquery: the inner expression at every multiple of the step inside any window, once.
    /// `sq` is an [`Expr::Subquery`].
    pub fn eval_subquery(&mut self, sq: &Expr, ts: &[i64]) -> Result<RangeArg, EvalError> {
        let Expr::Subquery {
            expr: inner_expr,
            range_ms: range,
            step_ms,
            offset_ms: sq_offset,
            at: sq_at,
            ..
        } = sq
        else {
            return Err(qerr("not a subquery"));
        };
        let (range, sq_offset) = (*range, *sq_offset);
        let step = Some(*step_ms)
            .filter(|s| *s > 0)
            .unwrap_or(self.opts.default_subquery_step_ms);
        // The inner steps come from where the subquery reads; an `@` subquery on a shifted level (see
        // [`AtLevel`]) reads shifted while its windows end where `@` says (`evalSubquery` resets the offset).
        let ends = self.eff_times(sq_at, sq_offset, ts);
        let win_ends = match sq_at {
            Some(a) => vec![self.at_time(a) - sq_offset; ts.len()],
            None => ends.clone(),
        };
        let edge = self.edge();
        let mut inner: Vec<i64> = Vec::new();
        for &end in &ends {
            // Multiples of step in (end-range, end] (Prometheus 2: [end-range, end]).
            let lo = end - range - edge;
            let mut t = lo.div_euclid(step) * step;
            if t <= lo {
                t += step;
            }
            if let Some(&last) = inner.last() {
                if t <= last {
                    t = last + step;
                }
            }
            if t <= end
                && (end - t) / step
                    >= (self.opts.max_samples - inner.len().min(self.opts.max_samples)) as i64
            {
                return Err(self.too_many_samples());
            }
            self.check_deadline()?;
            while t <= end {
                inner.push(t);
                t += step;
            }
        }
        inner.sort_unstable();
        inner.dedup();
        let level = self.at_level();
        let inner_level = match ends.first() {
            Some(&first_end) => {
                // Prometheus's subquery start: the first multiple of the step after the first window's
                // left edge.
                let lo = first_end - range - edge;
                let mut start = lo.div_euclid(step) * step;
                if start <= lo {
                    start += step;
                }
                if start != level.start {
                    AtLevel {
                        start,
                        eval_time: start,
                        path_offset: 0,
                        path_at: None,
                    }
                } else {
                    match sq_at {
                        None => AtLevel {
                            path_offset: level.path_offset + sq_offset,
                            ..level
                        },
                        Some(a) => AtLevel {
                            path_offset: sq_offset,
                            path_at: Some(self.at_time(a)),
                            ..level
                        },
                    }
                }
            }
            None => level,
        };
        let saved = self.at_level.replace(inner_level);
        let saved_slide = std::mem::replace(&mut self.slide_at_ranges, false);
        let saved_path = self.stats_path;
        self.stats_path = saved_path.blocked();
        let val = self.eval(inner_expr, &inner);
        self.at_level = saved;
        self.slide_at_ranges = saved_slide;
        self.stats_path = saved_path;
        let val = val?;
        type Points = Vec<(i64, f64)>;
        let series: Vec<(Labels, bool, Points, HistogramSamples)> = match val {
            Val::Vector(vs) => vs
                .into_iter()
                .map(|s| {
                    let pts = s
                        .vals
                        .iter()
                        .zip(&inner)
                        .filter_map(|(v, t)| v.map(|v| (*t, v)))
                        .collect();
                    // Prometheus makes reset and not_reset hints unknown here: a subquery may skip a
                    // reset or return the sample that has one several times.
                    let hs = s
                        .hists
                        .into_iter()
                        .zip(&inner)
                        .filter_map(|(h, t)| h.map(|h| (*t, unknown_reset(h))))
                        .collect();
                    (s.labels, s.drop_name, pts, hs)
                })
                .collect(),
            Val::Scalar(v) => vec![(
                Labels::empty(),
                false,
                inner.iter().copied().zip(v).collect(),
                Vec::new(),
            )],
            other => {
                return Err(qerr(format!(
                    "subquery is only allowed on instant vector, got {} instead",
                    other.type_name()
                )))
            }
        };
        let mut out = Vec::new();
        for (labels, drop_name, samples, hs) in series {
            if samples.is_empty() && hs.is_empty() {
                continue;
            }
            let win = windows(&samples, &win_ends, range + edge);
            let (hists, hwin) = if hs.is_empty() {
                (None, Vec::new())
            } else {
                let hwin = windows(&hs, &win_ends, range + edge);
                (Some(Arc::new(hs)), hwin)
            };
            out.push(RangeSeries {
                labels,
                drop_name,
                samples: Arc::new(samples),
                win,
                hists,
                hwin,
                start_timestamps: None,
            });
        }
        Ok(RangeArg {
            series: out,
            range_ms: range,
            ends: win_ends,
        })
    }
}

/// `h` with a reset or not_reset hint made unknown (gauges stay gauges).
fn unknown_reset(h: Arc<FloatHistogram>) -> Arc<FloatHistogram> {
    use crate::series::histogram::CounterResetHint::{CounterReset, NotCounterReset, Unknown};
    match h.counter_reset_hint {
        CounterReset | NotCounterReset => {
            let mut c = (*h).clone();
            c.counter_reset_hint = Unknown;
            Arc::new(c)
        }
        _ => h,
    }
}

/// Per end time, the index range of samples with `end-range < t <= end`; pointers only move forward
/// while ends do not decrease.
pub(crate) fn windows<T>(samples: &[(i64, T)], ends: &[i64], range: i64) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(ends.len());
    let (mut a, mut b) = (0usize, 0usize);
    let mut prev = i64::MIN;
    for (k, &end) in ends.iter().enumerate() {
        let lo = end - range;
        // The first window (and any after a step back in time) is found by binary search.
        if k == 0 || end < prev {
            a = samples.partition_point(|(t, _)| *t <= lo);
            b = samples.partition_point(|(t, _)| *t <= end);
        } else {
            while a < samples.len() && samples[a].0 <= lo {
                a += 1;
            }
            while b < samples.len() && samples[b].0 <= end {
                b += 1;
            }
        }
        prev = end;
        out.push((a, b.max(a)));
    }
    out
}

/// The query engine.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    pub opts: EngineOptions,
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// Evaluates `expr` at one time (ms).
    pub fn instant(&self, store: &Store, expr: &Expr, t: i64) -> Result<QueryResult, EvalError> {
        self.run(store, expr, "", t, t, 0, false)
    }

    /// Evaluates `expr` at every step from `start` to `end` inclusive (ms).
    pub fn range(
        &self,
        store: &Store,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, EvalError> {
        self.run(store, expr, "", start, end, step, true)
    }

    /// Evaluates an already parsed `expr` at one time; `text` is the query it was parsed from, so that
    /// annotations carry positions (rule evaluation parses once and evaluates every tick).
    pub fn instant_with_text(
        &self,
        store: &Store,
        expr: &Expr,
        text: &str,
        t: i64,
    ) -> Result<QueryResult, EvalError> {
        self.run(store, expr, text, t, t, 0, false)
    }

    /// Range form of [`Engine::instant_with_text`].
    pub fn range_with_text(
        &self,
        store: &Store,
        expr: &Expr,
        text: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, EvalError> {
        self.run(store, expr, text, start, end, step, true)
    }

    /// Parses and evaluates at one time; annotations carry positions in `text`.
    pub fn instant_query(
        &self,
        store: &Store,
        text: &str,
        t: i64,
    ) -> Result<QueryResult, EvalError> {
        let expr = parse_for_query(text, 0, 0)?;
        self.run(store, &expr, text, t, t, 0, false)
    }

    /// Parses and evaluates as a range query; annotations carry positions in `text`.
    pub fn range_query(
        &self,
        store: &Store,
        text: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, EvalError> {
        let expr = parse_for_query(text, step, end - start)?;
        self.run(store, &expr, text, start, end, step, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        store: &Store,
        expr: &Expr,
        text: &str,
        start: i64,
        end: i64,
        step: i64,
        is_range: bool,
    ) -> Result<QueryResult, EvalError> {
        let ts: Vec<i64> = if is_range {
            if step <= 0 {
                return Err(qerr("zero or negative query resolution step widths are not accepted. Try a positive integer"));
            }
            if end < start {
                return Err(qerr("end timestamp must not be before start time"));
            }
            // No cap on the step count here: Prometheus's 11,000 points belong to its HTTP API, not to its
            // engine. Callers that evaluate long windows split them ([`crate::rules::group::evaluate`]);
            // `eval` keeps a cap of its own (`--max-steps`).
            let n = ((end - start) / step) as usize + 1;
            (0..n as i64).map(|i| start + i * step).collect()
        } else {
            vec![start]
        };
        let step = if is_range { step } else { 0 };
        let mut ev = Ev {
            store,
            opts: &self.opts,
            start,
            end,
            step,
            is_range,
            text,
            warnings: Vec::new(),
            infos: Vec::new(),
            samples: 0,
            at_level: None,
            slide_at_ranges: false,
            label_order: false,
            call_start: 0,
            stats_path: Default::default(),
            deadline: self.opts.timeout.map(|t| {
                coarse_now_ns().saturating_add(u64::try_from(t.as_nanos()).unwrap_or(u64::MAX))
            }),
        };
        let val = ev.eval(expr, &ts)?;
        let value = match val {
            Val::Scalar(v) => {
                if is_range {
                    Value::Matrix(vec![Series {
                        labels: Labels::empty(),
                        points: ts.iter().copied().zip(v).collect(),
                        histograms: Vec::new(),
                    }])
                } else {
                    Value::Scalar {
                        t: start,
                        v: v.first().copied().unwrap_or(f64::NAN),
                    }
                }
            }
            Val::Str(s) => {
                if is_range {
                    return Err(qerr("invalid expression type \"string\" for range query, must be Scalar or instant Vector"));
                }
                Value::String { t: start, s }
            }
            Val::Vector(vs) => {
                let vs = finalize_names(vs, &self.opts)?;
                if is_range {
                    let mut m: Vec<Series> = vs
                        .into_iter()
                        .map(|s| Series {
                            labels: s.labels,
                            points: ts
                                .iter()
                                .zip(s.vals)
                                .filter_map(|(t, v)| v.map(|v| (*t, v)))
                                .collect(),
                            histograms: ts
                                .iter()
                                .zip(s.hists)
                                .filter_map(|(t, h)| h.map(|h| (*t, h)))
                                .collect(),
                        })
                        .filter(|s| !s.points.is_empty() || !s.histograms.is_empty())
                        .collect();
                    m.sort_by(|a, b| a.labels.cmp(&b.labels));
                    Value::Matrix(m)
                } else {
                    Value::Vector(
                        vs.into_iter()
                            .filter_map(|mut s| {
                                let h = s.hists.first_mut().and_then(Option::take);
                                match (s.vals[0], h) {
                                    (Some(v), _) => Some(Sample {
                                        labels: s.labels,
                                        t: start,
                                        v,
                                        h: None,
                                    }),
                                    (None, Some(h)) => Some(Sample {
                                        labels: s.labels,
                                        t: start,
                                        v: 0.0,
                                        h: Some(h),
                                    }),
                                    (None, None) => None,
                                }
                            })
                            .collect(),
                    )
                }
            }
            Val::Range(r) => {
                if is_range {
                    return Err(qerr("invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"));
                }
                let mut m = Vec::new();
                for s in r.series {
                    let (a, b) = s.win[0];
                    let hs = s.hist_window(0).to_vec();
                    if a < b || !hs.is_empty() {
                        let labels = if s.drop_name && self.opts.delayed_name_removal {
                            drop_metric_name(&s.labels)
                        } else {
                            s.labels
                        };
                        m.push(Series {
                            labels,
                            points: s.samples[a..b].to_vec(),
                            histograms: hs,
                        });
                    }
                }
                Value::Matrix(m)
            }
        };
        let points = match &value {
            Value::Matrix(m) => m.iter().map(|s| s.points.len() + s.histograms.len()).sum(),
            Value::Vector(v) => v.len(),
            _ => 1,
        };
        if points > self.opts.max_points {
            return Err(EvalError::TooManyPoints {
                limit: self.opts.max_points,
            });
        }
        Ok(QueryResult {
            value,
            warnings: ev.warnings,
            infos: ev.infos,
        })
    }
}

/// Drops the names marked for delayed removal and merges series that now share a label set; two of them
/// with a value at the same step is Prometheus's duplicate-labelset error.
pub(crate) fn finalize_names(
    vs: Vec<StepSeries>,
    opts: &EngineOptions,
) -> Result<Vec<StepSeries>, EvalError> {
    let mut out: Vec<StepSeries> = Vec::with_capacity(vs.len());
    let mut index: HashMap<Labels, usize, FxBuild> = HashMap::default();
    for mut s in vs {
        if s.drop_name && opts.delayed_name_removal {
            s.labels = drop_metric_name(&s.labels);
            s.drop_name = false;
        }
        match index.get(&s.labels) {
            Some(&i) => out[i].merge(s)?,
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::store::stale_nan;
    use std::time::Duration;

    fn store() -> Store {
        let mut s = Store::new();
        let l = Labels::from_pairs([("__name__", "m"), ("job", "a")]);
        // Samples every minute: 0,1,2,...,10 (value = minute).
        for k in 0..=10 {
            s.append(&l, k * 60_000, k as f64);
        }
        s
    }

    fn instant(s: &Store, q: &str, t: i64) -> Value {
        Engine::default().instant_query(s, q, t).unwrap().value
    }

    fn vec_vals(v: &Value) -> Vec<f64> {
        match v {
            Value::Vector(s) => s.iter().map(|x| x.v).collect(),
            Value::Scalar { v, .. } => vec![*v],
            other => panic!("not a vector: {other:?}"),
        }
    }

    #[test]
    fn lookback_is_left_open() {
        let s = store();
        // Last sample at 10m; at 15m it is exactly 5m old and so out of the (t-5m, t] window.
        assert_eq!(
            vec_vals(&instant(&s, "m", 14 * 60_000 + 59_999)),
            vec![10.0]
        );
        assert!(vec_vals(&instant(&s, "m", 15 * 60_000)).is_empty());
    }

    #[test]
    fn stale_marker_ends_the_series() {
        let mut s = store();
        let l = Labels::from_pairs([("__name__", "m"), ("job", "a")]);
        s.append(&l, 11 * 60_000, stale_nan());
        assert!(vec_vals(&instant(&s, "m", 11 * 60_000 + 1)).is_empty());
        // Range selectors skip the marker: (6m, 11m] holds 7,8,9,10.
        assert_eq!(
            vec_vals(&instant(&s, "count_over_time(m[5m])", 11 * 60_000)),
            vec![4.0]
        );
    }

    #[test]
    fn range_selector_is_left_open() {
        let s = store();
        // (5m, 10m] holds 6,7,8,9,10: the sample at exactly 5m is excluded.
        assert_eq!(
            vec_vals(&instant(&s, "count_over_time(m[5m])", 600_000)),
            vec![5.0]
        );
    }

    #[test]
    fn offset_and_at() {
        let s = store();
        assert_eq!(vec_vals(&instant(&s, "m offset 3m", 600_000)), vec![7.0]);
        assert_eq!(vec_vals(&instant(&s, "m offset -3m", 300_000)), vec![8.0]);
        assert_eq!(vec_vals(&instant(&s, "m @ 120", 600_000)), vec![2.0]);
        let r = Engine::default()
            .range_query(&s, "m @ start()", 60_000, 180_000, 60_000)
            .unwrap();
        match r.value {
            Value::Matrix(m) => assert_eq!(
                m[0].points,
                vec![(60_000, 1.0), (120_000, 1.0), (180_000, 1.0)]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn subquery_steps_align_to_absolute_multiples() {
        let s = store();
        // At 10m30s, [2m:1m] evaluates at 9m and 10m (multiples of 1m in (8m30s, 10m30s]).
        assert_eq!(
            vec_vals(&instant(&s, "count_over_time(m[2m:1m])", 630_000)),
            vec![2.0]
        );
        assert_eq!(
            vec_vals(&instant(&s, "sum_over_time(m[2m:1m])", 630_000)),
            vec![19.0]
        );
    }

    #[test]
    fn delayed_name_removal_and_collisions() {
        let mut s = store();
        s.append(
            &Labels::from_pairs([("__name__", "n"), ("job", "a")]),
            600_000,
            1.0,
        );
        // The name survives a comparison, not arithmetic.
        match instant(&s, "m > 1", 600_000) {
            Value::Vector(v) => assert_eq!(v[0].labels.name(), Some("m")),
            other => panic!("{other:?}"),
        }
        match instant(&s, "m * 1", 600_000) {
            Value::Vector(v) => assert_eq!(v[0].labels.name(), None),
            other => panic!("{other:?}"),
        }
        // Both series become {job="a"} once their names go.
        let e = Engine::default()
            .instant_query(&s, "abs({job=\"a\"})", 600_000)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "vector cannot contain metrics with the same labelset"
        );
    }

    #[test]
    fn one_to_one_duplicate_error_wording() {
        let mut s = Store::new();
        s.append(&Labels::from_pairs([("__name__", "l"), ("x", "1")]), 0, 1.0);
        s.append(
            &Labels::from_pairs([("__name__", "r"), ("x", "1"), ("y", "a")]),
            0,
            1.0,
        );
        s.append(
            &Labels::from_pairs([("__name__", "r"), ("x", "1"), ("y", "b")]),
            0,
            1.0,
        );
        let e = Engine::default()
            .instant_query(&s, "l + on(x) r", 0)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "found duplicate series for the match group {x=\"1\"} on the right hand-side of the operation: \
             [{__name__=\"r\", x=\"1\", y=\"a\"}, {__name__=\"r\", x=\"1\", y=\"b\"}];many-to-many matching not allowed: matching labels must be unique on one side"
        );
    }

    #[test]
    fn rate_info_annotation_wording() {
        let s = store();
        let r = Engine::default()
            .instant_query(&s, "rate(m[5m])", 600_000)
            .unwrap();
        assert_eq!(
            r.infos,
            vec!["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"m\" (1:6)".to_string()]
        );
    }

    #[test]
    fn huge_subquery_is_refused_not_attempted() {
        let s = store();
        let e = Engine::default()
            .instant_query(&s, "count_over_time(m[100y:1ms])", 600_000)
            .unwrap_err();
        assert_eq!(
            e,
            EvalError::TooManySamples {
                limit: crate::limits::DEFAULT_MAX_SAMPLES
            }
        );
    }

    fn with(opts: impl FnOnce(&mut EngineOptions)) -> Engine {
        let mut o = EngineOptions::default();
        opts(&mut o);
        Engine::new(o)
    }

    #[test]
    fn max_samples_counts_what_selectors_load() {
        let s = store();
        // `m[10m]` at 10m loads the samples of both series in (0, 10m].
        let loaded = |limit| {
            with(|o| o.max_samples = limit).instant_query(&s, "count_over_time(m[10m])", 600_000)
        };
        let mut n = 1;
        while loaded(n).is_err() {
            n += 1;
            assert!(n < 1000, "never fits");
        }
        let e = loaded(n - 1).unwrap_err();
        assert_eq!(e, EvalError::TooManySamples { limit: n - 1 });
        assert!(e.to_string().contains("raise it with --max-samples"), "{e}");
    }

    #[test]
    fn max_points_bounds_the_result() {
        let s = store();
        let eng = with(|o| o.max_points = 3);
        // One series over 11 steps: 11 points.
        let e = eng.range_query(&s, "m", 0, 600_000, 60_000).unwrap_err();
        assert_eq!(e, EvalError::TooManyPoints { limit: 3 });
        assert!(e.to_string().contains("--max-points"), "{e}");
        assert!(eng.instant_query(&s, "m", 600_000).is_ok());
        let one = with(|o| o.max_points = 1);
        assert!(one.instant_query(&s, "m", 600_000).is_ok());
        assert!(one.instant_query(&s, "m or vector(1)", 600_000).is_err());
    }

    #[test]
    fn the_deadline_stops_a_query() {
        let s = store();
        let e = with(|o| o.timeout = Some(Duration::ZERO))
            .instant_query(&s, "m", 0)
            .unwrap_err();
        assert_eq!(
            e,
            EvalError::Timeout {
                timeout: Duration::ZERO
            }
        );
        assert!(e
            .to_string()
            .starts_with("query timed out in query execution"));
        assert!(e.to_string().contains("--eval-timeout"), "{e}");
        assert!(with(|o| o.timeout = None).instant_query(&s, "m", 0).is_ok());
    }

    #[test]
    fn a_slow_query_times_out_promptly() {
        // 2,000 series x 11,000 steps through a subquery: far longer than 50 ms without a deadline.
        let mut s = Store::new();
        for i in 0..2000 {
            let l = Labels::from_pairs([("__name__", "big"), ("i", &i.to_string())]);
            for k in 0..20 {
                s.append(&l, k * 60_000, k as f64);
            }
        }
        let eng = with(|o| o.timeout = Some(Duration::from_millis(50)));
        let began = std::time::Instant::now();
        let e = eng
            .range_query(
                &s,
                "max_over_time(rate(big[5m])[1h:10s])",
                0,
                10_999 * 1000,
                1000,
            )
            .unwrap_err();
        assert!(matches!(e, EvalError::Timeout { .. }), "{e}");
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "{:?}",
            began.elapsed()
        );
    }

    /// A sum of 20,000 terms is evaluated along its left edge in a loop: on a 512 KiB stack (a quarter of a
    /// worker thread's) it neither overflows nor takes long. promtool 2.42 needs two minutes for it.
    #[test]
    fn long_operator_chains_evaluate_on_a_small_stack() {
        let q = vec!["m"; 20_000].join(" + ");
        let v = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || vec_vals(&instant(&store(), &q, 600_000)))
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(v, vec![200_000.0]);
    }

    #[test]
    fn appending_after_a_query_is_seen_by_the_next() {
        let mut s = store();
        assert!(vec_vals(&instant(&s, "m", 20 * 60_000)).is_empty());
        s.append(
            &Labels::from_pairs([("__name__", "m"), ("job", "a")]),
            20 * 60_000,
            42.0,
        );
        assert_eq!(vec_vals(&instant(&s, "m", 20 * 60_000)), vec![42.0]);
    }
}
