//! A threshold sweep as one HTML page (`tune --html FILE`): the sweep table (sortable; the rule's own setting
//! and the budget's pick highlighted), the distribution of the left side, and per candidate threshold a plot
//! of the left side against it, with the firing spans of that threshold (at the rule's `for`, or the first
//! swept) and the known incidents marked, captioned with what it detected and how late.
//!
//! Rendering only: everything shown is in the [`Tune`] result.

use super::html::{escape, page, Table};
use super::plot::{Plot, Threshold};
use super::tune::Tune;
use super::Format;
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
    let unit = super::tune::unit(t);
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
    let receivers = super::tune::receivers(t);
    let mut headers: Vec<String> = super::tune::columns(t)
        .iter()
        .map(|s| s.to_string())
        .collect();
    headers.extend(receivers.iter().map(|r| format!("→ {r}")));
    let mut rows = Vec::new();
    let mut classes = Vec::new();
    for (i, r) in t.rows.iter().enumerate() {
        let mut row: Vec<String> = super::tune::cells(t, i, &receivers)
            .into_iter()
            .map(|c| match c.key {
                Some(key) => num(key, escape(&c.text)),
                None => escape(&c.text),
            })
            .collect();
        if r.current {
            row[0].push_str(" <span class=\"tag\">the rule's</span>");
        }
        if t.budget == Some(i) {
            row[0].push_str(" <span class=\"tag\">budget pick</span>");
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
    let thresholds = super::tune::thresholds(t);
    let shown = thresholds.len().min(PLOTS);
    b.push_str("<h2 id=\"plots\">The left side against each threshold</h2>");
    if t.top.is_empty() {
        b.push_str("<p class=\"note\">The left side has no data in the window.</p>");
    }
    let series = super::tune::plotted_series(t);
    for th in thresholds
        .iter()
        .take(if t.top.is_empty() { 0 } else { shown })
    {
        let Some(row) = super::tune::row_for(t, *th) else {
            continue;
        };
        let spans = super::tune::spans(t, row);
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
