//! `ruletest promql-test FILE...`: runs Prometheus's PromQL engine test scripts against our engine and
//! reports each failing case and per-file and total counts.

use super::Status;
use crate::promql::testfile::{run_script, CaseStatus};
use crate::promql::EngineOptions;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,
    #[command(flatten)]
    pub semantics: crate::semantics::SemanticsArgs,
    /// `.test` files to run.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.limits.install();
    args.semantics.install();
    // Prometheus's promqltest enables every experimental feature; its test files rely on them.
    crate::promql::features::Features::promqltest().install();
    let (mut tp, mut tf, mut ts) = (0usize, 0usize, 0usize);
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let file = path.display().to_string();
        let results = run_script(&text, EngineOptions::default());
        let (mut p, mut f, mut s) = (0usize, 0usize, 0usize);
        for r in &results {
            match r.status {
                CaseStatus::Passed => p += 1,
                CaseStatus::Failed => f += 1,
                CaseStatus::Skipped => s += 1,
            }
            match args.format {
                Format::Json => {
                    let obj = serde_json::json!({
                        "file": file,
                        "line": r.line,
                        "expr": r.expr,
                        "status": r.status.as_str(),
                        "message": r.message,
                    });
                    println!("{obj}");
                }
                Format::Human => {
                    if r.status == CaseStatus::Failed {
                        println!("{file}:{}: {}: {}", r.line, r.expr, r.message);
                    }
                }
            }
        }
        if args.format == Format::Human {
            // The file's closing line, exactly as the total's, after a line naming the file.
            println!("{file}:");
            println!("{p} passed, {f} failed, {s} skipped");
        }
        tp += p;
        tf += f;
        ts += s;
    }
    if args.format == Format::Human {
        println!("{tp} passed, {tf} failed, {ts} skipped");
    }
    Ok(if tf > 0 { Status::Problems } else { Status::Ok })
}
