#!/bin/sh
# Runs every test in each given build folder: the compiled test programs ($B/tests/test_*) and the
# integration scripts (tests/integration/test_*.py|sh, which get TP_BUILD=$B). Each test prints
# TAP lines ("ok N - what was checked" / "not ok N - ..."); this script counts them, counts a
# program that exits non-zero without a "not ok" as one failure, and ends with the summary line
# "N passed, N failed".
#
# Usage: tests/run.sh BUILD [BUILD ...]      TP_TEST_FILTER=substring runs only matching tests.
# TP_TEST_JOBS=N runs N tests at a time (default 2: the two builds' suites share the machine; the
# tests pick free ports and their own temporary folders, so they do not meet). Each test's output
# is printed whole when it ends.
# TP_TEST_EXEC="CMD ARGS" runs each compiled test program through CMD (board/cross.sh: qemu), and
# TP_TEST_PROGRAMS_ONLY=1 skips the integration scripts (they need the host's programs).
set -u
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 2

export CMOCKA_MESSAGE_OUTPUT=TAP
export TZ="${TZ:-Asia/Ho_Chi_Minh}"
export SDL_VIDEODRIVER=offscreen SDL_AUDIODRIVER=dummy
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"

# One test (called by this script through xargs): runs it, prints its log under a lock so two
# logs never interleave, and writes "PASSED FAILED" to RESULT.
if [ "${1:-}" = --one ]; then
    result=$2 b=$3 label=$4
    shift 4
    log="$result.log"
    t0=$(date +%s)
    # shellcheck disable=SC2086 # TP_TEST_EXEC is a command and its arguments
    TP_BUILD="$b" timeout 900 ${TP_TEST_EXEC:-} "$@" >"$log" 2>&1 </dev/null
    rc=$?
    ok=$(grep -cE '^ok [0-9]+|^ok -' "$log")
    nok=$(grep -cE '^not ok' "$log")
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
        nok=1
        echo "not ok - $label exited with status $rc" >>"$log"
    fi
    {
        flock 9
        echo "=== $label [$b]"
        cat "$log"
        echo "--- $label [$b]: $(($(date +%s) - t0)) s"
    } 9>>"${result%/*}/lock"
    echo "$ok $nok $label [$b]" >"$result"
    rm -f "$log"
    exit 0
fi

[ $# -gt 0 ] || set -- build
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# The list: one line per test, "RESULT BUILD LABEL COMMAND..." (no spaces in paths).
n=0
add() {
    n=$((n + 1))
    echo "$logdir/$n $*" >>"$logdir/list"
}
for b in "$@"; do
    for t in "$b"/tests/test_*; do
        [ -x "$t" ] || continue
        case "$t" in *"${TP_TEST_FILTER:-}"*) ;; *) continue ;; esac
        add "$b" "$(basename "$t")" "$t"
    done
    [ "${TP_TEST_PROGRAMS_ONLY:-0}" != 1 ] || continue
    for t in tests/integration/test_*.py tests/integration/test_*.sh; do
        [ -f "$t" ] || continue
        case "$t" in *"${TP_TEST_FILTER:-}"*) ;; *) continue ;; esac
        case "$t" in
            *.py) add "$b" "$(basename "$t")" python3 "$t" ;;
            *.sh) add "$b" "$(basename "$t")" sh "$t" ;;
        esac
    done
done

[ -f "$logdir/list" ] && xargs -P "${TP_TEST_JOBS:-2}" -L 1 sh "$self" --one <"$logdir/list"

pass=0
fail=0
failed_list=""
i=0
while [ "$i" -lt "$n" ]; do
    i=$((i + 1))
    if [ -f "$logdir/$i" ]; then
        read -r ok nok label <"$logdir/$i"
    else # killed before it could write its result
        ok=0 nok=1 label=$(sed -n "${i}p" "$logdir/list" | cut -d' ' -f2,3)
    fi
    pass=$((pass + ok))
    fail=$((fail + nok))
    [ "$nok" -eq 0 ] || failed_list="$failed_list
  $label"
done

if [ -n "$failed_list" ]; then
    echo "failed:$failed_list"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
