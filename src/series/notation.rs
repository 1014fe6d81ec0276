//! promtool's series notation, used by rule unit tests (`input_series`) and the `.test` engine scripts:
//! a series descriptor (`metric{a="b"}`, `{"metric.name", "a.b"="c"}`) and a value sequence (`1 2 3`,
//! `0+10x5`, `1-1x3`, `5x2`, `_`, `_x3`, `stale`, `Inf`, `NaN`, `0x1F`, `5m` read as 300).

use super::histogram::{parse_sequence_item, FloatHistogram};
use super::labels::{Labels, LabelsBuilder, METRIC_NAME};
use super::number::parse_number;
use super::store::{stale_nan, SeriesId, Store};
use std::sync::Arc;

/// One slot in a value sequence, one per interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SeqValue {
    /// A float sample (may be NaN, never the stale marker).
    Float(f64),
    /// A staleness marker.
    Stale,
    /// No sample at this slot (`_`).
    Missing,
}

/// A run of consecutive slots, as one item of a value sequence gives them (`0+10x5` is six floats).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Run {
    /// `count` floats: `first`, then each `step` more than the one before (added, not multiplied, so the
    /// rounding matches Prometheus's).
    Floats { first: f64, step: f64, count: u64 },
    /// Staleness markers.
    Stale(u64),
    /// Empty slots (`_`).
    Missing(u64),
}

impl Run {
    /// How many slots the run covers.
    pub fn len(&self) -> u64 {
        match *self {
            Run::Floats { count, .. } => count,
            Run::Stale(n) | Run::Missing(n) => n,
        }
    }

    /// Whether the run covers no slot.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A notation error at a 1-based column of the text given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct NotationError {
    pub column: usize,
    pub message: String,
}

fn err(column: usize, message: impl Into<String>) -> NotationError {
    NotationError {
        column,
        message: message.into(),
    }
}

/// Splits `a+b` / `a-b` into (a, sign*b); None when there is no such operator.
fn split_increment(head: &str) -> Option<(&str, &str, f64)> {
    let b = head.as_bytes();
    for i in 1..b.len() {
        if (b[i] == b'+' || b[i] == b'-') && !matches!(b[i - 1], b'e' | b'E' | b'+' | b'-') {
            let sign = if b[i] == b'-' { -1.0 } else { 1.0 };
            return Some((&head[..i], &head[i + 1..], sign));
        }
    }
    None
}

/// Most slots one value sequence may expand to. promtool has no limit and runs out of memory on
/// `_x99999999999`; ten million one-minute samples are 19 years, more than any test needs.
pub const MAX_SEQUENCE_LEN: usize = 10_000_000;

fn parse_count(s: &str, col: usize) -> Result<u64, NotationError> {
    s.parse::<u64>()
        .map_err(|_| err(col, format!("invalid repetition count {s:?}")))
}

fn parse_item(tok: &str, col: usize) -> Result<Run, NotationError> {
    if tok == "_" {
        return Ok(Run::Missing(1));
    }
    if let Some(n) = tok.strip_prefix("_x") {
        let n = parse_count(n, col)?;
        return Ok(Run::Missing(n));
    }
    if tok == "stale" {
        return Ok(Run::Stale(1));
    }
    // `0x10` is "0 repeated", not hex, as in Prometheus's series lexer; hex is read only when the text
    // after the last `x` is not a repetition count.
    let repetition = tok.rfind('x').is_some_and(|p| {
        p > 0 && p + 1 < tok.len() && tok[p + 1..].bytes().all(|b| b.is_ascii_digit())
    });
    if !repetition {
        if let Some(v) = parse_number(tok) {
            return Ok(Run::Floats {
                first: v,
                step: 0.0,
                count: 1,
            });
        }
    }
    let Some(xpos) = tok.rfind('x') else {
        return Err(err(col, format!("invalid value {tok:?}")));
    };
    let (head, count) = (&tok[..xpos], &tok[xpos + 1..]);
    let n = parse_count(count, col + xpos + 1)?;
    if head == "stale" {
        return Ok(Run::Stale(n.saturating_add(1)));
    }
    let (first, step) = if let Some(v) = parse_number(head) {
        (v, 0.0)
    } else if let Some((a, b, sign)) = split_increment(head) {
        let a = parse_number(a).ok_or_else(|| err(col, format!("invalid value {a:?}")))?;
        let b = parse_number(b)
            .ok_or_else(|| err(col + head.len() - b.len(), format!("invalid value {b:?}")))?;
        (a, sign * b)
    } else {
        return Err(err(col, format!("invalid value {head:?}")));
    };
    Ok(Run::Floats {
        first,
        step,
        count: n.saturating_add(1),
    })
}

/// Writes a value sequence in the notation [`parse_values`] reads back to the same values: runs of equal
/// values as `vxN`, `_xN` and `stalexN`, three or more values that step by the same amount as `a+bxN` or
/// `a-bxN` (when adding the step reproduces each value exactly, as expanding it does); floats in their
/// shortest round-trip form, `Inf`, `-Inf`, `NaN`. promtool reads the same text.
pub fn format_values(values: &[SeqValue]) -> String {
    fn same(a: &SeqValue, b: &SeqValue) -> bool {
        match (a, b) {
            (SeqValue::Float(x), SeqValue::Float(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            _ => a == b,
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        if let Some((text, n)) = arithmetic_run(&values[i..]) {
            out.push(text);
            i += n;
            continue;
        }
        let v = &values[i];
        // A run `vxN` is expanded by adding 0 N times, which turns -0 into 0 (as in promtool): -0 repeats
        // one by one.
        let run = match v {
            SeqValue::Float(f) if *f == 0.0 && f.is_sign_negative() => 1,
            _ => values[i..].iter().take_while(|w| same(v, w)).count(),
        };
        let tok = match v {
            SeqValue::Missing => "_".to_string(),
            SeqValue::Stale => "stale".to_string(),
            SeqValue::Float(f) if f.is_nan() => "NaN".to_string(),
            SeqValue::Float(f) if *f == f64::INFINITY => "Inf".to_string(),
            SeqValue::Float(f) if *f == f64::NEG_INFINITY => "-Inf".to_string(),
            SeqValue::Float(f) => number(*f),
        };
        // `_xN` is N missing slots; `vxN` and `stalexN` are N+1 values.
        match (v, run) {
            (_, 1) => out.push(tok),
            (SeqValue::Missing, n) => out.push(format!("_x{n}")),
            (_, n) => out.push(format!("{tok}x{}", n - 1)),
        }
        i += run;
    }
    out.join(" ")
}

/// A finite float as the notation writes it: whole numbers without a fraction (`10`), others in their shortest
/// round-trip form (`{:?}` keeps `-0.0` and writes exponents, `1e300`, that the parser reads back exactly).
fn number(f: f64) -> String {
    if f == f.trunc() && f.abs() < 1e15 && !(f == 0.0 && f.is_sign_negative()) {
        format!("{}", f as i64)
    } else {
        format!("{f:?}")
    }
}

/// The longest run of three or more floats at the start of `values` that `a+bxN` (or `a-bxN`) expands back to
/// exactly, with its text and length. Both numbers are written without an exponent, which promtool's lexer
/// would split; equal values are left to `vxN`.
fn arithmetic_run(values: &[SeqValue]) -> Option<(String, usize)> {
    let (SeqValue::Float(a), Some(SeqValue::Float(b))) = (*values.first()?, values.get(1).copied())
    else {
        return None;
    };
    let step = b - a;
    if !a.is_finite() || !step.is_finite() || step == 0.0 {
        return None;
    }
    let (first, by) = (number(a), number(step.abs()));
    if first.contains('e') || by.contains('e') {
        return None;
    }
    let mut acc = a;
    let mut n = 1;
    for v in &values[1..] {
        acc += step;
        match v {
            SeqValue::Float(f) if f.to_bits() == acc.to_bits() => n += 1,
            _ => break,
        }
    }
    let sign = if step > 0.0 { '+' } else { '-' };
    (n >= 3).then(|| (format!("{first}{sign}{by}x{}", n - 1), n))
}

/// Refuses a run that would take the sequence, already `have` slots long, past [`MAX_SEQUENCE_LEN`].
fn check_len(have: u64, run: &Run, col: usize) -> Result<(), NotationError> {
    if run.len() > (MAX_SEQUENCE_LEN as u64).saturating_sub(have) {
        return Err(err(
            col,
            format!("value sequence longer than {MAX_SEQUENCE_LEN} samples"),
        ));
    }
    Ok(())
}

/// A value sequence that may hold native histogram samples: the float runs, with each histogram's slot left
/// empty there (so float-only sequences load exactly as before), and the histograms by slot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sequence {
    pub runs: Vec<Run>,
    /// (slot, histogram, whether the notation set its counter-reset hint), slots increasing.
    pub histograms: Vec<(u64, Arc<FloatHistogram>, bool)>,
}

impl Sequence {
    /// Adds the samples to series `id`, the first slot at `start` (ms), one slot every `interval`.
    pub fn append_to(&self, store: &mut Store, id: SeriesId, start: i64, interval: i64) {
        expand_samples(&self.runs, start, interval).append_to(store, id);
        self.append_histograms_to(store, id, start, interval);
    }

    /// Adds only the histogram samples (for a caller that expanded the float runs itself).
    pub fn append_histograms_to(&self, store: &mut Store, id: SeriesId, start: i64, interval: i64) {
        for (slot, h, _) in &self.histograms {
            let t = start.saturating_add((*slot as i64).saturating_mul(interval));
            store.append_histogram_id(id, t, Arc::clone(h));
        }
    }
}

/// The tokens of a value sequence with their 0-based byte offsets: split at whitespace, except inside a
/// histogram's `{{...}}`.
fn tokens(text: &str) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0usize;
        while i < b.len() && (depth > 0 || !b[i].is_ascii_whitespace()) {
            if b[i..].starts_with(b"{{") {
                depth += 1;
                i += 2;
            } else if depth > 0 && b[i..].starts_with(b"}}") {
                depth -= 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        out.push((start, &text[start..i]));
    }
    out
}

/// Parses a value sequence that may hold native histograms (`{{...}}`, `{{...}}xN`, `{{a}}+{{b}}xN`,
/// `{{a}}-{{b}}xN`) beside the float items. Errors carry the 1-based column within `text`.
pub fn parse_sequence(text: &str) -> Result<Sequence, NotationError> {
    let mut out = Sequence::default();
    let mut slots: u64 = 0;
    for (pos, tok) in tokens(text) {
        let col = pos + 1;
        let run = if tok.starts_with("{{") {
            let hs = parse_sequence_item(tok).map_err(|m| err(col, m))?;
            let run = Run::Missing(hs.len() as u64);
            check_len(slots, &run, col)?;
            for (k, d) in hs.into_iter().enumerate() {
                out.histograms
                    .push((slots + k as u64, Arc::new(d.histogram), d.hint_set));
            }
            run
        } else {
            let run = parse_item(tok, col)?;
            // A typo such as `_x99999999999` must not exhaust memory.
            check_len(slots, &run, col)?;
            run
        };
        slots += run.len();
        match (out.runs.last_mut(), run) {
            (Some(Run::Missing(a)), Run::Missing(b)) => *a += b,
            _ => out.runs.push(run),
        }
    }
    Ok(out)
}

/// Parses a value sequence of floats into runs. Errors carry the 1-based column within `text`.
pub fn parse_runs(text: &str) -> Result<Vec<Run>, NotationError> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut slots: u64 = 0;
    for tok in text.split(|c: char| c.is_whitespace()) {
        if !tok.is_empty() {
            if tok.starts_with("{{") {
                return Err(err(
                    pos + 1,
                    "native histogram samples are not supported here",
                ));
            }
            let run = parse_item(tok, pos + 1)?;
            // A typo such as `_x99999999999` must not exhaust memory.
            check_len(slots, &run, pos + 1)?;
            slots += run.len();
            out.push(run);
        }
        pos += tok.len() + 1;
    }
    Ok(out)
}

/// Parses a value sequence, one [`SeqValue`] per slot. Errors carry the 1-based column within `text`.
pub fn parse_values(text: &str) -> Result<Vec<SeqValue>, NotationError> {
    let runs = parse_runs(text)?;
    let mut out = Vec::with_capacity(runs.iter().map(|r| r.len() as usize).sum());
    for run in runs {
        match run {
            Run::Missing(n) => out.extend(std::iter::repeat_n(SeqValue::Missing, n as usize)),
            Run::Stale(n) => out.extend(std::iter::repeat_n(SeqValue::Stale, n as usize)),
            Run::Floats { first, step, count } => {
                let mut v = first;
                for i in 0..count {
                    if i > 0 {
                        v += step;
                    }
                    out.push(SeqValue::Float(v));
                }
            }
        }
    }
    Ok(out)
}

/// The samples of a value sequence whose first slot is at `start` (ms), one slot every `interval` (> 0):
/// missing slots are left out, stale ones carry the staleness marker. Allocates once.
pub fn expand_samples(runs: &[Run], start: i64, interval: i64) -> Expanded {
    let total: u64 = runs
        .iter()
        .map(|r| match r {
            Run::Missing(_) => 0,
            _ => r.len(),
        })
        .sum();
    let mut samples = Vec::with_capacity(total as usize);
    let (mut has_stale, mut ordered) = (false, interval > 0);
    let mut slot: i64 = 0;
    for run in runs {
        let n = run.len() as i64;
        // A run past i64's range saturates its times (and is then no longer strictly ordered, which the
        // caller is told).
        let first = start.saturating_add(slot.saturating_mul(interval));
        let fits = slot
            .checked_add(n)
            .and_then(|end| end.checked_mul(interval))
            .and_then(|d| start.checked_add(d))
            .is_some();
        ordered &= fits;
        let time = |i: i64| {
            if fits {
                first + i * interval
            } else {
                first.saturating_add(i.saturating_mul(interval))
            }
        };
        // Exact-size iterators, so extending checks capacity once per run.
        match *run {
            Run::Missing(_) => {}
            Run::Stale(_) => {
                has_stale = true;
                samples.extend((0..n).map(|i| (time(i), stale_nan())));
            }
            Run::Floats {
                first: v0, step, ..
            } => {
                let mut v = v0;
                samples.extend((0..n).map(|i| {
                    if i > 0 {
                        v += step;
                    }
                    (time(i), v)
                }));
            }
        }
        slot = slot.saturating_add(n);
    }
    Expanded {
        samples: Arc::new(samples),
        has_stale,
        ordered,
    }
}

/// An expanded value sequence, ready to be shared by every series that has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    pub samples: Arc<Vec<(i64, f64)>>,
    /// Whether any sample is a staleness marker.
    pub has_stale: bool,
    /// Whether the timestamps are strictly increasing (always, unless the interval is not positive or the
    /// times ran past i64's range).
    pub ordered: bool,
}

impl Expanded {
    /// Adds these samples to series `id`: shared (copied on write) when they are in time order and the
    /// series is empty, merged sample by sample otherwise.
    pub fn append_to(&self, store: &mut Store, id: SeriesId) {
        if self.ordered {
            store.extend_id_shared(id, &self.samples, self.has_stale);
        } else {
            store.extend_id(id, &self.samples);
        }
    }
}

/// Reads a double-quoted (or back-quoted, raw) string starting at byte `i`; returns (value, next index).
fn read_quoted(s: &str, i: usize) -> Result<(String, usize), NotationError> {
    let b = s.as_bytes();
    let q = b[i];
    let mut out = String::new();
    let mut chars = s[i + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        let at = i + 1 + off;
        if c as u32 == q as u32 {
            return Ok((out, at + 1));
        }
        if c == '\\' && q != b'`' {
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'v' => out.push('\x0b'),
                'x' | 'u' | 'U' => {
                    let len = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = (0..len)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    let cp = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| err(at + 1, "invalid escape"))?;
                    out.push(cp);
                }
                _ => return Err(err(at + 1, format!("unknown escape sequence \\{e}"))),
            }
            continue;
        }
        out.push(c);
    }
    Err(err(i + 1, "unterminated quoted string"))
}

fn is_name_char(c: u8, first: bool) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || (!first && c.is_ascii_digit())
}

/// Prometheus 2's error for a quoted name in a series description (`{"a.b"="c"}` in a test file's
/// `input_series` or expected labels); `quoted` is the name as written, quotes included. Its parser names the
/// lexer's string token so: `string` and the token Go-quoted, cut to 10 characters and `...` when longer
/// (`promql::legacy_names` checks this against the PromQL parser's own description of the token).
pub fn quoted_name_in_series(quoted: &str) -> String {
    use crate::text::gofmt::go_quote;
    let shown = if quoted.chars().count() > 10 {
        let cut: String = quoted.chars().take(10).collect();
        format!("{}...", go_quote(&cut))
    } else {
        go_quote(quoted)
    };
    format!("unexpected string {shown} in label set, expected identifier or \"}}\"")
}

/// Parses a series descriptor at the start of `text`; returns the labels and the byte offset after it.
pub fn parse_series_descriptor_prefix(text: &str) -> Result<(Labels, usize), NotationError> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let mut lb = LabelsBuilder::new();
    let start = i;
    while i < b.len() && is_name_char(b[i], i == start) {
        i += 1;
    }
    if i > start {
        lb.set(METRIC_NAME, &text[start..i]);
    }
    if i < b.len() && b[i] == b'{' {
        i += 1;
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= b.len() {
                return Err(err(
                    i + 1,
                    "unexpected end of series descriptor, expected \"}\"",
                ));
            }
            if b[i] == b'}' {
                i += 1;
                break;
            }
            let (name, quoted) = if b[i] == b'"' || b[i] == b'`' {
                let (n, next) = read_quoted(text, i)?;
                if crate::semantics::Semantics::active()
                    .has(crate::semantics::Difference::LegacyNames)
                {
                    // Prometheus 2 reads no quoted names.
                    let message = quoted_name_in_series(&text[i..next]);
                    return Err(err(i + 1, message));
                }
                i = next;
                (n, true)
            } else {
                let s = i;
                while i < b.len() && is_name_char(b[i], i == s) {
                    i += 1;
                }
                if i == s {
                    return Err(err(
                        i + 1,
                        format!(
                            "unexpected character {:?} in series descriptor",
                            text[i..].chars().next().unwrap_or(' ')
                        ),
                    ));
                }
                (text[s..i].to_string(), false)
            };
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i >= b.len() || !(b[i] == b'"' || b[i] == b'`' || b[i] == b'\'') {
                    return Err(err(i + 1, "expected a quoted label value"));
                }
                let (v, next) = read_quoted(text, i)?;
                i = next;
                lb.set(&name, &v);
            } else if quoted {
                // A lone quoted string is the metric name.
                lb.set(METRIC_NAME, &name);
            } else {
                return Err(err(
                    i + 1,
                    format!("expected \"=\" after label name {name:?}"),
                ));
            }
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i] == b',' {
                i += 1;
            } else if i < b.len() && b[i] != b'}' {
                return Err(err(i + 1, "expected \",\" or \"}\" in series descriptor"));
            }
        }
    }
    if i == start {
        return Err(err(start + 1, "expected a series descriptor"));
    }
    Ok((lb.build(), i))
}

/// Parses a whole series descriptor (`metric{a="b"}`).
pub fn parse_series_descriptor(text: &str) -> Result<Labels, NotationError> {
    let (l, end) = parse_series_descriptor_prefix(text)?;
    if !text[end..].trim().is_empty() {
        return Err(err(end + 1, "unexpected text after series descriptor"));
    }
    Ok(l)
}

/// Parses `<descriptor> <values>` as in a `.test` load block.
pub fn parse_series_line(text: &str) -> Result<(Labels, Vec<SeqValue>), NotationError> {
    let (l, end) = parse_series_descriptor_prefix(text)?;
    let vals = parse_values(&text[end..]).map_err(|e| err(e.column + end, e.message))?;
    Ok((l, vals))
}

/// `<descriptor> <values>` where the values may hold native histograms (see [`parse_sequence`]).
pub fn parse_series_sequence(text: &str) -> Result<(Labels, Sequence), NotationError> {
    let (l, end) = parse_series_descriptor_prefix(text)?;
    let seq = parse_sequence(&text[end..]).map_err(|e| err(e.column + end, e.message))?;
    Ok((l, seq))
}

#[cfg(test)]
mod tests {
    use super::SeqValue::*;
    use super::*;

    #[test]
    fn histograms_take_their_slots_beside_floats() {
        let seq = parse_sequence(
            "1 {{schema:0 sum:5 count:4 buckets:[1 2 1]}}x1 _ {{count:1}}+{{count:2}}x2 stale 7",
        )
        .unwrap();
        let slots: Vec<(u64, f64)> = seq
            .histograms
            .iter()
            .map(|(k, h, _)| (*k, h.count))
            .collect();
        assert_eq!(
            slots,
            vec![(1, 4.0), (2, 4.0), (4, 1.0), (5, 3.0), (6, 5.0)]
        );
        assert_eq!(
            seq.runs,
            vec![
                Run::Floats {
                    first: 1.0,
                    step: 0.0,
                    count: 1
                },
                Run::Missing(6),
                Run::Stale(1),
                Run::Floats {
                    first: 7.0,
                    step: 0.0,
                    count: 1
                },
            ]
        );
        let mut st = Store::new();
        let id = st.series_id(&Labels::from_pairs([("__name__", "m")]));
        seq.append_to(&mut st, id, 1000, 10);
        let s = st.get(id).unwrap();
        assert_eq!(s.samples.len(), 3);
        let ts: Vec<i64> = s.visible_histograms().iter().map(|(t, _)| *t).collect();
        assert_eq!(ts, vec![1010, 1020, 1040, 1050, 1060]);
        // Errors point at the histogram's column.
        let e = parse_sequence("1 {{schema:0 bogus:1}}").unwrap_err();
        assert_eq!(e.column, 3, "{e}");
        // Float-only readers say histograms are not read there.
        assert!(parse_runs("{{count:1}}").is_err());
    }

    #[test]
    fn expanded_samples_skip_missing_slots_and_mark_stale() {
        let runs = parse_runs("1+1x2 _x2 stale 7").unwrap();
        let e = expand_samples(&runs, 1000, 15_000);
        assert_eq!(e.samples.len(), 5);
        let times: Vec<i64> = e.samples.iter().map(|s| s.0).collect();
        assert_eq!(times, vec![1000, 16_000, 31_000, 76_000, 91_000]);
        assert_eq!(e.samples[2].1, 3.0);
        assert!(crate::series::store::is_stale(e.samples[3].1));
        assert_eq!(e.samples[4].1, 7.0);
        assert!(e.has_stale && e.ordered);
        // The same values as the slot-by-slot form.
        let slots = parse_values("1+1x2 _x2 stale 7").unwrap();
        assert_eq!(slots.len(), 7);
    }

    #[test]
    fn expanded_samples_past_i64_range_are_not_ordered() {
        let runs = parse_runs("1x3").unwrap();
        let e = expand_samples(&runs, i64::MAX - 10, 5);
        assert!(!e.ordered && !e.has_stale);
        assert_eq!(e.samples.last().unwrap().0, i64::MAX);
    }

    #[test]
    fn huge_repetitions_are_refused_for_every_kind_of_item() {
        // The cap is on the whole sequence, not per item.
        let e = parse_runs("1x5999999 _x4000000 2").unwrap_err();
        assert!(e.message.contains("longer than"), "{e}");
        assert_eq!(e.column, 21);
        assert!(parse_runs("1x5999999 _x3999999").is_ok());
        for text in [
            "1x99999999999",
            "_x99999999999",
            "stale x1",
            "stalex99999999999",
        ] {
            let r = parse_runs(text);
            if text == "stale x1" {
                assert!(r.is_err(), "{text}");
                continue;
            }
            let e = r.unwrap_err();
            assert!(e.message.contains("longer than"), "{text}: {e}");
        }
    }

    #[test]
    fn expansions() {
        assert_eq!(parse_values("1 2").unwrap(), vec![Float(1.0), Float(2.0)]);
        assert_eq!(
            parse_values("0+10x2").unwrap(),
            vec![Float(0.0), Float(10.0), Float(20.0)]
        );
        assert_eq!(
            parse_values("1-1x2").unwrap(),
            vec![Float(1.0), Float(0.0), Float(-1.0)]
        );
        assert_eq!(
            parse_values("-1-1x1").unwrap(),
            vec![Float(-1.0), Float(-2.0)]
        );
        assert_eq!(parse_values("5x2").unwrap(), vec![Float(5.0); 3]);
        assert_eq!(
            parse_values("_x2 _ stale").unwrap(),
            vec![Missing, Missing, Missing, Stale]
        );
        assert_eq!(
            parse_values("5m 0x1F 1e3").unwrap(),
            vec![Float(300.0), Float(31.0), Float(1000.0)]
        );
        assert_eq!(parse_values("0x2").unwrap(), vec![Float(0.0); 3]);
        assert_eq!(
            parse_values("1e-3+1e-3x1").unwrap(),
            vec![Float(0.001), Float(0.002)]
        );
        let v = parse_values("Inf -Inf NaN").unwrap();
        assert_eq!(v[0], Float(f64::INFINITY));
        assert_eq!(v[1], Float(f64::NEG_INFINITY));
        assert!(matches!(v[2], Float(x) if x.is_nan()));
    }

    #[test]
    fn errors_carry_column() {
        let e = parse_values("1 2 bogus").unwrap_err();
        assert_eq!(e.column, 5);
        let e = parse_series_line("up{a=\"b\"} 1 zz").unwrap_err();
        assert_eq!(e.column, 13);
    }

    #[test]
    fn descriptors() {
        let l = parse_series_descriptor(r#"up{job="a", i="1"}"#).unwrap();
        assert_eq!(l.to_string(), r#"up{i="1", job="a"}"#);
        let l = parse_series_descriptor(r#"{"metric.name", "a.b"="c\n"}"#).unwrap();
        assert_eq!(l.name(), Some("metric.name"));
        assert_eq!(l.get("a.b"), Some("c\n"));
        let l = parse_series_descriptor(r#"{__name__="x"}"#).unwrap();
        assert_eq!(l.name(), Some("x"));
        assert!(parse_series_descriptor("up{a=b}").is_err());
    }
}

/// Printing then parsing gives back the same samples: value sequences (special floats, stale markers, missing
/// slots, runs) and series descriptors (names and values that need quoting and escapes).
#[cfg(test)]
mod compact {
    use super::SeqValue::*;
    use super::*;

    #[test]
    fn counters_and_repeats_are_written_as_runs() {
        let v = |xs: &[f64]| xs.iter().map(|&x| Float(x)).collect::<Vec<_>>();
        assert_eq!(format_values(&v(&[0.0, 10.0, 20.0, 30.0])), "0+10x3");
        assert_eq!(format_values(&v(&[5.0, 4.5, 4.0])), "5-0.5x2");
        assert_eq!(format_values(&v(&[1.0, 2.0])), "1 2");
        assert_eq!(
            format_values(&v(&[0.0, 10.0, 20.0, 3.0, 3.0, 3.0, 1e300])),
            "0+10x2 3x2 1e300"
        );
        let mut gap = v(&[1.0, 2.0, 3.0]);
        gap.extend([Missing, Missing, Stale]);
        gap.extend(v(&[7.0, 8.0, 9.0, 10.0]));
        assert_eq!(format_values(&gap), "1+1x2 _x2 stale 7+1x3");
        // 0.1 steps do not add up exactly: written one by one where they do not.
        let tenths = v(&[0.1, 0.2, 0.30000000000000004, 0.4]);
        let text = format_values(&tenths);
        assert_eq!(parse_values(&text).unwrap(), tenths, "{text}");
    }
}

#[cfg(test)]
mod properties {
    use super::SeqValue::*;
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = SeqValue> {
        prop_oneof![
            4 => any::<f64>().prop_map(Float),
            2 => (-1000i32..1000).prop_map(|i| Float(i as f64 / 4.0)),
            1 => prop::sample::select(vec![f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -0.0, 0.0, f64::MIN_POSITIVE, f64::MAX, 5e-324]).prop_map(Float),
            1 => Just(Stale),
            1 => Just(Missing),
        ]
    }

    fn bits(v: &[SeqValue]) -> Vec<(u8, u64)> {
        v.iter()
            .map(|x| match x {
                Float(f) if f.is_nan() => (0, 0),
                Float(f) => (1, f.to_bits()),
                Stale => (2, 0),
                Missing => (3, 0),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Runs of equal values, and counters and gauges that step by a fixed amount (quarters, which add up
        /// exactly, and any floats, which mostly do not), back to the same bits.
        #[test]
        fn values_round_trip(
            runs in prop::collection::vec(prop_oneof![
                (value(), 1usize..5).prop_map(|(v, n)| vec![v; n]),
                ((-400i32..400), (-40i32..40), 1usize..12).prop_map(|(a, b, n)| {
                    let mut v = f64::from(a) / 4.0;
                    (0..n).map(|i| { if i > 0 { v += f64::from(b) / 4.0; } Float(v) }).collect()
                }),
                (any::<f64>(), any::<f64>(), 1usize..6).prop_map(|(a, b, n)| {
                    let mut v = a;
                    (0..n).map(|i| { if i > 0 { v += b; } Float(v) }).collect()
                }),
            ], 0..30),
        ) {
            let vals: Vec<SeqValue> = runs.into_iter().flatten().collect();
            let text = format_values(&vals);
            let back = parse_values(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
            prop_assert_eq!(bits(&back), bits(&vals), "{}", text);
        }

        #[test]
        fn descriptors_round_trip(
            name in prop_oneof!["[a-zA-Z_:][a-zA-Z0-9_:]{0,8}", "[a-z.]{1,6}\\.[a-z]{1,4}", "[^\\x00]{1,6}"],
            pairs in prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,6}|[a-z]{1,4}\\.[a-z-]{1,4}|[^\\x00]{1,5}", "[^\\x00]{0,8}", 0..5),
        ) {
            let mut pairs = pairs;
            pairs.remove(METRIC_NAME);
            let labels = Labels::from_pairs(
                std::iter::once((METRIC_NAME, name.as_str()))
                    .chain(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .filter(|(_, v)| !v.is_empty()),
            );
            let text = labels.to_string();
            let back = parse_series_descriptor(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
            prop_assert_eq!(back, labels, "{}", text);
        }

        #[test]
        fn a_series_line_round_trips(
            vals in prop::collection::vec(value(), 1..20),
            job in "[a-z]{1,5}",
        ) {
            let labels = Labels::from_pairs([(METRIC_NAME, "m"), ("job", job.as_str())]);
            let line = format!("{labels} {}", format_values(&vals));
            let (l, back) = parse_series_line(&line).map_err(|e| TestCaseError::fail(format!("{line:?}: {e}")))?;
            prop_assert_eq!(l, labels);
            prop_assert_eq!(bits(&back), bits(&vals), "{}", line);
        }
    }
}
