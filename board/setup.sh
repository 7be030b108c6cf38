#!/bin/sh
# setup.sh - turns a fresh Raspberry Pi OS Lite 12 (bookworm, 64-bit) into a Touchpoint kiosk:
# packages, the `touchpoint` user and its groups, the data folder, the programs and units
# (`make install`), udev rules, the configuration, the sync token, the hardware watchdog, boot
# straight into the survey, and optionally a read-only root (overlayfs). Run from the source tree
# as root; every step checks first, so running it again is safe (it changes only what differs).
# Step by step with explanations: board/README.md.
#
# Usage: sudo board/setup.sh [options]
#   --device-id ID       [device] id (unique per kiosk)
#   --store ID           [device] store          --touchpoint ID   [device] touchpoint
#   --survey FILE        a survey of assets/surveys (e.g. exit-smiley.json)
#   --pin                ask for the staff PIN (read twice from the terminal) and store its hash
#   --pin-hash HASH      store this hash (from `touchpoint pin-hash`)
#   --sync-url URL       the collector (https://...)
#   --token-file FILE    the device token from `touchpoint-collector add-device` (copied, mode 600)
#   --prebuilt DIR       install the programs of DIR (e.g. build/aarch64 from `make cross`) instead
#                        of building on the Pi
#   --read-only DEVICE   read-only root (overlayfs) with the answers on DEVICE, an ext4 partition
#                        mounted at /var/lib/touchpoint (the overlay would lose them otherwise)
#   --no-start           do not (re)start the services at the end
#   --dry-run            print the steps and commands, change nothing
set -eu

cd "$(dirname "$0")/.."
SRC=$(pwd)
PREFIX=/usr/local
CONF=/etc/touchpoint/kiosk.conf
STATE=/var/lib/touchpoint
USER_NAME=touchpoint
GROUPS_WANTED="video input gpio render"
EXAMPLE_HASH='pbkdf2-sha256$100000$U1OAde8jBBA8jlm5fWl7ng==$pX320HyRT3eFKkvyj8UQsXB2QXls8K0m1eH7Ulfx21c='
# What the programs need at run time on the Pi (the -dev packages only when building there).
RUNTIME_PKGS="libsqlite3-0 libuuid1 libsdl2-2.0-0 libsdl2-ttf-2.0-0 libsdl2-image-2.0-0 librsvg2-common
libgpiod2 gpiod libcurl4 ca-certificates libmicrohttpd12 libpq5 libcjson1 libinih1 zlib1g libsystemd0
libfontconfig1 fonts-noto-core libssl3 sqlite3 make"
BUILD_PKGS="build-essential pkg-config libsqlite3-dev uuid-dev libsdl2-dev libsdl2-ttf-dev
libsdl2-image-dev libgpiod-dev libcurl4-openssl-dev libmicrohttpd-dev libpq-dev libcjson-dev
libinih-dev zlib1g-dev libsystemd-dev libfontconfig-dev libssl-dev"

DRY=0 START=1 DEVICE_ID="" STORE_ID="" TP_ID="" SURVEY="" ASK_PIN=0 PIN_HASH="" SYNC_URL=""
TOKEN_FILE="" PREBUILT="" RO_DEV=""
need() { [ $# -ge 2 ] || { echo "setup: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --device-id) need "$@"; DEVICE_ID=$2; shift ;;
        --store) need "$@"; STORE_ID=$2; shift ;;
        --touchpoint) need "$@"; TP_ID=$2; shift ;;
        --survey) need "$@"; SURVEY=$2; shift ;;
        --pin) ASK_PIN=1 ;;
        --pin-hash) need "$@"; PIN_HASH=$2; shift ;;
        --sync-url) need "$@"; SYNC_URL=$2; shift ;;
        --token-file) need "$@"; TOKEN_FILE=$2; shift ;;
        --prebuilt) need "$@"; PREBUILT=$2; shift ;;
        --read-only) need "$@"; RO_DEV=$2; shift ;;
        --no-start) START=0 ;;
        --dry-run) DRY=1 ;;
        -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "setup: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

n_step=0
step() { n_step=$((n_step + 1)); echo "== $n_step. $*"; }
# Runs a command, or prints it with --dry-run.
run() {
    if [ "$DRY" -eq 1 ]; then echo "   + $*"; else "$@"; fi
}
# Sets KEY = VALUE in [SECTION] of the config (the key line must exist in that section).
set_key() { # $1 section, $2 key, $3 value
    if [ "$DRY" -eq 1 ]; then echo "   + $CONF: [$1] $2 = $3"; return; fi
    python3 - "$CONF" "$1" "$2" "$3" <<'PY'
import re, sys
path, sec, key, val = sys.argv[1:]
lines = open(path).read().split("\n")
cur, done = None, False
for i, l in enumerate(lines):
    m = re.match(r"\s*\[([^\]]+)\]", l)
    if m:
        cur = m.group(1).strip()
        continue
    if cur == sec and re.match(r"\s*%s\s*=" % re.escape(key), l):
        lines[i] = "%s = %s" % (key, val)
        done = True
        break
if not done:
    sys.exit("setup: %s has no '%s' key in [%s]" % (path, key, sec))
tmp = path + ".tmp"
open(tmp, "w").write("\n".join(lines))
import os
st = os.stat(path)
os.chmod(tmp, st.st_mode & 0o7777)
os.chown(tmp, st.st_uid, st.st_gid)
os.replace(tmp, path)
PY
}
has_pkg() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]; }

if [ "$DRY" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root (sudo board/setup.sh ...), or --dry-run to see the steps" >&2
    exit 1
fi
# On an overlay root every change is lost at the next boot: refuse instead of pretending.
if grep -q '^overlay / overlay' /proc/mounts 2>/dev/null && [ "$DRY" -eq 0 ]; then
    echo "setup: the root file system is a read-only overlay; changes would vanish at reboot." >&2
    echo "       sudo raspi-config nonint disable_overlayfs && sudo reboot, then run setup again." >&2
    exit 1
fi

step "packages (runtime$([ -z "$PREBUILT" ] && echo ' + build'))"
want="$RUNTIME_PKGS"
[ -n "$PREBUILT" ] || want="$want $BUILD_PKGS"
missing=""
for p in $want; do has_pkg "$p" || missing="$missing $p"; done
if [ -n "$missing" ]; then
    run apt-get update -q
    # shellcheck disable=SC2086
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
else
    echo "   all present"
fi

step "groups and the user $USER_NAME"
for g in $GROUPS_WANTED; do
    getent group "$g" >/dev/null || run groupadd --system "$g"
done
if ! getent passwd "$USER_NAME" >/dev/null; then
    run useradd --system --user-group --home-dir "$STATE" --no-create-home \
        --shell /usr/sbin/nologin --comment "Touchpoint kiosk" "$USER_NAME"
fi
run usermod -a -G "$(echo $GROUPS_WANTED | tr ' ' ',')" "$USER_NAME"

step "the answers' folder $STATE$([ -n "$RO_DEV" ] && echo " on $RO_DEV")"
if [ -n "$RO_DEV" ]; then
    [ "$DRY" -eq 1 ] || [ -b "$RO_DEV" ] || { echo "setup: $RO_DEV is not a block device" >&2; exit 1; }
    fstype=$(blkid -o value -s TYPE "$RO_DEV" 2>/dev/null || true)
    [ "$DRY" -eq 1 ] || [ "$fstype" = ext4 ] ||
        { echo "setup: $RO_DEV is '$fstype', expected ext4 (mkfs.ext4 -L tpdata $RO_DEV)" >&2; exit 1; }
    uuid=$(blkid -o value -s UUID "$RO_DEV" 2>/dev/null || echo "UUID-OF-$RO_DEV")
    if ! grep -q "[[:space:]]$STATE[[:space:]]" /etc/fstab; then
        line="UUID=$uuid $STATE ext4 defaults,noatime,commit=5,errors=remount-ro 0 2"
        if [ "$DRY" -eq 1 ]; then echo "   + /etc/fstab += $line"; else echo "$line" >>/etc/fstab; fi
    fi
    run install -d -m 0750 "$STATE"
    mountpoint -q "$STATE" 2>/dev/null || run mount "$STATE"
fi
run install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$STATE"

step "programs, surveys, units, udev rules, example config (make install PREFIX=$PREFIX)"
if [ -n "$PREBUILT" ]; then
    run make -s install PREFIX="$PREFIX" BUILD="$PREBUILT" INSTALL_NOBUILD=1
else
    run make -s -j"$(nproc 2>/dev/null || echo 2)" all
    run make -s install PREFIX="$PREFIX"
fi
run install -d -m 0755 /media

step "configuration $CONF"
run chown "root:$USER_NAME" "$CONF"
run chmod 0640 "$CONF"
[ -z "$DEVICE_ID" ] || set_key device id "$DEVICE_ID"
[ -z "$STORE_ID" ] || set_key device store "$STORE_ID"
[ -z "$TP_ID" ] || set_key device touchpoint "$TP_ID"
if [ -n "$SURVEY" ]; then
    [ -f "$SRC/assets/surveys/$SURVEY" ] || { echo "setup: no survey assets/surveys/$SURVEY" >&2; exit 1; }
    set_key survey file "$PREFIX/share/touchpoint/surveys/$SURVEY"
fi
if [ "$ASK_PIN" -eq 1 ]; then
    if [ "$DRY" -eq 1 ]; then
        echo "   + read the PIN twice, touchpoint pin-hash"
    else
        stty -echo 2>/dev/null || true
        printf "staff PIN (4-8 digits): "; read -r p1; echo
        printf "again: "; read -r p2; echo
        stty echo 2>/dev/null || true
        [ "$p1" = "$p2" ] || { echo "setup: the PINs differ" >&2; exit 1; }
        PIN_HASH=$(printf '%s\n' "$p1" | "$PREFIX/bin/touchpoint" pin-hash)
    fi
fi
[ -z "$PIN_HASH" ] || set_key staff pin_hash "$PIN_HASH"
if [ "$DRY" -eq 0 ] && grep -qF "$EXAMPLE_HASH" "$CONF"; then
    echo "setup: $CONF still has the example staff PIN (2468): run again with --pin" >&2
    exit 1
fi
[ -z "$SYNC_URL" ] || set_key sync url "$SYNC_URL"

step "device token /etc/touchpoint/sync.token"
if [ -n "$TOKEN_FILE" ]; then
    run install -m 0600 -o "$USER_NAME" -g "$USER_NAME" "$TOKEN_FILE" /etc/touchpoint/sync.token
elif [ -f /etc/touchpoint/sync.token ]; then
    run chown "$USER_NAME:$USER_NAME" /etc/touchpoint/sync.token
    run chmod 0600 /etc/touchpoint/sync.token
else
    echo "   none yet (sync stays idle until --token-file and --sync-url are given)"
fi

step "hardware watchdog (systemd RuntimeWatchdogSec) and boot into the kiosk"
run install -d /etc/systemd/system.conf.d
run install -m 0644 "$PREFIX/share/touchpoint/board/touchpoint-watchdog.conf" \
    /etc/systemd/system.conf.d/touchpoint-watchdog.conf
cfgtxt=/boot/firmware/config.txt
if [ -f "$cfgtxt" ] && ! grep -q '^dtoverlay=vc4-kms-v3d' "$cfgtxt"; then
    echo "   warning: $cfgtxt has no dtoverlay=vc4-kms-v3d: SDL's KMS/DRM video needs it"
fi
run systemctl set-default multi-user.target
run systemctl disable getty@tty1.service
if command -v udevadm >/dev/null 2>&1; then
    run udevadm control --reload
    run udevadm trigger --subsystem-match=gpio --subsystem-match=backlight --subsystem-match=block
fi
run systemctl daemon-reload
run systemctl daemon-reexec  # PID 1 reads system.conf.d: arms the hardware watchdog now
run systemctl enable touchpoint-kiosk.service touchpoint-sync.service

if [ -n "$RO_DEV" ]; then
    step "read-only root (overlayfs; takes effect at the next boot)"
    if command -v raspi-config >/dev/null 2>&1 || [ "$DRY" -eq 1 ]; then
        run raspi-config nonint enable_overlayfs
        echo "   reboot to start read-only; to change anything later:"
        echo "   sudo raspi-config nonint disable_overlayfs && sudo reboot"
    else
        echo "setup: raspi-config not found: not a Raspberry Pi OS image, root stays writable" >&2
    fi
fi

if [ "$START" -eq 1 ]; then
    step "start"
    run systemctl restart touchpoint-kiosk.service touchpoint-sync.service
    [ "$DRY" -eq 1 ] || systemctl --no-pager --lines=0 status touchpoint-kiosk.service || true
fi
echo "setup: done$([ "$DRY" -eq 1 ] && echo ' (dry run: nothing changed)')"
