//! `tune` output: the table of combinations (the rule's own setting marked `*`, the budget pick marked
//! `budget`), the distribution of the left side, JSON and CSV (documented in docs/tune.md), and an SVG plot
//! of the left side over time with the thresholds and firing spans. The result's [`super::Report`] is in
//! `report::tune_html`, which renders the page from these parts.

use crate::promql::value::format_value;
use crate::report::plot::{Plot, Span, SpanKind, Threshold, Unit};
use crate::report::table;
use crate::rules::tune::{present, Row};
use crate::text::duration::format_duration;
use serde_json::json;
use std::fmt::Write as _;

pub use crate::project::tune::Tuned as Tune;

fn dur(ms: i64) -> String {
    format_duration(ms)
}

/// A cell of the sweep table: its text, and for numbers and durations the key it sorts by.
pub struct Cell {
    pub text: String,
    pub key: Option<f64>,
}

/// The receivers that have a column of notification counts.
pub fn receivers(t: &Tune) -> Vec<String> {
    t.notifications
        .first()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The sweep table's columns before the receivers': the setting and what it did.
pub fn columns(t: &Tune) -> Vec<&'static str> {
    let mut c = vec![
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
    ];
    if t.incidents {
        c.extend(["detected", "time to detect", "false alerts"]);
    }
    c
}

/// Row `i` of the sweep table, one cell per [`columns`] and then per [`receivers`].
pub fn cells(t: &Tune, i: usize, receivers: &[String]) -> Vec<Cell> {
    let r = &t.rows[i];
    let n = |v: usize| Cell {
        text: v.to_string(),
        key: Some(v as f64),
    };
    let d = |ms: i64| Cell {
        text: dur(ms),
        key: Some(ms as f64),
    };
    let none = || Cell {
        text: "-".into(),
        key: None,
    };
    let mut row = vec![
        Cell {
            text: format_value(r.threshold),
            key: Some(r.threshold),
        },
        d(r.for_ms),
        d(r.keep_firing_for_ms),
        n(r.episodes),
        n(r.series),
        d(r.firing_ms),
        d(r.median_episode_ms),
        d(r.p95_episode_ms),
        n(r.refires),
        n(r.peak_concurrent),
    ];
    if t.incidents {
        row.push(r.detected.map_or_else(none, n));
        row.push(r.mean_time_to_detect_ms.map_or_else(none, d));
        row.push(r.false_alerts.map_or_else(none, n));
    }
    for rc in receivers {
        row.push(n(t.notifications[i].get(rc).copied().unwrap_or(0)));
    }
    row
}

pub fn table(t: &Tune) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", t.alert, t.expr);
    let _ = writeln!(
        out,
        "sweeping {} {} <threshold> from {} to {}\n",
        t.lhs_text,
        t.op.as_str(),
        super::dry_run::rfc3339(t.from),
        super::dry_run::rfc3339(t.to)
    );
    let receivers = receivers(t);
    let mut header: Vec<String> = vec![String::new()];
    header.extend(columns(t).iter().map(|s| s.to_string()));
    header.extend(receivers.iter().cloned());
    let rows: Vec<Vec<String>> = (0..t.rows.len())
        .map(|i| {
            let mut mark = String::new();
            if t.rows[i].current {
                mark.push('*');
            }
            if t.budget == Some(i) {
                mark.push_str("budget");
            }
            std::iter::once(mark)
                .chain(cells(t, i, &receivers).into_iter().map(|c| c.text))
                .collect()
        })
        .collect();
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    out.push_str(&table::render(&header_refs, &rows));
    let _ = writeln!(
        out,
        "\n* the rule's current setting{}",
        if t.budget.is_some() {
            "; budget: the most sensitive setting within the alert budget"
        } else {
            ""
        }
    );
    if !receivers.is_empty() {
        let _ = writeln!(
            out,
            "receiver columns: notifications after routing, inhibition and grouping"
        );
    }
    if let Some(d) = t.distribution {
        let _ = writeln!(
            out,
            "\nleft side: min {}  p50 {}  p90 {}  p99 {}  max {}",
            format_value(d[0]),
            format_value(d[1]),
            format_value(d[2]),
            format_value(d[3]),
            format_value(d[4])
        );
        for (name, _, d) in &t.top {
            let _ = writeln!(
                out,
                "  {name}: min {}  p50 {}  p90 {}  p99 {}  max {}",
                format_value(d[0]),
                format_value(d[1]),
                format_value(d[2]),
                format_value(d[3]),
                format_value(d[4])
            );
        }
    } else {
        let _ = writeln!(out, "\nleft side: no data in the window");
    }
    out
}

fn dist_json(d: &[f64; 5]) -> serde_json::Value {
    let f = |x: f64| {
        if x.is_finite() {
            json!(x)
        } else {
            json!(format_value(x))
        }
    };
    json!({"min": f(d[0]), "p50": f(d[1]), "p90": f(d[2]), "p99": f(d[3]), "max": f(d[4])})
}

pub fn json(t: &Tune) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = t
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut o = json!({
                "threshold": r.threshold,
                "for": dur(r.for_ms),
                "keep_firing_for": dur(r.keep_firing_for_ms),
                "episodes": r.episodes,
                "series": r.series,
                "firing_seconds": r.firing_ms / 1000,
                "median_episode_seconds": r.median_episode_ms / 1000,
                "p95_episode_seconds": r.p95_episode_ms / 1000,
                "refires": r.refires,
                "peak_concurrent": r.peak_concurrent,
                "notifications": t.notifications[i],
                "current": r.current,
                "within_budget": t.budget == Some(i),
            });
            if t.incidents {
                o["detected"] = json!(r.detected);
                o["mean_time_to_detect_seconds"] =
                    json!(r.mean_time_to_detect_ms.map(|m| m / 1000));
                o["false_alerts"] = json!(r.false_alerts);
            }
            o
        })
        .collect();
    json!({
        "rule": {"alert": t.alert, "expr": t.expr, "lhs": t.lhs_text, "op": t.op.as_str()},
        "from": super::dry_run::rfc3339(t.from),
        "to": super::dry_run::rfc3339(t.to),
        "rows": rows,
        "lhs": {
            "overall": t.distribution.as_ref().map(dist_json),
            "top_series": t.top.iter().map(|(n, _, d)| json!({"series": n, "distribution": dist_json(d)})).collect::<Vec<_>>(),
        },
    })
}

pub fn csv(t: &Tune) -> String {
    let receivers: Vec<String> = t
        .notifications
        .first()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut out = String::from("threshold,for,keep_firing_for,episodes,series,firing_seconds,median_episode_seconds,p95_episode_seconds,refires,peak_concurrent,current");
    if t.incidents {
        out.push_str(",detected,mean_time_to_detect_seconds,false_alerts");
    }
    for r in &receivers {
        out.push_str(&format!(",notifications_{}", r.replace([',', '"'], "_")));
    }
    out.push('\n');
    for (i, r) in t.rows.iter().enumerate() {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            format_value(r.threshold),
            dur(r.for_ms),
            dur(r.keep_firing_for_ms),
            r.episodes,
            r.series,
            r.firing_ms / 1000,
            r.median_episode_ms / 1000,
            r.p95_episode_ms / 1000,
            r.refires,
            r.peak_concurrent,
            r.current
        );
        if t.incidents {
            let o = |x: Option<i64>| x.map_or(String::new(), |v| v.to_string());
            let _ = write!(
                out,
                ",{},{},{}",
                o(r.detected.map(|d| d as i64)),
                o(r.mean_time_to_detect_ms.map(|m| m / 1000)),
                o(r.false_alerts.map(|d| d as i64))
            );
        }
        for rc in &receivers {
            let _ = write!(out, ",{}", t.notifications[i].get(rc).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    out
}

/// The unit of the left side's values, for the plots' axes.
pub fn unit(t: &Tune) -> Unit {
    Unit::guess(
        &t.lhs_text,
        t.lhs
            .series
            .iter()
            .flat_map(|(_, v)| v.iter().copied().filter_map(present)),
    )
}

/// The plotted series: the left side of the series with the highest values, as points over the window.
pub fn plotted_series(t: &Tune) -> Vec<(String, Vec<(i64, f64)>)> {
    t.top
        .iter()
        .map(|(name, i, _)| {
            let points = t.lhs.series[*i]
                .1
                .iter()
                .enumerate()
                .map(|(k, v)| (t.lhs.time(k), present(*v).unwrap_or(f64::NAN)))
                .collect();
            (name.clone(), points)
        })
        .collect()
}

/// The thresholds swept, each once: the rule's own first, then the others in sweep order.
pub fn thresholds(t: &Tune) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    if let Some(cur) = t.rows.iter().find(|r| r.current) {
        out.push(cur.threshold);
    }
    for r in &t.rows {
        if !out.iter().any(|x| x.to_bits() == r.threshold.to_bits()) {
            out.push(r.threshold);
        }
    }
    out
}

/// The row that stands for a threshold in a plot: the threshold at the rule's own `for` and
/// `keep_firing_for`, else the first swept with it.
pub fn row_for(t: &Tune, threshold: f64) -> Option<&Row> {
    let current = t.rows.iter().find(|r| r.current);
    let with = || {
        t.rows
            .iter()
            .filter(move |r| r.threshold.to_bits() == threshold.to_bits())
    };
    with()
        .find(|r| {
            current.is_some_and(|c| {
                c.for_ms == r.for_ms && c.keep_firing_for_ms == r.keep_firing_for_ms
            })
        })
        .or_else(|| with().next())
}

/// The spans shaded under a row's plot: the known incidents and the row's firing episodes.
pub fn spans(t: &Tune, row: &Row) -> Vec<Span> {
    let mut spans: Vec<Span> = t
        .known_incidents
        .iter()
        .map(|i| Span {
            from: i.start_ms,
            to: i.end_ms,
            kind: SpanKind::Incident,
        })
        .collect();
    spans.extend(row.fired.iter().map(|(_, f, res)| Span {
        from: *f,
        to: res.unwrap_or(t.to),
        kind: SpanKind::Firing,
    }));
    spans
}

/// `tune --plot FILE`: the left side over time for the top series, a line per threshold (the rule's own
/// solid), and the firing spans of the rule's setting (or the first row) shaded, as an SVG file.
pub fn svg(t: &Tune) -> String {
    let thresholds = thresholds(t);
    let main = t.rows.iter().find(|r| r.current).map(|r| r.threshold);
    let shaded = t.rows.iter().find(|r| r.current).or(t.rows.first());
    Plot {
        title: format!("{}: {} {} threshold", t.alert, t.lhs_text, t.op.as_str()),
        unit: unit(t),
        from: t.from,
        to: t.to,
        series: plotted_series(t),
        thresholds: thresholds
            .iter()
            .map(|v| Threshold {
                value: *v,
                label: format!("{} {}", t.op.as_str(), format_value(*v)),
                main: main.is_some_and(|m| m.to_bits() == v.to_bits()),
            })
            .collect(),
        spans: shaded.map(|r| spans(t, r)).unwrap_or_default(),
    }
    .document()
}
