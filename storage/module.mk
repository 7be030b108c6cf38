# storage/: the base layer (tp) and the local answer store (store).
STORAGE_PKGS := sqlite3 uuid
STORAGE_SRCS := $(wildcard storage/*.c)
STORAGE_LIB  := $(BUILD)/libtpstorage.a
ALL_SRCS     += $(STORAGE_SRCS)

$(call obj,$(STORAGE_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(STORAGE_PKGS))
$(STORAGE_LIB): $(call obj,$(STORAGE_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
STORAGE_LIBS = $(STORAGE_LIB) $(call pkg_libs,$(STORAGE_PKGS)) -lm
