//! `ruletest capture --rules PATH... --series FILE... --from T --to T [--at T...] [-o FILE]`: turns recorded
//! series (an incident, saved with `ruletest record` or any fixture `dry-run` reads) into a rule unit test in
//! promtool's format: the series as `input_series` in compact notation, and at each `--at` time the alerts
//! the rules fire there as the expectation ([`crate::rules::capture`]). Series can be limited by selector and
//! labels dropped or renamed (pod names, say) before they go in.

use super::Status;
use crate::project::{capture, inputs, Project};
use crate::series::store::Store;
use crate::text::duration::parse_duration;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub eval: super::EvalArgs,
    /// Rule files, PrometheusRule objects or directories (the test's `rule_files`).
    #[arg(long, required = true, num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Recorded series: OpenMetrics / Prometheus text with timestamps, Prometheus API JSON, promtool
    /// input_series YAML.
    #[arg(long, required = true, num_args = 1..)]
    pub series: Vec<PathBuf>,
    /// Start of the window (the test's time 0): RFC3339, Unix seconds, or relative like `-2h`.
    #[arg(long, allow_hyphen_values = true)]
    pub from: String,
    /// End of the window (its last sample slot).
    #[arg(long, allow_hyphen_values = true)]
    pub to: String,
    /// When to check the alerts: a duration after --from (`90m`) or a time; repeatable. Default: --to.
    #[arg(long = "at", value_name = "TIME", allow_hyphen_values = true)]
    pub at: Vec<String>,
    /// The test's sample and evaluation interval; a sample between two slots goes to the later one.
    #[arg(long, default_value = "1m")]
    pub interval: String,
    /// Keep only the series this selector matches, like 'http_requests_total{job="api"}'; repeatable.
    #[arg(long = "match", value_name = "SELECTOR")]
    pub matches: Vec<String>,
    /// Drop this label from every series; repeatable.
    #[arg(long = "drop-label", value_name = "NAME")]
    pub drop_labels: Vec<String>,
    /// Rename a label, OLD=NEW; repeatable.
    #[arg(long = "rename-label", value_name = "OLD=NEW")]
    pub rename_labels: Vec<String>,
    /// Also check every recording rule's output at the --at times (`promql_expr_test`).
    #[arg(long)]
    pub recordings: bool,
    /// Also check the alerts that fire at none of the times (expected silent).
    #[arg(long)]
    pub all_alerts: bool,
    /// The test group's name.
    #[arg(long, default_value = "captured")]
    pub name: String,
    /// Where to write the test file (default: standard output; `rule_files` are then relative to the current
    /// directory).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    let now = chrono::Utc::now().timestamp_millis();
    let time = |s: &str, what: &str| {
        crate::text::time::parse_time(s, now).map_err(|e| anyhow::anyhow!("{what}: {e}"))
    };
    let from = time(&args.from, "--from")?;
    let to = time(&args.to, "--to")?;
    if to < from {
        anyhow::bail!("--to ({}) is before --from ({})", args.to, args.from);
    }
    let interval = parse_duration(&args.interval)
        .ok()
        .filter(|&ms| ms > 0)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--interval {:?}: not a positive duration such as 30s or 1m",
                args.interval
            )
        })?;
    let mut at = Vec::new();
    for s in &args.at {
        let t = match parse_duration(s) {
            Ok(d) => from + d,
            Err(_) => time(s, "--at")?,
        };
        if t < from || t > to {
            anyhow::bail!(
                "--at {s}: outside the window --from {} --to {}",
                args.from,
                args.to
            );
        }
        at.push(t);
    }
    if at.is_empty() {
        at.push(to);
    }
    let mut renames = Vec::new();
    for r in &args.rename_labels {
        let Some((old, new)) = r
            .split_once('=')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty())
        else {
            anyhow::bail!("--rename-label {r:?}: write OLD=NEW");
        };
        renames.push((old.to_string(), new.to_string()));
    }
    let project = Project::load(&args.rules)?;
    let mut store = Store::new();
    for path in &args.series {
        inputs::load_series(path, from, &mut store)?;
    }
    let opts = capture::Options {
        from_ms: from,
        to_ms: to,
        interval_ms: interval,
        at_ms: at,
        matches: args.matches.clone(),
        drop_labels: args.drop_labels.clone(),
        renames,
        recordings: args.recordings,
        all_alerts: args.all_alerts,
        name: args.name.clone(),
        output: args.output.clone(),
        sources: args
            .series
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    };
    let captured = capture::run(&project.rule_files, &store, &opts)?;
    match &args.output {
        Some(p) => std::fs::write(p, &captured.text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        None => print!("{}", captured.text),
    }
    eprintln!(
        "{} series{}, checked at {} time(s)",
        captured.series,
        if captured.off_grid > 0 {
            format!(
                " ({} samples off the {} grid moved to the next slot)",
                captured.off_grid, args.interval
            )
        } else {
            String::new()
        },
        captured.checked_at
    );
    Ok(Status::Ok)
}
