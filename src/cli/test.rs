//! `ruletest test FILE...`: run rule unit tests in promtool's format (PrometheusRule objects accepted as rule
//! files), print failures as a diff of expected and actual alerts or samples, and a closing count.

use super::Status;
use crate::project::unittest;
use crate::report;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub eval: super::EvalArgs,
    /// Test files (or directories holding them).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run only test groups whose name matches this regex (repeatable).
    #[arg(long = "run", value_name = "REGEX")]
    pub run: Vec<String>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the results as one self-contained HTML page here: each failure's expected and actual alerts
    /// or samples side by side, and the coverage when asked for.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Evaluate every rule at every tick instead of range-natively (for cross-checking).
    #[arg(long, hide = true)]
    pub per_tick: bool,
    /// Accept fields a test file or its rule files do not know, as promtool's --ignore-unknown-fields does (unknown fields
    /// are errors otherwise, naming the field and the ones that exist).
    #[arg(long)]
    pub ignore_unknown_fields: bool,
    /// Report which rules of the rule files under test the tests reach: alerts expected to fire (or only
    /// expected silent), recordings read by a tested expression or feeding a tested alert, templates compared,
    /// rules no test reaches (docs/unit-testing.md).
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit 1) when fewer than this percentage of the rules are covered, listing the rules that are not
    /// (implies --coverage).
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    pub coverage_min: Option<f64>,
}

fn percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a percentage from 0 to 100")),
    }
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    let mut run = Vec::new();
    for r in &args.run {
        run.push(regex::Regex::new(r).map_err(|e| anyhow::anyhow!("--run {r:?}: {e}"))?);
    }
    let opts = unittest::Options {
        run,
        per_tick: args.per_tick,
        ignore_unknown_fields: args.ignore_unknown_fields,
        coverage: args.coverage,
        coverage_min: args.coverage_min,
    };
    let tested = unittest::run(&args.files, &opts)?;
    let format = match args.format {
        Format::Human => report::Format::Human,
        Format::Json => report::Format::Json,
    };
    let stdout = report::Style {
        color: std::io::stdout().is_terminal(),
    };
    print!("{}", report::render(&tested, format, stdout)?);
    if let Some(path) = &args.junit {
        std::fs::write(
            path,
            report::render(&tested, report::Format::Junit, stdout)?,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, report::render(&tested, report::Format::Html, stdout)?)
            .map_err(|e| anyhow::anyhow!("--html: cannot write {}: {e}", path.display()))?;
    }
    Ok(if tested.ok() {
        Status::Ok
    } else {
        Status::Problems
    })
}
