# firmware/: the programs. Each program has its own fragment (firmware/*.mk):
#   cli.mk    -> build/touchpoint        (staff/admin CLI, sync daemon)
#   kiosk.mk  -> build/touchpoint-kiosk  (the SDL survey app)
-include $(filter-out firmware/module.mk,$(wildcard firmware/*.mk))
