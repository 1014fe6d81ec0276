//! A time-series plot as inline SVG, for the HTML report: lines per series over a UTC time axis, threshold
//! lines, shaded spans (pending, firing, incidents), a legend, and axes a person can read: ticks at round
//! values (1, 2, 5 × 10^k; round minutes and hours), values in their unit (seconds, bytes, ratios as %).
//!
//! Colours are the Okabe–Ito palette, told apart by colour-blind readers; spans differ in pattern as well
//! as colour. Every string that comes from the user's files or data is escaped.
//!
//! Example: a plot of `rate(errors[5m])` with a threshold of 0.05 and one firing span:
//! `Plot { title, unit: Unit::None, series: vec![("{pod=\"a\"}".into(), points)], thresholds:
//! vec![Threshold { value: 0.05, label: "> 0.05".into(), main: true }], spans: vec![Span { from, to, kind:
//! SpanKind::Firing }] }.svg()`.

use super::html::{escape, PLOT_STYLE};
use std::fmt::Write as _;

/// What the values measure, for the axis and the tick labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    None,
    Seconds,
    Bytes,
    /// A ratio of 0..1, shown as a percentage.
    Ratio,
}

impl Unit {
    /// The unit a query's values are in, as far as its text and values tell: a metric or recorded name
    /// ending in `_seconds` / `_bytes` (or `_ratio`), or a division whose values all lie in 0..1.
    pub fn guess(query: &str, values: impl Iterator<Item = f64>) -> Unit {
        let words: Vec<&str> = query
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .collect();
        let ends = |suffix: &str| {
            words
                .iter()
                .any(|w| w.ends_with(suffix) || w.contains(&format!("{suffix}_")))
        };
        if ends("_ratio") {
            return Unit::Ratio;
        }
        // A quotient of bytes by bytes (memory used over the limit) is a ratio.
        if query.contains('/') {
            let mut any = false;
            let in_unit = values.filter(|v| v.is_finite()).all(|v| {
                any = true;
                (0.0..=1.0).contains(&v)
            });
            if any && in_unit {
                return Unit::Ratio;
            }
        }
        if ends("_seconds") {
            Unit::Seconds
        } else if ends("_bytes") {
            Unit::Bytes
        } else {
            Unit::None
        }
    }

    /// The axis caption's unit.
    pub fn caption(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Seconds => "seconds",
            Unit::Bytes => "bytes",
            Unit::Ratio => "%",
        }
    }

    /// A value as a tick label in this unit: `250ms`, `1.5 GiB`, `12.5%`.
    pub fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return crate::text::gofmt::format_value(v);
        }
        match self {
            Unit::None => short(v),
            Unit::Ratio => format!("{}%", short(v * 100.0)),
            Unit::Seconds => {
                let a = v.abs();
                if a == 0.0 {
                    "0s".into()
                } else if a < 1e-3 {
                    format!("{}µs", short(v * 1e6))
                } else if a < 1.0 {
                    format!("{}ms", short(v * 1e3))
                } else if a < 120.0 {
                    format!("{}s", short(v))
                } else if a < 7200.0 {
                    format!("{}min", short(v / 60.0))
                } else {
                    format!("{}h", short(v / 3600.0))
                }
            }
            Unit::Bytes => {
                let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
                let mut x = v;
                let mut i = 0;
                while x.abs() >= 1024.0 && i + 1 < units.len() {
                    x /= 1024.0;
                    i += 1;
                }
                format!("{} {}", short(x), units[i])
            }
        }
    }
}

/// A number in at most four significant digits, without trailing zeros; SI suffixes from a thousand on.
fn short(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if x != 0.0 && x.abs() < 1e-3 {
        return format!("{x:.1e}");
    }
    let digits = if x.abs() >= 100.0 {
        1
    } else if x.abs() >= 10.0 {
        2
    } else if x.abs() >= 1.0 {
        3
    } else {
        4
    };
    let s = format!("{x:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    let s = if s == "-0" { "0".to_string() } else { s };
    format!("{s}{suffix}")
}

/// Round tick values covering [lo, hi]: about `want` of them at 1, 2 or 5 × 10^k apart.
pub fn value_ticks(lo: f64, hi: f64, want: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / want.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Tick times (Unix ms) at round minutes, hours or days covering [from, to], at most about `want`.
pub fn time_ticks(from: i64, to: i64, want: usize) -> Vec<i64> {
    const MIN: i64 = 60_000;
    let steps = [
        MIN,
        2 * MIN,
        5 * MIN,
        10 * MIN,
        15 * MIN,
        30 * MIN,
        60 * MIN,
        2 * 60 * MIN,
        3 * 60 * MIN,
        6 * 60 * MIN,
        12 * 60 * MIN,
        24 * 60 * MIN,
        2 * 24 * 60 * MIN,
        7 * 24 * 60 * MIN,
        30 * 24 * 60 * MIN,
    ];
    if to <= from {
        return vec![from];
    }
    let step = steps
        .iter()
        .copied()
        .find(|s| (to - from) / s < want.max(1) as i64)
        .unwrap_or(365 * 24 * 60 * MIN);
    let mut t = from.div_euclid(step) * step;
    if t < from {
        t += step;
    }
    let mut out = Vec::new();
    while t <= to {
        out.push(t);
        t += step;
    }
    out
}

/// A tick time's label: the time of day, with the date where the day changes (and on the first tick).
fn time_label(t: i64, prev: Option<i64>) -> String {
    let Some(d) = chrono::DateTime::from_timestamp_millis(t) else {
        return t.to_string();
    };
    let new_day = prev
        .and_then(chrono::DateTime::from_timestamp_millis)
        .is_none_or(|p| p.date_naive() != d.date_naive());
    if new_day {
        d.format("%Y-%m-%d %H:%M").to_string()
    } else {
        d.format("%H:%M").to_string()
    }
}

/// A horizontal line at a threshold.
#[derive(Clone, Debug)]
pub struct Threshold {
    pub value: f64,
    pub label: String,
    /// The rule's own threshold (drawn solid; others dashed).
    pub main: bool,
}

/// What a shaded span means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    Pending,
    Firing,
    Incident,
}

impl SpanKind {
    fn name(self) -> &'static str {
        match self {
            SpanKind::Pending => "pending",
            SpanKind::Firing => "firing",
            SpanKind::Incident => "incident",
        }
    }
}

/// A shaded stretch of time.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub from: i64,
    pub to: i64,
    pub kind: SpanKind,
}

/// A plot of series over time.
#[derive(Clone, Debug)]
pub struct Plot {
    pub title: String,
    pub unit: Unit,
    /// Time range shown (Unix ms).
    pub from: i64,
    pub to: i64,
    /// Name (shown in the legend) and points (Unix ms, value); NaN breaks the line.
    pub series: Vec<(String, Vec<(i64, f64)>)>,
    pub thresholds: Vec<Threshold>,
    pub spans: Vec<Span>,
}

/// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
];

const W: f64 = 900.0;
const PLOT_H: f64 = 260.0;
const ML: f64 = 80.0;
const MR: f64 = 20.0;
const MT: f64 = 30.0;
const AXIS_H: f64 = 44.0;
const LEGEND_ROW: f64 = 16.0;

impl Plot {
    /// The plot as a file of its own (`tune --plot`): the element with its style and a white background,
    /// so that viewers and converters show it as the page does.
    pub fn document(&self) -> String {
        let svg = self.svg();
        let head_end = svg.find('>').map_or(0, |i| i + 1);
        format!(
            "{}<style>{PLOT_STYLE}</style><rect width=\"100%\" height=\"100%\" fill=\"white\"/>{}\n",
            &svg[..head_end],
            &svg[head_end..]
        )
    }

    /// The plot as an `<svg>` element.
    pub fn svg(&self) -> String {
        let pw = W - ML - MR;
        let (x0, x1) = (self.from as f64, self.to.max(self.from + 1) as f64);
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for v in self
            .series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(_, v)| *v))
            .chain(self.thresholds.iter().map(|t| t.value))
            .filter(|v| v.is_finite())
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo < 1e-12 * hi.abs().max(1.0) {
            (lo, hi) = (lo - 0.5 * lo.abs().max(1.0), hi + 0.5 * hi.abs().max(1.0));
        }
        let pad = (hi - lo) * 0.06;
        let (lo, hi) = (
            if lo >= 0.0 && lo - pad < 0.0 {
                0.0
            } else {
                lo - pad
            },
            hi + pad,
        );
        let legend_rows = self.series.len() + usize::from(!self.thresholds.is_empty());
        let kinds: Vec<SpanKind> = [SpanKind::Pending, SpanKind::Firing, SpanKind::Incident]
            .into_iter()
            .filter(|k| self.spans.iter().any(|s| s.kind == *k))
            .collect();
        let legend_rows = legend_rows + usize::from(!kinds.is_empty());
        let h = MT + PLOT_H + AXIS_H + legend_rows as f64 * LEGEND_ROW + 8.0;
        let sx = |t: f64| ML + (t - x0) / (x1 - x0) * pw;
        let sy = |v: f64| MT + PLOT_H - (v.clamp(lo, hi) - lo) / (hi - lo) * PLOT_H;
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{}">"#,
            escape(&self.title)
        );
        let _ = write!(
            s,
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#E69F00\" stroke-width=\"3\"/></pattern></defs>"
        );
        let _ = write!(
            s,
            r#"<text x="{ML}" y="18" class="plot-title">{}</text>"#,
            escape(&self.title)
        );
        // Spans under everything else.
        for sp in &self.spans {
            let a = sx(sp.from.max(self.from) as f64);
            let b = sx(sp.to.min(self.to) as f64);
            let fill = match sp.kind {
                SpanKind::Firing => "fill=\"#D55E00\" fill-opacity=\"0.18\"",
                SpanKind::Pending => "fill=\"url(#hatch)\" fill-opacity=\"0.35\"",
                SpanKind::Incident => "fill=\"#56B4E9\" fill-opacity=\"0.22\"",
            };
            let _ = write!(
                s,
                r#"<rect class="span span-{}" x="{a:.1}" y="{MT}" width="{:.1}" height="{PLOT_H}" {fill}/>"#,
                sp.kind.name(),
                (b - a).max(1.0)
            );
        }
        // Grid and value ticks.
        for v in value_ticks(lo, hi, 5) {
            let y = sy(v);
            let _ = write!(
                s,
                "<line x1=\"{ML}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text>",
                ML + pw,
                ML - 6.0,
                y + 4.0,
                escape(&self.unit.format(v))
            );
        }
        let ticks = time_ticks(self.from, self.to, 7);
        let mut prev = None;
        for t in &ticks {
            let x = sx(*t as f64);
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{MT}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"tick\">{}</text>",
                MT + PLOT_H + 5.0,
                MT + PLOT_H + 18.0,
                escape(&time_label(*t, prev))
            );
            prev = Some(*t);
        }
        let _ = write!(
            s,
            "<rect x=\"{ML}\" y=\"{MT}\" width=\"{pw}\" height=\"{PLOT_H}\" fill=\"none\" stroke=\"#555\"/>"
        );
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="axis">time (UTC)</text>"#,
            ML + pw / 2.0,
            MT + PLOT_H + 36.0
        );
        if !self.unit.caption().is_empty() {
            let _ = write!(
                s,
                r#"<text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle" class="axis">{}</text>"#,
                MT + PLOT_H / 2.0,
                self.unit.caption()
            );
        }
        // Series, at most about two points per pixel column.
        for (i, (_, points)) in self.series.iter().enumerate() {
            let stride = (points.len() / (pw as usize * 2)).max(1);
            let mut d = String::new();
            // Points in the piece being drawn; a piece of one point is drawn as a dot.
            let mut piece = 0usize;
            for (t, v) in points.iter().step_by(stride) {
                if v.is_finite() {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1}",
                        if piece > 0 { 'L' } else { 'M' },
                        sx(*t as f64),
                        sy(*v)
                    );
                    piece += 1;
                } else {
                    if piece == 1 {
                        d.push_str("h0.5");
                    }
                    piece = 0;
                }
            }
            if piece == 1 {
                d.push_str("h0.5");
            }
            let _ = write!(
                s,
                r#"<path class="series" d="{d}" fill="none" stroke="{}" stroke-width="1.6" stroke-linecap="round"/>"#,
                PALETTE[i % PALETTE.len()]
            );
        }
        for t in &self.thresholds {
            let y = sy(t.value);
            let dash = if t.main {
                ""
            } else {
                r#" stroke-dasharray="5 4""#
            };
            let _ = write!(
                s,
                "<line class=\"threshold\" x1=\"{ML}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#D55E00\" stroke-width=\"{}\"{dash}/>",
                ML + pw,
                if t.main { 2 } else { 1 }
            );
        }
        // Legend: one row per entry, below the axis, so nothing overlaps.
        let mut y = MT + PLOT_H + AXIS_H + 10.0;
        for (i, (name, _)) in self.series.iter().enumerate() {
            let _ = write!(
                s,
                r#"<rect x="{ML}" y="{:.1}" width="16" height="3" fill="{}"/><text x="{:.1}" y="{y:.1}" class="legend">{}</text>"#,
                y - 5.0,
                PALETTE[i % PALETTE.len()],
                ML + 22.0,
                escape(name)
            );
            y += LEGEND_ROW;
        }
        if !self.thresholds.is_empty() {
            let labels: Vec<String> = self
                .thresholds
                .iter()
                .map(|t| {
                    format!(
                        "{}{}",
                        t.label,
                        if t.main && self.thresholds.len() > 1 {
                            " (the rule's)"
                        } else {
                            ""
                        }
                    )
                })
                .collect();
            let _ = write!(
                s,
                "<line x1=\"{ML}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#D55E00\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{y:.1}\" class=\"legend\">threshold: {}</text>",
                ML + 16.0,
                y - 4.0,
                y - 4.0,
                ML + 22.0,
                escape(&labels.join(", "))
            );
            y += LEGEND_ROW;
        }
        if !kinds.is_empty() {
            let mut x = ML;
            for k in kinds {
                let fill = match k {
                    SpanKind::Firing => "fill=\"#D55E00\" fill-opacity=\"0.18\"",
                    SpanKind::Pending => "fill=\"url(#hatch)\" fill-opacity=\"0.35\"",
                    SpanKind::Incident => "fill=\"#56B4E9\" fill-opacity=\"0.22\"",
                };
                let _ = write!(
                    s,
                    r##"<rect x="{x:.1}" y="{:.1}" width="16" height="10" {fill} stroke="#999"/><text x="{:.1}" y="{y:.1}" class="legend">{}</text>"##,
                    y - 9.0,
                    x + 22.0,
                    k.name()
                );
                x += 110.0;
            }
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_ticks_are_round() {
        assert_eq!(
            value_ticks(0.0, 1.0, 5),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(value_ticks(3.0, 97.0, 5), [20.0, 40.0, 60.0, 80.0]);
        assert_eq!(value_ticks(1.0, 1.0, 5), [1.0]);
    }

    #[test]
    fn time_ticks_fall_on_round_minutes_and_hours() {
        let h = 3_600_000;
        let base = 1_793_613_600_000; // 2026-11-02T10:00:00Z
        let t = time_ticks(base + 60_000, base + 2 * h, 7);
        assert_eq!(t.first(), Some(&(base + 30 * 60_000)));
        assert!(t.windows(2).all(|w| w[1] - w[0] == 30 * 60_000), "{t:?}");
        assert!(t.len() <= 7);
        assert_eq!(time_label(base, None), "2026-11-02 10:00");
        assert_eq!(time_label(base + h, Some(base)), "11:00");
        assert_eq!(time_label(base + 24 * h, Some(base)), "2026-11-03 10:00");
    }

    #[test]
    fn units_read_as_a_person_reads_them() {
        assert_eq!(Unit::Seconds.format(0.25), "250ms");
        assert_eq!(Unit::Seconds.format(90.0), "90s");
        assert_eq!(Unit::Seconds.format(600.0), "10min");
        assert_eq!(
            Unit::Bytes.format(1.5 * 1024.0 * 1024.0 * 1024.0),
            "1.5 GiB"
        );
        assert_eq!(Unit::Ratio.format(0.125), "12.5%");
        assert_eq!(Unit::None.format(12_345.0), "12.35k");
        assert_eq!(Unit::None.format(0.0), "0");
        let vals = || [0.1, 0.5].into_iter();
        assert_eq!(
            Unit::guess(
                "sum(rate(http_request_duration_seconds_sum[5m]))",
                [3.0].into_iter()
            ),
            Unit::Seconds
        );
        assert_eq!(
            Unit::guess(
                "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
                vals()
            ),
            Unit::Ratio
        );
        assert_eq!(
            Unit::guess("container_memory_usage_bytes", vals()),
            Unit::Bytes
        );
        assert_eq!(Unit::guess("up", vals()), Unit::None);
    }

    #[test]
    fn the_plot_escapes_what_it_is_given_and_draws_each_part() {
        let plot = Plot {
            title: "<script>alert(1)</script>".into(),
            unit: Unit::Ratio,
            from: 0,
            to: 600_000,
            series: vec![(
                "{pod=\"<b>\"}".into(),
                vec![(0, 0.1), (60_000, f64::NAN), (120_000, 0.5), (180_000, 0.6)],
            )],
            thresholds: vec![Threshold {
                value: 0.5,
                label: "> 0.5".into(),
                main: true,
            }],
            spans: vec![Span {
                from: 120_000,
                to: 300_000,
                kind: SpanKind::Firing,
            }],
        };
        let svg = plot.svg();
        assert!(!svg.contains("<script>") && !svg.contains("<b>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("{pod=&quot;&lt;b&gt;&quot;}"));
        // The NaN breaks the line: two pieces.
        let d = svg.split("class=\"series\" d=\"").nth(1).unwrap();
        let d = &d[..d.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(svg.matches("class=\"threshold\"").count(), 1);
        assert_eq!(svg.matches("class=\"span span-firing\"").count(), 1);
        assert!(svg.contains(">time (UTC)<") && svg.contains(">%<"));
        assert!(svg.contains(">40%<"), "{svg}");
        // The lone first point is a dot, not nothing.
        assert!(d.starts_with("M80.0,276.1h0.5M"), "{d}");
    }
}
