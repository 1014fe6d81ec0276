//! Parsing and type checking grow linearly with the query (issue #27): a sum of N terms (`up + up + ...`) and N
//! nested parentheses, parsed by our own front end (`promql::syntax`) on the main thread's ordinary stack.
//! Run with `cargo bench --bench promql_parse`; prints the median of five runs for each size and the time per
//! term, which stays flat when parsing is linear. Figures in docs/performance.md.

use ruletest::promql::syntax::parser::{parse_with, Options};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(query: &str) -> (Duration, Result<(), String>) {
    let mut runs = Vec::new();
    let mut outcome = Ok(());
    for _ in 0..5 {
        let t = Instant::now();
        let r = parse_with(query, &Options::default());
        // Dropping the tree is part of the cost.
        outcome = r.map(drop).map_err(|e| e[0].message.clone());
        runs.push(t.elapsed());
    }
    (median(runs), outcome)
}

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let cases: Vec<(String, String, usize)> = [12_500, 25_000, 50_000, 100_000]
        .iter()
        .map(|&n| (format!("sum of {n} terms"), vec!["up"; n].join(" + "), n))
        .chain([1_250, 2_500, 5_000, 10_000].iter().map(|&n| {
            (
                format!("{n} nested parentheses"),
                format!("{}up{}", "(".repeat(n), ")".repeat(n)),
                n,
            )
        }))
        .collect();
    for (name, query, n) in cases {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let (d, outcome) = time(&query);
        let what = match outcome {
            Ok(()) => "parsed".to_string(),
            Err(e) => format!("refused: {e}"),
        };
        println!(
            "{name}: {:.1} ms ({:.0} ns per term), {what}",
            d.as_secs_f64() * 1e3,
            d.as_nanos() as f64 / n as f64
        );
    }
}
