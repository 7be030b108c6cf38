# storage/: two libraries.
#   libtpbase.a    the base layer (tp.c: errors, kinds, clock, ids, sizes, NPS, bounded buffers and
#                  file reads). Needs libuuid and libm, not SQLite: a program that only wants the
#                  base layer (the UI, the collector) links $(TPBASE_LIBS).
#   libtpstorage.a the local answer store (store*.c, SQLite). It calls the base layer, so
#                  $(STORAGE_LIBS) names both libraries: link that and nothing else for the store.
TPBASE_PKGS := uuid
TPBASE_SRCS := storage/tp.c
TPBASE_LIB  := $(BUILD)/libtpbase.a
TPBASE_LIBS  = $(TPBASE_LIB) $(call pkg_libs,$(TPBASE_PKGS)) -lm

STORAGE_PKGS := sqlite3 uuid
STORAGE_SRCS := storage/store.c storage/store_core.c storage/store_log.c storage/store_rec.c \
                storage/store_recover.c storage/store_stats.c
STORAGE_LIB  := $(BUILD)/libtpstorage.a
STORAGE_LIBS  = $(STORAGE_LIB) $(call pkg_libs,$(STORAGE_PKGS)) $(TPBASE_LIBS)

ALL_SRCS += $(TPBASE_SRCS) $(STORAGE_SRCS)

$(call obj,$(TPBASE_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(TPBASE_PKGS))
$(TPBASE_LIB): $(call obj,$(TPBASE_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# libtpbase.a is a prerequisite (not a member) of libtpstorage.a, so that every program that
# lists $(STORAGE_LIB) is relinked when the base layer changes.
$(call obj,$(STORAGE_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(STORAGE_PKGS))
$(STORAGE_LIB): $(call obj,$(STORAGE_SRCS)) $(TPBASE_LIB)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)
