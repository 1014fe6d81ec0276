//! A parser for PromQL expressions, written from Prometheus's grammar (`promql/parser/generated_parser.y`)
//! and its checks (`parse.go`), producing [`Expr`] with spans. First step (issue #27, part b): the 2.x
//! grammar (selectors, ranges, subqueries, `offset`, `@`, operators with Prometheus's precedence and vector
//! matching, calls, aggregations) and the type checks; duration expressions, `fill`, `anchored` / `smoothed`
//! and Prometheus's exact wording of every syntax error are still to come (see docs/conformance.md for the
//! figures against Prometheus's table).

use super::ast::*;

use super::functions;
use super::lexer::{go_quote, Lexer, Token};
use super::token::TokenKind as K;

/// A parse error: Prometheus's message and the byte range it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

impl ParseError {
    /// Prometheus's `ParseErr.Error()` for this error in `query`: `line:column: parse error: message`
    /// (column counted in bytes from 1).
    pub fn text_in(&self, query: &str) -> String {
        let pos = self.start.min(query.len());
        let before = &query.as_bytes()[..pos];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let last_break = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(-1, |i| i as i64);
        let col = pos as i64 - last_break;
        format!("{line}:{col}: parse error: {}", self.message)
    }
}

/// What the parser accepts beyond stable PromQL, as Prometheus's parser options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Experimental functions and aggregations (`--enable-feature=promql-experimental-functions`).
    pub experimental_functions: bool,
    /// Duration expressions such as `[5m * 2]` (`--enable-feature=promql-duration-expr`).
    pub duration_expr: bool,
    /// `anchored` / `smoothed` (`--enable-feature=promql-extended-range-selectors`).
    pub extended_range_selectors: bool,
    /// `fill(v)`, `fill_left(v)`, `fill_right(v)` on binary operations
    /// (`--enable-feature=promql-binop-fill-modifiers`).
    pub binop_fill_modifiers: bool,
    /// Prometheus 2's functions: `holt_winters` (stable) instead of 3.x's `double_exponential_smoothing`.
    pub prometheus2_functions: bool,
}

/// An `offset` as written: milliseconds, or a duration expression.
enum OffsetValue {
    Ms(i64),
    Expr(DurationExpr),
}

fn node_span(n: &DurationNode) -> Span {
    match n {
        DurationNode::Number { span, .. } => *span,
        DurationNode::Expr(d) => duration_expr_span(d),
    }
}

/// Prometheus's `DurationExpr.PositionRange()`.
fn duration_expr_span(d: &DurationExpr) -> Span {
    let lhs = d.lhs.as_deref().map(node_span);
    let rhs = d.rhs.as_deref().map(node_span);
    match (lhs, rhs) {
        (Some(l), Some(r)) if d.start == 0 && d.end == 0 => Span::new(l.start, r.end),
        (None, Some(r)) if d.end == 0 => Span::new(d.start, r.end),
        _ => Span::new(d.start, d.end),
    }
}

/// Parses `input` as a PromQL expression. All errors Prometheus would report, in its order, or the tree.
pub fn parse(input: &str) -> Result<Expr, Vec<ParseError>> {
    parse_with(input, &Options::default())
}

/// [`parse`] with options.
pub fn parse_with(input: &str, options: &Options) -> Result<Expr, Vec<ParseError>> {
    let mut p = Parser::new(input);
    p.options = *options;
    let expr = p.parse_top();
    match expr {
        Some(e) if p.errors.is_empty() => {
            let mut e = e;
            p.check(&mut e);
            if p.errors.is_empty() {
                Ok(e)
            } else {
                Err(p.errors)
            }
        }
        _ => Err(p.errors),
    }
}

/// Parsing stops at the first syntax error; this carries it up.
struct Stop;

type R<T> = Result<T, Stop>;

/// How deep expressions may nest before the parser refuses (instead of exhausting the stack): enough for any
/// real query, and safe on a 2 MiB thread stack in a debug build.
const MAX_DEPTH: usize = 100;

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    /// A lexer error ends the token list; it is reported when the parser reaches it.
    lex_error: Option<ParseError>,
    i: usize,
    last_closing: usize,
    errors: Vec<ParseError>,
    depth: usize,
    options: Options,
}

fn prec(k: K) -> Option<(u8, bool)> {
    // (precedence, right-associative), as the grammar's %left / %right lines.
    Some(match k {
        K::Lor => (1, false),
        K::Land | K::Lunless => (2, false),
        K::Eqlc | K::Gte | K::Gtr | K::Lss | K::Lte | K::Neq | K::TrimUpper | K::TrimLower => {
            (3, false)
        }
        K::Add | K::Sub => (4, false),
        K::Mul | K::Div | K::Mod | K::Atan2 => (5, false),
        K::Pow => (6, true),
        _ => return None,
    })
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseFloat(s, 64)`, as Prometheus reads a number.
pub fn parse_number(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            return Some(if lower.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let int = |digits: &str, radix: u32| -> Option<f64> {
        let d: String = digits.chars().filter(|c| *c != '_').collect();
        if d.is_empty() {
            return None;
        }
        i64::from_str_radix(&d, radix).ok().map(|v| v as f64)
    };
    let lb = body.to_ascii_lowercase();
    let v = if let Some(h) = lb.strip_prefix("0x") {
        int(h, 16).or_else(|| hex_float(h))
    } else if let Some(o) = lb.strip_prefix("0o") {
        int(o, 8)
    } else if let Some(b) = lb.strip_prefix("0b") {
        int(b, 2)
    } else if lb.len() > 1
        && lb.starts_with('0')
        && lb.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        int(&lb[1..], 8).or_else(|| lb.parse::<f64>().ok())
    } else {
        let d: String = lb.chars().filter(|c| *c != '_').collect();
        d.parse::<f64>().ok()
    }?;
    Some(if neg { -v } else { v })
}

/// A hexadecimal float such as `1p-2` (after `0x`).
fn hex_float(h: &str) -> Option<f64> {
    let (mant, exp) = match h.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (h, 0),
    };
    let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
    let mut v = 0f64;
    for c in ip.chars().filter(|c| *c != '_') {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in fp.chars().filter(|c| *c != '_') {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// Prometheus's `model.ParseDuration` (`text::duration::parse_duration`), with its error messages:
/// `not a valid duration string: "30m1h"`, `duration out of range`.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    crate::text::duration::parse_duration(s).map_err(|e| {
        if e.starts_with("duration out of range") {
            return "duration out of range".to_string();
        }
        // A unit Prometheus does not know is named (`5y1hs`); units out of order are not.
        let known = ["ms", "s", "m", "h", "d", "w", "y"];
        let unknown = s
            .split(|c: char| c.is_ascii_digit())
            .find(|u| !u.is_empty() && !known.contains(u));
        match unknown {
            Some(u) => format!(
                "unknown unit {} in duration {}",
                go_quote(u.as_bytes()),
                go_quote(s.as_bytes())
            ),
            None => format!("not a valid duration string: {}", go_quote(s.as_bytes())),
        }
    })
}

/// A string literal's value (Prometheus's `strutil.Unquote`): Go's escapes for `"` and `'`, none for `` ` ``.
pub fn unquote(lit: &str) -> Result<String, String> {
    match String::from_utf8(unquote_bytes(lit)?) {
        Ok(s) => Ok(s),
        // Go's strings hold bytes that are not UTF-8 (`"\xff"`); each is marked, so names holding one are
        // refused as Prometheus 3 refuses them.
        Err(e) => {
            let mut value = String::new();
            for chunk in e.as_bytes().utf8_chunks() {
                value.push_str(chunk.valid());
                value.extend(
                    chunk
                        .invalid()
                        .iter()
                        .map(|&b| crate::promql::legacy_names::not_utf8(b)),
                );
            }
            Ok(value)
        }
    }
}

/// A string literal's bytes as Go holds them: `"\xff"` is the byte 0xFF, which is not UTF-8.
pub fn unquote_bytes(lit: &str) -> Result<Vec<u8>, String> {
    let b = lit.as_bytes();
    if b.len() < 2 || b[0] != b[b.len() - 1] {
        return Err("invalid syntax".into());
    }
    let quote = b[0];
    let body = &lit[1..lit.len() - 1];
    if quote == b'`' {
        return Ok(body.as_bytes().to_vec());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *bytes.get(i + 1).ok_or("invalid syntax")?;
        i += 2;
        let simple = match e {
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            b'"' | b'\'' if e == quote => Some(e),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            continue;
        }
        let (n, radix) = match e {
            b'x' => (2, 16),
            b'u' => (4, 16),
            b'U' => (8, 16),
            b'0'..=b'7' => {
                i -= 1;
                (3, 8)
            }
            _ => return Err("invalid syntax".into()),
        };
        let digits = body.get(i..i + n).ok_or("invalid syntax")?;
        let v = u32::from_str_radix(digits, radix).map_err(|_| "invalid syntax")?;
        i += n;
        if e == b'x' || radix == 8 {
            if v > 255 {
                return Err("invalid syntax".into());
            }
            out.push(v as u8);
        } else {
            let ch = char::from_u32(v).ok_or("invalid syntax")?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
    }
    Ok(out)
}

/// Prometheus's `Item.desc()`: how an error message names a token (`string "\"a.b\""`, `<op:+>`).
pub(crate) fn item_desc(t: &Token, input: &str) -> String {
    let val = t.value(input.as_bytes()).into_owned();
    let s = match t.kind {
        K::Eof => return "end of input".into(),
        K::Identifier | K::MetricIdentifier => go_quote(val.as_bytes()),
        k if k.is_keyword() => format!("<{val}>"),
        k if k.is_operator() => format!("<op:{val}>"),
        k if k.is_aggregator() => format!("<aggr:{val}>"),
        _ if val.len() > 10 => {
            let cut: String = val.chars().take(10).collect();
            format!("{}...", go_quote(cut.as_bytes()))
        }
        _ => go_quote(val.as_bytes()),
    };
    let fixed = matches!(
        t.kind,
        K::LeftParen
            | K::RightParen
            | K::LeftBrace
            | K::RightBrace
            | K::LeftBracket
            | K::RightBracket
            | K::Comma
            | K::Eql
            | K::Colon
            | K::Semicolon
            | K::Blank
            | K::Times
            | K::Space
            | K::OpenHist
            | K::CloseHist
    ) || t.kind.is_operator()
        || t.kind.is_keyword()
        || t.kind.is_aggregator();
    if fixed {
        return s;
    }
    let kind = match t.kind {
        K::Comment => "comment",
        K::Identifier => "identifier",
        K::MetricIdentifier => "metric identifier",
        K::String => "string",
        K::Number => "number",
        K::Duration => "duration",
        _ => return s,
    };
    format!("{kind} {s}")
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        let mut lexer = Lexer::new(input);
        let mut tokens = Vec::new();
        let mut lex_error = None;
        loop {
            let t = lexer.next_token();
            match t.kind {
                K::Comment => continue,
                K::Error => {
                    lex_error = Some(ParseError {
                        start: t.pos,
                        end: input.len(),
                        message: t.message.clone().unwrap_or_default(),
                    });
                    tokens.push(Token {
                        kind: K::Eof,
                        pos: t.pos,
                        end: t.pos,
                        message: None,
                    });
                    break;
                }
                K::Eof => {
                    tokens.push(t);
                    break;
                }
                _ => tokens.push(t),
            }
        }
        Parser {
            input,
            tokens,
            lex_error,
            i: 0,
            last_closing: 0,
            errors: Vec::new(),
            depth: 0,
            options: Options::default(),
        }
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn peek_kind(&self) -> K {
        self.peek().kind
    }

    fn peek_at(&self, k: usize) -> K {
        self.tokens[(self.i + k).min(self.tokens.len() - 1)].kind
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        if matches!(
            t.kind,
            K::RightBrace | K::RightParen | K::RightBracket | K::Duration | K::Number
        ) {
            self.last_closing = t.end;
        }
        t
    }

    fn text(&self, t: &Token) -> &'a str {
        &self.input[t.pos..t.end]
    }

    fn err(&mut self, start: usize, end: usize, message: String) {
        self.errors.push(ParseError {
            start,
            end,
            message,
        });
    }

    /// A syntax error at the current token: Prometheus's `unexpected(context, expected)`. At a lexer error,
    /// that error instead.
    fn unexpected(&mut self, context: &str, expected: &str) -> Stop {
        if self.peek_kind() == K::Eof {
            if let Some(e) = self.lex_error.take() {
                self.errors.push(e);
                return Stop;
            }
        }
        let t = self.peek().clone();
        let mut msg = format!("unexpected {}", item_desc(&t, self.input));
        if !context.is_empty() {
            msg.push_str(" in ");
            msg.push_str(context);
        }
        if !expected.is_empty() {
            msg.push_str(", expected ");
            msg.push_str(expected);
        }
        let (s, e) = if t.kind == K::Eof {
            (t.pos, t.pos)
        } else {
            (t.pos, t.end)
        };
        self.err(s, e, msg);
        Stop
    }

    fn expect(&mut self, k: K, context: &str, expected: &str) -> R<Token> {
        if self.peek_kind() == k {
            Ok(self.bump())
        } else {
            Err(self.unexpected(context, expected))
        }
    }

    fn parse_top(&mut self) -> Option<Expr> {
        if self.peek_kind() == K::Eof {
            if let Some(e) = self.lex_error.take() {
                self.errors.push(e);
            } else {
                self.err(0, 0, "no expression found in input".into());
            }
            return None;
        }
        let e = self.expr(0).ok()?;
        if self.peek_kind() != K::Eof {
            let _ = self.unexpected("", "");
            return None;
        }
        if let Some(e) = self.lex_error.take() {
            self.errors.push(e);
            return None;
        }
        Some(e)
    }

    /// Runs `f` one nesting level deeper; past [`MAX_DEPTH`] levels, an error instead.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek().clone();
            self.err(t.pos, t.end, "expression nested too deeply".into());
            return Err(Stop);
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn expr(&mut self, min_prec: u8) -> R<Expr> {
        self.nested(|p| p.expr_inner(min_prec))
    }

    fn expr_inner(&mut self, min_prec: u8) -> R<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let k = self.peek_kind();
            let Some((p, right)) = prec(k) else {
                break;
            };
            if p < min_prec {
                break;
            }
            let op = self.bump();
            let mut matching = VectorMatching {
                card: Card::OneToOne,
                matching_labels: Vec::new(),
                on: false,
                include: Vec::new(),
                fill_lhs: None,
                fill_rhs: None,
            };
            let mut return_bool = false;
            if self.peek_kind() == K::Bool {
                self.bump();
                return_bool = true;
            }
            if matches!(self.peek_kind(), K::On | K::Ignoring) {
                matching.on = self.bump().kind == K::On;
                matching.matching_labels = self.grouping_labels()?;
                match self.peek_kind() {
                    K::GroupLeft | K::GroupRight => {
                        let g = self.bump();
                        matching.card = if g.kind == K::GroupLeft {
                            Card::ManyToOne
                        } else {
                            Card::OneToMany
                        };
                        if self.peek_kind() == K::LeftParen {
                            matching.include = self.grouping_labels()?;
                        }
                    }
                    _ => {}
                }
            }
            self.fill_modifiers(&mut matching)?;
            let rhs = self.expr(if right { p } else { p + 1 })?;
            if (matching.fill_lhs.is_some() || matching.fill_rhs.is_some())
                && !self.options.binop_fill_modifiers
            {
                let sp = Span::new(lhs.span().start, rhs.span().end);
                self.err(
                    sp.start,
                    sp.end,
                    "binop fill modifiers are experimental and not enabled".into(),
                );
            }
            lhs = Expr::Binary {
                op: op.kind,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                matching: Some(matching),
                return_bool,
            };
        }
        Ok(lhs)
    }

    /// `fill(v)`, `fill_left(v)`, `fill_right(v)` and `fill_left(v) fill_right(w)` in either order.
    fn fill_modifiers(&mut self, m: &mut VectorMatching) -> R<()> {
        let mut seen_left = false;
        let mut seen_right = false;
        loop {
            match self.peek_kind() {
                K::Fill if !seen_left && !seen_right => {
                    self.bump();
                    let v = self.fill_value()?;
                    m.fill_lhs = Some(v);
                    m.fill_rhs = Some(v);
                    return Ok(());
                }
                K::FillLeft if !seen_left => {
                    self.bump();
                    m.fill_lhs = Some(self.fill_value()?);
                    seen_left = true;
                }
                K::FillRight if !seen_right => {
                    self.bump();
                    m.fill_rhs = Some(self.fill_value()?);
                    seen_right = true;
                }
                _ => return Ok(()),
            }
        }
    }

    /// Consumes a `+` or `-`; whether it was `-`.
    fn optional_sign(&mut self) -> bool {
        match self.peek_kind() {
            K::Sub | K::Add => self.bump().kind == K::Sub,
            _ => false,
        }
    }

    /// A number or duration token in seconds (NaN for a duration that does not parse; a number that does not
    /// is Prometheus's error).
    fn literal_seconds(&mut self, t: &Token) -> R<f64> {
        if t.kind == K::Duration {
            Ok(parse_duration_ms(self.text(t)).map_or(f64::NAN, |ms| ms as f64 / 1000.0))
        } else {
            self.number_value(t)
        }
    }

    /// A number token's value. The lexer lets through some text Go's `strconv` refuses (`2e` before `)` or
    /// `+`): Prometheus's `number()` reports it.
    fn number_value(&mut self, t: &Token) -> R<f64> {
        let text = self.text(t);
        match parse_number(text) {
            Some(v) => Ok(v),
            None => {
                let message = format!(
                    "error parsing number: strconv.ParseFloat: parsing {}: invalid syntax",
                    go_quote(text.as_bytes())
                );
                self.err(t.pos, t.end, message);
                Err(Stop)
            }
        }
    }

    /// `( [+|-] number )`.
    fn fill_value(&mut self) -> R<f64> {
        self.expect(K::LeftParen, "", "\"(\"")?;
        let neg = self.optional_sign();
        if !matches!(self.peek_kind(), K::Number | K::Duration) {
            return Err(self.unexpected("", "number"));
        }
        let t = self.bump();
        let v = self.literal_seconds(&t)?;
        self.expect(K::RightParen, "", "\")\"")?;
        Ok(if neg { -v } else { v })
    }

    fn unary(&mut self) -> R<Expr> {
        if matches!(self.peek_kind(), K::Add | K::Sub) {
            let op = self.bump();
            // The operand binds as tightly as `*`: `-a ^ b` is `-(a ^ b)`, `-a * b` is `(-a) * b`.
            let e = self.expr(6)?;
            return Ok(match e {
                Expr::Number { value, span } => Expr::Number {
                    value: if op.kind == K::Sub { -value } else { value },
                    span: Span::new(op.pos, span.end),
                },
                e => Expr::Unary {
                    op: op.kind,
                    expr: Box::new(e),
                    start: op.pos,
                },
            });
        }
        let e = self.primary()?;
        self.postfix(e)
    }

    /// Ranges, subqueries, `offset` and `@` after an expression: they bind tighter than any operator.
    fn postfix(&mut self, mut e: Expr) -> R<Expr> {
        loop {
            match self.peek_kind() {
                K::LeftBracket => e = self.range_or_subquery(e)?,
                K::Offset => {
                    self.bump();
                    if !self.starts_duration() {
                        return Err(
                            self.unexpected("offset", "number, duration, step(), or range()")
                        );
                    }
                    let node = self.offset_duration()?;
                    let value = match node {
                        DurationNode::Number { value, span, .. } => {
                            OffsetValue::Ms(self.literal_ms(value, span))
                        }
                        DurationNode::Expr(d) => OffsetValue::Expr(d),
                    };
                    self.set_offset(&mut e, value);
                }
                K::At => {
                    self.bump();
                    let at = match self.peek_kind() {
                        K::Start | K::End => {
                            let t = self.bump();
                            self.expect(K::LeftParen, "@", "\"(\"")?;
                            self.expect(K::RightParen, "@", "\")\"")?;
                            if t.kind == K::Start {
                                At::Start
                            } else {
                                At::End
                            }
                        }
                        K::Number | K::Duration | K::Add | K::Sub => {
                            let neg = self.optional_sign();
                            if !matches!(self.peek_kind(), K::Number | K::Duration) {
                                return Err(self.unexpected("@", "timestamp"));
                            }
                            let t = self.bump();
                            let mut v = self.literal_seconds(&t)?;
                            if neg {
                                v = -v;
                            }
                            if !v.is_finite() || v >= i64::MAX as f64 || v <= i64::MIN as f64 {
                                let sp = e.span();
                                self.err(
                                    sp.start,
                                    sp.end,
                                    // Go's `%f`: `+Inf`, `-Inf`, `NaN`, else six decimals.
                                    format!(
                                        "timestamp out of bounds for @ modifier: {}",
                                        if v.is_finite() {
                                            format!("{v:.6}")
                                        } else {
                                            crate::text::gofmt::format_float_v(v)
                                        }
                                    ),
                                );
                            }
                            At::Time((v * 1000.0).round() as i64)
                        }
                        _ => return Err(self.unexpected("@", "timestamp")),
                    };
                    self.set_at(&mut e, at);
                }
                K::Anchored | K::Smoothed => {
                    let t = self.bump();
                    self.set_extended(&mut e, t.kind);
                }
                _ => return Ok(e),
            }
        }
    }

    /// `anchored` / `smoothed` after a selector (Prometheus's `setAnchored` / `setSmoothed`).
    fn set_extended(&mut self, e: &mut Expr, kind: K) {
        let word = if kind == K::Anchored {
            "anchored"
        } else {
            "smoothed"
        };
        let sp = e.span();
        if !self.options.extended_range_selectors {
            self.err(
                sp.start,
                sp.end,
                format!("{word} modifier is experimental and not enabled"),
            );
            return;
        }
        let vs = match e {
            Expr::Vector(vs) => vs,
            Expr::Matrix { selector, .. } => selector,
            Expr::Subquery { .. } => {
                self.err(
                    sp.start,
                    sp.end,
                    format!("{word} modifier is not supported for subqueries"),
                );
                return;
            }
            _ => {
                self.err(sp.start, sp.end, format!("{word} modifier not implemented"));
                return;
            }
        };
        let other = if kind == K::Anchored {
            vs.anchored = true;
            vs.smoothed
        } else {
            vs.smoothed = true;
            vs.anchored
        };
        if other {
            self.err(
                sp.start,
                sp.end,
                "anchored and smoothed modifiers cannot be used together".into(),
            );
        }
    }

    fn set_offset(&mut self, e: &mut Expr, value: OffsetValue) {
        let (ms, expr) = match value {
            OffsetValue::Ms(ms) => (ms, None),
            OffsetValue::Expr(d) => (0, Some(d)),
        };
        let closing = self.last_closing;
        let dup = |s: &mut Self, e: &Expr| {
            let sp = e.span();
            s.err(
                sp.start,
                sp.end,
                "offset may not be set multiple times".into(),
            );
        };
        match e {
            Expr::Vector(vs) => {
                if vs.offset_ms != 0 || vs.offset_expr.is_some() {
                    let c = e.clone();
                    dup(self, &c);
                    return;
                }
                vs.offset_ms = ms;
                vs.offset_expr = expr;
                vs.span.end = closing;
            }
            Expr::Matrix { selector, end, .. } => {
                if selector.offset_ms != 0 || selector.offset_expr.is_some() {
                    let c = e.clone();
                    dup(self, &c);
                    return;
                }
                selector.offset_ms = ms;
                selector.offset_expr = expr;
                *end = closing;
            }
            Expr::Subquery {
                offset_ms,
                offset_expr,
                end,
                ..
            } => {
                if *offset_ms != 0 || offset_expr.is_some() {
                    let c = e.clone();
                    dup(self, &c);
                    return;
                }
                *offset_ms = ms;
                *offset_expr = expr;
                *end = closing;
            }
            _ => {
                let sp = e.span();
                self.err(sp.start, sp.end, "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery".into());
            }
        }
    }

    fn set_at(&mut self, e: &mut Expr, at: At) {
        let closing = self.last_closing;
        let twice = "@ <timestamp> may not be set multiple times";
        let slot: Option<(&mut Option<At>, &mut usize)> = match e {
            Expr::Vector(vs) => Some((&mut vs.at, &mut vs.span.end)),
            Expr::Matrix { selector, end, .. } => Some((&mut selector.at, end)),
            Expr::Subquery { at, end, .. } => Some((at, end)),
            _ => None,
        };
        match slot {
            Some((slot, end)) => {
                if slot.is_some() {
                    let sp = e.span();
                    self.err(sp.start, sp.end, twice.into());
                    return;
                }
                *slot = Some(at);
                *end = closing;
            }
            None => {
                let sp = e.span();
                self.err(sp.start, sp.end, "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery".into());
            }
        }
    }

    fn range_or_subquery(&mut self, e: Expr) -> R<Expr> {
        let open = self.bump(); // [
        if !self.starts_duration() {
            return Err(self.unexpected(
                "subquery or range selector",
                "number, duration, step(), or range()",
            ));
        }
        let (range_ms, range_expr) = self.positive_duration()?;
        if self.peek_kind() == K::Colon {
            self.bump();
            let (step_ms, step_expr) = if self.starts_duration() {
                self.positive_duration()?
            } else {
                (0, None)
            };
            self.expect(K::RightBracket, "subquery selector", "\"]\"")?;
            return Ok(Expr::Subquery {
                expr: Box::new(e),
                range_ms,
                range_expr,
                step_ms,
                step_expr,
                offset_ms: 0,
                offset_expr: None,
                at: None,
                end: self.last_closing,
            });
        }
        let close = self.expect(K::RightBracket, "matrix selector", "\"]\"")?;
        if let Expr::Vector(vs) = &e {
            // A range needs a plain selector (a subquery may follow modifiers).
            let modifier = if vs.offset_ms != 0 || vs.offset_expr.is_some() {
                Some("offset")
            } else if vs.at.is_some() {
                Some("@")
            } else {
                None
            };
            if let Some(m) = modifier {
                self.err(
                    open.pos,
                    close.end,
                    format!("no {m} modifiers allowed before range"),
                );
                return Err(Stop);
            }
        }
        let mut e = e;
        match &mut e {
            Expr::Vector(selector) => Ok(Expr::Matrix {
                // Expr has a Drop of its own: the selector is taken out, not moved.
                selector: std::mem::replace(selector, VectorSelector::empty()),
                range_ms,
                range_expr,
                end: self.last_closing,
            }),
            _ => {
                // Prometheus points at the range, from its `[`.
                self.err(
                    open.pos,
                    self.last_closing,
                    "ranges only allowed for vector selectors".into(),
                );
                Err(Stop)
            }
        }
    }

    /// Whether the next token can start a duration (a literal, a sign, parentheses, `step()`, ...).
    fn starts_duration(&self) -> bool {
        matches!(
            self.peek_kind(),
            K::Number
                | K::Duration
                | K::Add
                | K::Sub
                | K::LeftParen
                | K::Step
                | K::Range
                | K::MaxOf
                | K::MinOf
        )
    }

    /// Milliseconds of a literal duration (seconds for a number), or 0 with "duration out of range".
    fn literal_ms(&mut self, seconds: f64, span: Span) -> i64 {
        // time.Duration holds nanoseconds in an int64.
        if !seconds.is_finite() || seconds.abs() * 1e9 >= i64::MAX as f64 {
            self.err(span.start, span.end, "duration out of range".into());
            return 0;
        }
        (seconds * 1000.0).round() as i64
    }

    /// A range or step in brackets: a positive literal (milliseconds) or a duration expression.
    fn positive_duration(&mut self) -> R<(i64, Option<DurationExpr>)> {
        match self.duration_expr(0)? {
            DurationNode::Number { value, span, .. } => {
                let before = self.errors.len();
                let ms = self.literal_ms(value, span);
                if self.errors.len() > before || span == Span::default() {
                    // Prometheus replaces a bad literal by a zero without a position, then checks it.
                    self.err(0, 0, "duration must be greater than 0".into());
                } else if ms <= 0 {
                    self.err(
                        span.start,
                        span.end,
                        "duration must be greater than 0".into(),
                    );
                }
                Ok((ms, None))
            }
            DurationNode::Expr(d) => Ok((0, Some(d))),
        }
    }

    fn experimental_duration(&mut self, span: Span) {
        if !self.options.duration_expr {
            self.err(
                span.start,
                span.end,
                "experimental duration expression is not enabled".into(),
            );
        }
    }

    /// What may follow `offset` (`offset_duration_expr`): a literal, `step()`, `range()`, `max_of` / `min_of`,
    /// or parentheses, each with an optional sign; no bare arithmetic (`foo offset 5s - 8` subtracts 8 from
    /// `foo offset 5s`).
    fn offset_duration(&mut self) -> R<DurationNode> {
        let sign = if matches!(self.peek_kind(), K::Add | K::Sub) {
            Some(self.bump())
        } else {
            None
        };
        let t = self.peek().clone();
        let node = match t.kind {
            K::LeftParen | K::Number | K::Duration | K::Step | K::Range | K::MaxOf | K::MinOf => {
                self.duration_unary()?
            }
            _ => return Err(self.unexpected("offset", "number, duration, step(), or range()")),
        };
        let Some(op) = sign else {
            return Ok(node);
        };
        Ok(match node {
            DurationNode::Number {
                value,
                duration,
                span,
            } => self.signed_literal(&op, value, duration, span),
            DurationNode::Expr(mut d) => {
                if t.kind == K::LeftParen && d.op == K::Add && d.lhs.is_none() && d.wrapped {
                    // A signed parenthesised literal is wrapped over the literal itself
                    // (`applyUnaryOpToDurationExpr`).
                    if let Some(inner) = d.rhs.as_deref() {
                        let sp = node_span(inner);
                        d.start = sp.start;
                        d.end = sp.end;
                    }
                }
                if op.kind == K::Sub || matches!(t.kind, K::Step | K::Range) {
                    DurationNode::Expr(DurationExpr {
                        op: op.kind,
                        lhs: None,
                        rhs: Some(Box::new(DurationNode::Expr(d))),
                        wrapped: false,
                        start: op.pos,
                        end: 0,
                    })
                } else {
                    DurationNode::Expr(d)
                }
            }
        })
    }

    /// A sign applied to a duration literal: the literal negated and starting at the sign, or a zero with
    /// "duration out of range" (`applyUnaryOpToDurationExpr`).
    fn signed_literal(
        &mut self,
        op: &Token,
        value: f64,
        duration: bool,
        span: Span,
    ) -> DurationNode {
        let value = if op.kind == K::Sub { -value } else { value };
        if !value.is_finite() || value.abs() * 1e9 >= i64::MAX as f64 {
            self.err(op.pos, op.end, "duration out of range".into());
            return DurationNode::Number {
                value: 0.0,
                duration: false,
                span: Span::default(),
            };
        }
        DurationNode::Number {
            value,
            duration,
            span: Span::new(op.pos, span.end),
        }
    }

    /// Duration arithmetic with the grammar's precedence (`duration_expr`).
    fn duration_expr(&mut self, min_prec: u8) -> R<DurationNode> {
        self.nested(|p| p.duration_expr_inner(min_prec))
    }

    fn duration_expr_inner(&mut self, min_prec: u8) -> R<DurationNode> {
        let mut lhs = self.duration_unary()?;
        loop {
            let k = self.peek_kind();
            if !matches!(k, K::Add | K::Sub | K::Mul | K::Div | K::Mod | K::Pow) {
                break;
            }
            let Some((p, right)) = prec(k) else {
                break;
            };
            if p < min_prec {
                break;
            }
            let op = self.bump();
            let rhs = self.duration_expr(if right { p } else { p + 1 })?;
            self.experimental_duration(node_span(&lhs));
            if matches!(op.kind, K::Div | K::Mod) {
                if let DurationNode::Number { value, .. } = rhs {
                    if value == 0.0 {
                        let what = if op.kind == K::Div {
                            "division by zero"
                        } else {
                            "modulo by zero"
                        };
                        self.err(op.pos, op.end, what.into());
                        lhs = DurationNode::Number {
                            value: 0.0,
                            duration: false,
                            span: Span::default(),
                        };
                        continue;
                    }
                }
            }
            lhs = DurationNode::Expr(DurationExpr {
                op: op.kind,
                lhs: Some(Box::new(lhs)),
                rhs: Some(Box::new(rhs)),
                wrapped: false,
                start: 0,
                end: 0,
            });
        }
        Ok(lhs)
    }

    fn duration_unary(&mut self) -> R<DurationNode> {
        if matches!(self.peek_kind(), K::Add | K::Sub) {
            let op = self.bump();
            // As `*` binds: `-2^2` is `-(2^2)`.
            let e = self.duration_expr(6)?;
            return Ok(match e {
                DurationNode::Number {
                    value,
                    duration,
                    span,
                } => self.signed_literal(&op, value, duration, span),
                DurationNode::Expr(d) if op.kind == K::Sub => DurationNode::Expr(DurationExpr {
                    op: K::Sub,
                    lhs: None,
                    rhs: Some(Box::new(DurationNode::Expr(d))),
                    wrapped: false,
                    start: op.pos,
                    end: 0,
                }),
                other => other,
            });
        }
        let t = self.peek().clone();
        match t.kind {
            K::Number | K::Duration => {
                self.bump();
                let text = self.text(&t);
                let value = if t.kind == K::Duration {
                    match parse_duration_ms(text) {
                        Ok(ms) => ms as f64 / 1000.0,
                        Err(m) => {
                            // Prometheus goes on with a zero duration (so a range also gets `duration must
                            // be greater than 0`).
                            self.err(t.pos, t.end, m);
                            0.0
                        }
                    }
                } else {
                    self.number_value(&t)?
                };
                Ok(DurationNode::Number {
                    value,
                    duration: t.kind == K::Duration,
                    span: Span::new(t.pos, t.end),
                })
            }
            K::LeftParen => {
                self.bump();
                let inner = self.duration_expr(0)?;
                let close = self.expect(K::RightParen, "", "\")\"")?;
                self.experimental_duration(node_span(&inner));
                Ok(match inner {
                    DurationNode::Expr(mut d) => {
                        d.wrapped = true;
                        DurationNode::Expr(d)
                    }
                    n => DurationNode::Expr(DurationExpr {
                        op: K::Add,
                        lhs: None,
                        rhs: Some(Box::new(n)),
                        wrapped: true,
                        start: t.pos,
                        end: close.end,
                    }),
                })
            }
            K::Step | K::Range => {
                self.bump();
                self.expect(K::LeftParen, "", "\"(\"")?;
                let close = self.expect(K::RightParen, "", "\")\"")?;
                self.experimental_duration(Span::new(t.pos, close.end));
                Ok(DurationNode::Expr(DurationExpr {
                    op: t.kind,
                    lhs: None,
                    rhs: None,
                    wrapped: false,
                    start: t.pos,
                    end: close.end,
                }))
            }
            K::MaxOf | K::MinOf => {
                self.bump();
                self.expect(K::LeftParen, "", "\"(\"")?;
                let a = self.duration_expr(0)?;
                self.expect(K::Comma, "", "\",\"")?;
                let b = self.duration_expr(0)?;
                let close = self.expect(K::RightParen, "", "\")\"")?;
                self.experimental_duration(Span::new(t.pos, close.end));
                Ok(DurationNode::Expr(DurationExpr {
                    op: t.kind,
                    lhs: Some(Box::new(a)),
                    rhs: Some(Box::new(b)),
                    wrapped: false,
                    start: t.pos,
                    end: close.end,
                }))
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    fn grouping_labels(&mut self) -> R<Vec<String>> {
        self.expect(K::LeftParen, "grouping opts", "\"(\"")?;
        let mut out = Vec::new();
        loop {
            match self.peek_kind() {
                K::RightParen => {
                    self.bump();
                    return Ok(out);
                }
                K::String => {
                    let t = self.bump();
                    let v = unquote(self.text(&t)).unwrap_or_default();
                    out.push(v);
                }
                k if k == K::Identifier
                    || k == K::MetricIdentifier
                    || k.is_keyword()
                    || k.is_aggregator()
                    || matches!(
                        k,
                        K::Land
                            | K::Lor
                            | K::Lunless
                            | K::Atan2
                            | K::Start
                            | K::End
                            | K::Step
                            | K::Range
                    ) =>
                {
                    let t = self.bump();
                    let name = self.text(&t).to_string();
                    if k == K::MetricIdentifier {
                        self.err(
                            t.pos,
                            t.end,
                            format!(
                                "invalid label name for grouping: {}",
                                go_quote(name.as_bytes())
                            ),
                        );
                    }
                    out.push(name);
                }
                _ => return Err(self.unexpected("grouping opts", "label")),
            }
            match self.peek_kind() {
                K::Comma => {
                    self.bump();
                }
                K::RightParen => {}
                _ => return Err(self.unexpected("grouping opts", "\",\" or \")\"")),
            }
        }
    }

    fn primary(&mut self) -> R<Expr> {
        let t = self.peek().clone();
        match t.kind {
            K::Number | K::Duration => {
                self.bump();
                let value = if t.kind == K::Duration {
                    match parse_duration_ms(self.text(&t)) {
                        Ok(ms) => ms as f64 / 1000.0,
                        Err(m) => {
                            self.err(t.pos, t.end, m);
                            return Err(Stop);
                        }
                    }
                } else {
                    let v = self.number_value(&t)?;
                    let text = self.text(&t);
                    if v.is_infinite() && !text.to_ascii_lowercase().contains("inf") {
                        self.err(
                            t.pos,
                            t.end,
                            format!(
                                "error parsing number: strconv.ParseFloat: parsing {}: value out of range",
                                go_quote(text.as_bytes())
                            ),
                        );
                        return Err(Stop);
                    }
                    v
                };
                Ok(Expr::Number {
                    value,
                    span: Span::new(t.pos, t.end),
                })
            }
            K::String => {
                self.bump();
                let value = match unquote(self.text(&t)) {
                    Ok(v) => v,
                    Err(e) => {
                        self.err(
                            t.pos,
                            t.end,
                            format!(
                                "error unquoting string {}: {e}",
                                go_quote(self.text(&t).as_bytes())
                            ),
                        );
                        String::new()
                    }
                };
                Ok(Expr::String {
                    value,
                    span: Span::new(t.pos, t.end),
                })
            }
            K::LeftParen => {
                self.bump();
                let inner = self.expr(0)?;
                let close = self.expect(K::RightParen, "paren expression", "\")\"")?;
                Ok(Expr::Paren {
                    expr: Box::new(inner),
                    span: Span::new(t.pos, close.end),
                })
            }
            K::LeftBrace => {
                let vs = self.selector(String::new(), t.pos)?;
                Ok(Expr::Vector(vs))
            }
            // `step()`, `range()`, `start()`, `end()`, `min_of(a, b)`, `max_of(a, b)` are (experimental)
            // functions where an expression is expected.
            K::Identifier | K::Start | K::End | K::Step | K::Range | K::MaxOf | K::MinOf
                if self.peek_at(1) == K::LeftParen =>
            {
                self.call()
            }
            k if k.is_aggregator()
                && matches!(self.peek_at(1), K::LeftParen | K::By | K::Without) =>
            {
                self.aggregate()
            }
            k if k == K::Identifier
                || k == K::MetricIdentifier
                || k.is_aggregator()
                || k.is_keyword()
                || matches!(
                    k,
                    K::Land | K::Lor | K::Lunless | K::Start | K::End | K::Step | K::Range
                ) =>
            {
                self.bump();
                let name = self.text(&t).to_string();
                if self.peek_kind() == K::LeftBrace {
                    let vs = self.selector(name, t.pos)?;
                    return Ok(Expr::Vector(vs));
                }
                let matchers = vec![LabelMatcher {
                    name: "__name__".into(),
                    op: MatchOp::Equal,
                    value: name.clone(),
                }];
                Ok(Expr::Vector(VectorSelector {
                    name,
                    matchers,
                    span: Span::new(t.pos, t.end),
                    ..VectorSelector::empty()
                }))
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    fn selector(&mut self, name: String, start: usize) -> R<VectorSelector> {
        self.bump(); // {
        let mut matchers = Vec::new();
        let metric_name = name;
        loop {
            match self.peek_kind() {
                K::RightBrace => {
                    self.bump();
                    break;
                }
                K::Identifier | K::String => {
                    let label = self.bump();
                    let label_name = if label.kind == K::String {
                        unquote(self.text(&label)).unwrap_or_default()
                    } else {
                        self.text(&label).to_string()
                    };
                    let op = match self.peek_kind() {
                        K::Eql => MatchOp::Equal,
                        K::Neq => MatchOp::NotEqual,
                        K::EqlRegex => MatchOp::Regexp,
                        K::NeqRegex => MatchOp::NotRegexp,
                        K::Comma | K::RightBrace if label.kind == K::String => {
                            // A bare quoted name is the metric name, as a matcher only (the selector's
                            // Name stays empty, as in Prometheus).
                            matchers.push(LabelMatcher {
                                name: "__name__".into(),
                                op: MatchOp::Equal,
                                value: label_name,
                            });
                            if self.peek_kind() == K::Comma {
                                self.bump();
                            }
                            continue;
                        }
                        _ => {
                            return Err(self.unexpected("label matching", "label matching operator"))
                        }
                    };
                    self.bump();
                    if self.peek_kind() != K::String {
                        return Err(self.unexpected("label matching", "string"));
                    }
                    let v = self.bump();
                    let value = unquote(self.text(&v)).unwrap_or_default();
                    if matches!(op, MatchOp::Regexp | MatchOp::NotRegexp) {
                        let anchored = format!("^(?s:{value})$");
                        if let Err(e) = regex::Regex::new(&anchored) {
                            // Go's wording: `error parsing regexp: <what>: `<regexp>``.
                            let what = crate::series::matcher::regex_error_text(&e);
                            self.err(
                                label.pos,
                                v.end,
                                format!("error parsing regexp: {what}: `{anchored}`"),
                            );
                        }
                    }
                    matchers.push(LabelMatcher {
                        name: label_name,
                        op,
                        value,
                    });
                    match self.peek_kind() {
                        K::Comma => {
                            self.bump();
                        }
                        K::RightBrace => {}
                        _ => return Err(self.unexpected("label matching", "\",\" or \"}\"")),
                    }
                }
                _ => return Err(self.unexpected("label matching", "identifier or \"}\"")),
            }
        }
        if !metric_name.is_empty() {
            matchers.push(LabelMatcher {
                name: "__name__".into(),
                op: MatchOp::Equal,
                value: metric_name.clone(),
            });
        }
        Ok(VectorSelector {
            name: metric_name,
            matchers,
            span: Span::new(start, self.last_closing),
            ..VectorSelector::empty()
        })
    }

    fn call_args(&mut self) -> R<Vec<Expr>> {
        self.expect(K::LeftParen, "", "\"(\"")?;
        let mut args = Vec::new();
        if self.peek_kind() == K::RightParen {
            self.bump();
            return Ok(args);
        }
        loop {
            args.push(self.expr(0)?);
            match self.peek_kind() {
                K::Comma => {
                    let c = self.bump();
                    if self.peek_kind() == K::RightParen {
                        self.err(
                            c.pos,
                            c.end,
                            "trailing commas not allowed in function call args".into(),
                        );
                        self.bump();
                        return Ok(args);
                    }
                }
                K::RightParen => {
                    self.bump();
                    return Ok(args);
                }
                _ => return Err(self.unexpected("", "\",\" or \")\"")),
            }
        }
    }

    fn call(&mut self) -> R<Expr> {
        let name_tok = self.bump();
        let name = self.text(&name_tok).to_string();
        match functions::get_for(&name, self.options.prometheus2_functions) {
            None => self.err(
                name_tok.pos,
                name_tok.end,
                format!("unknown function with name {}", go_quote(name.as_bytes())),
            ),
            Some(f) if f.experimental && !self.options.experimental_functions => self.err(
                name_tok.pos,
                name_tok.end,
                format!("function {} is not enabled", go_quote(name.as_bytes())),
            ),
            Some(_) => {}
        }
        let args = self.call_args()?;
        Ok(Expr::Call {
            func: name,
            args,
            span: Span::new(name_tok.pos, self.last_closing),
        })
    }

    fn aggregate(&mut self) -> R<Expr> {
        let op = self.bump();
        let mut grouping = Vec::new();
        let mut without = false;
        let mut modifier = false;
        if matches!(self.peek_kind(), K::By | K::Without) {
            without = self.bump().kind == K::Without;
            grouping = self.grouping_labels()?;
            modifier = true;
        }
        let args = self.call_args()?;
        if !modifier && matches!(self.peek_kind(), K::By | K::Without) {
            without = self.bump().kind == K::Without;
            grouping = self.grouping_labels()?;
        }
        let span = Span::new(op.pos, self.last_closing);
        if args.is_empty() {
            self.err(
                span.start,
                span.end,
                "no arguments for aggregate expression provided".into(),
            );
            return Err(Stop);
        }
        let with_param = matches!(
            op.kind,
            K::Topk | K::Bottomk | K::CountValues | K::Quantile | K::Limitk | K::LimitRatio
        );
        if matches!(op.kind, K::Limitk | K::LimitRatio) && !self.options.experimental_functions {
            self.err(
                span.start,
                span.end,
                format!(
                    "{}() is experimental and must be enabled with --enable-feature=promql-experimental-functions",
                    self.text(&op)
                ),
            );
            return Err(Stop);
        }
        let want = if with_param { 2 } else { 1 };
        if args.len() != want {
            self.err(
                span.start,
                span.end,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                    args.len()
                ),
            );
            return Err(Stop);
        }
        let mut args = args.into_iter();
        let param = if with_param {
            args.next().map(Box::new)
        } else {
            None
        };
        let expr = Box::new(args.next().ok_or(Stop)?);
        Ok(Expr::Aggregate {
            op: op.kind,
            expr,
            param,
            grouping,
            without,
            span,
        })
    }

    /// Checks a chain of binary operations (`a + b + c ...`, as deep as it is long) without recursing down its
    /// left operands: the chain is taken apart along its left edge, the innermost operation checked first, and
    /// each one above it with the type of the one below, in the order Prometheus's `checkAST` visits them.
    fn check_chain(&mut self, e: &mut Expr) -> ValueType {
        let mut spine: Vec<Expr> = Vec::new();
        let mut cur = std::mem::replace(e, Expr::placeholder());
        loop {
            let next = match &mut cur {
                Expr::Binary { lhs, .. } if matches!(**lhs, Expr::Binary { .. }) => {
                    std::mem::replace(&mut **lhs, Expr::placeholder())
                }
                _ => break,
            };
            spine.push(cur);
            cur = next;
        }
        let lt = match &mut cur {
            Expr::Binary { lhs, .. } => self.check(lhs),
            _ => unreachable!("check_chain is called on a binary operation"),
        };
        let mut ty = self.check_binary(&mut cur, lt);
        while let Some(mut parent) = spine.pop() {
            if let Expr::Binary { lhs, .. } = &mut parent {
                **lhs = cur;
            }
            ty = self.check_binary(&mut parent, ty);
            cur = parent;
        }
        *e = cur;
        ty
    }

    /// One binary operation whose left operand was checked (its type `lt`): its right operand, then itself.
    fn check_binary(&mut self, e: &mut Expr, lt: ValueType) -> ValueType {
        let Expr::Binary {
            op,
            lhs,
            rhs,
            matching,
            return_bool,
        } = e
        else {
            return lt;
        };
        let rt = self.check(rhs);
        let ty = if lt == ValueType::Scalar && rt == ValueType::Scalar {
            ValueType::Scalar
        } else {
            ValueType::Vector
        };
        let op_range = || {
            let (a, b) = (lhs.span().end, rhs.span().start);
            let bytes = self.input.as_bytes();
            let mut s = a;
            while s < bytes.len() && bytes[s].is_ascii_whitespace() {
                s += 1;
            }
            let mut e = b.saturating_sub(1);
            while e > s && bytes[e].is_ascii_whitespace() {
                e -= 1;
            }
            (s, e)
        };
        if *return_bool && !op.is_comparison() {
            let (s, e) = op_range();
            self.err(
                s,
                e,
                "bool modifier can only be used on comparison operators".into(),
            );
        }
        if op.is_comparison() && !*return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar
        {
            let (s, e) = op_range();
            self.err(
                s,
                e,
                "comparisons between scalars must use BOOL modifier".into(),
            );
        }
        // Only for messages: finding the start walks down the left operand's chain.
        let whole = || Span::new(lhs.span().start, rhs.span().end);
        if let Some(m) = matching.as_mut() {
            if op.is_set_operator() && m.card == Card::OneToOne {
                m.card = Card::ManyToMany;
            }
            if m.on {
                for l1 in &m.matching_labels {
                    if m.include.contains(l1) {
                        let (s, e) = op_range();
                        self.errors.push(ParseError {
                            start: s,
                            end: e,
                            message: format!(
                                "label {} must not occur in ON and GROUP clause at once",
                                go_quote(l1.as_bytes())
                            ),
                        });
                    }
                }
            }
        }
        if lt != ValueType::Scalar && lt != ValueType::Vector {
            let sp = lhs.span();
            self.err(
                sp.start,
                sp.end,
                "binary expression must contain only scalar and instant vector types".into(),
            );
        }
        if rt != ValueType::Scalar && rt != ValueType::Vector {
            let sp = rhs.span();
            self.err(
                sp.start,
                sp.end,
                "binary expression must contain only scalar and instant vector types".into(),
            );
        }
        let op_name = op_text(*op);
        if lt != ValueType::Vector || rt != ValueType::Vector {
            if let Some(m) = matching.take() {
                if !m.matching_labels.is_empty() {
                    self.err(
                        whole().start,
                        whole().end,
                        "vector matching only allowed between instant vectors".into(),
                    );
                }
            }
        } else if op.is_set_operator() {
            if let Some(m) = matching.as_ref() {
                if matches!(m.card, Card::OneToMany | Card::ManyToOne) {
                    self.err(
                        whole().start,
                        whole().end,
                        format!("no grouping allowed for \"{op_name}\" operation"),
                    );
                }
                if m.card != Card::ManyToMany {
                    self.err(
                        whole().start,
                        whole().end,
                        "set operations must always be many-to-many".into(),
                    );
                }
            }
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && op.is_set_operator() {
            self.err(
                whole().start,
                whole().end,
                format!("set operator \"{op_name}\" not allowed in binary scalar expression"),
            );
        }
        ty
    }

    /// Prometheus's `checkAST`: types of operands and arguments, vector matching, selectors that match
    /// everything.
    fn check(&mut self, e: &mut Expr) -> ValueType {
        // Types come up from the children as they are checked (asking each node for its type would walk
        // its whole subtree again: quadratic on a long chain of operators).
        let mut ty = match &*e {
            Expr::Binary { .. } | Expr::Paren { .. } | Expr::Unary { .. } => ValueType::Vector,
            other => other.value_type(),
        };
        match e {
            Expr::Aggregate {
                op, expr, param, ..
            } => {
                self.expect_type(expr, ValueType::Vector, "aggregation expression");
                if let Some(p) = param {
                    if *op == K::CountValues {
                        self.expect_type(p, ValueType::String, "aggregation parameter");
                    } else {
                        self.expect_type(p, ValueType::Scalar, "aggregation parameter");
                    }
                }
            }
            Expr::Binary { .. } => return self.check_chain(e),
            Expr::Call { func, args, span } => {
                if let Some(f) = functions::get_for(func, self.options.prometheus2_functions) {
                    let nargs = f.arg_types.len();
                    if f.variadic == 0 {
                        if nargs != args.len() {
                            self.err(
                                span.start,
                                span.end,
                                format!(
                                    "expected {nargs} argument(s) in call to {}, got {}",
                                    go_quote(func.as_bytes()),
                                    args.len()
                                ),
                            );
                        }
                    } else {
                        let na = nargs.saturating_sub(1);
                        if na > args.len() {
                            self.err(
                                span.start,
                                span.end,
                                format!(
                                    "expected at least {na} argument(s) in call to {}, got {}",
                                    go_quote(func.as_bytes()),
                                    args.len()
                                ),
                            );
                        } else if f.variadic > 0
                            && na + f.variadic as usize > 0
                            && na + (f.variadic as usize) < args.len()
                        {
                            self.err(
                                span.start,
                                span.end,
                                format!(
                                    "expected at most {} argument(s) in call to {}, got {}",
                                    na + f.variadic as usize,
                                    go_quote(func.as_bytes()),
                                    args.len()
                                ),
                            );
                        }
                    }
                    let func = func.clone();
                    if func == "info" && args.len() > 1 {
                        let t = args[1].value_type();
                        if t != ValueType::Vector {
                            self.err(span.start, span.end, format!("expected type instant vector in call to function \"info\", got {}", t.name()));
                        }
                        let sp = args[1].span();
                        match &mut args[1] {
                            Expr::Vector(vs) if !vs.name.is_empty() => self.err(
                                sp.start,
                                sp.end,
                                "expected label selectors only, got vector selector instead".into(),
                            ),
                            Expr::Vector(vs) => vs.bypass_empty_matcher_check = true,
                            _ => self.err(sp.start, sp.end, "expected label selectors only".into()),
                        }
                    }
                    for (i, a) in args.iter_mut().enumerate() {
                        let idx = if i >= nargs {
                            if f.variadic == 0 {
                                break;
                            }
                            nargs - 1
                        } else {
                            i
                        };
                        let t = self.check(a);
                        if t != f.arg_types[idx] {
                            let sp = a.span();
                            self.err(
                                sp.start,
                                sp.end,
                                format!(
                                    "expected type {} in call to function {}, got {}",
                                    f.arg_types[idx].name(),
                                    go_quote(func.as_bytes()),
                                    t.name()
                                ),
                            );
                        }
                    }
                }
            }
            Expr::Paren { expr, .. } => {
                ty = self.check(expr);
            }
            Expr::Unary { expr, start, .. } => {
                let t = self.check(expr);
                ty = t;
                if t != ValueType::Scalar && t != ValueType::Vector {
                    let end = expr.span().end;
                    self.err(*start, end, format!("unary expression only allowed on expressions of type scalar or instant vector, got \"{}\"", t.name()));
                }
            }
            Expr::Subquery { expr, .. } => {
                let t = self.check(expr);
                if t != ValueType::Vector {
                    let sp = e.span();
                    let word = match t {
                        ValueType::Matrix => "matrix",
                        ValueType::Scalar => "scalar",
                        ValueType::String => "string",
                        ValueType::Vector => "vector",
                    };
                    self.err(
                        sp.start,
                        sp.end,
                        format!("subquery is only allowed on instant vector, got {word} instead"),
                    );
                }
            }
            Expr::Matrix { selector, .. } => self.check_selector(&selector.clone()),
            Expr::Vector(vs) => {
                let vs = vs.clone();
                self.check_selector(&vs);
            }
            Expr::Number { .. } | Expr::String { .. } => {}
        }
        ty
    }

    fn check_selector(&mut self, vs: &VectorSelector) {
        if !vs.name.is_empty() {
            let n = vs.matchers.len();
            for m in &vs.matchers[..n.saturating_sub(1)] {
                if m.name == "__name__" {
                    self.err(
                        vs.span.start,
                        vs.span.end,
                        format!(
                            "metric name must not be set twice: {} or {}",
                            go_quote(vs.name.as_bytes()),
                            go_quote(m.value.as_bytes())
                        ),
                    );
                }
            }
            return;
        }
        let matches_empty = |m: &LabelMatcher| match m.op {
            MatchOp::Equal => m.value.is_empty(),
            MatchOp::NotEqual => !m.value.is_empty(),
            MatchOp::Regexp => {
                regex::Regex::new(&format!("^(?s:{})$", m.value)).is_ok_and(|r| r.is_match(""))
            }
            MatchOp::NotRegexp => {
                !regex::Regex::new(&format!("^(?s:{})$", m.value)).is_ok_and(|r| r.is_match(""))
            }
        };
        if !vs.bypass_empty_matcher_check && vs.matchers.iter().all(matches_empty) {
            self.err(
                vs.span.start,
                vs.span.end,
                "vector selector must contain at least one non-empty matcher".into(),
            );
        }
    }

    fn expect_type(&mut self, e: &mut Expr, want: ValueType, context: &str) {
        let t = self.check(e);
        if t != want {
            let sp = e.span();
            self.err(
                sp.start,
                sp.end,
                format!(
                    "expected type {} in {context}, got {}",
                    want.name(),
                    t.name()
                ),
            );
        }
    }
}

fn op_text(k: K) -> &'static str {
    match k {
        K::Land => "and",
        K::Lor => "or",
        K::Lunless => "unless",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_chains_parse_on_a_small_stack() {
        // Checking, spans, types and dropping walk operator chains without recursion, and nesting is capped:
        // neither a 100,000-term sum nor 10,000 parentheses exhaust the 2 MiB stack of a test thread (debug
        // build). (Debug-printing such a tree still recurses: the assertions never print one.)
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let sum = vec!["up"; 100_000].join(" + ");
                let e = parse(&sum).unwrap();
                assert!(e.value_type() == ValueType::Vector);
                assert!(e.span() == Span::new(0, sum.len()));
                let scalars = vec!["1"; 100_000].join(" * ");
                assert!(parse(&scalars).unwrap().value_type() == ValueType::Scalar);
                let e = parse(&format!("sum({sum} > {scalars})")).unwrap();
                assert!(matches!(e, Expr::Aggregate { .. }));
                // A type error deep in the chain is found, at its place.
                let bad = format!("{sum} + {{a=\"b\"}}[5m]");
                let Err(errors) = parse(&bad) else {
                    panic!("a range vector in the chain")
                };
                assert!(errors[0].start == sum.len() + 3, "{:?}", errors[0]);
                let nested = format!("{}up{}", "(".repeat(10_000), ")".repeat(10_000));
                let Err(errors) = parse(&nested) else {
                    panic!("too deep")
                };
                assert!(
                    errors[0].message.contains("nested too deeply"),
                    "{errors:?}"
                );
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn errors_name_line_and_column_as_prometheus_does() {
        let e = ParseError {
            start: 9,
            end: 10,
            message: "unexpected end of input".into(),
        };
        assert_eq!(
            e.text_in("sum(\n  rate("),
            "2:5: parse error: unexpected end of input"
        );
        let e = ParseError {
            start: 0,
            end: 0,
            message: "x".into(),
        };
        assert_eq!(e.text_in(""), "1:1: parse error: x");
    }

    #[test]
    fn numbers_and_durations_as_prometheus_reads_them() {
        assert_eq!(parse_number("0xc"), Some(12.0));
        assert_eq!(parse_number("0755"), Some(493.0));
        assert_eq!(parse_number("5."), Some(5.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert!(parse_number("NaN").unwrap().is_nan());
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("5ms"), Ok(5));
        assert!(parse_duration_ms("30m1h").is_err());
        assert_eq!(unquote("\"a\\tb\"").unwrap(), "a\tb");
        assert_eq!(unquote("`a\\tb`").unwrap(), "a\\tb");
    }

    #[test]
    fn precedence_follows_the_grammar() {
        let e = parse("1 + 2 * 3 ^ 2 ^ 2").unwrap();
        let Expr::Binary { op, rhs, .. } = &e else {
            panic!()
        };
        assert_eq!(*op, K::Add);
        let Expr::Binary { op, rhs, .. } = &**rhs else {
            panic!()
        };
        assert_eq!(*op, K::Mul);
        let Expr::Binary { op, rhs, .. } = &**rhs else {
            panic!()
        };
        assert_eq!(*op, K::Pow);
        assert!(matches!(**rhs, Expr::Binary { op: K::Pow, .. }));
        // Unary minus binds like `*`.
        let e = parse("-foo ^ 2").unwrap();
        assert!(matches!(e, Expr::Unary { .. }));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // On the test thread's own stack (2 MiB).
        let s = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        let err = parse(&s).unwrap_err();
        assert_eq!(err[0].message, "expression nested too deeply");
        let s = format!("{}x{}", "sum(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(
            parse(&s).unwrap_err()[0].message,
            "expression nested too deeply"
        );
        // Nesting within the limit parses.
        let s = format!("{}1{}", "(".repeat(90), ")".repeat(90));
        assert!(parse(&s).is_ok());
    }
}
