//! Inputs shared by the commands that read series over a window (`dry-run`, `tune`): fixtures and times.

use crate::series::store::Store;
use std::path::Path;

/// Loads a fixture of any format (promtool input_series YAML, `.test` load blocks, OpenMetrics / Prometheus
/// text with timestamps, Prometheus API JSON). Fixtures with relative times start at their
/// `start_timestamp`, or at `from`.
pub fn load_series(path: &Path, from: i64, store: &mut Store) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let start = start_timestamp(&text).unwrap_or(from);
    crate::series::openmetrics::load_any(&text, store, start)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(())
}

fn start_timestamp(text: &str) -> Option<i64> {
    let stream = crate::load::yaml::parse_stream(text).ok()?;
    let root = &stream.documents.first()?.root;
    crate::load::testfile::parse_timestamp(root.get("start_timestamp")?.as_str()?)
}

/// RFC3339, Unix seconds, `now`, or relative (`-7d`, `now-2h`).
pub fn parse_time(s: &str, now: i64) -> Result<i64, String> {
    super::timearg::parse_time(s, now)
}
