//! `ruletest eval EXPR --series FILE [--at T | --from T --to T --step D] [--format json]`: evaluates one
//! PromQL expression over a fixture and prints the result as Prometheus prints it (text), or in the shape
//! of Prometheus's HTTP API (`--format json`).

use super::Status;
use crate::promql::{Engine, EngineOptions};
use crate::report;
use crate::series::Store;
use crate::text::duration::parse_duration;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub eval: super::EvalArgs,
    /// The PromQL expression.
    pub expr: String,
    /// Fixture: promtool input_series YAML, a `.test`-style `load <interval>` block, OpenMetrics or
    /// Prometheus text with timestamps, or Prometheus API JSON (what `dry-run --series` reads).
    #[arg(long)]
    pub series: PathBuf,
    /// Evaluation time for an instant query: RFC3339, Unix seconds, or a duration from 0 like `5m`.
    #[arg(long, conflicts_with_all = ["from", "to", "step"])]
    pub at: Option<String>,
    /// Range query start.
    #[arg(long, requires_all = ["to", "step"])]
    pub from: Option<String>,
    /// Range query end.
    #[arg(long, requires_all = ["from", "step"])]
    pub to: Option<String>,
    /// Range query step (a duration).
    #[arg(long, requires_all = ["from", "to"])]
    pub step: Option<String>,
    /// Most evaluation steps a range query may have (Prometheus's HTTP API allows 11,000 points per
    /// series); raise it to print longer ranges.
    #[arg(long, default_value_t = DEFAULT_MAX_STEPS, value_name = "N")]
    pub max_steps: usize,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// `--max-steps` unless given: the points per series that Prometheus's HTTP API answers at most.
pub const DEFAULT_MAX_STEPS: usize = 11_000;

/// Refuses a range with more than `max` steps, naming the flags that change it. A zero or negative step and
/// an end before the start are left to the engine, which words those as Prometheus does.
fn check_steps(start: i64, end: i64, step: i64, max: usize) -> anyhow::Result<()> {
    if step <= 0 || end < start {
        return Ok(());
    }
    let n = ((end - start) / step) as u128 + 1;
    if n > max as u128 {
        // floor(range / step) + 1 <= max holds exactly when step > range / max.
        let min_step_ms = (end - start) as u128 / max.max(1) as u128 + 1;
        anyhow::bail!(
            "the range --from .. --to at --step {} has {n} evaluation steps, more than --max-steps {max}: \
             use --step {} or more, a shorter range, or a higher --max-steps",
            crate::text::duration::format_duration(step),
            crate::text::duration::format_duration(round_up_to_second(min_step_ms as i64)),
        );
    }
    Ok(())
}

fn round_up_to_second(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000 + if ms.rem_euclid(1000) == 0 { 0 } else { 1000 }
}

/// Reads a time as RFC3339, Unix seconds, or a duration since time 0; returns ms.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() {
            return Ok((f * 1000.0).round() as i64);
        }
    }
    parse_duration(s).map_err(|_| {
        format!("invalid time {s:?}: expected RFC3339, Unix seconds, or a duration like 5m")
    })
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    // The loader `dry-run`, `tune` and `export` use: promtool input_series (at its start_timestamp, else
    // at 0), `.test` load blocks, OpenMetrics, Prometheus text and API JSON.
    let mut store = Store::new();
    crate::project::inputs::load_series(&args.series, 0, &mut store)?;
    let engine = Engine::new(EngineOptions::default());
    let result = match (&args.at, &args.from, &args.to, &args.step) {
        (_, Some(from), Some(to), Some(step)) => {
            let start = parse_time(from).map_err(anyhow::Error::msg)?;
            let end = parse_time(to).map_err(anyhow::Error::msg)?;
            let step = parse_duration(step).map_err(anyhow::Error::msg)?;
            check_steps(start, end, step, args.max_steps)?;
            engine.range_query(&store, &args.expr, start, end, step)
        }
        (at, _, _, _) => {
            let t = match at {
                Some(a) => parse_time(a).map_err(anyhow::Error::msg)?,
                None => 0,
            };
            engine.instant_query(&store, &args.expr, t)
        }
    };
    let result = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let format = match args.format {
        Format::Json => report::Format::Json,
        Format::Text => report::Format::Human,
    };
    print!(
        "{}",
        report::render(&result, format, report::Style::default())?
    );
    // In JSON they are part of the document.
    if args.format == Format::Text {
        for w in &result.warnings {
            eprintln!("warning: {w}");
        }
        for i in &result.infos {
            eprintln!("info: {i}");
        }
    }
    Ok(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("5m"), Ok(300_000));
        assert_eq!(parse_time("1.5"), Ok(1_500));
        assert_eq!(parse_time("1970-01-01T00:01:00Z"), Ok(60_000));
        assert!(parse_time("soon").is_err());
    }
}
