//! `ruletest capture --rules PATH... --series FILE... --from T --to T [--at T...] [-o FILE]`: turns recorded
//! series (an incident, saved with `ruletest record` or any fixture `dry-run` reads) into a rule unit test in
//! promtool's format: the series as `input_series` in compact notation, and at each `--at` time the alerts
//! the rules fire there as the expectation ([`crate::rules::capture`]). Series can be limited by selector and
//! labels dropped or renamed (pod names, say) before they go in.

use super::Status;
use crate::load::documents::{self, Kind};
use crate::load::rules::{load_rule_file, RuleKind};
use crate::project::inputs;
use crate::promql::syntax::ast::Expr;
use crate::rules::capture::{self, Capture};
use crate::series::histogram::FloatHistogram;
use crate::series::store::Store;
use crate::series::Labels;
use crate::text::duration::parse_duration;
use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

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
    // Rules: the files, and the names to check.
    let loaded = documents::load_paths(&args.rules)?;
    let mut alertnames = BTreeSet::new();
    let mut recordings = BTreeSet::new();
    let mut rule_paths = BTreeSet::new();
    for item in loaded
        .items
        .iter()
        .filter(|i| matches!(i.kind, Kind::RuleFile | Kind::PrometheusRule))
    {
        rule_paths.insert(item.file.to_string());
        let (rf, _) = load_rule_file(item);
        for r in rf.groups.iter().flat_map(|g| &g.rules) {
            match r.kind {
                RuleKind::Alerting => alertnames.insert(r.name.value.clone()),
                RuleKind::Recording => recordings.insert(r.name.value.clone()),
            };
        }
    }
    if rule_paths.is_empty() {
        anyhow::bail!("--rules: no rule file or PrometheusRule object found");
    }
    let out_dir = match &args.output {
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => PathBuf::new(),
    };
    let rule_files: Vec<String> = rule_paths
        .iter()
        .map(|p| relative(&out_dir, Path::new(p)))
        .collect();
    // Series: loaded, selected, relabelled.
    let mut store = Store::new();
    for path in &args.series {
        inputs::load_series(path, from, &mut store)?;
    }
    let ids: Vec<u32> = if args.matches.is_empty() {
        (0..store.len() as u32).collect()
    } else {
        let mut ids = BTreeSet::new();
        for m in &args.matches {
            let expr =
                crate::promql::parse(m).map_err(|e| anyhow::anyhow!("--match {m:?}: {e}"))?;
            let Expr::Vector(vs) = expr.without_parens() else {
                anyhow::bail!("--match {m:?}: not a series selector");
            };
            let matchers = crate::promql::engine::selector_matchers(vs)
                .map_err(|e| anyhow::anyhow!("--match {m:?}: {e}"))?;
            ids.extend(store.select(&matchers));
        }
        ids.into_iter().collect()
    };
    let mut renames = Vec::new();
    for r in &args.rename_labels {
        let Some((old, new)) = r
            .split_once('=')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty())
        else {
            anyhow::bail!("--rename-label {r:?}: write OLD=NEW");
        };
        renames.push((old, new));
    }
    type Floats = Vec<(i64, f64)>;
    type Histograms = Vec<(i64, Arc<FloatHistogram>)>;
    let mut series: Vec<(Labels, Floats, Histograms)> = Vec::new();
    let mut seen: HashMap<Labels, Labels> = HashMap::new();
    for id in ids {
        let Some(s) = store.get(id) else { continue };
        let mut b = s.labels.builder();
        for d in &args.drop_labels {
            b.del(d);
        }
        for (old, new) in &renames {
            if let Some(v) = s.labels.get(old) {
                b.del(old);
                b.set(new, v);
            }
        }
        let labels = b.build();
        if let Some(other) = seen.insert(labels.clone(), s.labels.clone()) {
            anyhow::bail!(
                "{} and {} are both {} once labels are dropped or renamed; keep a label that tells them apart",
                other,
                s.labels,
                labels
            );
        }
        series.push((labels, s.samples.to_vec(), s.visible_histograms().to_vec()));
    }
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let (series, histograms): (Vec<_>, Vec<_>) =
        series.into_iter().map(|(l, f, h)| ((l, f), h)).unzip();
    let file = args
        .output
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "captured.test.yml".into());
    let rfc = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let sources: Vec<String> = args
        .series
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let header = format!(
        "Captured by `ruletest capture` from {} over {} to {} (time 0 is {}).\nThe expectations are what these rules did on this data: review them before committing.",
        sources.join(", "),
        rfc(from),
        rfc(to),
        rfc(from)
    );
    let alertnames: Vec<String> = alertnames.into_iter().collect();
    let recordings: Vec<String> = if args.recordings {
        recordings.into_iter().collect()
    } else {
        Vec::new()
    };
    let captured = capture::write(&Capture {
        file: &file,
        rule_files: &rule_files,
        alertnames: &alertnames,
        recordings: &recordings,
        series: &series,
        histograms: &histograms,
        from_ms: from,
        to_ms: to,
        interval_ms: interval,
        at_ms: &at,
        all_alerts: args.all_alerts,
        name: &args.name,
        header: &header,
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    match &args.output {
        Some(p) => std::fs::write(p, &captured.text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        None => print!("{}", captured.text),
    }
    eprintln!(
        "{} series{}, checked at {} time(s)",
        series.len(),
        if captured.off_grid > 0 {
            format!(
                " ({} samples off the {} grid moved to the next slot)",
                captured.off_grid, args.interval
            )
        } else {
            String::new()
        },
        at.len()
    );
    Ok(Status::Ok)
}

/// `to` as a path from directory `from` (both made absolute against the current directory).
fn relative(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (from, to) = (
        abs(if from.as_os_str().is_empty() {
            Path::new(".")
        } else {
            from
        }),
        abs(to),
    );
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c);
    }
    out.to_string_lossy().into_owned()
}
