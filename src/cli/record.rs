//! `ruletest record --prometheus URL --match SELECTOR... --from T [--to T] -o FILE`: downloads the raw samples
//! of the selected series from a live server and saves them as a fixture: OpenMetrics (which `promtool tsdb
//! create-blocks-from openmetrics` can backfill), or Prometheus API JSON when FILE ends in `.json`.

use super::Status;
use crate::live::LiveArgs;
use crate::series::api_json::write_api_json;
use crate::series::openmetrics::write_openmetrics;
use crate::series::Store;
use crate::text::time::{now_ms, parse_time};
use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Series selector to record, like 'http_requests_total{job="api"}'; repeatable.
    #[arg(long = "match", value_name = "SELECTOR", required = true)]
    pub matches: Vec<String>,
    /// Start: RFC3339, Unix seconds, now-2h or -7d.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub from: String,
    /// End (default now).
    #[arg(
        long,
        value_name = "TIME",
        default_value = "now",
        allow_hyphen_values = true
    )]
    pub to: String,
    /// Output file: a `.json` name writes Prometheus API JSON, any other OpenMetrics.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.limits.install();
    let now = now_ms();
    let from = parse_time(&args.from, now).map_err(|e| anyhow::anyhow!("--from: {e}"))?;
    let to = parse_time(&args.to, now).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    if to < from {
        bail!("--to is before --from");
    }
    let Some(client) = args.live.client()? else {
        bail!("record needs --prometheus URL");
    };
    let mut store = Store::new();
    client.load_raw(&args.matches, from, to, &mut store)?;
    // Counted from the store: a series two selectors match is stored once.
    let samples: usize = store.iter().map(|s| s.samples.len()).sum();
    for w in client.warnings() {
        eprintln!("warning: server: {w}");
    }
    write_fixture(&store, &args.output)?;
    eprintln!(
        "recorded {} series, {samples} samples to {}",
        store.len(),
        args.output.display()
    );
    if store.is_empty() {
        eprintln!("warning: no series matched in that time range");
        return Ok(Status::Problems);
    }
    Ok(Status::Ok)
}

/// Writes the store as API JSON when the name ends in `.json`, else as OpenMetrics; through a temporary
/// file beside it, so a failure never leaves half a fixture under the real name.
fn write_fixture(store: &Store, path: &Path) -> anyhow::Result<()> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let tmp = path.with_extension(match path.extension() {
        Some(e) => format!("{}.partial", e.to_string_lossy()),
        None => "partial".into(),
    });
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written: anyhow::Result<()> = (|| {
        if is_json {
            write_api_json(store, &mut out)?;
        } else {
            write_openmetrics(store, &mut out)?;
        }
        out.flush()?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("cannot write {}", path.display())));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
