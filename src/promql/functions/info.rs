//! `info(v, {selector})` (experimental): enriches each series with the data labels of the info series
//! (default `target_info`) that share its identifying labels (`instance`, `job`) at that step.

use super::{arg_vector, Context, EvalError, StepSeries, Val};
use crate::promql::context::{qerr, selector_matchers, StepHists};
use crate::promql::syntax::ast::{Expr, LabelMatcher, MatchOp as PMatchOp, VectorSelector};
use crate::series::labels::{FxBuild, LabelsBuilder, METRIC_NAME};
use crate::series::{Labels, MatchOp, Matcher};
use std::collections::HashMap;

const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// The times the base expression's data is read at, per step: the `@`/offset of its (first) selector,
/// composed through subqueries. Expressions with no single data path read at the step times.
fn reference_times(ev: &dyn Context, e: &Expr, ts: &[i64]) -> Vec<i64> {
    match e {
        Expr::Vector(vs) => ev.eff_times(&vs.at, vs.offset_ms, ts),
        Expr::Matrix { selector, .. } => ev.eff_times(&selector.at, selector.offset_ms, ts),
        Expr::Subquery {
            expr,
            at,
            offset_ms,
            ..
        } => {
            let outer = ev.eff_times(at, *offset_ms, ts);
            reference_times(ev, expr, &outer)
        }
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } | Expr::Aggregate { expr, .. } => {
            reference_times(ev, expr, ts)
        }
        Expr::Call { args, .. } => {
            let data_arg = args.iter().find(|a| {
                matches!(
                    a,
                    Expr::Matrix { .. } | Expr::Subquery { .. } | Expr::Vector(_)
                )
            });
            match data_arg.or(args.first()) {
                Some(a) => reference_times(ev, a, ts),
                None => ts.to_vec(),
            }
        }
        _ => ts.to_vec(),
    }
}

pub(crate) fn eval(ev: &mut dyn Context, args: &[&Expr], ts: &[i64]) -> Result<Val, EvalError> {
    let n = ts.len();
    let base = arg_vector(ev, args[0], ts)?;
    let mut sel = match args.get(1).map(|a| a.without_parens()) {
        Some(Expr::Vector(vs)) => vs.clone(),
        Some(_) => return Err(qerr("info(): the second argument must be a label selector")),
        None => VectorSelector::empty(),
    };
    let ours = selector_matchers(&sel)?.to_vec();
    let mut name_matchers: Vec<Matcher> = ours
        .iter()
        .filter(|m| m.name == METRIC_NAME)
        .cloned()
        .collect();
    let data_matchers: Vec<Matcher> = ours
        .iter()
        .filter(|m| m.name != METRIC_NAME)
        .cloned()
        .collect();
    if name_matchers.is_empty() {
        name_matchers.push(
            Matcher::new(MatchOp::Equal, METRIC_NAME, "target_info")
                .map_err(|e| qerr(e.to_string()))?,
        );
        sel.matchers.push(LabelMatcher {
            name: METRIC_NAME.into(),
            op: PMatchOp::Equal,
            value: "target_info".into(),
        });
    }
    if !name_matchers.is_empty()
        && name_matchers
            .iter()
            .all(|m| matches!(m.op, MatchOp::NotEqual | MatchOp::NotRe))
    {
        // Only exclusions: the candidates are still info metrics, i.e. names ending in `_info`.
        sel.matchers.push(LabelMatcher {
            name: METRIC_NAME.into(),
            op: PMatchOp::Regexp,
            value: ".+_info".into(),
        });
        name_matchers.push(
            Matcher::new(MatchOp::Re, METRIC_NAME, ".+_info").map_err(|e| qerr(e.to_string()))?,
        );
    }
    // The info series are read at the base expression's reference times (its @ and offsets), so the
    // enrichment matches the data the base samples came from.
    // `sel` gained matchers since its matchers were first compiled: compile them again.
    sel.compiled = Default::default();
    let ref_ts = reference_times(ev, args[0], ts);
    let (infos, info_ts) = ev.eval_vector_selector(&sel, &ref_ts, true)?;
    // Info metrics hold floats; a histogram there is Prometheus's error.
    if let Some(h) = infos.iter().find(|s| s.hists.iter().any(Option::is_some)) {
        return Err(qerr(format!(
            "this should be an info metric, with float samples: {}",
            crate::promql::binary::go_labels(&h.labels)
        )));
    }
    // Info series by identifying labels.
    let mut by_id: HashMap<u64, Vec<usize>, FxBuild> = HashMap::default();
    for (k, s) in infos.iter().enumerate() {
        by_id
            .entry(s.labels.hash_for_labels(&IDENTIFYING))
            .or_default()
            .push(k);
    }
    let data_names: Vec<&str> = data_matchers.iter().map(|m| m.name.as_str()).collect();
    let empty_ok = data_matchers.iter().all(|m| m.matches_empty());

    let mut out: Vec<StepSeries> = Vec::new();
    let mut index: HashMap<(Labels, bool), usize, FxBuild> = HashMap::default();
    for s in &base {
        let is_info = name_matchers.iter().all(|m| m.matches(&s.labels));
        let candidates = by_id.get(&s.labels.hash_for_labels(&IDENTIFYING));
        #[allow(clippy::needless_range_loop)]
        // `i` indexes base, info values and info timestamps alike.
        for i in 0..n {
            let Some(v) = s.vals[i] else { continue };
            let labels = if is_info {
                Some(s.labels.clone())
            } else {
                let mut lb: Option<LabelsBuilder> = None;
                // Of several series of one info metric for the same target, the freshest sample wins
                // (an info series that changed its labels leaves the old one visible for a while).
                let present: Vec<usize> = candidates
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&k| {
                        infos[k].vals[i].is_some()
                            && IDENTIFYING
                                .iter()
                                .all(|l| infos[k].labels.get(l) == s.labels.get(l))
                    })
                    .collect();
                for &k in &present {
                    let info = &infos[k];
                    let newer = present.iter().any(|&o| {
                        o != k
                            && infos[o].labels.name() == info.labels.name()
                            && info_ts[o][i] > info_ts[k][i]
                    });
                    if newer {
                        continue;
                    }
                    let b = lb.get_or_insert_with(|| s.labels.builder());
                    for (name, value) in info.labels.iter() {
                        if name == METRIC_NAME
                            || IDENTIFYING.contains(&name)
                            || s.labels.get(name).is_some()
                        {
                            continue;
                        }
                        if !data_names.is_empty() && !data_names.contains(&name) {
                            continue;
                        }
                        if let Some(prev) = b.get(name) {
                            if prev != value {
                                return Err(qerr(format!("conflicting label: {name}")));
                            }
                        }
                        b.set(name, value);
                    }
                }
                match lb {
                    Some(b) => Some(b.build()),
                    None if empty_ok => Some(s.labels.clone()),
                    None => None,
                }
            };
            let Some(labels) = labels else { continue };
            let key = (labels, s.drop_name);
            let oi = match index.get(&key) {
                Some(&oi) => oi,
                None => {
                    out.push(StepSeries {
                        labels: key.0.clone(),
                        drop_name: s.drop_name,
                        vals: vec![None; n],
                        hists: StepHists::default(),
                    });
                    index.insert(key, out.len() - 1);
                    out.len() - 1
                }
            };
            if out[oi].vals[i].is_some() {
                return Err(qerr("vector cannot contain metrics with the same labelset"));
            }
            out[oi].vals[i] = Some(v);
        }
    }
    Ok(Val::Vector(out))
}
