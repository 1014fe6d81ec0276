//! `ruletest tune --rules PATH --alert NAME --series FILE --from T --to T [--threshold ...] [--for ...]
//! [--keep-firing-for ...] [--alertmanager FILE]`: the alert's left side evaluated once over the window, then
//! every threshold x for x keep_firing_for combination applied to it, with the trade-off shown.

use super::Status;
use crate::diag::Severity;
use crate::project::{check, inputs, tune, Project};
use crate::report::tune as report;
use crate::rules::sweep::CmpOp;
use crate::series::store::Store;
use crate::text::duration::parse_duration;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub eval: super::EvalArgs,
    #[arg(long, required = true, num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// The alerting rule to tune.
    #[arg(long)]
    pub alert: String,
    #[arg(long, num_args = 1.., required_unless_present = "prometheus", conflicts_with = "prometheus")]
    pub series: Vec<PathBuf>,
    /// Read history from a live Prometheus-compatible server instead of fixtures: the raw series the rule
    /// selects are fetched and the left side is evaluated here.
    #[command(flatten)]
    pub live: crate::live::LiveArgs,
    #[arg(long, allow_hyphen_values = true)]
    pub from: String,
    #[arg(long, allow_hyphen_values = true)]
    pub to: String,
    /// Thresholds: a list `0,0.5,1` or a range `A:B:STEP`. Default: the rule's own and the left side's p90,
    /// p99 and max.
    #[arg(long)]
    pub threshold: Option<String>,
    /// `for` values, e.g. `0m,5m,15m`. Default: the rule's own.
    #[arg(long = "for")]
    pub for_: Option<String>,
    /// `keep_firing_for` values. Default: the rule's own.
    #[arg(long)]
    pub keep_firing_for: Option<String>,
    /// Route every combination's alerts through this Alertmanager config and count notifications.
    #[arg(long)]
    pub alertmanager: Option<PathBuf>,
    /// Known incidents (YAML list of `{start, end, labels}`): adds detection, time to detect, false alerts.
    #[arg(long)]
    pub incidents: Option<PathBuf>,
    /// Alert budget, `N/day` or `N/week`: marks the most sensitive setting within it.
    #[arg(long)]
    pub budget: Option<String>,
    /// The left side to sweep when the expression is not `<lhs> <op> <number>`.
    #[arg(long)]
    pub lhs: Option<String>,
    /// Comparison used with `--lhs` (default `>`).
    #[arg(long, default_value = ">")]
    pub op: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Draw the left side, thresholds and firing spans as SVG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Also write the sweep as one self-contained HTML page to FILE: the table (sortable, the current setting
    /// highlighted) and a plot per candidate threshold with its firing spans and the incidents.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn parse_list(s: &str, what: &str) -> anyhow::Result<Vec<f64>> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() == 3 {
        let (a, b, step): (f64, f64, f64) = (
            parts[0].trim().parse()?,
            parts[1].trim().parse()?,
            parts[2].trim().parse()?,
        );
        if step <= 0.0 || b < a {
            anyhow::bail!("{what} range {s:?}: need A <= B and STEP > 0");
        }
        let n = ((b - a) / step + 1e-9).floor() as usize;
        if n > 10_000 {
            anyhow::bail!("{what} range {s:?} has more than 10000 values");
        }
        return Ok((0..=n).map(|i| a + i as f64 * step).collect());
    }
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .map_err(|e| anyhow::anyhow!("{what} {x:?}: {e}"))
        })
        .collect()
}

fn parse_durations(s: &str, what: &str) -> anyhow::Result<Vec<i64>> {
    s.split(',')
        .map(|x| parse_duration(x.trim()).map_err(|e| anyhow::anyhow!("{what}: {e}")))
        .collect()
}

fn parse_budget(s: &str) -> anyhow::Result<f64> {
    let (n, per) = s
        .split_once('/')
        .ok_or_else(|| anyhow::anyhow!("--budget {s:?}: write N/day or N/week"))?;
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|e| anyhow::anyhow!("--budget {s:?}: {e}"))?;
    match per.trim() {
        "day" => Ok(n),
        "week" => Ok(n / 7.0),
        _ => anyhow::bail!("--budget {s:?}: write N/day or N/week"),
    }
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    let now = crate::text::time::now_ms();
    let from = crate::text::time::parse_time(&args.from, now)
        .map_err(|e| anyhow::anyhow!("--from: {e}"))?;
    let to =
        crate::text::time::parse_time(&args.to, now).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    if to < from {
        anyhow::bail!("--to is before --from");
    }
    let project = Project::load(&args.rules)?;
    let checked = check::run(&project, &check::Options::default());
    if checked.has(Severity::Error) {
        let style = crate::report::human::Style { color: false };
        for d in checked.errors() {
            eprint!(
                "{}",
                crate::report::human::render(d, &project.loaded.files, &style)
            );
        }
        return Ok(Status::Problems);
    }
    let mut opts = tune::Options::new(&args.alert, from, to);
    if let Some(l) = &args.lhs {
        let op = CmpOp::parse(&args.op)
            .ok_or_else(|| anyhow::anyhow!("--op {:?}: use > >= < <= == !=", args.op))?;
        opts.lhs = Some((l.clone(), op));
    }
    opts.thresholds = args
        .threshold
        .as_deref()
        .map(|s| parse_list(s, "--threshold"))
        .transpose()?;
    opts.fors = args
        .for_
        .as_deref()
        .map(|s| parse_durations(s, "--for"))
        .transpose()?;
    opts.keep_firing_fors = args
        .keep_firing_for
        .as_deref()
        .map(|s| parse_durations(s, "--keep-firing-for"))
        .transpose()?;
    if let Some(p) = &args.incidents {
        opts.incidents = inputs::load_incidents(p)?;
    }
    opts.budget_per_day = args.budget.as_deref().map(parse_budget).transpose()?;
    let config = match &args.alertmanager {
        Some(path) => {
            let style = crate::report::human::Style { color: false };
            let Some((config, _)) = super::load_alertmanager(path, &style)? else {
                return Ok(Status::Problems);
            };
            Some(config)
        }
        None => None,
    };
    let mut store = Store::with_compact_history();
    for p in &args.series {
        inputs::load_series(p, from, &mut store)?;
    }
    let client = args.live.client()?;
    let out = tune::run(
        &project.rule_files,
        &mut store,
        client.as_ref(),
        config.as_ref(),
        &opts,
    )
    .map_err(|e| match e.downcast_ref::<tune::NoSuchAlert>() {
        Some(n) => anyhow::anyhow!("{n} under {:?}", args.rules),
        None => e,
    })?;
    let format = match args.format {
        Format::Table => crate::report::Format::Human,
        Format::Json => crate::report::Format::Json,
        Format::Csv => crate::report::Format::Csv,
    };
    print!(
        "{}",
        crate::report::render(&out, format, crate::report::Style::default())?
    );
    if let Some(p) = &args.plot {
        std::fs::write(p, report::svg(&out))
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    if let Some(p) = &args.html {
        let page = crate::report::render(
            &out,
            crate::report::Format::Html,
            crate::report::Style::default(),
        )?;
        std::fs::write(p, page)
            .map_err(|e| anyhow::anyhow!("--html: cannot write {}: {e}", p.display()))?;
    }
    Ok(Status::Ok)
}
