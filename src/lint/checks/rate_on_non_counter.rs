//! `promql/rate-on-non-counter`: `rate`, `irate` or `increase` of a metric whose name says it is a gauge.

use crate::lint::expr::{is_recorded_name, selector_name, strip_paren, walk};
use crate::lint::locate;
use crate::lint::registry::{Check, Finding, RuleContext};
use promql_parser::parser::Expr;

/// ## What it finds
/// `rate()`, `irate()` or `increase()` of a metric whose name does not end in `_total`, `_count`, `_sum` or
/// `_bucket` (the counter suffixes of the Prometheus naming conventions). Recorded series (`a:b:c`) and the
/// exporters known to name counters without `_total` (node_exporter's vmstat/netstat/snmp, mysqld_exporter's
/// global status, postgres_exporter's pg_stat, ...) are not flagged.
///
/// ## Why it matters
/// `rate` assumes the series only goes up and treats every decrease as a counter reset: a gauge that goes
/// 10, 9, 10 "rate"s as if it had risen by 19. The result is meaningless and alerts on it fire at random.
///
/// ## Example
/// ```yaml
/// expr: rate(node_memory_MemAvailable_bytes[5m]) > 1e6
/// ```
///
/// ## Fix
/// For a gauge use `deriv(x[5m])` (per-second slope) or `delta(x[5m])` (change over the window); if the
/// metric really is a counter, rename it with a `_total` suffix at the source.
pub struct RateOnNonCounter;

/// Exporters whose counters predate the `_total` convention.
const COUNTER_PREFIXES: &[&str] = &[
    "node_vmstat_",
    "node_netstat_",
    "node_snmp_",
    "node_sockstat_",
    "node_nfs_",
    "node_nfsd_",
    "node_softnet_",
    "node_intr",
    "node_context_switches",
    "node_forks",
    "node_schedstat_",
    "node_pressure_",
    "mysql_global_status_",
    "mysql_info_schema_",
    "mysql_perf_schema_",
    "pg_stat_",
];

/// Name endings that say "this is a counter".
const COUNTER_SUFFIXES: &[&str] = &["_total", "_count", "_sum", "_bucket", "_created"];

impl Check for RateOnNonCounter {
    fn code(&self) -> &'static str {
        "promql/rate-on-non-counter"
    }
    fn source(&self) -> &'static str {
        include_str!("rate_on_non_counter.rs")
    }
    fn applies_to_recording_rules(&self) -> bool {
        true
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        walk(cx.ast, &mut |e| {
            let Expr::Call(c) = e else { return };
            if !matches!(c.func.name, "rate" | "irate" | "increase") {
                return;
            }
            let Some(arg) = c.args.args.first() else {
                return;
            };
            let Expr::MatrixSelector(_) = strip_paren(arg) else {
                return;
            };
            let Some(name) = selector_name(arg) else {
                return;
            };
            if looks_like_counter(name) {
                return;
            }
            let pos = locate::find(
                cx.source,
                cx.rule.expr.pos,
                name,
                locate::lines_of(&cx.rule.expr.value),
            );
            out.push(Finding::new(
                pos,
                format!("{}() of `{name}`, whose name does not end in _total/_count/_sum/_bucket: rate of a gauge is meaningless", c.func.name),
                format!("for a gauge use `deriv({name}[...])` or `delta({name}[...])`; if it is a counter, suppress with `# ruletest: ignore promql/rate-on-non-counter <why>`"),
            ));
        });
    }
}

fn looks_like_counter(name: &str) -> bool {
    is_recorded_name(name)
        || COUNTER_SUFFIXES.iter().any(|s| name.ends_with(s))
        || COUNTER_PREFIXES.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lint_expr, places};

    const CODE: &str = "promql/rate-on-non-counter";

    #[test]
    fn flags_rate_of_gauges() {
        let d = lint_expr("rate(node_memory_MemAvailable_bytes[5m]) > 1e6", CODE);
        assert_eq!(places(&d), vec!["5:16"]);
        assert!(d[0].help.as_deref().unwrap().contains("deriv("));
        assert_eq!(
            lint_expr("increase(process_open_fds[1h]) > 10", CODE).len(),
            1
        );
    }

    #[test]
    fn accepts_counters() {
        for q in [
            "rate(http_requests_total[5m]) > 1",
            "rate(x_count[5m]) > 1",
            "rate(x_bucket[5m]) > 1",
            "rate(job:x:sum[5m]) > 1",
            "rate(node_vmstat_pgmajfault[1m]) > 1000",
            "rate({__name__=~\"x.*\"}[5m]) > 1",
            "deriv(node_memory_MemAvailable_bytes[5m]) < 0",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}");
        }
    }
}
