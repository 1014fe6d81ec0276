//! `promql/rate-gt-zero`: `rate(x[w]) > 0` with a `for` shorter than the window.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{aggregate, binary, call, number, range_arg_ms, strip_paren};
use crate::promql::syntax::ast::Expr;
use crate::text::duration::format_duration;

/// ## What it finds
/// An alert `rate(x[w]) > 0` or `increase(x[w]) > 0` (possibly summed) whose `for` is set but shorter than
/// the window `w`. Alerts without `for` ("page on any error") are left alone: they say what they mean.
///
/// ## Why it matters
/// One single event keeps `rate(x[w])` above 0 for the whole window `w`. With `for: 5m` and `w = 15m`, one
/// container restart fires the alert after 5 minutes and keeps it firing 10 more: `for` looks like it asks
/// for a sustained problem, but it does not.
///
/// ## Example
/// ```yaml
/// expr: rate(kube_pod_container_status_restarts_total[15m]) > 0
/// for: 5m
/// ```
///
/// ## Fix
/// Say how many events are a problem, over a window that matches: `increase(x[15m]) > 3`; or drop `for` if
/// any single event should page.
pub struct RateGtZero;

impl Check for RateGtZero {
    fn code(&self) -> &'static str {
        "promql/rate-gt-zero"
    }
    /// Info: on real rule sets most of these are deliberate ("any sync failure in 30m, seen for 5m"); the
    /// finding says what the rule does, for its author to confirm, rather than that it is wrong.
    fn default_severity(&self) -> crate::diag::Severity {
        crate::diag::Severity::Info
    }
    fn source(&self) -> &'static str {
        include_str!("rate_gt_zero.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let for_ms = cx.rule.for_duration();
        if for_ms == 0 {
            return;
        }
        let Some((o, lhs, rhs, return_bool, _)) = binary(strip_paren(cx.ast)) else {
            return;
        };
        if return_bool {
            return;
        }
        let (value, threshold) = match o {
            ">" => (lhs, rhs),
            "<" => (rhs, lhs),
            _ => return,
        };
        if number(threshold) != Some(0.0) {
            return;
        }
        let Some((func, at, window)) = counter_window(value) else {
            return;
        };
        if for_ms >= window {
            return;
        }
        let pos = cx.at(at);
        let (w, f) = (format_duration(window), format_duration(for_ms));
        out.push(Finding::new(
            pos,
            format!("{func}(...[{w}]) > 0 stays true for {w} after a single event, so `for: {f}` does not ask for a sustained problem: one event fires this alert for about {}", format_duration(window - for_ms)),
            format!("alert on a count of events, e.g. `increase(...[{w}]) > 3`, or remove `for` if any single event should page"),
        ));
    }
}

/// `rate(x[w])` / `increase(x[w])`, possibly under sum/max/avg: the function and the window.
/// The counter function (`rate` / `increase`) `e` compares, where it starts, and its window.
fn counter_window(e: &Expr) -> Option<(&'static str, usize, i64)> {
    let e = strip_paren(e);
    match aggregate(e) {
        Some(("sum" | "max" | "avg" | "min", inner)) => counter_window(inner),
        _ => {
            let (func, args) = call(e)?;
            let name = match func {
                "rate" => "rate",
                "increase" => "increase",
                _ => return None,
            };
            Some((name, e.span().start, range_arg_ms(args)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{alert, lint, places};

    const CODE: &str = "promql/rate-gt-zero";

    #[test]
    fn flags_rate_above_zero_with_short_for() {
        let d = lint(
            &alert(
                "rate(kube_pod_container_status_restarts_total[15m]) > 0",
                "    for: 5m\n",
            ),
            CODE,
        );
        assert_eq!(places(&d), vec!["5:11"]);
        assert!(d[0].message.contains("for about 10m"), "{}", d[0].message);
        assert!(d[0]
            .help
            .as_deref()
            .unwrap()
            .contains("increase(...[15m]) > 3"));
        assert_eq!(
            lint(
                &alert("sum by (pod) (increase(x_total[1h])) > 0", "    for: 10m\n"),
                CODE
            )
            .len(),
            1
        );
    }

    #[test]
    fn accepts_counts_no_for_and_long_for() {
        for (q, extra) in [
            ("rate(x_total[15m]) > 0", ""),
            ("rate(x_total[15m]) > 0", "    for: 15m\n"),
            ("increase(x_total[15m]) > 3", "    for: 5m\n"),
            ("rate(x_total[15m]) > bool 0", "    for: 5m\n"),
        ] {
            assert!(lint(&alert(q, extra), CODE).is_empty(), "{q} {extra}");
        }
    }
}
