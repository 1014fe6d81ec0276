//! `ruletest migrate-report`: runs rule unit tests under Prometheus 2 and Prometheus 3 semantics and lists every
//! test group whose verdict changes, with the checks that fail on the failing side. What upgrading from 2.x to
//! 3.x does to a team's tests (docs/semantics.md lists the differences that can cause a change).

use super::Status;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,
    #[command(flatten)]
    pub features: crate::promql::features::FeatureArgs,
    /// Test files (promtool's format), or directories holding them.
    #[arg(required_unless_present = "rules")]
    pub files: Vec<PathBuf>,
    /// Also (or instead) dry-run these rule files over `--series` (or the series of `--prometheus`) under both
    /// semantics and list every alert whose episodes differ.
    #[arg(long, num_args = 1.., requires_all = ["from", "to"])]
    pub rules: Vec<PathBuf>,
    /// Recorded series for the dry run (the formats `dry-run --series` reads).
    #[arg(long, num_args = 1.., conflicts_with = "prometheus")]
    pub series: Vec<PathBuf>,
    /// With --prometheus, the raw series the rules select are fetched once (as `dry-run --strategy local`
    /// does) and evaluated here under both semantics.
    #[command(flatten)]
    pub live: crate::live::LiveArgs,
    /// Start of the dry run's window: RFC3339, Unix seconds, `now`, or relative like `-7d`.
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End of the dry run's window (inclusive).
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
    /// With --rules: route both runs' alerts through this Alertmanager configuration (alertmanager.yml, or a
    /// ConfigMap / Secret holding one) and list every notification group whose notifications differ.
    #[arg(long, requires = "rules")]
    pub alertmanager: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.limits.install();
    args.features.install()?;
    let dry = if args.rules.is_empty() {
        None
    } else {
        let now = chrono::Utc::now().timestamp_millis();
        let time = |flag: &str, v: &Option<String>| -> anyhow::Result<i64> {
            let v = v
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("{flag} is needed with --rules"))?;
            crate::text::time::parse_time(v, now).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
        };
        let (from_ms, to_ms) = (time("--from", &args.from)?, time("--to", &args.to)?);
        if to_ms < from_ms {
            anyhow::bail!("--to is before --from");
        }
        let config = match &args.alertmanager {
            Some(path) => {
                let style = crate::report::human::Style {
                    color: std::io::stderr().is_terminal(),
                };
                match super::load_alertmanager(path, &style)? {
                    Some((c, _)) => Some(c),
                    None => return Ok(Status::Problems),
                }
            }
            None => None,
        };
        let fetched = match args.live.client()? {
            Some(client) => Some(crate::project::migrate::fetch(
                &client,
                &args.rules,
                from_ms,
                to_ms,
            )?),
            None if args.series.is_empty() => {
                anyhow::bail!(
                    "--rules needs the series to run them over: --series FILE or --prometheus URL"
                )
            }
            None => None,
        };
        Some(crate::project::migrate::compare(
            &crate::project::migrate::Window {
                rules: &args.rules,
                series: &args.series,
                fetched: fetched.as_ref(),
                from_ms,
                to_ms,
                alertmanager: config.as_ref(),
            },
        )?)
    };
    let units = if args.files.is_empty() {
        None
    } else {
        Some(crate::project::migrate::unit_tests(&args.files)?)
    };
    let unit_changes = units.as_ref().map_or(0, |u| u.changes.len());
    let dry_changes = dry
        .as_ref()
        .map_or(0, |d| d.changes.len() + d.notification_changes.len());
    let format = match args.format {
        Format::Human => crate::report::Format::Human,
        Format::Json => crate::report::Format::Json,
        Format::Markdown => crate::report::Format::Markdown,
    };
    let result = crate::report::migrate::MigrateReport {
        units: units.as_ref(),
        dry: dry.as_ref(),
    };
    print!(
        "{}",
        crate::report::render(&result, format, crate::report::Style::default())?
    );
    Ok(if unit_changes + dry_changes == 0 {
        Status::Ok
    } else {
        Status::Problems
    })
}
