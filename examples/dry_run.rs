//! A dry run from Rust, without the command line: the shipped chat2sql rules over the crash-loop incident,
//! routed through the shipped Alertmanager configuration. Run it from the repository root:
//!
//! ```sh
//! cargo run --release --example dry_run
//! ```
//!
//! It prints each alert that fired and each notification, as `ruletest dry-run` reports them.

use ruletest::project::dry_run::{self, Evaluation};
use ruletest::project::inputs::{self, AlertmanagerFile};
use ruletest::project::{check, Project};
use ruletest::series::Store;
use std::path::Path;

fn main() -> anyhow::Result<()> {
    let from =
        ruletest::text::time::parse_time("2026-11-02T10:00:00Z", 0).map_err(anyhow::Error::msg)?;
    let to =
        ruletest::text::time::parse_time("2026-11-02T12:00:00Z", 0).map_err(anyhow::Error::msg)?;

    // The rules, read once and checked: a rule with errors would make the run meaningless.
    let project = Project::load(&["rules/".into()])?;
    let checked = check::run(&project, &check::Options::default());
    if let Some(e) = checked.errors().next() {
        anyhow::bail!("the rules have errors: {}", e.message);
    }

    // The recorded series; relative fixtures start at `from`.
    let mut store = Store::with_compact_history();
    inputs::load_series(
        Path::new("fixtures/chat2sql/crash-loop.yml"),
        from,
        &mut store,
    )?;

    // The Alertmanager configuration given on its own.
    let config = match inputs::load_alertmanager(Path::new("rules/alertmanager-config.yaml"))? {
        AlertmanagerFile::Config { config, .. } => Some(*config),
        AlertmanagerFile::Errors { errors, .. } => {
            anyhow::bail!("{} error(s) in the config", errors.len())
        }
    };

    let opts = dry_run::Options {
        from_ms: from,
        to_ms: to,
        ..dry_run::Options::default()
    };
    let run = dry_run::run(
        &project.rule_files,
        &mut store,
        config,
        Evaluation::Here,
        &opts,
    )?;
    for a in &run.timeline.alerts {
        println!(
            "{} {:?}: pending {}, fired {:?}, resolved {:?}",
            a.alertname, a.labels, a.active_at, a.fired_at, a.resolved_at
        );
    }
    for n in run.simulation.iter().flat_map(|s| &s.notifications) {
        println!(
            "{} -> {} ({} firing, {} resolved)",
            n.at,
            n.receiver,
            n.firing.len(),
            n.resolved.len()
        );
    }
    Ok(())
}
