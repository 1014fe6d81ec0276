//! `promql/regex-literal`: a regex matcher that is a plain string, or anchors what Prometheus anchors already.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{regex_strings, walk};
use crate::promql::syntax::ast::{Expr, MatchOp};

/// ## What it finds
/// A label matcher `=~` or `!~` whose regex matches exactly one string (`job=~"api"`, `code!~"500"`), and a
/// regex that starts with `^` or ends with `$` (`instance=~"^db-.*$"`). An info: the rule works, but it says
/// something other than what it does. `!~""` and `=~""` ("set", "unset") are an idiom and left alone.
///
/// ## Why it matters
/// A regex of one string is an equality written the slow way: `=` says what is meant, and Prometheus
/// answers it from its index without running a regex. Prometheus anchors every label regex at both ends, so
/// `^` and `$` change nothing; they suggest the author expects a search (`=~"db"` matching `db-1`), and the
/// next edit that drops them (`=~"db"`) matches less than that author thinks.
///
/// ## Example
/// ```yaml
/// expr: up{job=~"api", instance=~"^db-.*$"} == 0
/// ```
///
/// ## Fix
/// `up{job="api", instance=~"db-.*"} == 0`.
pub struct RegexLiteral;

impl Check for RegexLiteral {
    fn code(&self) -> &'static str {
        "promql/regex-literal"
    }
    fn default_severity(&self) -> crate::diag::Severity {
        crate::diag::Severity::Info
    }
    fn source(&self) -> &'static str {
        include_str!("regex_literal.rs")
    }
    fn applies_to_recording_rules(&self) -> bool {
        true
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        walk(cx.ast, &mut |e| {
            let vs = match e {
                Expr::Vector(vs) => vs,
                Expr::Matrix { selector, .. } => selector,
                _ => return,
            };
            for m in &vs.matchers {
                let eq = match m.op {
                    MatchOp::Regexp => "=",
                    MatchOp::NotRegexp => "!=",
                    _ => continue,
                };
                let op = if eq == "=" { "=~" } else { "!~" };
                let at = cx.at(vs.span.start);
                // `!~""` / `=~""` ("set" / "unset") is an idiom as clear as `!=""`: left alone.
                if m.value.is_empty() {
                    continue;
                }
                if let Some(one) = regex_strings(&m.value).filter(|s| s.len() == 1) {
                    out.push(Finding::new(
                        at,
                        format!(
                            "`{}{op}{:?}` is a regex of one string: it matches only {:?}",
                            m.name, m.value, one[0]
                        ),
                        format!("write the equality: `{}{eq}{:?}`", m.name, one[0]),
                    ));
                } else if m.value.starts_with('^')
                    || (m.value.ends_with('$') && !m.value.ends_with("\\$"))
                {
                    let bare = m.value.trim_start_matches('^');
                    let bare = bare.strip_suffix('$').unwrap_or(bare);
                    out.push(Finding::new(
                        at,
                        format!(
                            "`{}{op}{:?}`: Prometheus anchors label regexes at both ends, so `^` and `$` change nothing",
                            m.name, m.value
                        ),
                        format!("drop the anchors: `{}{op}{bare:?}`", m.name),
                    ));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::lint::checks::testing::lint_expr;

    const CODE: &str = "promql/regex-literal";

    #[test]
    fn flags_regexes_of_one_string_and_redundant_anchors() {
        let d = lint_expr("up{job=~\"api\"} == 0", CODE);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, Severity::Info);
        assert!(
            d[0].help.as_deref().unwrap().contains("`job=\"api\"`"),
            "{:?}",
            d[0].help
        );
        assert_eq!(lint_expr("rate(x{code!~\"500\"}[5m]) > 1", CODE).len(), 1);
        let d = lint_expr("up{instance=~\"^db-.*$\"} == 0", CODE);
        assert_eq!(d.len(), 1);
        assert!(
            d[0].help.as_deref().unwrap().contains("db-.*"),
            "{:?}",
            d[0].help
        );
        assert_eq!(lint_expr("up{job=~\"^api$\"} == 0", CODE).len(), 1);
    }

    #[test]
    fn accepts_regexes_that_are_regexes() {
        for q in [
            "up{job=~\"api|web\"} == 0",
            "up{instance=~\"db-.*\"} == 0",
            "up{job=\"api\"} == 0",
            "up{path=~\".*\\\\$\"} == 0",
            "x_bucket{le=~\"1(\\\\.0)?\"} > 0",
            // kube-prometheus: "the label is set", an idiom.
            "up{alertmanager!~\"\"} == 0",
        ] {
            assert!(
                lint_expr(q, CODE).is_empty(),
                "{q}: {:?}",
                lint_expr(q, CODE)
            );
        }
    }
}
