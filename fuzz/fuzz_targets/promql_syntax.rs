//! Our own PromQL front end (`promql::syntax`): the lexer over any bytes, the parser over any text with every
//! feature on; whatever parses is printed (one line and pretty), and the printed form must parse again and
//! print to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::promql::syntax::parser::{parse_with, Options};
use ruletest::promql::syntax::{pretty, print, Lexer};

fuzz_target!(|data: &[u8]| {
    let _ = Lexer::from_bytes(data, false).tokens();
    let _ = Lexer::from_bytes(data, true).tokens();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = Options {
        experimental_functions: true,
        duration_expr: true,
        extended_range_selectors: true,
        binop_fill_modifiers: true,
    };
    let Ok(e) = parse_with(text, &opts) else {
        return;
    };
    let printed = print(&e);
    let _ = pretty(&e, 40);
    match parse_with(&printed, &opts) {
        Ok(again) => assert_eq!(print(&again), printed, "printing is not stable for {text:?}"),
        Err(errs) => panic!("{text:?} printed as {printed:?}, which does not parse: {errs:?}"),
    }
});
