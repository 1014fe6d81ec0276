//! `ruletest export --openmetrics --series FILE [-o OUT]`: converts any fixture format (input_series YAML, a
//! `load` block, Prometheus text, OpenMetrics, API JSON) to OpenMetrics, so
//! `promtool tsdb create-blocks-from openmetrics OUT DIR` can backfill it into a real Prometheus; `--json`
//! writes Prometheus API JSON instead.

use super::Status;
use crate::series::api_json::write_api_json;
use crate::series::openmetrics::write_openmetrics;
use crate::series::Store;
use crate::text::time::{now_ms, parse_time};
use anyhow::{anyhow, Context};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("to_format").required(true).args(["openmetrics", "json"]))]
pub struct Args {
    /// Write OpenMetrics (timestamps in seconds, `# EOF` last), as promtool's backfill reads it.
    #[arg(long)]
    pub openmetrics: bool,
    /// Write Prometheus API JSON (a query_range response).
    #[arg(long)]
    pub json: bool,
    /// The fixture to convert (any format ruletest reads).
    #[arg(long, value_name = "FILE")]
    pub series: PathBuf,
    /// Where time 0 of a relative fixture (input_series, load block) lands: RFC3339, Unix seconds, now-6h.
    /// Prometheus deletes backfilled blocks older than its retention, so pick a recent start to backfill.
    #[arg(
        long,
        value_name = "TIME",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub start: String,
    /// Output file (default standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    let start = parse_time(&args.start, now_ms()).map_err(|e| anyhow!("--start: {e}"))?;
    // The loader every command with --series uses (exposition text streamed when large).
    let mut store = Store::new();
    let format = crate::project::inputs::load_series_at(
        &args.series,
        crate::project::inputs::Start::At(start),
        &mut store,
    )?;
    let mut buf: Vec<u8> = Vec::new();
    let note = if args.json {
        write_api_json(&store, &mut buf)?;
        String::new()
    } else {
        let sum = write_openmetrics(&store, &mut buf)?;
        if sum.stale_markers_skipped > 0 {
            format!(
                " ({} staleness markers left out: OpenMetrics cannot hold them)",
                sum.stale_markers_skipped
            )
        } else {
            String::new()
        }
    };
    match &args.output {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, &buf).with_context(|| format!("cannot write {}", p.display()))?
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
        }
    }
    eprintln!(
        "exported {} series from {} ({}){note}",
        store.len(),
        args.series.display(),
        format.name()
    );
    Ok(Status::Ok)
}
