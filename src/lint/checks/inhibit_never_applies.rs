//! `alertmanager/inhibit-never-applies`: inhibit rules that cannot work as written.

use crate::alertmanager::matcher::Matcher;
use crate::alertmanager::symbolic::contradiction;
use crate::lint::registry::{Check, ConfigContext, Finding};

/// ## What it finds
/// An inhibit rule that cannot work as written: a side without matchers, or an `equal` label that the source
/// and target matchers pin to values that can never be the same.
///
/// Judged from the Alertmanager config alone:
/// - without source matchers or without target matchers (then every alert is a source, or a target);
/// - whose source and target matchers cannot agree on a label listed in `equal` (`severity="critical"` on one
///   side, `severity="warning"` on the other, and `equal: [severity]`): a source and a target must carry the
///   same value there, which no pair can.
///
/// ## Why it matters
/// The second kind never inhibits anything, and nobody notices until the warning storm during an outage. The
/// first kind inhibits far more than intended: with no target matchers, a critical alert mutes every other
/// alert sharing its `equal` labels.
///
/// ## Example
/// ```yaml
/// inhibit_rules:
/// - source_matchers: ['severity="critical"']
///   target_matchers: ['severity="warning"']
///   equal: [alertname, severity]
/// ```
///
/// ## Fix
/// Name both sides, and list in `equal` only labels that a source and its target share (`instance`,
/// `cluster`, `service`), never the label the two sides are told apart by.
pub struct InhibitNeverApplies;

impl Check for InhibitNeverApplies {
    fn code(&self) -> &'static str {
        "alertmanager/inhibit-never-applies"
    }
    fn source(&self) -> &'static str {
        include_str!("inhibit_never_applies.rs")
    }
    fn check_alertmanager(&self, cx: &ConfigContext, out: &mut Vec<Finding>) {
        let Some(config) = cx.typed else {
            return;
        };
        for rule in &config.inhibit_rules {
            for (side, ms) in [
                ("source", &rule.source_matchers),
                ("target", &rule.target_matchers),
            ] {
                if ms.is_empty() {
                    out.push(Finding::new(
                        rule.pos,
                        format!(
                            "inhibit rule has no {side} matchers: every alert counts as a {side}"
                        ),
                        format!("add `{side}_matchers: [...]` naming the alerts meant as {side}s"),
                    ));
                }
            }
            for label in &rule.equal {
                let on = |ms: &[Matcher]| {
                    ms.iter()
                        .filter(|m| &m.name == label)
                        .cloned()
                        .collect::<Vec<_>>()
                };
                let (s, t) = (on(&rule.source_matchers), on(&rule.target_matchers));
                if s.is_empty() || t.is_empty() {
                    continue;
                }
                let both: Vec<&Matcher> = s.iter().chain(&t).collect();
                if contradiction(&both).is_some() {
                    let show = |ms: &[Matcher]| {
                        ms.iter()
                            .map(|m| m.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    out.push(Finding::new(
                        rule.pos,
                        format!(
                            "inhibit rule never applies: `equal` lists `{label}`, but sources have {} and targets {}, so no source and target carry the same `{label}`",
                            show(&s),
                            show(&t)
                        ),
                        format!("remove `{label}` from `equal`: it is the label the two sides are told apart by"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "alertmanager/inhibit-never-applies";

    #[test]
    fn flags_empty_sides_and_equal_on_the_distinguishing_label() {
        let am = "route: {receiver: a}\nreceivers:\n- name: a\ninhibit_rules:\n- target_matchers: [severity=\"warning\"]\n- source_matchers: [severity=\"critical\"]\n  target_matchers: [severity=~\"warning|info\"]\n  equal: [alertname, severity]\n";
        let d = lint_am(am, None, CODE);
        assert_eq!(lines(&d), vec![5, 6]);
        assert!(d[0].message.contains("no source matchers"));
        assert!(d[1].message.contains("`severity`"), "{}", d[1].message);
    }

    #[test]
    fn a_shared_equal_label_passes() {
        let am = "route: {receiver: a}\nreceivers:\n- name: a\ninhibit_rules:\n- source_matchers: [severity=\"critical\"]\n  target_matchers: [severity=\"warning\"]\n  equal: [alertname, cluster]\n- source_matchers: [severity=\"critical\", cluster=\"a\"]\n  target_matchers: [cluster=~\"a|b\"]\n  equal: [cluster]\n";
        assert!(lint_am(am, None, CODE).is_empty());
    }
}
