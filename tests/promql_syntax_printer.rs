//! Prometheus's own printer table (`promql/parser/printer_test.go`'s `TestExprString`, carried over as
//! tests/data/promql-syntax/printer.json with its licence): each input, parsed by our parser and printed by our
//! printer, gives the string Prometheus prints; and printing is stable (the printed form parses and prints to
//! itself). The front end is being written in steps (issue #27): the figure may not go down.

use ruletest::promql::syntax::parser::{parse_with, Options};
use ruletest::promql::syntax::print;
use serde_json::Value;

#[test]
fn prometheus_printer_table() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/promql-syntax/printer.json"
    );
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(cases.len(), 86);
    let opts = Options {
        experimental_functions: true,
        duration_expr: true,
        extended_range_selectors: true,
        binop_fill_modifiers: true,
        prometheus2_functions: false,
    };
    let (mut equal, mut stable) = (0, 0);
    let mut wrong = Vec::new();
    for case in &cases {
        let input = case["in"].as_str().unwrap();
        let want = case["out"].as_str().unwrap();
        match parse_with(input, &opts) {
            Ok(e) => {
                let got = print(&e);
                if got == want {
                    equal += 1;
                } else {
                    wrong.push(format!("{input}\n  want {want}\n  got  {got}"));
                }
                // Printing again what was printed changes nothing.
                if let Ok(again) = parse_with(&got, &opts) {
                    if print(&again) == got {
                        stable += 1;
                    }
                }
            }
            Err(errs) => wrong.push(format!("{input}\n  refused: {:?}", errs.first())),
        }
    }
    eprintln!(
        "printer table: {equal} of {} printed as Prometheus prints them; {stable} stable",
        cases.len()
    );
    if std::env::var("RULETEST_SHOW_PARSER_DIFFS").is_ok() {
        for w in &wrong {
            eprintln!("{w}");
        }
    }
    assert!(
        equal >= 86,
        "{equal} printed as Prometheus does, fewer than before"
    );
    assert!(stable >= equal, "{stable} < {equal}");
}

/// Prometheus's prettier table (`prettier_test.go`, carried over as tests/data/promql-syntax/prettier.json):
/// each input pretty-printed at the line width its test function sets gives Prometheus's lines.
#[test]
fn prometheus_prettier_table() {
    use ruletest::promql::syntax::pretty;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/promql-syntax/prettier.json"
    );
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(cases.len(), 62);
    let opts = Options {
        experimental_functions: true,
        duration_expr: true,
        extended_range_selectors: true,
        binop_fill_modifiers: true,
        prometheus2_functions: false,
    };
    let mut equal = 0;
    let mut wrong = Vec::new();
    for case in &cases {
        let input = case["in"].as_str().unwrap();
        let want = case["out"].as_str().unwrap();
        let width = case["width"].as_u64().unwrap() as usize;
        match parse_with(input, &opts) {
            Ok(e) => {
                let got = pretty(&e, width);
                if got == want {
                    equal += 1;
                } else {
                    wrong.push(format!(
                        "{} {input}\n--- want\n{want}\n--- got\n{got}",
                        case["test"]
                    ));
                }
            }
            Err(errs) => wrong.push(format!("{input}\n  refused: {:?}", errs.first())),
        }
    }
    eprintln!(
        "prettier table: {equal} of {} as Prometheus prints them",
        cases.len()
    );
    if std::env::var("RULETEST_SHOW_PARSER_DIFFS").is_ok() {
        for w in &wrong {
            eprintln!("{w}");
        }
    }
    assert!(
        equal >= 62,
        "{equal} as Prometheus prints them, fewer than before"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
    /// Random token soup of PromQL pieces: the parser never panics, and whatever parses prints to a form that
    /// parses again and prints to itself (the stable-toolchain companion of the `promql_syntax` fuzz target).
    #[test]
    fn whatever_parses_prints_stably(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            "sum", "rate", "topk", "count_values", "abs", "vector", "time", "label_replace", "(", ")", "x",
            "up", "{a=\"b\"}", "{__name__=~\"x.*\"}", "[5m]", "[5m:1m]", "[1h:]", " offset 5m", " offset -1m",
            " @ 100", " @ start()", "+", "-", "*", "/", "%", "^", " and ", " or ", " unless ", " > ", " == bool ",
            " by (a) ", " without (b) ", " on(a) ", " ignoring(b) ", " group_left ", " group_right(c) ", "1",
            "2.5", "0x1f", "Inf", "\"s\"", ",", " atan2 ", "[5m * 2]", " offset step()", " fill(0) ",
            " anchored", " smoothed", "max_of(1m, 2m)",
        ]), 1..14),
    ) {
        let text: String = pieces.concat();
        let opts = Options {
            experimental_functions: true,
            duration_expr: true,
            extended_range_selectors: true,
            binop_fill_modifiers: true,
            prometheus2_functions: false,
        };
        if let Ok(e) = parse_with(&text, &opts) {
            let printed = print(&e);
            let again = parse_with(&printed, &opts);
            proptest::prop_assert!(again.is_ok(), "{text:?} printed as {printed:?}: {again:?}");
            let reprinted = print(&again.unwrap());
            proptest::prop_assert_eq!(&reprinted, &printed, "{:?}", text);
            let _ = ruletest::promql::syntax::pretty(&e, 20);
        }
    }
}
