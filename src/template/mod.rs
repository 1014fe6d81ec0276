//! Go `text/template` with the Prometheus and Alertmanager function sets, and Go's number formatting.
//!
//! `rules` expands alert labels and annotations through [`prometheus`]; `alertmanager` renders notification
//! text through [`alertmanager`]. Both sit on [`engine`], an adapter over the `gotmpl` crate that adds what a
//! port without reflection lacks: Go's printing of values ([`values`], [`crate::text::gofmt`], [`gotime`]), zero values for
//! missing map keys, method calls such as `.Alerts.Firing` or `.Labels.SortedPairs` ([`rewrite`]), Go's
//! builtins where gotmpl differs ([`gobuiltins`]) and the parse-time checks Go makes ([`structure`]).
pub mod alertmanager;
pub mod engine;
pub mod error;
pub mod gobuiltins;
pub mod gotime;
pub mod prometheus;
pub mod rewrite;
pub mod structs;
pub mod structure;
pub mod values;

pub use alertmanager::{AlertStatus, NotificationAlert, NotificationData, TemplateSet};
pub use engine::TemplateError;
pub use prometheus::{
    check_alert_template, check_syntax, expand_alert_template, AlertTemplateData, Expansion,
    QueryFn, QuerySample,
};
