#!/bin/sh
# board/run-demo.sh - the demo behind `make run` (which installs packages and builds first):
# starts a local collector, the sync daemon and the kiosk on the demo configuration, prints the
# dashboard URL, and stops all three on Ctrl+C.
#
#   collector  build/touchpoint-collector on 127.0.0.1:8088 (or the next free port), SQLite
#              store $VAR/collector.db, log $VAR/collector.log, --public-url
#              http://127.0.0.1:<that port> (the comment page the thank-you's QR code opens).
#              The store holds the demo's tree (vn/hcm/hcm-q1/checkout with settings), the demo
#              survey (assets/demo/checkout-nps-comment.json: checkout-nps version 2, which
#              offers the comment link after every rating) published and assigned to the
#              store, and the demo device (demo-kiosk-01, `device add` once; its
#              token is kept in $VAR/demo/sync.token, the config's [sync] token_file, across
#              runs; a lost token file gets a fresh token by `device rotate-token`).
#   sync       build/touchpoint sync --daemon (a round every 30 s; SIGUSR1 = sync now), pid
#              file $VAR/demo/sync.pid (the config's [sync] pid_file: staff "Sync now").
#   kiosk      windowed when $DISPLAY or $WAYLAND_DISPLAY is set (Escape quits, which ends the
#              demo). Without a display: says how to run it (xvfb-run, or headless with a
#              script), then taps through a few customers headless (answers recorded, staff
#              "Sync now" tapped) so the dashboard shows data, and keeps serving the dashboard.
#   alert      a negative_share rule on the demo store (issue 13): four of the seven scripted
#              customers are unhappy, the rule fires and opens a case (GET /v1/cases, the
#              dashboard's cases view); the script prints its title.
#
# The config: assets/demo/kiosk.conf is used as it is when $VAR is the repository's var/ and
# the port is 8088; otherwise $VAR/kiosk.conf is written from it with absolute paths and the
# port actually used.
#
# Environment: BUILD (default build), TP_VAR_DIR (default <repo>/var), TP_DEMO_PORT (first port
# tried, default 8088), TP_DEMO_ONCE=1 (tests: after the headless customers, wait until the sync
# daemon has delivered them, then stop everything and exit 0 instead of serving until Ctrl+C).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
KIOSK="$BUILD/touchpoint-kiosk"
TP="$BUILD/touchpoint"
COLLECTOR="$BUILD/touchpoint-collector"
SRC_CONF=assets/demo/kiosk.conf
DEVICE=demo-kiosk-01
PORT0=${TP_DEMO_PORT:-8088}
ONCE=${TP_DEMO_ONCE:-0}

VAR=${TP_VAR_DIR:-$ROOT/var}
mkdir -p "$VAR/demo"
VAR=$(cd "$VAR" && pwd) # absolute: it goes into a config file
DEVICES="$VAR/devices.txt"
TOKEN="$VAR/demo/sync.token"
PIDFILE="$VAR/demo/sync.pid"
DB="$VAR/demo/answers.db"
CLOG="$VAR/collector.log"

COLLECTOR_PID=
SYNC_PID=
KIOSK_PID=
PORT=
CONF=

# printf, not echo: dash's echo would expand backslashes in paths.
say() { printf 'run: %s\n' "$*"; }
die() {
    printf 'run: %s\n' "$*" >&2
    exit 1
}

check_built() {
    for p in "$KIOSK" "$TP" "$COLLECTOR"; do
        [ -x "$p" ] || die "$p is not built (run: make BUILD=$BUILD all)"
    done
    case "$VAR" in
    *'|'* | *'&'* | *\\*) die "TP_VAR_DIR=$VAR: a path with | & or \\ cannot go into the config" ;;
    esac
}

# Stops whatever was started, kiosk first (it finishes its current write), then the sync daemon
# (so it does not start a round against a stopped collector), then the collector; waits for
# each so no process outlives the demo. SIGTERM, not SIGINT: children of a non-interactive
# shell started with & ignore SIGINT.
stop_all() {
    for pid in $KIOSK_PID $SYNC_PID $COLLECTOR_PID; do
        kill -TERM "$pid" 2>/dev/null || true
        st=0
        wait "$pid" 2>/dev/null || st=$?
        # Each one exits 0 on SIGTERM; anything else (a crash, a sanitizer report) is shown.
        [ "$st" -eq 0 ] || echo "run: warning: process $pid exited with status $st" >&2
    done
    KIOSK_PID=''
    SYNC_PID=''
    COLLECTOR_PID=''
}

on_signal() {
    trap - INT TERM
    echo
    say "stopping the kiosk, the sync daemon and the collector"
    stop_all
    say "stopped"
    exit 130
}
trap on_signal INT TERM
trap stop_all EXIT

# The demo shop in the collector's tree (chain vn, region hcm, store hcm-q1, touchpoint
# checkout), the device attached to its touchpoint node, and the demo survey published and
# assigned to the store: after its first sync round the kiosk runs the center's configuration.
# Every step is idempotent (node set and a publish of the same document again change nothing).
NODE=vn/hcm/hcm-q1/checkout
fleet() { "$COLLECTOR" "$@" --store "sqlite:$VAR/collector.db" 2>>"$CLOG"; }
setup_fleet() {
    fleet node set vn --settings '{"timezone": "Asia/Ho_Chi_Minh", "languages": ["vi", "en"],
        "default_language": "vi"}' >/dev/null &&
        fleet node set vn/hcm >/dev/null &&
        fleet node set vn/hcm/hcm-q1 --settings '{"brand": {"name": "Cửa hàng Quận 1",
            "accent": "#0E6E6E"}}' >/dev/null &&
        fleet node set "$NODE" --settings '{"stage": "after"}' >/dev/null &&
        fleet survey publish assets/surveys/checkout-nps.json >/dev/null &&
        fleet survey publish assets/demo/checkout-nps-comment.json >/dev/null &&
        fleet survey assign checkout-nps@2 --node vn/hcm/hcm-q1 >/dev/null ||
        die "could not set up the demo tree in $VAR/collector.db (log: $CLOG)"
    say "tree: $NODE (store hcm-q1), survey checkout-nps@2 (with comments) assigned to" \
        "vn/hcm/hcm-q1"
    setup_alert
}

# The demo's alert rule (issue 13): half the ratings or more negative, at least 4, on the demo
# store. Its window is the store's whole local day, so the scripted customers of one demo run
# always fall in one window (a 15-minute window could be cut by a boundary mid-run); the day's
# alert opens one case, shown on the dashboard's cases view. Added once (found by its name).
ALERT_NAME="Demo: many unhappy customers"
setup_alert() {
    if fleet alert list | grep -q "$ALERT_NAME"; then
        say "alert rule \"$ALERT_NAME\" already set on vn/hcm/hcm-q1"
        return
    fi
    fleet alert add --node vn/hcm/hcm-q1 --kind negative_share \
        --name-vi "Demo: nhiều khách không hài lòng" --name-en "$ALERT_NAME" \
        --param min_share=50 --param min_count=4 --param window_minutes=1440 >/dev/null ||
        die "could not add the demo alert rule (log: $CLOG)"
    say "alert rule \"$ALERT_NAME\" on vn/hcm/hcm-q1: >= 50% negative of >= 4 ratings in a day"
}

# The device's token: made once by `device add` and kept in the token file across runs; a
# device whose token file was lost gets a fresh token (`device rotate-token`). A devices file
# from an older demo (var/devices.txt) is imported once, as the README's migration says.
has_device() { fleet device list | grep -q "\"id\":[[:space:]]*\"$DEVICE\""; }
register_device() {
    if ! has_device && [ -s "$TOKEN" ] &&
        grep -q "^$DEVICE " "$DEVICES" 2>/dev/null; then
        fleet device import "$DEVICES" --node "$NODE" >/dev/null ||
            die "could not import $DEVICES (log: $CLOG)"
        say "imported $DEVICES into the collector's store"
    fi
    if has_device; then
        fleet device move "$DEVICE" --node "$NODE" >/dev/null ||
            die "could not move $DEVICE to $NODE (log: $CLOG)"
        if [ -s "$TOKEN" ]; then
            say "device $DEVICE already registered (node $NODE, token in $TOKEN)"
            return
        fi
        verb="rotate-token $DEVICE"
    else
        verb="add $DEVICE --node $NODE"
    fi
    # The token is the last word of the output; it goes straight to the file.
    # shellcheck disable=SC2086 # verb is split on purpose
    (umask 077 && fleet device $verb | awk 'END { print $NF }' >"$TOKEN.tmp") &&
        [ -s "$TOKEN.tmp" ] || die "could not register $DEVICE (log: $CLOG)"
    mv "$TOKEN.tmp" "$TOKEN"
    say "registered $DEVICE at $NODE in $VAR/collector.db; its token is in $TOKEN"
}

# Starts the collector on PORT0 or the next free port: the collector itself is the probe (no
# window between checking a port and binding it).
start_collector() {
    port=$PORT0
    last=$((PORT0 + 20))
    out="$VAR/collector.out"
    while [ "$port" -le "$last" ]; do
        : >"$out"
        "$COLLECTOR" --listen "127.0.0.1:$port" --store "sqlite:$VAR/collector.db" \
            --public-url "http://127.0.0.1:$port" >"$out" 2>>"$CLOG" &
        COLLECTOR_PID=$!
        i=0
        while [ $i -lt 300 ]; do
            if grep -q 'listening on port' "$out"; then
                PORT=$port
                say "collector started (pid $COLLECTOR_PID) on 127.0.0.1:$PORT, store" \
                    "$VAR/collector.db, log $CLOG"
                return
            fi
            kill -0 "$COLLECTOR_PID" 2>/dev/null || break
            sleep 0.1
            i=$((i + 1))
        done
        kill -TERM "$COLLECTOR_PID" 2>/dev/null || true
        wait "$COLLECTOR_PID" 2>/dev/null || true
        COLLECTOR_PID=
        if ! tail -n 3 "$CLOG" | grep -qi 'in use'; then
            tail -n 5 "$CLOG" >&2
            die "the collector did not start (log: $CLOG)"
        fi
        say "port $port is taken, trying $((port + 1))"
        port=$((port + 1))
    done
    die "no free port in $PORT0..$last for the collector"
}

# The shipped config when it fits as it is; otherwise $VAR/kiosk.conf with absolute paths (a
# copy's relative paths would resolve against $VAR) and the collector's actual port.
make_config() {
    if [ "$VAR" = "$ROOT/var" ] && [ "$PORT" = 8088 ]; then
        CONF=$SRC_CONF
        return
    fi
    CONF="$VAR/kiosk.conf"
    sed -e "s|= *\.\./surveys|= $ROOT/assets/surveys|" \
        -e "s|= *\.\./brand/|= $ROOT/assets/brand/|" \
        -e "s|\.\./\.\./var/|$VAR/|g" \
        -e "s|^url *=.*|url = http://127.0.0.1:$PORT   ; written by board/run-demo.sh|" \
        "$SRC_CONF" >"$CONF.tmp"
    mv "$CONF.tmp" "$CONF"
    say "wrote $CONF (from $SRC_CONF, collector port $PORT, folder $VAR)"
}

start_sync() {
    rm -f "$PIDFILE"
    "$TP" sync --config "$CONF" --daemon --pid-file "$PIDFILE" --verbose &
    SYNC_PID=$!
    # The pid file appears once SIGUSR1 is safe to send (staff "Sync now").
    i=0
    while [ ! -s "$PIDFILE" ]; do
        kill -0 "$SYNC_PID" 2>/dev/null || die "the sync daemon exited (see its messages above)"
        [ $i -lt 300 ] || die "the sync daemon did not write $PIDFILE"
        sleep 0.1
        i=$((i + 1))
    done
    say "sync daemon started (pid $SYNC_PID): a round every 30 s, pid file $PIDFILE"
    # Its first round fetches the center's configuration; the kiosk then starts on it.
    i=0
    while [ ! -s "$VAR/demo/remote-config.json" ] && [ $i -lt 150 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ -s "$VAR/demo/remote-config.json" ]; then
        say "the center's configuration is in $VAR/demo/remote-config.json"
    else
        say "warning: no configuration from the center yet; the kiosk starts on $CONF"
    fi
}

# Customers tapped headless on the virtual clock, then staff mode (demo PIN 2468) and
# "Sync now", which wakes the sync daemon so the dashboard shows the answers at once.
headless_demo() {
    out="$BUILD/demo"
    mkdir -p "$out"
    script="$out/demo.script"
    cat >"$script" <<SCRIPT
screenshot $out/1-question.png
tap nps-4
screenshot $out/2-followup.png
tap reason-wait
advance 1000
screenshot $out/3-thanks.png
advance 16000
tap lang-en
screenshot $out/4-question-en.png
tap nps-10
advance 16000
tap nps-9
advance 16000
tap nps-2
tap reason-staff
advance 16000
tap nps-0
tap reason-wait
advance 16000
tap nps-3
tap reason-wait
advance 16000
tap nps-1
tap reason-price
advance 16000
expect-screen question
hold 5 5 3000
tap pin-2
tap pin-4
tap pin-6
tap pin-8
tap pin-ok
expect-screen staff
tap staff-sync
screenshot $out/5-staff.png
tap staff-back
expect-screen question
SCRIPT
    say "tapping through seven customers headless (four of them unhappy: the demo alert fires),"
    say "  then staff \"Sync now\" (trace below):"
    "$KIOSK" --config "$CONF" --headless --script "$script" --trace &
    KIOSK_PID=$!
    say "kiosk started headless (pid $KIOSK_PID)"
    rc=0
    wait "$KIOSK_PID" || rc=$?
    KIOSK_PID=
    [ "$rc" -eq 0 ] || die "the headless kiosk session failed (exit $rc)"
    say "screenshots of that session: $out/*.png; answers in $DB"
}

# Number of answers in the kiosk database not yet acknowledged by the collector.
pending_count() {
    "$TP" --db "$DB" check 2>/dev/null | sed -n 's/^answers *\([0-9][0-9]*\) pending.*/\1/p'
}

wait_delivered() {
    i=0
    while [ $i -lt 600 ]; do
        n=$(pending_count)
        if [ "$n" = 0 ]; then
            say "the sync daemon delivered every answer to the collector"
            return
        fi
        sleep 0.1
        i=$((i + 1))
    done
    die "answers still pending after 60 s (sync daemon messages above, collector log $CLOG)"
}

# The case the demo alert opened (the evaluator runs every second): its title, from GET
# /v1/cases through the collector's own CLI reading the store.
wait_case() {
    i=0
    while [ $i -lt 300 ]; do
        title=$(fleet case list --state active | sed -n 's/^[[:space:]]*"en":[[:space:]]*"\(.*\)",*$/\1/p' |
            head -n 1)
        if [ -n "$title" ]; then
            say "the demo alert opened a case: \"$title\" (dashboard: http://127.0.0.1:$PORT/#cases)"
            return
        fi
        sleep 0.1
        i=$((i + 1))
    done
    say "warning: no case opened by the demo alert yet (collector log $CLOG)"
}

start_kiosk() {
    if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
        say "starting the kiosk windowed on $CONF"
        say "tap a number to answer; hold the top-left corner 3 s for staff mode (demo PIN 2468,"
        say "  \"Sync now\" is there); Escape quits the kiosk and ends the demo; Ctrl+C stops all"
        "$KIOSK" --config "$CONF" --windowed &
        KIOSK_PID=$!
        say "kiosk started windowed (pid $KIOSK_PID)"
        say "dashboard: http://127.0.0.1:$PORT/"
        rc=0
        wait "$KIOSK_PID" || rc=$?
        KIOSK_PID=
        say "the kiosk exited (status $rc); stopping the sync daemon and the collector"
        return
    fi
    say "no display found (neither \$DISPLAY nor \$WAYLAND_DISPLAY is set), so no kiosk window."
    say "to see the kiosk, run the demo on a virtual X server:"
    echo "       xvfb-run -a make run"
    say "or the kiosk alone, headless, with a script of taps on a virtual clock:"
    echo "       $KIOSK --config $CONF --headless --script FILE --trace"
    echo "     (script lines: tap ID, tap-at X Y, hold X Y MS, advance MS, key NAME,"
    echo "      screenshot PATH, expect-screen NAME; 'make screenshots' renders every screen)"
    headless_demo
    if [ "$ONCE" = 1 ]; then
        wait_delivered
        wait_case
        say "dashboard: http://127.0.0.1:$PORT/"
        return
    fi
    wait_case
    say "dashboard: http://127.0.0.1:$PORT/ (answers show up after each sync round)"
    say "serving; press Ctrl+C to stop the collector and the sync daemon"
    # wait (not sleep) so Ctrl+C runs the trap at once.
    rc=0
    wait "$COLLECTOR_PID" || rc=$?
    COLLECTOR_PID=
    say "the collector exited (status $rc, log $CLOG)"
}

check_built
setup_fleet
register_device
start_collector
make_config
start_sync
start_kiosk
stop_all
say "stopped"
