//! `ruletest test FILE...`: run rule unit tests in promtool's format (PrometheusRule objects accepted as rule
//! files), print failures as a diff of expected and actual alerts or samples, and a closing count.

use super::Status;
use crate::diag::Severity;
use crate::load::documents::{self, Kind};
use crate::report::unittest::{coverage_text, junit, render_file};
use crate::rules::group::Mode;
use crate::rules::unittest::{self, FileResult, Options};
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
    let loaded = documents::load_paths(&args.files)?;
    let opts = Options {
        run,
        mode: if args.per_tick {
            Mode::PerTick
        } else {
            Mode::Auto
        },
        ignore_unknown_fields: args.ignore_unknown_fields,
        coverage: args.coverage || args.coverage_min.is_some(),
    };
    let mut results = unittest::run_loaded(&loaded, &opts);
    // Files given that hold no test: say so rather than pass silently.
    for f in &loaded.files {
        if !loaded.items_of(Kind::TestFile).any(|i| i.file == f.path) {
            let mut r = FileResult {
                file: f.path.to_string(),
                diagnostics: Vec::new(),
                groups: Vec::new(),
                coverage: Vec::new(),
            };
            let mut ds: Vec<_> = loaded
                .diagnostics
                .iter()
                .filter(|d| d.location.as_ref().is_some_and(|l| l.file == f.path))
                .cloned()
                .collect();
            if ds.is_empty() {
                ds.push(
                    crate::diag::Diagnostic::error(
                        "test/not-a-test-file",
                        "no rule unit test in this file",
                    )
                    .at(&f.path, crate::text::yaml::Pos::new(1, 1))
                    .help("a test file has `rule_files:` and `tests:`, or `alertmanager_config:` and `routes_test:`"),
                );
            }
            r.diagnostics = ds;
            results.push(r);
        }
    }
    let passed = results
        .iter()
        .flat_map(|f| &f.groups)
        .filter(|g| g.passed())
        .count();
    let failed_groups = results
        .iter()
        .flat_map(|f| &f.groups)
        .filter(|g| !g.passed())
        .count();
    let failed_files = results
        .iter()
        .filter(|f| f.diagnostics.iter().any(|d| d.severity == Severity::Error))
        .count();
    let coverage =
        crate::rules::coverage::merge(results.iter().flat_map(|f| f.coverage.iter().cloned()));
    let covered = crate::rules::coverage::percent(&coverage);
    let below = args.coverage_min.is_some_and(|min| covered < min);
    let failed = failed_groups + failed_files;
    match args.format {
        Format::Human => {
            let color = std::io::stdout().is_terminal();
            for f in &results {
                print!("{}", render_file(f, &loaded.files, color));
            }
            println!("{passed} passed, {failed} failed");
            if opts.coverage {
                print!(
                    "{}",
                    coverage_text(&coverage, covered, args.coverage_min.filter(|_| below))
                );
            }
        }
        Format::Json => {
            let files: Vec<_> = results
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "file": f.file,
                        "passed": f.passed(),
                        "errors": f.diagnostics.iter().map(crate::report::json::diagnostic).collect::<Vec<_>>(),
                        "groups": f.groups.iter().map(|g| serde_json::json!({
                            "name": g.name, "line": g.line, "passed": g.passed(), "failures": g.failures,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut out = serde_json::json!({"files": files, "passed": passed, "failed": failed});
            if opts.coverage {
                out["coverage"] = serde_json::json!({
                    "percent": covered,
                    "min": args.coverage_min,
                    "below_min": below,
                    "rules": coverage,
                });
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    if let Some(path) = &args.junit {
        std::fs::write(
            path,
            junit(&results, opts.coverage.then_some((&coverage[..], covered))),
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(if failed > 0 || below {
        Status::Problems
    } else {
        Status::Ok
    })
}
