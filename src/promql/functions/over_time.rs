//! `<aggregation>_over_time` functions and the other window functions: `changes`, `resets`, `deriv`,
//! `predict_linear`, `double_exponential_smoothing`, `ts_of_*_over_time`.

use super::{
    arg_range, arg_scalar, kahan_sum_inc, map_windows, map_windows_with_starts, Context, EvalError,
    RangeArg, StepHists, StepSeries, Val,
};
use crate::promql::aggregate::{prom_mean, quantile};
use crate::promql::context::qerr;
use crate::promql::syntax::ast::Expr;
use crate::promql::value::format_value;

/// Prometheus's `linearRegression` (Kahan sums, x relative to `intercept_t`).
pub(crate) fn linear_regression(s: &[(i64, f64)], intercept_t: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy, mut sxy, mut cxy, mut sx2, mut cx2) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let init_y = s[0].1;
    let mut const_y = true;
    for (i, &(t, v)) in s.iter().enumerate() {
        if const_y && i > 0 && v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_sum_inc(x, sx, cx);
        (sy, cy) = kahan_sum_inc(v, sy, cy);
        (sxy, cxy) = kahan_sum_inc(x * v, sxy, cxy);
        (sx2, cx2) = kahan_sum_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

fn stdvar(w: &[(i64, f64)]) -> f64 {
    let (mut count, mut mean, mut cmean, mut aux, mut caux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(_, f) in w {
        count += 1.0;
        let delta = f - (mean + cmean);
        (mean, cmean) = kahan_sum_inc(delta / count, mean, cmean);
        (aux, caux) = kahan_sum_inc(delta * (f - (mean + cmean)), aux, caux);
    }
    (aux + caux) / count
}

fn extreme(w: &[(i64, f64)], max: bool) -> (i64, f64) {
    let mut best = w[0];
    for &(t, f) in &w[1..] {
        let better = if max { f >= best.1 } else { f <= best.1 };
        if better || best.1.is_nan() {
            best = (t, f);
        }
    }
    best
}

/// min/max_over_time with a monotonic queue per series, so each sample enters and leaves once however
/// long the window. NaN samples never win against a number (Prometheus replaces a NaN running extreme
/// with the next value and never replaces a number with NaN), so they stay out of the queue; a window of
/// only NaNs gives NaN.
fn sliding_extreme(ev: &dyn Context, ra: &RangeArg, max: bool) -> Vec<StepSeries> {
    let mut out = Vec::with_capacity(ra.series.len());
    for s in &ra.series {
        let vals = sliding_extreme_values(&s.samples, &s.win, max);
        if vals.iter().any(Option::is_some) {
            let mut st = StepSeries {
                labels: s.labels.clone(),
                drop_name: s.drop_name,
                vals,
                hists: StepHists::default(),
            };
            super::drop_name(ev, &mut st);
            out.push(st);
        }
    }
    out
}

/// sum/avg_over_time. For a series whose values are all integers small enough that every partial sum
/// is exact in a float, any summation order gives Prometheus's (Kahan) result bit for bit, so windows
/// are answered from prefix sums; other series are summed window by window as Prometheus does.
fn sum_or_avg(ev: &dyn Context, ra: &RangeArg, avg: bool) -> Vec<StepSeries> {
    let mut out = Vec::with_capacity(ra.series.len());
    for s in &ra.series {
        let vals = sum_or_avg_values(&s.samples, &s.win, avg);
        if vals.iter().any(Option::is_some) {
            let mut st = StepSeries {
                labels: s.labels.clone(),
                drop_name: s.drop_name,
                vals,
                hists: StepHists::default(),
            };
            super::drop_name(ev, &mut st);
            out.push(st);
        }
    }
    out
}

/// Prometheus's window sum (Kahan) or mean, by scanning.
fn scan_sum_or_avg(w: &[(i64, f64)], avg: bool) -> f64 {
    if avg {
        return prom_mean(w.iter().map(|p| p.1));
    }
    let (mut sum, mut c) = (0.0, 0.0);
    for p in w {
        (sum, c) = kahan_sum_inc(p.1, sum, c);
    }
    sum + c
}

fn sum_or_avg_values(smp: &[(i64, f64)], win: &[(usize, usize)], avg: bool) -> Vec<Option<f64>> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    let max_abs = smp.iter().fold(0.0f64, |m, p| m.max(p.1.abs()));
    // -0.0 is left to the scan so the sign of a zero result matches too.
    let exact = smp
        .iter()
        .all(|p| p.1.fract() == 0.0 && p.1.to_bits() != (-0.0f64).to_bits())
        && max_abs * (smp.len() as f64) < EXACT;
    let mut prefix: Vec<f64> = Vec::new();
    if exact {
        prefix.reserve(smp.len() + 1);
        prefix.push(0.0);
        let mut acc = 0.0;
        for p in smp {
            acc += p.1;
            prefix.push(acc);
        }
    }
    win.iter()
        .map(|&(a, b)| {
            if a >= b {
                return None;
            }
            Some(match (exact, avg) {
                (true, false) => prefix[b] - prefix[a],
                (true, true) => (prefix[b] - prefix[a]) / (b - a) as f64,
                (false, _) => scan_sum_or_avg(&smp[a..b], avg),
            })
        })
        .collect()
}

/// The per-step extremes of one series' windows.
fn sliding_extreme_values(
    smp: &[(i64, f64)],
    win: &[(usize, usize)],
    max: bool,
) -> Vec<Option<f64>> {
    // The queue only works while windows move forward; otherwise scan each window.
    let forward = win.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1);
    let mut q: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut next = 0usize;
    win.iter()
        .map(|&(a, b)| {
            if a >= b {
                return None;
            }
            if !forward {
                return Some(extreme(&smp[a..b], max).1);
            }
            next = next.max(a);
            while next < b {
                let v = smp[next].1;
                if !v.is_nan() {
                    while let Some(&back) = q.back() {
                        let bv = smp[back].1;
                        if (max && bv <= v) || (!max && bv >= v) {
                            q.pop_back();
                        } else {
                            break;
                        }
                    }
                    q.push_back(next);
                }
                next += 1;
            }
            while q.front().is_some_and(|&f| f < a) {
                q.pop_front();
            }
            Some(q.front().map_or(f64::NAN, |&f| smp[f].1))
        })
        .collect()
}

/// What the window functions make of native histogram samples, laid over the float answers `out` (computed
/// from the float samples alone): counted by `count_over_time` and `present_over_time`, returned by
/// `last_over_time` / `first_over_time` when they are the latest / earliest sample, summed and averaged by
/// `sum_over_time` / `avg_over_time` when the window holds no float (a mix is a warning and no value),
/// compared by `changes` and `resets`, and otherwise ignored (with an info when the window also holds floats).
fn with_histograms(
    ev: &mut dyn Context,
    name: &str,
    ra: &RangeArg,
    mut out: Vec<StepSeries>,
    at: usize,
) -> Vec<StepSeries> {
    use std::sync::Arc;
    if ra.series.iter().all(|s| s.hists.is_none()) {
        return out;
    }
    let keep_name = matches!(name, "last_over_time" | "first_over_time");
    let mut index: std::collections::HashMap<crate::series::Labels, usize> = out
        .iter()
        .enumerate()
        .map(|(k, s)| (s.labels.clone(), k))
        .collect();
    let n = ra.ends.len();
    for s in &ra.series {
        if s.hists.is_none() {
            continue;
        }
        let metric = s.labels.name().unwrap_or("").to_string();
        let mut st = StepSeries {
            labels: s.labels.clone(),
            drop_name: s.drop_name,
            vals: vec![None; n],
            hists: StepHists::nones(n),
        };
        if !keep_name {
            super::drop_name(ev, &mut st);
        }
        let k = match index.get(&st.labels) {
            Some(&k) => k,
            None => {
                out.push(st);
                index.insert(out[out.len() - 1].labels.clone(), out.len() - 1);
                out.len() - 1
            }
        };
        if out[k].hists.is_empty() {
            out[k].hists = StepHists::nones(n);
        }
        for i in 0..n {
            let hw = s.hist_window(i);
            if hw.is_empty() {
                continue;
            }
            let (a, b) = s.win[i];
            let fw = &s.samples[a..b];
            let o = &mut out[k];
            let set_h = |o: &mut StepSeries, h: Arc<crate::series::histogram::FloatHistogram>| {
                o.vals[i] = None;
                o.hists[i] = Some(h);
            };
            match name {
                "count_over_time" => o.vals[i] = Some((fw.len() + hw.len()) as f64),
                "present_over_time" => o.vals[i] = Some(1.0),
                "last_over_time" => {
                    if fw.last().is_none_or(|f| f.0 < hw[hw.len() - 1].0) {
                        set_h(o, hw[hw.len() - 1].1.clone());
                    }
                }
                "first_over_time" => {
                    if fw.first().is_none_or(|f| f.0 > hw[0].0) {
                        set_h(o, hw[0].1.clone());
                    }
                }
                "ts_of_last_over_time" => {
                    let t = fw.last().map_or(i64::MIN, |f| f.0).max(hw[hw.len() - 1].0);
                    o.vals[i] = Some(t as f64 / 1000.0);
                }
                "ts_of_first_over_time" => {
                    let t = fw.first().map_or(i64::MAX, |f| f.0).min(hw[0].0);
                    o.vals[i] = Some(t as f64 / 1000.0);
                }
                "sum_over_time" | "avg_over_time" => {
                    if !fw.is_empty() {
                        o.vals[i] = None;
                        ev.warn(format!("PromQL warning: encountered a mix of histograms and floats for metric name {metric:?} {}", ev.pos_at(at)));
                        continue;
                    }
                    let hs: Vec<&Arc<crate::series::histogram::FloatHistogram>> =
                        hw.iter().map(|(_, h)| h).collect();
                    let (acc, collision, reconciled) =
                        match crate::promql::aggregate::sum_histograms(&hs, name == "avg_over_time")
                        {
                            Ok(x) => x,
                            Err(_) => {
                                ev.warn(format!("PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?} {}", ev.pos_at(at)));
                                continue;
                            }
                        };
                    if reconciled {
                        ev.info(format!(
                            "PromQL info: mismatched custom buckets were reconciled during aggregation {}",
                            ev.pos_at(at)
                        ));
                    }
                    if collision {
                        ev.warn(format!(
                            "PromQL warning: conflicting counter resets during histogram aggregation {}",
                            ev.pos_at(at)
                        ));
                    }
                    set_h(&mut out[k], Arc::new(acc));
                }
                "changes" | "resets" => {
                    // Floats and histograms in time order, each with its start timestamp (0: unknown); a
                    // change of kind is a change and a reset, and so is a start after the sample before.
                    let float_st = s.float_starts().map(|st| &st[a..b]);
                    let hist_st = s.hist_starts(i);
                    let mut seq: Vec<(super::TimedValue, i64)> = fw
                        .iter()
                        .enumerate()
                        .map(|(k, &(t, v))| {
                            let st = float_st.and_then(|st| st.get(k)).copied().unwrap_or(0);
                            ((t, Some(v), None), st)
                        })
                        .collect();
                    seq.extend(hw.iter().enumerate().map(|(k, (t, h))| {
                        let st = hist_st.and_then(|st| st.get(k)).copied().unwrap_or(0);
                        ((*t, None, Some(h)), st)
                    }));
                    seq.sort_by_key(|p| p.0 .0);
                    let mut c = 0.0;
                    for w in seq.windows(2) {
                        let ((p0, st0), (p1, st1)) = (w[0], w[1]);
                        if name == "resets" && super::start_time::is_reset(st0, p0.0, st1, p1.0) {
                            c += 1.0;
                            continue;
                        }
                        let p = [p0, p1];
                        let hit = match ((p[0].1, p[0].2), (p[1].1, p[1].2)) {
                            ((Some(x), _), (Some(y), _)) => {
                                if name == "changes" {
                                    !(x == y || (x.is_nan() && y.is_nan()))
                                } else {
                                    y < x
                                }
                            }
                            ((_, Some(x)), (_, Some(y))) => {
                                if name == "changes" {
                                    !y.matches(x, false, |a, b| a.to_bits() == b.to_bits())
                                } else {
                                    y.detect_reset(x)
                                }
                            }
                            _ => true,
                        };
                        if hit {
                            c += 1.0;
                        }
                    }
                    o.vals[i] = Some(c);
                }
                _ => {
                    if !fw.is_empty() {
                        ev.info(format!("PromQL info: ignored histograms in a range containing both floats and histograms for metric name {metric:?} {}", ev.pos_at(at)));
                    }
                }
            }
        }
    }
    out.retain(StepSeries::any);
    out
}

pub(crate) fn eval(
    ev: &mut dyn Context,
    name: &str,
    args: &[&Expr],
    ts: &[i64],
) -> Result<Val, EvalError> {
    let first_arg = args
        .first()
        .ok_or_else(|| qerr(format!("missing argument to {name}")))?;
    let out = match name {
        "quantile_over_time" => {
            let q = arg_scalar(ev, first_arg, ts)?;
            let ra = arg_range(ev, args.get(1).ok_or_else(|| qerr("missing argument"))?, ts)?;
            if let Some(bad) = q.iter().find(|x| x.is_nan() || **x < 0.0 || **x > 1.0) {
                ev.warn(format!(
                    "PromQL warning: quantile value should be between 0 and 1, got {} {}",
                    format_value(*bad),
                    ev.pos_at(first_arg.span().start)
                ));
            }
            let mut buf = Vec::new();
            let out = map_windows(ev, &ra, false, |w, i| {
                buf.clear();
                buf.extend(w.iter().map(|p| p.1));
                Some(quantile(q[i], &mut buf))
            });
            with_histograms(ev, name, &ra, out, args[1].span().start)
        }
        "predict_linear" => {
            let ra = arg_range(ev, first_arg, ts)?;
            let d = arg_scalar(ev, args.get(1).ok_or_else(|| qerr("missing argument"))?, ts)?;
            let out = map_windows(ev, &ra, false, |w, i| {
                if w.len() < 2 {
                    return None;
                }
                let (slope, intercept) = linear_regression(w, ts[i]);
                Some(slope * d[i] + intercept)
            });
            with_histograms(ev, name, &ra, out, first_arg.span().start)
        }
        "double_exponential_smoothing" | "holt_winters" => {
            let ra = arg_range(ev, first_arg, ts)?;
            let sf = arg_scalar(ev, args.get(1).ok_or_else(|| qerr("missing argument"))?, ts)?;
            let tf = arg_scalar(ev, args.get(2).ok_or_else(|| qerr("missing argument"))?, ts)?;
            for (&s, &t) in sf.iter().zip(&tf) {
                if !(s > 0.0 && s < 1.0) {
                    return Err(qerr(format!(
                        "invalid smoothing factor. Expected: 0 < sf < 1, got: {s}"
                    )));
                }
                if !(t > 0.0 && t < 1.0) {
                    return Err(qerr(format!(
                        "invalid trend factor. Expected: 0 < tf < 1, got: {t}"
                    )));
                }
            }
            let out = map_windows(ev, &ra, false, |w, i| {
                if w.len() < 2 {
                    return None;
                }
                let (sf, tf) = (sf[i], tf[i]);
                let (mut s0, mut s1) = (0.0, w[0].1);
                let mut b = w[1].1 - w[0].1;
                for (j, &(_, v)) in w.iter().enumerate().skip(1) {
                    let x = sf * v;
                    if j > 1 {
                        b = tf * (s1 - s0) + (1.0 - tf) * b;
                    }
                    let y = (1.0 - sf) * (s1 + b);
                    s0 = s1;
                    s1 = x + y;
                }
                Some(s1)
            });
            with_histograms(ev, name, &ra, out, first_arg.span().start)
        }
        "min_over_time" | "max_over_time" => {
            let ra = arg_range(ev, first_arg, ts)?;
            let out = sliding_extreme(ev, &ra, name == "max_over_time");
            with_histograms(ev, name, &ra, out, first_arg.span().start)
        }
        "sum_over_time" | "avg_over_time" => {
            let ra = arg_range(ev, first_arg, ts)?;
            let out = sum_or_avg(ev, &ra, name == "avg_over_time");
            with_histograms(ev, name, &ra, out, first_arg.span().start)
        }
        _ => {
            let ra = arg_range(ev, first_arg, ts)?;
            let keep_name = matches!(name, "last_over_time" | "first_over_time");
            let f: fn(&[(i64, f64)]) -> Option<f64> = match name {
                "avg_over_time" => |w| Some(prom_mean(w.iter().map(|p| p.1))),
                "sum_over_time" => |w| {
                    let (mut s, mut c) = (0.0, 0.0);
                    for p in w {
                        (s, c) = kahan_sum_inc(p.1, s, c);
                    }
                    Some(s + c)
                },
                "count_over_time" => |w| Some(w.len() as f64),
                "last_over_time" => |w| w.last().map(|p| p.1),
                "first_over_time" => |w| w.first().map(|p| p.1),
                "ts_of_last_over_time" => |w| w.last().map(|p| p.0 as f64 / 1000.0),
                "ts_of_first_over_time" => |w| w.first().map(|p| p.0 as f64 / 1000.0),
                "ts_of_max_over_time" => |w| Some(extreme(w, true).0 as f64 / 1000.0),
                "ts_of_min_over_time" => |w| Some(extreme(w, false).0 as f64 / 1000.0),
                "present_over_time" => |_| Some(1.0),
                "stdvar_over_time" => |w| Some(stdvar(w)),
                "stddev_over_time" => |w| Some(stdvar(w).sqrt()),
                "mad_over_time" => |w| {
                    if w.iter().any(|p| p.1.is_nan()) {
                        return Some(f64::NAN);
                    }
                    let mut v: Vec<f64> = w.iter().map(|p| p.1).collect();
                    let med = quantile(0.5, &mut v);
                    let mut dev: Vec<f64> = w.iter().map(|p| (p.1 - med).abs()).collect();
                    Some(quantile(0.5, &mut dev))
                },
                "changes" => |w| {
                    let mut c = 0.0;
                    for p in w.windows(2) {
                        let (a, b) = (p[0].1, p[1].1);
                        if !(a == b || (a.is_nan() && b.is_nan())) {
                            c += 1.0;
                        }
                    }
                    Some(c)
                },
                "resets" => |w| Some(w.windows(2).filter(|p| p[1].1 < p[0].1).count() as f64),
                "deriv" => |w| {
                    if w.len() < 2 {
                        return None;
                    }
                    Some(linear_regression(w, w[0].0).0)
                },
                other => return Err(EvalError::Unsupported(format!("function {other}"))),
            };
            let out = map_windows_with_starts(ev, &ra, keep_name, |w, sts, _| match sts {
                // A start after the sample before is a reset too.
                Some(sts) if name == "resets" => Some(super::start_time::resets(w, sts) as f64),
                _ => f(w),
            });
            with_histograms(ev, name, &ra, out, first_arg.span().start)
        }
    };
    Ok(Val::Vector(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prefix_sums_equal_kahan_scan(
            vals in prop::collection::vec(prop_oneof![60 => (-1000i64..1000).prop_map(|v| v as f64), 1 => Just(0.5), 1 => Just(1e300)], 1..60),
            width in 1usize..10,
        ) {
            let smp: Vec<(i64, f64)> = vals.iter().enumerate().map(|(i, v)| (i as i64, *v)).collect();
            let win: Vec<(usize, usize)> = (0..smp.len()).map(|b| (b.saturating_sub(width), b + 1)).collect();
            for avg in [false, true] {
                let got = sum_or_avg_values(&smp, &win, avg);
                for (g, &(a, b)) in got.iter().zip(&win) {
                    let want = scan_sum_or_avg(&smp[a..b], avg);
                    let g = g.unwrap_or(f64::NAN);
                    prop_assert!(g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()), "window {a}..{b} avg={avg}: {g} vs {want}");
                }
            }
        }

        #[test]
        fn sliding_extremes_equal_scanning(
            vals in prop::collection::vec(prop_oneof![9 => (-50i32..50).prop_map(f64::from), 1 => Just(f64::NAN)], 1..60),
            width in 1usize..10,
            stride in 1usize..4,
        ) {
            let smp: Vec<(i64, f64)> = vals.iter().enumerate().map(|(i, v)| (i as i64, *v)).collect();
            let win: Vec<(usize, usize)> = (0..smp.len()).step_by(stride).map(|b| (b.saturating_sub(width), b + 1)).collect();
            for max in [true, false] {
                let got = sliding_extreme_values(&smp, &win, max);
                for (g, &(a, b)) in got.iter().zip(&win) {
                    let want = extreme(&smp[a..b], max).1;
                    let g = g.unwrap_or(f64::INFINITY);
                    prop_assert!(g == want || (g.is_nan() && want.is_nan()), "window {a}..{b} max={max}: {g} vs {want}");
                }
            }
        }
    }
}
