//! The text of `migrate-report`'s dry-run half ([`crate::project::migrate`]): a table for people, Markdown for a
//! pull request, JSON for tools.

use crate::project::migrate::{
    AlertChange, Comparison, Episode, NotificationChange, Sent, UnitChange, UnitReport,
};
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
    format!(
        "{}{}",
        c.alertname,
        super::labels::braces(&c.labels, &["alertname"])
    )
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

/// The cause of a change in words: the differences that explain it, or that it needs together.
fn cause_text(c: &UnitChange) -> String {
    if c.causes.is_empty() {
        return "not attributed to one difference: several together, or one ruletest does not list"
            .into();
    }
    let names: Vec<&str> = c.causes.iter().map(|d| d.name()).collect();
    if c.combined {
        format!("{} together", names.join(" + "))
    } else {
        names.join(", ")
    }
}

/// The failed checks of a changed group, as `test` prints them.
fn failures_text(c: &UnitChange) -> String {
    c.failures
        .iter()
        .map(|x| crate::report::unittest::render_failure(&c.file, x, false))
        .collect()
}

fn verdict(p: bool) -> &'static str {
    if p {
        "passes"
    } else {
        "fails"
    }
}

/// The unit-test half for people: each changed group, its cause, and the failed checks as `test` prints them.
pub fn unit_human(u: &UnitReport) -> String {
    let (files, groups, changes) = (u.files, u.groups, u.changes.as_slice());
    let mut out = format!(
        "Prometheus 2 -> 3: {files} test files, {groups} test groups; {} change verdict\n",
        changes.len()
    );
    for c in changes {
        let _ = writeln!(
            out,
            "{}:{}: {:?} {} on Prometheus 2, {} on Prometheus 3",
            c.file,
            c.line,
            c.name,
            verdict(c.passes_on_2),
            verdict(c.passes_on_3)
        );
        let _ = writeln!(out, "  cause: {}", cause_text(c));
        for d in &c.causes {
            let _ = writeln!(out, "    {}: {}", d.name(), d.explain());
        }
        out.push_str(&failures_text(c));
    }
    out
}

/// The unit-test half as a Markdown table for a pull request.
pub fn unit_markdown(u: &UnitReport) -> String {
    let (files, groups, changes) = (u.files, u.groups, u.changes.as_slice());
    let mut out = format!(
        "### Prometheus 2 -> 3\n\n{files} test files, {groups} test groups; {} change verdict.\n\n",
        changes.len()
    );
    if !changes.is_empty() {
        out.push_str("| test group | Prometheus 2 | Prometheus 3 | cause | failed checks |\n|---|---|---|---|---|\n");
        for c in changes {
            let checks: Vec<String> = failures_text(c)
                .lines()
                .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
                .map(|l| {
                    let l = l.trim();
                    let l = l
                        .strip_prefix(c.file.as_str())
                        .and_then(|r| r.strip_prefix(':'))
                        .map(|r| format!("line {r}"))
                        .unwrap_or_else(|| l.to_string());
                    l.replace('|', "\\|")
                })
                .collect();
            let _ = writeln!(
                out,
                "| `{}:{}` {} | {} | {} | {} | {} |",
                c.file,
                c.line,
                c.name.replace('|', "\\|"),
                verdict(c.passes_on_2),
                verdict(c.passes_on_3),
                cause_text(c),
                checks.join("<br>")
            );
        }
    }
    out
}

/// The unit-test half for tools.
pub fn unit_json(u: &UnitReport) -> serde_json::Value {
    let (files, groups, changes) = (u.files, u.groups, u.changes.as_slice());
    let list: Vec<_> = changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "file": c.file, "line": c.line, "name": c.name,
                "prometheus2": verdict(c.passes_on_2), "prometheus3": verdict(c.passes_on_3),
                "failures": failures_text(c),
                "causes": c.causes.iter().map(|d| serde_json::json!({
                    "difference": d.name(), "explanation": d.explain(),
                })).collect::<Vec<_>>(),
                "causes_combined": c.combined,
            })
        })
        .collect();
    serde_json::json!({"files": files, "groups": groups, "changes": list})
}

/// `migrate-report`'s two halves, either or both.
pub struct MigrateReport<'a> {
    pub units: Option<&'a UnitReport>,
    pub dry: Option<&'a Comparison>,
}

impl super::Report for MigrateReport<'_> {
    fn formats(&self) -> &'static [super::Format] {
        &[
            super::Format::Human,
            super::Format::Json,
            super::Format::Markdown,
        ]
    }

    fn render(&self, format: super::Format, _: super::Style) -> Option<String> {
        let mut out = String::new();
        match format {
            super::Format::Human => {
                out.extend(self.units.map(unit_human));
                out.extend(self.dry.map(human));
            }
            super::Format::Markdown => {
                out.extend(self.units.map(unit_markdown));
                out.extend(self.dry.map(markdown));
            }
            super::Format::Json => {
                let mut v = self
                    .units
                    .map(unit_json)
                    .unwrap_or_else(|| serde_json::json!({}));
                if let Some(d) = self.dry {
                    v["dry_run"] = json(d);
                }
                let _ = writeln!(out, "{v}");
            }
            _ => return None,
        }
        Some(out)
    }
}
