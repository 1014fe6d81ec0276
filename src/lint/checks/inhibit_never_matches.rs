//! `routing/inhibit-never-matches`: inhibit rules that no pair of loaded alerts can trigger.

use crate::alertmanager::matcher::{display_matchers, Matcher};
use crate::alertmanager::symbolic::{AlertLabels, LabelValue, Tri};
use crate::lint::registry::{Check, Finding, ProjectContext};
use std::collections::BTreeSet;

/// ## What it finds
/// An inhibit rule that none of the loaded alerting rules can trigger: no alert matches its source matchers,
/// none matches its target matchers, or no source alert can carry the same values as a target alert on every
/// label listed in `equal` (a label both lack counts as equal, as in Alertmanager).
///
/// Alerts are judged by the
/// labels the rules write plus `alertname`; a label they do not write counts as absent unless the expression
/// visibly keeps it or the value is templated (then it may be equal).
///
/// ## Why it matters
/// The rule was written to mute warnings while the matching critical alert fires; if it can never apply, the
/// on-call gets both during every incident. A common cause is `equal: [alertname]` when the warning and the
/// critical alert have different names.
///
/// ## Example
/// ```yaml
/// # rules: HighLatency {severity: warning}, ServiceDown {severity: critical}
/// inhibit_rules:
/// - source_matchers: ['severity="critical"']
///   target_matchers: ['severity="warning"']
///   equal: [alertname, cluster, service]
/// ```
///
/// ## Fix
/// List in `equal` only labels a source and its target really share (`namespace`, `instance`, `job`), or
/// give the warning and critical rules of one problem the same `alertname`.
pub struct InhibitNeverMatches;

impl Check for InhibitNeverMatches {
    fn code(&self) -> &'static str {
        "routing/inhibit-never-matches"
    }
    fn source(&self) -> &'static str {
        include_str!("inhibit_never_matches.rs")
    }
    fn check_project(&self, cx: &ProjectContext, out: &mut Vec<Finding>) {
        let rules = cx.alert_labels;
        if rules.is_empty() {
            return;
        }
        for &(item, config) in &cx.configs {
            for inhibit in &config.inhibit_rules {
                let Some(message) = never(
                    &inhibit.source_matchers,
                    &inhibit.target_matchers,
                    &inhibit.equal,
                    rules,
                ) else {
                    continue;
                };
                let mut f = Finding::new(
                    inhibit.pos,
                    format!("inhibit rule never applies to the {} loaded alerting rules: {message}", rules.len()),
                    "list in `equal` only labels a source and its target share, or give the rules of one problem the same alertname with different severities",
                );
                f.file = Some(item.file.clone());
                out.push(f);
            }
        }
    }
}

/// Why the rule can never inhibit, or `None` when some pair of alerts may trigger it.
fn never(
    source: &[Matcher],
    target: &[Matcher],
    equal: &[String],
    rules: &[AlertLabels],
) -> Option<String> {
    let pick = |ms: &[Matcher]| -> Vec<(&AlertLabels, Tri)> {
        rules
            .iter()
            .map(|r| (r, r.matches_all(ms)))
            .filter(|(_, t)| *t != Tri::No)
            .collect()
    };
    let (sources, targets) = (pick(source), pick(target));
    if sources.is_empty() {
        return Some(format!(
            "no alert matches the source matchers {}",
            display_matchers(source)
        ));
    }
    if targets.is_empty() {
        return Some(format!(
            "no alert matches the target matchers {}",
            display_matchers(target)
        ));
    }
    let mut blocking: BTreeSet<&str> = BTreeSet::new();
    for (s, s_sure) in &sources {
        for (t, t_sure) in &targets {
            // An alert matching both sides does not inhibit itself.
            if std::ptr::eq(*s, *t) && *s_sure == Tri::Yes && *t_sure == Tri::Yes {
                continue;
            }
            let differs = equal.iter().find(|l| {
                matches!((s.value(l), t.value(l)), (LabelValue::Known(a), LabelValue::Known(b)) if a != b)
            });
            match differs {
                Some(l) => {
                    blocking.insert(l);
                }
                None => return None,
            }
        }
    }
    let names = |v: &[(&AlertLabels, Tri)]| {
        v.iter()
            .map(|(r, _)| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let labels: Vec<String> = blocking.iter().map(|l| format!("`{l}`")).collect();
    Some(format!(
        "the source alerts ({}) and the target alerts ({}) never carry the same {}",
        names(&sources),
        names(&targets),
        labels.join(" / ")
    ))
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "routing/inhibit-never-matches";
    const AM: &str = "route: {receiver: a}\nreceivers:\n- name: a\ninhibit_rules:\n- source_matchers: [severity=\"critical\"]\n  target_matchers: [severity=\"warning\"]\n  equal: [alertname, cluster]\n- source_matchers: [severity=\"page\"]\n  target_matchers: [severity=\"warning\"]\n";

    #[test]
    fn flags_rules_no_pair_of_alerts_can_trigger() {
        let rules = "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    labels: {severity: critical}\n  - alert: Slow\n    expr: up == 0\n    labels: {severity: warning}\n";
        let d = lint_am(AM, Some(rules), CODE);
        assert_eq!(lines(&d), vec![5, 8]);
        assert!(
            d[0].message
                .contains("(Down) and the target alerts (Slow) never carry the same `alertname`"),
            "{}",
            d[0].message
        );
        assert!(
            d[1].message
                .contains("no alert matches the source matchers {severity=\"page\"}"),
            "{}",
            d[1].message
        );
    }

    #[test]
    fn a_possible_pair_passes() {
        // Same alertname with both severities; and a templated severity for the second rule.
        let rules = "groups:\n- name: g\n  rules:\n  - alert: Disk\n    expr: up == 0\n    labels: {severity: critical}\n  - alert: Disk\n    expr: up == 1\n    labels: {severity: warning}\n  - alert: X\n    expr: up == 0\n    labels: {severity: '{{ $labels.s }}'}\n";
        let d = lint_am(AM, Some(rules), CODE);
        assert!(d.is_empty(), "{d:?}");
    }
}
