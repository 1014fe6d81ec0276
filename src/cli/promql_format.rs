//! `ruletest promql-format EXPR` (or `-` for standard input): the query in Prometheus's canonical printed form,
//! split across lines when it is longer than 100 characters, as `promtool promql format` prints it. Invalid
//! input gets Prometheus's error with line and column, exit 1. A thin front end over `promql::syntax` (our own
//! PromQL front end): parse, then pretty-print.

use super::Status;
use crate::promql::features::{Feature, FeatureArgs, Features};
use crate::promql::syntax::parser::{parse_with, Options, ParseError};
use crate::promql::syntax::pretty;
use std::io::Read;

/// Prometheus's line width for pretty printing (`maxCharactersPerLine`).
const WIDTH: usize = 100;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub features: FeatureArgs,
    /// The query, or `-` to read it from standard input.
    pub expr: String,
}

/// Prometheus's `ParseErr.Error()`: `line:column: parse error: message` (column counted in bytes from 1).
pub fn error_text(query: &str, e: &ParseError) -> String {
    let pos = e.start.min(query.len());
    let before = &query.as_bytes()[..pos];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let last_break = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(-1, |i| i as i64);
    let col = pos as i64 - last_break;
    format!("{line}:{col}: parse error: {}", e.message)
}

fn options(f: Features) -> Options {
    Options {
        experimental_functions: f.has(Feature::ExperimentalFunctions),
        duration_expr: f.has(Feature::DurationExpr),
        extended_range_selectors: f.has(Feature::ExtendedRangeSelectors),
        binop_fill_modifiers: f.has(Feature::BinopFillModifiers),
    }
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    let features = args
        .features
        .features_with_env(std::env::var(crate::promql::features::FEATURES_ENV).ok())
        .map_err(anyhow::Error::msg)?;
    let query = if args.expr == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| anyhow::anyhow!("standard input: {e}"))?;
        s
    } else {
        args.expr.clone()
    };
    // Type checking, printing and dropping the tree recurse along long operator chains (`a + b + ...`, 20,000
    // terms and more): they run on a thread whose stack is large enough (reserved, not used, until needed).
    let opts = options(features);
    let q = query.clone();
    let result = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || parse_with(q.trim_end_matches('\n'), &opts).map(|e| pretty(&e, WIDTH)))
        .map_err(|e| anyhow::anyhow!("cannot start the formatter: {e}"))?
        .join()
        .map_err(|_| anyhow::anyhow!("the formatter failed"))?;
    match result {
        Ok(text) => {
            println!("{text}");
            Ok(Status::Ok)
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{}", error_text(&query, e));
            }
            Ok(Status::Problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_line_and_column_as_prometheus_does() {
        let e = ParseError {
            start: 9,
            end: 10,
            message: "unexpected end of input".into(),
        };
        assert_eq!(
            error_text("sum(\n  rate(", &e),
            "2:5: parse error: unexpected end of input"
        );
        let e = ParseError {
            start: 0,
            end: 0,
            message: "x".into(),
        };
        assert_eq!(error_text("", &e), "1:1: parse error: x");
    }
}
