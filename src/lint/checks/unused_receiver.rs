//! `alertmanager/unused-receiver`: a receiver no route names.

use crate::lint::registry::{Check, ConfigContext, Finding};
use std::collections::BTreeSet;

/// ## What it finds
/// A receiver that no route in the tree names (directly or by inheriting it from its parent).
///
/// ## Why it matters
/// Alertmanager loads it without complaint, but nothing is ever sent to it: usually a route was deleted or
/// renamed and the team behind the receiver silently stopped getting its alerts.
///
/// ## Example
/// ```yaml
/// route: {receiver: default}
/// receivers:
/// - name: default
/// - name: db-team
/// ```
///
/// ## Fix
/// Route to it (`routes: [{matchers: ['team="db"'], receiver: db-team}]`) or delete it.
pub struct UnusedReceiver;

impl Check for UnusedReceiver {
    fn code(&self) -> &'static str {
        "alertmanager/unused-receiver"
    }
    fn source(&self) -> &'static str {
        include_str!("unused_receiver.rs")
    }
    fn check_alertmanager(&self, cx: &ConfigContext, out: &mut Vec<Finding>) {
        let Some(config) = cx.typed else {
            return;
        };
        let used: BTreeSet<&str> = config
            .routes()
            .iter()
            .map(|r| r.receiver.as_str())
            .collect();
        for rc in &config.receivers {
            if !used.contains(rc.name.as_str()) {
                out.push(Finding::new(
                    rc.pos,
                    format!("receiver `{}` is not used by any route", rc.name),
                    format!(
                        "add a route with `receiver: {}` for the alerts it should get, or delete the receiver",
                        rc.name
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "alertmanager/unused-receiver";

    #[test]
    fn flags_a_receiver_no_route_names() {
        let am = "route:\n  receiver: a\n  routes:\n  - matchers: [x=\"1\"]\n    receiver: b\nreceivers:\n- name: a\n- name: b\n- name: c\n";
        let d = lint_am(am, None, CODE);
        assert_eq!(lines(&d), vec![9]);
        assert!(d[0].message.contains("`c`"));
    }

    #[test]
    fn inherited_and_root_receivers_count_as_used() {
        let am = "route:\n  receiver: a\n  routes:\n  - matchers: [x=\"1\"]\n    routes:\n    - matchers: [y=\"1\"]\n      receiver: b\nreceivers:\n- name: a\n- name: b\n";
        assert!(lint_am(am, None, CODE).is_empty());
    }
}
