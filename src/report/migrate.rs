//! The text of `migrate-report`'s dry-run half ([`crate::project::migrate`]): a table for people, Markdown for a
//! pull request, JSON for tools.

use crate::project::migrate::{AlertChange, Comparison, Episode, NotificationChange, Sent};
use crate::semantics::Difference;
use std::fmt::Write;

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// `pending 10:00, fired 10:05, resolved 10:20; ...`, or `never active`.
pub fn episodes_text(eps: &[Episode]) -> String {
    if eps.is_empty() {
        return "never active".into();
    }
    eps.iter()
        .map(|(a, f, r)| {
            let mut s = format!("pending {}", time(*a));
            match f {
                Some(f) => {
                    let _ = write!(s, ", fired {}", time(*f));
                }
                None => s.push_str(", never fired"),
            }
            if let Some(r) = r {
                let _ = write!(s, ", resolved {}", time(*r));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn alert_text(c: &AlertChange) -> String {
    let labels: Vec<String> = c
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{}{{{}}}", c.alertname, labels.join(", "))
}

pub fn causes_text(causes: &[Difference]) -> String {
    if causes.is_empty() {
        "not attributed to one difference: several together, or one ruletest does not list".into()
    } else {
        causes
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `1970-01-01 00:06:30 (1 firing); 1970-01-01 00:12:00 (1 resolved)`, or `none`.
pub fn sends_text(sends: &[Sent]) -> String {
    if sends.is_empty() {
        return "none".into();
    }
    sends
        .iter()
        .map(|(at, firing, resolved)| {
            let mut parts = Vec::new();
            if !firing.is_empty() {
                parts.push(format!("{} firing", firing.len()));
            }
            if !resolved.is_empty() {
                parts.push(format!("{} resolved", resolved.len()));
            }
            format!("{} ({})", time(*at), parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `team-pager webhook[0] {}:{alertname="X"}`.
pub fn group_text(c: &NotificationChange) -> String {
    format!("{} {} {}", c.receiver, c.integration, c.group_key)
}

pub fn human(c: &Comparison) -> String {
    let mut out = format!(
        "Prometheus 2 -> 3, dry run from {} to {}: {} alerts; {} change\n",
        time(c.from_ms),
        time(c.to_ms),
        c.alerts,
        c.changes.len()
    );
    for ch in &c.changes {
        let _ = writeln!(out, "{}", alert_text(ch));
        let _ = writeln!(out, "  Prometheus 2: {}", episodes_text(&ch.prometheus2));
        let _ = writeln!(out, "  Prometheus 3: {}", episodes_text(&ch.prometheus3));
        let _ = writeln!(out, "  cause: {}", causes_text(&ch.causes));
        for d in &ch.causes {
            let _ = writeln!(out, "    {}: {}", d.name(), d.explain());
        }
    }
    if let Some(groups) = c.groups {
        let _ = writeln!(
            out,
            "Notifications: {groups} groups; {} change",
            c.notification_changes.len()
        );
        for ch in &c.notification_changes {
            let _ = writeln!(out, "{}", group_text(ch));
            let _ = writeln!(out, "  Prometheus 2: {}", sends_text(&ch.prometheus2));
            let _ = writeln!(out, "  Prometheus 3: {}", sends_text(&ch.prometheus3));
            let _ = writeln!(out, "  cause: {}", causes_text(&ch.causes));
            for d in &ch.causes {
                let _ = writeln!(out, "    {}: {}", d.name(), d.explain());
            }
        }
    }
    out
}

pub fn markdown(c: &Comparison) -> String {
    let mut out = format!(
        "### Prometheus 2 -> 3, dry run\n\n{} to {}: {} alerts; {} change.\n\n",
        time(c.from_ms),
        time(c.to_ms),
        c.alerts,
        c.changes.len()
    );
    if !c.changes.is_empty() {
        out.push_str("| alert | Prometheus 2 | Prometheus 3 | cause |\n|---|---|---|---|\n");
        for ch in &c.changes {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                alert_text(ch).replace('|', "\\|"),
                episodes_text(&ch.prometheus2),
                episodes_text(&ch.prometheus3),
                causes_text(&ch.causes)
            );
        }
    }
    if let Some(groups) = c.groups {
        let _ = write!(
            out,
            "\nNotifications: {groups} groups; {} change.\n\n",
            c.notification_changes.len()
        );
        if !c.notification_changes.is_empty() {
            out.push_str(
                "| receiver, integration, group | Prometheus 2 | Prometheus 3 | cause |\n|---|---|---|---|\n",
            );
            for ch in &c.notification_changes {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    group_text(ch).replace('|', "\\|"),
                    sends_text(&ch.prometheus2),
                    sends_text(&ch.prometheus3),
                    causes_text(&ch.causes)
                );
            }
        }
    }
    out
}

pub fn json(c: &Comparison) -> serde_json::Value {
    let eps = |v: &[Episode]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|(a, f, r)| serde_json::json!({"active_at": a, "fired_at": f, "resolved_at": r}))
            .collect()
    };
    let sent = |v: &[Sent]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|(at, firing, resolved)| {
                serde_json::json!({"at": at, "firing": firing, "resolved": resolved})
            })
            .collect()
    };
    let causes = |v: &[Difference]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|d| serde_json::json!({"difference": d.name(), "explanation": d.explain()}))
            .collect()
    };
    let mut out = serde_json::json!({
        "from": c.from_ms,
        "to": c.to_ms,
        "alerts": c.alerts,
        "changes": c.changes.iter().map(|ch| serde_json::json!({
            "alertname": ch.alertname,
            "labels": ch.labels,
            "prometheus2": eps(&ch.prometheus2),
            "prometheus3": eps(&ch.prometheus3),
            "causes": causes(&ch.causes),
        })).collect::<Vec<_>>(),
    });
    if let Some(groups) = c.groups {
        out["notification_groups"] = groups.into();
        out["notification_changes"] = c
            .notification_changes
            .iter()
            .map(|ch| {
                serde_json::json!({
                    "receiver": ch.receiver,
                    "integration": ch.integration,
                    "group_key": ch.group_key,
                    "prometheus2": sent(&ch.prometheus2),
                    "prometheus3": sent(&ch.prometheus3),
                    "causes": causes(&ch.causes),
                })
            })
            .collect();
    }
    out
}
