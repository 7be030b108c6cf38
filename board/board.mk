# board/board.mk - the appliance (board/README.md):
#
#   make install [PREFIX=/usr/local] [DESTDIR=]
#       programs to $(PREFIX)/bin, surveys to $(PREFIX)/share/touchpoint/surveys, the systemd units
#       and udev rules to /etc (paths inside them rewritten for PREFIX), the USB mount helper to
#       $(PREFIX)/libexec/touchpoint, the board files setup.sh activates (hardware-watchdog drop-in)
#       to $(PREFIX)/share/touchpoint/board, and the example config as /etc/touchpoint/kiosk.conf
#       unless one is there (an existing config is never overwritten). INSTALL_NOBUILD=1 installs
#       what $(BUILD) holds without building (tests install a finished build folder).
#   make cross         every program and test program for aarch64 (Raspberry Pi OS 64-bit) with
#                      Debian's gcc-aarch64-linux-gnu and the :arm64 libraries, into build/aarch64
#                      (installs the toolchain first, as `make test` does: board/deps.sh --cross);
#                      not the fuzzers (FUZZ=0, tests/fuzz/fuzz.mk: libFuzzer is a host tool)
#   make cross-test    `make cross`, then every test program ($(CROSS_BUILD)/tests/test_*) under
#                      qemu-aarch64-static (board/cross.sh test)
#
# `make test` never needs the cross toolchain.

SYSCONFDIR ?= /etc
UNITDIR    ?= $(SYSCONFDIR)/systemd/system
UDEVDIR    ?= $(SYSCONFDIR)/udev/rules.d
TP_DATADIR  = $(PREFIX)/share/touchpoint
TP_LIBEXEC  = $(PREFIX)/libexec/touchpoint
TP_DOCDIR   = $(PREFIX)/share/doc/touchpoint

# What `make install` takes from board/ besides the watchdog drop-in and the example config: the
# units, the udev rules and the USB mount helper (BOARD_MOUNT, to $(TP_LIBEXEC)).
BOARD_UNITS := board/systemd/touchpoint-kiosk.service board/systemd/touchpoint-sync.service \
               board/systemd/touchpoint-collector.service \
               board/systemd/touchpoint-usb-mount@.service
BOARD_RULES := board/udev/90-touchpoint-devices.rules board/udev/99-touchpoint-usb.rules
BOARD_MOUNT := board/systemd/touchpoint-usb-mount
# Rewrites the /usr/local paths of units, rules and the example config for PREFIX.
BOARD_SED   := sed -e 's|/usr/local/|$(PREFIX)/|g'

.PHONY: install cross cross-test

install: $(if $(INSTALL_NOBUILD),,$(PROGRAMS))
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(TP_DATADIR)/surveys \
	    $(DESTDIR)$(TP_DATADIR)/board $(DESTDIR)$(TP_LIBEXEC) $(DESTDIR)$(TP_DOCDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(UDEVDIR) $(DESTDIR)$(SYSCONFDIR)/touchpoint
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 assets/surveys/*.json $(DESTDIR)$(TP_DATADIR)/surveys/
	for f in $(BOARD_UNITS); do \
	    $(BOARD_SED) $$f > $(DESTDIR)$(UNITDIR)/$${f##*/} && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$${f##*/} || exit 1; \
	done
	for f in $(BOARD_RULES); do \
	    $(BOARD_SED) $$f > $(DESTDIR)$(UDEVDIR)/$${f##*/} && \
	    chmod 0644 $(DESTDIR)$(UDEVDIR)/$${f##*/} || exit 1; \
	done
	install -m 0755 $(BOARD_MOUNT) $(DESTDIR)$(TP_LIBEXEC)/
	install -m 0644 board/systemd/system.conf.d/touchpoint-watchdog.conf \
	    $(DESTDIR)$(TP_DATADIR)/board/
	$(BOARD_SED) board/kiosk.conf > $(DESTDIR)$(TP_DATADIR)/kiosk.conf.example
	chmod 0644 $(DESTDIR)$(TP_DATADIR)/kiosk.conf.example
	[ -e $(DESTDIR)$(SYSCONFDIR)/touchpoint/kiosk.conf ] || \
	    install -m 0640 $(DESTDIR)$(TP_DATADIR)/kiosk.conf.example \
	        $(DESTDIR)$(SYSCONFDIR)/touchpoint/kiosk.conf
	install -m 0644 board/README.md $(DESTDIR)$(TP_DOCDIR)/board-README.md
	@echo "install: done into $(if $(DESTDIR),$(DESTDIR),/) (PREFIX=$(PREFIX))"

# ---- aarch64 ------------------------------------------------------------------------------------
CROSS_TRIPLE ?= aarch64-linux-gnu
CROSS_BUILD  ?= build/aarch64
CROSS_PCDIR   = $(abspath $(CROSS_BUILD))/pkgconfig
# Only the target's .pc files (PKG_CONFIG_LIBDIR replaces the default path), plus CROSS_PCDIR
# where board/cross.sh writes the ones a conflicting -dev package cannot provide (libpq).
CROSS_PKG_CONFIG = env PKG_CONFIG_LIBDIR=$(CROSS_PCDIR):/usr/lib/$(CROSS_TRIPLE)/pkgconfig:/usr/share/pkgconfig \
                   PKG_CONFIG_SYSROOT_DIR= pkg-config

cross:
	@board/deps.sh --cross
	board/cross.sh pc $(CROSS_BUILD)
	$(MAKE) BUILD=$(CROSS_BUILD) SAN=0 CC=$(CROSS_TRIPLE)-gcc AR=$(CROSS_TRIPLE)-ar \
	    PKG_CONFIG="$(CROSS_PKG_CONFIG)" FUZZ=0 all tests
	@file $(CROSS_BUILD)/touchpoint-kiosk | grep -q 'ARM aarch64' && \
	    echo "cross: programs in $(CROSS_BUILD)/ are aarch64"

cross-test: cross
	board/cross.sh test $(CROSS_BUILD)
