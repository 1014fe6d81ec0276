//! `alert/required-labels`: alerts without the labels routing relies on.

use crate::lint::registry::{Check, Finding, RuleContext};

/// ## What it finds
/// An alerting rule that carries none of its own or its group's value for a required label (`severity` by
/// default; set `required_labels: [severity, team]` in `.ruletest.yaml`).
///
/// ## Why it matters
/// Alertmanager routes and inhibits on these labels: an alert without `severity` misses the route that pages
/// and lands in the default receiver, or is never inhibited.
///
/// ## Example
/// ```yaml
/// - alert: DiskFull
///   expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05
/// ```
///
/// ## Fix
/// Add the label: `labels: {severity: critical}`.
pub struct RequiredLabels;

impl Check for RequiredLabels {
    fn code(&self) -> &'static str {
        "alert/required-labels"
    }
    fn source(&self) -> &'static str {
        include_str!("required_labels.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for required in &cx.config.required_labels {
            let has = cx.rule.label(required).is_some()
                || cx.group.labels.iter().any(|(k, _)| &k.value == required);
            if has {
                continue;
            }
            out.push(Finding::new(
                cx.rule.name.pos,
                format!("alert `{}` has no `{required}` label", cx.rule.name.value),
                format!("add `{required}: ...` under the rule's `labels:`, so Alertmanager can route it"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lint, lint_with, places};
    use crate::lint::LintConfig;

    const CODE: &str = "alert/required-labels";

    #[test]
    fn flags_missing_labels() {
        let y = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n";
        let d = lint(y, CODE);
        assert_eq!(places(&d), vec!["4:12"]);
        assert!(d[0].message.contains("`severity`"));
        let cfg = LintConfig {
            required_labels: vec!["team".into()],
            ..LintConfig::default()
        };
        let y = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels: {severity: page}\n";
        assert_eq!(lint_with(y, CODE, &cfg).len(), 1);
    }

    #[test]
    fn accepts_rule_or_group_labels_and_recording_rules() {
        assert!(lint("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels: {severity: page}\n", CODE).is_empty());
        assert!(lint("groups:\n- name: g\n  labels: {severity: page}\n  rules:\n  - alert: A\n    expr: up == 0\n", CODE).is_empty());
        assert!(lint(
            "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n",
            CODE
        )
        .is_empty());
    }
}
