//! Alertmanager: the config model (routes, receivers, inhibit rules, time intervals), routing, inhibition,
//! grouping and timing of notifications over virtual time, and the data notification templates see.
//!
//! Input comes from `load` (the YAML tree of an alertmanager.yml or a ConfigMap/Secret holding one) and from
//! `rules` (alert episodes as Prometheus sends them); output goes to `report` and the `routes` command.

use std::collections::BTreeMap;

pub mod alert;
pub mod config;
pub mod crd;
pub mod dispatch;
pub mod feed;
pub mod fields;
pub mod inhibit;
pub mod intervals;
pub mod matcher;
pub mod notify;
pub mod receivers;
pub mod render;
pub mod route;
pub mod routes_test;
pub mod sender;
pub mod symbolic;

/// An alert's labels. The PromQL side has its own `series::Labels`; the pipeline converts between them.
pub type LabelSet = BTreeMap<String, String>;

/// Reads an Alertmanager configuration document: its typed form (`None` when it has errors), its number of
/// receivers (counted in the YAML when it has errors) and the problems found.
pub fn check_config(
    item: &crate::load::documents::Item,
) -> (Option<config::Config>, usize, Vec<crate::diag::Diagnostic>) {
    let (config, diagnostics) = config::from_node(&item.root, &item.file);
    let receivers = match &config {
        Some(c) => c.receivers.len(),
        None => item
            .root
            .get("receivers")
            .and_then(|r| r.as_seq())
            .map_or(0, |r| r.len()),
    };
    (config, receivers, diagnostics)
}
