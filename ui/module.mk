# ui/: SDL2 rendering, layout, screens, hit-testing (ui.mk).
-include $(wildcard ui/*.mk)
