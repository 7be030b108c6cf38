# firmware/cli.mk - the staff/admin CLI $(BUILD)/touchpoint and the export core library.
#
# $(EXPORT_LIB) (libtpexport.a): export.c (the phases of an export), export_format.c (CSV/JSON
# Lines rows and file names) and export_fs.c (the POSIX file system table). Both the CLI and the
# kiosk (usb_export.c) link $(EXPORT_LIBS) followed by $(STORAGE_LIBS).
EXPORT_PKGS := libcjson libcrypto
EXPORT_SRCS := firmware/export.c firmware/export_format.c firmware/export_fs.c
EXPORT_LIB  := $(BUILD)/libtpexport.a
EXPORT_LIBS  = $(EXPORT_LIB) $(call pkg_libs,$(EXPORT_PKGS))
ALL_SRCS    += $(EXPORT_SRCS)

$(call obj,$(EXPORT_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(EXPORT_PKGS))
$(EXPORT_LIB): $(call obj,$(EXPORT_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# The program: cli.c holds the command table, each cli_<name>.c one command. It links
#   the export core  $(EXPORT_LIBS)            (export),
#   libtpconf        $(TPCONF_LIBS), kiosk.mk  (config.c for sync, pin.c for pin-hash),
#   the sync client  $(SYNC_CLIENT_LIBS)       (sync: uploader, pid file),
#   the store        $(STORAGE_LIBS).
# kiosk.mk is read after this file: its library is named by its path in the prerequisites (the
# recipe, expanded when it runs, may use $(TPCONF_LIBS)).
CLI_SRCS := firmware/cli.c firmware/cli_record.c firmware/cli_stats.c firmware/cli_export.c \
            firmware/cli_check.c firmware/cli_prune.c firmware/cli_sync.c firmware/cli_pin.c
CLI_PKGS := libcjson libcrypto inih $(SYNC_CLIENT_PKGS)
ALL_SRCS += $(CLI_SRCS)

$(call obj,$(CLI_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(CLI_PKGS))

PROGRAMS += $(BUILD)/touchpoint
$(BUILD)/touchpoint: $(call obj,$(CLI_SRCS)) $(EXPORT_LIB) $(BUILD)/libtpconf.a \
                     $(SYNC_CLIENT_LIB) $(SYNC_PID_LIB) $(STORAGE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(CLI_SRCS)) $(EXPORT_LIBS) $(TPCONF_LIBS) \
	    $(SYNC_CLIENT_LIBS) $(STORAGE_LIBS) $(call pkg_libs,$(CLI_PKGS))
