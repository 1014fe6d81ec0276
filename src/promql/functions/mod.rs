//! PromQL functions, dispatched by name; each family lives in its own file. Range-vector functions get
//! each step's window as a slice of the series' samples (found by forward-only pointers) and compute over
//! it; none of them keeps running state across steps yet.

mod histogram;
mod info;
mod labels;
mod math;
mod native_histogram;
mod over_time;
mod rate;
mod start_time;
mod time;

use super::context::{qerr, Context, EvalError, RangeArg, StepHists, StepSeries, Val};
use super::syntax::ast::{Expr, MatchOp};
use crate::series::labels::METRIC_NAME;
use crate::series::Labels;

/// Neumaier-improved Kahan summation step, as Prometheus's `kahansum.Inc`.
pub(crate) use crate::series::kahan::inc as kahan_sum_inc;

pub(crate) fn arg_vector(
    ev: &mut dyn Context,
    e: &Expr,
    ts: &[i64],
) -> Result<Vec<StepSeries>, EvalError> {
    match ev.eval(e, ts)? {
        Val::Vector(v) => Ok(v),
        other => Err(qerr(format!(
            "expected instant vector argument, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn arg_scalar(
    ev: &mut dyn Context,
    e: &Expr,
    ts: &[i64],
) -> Result<Vec<f64>, EvalError> {
    match ev.eval(e, ts)? {
        Val::Scalar(v) => Ok(v),
        other => Err(qerr(format!(
            "expected scalar argument, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn arg_string(ev: &mut dyn Context, e: &Expr, ts: &[i64]) -> Result<String, EvalError> {
    match ev.eval(e, ts)? {
        Val::Str(s) => Ok(s),
        other => Err(qerr(format!(
            "expected string argument, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn arg_range(ev: &mut dyn Context, e: &Expr, ts: &[i64]) -> Result<RangeArg, EvalError> {
    match ev.eval(e, ts)? {
        Val::Range(r) => Ok(r),
        other => Err(qerr(format!(
            "expected range vector argument, got {}",
            other.type_name()
        ))),
    }
}

/// A float or a histogram sample with its time (window functions that look at both kinds in time order).
pub(crate) type TimedValue<'a> = (
    i64,
    Option<f64>,
    Option<&'a std::sync::Arc<crate::series::histogram::FloatHistogram>>,
);

/// Marks a series' name for removal (delayed) or removes it now.
pub(crate) fn drop_name(ev: &dyn Context, s: &mut StepSeries) {
    if ev.opts().delayed_name_removal {
        s.drop_name = true;
    } else {
        s.labels = super::context::drop_metric_name(&s.labels);
    }
}

/// Applies `f` to every float value; the result drops the metric name. Histogram samples are left out, as
/// Prometheus's float functions ignore them.
pub(crate) fn map_values(
    ev: &dyn Context,
    mut v: Vec<StepSeries>,
    f: impl Fn(f64) -> f64,
) -> Vec<StepSeries> {
    for s in &mut v {
        s.drop_histograms();
        for x in s.vals.iter_mut().flatten() {
            *x = f(*x);
        }
        drop_name(ev, s);
    }
    v.retain(StepSeries::any);
    v
}

/// Runs a window function over each series and step of a range argument.
pub(crate) fn map_windows(
    ev: &dyn Context,
    ra: &RangeArg,
    keep_name: bool,
    mut f: impl FnMut(&[(i64, f64)], usize) -> Option<f64>,
) -> Vec<StepSeries> {
    map_windows_with_starts(ev, ra, keep_name, |w, _, i| f(w, i))
}

/// [`map_windows`], also handing `f` the window's start timestamps when the series has them
/// ([`start_time`]).
pub(crate) fn map_windows_with_starts(
    ev: &dyn Context,
    ra: &RangeArg,
    keep_name: bool,
    mut f: impl FnMut(&[(i64, f64)], Option<&[i64]>, usize) -> Option<f64>,
) -> Vec<StepSeries> {
    let mut out = Vec::with_capacity(ra.series.len());
    for s in &ra.series {
        let sts = s.float_starts();
        let vals: Vec<Option<f64>> = s
            .win
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                if a < b {
                    f(&s.samples[a..b], sts.map(|st| &st[a..b]), i)
                } else {
                    None
                }
            })
            .collect();
        if vals.iter().any(Option::is_some) {
            let mut st = StepSeries {
                labels: s.labels.clone(),
                drop_name: s.drop_name,
                vals,
                hists: StepHists::default(),
            };
            if !keep_name {
                drop_name(ev, &mut st);
            }
            out.push(st);
        }
    }
    out
}

/// Labels `absent()`/`absent_over_time()` give their output: the selector's equality matchers, except
/// the metric name and any label constrained more than once.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e.without_parens() {
        Expr::Vector(vs) => vs,
        Expr::Matrix { selector, .. } => selector,
        _ => return Labels::empty(),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut dup: Vec<String> = Vec::new();
    for m in &vs.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if pairs.iter().any(|(k, _)| *k == m.name) || dup.contains(&m.name) {
            pairs.retain(|(k, _)| *k != m.name);
            dup.push(m.name.clone());
            continue;
        }
        if m.op == MatchOp::Equal {
            pairs.push((m.name.clone(), m.value.clone()));
        } else {
            dup.push(m.name.clone());
        }
    }
    Labels::from_pairs(pairs)
}

pub(crate) fn eval_call(
    ev: &mut dyn Context,
    name: &str,
    args: &[Expr],
    ts: &[i64],
) -> Result<Val, EvalError> {
    let args: Vec<&Expr> = args.iter().collect();
    let n = ts.len();
    let arg = |i: usize| -> Result<&Expr, EvalError> {
        args.get(i)
            .copied()
            .ok_or_else(|| qerr(format!("missing argument {} to {name}", i + 1)))
    };
    match name {
        "time" => Ok(Val::Scalar(ts.iter().map(|&t| t as f64 / 1000.0).collect())),
        "pi" => Ok(Val::Scalar(vec![std::f64::consts::PI; n])),
        // Query shape, in seconds: an instant query has step 0 and range 0.
        "step" => Ok(Val::Scalar(vec![ev.step() as f64 / 1000.0; n])),
        "range" => Ok(Val::Scalar(vec![
            (ev.end() - ev.start()) as f64 / 1000.0;
            n
        ])),
        "start" => Ok(Val::Scalar(vec![ev.start() as f64 / 1000.0; n])),
        "end" => Ok(Val::Scalar(vec![ev.end() as f64 / 1000.0; n])),
        "min_of" | "max_of" => {
            let a = arg_scalar(ev, arg(0)?, ts)?;
            let b = arg_scalar(ev, arg(1)?, ts)?;
            let f = if name == "min_of" {
                math::go_min
            } else {
                math::go_max
            };
            Ok(Val::Scalar(
                a.iter().zip(&b).map(|(&x, &y)| f(x, y)).collect(),
            ))
        }
        "vector" => {
            let s = arg_scalar(ev, arg(0)?, ts)?;
            Ok(Val::Vector(vec![StepSeries {
                labels: Labels::empty(),
                drop_name: false,
                vals: s.into_iter().map(Some).collect(),
                hists: StepHists::default(),
            }]))
        }
        "scalar" => {
            let v = arg_vector(ev, arg(0)?, ts)?;
            let mut out = vec![f64::NAN; n];
            for (i, o) in out.iter_mut().enumerate() {
                // Histogram samples do not count.
                let mut present = v.iter().filter_map(|s| s.vals[i]);
                if let (Some(x), None) = (present.next(), present.next()) {
                    *o = x;
                }
            }
            Ok(Val::Scalar(out))
        }
        "timestamp" => {
            let inner = arg(0)?.without_parens();
            let mut v = if let Expr::Vector(vs) = inner {
                if let Some(at) = &vs.at {
                    let mut v = ev.eval_timestamp_pinned(vs, at, ts)?;
                    for s in &mut v {
                        drop_name(ev, s);
                    }
                    return Ok(Val::Vector(v));
                }
                let (mut v, tss) = ev.eval_vector_selector(vs, ts, true)?;
                for (s, t) in v.iter_mut().zip(tss) {
                    for (i, st) in t.into_iter().enumerate() {
                        if s.present(i) {
                            s.vals[i] = Some(st as f64 / 1000.0);
                        }
                    }
                    s.drop_histograms();
                }
                v
            } else {
                let mut v = arg_vector(ev, inner, ts)?;
                for s in &mut v {
                    for (i, &t) in ts.iter().enumerate() {
                        if s.present(i) {
                            s.vals[i] = Some(t as f64 / 1000.0);
                        }
                    }
                    s.drop_histograms();
                }
                v
            };
            for s in &mut v {
                drop_name(ev, s);
            }
            Ok(Val::Vector(v))
        }
        "start_timestamp" => {
            // Only a selector's samples carry their starts; an expression gives nothing (Prometheus 3.14).
            let inner = arg(0)?.without_parens();
            let Expr::Vector(vs) = inner else {
                arg_vector(ev, inner, ts)?;
                return Ok(Val::Vector(Vec::new()));
            };
            let (mut v, tss) = ev.eval_vector_selector(vs, ts, true)?;
            for (s, t) in v.iter_mut().zip(tss) {
                for (i, sample_t) in t.into_iter().enumerate() {
                    if s.present(i) {
                        let start = ev.store().start_timestamp_at(&s.labels, sample_t);
                        s.vals[i] = Some(start as f64 / 1000.0);
                    }
                }
                s.drop_histograms();
                drop_name(ev, s);
            }
            Ok(Val::Vector(v))
        }
        "absent" => {
            let a = arg(0)?;
            let v = arg_vector(ev, a, ts)?;
            let vals: Vec<Option<f64>> = (0..n)
                .map(|i| {
                    if v.iter().any(|s| s.present(i)) {
                        None
                    } else {
                        Some(1.0)
                    }
                })
                .collect();
            Ok(Val::Vector(absent_out(absent_labels(a), vals)))
        }
        "absent_over_time" => {
            let a = arg(0)?;
            let r = arg_range(ev, a, ts)?;
            let vals: Vec<Option<f64>> = (0..n)
                .map(|i| {
                    if r.series
                        .iter()
                        .any(|s| s.win[i].0 < s.win[i].1 || !s.hist_window(i).is_empty())
                    {
                        None
                    } else {
                        Some(1.0)
                    }
                })
                .collect();
            Ok(Val::Vector(absent_out(absent_labels(a), vals)))
        }
        "info" => info::eval(ev, &args, ts),
        "label_replace" | "label_join" => labels::eval(ev, name, &args, ts),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            labels::sort(ev, name, &args, ts)
        }
        "histogram_quantile" | "histogram_fraction" | "histogram_quantiles" => {
            histogram::eval(ev, name, &args, ts)
        }
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" => {
            // These read native histograms only; float samples give no output.
            let mut v = arg_vector(ev, arg(0)?, ts)?;
            for s in &mut v {
                let hists = std::mem::take(&mut s.hists);
                for (x, h) in s.vals.iter_mut().zip(hists.iter()) {
                    *x = h.as_ref().map(|h| native_histogram::simple(name, h));
                }
                if hists.is_empty() {
                    s.vals.iter_mut().for_each(|x| *x = None);
                }
                drop_name(ev, s);
            }
            v.retain(StepSeries::any);
            Ok(Val::Vector(v))
        }
        "round" | "clamp" | "clamp_min" | "clamp_max" => math::eval_param(ev, name, &args, ts),
        "minute" | "hour" | "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month"
        | "month" | "year" => time::eval(ev, name, &args, ts),
        "rate" | "increase" | "delta" | "irate" | "idelta" => rate::eval(ev, name, arg(0)?, ts),
        _ => {
            if let Some(f) = math::unary(name) {
                let v = arg_vector(ev, arg(0)?, ts)?;
                return Ok(Val::Vector(map_values(ev, v, f)));
            }
            over_time::eval(ev, name, &args, ts)
        }
    }
}

fn absent_out(labels: Labels, vals: Vec<Option<f64>>) -> Vec<StepSeries> {
    if vals.iter().all(Option::is_none) {
        return Vec::new();
    }
    vec![StepSeries {
        labels,
        drop_name: false,
        vals,
        hists: StepHists::default(),
    }]
}
