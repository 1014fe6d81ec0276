//! `tune` output: the table of combinations (the rule's own setting marked `*`, the budget pick marked
//! `budget`), the distribution of the left side, JSON and CSV (documented in docs/tune.md), and an SVG plot
//! of the left side over time with the thresholds and firing spans. The result's [`super::Report`] is in
//! `report::tune_html`, which renders the page from these parts.

use crate::promql::value::format_value;
use crate::report::table;
use crate::text::duration::format_duration;
use serde_json::json;
use std::fmt::Write as _;

pub use crate::project::tune::Tuned as Tune;

fn dur(ms: i64) -> String {
    format_duration(ms)
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
    let receivers: Vec<String> = t
        .notifications
        .first()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut header: Vec<String> = [
        "",
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
        header.extend(
            ["detected", "time to detect", "false alerts"]
                .iter()
                .map(|s| s.to_string()),
        );
    }
    header.extend(receivers.iter().cloned());
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut mark = String::new();
            if r.current {
                mark.push('*');
            }
            if t.budget == Some(i) {
                mark.push_str("budget");
            }
            let mut row = vec![
                mark,
                format_value(r.threshold),
                dur(r.for_ms),
                dur(r.keep_firing_for_ms),
                r.episodes.to_string(),
                r.series.to_string(),
                dur(r.firing_ms),
                dur(r.median_episode_ms),
                dur(r.p95_episode_ms),
                r.refires.to_string(),
                r.peak_concurrent.to_string(),
            ];
            if t.incidents {
                row.push(r.detected.map_or("-".into(), |d| d.to_string()));
                row.push(r.mean_time_to_detect_ms.map_or("-".into(), dur));
                row.push(r.false_alerts.map_or("-".into(), |d| d.to_string()));
            }
            for rc in &receivers {
                row.push(t.notifications[i].get(rc).copied().unwrap_or(0).to_string());
            }
            row
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

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The left side over time for the top series, a line per threshold (the current one bold), and the firing
/// spans of the current setting (or the first row) shaded.
pub fn svg(t: &Tune) -> String {
    let lhs = &t.lhs;
    let (w, h) = (1000.0, 480.0);
    let (ml, mr, mt, mb) = (70.0, 20.0, 40.0, 120.0);
    let (pw, ph) = (w - ml - mr, h - mt - mb);
    let x0 = lhs.start_ms as f64;
    let x1 = lhs.time(lhs.n.saturating_sub(1)).max(lhs.start_ms + 1) as f64;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for (_, i, _) in &t.top {
        for v in lhs.series[*i].1.iter().filter(|v| v.is_finite()) {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
    }
    for r in &t.rows {
        if r.threshold.is_finite() {
            lo = lo.min(r.threshold);
            hi = hi.max(r.threshold);
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        lo = 0.0;
        hi = 1.0;
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let sx = |t: f64| ml + (t - x0) / (x1 - x0) * pw;
    let sy = |v: f64| mt + ph - (v.clamp(lo, hi) - lo) / (hi - lo) * ph;
    let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"];
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{ml}" y="22" font-size="15" font-weight="bold">{}: {} {} threshold</text>"#,
        esc(&t.alert),
        esc(&t.lhs_text),
        esc(t.op.as_str())
    );
    // Firing spans of the current (or first) setting.
    if let Some(r) = t.rows.iter().find(|r| r.current).or(t.rows.first()) {
        for (_, f, res) in &r.fired {
            let a = sx(*f as f64);
            let b = sx(res.unwrap_or(lhs.time(lhs.n.saturating_sub(1))) as f64);
            let _ = writeln!(
                s,
                r##"<rect x="{a:.1}" y="{mt}" width="{:.1}" height="{ph}" fill="#d62728" fill-opacity="0.12"/>"##,
                (b - a).max(1.0)
            );
        }
    }
    // Axes and grid.
    let _ = writeln!(
        s,
        r##"<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##
    );
    for i in 0..=4 {
        let v = lo + (hi - lo) * i as f64 / 4.0;
        let y = sy(v);
        let _ = writeln!(
            s,
            r##"<line x1="{ml}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            ml + pw,
            ml - 6.0,
            y + 4.0,
            esc(format!("{:.4}", v)
                .trim_end_matches('0')
                .trim_end_matches('.'))
        );
    }
    for i in 0..=4 {
        let tm = x0 + (x1 - x0) * i as f64 / 4.0;
        let x = sx(tm);
        let label = chrono::DateTime::from_timestamp_millis(tm as i64)
            .map(|d| d.format("%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{mt}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="{anchor}">{}</text>"##,
            mt + ph,
            mt + ph + 16.0,
            esc(&label)
        );
    }
    // Series, downsampled to at most ~2 points per pixel column.
    for (ci, (name, i, _)) in t.top.iter().enumerate() {
        let vals = &lhs.series[*i].1;
        let stride = (vals.len() / (pw as usize * 2)).max(1);
        let mut path = String::new();
        let mut pen_down = false;
        for (k, v) in vals.iter().enumerate().step_by(stride) {
            match Some(*v).filter(|v| v.is_finite()) {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        sx(lhs.time(k) as f64),
                        sy(v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let c = colors[ci % colors.len()];
        let _ = writeln!(
            s,
            r#"<path d="{}" fill="none" stroke="{c}" stroke-width="1.5"/>"#,
            path.trim_end()
        );
        let ly = mt + ph + 36.0 + ci as f64 * 15.0;
        let _ = writeln!(
            s,
            r#"<rect x="{ml}" y="{:.1}" width="14" height="3" fill="{c}"/><text x="{}" y="{:.1}">{}</text>"#,
            ly - 4.0,
            ml + 20.0,
            ly,
            esc(name)
        );
    }
    // Threshold lines.
    let mut seen = Vec::new();
    for r in &t.rows {
        if !r.threshold.is_finite() || seen.contains(&r.threshold.to_bits()) {
            continue;
        }
        seen.push(r.threshold.to_bits());
        let y = sy(r.threshold);
        let current = t
            .rows
            .iter()
            .any(|x| x.current && x.threshold == r.threshold);
        let (sw, dash) = if current {
            (2.0, "")
        } else {
            (1.0, r#" stroke-dasharray="4 3""#)
        };
        let _ = writeln!(
            s,
            r##"<line x1="{ml}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d62728" stroke-width="{sw}"{dash}/><text x="{}" y="{:.1}" fill="#d62728" text-anchor="end">{}</text>"##,
            ml + pw,
            ml + pw - 4.0,
            y - 4.0,
            esc(&format_value(r.threshold))
        );
    }
    s.push_str("</svg>\n");
    s
}
