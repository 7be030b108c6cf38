#!/bin/sh
# test_install.sh - `make install PREFIX=... DESTDIR=...` into temporary folders: every program,
# survey, unit, udev rule, the watchdog drop-in and the example config land where board/README.md
# says, paths inside units and config follow PREFIX, an existing /etc/touchpoint/kiosk.conf is
# never overwritten, the installed example config loads in the kiosk, and board/setup.sh
# --dry-run walks every step without changing anything. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${TP_BUILD:-build}
. tests/support/tap.sh
d=$(mktemp -d /tmp/tp_install_XXXXXX)
trap 'rm -rf "$d"' EXIT INT TERM

make -s install INSTALL_NOBUILD=1 BUILD="$B" DESTDIR="$d/root" PREFIX=/opt/tp >"$d/log" 2>&1
rc=$?
check $rc "make install PREFIX=/opt/tp DESTDIR=... (rc $rc)"
[ $rc -eq 0 ] || cat "$d/log"
r="$d/root"
for f in opt/tp/bin/touchpoint opt/tp/bin/touchpoint-kiosk opt/tp/bin/touchpoint-collector; do
    [ -x "$r/$f" ]
    check $? "installed executable /$f"
done
for s in assets/surveys/*.json; do
    cmp -s "$s" "$r/opt/tp/share/touchpoint/surveys/${s##*/}"
    check $? "survey ${s##*/} installed unchanged"
done
for f in etc/systemd/system/touchpoint-kiosk.service etc/systemd/system/touchpoint-sync.service \
         etc/systemd/system/touchpoint-collector.service etc/udev/rules.d/90-touchpoint-devices.rules \
         opt/tp/share/touchpoint/board/touchpoint-watchdog.conf etc/touchpoint/kiosk.conf \
         opt/tp/share/doc/touchpoint/board-README.md; do
    [ -f "$r/$f" ]
    check $? "installed /$f"
done
grep -q '^ExecStart=/opt/tp/bin/touchpoint-kiosk --config /etc/touchpoint/kiosk.conf' \
    "$r/etc/systemd/system/touchpoint-kiosk.service"
check $? "kiosk unit's ExecStart follows PREFIX"
grep -h -v '^#' "$r/etc/systemd/system/"*.service "$r/etc/touchpoint/kiosk.conf" |
    grep -q '/usr/local'
check $((1 - $?)) "no /usr/local left in units and config for PREFIX=/opt/tp"
m=$(stat -c %a "$r/etc/touchpoint/kiosk.conf")
[ "$m" = 640 ]
check $? "config mode 640 (it holds the PIN hash), got $m"

# An existing config survives a second install.
echo "# mine" >"$r/etc/touchpoint/kiosk.conf"
make -s install INSTALL_NOBUILD=1 BUILD="$B" DESTDIR="$r" PREFIX=/opt/tp >"$d/log" 2>&1
[ "$(cat "$r/etc/touchpoint/kiosk.conf")" = "# mine" ]
check $? "a second make install keeps the existing /etc/touchpoint/kiosk.conf"

# The example config is valid: the real kiosk loads it (paths moved into the temp tree, GPIO
# off since this machine has no such chip) and starts headless with an empty script (a regular
# file: scripts are read with tp_read_file, which refuses /dev/null).
: >"$d/empty.script"
sed -e "s|/opt/tp/share/touchpoint/surveys|$r/opt/tp/share/touchpoint/surveys|" \
    -e "s|/var/lib/touchpoint/answers.db|$d/answers.db|" -e 's|^backend = gpiod|backend = none|' \
    "$r/opt/tp/share/touchpoint/kiosk.conf.example" >"$d/kiosk.conf"
out=$(SDL_VIDEODRIVER=offscreen "$B/touchpoint-kiosk" --config "$d/kiosk.conf" --headless \
      --script "$d/empty.script" 2>&1)
rc=$?
check $rc "the installed example config loads in the kiosk (rc $rc $out)"

out=$(board/setup.sh --dry-run --no-start --device-id k-01 --pin-hash h --prebuilt "$B" 2>&1)
rc=$?
steps=$(echo "$out" | grep -c '^== ')
[ $rc -eq 0 ] && [ "$steps" -ge 7 ] && echo "$out" | grep -q 'useradd\|usermod' &&
    echo "$out" | grep -q 'make -s install' && echo "$out" | grep -q 'systemctl enable' &&
    echo "$out" | grep -q 'touchpoint-watchdog.conf'
check $? "setup.sh --dry-run prints every step ($steps) and changes nothing (rc $rc)"
sh -n board/setup.sh && sh -n board/cross.sh
check $? "board/setup.sh and board/cross.sh parse (sh -n)"

echo "1..$n"
[ $fail -eq 0 ]
