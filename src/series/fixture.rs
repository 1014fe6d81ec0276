//! Fixture files that fill a [`Store`]: a promtool test file's `input_series` (YAML with optional
//! `interval`, default 1m) or a `.test`-style `load <interval>` block. Samples start at time 0, one per
//! interval.

use super::notation::{parse_sequence, parse_series_descriptor, parse_series_sequence};
use super::store::Store;
use crate::text::duration::parse_duration;
use crate::text::yaml::{parse_stream, Node};

/// Why a fixture could not be read; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FixtureError {
    pub line: usize,
    pub message: String,
}

fn ferr(line: usize, message: impl Into<String>) -> FixtureError {
    FixtureError {
        line,
        message: message.into(),
    }
}

/// Reads either fixture form, deciding by content: a `load` line means the `.test` form.
pub fn load_fixture(text: &str, store: &mut Store) -> Result<(), FixtureError> {
    load_fixture_at(text, store, 0)
}

/// Where time 0 of a fixture with relative times lands.
#[derive(Clone, Copy, Debug)]
pub enum Start {
    /// At the fixture's `start_timestamp`, or here when it has none.
    FixtureOr(i64),
    /// Here, whatever the fixture says (`export --start`).
    At(i64),
}

/// [`load_fixture`] with the fixture's time 0 at `start` (ms).
pub fn load_fixture_at(text: &str, store: &mut Store, start: i64) -> Result<(), FixtureError> {
    load_fixture_from(text, store, Start::At(start))
}

/// [`load_fixture`] with time 0 where `start` says: an input_series file's own `start_timestamp` is read
/// from the tree the series are read from (the YAML is parsed once).
pub fn load_fixture_from(text: &str, store: &mut Store, start: Start) -> Result<(), FixtureError> {
    let is_test_form = text
        .lines()
        .map(str::trim)
        .any(|l| l.starts_with("load ") || l == "load");
    if is_test_form {
        let start = match start {
            Start::FixtureOr(t) | Start::At(t) => t,
        };
        return load_block_at(text, store, start);
    }
    load_input_series_at(text, store, start)
}

/// Reads `load <interval>` blocks followed by `<series> <values>` lines.
pub fn load_block(text: &str, store: &mut Store) -> Result<(), FixtureError> {
    load_block_at(text, store, 0)
}

fn load_block_at(text: &str, store: &mut Store, start: i64) -> Result<(), FixtureError> {
    let mut interval: Option<i64> = None;
    for (k, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(rest) = l.strip_prefix("load") {
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                interval = Some(parse_duration(rest.trim()).map_err(|e| ferr(k + 1, e))?);
                continue;
            }
        }
        let iv =
            interval.ok_or_else(|| ferr(k + 1, "expected \"load <interval>\" before series"))?;
        let (labels, seq) = parse_series_sequence(l).map_err(|e| ferr(k + 1, e.to_string()))?;
        let id = store.series_id(&labels);
        seq.append_to(store, id, start, iv);
    }
    Ok(())
}

fn node_line(n: &Node) -> usize {
    n.pos.line as usize
}

/// Reads a promtool test file's `input_series` (the first test group's, or a top-level one).
pub fn load_input_series(text: &str, store: &mut Store) -> Result<(), FixtureError> {
    load_input_series_at(text, store, Start::At(0))
}

fn load_input_series_at(text: &str, store: &mut Store, start: Start) -> Result<(), FixtureError> {
    let stream = parse_stream(text).map_err(|e| ferr(e.pos.line as usize, e.message))?;
    let root = stream
        .documents
        .first()
        .map(|d| &d.root)
        .ok_or_else(|| ferr(1, "empty fixture file"))?;
    let start = match start {
        Start::FixtureOr(from) => root
            .get("start_timestamp")
            .and_then(|n| n.as_str())
            .and_then(crate::text::time::parse_timestamp)
            .unwrap_or(from),
        Start::At(t) => t,
    };
    // Accept a promtool test file (tests[0]) or a bare {interval, input_series} map.
    let group = match root
        .get("tests")
        .and_then(|t| t.as_seq())
        .and_then(|s| s.first())
    {
        Some(g) => g,
        None => root,
    };
    let interval = match group
        .get("interval")
        .or_else(|| root.get("evaluation_interval"))
    {
        Some(n) => {
            let s = n
                .as_str()
                .ok_or_else(|| ferr(node_line(n), "interval must be a duration"))?;
            parse_duration(s).map_err(|e| ferr(node_line(n), e))?
        }
        None => 60_000,
    };
    let series = group
        .get("input_series")
        .and_then(|s| s.as_seq())
        .ok_or_else(|| {
            ferr(
                node_line(group),
                "no input_series found (expected a promtool test file or a `load` block)",
            )
        })?;
    for item in series {
        let line = node_line(item);
        let desc = item
            .get("series")
            .and_then(|n| n.as_str())
            .ok_or_else(|| ferr(line, "input_series item needs a \"series\" string"))?;
        let labels = parse_series_descriptor(desc)
            .map_err(|e| ferr(line, format!("series {desc:?}: {e}")))?;
        let values = item.get("values").and_then(|n| n.as_str()).unwrap_or("");
        let seq =
            parse_sequence(values).map_err(|e| ferr(line, format!("values {values:?}: {e}")))?;
        let id = store.series_id(&labels);
        seq.append_to(store, id, start, interval);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_series_yaml() {
        let text = "tests:\n  - interval: 30s\n    input_series:\n      - series: 'up{job=\"a\"}'\n        values: '1 _ 3 stale'\n";
        let mut s = Store::new();
        load_fixture(text, &mut s).unwrap();
        let ser = s.get(0).unwrap();
        assert_eq!(ser.samples.len(), 3);
        assert_eq!(ser.samples[1], (60_000, 3.0));
        assert!(super::super::is_stale(ser.samples[2].1));
    }

    #[test]
    fn both_forms_read_native_histograms() {
        for text in [
            "load 1m\n  h {{schema:0 count:2 buckets:[1 1]}}x1 3\n",
            "input_series:\n  - series: h\n    values: '{{schema:0 count:2 buckets:[1 1]}}x1 3'\n",
        ] {
            let mut s = Store::new();
            load_fixture(text, &mut s).unwrap();
            let ser = s.get(0).unwrap();
            assert_eq!(*ser.samples, vec![(120_000, 3.0)], "{text}");
            let hs: Vec<(i64, f64)> = ser
                .visible_histograms()
                .iter()
                .map(|(t, h)| (*t, h.count))
                .collect();
            assert_eq!(hs, vec![(0, 2.0), (60_000, 2.0)], "{text}");
        }
    }

    #[test]
    fn load_block_form() {
        let mut s = Store::new();
        load_fixture("load 1m\n  x 0+1x2\n", &mut s).unwrap();
        assert_eq!(
            *s.get(0).unwrap().samples,
            vec![(0, 0.0), (60_000, 1.0), (120_000, 2.0)]
        );
        let e = load_fixture("load 1m\n  x 1 bogus\n", &mut Store::new()).unwrap_err();
        assert_eq!(e.line, 2);
    }
}
