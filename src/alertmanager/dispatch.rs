//! Grouping and timing over virtual time: what Alertmanager would send, and when, for a timeline of alerts.
//!
//! Input: alert episodes (as `rules` produces them) turned into Prometheus's sends by `sender`. Then, as
//! Alertmanager's dispatcher and notification pipeline (dispatch/dispatch.go, notify/notify.go):
//! - each received alert is merged into the one held (same fingerprint) and routed; each matched route puts
//!   it in the aggregation group of its group labels (created on first alert);
//! - a group flushes first after `group_wait` (at once if the alert's StartsAt + group_wait is already past),
//!   then every `group_interval` with a fixed phase; an emptied group is destroyed;
//! - at a flush: inhibited alerts are dropped, then active/mute time intervals are checked at the flush time;
//!   then per integration the notification log decides (first notification, new alerts added, all alerts
//!   resolved, some alerts resolved with send_resolved, repeat interval elapsed);
//! - resolved alerts are removed from the group after a flush.
//!
//! Deterministic: ties at one instant are ordered receipts first, then flushes in group creation order.

use super::alert::{notification_order, Alert};
use super::config::{Config, Route};
use super::inhibit::inhibited_by;
use super::route::{group_key, group_labels, match_routes};
use super::sender::{deliveries, Delivery, SendOptions};
use super::LabelSet;
use std::collections::{BTreeMap, BTreeSet};

pub use super::sender::AlertEpisode;

/// Why the notification log let a notification through (Alertmanager's `NotifyReason` texts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    FirstNotification,
    NewAlertsAdded,
    SomeAlertsResolved,
    AllAlertsResolved,
    RepeatIntervalElapsed,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::FirstNotification => "first notification",
            Reason::NewAlertsAdded => "new alerts added",
            Reason::SomeAlertsResolved => "some alerts resolved",
            Reason::AllAlertsResolved => "all alerts resolved",
            Reason::RepeatIntervalElapsed => "repeat interval elapsed",
        }
    }
}

/// One message an integration sends.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub at: i64,
    pub receiver: String,
    /// `email[0]`, `webhook[1]` ...
    pub integration: String,
    pub group_key: String,
    pub group_labels: LabelSet,
    /// Path of the route (child indices from the root).
    pub route: Vec<usize>,
    /// Alerts firing at `at`, in notification order.
    pub firing: Vec<Alert>,
    /// Resolved alerts included (only with send_resolved).
    pub resolved: Vec<Alert>,
    pub reason: Reason,
}

/// Something that stopped a group's flush from reaching its receiver.
#[derive(Clone, Debug, PartialEq)]
pub enum Suppression {
    /// Every alert of the group was inhibited.
    Inhibited {
        at: i64,
        group_key: String,
        receiver: String,
        /// What inhibited them: per inhibition rule that did, the first source alert.
        by: Vec<crate::alertmanager::inhibit::Inhibition>,
    },
    /// The flush fell outside every active time interval.
    Inactive {
        at: i64,
        group_key: String,
        receiver: String,
    },
    /// The flush fell inside a mute time interval.
    Muted {
        at: i64,
        group_key: String,
        receiver: String,
        interval: String,
    },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Simulation {
    pub notifications: Vec<Notification>,
    pub suppressions: Vec<Suppression>,
    /// Every alert POST Prometheus makes, in time order.
    pub deliveries: Vec<Delivery>,
}

struct Group<'c> {
    route: &'c Route,
    labels: LabelSet,
    key: String,
    alerts: BTreeMap<u64, Alert>,
    next_flush: i64,
    has_flushed: bool,
    created: usize,
}

/// Notification log entry: what the last notification of a (group, integration) held.
struct LogEntry {
    firing: BTreeSet<u64>,
    resolved: BTreeSet<u64>,
    at: i64,
}

/// The notifications sent between `from` and `to` (Unix ms) for `episodes`, with Prometheus's defaults
/// (1m evaluation interval, 1m resend delay).
pub fn simulate(
    config: &Config,
    episodes: &[AlertEpisode],
    from: i64,
    to: i64,
) -> Vec<Notification> {
    simulate_with(config, episodes, from, to, &SendOptions::default()).notifications
}

/// [`simulate`] with Prometheus's sending settings, returning suppressions and deliveries too.
pub fn simulate_with(
    config: &Config,
    episodes: &[AlertEpisode],
    from: i64,
    to: i64,
    opts: &SendOptions,
) -> Simulation {
    let mut sends: Vec<Delivery> = episodes
        .iter()
        .flat_map(|e| deliveries(e, opts, to))
        .collect();
    // Stable: episodes keep their order within one instant.
    sends.sort_by_key(|d| d.at);
    simulate_deliveries(config, &sends, from, to)
}

/// Runs Alertmanager over explicit alert POSTs (for callers that model the sender themselves).
pub fn simulate_deliveries(config: &Config, sends: &[Delivery], from: i64, to: i64) -> Simulation {
    let mut sim = Simulation {
        deliveries: sends.to_vec(),
        ..Default::default()
    };
    let mut store: BTreeMap<u64, Alert> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut log: BTreeMap<(String, String, String), LogEntry> = BTreeMap::new();
    let mut created = 0usize;
    let mut next_send = 0usize;

    loop {
        let send_at = sends.get(next_send).map(|d| d.at);
        let flush = groups
            .iter()
            .enumerate()
            .min_by_key(|(_, g)| (g.next_flush, g.created))
            .map(|(i, g)| (i, g.next_flush));
        let take_send = match (send_at, flush) {
            (None, None) => break,
            (Some(s), Some((_, f))) => s <= f,
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        if take_send {
            let d = &sends[next_send];
            next_send += 1;
            if d.at > to {
                // Sends are sorted; nothing later matters, but pending flushes up to `to` still run.
                next_send = sends.len();
                continue;
            }
            receive(config, d, &mut store, &mut groups, &mut created);
            continue;
        }
        let Some((gi, at)) = flush else { break };
        if at > to {
            break;
        }
        let destroy = flush_group(
            config,
            &mut groups[gi],
            at,
            &store,
            &mut log,
            from,
            &mut sim,
        );
        if destroy {
            groups.remove(gi);
        }
    }
    sim
}

fn receive<'c>(
    config: &'c Config,
    d: &Delivery,
    store: &mut BTreeMap<u64, Alert>,
    groups: &mut Vec<Group<'c>>,
    created: &mut usize,
) {
    let now = d.at;
    let mut alert = d.alert.clone();
    alert.updated_at = now;
    if alert.ends_at.is_none() {
        alert.ends_at = Some(now + config.resolve_timeout_ms);
        alert.timeout = true;
    }
    let fp = alert.fingerprint();
    // The provider merges when the activity ranges overlap, otherwise the new alert replaces the old.
    let merged = match store.get(&fp) {
        Some(old) => {
            let (os, oe) = (old.starts_at, old.ends_at.unwrap_or(i64::MAX));
            let (ns, ne) = (alert.starts_at, alert.ends_at.unwrap_or(i64::MAX));
            if (ne > os && ne < oe) || (ns > os && ns < oe) {
                old.merge(&alert, now)
            } else {
                alert
            }
        }
        None => alert,
    };
    store.insert(fp, merged.clone());
    let routes: Vec<&'c Route> = match_routes(config, &merged.labels);
    for route in routes {
        let labels = group_labels(route, &merged.labels);
        let key = group_key(route, &labels);
        // Groups belong to their route: sibling routes with identical matchers share a group key but not
        // a group (Alertmanager keeps aggregation groups per route).
        let gi = match groups
            .iter()
            .position(|g| g.key == key && std::ptr::eq(g.route, route))
        {
            Some(i) => i,
            None => {
                *created += 1;
                groups.push(Group {
                    route,
                    labels,
                    key,
                    alerts: BTreeMap::new(),
                    next_flush: now + route.group_wait_ms,
                    has_flushed: false,
                    created: *created,
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[gi];
        g.alerts.insert(fp, merged.clone());
        if !g.has_flushed && merged.starts_at + g.route.group_wait_ms < now {
            g.next_flush = now;
        }
    }
}

/// One flush of a group at `at`; returns whether the group is now empty and destroyed.
fn flush_group(
    config: &Config,
    g: &mut Group<'_>,
    at: i64,
    store: &BTreeMap<u64, Alert>,
    log: &mut BTreeMap<(String, String, String), LogEntry>,
    from: i64,
    sim: &mut Simulation,
) -> bool {
    // A zero interval cannot come from a validated config; guard hand-built ones against looping forever.
    g.next_flush = at + g.route.group_interval_ms.max(1);
    g.has_flushed = true;
    if g.alerts.is_empty() {
        return true;
    }
    let mut alerts: Vec<Alert> = g
        .alerts
        .values()
        .map(|a| {
            let mut a = a.clone();
            if !a.resolved_at(at) {
                // Alertmanager clears EndsAt of firing alerts so they do not resolve while in flight.
                a.ends_at = None;
            }
            a
        })
        .collect();
    alerts.sort_by(notification_order);
    let resolved_fps: Vec<u64> = alerts
        .iter()
        .filter(|a| a.resolved_at(at))
        .map(|a| a.fingerprint())
        .collect();

    notify(config, g, at, &alerts, store, log, from, sim);

    // The notification succeeded (nothing fails in simulation): resolved alerts leave the group.
    for fp in resolved_fps {
        g.alerts.remove(&fp);
    }
    g.alerts.is_empty()
}

#[allow(clippy::too_many_arguments)]
fn notify(
    config: &Config,
    g: &Group<'_>,
    at: i64,
    alerts: &[Alert],
    store: &BTreeMap<u64, Alert>,
    log: &mut BTreeMap<(String, String, String), LogEntry>,
    from: i64,
    sim: &mut Simulation,
) {
    let mut by: Vec<crate::alertmanager::inhibit::Inhibition> = Vec::new();
    let alerts: Vec<&Alert> = alerts
        .iter()
        .filter(
            |a| match inhibited_by(&config.inhibit_rules, store.values(), &a.labels, at) {
                Some(i) => {
                    if !by.iter().any(|b| b.rule == i.rule) {
                        by.push(i);
                    }
                    false
                }
                None => true,
            },
        )
        .collect();
    if alerts.is_empty() {
        if at >= from {
            sim.suppressions.push(Suppression::Inhibited {
                at,
                group_key: g.key.clone(),
                // The group's own route: sibling routes with the same matchers share a route key.
                receiver: g.route.receiver.clone(),
                by,
            });
        }
        return;
    }
    let active = &g.route.active_time_intervals;
    if !active.is_empty()
        && !active
            .iter()
            .any(|n| config.time_interval(n).is_some_and(|t| t.contains(at)))
    {
        if at >= from {
            sim.suppressions.push(Suppression::Inactive {
                at,
                group_key: g.key.clone(),
                // The group's own route: sibling routes with the same matchers share a route key.
                receiver: g.route.receiver.clone(),
            });
        }
        return;
    }
    if let Some(name) = g
        .route
        .mute_time_intervals
        .iter()
        .find(|n| config.time_interval(n).is_some_and(|t| t.contains(at)))
    {
        if at >= from {
            sim.suppressions.push(Suppression::Muted {
                at,
                group_key: g.key.clone(),
                // The group's own route: sibling routes with the same matchers share a route key.
                receiver: g.route.receiver.clone(),
                interval: name.clone(),
            });
        }
        return;
    }
    let Some(receiver) = config.receiver(&g.route.receiver) else {
        return;
    };
    let firing: BTreeSet<u64> = alerts
        .iter()
        .filter(|a| !a.resolved_at(at))
        .map(|a| a.fingerprint())
        .collect();
    let resolved: BTreeSet<u64> = alerts
        .iter()
        .filter(|a| a.resolved_at(at))
        .map(|a| a.fingerprint())
        .collect();
    for integration in &receiver.integrations {
        let log_key = (g.key.clone(), receiver.name.clone(), integration.name());
        let entry = log.get(&log_key);
        let reason = needs_update(
            entry,
            &firing,
            &resolved,
            integration.send_resolved,
            g.route.repeat_interval_ms,
            at,
        );
        let Some(reason) = reason else { continue };
        // Without send_resolved an all-resolved group is only logged, not sent.
        let sent = integration.send_resolved || !firing.is_empty();
        if sent && at >= from {
            sim.notifications.push(Notification {
                at,
                receiver: receiver.name.clone(),
                integration: integration.name(),
                group_key: g.key.clone(),
                group_labels: g.labels.clone(),
                route: g.route.path.clone(),
                firing: alerts
                    .iter()
                    .filter(|a| !a.resolved_at(at))
                    .map(|a| (*a).clone())
                    .collect(),
                resolved: if integration.send_resolved {
                    alerts
                        .iter()
                        .filter(|a| a.resolved_at(at))
                        .map(|a| (*a).clone())
                        .collect()
                } else {
                    Vec::new()
                },
                reason,
            });
        }
        log.insert(
            log_key,
            LogEntry {
                firing: firing.clone(),
                resolved: resolved.clone(),
                at,
            },
        );
    }
}

/// Alertmanager's `DedupStage.needsUpdate`.
fn needs_update(
    entry: Option<&LogEntry>,
    firing: &BTreeSet<u64>,
    resolved: &BTreeSet<u64>,
    send_resolved: bool,
    repeat_ms: i64,
    now: i64,
) -> Option<Reason> {
    let Some(e) = entry else {
        return (!firing.is_empty()).then_some(Reason::FirstNotification);
    };
    if !firing.is_subset(&e.firing) {
        return Some(if e.firing.is_empty() {
            Reason::FirstNotification
        } else {
            Reason::NewAlertsAdded
        });
    }
    if firing.is_empty() {
        return (!e.firing.is_empty()).then_some(Reason::AllAlertsResolved);
    }
    if send_resolved && !resolved.is_subset(&e.resolved) {
        return Some(Reason::SomeAlertsResolved);
    }
    (e.at < now - repeat_ms).then_some(Reason::RepeatIntervalElapsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alertmanager::config::from_node;
    use crate::text::yaml::parse_stream;
    use std::sync::Arc;

    const MIN: i64 = 60_000;

    fn config(src: &str) -> Config {
        let s = parse_stream(src).unwrap();
        let (c, d) = from_node(&s.documents[0].root, &Arc::from("d.yml"));
        assert!(d.is_empty(), "{d:?}");
        c.unwrap()
    }

    fn episode(pairs: &[(&str, &str)], fired: i64, resolved: Option<i64>) -> AlertEpisode {
        AlertEpisode {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: LabelSet::new(),
            fired_at: fired,
            resolved_at: resolved,
            generator_url: String::new(),
        }
    }

    fn times(ns: &[Notification]) -> Vec<(i64, &str, usize, usize)> {
        ns.iter()
            .map(|n| {
                (
                    n.at / 1000,
                    n.integration.as_str(),
                    n.firing.len(),
                    n.resolved.len(),
                )
            })
            .collect()
    }

    const BASE: &str = "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 5m\nreceivers:\n  - name: hook\n    webhook_configs: [{url: 'http://127.0.0.1:1/'}]\n";

    #[test]
    fn group_wait_then_fixed_phase_and_repeat_after_the_interval() {
        let c = config(BASE);
        let n = simulate(&c, &[episode(&[("alertname", "A")], 0, None)], 0, 30 * MIN);
        // First flush at group_wait (30s); ticks every 5m from there. The repeat needs the last notification
        // to be strictly older than 5m, so it goes out every second tick: 30s, 10m30s, 20m30s.
        assert_eq!(
            times(&n),
            [
                (30, "webhook[0]", 1, 0),
                (630, "webhook[0]", 1, 0),
                (1230, "webhook[0]", 1, 0)
            ]
        );
        assert_eq!(n[0].reason, Reason::FirstNotification);
        assert_eq!(n[1].reason, Reason::RepeatIntervalElapsed);
        assert_eq!(n[0].group_key, "{}:{alertname=\"A\"}");
    }

    #[test]
    fn new_alert_joins_at_next_tick_and_resolution_is_sent() {
        let c = config(BASE);
        let eps = [
            episode(&[("alertname", "A"), ("i", "1")], 0, Some(12 * MIN)),
            episode(&[("alertname", "A"), ("i", "2")], 2 * MIN, Some(12 * MIN)),
        ];
        let n = simulate(&c, &eps, 0, 30 * MIN);
        // 30s: first (i=1); 5m30s: new alert i=2; 10m30s: nothing new, 5m not strictly passed;
        // 15m30s: both resolved at 12m -> all resolved (webhook sends resolved); group destroyed.
        assert_eq!(
            times(&n),
            [
                (30, "webhook[0]", 1, 0),
                (330, "webhook[0]", 2, 0),
                (930, "webhook[0]", 0, 2)
            ]
        );
        assert_eq!(n[1].reason, Reason::NewAlertsAdded);
        assert_eq!(n[2].reason, Reason::AllAlertsResolved);
    }

    #[test]
    fn send_resolved_false_logs_but_does_not_send() {
        let c = config("route:\n  receiver: mail\n  group_wait: 10s\n  group_interval: 1m\n  repeat_interval: 1h\nglobal: {smtp_smarthost: 'localhost:25', smtp_from: a@b}\nreceivers:\n  - name: mail\n    email_configs: [{to: c@d}]\n    webhook_configs: [{url: 'http://127.0.0.1:1/'}]\n");
        let eps = [
            episode(&[("alertname", "A")], 0, Some(3 * MIN)),
            episode(&[("alertname", "B")], 0, None),
        ];
        let n = simulate(&c, &eps, 0, 5 * MIN);
        let got: Vec<(i64, &str, usize, usize, Reason)> = n
            .iter()
            .map(|n| {
                (
                    n.at / 1000,
                    n.integration.as_str(),
                    n.firing.len(),
                    n.resolved.len(),
                    n.reason,
                )
            })
            .collect();
        // One group (no group_by). 10s: both integrations fire. At 3m10s A is resolved: the webhook
        // (send_resolved) reports it; email stays quiet until its repeat interval.
        assert_eq!(
            got,
            [
                (10, "email[0]", 2, 0, Reason::FirstNotification),
                (10, "webhook[0]", 2, 0, Reason::FirstNotification),
                (190, "webhook[0]", 1, 1, Reason::SomeAlertsResolved),
            ]
        );
    }

    #[test]
    fn inhibition_and_mute_intervals_at_flush_time() {
        let c = config(
            "route:\n  receiver: hook\n  group_by: [alertname, severity]\n  group_wait: 10s\n  group_interval: 1m\n  routes:\n    - match: {team: night}\n      mute_time_intervals: [always]\ninhibit_rules:\n  - source_match: {severity: critical}\n    target_match: {severity: warning}\n    equal: [alertname]\ntime_intervals:\n  - name: always\n    time_intervals: [{times: [{start_time: '00:00', end_time: '24:00'}]}]\nreceivers:\n  - name: hook\n    webhook_configs: [{url: 'http://127.0.0.1:1/'}]\n",
        );
        let eps = [
            episode(&[("alertname", "Down"), ("severity", "critical")], 0, None),
            episode(&[("alertname", "Down"), ("severity", "warning")], 0, None),
            episode(
                &[
                    ("alertname", "Down"),
                    ("severity", "info"),
                    ("team", "night"),
                ],
                0,
                None,
            ),
        ];
        let sim = simulate_with(&c, &eps, 0, 2 * MIN, &SendOptions::default());
        let keys: Vec<&str> = sim
            .notifications
            .iter()
            .map(|n| n.group_key.as_str())
            .collect();
        assert_eq!(keys, ["{}:{alertname=\"Down\", severity=\"critical\"}"]);
        let inhibited = sim.suppressions.iter().find_map(|s| match s {
            Suppression::Inhibited {
                at: 10_000,
                group_key,
                receiver,
                by,
            } if group_key == "{}:{alertname=\"Down\", severity=\"warning\"}"
                && receiver == "hook" =>
            {
                Some(by)
            }
            _ => None,
        });
        // Inhibited by the one inhibition rule, with the critical alert as its source.
        let by = inhibited.expect("the warning group's flush is inhibited");
        assert_eq!(by.len(), 1);
        assert_eq!(by[0].rule, 0);
        assert_eq!(
            by[0].source.get("severity").map(String::as_str),
            Some("critical")
        );
        assert!(sim
            .suppressions
            .iter()
            .any(|s| matches!(s, Suppression::Muted { interval, .. } if interval == "always")));
    }

    #[test]
    fn chat2sql_critical_inhibits_warning_until_it_resolves() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/alertmanager/chat2sql.yml"
        );
        let src =
            std::fs::read_to_string(path).expect("fixtures/alertmanager/chat2sql.yml is missing");
        let c = config(&src);
        let common = [
            ("alertname", "HighLatency"),
            ("cluster", "prod"),
            ("service", "chat2sql-api"),
        ];
        let crit: Vec<(&str, &str)> = common
            .iter()
            .copied()
            .chain([("severity", "critical")])
            .collect();
        let warn: Vec<(&str, &str)> = common
            .iter()
            .copied()
            .chain([("severity", "warning")])
            .collect();
        let eps = [
            episode(&crit, 0, Some(20 * MIN)),
            episode(&warn, 0, Some(30 * MIN)),
        ];
        let sim = simulate_with(&c, &eps, 0, 40 * MIN, &SendOptions::default());
        let got: Vec<(i64, &str, &str, usize, usize)> = sim
            .notifications
            .iter()
            .map(|n| {
                (
                    n.at / 1000,
                    n.receiver.as_str(),
                    n.integration.as_str(),
                    n.firing.len(),
                    n.resolved.len(),
                )
            })
            .collect();
        // Hand-computed from the config: the critical route has group_wait 0s (flush on arrival), group
        // interval 10s (inherited) and repeat 15m, so it repeats at the first tick strictly after 15m (910s).
        // It resolves at 20m (a tick): only PagerDuty has send_resolved. The warning goes to the root route
        // (group_wait 10s, ticks on multiples of 10s); it is inhibited while the critical fires, released at
        // 20m, and its resolution at 30m reaches the webhook (send_resolved: true).
        assert_eq!(
            got,
            [
                (0, "critical-alerts", "email[0]", 1, 0),
                (0, "critical-alerts", "slack[0]", 1, 0),
                (0, "critical-alerts", "pagerduty[0]", 1, 0),
                (910, "critical-alerts", "email[0]", 1, 0),
                (910, "critical-alerts", "slack[0]", 1, 0),
                (910, "critical-alerts", "pagerduty[0]", 1, 0),
                (1200, "critical-alerts", "pagerduty[0]", 0, 1),
                (1200, "web.hook", "webhook[0]", 1, 0),
                (1800, "web.hook", "webhook[0]", 0, 1),
            ]
        );
        let inhibited = sim
            .suppressions
            .iter()
            .filter(|s| matches!(s, Suppression::Inhibited { .. }))
            .count();
        // Root group ticks at 10s, 20s, ... 1190s while the critical fires: 119 inhibited flushes.
        assert_eq!(inhibited, 119);
        assert_eq!(
            sim.notifications[7].group_key,
            "{}:{alertname=\"HighLatency\", cluster=\"prod\", service=\"chat2sql-api\"}"
        );
    }

    #[test]
    fn identical_sibling_routes_keep_separate_groups() {
        let c = config(
            "route:\n  receiver: a\n  group_wait: 10s\n  routes:\n    - matchers: [team=x]\n      receiver: a\n      continue: true\n    - matchers: [team=x]\n      receiver: b\nreceivers:\n  - name: a\n    webhook_configs: [{url: 'http://127.0.0.1:1/a'}]\n  - name: b\n    webhook_configs: [{url: 'http://127.0.0.1:1/b'}]\n",
        );
        let n = simulate(&c, &[episode(&[("team", "x")], 0, None)], 0, MIN);
        let got: Vec<(&str, &str)> = n
            .iter()
            .map(|n| (n.receiver.as_str(), n.group_key.as_str()))
            .collect();
        // Same group key `{}/{team="x"}:{}` for both routes, but two groups and two notifications.
        assert_eq!(
            got,
            [("a", "{}/{team=\"x\"}:{}"), ("b", "{}/{team=\"x\"}:{}")]
        );
    }

    #[test]
    fn late_alert_flushes_immediately() {
        let c = config(BASE);
        // StartsAt long before Alertmanager hears of it (e.g. after a restart): no group_wait.
        let d = Delivery {
            at: 10 * MIN,
            alert: Alert {
                labels: [("alertname".to_string(), "A".to_string())].into(),
                annotations: LabelSet::new(),
                starts_at: 0,
                ends_at: Some(14 * MIN),
                generator_url: String::new(),
                updated_at: 10 * MIN,
                timeout: false,
            },
        };
        let sim = simulate_deliveries(&c, &[d], 0, 11 * MIN);
        assert_eq!(sim.notifications.len(), 1);
        assert_eq!(sim.notifications[0].at, 10 * MIN);
    }
}
