//! `alert/duplicate-alert`: one alert, defined twice with different expressions, in different files or groups.

use crate::lint::registry::{Check, Finding, ProjectContext};
use crate::load::rules::{Group, Rule, RuleKind};
use std::sync::Arc;

/// ## What it finds
/// An alerting rule whose name and labels (its own and its group's) another alerting rule in another file or
/// group has too, with a different expression, unless the two can never produce the same series (both keep a
/// label whose values their selectors split). Alerts that share a name but differ in a label (`severity:
/// warning` at one threshold, `critical` at another) are left alone: that is how tiers are written.
///
/// ## Why it matters
/// Alertmanager knows an alert by its labels. Two rules that give the same labels make one alert out of two
/// conditions: each evaluation of either refreshes it, so it fires when either holds and resolves only when
/// both stop; silences and inhibitions written for one apply to both, and the annotations shown are
/// whichever rule was evaluated last. This is usually a copy that drifted: a rule file vendored twice, or
/// edited in one place only.
///
/// ## Example
/// ```yaml
/// # team-a/rules.yaml
/// - alert: InstanceDown
///   expr: up == 0
/// # team-b/rules.yaml
/// - alert: InstanceDown
///   expr: up{job="api"} == 0 and on (instance) probe_success == 0
/// ```
///
/// ## Fix
/// Keep one definition, or tell them apart: rename one, or give each a label of its own (`team: a`).
pub struct DuplicateAlert;

impl Check for DuplicateAlert {
    fn code(&self) -> &'static str {
        "alert/duplicate-alert"
    }
    fn source(&self) -> &'static str {
        include_str!("duplicate_alert.rs")
    }
    fn check_project(&self, cx: &ProjectContext, out: &mut Vec<Finding>) {
        // Every alerting rule with its file, group and full label set.
        type Def<'a> = (&'a Arc<str>, &'a Group, &'a Rule, Vec<(&'a str, &'a str)>);
        let mut defs: Vec<Def> = Vec::new();
        for f in cx.rule_files {
            for g in &f.groups {
                for r in g.rules.iter().filter(|r| r.kind == RuleKind::Alerting) {
                    let mut labels: Vec<(&str, &str)> = g
                        .labels
                        .iter()
                        .filter(|(k, _)| !r.labels.iter().any(|(rk, _)| rk.value == k.value))
                        .chain(&r.labels)
                        .map(|(k, v)| (k.value.as_str(), v.value.as_str()))
                        .collect();
                    labels.sort();
                    defs.push((&f.file, g, r, labels));
                }
            }
        }
        let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        for (i, (file, group, rule, labels)) in defs.iter().enumerate() {
            let earlier = defs[..i].iter().find(|(f2, g2, r2, l2)| {
                r2.name.value == rule.name.value
                    && l2 == labels
                    && !(Arc::ptr_eq(f2, file) && g2.name == group.name)
                    && squeeze(&r2.expr.value) != squeeze(&rule.expr.value)
                    && !apart(r2, rule, labels)
            });
            let Some((f2, g2, r2, _)) = earlier else {
                continue;
            };
            let mut finding = Finding::new(
                rule.name.pos,
                format!(
                    "alert `{}` is also defined at {}:{} (group {}) with the same labels and another expression: Alertmanager sees one alert fed by both",
                    rule.name.value, f2, r2.name.pos.line, g2.name
                ),
                "keep one definition, or tell them apart with a name or a label of their own",
            );
            finding.file = Some((*file).clone());
            out.push(finding);
        }
    }
}

/// Whether the two rules' series can never be the same.
fn apart(a: &Rule, b: &Rule, labels: &[(&str, &str)]) -> bool {
    let set: Vec<&str> = labels.iter().map(|(k, _)| *k).collect();
    match (&a.ast, &b.ast) {
        (Some(x), Some(y)) => crate::promql::facts::tell_apart(x, y, &set).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::lint_files;

    const CODE: &str = "alert/duplicate-alert";

    fn file(group: &str, alerts: &[(&str, &str, &str)]) -> String {
        let mut s = format!("groups:\n- name: {group}\n  rules:\n");
        for (name, expr, severity) in alerts {
            s.push_str(&format!(
                "  - alert: {name}\n    expr: '{expr}'\n    labels: {{severity: {severity}}}\n"
            ));
        }
        s
    }

    #[test]
    fn flags_one_alert_defined_twice_with_different_expressions() {
        let d = lint_files(
            &[
                ("a.yaml", &file("a", &[("InstanceDown", "up == 0", "page")])),
                (
                    "b.yaml",
                    &file("b", &[("InstanceDown", "up{job=\"api\"} == 0", "page")]),
                ),
            ],
            CODE,
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("a.yaml:4"), "{}", d[0].message);
        assert_eq!(d[0].location.as_ref().unwrap().file.as_ref(), "b.yaml");
        // Two groups of one file count too.
        let two_groups =
            file("a", &[("X", "up == 0", "page")]) + &file("b", &[("X", "up < 1", "page")])[7..];
        assert_eq!(lint_files(&[("a.yaml", &two_groups)], CODE).len(), 1);
    }

    #[test]
    fn accepts_tiers_copies_and_split_series() {
        for (a, b) in [
            // Tiers: the severity tells them apart.
            (
                ("HighLatency", "lat > 1", "warning"),
                ("HighLatency", "lat > 2", "critical"),
            ),
            // The same rule vendored twice: one alert, one condition.
            (
                ("InstanceDown", "up == 0", "page"),
                ("InstanceDown", "up  ==  0", "page"),
            ),
            // Series that never meet.
            (
                ("Errors", "x{code=\"500\"} > 1", "page"),
                ("Errors", "x{code=\"503\"} > 5", "page"),
            ),
            (("A", "up == 0", "page"), ("B", "up < 1", "page")),
        ] {
            let d = lint_files(
                &[("a.yaml", &file("a", &[a])), ("b.yaml", &file("b", &[b]))],
                CODE,
            );
            assert!(d.is_empty(), "{a:?} {b:?}: {d:?}");
        }
    }
}
