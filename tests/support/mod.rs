//! Helpers shared by the live-mode integration tests: a real Prometheus backfilled with a fixture, and a
//! tiny scripted HTTP server for failure cases. Each test binary uses only part of them.
#![allow(dead_code)]

pub mod http;
pub mod prometheus;
