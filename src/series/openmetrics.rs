//! Series files in the text exposition formats.
//!
//! Reading: OpenMetrics (ends with `# EOF`; timestamps in seconds with decimals) and the Prometheus text format
//! (no `# EOF`; timestamps in milliseconds). Every sample must carry a timestamp: a fixture is a history, not
//! a scrape. Which format a file is in is [`super::formats`]'s to decide.
//!
//! Writing: OpenMetrics as `promtool tsdb create-blocks-from openmetrics` reads it, so `export` output can be
//! backfilled into a real Prometheus: series grouped by metric name (a family's samples together), each
//! series' samples in time order, timestamps in seconds, `# EOF` last. No `# TYPE` lines: every family is
//! `unknown`, which keeps names such as `x_total` or `x_bucket` exactly as they are.

use super::api_json::{format_float, parse_float};
use super::labels::{is_legacy_name, Labels, METRIC_NAME};
use super::store::{is_stale, SeriesId, Store};
use crate::semantics::{Difference, Semantics};
use std::io::Write;

/// Reads exposition text: OpenMetrics when `openmetrics` (second timestamps, `# EOF` required, nothing
/// after it), else the Prometheus text format (millisecond timestamps).
pub fn load_exposition(text: &str, store: &mut Store, openmetrics: bool) -> Result<(), String> {
    let mut r = ExpositionReader::new(store, openmetrics);
    for (k, raw) in text.lines().enumerate() {
        r.line(k + 1, raw)?;
    }
    r.finish()
}

/// [`load_exposition`] from a reader, a line at a time: the text is never held whole, so a fixture of any
/// size costs its samples (compact in a store with compact history) and one line. A line that is not UTF-8
/// is refused with its number. Errors that are not the text's (a failed read) say so.
pub fn load_exposition_from(
    mut input: impl std::io::BufRead,
    store: &mut Store,
    openmetrics: bool,
) -> Result<(), String> {
    let mut r = ExpositionReader::new(store, openmetrics);
    let mut buf = Vec::with_capacity(256);
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("line {}: cannot read on: {e}", line_no + 1))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let line = std::str::from_utf8(&buf).map_err(|e| {
            format!(
                "line {line_no}: not UTF-8 text (byte {})",
                e.valid_up_to() + 1
            )
        })?;
        r.line(line_no, line)?;
    }
    if !r.content {
        return Err("line 1: the file is empty; a series fixture needs at least one series".into());
    }
    r.finish()
}

/// The exposition formats' reader, fed one line at a time.
struct ExpositionReader<'s> {
    store: &'s mut Store,
    openmetrics: bool,
    seen_eof: bool,
    /// The previous sample line's series text and id.
    last: Option<(String, SeriesId)>,
    normalise: bool,
    float_label: Option<&'static str>,
    /// Whether any line had more than white space.
    content: bool,
}

impl<'s> ExpositionReader<'s> {
    fn new(store: &'s mut Store, openmetrics: bool) -> Self {
        ExpositionReader {
            store,
            openmetrics,
            seen_eof: false,
            last: None,
            // Prometheus 3 writes the `le` of a classic histogram's buckets and the `quantile` of a summary in
            // OpenMetrics form as it scrapes them (`le="1"` is stored as `le="1.0"`); Prometheus 2 keeps them
            // as exposed. The family's type is the last `# TYPE` line's, as Prometheus's text parsers keep it.
            normalise: !Semantics::active().has(Difference::FloatLabelValues),
            float_label: None,
            content: false,
        }
    }

    fn line(&mut self, line_no: usize, raw: &str) -> Result<(), String> {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return Ok(());
        }
        self.content = true;
        if self.seen_eof {
            return Err(format!("line {line_no}: content after \"# EOF\""));
        }
        if trimmed == "# EOF" {
            self.seen_eof = true;
            return Ok(());
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            if self.normalise && words.next() == Some("TYPE") {
                self.float_label = match words.nth(1) {
                    Some("histogram") => Some("le"),
                    Some("summary") => Some("quantile"),
                    _ => None,
                };
                self.last = None;
            }
            return Ok(());
        }
        let at = |e: String| format!("line {line_no}: {e}");
        // Files hold runs of samples of one series: reuse the previous line's series when the text matches,
        // which skips label parsing and the store's lookup for all but the first sample of a run.
        let same = self.last.as_ref().is_some_and(|(prefix, _)| {
            trimmed.starts_with(prefix.as_str())
                && matches!(trimmed.as_bytes().get(prefix.len()), Some(b' ' | b'\t'))
        });
        let (id, end) = match (&self.last, same) {
            (Some((prefix, id)), true) => (*id, prefix.len()),
            _ => {
                let (labels, end) = parse_series_part(trimmed, self.float_label).map_err(at)?;
                let id = self.store.series_id(&labels);
                self.last = Some((trimmed[..end].to_string(), id));
                (id, end)
            }
        };
        let (v, t) = parse_value_part(trimmed, end, self.openmetrics).map_err(at)?;
        // As Prometheus's backfill (`promtool tsdb create-blocks-from openmetrics`) appends them: a series'
        // samples in time order; the same sample twice is ignored, another value at its time refused.
        match self.store.last_float(id) {
            Some((lt, _)) if t < lt => {
                return Err(at(format!(
                    "out of order sample: at {} after the series' sample at {}; a series' samples must \
                     come in time order",
                    format_seconds(t),
                    format_seconds(lt)
                )))
            }
            Some((lt, lv)) if t == lt => {
                if lv.to_bits() == v.to_bits() {
                    return Ok(());
                }
                return Err(at(format!(
                    "duplicate sample for timestamp {}: {} after {}",
                    format_seconds(t),
                    format_float(v),
                    format_float(lv)
                )));
            }
            _ => {}
        }
        self.store.append_id(id, t, v);
        Ok(())
    }

    fn finish(self) -> Result<(), String> {
        if self.openmetrics && !self.seen_eof {
            return Err("OpenMetrics text must end with \"# EOF\"".into());
        }
        Ok(())
    }
}

/// A cursor over one sample line.
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        }
    }
    /// A bare name: `[a-zA-Z_:][a-zA-Z0-9_:]*` (colons only for metric names).
    fn name(&mut self, metric: bool) -> &'a str {
        let start = self.i;
        for (off, c) in self.s[start..].char_indices() {
            let ok = c.is_ascii_alphabetic()
                || c == '_'
                || (metric && c == ':')
                || (off > 0 && c.is_ascii_digit());
            if !ok {
                self.i = start + off;
                return &self.s[start..self.i];
            }
        }
        self.i = self.s.len();
        &self.s[start..]
    }
    /// A double-quoted string with the exposition formats' escapes (`\\`, `\"`, `\n`).
    fn quoted(&mut self) -> Result<String, String> {
        if !self.eat('"') {
            return Err(format!("expected '\"' at column {}", self.i + 1));
        }
        let mut out = String::new();
        let mut chars = self.s[self.i..].char_indices();
        while let Some((off, c)) = chars.next() {
            match c {
                '"' => {
                    self.i += off + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, other)) => {
                        return Err(format!("invalid escape \"\\{other}\" in a quoted string"))
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err("unterminated quoted string".into())
    }
    /// The next space-separated token.
    fn token(&mut self) -> &'a str {
        self.skip_spaces();
        let start = self.i;
        let end = self.s[start..]
            .find([' ', '\t'])
            .map_or(self.s.len(), |o| start + o);
        self.i = end;
        &self.s[start..end]
    }
}

/// Parses `name{labels}` at the start of a sample line; returns the labels and where the series text ends.
/// The value of `float_label`, when it is a float, is written as OpenMetrics writes floats.
fn parse_series_part(line: &str, float_label: Option<&str>) -> Result<(Labels, usize), String> {
    let mut c = Cursor { s: line, i: 0 };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let name = c.name(true);
    if !name.is_empty() {
        pairs.push((METRIC_NAME.to_string(), name.to_string()));
    }
    if c.eat('{') {
        loop {
            c.skip_spaces();
            if c.eat('}') {
                break;
            }
            let label = if c.peek() == Some('"') {
                c.quoted()?
            } else {
                let n = c.name(false);
                if n.is_empty() {
                    return Err(format!("expected a label name at column {}", c.i + 1));
                }
                n.to_string()
            };
            c.skip_spaces();
            if c.eat('=') {
                c.skip_spaces();
                let mut value = c.quoted()?;
                if pairs.iter().any(|(k, _)| *k == label) {
                    return Err(format!("duplicate label {label:?}"));
                }
                if float_label == Some(label.as_str()) {
                    if let Ok(f) = value.parse::<f64>() {
                        value = format_openmetrics_float(f);
                    }
                }
                pairs.push((label, value));
            } else if name.is_empty() && pairs.is_empty() {
                // Prometheus 3's quoted metric name: `{"my.metric", a="b"}`.
                pairs.push((METRIC_NAME.to_string(), label));
            } else {
                return Err(format!("expected '=' after label {label:?}"));
            }
            c.skip_spaces();
            if c.eat(',') {
                continue;
            }
            c.skip_spaces();
            if !c.eat('}') {
                return Err(format!("expected ',' or '}}' at column {}", c.i + 1));
            }
            break;
        }
    }
    if !pairs.iter().any(|(k, _)| k == METRIC_NAME) {
        return Err("a sample needs a metric name".into());
    }
    Ok((Labels::from_pairs(pairs), c.i))
}

/// A float as OpenMetrics writes it in a label value (Prometheus's `labels.FormatOpenMetricsFloat`): Go's
/// shortest `%g`, with `.0` added when that has neither a `.` nor an exponent (`1.0`, `0.25`, `1e+06`, `+Inf`).
pub fn format_openmetrics_float(f: f64) -> String {
    let mut text = crate::text::gofmt::format_float_v(f);
    if f.is_finite() && !text.contains(['e', '.']) {
        text.push_str(".0");
    }
    text
}

/// Parses ` value timestamp [# exemplar]` (what follows the series) into the value and a time in ms.
fn parse_value_part(line: &str, at: usize, openmetrics: bool) -> Result<(f64, i64), String> {
    let mut c = Cursor { s: line, i: at };
    if !matches!(c.peek(), Some(' ' | '\t')) {
        return Err(format!(
            "expected a space and a value after the series at column {}",
            c.i + 1
        ));
    }
    let value_tok = c.token();
    let v = parse_float(value_tok).ok_or_else(|| format!("invalid value {value_tok:?}"))?;
    let ts_tok = c.token();
    if ts_tok.is_empty() || ts_tok == "#" {
        return Err(
            "sample has no timestamp; a series fixture needs one on every sample".to_string(),
        );
    }
    let t = if openmetrics {
        seconds_to_ms(ts_tok)
            .ok_or_else(|| format!("invalid timestamp {ts_tok:?} (OpenMetrics: Unix seconds)"))?
    } else {
        let t = ts_tok.parse::<i64>().map_err(|_| {
            format!("invalid timestamp {ts_tok:?} (Prometheus text format: Unix milliseconds; OpenMetrics files end with \"# EOF\")")
        })?;
        if looks_like_seconds(t) {
            return Err(format!(
                "timestamp {ts_tok} read as Unix milliseconds is in January 1970; it looks like Unix seconds: \
                 end an OpenMetrics file with a \"# EOF\" line, or write milliseconds"
            ));
        }
        t
    };
    let rest = c.token();
    let exemplar = openmetrics && rest == "#";
    if !rest.is_empty() && !exemplar {
        return Err(format!("unexpected {rest:?} after the timestamp"));
    }
    Ok((v, t))
}

/// Unix seconds of 2001-09-09 to 2286 (10 digits) are 11 to 116 days after the epoch when read as
/// milliseconds: no real history sits there, while an OpenMetrics file that lost its `# EOF` line
/// (the only thing telling the formats apart) lands exactly there and would silently move to 1970.
fn looks_like_seconds(t_ms: i64) -> bool {
    (1_000_000_000..10_000_000_000).contains(&t_ms)
}

fn seconds_to_ms(s: &str) -> Option<i64> {
    let f = parse_float(s)?;
    let ms = (f * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.0e15).then_some(ms as i64)
}

/// Why writing OpenMetrics failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("series {0} has no metric name; OpenMetrics cannot hold it")]
    NoMetricName(String),
    #[error("series {0} holds native histogram samples, which OpenMetrics text cannot carry; export it as Prometheus API JSON (`export --json`)")]
    NativeHistogram(String),
}

/// What `write_openmetrics` wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub series: usize,
    pub samples: usize,
    /// Staleness markers left out (OpenMetrics cannot express them).
    pub stale_markers_skipped: usize,
}

/// Writes every series of `store` as OpenMetrics for `promtool tsdb create-blocks-from openmetrics`: series
/// ordered by metric name then labels (so each family's samples are together), samples in time order,
/// timestamps in seconds, `# EOF` at the end. Staleness markers are skipped. Names outside the legacy
/// charset are written quoted (Prometheus 3 reads them; 2.x's parser does not).
pub fn write_openmetrics(store: &Store, out: &mut impl Write) -> Result<WriteSummary, WriteError> {
    let mut series: Vec<_> = store.iter().collect();
    series.sort_by(|a, b| (a.labels.name(), &a.labels).cmp(&(b.labels.name(), &b.labels)));
    let mut sum = WriteSummary::default();
    for s in series {
        if s.labels.name().is_none() {
            return Err(WriteError::NoMetricName(s.labels.to_string()));
        }
        if s.histograms.is_some() {
            return Err(WriteError::NativeHistogram(s.labels.to_string()));
        }
        let prefix = series_text(&s.labels);
        let mut wrote_any = false;
        for &(t, v) in s.samples.iter() {
            if is_stale(v) {
                sum.stale_markers_skipped += 1;
                continue;
            }
            writeln!(out, "{prefix} {} {}", format_float(v), format_seconds(t))?;
            sum.samples += 1;
            wrote_any = true;
        }
        if wrote_any {
            sum.series += 1;
        }
    }
    out.write_all(b"# EOF\n")?;
    Ok(sum)
}

/// `name{a="b",...}` with OpenMetrics escaping; a name outside the legacy charset goes quoted in the braces.
fn series_text(labels: &Labels) -> String {
    let name = labels.name().unwrap_or("");
    let mut parts: Vec<String> = Vec::new();
    let mut out = String::new();
    if is_legacy_name(name, true) {
        out.push_str(name);
    } else {
        parts.push(quote(name));
    }
    for (k, v) in labels.iter().filter(|(k, _)| *k != METRIC_NAME) {
        let key = if is_legacy_name(k, false) {
            k.to_string()
        } else {
            quote(k)
        };
        parts.push(format!("{key}={}", quote(v)));
    }
    if !parts.is_empty() {
        out.push('{');
        out.push_str(&parts.join(","));
        out.push('}');
    }
    out
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '\\' => q.push_str("\\\\"),
            '"' => q.push_str("\\\""),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Milliseconds as seconds with up to three decimals (`1700000000.25`, `-1.5`, `12`).
pub fn format_seconds(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    let a = t.unsigned_abs();
    let (secs, ms) = (a / 1000, a % 1000);
    if ms == 0 {
        format!("{sign}{secs}")
    } else {
        let frac = format!("{ms:03}");
        format!("{sign}{secs}.{}", frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::super::formats::{detect, load_any, Format};
    use super::*;
    use crate::series::store::stale_nan;

    fn l(p: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(p.iter().copied())
    }

    fn samples(s: &Store, labels: &Labels) -> Vec<(i64, f64)> {
        s.iter()
            .find(|x| &x.labels == labels)
            .map(|x| x.samples.to_vec())
            .unwrap_or_default()
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(
            detect("tests:\n  - input_series: []\n"),
            Format::InputSeries
        );
        assert_eq!(
            detect("# c\ninterval: 1m\ninput_series:\n"),
            Format::InputSeries
        );
        assert_eq!(detect("load 1m\n  x 1 2\n"), Format::LoadBlock);
        assert_eq!(detect("x 1 1000\n"), Format::PrometheusText);
        assert_eq!(
            detect("# TYPE x gauge\nx 1 1\n# EOF\n"),
            Format::OpenMetrics
        );
        assert_eq!(detect("{\"status\":\"success\"}"), Format::ApiJson);
        assert_eq!(detect(" [ {\"resultType\": 1} ]"), Format::ApiJson);
        assert_eq!(
            detect("{\"a.b\", x=\"1\"} 1 1000\n"),
            Format::PrometheusText
        );
        assert_eq!(detect("{\"a.b\"} 1 1\n# EOF\n"), Format::OpenMetrics);
    }

    #[test]
    fn prometheus_text_with_ms_timestamps() {
        let text = "# HELP x help\n# TYPE x counter\nx{a=\"b\",c=\"q\\\"\\n\\\\\"} 1.5 1700000000000\nx{a=\"b\",c=\"q\\\"\\n\\\\\"} +Inf 1700000015000\n\ny 2 -5\n";
        let mut s = Store::new();
        assert_eq!(load_any(text, &mut s, 0), Ok(Format::PrometheusText));
        let x = l(&[("__name__", "x"), ("a", "b"), ("c", "q\"\n\\")]);
        assert_eq!(
            samples(&s, &x),
            vec![(1_700_000_000_000, 1.5), (1_700_000_015_000, f64::INFINITY)]
        );
        assert_eq!(samples(&s, &l(&[("__name__", "y")])), vec![(-5, 2.0)]);
    }

    #[test]
    fn openmetrics_floats_in_label_values() {
        // labels.FormatOpenMetricsFloat on each value.
        for (f, want) in [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-1.0, "-1.0"),
            (0.25, "0.25"),
            (10.0, "10.0"),
            (100000.0, "100000.0"),
            (1e6, "1e+06"),
            (1e-5, "1e-05"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_openmetrics_float(f), want, "{f}");
        }
        for text in ["+Inf", "Inf", "inf", "1e3", "0.5"] {
            assert!(text.parse::<f64>().is_ok(), "{text}");
        }
    }

    #[test]
    fn openmetrics_with_second_timestamps_and_exemplars() {
        let text = "# TYPE r counter\nr_total{job=\"a\"} 3 1700000000.25 # {trace_id=\"x\"} 1 1700000000\nr_total{job=\"a\"} 4 1700000001\n{\"odd.name\",\"la.bel\"=\"v\"} NaN 1\n# EOF\n";
        let mut s = Store::new();
        assert_eq!(load_any(text, &mut s, 0), Ok(Format::OpenMetrics));
        let r = l(&[("__name__", "r_total"), ("job", "a")]);
        assert_eq!(
            samples(&s, &r),
            vec![(1_700_000_000_250, 3.0), (1_700_000_001_000, 4.0)]
        );
        let odd = samples(&s, &l(&[("__name__", "odd.name"), ("la.bel", "v")]));
        assert_eq!(odd.len(), 1);
        assert!(odd[0].1.is_nan() && !is_stale(odd[0].1));
    }

    #[test]
    fn exposition_errors_name_the_line() {
        let cases = [
            ("x 1 1000\ny 2\n", "line 2: sample has no timestamp"),
            ("x 1 1000\nx{a=\"b\" 1 2\n", "line 2: expected ',' or '}'"),
            ("x{a=b} 1 2\n", "line 1: expected '\"'"),
            ("x abc 1\n", "line 1: invalid value \"abc\""),
            (
                "x 1 1.5\n",
                "line 1: invalid timestamp \"1.5\" (Prometheus text format",
            ),
            ("x 1 1\n# EOF\nx 2 2\n", "line 3: content after \"# EOF\""),
            ("x{a=\"1\",a=\"2\"} 1 1\n", "line 1: duplicate label \"a\""),
            ("{a=\"1\"} 1 1\n", "line 1: a sample needs a metric name"),
            ("x 1 1 1\n", "line 1: unexpected \"1\" after the timestamp"),
        ];
        for (text, want) in cases {
            let e = load_any(text, &mut Store::new(), 0).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: got {e:?}, want {want:?}");
        }
    }

    #[test]
    fn relative_formats_are_shifted_to_start() {
        let mut s = Store::new();
        let f = load_any("load 1m\n  x 1 2 stale\n", &mut s, 1_000_000).unwrap();
        assert_eq!(f, Format::LoadBlock);
        assert!(f.is_relative());
        let got = samples(&s, &l(&[("__name__", "x")]));
        assert_eq!(&got[..2], &[(1_000_000, 1.0), (1_060_000, 2.0)]);
        assert_eq!(got[2].0, 1_120_000);
        assert!(is_stale(got[2].1));

        let yaml = "tests:\n  - interval: 30s\n    input_series:\n      - series: 'up{job=\"a\"}'\n        values: '1 _ 3'\n";
        let mut s = Store::new();
        assert_eq!(load_any(yaml, &mut s, 5_000), Ok(Format::InputSeries));
        assert_eq!(
            samples(&s, &l(&[("__name__", "up"), ("job", "a")])),
            vec![(5_000, 1.0), (65_000, 3.0)]
        );
        let e = load_any(
            "tests:\n  - input_series:\n      - values: '1'\n",
            &mut Store::new(),
            0,
        )
        .unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
    }

    #[test]
    fn written_openmetrics_groups_families_and_round_trips() {
        let mut s = Store::new();
        let b2 = l(&[("__name__", "b"), ("i", "2")]);
        let a = l(&[("__name__", "a"), ("A", "upper"), ("v", "x\"y\\z\nw")]);
        let b1 = l(&[("__name__", "b"), ("i", "1")]);
        s.add_series(
            b2.clone(),
            vec![(1_000, 1.0), (2_000, stale_nan()), (3_500, 2.5)],
        );
        s.add_series(a.clone(), vec![(-250, 1e-7), (0, 12345678901234567890.0)]);
        s.add_series(b1.clone(), vec![(1_700_000_000_001, -0.5)]);
        let mut buf = Vec::new();
        let sum = write_openmetrics(&s, &mut buf).unwrap();
        assert_eq!(
            sum,
            WriteSummary {
                series: 3,
                samples: 5,
                stale_markers_skipped: 1
            }
        );
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "a{A=\"upper\",v=\"x\\\"y\\\\z\\nw\"} 1e-7 -0.25\n\
             a{A=\"upper\",v=\"x\\\"y\\\\z\\nw\"} 12345678901234567000 0\n\
             b{i=\"1\"} -0.5 1700000000.001\n\
             b{i=\"2\"} 1 1\n\
             b{i=\"2\"} 2.5 3.5\n\
             # EOF\n"
        );
        let mut back = Store::new();
        assert_eq!(load_any(&text, &mut back, 0), Ok(Format::OpenMetrics));
        assert_eq!(samples(&back, &a), samples(&s, &a));
        assert_eq!(samples(&back, &b1), samples(&s, &b1));
        assert_eq!(samples(&back, &b2), vec![(1_000, 1.0), (3_500, 2.5)]);
    }

    #[test]
    fn nameless_series_cannot_be_written() {
        let mut s = Store::new();
        s.add_series(l(&[("job", "x")]), vec![(0, 1.0)]);
        let e = write_openmetrics(&s, &mut Vec::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "series {job=\"x\"} has no metric name; OpenMetrics cannot hold it"
        );
    }

    #[test]
    fn seconds_format() {
        assert_eq!(format_seconds(0), "0");
        assert_eq!(format_seconds(1_500), "1.5");
        assert_eq!(format_seconds(-1_500), "-1.5");
        assert_eq!(format_seconds(-20), "-0.02");
        assert_eq!(format_seconds(1_700_000_000_010), "1700000000.01");
    }

    #[test]
    fn an_empty_file_is_an_error() {
        for text in ["", "\n  \n"] {
            let e = load_any(text, &mut Store::new(), 0).unwrap_err();
            assert!(e.starts_with("line 1: the file is empty"), "{e}");
        }
    }

    #[test]
    fn second_timestamps_without_eof_are_an_error_not_1970() {
        let mut s = Store::new();
        let e = load_any("up 1 1762077600\nup 1 1762077615\n", &mut s, 0).unwrap_err();
        assert!(e.starts_with("line 1: "), "{e}");
        assert!(e.contains("# EOF"), "{e}");
        // Millisecond timestamps (and small synthetic ones) still load.
        assert!(load_any("up 1 1762077600000\ndown 1 15000\n", &mut Store::new(), 0).is_ok());
    }

    fn dump(s: &Store) -> Vec<String> {
        s.iter()
            .map(|x| {
                let bits: Vec<(i64, u64)> =
                    x.samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
                format!("{} {bits:?}", x.labels)
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(100))]

        /// Read as a stream through a small buffer, exposition text loads as it does whole, errors included.
        #[test]
        fn a_stream_loads_what_the_whole_text_loads(
            lines in proptest::collection::vec((0u8..3, -1i64..40, -3i32..1000, proptest::bool::weighted(0.05)), 0..80),
            openmetrics in proptest::bool::ANY,
            capacity in 1usize..64,
            crlf in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            let nl = if crlf { "\r\n" } else { "\n" };
            // Each series' time moves on by the gap drawn (mostly forward; 0 repeats it, -1 goes back).
            let mut now = [0i64; 3];
            for (s, gap, v, comment) in &lines {
                let t = &mut now[*s as usize];
                *t += if *gap < 0 { -1 } else { gap % 3 };
                if *comment {
                    text.push_str(&format!("# TYPE m{s} gauge{nl}"));
                }
                let ts = if openmetrics { format!("{}", *t * 15) } else { format!("{}", *t * 15_000) };
                text.push_str(&format!("m{s}{{a=\"{s}\"}} {} {ts}{nl}", f64::from(*v) / 4.0));
            }
            if openmetrics {
                text.push_str("# EOF\n");
            }
            let mut whole = Store::new();
            let a = load_exposition(&text, &mut whole, openmetrics);
            let mut streamed = Store::with_compact_history();
            let input = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let b = load_exposition_from(input, &mut streamed, openmetrics);
            if lines.is_empty() && !openmetrics {
                proptest::prop_assert!(b.unwrap_err().contains("the file is empty"));
                return Ok(());
            }
            proptest::prop_assert_eq!(&a, &b);
            streamed.set_window(i64::MIN, i64::MAX);
            proptest::prop_assert_eq!(dump(&whole), dump(&streamed));
        }
    }

    #[test]
    fn a_series_samples_come_in_time_order() {
        let e = load_any("up 1 2000\nup 1 1000\n", &mut Store::new(), 0).unwrap_err();
        assert!(
            e.starts_with("line 2: out of order sample: at 1 after the series' sample at 2"),
            "{e}"
        );
        // The same sample twice is ignored, as Prometheus's backfill does; another value at its time is not.
        let mut s = Store::new();
        load_any("up 1 2000\nup 1 2000\n", &mut s, 0).unwrap();
        assert_eq!(*s.get(0).unwrap().samples, vec![(2000, 1.0)]);
        let e = load_any("up 1 2000\nup 2 2000\n", &mut Store::new(), 0).unwrap_err();
        assert!(
            e.starts_with("line 2: duplicate sample for timestamp 2: 2 after 1"),
            "{e}"
        );
        // Other series in between do not matter.
        assert!(load_any("up 1 1000\ndown 1 500\nup 1 2000\n", &mut Store::new(), 0).is_ok());
    }

    #[test]
    fn a_stream_names_the_line_that_is_not_text() {
        let mut bytes = b"up 1 1000\nup 2 2000\n".to_vec();
        bytes.extend_from_slice(b"up{a=\"\xff\"} 3 3000\n");
        let e = load_exposition_from(&bytes[..], &mut Store::new(), false).unwrap_err();
        assert!(e.starts_with("line 3: not UTF-8 text (byte 7)"), "{e}");
        let e = load_exposition_from(&b"\n \n"[..], &mut Store::new(), false).unwrap_err();
        assert!(e.contains("the file is empty"), "{e}");
    }
}
