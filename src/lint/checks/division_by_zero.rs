//! `promql/division-by-zero`: an alert dividing by something that is 0 when unset.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{self, binary, number, op_text, selector_name, strip_paren};
use crate::promql::syntax::ast::Expr;

/// ## What it finds
/// A division in an alert whose denominator is a limit or quota that is 0 when none is set, with no guard,
/// where the result is compared so that `x / 0 = +Inf` passes (`>`, `>=`, `!=`).
///
/// ## Why it matters
/// Containers without a memory limit report `container_spec_memory_limit_bytes` 0: the ratio is `+Inf`, which
/// is "over 90%", and every unlimited container pages. (0 / 0 is NaN and fails every comparison, so only a
/// non-zero numerator over a zero denominator misfires.) Denominators that are rates are not flagged: a rate
/// of requests that is 0 goes with a rate of errors that is 0 too. Nor are the node exporter's limits
/// (`node_nf_conntrack_entries_limit`): they are kernel settings, never 0.
///
/// ## Example
/// ```yaml
/// expr: container_memory_working_set_bytes / container_spec_memory_limit_bytes > 0.9
/// ```
///
/// ## Fix
/// Filter the denominator so series without a limit drop out:
/// `container_memory_working_set_bytes / (container_spec_memory_limit_bytes > 0) > 0.9`
/// (or `clamp_min(..., 1)`, or `... and container_spec_memory_limit_bytes > 0`).
pub struct DivisionByZero;

impl Check for DivisionByZero {
    fn code(&self) -> &'static str {
        "promql/division-by-zero"
    }
    fn source(&self) -> &'static str {
        include_str!("division_by_zero.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let mut found = Vec::new();
        visit(cx.ast, true, &[], &mut found);
        for (name, at) in found {
            let pos = cx.at(at);
            out.push(Finding::new(
                pos,
                format!("`{name}` can be 0 (no limit set), and x / 0 = +Inf passes this alert's threshold"),
                format!("guard the denominator: `/ ({name} > 0)`, so series without a limit drop out instead of paging"),
            ));
        }
    }
}

/// Walks `e`; `inf_passes` says whether a `+Inf` here would survive to fire the alert; `guarded` names the
/// limits an enclosing `... and limit > 0` already filters.
fn visit(e: &Expr, inf_passes: bool, guarded: &[String], found: &mut Vec<(String, usize)>) {
    // A stack of its own: operator chains are as deep as they are long.
    let mut stack: Vec<(&Expr, bool, std::rc::Rc<Vec<String>>)> =
        vec![(e, inf_passes, std::rc::Rc::new(guarded.to_vec()))];
    while let Some((e, inf_passes, guarded)) = stack.pop() {
        match e {
            Expr::Paren { expr, .. } => stack.push((expr, inf_passes, guarded)),
            Expr::Binary {
                op,
                lhs,
                rhs,
                return_bool,
                ..
            } => {
                let o = op_text(*op);
                let (l, r) = match o {
                    ">" | ">=" => (true, false),
                    "<" | "<=" => (false, true),
                    "!=" => (true, true),
                    "==" => (false, false),
                    "+" | "*" | "or" => (inf_passes, inf_passes),
                    "-" => (inf_passes, false),
                    "/" => {
                        // Each limit once, where it is first divided by.
                        if inf_passes {
                            if let Some((name, at)) = zero_when_unset(rhs) {
                                if !guarded.contains(&name)
                                    && !found.iter().any(|(n, _)| *n == name)
                                {
                                    found.push((name, at));
                                }
                            }
                        }
                        (inf_passes, false)
                    }
                    "and" | "unless" => {
                        // `ratio > 0.9 and limit > 0` (or `unless limit == 0`) filters out the zero limits.
                        let mut more = guarded.to_vec();
                        nonzero_filters(rhs, o == "unless", &mut more);
                        stack.push((rhs, false, guarded.clone()));
                        stack.push((lhs, inf_passes, std::rc::Rc::new(more)));
                        continue;
                    }
                    _ => (false, false),
                };
                // With `bool`, the comparison yields 0/1 and +Inf is no longer seen downstream.
                let (l, r) = if *return_bool { (false, false) } else { (l, r) };
                stack.push((rhs, r, guarded.clone()));
                stack.push((lhs, l, guarded));
            }
            Expr::Aggregate { op, expr, .. } => {
                let keeps = matches!(
                    op_text(*op),
                    "sum" | "avg" | "max" | "min" | "topk" | "bottomk" | "quantile"
                );
                stack.push((expr, inf_passes && keeps, guarded));
            }
            Expr::Call { func, args, .. } => {
                let keeps = matches!(
                    func.as_str(),
                    "abs"
                        | "ceil"
                        | "floor"
                        | "round"
                        | "sort"
                        | "sort_desc"
                        | "label_replace"
                        | "label_join"
                        | "max_over_time"
                        | "min_over_time"
                        | "avg_over_time"
                        | "last_over_time"
                        | "quantile_over_time"
                );
                for a in args.iter().rev() {
                    stack.push((a, inf_passes && keeps, guarded.clone()));
                }
            }
            Expr::Subquery { expr, .. } => stack.push((expr, inf_passes, guarded)),
            _ => {}
        }
    }
}

/// Names of the metrics `e` keeps only when non-zero: `limit > 0`, `limit != 0`, `sum(limit) > 0`; with
/// `negated` (the right side of `unless`), those it removes when zero: `limit == 0`.
fn nonzero_filters(e: &Expr, negated: bool, out: &mut Vec<String>) {
    let e = strip_paren(e);
    let Some((o, lhs, rhs, _, _)) = binary(e) else {
        return;
    };
    if facts::is_filter(e) {
        let Some(t) = number(rhs) else { return };
        let drops_zero = match o {
            ">" => t >= 0.0,
            ">=" => t > 0.0,
            "!=" => t == 0.0,
            "<" => t <= 0.0,
            _ => false,
        };
        let removes_zero = o == "==" && t == 0.0;
        if (negated && removes_zero) || (!negated && drops_zero) {
            facts::walk(lhs, &mut |x| {
                if let Some(n) = selector_name(x) {
                    out.push(n.to_string());
                }
            });
        }
    } else if o == "and" {
        nonzero_filters(lhs, negated, out);
        nonzero_filters(rhs, negated, out);
    }
}

/// The limit metric that makes `e` zero when no limit is configured, if nothing guards it, and where its
/// selector starts in the expression.
fn zero_when_unset(e: &Expr) -> Option<(String, usize)> {
    let limit = |sel: &Expr| {
        let name = selector_name(sel)?;
        is_limit_name(name).then(|| (name.to_string(), strip_paren(sel).span().start))
    };
    match strip_paren(e) {
        Expr::Vector(_) => limit(e),
        Expr::Aggregate { op, expr, .. }
            if matches!(op_text(*op), "sum" | "avg" | "max" | "min") =>
        {
            zero_when_unset(expr)
        }
        b @ Expr::Binary { .. } => {
            let (o, lhs, rhs, return_bool, _) = binary(b)?;
            match o {
                "*" => zero_when_unset(lhs).or_else(|| zero_when_unset(rhs)),
                // A filter guards when it drops 0: `x > 0`, `x != 0`, `x >= 1`, `x > 1e6`...
                c if facts::is_comparison(c) && !return_bool => {
                    let t = number(rhs)?;
                    let zero_passes = match c {
                        ">" => 0.0 > t,
                        ">=" => 0.0 >= t,
                        "<" => 0.0 < t,
                        "<=" => 0.0 <= t,
                        "==" => t == 0.0,
                        _ => t != 0.0,
                    };
                    if zero_passes {
                        zero_when_unset(lhs)
                    } else {
                        None
                    }
                }
                // `and`/`unless` filter by another condition, `or` fills in: treat as guarded.
                _ => None,
            }
        }
        Expr::Call { func, args, .. } => match func.as_str() {
            "max_over_time" | "min_over_time" | "avg_over_time" | "last_over_time" => {
                let arg = args.first()?;
                match strip_paren(arg) {
                    Expr::Matrix { .. } => limit(arg),
                    _ => None,
                }
            }
            // clamp_min(x, 1) and friends keep it away from 0.
            _ => None,
        },
        _ => None,
    }
}

/// Limits and quotas are 0 (cAdvisor, kube-state-metrics) when none is configured. The node exporter's
/// limits are the kernel's settings (`node_nf_conntrack_entries_limit` is `nf_conntrack_max`), never 0: where
/// there is no setting there is no series.
fn is_limit_name(name: &str) -> bool {
    !facts::is_recorded_name(name)
        && !name.starts_with("node_")
        && name
            .split('_')
            .any(|w| matches!(w, "limit" | "limits" | "quota"))
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lint_expr, places};

    const CODE: &str = "promql/division-by-zero";

    #[test]
    fn flags_unguarded_limit_denominators() {
        let d = lint_expr(
            "(container_memory_working_set_bytes / container_spec_memory_limit_bytes) > 0.9",
            CODE,
        );
        assert_eq!(places(&d), vec!["5:49"]);
        assert!(d[0].message.contains("container_spec_memory_limit_bytes"));
        assert!(d[0]
            .help
            .as_deref()
            .unwrap()
            .contains("(container_spec_memory_limit_bytes > 0)"));
        assert_eq!(
            lint_expr("sum by (pod) (rate(cpu_seconds_total[5m])) / sum by (pod) (kube_pod_container_resource_limits{resource=\"cpu\"}) > 0.9", CODE).len(),
            1
        );
        assert_eq!(
            lint_expr("0.9 < a / container_spec_memory_limit_bytes", CODE).len(),
            1
        );
        // One finding per limit, where it is first divided by.
        let d = lint_expr(
            "a / container_spec_memory_limit_bytes + b / container_spec_memory_limit_bytes > 1",
            CODE,
        );
        assert_eq!(places(&d), vec!["5:15"]);
    }

    /// A sum of 20,000 divisions is walked with a stack of its own, and its limit reported once.
    #[test]
    fn long_chains_on_a_small_stack() {
        let q = vec!["a / container_spec_memory_limit_bytes"; 20_000].join(" + ") + " > 1";
        let n = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || lint_expr(&q, CODE).len())
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(n, 1);
    }

    #[test]
    fn leaves_guarded_or_harmless_divisions_alone() {
        for q in [
            "container_memory_working_set_bytes / (container_spec_memory_limit_bytes > 0) > 0.9",
            "container_memory_working_set_bytes / clamp_min(container_spec_memory_limit_bytes, 1) > 0.9",
            "container_memory_working_set_bytes / (container_spec_memory_limit_bytes != 0) > 0.9",
            // +Inf never passes `<`.
            "node_filesystem_avail_bytes / node_filesystem_limit_bytes < 0.1",
            // Not a limit: rates of requests are 0 together with rates of errors.
            "rate(errors_total[5m]) / rate(requests_total[5m]) > 0.05",
            "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > 0.9",
            "a / job:memory_limit:sum > 0.9",
            "(a / container_spec_memory_limit_bytes > bool 0.9) == 0",
            "a / container_spec_memory_limit_bytes > 0.9 and container_spec_memory_limit_bytes > 0",
            "(a / ignoring(limit) instance_limits{limit=\"x\"} * 100 > 80) and instance_limits{limit=\"x\"} > 0",
            "a / sum by (b) (mem_limit) > 0.9 and sum by (b) (mem_limit) > 0",
            "a / mem_limit > 0.9 unless mem_limit == 0",
            // Counts of targets: `up` is 0 or 1, but the sum is 0 only when no target is up at all.
            "sum by (job) (up == 0) / count by (job) (up) > 0.5",
            "a / sum(up) > 0.5",
            // A kernel setting, never 0 (kube-prometheus's NodeHighNumberConntrackEntriesUsed).
            "(node_nf_conntrack_entries{job=\"node-exporter\"} / node_nf_conntrack_entries_limit) > 0.75",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}");
        }
    }
}
