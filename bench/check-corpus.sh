#!/usr/bin/env bash
# Benchmark: `ruletest check` against `promtool check rules` over the awesome-prometheus-alerts corpus
# (112 files, 954 rules), side by side in one run. Prints the median wall time of N runs of each and the ratio.
# Usage: bash bench/check-corpus.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
corpus=../shared/corpus/awesome-prometheus-alerts
cargo build --release -q
mapfile -t files < <(find "$corpus" -name '*.yml' -o -name '*.yaml' | sort)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() {
  for _ in $(seq "$runs"); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | median
}
p=$(time_runs promtool check rules "${files[@]}")
r=$(time_runs ./target/release/ruletest check "$corpus")
echo "files=${#files[@]} runs=$runs promtool_us=$p ruletest_us=$r ratio=$(awk -v p="$p" -v r="$r" 'BEGIN{printf "%.1f", p/r}')"
