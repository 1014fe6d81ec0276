#!/usr/bin/env bash
# Benchmark: two ruletest binaries side by side in one run, on the workloads of every command whose wiring
# a refactor touches (issue #18's "no speed regression on the benches"):
#   check of the awesome-prometheus-alerts corpus; `test` of bench/gen_unit_test.py's suite (all cores) and of
#   bench/gen_mixin_shaped.py's (one thread); `dry-run` and a 20x4 `tune` of the shipped rules over
#   bench/gen_history.py's series.
# Rounds alternate the binaries, so drift of a shared machine falls on both. Each line:
#   "what round binary wall_seconds cpu_seconds max_rss_MB exit" (bench/measure.py, medians of RUNS runs).
# Usage: [RUNS=5] [ROUNDS=3] bash bench/before-after.sh OLD_BINARY NEW_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
old=$1
new=$2
runs=${RUNS:-5}
rounds=${ROUNDS:-3}
corpus=${CORPUS:-../shared/corpus/awesome-prometheus-alerts}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen_unit_test.py "$dir/unit" > /dev/null
python3 bench/gen_mixin_shaped.py "$dir/mixin" 120 12 > /dev/null
SERIES=200 DAYS=7 python3 bench/gen_history.py notation > "$dir/history.yml"
from=2023-11-14T22:13:20Z
to=$(date -u -d "@$((1700000000 + 7 * 86400 - 15))" +%Y-%m-%dT%H:%M:%SZ)
thresholds=$(python3 -c "print(','.join(str(round(0.5 + 0.025 * i, 3)) for i in range(20)))")

measure() {
  local what=$1 round=$2 bin=$3
  shift 3
  read -r w c rss ex < <(python3 "$root/bench/measure.py" "$runs" "$@")
  echo "$what $round $bin $w $c $((rss / 1024)) $ex"
}

for round in $(seq "$rounds"); do
  for bin in "$old" "$new"; do
    measure check-corpus "$round" "$bin" "$bin" check "$corpus"
    measure test-unit "$round" "$bin" "$bin" test "$dir/unit/bench.test.yml"
    (cd "$dir/mixin" && RULETEST_THREADS=1 measure test-mixin-1thread "$round" "$bin" "$bin" test tests.yml)
    measure dry-run-7d "$round" "$bin" "$bin" dry-run --rules rules --series "$dir/history.yml" --from "$from" --to "$to"
    measure tune-20x4 "$round" "$bin" "$bin" tune --rules rules --alert HighCPUUsage --series "$dir/history.yml" \
      --from "$from" --to "$to" --threshold "$thresholds" --for 0s,5m,10m,30m
  done
done
