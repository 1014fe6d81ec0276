//! promtool's series notation, used by rule unit tests (`input_series`) and the `.test` engine scripts:
//! a series descriptor (`metric{a="b"}`, `{"metric.name", "a.b"="c"}`) and a value sequence (`1 2 3`,
//! `0+10x5`, `1-1x3`, `5x2`, `_`, `_x3`, `stale`, `Inf`, `NaN`, `0x1F`, `5m` read as 300).

use super::labels::{Labels, LabelsBuilder, METRIC_NAME};
use crate::load::duration::parse_duration;

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

/// Parses one number as the notation allows: float, `Inf`/`-Inf`/`NaN`, hex, or a duration in seconds.
pub fn parse_number(tok: &str) -> Option<f64> {
    let (sign, body) = match tok.as_bytes().first() {
        Some(b'-') => (-1.0, &tok[1..]),
        Some(b'+') => (1.0, &tok[1..]),
        _ => (1.0, tok),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(sign * f64::INFINITY);
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(|v| sign * v as f64);
    }
    if body.bytes().all(|b| {
        b.is_ascii_digit()
            || b == b'.'
            || b == b'e'
            || b == b'E'
            || b == b'+'
            || b == b'-'
            || b == b'_'
    }) && body.as_bytes()[0] != b'e'
    {
        let clean: String = body.chars().filter(|&c| c != '_').collect();
        if let Ok(v) = clean.parse::<f64>() {
            return Some(sign * v);
        }
    }
    if body.as_bytes()[0].is_ascii_digit() {
        if let Ok(ms) = parse_duration(body) {
            return Some(sign * ms as f64 / 1000.0);
        }
    }
    None
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

/// Refuses a repetition that would take the sequence, already `have` slots long, past
/// [`MAX_SEQUENCE_LEN`] with `more` slots.
fn check_len(have: usize, more: u64, col: usize) -> Result<(), NotationError> {
    if more > (MAX_SEQUENCE_LEN - have.min(MAX_SEQUENCE_LEN)) as u64 {
        return Err(err(
            col,
            format!("value sequence longer than {MAX_SEQUENCE_LEN} samples"),
        ));
    }
    Ok(())
}

fn parse_item(tok: &str, col: usize, out: &mut Vec<SeqValue>) -> Result<(), NotationError> {
    if tok == "_" {
        out.push(SeqValue::Missing);
        return Ok(());
    }
    if let Some(n) = tok.strip_prefix("_x") {
        let n = parse_count(n, col)?;
        check_len(out.len(), n, col)?;
        out.extend(std::iter::repeat_n(SeqValue::Missing, n as usize));
        return Ok(());
    }
    if tok == "stale" {
        out.push(SeqValue::Stale);
        return Ok(());
    }
    // `0x10` is "0 repeated", not hex, as in Prometheus's series lexer; hex is read only when the text
    // after the last `x` is not a repetition count.
    let repetition = tok.rfind('x').is_some_and(|p| {
        p > 0 && p + 1 < tok.len() && tok[p + 1..].bytes().all(|b| b.is_ascii_digit())
    });
    if !repetition {
        if let Some(v) = parse_number(tok) {
            out.push(SeqValue::Float(v));
            return Ok(());
        }
    }
    let Some(xpos) = tok.rfind('x') else {
        return Err(err(col, format!("invalid value {tok:?}")));
    };
    let (head, count) = (&tok[..xpos], &tok[xpos + 1..]);
    let n = parse_count(count, col + xpos + 1)?;
    if head == "stale" {
        // n + 1 slots: `stalexN` and `a+bxN` give N+1 values.
        check_len(out.len(), n.saturating_add(1), col)?;
        out.extend(std::iter::repeat_n(SeqValue::Stale, n as usize + 1));
        return Ok(());
    }
    let (start, step) = if let Some(v) = parse_number(head) {
        (v, 0.0)
    } else if let Some((a, b, sign)) = split_increment(head) {
        let a = parse_number(a).ok_or_else(|| err(col, format!("invalid value {a:?}")))?;
        let b = parse_number(b)
            .ok_or_else(|| err(col + head.len() - b.len(), format!("invalid value {b:?}")))?;
        (a, sign * b)
    } else {
        return Err(err(col, format!("invalid value {head:?}")));
    };
    check_len(out.len(), n.saturating_add(1), col)?;
    let mut v = start;
    for i in 0..=n {
        if i > 0 {
            v += step;
        }
        out.push(SeqValue::Float(v));
    }
    Ok(())
}

/// Parses a value sequence. Errors carry the 1-based column within `text`.
pub fn parse_values(text: &str) -> Result<Vec<SeqValue>, NotationError> {
    let mut out = Vec::new();
    let mut pos = 0;
    for tok in text.split(|c: char| c.is_whitespace()) {
        if !tok.is_empty() {
            if tok.starts_with("{{") {
                return Err(err(pos + 1, "native histogram samples are not supported"));
            }
            parse_item(tok, pos + 1, &mut out)?;
        }
        pos += tok.len() + 1;
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::SeqValue::*;
    use super::*;

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
