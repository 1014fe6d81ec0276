//! `dry-run` as a library function: if these rules had been deployed over this window, which alerts would
//! have fired, and (with an Alertmanager configuration) who would have been notified, when. The result is a
//! [`DryRun`]; `report::dry_run` renders it. `examples/dry_run.rs` runs one from code.

use crate::alertmanager::config::Config;
use crate::alertmanager::dispatch::Simulation;
use crate::alertmanager::feed;
use crate::load::rules::RuleFile;
use crate::promql::{Engine, EngineOptions};
use crate::rules::group::Mode;
use crate::rules::timeline::{self, Timeline, TimelineOptions};
use crate::series::store::Store;
use std::collections::BTreeMap;

/// What a dry run found.
pub struct DryRun {
    pub from: i64,
    pub to: i64,
    pub timeline: Timeline,
    pub simulation: Option<Simulation>,
    /// Per fired alert (in timeline order, fired ones only): inhibited when it fired.
    pub inhibited: Vec<bool>,
    pub config: Option<Config>,
    /// Rendered text per notification (index into notifications, field, text); filled by the caller that
    /// wants it (`report::dry_run::render_texts`).
    pub texts: Vec<(usize, String, String)>,
}

/// Where the rules' expressions are evaluated.
pub enum Evaluation<'a> {
    /// Here, over the store (fixtures, or raw series fetched from a server beforehand).
    Here,
    /// On a live server, one range query per rule (`--strategy remote`).
    Remote(&'a crate::live::Client),
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The window, inclusive, in Unix milliseconds.
    pub from_ms: i64,
    pub to_ms: i64,
    /// The external URL alerts carry (`$externalURL`, generator URLs).
    pub external_url: String,
    /// Every rule at every tick, as Prometheus does, instead of one range query per rule.
    pub per_tick: bool,
}

/// Evaluates `rule_files` over `store` in the window and, with `alertmanager`, routes what fired through
/// it. A rule the server could not evaluate (with [`Evaluation::Remote`]) is an error: partial results are
/// never presented as complete. Rules that failed to evaluate here are listed in the timeline's errors.
pub fn run(
    rule_files: &[RuleFile],
    store: &mut Store,
    alertmanager: Option<Config>,
    evaluation: Evaluation<'_>,
    opts: &Options,
) -> anyhow::Result<DryRun> {
    let engine = Engine::new(EngineOptions::default());
    let timeline_opts = TimelineOptions {
        from_ms: opts.from_ms,
        to_ms: opts.to_ms,
        external_labels: BTreeMap::new(),
        external_url: opts.external_url.clone(),
        mode: if opts.per_tick {
            Mode::PerTick
        } else {
            Mode::Auto
        },
    };
    let tl = match evaluation {
        Evaluation::Remote(client) => {
            if opts.per_tick {
                anyhow::bail!(
                    "--per-tick would send one query per rule per tick to the server: use --strategy local, \
                     which fetches the raw series once and evaluates them here"
                );
            }
            let remote = crate::rules::remote::RemoteSource::new(client);
            let tl = timeline::build_with(rule_files, store, &engine, &remote, &timeline_opts);
            if let Ok(tl) = &tl {
                if let Some((rule, _, msg)) = tl.errors.first() {
                    anyhow::bail!("{rule}: the server could not evaluate it: {msg}");
                }
            }
            tl
        }
        Evaluation::Here => timeline::build(rule_files, store, &engine, &timeline_opts),
    }
    .map_err(|e| anyhow::anyhow!(e))?;
    let mut run = DryRun {
        from: opts.from_ms,
        to: opts.to_ms,
        timeline: tl,
        simulation: None,
        inhibited: Vec::new(),
        config: None,
        texts: Vec::new(),
    };
    if let Some(config) = alertmanager {
        let fired = timeline::fired(&run.timeline.alerts);
        let sim = feed::simulate_fired(&config, &fired, opts.from_ms, opts.to_ms);
        run.inhibited = feed::inhibited_at_fire(&config, &fired);
        run.simulation = Some(sim);
        run.config = Some(config);
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::documents::{load_bytes, Loaded};
    use crate::load::rules::load_rule_file;
    use std::sync::Arc;

    #[test]
    fn an_alert_fires_after_its_for_and_is_routed() {
        let mut loaded = Loaded::default();
        load_bytes(
            Arc::from("r.yml"),
            b"groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 2m\n",
            &mut loaded,
        );
        let files: Vec<_> = loaded.items.iter().map(|i| load_rule_file(i).0).collect();
        let mut store = Store::new();
        crate::series::fixture::load_fixture(
            "interval: 1m\ninput_series:\n- series: 'up{instance=\"a\"}'\n  values: '1 1 0x10'\n",
            &mut store,
        )
        .unwrap();
        let am = crate::text::yaml::parse_stream(
            "route: {receiver: team, group_wait: 30s}\nreceivers:\n- name: team\n  webhook_configs: [{url: 'http://127.0.0.1:1/'}]\n",
        )
        .unwrap();
        let (config, d) =
            crate::alertmanager::config::from_node(&am.documents[0].root, &Arc::from("am.yml"));
        assert!(d.is_empty(), "{d:?}");
        let opts = Options {
            from_ms: 0,
            to_ms: 10 * 60_000,
            ..Options::default()
        };
        let run = run(&files, &mut store, config, Evaluation::Here, &opts).unwrap();
        // up goes to 0 at 2m; pending then, firing 2m later.
        let alert = &run.timeline.alerts[0];
        assert_eq!((alert.active_at, alert.fired_at), (120_000, Some(240_000)));
        let sim = run.simulation.unwrap();
        assert_eq!(sim.notifications.len(), 1);
        assert_eq!(sim.notifications[0].receiver, "team");
        // The first notification waits group_wait after the alert reached Alertmanager.
        assert_eq!(sim.notifications[0].at, 240_000 + 30_000);
        assert_eq!(run.inhibited, vec![false]);
    }
}
