//! `ruletest dry-run --rules PATH... --series FILE... [--alertmanager FILE] --from T --to T`: if these rules had
//! been deployed over this window, which alerts would have fired, and who would have been notified, when,
//! with what. A thin front end: the project and the series, then [`crate::project::dry_run::run`], then the
//! report.

use super::Status;
use crate::diag::Severity;
use crate::project::dry_run::{self, Evaluation};
use crate::project::{check, inputs, Project};
use crate::report::dry_run as report;
use crate::series::store::Store;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    Remote,
    Local,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub eval: super::EvalArgs,
    /// Rule files, PrometheusRule objects or directories.
    #[arg(long, required = true, num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Recorded series: promtool input_series YAML, OpenMetrics / Prometheus text with timestamps, or
    /// Prometheus API JSON.
    #[arg(long, num_args = 1.., required_unless_present = "prometheus", conflicts_with = "prometheus")]
    pub series: Vec<PathBuf>,
    #[command(flatten)]
    pub live: crate::live::LiveArgs,
    /// With --prometheus: `remote` sends each rule expression to the server as query_range; `local` fetches
    /// the raw series the expressions select and evaluates them here (needed for rules not deployed there).
    #[arg(long, value_enum, default_value = "remote")]
    pub strategy: Strategy,
    /// Alertmanager configuration (alertmanager.yml, or a ConfigMap / Secret holding one).
    #[arg(long)]
    pub alertmanager: Option<PathBuf>,
    /// Start of the window: RFC3339, Unix seconds, `now`, or relative like `-7d`.
    #[arg(long, allow_hyphen_values = true)]
    pub from: String,
    /// End of the window (inclusive).
    #[arg(long, allow_hyphen_values = true)]
    pub to: String,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// The external URL alerts carry (`$externalURL`, generator URLs).
    #[arg(long, default_value = "")]
    pub external_url: String,
    /// Show the rendered text of every notification.
    #[arg(long)]
    pub show_text: bool,
    /// Also write the report as one self-contained HTML page to FILE: plots of each alert's values against
    /// its threshold, the episodes, and every notification with its text.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Evaluate every rule at every tick, as Prometheus does, instead of one range query per rule (slower;
    /// the results are the same, which this cross-checks). Not with `--strategy remote`.
    #[arg(long)]
    pub per_tick: bool,
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    let now = chrono::Utc::now().timestamp_millis();
    let from = crate::text::time::parse_time(&args.from, now)
        .map_err(|e| anyhow::anyhow!("--from: {e}"))?;
    let to =
        crate::text::time::parse_time(&args.to, now).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    if to < from {
        anyhow::bail!("--to ({}) is before --from ({})", args.to, args.from);
    }
    // Rules.
    let project = Project::load(&args.rules)?;
    let checked = check::run(&project, &check::Options::default());
    let style = crate::report::human::Style {
        color: std::io::stderr().is_terminal(),
    };
    if checked.has(Severity::Error) {
        for d in checked.errors() {
            eprint!(
                "{}",
                crate::report::human::render(d, &project.loaded.files, &style)
            );
        }
        eprintln!("dry-run: the rules have errors; `ruletest check` shows them all");
        return Ok(Status::Problems);
    }
    if project.rule_files.is_empty() {
        anyhow::bail!("no rule file found under {}", display_paths(&args.rules));
    }
    // Series, compact: weeks of history fit in memory; evaluation decodes the piece it reads.
    let mut store = Store::with_compact_history();
    for path in &args.series {
        inputs::load_series(path, from, &mut store)?;
    }
    // Alertmanager.
    let config = match &args.alertmanager {
        Some(path) => match super::load_alertmanager(path, &style)? {
            Some(c) => Some(c),
            None => return Ok(Status::Problems),
        },
        None => None,
    };
    let client = args.live.client()?;
    let here = !matches!((&client, args.strategy), (Some(_), Strategy::Remote));
    let evaluation = match (&client, args.strategy) {
        (Some(client), Strategy::Remote) => Evaluation::Remote(client),
        (Some(client), Strategy::Local) => {
            let engine = crate::promql::Engine::new(crate::promql::EngineOptions::default());
            inputs::fetch_raw(client, &project.rule_files, from, to, &engine, &mut store)?;
            Evaluation::Here
        }
        (None, _) => Evaluation::Here,
    };
    let (config, base) = match config {
        Some((c, base)) => (Some(c), Some(base)),
        None => (None, None),
    };
    let opts = dry_run::Options {
        from_ms: from,
        to_ms: to,
        external_url: args.external_url.clone(),
        per_tick: args.per_tick,
    };
    let mut run = dry_run::run(&project.rule_files, &mut store, config, evaluation, &opts)?;
    if let Some(c) = &client {
        for w in c.warnings() {
            eprintln!("warning: the server said: {w}");
        }
    }
    if let (true, Some(config), Some(sim), Some(base)) = (
        args.show_text || args.html.is_some(),
        &run.config,
        &run.simulation,
        &base,
    ) {
        run.texts = report::render_texts(config, sim, base, &args.external_url, now);
    }
    if let Some(path) = &args.html {
        let evaluation = match &client {
            Some(c) if !here => Evaluation::Remote(c),
            _ => Evaluation::Here,
        };
        run.values = dry_run::values(
            &run,
            &project.rule_files,
            &mut store,
            &evaluation,
            PLOTTED_SERIES,
        );
        let page = crate::report::render(&run, crate::report::Format::Html, Default::default())?;
        std::fs::write(path, page)
            .map_err(|e| anyhow::anyhow!("--html: cannot write {}: {e}", path.display()))?;
        // The texts were rendered for the page; the terminal shows them only when asked.
        if !args.show_text {
            run.texts.clear();
        }
    }
    let format = match args.format {
        Format::Human => crate::report::Format::Human,
        Format::Json => crate::report::Format::Json,
    };
    let stdout = crate::report::Style {
        color: std::io::stdout().is_terminal(),
    };
    print!("{}", crate::report::render(&run, format, stdout)?);
    // Rules that failed to evaluate are problems found (the report lists them).
    Ok(if run.timeline.errors.is_empty() {
        Status::Ok
    } else {
        Status::Problems
    })
}

/// Series a rule's plot shows: those nearest to its threshold.
const PLOTTED_SERIES: usize = 6;

fn display_paths(p: &[PathBuf]) -> String {
    p.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
