//! `ruletest tune --rules PATH --alert NAME --series FILE --from T --to T [--threshold ...] [--for ...]
//! [--keep-firing-for ...] [--alertmanager FILE]`: the alert's left side evaluated once over the window, then
//! every threshold x for x keep_firing_for combination applied to it, with the trade-off shown.

use super::Status;
use crate::alertmanager::feed::{self, Fired};
use crate::diag::Severity;
use crate::load::rules::{RuleFile, RuleKind};
use crate::project::{check, inputs, Project};
use crate::promql::{Engine, EngineOptions, Value};
use crate::report::tune as report;
use crate::rules::group::{Mode, DEFAULT_CHUNK_TICKS};
use crate::rules::sweep::{split_comparison, CmpOp};
use crate::rules::timeline::{self, TimelineOptions, DEFAULT_INTERVAL_MS};
use crate::rules::tune::{self as tune, Incident, Lhs, SweepSpec};
use crate::series::store::Store;
use crate::series::Labels;
use crate::text::duration::parse_duration;
use std::collections::{BTreeMap, HashMap};
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

fn load_incidents(path: &PathBuf) -> anyhow::Result<Vec<Incident>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let stream = crate::text::yaml::parse_stream(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.pos.line, e.message))?;
    let Some(doc) = stream.documents.first() else {
        return Ok(Vec::new());
    };
    let list = doc.root.get("incidents").unwrap_or(&doc.root);
    let items = list
        .as_seq()
        .ok_or_else(|| anyhow::anyhow!("{}: expected a list of incidents", path.display()))?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut out = Vec::new();
    for it in items {
        let at = |k: &str| -> anyhow::Result<i64> {
            let v = it.get(k).and_then(|n| n.as_str()).ok_or_else(|| {
                anyhow::anyhow!("{}:{}: incident needs `{k}`", path.display(), it.pos.line)
            })?;
            crate::text::time::parse_time(v, now)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), it.pos.line))
        };
        let labels = it
            .get("labels")
            .and_then(|l| l.as_map())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Incident {
            start_ms: at("start")?,
            end_ms: at("end")?,
            labels,
        });
    }
    Ok(out)
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    let now = chrono::Utc::now().timestamp_millis();
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
    let found = project
        .rule_files
        .iter()
        .flat_map(|f| f.groups.iter().map(move |g| (f, g)))
        .find_map(|(f, g)| {
            g.rules
                .iter()
                .find(|r| r.kind == RuleKind::Alerting && r.name.value == args.alert)
                .map(|r| (f, g, r))
        });
    let Some((_file, group, rule)) = found else {
        anyhow::bail!(
            "no alerting rule named {:?} under {:?}",
            args.alert,
            args.rules
        );
    };
    let (lhs_text, op, current_threshold) = match &args.lhs {
        Some(l) => (
            l.clone(),
            CmpOp::parse(&args.op)
                .ok_or_else(|| anyhow::anyhow!("--op {:?}: use > >= < <= == !=", args.op))?,
            None,
        ),
        None => {
            let expr =
                crate::promql::parse(&rule.expr.value).map_err(|e| anyhow::anyhow!("{e}"))?;
            match split_comparison(&expr) {
                Ok(s) => (s.lhs, s.op, Some(s.threshold)),
                Err(why) => anyhow::bail!(
                    "{}: cannot sweep {:?}: {why}; give the left side to sweep with --lhs EXPR (and --op)",
                    args.alert,
                    rule.expr.value.trim()
                ),
            }
        }
    };
    let lhs_expr = crate::promql::parse(&lhs_text)
        .map_err(|e| anyhow::anyhow!("left side {lhs_text:?}: {e}"))?;
    // Series, and the recording rules the left side may read.
    let mut store = Store::with_compact_history();
    for p in &args.series {
        inputs::load_series(p, from, &mut store)?;
    }
    let engine = Engine::new(EngineOptions::default());
    if let Some(client) = args.live.client()? {
        // The alert's own file supplies the selectors; `--lhs` adds its own.
        let mut files = project.rule_files.clone();
        if args.lhs.is_some() {
            if let Some(g) = files.iter_mut().flat_map(|f| f.groups.iter_mut()).next() {
                let mut extra = rule.clone();
                extra.expr.value = lhs_text.clone();
                g.rules.push(extra);
            }
        }
        inputs::fetch_raw(&client, &files, from, to, &engine, &mut store)?;
    }
    let recording: Vec<RuleFile> = project
        .rule_files
        .iter()
        .map(|f| {
            let mut f = f.clone();
            for g in &mut f.groups {
                g.rules.retain(|r| r.kind == RuleKind::Recording);
            }
            f.groups.retain(|g| !g.rules.is_empty());
            f
        })
        .collect();
    let tl_opts = TimelineOptions {
        from_ms: from,
        to_ms: to,
        external_labels: BTreeMap::new(),
        external_url: String::new(),
        mode: Mode::Auto,
    };
    timeline::build(&recording, &mut store, &engine, &tl_opts).map_err(|e| anyhow::anyhow!(e))?;
    // The left side at the group's ticks.
    let step = group
        .interval_ms
        .filter(|i| *i > 0)
        .unwrap_or(DEFAULT_INTERVAL_MS);
    let offset = group.query_offset_ms.unwrap_or(0);
    let start = from.div_euclid(step) * step + if from.rem_euclid(step) == 0 { 0 } else { step };
    if start > to {
        anyhow::bail!(
            "the window holds no evaluation of {} (interval {})",
            args.alert,
            crate::text::duration::format_duration(step)
        );
    }
    let n = ((to - start) / step) as usize + 1;
    // The window goes in pieces of at most DEFAULT_CHUNK_TICKS steps, as rule evaluation does, so its
    // length is not limited; a series keeps one row across the pieces.
    let mut series: Vec<(Labels, Vec<f64>)> = Vec::new();
    let mut row_of: HashMap<Labels, usize> = HashMap::new();
    let first = start - offset;
    let mut k0 = 0usize;
    while k0 < n {
        let k1 = (k0 + DEFAULT_CHUNK_TICKS).min(n);
        crate::rules::group::show_reach(
            &mut store,
            std::iter::once(&lhs_expr),
            Some(engine.opts.lookback_delta_ms),
            first + k0 as i64 * step,
            first + (k1 as i64 - 1) * step,
            step,
        );
        let res = engine.instants(
            &store,
            &lhs_expr,
            first + k0 as i64 * step,
            first + (k1 as i64 - 1) * step,
            step,
        )?;
        let Value::Matrix(m) = res.value else {
            anyhow::bail!("the left side {lhs_text:?} does not return a vector");
        };
        for s in m {
            let row = *row_of.entry(s.labels.clone()).or_insert_with(|| {
                series.push((s.labels, vec![tune::ABSENT; n]));
                series.len() - 1
            });
            for (t, v) in s.points {
                let k = ((t - first) / step) as usize;
                if k < n {
                    series[row].1[k] = v;
                }
            }
        }
        k0 = k1;
    }
    // One order whatever the pieces: by labels, as one range query returns them.
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let lhs = Lhs {
        start_ms: start,
        step_ms: step,
        n,
        series,
    };
    let dist = tune::distribution(
        lhs.series
            .iter()
            .flat_map(|(_, v)| v.iter().copied().filter_map(tune::present)),
    );
    let thresholds = match &args.threshold {
        Some(s) => parse_list(s, "--threshold")?,
        None => {
            let mut t: Vec<f64> = current_threshold.into_iter().collect();
            if let Some(d) = dist {
                t.extend([d[2], d[3], d[4]]);
            }
            t.sort_by(|a, b| a.total_cmp(b));
            t.dedup();
            t
        }
    };
    let fors = match &args.for_ {
        Some(s) => parse_durations(s, "--for")?,
        None => vec![rule.for_duration()],
    };
    let kffs = match &args.keep_firing_for {
        Some(s) => parse_durations(s, "--keep-firing-for")?,
        None => vec![rule.keep_firing_for()],
    };
    let incidents = match &args.incidents {
        Some(p) => load_incidents(p)?,
        None => Vec::new(),
    };
    let spec = SweepSpec {
        op,
        thresholds: &thresholds,
        fors: &fors,
        keep_firing_fors: &kffs,
        current: (
            current_threshold.unwrap_or(f64::NAN),
            rule.for_duration(),
            rule.keep_firing_for(),
        ),
        incidents: &incidents,
    };
    let rows = tune::sweep(&lhs, &spec);
    let budget = match &args.budget {
        Some(b) => tune::within_budget(&rows, op, parse_budget(b)?, to - from),
        None => None,
    };
    // Notifications per combination.
    let mut notifications: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); rows.len()];
    if let Some(path) = &args.alertmanager {
        let style = crate::report::human::Style { color: false };
        let Some((config, _)) = super::load_alertmanager(path, &style)? else {
            return Ok(Status::Problems);
        };
        let alert_labels: Vec<BTreeMap<String, String>> = lhs
            .series
            .iter()
            .map(|(l, _)| {
                let mut m: BTreeMap<String, String> = l
                    .iter()
                    .filter(|(k, _)| *k != "__name__")
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                for (k, v) in &rule.labels {
                    m.insert(k.value.clone(), v.value.clone());
                }
                m.insert("alertname".into(), args.alert.clone());
                m
            })
            .collect();
        let empty = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            let fired: Vec<Fired> = r
                .fired
                .iter()
                .map(|(si, f, res)| Fired {
                    labels: &alert_labels[*si],
                    annotations: &empty,
                    fired_at: *f,
                    resolved_at: *res,
                    interval_ms: step,
                    generator_url: String::new(),
                })
                .collect();
            let sim = feed::simulate_fired(&config, &fired, from, to);
            for rcv in &config.receivers {
                notifications[i].insert(rcv.name.clone(), 0);
            }
            for nt in &sim.notifications {
                *notifications[i].entry(nt.receiver.clone()).or_insert(0) += 1;
            }
        }
    }
    let out = report::Tune {
        alert: args.alert.clone(),
        expr: rule.expr.value.trim().to_string(),
        lhs: lhs_text,
        op,
        from,
        to,
        rows,
        notifications,
        budget,
        incidents: !incidents.is_empty(),
        distribution: dist,
        top: report::top_series(&lhs, 5),
    };
    match args.format {
        Format::Table => print!("{}", report::table(&out)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report::json(&out))?),
        Format::Csv => print!("{}", report::csv(&out)),
    }
    if let Some(p) = &args.plot {
        std::fs::write(p, report::svg(&out, &lhs))
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    Ok(Status::Ok)
}
