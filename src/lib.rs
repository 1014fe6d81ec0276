//! ruletest: test Prometheus alerting rules and Alertmanager routing before they page anyone.
//!
//! The pipeline, left to right (a module never reaches back into a later stage):
//! `load` (YAML with spans, document kinds, durations) -> `series` (store, labels, matchers, notation)
//! -> `promql` (evaluator) -> `rules` (rule groups over time, alert state) -> `alertmanager` (routing,
//! inhibition, grouping, notification text) -> `report`. `template` (Go text/template with Prometheus and
//! Alertmanager functions) serves `rules` and `alertmanager`; `lint` checks what `load` produced; `cli` holds
//! the thin front ends.

pub mod alertmanager;
pub mod cli;
pub mod diag;
pub mod limits;
pub mod lint;
pub mod live;
pub mod load;
pub mod parallel;
pub mod project;
pub mod promql;
pub mod report;
pub mod rules;
pub mod semantics;
pub mod series;
pub mod template;
pub mod text;
