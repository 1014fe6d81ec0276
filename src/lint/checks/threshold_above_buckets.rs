//! `promql/threshold-above-buckets`: a `histogram_quantile` alert whose threshold is at or above the highest
//! finite bucket bound, when the bucket bounds are known.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{binary, call, number, selector_name, strip_paren, walk};
use crate::rules::sweep::{split_comparison, CmpOp};

/// ## What it finds
/// An alert `histogram_quantile(q, ...x_bucket...) > T` (or `>= T`) where `T` is at or above the highest finite
/// `le` bound of `x_bucket`, when the bounds are known: from the `input_series` of rule unit tests under the
/// checked paths, or from fixtures given with `check --series FILE`.
///
/// ## Why it matters
/// `histogram_quantile` never returns more than the highest finite bucket bound: when the quantile falls in
/// the `+Inf` bucket it returns that bound. A threshold at or above it can never be passed, however slow the
/// requests get; the alert is silent exactly when it is needed.
///
/// ## Example
/// Buckets `0.1 ... 10, +Inf` and
/// ```yaml
/// expr: histogram_quantile(0.99, sum by (le) (rate(request_duration_seconds_bucket[5m]))) > 10
/// ```
///
/// ## Fix
/// Add buckets above the threshold in the instrumentation (e.g. 30, 60), or lower the threshold below the
/// highest finite bound.
pub struct ThresholdAboveBuckets;

impl Check for ThresholdAboveBuckets {
    fn code(&self) -> &'static str {
        "promql/threshold-above-buckets"
    }
    fn source(&self) -> &'static str {
        include_str!("threshold_above_buckets.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        if cx.config.bucket_bounds.is_empty() {
            return;
        }
        let Ok(split) = split_comparison(cx.ast) else {
            return;
        };
        if !matches!(split.op, CmpOp::Gt | CmpOp::Ge) {
            return;
        }
        let Some((_, lhs, rhs, _, _)) = binary(strip_paren(cx.ast)) else {
            return;
        };
        // The side that is not the threshold.
        let side = if number(rhs).is_some() { lhs } else { rhs };
        let Some(("histogram_quantile", args)) = call(side) else {
            return;
        };
        let Some(arg) = args.get(1) else {
            return;
        };
        let mut bound: Option<(String, f64)> = None;
        walk(arg, &mut |e| {
            if let Some(name) = selector_name(e) {
                if let Some(b) = cx.config.bucket_bounds.get(name) {
                    bound = Some((name.to_string(), *b));
                }
            }
        });
        let Some((bucket, highest)) = bound else {
            return;
        };
        let never = match split.op {
            CmpOp::Gt => split.threshold >= highest,
            _ => split.threshold > highest,
        };
        if never {
            let pos = cx.at(strip_paren(side).span().start);
            out.push(Finding::new(
                pos,
                format!(
                    "the threshold {} is at or above {highest}, the highest finite bucket of `{bucket}`: histogram_quantile never returns more, so this alert can never fire",
                    split.threshold
                ),
                format!("add buckets above {} to `{bucket}`, or lower the threshold below {highest}", split.threshold),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{alert, lint_with};

    const CODE: &str = "promql/threshold-above-buckets";

    fn findings(expr: &str, config: &crate::lint::LintConfig) -> usize {
        lint_with(&alert(&format!("'{expr}'"), ""), CODE, config).len()
    }

    fn bounds() -> crate::lint::LintConfig {
        let mut c = crate::lint::LintConfig::default();
        c.bucket_bounds.insert("d_bucket".into(), 10.0);
        c
    }

    #[test]
    fn flags_thresholds_at_or_above_the_highest_bucket() {
        assert_eq!(
            findings(
                "histogram_quantile(0.95, rate(d_bucket[5m])) > 10",
                &bounds()
            ),
            1
        );
        assert_eq!(
            findings(
                "histogram_quantile(0.95, sum by (le) (rate(d_bucket[5m]))) >= 11",
                &bounds()
            ),
            1
        );
    }

    #[test]
    fn passes_below_the_bound_or_without_bounds() {
        for e in [
            "histogram_quantile(0.95, rate(d_bucket[5m])) > 9",
            "histogram_quantile(0.95, rate(d_bucket[5m])) >= 10",
            "histogram_quantile(0.95, rate(other_bucket[5m])) > 100",
        ] {
            assert_eq!(findings(e, &bounds()), 0, "{e}");
        }
        assert_eq!(
            findings(
                "histogram_quantile(0.95, rate(d_bucket[5m])) > 10",
                &crate::lint::LintConfig::default()
            ),
            0
        );
    }
}
