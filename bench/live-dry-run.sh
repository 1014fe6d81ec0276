#!/usr/bin/env bash
# Benchmark: `dry-run --prometheus --strategy remote` of the kubernetes-mixin rules against a real Prometheus
# on 127.0.0.1, backfilled with series for every metric the rules read (bench/gen_mixin_series.py), and
# against a server that accepts connections and never answers (`--timeout 1s`). Each ruletest binary given
# is measured in the same run (median wall, CPU, RSS: bench/measure.py), so an older build can be compared
# with the current one.
# Usage: bash bench/live-dry-run.sh MIXIN_DIR [RULETEST_BINARY...]
#   MIXIN_DIR: a checkout of kubernetes-monitoring/kubernetes-mixin (rendered here with Debian's `jsonnet`).
#   Binaries default to ./target/release/ruletest. Environment: SERIES (50), HOURS (6), RUNS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
mixin=$1
shift
bins=("$@")
[ ${#bins[@]} -gt 0 ] || { cargo build --release -q; bins=(./target/release/ruletest); }
runs=${RUNS:-5}
export SERIES=${SERIES:-50} HOURS=${HOURS:-6}
dir=$(mktemp -d)
prom_pid=
hang_pid=
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null || true
  [ -n "$hang_pid" ] && kill "$hang_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

jsonnet -J "$mixin" -S -e 'std.manifestYamlDoc((import "mixin.libsonnet").prometheusAlerts)' > "$dir/alerts.yaml"
jsonnet -J "$mixin" -S -e 'std.manifestYamlDoc((import "mixin.libsonnet").prometheusRules)' > "$dir/rules.yaml"
START=1700000000 python3 bench/gen_mixin_series.py "$dir/alerts.yaml" "$dir/rules.yaml" > "$dir/series.om"
promtool tsdb create-blocks-from openmetrics "$dir/series.om" "$dir/tsdb" > /dev/null
rm "$dir/series.om"
printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' > "$dir/prometheus.yml"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
  --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=100y > "$dir/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 60); do
  curl -sf "http://127.0.0.1:$port/-/ready" > /dev/null && break
  sleep 1
done
# A listener that accepts and never answers, for at most 10 minutes.
hang_port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1000); s.settimeout(1)
held, t0 = [], time.time()
while time.time() - t0 < 600:
    try: held.append(s.accept()[0])
    except OSError: pass
' "$hang_port" &
hang_pid=$!
sleep 0.5

rules=$(grep -c '"\(alert\|record\)":' "$dir/alerts.yaml" "$dir/rules.yaml" | awk -F: '{s+=$2} END {print s}')
window=(--from 1700003600 --to 1700021600)
echo "kubernetes-mixin: $rules rules; $SERIES series per metric over ${HOURS}h, dry run over 5h at the groups' intervals"
for b in "${bins[@]}"; do
  read -r wall cpu rss code < <(python3 bench/measure.py "$runs" "$b" dry-run --rules "$dir/alerts.yaml" "$dir/rules.yaml" \
    --prometheus "http://127.0.0.1:$port" --strategy remote "${window[@]}" --format json)
  echo "$b: real Prometheus: wall ${wall}s cpu ${cpu}s rss ${rss}KB exit=$code (median of $runs)"
  read -r wall cpu rss code < <(python3 bench/measure.py 1 "$b" dry-run --rules "$dir/alerts.yaml" "$dir/rules.yaml" \
    --prometheus "http://127.0.0.1:$hang_port" --strategy remote "${window[@]}" --timeout 1s)
  echo "$b: hung server, --timeout 1s: wall ${wall}s exit=$code"
done
