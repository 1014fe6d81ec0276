//! `alertmanager/unreachable-route`: routes no alert can ever reach.

use crate::alertmanager::symbolic::{contradiction, describe_route, implied, path_matchers};
use crate::lint::registry::{Check, ConfigContext, Finding};

/// ## What it finds
/// A route no alert can ever take: its matchers contradict (its parents' included), or an earlier sibling
/// without `continue` takes every alert it could match.
///
/// In detail:
/// - its matchers, together with its parents', contradict on one label (`severity="critical"` under a parent
///   with `severity="warning"`, or `a="x"` with `a!~"x|y"`);
/// - an earlier sibling without `continue: true` matches every alert it could match (its matchers are implied
///   by this route's), so that sibling always takes the alert first.
///
/// Only finite value sets (`=`, and `=~` alternations of plain words) are compared; general regexes are never
/// called contradictory or implied.
///
/// ## Why it matters
/// Alertmanager loads such a tree without complaint, and the receiver behind the dead route silently gets
/// nothing. It usually comes from a catch-all route placed before a specific one, or a copy-pasted matcher.
///
/// ## Example
/// ```yaml
/// routes:
/// - matchers: ['team="db"']
///   receiver: db
/// - matchers: ['team="db"', 'severity="critical"']
///   receiver: db-pager
/// ```
///
/// ## Fix
/// Put the more specific route first, add `continue: true` to the earlier one, or correct the matchers.
pub struct UnreachableRoute;

impl Check for UnreachableRoute {
    fn code(&self) -> &'static str {
        "alertmanager/unreachable-route"
    }
    fn source(&self) -> &'static str {
        include_str!("unreachable_route.rs")
    }
    fn check_alertmanager(&self, cx: &ConfigContext, out: &mut Vec<Finding>) {
        let Some(config) = cx.typed else {
            return;
        };
        for parent in config.routes() {
            // A parent that is itself contradictory was reported already; its children add nothing.
            if contradiction(&path_matchers(&config.route, parent)).is_some() {
                continue;
            }
            for (i, route) in parent.routes.iter().enumerate() {
                if let Some(why) = contradiction(&path_matchers(&config.route, route)) {
                    out.push(Finding::new(
                        route.pos,
                        format!("{} can never match: {why}", describe_route(route)),
                        "correct the matchers (a parent's matchers apply too), or delete the route",
                    ));
                    continue;
                }
                let shadow = parent.routes[..i].iter().find(|earlier| {
                    !earlier.continue_matching
                        && earlier.matchers.iter().all(|m| implied(m, &route.matchers))
                });
                if let Some(earlier) = shadow {
                    out.push(Finding::new(
                        route.pos,
                        format!(
                            "{} is never reached: the earlier {} matches every alert it could match and has no `continue`",
                            describe_route(route),
                            describe_route(earlier)
                        ),
                        "move this route above the earlier one, or add `continue: true` to the earlier route",
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "alertmanager/unreachable-route";

    #[test]
    fn flags_contradictions_and_shadowed_siblings() {
        let am = "route:\n  receiver: a\n  routes:\n  - matchers: [team=\"db\"]\n    routes:\n    - matchers: [team=\"web\"]\n  - matchers: ['a=\"x\"', 'a!~\"x|y\"']\n  - matchers: [team=~\"db|web\"]\n  - matchers: [team=\"web\", severity=\"critical\"]\n  - matchers: [team=\"db\"]\nreceivers:\n- name: a\n";
        let mut d = lint_am(am, None, CODE);
        d.sort_by_key(|d| d.location.as_ref().map(|l| l.pos));
        assert_eq!(lines(&d), vec![6, 7, 9, 10]);
        assert!(d[0].message.contains("cannot satisfy"), "{}", d[0].message);
        assert!(
            d[2].message.contains("earlier route {team=~\"db|web\"}"),
            "{}",
            d[2].message
        );
        // team="db" at line 10 is shadowed by the first route (line 4), found first.
        assert!(d[3].message.contains("(line 4)"), "{}", d[3].message);
    }

    #[test]
    fn specific_first_or_continue_passes() {
        let am = "route:\n  receiver: a\n  routes:\n  - matchers: [team=\"db\", severity=\"critical\"]\n  - matchers: [team=\"db\"]\n    continue: true\n  - matchers: [team=\"db\", severity=\"warning\"]\n  - matchers: [team=~\"db.*\"]\n  - matchers: [team=\"web\"]\nreceivers:\n- name: a\n";
        let d = lint_am(am, None, CODE);
        assert!(d.is_empty(), "{d:?}");
    }
}
