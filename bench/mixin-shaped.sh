#!/usr/bin/env bash
# Benchmark (issue #16): `ruletest test` against `promtool test rules` on a kubernetes-mixin-shaped suite
# (bench/gen_mixin_shaped.py: alerts before the recordings they read, four levels of recording rules, a meta
# alert on ALERTS, GROUPS test groups of HOURS hours of one-minute series), side by side in one run, then the
# largest test group alone. Prints "wall_seconds cpu_seconds max_rss_kb exit" per command (bench/measure.py,
# medians) and the ratios. Both must pass (exit 0).
# Usage: bash bench/mixin-shaped.sh [groups] [hours] [promtool_runs] [ruletest_runs]
set -euo pipefail
cd "$(dirname "$0")/.."
groups=${1:-120}
hours=${2:-12}
pruns=${3:-1}
rruns=${4:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen_mixin_shaped.py "$dir" "$groups" "$hours"
# The largest test group on its own, with the same header.
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
text = open(f"{d}/tests.yml").read()
head, body = text.split("\ntests:\n", 1)
blocks = ["- name: " + b for b in body.split("- name: ")[1:]]
open(f"{d}/largest.yml", "w").write(head + "\ntests:\n" + max(blocks, key=len))
PY
cargo build --release -q
ruletest=$PWD/target/release/ruletest
cd "$dir"
for file in tests.yml largest.yml; do
  read -r pt pc prss pexit < <(python3 "$OLDPWD/bench/measure.py" "$pruns" promtool test rules "$file")
  read -r rt rc rrss rexit < <(python3 "$OLDPWD/bench/measure.py" "$rruns" "$ruletest" test "$file")
  echo "$file promtool: wall ${pt}s cpu ${pc}s rss ${prss}KB exit=$pexit (median of $pruns)"
  echo "$file ruletest: wall ${rt}s cpu ${rc}s rss ${rrss}KB exit=$rexit (median of $rruns)"
  awk -v p="$pt" -v r="$rt" -v pc="$pc" -v rc="$rc" -v pm="$prss" -v rm="$rrss" -v f="$file" \
    'BEGIN{printf "%s wall speedup=%.0fx cpu speedup=%.0fx rss_ratio=%.2f\n", f, p/(r>0?r:0.001), pc/(rc>0?rc:0.001), rm/pm}'
done
