//! `promql/rate-on-non-counter`: `rate`, `irate` or `increase` of a metric whose name says it is a gauge.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::promql::facts::{is_recorded_name, selector_name, strip_paren, walk};
use crate::promql::syntax::ast::Expr;

/// ## What it finds
/// `rate()`, `irate()` or `increase()` of a metric whose name says it is a gauge: it does not end in
/// `_total`, `_count`, `_sum` or `_bucket` (the counter suffixes of the naming conventions) and one of its
/// words is a gauge word (`ratio`, `percent`, `celsius`, `temperature`, `info`, `average`, `utilization`,
/// `available`, `free`, `timestamp`, `limit`, `open_fds`, ...), unless another word says it counts (`count`,
/// `total`: netdata's `..._sectors_count_sectors_average` is a count that only grows). Well-known gauges
/// whose names carry no gauge word are known by name (`container_memory_usage_bytes`, `node_load1`,
/// `go_goroutines`, the `node_memory_` and `kube_..._status_` families, ...). Names without `_total` alone are
/// not enough: many exporters (Envoy, SNMP, CouchDB, older OpenTelemetry) name real counters without it.
///
/// ## Why it matters
/// `rate` assumes the series only goes up and treats every decrease as a counter reset: a gauge that goes
/// 10, 9, 10 counts as having risen by 10 (a reset to 0, then 9, then 1) when it did not change. The result
/// follows the gauge's wobble, not its level, and alerts on it fire at random.
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

/// Words (lower-cased parts of the name between `_`) that say "this is a gauge"; a part ending in
/// `available` or `free` counts too (`node_memory_MemAvailable_bytes`).
const GAUGE_WORDS: &[&str] = &[
    "ratio",
    "percent",
    "percentage",
    "celsius",
    "fahrenheit",
    "temperature",
    "info",
    "average",
    "avg",
    "gauge",
    "utilization",
    "utilisation",
    "available",
    "free",
    "timestamp",
    "limit",
    "limits",
    "fds",
    "inflight",
    "ready",
    "up",
];

/// Well-known gauges whose names say nothing: cAdvisor's memory, the node exporter's load and memory, Go
/// and process runtime figures, kube-state-metrics' status and spec families.
const KNOWN_GAUGES: &[&str] = &[
    "container_memory_usage_bytes",
    "container_memory_working_set_bytes",
    "container_memory_rss",
    "container_memory_cache",
    "container_memory_swap",
    "container_memory_mapped_file",
    "container_threads",
    "container_processes",
    "container_sockets",
    "container_file_descriptors",
    "node_load1",
    "node_load5",
    "node_load15",
    "node_procs_running",
    "node_procs_blocked",
    "node_filesystem_size_bytes",
    "node_filesystem_files",
    "node_entropy_available_bits",
    "node_nf_conntrack_entries",
    "node_sockstat_TCP_inuse",
    "node_sockstat_TCP_tw",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_max_fds",
    "go_goroutines",
    "go_threads",
    "kube_pod_container_resource_requests",
];

/// Families of gauges known by their prefix, with the counters among them left out by their suffix.
const GAUGE_PREFIXES: &[&str] = &[
    "node_memory_",
    "go_memstats_heap_",
    "go_memstats_stack_",
    "kube_deployment_status_",
    "kube_deployment_spec_",
    "kube_statefulset_status_",
    "kube_daemonset_status_",
    "kube_node_status_",
    "kube_pod_status_",
];

/// Words that say the metric counts something, whatever else its name says.
const COUNT_WORDS: &[&str] = &["count", "total"];

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
            let Expr::Call { func, args, .. } = e else {
                return;
            };
            if !matches!(func.as_str(), "rate" | "irate" | "increase") {
                return;
            }
            let Some(arg) = args.first() else {
                return;
            };
            let Expr::Matrix { selector, .. } = strip_paren(arg) else {
                return;
            };
            let Some(name) = selector_name(arg) else {
                return;
            };
            if looks_like_counter(name) {
                return;
            }
            let pos = cx.at(selector.span.start);
            out.push(Finding::new(
                pos,
                if known_gauge(name) {
                    format!("{func}() of `{name}`, a gauge: rate of a gauge is meaningless")
                } else {
                    format!("{func}() of `{name}`, whose name does not end in _total/_count/_sum/_bucket: rate of a gauge is meaningless")
                },
                format!("for a gauge use `deriv({name}[...])` or `delta({name}[...])`; if it is a counter, suppress with `# ruletest: ignore promql/rate-on-non-counter <why>`"),
            ));
        });
    }
}

fn known_gauge(name: &str) -> bool {
    KNOWN_GAUGES.contains(&name) || GAUGE_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn looks_like_counter(name: &str) -> bool {
    if is_recorded_name(name) || COUNTER_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return true;
    }
    if known_gauge(name) {
        return false;
    }
    let words: Vec<String> = name.split('_').map(str::to_lowercase).collect();
    if words.iter().any(|w| COUNT_WORDS.contains(&w.as_str())) {
        return true;
    }
    let gauge = words.iter().any(|w| {
        GAUGE_WORDS.contains(&w.as_str()) || w.ends_with("available") || w.ends_with("free")
    });
    !gauge
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
        // Gauges known by name, though no word of theirs says so.
        for q in [
            "rate(container_memory_usage_bytes[5m]) > 1e6",
            "deriv(x[5m]) > 0 and rate(node_load1[5m]) > 1",
            "increase(node_memory_Active_bytes[1h]) > 1e9",
            "rate(kube_deployment_status_replicas_available[5m]) < 0",
            "rate(go_goroutines[5m]) > 10",
        ] {
            assert_eq!(lint_expr(q, CODE).len(), 1, "{q}");
        }
    }

    #[test]
    fn accepts_counters() {
        for q in [
            "rate(http_requests_total[5m]) > 1",
            "rate(x_count[5m]) > 1",
            "rate(x_bucket[5m]) > 1",
            "rate(job:x:sum[5m]) > 1",
            "rate(node_vmstat_pgmajfault[1m]) > 1000",
            "rate(envoy_cluster_upstream_rq_timeout[5m]) > 1",
            "rate(ifHCInOctets[5m]) > 1e9",
            "rate({__name__=~\"x.*\"}[5m]) > 1",
            "deriv(node_memory_MemAvailable_bytes[5m]) < 0",
            // A count that only grows, exported as netdata's average: `increase` reads it right.
            "increase(netdata_smartd_log_reallocated_sectors_count_sectors_average[1m]) > 0",
            // Counters in the gauge families keep their counter suffix.
            "rate(node_memory_pgfault_total[5m]) > 1",
        ] {
            assert!(lint_expr(q, CODE).is_empty(), "{q}");
        }
    }
}
