#!/usr/bin/env python3
"""Writes weeks of history for the series the shipped rules (rules/chat2sql-prometheus-rules.yaml) read, for the
history-at-scale benchmark (bench/history.sh, docs/performance.md).

SERIES series (default 1,000) over DAYS days (default 30) at STEP seconds (default 15), in one of two forms:
  notation     promtool input_series YAML, one `a+bxN` segment per hour and series (small on disk, so the run
               measures evaluation and the store rather than reading 18 GB of text);
  openmetrics  OpenMetrics text with timestamps, one line per sample (the form `record` writes; for the
               parsing measurements).
A quarter of the series each: container CPU counters (the rate changes every hour, by fractions of a core;
a few pods run hot for an hour now and then, which fires ContainerHighCPU), working-set gauges (bytes,
changing every hour), memory limits (constant) and restart counters (a restart now and then). Deterministic
(seeded).

Usage: gen_history.py notation|openmetrics > out   (environment: SERIES, DAYS, STEP, START=1700000000)
"""
import os
import random
import sys

FORM = sys.argv[1] if len(sys.argv) > 1 else "notation"
SERIES = int(os.environ.get("SERIES", "1000"))
DAYS = int(os.environ.get("DAYS", "30"))
STEP = int(os.environ.get("STEP", "15"))
START = int(os.environ.get("START", "1700000000"))
PER_HOUR = 3600 // STEP
HOURS = DAYS * 24
rng = random.Random(20261207)
out = sys.stdout


def labels(k):
    return f'namespace="chat2sql",pod="pod-{k:04d}",container="app"'


def segments(kind, k):
    """(start value, increment per sample) per hour."""
    segs = []
    if kind == "cpu":
        v = rng.randint(0, 10_000) / 8
        for h in range(HOURS):
            cores = rng.randint(5, 60) / 100
            if rng.random() < 0.004:
                cores = rng.randint(85, 120) / 100
            inc = round(cores * STEP, 3)
            segs.append((v, inc))
            v = round(v + inc * PER_HOUR, 3)
    elif kind == "mem":
        v = rng.randint(200, 400) * 1_048_576
        for h in range(HOURS):
            inc = rng.randint(-2048, 2048) * 16
            segs.append((v, inc))
            v = max(64 * 1_048_576, v + inc * PER_HOUR)
    elif kind == "limit":
        segs = [(512 * 1_048_576, 0)] * HOURS
    else:
        v = 0
        for h in range(HOURS):
            if rng.random() < 0.002:
                v += 1
            segs.append((v, 0))
    return segs


KINDS = [
    ("cpu", "container_cpu_usage_seconds_total"),
    ("mem", "container_memory_working_set_bytes"),
    ("limit", "container_spec_memory_limit_bytes"),
    ("restarts", "kube_pod_container_status_restarts_total"),
]


def num(x):
    return repr(float(x)) if isinstance(x, float) else str(x)


def main():
    per_kind = SERIES // len(KINDS)
    series = []
    for i, (kind, name) in enumerate(KINDS):
        n = per_kind if i < len(KINDS) - 1 else SERIES - per_kind * (len(KINDS) - 1)
        for k in range(n):
            series.append((name, labels(k), segments(kind, k)))
    if FORM == "notation":
        out.write(f"interval: {STEP}s\ninput_series:\n")
        for name, lab, segs in series:
            # `a-bxN` for a falling segment: promtool reads no `+-`.
            parts = [
                f"{num(v)}{'-' if inc < 0 else '+'}{num(abs(inc))}x{PER_HOUR - 1}" for v, inc in segs
            ]
            out.write(f"  - series: '{name}{{{lab}}}'\n    values: '{' '.join(parts)}'\n")
    elif FORM == "openmetrics":
        for name, lab, segs in series:
            family = name[: -len("_total")] if name.endswith("_total") else name
            kind = "counter" if name.endswith("_total") else "gauge"
            out.write(f"# TYPE {family} {kind}\n")
            t = START
            lines = []
            for v, inc in segs:
                for j in range(PER_HOUR):
                    x = v + inc * j
                    x = round(x, 3) if isinstance(x, float) else x
                    lines.append(f"{name}{{{lab}}} {num(x)} {t}\n")
                    t += STEP
                if len(lines) > 10_000:
                    out.write("".join(lines))
                    lines = []
            out.write("".join(lines))
        out.write("# EOF\n")
    else:
        sys.exit(f"unknown form {FORM!r}: notation or openmetrics")


main()
