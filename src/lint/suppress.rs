//! Suppressions: `# ruletest: ignore <code> <reason>` on a rule's lines or on the line just above it turns that
//! check off for that rule. The reason is required (a suppression nobody can judge later is a silent bug):
//! without one the check is still suppressed, but `lint/suppression-without-reason` says so.

use crate::diag::Diagnostic;
use crate::lint::catalogue::is_known_code;
use crate::lint::registry::Check;
use crate::load::rules::Rule;
use crate::text::yaml::Comment;
use std::sync::Arc;

const MARKER: &str = "ruletest:";

/// The lines a rule covers, from the line above its first key to its last value's last line.
pub fn rule_span(rule: &Rule, _comments: &[Comment]) -> (u32, u32) {
    let lines_of =
        |pos_line: u32, text: &str| pos_line + text.trim_end().matches('\n').count() as u32;
    let mut end = rule
        .name
        .pos
        .line
        .max(lines_of(rule.expr.pos.line, &rule.expr.value));
    for (k, v) in rule.labels.iter().chain(&rule.annotations) {
        end = end.max(k.pos.line).max(lines_of(v.pos.line, &v.value));
    }
    if let Some(f) = &rule.for_ms {
        end = end.max(f.pos.line);
    }
    if let Some(f) = &rule.keep_firing_for_ms {
        end = end.max(f.pos.line);
    }
    (rule.pos.line.saturating_sub(1).max(1), end)
}

/// The suppressions that apply to one rule, and the diagnostics about malformed ones.
#[derive(Debug, Default)]
pub struct Suppressions {
    pub codes: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Suppressions {
    pub fn suppresses(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }
}

/// Reads the `ruletest: ignore` comments within `span` (inclusive line range).
pub fn collect(
    file: &Arc<str>,
    span: (u32, u32),
    comments: &[Comment],
    _checks: &[&dyn Check],
) -> Suppressions {
    let mut out = Suppressions::default();
    for c in comments
        .iter()
        .filter(|c| c.pos.line >= span.0 && c.pos.line <= span.1)
    {
        let text = c.text.trim_start_matches('#').trim();
        let Some(rest) = text.strip_prefix(MARKER) else {
            continue;
        };
        let mut words = rest.split_whitespace();
        if words.next() != Some("ignore") {
            continue;
        }
        let Some(code) = words.next() else {
            out.diagnostics.push(
                Diagnostic::warning("lint/suppression-without-reason", "`ruletest: ignore` names no check")
                    .at(file, c.pos)
                    .help("write `# ruletest: ignore <code> <reason>`, e.g. `# ruletest: ignore promql/rate-gt-zero any restart matters here`"),
            );
            continue;
        };
        if !is_known_code(code) {
            out.diagnostics.push(
                Diagnostic::warning(
                    "lint/unknown-code",
                    format!("`ruletest: ignore {code}`: no check has this code"),
                )
                .at(file, c.pos)
                .help("docs/checks.md lists every code; a misspelt code suppresses nothing"),
            );
            continue;
        }
        if words.next().is_none() {
            out.diagnostics.push(
                Diagnostic::warning(
                    "lint/suppression-without-reason",
                    format!("`ruletest: ignore {code}` gives no reason"),
                )
                .at(file, c.pos)
                .help(format!(
                    "say why after the code: `# ruletest: ignore {code} <reason>`"
                )),
            );
        }
        out.codes.push(code.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::yaml::Pos;

    fn comment(line: u32, text: &str) -> Comment {
        Comment {
            pos: Pos::new(line, 5),
            text: text.to_string(),
        }
    }

    #[test]
    fn reads_codes_and_asks_for_reasons() {
        let file: Arc<str> = Arc::from("r.yaml");
        let comments = vec![
            comment(
                3,
                "ruletest: ignore promql/rate-gt-zero any restart is news",
            ),
            comment(4, "ruletest: ignore alert/required-labels"),
            comment(5, "ruletest: ignore promql/no-such-check because"),
            comment(6, "an ordinary comment"),
            comment(
                20,
                "ruletest: ignore promql/division-by-zero outside the rule",
            ),
        ];
        let s = collect(&file, (3, 10), &comments, &[]);
        assert!(s.suppresses("promql/rate-gt-zero"));
        assert!(s.suppresses("alert/required-labels"));
        assert!(!s.suppresses("promql/division-by-zero"));
        let codes: Vec<_> = s
            .diagnostics
            .iter()
            .map(|d| (d.code, d.location.as_ref().unwrap().pos.line))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("lint/suppression-without-reason", 4),
                ("lint/unknown-code", 5)
            ]
        );
    }
}
