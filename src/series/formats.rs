//! Which format a series file is in, and the one entry point that reads any of them: a promtool test file's
//! `input_series`, a `.test`-style `load` block ([`super::fixture`]), OpenMetrics and the Prometheus text
//! format ([`super::openmetrics`]), and Prometheus HTTP API JSON ([`super::api_json`]), so `dry-run --series`
//! and `export` take whatever the user has. It sits above the readers: none of them decides formats.

use super::api_json::load_api_json;
use super::fixture::{load_fixture_from, Start};
use super::openmetrics::load_exposition;
use super::store::Store;

/// The fixture format `load_any` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A promtool test file's `input_series` (times relative to 0).
    InputSeries,
    /// A `.test`-style `load <interval>` block (times relative to 0).
    LoadBlock,
    /// Prometheus text exposition with millisecond timestamps (absolute).
    PrometheusText,
    /// OpenMetrics text with second timestamps, ending in `# EOF` (absolute).
    OpenMetrics,
    /// Prometheus HTTP API JSON (absolute).
    ApiJson,
}

impl Format {
    /// Whether the format's times count from 0, so `load_any` shifts them to its `start_ms`.
    pub fn is_relative(self) -> bool {
        matches!(self, Format::InputSeries | Format::LoadBlock)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::InputSeries => "promtool input_series",
            Format::LoadBlock => "load block",
            Format::PrometheusText => "Prometheus text exposition",
            Format::OpenMetrics => "OpenMetrics",
            Format::ApiJson => "Prometheus API JSON",
        }
    }
}

/// Keys that begin a promtool test file (or a bare `input_series` map); a first line starting with one of
/// them means YAML, not exposition text.
const YAML_KEYS: [&str; 7] = [
    "tests:",
    "input_series:",
    "interval:",
    "rule_files:",
    "evaluation_interval:",
    "group_eval_order:",
    "---",
];

/// Decides a fixture's format from its content.
pub fn detect(text: &str) -> Format {
    let meaningful = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && (!l.starts_with('#') || l.starts_with("# EOF")));
    let first = meaningful.unwrap_or("");
    if first.starts_with('[') || (first.starts_with('{') && looks_like_json(text)) {
        return Format::ApiJson;
    }
    let lines = || text.lines().map(str::trim);
    if YAML_KEYS.iter().any(|k| first.starts_with(k))
        || lines().any(|l| l.trim_start_matches("- ").starts_with("input_series:"))
    {
        return Format::InputSeries;
    }
    if lines().any(|l| l == "load" || l.starts_with("load ")) {
        return Format::LoadBlock;
    }
    if lines().any(|l| l == "# EOF") {
        Format::OpenMetrics
    } else {
        Format::PrometheusText
    }
}

/// A `{` first can also be a Prometheus 3 sample with a quoted metric name (`{"a.b"} 1 2`): JSON objects
/// start with a quoted key followed by a colon.
fn looks_like_json(text: &str) -> bool {
    let t = text.trim_start().trim_start_matches('{').trim_start();
    if !t.starts_with('"') {
        return t.starts_with('}');
    }
    let mut escaped = false;
    for (i, c) in t.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return t[i + 1..].trim_start().starts_with(':'),
            _ => escaped = false,
        }
    }
    false
}

/// Reads any fixture format into `store`, deciding by content, and returns the format found. Formats with
/// relative times (input_series, load blocks) are shifted so their time 0 lands on `start_ms`; the others
/// carry absolute timestamps and are loaded as they are. Errors name the line (or JSON path) at fault.
pub fn load_any(text: &str, store: &mut Store, start_ms: i64) -> Result<Format, String> {
    load_any_from(text, store, Start::At(start_ms))
}

/// [`load_any`] with time 0 of a relative fixture where `start` says (its own `start_timestamp`, read as
/// the series are read, or the caller's time).
pub fn load_any_from(text: &str, store: &mut Store, start: Start) -> Result<Format, String> {
    // An empty file (a failed download, a truncated copy) would otherwise load as "no series" and make every
    // alert look silent.
    if text.trim().is_empty() {
        return Err("line 1: the file is empty; a series fixture needs at least one series".into());
    }
    let format = detect(text);
    match format {
        Format::InputSeries | Format::LoadBlock => {
            load_fixture_from(text, store, start).map_err(|e| e.to_string())?;
        }
        Format::ApiJson => {
            load_api_json(text, store).map_err(|e| e.to_string())?;
        }
        Format::OpenMetrics | Format::PrometheusText => {
            load_exposition(text, store, format == Format::OpenMetrics)?;
        }
    }
    Ok(format)
}
