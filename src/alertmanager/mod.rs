//! The Alertmanager half of the pipeline: configuration, routing, inhibition, time intervals, grouping and
//! notification text.
use crate::diag::Diagnostic;
use crate::load::documents::Item;

/// Validates an Alertmanager configuration document; returns the number of receivers and the problems.
pub fn check_config(item: &Item) -> (usize, Vec<Diagnostic>) {
    let receivers = item
        .root
        .get("receivers")
        .and_then(|r| r.as_seq())
        .map_or(0, |r| r.len());
    (receivers, Vec::new())
}
