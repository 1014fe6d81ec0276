//! `alertmanager/timing-order`: group_wait, group_interval and repeat_interval that do not do what they say.

use crate::alertmanager::config::Route;
use crate::alertmanager::symbolic::{describe_route, key_pos, route_node};
use crate::lint::registry::{Check, ConfigContext, Finding};
use crate::text::duration::format_duration;
use crate::text::yaml::Pos;

/// ## What it finds
/// Route timings that do not do what they say: `group_wait` longer than `group_interval`, or a
/// `repeat_interval` shorter than `group_interval` or not a multiple of it.
///
/// Judged on the route that sets them (or the root):
/// - `group_wait` longer than `group_interval`;
/// - `repeat_interval` shorter than `group_interval`;
/// - `repeat_interval` not a multiple of `group_interval`.
///
/// ## Why it matters
/// Alertmanager only sends at a group's ticks, one every `group_interval`, and repeats a notification at the
/// first tick strictly after `repeat_interval` has passed (`notify.DedupStage`: the last notification must be
/// older than `repeat_interval`). With `group_interval: 5m` a `repeat_interval: 1m` repeats every 5m, and
/// `repeat_interval: 12m` every 15m (even a multiple lands one tick later: 10m repeats every 15m). A `group_wait` longer than `group_interval` delays
/// the first page more than any later update, usually the reverse of what was meant.
///
/// ## Example
/// ```yaml
/// route:
///   receiver: pager
///   group_interval: 5m
///   repeat_interval: 12m
/// ```
///
/// ## Fix
/// Make `repeat_interval` a multiple of `group_interval` (and at least as long), and `group_wait` no longer
/// than `group_interval`; the message says when repeats really go out.
pub struct TimingOrder;

const TIMINGS: [&str; 3] = ["group_wait", "group_interval", "repeat_interval"];

impl Check for TimingOrder {
    fn code(&self) -> &'static str {
        "alertmanager/timing-order"
    }
    fn source(&self) -> &'static str {
        include_str!("timing_order.rs")
    }
    fn check_alertmanager(&self, cx: &ConfigContext, out: &mut Vec<Finding>) {
        let Some(config) = cx.typed else {
            return;
        };
        let root = &cx.item.root;
        for route in config.routes() {
            // Judge a route where it sets a timing; its children inherit the same numbers.
            let sets = |k: &str| route_node(root, &route.path).is_some_and(|n| n.get(k).is_some());
            if !route.path.is_empty() && !TIMINGS.iter().any(|k| sets(k)) {
                continue;
            }
            // An issue is reported where one of its settings is written (the root reports defaults too);
            // `None` means this route only inherits it.
            let at = |keys: &[&str]| match keys.iter().find(|k| sets(k)) {
                Some(k) => Some(key_pos(root, route, k)),
                None if route.path.is_empty() => Some(route.pos),
                None => None,
            };
            judge(route, &at, out);
        }
    }
}

fn judge(route: &Route, at: &dyn Fn(&[&str]) -> Option<Pos>, out: &mut Vec<Finding>) {
    let (gw, gi, ri) = (
        route.group_wait_ms,
        route.group_interval_ms,
        route.repeat_interval_ms,
    );
    let d = |ms: i64| format_duration(ms);
    let on = describe_route(route);
    if let (true, Some(pos)) = (gw > gi, at(&["group_wait", "group_interval"])) {
        out.push(Finding::new(
            pos,
            format!(
                "on {on}, group_wait ({}) is longer than group_interval ({}): the first notification of a group waits longer than any later update",
                d(gw),
                d(gi)
            ),
            format!("set group_wait to at most {} (typically 30s), or raise group_interval", d(gi)),
        ));
    }
    if gi <= 0 {
        return;
    }
    // A repeat goes out at the first tick strictly after repeat_interval.
    let real = (ri / gi + 1) * gi;
    let Some(pos) = at(&["repeat_interval", "group_interval"]) else {
        return;
    };
    if ri < gi {
        out.push(Finding::new(
            pos,
            format!(
                "on {on}, repeat_interval ({}) is shorter than group_interval ({}): notifications can only go out at group ticks, so repeats come every {}",
                d(ri),
                d(gi),
                d(real)
            ),
            format!("set repeat_interval to a multiple of group_interval, at least {}", d(gi)),
        ));
    } else if ri % gi != 0 {
        out.push(Finding::new(
            pos,
            format!(
                "on {on}, repeat_interval ({}) is not a multiple of group_interval ({}): a repeat goes out at the first tick strictly after repeat_interval, i.e. every {}",
                d(ri),
                d(gi),
                d(real)
            ),
            {
                let (lower, upper) = (ri / gi * gi, real);
                format!(
                    "write a multiple of group_interval ({} or {}) so the setting sits on the tick grid; a repeat still waits for the tick after it ({} repeats every {}, {} every {})",
                    d(lower),
                    d(upper),
                    d(lower),
                    d(lower + gi),
                    d(upper),
                    d(upper + gi)
                )
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "alertmanager/timing-order";

    #[test]
    fn flags_each_ordering_problem_where_it_is_set() {
        let am = "route:\n  receiver: a\n  group_wait: 10m\n  group_interval: 5m\n  repeat_interval: 1h\n  routes:\n  - matchers: [x=\"1\"]\n    repeat_interval: 1m\n  - matchers: [x=\"2\"]\n    repeat_interval: 12m\n  - matchers: [x=\"3\"]\n    group_wait: 30s\nreceivers:\n- name: a\n";
        let d = lint_am(am, None, CODE);
        // Root: group_wait; children: repeat < interval, 12m not a multiple of 5m; the third child is fine.
        assert_eq!(lines(&d), vec![3, 8, 10]);
        assert!(
            d[1].message.contains("repeats come every 5m"),
            "{}",
            d[1].message
        );
        assert!(d[2].message.contains("every 15m"), "{}", d[2].message);
        assert!(
            d[2].help.as_deref().unwrap().contains("(10m or 15m)")
                && d[2]
                    .help
                    .as_deref()
                    .unwrap()
                    .contains("10m repeats every 15m"),
            "{:?}",
            d[2].help
        );
    }

    #[test]
    fn consistent_timings_pass() {
        let am = "route:\n  receiver: a\n  group_wait: 10s\n  group_interval: 10s\n  repeat_interval: 1h\n  routes:\n  - matchers: [x=\"1\"]\n    group_wait: 0s\n    repeat_interval: 15m\nreceivers:\n- name: a\n";
        assert!(lint_am(am, None, CODE).is_empty());
        // Defaults: 30s, 5m, 4h.
        assert!(lint_am("route: {receiver: a}\nreceivers:\n- name: a\n", None, CODE).is_empty());
    }
}
