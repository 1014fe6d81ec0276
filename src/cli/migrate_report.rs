//! `ruletest migrate-report`: runs rule unit tests under Prometheus 2 and Prometheus 3 semantics and lists every
//! test group whose verdict changes, with the checks that fail on the failing side. What upgrading from 2.x to
//! 3.x does to a team's tests (docs/semantics.md lists the differences that can cause a change).

use super::Status;
use crate::load::documents;
use crate::rules::group::Mode;
use crate::rules::unittest::{self, FileResult, Options};
use crate::semantics::{Difference, Semantics};
use std::collections::BTreeMap;
use std::fmt::Write;
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

/// One test group whose verdict differs.
struct Change {
    file: String,
    line: u32,
    name: String,
    passes_on_2: bool,
    passes_on_3: bool,
    /// The failed checks on the failing side, as `test` prints them.
    failures: String,
    /// The differences that explain the change ([`causes`]).
    causes: Vec<Difference>,
    /// Whether no single difference does, and `causes` are those the change needs together.
    combined: bool,
}

/// Per test group (file, line): its name, whether it passed, and its failed checks as `test` prints them.
type VerdictMap = BTreeMap<(String, u32), (String, bool, String)>;

/// The cause of a change in words: the differences that explain it, or that it needs together.
fn cause_text(c: &Change) -> String {
    if c.causes.is_empty() {
        return "not attributed to one difference: several together, or one ruletest does not list"
            .into();
    }
    let names: Vec<&str> = c.causes.iter().map(|d| d.name()).collect();
    if c.combined {
        format!("{} together", names.join(" + "))
    } else {
        names.join(", ")
    }
}

fn run_under(loaded: &documents::Loaded, s: Semantics) -> Vec<FileResult> {
    s.switch_to();
    let opts = Options {
        run: Vec::new(),
        mode: Mode::Auto,
        ignore_unknown_fields: false,
        coverage: false,
    };
    unittest::run_loaded(loaded, &opts)
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
        Some(unit_tests(args)?)
    };
    let unit_changes = units.as_ref().map_or(0, |u| u.changes.len());
    let dry_changes = dry
        .as_ref()
        .map_or(0, |d| d.changes.len() + d.notification_changes.len());
    match args.format {
        Format::Human => {
            if let Some(u) = &units {
                print!("{}", unit_human(u));
            }
            if let Some(d) = &dry {
                print!("{}", crate::report::migrate::human(d));
            }
        }
        Format::Markdown => {
            if let Some(u) = &units {
                print!("{}", unit_markdown(u));
            }
            if let Some(d) = &dry {
                print!("{}", crate::report::migrate::markdown(d));
            }
        }
        Format::Json => {
            let mut v = units
                .as_ref()
                .map(unit_json)
                .unwrap_or_else(|| serde_json::json!({}));
            if let Some(d) = &dry {
                v["dry_run"] = crate::report::migrate::json(d);
            }
            println!("{v}");
        }
    }
    Ok(if unit_changes + dry_changes == 0 {
        Status::Ok
    } else {
        Status::Problems
    })
}

/// The unit-test half: every test group's verdict under both semantics.
struct UnitReport {
    files: usize,
    groups: usize,
    changes: Vec<Change>,
}

fn unit_tests(args: &Args) -> anyhow::Result<UnitReport> {
    let loaded = documents::load_paths(&args.files)?;
    let v2 = run_under(&loaded, Semantics::PROMETHEUS2);
    let v3 = run_under(&loaded, Semantics::PROMETHEUS3);
    let mut changes = Vec::new();
    let by_key = |results: &[FileResult]| -> VerdictMap {
        let mut m = BTreeMap::new();
        for f in results {
            for g in &f.groups {
                let text: String = g
                    .failures
                    .iter()
                    .map(|x| crate::report::unittest::render_failure(&f.file, x, false))
                    .collect();
                m.insert((f.file.clone(), g.line), (g.name.clone(), g.passed(), text));
            }
        }
        m
    };
    let (m2, m3) = (by_key(&v2), by_key(&v3));
    // Verdicts with one difference at a time: on top of Prometheus 3 (which alone gives 2's verdict?) and taken
    // out of Prometheus 2 (which does 2's verdict need?). Only run when something changes.
    // Only the files with a change are run again.
    let changed: std::collections::HashSet<&str> = m2
        .iter()
        .filter(|(k, (_, p2, _))| m3.get(k).is_some_and(|(_, p3, _)| p3 != p2))
        .map(|(k, _)| k.0.as_str())
        .collect();
    let mut alone: Vec<(Difference, VerdictMap)> = Vec::new();
    let mut without: Vec<(Difference, VerdictMap)> = Vec::new();
    if !changed.is_empty() {
        let subset = documents::Loaded {
            files: loaded.files.clone(),
            items: loaded
                .items
                .iter()
                .filter(|i| changed.contains(&*i.file))
                .cloned()
                .collect(),
            ..Default::default()
        };
        for d in Difference::ALL {
            alone.push((
                d,
                by_key(&run_under(&subset, Semantics::prometheus3_with(d))),
            ));
            without.push((
                d,
                by_key(&run_under(&subset, Semantics::PROMETHEUS2.without(d))),
            ));
        }
        Semantics::PROMETHEUS3.switch_to();
    }
    let groups = m2.len();
    for (key, (name, pass2, fail2)) in &m2 {
        let Some((_, pass3, fail3)) = m3.get(key) else {
            continue;
        };
        if pass2 != pass3 {
            let verdict_in = |m: &VerdictMap| m.get(key).map(|(_, p, _)| *p);
            let mut causes: Vec<Difference> = alone
                .iter()
                .filter(|(_, m)| verdict_in(m) == Some(*pass2))
                .map(|(d, _)| *d)
                .collect();
            let combined = causes.is_empty();
            if combined {
                causes = without
                    .iter()
                    .filter(|(_, m)| verdict_in(m) == Some(*pass3))
                    .map(|(d, _)| *d)
                    .collect();
            }
            changes.push(Change {
                file: key.0.clone(),
                line: key.1,
                name: name.clone(),
                passes_on_2: *pass2,
                passes_on_3: *pass3,
                failures: if *pass2 { fail3.clone() } else { fail2.clone() },
                causes,
                combined,
            });
        }
    }
    Ok(UnitReport {
        files: v3.len(),
        groups,
        changes,
    })
}

fn verdict(p: bool) -> &'static str {
    if p {
        "passes"
    } else {
        "fails"
    }
}

fn unit_human(u: &UnitReport) -> String {
    let (files, groups, changes) = (u.files, u.groups, u.changes.as_slice());
    let mut out = format!(
        "Prometheus 2 -> 3: {files} test files, {groups} test groups; {} change verdict\n",
        changes.len()
    );
    for c in changes {
        let _ = writeln!(
            out,
            "{}:{}: {:?} {} on Prometheus 2, {} on Prometheus 3",
            c.file,
            c.line,
            c.name,
            verdict(c.passes_on_2),
            verdict(c.passes_on_3)
        );
        let _ = writeln!(out, "  cause: {}", cause_text(c));
        for d in &c.causes {
            let _ = writeln!(out, "    {}: {}", d.name(), d.explain());
        }
        out.push_str(&c.failures);
    }
    out
}

fn unit_markdown(u: &UnitReport) -> String {
    let (files, groups, changes) = (u.files, u.groups, u.changes.as_slice());
    let mut out = format!(
        "### Prometheus 2 -> 3\n\n{files} test files, {groups} test groups; {} change verdict.\n\n",
        changes.len()
    );
    if !changes.is_empty() {
        out.push_str("| test group | Prometheus 2 | Prometheus 3 | cause | failed checks |\n|---|---|---|---|---|\n");
        for c in changes {
            let checks: Vec<String> = c
                .failures
                .lines()
                .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
                .map(|l| {
                    let l = l.trim();
                    let l = l
                        .strip_prefix(c.file.as_str())
                        .and_then(|r| r.strip_prefix(':'))
                        .map(|r| format!("line {r}"))
                        .unwrap_or_else(|| l.to_string());
                    l.replace('|', "\\|")
                })
                .collect();
            let _ = writeln!(
                out,
                "| `{}:{}` {} | {} | {} | {} | {} |",
                c.file,
                c.line,
                c.name.replace('|', "\\|"),
                verdict(c.passes_on_2),
                verdict(c.passes_on_3),
                cause_text(c),
                checks.join("<br>")
            );
        }
    }
    out
}

fn unit_json(u: &UnitReport) -> serde_json::Value {
    let (files, groups, changes) = (u.files, u.groups, u.changes.as_slice());
    let list: Vec<_> = changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "file": c.file, "line": c.line, "name": c.name,
                "prometheus2": verdict(c.passes_on_2), "prometheus3": verdict(c.passes_on_3),
                "failures": c.failures,
                "causes": c.causes.iter().map(|d| serde_json::json!({
                    "difference": d.name(), "explanation": d.explain(),
                })).collect::<Vec<_>>(),
                "causes_combined": c.combined,
            })
        })
        .collect();
    serde_json::json!({"files": files, "groups": groups, "changes": list})
}
