#!/usr/bin/env bash
# Benchmark: ruletest's PromQL engine against Prometheus 2.42 (Debian's package) on the same data, side by side:
# 1,000 series (100 instances x 10 histogram buckets) + 1,000 counters, 15s samples for 12h, range queries at a
# 30s step. The data is written as OpenMetrics by the Rust bench, backfilled with
# `promtool tsdb create-blocks-from openmetrics`, served by prometheus on 127.0.0.1 (free port, temporary
# directory), and each query is timed 5 times (median) through /api/v1/query_range with curl, against
# `cargo bench --bench query_range`. Prometheus's times include HTTP and JSON encoding.
# Usage: bash bench/query-range.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
cargo bench -q --bench query_range -- --openmetrics "$dir/data.om" 2>/dev/null
promtool tsdb create-blocks-from openmetrics "$dir/data.om" "$dir/tsdb" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'global: {}\n' > "$dir/prometheus.yml"
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" >"$dir/prom.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.2; done
ruletest_times=$(cargo bench -q --bench query_range 2>/dev/null)
printf '%-100s %12s %12s %8s\n' query "ruletest ms" "prom ms" ratio
while IFS=$'\t' read -r ms q; do
  times=()
  for _ in 1 2 3 4 5; do
    t=$(curl -s -o /dev/null -w '%{time_total}' --get "http://127.0.0.1:$port/api/v1/query_range" \
      --data-urlencode "query=$q" --data-urlencode start=0 --data-urlencode end=43200 --data-urlencode step=30)
    times+=("$t")
  done
  p=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1*1000}')
  printf '%-100s %12s %12s %7.1fx\n' "$q" "$ms" "$p" "$(awk -v a="$p" -v b="$ms" 'BEGIN{print a/b}')"
done <<< "$ruletest_times"
