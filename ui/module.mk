# ui/: SDL2 rendering, layout, screens, hit-testing.
#   ui.mk     -> $(BUILD)/libtpui.a (UI_LIB; link line UI_LIBS)
UI_FRAGMENTS := ui/ui.mk
$(call check_fragments,ui/module.mk $(UI_FRAGMENTS),$(wildcard ui/*.mk ui/*/*.mk))
include $(UI_FRAGMENTS)
