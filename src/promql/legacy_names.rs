//! Names as Prometheus 2 reads them. Prometheus 3 accepts any UTF-8 metric or label name, written quoted
//! where it is not a bare identifier (`{"my.metric", "a.b"="c"}`, `sum by ("a.b") (x)`); Prometheus 2 knows
//! only `[a-zA-Z_][a-zA-Z0-9_]*` label names (and `:` in metric names). Under the `legacy-names` difference
//! ([`Difference::LegacyNames`]) ruletest refuses what 2.x refuses, with 2.x's messages: a quoted name in a
//! query or a series description is a parse error, and rule files, `label_replace`, `label_join` and
//! `count_values` refuse other names.

use super::syntax::lexer::Lexer;
use super::syntax::parser::{item_desc, ParseError};
use super::syntax::TokenKind as K;
use crate::semantics::{Difference, Semantics};
use crate::series::labels::is_legacy_name;

/// Stands for byte `b` of a string literal that is not UTF-8 (`"\xff"`): Go's strings hold such bytes, Rust's
/// cannot, so the parser's `unquote` writes U+10FF00 + `b` (the top of the last private-use plane) in its place,
/// keeping the byte for messages that quote it. No name holding one is valid, as Prometheus 3 refuses a label
/// name that is not UTF-8 (`label_replace(x, "\xff", ...)` fails).
pub fn not_utf8(b: u8) -> char {
    char::from_u32(0x10FF00 + u32::from(b)).unwrap_or('\u{FFFD}')
}

/// The byte `c` stands for, if it stands for one (see [`not_utf8`]; only 0x80..=0xFF are ever written).
fn not_utf8_byte(c: char) -> Option<u8> {
    (0x10FF80..=0x10FFFF)
        .contains(&u32::from(c))
        .then(|| (u32::from(c) - 0x10FF00) as u8)
}

/// A name for an error message: a byte that is not UTF-8 shows as U+FFFD, as a terminal shows Go's raw byte.
pub fn display(name: &str) -> String {
    name.chars()
        .map(|c| {
            if not_utf8_byte(c).is_some() {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// The name as Go's `%q` prints it: a byte that is not UTF-8 as `\xNN` (`"a\xc5z"`).
pub fn go_quoted(name: &str) -> String {
    let mut bytes = Vec::with_capacity(name.len());
    for c in name.chars() {
        match not_utf8_byte(c) {
            Some(b) => bytes.push(b),
            None => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    super::syntax::lexer::go_quote(&bytes)
}

/// Whether the installed semantics reads names as Prometheus 2 does.
pub fn active() -> bool {
    Semantics::active().has(Difference::LegacyNames)
}

/// Whether `name` may be a label name (Prometheus's `IsValidLabelName` under the installed semantics:
/// a legacy name under 2, any non-empty text under 3).
pub fn valid_label_name(name: &str) -> bool {
    match active() {
        true => is_legacy_name(name, false),
        false => !name.is_empty() && !name.chars().any(|c| not_utf8_byte(c).is_some()),
    }
}

/// Whether `name` may be a metric name (`IsValidMetricName` under the installed semantics).
pub fn valid_metric_name(name: &str) -> bool {
    match active() {
        true => is_legacy_name(name, true),
        false => !name.is_empty(),
    }
}

/// Prometheus 2's parse error for the first quoted name in `query`, where 3 reads a metric or label name and
/// 2 expects an identifier: in braces (`{"a.b"="c"}`, `{"my.metric"}`) or in a grouping list (`by ("a")`,
/// `on("a")`, `group_left("a")`). None when the query has none (or under Prometheus 3), and when lexing fails
/// first: the parser reports that.
pub fn quoted_name_in_query(query: &str) -> Option<String> {
    if !active() {
        return None;
    }
    first_quoted_name(query)
}

fn first_quoted_name(query: &str) -> Option<String> {
    let mut lexer = Lexer::new(query);
    let mut in_braces = false;
    // 0: not in a grouping list; 1: a grouping keyword was read, its `(` comes next; 2: in the list.
    let mut grouping = 0u8;
    let mut prev = K::Eof;
    loop {
        let t = lexer.next_token();
        match t.kind {
            K::Eof | K::Error => return None,
            K::Comment | K::Space => continue,
            K::String
                if (in_braces || grouping == 2)
                    && matches!(prev, K::LeftBrace | K::Comma | K::LeftParen) =>
            {
                let context = match in_braces {
                    true => "label matching, expected identifier or \"}\"",
                    false => "grouping opts, expected label",
                };
                let e = ParseError {
                    start: t.pos,
                    end: t.end,
                    message: format!("unexpected {} in {context}", item_desc(&t, query)),
                };
                return Some(e.text_in(query));
            }
            K::LeftBrace => in_braces = true,
            K::RightBrace => in_braces = false,
            K::By | K::Without | K::On | K::Ignoring | K::GroupLeft | K::GroupRight => grouping = 1,
            K::LeftParen if grouping == 1 => grouping = 2,
            K::RightParen if grouping == 2 => grouping = 0,
            _ if grouping == 1 => grouping = 0,
            _ => {}
        }
        prev = t.kind;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names_are_refused_with_prometheus_2_messages() {
        // Each message as promtool 2.42 prints it (`promtool check rules`).
        for (query, want) in [
            (
                r#"{"my.metric"}"#,
                r#"1:2: parse error: unexpected string "\"my.metric"... in label matching, expected identifier or "}""#,
            ),
            (
                r#"x{a="b", "c"="d"}"#,
                r#"1:10: parse error: unexpected string "\"c\"" in label matching, expected identifier or "}""#,
            ),
            (
                r#"sum by ("a.b") (x)"#,
                r#"1:9: parse error: unexpected string "\"a.b\"" in grouping opts, expected label"#,
            ),
            (
                r#"count by (a, "b") (x)"#,
                r#"1:14: parse error: unexpected string "\"b\"" in grouping opts, expected label"#,
            ),
            (
                r#"a * on("x") group_left("y") b"#,
                r#"1:8: parse error: unexpected string "\"x\"" in grouping opts, expected label"#,
            ),
            (
                "a * on(x) group_left(\n\"y\") b",
                r#"2:1: parse error: unexpected string "\"y\"" in grouping opts, expected label"#,
            ),
        ] {
            assert_eq!(first_quoted_name(query).as_deref(), Some(want), "{query}");
        }
    }

    #[test]
    fn strings_where_2_reads_strings_pass() {
        for query in [
            r#"x{a="b", c=~"d"}"#,
            r#"label_replace(up, "dst", "$1", "src", "(.*)")"#,
            r#"count_values("v", x)"#,
            r#"topk(1, x) by (a)"#,
            r#"sum(x) without (a) + on(b) group_left(c) y{d="e"}"#,
            r#"quantile(0.9, {__name__="my.metric"})"#,
            r#"label_join(x{a="b"}, "c", ",", "a")"#,
            // A lexing error is the parser's to report.
            r#"{"unterminated}"#,
        ] {
            assert_eq!(first_quoted_name(query), None, "{query}");
        }
    }

    #[test]
    fn literals_that_are_not_utf8_are_marked() {
        let e = crate::promql::parse::parse(
            r#"label_replace(x, "\xff", "a\xe2\x82", "src", "\u00ff")"#,
        )
        .unwrap();
        let mut strings = Vec::new();
        crate::promql::parse::walk(&e, &mut |e| {
            if let crate::promql::syntax::ast::Expr::String { value, .. } = e {
                strings.push(value.clone());
            }
        });
        // `\u00ff` is the valid letter ÿ; the others hold bytes that are not UTF-8.
        assert_eq!(strings, ["\u{10FFFF}", "a\u{10FFE2}\u{10FF82}", "src", "ÿ"]);
        assert!(!valid_label_name(&strings[0]) && valid_label_name(&strings[3]));
        // Quoted as Go quotes the bytes: the marked ones come back as `\xNN`.
        assert_eq!(go_quoted(&strings[1]), r#""a\xe2\x82""#);
        assert_eq!(go_quoted(&strings[3]), r#""ÿ""#);
        assert_eq!(display(&strings[1]), "a\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn series_descriptions_name_the_label_set() {
        use crate::series::notation::quoted_name_in_series;
        assert_eq!(
            quoted_name_in_series(r#""a.b""#),
            r#"unexpected string "\"a.b\"" in label set, expected identifier or "}""#
        );
        // The series side writes the message itself; the parser's description of the same string token
        // is the reference.
        for quoted in [
            r#""a.b""#,
            r#""my.long.metric.name""#,
            "`raw`",
            r#""tab\there""#,
            "\"ünïcödé.näme.löng\"",
            "\"ctl\u{7}x\"",
            "\"\u{2028}sep\"",
        ] {
            let t = super::super::syntax::Token {
                kind: K::String,
                pos: 0,
                end: quoted.len(),
                message: None,
            };
            let want = format!(
                "unexpected {} in label set, expected identifier or \"}}\"",
                item_desc(&t, quoted)
            );
            assert_eq!(quoted_name_in_series(quoted), want, "{quoted}");
        }
    }
}
