#!/usr/bin/env bash
# Benchmark (issue #25): weeks of history for many series. Generates SERIES series over DAYS days at 15 s
# (bench/gen_history.py: CPU counters, working-set gauges, limits, restart counters), then measures
#   1. `dry-run` of the shipped rules (rules/) over the whole window;
#   2. `tune` of HighCPUUsage over it: 20 thresholds x 4 `for` values;
#   3. `promtool test rules` evaluating the same rules over the same series tick by tick (a unit test whose
#      one alert check sits at the end of the window; it fails, as it must, after evaluating every tick),
#      side by side, when PROMTOOL=1;
#   4. `dry-run` over OpenMetrics fixtures of 100 series for 1, 4 and 16 days (the issue's table).
# Each line: "what binary wall_seconds cpu_seconds max_rss_MB exit" (bench/measure.py, medians of RUNS).
# OLD, when set, is a second ruletest binary measured beside this checkout's.
# Usage: [OLD=path/to/ruletest] [PROMTOOL=1] [RUNS=1] bash bench/history.sh [series] [days]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
series=${1:-1000}
days=${2:-30}
runs=${RUNS:-1}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release -q
new=$PWD/target/release/ruletest
bins=("$new")
if [ -n "${OLD:-}" ]; then bins+=("$OLD"); fi
from=2023-11-14T22:13:20Z
to=$(date -u -d "@$((1700000000 + days * 86400 - 15))" +%Y-%m-%dT%H:%M:%SZ)
thresholds=$(python3 -c "print(','.join(str(round(0.5 + 0.025 * i, 3)) for i in range(20)))")

measure() {
  local what=$1 bin=$2
  shift 2
  read -r w c rss ex < <(python3 "$root/bench/measure.py" "$runs" "$@")
  echo "$what $bin $w $c $((rss / 1024)) $ex"
}

SERIES=$series DAYS=$days python3 bench/gen_history.py notation > "$dir/history.yml"
echo "# $series series x $days days at 15 s: $(du -h "$dir/history.yml" | cut -f1) of notation"
for bin in "${bins[@]}"; do
  measure dry-run "$bin" "$bin" dry-run --rules rules --series "$dir/history.yml" --from "$from" --to "$to"
  measure tune-20x4 "$bin" "$bin" tune --rules rules --alert HighCPUUsage --series "$dir/history.yml" \
    --from "$from" --to "$to" --threshold "$thresholds" --for 0s,5m,10m,30m
done

if [ "${PROMTOOL:-0}" = 1 ]; then
  python3 - "$dir" "$days" <<'PY'
import sys, yaml
d, days = sys.argv[1], int(sys.argv[2])
# promtool reads plain rule files: the PrometheusRule object's spec.
doc = yaml.safe_load(open("rules/chat2sql-prometheus-rules.yaml"))
open(f"{d}/rules.yaml", "w").write(yaml.safe_dump(doc.get("spec", doc)))
body = open(f"{d}/history.yml").read().split("input_series:\n", 1)[1]
body = "\n".join("    " + l if l else l for l in body.splitlines())
open(f"{d}/promtool-test.yml", "w").write(
    "rule_files: [rules.yaml]\nevaluation_interval: 30s\ntests:\n- interval: 15s\n  input_series:\n"
    + body
    + f"\n  alert_rule_test:\n  - eval_time: {days * 24}h\n    alertname: NeverFires\n    exp_alerts: [{{}}]\n"
)
PY
  (cd "$dir" && measure promtool-test promtool promtool test rules promtool-test.yml)
fi

for d in 1 4 16; do
  SERIES=100 DAYS=$d python3 bench/gen_history.py openmetrics > "$dir/om.txt"
  end=$(date -u -d "@$((1700000000 + d * 86400 - 15))" +%Y-%m-%dT%H:%M:%SZ)
  echo "# 100 series x $d days OpenMetrics: $(du -h "$dir/om.txt" | cut -f1)"
  for bin in "${bins[@]}"; do
    measure "dry-run-om-${d}d" "$bin" "$bin" dry-run --rules rules --series "$dir/om.txt" --from "$from" --to "$end"
  done
done
