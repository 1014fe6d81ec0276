#!/usr/bin/env python3
"""Writes OpenMetrics series for the metrics a rule set reads, for backfilling a Prometheus that a live dry run
queries (bench/live-dry-run.sh). Every identifier in the rules' expressions that looks like a metric name and is
not recorded by the rules themselves gets SERIES series (labels cluster, namespace, pod, container, node,
instance, job, and `le` buckets for *_bucket) over HOURS hours at a 30 s interval: counters (names ending in
_total, _count, _sum, _bucket, _seconds_total) grow steadily, gauges wander. The data exists so that the queries
do real work; it is not meant to make any alert fire.
Usage: gen_mixin_series.py RULES.yaml... > out.om   (environment: SERIES=8, HOURS=6, START=1700000000)
"""
import os, re, sys
import yaml

SERIES = int(os.environ.get("SERIES", "8"))
HOURS = int(os.environ.get("HOURS", "6"))
START = int(os.environ.get("START", "1700000000"))
STEP = 30

WORDS = set("""
and or unless by without on ignoring group_left group_right offset bool count sum avg min max stddev stdvar
topk bottomk quantile count_values group le inf nan
""".split())

exprs, recorded = [], set()
for path in sys.argv[1:]:
    with open(path) as f:
        doc = yaml.safe_load(f)
    for g in doc.get("groups", []):
        for r in g.get("rules", []):
            exprs.append(str(r["expr"]))
            if "record" in r:
                recorded.add(r["record"])

names = set()
for e in exprs:
    # Drop strings and label matchers' values, durations and label lists.
    e = re.sub(r'"(\\.|[^"\\])*"', '""', e)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?", e):
        word = m.group(0)
        if word.endswith("(") or "(" in word:
            continue  # a function call
        word = word.strip()
        if word in WORDS or word in recorded or "_" not in word:
            continue
        names.add(word)

def is_counter(n):
    return n.endswith(("_total", "_count", "_sum", "_bucket"))

out = sys.stdout
n_samples = HOURS * 3600 // STEP + 1
for name in sorted(names):
    # Every family is declared a gauge: OpenMetrics would want a counter's samples named NAME_total, and the
    # type plays no part in PromQL.
    out.write(f"# TYPE {name} gauge\n")
    les = ["0.1", "0.5", "1", "5", "+Inf"] if name.endswith("_bucket") else [None]
    for i in range(SERIES):
        for li, le in enumerate(les):
            labels = (f'cluster="c1",namespace="ns{i % 3}",pod="pod-{i}",container="c{i % 2}",'
                      f'node="node-{i % 4}",instance="10.0.0.{i}:9100",job="job-{i % 2}"')
            if le is not None:
                labels += f',le="{le}"'
            rate = (i + 1) * (li + 1) * 0.5
            lines = []
            for k in range(n_samples):
                t = START + k * STEP
                v = rate * k if is_counter(name) else (i + 1) * (1 + (k % 40) / 40.0)
                lines.append(f"{name}{{{labels}}} {v:g} {t}\n")
            out.write("".join(lines))
out.write("# EOF\n")
sys.stderr.write(f"{len(names)} metric names, {SERIES} series each, {n_samples} samples per series\n")
