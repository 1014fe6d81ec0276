//! The dry-run report: per rule (episodes, firing time, longest episode, series), per receiver
//! (notifications, alerts, first and last, inhibited and muted), then the timeline; or the JSON document
//! (`alerts`, `notifications`, `rules`, `receivers`) documented in docs/dry-run.md. The run's [`super::Report`]
//! is in `report::dry_run_html`, which renders the page from these parts.

use crate::alertmanager::config::Config;
use crate::alertmanager::dispatch::{Simulation, Suppression};
use crate::alertmanager::notify::{render_integration, NotificationData};
use crate::alertmanager::render::GoRenderer;
use crate::report::table;
use crate::rules::timeline::AlertRecord;
use crate::text::duration::format_duration;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

pub use crate::project::dry_run::DryRun;

/// RFC 3339 in UTC, with the milliseconds when there are any (`10:00:00Z`, `10:00:00.500Z`): a group flush
/// half a second into a minute is not the minute.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn hms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Statistics of one rule's fired episodes.
pub struct RuleStats {
    pub episodes: usize,
    pub pending_only: usize,
    pub firing_ms: i64,
    pub longest_ms: i64,
    pub series: usize,
}

pub fn rule_stats(run: &DryRun, rule: usize) -> RuleStats {
    let mut s = RuleStats {
        episodes: 0,
        pending_only: 0,
        firing_ms: 0,
        longest_ms: 0,
        series: 0,
    };
    let mut series = BTreeSet::new();
    for a in run.timeline.alerts.iter().filter(|a| a.rule == rule) {
        match a.fired_at {
            Some(f) => {
                let d = a.resolved_at.unwrap_or(run.to) - f;
                s.episodes += 1;
                s.firing_ms += d;
                s.longest_ms = s.longest_ms.max(d);
                series.insert(&a.labels);
            }
            None => s.pending_only += 1,
        }
    }
    s.series = series.len();
    s
}

fn fired(run: &DryRun) -> Vec<&AlertRecord> {
    run.timeline
        .alerts
        .iter()
        .filter(|a| a.fired_at.is_some())
        .collect()
}

/// Per receiver: name, notifications, distinct alerts, first, last, inhibited alerts, muted flushes.
pub type ReceiverStats = (String, usize, usize, Option<i64>, Option<i64>, usize, usize);

/// Per receiver statistics (see [`ReceiverStats`]).
pub fn receiver_stats(run: &DryRun) -> Vec<ReceiverStats> {
    let (Some(config), Some(sim)) = (&run.config, &run.simulation) else {
        return Vec::new();
    };
    let fired = fired(run);
    config
        .receivers
        .iter()
        .map(|r| {
            let ns: Vec<_> = sim
                .notifications
                .iter()
                .filter(|n| n.receiver == r.name)
                .collect();
            let alerts: BTreeSet<u64> = ns
                .iter()
                .flat_map(|n| n.firing.iter().map(|a| a.fingerprint()))
                .collect();
            let inhibited = fired
                .iter()
                .zip(&run.inhibited)
                .filter(|(a, inh)| {
                    **inh
                        && crate::alertmanager::route::match_routes(config, &a.labels)
                            .iter()
                            .any(|rt| rt.receiver == r.name)
                })
                .count();
            let muted = sim
                .suppressions
                .iter()
                .filter(|s| match s {
                    Suppression::Muted { receiver, .. }
                    | Suppression::Inactive { receiver, .. } => *receiver == r.name,
                    Suppression::Inhibited { .. } => false,
                })
                .count();
            (
                r.name.clone(),
                ns.len(),
                alerts.len(),
                ns.first().map(|n| n.at),
                ns.last().map(|n| n.at),
                inhibited,
                muted,
            )
        })
        .collect()
}

pub fn human(run: &DryRun, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dry run from {} to {}\n",
        rfc3339(run.from),
        rfc3339(run.to)
    );
    let mut rows = Vec::new();
    let mut never = Vec::new();
    for (i, r) in run.timeline.rules.iter().enumerate() {
        let s = rule_stats(run, i);
        if s.episodes == 0 {
            never.push(format!(
                "{} never fired{}",
                r.alertname,
                if s.pending_only > 0 {
                    format!(
                        " ({} pending episodes ended before `for` elapsed)",
                        s.pending_only
                    )
                } else {
                    String::new()
                }
            ));
        }
        rows.push(vec![
            r.alertname.clone(),
            s.episodes.to_string(),
            format_duration(s.firing_ms),
            format_duration(s.longest_ms),
            s.series.to_string(),
            s.pending_only.to_string(),
        ]);
    }
    out.push_str(&table::render(
        &[
            "alert",
            "episodes",
            "firing time",
            "longest",
            "series",
            "pending only",
        ],
        &rows,
    ));
    for n in &never {
        let _ = writeln!(out, "{}", paint("33", n));
    }
    let recv = receiver_stats(run);
    if !recv.is_empty() {
        out.push('\n');
        let rows: Vec<Vec<String>> = recv
            .iter()
            .map(|(name, n, a, first, last, inh, muted)| {
                vec![
                    name.clone(),
                    n.to_string(),
                    a.to_string(),
                    first.map(hms).unwrap_or_else(|| "-".into()),
                    last.map(hms).unwrap_or_else(|| "-".into()),
                    inh.to_string(),
                    muted.to_string(),
                ]
            })
            .collect();
        out.push_str(&table::render(
            &[
                "receiver",
                "notifications",
                "alerts",
                "first",
                "last",
                "inhibited",
                "muted",
            ],
            &rows,
        ));
        for (name, n, ..) in &recv {
            if *n == 0 {
                let _ = writeln!(
                    out,
                    "{}",
                    paint(
                        "33",
                        &format!("{name}: no notification would have been sent")
                    )
                );
            }
        }
    }
    for (name, t, msg) in &run.timeline.errors {
        let _ = writeln!(
            out,
            "{}",
            paint(
                "31",
                &format!("{name}: evaluation failed at {}: {msg}", hms(*t))
            )
        );
    }
    // Timeline.
    let mut events: Vec<(i64, u8, String)> = Vec::new();
    for a in &run.timeline.alerts {
        let name = format!(
            "{}{}",
            a.alertname,
            super::labels::braces(&a.labels, &["alertname"])
        );
        events.push((
            a.active_at,
            0,
            format!("{} {name}", paint("33", "pending ")),
        ));
        if let Some(f) = a.fired_at {
            let v = a
                .value_at_fire
                .map(|v| format!(" (value {})", crate::promql::value::format_value(v)))
                .unwrap_or_default();
            events.push((f, 1, format!("{} {name}{v}", paint("1;31", "firing  "))));
        }
        if let Some(r) = a.resolved_at {
            let word = if a.fired_at.is_some() {
                "resolved"
            } else {
                "inactive"
            };
            events.push((r, 2, format!("{} {name}", paint("32", word))));
        }
    }
    if let Some(sim) = &run.simulation {
        for (i, n) in sim.notifications.iter().enumerate() {
            let alerts: Vec<String> = n
                .firing
                .iter()
                .map(|a| a.labels.get("alertname").cloned().unwrap_or_default())
                .collect();
            let mut line = format!(
                "{} {} {} ({}): {} firing, {} resolved [{}]",
                paint("1;36", "notify  "),
                n.receiver,
                n.integration,
                n.reason.as_str(),
                n.firing.len(),
                n.resolved.len(),
                alerts.join(", ")
            );
            for (_, field, text) in run.texts.iter().filter(|(k, _, _)| *k == i) {
                let _ = write!(
                    line,
                    "\n             {field}: {}",
                    text.replace('\n', "\n               ")
                );
            }
            events.push((n.at, 3, line));
        }
    }
    events.sort_by_key(|e| (e.0, e.1));
    if !events.is_empty() {
        let _ = writeln!(out, "\ntimeline");
        for (t, _, line) in events {
            let _ = writeln!(out, "  {}  {line}", hms(t));
        }
    }
    out
}

pub fn json(run: &DryRun) -> Value {
    let alerts: Vec<Value> = run
        .timeline
        .alerts
        .iter()
        .map(|a| {
            json!({
                "alertname": a.alertname,
                "labels": a.labels,
                "annotations": a.annotations,
                "active_at": rfc3339(a.active_at),
                "fired_at": a.fired_at.map(rfc3339),
                "resolved_at": a.resolved_at.map(rfc3339),
            })
        })
        .collect();
    let notifications: Vec<Value> = run
        .simulation
        .as_ref()
        .map(|s| {
            s.notifications
                .iter()
                .map(|n| {
                    json!({
                        "time": rfc3339(n.at),
                        "receiver": n.receiver,
                        "integration": n.integration,
                        "group_key": n.group_key,
                        "reason": n.reason.as_str(),
                        "firing": n.firing.iter().map(|a| &a.labels).collect::<Vec<_>>(),
                        "resolved": n.resolved.iter().map(|a| &a.labels).collect::<Vec<_>>(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let rules: Vec<Value> = run
        .timeline
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let s = rule_stats(run, i);
            json!({
                "alertname": r.alertname, "group": r.group, "file": r.file, "line": r.line,
                "episodes": s.episodes, "firing_seconds": s.firing_ms / 1000, "longest_seconds": s.longest_ms / 1000,
                "series": s.series, "pending_only": s.pending_only,
            })
        })
        .collect();
    let receivers: Vec<Value> = receiver_stats(run)
        .into_iter()
        .map(|(name, n, a, first, last, inh, muted)| {
            json!({"receiver": name, "notifications": n, "alerts": a, "first": first.map(rfc3339),
                   "last": last.map(rfc3339), "inhibited": inh, "muted": muted})
        })
        .collect();
    let errors: Vec<Value> = run
        .timeline
        .errors
        .iter()
        .map(|(n, t, m)| json!({"rule": n, "time": rfc3339(*t), "message": m}))
        .collect();
    json!({
        "from": rfc3339(run.from),
        "to": rfc3339(run.to),
        "alerts": alerts,
        "notifications": notifications,
        "rules": rules,
        "receivers": receivers,
        "errors": errors,
    })
}

/// Renders every templated field of every notification with Alertmanager's templates (secrets are never part
/// of rendered text: only templated fields are rendered).
pub fn render_texts(
    config: &Config,
    sim: &Simulation,
    base: &Path,
    external_url: &str,
    now: i64,
) -> Vec<(usize, String, String)> {
    let renderer = match GoRenderer::new(&config.templates, base, now) {
        Ok(r) => r,
        Err(e) => return vec![(usize::MAX, "templates".into(), e)],
    };
    let mut out = Vec::new();
    for (i, n) in sim.notifications.iter().enumerate() {
        let Some(integration) = config.integration(&n.receiver, &n.integration) else {
            continue;
        };
        let data = NotificationData::from_notification(n, external_url);
        for f in render_integration(&renderer, integration, &data) {
            let text = match f.text {
                Ok(t) => t,
                Err(e) => format!("<error: {e}>"),
            };
            out.push((i, f.field, text));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn times_keep_their_milliseconds() {
        assert_eq!(rfc3339(1_762_077_600_000), "2025-11-02T10:00:00Z");
        assert_eq!(rfc3339(1_762_077_600_500), "2025-11-02T10:00:00.500Z");
        assert_eq!(rfc3339(1_762_077_600_001), "2025-11-02T10:00:00.001Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }
}
