#!/bin/sh
# test_fuzz_short.sh - the short fuzzing run of `make test`: every libFuzzer target built into
# $TP_BUILD/fuzz/ (tests/fuzz/fuzz.mk) first replays the whole seed corpus (tests/fuzz/corpus/),
# then fuzzes for FUZZ_SHORT_TIME seconds (default 8) from a scratch copy of it. A crash, a leak,
# undefined behaviour, a timeout or a broken parser promise (the targets abort on those) is a
# "not ok" naming the saved input. Prints TAP lines. Longer runs: `make fuzz FUZZ_TIME=600`.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${TP_BUILD:-build}
T=${FUZZ_SHORT_TIME:-8}
n=0
fails=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tap() { # $1 ok|not ok, $2 text
    n=$((n + 1))
    echo "$1 $n - $2"
    [ "$1" = ok ] || fails=$((fails + 1))
}

for name in batch reply encode clink comment; do
    f="$B/fuzz/fuzz_$name"
    if [ ! -x "$f" ]; then
        tap "not ok" "fuzz_$name not built at $f (make BUILD=$B tests needs clang and the parser's sources)"
        continue
    fi
    seeds="tests/fuzz/corpus/$name"
    [ "$name" = reply ] && seeds="$seeds tests/fuzz/corpus/batch"
    nseeds=$(ls $seeds | wc -l)
    # 1. Regression: every seed input once.
    # shellcheck disable=SC2086
    if "$f" -runs=0 -artifact_prefix="$work/$name-" $seeds >"$work/replay.log" 2>&1; then
        tap ok "fuzz_$name replays its $nseeds seed inputs without a crash, leak or broken promise"
    else
        tail -20 "$work/replay.log"
        tap "not ok" "fuzz_$name fails on a seed input: $(ls "$work" | grep "^$name-" | head -1)"
    fi
    # 2. A short fuzzing run from a scratch corpus (seeds merged in, the tree is not written).
    mkdir -p "$work/corpus-$name"
    # shellcheck disable=SC2086
    if "$f" -max_total_time="$T" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -dict=tests/fuzz/batch.dict -artifact_prefix="$work/$name-" -print_final_stats=1 \
        "$work/corpus-$name" $seeds >"$work/run.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/run.log")
        cov=$(grep -o 'cov: [0-9]*' "$work/run.log" | tail -1)
        tap ok "fuzz_$name ran ${runs:-?} inputs in ${T} s ($cov) with no crash, leak, UB, timeout or broken promise"
    else
        grep -E 'ERROR|promise broken|SUMMARY|Test unit written' "$work/run.log" | head -8
        art=$(ls "$work" | grep "^$name-" | head -1)
        if [ -n "$art" ]; then
            mkdir -p "$B/fuzz/artifacts"
            cp "$work/$art" "$B/fuzz/artifacts/"
        fi
        tap "not ok" "fuzz_$name found a failing input, saved as $B/fuzz/artifacts/${art:-?} (reproduce: $f FILE)"
    fi
done
[ "$fails" -eq 0 ]
