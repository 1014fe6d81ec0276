#!/usr/bin/env python3
"""Writes a rule set and a promtool unit-test suite shaped like kubernetes-mixin's (issue #16), for benchmarking
`ruletest test` against `promtool test rules` on what real suites look like rather than on one flat group:

- the alerts file comes first in `rule_files` and its alerts read recordings written by the rules file after
  it (so at a tick they see the previous tick's recording, as the mixin's do);
- recording rules chained over four levels (per instance -> per job -> ratios and quantiles -> burn rates),
  in several groups;
- a meta alert reading `ALERTS` (warnings without a critical alert on the same job);
- many test groups (default 120), each with its own services and 12 hours of one-minute input series.

Every service plays one role, chosen by the group and its index: healthy, erroring (5xx from two hours before
the end), slow (p99 above 0.5 s from then), one instance down for the last hour, or erroring and slow. The
expected alerts follow from the roles; both promtool 2.42 and ruletest must pass the suite.

Usage: gen_mixin_shaped.py OUTDIR [GROUPS] [HOURS]   (writes OUTDIR/alerts.yml, records.yml, tests.yml)"""
import os
import sys

out = sys.argv[1]
groups = int(sys.argv[2]) if len(sys.argv) > 2 else 120
hours = int(sys.argv[3]) if len(sys.argv) > 3 else 12
assert hours >= 4, "at least 4 hours: the roles change two hours before the end, the quiet check is one before"
os.makedirs(out, exist_ok=True)

ALERTS = """groups:
- name: meta
  rules:
  - alert: WarningWithoutCritical
    expr: count by (job) (ALERTS{alertstate="firing", severity="warning"}) unless on (job) count by (job) (ALERTS{alertstate="firing", severity="critical"})
    labels: {severity: info}
    annotations: {summary: '{{ $labels.job }} has warnings and no critical alert'}
- name: http.alerts
  rules:
  - alert: ErrorBudgetBurn
    expr: job:http_errors:burnrate5m > 14.4 and job:http_errors:ratio_rate30m > 0.144
    for: 5m
    labels: {severity: critical}
    annotations: {summary: '{{ $labels.job }} burns its error budget'}
  - alert: HighErrorRatio
    expr: job:http_errors:ratio_rate5m > 0.05
    for: 15m
    labels: {severity: warning}
    annotations: {summary: 'More than 5% of {{ $labels.job }} requests fail'}
  - alert: SlowRequests
    expr: job:http_request_duration_seconds:p99 > 0.5
    for: 10m
    labels: {severity: warning}
    annotations: {summary: '{{ $labels.job }} p99 latency above 500ms'}
- name: availability.alerts
  rules:
  - alert: InstanceDown
    expr: up == 0
    for: 5m
    labels: {severity: critical}
    annotations: {summary: '{{ $labels.instance }} of {{ $labels.job }} is down'}
  - alert: JobDegraded
    expr: job:up:ratio < 0.9
    for: 10m
    labels: {severity: warning}
    annotations: {summary: '{{ $labels.job }} has instances down'}
"""

RECORDS = """groups:
- name: http.rules.instance
  rules:
  - record: job_instance_code:http_requests:rate5m
    expr: sum by (job, instance, code) (rate(http_requests_total[5m]))
  - record: job_instance_le:http_request_duration_seconds_bucket:rate5m
    expr: sum by (job, instance, le) (rate(http_request_duration_seconds_bucket[5m]))
  - record: job_code:http_requests:rate30m
    expr: sum by (job, code) (rate(http_requests_total[30m]))
- name: http.rules.job
  rules:
  - record: job_code:http_requests:rate5m
    expr: sum by (job, code) (job_instance_code:http_requests:rate5m)
  - record: job_le:http_request_duration_seconds_bucket:rate5m
    expr: sum by (job, le) (job_instance_le:http_request_duration_seconds_bucket:rate5m)
- name: http.rules.ratio
  rules:
  - record: job:http_errors:ratio_rate5m
    expr: sum by (job) (job_code:http_requests:rate5m{code=~"5.."}) / sum by (job) (job_code:http_requests:rate5m)
  - record: job:http_errors:ratio_rate30m
    expr: sum by (job) (job_code:http_requests:rate30m{code=~"5.."}) / sum by (job) (job_code:http_requests:rate30m)
  - record: job:http_request_duration_seconds:p99
    expr: histogram_quantile(0.99, job_le:http_request_duration_seconds_bucket:rate5m)
- name: http.rules.burn
  rules:
  - record: job:http_errors:burnrate5m
    expr: job:http_errors:ratio_rate5m / 0.01
- name: availability.rules
  rules:
  - record: job:up:ratio
    expr: avg by (job) (up)
"""

N = hours * 60            # one-minute steps; N + 1 samples per series
change = N - 120          # errors and latency start two hours before the end
INSTANCES = ["i0", "i1", "i2"]
HEALTHY, ERRORS, SLOW, DOWN, ERRORS_SLOW = range(5)

lines = ["rule_files: [alerts.yml, records.yml]", "evaluation_interval: 1m", "tests:"]


def series(name, values):
    lines.append(f"  - series: '{name}'")
    lines.append(f"    values: '{values}'")


def steady_then(per_min, after_per_min):
    """A counter rising per_min a minute, then after_per_min from `change` on."""
    if per_min == after_per_min:
        return f"0+{per_min}x{N}"
    head = f"0+{per_min}x{change}" if per_min else f"0x{change}"
    first = per_min * change + after_per_min
    return f"{head} {first}+{after_per_min}x{N - change - 1}"


for g in range(groups):
    services = 4 + g % 7
    roles = {f"svc-{g}-{k}": (g + k) % 5 for k in range(services)}
    lines += [f"- name: group {g}", "  interval: 1m", "  input_series:"]
    for job, role in roles.items():
        errors = role in (ERRORS, ERRORS_SLOW)
        slow = role in (SLOW, ERRORS_SLOW)
        for inst in INSTANCES:
            base = f'job="{job}",instance="{inst}"'
            series(f'http_requests_total{{{base},code="200"}}', f"0+100x{N}")
            series(f'http_requests_total{{{base},code="500"}}', steady_then(0, 20 if errors else 0))
            buckets = {"0.1": (90, 10 if slow else 90), "0.5": (100, 50 if slow else 100), "1": (100, 100), "+Inf": (100, 100)}
            for le, (before, after) in buckets.items():
                series(f'http_request_duration_seconds_bucket{{{base},le="{le}"}}', steady_then(before, after))
            down = role == DOWN and inst == "i2"
            series(f"up{{{base}}}", f"1x{N - 60} 0x59" if down else f"1x{N}")
    expected = {a: [] for a in ["WarningWithoutCritical", "ErrorBudgetBurn", "HighErrorRatio", "SlowRequests", "InstanceDown", "JobDegraded"]}
    for job, role in roles.items():
        critical = False
        warning = False
        if role in (ERRORS, ERRORS_SLOW):
            expected["ErrorBudgetBurn"].append(({"job": job, "severity": "critical"}, f"{job} burns its error budget"))
            expected["HighErrorRatio"].append(({"job": job, "severity": "warning"}, f"More than 5% of {job} requests fail"))
            critical = warning = True
        if role in (SLOW, ERRORS_SLOW):
            expected["SlowRequests"].append(({"job": job, "severity": "warning"}, f"{job} p99 latency above 500ms"))
            warning = True
        if role == DOWN:
            expected["InstanceDown"].append(({"job": job, "instance": "i2", "severity": "critical"}, f"i2 of {job} is down"))
            expected["JobDegraded"].append(({"job": job, "severity": "warning"}, f"{job} has instances down"))
            critical = warning = True
        if warning and not critical:
            expected["WarningWithoutCritical"].append(({"job": job, "severity": "info"}, f"{job} has warnings and no critical alert"))
    lines.append("  alert_rule_test:")
    quiet = f"{hours - 3}h"
    for name, alerts in expected.items():
        lines += [f"  - eval_time: {quiet}", f"    alertname: {name}"]
        lines += [f"  - eval_time: {hours}h", f"    alertname: {name}"]
        if alerts:
            lines.append("    exp_alerts:")
            for labels, summary in alerts:
                lbl = ", ".join(f"{k}: {v}" for k, v in labels.items())
                lines += [f"    - exp_labels: {{{lbl}}}", f"      exp_annotations: {{summary: '{summary}'}}"]
    counts = {
        "count(job:http_errors:ratio_rate5m > 0.1)": sum(r in (ERRORS, ERRORS_SLOW) for r in roles.values()),
        "count(job:http_request_duration_seconds:p99 > 0.5)": sum(r in (SLOW, ERRORS_SLOW) for r in roles.values()),
        "count(job:up:ratio < 1)": sum(r == DOWN for r in roles.values()),
        "count(job:http_errors:burnrate5m)": services,
    }
    lines.append("  promql_expr_test:")
    for expr, n in counts.items():
        lines += [f"  - expr: '{expr}'", f"    eval_time: {hours}h"]
        lines.append(f"    exp_samples: [{{labels: '{{}}', value: {n}}}]" if n else "    exp_samples: []")

open(os.path.join(out, "alerts.yml"), "w").write(ALERTS)
open(os.path.join(out, "records.yml"), "w").write(RECORDS)
open(os.path.join(out, "tests.yml"), "w").write("\n".join(lines) + "\n")
