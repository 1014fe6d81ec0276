//! A threshold sweep as one HTML page (`tune --html FILE`): the sweep table (sortable; the rule's own setting
//! and the budget's pick highlighted), the distribution of the left side, and per candidate threshold a plot
//! of the left side against it, with the firing spans of that threshold (at the rule's `for`, or the first
//! swept) and the known incidents marked, captioned with what it detected and how late.
//!
//! Rendering only: everything shown is in the [`Tune`] result.

use super::html::{escape, page, Table};
use super::plot::{Plot, Span, SpanKind, Threshold, Unit};
use super::tune::Tune;
use super::Format;
use crate::rules::tune::present;
use crate::text::duration::format_duration;
use crate::text::gofmt::format_value;
use std::fmt::Write as _;

/// Thresholds drawn, each its own plot.
const PLOTS: usize = 6;

fn dur(ms: i64) -> String {
    escape(&format_duration(ms.max(0)))
}

/// A cell whose sort key is a number (durations sort by their length, not their text).
fn num(key: impl std::fmt::Display, shown: String) -> String {
    format!("<span data-sort=\"{key}\">{shown}</span>")
}

/// The page.
pub fn html(t: &Tune) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Threshold sweep: {}</h1><p class=\"sub\"><code>{}</code><br>sweeping <code>{} {} &lt;threshold&gt;</code> from {} to {} (UTC)</p>",
        escape(&t.alert),
        escape(&t.expr),
        escape(&t.lhs_text),
        escape(t.op.as_str()),
        escape(&super::dry_run::rfc3339(t.from)),
        escape(&super::dry_run::rfc3339(t.to))
    );
    let unit = Unit::guess(
        &t.lhs_text,
        t.lhs
            .series
            .iter()
            .flat_map(|(_, v)| v.iter().copied().filter_map(present)),
    );
    b.push_str("<div class=\"cards\" id=\"summary\">");
    let card = |v: String, what: &str| {
        format!(
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            escape(&v),
            escape(what)
        )
    };
    b.push_str(&card(t.rows.len().to_string(), "combinations"));
    b.push_str(&card(t.lhs.series.len().to_string(), "series"));
    if let Some(d) = t.distribution {
        for (v, what) in d.iter().zip(["min", "p50", "p90", "p99", "max"]) {
            b.push_str(&card(unit.format(*v), what));
        }
    }
    b.push_str("</div>");
    // The table.
    let receivers: Vec<String> = t
        .notifications
        .first()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut headers: Vec<String> = [
        "threshold",
        "for",
        "keep_firing_for",
        "episodes",
        "series",
        "firing",
        "median",
        "p95",
        "refires",
        "peak",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if t.incidents {
        headers.extend(["detected", "time to detect", "false alerts"].map(String::from));
    }
    headers.extend(receivers.iter().map(|r| format!("→ {r}")));
    let mut rows = Vec::new();
    let mut classes = Vec::new();
    for (i, r) in t.rows.iter().enumerate() {
        let mut mark = String::new();
        if r.current {
            mark.push_str(" <span class=\"tag\">the rule's</span>");
        }
        if t.budget == Some(i) {
            mark.push_str(" <span class=\"tag\">budget pick</span>");
        }
        let mut row = vec![
            num(r.threshold, escape(&format_value(r.threshold)) + &mark),
            num(r.for_ms, dur(r.for_ms)),
            num(r.keep_firing_for_ms, dur(r.keep_firing_for_ms)),
            r.episodes.to_string(),
            r.series.to_string(),
            num(r.firing_ms, dur(r.firing_ms)),
            num(r.median_episode_ms, dur(r.median_episode_ms)),
            num(r.p95_episode_ms, dur(r.p95_episode_ms)),
            r.refires.to_string(),
            r.peak_concurrent.to_string(),
        ];
        if t.incidents {
            row.push(r.detected.map_or("-".into(), |d| d.to_string()));
            row.push(
                r.mean_time_to_detect_ms
                    .map_or("-".into(), |d| num(d, dur(d))),
            );
            row.push(r.false_alerts.map_or("-".into(), |d| d.to_string()));
        }
        for rc in &receivers {
            row.push(t.notifications[i].get(rc).copied().unwrap_or(0).to_string());
        }
        rows.push(row);
        classes.push(if r.current || t.budget == Some(i) {
            "current"
        } else {
            ""
        });
    }
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    b.push_str("<h2 id=\"sweep\">Sweep</h2>");
    b.push_str(
        &Table {
            id: "sweep-table",
            headers: &header_refs,
            rows,
            page: 200,
            sortable: true,
            row_class: classes,
        }
        .html(),
    );
    b.push_str("<p class=\"note\">Click a column to sort. Highlighted: the rule's own setting");
    if t.budget.is_some() {
        b.push_str(" and the most sensitive setting within the alert budget");
    }
    b.push_str(
        ". Receiver columns count notifications after routing, inhibition and grouping.</p>",
    );
    // Plots, one per candidate threshold.
    let mut thresholds: Vec<f64> = Vec::new();
    for r in &t.rows {
        if !thresholds
            .iter()
            .any(|x| x.to_bits() == r.threshold.to_bits())
        {
            thresholds.push(r.threshold);
        }
    }
    // The rule's own threshold first, then the others in sweep order.
    if let Some(cur) = t.rows.iter().find(|r| r.current) {
        thresholds.retain(|x| x.to_bits() != cur.threshold.to_bits());
        thresholds.insert(0, cur.threshold);
    }
    let shown = thresholds.len().min(PLOTS);
    b.push_str("<h2 id=\"plots\">The left side against each threshold</h2>");
    if t.top.is_empty() {
        b.push_str("<p class=\"note\">The left side has no data in the window.</p>");
    }
    let series: Vec<(String, Vec<(i64, f64)>)> = t
        .top
        .iter()
        .map(|(name, i, _)| {
            let vals = &t.lhs.series[*i].1;
            let points = vals
                .iter()
                .enumerate()
                .map(|(k, v)| (t.lhs.time(k), present(*v).unwrap_or(f64::NAN)))
                .collect();
            (name.clone(), points)
        })
        .collect();
    let incidents: Vec<Span> = t
        .known_incidents
        .iter()
        .map(|i| Span {
            from: i.start_ms,
            to: i.end_ms,
            kind: SpanKind::Incident,
        })
        .collect();
    for th in thresholds
        .iter()
        .take(if t.top.is_empty() { 0 } else { shown })
    {
        // The row drawn: this threshold at the rule's `for` and `keep_firing_for`, else the first swept.
        let current = t.rows.iter().find(|r| r.current);
        let row = t
            .rows
            .iter()
            .filter(|r| r.threshold.to_bits() == th.to_bits())
            .find(|r| {
                current.is_some_and(|c| {
                    c.for_ms == r.for_ms && c.keep_firing_for_ms == r.keep_firing_for_ms
                })
            })
            .or_else(|| {
                t.rows
                    .iter()
                    .find(|r| r.threshold.to_bits() == th.to_bits())
            });
        let Some(row) = row else { continue };
        let mut spans = incidents.clone();
        spans.extend(row.fired.iter().map(|(_, f, res)| Span {
            from: *f,
            to: res.unwrap_or(t.to),
            kind: SpanKind::Firing,
        }));
        let label = format!("{} {}", t.op.as_str(), format_value(*th));
        let plot = Plot {
            title: format!("{} {label}", t.lhs_text),
            unit,
            from: t.from,
            to: t.to,
            series: series.clone(),
            thresholds: vec![Threshold {
                value: *th,
                label: label.clone(),
                main: true,
            }],
            spans,
        };
        let _ = write!(
            b,
            "<section class=\"candidate\"><h3>{}{}</h3><p class=\"sub\">for {}, keep_firing_for {}: {} episodes on {} series, firing {}",
            escape(&label),
            if row.current { " (the rule's setting)" } else { "" },
            dur(row.for_ms),
            dur(row.keep_firing_for_ms),
            row.episodes,
            row.series,
            dur(row.firing_ms)
        );
        if t.incidents {
            let _ = write!(
                b,
                "; incidents detected: {}, mean time to detect: {}, false alerts: {}",
                row.detected.map_or("-".into(), |d| d.to_string()),
                row.mean_time_to_detect_ms.map_or("-".into(), dur),
                row.false_alerts.map_or("-".into(), |d| d.to_string())
            );
        }
        b.push_str("</p>");
        b.push_str(&plot.svg());
        b.push_str("</section>");
    }
    if thresholds.len() > shown && !t.top.is_empty() {
        let _ = write!(
            b,
            "<p class=\"note\">{} more thresholds swept; their numbers are in the table.</p>",
            thresholds.len() - shown
        );
    }
    if t.top.len() < t.lhs.series.len() {
        let _ = write!(
            b,
            "<p class=\"note\">Plots show the {} series with the highest values of {}.</p>",
            t.top.len(),
            t.lhs.series.len()
        );
    }
    page(&format!("ruletest tune {}", t.alert), &b)
}

/// Table, JSON and CSV from `report::tune`; the page from here.
impl super::Report for Tune {
    fn formats(&self) -> &'static [Format] {
        &[Format::Human, Format::Json, Format::Csv, Format::Html]
    }

    /// Human is the table; the SVG plot is a file of its own ([`super::tune::svg`]).
    fn render(&self, format: Format, _: super::Style) -> Option<String> {
        match format {
            Format::Human => Some(super::tune::table(self)),
            Format::Json => Some(super::pretty(&super::tune::json(self))),
            Format::Csv => Some(super::tune::csv(self)),
            Format::Html => Some(html(self)),
            _ => None,
        }
    }
}
