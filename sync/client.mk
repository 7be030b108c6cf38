# sync/client.mk - the sync client: protocol codec (proto), uploader (libcurl) and the daemon's
# pid file and "Sync now" wake-up (pidfile), as $(SYNC_CLIENT_LIB). Programs link
# $(SYNC_CLIENT_LIBS) followed by $(STORAGE_LIBS).
SYNC_CLIENT_PKGS := libcurl libcjson zlib
SYNC_CLIENT_SRCS := sync/proto.c sync/uploader.c sync/pidfile.c
SYNC_CLIENT_LIB  := $(BUILD)/libtpsyncclient.a
ALL_SRCS         += $(SYNC_CLIENT_SRCS)

$(call obj,$(SYNC_CLIENT_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(SYNC_CLIENT_PKGS))
$(SYNC_CLIENT_LIB): $(call obj,$(SYNC_CLIENT_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
SYNC_CLIENT_LIBS = $(SYNC_CLIENT_LIB) $(call pkg_libs,$(SYNC_CLIENT_PKGS)) -lm
