//! `promql/counter-without-rate`: a raw counter compared with a threshold.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{
    binary, flip_comparison, is_filter, is_recorded_name, number, selector_name, strip_paren, walk,
};
use crate::promql::syntax::ast::Expr;

/// ## What it finds
/// A raw `_total` counter selector compared with a positive threshold: `kube_pod_container_status_restarts_total > 5`.
/// Comparisons with 0 (`x_total > 0`, `== 0`) are left alone: they are how rules guard a division or say
/// "has ever happened", and several exporters name gauges `_total` (capacity totals, offline drive counts).
///
/// ## Why it matters
/// A counter only goes up (until its process restarts): once it crosses the threshold the alert fires for
/// ever, and after a restart it silently resolves. What matters is how fast it grows.
///
/// ## Example
/// ```yaml
/// expr: kube_pod_container_status_restarts_total > 5
/// ```
///
/// ## Fix
/// Compare the growth over a window: `increase(kube_pod_container_status_restarts_total[1h]) > 5`.
pub struct CounterWithoutRate;

impl Check for CounterWithoutRate {
    fn code(&self) -> &'static str {
        "promql/counter-without-rate"
    }
    fn source(&self) -> &'static str {
        include_str!("counter_without_rate.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        walk(cx.ast, &mut |e| {
            let Some((o, lhs, rhs, _, _)) = binary(e) else {
                return;
            };
            if !is_filter(e) {
                return;
            }
            // Normalise to `counter OP threshold`.
            let (sel, t, o) = match (number(lhs), number(rhs)) {
                (None, Some(t)) => (lhs, t, o),
                (Some(t), None) => (rhs, t, flip_comparison(o)),
                _ => return,
            };
            // Only "grew past N" is the mistake; `> 0` / `>= 1` is "ever happened" or a guard.
            let past_threshold = (o == ">" && t > 0.0) || (o == ">=" && t > 1.0);
            if !past_threshold {
                return;
            }
            let Expr::Vector(_) = strip_paren(sel) else {
                return;
            };
            let Some(name) = selector_name(sel) else {
                return;
            };
            if !name.ends_with("_total") || is_recorded_name(name) {
                return;
            }
            let pos = cx.at(strip_paren(sel).span().start);
            out.push(Finding::new(
                pos,
                format!("`{name}` is a counter compared as it is: it only grows, so once over the threshold the alert never resolves"),
                format!("compare its growth over a window, e.g. `increase({name}[1h])`"),
            ));
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lint_expr, places};

    const CODE: &str = "promql/counter-without-rate";

    #[test]
    fn flags_raw_counter_comparisons() {
        let d = lint_expr("kube_pod_container_status_restarts_total > 5", CODE);
        assert_eq!(places(&d), vec!["5:11"]);
        assert!(d[0]
            .help
            .as_deref()
            .unwrap()
            .contains("increase(kube_pod_container_status_restarts_total[1h])"));
        assert_eq!(lint_expr("3 < errors_total{job=\"x\"}", CODE).len(), 1);
        assert_eq!(lint_expr("errors_total >= 10", CODE).len(), 1);
    }

    #[test]
    fn accepts_rates_and_non_counters() {
        for q in [
            "increase(kube_pod_container_status_restarts_total[1h]) > 5",
            "rate(errors_total[5m]) > 1",
            "up == 0",
            "a_total > b_total",
            "node_edac_uncorrectable_errors_total > 0",
            "a / b > 0.9 and capacity_total > 0",
            "completed_total == 0",
            "job:errors_total:sum > 1",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}");
        }
    }
}
