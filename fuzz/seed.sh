#!/bin/sh
# Copies seed inputs into fuzz/corpus/<target> (the corpus is not committed). Run from anywhere:
#   fuzz/seed.sh
# Sources: the repository's rules/, fixtures/ and tests/rules/, and ../shared (promqltest/*.test,
# corpus/). Each seed file is copied under a name derived from its path, so re-running is idempotent.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
shared=$(cd "$repo/../shared" 2>/dev/null && pwd) || {
    echo "seed.sh: $repo/../shared is missing" >&2
    exit 1
}
corpus="$here/corpus"

# put <target> <file>...: copy each file into the target's corpus.
put() {
    target=$1
    shift
    mkdir -p "$corpus/$target"
    for f in "$@"; do
        [ -f "$f" ] || continue
        name=$(printf '%s' "$f" | sed "s|^$repo/||; s|^$shared/|shared/|; s|/|_|g")
        cp "$f" "$corpus/$target/$name"
    done
}

# split <target> <prefix> <file>: one seed per line of a file (for line-oriented formats).
split_lines() {
    target=$1
    prefix=$2
    file=$3
    mkdir -p "$corpus/$target"
    n=0
    while IFS= read -r line; do
        n=$((n + 1))
        [ -n "$line" ] || continue
        printf '%s' "$line" >"$corpus/$target/${prefix}_$n"
    done <"$file"
}

yaml_files=$(find "$repo/rules" "$repo/fixtures" "$repo/tests/rules" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
shared_yaml=$(find "$shared/corpus" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
test_scripts=$(find "$shared/promqltest" -name '*.test' | sort)

# shellcheck disable=SC2086 # word splitting of the file lists is intended (no spaces in these paths)
put documents $yaml_files $shared_yaml
# shellcheck disable=SC2086
put unit_testfile $(grep -l -E '^(rule_files|tests):' $yaml_files || true)
# shellcheck disable=SC2086
put promql_testfile $test_scripts

# Line-oriented targets get the lines of the .test scripts and test files that hold their kind of text.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
grep -h -E '^[[:space:]]+[a-zA-Z_:{][^ ]* .*[0-9x_]' $test_scripts | sed 's/^[[:space:]]*//' | sort -u | head -400 >"$tmp/series"
split_lines notation series "$tmp/series"
# shellcheck disable=SC2086
grep -h -E "^[[:space:]]*values: " $yaml_files | sed "s/^[[:space:]]*values: *//; s/^'//; s/'\$//" | sort -u >"$tmp/values"
split_lines notation values "$tmp/values"
# shellcheck disable=SC2086
grep -h -E '^eval(_fail|_warn|_info|_ordered)? (instant|range)' $test_scripts |
    sed -E 's/^eval[a-z_]* instant at [^ ]+ //; s/^eval[a-z_]* range from .* step [^ ]+ //' | sort -u | head -1500 >"$tmp/exprs"
split_lines promql_eval expr "$tmp/exprs"
# shellcheck disable=SC2086
grep -h -E '^[[:space:]]*-?[[:space:]]*expr: ' $yaml_files $shared_yaml | sed -E 's/^[[:space:]]*-?[[:space:]]*expr: *//' | sort -u | head -500 >"$tmp/rule_exprs"
split_lines promql_eval rule_expr "$tmp/rule_exprs"
split_lines promql_syntax expr "$tmp/exprs"
split_lines promql_syntax rule_expr "$tmp/rule_exprs"
# shellcheck disable=SC2086
grep -h -o -E '(for|keep_firing_for|interval|eval_time|group_wait|group_interval|repeat_interval|evaluation_interval|resolve_timeout): *[0-9][0-9a-z]*' $yaml_files $shared_yaml |
    sed -E 's/^[a-z_]+: *//' | sort -u >"$tmp/durations"
split_lines duration dur "$tmp/durations"
# shellcheck disable=SC2086
grep -h -E '^[[:space:]]*- ?.*(=~|!=|!~|=)' $(grep -l -E '^(route|inhibit_rules):|matchers:' $yaml_files $shared_yaml || true) |
    grep -E '(=|~)' | sed -E "s/^[[:space:]]*- *//; s/^'//; s/'\$//; s/^\"//; s/\"\$//" | sort -u | head -300 >"$tmp/matchers"
split_lines am_matcher m "$tmp/matchers"
# shellcheck disable=SC2086
grep -h -E '\{\{' $yaml_files $shared_yaml | sed -E 's/^[[:space:]]*[a-z_]+: *//; s/^[|>]-?$//' | sort -u | head -600 >"$tmp/templates"
split_lines template t "$tmp/templates"

# Inputs that once crashed a target (fuzz/regressions/<target>/), kept so every campaign starts from them;
# tests/fuzz_regressions.rs checks each fix.
for d in "$here"/regressions/*; do
    [ -d "$d" ] || continue
    put "$(basename "$d")" "$d"/*
done

for t in "$corpus"/*; do
    printf '%-16s %5d seeds\n' "$(basename "$t")" "$(find "$t" -type f | wc -l)"
done
