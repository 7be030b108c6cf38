#!/bin/sh
# Installs every Debian package Touchpoint needs to build, test, benchmark and run its demo.
# The package list is board knowledge: it is what a Debian 12 (bookworm) machine or a Raspberry Pi
# OS 12 image needs. Idempotent: packages already installed are skipped, and when nothing is
# missing the script installs nothing and touches no package list.
#
# Usage: board/deps.sh [--check]     --check only lists what is missing (exit 1 if anything is).
#        board/deps.sh --cross       the aarch64 cross toolchain (board/cross.sh deps).
set -eu

PKGS="
build-essential pkg-config make gcc clang libclang-rt-14-dev
libsqlite3-dev sqlite3
libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev librsvg2-common
libgpiod-dev
libcurl4-openssl-dev ca-certificates
libmicrohttpd-dev
libpq-dev postgresql
libcjson-dev libinih-dev libqrencode-dev zbar-tools zlib1g-dev uuid-dev libsystemd-dev
libunistring-dev
libfontconfig-dev fonts-noto-core
libcmocka-dev valgrind python3 libssl-dev
fusefat dosfstools fuse3
chromium chromium-driver python3-selenium python3-aiosmtpd libjs-chart.js
xvfb xauth
systemd
"

# --cross: the aarch64 toolchain, qemu and the :arm64 -dev libraries for `make cross` and
# `make cross-test` (board/cross.sh; only on request, never from `make test`).
if [ "${1:-}" = "--cross" ]; then
    exec "$(dirname "$0")/cross.sh" deps
fi

missing=""
arch=$(dpkg --print-architecture)
for p in $PKGS; do
    # One line per installed architecture (the :arm64 cross libraries add a second one): the
    # native or arch-all one must be installed.
    st=$(dpkg-query -W -f='${db:Status-Status} ${Architecture}\n' "$p" 2>/dev/null || true)
    printf '%s\n' "$st" | grep -Eq "^installed ($arch|all)\$" || missing="$missing $p"
done

if [ -z "$missing" ]; then
    echo "deps: all $(echo $PKGS | wc -w) packages present"
    exit 0
fi
echo "deps: missing:$missing"
[ "${1:-}" = "--check" ] && exit 1

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install:$missing" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the lists only when a package is unknown to the current ones (a fresh machine has none).
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q --no-install-recommends $missing; then
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi
echo "deps: installed:$missing"
