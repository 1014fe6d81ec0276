#!/usr/bin/env python3
"""Writes a large promtool unit test over the Chat2SQL rules for benchmarking `ruletest test` against
`promtool test rules`: 200 pods x 4 container series, 24 latency-histogram buckets, 2 gauges, 15s samples for
12 hours, rules every 30s. Usage: gen_unit_test.py OUTDIR. Writes OUTDIR/rules.yml (the PrometheusRule's groups
as a plain rule file, which promtool needs) and OUTDIR/bench.test.yml.
Pods 0-9 run at 95% of their memory limit for the last two hours, so HighMemoryUsage fires for them at 12h;
the test expects exactly those alerts."""
import os, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
rules = open(os.path.join(here, "..", "rules", "chat2sql-prometheus-rules.yaml")).read()
spec = rules.split("\nspec:\n", 1)[1]
plain = "\n".join(l[2:] if l.startswith("  ") else l for l in spec.splitlines())
open(os.path.join(out, "rules.yml"), "w").write(plain + "\n")

N = 12 * 3600 // 15          # 2880 steps -> 2881 samples
MIB = 1024 * 1024
lines = ["rule_files: [rules.yml]", "evaluation_interval: 30s", "tests:", "  - name: bench", "    interval: 15s", "    input_series:"]
def s(series, values):
    lines.append(f"      - series: '{series}'")
    lines.append(f"        values: '{values}'")
for p in range(200):
    lbl = f'namespace="chat2sql",pod="pod-{p}",container="app"'
    busy = p < 10
    hot_from = N - 480  # last 2 hours
    if busy:
        s(f"container_memory_working_set_bytes{{{lbl}}}", f"{500*MIB}x{hot_from-1} {int(0.95*1024*MIB)}x{N-hot_from}")
    else:
        s(f"container_memory_working_set_bytes{{{lbl}}}", f"{(300+p)*MIB}x{N}")
    s(f"container_spec_memory_limit_bytes{{{lbl}}}", f"{1024*MIB}x{N}")
    s(f"container_cpu_usage_seconds_total{{{lbl}}}", f"0+{0.2*15 + (p % 7) * 0.3}x{N}")
    s(f"kube_pod_container_status_restarts_total{{{lbl}}}", f"0x{N}")
bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 20, 25, 30, 60, "+Inf"]
for i, le in enumerate(bounds):
    inc = min(100, 5 + i * 5)
    s(f'chat2sql_query_duration_seconds_bucket{{query_type="select",status="ok",le="{le}"}}', f"0+{inc}x{N}")
s('chat2sql_ai_accuracy_rate{model_name="gpt-4",time_window="1h"}', f"0.93x{N}")
s('chat2sql_db_connections_active{database="chat2sql",pool="primary"}', f"40x{N}")
lines += ["    alert_rule_test:", "      - eval_time: 12h", "        alertname: HighMemoryUsage", "        exp_alerts:"]
for p in range(10):
    lines += [
        f"          - exp_labels: {{severity: warning, component: resources, namespace: chat2sql, pod: pod-{p}, container: app}}",
        "            exp_annotations:",
        '              summary: "容器内存使用率过高"',
        '              description: "容器 app 内存使用率超过90%"',
    ]
open(os.path.join(out, "bench.test.yml"), "w").write("\n".join(lines) + "\n")
