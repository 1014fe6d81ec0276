//! `promql/join-never-matches`: a binary operation between two vectors whose sides can never share a label set.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{binary, is_recorded_name, is_scalar, labels_of, selector_name, walk};
use crate::promql::facts::{op_text, LabelSet};
use crate::promql::syntax::ast::{Expr, MatchOp};
use std::collections::BTreeSet;

/// ## What it finds
/// `A op B` between two vectors where one side carries at most a known set of labels and the other always
/// carries a label outside it, on the labels the operation matches on: all of them (no `on`/`ignoring`),
/// those of `on (...)`, or all but `ignoring (...)`'s. A side's labels are known after an aggregation
/// (`sum by (instance) (...)`) or from `absent(...)` (only its equality matchers); a scraped metric always
/// carries `job` (the scrape adds it), and a selector carries every label it pins to a non-empty value.
///
/// ## Why it matters
/// Prometheus pairs the series of both sides by their matching labels. If one side always has `job` and the
/// other never does, no pair exists: `and`, arithmetic and comparisons return nothing, so the alert can
/// never fire; `unless` removes nothing, so it filters nothing. `X and absent(Y)` is the common case:
/// `absent(Y)` returns one series with no labels, which matches no series of `X`.
///
/// ## Example
/// ```yaml
/// expr: kube_job_status_start_time > 0 and absent(kube_job_status_completion_time)
/// ```
///
/// ## Fix
/// Match on the labels both sides have: `X and on () absent(Y)` when any `Y` at all should stop the alert,
/// `X unless on (job_name, namespace) Y` to pair them, or keep the label in the aggregation
/// (`sum by (job, instance) (...)`).
pub struct JoinNeverMatches;

impl Check for JoinNeverMatches {
    fn code(&self) -> &'static str {
        "promql/join-never-matches"
    }
    fn source(&self) -> &'static str {
        include_str!("join_never_matches.rs")
    }
    fn applies_to_recording_rules(&self) -> bool {
        true
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        // Each operation that never pairs, with its span: an operation over an empty result is empty too, so
        // only the innermost is reported.
        let mut found: Vec<((usize, usize), Finding)> = Vec::new();
        walk(cx.ast, &mut |e| {
            let Some((op, lhs, rhs, _, matching)) = binary(e) else {
                return;
            };
            if op == "or" || is_scalar(lhs) || is_scalar(rhs) {
                return;
            }
            let on = matching
                .filter(|m| m.on)
                .map(|m| m.matching_labels.as_slice());
            let ignoring: &[String] = match matching {
                Some(m) if !m.on => &m.matching_labels,
                _ => &[],
            };
            for (limited, other) in [(lhs, rhs), (rhs, lhs)] {
                let LabelSet::AtMost(has) = labels_of(limited) else {
                    continue;
                };
                let missing = definite_labels(other).into_iter().find(|l| {
                    !has.contains(l) && on.is_none_or(|on| on.contains(l)) && !ignoring.contains(l)
                });
                let Some(label) = missing else { continue };
                let shown: Vec<&str> = has.iter().map(String::as_str).collect();
                let what = match op {
                    "unless" => "so `unless` removes nothing",
                    "and" => "so `and` returns nothing and the alert cannot fire",
                    _ => "so the operation returns nothing and the alert cannot fire",
                };
                let span = e.span();
                found.push(((span.start, span.end), Finding::new(
                    cx.at(limited.span().start),
                    format!(
                        "`{op}` never pairs a series: this side carries only {{{}}}, the other always has `{label}`, {what}",
                        shown.join(", ")
                    ),
                    if on.is_some() {
                        format!("match on labels both sides carry: drop `{label}` from `on (...)`, or keep it in this side's aggregation")
                    } else {
                        format!("match on labels both sides carry: `{op} on (...)` (`on ()` for any series at all), or keep `{label}` in this side's aggregation")
                    },
                )));
                return;
            }
        });
        let inner = |(a, b): (usize, usize)| {
            found
                .iter()
                .any(|((c, d), _)| (*c, *d) != (a, b) && a <= *c && *d <= b)
        };
        let keep: Vec<bool> = found.iter().map(|(s, _)| !inner(*s)).collect();
        out.extend(
            found
                .into_iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|((_, f), _)| f),
        );
    }
}

/// Labels every series of `e` is sure to carry: `job` on a scraped metric, the labels a selector pins to a
/// non-empty value, and what survives of them through functions, aggregations and operators.
fn definite_labels(e: &Expr) -> BTreeSet<String> {
    match e {
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } | Expr::Subquery { expr, .. } => {
            definite_labels(expr)
        }
        Expr::Vector(vs) | Expr::Matrix { selector: vs, .. } => {
            let mut out: BTreeSet<String> = vs
                .matchers
                .iter()
                .filter(|m| m.name != "__name__")
                .filter(|m| match m.op {
                    MatchOp::Equal => !m.value.is_empty(),
                    MatchOp::Regexp => !crate::series::matcher::compile_anchored(&m.value)
                        .is_ok_and(|r| r.is_match("")),
                    _ => false,
                })
                .map(|m| m.name.clone())
                .collect();
            if selector_name(e).is_some_and(|n| !is_recorded_name(n)) {
                out.insert("job".to_string());
            }
            out
        }
        Expr::Call { func, args, .. } => {
            let keeps = matches!(
                func.as_str(),
                "rate"
                    | "irate"
                    | "increase"
                    | "delta"
                    | "idelta"
                    | "deriv"
                    | "predict_linear"
                    | "resets"
                    | "changes"
                    | "abs"
                    | "ceil"
                    | "floor"
                    | "round"
                    | "sqrt"
                    | "exp"
                    | "ln"
                    | "log2"
                    | "log10"
                    | "clamp"
                    | "clamp_min"
                    | "clamp_max"
                    | "sort"
                    | "sort_desc"
                    | "timestamp"
                    | "avg_over_time"
                    | "min_over_time"
                    | "max_over_time"
                    | "sum_over_time"
                    | "count_over_time"
                    | "last_over_time"
                    | "quantile_over_time"
                    | "stddev_over_time"
                    | "stdvar_over_time"
                    | "present_over_time"
                    | "label_replace"
                    | "label_join"
                    | "histogram_quantile"
            );
            if !keeps {
                return BTreeSet::new();
            }
            // The series argument: the first that is not a number.
            let Some(arg) = args.iter().find(|a| !is_scalar(a)) else {
                return BTreeSet::new();
            };
            let mut out = definite_labels(arg);
            if func == "histogram_quantile" {
                out.remove("le");
            }
            out
        }
        Expr::Aggregate {
            op,
            expr,
            grouping,
            without,
            ..
        } => {
            let inner = definite_labels(expr);
            match op_text(*op) {
                "topk" | "bottomk" | "limitk" | "limit_ratio" => inner,
                "count_values" => BTreeSet::new(),
                _ if *without => inner
                    .into_iter()
                    .filter(|l| !grouping.contains(l))
                    .collect(),
                _ => inner.into_iter().filter(|l| grouping.contains(l)).collect(),
            }
        }
        Expr::Binary { .. } => {
            let Some((op, lhs, rhs, _, matching)) = binary(e) else {
                return BTreeSet::new();
            };
            match (is_scalar(lhs), is_scalar(rhs)) {
                (true, true) => BTreeSet::new(),
                (false, true) => definite_labels(lhs),
                (true, false) => definite_labels(rhs),
                (false, false) => match op {
                    "or" => definite_labels(lhs)
                        .intersection(&definite_labels(rhs))
                        .cloned()
                        .collect(),
                    _ => match matching.map(|m| m.card) {
                        Some(crate::promql::syntax::ast::Card::OneToMany) => definite_labels(rhs),
                        _ => definite_labels(lhs),
                    },
                },
            }
        }
        _ => BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lint_expr, places};

    const CODE: &str = "promql/join-never-matches";

    #[test]
    fn flags_sides_that_never_share_a_label_set() {
        // awesome-prometheus-alerts' KubernetesCronjobTooLong: absent() returns one series without labels.
        let d = lint_expr(
            "kube_job_status_start_time > 0 and absent(kube_job_status_completion_time) and (time() - kube_job_status_start_time) > 3600",
            CODE,
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("carries only {}"), "{}", d[0].message);
        assert!(d[0].message.contains("`job`"), "{}", d[0].message);
        assert_eq!(places(&d), vec!["5:46"], "at `absent(`");
        for q in [
            // One side summed down to `instance`, the other keeps `job`.
            "rate(errors_total[5m]) / sum by (instance) (rate(requests_total[5m])) > 0.1",
            // `on (pod)` after `pod` was summed away on the left; the right pins it.
            "sum by (namespace) (x) * on (pod) kube_pod_info{pod=~\".+\"} > 1",
            // `unless` of an aggregation that drops the labels: removes nothing.
            "up == 0 unless sum(maintenance_mode)",
            // awesome-prometheus-alerts' PostgresqlTooManyLocksAcquired: the `/` never pairs, and the `and`
            // over its empty result is reported no more.
            "((sum by (instance) (pg_locks_count)) / (pg_settings_max_locks_per_transaction * pg_settings_max_connections)) > 0.20 and (pg_settings_max_locks_per_transaction * pg_settings_max_connections) > 0",
        ] {
            assert_eq!(lint_expr(q, CODE).len(), 1, "{q}");
        }
        let d = lint_expr("up == 0 unless sum(maintenance_mode)", CODE);
        assert!(d[0].message.contains("removes nothing"));
    }

    #[test]
    fn accepts_joins_that_can_match() {
        for q in [
            "x > 0 and on () absent(y)",
            "absent(up{job=\"api\"})",
            "sum(rate(a_total[5m])) / sum(rate(b_total[5m])) > 0.1",
            "rate(a_total[5m]) / rate(b_total[5m]) > 0.1",
            "sum by (job) (rate(a_total[5m])) / sum by (job) (rate(b_total[5m])) > 0.1",
            "rate(a_total[5m]) / on (instance) group_left sum by (instance) (rate(b_total[5m])) > 0.1",
            "rate(a_total[5m]) / ignoring (job, code) sum by (instance) (rate(b_total[5m])) > 0.1",
            // A recorded series may have been aggregated to anything: no label is sure.
            "job:a:rate5m / sum by (instance) (b) > 1",
            "sum by (namespace) (x) * on (namespace) group_left kube_namespace_labels > 1",
            "up == 0 or absent(up)",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}: {:?}", lint_expr(q, CODE));
        }
    }
}
