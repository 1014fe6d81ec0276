//! `ruletest check PATH...`: load every rule file, PrometheusRule, Alertmanager config and test file under the
//! paths, validate them as Prometheus and Alertmanager would, and report problems with file:line.

use super::Status;
use crate::diag::{Diagnostic, Severity};
use crate::load::documents::{self, Kind, Loaded};
use crate::load::rules::{self, RuleKind};
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

/// What `check` found, for the summary line and the JSON output.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub groups: usize,
    pub rules: usize,
    pub alerting_rules: usize,
    pub recording_rules: usize,
    pub alertmanager_configs: usize,
    pub receivers: usize,
    pub test_files: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// Loads and validates everything under `paths`; shared by `check` and the commands that need rules.
pub struct Checked {
    pub loaded: Loaded,
    pub rule_files: Vec<rules::RuleFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
}

pub fn check_paths(paths: &[PathBuf]) -> Result<Checked, documents::LoadError> {
    check_paths_with(paths, None)
}

/// [`check_paths`] with the lint settings from `config_file` instead of the checked directory's.
pub fn check_paths_with(
    paths: &[PathBuf],
    config_file: Option<&std::path::Path>,
) -> Result<Checked, documents::LoadError> {
    check_paths_series(paths, config_file, &crate::series::Store::new())
}

/// [`check_paths_with`], with fixture series the lints may learn from.
pub fn check_paths_series(
    paths: &[PathBuf],
    config_file: Option<&std::path::Path>,
    series: &crate::series::Store,
) -> Result<Checked, documents::LoadError> {
    let loaded = documents::load_paths(paths)?;
    let mut diagnostics = loaded.diagnostics.clone();
    let mut summary = Summary {
        files: loaded.files.len(),
        ..Summary::default()
    };
    let mut rule_files = Vec::new();
    for item in &loaded.items {
        match item.kind {
            Kind::RuleFile | Kind::PrometheusRule => {
                let (rf, d) = rules::load_rule_file(item);
                diagnostics.extend(d);
                summary.groups += rf.groups.len();
                for r in rf.groups.iter().flat_map(|g| &g.rules) {
                    summary.rules += 1;
                    match r.kind {
                        RuleKind::Alerting => summary.alerting_rules += 1,
                        RuleKind::Recording => summary.recording_rules += 1,
                    }
                }
                rule_files.push(rf);
            }
            Kind::Alertmanager => {
                summary.alertmanager_configs += 1;
                let (receivers, d) = crate::alertmanager::check_config(item);
                summary.receivers += receivers;
                diagnostics.extend(d);
            }
            Kind::AlertmanagerConfigCrd => diagnostics.extend(check_crd(item)),
            Kind::TestFile => summary.test_files += 1,
        }
    }
    let (mut lint_config, config_diags) = crate::lint::LintConfig::discover(paths, config_file);
    diagnostics.extend(config_diags);
    lint_config.bucket_bounds = bucket_bounds(&loaded, series);
    let lints = crate::lint::run_on_valid(&rule_files, &loaded, &lint_config, &diagnostics);
    diagnostics.extend(lints);
    if summary.test_files > 0 {
        diagnostics.extend(run_tests(&loaded));
    }
    sort_diagnostics(&mut diagnostics);
    summary.errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    summary.warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    Ok(Checked {
        loaded,
        rule_files,
        diagnostics,
        summary,
    })
}

/// The highest finite `le` per `_bucket` metric in the fixtures and in the input series of the test files.
fn bucket_bounds(
    loaded: &Loaded,
    series: &crate::series::Store,
) -> std::collections::HashMap<String, f64> {
    let mut out: std::collections::HashMap<String, f64> = std::collections::HashMap::new();
    let mut note = |labels: &crate::series::Labels| {
        let (Some(name), Some(le)) = (labels.name(), labels.get("le")) else {
            return;
        };
        let Ok(le) = le.parse::<f64>() else { return };
        if name.ends_with("_bucket") && le.is_finite() {
            let e = out.entry(name.to_string()).or_insert(le);
            *e = e.max(le);
        }
    };
    for s in series.iter() {
        note(&s.labels);
    }
    for item in loaded.items_of(Kind::TestFile) {
        let (tf, _) = crate::load::testfile::load_test_file(item);
        for g in &tf.tests {
            for s in &g.input_series {
                if let Ok(l) = crate::series::notation::parse_series_descriptor(&s.series.value) {
                    note(&l);
                }
            }
        }
    }
    out
}

/// `check` runs the rule unit tests it finds; a failing group is an error at the group's line.
fn run_tests(loaded: &Loaded) -> Vec<Diagnostic> {
    let opts = crate::rules::unittest::Options {
        run: Vec::new(),
        mode: crate::rules::group::Mode::Auto,
        ignore_unknown_fields: false,
        coverage: false,
    };
    let mut out = Vec::new();
    for f in crate::rules::unittest::run_loaded(loaded, &opts) {
        out.extend(f.diagnostics.iter().cloned());
        let file: std::sync::Arc<str> = std::sync::Arc::from(f.file.as_str());
        for g in f.groups.iter().filter(|g| !g.passed()) {
            out.push(
                Diagnostic::error(
                    "test/failed",
                    format!(
                        "rule unit test {:?} failed ({} failing check(s))",
                        g.name,
                        g.failures.len()
                    ),
                )
                .at(&file, crate::load::yaml::Pos::new(g.line, 3))
                .help(format!("`ruletest test {}` shows the differences", f.file)),
            );
        }
    }
    out
}

fn sort_diagnostics(d: &mut [Diagnostic]) {
    d.sort_by(|a, b| a.location.cmp(&b.location).then(a.code.cmp(b.code)));
}

/// An AlertmanagerConfig object on its own: converted and merged as the operator would merge it into an
/// Alertmanager config (here a minimal one with a single receiver), so its own mistakes (unknown fields, bad
/// matchers and durations, undefined receivers) are reported at its lines. Relating it to the real base
/// config and to the rules is `routes --alertmanagerconfig`'s job.
fn check_crd(item: &documents::Item) -> Vec<crate::diag::Diagnostic> {
    let base_file: std::sync::Arc<str> = std::sync::Arc::from("<base config>");
    let Ok(stream) =
        crate::load::yaml::parse_stream("route: {receiver: base}\nreceivers: [{name: base}]\n")
    else {
        return Vec::new();
    };
    let Some(doc) = stream.documents.first() else {
        return Vec::new();
    };
    let (Some(base), _) = crate::alertmanager::config::from_node(&doc.root, &base_file) else {
        return Vec::new();
    };
    let (_, diags) = crate::alertmanager::crd::merge(&base, &[item]);
    // What points into the stand-in base config says nothing about the user's file.
    diags
        .into_iter()
        .filter(|d| d.location.as_ref().is_none_or(|l| *l.file != *base_file))
        .collect()
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    if let Some(v) = &args.alertmanager_version {
        crate::alertmanager::fields::set_target_version(v).map_err(|e| anyhow::anyhow!(e))?;
    }
    let mut series = crate::series::Store::new();
    for p in &args.series {
        super::inputs::load_series(p, 0, &mut series)?;
    }
    let checked = check_paths_series(&args.paths, args.config_file.as_deref(), &series)?;
    let threshold = if args.fail_on == "warning" {
        Severity::Warning
    } else {
        Severity::Error
    };
    let failed = checked.diagnostics.iter().any(|d| d.severity >= threshold);
    match args.format {
        Format::Human => print_human(&checked, args.verbose),
        Format::Json => {
            let out = json!({
                "version": 1,
                "summary": checked.summary,
                "diagnostics": checked.diagnostics.iter().map(json::diagnostic).collect::<Vec<_>>(),
                "skipped": checked.loaded.skipped.iter().map(|s| json!({
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
            junit::render(&checked.diagnostics, &checked.loaded.files)
        ),
    }
    Ok(if failed { Status::Problems } else { Status::Ok })
}

fn print_human(checked: &Checked, verbose: bool) {
    let style = human::Style {
        color: std::io::stdout().is_terminal(),
    };
    for d in &checked.diagnostics {
        print!("{}", human::render(d, &checked.loaded.files, &style));
    }
    if verbose {
        for s in &checked.loaded.skipped {
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
