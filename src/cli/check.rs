//! `ruletest check PATH...`: load every rule file, PrometheusRule, Alertmanager config and test file under the
//! paths, validate them as Prometheus and Alertmanager would, and report problems with file:line. The work is
//! [`crate::project::check::run`]'s; this reads the arguments and picks the reporter.

use super::Status;
use crate::diag::Severity;
use crate::project::check;
use crate::project::Project;
use crate::report::{self, check::CheckReport};
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
    let format = match args.format {
        Format::Human => report::Format::Human,
        Format::Json => report::Format::Json,
        Format::Sarif => report::Format::Sarif,
        Format::Github => report::Format::Github,
        Format::Junit => report::Format::Junit,
    };
    let style = report::Style {
        color: std::io::stdout().is_terminal(),
    };
    let result = CheckReport {
        project: &project,
        checked: &checked,
        verbose: args.verbose,
    };
    print!("{}", report::render(&result, format, style)?);
    Ok(if failed { Status::Problems } else { Status::Ok })
}
