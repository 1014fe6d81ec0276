//! `histogram_quantile` and `histogram_fraction` over classic histograms (series of cumulative `_bucket`
//! counters with an `le` label), grouped by their labels without `le`.

use super::native_histogram::{self, NanNote};
use super::{arg_scalar, arg_vector, drop_name, Context, EvalError, StepHists, StepSeries, Val};
use crate::promql::context::qerr;
use crate::promql::syntax::ast::Expr;
use crate::promql::value::format_value;
use crate::series::labels::FxBuild;
use std::collections::HashMap;

const LE: &str = "le";

fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < eps * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < eps
}

/// Sorts by upper bound and merges equal bounds.
fn prepare(b: &mut Vec<(f64, f64)>) {
    b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for &(u, c) in b.iter() {
        match out.last_mut() {
            Some(last) if last.0 == u => last.1 += c,
            _ => out.push((u, c)),
        }
    }
    *b = out;
}

/// Prometheus's `BucketQuantile`: (value, forced monotonic, fixed precision).
pub(crate) fn bucket_quantile(q: f64, b: &mut Vec<(f64, f64)>) -> (f64, bool, bool) {
    if q.is_nan() {
        return (f64::NAN, false, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false, false);
    }
    b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal));
    match b.last() {
        Some(l) if l.0 == f64::INFINITY => {}
        _ => return (f64::NAN, false, false),
    }
    prepare(b);
    let (mut forced, mut fixed) = (false, false);
    let mut prev = b[0].1;
    for item in b.iter_mut().skip(1) {
        let curr = item.1;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, 1e-12) {
            item.1 = prev;
            fixed = true;
            continue;
        }
        if curr < prev {
            item.1 = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    if b.len() < 2 {
        return (f64::NAN, forced, fixed);
    }
    let observations = b[b.len() - 1].1;
    if observations == 0.0 {
        return (f64::NAN, forced, fixed);
    }
    let mut rank = q * observations;
    let idx = b[..b.len() - 1].partition_point(|x| x.1 < rank);
    if idx == b.len() - 1 {
        return (b[b.len() - 2].0, forced, fixed);
    }
    if idx == 0 && b[0].0 <= 0.0 {
        return (b[0].0, forced, fixed);
    }
    let (mut start, end, mut count) = (0.0, b[idx].0, b[idx].1);
    if idx > 0 {
        start = b[idx - 1].0;
        count -= b[idx - 1].1;
        rank -= b[idx - 1].1;
    }
    (start + (end - start) * (rank / count), forced, fixed)
}

/// Fraction of observations between `lower` and `upper`, interpolating linearly inside buckets (the
/// lowest bucket starts at 0 when its upper bound is positive).
pub(crate) fn bucket_fraction(lower: f64, upper: f64, b: &mut Vec<(f64, f64)>) -> f64 {
    b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal));
    match b.last() {
        Some(l) if l.0 == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    prepare(b);
    let total = b[b.len() - 1].1;
    if total == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for (i, &(ub, cum)) in b.iter().enumerate() {
        let lb = if i == 0 {
            if ub > 0.0 {
                0.0
            } else {
                f64::NEG_INFINITY
            }
        } else {
            b[i - 1].0
        };
        let count = if i == 0 { cum } else { cum - b[i - 1].1 };
        if !lower_set && lb >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lb >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        // A bucket of infinite width is not interpolated: below -Inf-bounded buckets everything counts
        // as under the bound, in the +Inf bucket nothing does.
        let interp = |v: f64| {
            if lb.is_infinite() {
                rank + count
            } else if ub.is_infinite() {
                rank
            } else {
                rank + count * (v - lb) / (ub - lb)
            }
        };
        if !lower_set && lb < lower && ub > lower {
            lower_rank = interp(lower);
            lower_set = true;
        }
        if !upper_set && lb < upper && ub > upper {
            upper_rank = interp(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank += count;
    }
    if !lower_set || lower_rank > total {
        lower_rank = total;
    }
    if !upper_set || upper_rank > total {
        upper_rank = total;
    }
    (upper_rank - lower_rank) / total
}

/// The `histogram_quantiles` label value of quantile `q` (`FormatOpenMetricsFloat`: `0.5`, `1.0`).
fn quantile_label(q: f64) -> String {
    let mut text = format_value(q);
    if !text.contains(['.', 'e', 'N', 'I']) {
        text.push_str(".0");
    }
    text
}

fn parse_le(s: &str) -> Option<f64> {
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "+inf" | "inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => s.parse().ok()?,
    };
    Some(v)
}

pub(crate) fn eval(
    ev: &mut dyn Context,
    name: &str,
    args: &[&Expr],
    ts: &[i64],
) -> Result<Val, EvalError> {
    let n = ts.len();
    let missing = || qerr("missing argument");
    // histogram_quantiles(v, "label", q...) gives one series per quantile, labelled with it.
    let mut qlabel: Option<String> = None;
    let (params, vec_arg): (Vec<Vec<f64>>, &Expr) = match name {
        "histogram_quantile" => (
            vec![arg_scalar(ev, args[0], ts)?],
            args.get(1).copied().ok_or_else(missing)?,
        ),
        "histogram_quantiles" => {
            qlabel = Some(super::arg_string(
                ev,
                args.get(1).copied().ok_or_else(missing)?,
                ts,
            )?);
            let qs: Vec<Vec<f64>> = args[2..]
                .iter()
                .map(|a| arg_scalar(ev, a, ts))
                .collect::<Result<_, _>>()?;
            (qs, args[0])
        }
        _ => (
            vec![
                arg_scalar(ev, args[0], ts)?,
                arg_scalar(ev, args.get(1).copied().ok_or_else(missing)?, ts)?,
            ],
            args.get(2).copied().ok_or_else(missing)?,
        ),
    };
    let input = arg_vector(ev, vec_arg, ts)?;
    let arg_pos = vec_arg.span().start;
    let is_quantile = name != "histogram_fraction";
    if is_quantile {
        let qparams = if qlabel.is_some() {
            &args[2..]
        } else {
            &args[..1]
        };
        for (p, a) in params.iter().zip(qparams) {
            if let Some(bad) = p.iter().find(|x| x.is_nan() || **x < 0.0 || **x > 1.0) {
                ev.warn(format!(
                    "PromQL warning: quantile value should be between 0 and 1, got {} {}",
                    format_value(*bad),
                    ev.pos_at(a.span().start)
                ));
            }
        }
    }
    // Group by labels without `le`; the name stays in the key (marked for removal in the result).
    let mut groups: Vec<(StepSeries, Vec<(usize, f64)>)> = Vec::new();
    let mut index: HashMap<u64, usize, FxBuild> = HashMap::default();
    for (si, s) in input.iter().enumerate() {
        // Native histogram samples are answered on their own below; a series without float samples has
        // no classic buckets.
        if s.vals.iter().all(Option::is_none) {
            continue;
        }
        let le_str = s.labels.get_or_empty(LE);
        let Some(le) = parse_le(le_str) else {
            let mname = s.labels.name().unwrap_or("").to_string();
            let msg = format!(
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of {:?} for metric name {:?} {}",
                le_str,
                mname,
                ev.pos_at(arg_pos)
            );
            ev.warn(msg);
            continue;
        };
        let key = s.labels.hash_without_labels(&[LE], false);
        let g = match index.get(&key) {
            Some(&g) => g,
            None => {
                let mut st = StepSeries {
                    labels: s.labels.remove(LE),
                    drop_name: s.drop_name,
                    vals: vec![None; n],
                    hists: StepHists::default(),
                };
                drop_name(ev, &mut st);
                groups.push((st, Vec::new()));
                index.insert(key, groups.len() - 1);
                groups.len() - 1
            }
        };
        groups[g].1.push((si, le));
    }
    // A native histogram with the labels of a classic histogram's buckets (less `le`) at the same step:
    // Prometheus answers neither and warns.
    let mut conflicts: Vec<(usize, usize)> = Vec::new(); // (series, step)
    for (si, s) in input.iter().enumerate() {
        if s.hists.is_empty() {
            continue;
        }
        let key = s.labels.hash_without_labels(&[LE], false);
        let Some(&g) = index.get(&key) else { continue };
        for i in 0..n {
            if s.hist(i).is_some() && groups[g].1.iter().any(|&(m, _)| input[m].vals[i].is_some()) {
                conflicts.push((si, i));
                let name = if ev.opts().delayed_name_removal {
                    s.labels.name().unwrap_or("")
                } else {
                    ""
                };
                let msg = format!(
                    "PromQL warning: vector contains a mix of classic and native histograms for metric name {name:?} {}",
                    ev.pos_at(arg_pos)
                );
                ev.warn(msg);
            }
        }
    }
    let mut buf: Vec<(f64, f64)> = Vec::new();
    let mut out = Vec::with_capacity(groups.len());
    let mut nan_notes: Vec<(String, NanNote)> = Vec::new();
    for (si, s) in input.iter().enumerate() {
        if s.hists.is_empty() {
            continue;
        }
        let outputs = if is_quantile { params.len() } else { 1 };
        for qi in 0..outputs {
            let mut st = StepSeries {
                labels: s.labels.clone(),
                drop_name: s.drop_name,
                vals: vec![None; n],
                hists: StepHists::default(),
            };
            if let Some(l) = &qlabel {
                let q = params[qi].first().copied().unwrap_or(f64::NAN);
                st.labels = st.labels.set(l, &quantile_label(q));
            }
            drop_name(ev, &mut st);
            #[allow(clippy::needless_range_loop)]
            // `i` indexes the input, the parameters and the output alike.
            for i in 0..n {
                let Some(h) = s.hist(i) else { continue };
                if conflicts.contains(&(si, i)) {
                    continue;
                }
                let (v, note) = if is_quantile {
                    native_histogram::quantile(params[qi][i], h)
                } else {
                    native_histogram::fraction(params[0][i], params[1][i], h)
                };
                if note != NanNote::None {
                    nan_notes.push((s.labels.name().unwrap_or("").to_string(), note));
                }
                st.vals[i] = Some(v);
            }
            if st.any() {
                out.push(st);
            }
        }
    }
    for (name, note) in nan_notes {
        let what = match note {
            NanNote::QuantileNan => "input to histogram_quantile has NaN observations, result is NaN",
            NanNote::QuantileSkew => {
                "input to histogram_quantile has NaN observations, result is skewed higher"
            }
            _ => "input to histogram_fraction has NaN observations, which are excluded from all fractions",
        };
        let msg = format!(
            "PromQL info: {what} for metric name {name:?} {}",
            ev.pos_at(arg_pos)
        );
        ev.info(msg);
    }
    for (st, members) in groups {
        let mut forced_any = false;
        let outputs = if is_quantile { params.len() } else { 1 };
        for qi in 0..outputs {
            let mut st = st.clone();
            if let Some(l) = &qlabel {
                let q = params[qi].first().copied().unwrap_or(f64::NAN);
                st.labels = st.labels.set(l, &quantile_label(q));
            }
            #[allow(clippy::needless_range_loop)]
            // `i` indexes the inputs, the parameters and the output alike.
            for i in 0..n {
                buf.clear();
                buf.extend(
                    members
                        .iter()
                        .filter_map(|&(si, le)| input[si].vals[i].map(|v| (le, v))),
                );
                if buf.is_empty() {
                    continue;
                }
                if !conflicts.is_empty() {
                    let native = |&(s, k): &(usize, usize)| {
                        k == i
                            && input[s].labels.remove(LE) == input[members[0].0].labels.remove(LE)
                    };
                    if conflicts.iter().any(native) {
                        continue;
                    }
                }
                let v = if is_quantile {
                    let (v, forced, _) = bucket_quantile(params[qi][i], &mut buf);
                    forced_any |= forced;
                    v
                } else {
                    bucket_fraction(params[0][i], params[1][i], &mut buf)
                };
                st.vals[i] = Some(v);
            }
            if st.vals.iter().any(Option::is_some) {
                out.push(st);
            }
        }
        if forced_any {
            let mname = st.labels.name().unwrap_or("").to_string();
            let msg = format!(
                "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {:?} {}",
                mname,
                ev.pos_at(arg_pos)
            );
            ev.info(msg);
        }
    }
    Ok(Val::Vector(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_and_fixes_monotonicity() {
        // 10 observations: 5 <= 1, 10 <= 2. Median rank 5 falls at the top of bucket le=1.
        let mut b = vec![(1.0, 5.0), (2.0, 10.0), (f64::INFINITY, 10.0)];
        assert_eq!(bucket_quantile(0.5, &mut b).0, 1.0);
        let mut b = vec![(1.0, 5.0), (2.0, 4.0), (f64::INFINITY, 10.0)];
        let (_, forced, _) = bucket_quantile(0.5, &mut b);
        assert!(forced);
        let mut b = vec![(1.0, 5.0), (2.0, 10.0)];
        assert!(bucket_quantile(0.5, &mut b).0.is_nan());
    }

    #[test]
    fn fraction_of_all_below_upper() {
        let mut b = vec![(1.0, 5.0), (2.0, 10.0), (f64::INFINITY, 10.0)];
        assert_eq!(bucket_fraction(f64::NEG_INFINITY, 1.0, &mut b), 0.5);
        let mut b = vec![(1.0, 5.0), (2.0, 10.0), (f64::INFINITY, 10.0)];
        assert_eq!(bucket_fraction(1.0, 1.5, &mut b), 0.25);
    }
}
