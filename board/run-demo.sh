#!/bin/sh
# board/run-demo.sh - the demo behind `make run`: starts the kiosk on assets/demo/kiosk.conf.
#
# With a display ($DISPLAY or $WAYLAND_DISPLAY) the kiosk opens windowed (developer mode: Escape
# quits). Without one it says so, shows how to run it headless, and taps through one customer
# headless so you can see it work (trace on stdout, screenshots in $BUILD/demo/).
#
# The demo parts are functions so the demo can grow (collector, sync daemon) around start_kiosk.
# Usage: BUILD=build board/run-demo.sh
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
KIOSK="$BUILD/touchpoint-kiosk"
CONF=assets/demo/kiosk.conf

check_built() {
    if [ ! -x "$KIOSK" ]; then
        echo "run: $KIOSK is not built (run: make BUILD=$BUILD all)" >&2
        exit 1
    fi
    mkdir -p var/demo
}

headless_demo() {
    out="$BUILD/demo"
    mkdir -p "$out"
    script="$out/demo.script"
    cat >"$script" <<SCRIPT
screenshot $out/1-question.png
tap nps-4
screenshot $out/2-followup.png
tap reason-wait
screenshot $out/3-thanks.png
advance 4000
tap lang-en
screenshot $out/4-question-en.png
tap nps-10
advance 4000
expect-screen question
SCRIPT
    echo "run: tapping through two customers headless (trace below):"
    "$KIOSK" --config "$CONF" --headless --script "$script" --trace
    echo "run: screenshots of that run: $out/*.png; answers in var/demo/answers.db"
}

start_kiosk() {
    if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
        echo "run: starting the kiosk windowed on $CONF"
        echo "run: tap a number to answer; hold the top-left corner 3 s for staff mode (demo PIN"
        echo "     2468); Escape quits (in fullscreen it would be ignored)"
        "$KIOSK" --config "$CONF" --windowed
        return
    fi
    echo "run: no display found (neither \$DISPLAY nor \$WAYLAND_DISPLAY is set)."
    echo "run: to see the kiosk anyway, run it on a virtual X server:"
    echo "       xvfb-run -a $KIOSK --config $CONF --windowed"
    echo "     or headless with a script of taps on a virtual clock:"
    echo "       $KIOSK --config $CONF --headless --script FILE --trace"
    echo "     (script lines: tap ID, tap-at X Y, hold X Y MS, advance MS, key NAME,"
    echo "      screenshot PATH, expect-screen NAME), and 'make screenshots' for every screen."
    headless_demo
}

check_built
start_kiosk
