//! The [`Check`] trait every lint implements, what a check is handed ([`RuleContext`], [`ConfigContext`],
//! [`ProjectContext`]) and what it hands back ([`Finding`]). The list of checks is
//! [`crate::lint::catalogue`]'s: checks import this module, the catalogue imports them.
//!
//! A check's documentation is the doc comment on its struct: [`CheckInfo::doc`] reads it from the check's own
//! source file (embedded at compile time), so `docs/checks.md` and the SARIF rule descriptions cannot drift
//! from the code.

use crate::alertmanager::config::Config;
use crate::alertmanager::symbolic::AlertLabels;
use crate::diag::Severity;
use crate::lint::config::LintConfig;
use crate::load::documents::Item;
use crate::load::rules::{Group, Rule, RuleFile};
use crate::promql::syntax::ast::Expr;
use crate::text::yaml::Pos;
use std::sync::Arc;

/// One rule, parsed, with what a check may need around it.
pub struct RuleContext<'a> {
    pub file: &'a Arc<str>,
    pub group: &'a Group,
    pub rule: &'a Rule,
    /// The rule's expression, parsed (rules whose expression does not parse are not linted).
    pub ast: &'a Expr,
    /// The whole file's text, to place a finding on the exact line and column of a token.
    pub source: Option<&'a str>,
    pub config: &'a LintConfig,
}

impl RuleContext<'_> {
    /// Where byte `offset` of the rule's expression stands in the file.
    pub fn at(&self, offset: usize) -> crate::text::yaml::Pos {
        self.rule.expr_pos(offset, self.source)
    }

    /// Where byte `offset` of a label's or annotation's value stands in the file.
    pub fn at_in(
        &self,
        value: &crate::load::fields::Spanned<String>,
        offset: usize,
    ) -> crate::text::yaml::Pos {
        crate::text::scalar_pos::pos_in_value(value.pos, &value.value, offset, self.source)
    }
}

/// One Alertmanager configuration document, as loaded (the typed model comes with the Alertmanager stage).
pub struct ConfigContext<'a> {
    pub item: &'a Item,
    /// The typed model of the config, built once for all checks; `None` when it has errors.
    pub typed: Option<&'a Config>,
    pub source: Option<&'a str>,
    pub config: &'a LintConfig,
}

/// Everything at once, for checks that relate rules to Alertmanager routes.
pub struct ProjectContext<'a> {
    pub rule_files: &'a [RuleFile],
    pub alertmanager: Vec<&'a Item>,
    /// The configs that load, with their typed model (built once for all checks).
    pub configs: Vec<(&'a Item, &'a Config)>,
    /// The label sets of the loaded alerting rules; empty when no config loads (nothing to relate them to).
    pub alert_labels: &'a [AlertLabels],
    pub config: &'a LintConfig,
}

/// What a check reports; the framework adds the code, the severity and the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub pos: Pos,
    pub message: String,
    pub help: Option<String>,
    /// A severity other than the check's default for this finding (a `.ruletest.yaml` setting still wins).
    pub severity: Option<Severity>,
    /// The file, for checks that look beyond one rule; `None` means the rule's file.
    pub file: Option<Arc<str>>,
}

impl Finding {
    pub fn new(pos: Pos, message: impl Into<String>, help: impl Into<String>) -> Self {
        Finding {
            pos,
            message: message.into(),
            help: Some(help.into()),
            severity: None,
            file: None,
        }
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

/// A lint. Implement the hooks for what the check looks at: one rule, one Alertmanager config, or both.
pub trait Check: Sync {
    /// Stable code, `family/name`, used in output, suppressions and `.ruletest.yaml`.
    fn code(&self) -> &'static str;
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    /// The check's source file; its struct's doc comment is the documentation.
    fn source(&self) -> &'static str;
    /// Most checks are about alerts; those about PromQL alone also look at recording rules.
    fn applies_to_recording_rules(&self) -> bool {
        false
    }
    fn check_rule(&self, _cx: &RuleContext, _out: &mut Vec<Finding>) {}
    fn check_alertmanager(&self, _cx: &ConfigContext, _out: &mut Vec<Finding>) {}
    /// Findings here must set [`Finding::file`]: there is no single rule to take it from.
    fn check_project(&self, _cx: &ProjectContext, _out: &mut Vec<Finding>) {}
}

/// What docs and SARIF need to know about a check.
#[derive(Clone, Debug)]
pub struct CheckInfo {
    pub code: &'static str,
    pub severity: Severity,
    /// The doc comment, Markdown, `///` stripped.
    pub doc: String,
}

impl CheckInfo {
    pub fn of(check: &dyn Check) -> Self {
        CheckInfo {
            code: check.code(),
            severity: check.default_severity(),
            doc: doc_comment(check.source()),
        }
    }

    /// The first paragraph of `## What it finds`, for one-line descriptions.
    pub fn summary(&self) -> String {
        let mut lines = self
            .doc
            .lines()
            .skip_while(|l| !l.starts_with("## What it finds"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty() && !l.starts_with("## ") && !l.starts_with("- "));
        let mut out = String::new();
        for l in lines.by_ref() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(l.trim());
        }
        out
    }
}

/// The `///` comment directly above the first `pub struct` of a check's source.
fn doc_comment(source: &str) -> String {
    let mut block: Vec<&str> = Vec::new();
    for line in source.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("///") {
            block.push(rest.strip_prefix(' ').unwrap_or(rest));
        } else if t.starts_with("pub struct") {
            break;
        } else if !t.starts_with("#[") {
            block.clear();
        }
    }
    block.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_comment_takes_the_block_above_the_struct() {
        let src = "//! module\nuse x;\n/// one\n///\n/// two\n#[derive(Debug)]\npub struct A;\n/// later\npub struct B;";
        assert_eq!(doc_comment(src), "one\n\ntwo");
    }
}
