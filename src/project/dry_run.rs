//! `dry-run` as a library function: if these rules had been deployed over this window, which alerts would
//! have fired, and (with an Alertmanager configuration) who would have been notified, when. The result is a
//! [`DryRun`]; `report::dry_run` renders it. `examples/dry_run.rs` runs one from code.

use crate::alertmanager::config::Config;
use crate::alertmanager::dispatch::Simulation;
use crate::alertmanager::feed;
use crate::load::rules::RuleFile;
use crate::promql::{Engine, EngineOptions};
use crate::rules::group::Mode;
use crate::rules::sweep::{split_comparison, CmpOp};
use crate::rules::timeline::{self, Timeline, TimelineOptions};
use crate::rules::tune::{left_side, present, Lhs};
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
    /// The values behind each alerting rule that had an alert, for the HTML report's plots; filled by the
    /// caller that wants them ([`values`]).
    pub values: Vec<RuleValues>,
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
        values: Vec::new(),
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

/// The values behind one alerting rule over the window, for a plot: its comparison's left side per series
/// (or the whole expression where it is no comparison with a number) and the threshold.
pub struct RuleValues {
    /// Index into the timeline's rules.
    pub rule: usize,
    /// The query plotted.
    pub query: String,
    /// The comparison and its threshold, when the expression ends in one.
    pub comparison: Option<(CmpOp, f64)>,
    /// The series plotted, at most the number asked for: those nearest to firing (highest for `>`, lowest
    /// for `<`).
    pub lhs: Lhs,
    /// How many series the query returned in all.
    pub total_series: usize,
}

/// The values of each alerting rule that had an alert (pending or firing) in `run`, over its window, for the
/// HTML report's plots: at most `max_series` series a rule. Reads `store` as the run left it (with the
/// recorded series written in), so run it after [`run`] with the same store and evaluation: with
/// [`Evaluation::Remote`] the live server answers a range query per rule. A rule whose values cannot be had
/// (its query fails) is left out.
pub fn values(
    run: &DryRun,
    rule_files: &[RuleFile],
    store: &mut Store,
    evaluation: &Evaluation,
    max_series: usize,
) -> Vec<RuleValues> {
    let engine = Engine::new(EngineOptions::default());
    let mut out = Vec::new();
    for (i, info) in run.timeline.rules.iter().enumerate() {
        if !run.timeline.alerts.iter().any(|a| a.rule == i) {
            continue;
        }
        let found = rule_files
            .iter()
            .filter(|f| *f.file == *info.file)
            .flat_map(|f| f.groups.iter())
            .filter(|g| g.name == info.group)
            .find_map(|g| {
                g.rules
                    .iter()
                    .find(|r| r.name.value == info.alertname && r.pos.line == info.line)
                    .map(|r| (g, r))
            });
        let Some((group, rule)) = found else { continue };
        let Ok(expr) = rule.parsed_expr() else {
            continue;
        };
        let (query, comparison) = match split_comparison(&expr) {
            Ok(s) => (s.lhs, Some((s.op, s.threshold))),
            Err(_) => (rule.expr.value.trim().to_string(), None),
        };
        let Ok(lhs_expr) = crate::promql::parse(&query) else {
            continue;
        };
        let step = info.interval_ms.max(1);
        let start = crate::rules::timeline::first_tick(run.from, step);
        if start > run.to {
            continue;
        }
        let offset = group.query_offset_ms.unwrap_or(0);
        let lhs = match evaluation {
            Evaluation::Here => left_side(
                store, &engine, &lhs_expr, &query, start, run.to, step, offset,
            ),
            Evaluation::Remote(client) => {
                crate::rules::remote::left_side(client, &query, start, run.to, step, offset)
            }
        };
        let Ok(mut lhs) = lhs else {
            continue;
        };
        let total_series = lhs.series.len();
        let low = matches!(comparison, Some((CmpOp::Lt | CmpOp::Le, _)));
        let extreme = |v: &[f64]| {
            let it = v
                .iter()
                .copied()
                .filter_map(present)
                .filter(|x| !x.is_nan());
            if low {
                -it.fold(f64::INFINITY, f64::min)
            } else {
                it.fold(f64::NEG_INFINITY, f64::max)
            }
        };
        lhs.series
            .sort_by(|a, b| extreme(&b.1).total_cmp(&extreme(&a.1)).then(a.0.cmp(&b.0)));
        lhs.series.truncate(max_series);
        out.push(RuleValues {
            rule: i,
            query,
            comparison,
            lhs,
            total_series,
        });
    }
    out
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
