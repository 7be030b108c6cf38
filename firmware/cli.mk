# firmware/cli.mk - the staff/admin CLI $(BUILD)/touchpoint and the export core (export.c).
#
# Every firmware/cli*.c is a command (cli.c holds the table; cli_sync.c and cli_pin.c come from
# the sync and kiosk fragments' owners and need no edit here). Linked in only when a command
# needs them, so a library still being written elsewhere cannot break this program:
#   $(BUILD)/libtpconf.a (firmware/kiosk.mk: config, pin) when cli_pin.c or cli_sync.c exists,
#   $(SYNC_CLIENT_LIBS) (sync/client.mk) when cli_sync.c exists.
# export.o is also linked by the kiosk (usb_export.c), so its flags are set here for everyone.
CLI_SRCS    := $(wildcard firmware/cli*.c)
EXPORT_SRCS := firmware/export.c
CLI_PKGS    = libcjson libcrypto inih $(if $(CLI_SYNC),$(SYNC_CLIENT_PKGS))
ALL_SRCS    += $(CLI_SRCS) $(EXPORT_SRCS)

# kiosk.mk is read after this file, so its library is named by its literal path.
CLI_TPCONF := $(if $(wildcard firmware/cli_pin.c firmware/cli_sync.c),$(if \
                  $(wildcard firmware/kiosk.mk),$(BUILD)/libtpconf.a))
CLI_SYNC   := $(if $(wildcard firmware/cli_sync.c),$(SYNC_CLIENT_LIB))

$(call obj,$(CLI_SRCS) $(EXPORT_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(CLI_PKGS))

PROGRAMS += $(BUILD)/touchpoint
$(BUILD)/touchpoint: $(call obj,$(CLI_SRCS) $(EXPORT_SRCS)) $(CLI_TPCONF) $(CLI_SYNC) \
                     $(STORAGE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(CLI_TPCONF) $(if $(CLI_SYNC),$(SYNC_CLIENT_LIBS)) \
	    $(STORAGE_LIBS) $(call pkg_libs,$(CLI_PKGS))
