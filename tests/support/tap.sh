# tap.sh - the TAP lines of the shell integration tests, sourced from the repository root
# (`. tests/support/tap.sh`); the shell twin of tap.py. ok TEXT / nok TEXT print "ok N - TEXT" /
# "not ok N - TEXT"; check STATUS TEXT prints ok when STATUS is 0, else nok. n counts the checks
# and fail the failed ones, for the script's closing `echo "1..$n"` and `[ $fail -eq 0 ]`.
# shellcheck shell=sh
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }
check() { if [ "$1" -eq 0 ]; then ok "$2"; else nok "$2"; fi; }
