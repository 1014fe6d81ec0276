//! Front ends: one file per command. Each reads its arguments, calls the pipeline stages and hands the result
//! to `report`. None of them computes anything a stage should.

use clap::{Parser, Subcommand};

pub mod capture;
pub mod check;
pub mod dry_run;
pub mod eval;
pub mod export;
pub mod migrate_report;
pub mod promql_format;
pub mod promql_test;
pub mod record;
pub mod routes;
pub mod test;
pub mod tune;

/// The flags every command that evaluates PromQL takes: resource limits, which Prometheus to predict, and its
/// experimental features. Installed once, at the command's start.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,
    #[command(flatten)]
    pub semantics: crate::semantics::SemanticsArgs,
    #[command(flatten)]
    pub features: crate::promql::features::FeatureArgs,
}

impl EvalArgs {
    /// Installs the limits, the semantics and the features for this process.
    pub fn install(&self) -> anyhow::Result<()> {
        self.limits.install();
        self.semantics.install();
        self.features.install()
    }
}

/// Loads the Alertmanager configuration `path` given on its own; one with errors has them printed to stderr
/// with file:line and gives `None`: problems found (exit status 1, as `check` gives for the same file).
pub fn load_alertmanager(
    path: &std::path::Path,
    style: &crate::report::human::Style,
) -> anyhow::Result<Option<(crate::alertmanager::config::Config, std::path::PathBuf)>> {
    use crate::project::inputs::AlertmanagerFile;
    match crate::project::inputs::load_alertmanager(path)? {
        AlertmanagerFile::Config { config, base, .. } => Ok(Some((*config, base))),
        AlertmanagerFile::Errors { errors, files } => {
            for d in &errors {
                eprint!("{}", crate::report::human::render(d, &files, style));
            }
            eprintln!(
                "{}: the Alertmanager configuration has errors; `ruletest check` shows them all",
                path.display()
            );
            Ok(None)
        }
    }
}

/// Exit status of a command: 0 nothing wrong, 1 problems found, 2 usage or I/O error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Ok = 0,
    Problems = 1,
    Usage = 2,
}

#[derive(Debug, Parser)]
#[command(
    name = "ruletest",
    version,
    about = "Test Prometheus alerting rules and Alertmanager routing before they page anyone"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate rule files, PrometheusRule objects and Alertmanager configs; run the lints.
    Check(check::Args),
    /// Run rule unit tests (promtool's test file format).
    Test(test::Args),
    /// Evaluate one PromQL expression over a fixture.
    Eval(eval::Args),
    /// Run Prometheus's PromQL engine test files (the `.test` format).
    #[command(name = "promql-test")]
    PromqlTest(promql_test::Args),
    /// Print a PromQL query in Prometheus's canonical form, split across lines when long (as `promtool promql
    /// format`); `-` reads it from standard input.
    #[command(name = "promql-format")]
    PromqlFormat(promql_format::Args),
    /// Route label sets through an Alertmanager configuration, or draw its route tree.
    Routes(routes::Args),
    /// What these rules would have fired over a window, and who would have been notified.
    #[command(name = "dry-run")]
    DryRun(dry_run::Args),
    /// Sweep thresholds, `for` and `keep_firing_for` of one alert over history and show the trade-off.
    Tune(tune::Args),
    /// Save raw series from a live Prometheus-compatible server as a fixture (OpenMetrics or API JSON).
    Record(record::Args),
    /// Convert a fixture to OpenMetrics (for promtool tsdb create-blocks-from openmetrics) or API JSON.
    Export(export::Args),
    /// Turn recorded series (an incident) into a rule unit test: the series, and the alerts the rules fire at
    /// chosen times as the expectation.
    Capture(capture::Args),
    /// Run rule unit tests under Prometheus 2 and 3 semantics and list the test groups whose verdict changes.
    #[command(name = "migrate-report")]
    MigrateReport(migrate_report::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        Command::Check(a) => check::run(&a),
        Command::Test(a) => test::run(&a),
        Command::Eval(a) => eval::run(&a),
        Command::PromqlTest(a) => promql_test::run(&a),
        Command::PromqlFormat(a) => promql_format::run(&a),
        Command::Routes(a) => routes::run(&a),
        Command::DryRun(a) => dry_run::run(&a),
        Command::Tune(a) => tune::run(&a),
        Command::Record(a) => record::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Capture(a) => capture::run(&a),
        Command::MigrateReport(a) => migrate_report::run(&a),
    }
}
