//! Go `text/template` with the Prometheus and Alertmanager function sets, and Go's number formatting.
//!
//! `rules` expands alert labels and annotations through [`prometheus`]; `alertmanager` renders notification
//! text through [`alertmanager`]. Both sit on [`engine`], an adapter over the `gotmpl` crate that adds what a
//! port without reflection lacks: Go's printing of floats, zero values for missing map keys, and method calls
//! such as `.Alerts.Firing` or `.Labels.SortedPairs`.
pub mod engine;
pub mod gobuiltins;
pub mod gofmt;
pub mod gotime;
pub mod prometheus;
pub mod structure;

pub use engine::TemplateError;
pub use prometheus::{
    check_alert_template, check_syntax, expand_alert_template, AlertTemplateData, Expansion,
    QueryFn, QuerySample,
};
pub mod alertmanager;

pub use alertmanager::{AlertStatus, NotificationAlert, NotificationData, TemplateSet};
