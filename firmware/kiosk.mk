# firmware/kiosk.mk - the kiosk program (touchpoint-kiosk) and the modules it shares with the CLI.
#
# $(BUILD)/libtpconf.a: config.c (INI config), survey.c (survey files), pin.c (PIN hashes),
# script.c (scripted input harness). Other fragments link it by its literal path
# $(BUILD)/libtpconf.a plus $(TPCONF_LIBS) (fragments are read in name order, so a variable set
# here is not yet defined when cli.mk is read).
TPCONF_PKGS := inih libcjson libcrypto
TPCONF_SRCS := firmware/config.c firmware/survey.c firmware/pin.c firmware/script.c
TPCONF_LIB  := $(BUILD)/libtpconf.a
TPCONF_LIBS  = $(TPCONF_LIB) $(call pkg_libs,$(TPCONF_PKGS))
ALL_SRCS    += $(TPCONF_SRCS)

$(call obj,$(TPCONF_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(TPCONF_PKGS))
$(TPCONF_LIB): $(call obj,$(TPCONF_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# The program. kiosk.c (state machine) needs no SDL; kiosk_main.c owns the window and the loop.
KIOSK_PKGS := sdl2 libcjson libsystemd
KIOSK_SRCS := firmware/kiosk.c firmware/kiosk_main.c firmware/watchdog.c
KIOSK_CORE_OBJS := $(call obj,firmware/kiosk.c)
ALL_SRCS += $(KIOSK_SRCS)
PROGRAMS += $(BUILD)/touchpoint-kiosk

$(call obj,$(KIOSK_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(KIOSK_PKGS) $(TPCONF_PKGS))
# The staff screen's "Export to USB": usb.c + usb_export.c (usb.mk, read after this file, so
# named literally) on the export core $(EXPORT_LIB) (cli.mk).
KIOSK_USB_OBJS := $(call obj,firmware/usb.c firmware/usb_export.c)
$(BUILD)/touchpoint-kiosk: $(call obj,$(KIOSK_SRCS)) $(KIOSK_USB_OBJS) $(GPIO_OBJS) $(EXPORT_LIB) \
    $(TPCONF_LIB) $(UI_LIB) $(STORAGE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(KIOSK_SRCS)) $(KIOSK_USB_OBJS) $(GPIO_OBJS) $(EXPORT_LIBS) \
	    $(TPCONF_LIBS) $(UI_LIBS) $(STORAGE_LIBS) $(GPIO_LIBS) $(call pkg_libs,$(KIOSK_PKGS))

# `make run`: packages, build, then the demo (board/run-demo.sh; the lead extends it with the
# collector and the sync daemon). `make screenshots`: every screen of every demo survey, both
# languages, six sizes, into $(BUILD)/screenshots/ by the real kiosk, headless.
run: deps
	$(MAKE) BUILD=$(BUILD) all
	BUILD=$(BUILD) board/run-demo.sh

screenshots: $(BUILD)/touchpoint-kiosk
	BUILD=$(BUILD) python3 board/screenshots.py
