#!/usr/bin/env bash
# Benchmark: a rule whose expression sums 20,000 terms, `ruletest check` / `test` against promtool's
# `check rules` / `test rules`, side by side in one run (docs/performance.md, "A rule of 20,000 terms").
# Prints "wall_seconds cpu_seconds max_rss_kb exit" per command (bench/measure.py, medians).
# Usage: bash bench/long-expr.sh [terms] [ruletest_runs] [promtool_runs]
set -euo pipefail
cd "$(dirname "$0")/.."
terms=${1:-20000}
rruns=${2:-5}
pruns=${3:-1}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$terms" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
e = ' + '.join('x%d' % (i % 50) for i in range(n))
open(f'{d}/long.yml', 'w').write(
    'groups:\n- name: g\n  rules:\n  - alert: Long\n    expr: ' + e + ' > 0\n    for: 5m\n'
    '  - record: long:sum\n    expr: ' + e + '\n')
div = ' + '.join(['x / container_spec_memory_limit_bytes'] * n)
open(f'{d}/div.yml', 'w').write(
    'groups:\n- name: g\n  rules:\n  - alert: Div\n    expr: ' + div + ' > 0\n    for: 5m\n')
open(f'{d}/long.test.yml', 'w').write(
    'rule_files: [long.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n'
    '      - series: x0\n        values: 1x10\n    promql_expr_test:\n      - expr: long:sum\n'
    '        eval_time: 5m\n        exp_samples: []\n')
PY
cargo build --release -q
m() { python3 bench/measure.py "$@"; }
echo "check, ruletest:           $(m "$rruns" ./target/release/ruletest check "$dir/long.yml")"
echo "check, promtool:           $(m "$pruns" promtool check rules "$dir/long.yml")"
echo "check divisions, ruletest: $(m "$rruns" ./target/release/ruletest check "$dir/div.yml")"
echo "check divisions, promtool: $(m "$pruns" promtool check rules "$dir/div.yml")"
echo "test, ruletest:            $(m "$rruns" ./target/release/ruletest test "$dir/long.test.yml")"
echo "test, promtool:            $(m "$pruns" promtool test rules "$dir/long.test.yml")"
