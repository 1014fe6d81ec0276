//! Live mode: reading series from a running Prometheus-compatible server (Prometheus, Thanos, Mimir, Cortex,
//! VictoriaMetrics) over its HTTP API, so rules can be dry-run against real history. Only `/api/v1/query` and
//! `/api/v1/query_range` are used. The client is async (reqwest on tokio) with a blocking facade for the
//! command-line front ends; `args` holds the connection flags every live command shares.

pub mod alertmanager;
pub mod args;
pub mod error;
pub mod options;
pub mod plan;
pub mod progress;
pub mod prometheus;

pub use args::LiveArgs;
pub use error::LiveError;
pub use options::ClientOptions;
pub use prometheus::{AsyncClient, Client, RangeQuery, SeriesSamples};
