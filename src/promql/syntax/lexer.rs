//! PromQL's lexer, written from Prometheus's (`promql/parser/lex.go`, 3.14): the same states, the same tokens
//! at the same byte positions, the same error messages, checked against Prometheus's own table
//! (`tests/promql_syntax_lexer.rs`). It reads bytes, as Go reads a string, so input that is not valid UTF-8
//! fails as it fails there ("invalid UTF-8 rune").
//!
//! Where Prometheus's lexer would never finish (an unterminated raw string reports its error again and again),
//! this one stops after the error.

use super::token::{self, TokenKind};
use std::borrow::Cow;

/// One token: its kind and byte span; an error token carries its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    /// Byte offset of the token's start in the input.
    pub pos: usize,
    /// Byte offset just past the token (for an error token, where scanning stopped).
    pub end: usize,
    /// The message of an error token.
    pub message: Option<String>,
}

impl Token {
    /// The token's text (for an error token, its message), as Prometheus's `Item.Val`.
    pub fn value<'a>(&'a self, input: &'a [u8]) -> Cow<'a, str> {
        match &self.message {
            Some(m) => Cow::Borrowed(m.as_str()),
            None => String::from_utf8_lossy(&input[self.pos..self.end.min(input.len())]),
        }
    }
}

/// A rune as Go's lexer sees it: a code point, [`EOF`], or [`RUNE_ERROR`] for a byte that starts no valid
/// UTF-8 sequence.
type Rune = i32;
const EOF: Rune = -1;
const RUNE_ERROR: Rune = 0xFFFD;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Statements,
    Histogram,
    HistogramDescriptor,
    Buckets,
    InsideBraces,
    ValueSequence,
    Escape,
    String,
    RawString,
    Space,
    LineComment,
    Number,
    NumberOrDuration,
    Identifier,
    KeywordOrIdentifier,
    DurationExpr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hist {
    None,
    Open,
    Mul,
    Add,
    Sub,
}

/// The lexer. [`Lexer::next_token`] gives one token at a time, ending with [`TokenKind::Eof`] (or an error).
pub struct Lexer<'a> {
    input: &'a [u8],
    state: Option<State>,
    pos: usize,
    start: usize,
    width: usize,
    out: Option<Token>,
    paren_depth: i64,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
    string_open: Rune,
    series_desc: bool,
    histogram: Hist,
}

/// Decodes one rune at the start of `b` as Go's `utf8.DecodeRuneInString`: `(RUNE_ERROR, 1)` for a byte that
/// starts no valid sequence.
fn decode(b: &[u8]) -> (Rune, usize) {
    let Some(&first) = b.first() else {
        return (RUNE_ERROR, 0);
    };
    if first < 0x80 {
        return (first as Rune, 1);
    }
    let len = match first {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    match b.get(..len).and_then(|s| std::str::from_utf8(s).ok()) {
        Some(s) => (s.chars().next().map_or(RUNE_ERROR, |c| c as Rune), len),
        None => (RUNE_ERROR, 1),
    }
}

fn is_space(r: Rune) -> bool {
    r == ' ' as Rune || r == '\t' as Rune || r == '\n' as Rune || r == '\r' as Rune
}

fn is_end_of_line(r: Rune) -> bool {
    r == '\r' as Rune || r == '\n' as Rune
}

fn is_digit(r: Rune) -> bool {
    ('0' as Rune..='9' as Rune).contains(&r)
}

fn is_alpha(r: Rune) -> bool {
    r == '_' as Rune
        || ('a' as Rune..='z' as Rune).contains(&r)
        || ('A' as Rune..='Z' as Rune).contains(&r)
}

fn is_alpha_numeric(r: Rune) -> bool {
    is_alpha(r) || is_digit(r)
}

fn is(r: Rune, c: char) -> bool {
    r == c as Rune
}

fn to_char(r: Rune) -> char {
    u32::try_from(r)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}')
}

/// Go's `%q` of a rune (`strconv.QuoteRune`).
pub fn go_quote_rune(r: Rune) -> String {
    if r == EOF {
        // Go formats -1 as a rune: the replacement character.
        return "'\u{FFFD}'".into();
    }
    let c = to_char(r);
    let inner = match c {
        '\'' => "\\'".to_string(),
        '\\' => "\\\\".to_string(),
        _ => escape_char(c),
    };
    format!("'{inner}'")
}

fn escape_char(c: char) -> String {
    match c {
        '\x07' => "\\a".into(),
        '\x08' => "\\b".into(),
        '\x0c' => "\\f".into(),
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        '\x0b' => "\\v".into(),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => format!("\\x{:02x}", c as u32),
        c if c.is_control() => {
            if (c as u32) < 0x10000 {
                format!("\\u{:04x}", c as u32)
            } else {
                format!("\\U{:08x}", c as u32)
            }
        }
        c => c.to_string(),
    }
}

/// Go's `%q` of a string (`strconv.Quote`); bytes that are not UTF-8 become `\xNN`.
pub fn go_quote(b: &[u8]) -> String {
    let mut out = String::from("\"");
    let mut i = 0;
    while i < b.len() {
        let (r, w) = decode(&b[i..]);
        if r == RUNE_ERROR && w == 1 {
            out.push_str(&format!("\\x{:02x}", b[i]));
            i += 1;
            continue;
        }
        let c = to_char(r);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push_str(&escape_char(c)),
        }
        i += w;
    }
    out.push('"');
    out
}

/// Go's `%#U` of a rune: `U+002E '.'`.
fn go_unicode(r: Rune) -> String {
    let c = to_char(r);
    if c.is_control() {
        format!("U+{:04X}", r)
    } else {
        format!("U+{:04X} '{c}'", r)
    }
}

impl<'a> Lexer<'a> {
    /// A lexer over a PromQL expression.
    pub fn new(input: &'a str) -> Self {
        Self::from_bytes(input.as_bytes(), false)
    }

    /// A lexer over `input`, which may hold bytes that are not UTF-8; `series_desc` for a series
    /// description of a test file (`up{job="a"} 1+1x10`).
    pub fn from_bytes(input: &'a [u8], series_desc: bool) -> Self {
        Lexer {
            input,
            state: Some(State::Statements),
            pos: 0,
            start: 0,
            width: 0,
            out: None,
            paren_depth: 0,
            brace_open: false,
            bracket_open: false,
            got_colon: false,
            got_duration: false,
            string_open: 0,
            series_desc,
            histogram: Hist::None,
        }
    }

    /// Every token up to and including the end (or the lexer's stop after an error that ends lexing).
    pub fn tokens(mut self) -> Vec<Token> {
        // As Prometheus's table test reads them: until the lexer has no next state.
        let mut out = Vec::new();
        loop {
            out.push(self.next_token());
            if self.state.is_none() {
                break;
            }
        }
        out
    }

    /// The next token (Prometheus's `NextItem`). After the lexer stopped, every call gives `Eof`.
    pub fn next_token(&mut self) -> Token {
        self.out = None;
        // Every state either scans a token or moves forward; the bound only guards against a mistake.
        let mut guard = 0usize;
        while self.out.is_none() {
            match self.state {
                Some(s) => self.state = self.step(s),
                None => {
                    self.emit(TokenKind::Eof);
                    break;
                }
            }
            guard += 1;
            if guard > 4 * (self.input.len() + 16) {
                self.state = None;
                self.error("lexer made no progress".into());
            }
        }
        self.out.take().unwrap_or(Token {
            kind: TokenKind::Eof,
            pos: self.pos,
            end: self.pos,
            message: None,
        })
    }

    fn step(&mut self, s: State) -> Option<State> {
        match s {
            State::Statements => self.lex_statements(),
            State::Histogram => self.lex_histogram(),
            State::HistogramDescriptor => self.lex_histogram_descriptor(),
            State::Buckets => self.lex_buckets(),
            State::InsideBraces => self.lex_inside_braces(),
            State::ValueSequence => self.lex_value_sequence(),
            State::Escape => self.lex_escape(),
            State::String => self.lex_string(),
            State::RawString => self.lex_raw_string(),
            State::Space => self.lex_space(),
            State::LineComment => self.lex_line_comment(),
            State::Number => self.lex_number(),
            State::NumberOrDuration => self.lex_number_or_duration(),
            State::Identifier => self.lex_identifier(),
            State::KeywordOrIdentifier => self.lex_keyword_or_identifier(),
            State::DurationExpr => self.lex_duration_expr(),
        }
    }

    fn next(&mut self) -> Rune {
        if self.pos >= self.input.len() {
            self.width = 0;
            return EOF;
        }
        let (r, w) = decode(&self.input[self.pos..]);
        self.width = w;
        self.pos += w;
        r
    }

    fn peek(&mut self) -> Rune {
        let r = self.next();
        self.backup();
        r
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn emit(&mut self, kind: TokenKind) {
        self.out = Some(Token {
            kind,
            pos: self.start,
            end: self.pos,
            message: None,
        });
        self.start = self.pos;
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn accept(&mut self, valid: &str) -> bool {
        let r = self.next();
        if valid.chars().any(|c| c as Rune == r) {
            return true;
        }
        self.backup();
        false
    }

    fn is(&mut self, valid: &str) -> bool {
        let r = self.peek();
        valid.chars().any(|c| c as Rune == r)
    }

    fn accept_run(&mut self, valid: &str) {
        loop {
            let r = self.next();
            if !valid.chars().any(|c| c as Rune == r) {
                break;
            }
        }
        self.backup();
    }

    /// An error token at the current token's start (Prometheus's `errorf`; the state after it is the
    /// caller's choice: `None` ends lexing).
    fn error(&mut self, message: String) {
        self.out = Some(Token {
            kind: TokenKind::Error,
            pos: self.start,
            end: self.pos,
            message: Some(message),
        });
    }

    fn errorf(&mut self, message: String) -> Option<State> {
        self.error(message);
        None
    }

    fn rest_starts_with(&self, s: &str) -> bool {
        self.input[self.pos..].starts_with(s.as_bytes())
    }

    fn word(&self) -> String {
        String::from_utf8_lossy(&self.input[self.start..self.pos]).into_owned()
    }

    fn lex_statements(&mut self) -> Option<State> {
        if self.histogram != Hist::None {
            return Some(State::Histogram);
        }
        if self.brace_open {
            return Some(State::InsideBraces);
        }
        if self.rest_starts_with("#") {
            return Some(State::LineComment);
        }
        let r = self.next();
        match r {
            EOF => {
                if self.paren_depth != 0 {
                    return self.errorf("unclosed left parenthesis".into());
                }
                if self.bracket_open {
                    return self.errorf("unclosed left bracket".into());
                }
                self.emit(TokenKind::Eof);
                return None;
            }
            _ if is(r, ',') => self.emit(TokenKind::Comma),
            _ if is_space(r) => return Some(State::Space),
            _ if is(r, '*') => self.emit(TokenKind::Mul),
            _ if is(r, '/') => self.emit(TokenKind::Div),
            _ if is(r, '%') => self.emit(TokenKind::Mod),
            _ if is(r, '+') => self.emit(TokenKind::Add),
            _ if is(r, '-') => self.emit(TokenKind::Sub),
            _ if is(r, '^') => self.emit(TokenKind::Pow),
            _ if is(r, '=') => {
                let t = self.peek();
                if is(t, '=') {
                    self.next();
                    self.emit(TokenKind::Eqlc);
                } else if is(t, '~') {
                    return self.errorf(format!(
                        "unexpected character after '=': {}",
                        go_quote_rune(t)
                    ));
                } else {
                    self.emit(TokenKind::Eql);
                }
            }
            _ if is(r, '!') => {
                let t = self.next();
                if !is(t, '=') {
                    return self.errorf(format!(
                        "unexpected character after '!': {}",
                        go_quote_rune(t)
                    ));
                }
                self.emit(TokenKind::Neq);
            }
            _ if is(r, '<') => {
                let t = self.peek();
                if is(t, '=') {
                    self.next();
                    self.emit(TokenKind::Lte);
                } else if is(t, '/') {
                    self.next();
                    self.emit(TokenKind::TrimUpper);
                } else {
                    self.emit(TokenKind::Lss);
                }
            }
            _ if is(r, '>') => {
                let t = self.peek();
                if is(t, '=') {
                    self.next();
                    self.emit(TokenKind::Gte);
                } else if is(t, '/') {
                    self.next();
                    self.emit(TokenKind::TrimLower);
                } else {
                    self.emit(TokenKind::Gtr);
                }
            }
            _ if is_digit(r) || (is(r, '.') && is_digit(self.peek())) => {
                self.backup();
                return Some(State::NumberOrDuration);
            }
            _ if is(r, '"') || is(r, '\'') => {
                self.string_open = r;
                return Some(State::String);
            }
            _ if is(r, '`') => {
                self.string_open = r;
                return Some(State::RawString);
            }
            _ if is_alpha(r) || is(r, ':') => {
                if !self.bracket_open {
                    self.backup();
                    return Some(State::KeywordOrIdentifier);
                }
                if is(r, ':') {
                    if self.got_colon {
                        return self.errorf(format!("unexpected colon {}", go_quote_rune(r)));
                    }
                    self.emit(TokenKind::Colon);
                    self.got_colon = true;
                    return Some(State::Statements);
                }
                if is_duration_keyword_start(r) && self.scan_duration_keyword() {
                    return Some(State::Statements);
                }
                return self.errorf(format!(
                    "unexpected character: {}, expected {}",
                    go_quote_rune(r),
                    go_quote_rune(':' as Rune)
                ));
            }
            _ if is(r, '(') => {
                self.emit(TokenKind::LeftParen);
                self.paren_depth += 1;
                return Some(State::Statements);
            }
            _ if is(r, ')') => {
                self.emit(TokenKind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self
                        .errorf(format!("unexpected right parenthesis {}", go_quote_rune(r)));
                }
                return Some(State::Statements);
            }
            _ if is(r, '{') => {
                self.emit(TokenKind::LeftBrace);
                self.brace_open = true;
                return Some(State::InsideBraces);
            }
            _ if is(r, '[') => {
                if self.bracket_open {
                    return self.errorf(format!("unexpected left bracket {}", go_quote_rune(r)));
                }
                self.got_colon = false;
                self.emit(TokenKind::LeftBracket);
                if is_space(self.peek()) {
                    self.skip_spaces();
                }
                self.bracket_open = true;
                return Some(State::DurationExpr);
            }
            _ if is(r, ']') => {
                if !self.bracket_open {
                    return self.errorf(format!("unexpected right bracket {}", go_quote_rune(r)));
                }
                self.emit(TokenKind::RightBracket);
                self.bracket_open = false;
            }
            _ if is(r, '@') => self.emit(TokenKind::At),
            _ => return self.errorf(format!("unexpected character: {}", go_quote_rune(r))),
        }
        Some(State::Statements)
    }

    fn lex_histogram(&mut self) -> Option<State> {
        match self.histogram {
            Hist::Mul => {
                self.histogram = Hist::None;
                self.next();
                self.emit(TokenKind::Times);
                return Some(State::ValueSequence);
            }
            Hist::Add => {
                self.histogram = Hist::None;
                self.next();
                self.emit(TokenKind::Add);
                return Some(State::ValueSequence);
            }
            Hist::Sub => {
                self.histogram = Hist::None;
                self.next();
                self.emit(TokenKind::Sub);
                return Some(State::ValueSequence);
            }
            Hist::None | Hist::Open => {}
        }
        if self.bracket_open {
            return Some(State::Buckets);
        }
        let r = self.next();
        if is_space(r) {
            self.emit(TokenKind::Space);
            return Some(State::Space);
        }
        if is_alpha(r) {
            self.backup();
            return Some(State::HistogramDescriptor);
        }
        if is(r, ':') {
            self.emit(TokenKind::Colon);
            return Some(State::Histogram);
        }
        if is(r, '-') {
            self.emit(TokenKind::Sub);
            return Some(State::Histogram);
        }
        if is(r, 'x') {
            self.emit(TokenKind::Times);
            return Some(State::Number);
        }
        if is_digit(r) {
            self.backup();
            return Some(State::Number);
        }
        if is(r, '[') {
            self.bracket_open = true;
            self.got_colon = false;
            self.got_duration = false;
            self.emit(TokenKind::LeftBracket);
            return Some(State::Buckets);
        }
        if is(r, '}') && is(self.peek(), '}') {
            self.next();
            self.emit(TokenKind::CloseHist);
            let p = self.peek();
            self.histogram = if is(p, 'x') {
                Hist::Mul
            } else if is(p, '+') {
                Hist::Add
            } else if is(p, '-') {
                Hist::Sub
            } else {
                Hist::None
            };
            return Some(if self.histogram == Hist::None {
                State::ValueSequence
            } else {
                State::Histogram
            });
        }
        self.errorf(format!(
            "histogram description incomplete unexpected: {}",
            go_quote_rune(r)
        ))
    }

    fn lex_histogram_descriptor(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            if is_alpha(r) {
                continue;
            }
            self.backup();
            let word = self.word();
            let lower = word.to_lowercase();
            if let Some(desc) = token::histogram_descriptor(&lower) {
                if is(self.peek(), ':') {
                    self.emit(desc);
                    return Some(State::Histogram);
                }
                self.error("missing `:` for histogram descriptor".into());
                break;
            }
            // Inf or NaN.
            if token::keyword(&lower) == Some(TokenKind::Number) {
                self.emit(TokenKind::Number);
                return Some(State::Histogram);
            }
            if let Some(hint) = token::counter_reset_hint(&lower) {
                self.emit(hint);
                return Some(State::Histogram);
            }
            self.error(format!(
                "bad histogram descriptor found: {}",
                go_quote(word.as_bytes())
            ));
            break;
        }
        Some(State::Statements)
    }

    fn lex_buckets(&mut self) -> Option<State> {
        let r = self.next();
        if is_space(r) {
            self.emit(TokenKind::Space);
            return Some(State::Space);
        }
        if is(r, '-') {
            self.emit(TokenKind::Sub);
            return Some(State::Number);
        }
        if is_digit(r) {
            self.backup();
            return Some(State::Number);
        }
        if is(r, ']') {
            self.bracket_open = false;
            self.emit(TokenKind::RightBracket);
            return Some(State::Histogram);
        }
        if is_alpha(r) {
            // Inf or NaN, one letter at a time.
            if token::keyword(&self.word().to_lowercase()) == Some(TokenKind::Number) {
                self.emit(TokenKind::Number);
                return Some(State::Statements);
            }
            return Some(State::Buckets);
        }
        self.errorf(format!(
            "invalid character in buckets description: {}",
            go_quote_rune(r)
        ))
    }

    fn lex_inside_braces(&mut self) -> Option<State> {
        if self.rest_starts_with("#") {
            return Some(State::LineComment);
        }
        let r = self.next();
        match r {
            EOF => return self.errorf("unexpected end of input inside braces".into()),
            _ if is_space(r) => return Some(State::Space),
            _ if is_alpha(r) => {
                self.backup();
                return Some(State::Identifier);
            }
            _ if is(r, ',') => self.emit(TokenKind::Comma),
            _ if is(r, '"') || is(r, '\'') => {
                self.string_open = r;
                return Some(State::String);
            }
            _ if is(r, '`') => {
                self.string_open = r;
                return Some(State::RawString);
            }
            _ if is(r, '=') => {
                if is(self.next(), '~') {
                    self.emit(TokenKind::EqlRegex);
                } else {
                    self.backup();
                    self.emit(TokenKind::Eql);
                }
            }
            _ if is(r, '!') => {
                let nr = self.next();
                if is(nr, '~') {
                    self.emit(TokenKind::NeqRegex);
                } else if is(nr, '=') {
                    self.emit(TokenKind::Neq);
                } else {
                    return self.errorf(format!(
                        "unexpected character after '!' inside braces: {}",
                        go_quote_rune(nr)
                    ));
                }
            }
            _ if is(r, '{') => {
                return self.errorf(format!("unexpected left brace {}", go_quote_rune(r)))
            }
            _ if is(r, '}') => {
                self.emit(TokenKind::RightBrace);
                self.brace_open = false;
                if self.series_desc {
                    return Some(State::ValueSequence);
                }
                return Some(State::Statements);
            }
            _ => {
                return self.errorf(format!(
                    "unexpected character inside braces: {}",
                    go_quote_rune(r)
                ))
            }
        }
        Some(State::InsideBraces)
    }

    fn lex_value_sequence(&mut self) -> Option<State> {
        if self.histogram != Hist::None {
            return Some(State::Histogram);
        }
        let r = self.next();
        match r {
            EOF => return Some(State::Statements),
            _ if is(r, '{') && is(self.peek(), '{') => {
                self.histogram = Hist::Open;
                self.next();
                self.emit(TokenKind::OpenHist);
                return Some(State::Histogram);
            }
            _ if is_space(r) => {
                self.emit(TokenKind::Space);
                // Prometheus calls lexSpace for its effect and stays in the sequence.
                self.lex_space();
            }
            _ if is(r, '+') => self.emit(TokenKind::Add),
            _ if is(r, '-') => self.emit(TokenKind::Sub),
            _ if is(r, 'x') => self.emit(TokenKind::Times),
            _ if is(r, '_') => self.emit(TokenKind::Blank),
            _ if is_digit(r) || (is(r, '.') && is_digit(self.peek())) => {
                self.backup();
                // Called for its effect, as in Prometheus: an error token is kept, the sequence goes on.
                self.lex_number();
            }
            _ if is_alpha(r) => {
                self.backup();
                return Some(State::KeywordOrIdentifier);
            }
            _ => {
                return self.errorf(format!(
                    "unexpected character in series sequence: {}",
                    go_quote_rune(r)
                ))
            }
        }
        Some(State::ValueSequence)
    }

    fn lex_escape(&mut self) -> Option<State> {
        let mut ch = self.next();
        let (mut n, base, max): (u32, u32, u32) = if ch == self.string_open
            || ['a', 'b', 'f', 'n', 'r', 't', 'v', '\\']
                .iter()
                .any(|c| *c as Rune == ch)
        {
            return Some(State::String);
        } else if ('0' as Rune..='7' as Rune).contains(&ch) {
            (3, 8, 255)
        } else if is(ch, 'x') {
            ch = self.next();
            (2, 16, 255)
        } else if is(ch, 'u') {
            ch = self.next();
            (4, 16, 0x10FFFF)
        } else if is(ch, 'U') {
            ch = self.next();
            (8, 16, 0x10FFFF)
        } else if ch == EOF {
            self.error("escape sequence not terminated".into());
            return Some(State::String);
        } else {
            self.error(format!("unknown escape sequence {}", go_unicode(ch)));
            return Some(State::String);
        };
        let mut x: u32 = 0;
        while n > 0 {
            let d = digit_val(ch);
            if d >= base {
                if ch == EOF {
                    self.error("escape sequence not terminated".into());
                    return Some(State::String);
                }
                self.error(format!(
                    "illegal character {} in escape sequence",
                    go_unicode(ch)
                ));
                return Some(State::String);
            }
            x = x.wrapping_mul(base).wrapping_add(d);
            n -= 1;
            if n > 0 {
                ch = self.next();
            }
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            self.error("escape sequence is an invalid Unicode code point".into());
        }
        Some(State::String)
    }

    fn skip_spaces(&mut self) {
        while is_space(self.peek()) {
            self.next();
        }
        self.ignore();
    }

    fn lex_string(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            if is(r, '\\') {
                return Some(State::Escape);
            }
            if r == RUNE_ERROR {
                self.error("invalid UTF-8 rune".into());
                return Some(State::String);
            }
            if r == EOF || is(r, '\n') {
                return self.errorf("unterminated quoted string".into());
            }
            if r == self.string_open {
                break;
            }
        }
        self.emit(TokenKind::String);
        Some(State::Statements)
    }

    fn lex_raw_string(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            if r == RUNE_ERROR {
                self.error("invalid UTF-8 rune".into());
                return Some(State::RawString);
            }
            if r == EOF {
                // Prometheus reports this again at every call; once is enough.
                return self.errorf("unterminated raw string".into());
            }
            if r == self.string_open {
                break;
            }
        }
        self.emit(TokenKind::String);
        Some(State::Statements)
    }

    fn lex_space(&mut self) -> Option<State> {
        while is_space(self.peek()) {
            self.next();
        }
        self.ignore();
        Some(State::Statements)
    }

    fn lex_line_comment(&mut self) -> Option<State> {
        self.pos += 1;
        let mut r = self.next();
        while !is_end_of_line(r) && r != EOF {
            r = self.next();
        }
        self.backup();
        self.emit(TokenKind::Comment);
        Some(State::Statements)
    }

    fn lex_number(&mut self) -> Option<State> {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_vec();
            return self.errorf(format!("bad number syntax: {}", go_quote(&text)));
        }
        self.emit(TokenKind::Number);
        Some(State::Statements)
    }

    fn scan_duration_keyword(&mut self) -> bool {
        loop {
            let r = self.next();
            if is_alpha(r) {
                continue;
            }
            self.backup();
            match token::duration_keyword(&self.word().to_lowercase()) {
                Some(kind) => {
                    self.emit(kind);
                    return true;
                }
                None => return false,
            }
        }
    }

    fn lex_number_or_duration(&mut self) -> Option<State> {
        if self.scan_number() {
            self.emit(TokenKind::Number);
            return Some(State::Statements);
        }
        if self.accept_remaining_duration() {
            self.backup();
            self.emit(TokenKind::Duration);
            return Some(State::Statements);
        }
        let text = self.input[self.start..self.pos].to_vec();
        self.errorf(format!(
            "bad number or duration syntax: {}",
            go_quote(&text)
        ))
    }

    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept("0123456789") {
            while self.accept("0123456789") {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        !is_alpha_numeric(self.next())
    }

    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = "0123456789";
        // Hexadecimal is not allowed in series descriptions, where `x` repeats.
        if !self.series_desc && self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = "0123456789abcdefABCDEF";
        }
        self.accept(".");
        self.accept(digits);
        let mut dot = false;
        let mut exponent = false;
        let any: String = format!("{digits}._eE");
        while self.is(&any) {
            if self.is(".") && dot {
                self.accept(".");
                return false;
            }
            if self.is("eE") && exponent {
                self.accept("eE");
                return false;
            }
            if self.accept(".") {
                dot = true;
                if self.accept("_.") {
                    return false;
                }
                // Fractional hexadecimal literals are not allowed.
                if digits.len() > 10 {
                    return false;
                }
                continue;
            }
            if self.accept("eE") {
                exponent = true;
                self.accept("+-");
                if self.accept("._eE") || self.peek() == EOF {
                    return false;
                }
                continue;
            }
            if self.accept("_") {
                if self.accept("._eE") || self.peek() == EOF {
                    return false;
                }
                continue;
            }
            self.accept_run(digits);
        }
        if self.pos == initial {
            return false;
        }
        let r = self.peek();
        (self.series_desc && is(r, 'x')) || !is_alpha_numeric(r)
    }

    fn lex_identifier(&mut self) -> Option<State> {
        while is_alpha_numeric(self.next()) {}
        self.backup();
        self.emit(TokenKind::Identifier);
        Some(State::Statements)
    }

    fn lex_keyword_or_identifier(&mut self) -> Option<State> {
        loop {
            let r = self.next();
            if is_alpha_numeric(r) || is(r, ':') {
                continue;
            }
            self.backup();
            let word = self.word();
            match token::keyword(&word.to_lowercase()) {
                Some(kw) => {
                    // fill / fill_left / fill_right are keywords only before `(`, so they stay usable as
                    // metric names.
                    let fill = matches!(
                        kw,
                        TokenKind::Fill | TokenKind::FillLeft | TokenKind::FillRight
                    );
                    if fill && !self.followed_by_left_paren() {
                        self.emit(TokenKind::Identifier);
                    } else {
                        self.emit(kw);
                    }
                }
                None if !word.contains(':') => self.emit(TokenKind::Identifier),
                None => self.emit(TokenKind::MetricIdentifier),
            }
            break;
        }
        if self.series_desc && !is(self.peek(), '{') {
            return Some(State::ValueSequence);
        }
        Some(State::Statements)
    }

    fn followed_by_left_paren(&self) -> bool {
        let mut pos = self.pos;
        while pos < self.input.len() {
            let (r, w) = decode(&self.input[pos..]);
            if !is_space(r) {
                return is(r, '(');
            }
            pos += w;
        }
        false
    }

    fn lex_duration_expr(&mut self) -> Option<State> {
        let r = self.next();
        match r {
            EOF => self.errorf("unexpected end of input in duration expression".into()),
            _ if is(r, ']') => {
                self.emit(TokenKind::RightBracket);
                self.bracket_open = false;
                self.got_colon = false;
                Some(State::Statements)
            }
            _ if is(r, ':') => {
                self.emit(TokenKind::Colon);
                if !self.got_duration {
                    return self
                        .errorf("unexpected colon before duration in duration expression".into());
                }
                if self.got_colon {
                    return self.errorf("unexpected repeated colon in duration expression".into());
                }
                self.got_colon = true;
                Some(State::DurationExpr)
            }
            _ if is(r, '(') => {
                self.emit(TokenKind::LeftParen);
                self.paren_depth += 1;
                Some(State::DurationExpr)
            }
            _ if is(r, ')') => {
                self.emit(TokenKind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self
                        .errorf(format!("unexpected right parenthesis {}", go_quote_rune(r)));
                }
                Some(State::DurationExpr)
            }
            _ if is_space(r) => {
                self.skip_spaces();
                Some(State::DurationExpr)
            }
            _ if is(r, '+') => self.emit_then(TokenKind::Add, State::DurationExpr),
            _ if is(r, '-') => self.emit_then(TokenKind::Sub, State::DurationExpr),
            _ if is(r, '*') => self.emit_then(TokenKind::Mul, State::DurationExpr),
            _ if is(r, '/') => self.emit_then(TokenKind::Div, State::DurationExpr),
            _ if is(r, '%') => self.emit_then(TokenKind::Mod, State::DurationExpr),
            _ if is(r, '^') => self.emit_then(TokenKind::Pow, State::DurationExpr),
            _ if is(r, ',') => self.emit_then(TokenKind::Comma, State::DurationExpr),
            _ if is_duration_keyword_start(r) => {
                if self.scan_duration_keyword() {
                    return Some(State::DurationExpr);
                }
                self.errorf(format!(
                    "unexpected character in duration expression: {}",
                    go_quote_rune(r)
                ))
            }
            _ if is_digit(r) || (is(r, '.') && is_digit(self.peek())) => {
                self.backup();
                self.got_duration = true;
                Some(State::NumberOrDuration)
            }
            _ => self.errorf(format!(
                "unexpected character in duration expression: {}",
                go_quote_rune(r)
            )),
        }
    }

    fn emit_then(&mut self, kind: TokenKind, next: State) -> Option<State> {
        self.emit(kind);
        Some(next)
    }
}

fn is_duration_keyword_start(r: Rune) -> bool {
    let c = to_char(r).to_lowercase().next().unwrap_or('\0');
    matches!(c, 's' | 'r' | 'm')
}

fn digit_val(ch: Rune) -> u32 {
    match u8::try_from(ch).map(char::from) {
        Ok(c @ '0'..='9') => c as u32 - '0' as u32,
        Ok(c @ 'a'..='f') => c as u32 - 'a' as u32 + 10,
        Ok(c @ 'A'..='F') => c as u32 - 'A' as u32 + 10,
        _ => 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<(&'static str, usize, String)> {
        Lexer::new(input)
            .tokens()
            .iter()
            .map(|t| (t.kind.name(), t.pos, t.value(input.as_bytes()).into_owned()))
            .collect()
    }

    #[test]
    fn a_selector_with_a_range_and_an_operator() {
        assert_eq!(
            kinds("rate(x{a=\"b\"}[5m]) > 1"),
            vec![
                ("IDENTIFIER", 0, "rate".into()),
                ("LEFT_PAREN", 4, "(".into()),
                ("IDENTIFIER", 5, "x".into()),
                ("LEFT_BRACE", 6, "{".into()),
                ("IDENTIFIER", 7, "a".into()),
                ("EQL", 8, "=".into()),
                ("STRING", 9, "\"b\"".into()),
                ("RIGHT_BRACE", 12, "}".into()),
                ("LEFT_BRACKET", 13, "[".into()),
                ("DURATION", 14, "5m".into()),
                ("RIGHT_BRACKET", 16, "]".into()),
                ("RIGHT_PAREN", 17, ")".into()),
                ("GTR", 19, ">".into()),
                ("NUMBER", 21, "1".into()),
                ("EOF", 22, "".into()),
            ]
        );
    }

    #[test]
    fn errors_carry_prometheus_messages() {
        let last = |s: &str| kinds(s).pop().unwrap();
        assert_eq!(last("("), ("ERROR", 1, "unclosed left parenthesis".into()));
        assert_eq!(
            last("x{a=\"b}"),
            ("ERROR", 4, "unterminated quoted string".into())
        );
        assert_eq!(
            last("1a"),
            ("ERROR", 0, "bad number or duration syntax: \"1\"".into())
        );
        assert_eq!(last("`abc"), ("ERROR", 0, "unterminated raw string".into()));
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote_rune('a' as Rune), "'a'");
        assert_eq!(go_quote_rune('\n' as Rune), "'\\n'");
        assert_eq!(go_quote_rune('\'' as Rune), "'\\''");
        assert_eq!(go_quote(b"a\"b\\c\xff"), "\"a\\\"b\\\\c\\xff\"");
        assert_eq!(go_unicode('.' as Rune), "U+002E '.'");
    }

    #[test]
    fn never_loops_on_any_short_input() {
        let alphabet = [
            "(", ")", "{", "}", "[", "]", "\"", "`", "'", "\\", "x", "1", ":", " ", "#", "=", "~",
            "{{", "}}",
        ];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let s = format!("{a}{b}{c}");
                    let toks = Lexer::new(&s).tokens();
                    assert!(toks.len() <= 3 * s.len() + 2, "{s:?}: {toks:?}");
                    let toks = Lexer::from_bytes(s.as_bytes(), true).tokens();
                    assert!(toks.len() <= 3 * s.len() + 2, "{s:?}: {toks:?}");
                }
            }
        }
    }
}
