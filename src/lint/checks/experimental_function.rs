//! `promql/experimental-function`: functions Prometheus 3 only accepts behind a feature flag.

use crate::diag::Severity;
use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{op_text, walk};
use crate::promql::features::{Feature, Features};
use crate::promql::syntax::ast::Expr;
use crate::promql::syntax::{functions, TokenKind};

/// ## What it finds
/// Functions and aggregations marked experimental in Prometheus 3.14 (`promql/parser/functions.go`,
/// `Experimental: true`, and the `limitk`/`limit_ratio` aggregations): `double_exponential_smoothing`,
/// `histogram_quantiles`, `info`, `mad_over_time`, `max_of`, `min_of`, `sort_by_label`, `sort_by_label_desc`,
/// `ts_of_first_over_time`, `ts_of_last_over_time`, `ts_of_max_over_time`, `ts_of_min_over_time`, `start`,
/// `start_timestamp`, `end`, `range`, `step`, `limitk`, `limit_ratio`. The list is the parser's function
/// table (`crate::promql::syntax::functions`).
///
/// ## Why it matters
/// Prometheus refuses to load a rule file using them unless it runs with
/// `--enable-feature=promql-experimental-functions`; the whole group is then not evaluated, and no alert in
/// it can fire.
///
/// ## Example
/// ```yaml
/// expr: mad_over_time(request_latency_seconds[1h]) > 0.5
/// ```
///
/// ## Fix
/// Run Prometheus with `--enable-feature=promql-experimental-functions` and tell ruletest so with the same
/// flag (`ruletest check --enable-feature promql-experimental-functions`, or `RULETEST_ENABLE_FEATURES`):
/// the check is then quiet. Or rewrite without the function (e.g. `stddev_over_time` for `mad_over_time`).
pub struct ExperimentalFunction;

impl Check for ExperimentalFunction {
    fn code(&self) -> &'static str {
        "promql/experimental-function"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn source(&self) -> &'static str {
        include_str!("experimental_function.rs")
    }
    fn applies_to_recording_rules(&self) -> bool {
        true
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        // Quiet when the command was told that the server enables the feature.
        if Features::installed().is_some_and(|f| f.has(Feature::ExperimentalFunctions)) {
            return;
        }
        walk(cx.ast, &mut |e| {
            let (name, at) = match e {
                Expr::Call { func, span, .. }
                    if functions::get(func).is_some_and(|f| f.experimental) =>
                {
                    (func.as_str(), span.start)
                }
                Expr::Aggregate { op, span, .. }
                    if matches!(op, TokenKind::Limitk | TokenKind::LimitRatio) =>
                {
                    (op_text(*op), span.start)
                }
                _ => return,
            };
            let pos = cx.at(at);
            out.push(Finding::new(
                pos,
                format!("`{name}` is experimental: Prometheus 3 rejects this rule file unless started with --enable-feature=promql-experimental-functions"),
                "enable promql-experimental-functions on the Prometheus server (and set this check to off in .ruletest.yaml), or rewrite without it".to_string(),
            ));
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::lint::checks::testing::{lint_expr, places};

    const CODE: &str = "promql/experimental-function";

    #[test]
    fn flags_experimental_functions_and_aggregations() {
        let d = lint_expr("mad_over_time(x[1h]) > 0.5", CODE);
        assert_eq!(places(&d), vec!["5:11"]);
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(lint_expr("sum(limitk(2, up)) > 0", CODE).len(), 1);
        assert_eq!(lint_expr("sort_by_label(up, \"job\") > 0", CODE).len(), 1);
    }

    #[test]
    fn accepts_stable_functions() {
        for q in [
            "stddev_over_time(x[1h]) > 0.5",
            "last_over_time(x[5m]) > 1",
            "topk(2, up) > 0",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}");
        }
    }
}
