//! The forms users write and read that every stage shares: YAML with spans (and positions inside its scalars),
//! Prometheus durations, the time arguments of commands, and numbers and strings formatted as Go formats them
//! (Prometheus and Alertmanager are Go programs; their output is Go's). The bottom layer: it imports nothing of
//! the crate.
pub mod duration;
pub mod gofmt;
pub mod scalar_pos;
pub mod time;
pub mod yaml;
