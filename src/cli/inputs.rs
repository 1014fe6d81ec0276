//! Inputs shared by the commands that read series over a window (`dry-run`, `tune`): fixtures and times.

use crate::series::store::Store;
use std::path::Path;

/// Loads a fixture into the store. Fixtures with relative times (promtool `input_series`, `.test` load
/// blocks) start at their `start_timestamp`, or at `--from`.
pub fn load_series(path: &Path, from: i64, store: &mut Store) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let start = start_timestamp(&text).unwrap_or(from);
    let mut tmp = Store::new();
    crate::series::fixture::load_fixture(&text, &mut tmp)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for s in tmp.iter() {
        let id = store.series_id(&s.labels);
        for &(t, v) in s.samples.iter() {
            store.append_id(id, t + start, v);
        }
    }
    Ok(())
}

fn start_timestamp(text: &str) -> Option<i64> {
    let stream = crate::load::yaml::parse_stream(text).ok()?;
    let root = &stream.documents.first()?.root;
    crate::load::testfile::parse_timestamp(root.get("start_timestamp")?.as_str()?)
}

/// RFC3339, Unix seconds, `now`, or a duration relative to now (`-7d`, `now-2h`).
pub fn parse_time(s: &str, now: i64) -> Result<i64, String> {
    let s = s.trim();
    if s == "now" {
        return Ok(now);
    }
    let rel = s.strip_prefix("now").unwrap_or(s);
    if let Some(d) = rel.strip_prefix('-') {
        if let Ok(ms) = crate::load::duration::parse_duration(d) {
            return Ok(now - ms);
        }
    }
    if let Some(d) = rel.strip_prefix('+') {
        if let Ok(ms) = crate::load::duration::parse_duration(d) {
            return Ok(now + ms);
        }
    }
    crate::load::testfile::parse_timestamp(s)
        .ok_or_else(|| format!("{s:?} is not RFC3339, Unix seconds, now or -<duration>"))
}
