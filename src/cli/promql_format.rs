//! `ruletest promql-format EXPR` (or `-` for standard input): the query in Prometheus's canonical printed form,
//! split across lines when it is longer than 100 characters, as `promtool promql format` prints it. Invalid
//! input gets Prometheus's error with line and column, exit 1. A thin front end over `promql::syntax` (our own
//! PromQL front end): parse, then pretty-print.

use super::Status;
use crate::promql::features::{FeatureArgs, Features};
use crate::promql::syntax::parser::{parse_with, Options};
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

fn options(f: Features) -> Options {
    crate::promql::parse::options_for(f, crate::semantics::Semantics::active())
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
                eprintln!("{}", e.text_in(&query));
            }
            Ok(Status::Problems)
        }
    }
}
