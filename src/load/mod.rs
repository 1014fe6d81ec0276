//! Loading: YAML with spans, the kinds of document we recognise, rule files, and Prometheus durations.
pub mod documents;
pub mod duration;
pub mod fields;
pub mod reads;
pub mod rules;
pub mod scalar_pos;
pub mod testfile;
pub mod yaml;
