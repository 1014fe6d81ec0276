//! `promql/constant-comparison`: comparisons whose outcome is known without looking at any series.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{binary, flip_comparison, is_filter, number, value_range, walk};

/// ## What it finds
/// Comparisons that are provably never true:
/// - `count(...) == 0` or `< 1`: `count` of nothing returns no series, never 0;
/// - `absent(x) == 0`, `absent(x) > 1`: `absent` returns 1 or nothing;
/// - `rate(...) < 0`, `increase(...) < 0`: counter rates are never negative;
///
/// and rates compared `>= 0` (always true: the alert fires whenever the series exist). `count(x) > 0` and
/// `absent(x) == 1`, always true too, are left alone: they are the usual way to say "exists".
///
/// (Two numbers can only be compared with `bool` in PromQL, which the parser already enforces.)
///
/// ## Why it matters
/// An alert that can never fire gives the comfort of monitoring without any: `count(up{job="db"}) == 0` stays
/// silent exactly when every database target has disappeared.
///
/// ## Example
/// ```yaml
/// expr: count(up{job="db"}) == 0
/// ```
///
/// ## Fix
/// To alert on something missing use `absent(up{job="db"})` (or `absent_over_time(up{job="db"}[5m])`); to
/// alert on a count falling, compare with a threshold it can reach (`count(up{job="db"} == 1) < 2`).
pub struct ConstantComparison;

impl Check for ConstantComparison {
    fn code(&self) -> &'static str {
        "promql/constant-comparison"
    }
    fn source(&self) -> &'static str {
        include_str!("constant_comparison.rs")
    }
    fn applies_to_recording_rules(&self) -> bool {
        true
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        walk(cx.ast, &mut |e| {
            let Some((o, lhs, rhs, _, _)) = binary(e) else {
                return;
            };
            if !is_filter(e) {
                return;
            }
            let pos = cx.at(e.span().start);
            // Put the number on the right: `t < x` is `x > t`.
            let (value, t, o) = match (number(lhs), number(rhs)) {
                (None, Some(t)) => (lhs, t, o),
                (Some(t), None) => (rhs, t, flip_comparison(o)),
                _ => return,
            };
            let Some((lo, hi)) = value_range(value) else {
                return;
            };
            if always_true(lo, hi, o, t) && lo == 0.0 {
                // `count(x) > 0` and `absent(x) == 1` are the idiomatic "it exists" filters; a rate compared
                // `>= 0` filters nothing and fires whenever the series exist.
                out.push(Finding::new(
                    pos,
                    format!("this comparison is always true: the left side is {}, so `{o} {t}` filters nothing and the alert fires whenever the series exist", describe(lo, hi)),
                    "compare with the threshold that matters, e.g. `rate(...) > 0.1`".to_string(),
                ));
                return;
            }
            if !never_true(lo, hi, o, t) {
                return;
            }
            let what = describe(lo, hi);
            let help = if lo >= 1.0 {
                "to alert when something is missing use `absent(...)` or `absent_over_time(...[5m])`: count() of nothing is no series, not 0"
            } else {
                "counter rates are never negative: compare with a positive threshold, or use `deriv`/`delta` for a gauge that can fall"
            };
            out.push(Finding::new(
                pos,
                format!("this comparison is never true: the left side is {what}, so `{o} {t}` never holds and the alert cannot fire"),
                help.to_string(),
            ));
        });
    }
}

/// Whether `x o t` fails for every `x` in `[lo, hi]`.
fn never_true(lo: f64, hi: f64, o: &str, t: f64) -> bool {
    match o {
        ">" => hi <= t,
        ">=" => hi < t,
        "<" => lo >= t,
        "<=" => lo > t,
        "==" => t < lo || t > hi,
        _ => lo == hi && lo == t,
    }
}

/// Whether `x o t` holds for every `x` in `[lo, hi]`.
fn always_true(lo: f64, hi: f64, o: &str, t: f64) -> bool {
    match o {
        ">" => lo > t,
        ">=" => lo >= t,
        "<" => hi < t,
        "<=" => hi <= t,
        "==" => lo == hi && lo == t,
        _ => t < lo || t > hi,
    }
}

fn describe(lo: f64, hi: f64) -> String {
    if lo == hi {
        format!("always {lo}")
    } else if hi.is_infinite() {
        format!("at least {lo}")
    } else {
        format!("between {lo} and {hi}")
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::lint_expr;

    const CODE: &str = "promql/constant-comparison";

    #[test]
    fn flags_comparisons_that_never_hold() {
        for q in [
            "count(up{job=\"db\"}) == 0",
            "count by (job) (up) < 1",
            "absent(up{job=\"x\"}) == 0",
            "absent(up{job=\"x\"}) > 1",
            "rate(x_total[5m]) < 0",
            "sum(increase(x_total[5m])) < 0",
            "0 > count(up)",
            "rate(x_total[5m]) >= 0",
            "sum(rate(x_total[5m])) > -1",
        ] {
            let d = lint_expr(q, CODE);
            assert_eq!(d.len(), 1, "{q}: {d:?}");
        }
        let d = lint_expr("count(up{job=\"db\"}) == 0", CODE);
        assert!(d[0].help.as_deref().unwrap().contains("absent"));
        assert!(d[0].message.contains("at least 1"));
    }

    #[test]
    fn accepts_reachable_comparisons() {
        for q in [
            "count(up{job=\"db\"} == 1) < 2",
            "absent(up{job=\"x\"}) == 1",
            "absent(up{job=\"x\"})",
            "rate(x_total[5m]) > 0",
            "up == 0",
            "count(up) > bool 0",
            "deriv(x[5m]) < 0",
            "count(up) > 0",
            "absent(up) == 1",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}");
        }
    }
}
