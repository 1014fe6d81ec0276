//! PromQL text to syntax tree, through promql-parser 0.11. Its error text is kept; where it rejects
//! syntax newer Prometheus versions accept, the error says so.

pub use promql_parser::parser::Expr;

/// The parser's rejection of a query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Invalid(String),
    #[error("unsupported syntax: {0}")]
    Unsupported(String),
}

/// The function whose argument list encloses byte `at`, if any.
fn enclosing_function(text: &str, at: usize) -> Option<&str> {
    let b = text.as_bytes();
    let mut depth = 0i32;
    let mut i = at;
    while i > 0 {
        i -= 1;
        match b[i] {
            b')' => depth += 1,
            b'(' if depth == 0 => {
                let end = i;
                let mut s = end;
                while s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_') {
                    s -= 1;
                }
                return (s < end).then(|| &text[s..end]);
            }
            b'(' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Prometheus's error for a `smoothed`/`anchored` range modifier on a function that does not take it.
/// promql-parser 0.11 cannot read these modifiers at all; this keeps Prometheus's wording for the misuse.
fn misplaced_range_modifier(text: &str) -> Option<String> {
    for (word, allowed) in [
        ("smoothed", &["delta", "increase", "rate"][..]),
        (
            "anchored",
            &["changes", "delta", "increase", "rate", "resets"][..],
        ),
    ] {
        for (pos, _) in text.match_indices(word) {
            if !text[..pos].trim_end().ends_with(']') {
                continue;
            }
            if let Some(f) = enclosing_function(text, pos) {
                if !allowed.contains(&f) {
                    return Some(format!(
                        "{word} modifier can only be used with: {} - not with {f}",
                        allowed.join(", ")
                    ));
                }
            }
        }
    }
    None
}

/// Direct sub-expressions, in source order.
pub fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Aggregate(a) => {
            let mut v: Vec<&Expr> = a.param.iter().map(|p| p.as_ref()).collect();
            v.push(&a.expr);
            v
        }
        Expr::Unary(u) => vec![&u.expr],
        Expr::Binary(b) => vec![&b.lhs, &b.rhs],
        Expr::Paren(p) => vec![&p.expr],
        Expr::Subquery(s) => vec![&s.expr],
        Expr::Call(c) => c.args.args.iter().map(|a| a.as_ref()).collect(),
        _ => vec![],
    }
}

/// Visits `e` and every sub-expression, parents first.
pub fn walk<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    for c in children(e) {
        walk(c, f);
    }
}

/// Parses a PromQL expression (as an instant query: `step()` and `range()` in duration expressions are 0).
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    parse_for_query(text, 0, 0)
}

/// Parses a PromQL expression for a query of the given step and range (ms), which duration expressions
/// such as `[step()*2]` depend on.
///
/// Experimental constructs need their feature ([`super::features`]): without it the text is refused with
/// Prometheus's parse error, as the server refuses such a rule.
pub fn parse_for_query(text: &str, step_ms: i64, range_ms: i64) -> Result<Expr, ParseError> {
    use super::semantics::Semantics;
    if let Some(e) = super::legacy_names::quoted_name_in_query(text) {
        return Err(ParseError::Invalid(e));
    }
    // Go strings hold bytes that are not UTF-8 (`"\xff"`); they are marked so names holding them are refused.
    let marked = super::legacy_names::mark_invalid_utf8(text);
    let text = marked.as_deref().unwrap_or(text);
    // Prometheus 2's `holt_winters` is read as its 3.x name, which promql-parser knows (it does not know the
    // old one); under Prometheus 3 semantics it stays unknown, as there.
    let renamed = Semantics::active()
        .has(super::semantics::Difference::HoltWinters)
        .then(|| rename_holt_winters(text))
        .flatten();
    let text = renamed.as_deref().unwrap_or(text);
    check_number_durations(text)?;
    let (expr, rewritten) = match promql_parser::parser::parse(text) {
        Ok(e) => (e, false),
        Err(first) => match super::duration_expr::rewrite(text, step_ms, range_ms) {
            Some(plain) => {
                check_number_durations(&plain)?;
                let e = promql_parser::parser::parse(&plain).map_err(|_| classify(text, first))?;
                (e, true)
            }
            None => return Err(classify(text, first)),
        },
    };
    super::features::check_semantics(&expr, Semantics::active(), renamed.is_some())
        .map_err(ParseError::Invalid)?;
    let mut features = super::features::Features::active();
    if renamed.is_some() {
        // holt_winters is a stable function in Prometheus 2.
        features = features.with(super::features::Feature::ExperimentalFunctions);
    }
    super::features::check(&expr, rewritten, features).map_err(ParseError::Invalid)?;
    Ok(expr)
}

/// `text` with every call of `holt_winters` (outside string literals and comments) renamed to
/// `double_exponential_smoothing`; None when there is none. Identifiers are found on bytes and the text is
/// cut only at their (ASCII) ends, so any UTF-8 elsewhere passes through untouched.
fn rename_holt_winters(text: &str) -> Option<String> {
    const OLD: &str = "holt_winters";
    if !text.contains(OLD) {
        return None;
    }
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':';
    let mut calls = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' && q != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            c if ident(c) => {
                let start = i;
                while i < b.len() && ident(b[i]) {
                    i += 1;
                }
                if &text[start..i] == OLD && text[i..].trim_start().starts_with('(') {
                    calls.push(start);
                }
            }
            _ => i += 1,
        }
    }
    if calls.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16 * calls.len());
    let mut copied = 0;
    for at in calls {
        out.push_str(&text[copied..at]);
        out.push_str("double_exponential_smoothing");
        copied = at + OLD.len();
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// promql-parser 0.11 reads a plain number used as a duration (`x[300]`, `x[5:10]`, `x offset 60`) with
/// `Duration::from_secs_f64`, which panics on a negative, infinite, NaN or too large value
/// (`x[3333333333333333333333]`, `x[Inf]`, found by fuzzing). Such numbers are refused here first.
fn check_number_durations(text: &str) -> Result<(), ParseError> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut brackets = 0i32;
    // Whether the next token sits where the grammar reads a duration.
    let mut duration_next = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' | b'`' => {
                // Strings cannot hold a duration; skip them whole.
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' && c != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                duration_next = false;
            }
            b'#' => {
                // A comment runs to the end of the line.
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'[' => {
                brackets += 1;
                duration_next = true;
                i += 1;
            }
            b']' => {
                brackets -= 1;
                duration_next = false;
                i += 1;
            }
            b':' if brackets > 0 => {
                duration_next = true;
                i += 1;
            }
            b'+' | b'-' if duration_next => i += 1,
            _ if c.is_ascii_whitespace() => i += 1,
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' => {
                let start = i;
                while i < b.len() {
                    let d = b[i];
                    let exponent_sign = (d == b'+' || d == b'-')
                        && matches!(b[i - 1], b'e' | b'E')
                        && b[start].is_ascii_digit()
                        && !text[start..i].contains(['x', 'X']);
                    if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' || exponent_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                let word = &text[start..i];
                if duration_next && !number_fits_duration(word) {
                    return Err(ParseError::Invalid(format!(
                        "invalid duration {word:?}: not a number of seconds a duration can hold"
                    )));
                }
                duration_next = word.eq_ignore_ascii_case("offset");
            }
            _ => {
                duration_next = false;
                i += 1;
            }
        }
    }
    Ok(())
}

/// False for a number token promql-parser would read as seconds and could not turn into a Duration.
/// Anything that is not such a number (a duration such as `5m`, a name) is left to the parser; hex and
/// octal integers always fit.
fn number_fits_duration(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    if lower == "inf" || lower == "nan" {
        return false;
    }
    let decimal = lower.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && !lower.contains('x')
        && !(lower.starts_with('0') && lower.len() > 1 && !lower.contains(['.', '8', '9']));
    if !decimal {
        return true;
    }
    match lower.parse::<f64>() {
        Ok(secs) => std::time::Duration::try_from_secs_f64(secs).is_ok(),
        Err(_) => true,
    }
}

fn classify(text: &str, msg: String) -> ParseError {
    {
        if let Some(m) = misplaced_range_modifier(text) {
            return ParseError::Invalid(m);
        }
        // Syntax promql-parser 0.11 does not know (duration arithmetic, fill modifiers written in
        // newer forms, ...) surfaces as a generic error; name the likely cause.
        let newer = [
            "step()",
            "range()",
            "fill(",
            "fill_left",
            "fill_right",
            "smoothed",
            "anchored",
        ];
        if newer.iter().any(|k| text.contains(k)) {
            ParseError::Unsupported(format!(
                "{msg} (query uses syntax newer than promql-parser 0.11 reads)"
            ))
        } else {
            ParseError::Invalid(msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports() {
        assert!(parse("sum by (a) (rate(x[5m]))").is_ok());
        assert!(matches!(parse("sum(("), Err(ParseError::Invalid(_))));
    }

    #[test]
    fn range_modifier_misuse_has_prometheus_wording() {
        assert_eq!(
            parse("deriv(foo[3m] smoothed)").unwrap_err().to_string(),
            "smoothed modifier can only be used with: delta, increase, rate - not with deriv"
        );
        assert_eq!(
            parse("predict_linear(foo[3m] anchored, 4)").unwrap_err().to_string(),
            "anchored modifier can only be used with: changes, delta, increase, rate, resets - not with predict_linear"
        );
        assert!(matches!(
            parse("rate(foo[3m] smoothed)"),
            Err(ParseError::Unsupported(_))
        ));
    }
}

#[cfg(test)]
mod holt_winters_tests {
    use super::rename_holt_winters;

    #[test]
    fn renames_calls_only() {
        assert_eq!(
            rename_holt_winters("holt_winters(x[5m], 0.5, 0.5) > 1").as_deref(),
            Some("double_exponential_smoothing(x[5m], 0.5, 0.5) > 1")
        );
        assert_eq!(
            rename_holt_winters("sum(holt_winters (x[5m], 0.1, 0.9))").as_deref(),
            Some("sum(double_exponential_smoothing (x[5m], 0.1, 0.9))")
        );
        // Not in strings, not a metric named like it, not part of a longer name.
        assert_eq!(rename_holt_winters("x{a=\"holt_winters(\"}"), None);
        assert_eq!(rename_holt_winters("holt_winters > 1"), None);
        assert_eq!(rename_holt_winters("my_holt_winters(x)"), None);
        assert_eq!(rename_holt_winters("x # holt_winters(y)"), None);
        // An escape before a multibyte character in a string once cut the text inside the character.
        assert_eq!(
            rename_holt_winters("x{a=\"\\é\"} or holt_winters(x[5m], 0.5, 0.5)").as_deref(),
            Some("x{a=\"\\é\"} or double_exponential_smoothing(x[5m], 0.5, 0.5)")
        );
    }
}
