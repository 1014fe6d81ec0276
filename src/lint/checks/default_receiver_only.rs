//! `routing/default-receiver-only`: alerts that fall through every child route to the root's receiver.

use crate::alertmanager::symbolic::{deliveries, describe_route, Tri};
use crate::diag::Severity;
use crate::lint::registry::{Check, Finding, ProjectContext};

/// ## What it finds
/// An alerting rule whose alerts match none of the root route's child routes, so they only ever reach the
/// default receiver.
///
/// Alerts are routed with the labels the rule writes (its own and its group's, plus
/// `alertname`). Labels the expression returns are unknown: a label the rule does not write is taken as absent,
/// unless the expression visibly keeps it (`sum by (team)`), in which case the route only "may" match and the
/// rule is not reported. Prometheus `external_labels` are not known either.
///
/// Severity **info**: a catch-all receiver is a legitimate design (a team chat for every warning), so this is
/// a fact worth seeing rather than a mistake; it becomes a warning in `.ruletest.yaml` where every alert is
/// meant to reach a team route.
///
/// ## Why it matters
/// The usual cause is a missing or misspelled label (`team: db` vs `team: database`, no `severity`): the alert
/// fires, but lands in a default receiver nobody watches instead of the team's pager.
///
/// ## Example
/// ```yaml
/// # rules: labels {severity: warning, component: backend}
/// route:
///   receiver: web.hook
///   routes:
///   - matchers: ['severity="critical"']
///     receiver: pager
/// ```
///
/// ## Fix
/// Give the rule the label a child route expects, or add a child route for it; if the default receiver is
/// where it belongs, keep it (or turn this check off).
pub struct DefaultReceiverOnly;

impl Check for DefaultReceiverOnly {
    fn code(&self) -> &'static str {
        "routing/default-receiver-only"
    }
    fn default_severity(&self) -> Severity {
        Severity::Info
    }
    fn source(&self) -> &'static str {
        include_str!("default_receiver_only.rs")
    }
    fn check_project(&self, cx: &ProjectContext, out: &mut Vec<Finding>) {
        let rules = cx.alert_labels;
        for &(item, config) in &cx.configs {
            let root = &config.route;
            if root.routes.is_empty() {
                continue;
            }
            let children: Vec<String> = root.routes.iter().map(describe_route).collect();
            for rule in rules {
                let got = deliveries(root, rule);
                if !(got.len() == 1 && got[0].1 == Tri::Yes && got[0].0.path.is_empty()) {
                    continue;
                }
                let mut f = Finding::new(
                    root.receiver_pos,
                    format!(
                        "alert `{}` ({}:{}) reaches only the default receiver `{}`: none of the {} child routes matches its labels {}",
                        rule.name,
                        rule.file,
                        rule.pos.line,
                        root.receiver,
                        root.routes.len(),
                        rule.describe()
                    ),
                    format!(
                        "the child routes are {}: give the rule the label one of them expects, or add a route for it",
                        children.join("; ")
                    ),
                );
                f.file = Some(item.file.clone());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "routing/default-receiver-only";
    const AM: &str = "route:\n  receiver: default\n  routes:\n  - matchers: [severity=\"critical\"]\n    receiver: pager\n  - matchers: [team=\"db\"]\n    receiver: db\nreceivers:\n- name: default\n- name: pager\n- name: db\n";

    #[test]
    fn flags_an_alert_no_child_route_takes() {
        let rules = "groups:\n- name: g\n  rules:\n  - alert: Slow\n    expr: up == 0\n    labels: {severity: warning, team: database}\n";
        let d = lint_am(AM, Some(rules), CODE);
        assert_eq!(lines(&d), vec![2]);
        assert_eq!(d[0].severity, Severity::Info);
        assert!(
            d[0].message.contains("`Slow` (rules.yml:4)"),
            "{}",
            d[0].message
        );
        assert!(
            d[0].message.contains("team=\"database\""),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].location.as_ref().unwrap().file.as_ref(), "am.yml");
    }

    #[test]
    fn routed_or_possibly_routed_alerts_pass() {
        // Group label, rule label, and a team kept by the expression (may match: not provable).
        let rules = "groups:\n- name: g\n  labels: {team: db}\n  rules:\n  - alert: A\n    expr: up == 0\n- name: h\n  rules:\n  - alert: B\n    expr: up == 0\n    labels: {severity: critical}\n  - alert: C\n    expr: sum by (team) (up) == 0\n  - alert: D\n    expr: up == 0\n    labels: {severity: '{{ $labels.sev }}'}\n";
        let d = lint_am(AM, Some(rules), CODE);
        assert!(d.is_empty(), "{d:?}");
        // Without rules there is nothing to judge.
        assert!(lint_am(AM, None, CODE).is_empty());
    }
}
