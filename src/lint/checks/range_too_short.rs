//! `promql/range-too-short`: a rate window that can hold fewer than two samples.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{strip_paren, walk};
use crate::promql::syntax::ast::Expr;
use crate::text::duration::format_duration;

/// ## What it finds
/// `rate`, `irate`, `increase`, `delta`, `idelta`, `deriv` or `predict_linear` over a range shorter than twice
/// the scrape interval (`scrape_interval` in `.ruletest.yaml`, 15s by default, so anything under 30s). A range
/// of 2x to under 4x the interval (`[30s]`, `[45s]` at 15s) is an info, except for `irate` and `idelta`,
/// which read only the last two samples anyway.
///
/// ## Why it matters
/// These functions need at least two samples in the window. With one scrape every 15s, a 20s window often
/// holds a single sample: the result is empty, and the alert silently never fires (or flaps as samples shift).
/// At 2x to 4x, the window holds two or three samples: one missed or late scrape empties it, and the rate
/// rests on so few samples that it jumps.
///
/// ## Example
/// ```yaml
/// expr: rate(http_requests_total[20s]) > 100
/// ```
///
/// ## Fix
/// Use a window of at least 4x the scrape interval (`[1m]` for a 15s scrape), or `irate` over such a window
/// if you want the latest change.
pub struct RangeTooShort;

impl Check for RangeTooShort {
    fn code(&self) -> &'static str {
        "promql/range-too-short"
    }
    fn source(&self) -> &'static str {
        include_str!("range_too_short.rs")
    }
    fn applies_to_recording_rules(&self) -> bool {
        true
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let scrape = cx.config.scrape_interval_ms;
        walk(cx.ast, &mut |e| {
            let Expr::Call { func, args, .. } = e else {
                return;
            };
            if !matches!(
                func.as_str(),
                "rate" | "irate" | "increase" | "delta" | "idelta" | "deriv" | "predict_linear"
            ) {
                return;
            }
            let Some(Expr::Matrix {
                selector, range_ms, ..
            }) = args.first().map(strip_paren)
            else {
                return;
            };
            let range = *range_ms;
            let few = range >= 2 * scrape
                && range < 4 * scrape
                && !matches!(func.as_str(), "irate" | "idelta");
            if range >= 2 * scrape && !few {
                return;
            }
            // The finding points at the range's `[`, just after the selector.
            let text = &cx.rule.expr.value;
            let after = selector.span.end.min(text.len());
            let bracket = text
                .get(after..)
                .and_then(|t| t.find('['))
                .map_or(selector.span.start, |i| after + i);
            let pos = cx.at(bracket);
            if few {
                out.push(
                    Finding::new(
                        pos,
                        format!(
                            "{}() over {} holds 2 or 3 samples at a {} scrape interval: one missed scrape leaves it one sample, and it returns nothing",
                            func,
                            format_duration(range),
                            format_duration(scrape)
                        ),
                        format!("use a range of at least {} (4x the scrape interval)", format_duration(4 * scrape)),
                    )
                    .with_severity(crate::diag::Severity::Info),
                );
                return;
            }
            out.push(Finding::new(
                pos,
                format!(
                    "{}() over {} holds fewer than 2 samples at a {} scrape interval, so it returns nothing",
                    func,
                    format_duration(range),
                    format_duration(scrape)
                ),
                format!("use a range of at least {} (4x the scrape interval)", format_duration(4 * scrape)),
            ));
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{alert, lint_expr, lint_with, places};
    use crate::lint::LintConfig;

    const CODE: &str = "promql/range-too-short";

    #[test]
    fn flags_ranges_under_two_scrapes() {
        let d = lint_expr("rate(http_requests_total[20s]) > 100", CODE);
        assert_eq!(places(&d), vec!["5:35"]);
        assert!(d[0].help.as_deref().unwrap().contains("1m"));
        assert!(lint_expr("max_over_time(up[10s]) > 0", CODE).is_empty());
        assert_eq!(d[0].severity, crate::diag::Severity::Warning);
    }

    #[test]
    fn ranges_under_four_scrapes_are_an_info() {
        for q in [
            "rate(http_requests_total[30s]) > 100",
            "increase(http_requests_total[45s]) > 100",
        ] {
            let d = lint_expr(q, CODE);
            assert_eq!(d.len(), 1, "{q}");
            assert_eq!(d[0].severity, crate::diag::Severity::Info, "{q}");
            assert!(d[0].message.contains("2 or 3 samples"), "{q}");
        }
        for q in [
            "rate(http_requests_total[1m]) > 100",
            "irate(http_requests_total[30s]) > 100",
            "idelta(x[30s]) > 1",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}");
        }
    }

    #[test]
    fn follows_the_configured_scrape_interval() {
        let cfg = LintConfig {
            scrape_interval_ms: 60_000,
            ..LintConfig::default()
        };
        let d = lint_with(&alert("rate(x_total[1m]) > 1", ""), CODE, &cfg);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("1m scrape interval"));
    }
}
