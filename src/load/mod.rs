//! Loading: the kinds of document we recognise (plain files, PrometheusRule objects, ConfigMaps, Secrets,
//! Lists), rule files and rule unit test files. YAML and durations are [`crate::text`]'s.
pub mod documents;
pub mod fields;
pub mod reads;
pub mod rules;
pub mod testfile;
