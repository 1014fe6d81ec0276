//! `routing/group-by-missing-label`: grouping by labels no loaded alert can carry.

use crate::alertmanager::config::GroupBy;
use crate::alertmanager::symbolic::route_node;
use crate::lint::registry::{Check, Finding, ProjectContext};
use crate::text::yaml::Node;

/// ## What it finds
/// A route's `group_by` label that none of the loaded alerting rules can carry: no rule (or its group) writes
/// it, and no rule's expression can return it (`sum by (job) (...)` returns only `job`).
///
/// A raw selector can
/// return any label, so a rule reading one makes every label possible and nothing is reported: this check only
/// speaks when it can prove the label absent. Prometheus `external_labels` (often `cluster`) are not visible
/// here either; if yours add the label, turn the check off or suppress it.
///
/// ## Why it matters
/// A missing label groups as the empty value: all alerts fall into the same group for it, so the grouping the
/// route asks for (one notification per cluster or service) never happens, and notifications mix unrelated
/// alerts.
///
/// ## Example
/// ```yaml
/// # rules: expr: sum by (job) (rate(errors_total[5m])) > 1, labels {severity: warning}
/// route:
///   group_by: [alertname, service]
/// ```
///
/// ## Fix
/// Group by labels the alerts carry (`alertname`, `job`, `namespace`), or add the label to the rules
/// (`labels: {service: api}`) or keep it in the expression (`sum by (job, service)`).
pub struct GroupByMissingLabel;

impl Check for GroupByMissingLabel {
    fn code(&self) -> &'static str {
        "routing/group-by-missing-label"
    }
    fn source(&self) -> &'static str {
        include_str!("group_by_missing_label.rs")
    }
    fn check_project(&self, cx: &ProjectContext, out: &mut Vec<Finding>) {
        let rules = cx.alert_labels;
        if rules.is_empty() {
            return;
        }
        for &(item, config) in &cx.configs {
            for route in config.routes() {
                let GroupBy::Labels(labels) = &route.group_by else {
                    continue;
                };
                if !route.explicit_group_by {
                    continue;
                }
                let list = route_node(&item.root, &route.path).and_then(|n| n.get("group_by"));
                for label in labels {
                    if rules.iter().any(|r| r.may_carry(label)) {
                        continue;
                    }
                    let pos = list
                        .and_then(Node::as_seq)
                        .and_then(|items| items.iter().find(|i| i.as_str() == Some(label.as_str())))
                        .or(list)
                        .map_or(route.pos, |n| n.pos);
                    let mut f = Finding::new(
                        pos,
                        format!(
                            "`group_by` names `{label}`, which none of the {} loaded alerting rules can carry: every alert groups with an empty `{label}`",
                            rules.len()
                        ),
                        format!("remove `{label}` from group_by, or add it to the rules' labels or keep it in their expressions"),
                    );
                    f.file = Some(item.file.clone());
                    out.push(f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "routing/group-by-missing-label";
    const AM: &str =
        "route:\n  receiver: a\n  group_by: [alertname, service, job]\nreceivers:\n- name: a\n";

    #[test]
    fn flags_a_label_no_rule_can_carry() {
        let rules = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum by (job) (rate(x_total[5m])) > 1\n  - alert: B\n    expr: count(up) < 3\n    labels: {severity: page}\n";
        let d = lint_am(AM, Some(rules), CODE);
        assert_eq!(lines(&d), vec![3]);
        assert!(d[0].message.contains("`service`"), "{}", d[0].message);
        assert_eq!(d[0].location.as_ref().unwrap().pos.col, 25);
    }

    #[test]
    fn raw_selectors_static_labels_or_no_rules_pass() {
        let raw = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(x_total[5m]) > 1\n";
        assert!(lint_am(AM, Some(raw), CODE).is_empty());
        let labelled = "groups:\n- name: g\n  labels: {service: api}\n  rules:\n  - alert: A\n    expr: sum by (job) (x) > 1\n";
        assert!(lint_am(AM, Some(labelled), CODE).is_empty());
        assert!(lint_am(AM, None, CODE).is_empty());
    }
}
