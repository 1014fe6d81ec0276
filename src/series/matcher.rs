//! Label matchers (`=`, `!=`, `=~`, `!~`). Regexes are fully anchored and `.` matches a newline, as in
//! Prometheus 3 (`^(?s:re)$`); a missing label matches as the empty string.

use super::labels::Labels;
use regex::Regex;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Re,
    NotRe,
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MatcherError {
    #[error("invalid regular expression {re:?}: {reason}")]
    BadRegex { re: String, reason: String },
}

/// The one-line reason a regex does not compile (the `error: ...` line of the regex crate's message), for
/// messages worded as Go's `error parsing regexp: <reason>: `<regexp>``.
pub fn regex_error_text(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map(|l| l.trim_start_matches("error:").trim().to_string())
            .unwrap_or_else(|| s.clone()),
        other => other.to_string(),
    }
}

/// One label matcher.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.op == o.op && self.value == o.value
    }
}

/// Compiles a PromQL regex: anchored, dot-all (Prometheus 3; under `--semantics 2` `.` does not match a
/// newline, as in Prometheus 2). Go's RE2 accepts a `{` that does not start a repetition as a literal; Rust's
/// regex does not, so such braces are escaped on a second try.
///
/// Compiled regexes are kept (per process, up to [`REGEX_CACHE_SIZE`]): rules evaluated tick by tick build their
/// selectors' matchers at every tick, and compiling the same pattern again dominated such runs (the
/// kubernetes-mixin suite spent most of its time in the regex compiler).
pub fn compile_anchored(re: &str) -> Result<Regex, MatcherError> {
    use crate::semantics::{Difference, Semantics};
    let flags = if Semantics::active().has(Difference::RegexDotNewline) {
        ""
    } else {
        "s"
    };
    let anchored = format!("^(?{flags}:{re})$");
    let cache = REGEX_CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(&anchored).cloned()) {
        return Ok(r);
    }
    let compiled = match Regex::new(&anchored) {
        Ok(r) => r,
        Err(first) => {
            let escaped = escape_literal_braces(re);
            Regex::new(&format!("^(?{flags}:{escaped})$")).map_err(|_| MatcherError::BadRegex {
                re: re.to_string(),
                reason: first.to_string(),
            })?
        }
    };
    if let Ok(mut c) = cache.lock() {
        if c.len() >= REGEX_CACHE_SIZE {
            c.clear();
        }
        c.insert(anchored, compiled.clone());
    }
    Ok(compiled)
}

/// Patterns [`compile_anchored`] keeps compiled; past this many the cache starts over.
pub const REGEX_CACHE_SIZE: usize = 4_096;

static REGEX_CACHE: std::sync::OnceLock<
    std::sync::Mutex<std::collections::HashMap<String, Regex>>,
> = std::sync::OnceLock::new();

fn escape_literal_braces(re: &str) -> String {
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() + 4);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            out.push(c);
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '{' {
            // A repetition is `{n}`, `{n,}` or `{n,m}`.
            let mut j = i + 1;
            let mut ok = j < chars.len() && chars[j].is_ascii_digit();
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if ok && j < chars.len() && chars[j] == ',' {
                j += 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
            }
            ok = ok && j < chars.len() && chars[j] == '}';
            if !ok {
                out.push_str("\\{");
                i += 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

impl Matcher {
    pub fn new(op: MatchOp, name: &str, value: &str) -> Result<Self, MatcherError> {
        let re = match op {
            MatchOp::Re | MatchOp::NotRe => Some(compile_anchored(value)?),
            _ => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// Whether the value `v` (empty when the label is missing) matches.
    pub fn matches_value(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Equal => self.value == v,
            MatchOp::NotEqual => self.value != v,
            MatchOp::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRe => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_value(labels.get_or_empty(&self.name))
    }

    /// Whether this matcher matches the empty string (and so series lacking the label).
    pub fn matches_empty(&self) -> bool {
        self.matches_value("")
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if super::labels::is_legacy_name(&self.name, false) {
            f.write_str(&self.name)?;
        } else {
            super::labels::write_quoted(f, &self.name)?;
        }
        write!(f, "{}", self.op)?;
        super::labels::write_quoted(f, &self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_anchored_and_dotall() {
        let m = Matcher::new(MatchOp::Re, "a", "fo.").unwrap();
        assert!(m.matches_value("foo"));
        assert!(!m.matches_value("xfoo"));
        assert!(m.matches_value("fo\n"));
        let m = Matcher::new(MatchOp::Re, "a", "a|b").unwrap();
        assert!(m.matches_value("b"));
        assert!(!m.matches_value("ab"));
    }

    #[test]
    fn missing_label_is_empty() {
        let l = Labels::from_pairs([("x", "1")]);
        assert!(Matcher::new(MatchOp::Equal, "y", "").unwrap().matches(&l));
        assert!(Matcher::new(MatchOp::NotRe, "y", ".+").unwrap().matches(&l));
        assert!(!Matcher::new(MatchOp::NotEqual, "y", "")
            .unwrap()
            .matches(&l));
    }

    #[test]
    fn go_literal_brace() {
        let m = Matcher::new(MatchOp::Re, "a", "x{y}").unwrap();
        assert!(m.matches_value("x{y}"));
        assert!(Matcher::new(MatchOp::Re, "a", "(").is_err());
    }
}
