//! `ruletest routes`: route label sets through an Alertmanager config (`routes test`, output as
//! `amtool config routes test`) or draw its route tree (`routes tree`, as `amtool config routes`).
//! `--config` takes a plain alertmanager.yml or a ConfigMap/Secret holding one; `--alertmanager.url` reads the
//! config a running Alertmanager has loaded instead. `--alertmanagerconfig` merges Prometheus Operator
//! AlertmanagerConfig objects into it as the operator does.

use super::Status;
use crate::alertmanager::config::Config;
use crate::alertmanager::matcher::{parse_matcher, MatchType};
use crate::alertmanager::route::{receivers_slug, render_matching_tree, render_tree};
use crate::alertmanager::LabelSet;
use crate::diag::Diagnostic;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: RoutesCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RoutesCommand {
    /// Print the receivers an alert with these labels is routed to (comma-joined, in tree order).
    Test(TestArgs),
    /// Draw the route tree.
    Tree(TreeArgs),
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print the branch of the tree the alert takes.
    #[arg(long)]
    pub tree: bool,
    /// Expected receivers (comma-joined, in order); exit 1 when they differ.
    #[arg(long = "verify.receivers")]
    pub verify_receivers: Option<String>,
    /// Labels as name=value.
    pub labels: Vec<String>,
}

/// Where the configuration comes from: a file, or a running Alertmanager.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// alertmanager.yml, or a ConfigMap/Secret holding it.
    #[arg(
        long,
        alias = "config.file",
        required_unless_present = "alertmanager_url",
        conflicts_with = "alertmanager_url"
    )]
    pub config: Option<PathBuf>,
    /// Read the configuration a running Alertmanager has loaded (GET URL/api/v2/status, `config.original`;
    /// secrets come back as `<secret>`).
    #[arg(long = "alertmanager.url", value_name = "URL")]
    pub alertmanager_url: Option<String>,
    /// Prometheus Operator AlertmanagerConfig objects (files or directories) to merge into the config as the
    /// operator does (repeatable).
    #[arg(long = "alertmanagerconfig", value_name = "PATH")]
    pub alertmanager_configs: Vec<PathBuf>,
    /// Timeout of the request to --alertmanager.url.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let ms = crate::text::duration::parse_duration(s).map_err(|e| e.to_string())?;
    if ms <= 0 {
        return Err("the timeout must be positive".into());
    }
    Ok(std::time::Duration::from_millis(ms as u64))
}

#[derive(Debug, clap::Args)]
pub struct TreeArgs {
    #[command(flatten)]
    pub source: SourceArgs,
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    match &args.command {
        RoutesCommand::Test(a) => run_test(a),
        RoutesCommand::Tree(a) => run_tree(a),
    }
}

fn load(source: &SourceArgs) -> anyhow::Result<Result<Config, Vec<Diagnostic>>> {
    use crate::project::inputs::{self, AlertmanagerFile};
    let file = match (&source.config, &source.alertmanager_url) {
        (Some(path), _) => inputs::load_alertmanager(path)?,
        (None, Some(url)) => inputs::alertmanager_from_text(
            // Diagnostics name the server's config, without credentials.
            &format!(
                "{} (config.original)",
                crate::live::options::redact_url(url)
            ),
            &crate::live::alertmanager::fetch_config(url, source.timeout)?,
        )?,
        (None, None) => anyhow::bail!("give --config FILE or --alertmanager.url URL"),
    };
    let (base, mut diags) = match file {
        AlertmanagerFile::Config {
            config, warnings, ..
        } => (*config, warnings),
        AlertmanagerFile::Errors { errors, .. } => return Ok(Err(errors)),
    };
    let config = if source.alertmanager_configs.is_empty() {
        Some(base)
    } else {
        let (merged, d) = inputs::merge_alertmanager_configs(&base, &source.alertmanager_configs)
            .map_err(|e| anyhow::anyhow!("--alertmanagerconfig: {e}"))?;
        diags.extend(d);
        merged
    };
    Ok(match config {
        Some(c) => {
            // Warnings go to stderr so stdout stays exactly what amtool prints.
            print_diagnostics(&diags);
            Ok(c)
        }
        None => Err(diags),
    })
}

fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        let place = d
            .location
            .as_ref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        eprintln!("{place}{}[{}]: {}", d.severity.as_str(), d.code, d.message);
        if let Some(h) = &d.help {
            eprintln!("  help: {h}");
        }
    }
}

/// Labels as amtool reads them: each argument a matcher, which must be an equality.
fn parse_labels(args: &[String]) -> Result<LabelSet, String> {
    let mut out = LabelSet::new();
    for a in args {
        let m = parse_matcher(a).map_err(|e| format!("Failed to parse labels: {e}"))?;
        if m.op != MatchType::Equal {
            return Err("Labels must be specified as key=value pairs".into());
        }
        out.insert(m.name.clone(), m.value.clone());
    }
    Ok(out)
}

fn run_test(a: &TestArgs) -> anyhow::Result<Status> {
    let config = match load(&a.source)? {
        Ok(c) => c,
        Err(diags) => {
            print_diagnostics(&diags);
            return Ok(Status::Problems);
        }
    };
    let labels = match parse_labels(&a.labels) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Status::Usage);
        }
    };
    if a.tree {
        print!("{}", render_matching_tree(&config, &labels));
    }
    let slug = receivers_slug(&config, &labels);
    println!("{slug}");
    match &a.verify_receivers {
        Some(want) if !want.is_empty() && *want != slug => {
            println!("WARNING: Expected receivers did not match resolved receivers.");
            Ok(Status::Problems)
        }
        _ => Ok(Status::Ok),
    }
}

fn run_tree(a: &TreeArgs) -> anyhow::Result<Status> {
    match load(&a.source)? {
        Ok(c) => {
            print!("{}", render_tree(&c));
            Ok(Status::Ok)
        }
        Err(diags) => {
            print_diagnostics(&diags);
            Ok(Status::Problems)
        }
    }
}

/// `ruletest routes test` reads its labels in any argument order to the same label set, and so the same
/// receivers (the routing itself is checked for order independence in `alertmanager::route`).
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn label_arguments_in_any_order(
            pairs in prop::collection::btree_map("[a-z_][a-z0-9_]{0,6}", "[a-zA-Z0-9 ,=\"-]{0,8}", 0..6),
            rotate in 0usize..6,
            reverse in any::<bool>(),
        ) {
            let mut args: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default()))
                .collect();
            let canonical = parse_labels(&args).map_err(TestCaseError::fail)?;
            prop_assert_eq!(&canonical, &pairs.clone().into_iter().collect::<LabelSet>());
            if !args.is_empty() {
                let n = rotate % args.len();
                args.rotate_left(n);
            }
            if reverse {
                args.reverse();
            }
            prop_assert_eq!(parse_labels(&args).map_err(TestCaseError::fail)?, canonical);
        }
    }
}
