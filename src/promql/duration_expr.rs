//! Duration expressions (`[5m+1m]`, `[step()*2]`, `offset (2 * 2)`, `[30s:min_of(step(), 1m)]`), which
//! Prometheus 3 accepts and promql-parser 0.11 does not. When the parser rejects a query, ranges, subquery
//! steps and offsets written as arithmetic are evaluated here (numbers are seconds; `step()` and `range()`
//! are the query's, 0 for an instant query) and written back as plain durations, and the query is parsed
//! again.

use crate::load::duration::parse_duration;

struct Calc<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    step_s: f64,
    range_s: f64,
}

impl Calc<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    // sum := term (('+'|'-') term)*
    fn sum(&mut self) -> Option<f64> {
        let mut v = self.term()?;
        loop {
            if self.eat(b'+') {
                v += self.term()?;
            } else if self.eat(b'-') {
                v -= self.term()?;
            } else {
                return Some(v);
            }
        }
    }
    // term := unary (('*'|'/'|'%') unary)*
    fn term(&mut self) -> Option<f64> {
        let mut v = self.unary()?;
        loop {
            if self.eat(b'*') {
                v *= self.unary()?;
            } else if self.eat(b'/') {
                v /= self.unary()?;
            } else if self.eat(b'%') {
                v %= self.unary()?;
            } else {
                return Some(v);
            }
        }
    }
    // unary := ('-'|'+') unary | power ; power := atom ('^' unary)?
    fn unary(&mut self) -> Option<f64> {
        if self.eat(b'-') {
            return Some(-self.unary()?);
        }
        if self.eat(b'+') {
            return self.unary();
        }
        let base = self.atom()?;
        if self.eat(b'^') {
            let exp = self.unary()?;
            return Some(base.powf(exp));
        }
        Some(base)
    }
    fn atom(&mut self) -> Option<f64> {
        if self.eat(b'(') {
            let v = self.sum()?;
            return self.eat(b')').then_some(v);
        }
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric()
                || self.s[self.i] == b'_'
                || self.s[self.i] == b'.')
        {
            self.i += 1;
        }
        let tok = &self.text[start..self.i];
        if tok.is_empty() {
            return None;
        }
        let lower = tok.to_ascii_lowercase();
        match lower.as_str() {
            "step" | "range" => {
                if !(self.eat(b'(') && self.eat(b')')) {
                    return None;
                }
                return Some(if lower == "step" {
                    self.step_s
                } else {
                    self.range_s
                });
            }
            "min_of" | "max_of" => {
                if !self.eat(b'(') {
                    return None;
                }
                let a = self.sum()?;
                if !self.eat(b',') {
                    return None;
                }
                let b = self.sum()?;
                if !self.eat(b')') {
                    return None;
                }
                return Some(if lower == "min_of" {
                    a.min(b)
                } else {
                    a.max(b)
                });
            }
            _ => {}
        }
        if let Ok(v) = tok.parse::<f64>() {
            return Some(v);
        }
        if tok.as_bytes()[0].is_ascii_digit() {
            return parse_duration(tok).ok().map(|ms| ms as f64 / 1000.0);
        }
        None
    }
}

fn eval(text: &str, step_ms: i64, range_ms: i64) -> Option<i64> {
    let mut c = Calc {
        s: text.as_bytes(),
        text,
        i: 0,
        step_s: step_ms as f64 / 1000.0,
        range_s: range_ms as f64 / 1000.0,
    };
    let v = c.sum()?;
    c.ws();
    if c.i != text.len() || !v.is_finite() {
        return None;
    }
    Some((v * 1000.0).round() as i64)
}

/// Rewrites duration expressions into plain `<n>ms` durations; None when there was nothing to rewrite.
pub fn rewrite(text: &str, step_ms: i64, range_ms: i64) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        let c = b[i];
        // Strings and label matchers pass through untouched.
        if c == b'"' || c == b'\'' || c == b'`' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' && c != b'`' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            out.push_str(&text[start..i]);
            continue;
        }
        if c == b'{' {
            let start = i;
            while i < b.len() && b[i] != b'}' {
                if b[i] == b'"' || b[i] == b'\'' || b[i] == b'`' {
                    let q = b[i];
                    i += 1;
                    while i < b.len() && b[i] != q {
                        if b[i] == b'\\' && q != b'`' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            out.push_str(&text[start..i]);
            continue;
        }
        if c == b'[' {
            let Some(close) = text[i..].find(']').map(|p| i + p) else {
                out.push_str(&text[i..]);
                break;
            };
            let inner = &text[i + 1..close];
            let parts: Vec<&str> = split_top_colon(inner);
            let mut rewritten = Vec::new();
            for p in &parts {
                if p.trim().is_empty() {
                    rewritten.push(String::new());
                } else {
                    match eval(p.trim(), step_ms, range_ms) {
                        Some(ms) => rewritten.push(format!("{ms}ms")),
                        None => rewritten.push(p.to_string()),
                    }
                }
            }
            let new_inner = rewritten.join(":");
            changed |= new_inner != inner;
            out.push('[');
            out.push_str(&new_inner);
            out.push(']');
            i = close + 1;
            continue;
        }
        let word_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if word_start
            // Compared as bytes: `i + 6` may fall inside a multi-byte character that follows.
            && b.get(i..i + 6)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"offset"))
            && b.get(i + 6)
                .is_some_and(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        {
            out.push_str(&text[i..i + 6]);
            i += 6;
            let (operand_end, operand) = offset_operand(text, i);
            if let Some(ms) = eval(operand.trim(), step_ms, range_ms) {
                if ms == 0 {
                    // promql-parser refuses a zero offset; no offset means the same.
                    out.truncate(out.len() - 6);
                    changed = true;
                    i = operand_end;
                    continue;
                }
                let plain = if ms < 0 {
                    // unsigned_abs: a huge negative operand saturates to i64::MIN, which `-` overflows.
                    format!(" -{}ms", ms.unsigned_abs())
                } else {
                    format!(" {ms}ms")
                };
                changed |= plain.trim() != operand.trim();
                out.push_str(&plain);
                // Keep the spacing before whatever follows.
                i = operand_end;
                continue;
            }
            continue;
        }
        out.push(c as char);
        if !c.is_ascii() {
            // Copy the rest of a multi-byte character.
            let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.pop();
            out.push_str(&text[i..i + ch_len]);
            i += ch_len;
            continue;
        }
        i += 1;
    }
    changed.then_some(out)
}

/// Splits a bracket's content at a top-level `:` (range and subquery step).
fn split_top_colon(s: &str) -> Vec<&str> {
    let mut depth = 0i32;
    for (k, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ':' if depth == 0 => return vec![&s[..k], &s[k + 1..]],
            _ => {}
        }
    }
    vec![s]
}

/// The operand of `offset` starting at byte `i`: signs, then a parenthesised expression, a function call,
/// or a number/duration. Returns (end, text).
fn offset_operand(text: &str, mut i: usize) -> (usize, &str) {
    let b = text.as_bytes();
    let start = i;
    while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i < b.len() && b[i] == b'(' {
        i = skip_parens(b, i);
    } else {
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
            i += 1;
        }
        if i < b.len() && b[i] == b'(' {
            i = skip_parens(b, i);
        }
    }
    (i, &text[start..i])
}

fn skip_parens(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_in_ranges_and_offsets() {
        assert_eq!(rewrite("x offset range()", 0, 0).as_deref(), Some("x "));
        assert_eq!(
            rewrite("changes(x[26m+4m])", 0, 0).as_deref(),
            Some("changes(x[1800000ms])")
        );
        assert_eq!(
            rewrite("x[29s+1s:5s+5s]", 0, 0).as_deref(),
            Some("x[30000ms:10000ms]")
        );
        assert_eq!(
            rewrite("x[30m1s-30m1s % 1m]", 0, 0).as_deref(),
            Some("x[1800000ms]")
        );
        assert_eq!(
            rewrite("x offset (100 + 2)", 0, 0).as_deref(),
            Some("x offset 102000ms")
        );
        assert_eq!(
            rewrite("x offset -2 * 2", 0, 0).as_deref(),
            Some("x offset -2000ms * 2")
        );
        assert_eq!(
            rewrite("count_over_time(x[1+(STep()-5)*2])", 10_000, 0).as_deref(),
            Some("count_over_time(x[11000ms])")
        );
        assert_eq!(
            rewrite("x offset min_of(step(), 1s)+8000", 5_000, 0).as_deref(),
            Some("x offset 1000ms+8000")
        );
        assert_eq!(
            rewrite("x{a=\"[1+1]\"}[5m]", 0, 0).as_deref(),
            Some("x{a=\"[1+1]\"}[300000ms]")
        );
    }
}
