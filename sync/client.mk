# sync/client.mk - the sync client: protocol codec (proto) and uploader (libcurl), as
# $(SYNC_CLIENT_LIB), and the daemon's pid file and "Sync now" wake-up (pidfile), as
# $(SYNC_PID_LIB): the kiosk links only the latter (no curl in the kiosk). Programs link
# $(SYNC_CLIENT_LIBS) (which includes the pid file library and the document library $(DOC_LIBS):
# configuration delivery, cfetch.c, checks what it fetches with the collector's parsers)
# followed by $(STORAGE_LIBS).
SYNC_CLIENT_PKGS := libcurl libcjson zlib
SYNC_CLIENT_SRCS := sync/proto.c sync/uploader.c sync/cfetch.c sync/enroll.c
SYNC_PID_SRCS    := sync/pidfile.c
SYNC_CLIENT_LIB  := $(BUILD)/libtpsyncclient.a
SYNC_PID_LIB     := $(BUILD)/libtppidfile.a
ALL_SRCS         += $(SYNC_CLIENT_SRCS) $(SYNC_PID_SRCS)

$(call obj,$(SYNC_CLIENT_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(SYNC_CLIENT_PKGS))
$(SYNC_CLIENT_LIB): $(call obj,$(SYNC_CLIENT_SRCS)) $(DOC_LIB)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)
$(SYNC_PID_LIB): $(call obj,$(SYNC_PID_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
SYNC_PID_LIBS    = $(SYNC_PID_LIB)
SYNC_CLIENT_LIBS = $(SYNC_CLIENT_LIB) $(SYNC_PID_LIBS) $(DOC_LIBS) $(call pkg_libs,$(SYNC_CLIENT_PKGS)) -lm
