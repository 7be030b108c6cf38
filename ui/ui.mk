# ui/ui.mk - the ui library: layout, text, shapes, rendering, hit-testing (SDL2, SDL2_ttf,
# SDL2_image, fontconfig). Exports UI_LIB (the archive) and UI_LIBS (its link line).
UI_PKGS := sdl2 SDL2_ttf SDL2_image fontconfig
UI_SRCS := $(wildcard ui/*.c)
UI_LIB  := $(BUILD)/libtpui.a
ALL_SRCS += $(UI_SRCS)

$(call obj,$(UI_SRCS)): MOD_CFLAGS = $(call pkg_cflags,$(UI_PKGS))
$(UI_LIB): $(call obj,$(UI_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
UI_LIBS = $(UI_LIB) $(call pkg_libs,$(UI_PKGS)) -lm
