#!/bin/sh
# Runs every test in each given build folder: the compiled test programs ($B/tests/test_*) and the
# integration scripts (tests/integration/test_*.py|sh, which get TP_BUILD=$B). Each test prints
# TAP lines ("ok N - what was checked" / "not ok N - ..."); this script counts them, counts a
# program that exits non-zero without a "not ok" as one failure, and ends with the summary line
# "N passed, N failed".
#
# Usage: tests/run.sh BUILD [BUILD ...]      TP_TEST_FILTER=substring runs only matching tests.
# TP_TEST_EXEC="CMD ARGS" runs each compiled test program through CMD (board/cross.sh: qemu), and
# TP_TEST_PROGRAMS_ONLY=1 skips the integration scripts (they need the host's programs).
set -u
cd "$(dirname "$0")/.." || exit 2
[ $# -gt 0 ] || set -- build

pass=0
fail=0
failed_list=""
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

export CMOCKA_MESSAGE_OUTPUT=TAP
export TZ="${TZ:-Asia/Ho_Chi_Minh}"
export SDL_VIDEODRIVER=offscreen SDL_AUDIODRIVER=dummy
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"

run_one() { # $1 build, $2 label, rest: command
    b=$1; label=$2; shift 2
    log="$logdir/log"
    echo "=== $label [$b]"
    t0=$(date +%s)
    TP_BUILD="$b" timeout 900 "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    echo "--- $label [$b]: $(($(date +%s) - t0)) s"
    ok=$(grep -cE '^ok [0-9]+|^ok -' "$log")
    nok=$(grep -cE '^not ok' "$log")
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
        nok=1
        echo "not ok - $label exited with status $rc"
    fi
    pass=$((pass + ok))
    fail=$((fail + nok))
    [ "$nok" -eq 0 ] || failed_list="$failed_list
  $label [$b]"
}

for b in "$@"; do
    for t in "$b"/tests/test_*; do
        [ -x "$t" ] || continue
        case "$t" in *"${TP_TEST_FILTER:-}"*) ;; *) continue ;; esac
        # shellcheck disable=SC2086 # TP_TEST_EXEC is a command and its arguments
        run_one "$b" "$(basename "$t")" ${TP_TEST_EXEC:-} "$t"
    done
    for t in tests/integration/test_*.py tests/integration/test_*.sh; do
        [ -f "$t" ] && [ "${TP_TEST_PROGRAMS_ONLY:-0}" != 1 ] || continue
        case "$t" in *"${TP_TEST_FILTER:-}"*) ;; *) continue ;; esac
        case "$t" in
            *.py) run_one "$b" "$(basename "$t")" python3 "$t" ;;
            *.sh) run_one "$b" "$(basename "$t")" sh "$t" ;;
        esac
    done
done

if [ -n "$failed_list" ]; then
    echo "failed:$failed_list"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
