# ui/: SDL2 rendering, layout, screens, hit-testing (ui.mk).
-include $(filter-out ui/module.mk,$(wildcard ui/*.mk))
