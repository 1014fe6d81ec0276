//! Alertmanager label matchers: what routes and inhibit rules select alerts with.
//!
//! Three ways to write them, as in Alertmanager's config: `match` (equality), `match_re` (regex, anchored and
//! displayed double-anchored as amtool prints `{service=~"^(?:pg.*)$"}`) and `matchers:` strings, which are read
//! the way Alertmanager's default "fallback" mode reads them: the classic parser (`pkg/labels`) wins whenever it
//! accepts the text, the UTF-8 parser (`matcher/parse`) is the fallback, and the classic error is reported when
//! both refuse.

use super::LabelSet;
use crate::series::matcher::regex_error_text;
use regex::Regex;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    Equal,
    NotEqual,
    Regexp,
    NotRegexp,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }

    fn from_op(op: &str) -> Option<MatchType> {
        match op {
            "=" => Some(MatchType::Equal),
            "!=" => Some(MatchType::NotEqual),
            "=~" => Some(MatchType::Regexp),
            "!~" => Some(MatchType::NotRegexp),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    #[error("bad matcher format: {0}")]
    BadFormat(String),
    #[error("matcher value contains unescaped double quote: {0}")]
    UnescapedQuote(String),
    #[error("error parsing regexp: {0}")]
    BadRegex(String),
    #[error("invalid label name {0:?}")]
    BadLabelName(String),
    #[error("unexpected open or close brace: {0}")]
    Brace(String),
    #[error("{0}")]
    Utf8(String),
}

/// One label matcher. A missing label reads as the empty string.
#[derive(Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchType,
    /// The value as Alertmanager keeps it (for `match_re`: `^(?:...)$`).
    pub value: String,
    /// Fully anchored regex for `=~` / `!~`.
    re: Option<Regex>,
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.op == o.op && self.value == o.value
    }
}

/// Rewrites the Perl classes `\d \w \s` (and negations outside brackets) to their ASCII meaning, as in Go's
/// RE2; Rust's regex gives them Unicode meaning. Everything else is passed through.
fn re2_compat(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push(c);
                    break;
                };
                let rep = match (in_class, n) {
                    (false, 'd') => Some("[0-9]"),
                    (false, 'D') => Some("[^0-9]"),
                    (false, 'w') => Some("[0-9A-Za-z_]"),
                    (false, 'W') => Some("[^0-9A-Za-z_]"),
                    (false, 's') => Some("[\\t\\n\\f\\r ]"),
                    (false, 'S') => Some("[^\\t\\n\\f\\r ]"),
                    (true, 'd') => Some("0-9"),
                    (true, 'w') => Some("0-9A-Za-z_"),
                    (true, 's') => Some("\\t\\n\\f\\r "),
                    _ => None,
                };
                match rep {
                    Some(r) => out.push_str(r),
                    None => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                class_start = false;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push(c);
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                continue;
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class `[:alpha:]` inside brackets: copy through its closing `:]`.
                out.push(c);
                while let Some(p) = chars.next() {
                    out.push(p);
                    if p == ':' && chars.peek() == Some(&']') {
                        out.push(']');
                        chars.next();
                        break;
                    }
                }
            }
            ']' if in_class && !class_start => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
        class_start = false;
    }
    out
}

impl Matcher {
    pub fn new(op: MatchType, name: &str, value: &str) -> Result<Matcher, MatcherError> {
        let re = match op {
            MatchType::Regexp | MatchType::NotRegexp => {
                let anchored = format!("^(?:{})$", re2_compat(value));
                Some(Regex::new(&anchored).map_err(|e| {
                    MatcherError::BadRegex(format!("{}: `^(?:{value})$`", regex_error_text(&e)))
                })?)
            }
            _ => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// A `match_re` entry: the regex is anchored into its value, so it displays as `^(?:v)$`.
    pub fn from_match_re(name: &str, value: &str) -> Result<Matcher, MatcherError> {
        let anchored = format!("^(?:{value})$");
        Regex::new(&format!("^(?:{})$", re2_compat(value))).map_err(|e| {
            MatcherError::BadRegex(format!("{}: `{anchored}`", regex_error_text(&e)))
        })?;
        Matcher::new(MatchType::Regexp, name, &anchored)
    }

    pub fn matches_value(&self, v: &str) -> bool {
        match self.op {
            MatchType::Equal => v == self.value,
            MatchType::NotEqual => v != self.value,
            MatchType::Regexp => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchType::NotRegexp => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.matches_value(labels.get(&self.name).map(String::as_str).unwrap_or(""))
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names outside the classic charset are quoted, as Alertmanager 0.27+ prints them.
        if is_legacy_label_name(&self.name) {
            f.write_str(&self.name)?;
        } else {
            f.write_str(&go_quote(&self.name))?;
        }
        write!(f, "{}{}", self.op.as_str(), go_quote(&self.value))
    }
}

/// All of `ms` match `labels`.
pub fn matches_all(ms: &[Matcher], labels: &LabelSet) -> bool {
    ms.iter().all(|m| m.matches(labels))
}

/// Sorts matchers as Alertmanager's `labels.Matchers` sorts them: by name, then value, then operator.
pub fn sort_matchers(ms: &mut [Matcher]) {
    ms.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| a.value.cmp(&b.value))
            .then_with(|| a.op.cmp(&b.op))
    });
}

/// `{a="b",c=~"d"}` as `labels.Matchers.String()` prints a (sorted) list.
pub fn display_matchers(ms: &[Matcher]) -> String {
    let parts: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
    format!("{{{}}}", parts.join(","))
}

pub fn is_legacy_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Go's `strconv.Quote`: double quotes, backslash escapes, printable Unicode kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if !go_printable(c) => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint` for the characters that matter in label values: controls, spaces other than
/// U+0020, the common format characters (Cf) and private use are not printable. (Unassigned code points,
/// which Go also escapes, would need Unicode tables.)
fn go_printable(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || u == 0xad
        || (0x600..=0x605).contains(&u)
        || u == 0x61c
        || u == 0x6dd
        || u == 0x70f
        || u == 0x180e
        || (0x200b..=0x200f).contains(&u)
        || (0x202a..=0x202e).contains(&u)
        || (0x2060..=0x2064).contains(&u)
        || (0x2066..=0x206f).contains(&u)
        || u == 0xfeff
        || (0xfff9..=0xfffb).contains(&u)
        || (0xe000..=0xf8ff).contains(&u)
        || (0xf0000..=0x10ffff).contains(&u))
}

// ---------------------------------------------------------------------------------------------------------
// Classic parser (Alertmanager's pkg/labels/parse.go).

/// Splits `{a="b", c=~"d"}` on commas outside quotes, as the classic parser does.
fn split_classic(s: &str) -> Vec<String> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens = Vec::new();
    let mut token = String::new();
    let (mut in_quotes, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            ',' if !in_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' => {
                if !escaped {
                    in_quotes = !in_quotes;
                } else {
                    escaped = false;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_string());
    }
    tokens
}

pub fn parse_matchers_classic(s: &str) -> Result<Vec<Matcher>, MatcherError> {
    split_classic(s)
        .iter()
        .map(|t| parse_matcher_classic(t))
        .collect()
}

/// One classic matcher: `name op value` where value may be quoted; whitespace around the parts is dropped.
pub fn parse_matcher_classic(s: &str) -> Result<Matcher, MatcherError> {
    let bad = || MatcherError::BadFormat(s.to_string());
    let t = s.trim_start_matches(char::is_whitespace);
    let name_len = t
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_alphabetic() || *c == '_' || *c == ':' || (*i > 0 && c.is_ascii_digit()))
        })
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    if name_len == 0 {
        return Err(bad());
    }
    let name = &t[..name_len];
    let rest = t[name_len..].trim_start_matches(char::is_whitespace);
    let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchType::Regexp, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchType::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchType::NotRegexp, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchType::Equal, r)
    } else {
        return Err(bad());
    };
    let raw = rest.trim_matches(char::is_whitespace);
    let (body, mut expect_quote) = match raw.strip_prefix('"') {
        Some(b) => (b, true),
        None => (raw, false),
    };
    let mut value = String::new();
    let mut escaped = false;
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    for (n, &(_, c)) in chars.iter().enumerate() {
        let last = n + 1 == chars.len();
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' if !last => escaped = true,
            '\\' => value.push('\\'),
            '"' => {
                if !expect_quote || !last {
                    return Err(MatcherError::UnescapedQuote(raw.to_string()));
                }
                expect_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_quote {
        return Err(MatcherError::UnescapedQuote(raw.to_string()));
    }
    Matcher::new(op, name, &value)
}

// ---------------------------------------------------------------------------------------------------------
// UTF-8 parser (Alertmanager's matcher/parse): names and values are unquoted words or Go double-quoted strings.

fn is_reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

struct Lexer<'a> {
    chars: Vec<char>,
    i: usize,
    src: &'a str,
}

impl<'a> Lexer<'a> {
    fn skip_ws(&mut self) {
        while self.i < self.chars.len() && self.chars[self.i].is_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }
    fn err(&self, what: &str) -> MatcherError {
        MatcherError::Utf8(format!("{}:{}: {what}", self.i, self.src))
    }
    fn word(&mut self) -> Result<String, MatcherError> {
        self.skip_ws();
        match self.peek() {
            Some('"') => self.quoted(),
            Some(c) if !is_reserved(c) => {
                let start = self.i;
                while self.peek().is_some_and(|c| !is_reserved(c)) {
                    self.i += 1;
                }
                Ok(self.chars[start..self.i].iter().collect())
            }
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end of input")),
        }
    }
    fn quoted(&mut self) -> Result<String, MatcherError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("missing closing quote"));
            };
            self.i += 1;
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.err("missing closing quote"));
                    };
                    self.i += 1;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'a' => out.push('\u{7}'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'v' => out.push('\u{b}'),
                        '\\' | '"' => out.push(e),
                        'x' | 'u' | 'U' => {
                            let n = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let hex: String =
                                self.chars.iter().skip(self.i).take(n).collect::<String>();
                            let cp = u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == n)
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.err("invalid escape sequence"))?;
                            self.i += n;
                            out.push(cp);
                        }
                        _ => return Err(self.err("invalid escape sequence")),
                    }
                }
                c => out.push(c),
            }
        }
    }
    fn op(&mut self) -> Result<MatchType, MatcherError> {
        self.skip_ws();
        let two: String = self.chars.iter().skip(self.i).take(2).collect();
        for (op, len) in [("=~", 2), ("!=", 2), ("!~", 2), ("=", 1)] {
            if two.starts_with(op) {
                self.i += len;
                return MatchType::from_op(op).ok_or_else(|| self.err("expected an operator"));
            }
        }
        Err(self.err("expected an operator such as '=', '!=', '=~' or '!~'"))
    }
}

pub fn parse_matchers_utf8(s: &str) -> Result<Vec<Matcher>, MatcherError> {
    let mut lx = Lexer {
        chars: s.chars().collect(),
        i: 0,
        src: s,
    };
    lx.skip_ws();
    let braced = lx.peek() == Some('{');
    if braced {
        lx.i += 1;
    }
    let mut out = Vec::new();
    loop {
        lx.skip_ws();
        match lx.peek() {
            None if !braced => break,
            None => return Err(lx.err("missing closing '}'")),
            Some('}') if braced => {
                lx.i += 1;
                lx.skip_ws();
                if lx.peek().is_some() {
                    return Err(lx.err("unexpected input after '}'"));
                }
                break;
            }
            _ => {}
        }
        let name = lx.word()?;
        let op = lx.op()?;
        let value = lx.word()?;
        out.push(Matcher::new(op, &name, &value)?);
        lx.skip_ws();
        match lx.peek() {
            Some(',') => lx.i += 1,
            Some('}') if braced => {}
            None if !braced => break,
            None => return Err(lx.err("missing closing '}'")),
            Some(_) => return Err(lx.err("expected a comma or closing '}'")),
        }
    }
    Ok(out)
}

/// One matcher in Alertmanager's default (fallback) mode, as `amtool` and the config read a single matcher.
pub fn parse_matcher(s: &str) -> Result<Matcher, MatcherError> {
    if s.starts_with('{') || s.ends_with('}') {
        return Err(MatcherError::Brace(s.to_string()));
    }
    match parse_matcher_classic(s) {
        Ok(m) => Ok(m),
        Err(classic) => match parse_matchers_utf8(s) {
            Ok(mut v) if v.len() == 1 => Ok(v.remove(0)),
            _ => Err(classic),
        },
    }
}

/// A `matchers:` entry (possibly several, comma-separated, optionally in braces) in fallback mode.
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>, MatcherError> {
    match parse_matchers_classic(s) {
        Ok(v) => Ok(v),
        Err(classic) => parse_matchers_utf8(s).map_err(|_| classic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn classic_parsing_matches_amtool_display() {
        // Expected texts are what amtool 0.25 `config routes` printed for these `matchers:` entries.
        let cases = [
            ("foo=bar baz", r#"foo="bar baz""#),
            ("  foo  =  \"spaced\"  ", r#"foo="spaced""#),
            (r#"foo="a\"b\\c\nd""#, r#"foo="a\"b\\c\nd""#),
            ("foo=ä", r#"foo="ä""#),
            ("a!~z", r#"a!~"z""#),
            ("baz=\"\"", r#"baz="""#),
        ];
        for (input, shown) in cases {
            let m = parse_matcher(input).unwrap();
            assert_eq!(m.to_string(), shown, "{input}");
        }
    }

    #[test]
    fn classic_errors_use_alertmanager_wording() {
        assert_eq!(
            parse_matcher("a b").unwrap_err().to_string(),
            "bad matcher format: a b"
        );
        assert_eq!(
            parse_matcher(r#"a=b"c"#).unwrap_err().to_string(),
            r#"matcher value contains unescaped double quote: b"c"#
        );
        assert_eq!(
            parse_matcher("a=~(").unwrap_err().to_string(),
            "error parsing regexp: unclosed group: `^(?:()$`"
        );
    }

    #[test]
    fn lists_sort_like_alertmanager() {
        let mut ms = parse_matchers(r#"{a=~"x", a="y", a!="b", a="b", a!~z}"#).unwrap();
        sort_matchers(&mut ms);
        // amtool 0.25 printed this order for the same list.
        assert_eq!(
            display_matchers(&ms),
            r#"{a="b",a!="b",a=~"x",a="y",a!~"z"}"#
        );
    }

    #[test]
    fn quoting_follows_go_strconv_quote() {
        assert_eq!(
            go_quote("a\u{a0}b\u{200b}c\u{7f}é🚨"),
            "\"a\\u00a0b\\u200bc\\x7fé🚨\""
        );
        assert_eq!(go_quote("tab\tq\"\\"), "\"tab\\tq\\\"\\\\\"");
    }

    #[test]
    fn utf8_parser_grammar() {
        // Trailing comma, braces, quoted names and Go escapes are accepted; a value is required.
        let ms = parse_matchers_utf8(r#"{ a = "x\ty", "b c" !~ "d.*", }"#).unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].value, "x\ty");
        assert_eq!(ms[1].name, "b c");
        assert!(parse_matchers_utf8("{}").unwrap().is_empty());
        assert!(parse_matchers_utf8("a=").is_err());
        assert!(parse_matchers_utf8("{a=b").is_err());
        assert!(parse_matchers_utf8("a=b}").is_err());
        assert!(parse_matchers_utf8("a=b c").is_err());
        // The fallback refuses braces around a single matcher, as Alertmanager does.
        assert_eq!(
            parse_matcher("{a=b}").unwrap_err().to_string(),
            "unexpected open or close brace: {a=b}"
        );
    }

    #[test]
    fn utf8_fallback_accepts_what_classic_refuses() {
        let m = parse_matcher(r#""foo.bar"="x""#).unwrap();
        assert_eq!(m.name, "foo.bar");
        assert_eq!(m.to_string(), r#""foo.bar"="x""#);
        let ms = parse_matchers(r#"{"service.name"=~"a.*", env="prod"}"#).unwrap();
        assert_eq!(ms.len(), 2);
    }

    #[test]
    fn perl_classes_are_ascii_as_in_re2() {
        let m = parse_matcher(r#"code=~"\d+""#).unwrap();
        assert!(m.matches_value("503"));
        assert!(!m.matches_value("٥٠٣")); // Arabic-Indic digits: not \d in RE2
        let m = parse_matcher(r#"host=~"[\w.-]+\s?""#).unwrap();
        assert!(m.matches_value("db-1.example "));
        assert!(!m.matches_value("dé"));
        // The classic parser turns `\\d` into `\d`; a POSIX class and an escaped `]` pass through.
        let m = parse_matcher(r#"x=~"[[:alpha:]\]]+\\d""#).unwrap();
        assert!(m.matches_value("ab]7"));
        assert!(!m.matches_value("ab]x"));
        assert_eq!(
            re2_compat(r"[^\d]\D\W\S\n\."),
            r"[^0-9][^0-9][^0-9A-Za-z_][^\t\n\f\r ]\n\."
        );
    }

    #[test]
    fn regexes_are_anchored_and_missing_labels_are_empty() {
        let m = Matcher::from_match_re("service", "pg.*").unwrap();
        assert_eq!(m.to_string(), r#"service=~"^(?:pg.*)$""#);
        assert!(m.matches(&ls(&[("service", "pgbouncer")])));
        assert!(!m.matches(&ls(&[("service", "xpg")])));
        let m = parse_matcher("env!~prod|stage").unwrap();
        assert!(m.matches(&ls(&[])));
        assert!(!m.matches(&ls(&[("env", "stage")])));
        let m = parse_matcher(r#"team="""#).unwrap();
        assert!(m.matches(&ls(&[("other", "x")])));
    }
}
