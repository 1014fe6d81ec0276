//! ruletest: test Prometheus alerting rules and Alertmanager routing before they page anyone.
//!
//! The pipeline, left to right: `load` (the user's documents) and `series` (fixtures, live history) ->
//! `promql` (the engine) -> `rules` (rule groups over time, alert timelines) -> `alertmanager` (routing,
//! inhibition, grouping, notification text) -> `report`. `project` reads a whole project once and holds the
//! operations commands run on it; `cli` holds the thin front ends. Each module imports only the layers below
//! it (docs/architecture.md has the table; tests/architecture.rs enforces it).

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
