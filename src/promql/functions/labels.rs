//! `label_replace`, `label_join` and the sorting functions.

use super::{arg_string, arg_vector, Context, EvalError, StepSeries, Val};
use crate::promql::context::qerr;
use crate::promql::legacy_names::{display, valid_label_name};
use crate::promql::syntax::ast::Expr;
use crate::series::labels::{FxBuild, METRIC_NAME};
use crate::series::matcher::compile_anchored;
use crate::series::Labels;
use std::collections::HashMap;

/// Merges series that ended up with the same labels; overlapping steps are Prometheus's error.
fn dedupe(v: Vec<StepSeries>) -> Result<Vec<StepSeries>, EvalError> {
    let mut out: Vec<StepSeries> = Vec::with_capacity(v.len());
    let mut idx: HashMap<(Labels, bool), usize, FxBuild> = HashMap::default();
    for s in v {
        let key = (s.labels.clone(), s.drop_name);
        match idx.get(&key) {
            Some(&i) => out[i].merge(s)?,
            None => {
                idx.insert(key, out.len());
                out.push(s);
            }
        }
    }
    Ok(out)
}

pub(crate) fn eval(
    ev: &mut dyn Context,
    name: &str,
    args: &[&Expr],
    ts: &[i64],
) -> Result<Val, EvalError> {
    let mut v = arg_vector(ev, args[0], ts)?;
    let strs: Vec<String> = args[1..]
        .iter()
        .map(|a| arg_string(ev, a, ts))
        .collect::<Result<_, _>>()?;
    if name == "label_replace" {
        let [dst, repl, src, re] = strs.as_slice() else {
            return Err(qerr("label_replace needs 5 arguments"));
        };
        let regex = compile_anchored(re).map_err(|_| {
            qerr(format!(
                "invalid regular expression in label_replace(): {re}"
            ))
        })?;
        if !valid_label_name(dst) {
            return Err(qerr(format!(
                "invalid destination label name in label_replace(): {}",
                display(dst)
            )));
        }
        for s in &mut v {
            let src_val = s.labels.get_or_empty(src).to_string();
            if let Some(caps) = regex.captures(&src_val) {
                let mut res = String::new();
                caps.expand(repl, &mut res);
                s.labels = s.labels.set(dst, &res);
                if dst == METRIC_NAME {
                    s.drop_name = false;
                }
            }
        }
    } else {
        let Some((dst, rest)) = strs.split_first() else {
            return Err(qerr("label_join needs at least 3 arguments"));
        };
        let Some((sep, srcs)) = rest.split_first() else {
            return Err(qerr("label_join needs at least 3 arguments"));
        };
        if let Some(src) = srcs.iter().find(|s| !valid_label_name(s)) {
            return Err(qerr(format!(
                "invalid source label name in label_join(): {}",
                display(src)
            )));
        }
        if !valid_label_name(dst) {
            return Err(qerr(format!(
                "invalid destination label name in label_join(): {}",
                display(dst)
            )));
        }
        for s in &mut v {
            let joined: Vec<&str> = srcs.iter().map(|l| s.labels.get_or_empty(l)).collect();
            let joined = joined.join(sep);
            s.labels = s.labels.set(dst, &joined);
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    Ok(Val::Vector(dedupe(v)?))
}

/// Natural order: runs of digits compare as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        if ab[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = a[si..i].trim_start_matches('0');
            let nb = b[sj..j].trim_start_matches('0');
            let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        } else {
            if ab[i] != bb[j] {
                return ab[i].cmp(&bb[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (ab.len() - i).cmp(&(bb.len() - j))
}

pub(crate) fn sort(
    ev: &mut dyn Context,
    name: &str,
    args: &[&Expr],
    ts: &[i64],
) -> Result<Val, EvalError> {
    let mut v = arg_vector(ev, args[0], ts)?;
    let labels: Vec<String> = args[1..]
        .iter()
        .map(|a| arg_string(ev, a, ts))
        .collect::<Result<_, _>>()?;
    if name == "sort" || name == "sort_desc" {
        // Sorting by value reads floats only; histogram samples are left out.
        for s in &mut v {
            s.drop_histograms();
        }
        v.retain(StepSeries::any);
    }
    if ev.is_range() {
        let msg = format!(
            "PromQL warning: sort is ineffective for range queries since results are always ordered by labels {}",
            ev.pos_at(ev.call_start())
        );
        ev.warn(msg);
        return Ok(Val::Vector(v));
    }
    match name {
        "sort" | "sort_desc" => {
            let desc = name == "sort_desc";
            v.sort_by(|a, b| {
                let (x, y) = (a.vals[0].unwrap_or(f64::NAN), b.vals[0].unwrap_or(f64::NAN));
                match (x.is_nan(), y.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ if desc => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
                    _ => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                }
            });
        }
        _ => {
            let desc = name == "sort_by_label_desc";
            v.sort_by(|a, b| {
                for l in &labels {
                    let o = natural_cmp(a.labels.get_or_empty(l), b.labels.get_or_empty(l));
                    if o != std::cmp::Ordering::Equal {
                        return if desc { o.reverse() } else { o };
                    }
                }
                let o = a.labels.cmp(&b.labels);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
    }
    Ok(Val::Vector(v))
}
