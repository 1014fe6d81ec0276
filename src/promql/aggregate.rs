//! Aggregation operators (`sum`, `avg`, `count`, `min`, `max`, `group`, `stddev`, `stdvar`, `topk`,
//! `bottomk`, `quantile`, `count_values`, `limitk`, `limit_ratio`) with `by`/`without`. Each input series
//! is assigned to its group once; each step then folds the present members.

use super::context::{qerr, Context, EvalError, StepHists, StepSeries, Val};
use super::syntax::ast::Expr;
use super::value::format_value;
use crate::semantics::Difference;
use crate::series::histogram::FloatHistogram;
use crate::series::kahan::inc as kahan_sum_inc;
use crate::series::labels::{FxBuild, METRIC_NAME};
use crate::series::Labels;
use std::collections::HashMap;
use std::sync::Arc;

/// Prometheus's `quantile` over values (NaN sorts first; out-of-range `q` gives ±Inf).
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Mean as Prometheus computes it: a Kahan sum, switching to an incremental mean if the sum overflows.
pub(crate) fn prom_mean(vals: impl Iterator<Item = f64>) -> f64 {
    let mut it = vals;
    let Some(first) = it.next() else {
        return f64::NAN;
    };
    let (mut sum, mut c, mut count) = (first, 0.0, 1.0);
    let mut mean = 0.0;
    let mut incremental = false;
    for f in it {
        count += 1.0;
        if !incremental {
            let (ns, nc) = kahan_sum_inc(f, sum, c);
            if !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        let (m, nc) = kahan_sum_inc(f / count, q * mean, q * c);
        mean = m;
        c = nc;
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

fn param_k(v: f64, what: &str) -> Result<i64, EvalError> {
    if v.is_nan() {
        return Err(qerr(format!("{what} value is NaN")));
    }
    Ok(if v >= i64::MAX as f64 {
        i64::MAX
    } else if v <= i64::MIN as f64 {
        i64::MIN
    } else {
        v as i64
    })
}

/// `a` is an [`Expr::Aggregate`].
pub(crate) fn eval_aggregate(ev: &mut dyn Context, a: &Expr, ts: &[i64]) -> Result<Val, EvalError> {
    let Expr::Aggregate {
        op,
        expr: inner,
        param: param_expr,
        grouping,
        without,
        ..
    } = a
    else {
        return Err(qerr("not an aggregation"));
    };
    let op: &str = op.text().unwrap_or_default();
    let n = ts.len();
    let param = match param_expr {
        Some(p) => Some(ev.eval(p, ts)?),
        None => None,
    };
    // Which of several equal values topk / bottomk keep, and which series limitk keeps, depend on the order
    // of the input series (see `go_heap_select`).
    let ordered = matches!(op, "topk" | "bottomk" | "limitk");
    let saved = ev.label_order();
    ev.set_label_order(ordered || saved);
    let input = ev.eval(inner, ts);
    ev.set_label_order(saved);
    let input = match input? {
        Val::Vector(v) => v,
        other => {
            return Err(qerr(format!(
                "expected instant vector in aggregation, got {}",
                other.type_name()
            )))
        }
    };

    // Group assignment, once per series.
    let (by, names): (bool, Vec<String>) = (!*without, grouping.clone());
    let by_name = by && names.iter().any(|x| x == METRIC_NAME);
    let mut group_of: Vec<usize> = Vec::with_capacity(input.len());
    let mut groups: Vec<(Labels, bool)> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<u64, usize, FxBuild> = HashMap::default();
    for (i, s) in input.iter().enumerate() {
        let key = if by {
            s.labels.hash_for_labels(&names)
        } else {
            s.labels.hash_without_labels(&names, true)
        };
        let g = match index.get(&key) {
            Some(&g) => g,
            None => {
                let labels = if by {
                    s.labels.keep(&names)
                } else {
                    s.labels.without(&names).without_name()
                };
                groups.push((labels, false));
                members.push(Vec::new());
                index.insert(key, groups.len() - 1);
                groups.len() - 1
            }
        };
        if by_name && s.drop_name {
            groups[g].1 = true;
        }
        group_of.push(g);
        members[g].push(i);
    }

    let scalar_param = |what: &str| -> Result<Vec<f64>, EvalError> {
        match &param {
            Some(Val::Scalar(v)) => Ok(v.clone()),
            _ => Err(qerr(format!("expected scalar parameter for {what}"))),
        }
    };

    match op {
        "topk" | "bottomk" | "limitk" | "limit_ratio" => {
            let p = scalar_param(op)?;
            // Per series and step, whether the value is kept.
            let mut keep: Vec<Vec<bool>> = vec![vec![false; n]; input.len()];
            let mut rank_first: Vec<(usize, usize)> = Vec::new(); // (series, position) at step 0
            let mut hist_ignored = false;
            if op == "limit_ratio" {
                // The ratio may differ per step (prometheus#15971).
                let offsets: Vec<f64> = input
                    .iter()
                    .map(|s| super::xxhash::labels_hash(&s.labels) as f64 / u64::MAX as f64)
                    .collect();
                let param_at = param_expr
                    .as_ref()
                    .map_or(a.span().start, |p| p.span().start);
                for (i, &given) in p.iter().enumerate().take(n) {
                    let mut r = given;
                    if r.is_nan() {
                        return Err(qerr("Ratio value is NaN"));
                    }
                    if !(-1.0..=1.0).contains(&r) {
                        let capped = r.clamp(-1.0, 1.0);
                        ev.warn(format!(
                            "PromQL warning: ratio value should be between -1 and 1, got {}, capping to {} {}",
                            format_value(r),
                            format_value(capped),
                            ev.pos_at(param_at)
                        ));
                        r = capped;
                    }
                    for (si, s) in input.iter().enumerate() {
                        let offset = offsets[si];
                        let take = (r >= 0.0 && offset < r) || (r < 0.0 && offset >= 1.0 + r);
                        if take && s.present(i) {
                            keep[si][i] = true;
                        }
                    }
                }
            } else {
                let legacy = ev.opts().prometheus2(Difference::TopkTies);
                for i in 0..n {
                    let k = param_k(p[i], "Parameter")?;
                    if k < 1 {
                        continue;
                    }
                    for mem in &members {
                        // limitk keeps histogram samples too; topk and bottomk ignore them.
                        let present: Vec<(usize, f64)> = mem
                            .iter()
                            .filter_map(|&si| match (input[si].vals[i], input[si].hist(i)) {
                                (Some(v), _) => Some((si, v)),
                                (None, Some(_)) if op == "limitk" => Some((si, 0.0)),
                                (None, Some(_)) => {
                                    hist_ignored = true;
                                    None
                                }
                                _ => None,
                            })
                            .collect();
                        let k = usize::try_from(k).unwrap_or(usize::MAX);
                        let kept = match op {
                            "topk" => go_heap_select(&present, k, true, legacy),
                            "bottomk" => go_heap_select(&present, k, false, legacy),
                            _ => present.into_iter().take(k).collect(),
                        };
                        for (pos, (si, _)) in kept.into_iter().enumerate() {
                            keep[si][i] = true;
                            if i == 0 {
                                rank_first.push((si, pos));
                            }
                        }
                    }
                }
            }
            if hist_ignored {
                ev.info(format!(
                    "PromQL info: ignored histogram in {op} aggregation {}",
                    ev.pos_at(a.span().start)
                ));
            }
            let mut out: Vec<(usize, StepSeries)> = Vec::new();
            for (si, (mut s, kept)) in input.into_iter().zip(keep).enumerate() {
                if kept.iter().any(|&k| k) {
                    for (i, k) in kept.into_iter().enumerate() {
                        if !k {
                            s.clear(i);
                        }
                    }
                    out.push((si, s));
                }
            }
            if n == 1 && op != "limitk" && op != "limit_ratio" {
                // Instant results come grouped, each group in rank order, as Prometheus returns them.
                let pos: HashMap<usize, usize> = rank_first.iter().copied().collect();
                out.sort_by_key(|(si, _)| (group_of[*si], pos.get(si).copied().unwrap_or(0)));
            }
            Ok(Val::Vector(out.into_iter().map(|(_, s)| s).collect()))
        }
        "count_values" => {
            let label = match &param {
                Some(Val::Str(s)) => s.clone(),
                _ => return Err(qerr("expected string parameter for count_values")),
            };
            if !crate::promql::legacy_names::valid_label_name(&label) {
                let quoted = crate::promql::legacy_names::go_quoted(&label);
                return Err(qerr(format!("invalid label name {quoted}")));
            }
            // As Prometheus does: the value label is set on each series first, then the grouping applies
            // (`by` keeps the value label too; `without` may drop it, as in `count_values without (job)
            // ("job", x)`), and series whose resulting labels agree are counted together.
            let mut keep = names.clone();
            keep.push(label.clone());
            let mut out: Vec<StepSeries> = Vec::new();
            let mut idx: HashMap<(usize, String), usize> = HashMap::new();
            let mut by_labels: HashMap<Labels, usize, FxBuild> = HashMap::default();
            for i in 0..n {
                for (si, series) in input.iter().enumerate() {
                    // A histogram's value label is its `String()` form.
                    let text = match (series.vals[i], series.hist(i)) {
                        (Some(v), _) => format_value(v),
                        (None, Some(h)) => h.go_string(),
                        _ => continue,
                    };
                    let key = (si, text);
                    let oi = match idx.get(&key) {
                        Some(&oi) => oi,
                        None => {
                            let with_value = series.labels.set(&label, &key.1);
                            let labels = if by {
                                with_value.keep(&keep)
                            } else {
                                with_value.without(&names).without_name()
                            };
                            let oi = match by_labels.get(&labels) {
                                Some(&oi) => oi,
                                None => {
                                    out.push(StepSeries {
                                        labels: labels.clone(),
                                        drop_name: by_name && series.drop_name,
                                        vals: vec![None; n],
                                        hists: StepHists::default(),
                                    });
                                    by_labels.insert(labels, out.len() - 1);
                                    out.len() - 1
                                }
                            };
                            idx.insert(key, oi);
                            oi
                        }
                    };
                    let c = out[oi].vals[i].get_or_insert(0.0);
                    *c += 1.0;
                }
            }
            Ok(Val::Vector(out))
        }
        _ => {
            let q = if op == "quantile" {
                Some(scalar_param("quantile")?)
            } else {
                None
            };
            if let Some(q) = &q {
                if let Some(bad) = q.iter().find(|x| x.is_nan() || **x < 0.0 || **x > 1.0) {
                    ev.warn(format!(
                        "PromQL warning: quantile value should be between 0 and 1, got {} {}",
                        format_value(*bad),
                        ev.pos_at(param_expr.as_ref().map_or(0, |p| p.span().start))
                    ));
                }
            }
            let mut out: Vec<StepSeries> = groups
                .iter()
                .map(|(l, d)| StepSeries {
                    labels: l.clone(),
                    drop_name: *d,
                    vals: vec![None; n],
                    hists: StepHists::default(),
                })
                .collect();
            let reduce = Reduce::parse(op)
                .ok_or_else(|| EvalError::Unsupported(format!("aggregation {op}")))?;
            let mut buf: Vec<f64> = Vec::new();
            let mut hbuf: Vec<&Arc<FloatHistogram>> = Vec::new();
            let inner_at = inner.span().start;
            let any_histograms = input.iter().any(|s| !s.hists.is_empty());
            for i in 0..n {
                for (g, mem) in members.iter().enumerate() {
                    buf.clear();
                    hbuf.clear();
                    if any_histograms {
                        for &si in mem {
                            match (input[si].vals[i], input[si].hist(i)) {
                                (Some(v), _) => buf.push(v),
                                (None, Some(h)) => hbuf.push(h),
                                _ => {}
                            }
                        }
                    } else {
                        buf.extend(mem.iter().filter_map(|&si| input[si].vals[i]));
                    }
                    if !hbuf.is_empty() {
                        match op {
                            "count" | "group" => {}
                            "sum" | "avg" if !buf.is_empty() => {
                                ev.warn(format!("PromQL warning: encountered a mix of histograms and floats for aggregation {}", ev.pos_at(inner_at)));
                                continue;
                            }
                            "sum" | "avg" => {
                                let metric = |h: &Arc<FloatHistogram>| {
                                    mem.iter()
                                        .find(|&&si| {
                                            input[si].hist(i).is_some_and(|x| Arc::ptr_eq(x, h))
                                        })
                                        .and_then(|&si| input[si].labels.name().map(str::to_string))
                                        .unwrap_or_default()
                                };
                                match sum_histograms(&hbuf, op == "avg") {
                                    Ok((h, collision, reconciled)) => {
                                        if reconciled {
                                            ev.info(format!("PromQL info: mismatched custom buckets were reconciled during aggregation {}", ev.pos_at(inner_at)));
                                        }
                                        if collision {
                                            ev.warn(format!("PromQL warning: conflicting counter resets during histogram aggregation {}", ev.pos_at(inner_at)));
                                        }
                                        if out[g].hists.is_empty() {
                                            out[g].hists = StepHists::nones(n);
                                        }
                                        out[g].hists[i] = Some(Arc::new(h));
                                    }
                                    Err(k) => ev.warn(format!(
                                        "PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {:?} {}",
                                        metric(hbuf[k]),
                                        ev.pos_at(inner_at)
                                    )),
                                }
                                continue;
                            }
                            other => {
                                ev.info(format!(
                                    "PromQL info: ignored histogram in {other} aggregation {}",
                                    ev.pos_at(inner_at)
                                ));
                            }
                        }
                    }
                    let counted = match reduce {
                        Reduce::Count | Reduce::Group => buf.len() + hbuf.len(),
                        _ => buf.len(),
                    };
                    if counted == 0 {
                        continue;
                    }
                    let v = match reduce {
                        Reduce::Sum => {
                            let (mut s, mut c) = (buf[0], 0.0);
                            for &f in &buf[1..] {
                                (s, c) = kahan_sum_inc(f, s, c);
                            }
                            s + c
                        }
                        Reduce::Avg => prom_mean(buf.iter().copied()),
                        Reduce::Count => counted as f64,
                        Reduce::Group => 1.0,
                        Reduce::Max => {
                            buf[1..]
                                .iter()
                                .fold(buf[0], |m, &f| if m < f || m.is_nan() { f } else { m })
                        }
                        Reduce::Min => {
                            buf[1..]
                                .iter()
                                .fold(buf[0], |m, &f| if m > f || m.is_nan() { f } else { m })
                        }
                        // Prometheus 3 (#14941); Prometheus 2 ran the recurrence, which gives 0 for a lone
                        // NaN or Inf.
                        Reduce::Stddev | Reduce::Stdvar
                            if !ev.opts().prometheus2(Difference::StddevNonFinite)
                                && buf.iter().any(|v| !v.is_finite()) =>
                        {
                            f64::NAN
                        }
                        Reduce::Stddev | Reduce::Stdvar => {
                            let (mut count, mut mean, mut val) = (1.0, buf[0], 0.0);
                            for &f in &buf[1..] {
                                count += 1.0;
                                let delta = f - mean;
                                mean += delta / count;
                                val += delta * (f - mean);
                            }
                            let var = val / count;
                            if reduce == Reduce::Stddev {
                                var.sqrt()
                            } else {
                                var
                            }
                        }
                        Reduce::Quantile => {
                            quantile(q.as_ref().map(|q| q[i]).unwrap_or(f64::NAN), &mut buf)
                        }
                    };
                    out[g].vals[i] = Some(v);
                }
            }
            out.retain(StepSeries::any);
            Ok(Val::Vector(out))
        }
    }
}

/// The aggregations that reduce a group to one value per step, told apart once per query rather than by
/// name at every step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reduce {
    Sum,
    Avg,
    Count,
    Group,
    Max,
    Min,
    Stddev,
    Stdvar,
    Quantile,
}

impl Reduce {
    fn parse(op: &str) -> Option<Reduce> {
        Some(match op {
            "sum" => Reduce::Sum,
            "avg" => Reduce::Avg,
            "count" => Reduce::Count,
            "group" => Reduce::Group,
            "max" => Reduce::Max,
            "min" => Reduce::Min,
            "stddev" => Reduce::Stddev,
            "stdvar" => Reduce::Stdvar,
            "quantile" => Reduce::Quantile,
            _ => return None,
        })
    }
}

/// The sum (with `mean`, the average) of one group's histograms at one step, as Prometheus's `sum` and
/// `avg` compute them, and whether counter-reset hints collided; `Err(k)`: histogram `k` cannot be added to
/// the ones before it (a mix of exponential and custom buckets), and the group has no value. Also whether
/// custom bounds had to be reconciled.
pub(crate) fn sum_histograms(
    hs: &[&Arc<FloatHistogram>],
    mean: bool,
) -> Result<(FloatHistogram, bool, bool), usize> {
    use crate::series::histogram::CounterResetHint;
    let mut acc = crate::series::histogram_sum::HistogramSum::new(hs[0], mean);
    let (mut reset, mut not_reset, mut reconciled) = (false, false, false);
    for (k, h) in hs.iter().enumerate() {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => reset = true,
            CounterResetHint::NotCounterReset => not_reset = true,
            _ => {}
        }
        if k > 0 {
            reconciled |= acc.add(h).map_err(|_| k)?;
        }
    }
    Ok((acc.finish(), reset && not_reset, reconciled))
}

/// The `k` series `topk` (`top`) or `bottomk` keeps of one group's `(series, value)` pairs, in the order
/// Prometheus returns them, computed as Prometheus does (`aggregationK`): a heap of at most `k` (Go's
/// `container/heap` with `vectorByValueHeap`'s order, NaN least), where a series replaces the root only when it
/// is strictly better, then sorted best first (Go's sort of a few elements is an insertion sort). So among equal
/// values the input order decides, in Prometheus's way: `topk(2, ...)` of 5, 5, 6 keeps 6 and the second 5.
///
/// `legacy`: Prometheus before 2.44 (`--semantics 2`): a NaN root is replaced by any series, NaN included, and
/// a full heap pops its root before pushing the newcomer (`heap.Pop` + `heap.Push`; `k == 1` replaces in place).
fn go_heap_select(
    present: &[(usize, f64)],
    k: usize,
    top: bool,
    legacy: bool,
) -> Vec<(usize, f64)> {
    // Less(i, j) of vectorByValueHeap (topk) and vectorByReverseValueHeap (bottomk).
    let less = |a: f64, b: f64| {
        if a.is_nan() {
            true
        } else if top {
            a < b
        } else {
            a > b
        }
    };
    let mut h: Vec<(usize, f64)> = Vec::with_capacity(k.min(present.len()));
    let up = |h: &mut Vec<(usize, f64)>, mut j: usize| {
        while j > 0 {
            let i = (j - 1) / 2;
            if !less(h[j].1, h[i].1) {
                break;
            }
            h.swap(i, j);
            j = i;
        }
    };
    let down = |h: &mut Vec<(usize, f64)>, i0: usize| -> bool {
        let n = h.len();
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            if j1 + 1 < n && less(h[j1 + 1].1, h[j1].1) {
                j = j1 + 1;
            }
            if !less(h[j].1, h[i].1) {
                break;
            }
            h.swap(i, j);
            i = j;
        }
        i > i0
    };
    if k == 0 {
        return h;
    }
    for &(si, v) in present {
        if legacy {
            let root = h.first().map(|r| r.1);
            let take = match root {
                None => true,
                Some(r) => h.len() < k || (if top { r < v } else { r > v }) || r.is_nan(),
            };
            if !take {
                continue;
            }
            if h.len() == k {
                if k == 1 {
                    h[0] = (si, v);
                    continue;
                }
                // heap.Pop: the root goes to the end and out; the rest is sifted down.
                let n = h.len() - 1;
                h.swap(0, n);
                h.pop();
                down(&mut h, 0);
            }
            h.push((si, v));
            let last = h.len() - 1;
            up(&mut h, last);
            continue;
        }
        if h.len() < k {
            h.push((si, v));
            let last = h.len() - 1;
            up(&mut h, last);
        } else {
            let root = h[0].1;
            let better = if top { root < v } else { root > v };
            if better || (root.is_nan() && !v.is_nan()) {
                h[0] = (si, v);
                if k > 1 && !down(&mut h, 0) {
                    up(&mut h, 0);
                }
            }
        }
    }
    // sort.Sort(sort.Reverse(heap)): best first; insertion sort, as Go's sort does for small inputs.
    for i in 1..h.len() {
        let mut j = i;
        while j > 0 && less(h[j - 1].1, h[j].1) {
            h.swap(j, j - 1);
            j -= 1;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::go_heap_select;

    fn kept(values: &[f64], k: usize, top: bool, legacy: bool) -> Vec<usize> {
        let present: Vec<(usize, f64)> = values.iter().copied().enumerate().collect();
        go_heap_select(&present, k, top, legacy)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn ties_are_decided_by_the_heap_as_in_prometheus_3() {
        // 6 replaces the root, which is the first 5: the second 5 stays.
        assert_eq!(kept(&[5.0, 5.0, 6.0], 2, true, false), vec![2, 1]);
        // An equal value never replaces the root: the first of equal values is kept.
        assert_eq!(kept(&[5.0, 5.0], 1, true, false), vec![0]);
        assert_eq!(kept(&[f64::NAN, f64::NAN], 1, false, false), vec![0]);
        // NaN is least for both: replaced by any number, ranked last.
        assert_eq!(kept(&[f64::NAN, 1.0], 1, true, false), vec![1]);
        assert_eq!(kept(&[f64::NAN, 1.0], 1, false, false), vec![1]);
        assert_eq!(kept(&[1.0, f64::NAN, 3.0], 3, true, false), vec![2, 0, 1]);
        assert_eq!(kept(&[3.0, f64::NAN, 1.0], 3, false, false), vec![2, 0, 1]);
        assert_eq!(kept(&[4.0, 2.0, 9.0, 7.0], 2, false, false), vec![1, 0]);
        assert!(kept(&[1.0], 0, true, false).is_empty());
    }

    #[test]
    fn prometheus_2_42_replaces_a_nan_root_with_anything() {
        // Before 2.44 a NaN root is replaced even by another NaN: the last NaN is kept.
        assert_eq!(kept(&[f64::NAN, f64::NAN], 1, false, true), vec![1]);
        assert_eq!(
            kept(&[f64::NAN, f64::NAN, f64::NAN], 1, true, true),
            vec![2]
        );
        // Numbers are decided as in 3.
        assert_eq!(kept(&[5.0, 5.0, 6.0], 2, true, true), vec![2, 1]);
        assert_eq!(kept(&[5.0, 5.0], 1, true, true), vec![0]);
        assert_eq!(kept(&[4.0, 2.0, 9.0, 7.0], 2, false, true), vec![1, 0]);
    }
}
