#!/bin/sh
# install-usb.sh - installs the USB stick mount helper: the udev rule, the systemd template unit
# and the mount script, then reloads udev and systemd. Idempotent. Part of the board set-up (see
# board/README.md, "USB sticks").
#
# Usage: board/systemd/install-usb.sh [DESTDIR]   With DESTDIR (tests, image builds) the files go
# below it and nothing is reloaded.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-}

install -d "$dest/etc/udev/rules.d" "$dest/etc/systemd/system" \
    "$dest/usr/local/libexec/touchpoint"
install -m 0644 "$here/udev/99-touchpoint-usb.rules" "$dest/etc/udev/rules.d/"
install -m 0644 "$here/systemd/touchpoint-usb-mount@.service" "$dest/etc/systemd/system/"
install -m 0755 "$here/systemd/touchpoint-usb-mount" "$dest/usr/local/libexec/touchpoint/"

if [ -z "$dest" ]; then
    getent passwd touchpoint >/dev/null || echo "install-usb: warning: no user 'touchpoint' yet" >&2
    install -d -m 0755 /media
    if command -v udevadm >/dev/null 2>&1; then
        udevadm control --reload || true
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
fi
echo "install-usb: installed into ${dest:-/}"
