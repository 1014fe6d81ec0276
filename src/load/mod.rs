//! Loading: YAML with spans, the kinds of document we recognise, and Prometheus durations.
pub mod duration;
pub mod yaml;
