//! Prometheus's own lexer table (`promql/parser/lex_test.go`, carried over as tests/data/promql-syntax/lex.json
//! with its licence): every case gives the tokens Prometheus's lexer gives, at the same byte positions, with
//! the same texts and error messages; a case marked `fail` yields an error token.

use ruletest::promql::syntax::{Lexer, TokenKind};
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn prometheus_lexer_table() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/promql-syntax/lex.json"
    );
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(cases.len(), 157);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let input: Vec<u8> = match case["input"].as_str() {
            Some(s) => s.as_bytes().to_vec(),
            None => hex(case["input_hex"].as_str().unwrap()),
        };
        let series = case["series_desc"].as_bool().unwrap();
        let tokens = Lexer::from_bytes(&input, series).tokens();
        let shown = String::from_utf8_lossy(&input).into_owned();
        let got: Vec<(String, usize, String)> = tokens
            .iter()
            .map(|t| {
                (
                    t.kind.name().to_string(),
                    t.pos,
                    t.value(&input).into_owned(),
                )
            })
            .collect();
        if case["fail"].as_bool().unwrap() {
            if !tokens.iter().any(|t| t.kind == TokenKind::Error) {
                failures.push(format!("{i} {shown:?}: expected an error, got {got:?}"));
            }
            continue;
        }
        let last = tokens.last().unwrap();
        if last.kind != TokenKind::Eof || last.pos != input.len() || last.end != input.len() {
            failures.push(format!(
                "{i} {shown:?}: does not end with EOF at {}: {got:?}",
                input.len()
            ));
            continue;
        }
        let want: Vec<(String, usize, String)> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t[0].as_str().unwrap().to_string(),
                    t[1].as_u64().unwrap() as usize,
                    t[2].as_str().unwrap().to_string(),
                )
            })
            .collect();
        if got[..got.len() - 1] != want[..] {
            failures.push(format!("{i} {shown:?}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

proptest::proptest! {
    /// Any bytes: the lexer ends, never panics, and its tokens lie inside the input in order.
    #[test]
    fn any_input_is_lexed_to_an_end(
        input in proptest::collection::vec(proptest::prop_oneof![
            proptest::sample::select(b"(){}[]\"'`\\:=!~,.+-*/%^@#xX_0123456789eEabcmhsdwy \n{}".to_vec()),
            proptest::num::u8::ANY,
        ], 0..120),
        series in proptest::bool::ANY,
    ) {
        let tokens = Lexer::from_bytes(&input, series).tokens();
        proptest::prop_assert!(!tokens.is_empty());
        let mut last = 0;
        for t in &tokens {
            proptest::prop_assert!(t.pos <= input.len() && t.end <= input.len(), "{t:?}");
            proptest::prop_assert!(t.pos >= last || t.kind == TokenKind::Error, "{t:?} after {last}");
            last = t.pos;
        }
        let end = tokens.last().unwrap();
        proptest::prop_assert!(end.kind == TokenKind::Eof || end.kind == TokenKind::Error, "{end:?}");
    }
}
