# firmware/kiosk.mk - the kiosk program (touchpoint-kiosk) and the modules it shares with the CLI.
#
# $(BUILD)/libtpconf.a: config.c (INI config), pin.c (PIN hashes), script.c (scripted input
# parser). config.c checks values with sync/settings.c, so $(TPCONF_LIBS) includes the document
# library $(DOC_LIBS) (sync/doc.mk: surveys and settings). Other fragments link it by its literal
# path $(BUILD)/libtpconf.a plus $(TPCONF_LIBS) (fragments are read in name order, so a variable
# set here is not yet defined when cli.mk is read).
TPCONF_PKGS := inih libcjson libcrypto
TPCONF_SRCS := firmware/config.c firmware/pin.c firmware/script.c
TPCONF_LIB  := $(BUILD)/libtpconf.a
TPCONF_LIBS  = $(TPCONF_LIB) $(DOC_LIBS) $(call pkg_libs,$(TPCONF_PKGS))
ALL_SRCS    += $(TPCONF_SRCS)

# $(DOC_LIB) is a prerequisite (not a member), so whatever lists libtpconf.a is relinked when it
# changes.
$(call obj,$(TPCONF_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(TPCONF_PKGS))
$(TPCONF_LIB): $(call obj,$(TPCONF_SRCS)) $(DOC_LIB)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

# The state machine (no SDL: it only fills ui_screen models; the comment link's QR code is
# encoded with libqrencode) and the trace it writes; the unit test links these objects too.
KIOSK_CORE_SRCS := firmware/kiosk.c firmware/kiosk_customer.c firmware/kiosk_staff.c \
                   firmware/kiosk_text.c firmware/kiosk_comment.c firmware/trace.c
KIOSK_CORE_OBJS := $(call obj,$(KIOSK_CORE_SRCS))

# The program: the state machine, the window and the loop (kiosk_main.c), the script runner
# (kiosk_script.c), the systemd watchdog.
KIOSK_PKGS := sdl2 libcjson libsystemd libqrencode
KIOSK_SRCS := $(KIOSK_CORE_SRCS) firmware/kiosk_main.c firmware/kiosk_hw.c firmware/kiosk_usb.c \
              firmware/kiosk_signal.c firmware/kiosk_work.c firmware/kiosk_script.c \
              firmware/kiosk_remote.c firmware/watchdog.c
ALL_SRCS   += $(KIOSK_SRCS)
PROGRAMS   += $(BUILD)/touchpoint-kiosk

$(call obj,$(KIOSK_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(KIOSK_PKGS) $(TPCONF_PKGS))

# touchpoint-kiosk links: its own objects; usb.o and usb_export.o (usb.mk, read after this file,
# so named here) on the export core $(EXPORT_LIB) (cli.mk); $(GPIO_OBJS) (gpio.mk: buttons,
# lights, screen power); libtpconf.a; the sync daemon's pid file ($(SYNC_PID_LIB), client.mk: "Sync
# now"); the ui and storage libraries.
KIOSK_LINK := $(call obj,$(KIOSK_SRCS) firmware/usb.c firmware/usb_export.c) $(GPIO_OBJS) \
              $(EXPORT_LIB) $(TPCONF_LIB) $(SYNC_PID_LIB) $(UI_LIB) $(STORAGE_LIB)
$(BUILD)/touchpoint-kiosk: $(KIOSK_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(EXPORT_LIBS) $(TPCONF_LIBS) $(SYNC_PID_LIBS) $(UI_LIBS) \
	    $(STORAGE_LIBS) $(GPIO_LIBS) $(call pkg_libs,$(KIOSK_PKGS))

# `make run`: packages, build, then the demo (board/run-demo.sh). `make screenshots`: every
# screen of every demo survey, both languages, six sizes, into $(BUILD)/screenshots/ by the real
# kiosk, headless.
run: deps
	$(MAKE) BUILD=$(BUILD) all
	BUILD=$(BUILD) board/run-demo.sh

screenshots: $(BUILD)/touchpoint-kiosk $(BUILD)/tests/ui_samples
	BUILD=$(BUILD) python3 board/screenshots.py
