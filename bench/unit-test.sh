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
measure() { # prints "seconds max_rss_kb exit"
  /usr/bin/time -f "%e %M %x" -o "$dir/time" "$@" >"$dir/out" 2>&1 || true
  cat "$dir/time" | tail -1
}
read -r pt prss pexit < <(measure promtool test rules "$dir/bench.test.yml")
read -r rt rrss rexit < <(measure ./target/release/ruletest test "$dir/bench.test.yml")
echo "promtool: ${pt}s ${prss}KB exit=$pexit"
echo "ruletest: ${rt}s ${rrss}KB exit=$rexit"
awk -v p="$pt" -v r="$rt" -v pm="$prss" -v rm="$rrss" 'BEGIN{printf "speedup=%.1fx rss_ratio=%.2f\n", p/(r>0?r:0.001), rm/pm}'
