//! `alert/percent-of-ratio`: `{{ $value }}%` when the value is a ratio between 0 and 1.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::lint::template::value_as_percent;
use crate::promql::facts::{binary, is_filter, number, strip_paren};
use crate::promql::syntax::ast::Expr;

/// ## What it finds
/// A label or annotation printing `{{ $value }}%` (or `.Value`, with or without `printf` or `humanize`)
/// while the alert's expression is a ratio compared with a threshold between 0 and 1: `a / b > 0.9`,
/// `1 - a / b > 0.8`.
///
/// ## Why it matters
/// `$value` is the ratio itself: the notification says "usage 0.93%" when usage is 93%, and whoever reads it
/// at 3am concludes nothing is wrong.
///
/// ## Example
/// ```yaml
/// expr: chat2sql_db_connections_active / 100 > 0.9
/// annotations:
///   description: "pool usage over 90%, now {{ $value }}%"
/// ```
///
/// ## Fix
/// Let the template do the conversion: `{{ $value | humanizePercentage }}` prints `93%`.
pub struct PercentOfRatio;

impl Check for PercentOfRatio {
    fn code(&self) -> &'static str {
        "alert/percent-of-ratio"
    }
    fn source(&self) -> &'static str {
        include_str!("percent_of_ratio.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let Some(threshold) = ratio_threshold(cx.ast) else {
            return;
        };
        for (key, value) in cx.rule.labels.iter().chain(&cx.rule.annotations) {
            let Some((at, text)) = value_as_percent(&value.value) else {
                continue;
            };
            let pos = cx.at_in(value, at);
            out.push(Finding::new(
                pos,
                format!("`{}` shows `{text}`, but the expression is a ratio compared with {threshold}: 93% prints as 0.93%", key.value),
                "use `{{ $value | humanizePercentage }}`, which multiplies by 100 and adds the %".to_string(),
            ));
        }
    }
}

/// The threshold, if the expression is `ratio > t` / `ratio < t` with `0 < t <= 1` and `ratio` a division.
fn ratio_threshold(e: &Expr) -> Option<f64> {
    let e = strip_paren(e);
    let (_, lhs, rhs, _, _) = binary(e)?;
    if !is_filter(e) {
        return None;
    }
    let (value, t) = match (number(lhs), number(rhs)) {
        (None, Some(t)) => (lhs, t),
        (Some(t), None) => (rhs, t),
        _ => return None,
    };
    (t > 0.0 && t <= 1.0 && is_ratio(value)).then_some(t)
}

/// A division (not scaled by 100), or one minus a division.
fn is_ratio(e: &Expr) -> bool {
    match binary(strip_paren(e)) {
        Some(("/", lhs, rhs, _, _)) => {
            number(rhs).is_none_or(|d| d >= 10.0) && !is_percent_scaled(lhs)
        }
        Some(("-", lhs, rhs, _, _)) => number(lhs) == Some(1.0) && is_ratio(rhs),
        _ => false,
    }
}

/// `x * 100 / y`: already a percentage.
fn is_percent_scaled(e: &Expr) -> bool {
    match binary(strip_paren(e)) {
        Some(("*", lhs, rhs, _, _)) => number(lhs) == Some(100.0) || number(rhs) == Some(100.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{alert, lint, places};

    const CODE: &str = "alert/percent-of-ratio";

    fn with_description(expr: &str, text: &str) -> String {
        alert(
            expr,
            &format!("    annotations:\n      description: \"{text}\"\n"),
        )
    }

    #[test]
    fn flags_value_printed_as_percent_of_a_ratio() {
        let d = lint(
            &with_description(
                "chat2sql_db_connections_active / 100 > 0.9",
                "now {{ $value }}%",
            ),
            CODE,
        );
        assert_eq!(places(&d), vec!["9:25"]);
        assert!(d[0].help.as_deref().unwrap().contains("humanizePercentage"));
        assert_eq!(
            lint(
                &with_description("1 - a / b > 0.8", "{{ $value | printf \\\"%.1f\\\" }}%"),
                CODE
            )
            .len(),
            1
        );
    }

    #[test]
    fn humanize_does_not_make_a_ratio_a_percentage() {
        let d = lint(
            &with_description("a / b > 0.9", "at {{ $value | humanize }}%"),
            CODE,
        );
        assert_eq!(d.len(), 1, "{d:?}");
    }

    #[test]
    fn accepts_percentages_and_humanized_ratios() {
        for (q, t) in [
            ("a / b * 100 > 90", "{{ $value }}%"),
            ("a * 100 / b > 90", "{{ $value }}%"),
            ("(a * 100) / b > 0.9", "{{ $value }}%"),
            ("a / b > 0.9", "{{ $value | humanizePercentage }}"),
            ("a / b > 0.9", "{{ $value }}"),
            ("rate(x_total[5m]) > 0.5", "{{ $value }}%"),
        ] {
            assert!(lint(&with_description(q, t), CODE).is_empty(), "{q} {t}");
        }
    }
}
