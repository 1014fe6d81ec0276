#!/usr/bin/env bash
# Benchmark: `ruletest test` against `promtool test rules` on the generated 12-hour, 800-container-series test
# (bench/gen_unit_test.py), side by side in one run: wall time and peak RSS of each, and the ratios.
# Usage: bash bench/unit-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen_unit_test.py "$dir"
cargo build --release -q
measure() { # prints "wall_seconds cpu_seconds max_rss_kb exit"
  /usr/bin/time -f "%e %U %S %M %x" -o "$dir/time" "$@" >"$dir/out" 2>&1 || true
  tail -1 "$dir/time" | awk '{print $1, $2 + $3, $4, $5}'
}
read -r pt pc prss pexit < <(measure promtool test rules "$dir/bench.test.yml")
read -r rt rc rrss rexit < <(measure ./target/release/ruletest test "$dir/bench.test.yml")
echo "promtool: wall ${pt}s cpu ${pc}s rss ${prss}KB exit=$pexit"
echo "ruletest: wall ${rt}s cpu ${rc}s rss ${rrss}KB exit=$rexit"
awk -v p="$pt" -v r="$rt" -v pc="$pc" -v rc="$rc" -v pm="$prss" -v rm="$rrss" \
  'BEGIN{printf "wall speedup=%.1fx cpu speedup=%.1fx rss_ratio=%.2f\n", p/(r>0?r:0.001), pc/(rc>0?rc:0.001), rm/pm}'
