#!/bin/sh
# Runs every benchmark of a build: the programs $BUILD/bench/bench_* and the scripts
# tests/bench/bench_*.py|sh (which get TP_BUILD). Each prints lines
#   figure: VALUE UNIT (target: ...; limit/ratio: ...)
# This script collects those lines into a table at the end, marking each figure met or MISSED
# when the program printed a verdict ("met"/"missed"). Timing is only ever judged here, never in
# `make test`.
#
# Usage: tests/bench/run.sh [BUILD]      TP_BENCH_FILTER=substring picks benchmarks.
set -u
cd "$(dirname "$0")/../.." || exit 2
b=${1:-build}
export TZ="${TZ:-Asia/Ho_Chi_Minh}"
export SDL_VIDEODRIVER=offscreen SDL_AUDIODRIVER=dummy
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0

for t in "$b"/bench/bench_* tests/bench/bench_*.py tests/bench/bench_*.sh; do
    [ -f "$t" ] || continue
    case "$t" in *"${TP_BENCH_FILTER:-}"*) ;; *) continue ;; esac
    echo "=== $(basename "$t")"
    one=$(mktemp)
    case "$t" in
        *.py) TP_BUILD="$b" python3 "$t" >"$one" 2>&1 ;;
        *.sh) TP_BUILD="$b" sh "$t" >"$one" 2>&1 ;;
        *) TP_BUILD="$b" "$t" >"$one" 2>&1 ;;
    esac
    st=$?
    cat "$one"; cat "$one" >>"$out"; rm -f "$one"
    [ "$st" -eq 0 ] || { echo "bench $(basename "$t") failed with status $st"; rc=1; }
done

echo
echo "=== summary"
grep '^figure:' "$out" | sed 's/^figure: /  /'
missed=$(grep -c '^figure:.*MISSED' "$out")
echo "$(grep -c '^figure:' "$out") figures, $missed missed"
exit $rc
