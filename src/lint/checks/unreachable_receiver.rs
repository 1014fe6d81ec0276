//! `routing/unreachable-receiver`: receivers that none of the loaded alerting rules can reach.

use crate::alertmanager::config::Config;
use crate::alertmanager::symbolic::{
    deliveries, describe_route, path_matchers, taken_before, AlertLabels, Tri,
};
use crate::lint::registry::{Check, Finding, ProjectContext};

/// ## What it finds
/// A receiver that routes name, but that no alert of the loaded alerting rules can reach: no rule carries the
/// labels its routes match, or the rules that do are taken first by an earlier sibling route without
/// `continue`.
///
/// Alerts are routed with the labels the rules write (their own and their group's, plus
/// `alertname`); a label they do not write counts as absent unless the expression visibly keeps it (then the
/// route may match and the receiver counts as reachable). Only judged when rule files were loaded with the
/// config; receivers no route names are `alertmanager/unused-receiver`, and the root's default receiver is
/// the catch-all for alerts from elsewhere, so it is never reported.
///
/// ## Why it matters
/// The team behind the receiver believes it gets these alerts; it gets nothing. The classic case is a
/// `severity="critical"` route placed before a team route: every critical alert of that team goes to the
/// generic pager instead.
///
/// ## Example
/// ```yaml
/// routes:
/// - matchers: ['severity="critical"']
///   receiver: pager
/// - matchers: ['component="kubernetes"']   # PodCrashLooping is critical: taken above
///   receiver: infrastructure-team
/// ```
///
/// ## Fix
/// Add `continue: true` to the earlier route (the alert then reaches both), order the routes specific-first,
/// or give the rules the labels the route expects.
pub struct UnreachableReceiver;

impl Check for UnreachableReceiver {
    fn code(&self) -> &'static str {
        "routing/unreachable-receiver"
    }
    fn source(&self) -> &'static str {
        include_str!("unreachable_receiver.rs")
    }
    fn check_project(&self, cx: &ProjectContext, out: &mut Vec<Finding>) {
        let rules = cx.alert_labels;
        if rules.is_empty() {
            return;
        }
        for &(item, config) in &cx.configs {
            let reached: Vec<&str> = rules
                .iter()
                .flat_map(|r| deliveries(&config.route, r))
                .filter(|(_, t)| *t != Tri::No)
                .map(|(route, _)| route.receiver.as_str())
                .collect();
            for rc in &config.receivers {
                let routes: Vec<_> = config
                    .routes()
                    .into_iter()
                    .filter(|r| r.receiver == rc.name)
                    .collect();
                // The root's receiver is the catch-all for alerts nobody planned for (other rule files,
                // Watchdog): that loaded rules all route elsewhere is the design, not a mistake.
                if routes.is_empty()
                    || rc.name == config.route.receiver
                    || reached.contains(&rc.name.as_str())
                {
                    continue;
                }
                let why: Vec<String> = routes.iter().map(|r| explain(config, r, rules)).collect();
                let mut f = Finding::new(
                    rc.pos,
                    format!(
                        "receiver `{}` is reached by none of the {} loaded alerting rules: {}",
                        rc.name,
                        rules.len(),
                        why.join("; ")
                    ),
                    "give the intended alerts the labels the route matches, or add `continue: true` to (or reorder) the route that takes them first",
                );
                f.file = Some(item.file.clone());
                out.push(f);
            }
        }
    }
}

/// Why no alert reaches `route`.
fn explain(
    config: &Config,
    route: &crate::alertmanager::config::Route,
    rules: &[AlertLabels],
) -> String {
    let on = describe_route(route);
    let path: Vec<_> = path_matchers(&config.route, route)
        .into_iter()
        .cloned()
        .collect();
    let candidates: Vec<&AlertLabels> = rules
        .iter()
        .filter(|r| r.matches_all(&path) != Tri::No)
        .collect();
    let Some(first) = candidates.first() else {
        return format!("no alert carries the labels {on} matches");
    };
    match taken_before(&config.route, route, first) {
        Some(earlier) => format!(
            "`{}` matches {on}, but the earlier {} takes it first (no `continue`)",
            first.name,
            describe_route(earlier)
        ),
        None => format!(
            "`{}` matches {on}, but is delivered through a child route instead",
            first.name
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "routing/unreachable-receiver";
    const AM: &str = "route:\n  receiver: default\n  routes:\n  - matchers: [severity=\"critical\"]\n    receiver: pager\n  - matchers: [component=\"kubernetes\"]\n    receiver: infra\n  - matchers: [component=\"security\"]\n    receiver: security\nreceivers:\n- name: default\n- name: pager\n- name: infra\n- name: security\n- name: unused\n";

    #[test]
    fn flags_receivers_no_rule_reaches_and_says_why() {
        let rules = "groups:\n- name: g\n  rules:\n  - alert: PodCrashLooping\n    expr: up == 0\n    labels: {severity: critical, component: kubernetes}\n  - alert: Other\n    expr: up == 0\n    labels: {severity: warning}\n";
        let d = lint_am(AM, Some(rules), CODE);
        assert_eq!(lines(&d), vec![13, 14]);
        assert!(d[0].message.contains("`PodCrashLooping` matches route {component=\"kubernetes\"} (line 6), but the earlier route {severity=\"critical\"} (line 4) takes it first"), "{}", d[0].message);
        assert!(
            d[1].message.contains("no alert carries"),
            "{}",
            d[1].message
        );
    }

    #[test]
    fn continue_templated_labels_or_no_rules_pass() {
        let am = AM.replace("receiver: pager\n", "receiver: pager\n    continue: true\n");
        let rules = "groups:\n- name: g\n  rules:\n  - alert: PodCrashLooping\n    expr: up == 0\n    labels: {severity: critical, component: kubernetes}\n  - alert: Other\n    expr: up == 0\n    labels: {component: '{{ $labels.c }}'}\n";
        let d = lint_am(&am, Some(rules), CODE);
        assert!(d.is_empty(), "{d:?}");
        assert!(lint_am(AM, None, CODE).is_empty());
        // Every rule routed to a child: the root's catch-all receiver is not reported.
        let routed = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels: {severity: critical}\n  - alert: B\n    expr: up == 0\n    labels: {component: kubernetes}\n  - alert: C\n    expr: up == 0\n    labels: {component: security}\n";
        let d = lint_am(AM, Some(routed), CODE);
        assert!(d.is_empty(), "{d:?}");
    }
}
