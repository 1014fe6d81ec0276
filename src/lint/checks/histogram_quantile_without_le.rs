//! `promql/histogram-quantile-without-le`: classic histogram buckets aggregated away from their `le` label.

use crate::diag::Severity;
use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{self, op_text, selector_name, strip_paren, walk};
use crate::promql::syntax::ast::Expr;

/// ## What it finds
/// `histogram_quantile` over classic `_bucket` series that were aggregated without keeping `le`
/// (`sum(rate(x_bucket[5m]))`, `sum by (job) (...)`, `sum without (le) (...)`): an error. Elsewhere, a sum of
/// bucket rates that drops `le` (and selects no single `le`: `le="1"`, or a regex matching one bound written
/// several ways, `le=~"1(\\.0)?"`) is a warning. `histogram_quantile` straight over
/// `rate(x_bucket[5m])` is fine.
///
/// ## Why it matters
/// Each bucket is one `le` series; summing them without `le` adds all buckets together, and
/// `histogram_quantile` then finds no buckets and returns nothing (or NaN): the alert can never fire.
///
/// ## Example
/// ```yaml
/// expr: histogram_quantile(0.95, sum by (job) (rate(http_request_duration_seconds_bucket[5m]))) > 1
/// ```
///
/// ## Fix
/// Keep `le` in the grouping: `sum by (job, le) (rate(http_request_duration_seconds_bucket[5m]))`.
pub struct HistogramQuantileWithoutLe;

impl Check for HistogramQuantileWithoutLe {
    fn code(&self) -> &'static str {
        "promql/histogram-quantile-without-le"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn source(&self) -> &'static str {
        include_str!("histogram_quantile_without_le.rs")
    }
    fn applies_to_recording_rules(&self) -> bool {
        true
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let mut inside_quantile: Vec<*const Expr> = Vec::new();
        walk(cx.ast, &mut |e| {
            let Expr::Call { func, args, span } = e else {
                return;
            };
            if func != "histogram_quantile" {
                return;
            }
            let Some(arg) = args.get(1) else {
                return;
            };
            let a = strip_paren(arg);
            if let Expr::Aggregate { .. } = a {
                inside_quantile.push(a as *const _);
                if let Some((bucket, _)) = drops_le(a) {
                    out.push(Finding::new(
                        cx.at(span.start),
                        format!("histogram_quantile over `{bucket}` aggregated without `le`: it finds no buckets and returns nothing"),
                        format!("keep `le` in the aggregation: {}", with_le(a)),
                    ));
                }
            }
        });
        walk(cx.ast, &mut |a| {
            if !matches!(a, Expr::Aggregate { .. }) || inside_quantile.contains(&(a as *const _)) {
                return;
            }
            if let Some((bucket, at)) = drops_le(a) {
                out.push(
                    Finding::new(
                        cx.at(at),
                        format!("`{bucket}` summed without `le`: the buckets of different bounds are added together"),
                        format!("keep `le` for a later histogram_quantile ({}), or select one bucket with `{{le=\"...\"}}`", with_le(a)),
                    )
                    .with_severity(Severity::Warning),
                );
            }
        });
    }
}

/// The bucket metric an aggregation sums without `le`, if it does.
fn drops_le(a: &Expr) -> Option<(String, usize)> {
    let Expr::Aggregate {
        op,
        expr: inner,
        grouping,
        without,
        ..
    } = a
    else {
        return None;
    };
    if !matches!(op_text(*op), "sum" | "avg" | "max" | "min") {
        return None;
    }
    let keeps_le = grouping.iter().any(|l| l == "le") != *without;
    if keeps_le {
        return None;
    }
    let mut bucket = None;
    walk(inner, &mut |e| {
        let vs = match e {
            Expr::Vector(vs) => vs,
            Expr::Matrix { selector, .. } => selector,
            _ => return,
        };
        let Some(name) = selector_name(e) else { return };
        let one_le = facts::one_number_value(&vs.matchers, "le");
        if name.ends_with("_bucket") && !facts::is_recorded_name(name) && !one_le {
            bucket.get_or_insert_with(|| (name.to_string(), vs.span.start));
        }
    });
    bucket
}

fn with_le(a: &Expr) -> String {
    let Expr::Aggregate {
        op,
        grouping,
        without,
        ..
    } = a
    else {
        return String::new();
    };
    let op = op_text(*op);
    if *without {
        return format!("remove `le` from `{op} without (...)`");
    }
    let mut l: Vec<&str> = grouping.iter().map(String::as_str).collect();
    l.push("le");
    format!("`{op} by ({}) (...)`", l.join(", "))
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::lint::checks::testing::{lint_expr, places};

    const CODE: &str = "promql/histogram-quantile-without-le";

    #[test]
    fn errors_when_aggregated_without_le() {
        for q in [
            "histogram_quantile(0.95, sum(rate(x_bucket[5m]))) > 1",
            "histogram_quantile(0.95, sum by (job) (rate(x_bucket[5m]))) > 1",
            "histogram_quantile(0.95, sum without (le) (rate(x_bucket[5m]))) > 1",
        ] {
            let d = lint_expr(q, CODE);
            assert_eq!(d.len(), 1, "{q}: {d:?}");
            assert_eq!(d[0].severity, Severity::Error);
            assert!(d[0].help.as_deref().unwrap().contains("le"), "{q}");
        }
        let d = lint_expr(
            "histogram_quantile(0.95, sum by (job) (rate(x_bucket[5m]))) > 1",
            CODE,
        );
        assert!(d[0].help.as_deref().unwrap().contains("sum by (job, le)"));
    }

    #[test]
    fn warns_on_other_sums_of_buckets() {
        let d = lint_expr("sum by (job) (rate(x_bucket[5m])) > 1", CODE);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, Severity::Warning);
    }

    #[test]
    fn accepts_le_kept_or_not_aggregated() {
        for q in [
            "histogram_quantile(0.95, rate(x_bucket[5m])) > 1",
            "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) > 1",
            "histogram_quantile(0.95, sum by (job, le) (rate(x_bucket[5m]))) > 1",
            "histogram_quantile(0.95, sum without (pod) (rate(x_bucket[5m]))) > 1",
            "histogram_quantile(0.95, sum(rate(native_histogram[5m]))) > 1",
            "sum(rate(x_bucket{le=\"0.5\"}[5m])) / sum(rate(x_count[5m])) < 0.9",
            // One bound, written either way (Prometheus 3 normalises `1` to `1.0`): kube-prometheus's idiom.
            "sum by (cluster) (rate(x_bucket{le=~\"1(\\\\.0)?\"}[5m])) / sum by (cluster) (rate(x_count[5m])) < 0.9",
            "sum(rate(x_bucket{le=~\"0\\\\.5|0\\\\.50\"}[5m])) > 1",
            "sum(rate(x_bucket{le=~\"\\\\+Inf\"}[5m])) > 1",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}");
        }
    }

    #[test]
    fn a_regex_over_several_bounds_sums_them() {
        for q in [
            "sum(rate(x_bucket{le=~\"1|2\"}[5m])) > 1",
            "sum(rate(x_bucket{le=~\"1.*\"}[5m])) > 1",
            // `.` is any character: `0.5` also matches `0x5`.
            "sum(rate(x_bucket{le=~\"0.5|0.50\"}[5m])) > 1",
            "sum(rate(x_bucket{le!=\"1\"}[5m])) > 1",
        ] {
            assert_eq!(lint_expr(q, CODE).len(), 1, "{q}");
        }
    }

    #[test]
    fn each_sum_is_reported_where_it_is() {
        let d = lint_expr(
            "sum(rate(x_bucket{job=\"a\"}[5m])) - sum(rate(x_bucket{job=\"a\"}[5m])) > 1",
            CODE,
        );
        let p = places(&d);
        assert_eq!(p.len(), 2, "{d:?}");
        assert_ne!(p[0], p[1], "{p:?}");
    }
}
