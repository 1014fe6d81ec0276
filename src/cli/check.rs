//! `ruletest check PATH...`: load every rule file, PrometheusRule, Alertmanager config and test file under the
//! paths, validate them as Prometheus and Alertmanager would, and report problems with file:line. The work is
//! [`crate::project::check::run`]'s; this reads the arguments and picks the reporter.

use super::Status;
use crate::diag::Severity;
use crate::project::check::{self, Checked};
use crate::project::Project;
use crate::report::{github, human, json, junit, sarif};
use serde_json::json;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub eval: super::EvalArgs,
    /// Files or directories (searched recursively for .yaml/.yml).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Lowest severity that makes the exit status 1.
    #[arg(long, default_value = "error", value_parser = ["error", "warning"])]
    pub fail_on: String,
    /// Also list documents that were skipped (Deployments, Services, ...).
    #[arg(long, short)]
    pub verbose: bool,
    /// Lint settings (default: .ruletest.yaml in the first checked directory that has one).
    #[arg(long)]
    pub config_file: Option<PathBuf>,
    /// Fixtures whose series tell the lints more (e.g. the bucket bounds of classic histograms).
    #[arg(long)]
    pub series: Vec<PathBuf>,
    /// The Alertmanager release the configurations are for (like 0.25): fields a later release added are
    /// errors, as that release refuses them. Without it every field of the newest release is accepted.
    #[arg(long, value_name = "VERSION")]
    pub alertmanager_version: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    if let Some(v) = &args.alertmanager_version {
        crate::alertmanager::fields::set_target_version(v).map_err(|e| anyhow::anyhow!(e))?;
    }
    let mut series = crate::series::Store::new();
    for p in &args.series {
        crate::project::inputs::load_series(p, 0, &mut series)?;
    }
    let project = Project::load(&args.paths)?;
    let checked = check::run(
        &project,
        &check::Options {
            config_file: args.config_file.clone(),
            series: Some(&series),
        },
    );
    let threshold = if args.fail_on == "warning" {
        Severity::Warning
    } else {
        Severity::Error
    };
    let failed = checked.has(threshold);
    match args.format {
        Format::Human => print_human(&project, &checked, args.verbose),
        Format::Json => {
            let out = json!({
                "version": 1,
                "summary": checked.summary,
                "diagnostics": checked.diagnostics.iter().map(json::diagnostic).collect::<Vec<_>>(),
                "skipped": project.loaded.skipped.iter().map(|s| json!({
                    "file": s.file.to_string(), "line": s.pos.line, "what": s.what,
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&sarif::render(&checked.diagnostics))?
        ),
        Format::Github => print!("{}", github::render(&checked.diagnostics)),
        Format::Junit => print!(
            "{}",
            junit::render(&checked.diagnostics, &project.loaded.files)
        ),
    }
    Ok(if failed { Status::Problems } else { Status::Ok })
}

fn print_human(project: &Project, checked: &Checked, verbose: bool) {
    let style = human::Style {
        color: std::io::stdout().is_terminal(),
    };
    for d in &checked.diagnostics {
        print!("{}", human::render(d, &project.loaded.files, &style));
    }
    if verbose {
        for s in &project.loaded.skipped {
            println!("{}:{}: skipped {}", s.file, s.pos.line, s.what);
        }
    }
    let s = &checked.summary;
    println!(
        "checked {} {}: {} {}, {} {} ({} alerting, {} recording), {} Alertmanager {} ({} {}), {} test {}; {} {}, {} {}",
        s.files,
        plural(s.files, "file", "files"),
        s.groups,
        plural(s.groups, "group", "groups"),
        s.rules,
        plural(s.rules, "rule", "rules"),
        s.alerting_rules,
        s.recording_rules,
        s.alertmanager_configs,
        plural(s.alertmanager_configs, "config", "configs"),
        s.receivers,
        plural(s.receivers, "receiver", "receivers"),
        s.test_files,
        plural(s.test_files, "file", "files"),
        s.errors,
        plural(s.errors, "error", "errors"),
        s.warnings,
        plural(s.warnings, "warning", "warnings"),
    );
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}
