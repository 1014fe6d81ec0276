#!/usr/bin/env bash
# Benchmark: `ruletest test` against `promtool test rules` on the generated 12-hour, 800-container-series test
# (bench/gen_unit_test.py), side by side in one run: wall time, CPU time and peak RSS of each (median of
# several runs), and the ratios. ruletest is measured twice: as shipped (it uses every core) and with
# RULETEST_THREADS=1 (one thread).
# Usage: bash bench/unit-test.sh [promtool_runs] [ruletest_runs]
set -euo pipefail
cd "$(dirname "$0")/.."
pruns=${1:-3}
rruns=${2:-11}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen_unit_test.py "$dir"
cargo build --release -q
# Medians over N runs: "wall_seconds cpu_seconds max_rss_kb exit" (bench/measure.py, microsecond resolution).
median_of() {
  python3 bench/measure.py "$@"
}
read -r pt pc prss pexit < <(median_of "$pruns" promtool test rules "$dir/bench.test.yml")
read -r rt rc rrss rexit < <(median_of "$rruns" ./target/release/ruletest test "$dir/bench.test.yml")
read -r st sc srss sexit < <(RULETEST_THREADS=1 median_of "$rruns" ./target/release/ruletest test "$dir/bench.test.yml")
echo "promtool:                   wall ${pt}s cpu ${pc}s rss ${prss}KB exit=$pexit (median of $pruns)"
echo "ruletest:                   wall ${rt}s cpu ${rc}s rss ${rrss}KB exit=$rexit (median of $rruns)"
echo "ruletest RULETEST_THREADS=1: wall ${st}s cpu ${sc}s rss ${srss}KB exit=$sexit (median of $rruns)"
awk -v p="$pt" -v r="$rt" -v s="$st" -v pc="$pc" -v rc="$rc" -v sc="$sc" -v pm="$prss" -v rm="$rrss" \
  'BEGIN{d=0.001;
    printf "wall speedup=%.0fx (one thread: %.0fx)  cpu speedup=%.0fx (one thread: %.0fx)  rss_ratio=%.2f\n",
      p/(r>0?r:d), p/(s>0?s:d), pc/(rc>0?rc:d), pc/(sc>0?sc:d), rm/pm}'
