#!/bin/sh
# test_units.sh - the systemd units of board/systemd as installed: `make install` into a temporary
# root (the programs of $TP_BUILD, INSTALL_NOBUILD=1), systemd's own units copied beside them, and
# `systemd-analyze verify --root` on every Touchpoint unit, which must print nothing (no unknown
# key, no missing ExecStart binary, no bad dependency). A deliberately broken copy must fail, so
# the check is known to bite. Also: the kiosk unit keeps the properties issue 6 asks for.
# Prints TAP; skips (a TAP SKIP line) only when systemd-analyze is not installed.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${TP_BUILD:-build}
. tests/support/tap.sh

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "ok 1 - # SKIP systemd-analyze not installed (board/deps.sh installs systemd)"
    exit 0
fi
root=$(mktemp -d /tmp/tp_units_XXXXXX)
trap 'rm -rf "$root"' EXIT INT TERM

make -s install INSTALL_NOBUILD=1 BUILD="$B" DESTDIR="$root" PREFIX=/usr/local >"$root.log" 2>&1
rc=$?
check $rc "make install into a temporary root for verification (rc $rc)"
[ $rc -eq 0 ] || cat "$root.log"
rm -f "$root.log"
mkdir -p "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"

for u in touchpoint-kiosk.service touchpoint-sync.service touchpoint-collector.service \
         touchpoint-usb-mount@sda1.service; do
    out=$(systemd-analyze verify --root="$root" "$u" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && [ -z "$out" ]; then
        ok "systemd-analyze verify $u: clean"
    else
        nok "systemd-analyze verify $u: rc $rc: $(echo "$out" | head -5 | tr '\n' ' ')"
    fi
done

# The check bites: an unknown key and a missing binary are reported.
sed -e 's/^Restart=always/Restart=always\nRestartTypo=1/' \
    -e 's|^ExecStart=/usr/local/bin/touchpoint-kiosk|ExecStart=/usr/local/bin/no-such-kiosk|' \
    "$root/etc/systemd/system/touchpoint-kiosk.service" \
    >"$root/etc/systemd/system/touchpoint-broken.service"
out=$(systemd-analyze verify --root="$root" touchpoint-broken.service 2>&1)
rc=$?
case "$out" in
    *RestartTypo*no-such-kiosk*|*no-such-kiosk*RestartTypo*) bit=0 ;;
    *) bit=1 ;;
esac
check $bit "verify reports a broken copy (unknown key and missing binary; rc $rc)"

k=board/systemd/touchpoint-kiosk.service
for want in '^Type=notify$' '^NotifyAccess=main$' '^WatchdogSec=[1-9]' '^Restart=always$' \
            '^RestartSec=' '^User=touchpoint$' '^SupplementaryGroups=.*video.*input.*gpio.*render' \
            '^Environment=SDL_VIDEODRIVER=kmsdrm$' '^ProtectSystem=strict$' \
            '^ReadWritePaths=/var/lib/touchpoint /media$' '^ProtectHome=yes$' '^PrivateTmp=yes$' \
            '^NoNewPrivileges=yes$' '^RestrictAddressFamilies=' '^StateDirectory=touchpoint$'; do
    grep -q "$want" "$k"
    check $? "kiosk unit has $want"
done
grep -q '^DynamicUser' "$k"
check $((1 - $?)) "kiosk unit does not use DynamicUser (persistent data, device groups)"
grep -q '^After=network-online.target' board/systemd/touchpoint-sync.service &&
    grep -q '^Wants=network-online.target' board/systemd/touchpoint-sync.service
check $? "sync unit waits for the network (Wants+After network-online.target)"
grep -q 'touchpoint sync .*--daemon' board/systemd/touchpoint-sync.service
check $? "sync unit runs touchpoint sync --daemon"
grep -q '^RuntimeWatchdogSec=' board/systemd/system.conf.d/touchpoint-watchdog.conf
check $? "hardware watchdog drop-in sets RuntimeWatchdogSec"

echo "1..$n"
[ $fail -eq 0 ]
