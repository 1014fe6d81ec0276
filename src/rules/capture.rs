//! A rule unit test written from recorded series (issue #29): the series of an incident as `input_series` in
//! compact expanding notation, and, at chosen times, the alerts the rules fire there (labels and rendered
//! annotations) as the expectation, optionally the recording rules' samples too. The user reviews and commits
//! the file; a later rule change that alters those alerts fails it with the usual diff.
//!
//! The expectations are not computed by a second pipeline: the file is first written with empty
//! expectations and run as `ruletest test` runs it ([`crate::rules::unittest`]); what each check got becomes
//! what it expects. So the written file passes `ruletest test` by construction, and promtool's too where
//! ruletest agrees with promtool.
//!
//! Input: series (already selected and relabelled), rule file paths as the test file names them, the window,
//! the check times. Output: the test file's text.

use crate::load::documents::{load_bytes, Loaded};
use crate::rules::group::Mode;
use crate::rules::unittest::{self, Failure, Options};
use crate::series::histogram::{CounterResetHint, FloatHistogram};
use crate::series::notation::{format_values, SeqValue};
use crate::series::store::is_stale;
use crate::series::Labels;
use crate::text::duration::format_duration;
use std::fmt::Write as _;
use std::sync::Arc;

/// What to capture.
pub struct Capture<'a> {
    /// Where the test file will be written (its directory is where `rule_files` are resolved from).
    pub file: &'a str,
    /// `rule_files` as the test file lists them (relative to its directory, or absolute).
    pub rule_files: &'a [String],
    /// The alerting rules' names to check.
    pub alertnames: &'a [String],
    /// The recording rules' names to check with `promql_expr_test` (empty: none).
    pub recordings: &'a [String],
    /// Input series: labels and samples (Unix ms).
    pub series: &'a [(Labels, Vec<(i64, f64)>)],
    /// Their native histogram samples, by the series' index (shorter than `series`, or empty: none).
    pub histograms: &'a [Vec<(i64, Arc<FloatHistogram>)>],
    /// The window: the test's time 0 and its last sample slot.
    pub from_ms: i64,
    pub to_ms: i64,
    pub interval_ms: i64,
    /// The check times (Unix ms, within the window).
    pub at_ms: &'a [i64],
    /// Keep checks of alerts that fire at none of the times (as "expected silent").
    pub all_alerts: bool,
    pub name: &'a str,
    /// A comment to open the file with (where it came from).
    pub header: &'a str,
}

/// The window's slots and where a sample at `t` goes: the slot at or after it, if that is in the window,
/// and whether `t` is off the grid.
struct Grid {
    from_ms: i64,
    interval_ms: i64,
    slots: usize,
}

impl Grid {
    fn new(from_ms: i64, to_ms: i64, interval_ms: i64) -> Grid {
        let interval_ms = interval_ms.max(1);
        Grid {
            from_ms,
            interval_ms,
            slots: ((to_ms - from_ms) / interval_ms) as usize + 1,
        }
    }

    fn slot(&self, t: i64) -> Option<(usize, bool)> {
        let (from, step) = (self.from_ms, self.interval_ms);
        if t <= from - step || t > from + (self.slots as i64 - 1) * step {
            return None;
        }
        let k = (t - from + step - 1).div_euclid(step).max(0) as usize;
        Some((k, from + k as i64 * step != t))
    }
}

/// Histogram samples on the window's grid, as [`on_grid`] places floats; with how many were off the grid.
pub fn histograms_on_grid(
    samples: &[(i64, Arc<FloatHistogram>)],
    from_ms: i64,
    to_ms: i64,
    interval_ms: i64,
) -> (Vec<Option<Arc<FloatHistogram>>>, usize) {
    let grid = Grid::new(from_ms, to_ms, interval_ms);
    let mut out = vec![None; grid.slots];
    let mut off_grid = 0;
    for (t, h) in samples {
        if let Some((k, off)) = grid.slot(*t) {
            off_grid += usize::from(off);
            out[k] = Some(h.clone());
        }
    }
    while out.last().is_some_and(Option::is_none) {
        out.pop();
    }
    (out, off_grid)
}

/// A series' values as `input_series` writes them: floats in compact notation, each histogram as
/// `{{...}}` (repeats as `{{...}}xN`); a slot with a histogram does not hold a float.
pub fn values_text(floats: &[SeqValue], hists: &[Option<Arc<FloatHistogram>>]) -> String {
    if hists.iter().all(Option::is_none) {
        return format_values(floats);
    }
    let n = floats.len().max(hists.len());
    let hist = |k: usize| hists.get(k).and_then(Option::as_ref);
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < n {
        if let Some(h) = hist(i) {
            let run = (i..n).take_while(|&k| hist(k) == Some(h)).count();
            // Hints come from the store again when the test loads; a gauge says so itself.
            let mut shown = (**h).clone();
            if shown.counter_reset_hint != CounterResetHint::Gauge {
                shown.counter_reset_hint = CounterResetHint::Unknown;
            }
            let text = shown.test_expression();
            tokens.push(if run > 1 {
                format!("{text}x{}", run - 1)
            } else {
                text
            });
            i += run;
        } else {
            let j = (i..n).find(|&k| hist(k).is_some()).unwrap_or(n);
            let part: Vec<SeqValue> = (i..j)
                .map(|k| floats.get(k).copied().unwrap_or(SeqValue::Missing))
                .collect();
            tokens.push(format_values(&part));
            i = j;
        }
    }
    tokens.join(" ")
}

/// `samples` on the window's grid: at each slot, the latest sample in `(slot - interval, slot]` (a stale
/// marker as `stale`), or nothing. Also how many samples were not exactly on a slot.
pub fn on_grid(
    samples: &[(i64, f64)],
    from_ms: i64,
    to_ms: i64,
    interval_ms: i64,
) -> (Vec<SeqValue>, usize) {
    let grid = Grid::new(from_ms, to_ms, interval_ms);
    let mut out = vec![SeqValue::Missing; grid.slots];
    let mut off_grid = 0;
    for &(t, v) in samples {
        let Some((k, off)) = grid.slot(t) else {
            continue;
        };
        off_grid += usize::from(off);
        out[k] = if is_stale(v) {
            SeqValue::Stale
        } else {
            SeqValue::Float(v)
        };
    }
    // Trailing empty slots say nothing.
    while out.last() == Some(&SeqValue::Missing) {
        out.pop();
    }
    (out, off_grid)
}

/// A YAML scalar that reads back as `s` (a JSON string is YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The test file text, with the expectations given (none on the first pass).
fn text(
    c: &Capture<'_>,
    input: &[(String, String)],
    alerts: &[(i64, String, Vec<unittest::AlertView>)],
    samples: &[(i64, String, Vec<unittest::SampleView>)],
) -> String {
    let mut out = String::new();
    for line in c.header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("rule_files:\n");
    for f in c.rule_files {
        let _ = writeln!(out, "  - {}", quoted(f));
    }
    let interval = format_duration(c.interval_ms);
    let _ = writeln!(out, "evaluation_interval: {interval}");
    let _ = writeln!(
        out,
        "tests:\n  - name: {}\n    interval: {interval}\n    input_series:",
        quoted(c.name)
    );
    for (series, values) in input {
        let _ = writeln!(out, "      - series: {series}\n        values: {values}");
    }
    if !alerts.is_empty() {
        out.push_str("    alert_rule_test:\n");
    }
    for (t, name, got) in alerts {
        let _ = writeln!(
            out,
            "      - eval_time: {}\n        alertname: {}",
            format_duration(t - c.from_ms),
            quoted(name)
        );
        if got.is_empty() {
            continue;
        }
        out.push_str("        exp_alerts:\n");
        for a in got {
            let pairs = |m: &std::collections::BTreeMap<String, String>, skip: &str| {
                m.iter()
                    .filter(|(k, _)| k.as_str() != skip)
                    .map(|(k, v)| format!("{}: {}", quoted(k), quoted(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "          - exp_labels: {{{}}}\n            exp_annotations: {{{}}}",
                pairs(&a.labels, "alertname"),
                pairs(&a.annotations, "")
            );
        }
    }
    if !samples.is_empty() {
        out.push_str("    promql_expr_test:\n");
    }
    for (t, expr, got) in samples {
        let _ = writeln!(
            out,
            "      - expr: {}\n        eval_time: {}",
            quoted(expr),
            format_duration(t - c.from_ms)
        );
        if got.is_empty() {
            out.push_str("        exp_samples: []\n");
            continue;
        }
        out.push_str("        exp_samples:\n");
        for s in got {
            match &s.histogram {
                Some(h) => writeln!(
                    out,
                    "          - labels: {}\n            histogram: {}",
                    quoted(&s.labels),
                    quoted(h)
                ),
                None => writeln!(
                    out,
                    "          - labels: {}\n            value: {}",
                    quoted(&s.labels),
                    value(s.value)
                ),
            }
            .ok();
        }
    }
    out
}

/// A sample value as YAML that promtool and ruletest read back exactly.
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:?}")
    }
}

/// A written test file.
pub struct Captured {
    pub text: String,
    /// How many samples were not on a slot of the grid (moved to the next slot, [`on_grid`]).
    pub off_grid: usize,
}

/// Writes the test file: runs it with empty expectations, then expects what each check got.
pub fn write(c: &Capture<'_>) -> Result<Captured, String> {
    // The input series as the file writes them, once for both passes.
    let mut off_grid = 0;
    let input: Vec<(String, String)> = c
        .series
        .iter()
        .enumerate()
        .map(|(k, (labels, samples))| {
            let (values, off) = on_grid(samples, c.from_ms, c.to_ms, c.interval_ms);
            let (hists, hoff) = histograms_on_grid(
                c.histograms.get(k).map_or(&[], Vec::as_slice),
                c.from_ms,
                c.to_ms,
                c.interval_ms,
            );
            off_grid += off + hoff;
            (
                quoted(&labels.to_string()),
                quoted(&values_text(&values, &hists)),
            )
        })
        .collect();
    let mut alerts: Vec<(i64, String, Vec<unittest::AlertView>)> = Vec::new();
    for name in c.alertnames {
        for &t in c.at_ms {
            alerts.push((t, name.clone(), Vec::new()));
        }
    }
    let mut samples: Vec<(i64, String, Vec<unittest::SampleView>)> = Vec::new();
    for name in c.recordings {
        for &t in c.at_ms {
            samples.push((t, name.clone(), Vec::new()));
        }
    }
    let draft = text(c, &input, &alerts, &samples);
    let mut loaded = Loaded::default();
    load_bytes(Arc::from(c.file), draft.as_bytes(), &mut loaded);
    let opts = Options {
        run: Vec::new(),
        mode: Mode::Auto,
        ignore_unknown_fields: false,
        coverage: false,
    };
    let results = unittest::run_loaded(&loaded, &opts);
    let Some(result) = results.first() else {
        return Err("the drafted test file did not load".into());
    };
    if let Some(d) = result
        .diagnostics
        .iter()
        .find(|d| d.severity == crate::diag::Severity::Error)
    {
        return Err(d.message.clone());
    }
    // Each failure names the line of its check: the got side becomes that check's expectation.
    for g in &result.groups {
        for f in &g.failures {
            match f {
                Failure::Alerts { line, got, .. } => {
                    if let Some(k) =
                        check_at(&draft, "    alert_rule_test:", "      - eval_time: ", *line)
                    {
                        alerts[k].2 = got.clone();
                    }
                }
                Failure::Samples { line, got, .. } => {
                    if let Some(k) =
                        check_at(&draft, "    promql_expr_test:", "      - expr: ", *line)
                    {
                        samples[k].2 = got.clone();
                    }
                }
                Failure::RuleEval { rule, message, .. } => {
                    return Err(format!("rule {rule} failed to evaluate: {message}"));
                }
                Failure::Query { expr, message, .. } => {
                    return Err(format!("{expr}: {message}"));
                }
                Failure::Setup { message, .. } => return Err(message.clone()),
                _ => {}
            }
        }
    }
    if !c.all_alerts {
        let fires: std::collections::HashSet<String> = alerts
            .iter()
            .filter(|a| !a.2.is_empty())
            .map(|a| a.1.clone())
            .collect();
        alerts.retain(|a| fires.contains(&a.1));
    }
    Ok(Captured {
        text: text(c, &input, &alerts, &samples),
        off_grid,
    })
}

/// Which check (0-based) of the list under `section` starts on 1-based line `line` of the draft (each item
/// starts with `prefix`).
fn check_at(draft: &str, section: &str, prefix: &str, line: u32) -> Option<usize> {
    let mut inside = false;
    let mut k = 0;
    for (i, l) in draft.lines().enumerate() {
        if l == section {
            inside = true;
            continue;
        }
        if inside && !l.starts_with("      ") {
            inside = false;
        }
        if inside && l.starts_with(prefix) {
            if i as u32 + 1 == line {
                return Some(k);
            }
            k += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_and_floats_share_a_sequence_that_reads_back() {
        use crate::series::histogram::parse_description;
        let h = |t: &str| Some(Arc::new(parse_description(t).unwrap().histogram));
        let a = h("{{schema:0 count:3 sum:2 buckets:[1 2]}}");
        let g = h("{{schema:0 count:1 sum:1 counter_reset_hint:gauge buckets:[1]}}");
        let floats = [
            SeqValue::Float(1.0),
            SeqValue::Float(2.0),
            SeqValue::Missing,
            SeqValue::Missing,
            SeqValue::Missing,
            SeqValue::Missing,
            SeqValue::Float(5.0),
        ];
        let hists = [None, None, a.clone(), a.clone(), a.clone(), g.clone()];
        let text = values_text(&floats, &hists);
        assert_eq!(
            text,
            "1 2 {{count:3 sum:2 buckets:[1 2]}}x2 {{count:1 sum:1 counter_reset_hint:gauge buckets:[1]}} 5"
        );
        let back = crate::series::notation::parse_sequence(&text).unwrap();
        let slots: Vec<u64> = back.histograms.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(slots, vec![2, 3, 4, 5]);
        assert_eq!(back.histograms[1].1.count, 3.0);
        assert_eq!(
            back.histograms[3].1.counter_reset_hint,
            CounterResetHint::Gauge
        );
        // Without histograms the floats are written as before.
        assert_eq!(values_text(&floats, &[]), format_values(&floats));
    }

    #[test]
    fn samples_go_to_the_slot_at_or_after_them() {
        let (v, off) = on_grid(
            &[
                (0, 1.0),
                (60_000, 2.0),
                (150_000, 3.0),
                (240_000, crate::series::store::stale_nan()),
            ],
            0,
            300_000,
            60_000,
        );
        assert_eq!(
            v,
            vec![
                SeqValue::Float(1.0),
                SeqValue::Float(2.0),
                SeqValue::Missing,
                SeqValue::Float(3.0),
                SeqValue::Stale
            ]
        );
        assert_eq!(off, 1);
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Samples on the grid (counters, gauges, repeats, gaps, stale markers) written as the test file writes
        /// them expand back to the same samples.
        #[test]
        fn written_values_expand_back_to_the_samples(
            slots in prop::collection::vec(prop_oneof![
                3 => ((-100i32..100), (0i32..20), 1usize..30).prop_map(|(a, b, n)| {
                    let mut v = f64::from(a);
                    (0..n).map(|i| { if i > 0 { v += f64::from(b) * 0.5; } Some(v) }).collect::<Vec<_>>()
                }),
                1 => (any::<f64>().prop_filter("not the stale marker", |f| !is_stale(*f)), 1usize..4)
                    .prop_map(|(v, n)| vec![Some(v); n]),
                1 => (1usize..4).prop_map(|n| vec![None; n]),
                1 => Just(vec![Some(crate::series::store::stale_nan())]),
            ], 1..12),
            from in -1_000_000i64..1_000_000,
            interval in prop::sample::select(vec![1_000i64, 15_000, 60_000]),
        ) {
            let slots: Vec<Option<f64>> = slots.into_iter().flatten().collect();
            let samples: Vec<(i64, f64)> = slots
                .iter()
                .enumerate()
                .filter_map(|(k, v)| v.map(|v| (from + k as i64 * interval, v)))
                .collect();
            let to = from + slots.len() as i64 * interval;
            let (values, off) = on_grid(&samples, from, to, interval);
            prop_assert_eq!(off, 0);
            let text = format_values(&values);
            let runs = crate::series::notation::parse_runs(&text)
                .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
            let back = crate::series::notation::expand_samples(&runs, from, interval);
            let bits = |s: &[(i64, f64)]| s.iter().map(|&(t, v)| (t, if v.is_nan() && !is_stale(v) { 0 } else { v.to_bits() })).collect::<Vec<_>>();
            prop_assert_eq!(bits(&back.samples), bits(&samples), "{}", text);
        }
    }
}
