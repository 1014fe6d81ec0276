//! Alert episodes from rule evaluation fed into the simulator as Prometheus would send them: each group's
//! evaluation interval sets the sending cadence. Shared by `dry-run` and `tune`.

use super::config::Config;
use super::dispatch::{simulate_deliveries, Simulation};
use super::sender::{deliveries, AlertEpisode, SendOptions};
use super::LabelSet;

/// A fired episode to send: labels, annotations, fired and resolved times, and its group's interval.
pub struct Fired<'a> {
    pub labels: &'a LabelSet,
    pub annotations: &'a LabelSet,
    pub fired_at: i64,
    pub resolved_at: Option<i64>,
    pub interval_ms: i64,
    pub generator_url: String,
}

/// Runs the simulator over what Prometheus would send for `fired` between `from` and `to`.
pub fn simulate_fired(config: &Config, fired: &[Fired], from: i64, to: i64) -> Simulation {
    let mut sends = Vec::new();
    for f in fired {
        let ep = AlertEpisode {
            labels: f.labels.clone(),
            annotations: f.annotations.clone(),
            fired_at: f.fired_at,
            resolved_at: f.resolved_at,
            generator_url: f.generator_url.clone(),
        };
        let opts = SendOptions {
            eval_interval_ms: f.interval_ms,
            ..SendOptions::default()
        };
        sends.extend(deliveries(&ep, &opts, to));
    }
    sends.sort_by_key(|d| d.at);
    simulate_deliveries(config, &sends, from, to)
}

/// For each fired episode, whether an inhibit rule mutes it when it fires (the sources being the other
/// episodes firing then).
pub fn inhibited_at_fire(config: &Config, fired: &[Fired]) -> Vec<bool> {
    let alerts: Vec<super::alert::Alert> = fired
        .iter()
        .map(|f| super::alert::Alert {
            labels: f.labels.clone(),
            annotations: f.annotations.clone(),
            starts_at: f.fired_at,
            ends_at: f.resolved_at,
            generator_url: f.generator_url.clone(),
            updated_at: f.fired_at,
            timeout: false,
        })
        .collect();
    fired
        .iter()
        .map(|f| {
            let t = f.fired_at;
            let sources = alerts.iter().filter(|a| a.starts_at <= t);
            super::inhibit::is_inhibited(&config.inhibit_rules, sources, f.labels, t)
        })
        .collect()
}
