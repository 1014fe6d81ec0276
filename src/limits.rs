//! Resource limits: how much one query may load, how long it may run, how large a result, a rendered
//! template or a live response may grow. They exist so that a hostile rule file or a huge live range fails
//! with an error naming the limit instead of exhausting memory or hanging; the defaults are far above what
//! normal rule files and test suites need.
//!
//! The evaluating commands flatten [`LimitArgs`] into their arguments and call [`Limits::install`] once, at
//! the start of the command; the stages read [`Limits::active`] where their options are built
//! (`EngineOptions::default`, `ClientOptions::new`, template execution). One process runs one command, so a
//! process-wide setting is enough, and it reaches stages whose callers build their options themselves.

use crate::text::duration::{format_duration, parse_duration};
use std::sync::OnceLock;
use std::time::Duration;

/// Prometheus's `--query.max-samples` default.
pub const DEFAULT_MAX_SAMPLES: usize = 50_000_000;
/// Points in one query result or one live response.
pub const DEFAULT_MAX_POINTS: usize = 50_000_000;
/// Prometheus's `--query.timeout` default.
pub const DEFAULT_EVAL_TIMEOUT: Duration = Duration::from_secs(120);
/// Bytes one template execution may write (an annotation, a notification's title or body).
pub const DEFAULT_TEMPLATE_MAX_OUTPUT: usize = 16 << 20;
/// Bytes of one live HTTP response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1 << 30;
/// gotmpl's fixed limit on nested `{{template}}` / `{{if}}` / `{{with}}` / `{{range}}` during one execution
/// (Go's is 100,000; gotmpl keeps it low so a recursive template cannot overflow the stack). Not
/// configurable: documented here so the error can name it.
pub const TEMPLATE_MAX_DEPTH: usize = 200;
/// gotmpl's fixed budget of `{{range}}` iterations in one execution.
pub const TEMPLATE_MAX_RANGE_ITERATIONS: u64 = 10_000_000;

/// Every limit, with its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Samples one query may load (selectors' samples and subquery steps), as Prometheus counts them.
    pub max_samples: usize,
    /// Points (series x steps with a value) one query result, or one live response, may hold.
    pub max_points: usize,
    /// Wall time of one query evaluation.
    pub eval_timeout: Duration,
    /// Bytes one template execution may produce.
    pub template_max_output: usize,
    /// Bytes one live response body may have; larger bodies are refused while they stream in.
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_samples: DEFAULT_MAX_SAMPLES,
            max_points: DEFAULT_MAX_POINTS,
            eval_timeout: DEFAULT_EVAL_TIMEOUT,
            template_max_output: DEFAULT_TEMPLATE_MAX_OUTPUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

static ACTIVE: OnceLock<Limits> = OnceLock::new();

impl Limits {
    /// Makes these the limits of this process. The first call wins (a command installs once, at its
    /// start); returns whether this call did.
    pub fn install(self) -> bool {
        ACTIVE.set(self).is_ok()
    }

    /// The installed limits, or the defaults when none were installed (library use, unit tests).
    pub fn active() -> Limits {
        ACTIVE.get().cloned().unwrap_or_default()
    }
}

/// The limit flags, for `#[command(flatten)]` into every command that evaluates.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Samples one query may load into memory (Prometheus's --query.max-samples).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SAMPLES, value_parser = parse_count)]
    pub max_samples: usize,
    /// Points (series x steps) one query result or one live response may hold.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_POINTS, value_parser = parse_count)]
    pub max_points: usize,
    /// Wall time one query evaluation may take (Prometheus's --query.timeout).
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_timeout)]
    pub eval_timeout: Duration,
    /// Bytes one rendered template (annotation, notification text) may have; accepts KiB, MiB, GiB.
    #[arg(long, value_name = "BYTES", default_value = "16MiB", value_parser = parse_bytes)]
    pub template_max_output: usize,
    /// Bytes one live HTTP response may have; refused while it streams in. Accepts KiB, MiB, GiB.
    #[arg(long, value_name = "BYTES", default_value = "1GiB", value_parser = parse_bytes)]
    pub max_response_bytes: usize,
}

impl Default for LimitArgs {
    fn default() -> Self {
        let l = Limits::default();
        LimitArgs {
            max_samples: l.max_samples,
            max_points: l.max_points,
            eval_timeout: l.eval_timeout,
            template_max_output: l.template_max_output,
            max_response_bytes: l.max_response_bytes,
        }
    }
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_samples: self.max_samples,
            max_points: self.max_points,
            eval_timeout: self.eval_timeout,
            template_max_output: self.template_max_output,
            max_response_bytes: self.max_response_bytes,
        }
    }

    /// Installs the flags' limits for this process (see [`Limits::install`]).
    pub fn install(&self) {
        self.limits().install();
    }
}

/// A positive count; `_` may group digits (`50_000_000`).
pub fn parse_count(s: &str) -> Result<usize, String> {
    let digits: String = s.trim().chars().filter(|c| *c != '_').collect();
    match digits.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

/// A positive Prometheus duration (`30s`, `2m`, `1h30m`).
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let ms = parse_duration(s.trim()).map_err(|e| e.to_string())?;
    if ms <= 0 {
        return Err("must be positive".into());
    }
    Ok(Duration::from_millis(ms as u64))
}

/// A positive byte size: a number with an optional unit B, KB/MB/GB (powers of 1000) or KiB/MiB/GiB
/// (powers of 1024), case-insensitive.
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 1048576, 512KiB or 16MiB"))?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "mb" | "m" => 1_000_000,
        "gb" | "g" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit (use B, KB, MB, GB, KiB, MiB or GiB)"
            ))
        }
    };
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if bytes == 0 {
        return Err("must be at least 1 byte".into());
    }
    Ok(bytes)
}

/// A duration as the flags take it, for messages (`2m`, `1m30s`, `250ms`).
pub fn show_duration(d: Duration) -> String {
    format_duration(d.as_millis().min(i64::MAX as u128) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let c = Cmd::try_parse_from(["x"]).unwrap();
        assert_eq!(c.limits.limits(), Limits::default());
        assert_eq!(LimitArgs::default().limits(), Limits::default());
    }

    #[test]
    fn flags_are_parsed() {
        let c = Cmd::try_parse_from([
            "x",
            "--max-samples",
            "1_000",
            "--max-points",
            "7",
            "--eval-timeout",
            "1m30s",
            "--template-max-output",
            "4KiB",
            "--max-response-bytes",
            "2MB",
        ])
        .unwrap();
        assert_eq!(
            c.limits.limits(),
            Limits {
                max_samples: 1000,
                max_points: 7,
                eval_timeout: Duration::from_secs(90),
                template_max_output: 4096,
                max_response_bytes: 2_000_000,
            }
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for args in [
            ["x", "--max-samples", "0"],
            ["x", "--max-samples", "lots"],
            ["x", "--eval-timeout", "0s"],
            ["x", "--eval-timeout", "soon"],
            ["x", "--template-max-output", "0"],
            ["x", "--template-max-output", "3 parsecs"],
            ["x", "--max-response-bytes", "99999999999999999999GiB"],
        ] {
            assert!(Cmd::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("123"), Ok(123));
        assert_eq!(parse_bytes("1kb"), Ok(1000));
        assert_eq!(parse_bytes("16MiB"), Ok(16 << 20));
        assert_eq!(parse_bytes(" 1 GiB "), Ok(1 << 30));
        assert!(parse_bytes("MiB").is_err());
    }

    #[test]
    fn durations_show_as_flags_take_them() {
        assert_eq!(show_duration(Duration::from_secs(120)), "2m");
        assert_eq!(show_duration(Duration::from_millis(250)), "250ms");
    }
}
