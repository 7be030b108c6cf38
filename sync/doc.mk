# sync/doc.mk - the documents both ends of sync check with one code path: survey files
# (survey.c), the center's settings object (settings.c) and the /v1/config body with the state
# folder's files (rconfig.c), and the comment link both ends build and check (clink.c, HMAC from
# libcrypto), as $(DOC_LIB) (libtpdoc.a). The
# kiosk, the CLI (through libtpconf) and the collector link $(DOC_LIBS): the library, cJSON and
# the base layer. It never calls up into firmware/.
DOC_PKGS := libcjson libcrypto
DOC_SRCS := sync/survey.c sync/settings.c sync/rconfig.c sync/clink.c
DOC_LIB  := $(BUILD)/libtpdoc.a
DOC_LIBS  = $(DOC_LIB) $(call pkg_libs,$(DOC_PKGS)) $(TPBASE_LIBS)
ALL_SRCS += $(DOC_SRCS)

$(call obj,$(DOC_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(DOC_PKGS))
$(DOC_LIB): $(call obj,$(DOC_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
