#!/bin/sh
# The aarch64 (Raspberry Pi 3/4/5, 64-bit Raspberry Pi OS) cross build of Touchpoint on a Debian 12
# amd64 machine: Debian's gcc-aarch64-linux-gnu, the :arm64 multiarch -dev libraries, and
# qemu-aarch64-static to run the test programs.
#
#   board/cross.sh deps     install the toolchain (board/deps.sh --cross calls this; `make cross`
#                           calls that); as root. Does nothing, as any user, when all is present.
#                           Never removes a package: an :arm64 library whose install would remove
#                           an amd64 package is skipped and named.
#   board/cross.sh check    lists what is missing for `make cross` (exit 1 if anything is)
#   board/cross.sh pc B     writes B/pkgconfig/*.pc that the :arm64 packages cannot (libpq)
#   board/cross.sh test B   runs the test programs of build folder B under qemu
#                           (`make cross-test` calls it with build/aarch64)
set -eu

# Libraries the programs link, as Debian -dev packages (the same list as board/deps.sh).
ARM64_LIBS="libsqlite3-dev uuid-dev libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev libgpiod-dev
libcurl4-openssl-dev libmicrohttpd-dev libpq-dev libcjson-dev libinih-dev zlib1g-dev libsystemd-dev
libfontconfig-dev libcmocka-dev libssl-dev libqrencode-dev libunistring-dev"
HOST_PKGS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static"

installed() { # $1 package (with :arch) -> 0 when installed
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

missing_list() {
    m=""
    for p in $HOST_PKGS; do installed "$p" || m="$m $p"; done
    for p in $ARM64_LIBS; do
        installed "$p:arm64" && continue
        # libpq: the runtime library stands in for the -dev package (see deps below)
        [ "$p" = libpq-dev ] && installed libpq5:arm64 && continue
        m="$m $p:arm64"
    done
    echo "$m"
}

deps() {
    m=$(missing_list)
    if [ -z "$m" ]; then
        echo "cross: toolchain and :arm64 libraries present"
        return 0
    fi
    echo "cross: missing:$m"
    [ "$(id -u)" -eq 0 ] || { echo "cross: run as root to install them (apt-get, dpkg --add-architecture)" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "cross: dpkg --add-architecture arm64"
        dpkg --add-architecture arm64
        apt-get update -q
    elif ! ls /var/lib/apt/lists/*binary-arm64_Packages* >/dev/null 2>&1; then
        apt-get update -q
    fi
    host=""
    for p in $HOST_PKGS; do installed "$p" || host="$host $p"; done
    if [ -n "$host" ]; then
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $host
    fi
    # Each :arm64 library alone, simulated first: a multiarch conflict shows as a removal ("Remv")
    # of an amd64 package, which would break the native build, so that library is skipped.
    skipped=""
    want=""
    for p in $ARM64_LIBS; do
        installed "$p:arm64" && continue
        sim=$(apt-get install -s -q --no-install-recommends "$p:arm64" 2>&1) || {
            skipped="$skipped $p:arm64(unresolvable)"
            continue
        }
        if echo "$sim" | grep -q '^Remv '; then
            skipped="$skipped $p:arm64(would remove:$(echo "$sim" | awk '/^Remv /{printf " %s", $2}'))"
            continue
        fi
        want="$want $p:arm64"
    done
    if [ -n "$want" ]; then
        # The set together once more: two libraries fine alone may still conflict together.
        sim=$(apt-get install -s -q --no-install-recommends $want 2>&1) || sim="Remv unresolvable"
        if echo "$sim" | grep -q '^Remv '; then
            for p in $want; do
                if apt-get install -s -q --no-install-recommends "$p" 2>&1 | grep -q '^Remv '; then
                    skipped="$skipped $p"
                else
                    apt-get install -y -q --no-install-recommends "$p"
                fi
            done
        else
            # shellcheck disable=SC2086
            apt-get install -y -q --no-install-recommends $want
        fi
    fi
    # libpq-dev is not Multi-Arch: same in bookworm, so libpq-dev:arm64 would remove the amd64 one.
    # Its headers are architecture-independent for an LP64 target, so the runtime libpq5:arm64 (at
    # exactly the amd64 version: multiarch needs equal versions, and an upgrade would touch the
    # PostgreSQL server others use) plus a pkg-config file that `make cross` writes is enough.
    case "$skipped" in
        *libpq-dev:arm64*)
            v=$(dpkg-query -W -f='${Version}' libpq5 2>/dev/null || true)
            if ! installed libpq5:arm64 && [ -n "$v" ]; then
                if apt-get install -s -q --no-install-recommends "libpq5:arm64=$v" 2>&1 |
                        grep -q '^Remv \|^Inst libpq5 \|^Inst postgresql'; then
                    echo "cross: libpq5:arm64=$v would change amd64 packages; skipped" >&2
                else
                    apt-get install -y -q --no-install-recommends "libpq5:arm64=$v"
                fi
            fi
            if installed libpq5:arm64; then
                skipped=$(echo "$skipped" | sed 's/ libpq-dev:arm64([^)]*)//')
                echo "cross: libpq-dev:arm64 conflicts with libpq-dev (amd64); using libpq5:arm64" \
                    "with the amd64 headers instead"
            fi
            ;;
    esac
    if [ -n "$skipped" ]; then
        echo "cross: NOT installed (multiarch conflicts):$skipped" >&2
        exit 1
    fi
    echo "cross: installed"
}

check() {
    m=$(missing_list)
    if [ -n "$m" ]; then
        echo "cross: missing:$m (run: sudo board/deps.sh --cross)"
        exit 1
    fi
    echo "cross: toolchain and :arm64 libraries present"
}

# Runs every test program of build folder $1 ($1/tests/test_*: unit, storage, fault, sync, and
# the SDL ones on the offscreen driver) under qemu, through tests/run.sh (same counting, same
# summary line). The Python integration tests need the host's programs and stay with the native
# build.
cross_test() {
    b=$1
    command -v qemu-aarch64-static >/dev/null || { echo "cross: qemu-aarch64-static missing" >&2; exit 1; }
    # The loader and libc must be the same build. Once the :arm64 -dev packages are installed,
    # libc6:arm64 (multiarch, /lib/ld-linux-aarch64.so.1) is newer than libc6-arm64-cross's copy
    # in /usr/aarch64-linux-gnu, and qemu's -L lookup falls back to host paths for the libraries:
    # /usr/aarch64-linux-gnu's ld.so then loads the multiarch libc and the first pthread_create
    # spins forever (seen with 2.36-8cross1 vs 2.36-9+deb12u14). So: the multiarch loader when
    # there is one, the cross package's otherwise.
    if [ -z "${QEMU_LD_PREFIX:-}" ]; then
        if [ -e /lib/ld-linux-aarch64.so.1 ]; then
            QEMU_LD_PREFIX=/
        else
            QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
        fi
    fi
    export QEMU_LD_PREFIX
    # The ARM code runs with the :arm64 shared libraries from multiarch
    # (/usr/lib/aarch64-linux-gnu), found through QEMU_LD_PREFIX's loader.
    echo "cross: the test programs of $b under qemu-aarch64-static (QEMU_LD_PREFIX=$QEMU_LD_PREFIX)"
    TP_TEST_EXEC="qemu-aarch64-static -L $QEMU_LD_PREFIX" TP_TEST_PROGRAMS_ONLY=1 \
        exec "$(dirname "$0")/../tests/run.sh" "$b"
}

# Writes the pkg-config files `make cross` needs but the :arm64 packages cannot give, into
# BUILD/pkgconfig: libpq (see deps: the runtime libpq5:arm64 with the amd64 headers, which are the
# same for an LP64 target; linked by soname since the libpq.so dev link is in libpq-dev).
pc() {
    d="$1/pkgconfig"
    mkdir -p "$d"
    lib=/usr/lib/aarch64-linux-gnu
    if [ ! -f "$lib/pkgconfig/libpq.pc" ] && [ -f "$lib/libpq.so.5" ] &&
            [ -f /usr/include/postgresql/libpq-fe.h ]; then
        cat >"$d/libpq.pc.tmp" <<PC
Name: libpq
Description: PostgreSQL client library (libpq5:arm64 with the amd64 libpq-dev headers)
Version: $(dpkg-query -W -f='${Version}' libpq5:arm64 2>/dev/null | cut -d- -f1)
Cflags: -I/usr/include/postgresql
Libs: -L$lib -l:libpq.so.5
PC
        mv "$d/libpq.pc.tmp" "$d/libpq.pc"
    fi
}

case "${1:-}" in
    deps) deps ;;
    pc) pc "${2:-build/aarch64}" ;;
    check) check ;;
    test) cross_test "${2:-build/aarch64}" ;;
    *) echo "usage: board/cross.sh deps|check|pc|test [BUILD]" >&2; exit 2 ;;
esac
