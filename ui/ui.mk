# ui/ui.mk - the ui library: layout, text, shapes, rendering, hit-testing (SDL2, SDL2_ttf,
# SDL2_image, fontconfig) on the base layer (storage/tp.c; ui never touches SQLite).
#   UI_LIB   $(BUILD)/libtpui.a, from ui/*.c
#   UI_LIBS  its whole link line: UI_LIB, the base layer (TPBASE_LIBS) and the SDL libraries.
#            Prerequisites of a program that links it: $(UI_LIB) $(TPBASE_LIB).

UI_PKGS := sdl2 SDL2_ttf SDL2_image fontconfig
UI_SRCS := $(wildcard ui/*.c)
UI_LIB  := $(BUILD)/libtpui.a
ALL_SRCS += $(UI_SRCS)

$(call obj,$(UI_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(UI_PKGS))
$(UI_LIB): $(call obj,$(UI_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
UI_LIBS = $(UI_LIB) $(TPBASE_LIBS) $(call pkg_libs,$(UI_PKGS)) -lm
