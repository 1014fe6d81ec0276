//! What the evaluator's parts share: the engine's options, its error, the values an expression evaluates to
//! over a query's steps ([`Val`]: per-step series, range arguments with their windows), and the narrow view of
//! the evaluation ([`Context`]) that functions, aggregations and binary operators get. Those parts see this
//! module, not the engine: they evaluate their arguments, read the options and the store, and report
//! annotations through [`Context`], so the engine can call them without them reaching back into it.

use super::histogram_stats::StatsPath;
use super::parse::{Expr, ParseError};
use super::syntax::ast::{At, MatchOp as PMatchOp, VectorSelector};
use crate::series::histogram::FloatHistogram;
use crate::series::labels::METRIC_NAME;
use crate::series::store::HistogramSamples;
use crate::series::{Labels, MatchOp, Matcher, Store};
use std::sync::Arc;
use std::time::Duration;

/// The evaluation as functions, aggregations and binary operators see it.
pub(crate) trait Context {
    /// The engine's settings.
    fn opts(&self) -> &EngineOptions;
    /// The series the query reads.
    fn store(&self) -> &Store;
    /// The query's start, end and step (ms): what `start()`, `end()`, `step()` and `range()` return.
    fn start(&self) -> i64;
    fn end(&self) -> i64;
    fn step(&self) -> i64;
    /// Whether this is a range query.
    fn is_range(&self) -> bool;
    /// Where the function call being evaluated starts in the query text.
    fn call_start(&self) -> usize;
    /// `(line:col)` of byte offset `at` of the query text, as Prometheus's annotations write positions.
    fn pos_at(&self, at: usize) -> String;
    /// Adds a warning annotation (once per text).
    fn warn(&mut self, msg: String);
    /// Adds an info annotation (once per text).
    fn info(&mut self, msg: String);
    /// The query's time is up.
    fn check_deadline(&self) -> Result<(), EvalError>;
    /// The times a selector with `@` `at` and offset `off` reads at, per step of `ts`.
    fn eff_times(&self, at: &Option<At>, off: i64, ts: &[i64]) -> Vec<i64>;
    /// Evaluates `e` at the steps `ts`.
    fn eval(&mut self, e: &Expr, ts: &[i64]) -> Result<Val, EvalError>;
    /// Evaluates a vector selector at `ts`, with each step's sample time when `want_ts`.
    fn eval_vector_selector(
        &mut self,
        vs: &VectorSelector,
        ts: &[i64],
        want_ts: bool,
    ) -> Result<(Vec<StepSeries>, Vec<Vec<i64>>), EvalError>;
    /// `timestamp(selector @ at)`: the selector's sample times at the pinned time, for every step.
    fn eval_timestamp_pinned(
        &mut self,
        vs: &VectorSelector,
        at: &At,
        ts: &[i64],
    ) -> Result<Vec<StepSeries>, EvalError>;
    /// Whether selectors return their series in label order (inside `topk`, `bottomk`, `limitk`).
    fn label_order(&self) -> bool;
    fn set_label_order(&mut self, on: bool);
    /// Whether selectors read histograms for their statistics only ([`super::histogram_stats`]).
    fn stats_path(&self) -> StatsPath;
    fn set_stats_path(&mut self, path: StatsPath);
}

/// Settings Prometheus exposes as flags.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub lookback_delta_ms: i64,
    pub default_subquery_step_ms: i64,
    pub delayed_name_removal: bool,
    /// Upper bound on samples one query loads; exceeded, the query fails as Prometheus's does.
    pub max_samples: usize,
    /// Upper bound on the points (series x steps with a value) of one query's result.
    pub max_points: usize,
    /// Wall time one query may take (Prometheus's `--query.timeout`); `None` for no limit.
    pub timeout: Option<Duration>,
    /// Which Prometheus to predict ([`crate::semantics`]). Prometheus 2: range selectors, the lookback
    /// and subquery steps include the window's left edge (`[t-r, t]` instead of `(t-r, t]`), `rate` limits its
    /// extrapolation to the counter's zero point before the half-interval rule, `stddev`/`stdvar` of a lone
    /// NaN or Inf is 0, and comparison filters check one-to-one matching only for the pairs they keep.
    pub semantics: crate::semantics::Semantics,
}

impl EngineOptions {
    /// Whether Prometheus 2's behaviour is asked for where `d` differs (`--semantics 2`, or one difference
    /// of `migrate-report`'s).
    pub fn prometheus2(&self, d: crate::semantics::Difference) -> bool {
        self.semantics.has(d)
    }
}

impl Default for EngineOptions {
    /// Prometheus's defaults, with the limits and PromQL features the running command installed (see
    /// [`crate::limits`], [`crate::promql::features`]).
    fn default() -> Self {
        let limits = crate::limits::Limits::active();
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            default_subquery_step_ms: 60 * 1000,
            delayed_name_removal: crate::promql::features::Features::active()
                .has(crate::promql::features::Feature::DelayedNameRemoval),
            max_samples: limits.max_samples,
            max_points: limits.max_points,
            timeout: Some(limits.eval_timeout),
            semantics: crate::semantics::Semantics::active(),
        }
    }
}

/// Nanoseconds on a monotonic clock that is cheap to read: the kernel's coarse clock, which moves in its
/// ticks (a few milliseconds), enough for a deadline of seconds. The deadline is checked at every node of every
/// evaluation; reading the precise clock there took a fifth of the time of a rule set evaluated tick by tick.
#[cfg(target_os = "linux")]
pub(crate) fn coarse_now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE exists on every Linux since 2.6.32.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts);
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn coarse_now_ns() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// Why a query failed. Messages are Prometheus's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("{0}")]
    Query(String),
    /// Prometheus's message, then the limit and the flag that raises it.
    #[error("query processing would load too many samples into memory in query execution (the limit is {limit} samples; raise it with --max-samples)")]
    TooManySamples { limit: usize },
    #[error("query timed out in query execution (the limit is {}; raise it with --eval-timeout)", crate::limits::show_duration(*.timeout))]
    Timeout { timeout: Duration },
    #[error(
        "query result would hold more than {limit} points (raise the limit with --max-points)"
    )]
    TooManyPoints { limit: usize },
    #[error("unsupported: {0}")]
    Unsupported(String),
}

pub(crate) fn qerr(msg: impl Into<String>) -> EvalError {
    EvalError::Query(msg.into())
}

/// An instant-vector series across the evaluation steps.
#[derive(Clone, Debug)]
pub(crate) struct StepSeries {
    pub labels: Labels,
    /// Delayed `__name__` removal: the name is kept for matching but dropped from the final result.
    pub drop_name: bool,
    /// Float values per step.
    pub vals: Vec<Option<f64>>,
    /// Native histogram values per step: empty for a float-only series, else one slot per step. A step has
    /// a float or a histogram, never both.
    pub hists: StepHists,
}

/// A series' histogram slot per step, or nothing for a float-only series: one pointer wide, so float
/// series (nearly all) carry 8 bytes for it rather than an empty vector's 24. Reads and writes as a slice
/// (empty when there are none).
#[derive(Clone, Debug, Default)]
#[allow(clippy::box_collection)] // the box is the point: one pointer in every float series
pub(crate) struct StepHists(Option<Box<Vec<Option<Arc<FloatHistogram>>>>>);

impl StepHists {
    /// `n` empty slots.
    pub fn nones(n: usize) -> StepHists {
        StepHists(Some(Box::new(vec![None; n])))
    }
}

impl From<Vec<Option<Arc<FloatHistogram>>>> for StepHists {
    fn from(v: Vec<Option<Arc<FloatHistogram>>>) -> StepHists {
        if v.is_empty() {
            StepHists(None)
        } else {
            StepHists(Some(Box::new(v)))
        }
    }
}

impl std::ops::Deref for StepHists {
    type Target = [Option<Arc<FloatHistogram>>];
    fn deref(&self) -> &Self::Target {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl std::ops::DerefMut for StepHists {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self.0.as_deref_mut() {
            Some(v) => v.as_mut_slice(),
            None => &mut [],
        }
    }
}

impl IntoIterator for StepHists {
    type Item = Option<Arc<FloatHistogram>>;
    type IntoIter = std::vec::IntoIter<Option<Arc<FloatHistogram>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.map(|b| *b).unwrap_or_default().into_iter()
    }
}

impl StepSeries {
    /// The histogram at step `i`, if that step holds one.
    pub fn hist(&self, i: usize) -> Option<&Arc<FloatHistogram>> {
        self.hists.get(i).and_then(Option::as_ref)
    }

    /// Whether any step holds a value of either kind.
    pub fn any(&self) -> bool {
        self.vals.iter().any(Option::is_some) || self.hists.iter().any(Option::is_some)
    }

    /// Whether step `i` holds a value of either kind.
    pub fn present(&self, i: usize) -> bool {
        self.vals[i].is_some() || self.hist(i).is_some()
    }

    /// Drops the histogram values (functions that read floats only ignore histogram samples).
    pub fn drop_histograms(&mut self) {
        self.hists = StepHists::default();
    }

    /// Moves `s`'s values into this series; a step both have is Prometheus's duplicate-labelset error.
    pub fn merge(&mut self, s: StepSeries) -> Result<(), EvalError> {
        let n = self.vals.len();
        for i in 0..n {
            if !s.present(i) {
                continue;
            }
            if self.present(i) {
                return Err(qerr("vector cannot contain metrics with the same labelset"));
            }
            self.vals[i] = s.vals[i];
            if let Some(h) = s.hist(i) {
                if self.hists.is_empty() {
                    self.hists = StepHists::nones(n);
                }
                self.hists[i] = Some(h.clone());
            }
        }
        Ok(())
    }

    /// Sets step `i` to nothing.
    pub fn clear(&mut self, i: usize) {
        self.vals[i] = None;
        if let Some(h) = self.hists.get_mut(i) {
            *h = None;
        }
    }
}

/// A range-vector series: its samples and, per step, the half-open index range of the window.
#[derive(Clone, Debug)]
pub(crate) struct RangeSeries {
    pub labels: Labels,
    pub drop_name: bool,
    pub samples: Arc<Vec<(i64, f64)>>,
    pub win: Vec<(usize, usize)>,
    /// Native histogram samples and, per step, the window into them (`None` and empty: none).
    pub hists: Option<Arc<HistogramSamples>>,
    pub hwin: Vec<(usize, usize)>,
    /// The samples' start timestamps, indexed as `samples` and `hists` (a selector's only: subqueries and
    /// expressions do not carry them, as in Prometheus).
    pub start_timestamps: Option<Arc<crate::series::store::StartTimestamps>>,
}

impl RangeSeries {
    /// The start timestamps of the float samples, indexed as `samples`, if the series has them.
    pub fn float_starts(&self) -> Option<&[i64]> {
        let st = self.start_timestamps.as_ref()?;
        st.floats.get(..self.samples.len())
    }

    /// The start timestamps of the histogram samples in step `i`'s window, if the series has them.
    pub fn hist_starts(&self, i: usize) -> Option<&[i64]> {
        let st = self.start_timestamps.as_ref()?;
        let &(a, b) = self.hwin.get(i)?;
        st.histograms.get(a..b)
    }

    /// The histogram samples in step `i`'s window.
    pub fn hist_window(&self, i: usize) -> &[(i64, Arc<FloatHistogram>)] {
        match (&self.hists, self.hwin.get(i)) {
            (Some(h), Some(&(a, b))) => &h[a..b],
            _ => &[],
        }
    }
}

/// A range-vector argument.
#[derive(Clone, Debug)]
pub(crate) struct RangeArg {
    pub series: Vec<RangeSeries>,
    pub range_ms: i64,
    /// Per step, the window's end (step time, or `@` time, minus offset).
    pub ends: Vec<i64>,
}

#[derive(Clone, Debug)]
pub(crate) enum Val {
    Scalar(Vec<f64>),
    Str(String),
    Vector(Vec<StepSeries>),
    Range(RangeArg),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "scalar",
            Val::Str(_) => "string",
            Val::Vector(_) => "instant vector",
            Val::Range(_) => "range vector",
        }
    }
}

/// The selector's matchers (plus the bare metric name) as the store takes them, compiled the first time the
/// selector is evaluated and kept in it ([`super::syntax::ast::CompiledMatchers`]).
pub(crate) fn selector_matchers(vs: &VectorSelector) -> Result<Arc<[Matcher]>, EvalError> {
    vs.compiled
        .get_or_compile(|| {
            let mut base = Vec::new();
            for m in &vs.matchers {
                let op = match m.op {
                    PMatchOp::Equal => MatchOp::Equal,
                    PMatchOp::NotEqual => MatchOp::NotEqual,
                    PMatchOp::Regexp => MatchOp::Re,
                    PMatchOp::NotRegexp => MatchOp::NotRe,
                };
                base.push(Matcher::new(op, &m.name, &m.value).map_err(|e| e.to_string())?);
            }
            let n = &vs.name;
            if !n.is_empty()
                && !base
                    .iter()
                    .any(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal && &m.value == n)
            {
                base.push(Matcher::new(MatchOp::Equal, METRIC_NAME, n).map_err(|e| e.to_string())?);
            }
            Ok(base)
        })
        .map_err(qerr)
}

/// Removes the metric name and, with it, the `__type__` and `__unit__` labels that Prometheus's
/// type-and-unit labels feature attaches to it.
pub(crate) fn drop_metric_name(l: &Labels) -> Labels {
    if l.get("__type__").is_none() && l.get("__unit__").is_none() {
        return l.without_name();
    }
    l.without(&[METRIC_NAME, "__type__", "__unit__"])
}
