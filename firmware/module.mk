# firmware/: the programs, and the modules only they use. Included in this order (a fragment can
# name in its prerequisites the variables of the fragments before it):
#   cli.mk    -> $(BUILD)/touchpoint        (staff/admin CLI, sync daemon; the export core)
#   gpio.mk   -> GPIO_OBJS, GPIO_LIBS       (buttons, lights, screen power; for the kiosk)
#   kiosk.mk  -> $(BUILD)/touchpoint-kiosk  (the SDL survey app) and $(BUILD)/libtpconf.a
#   usb.mk    -> USB_SRCS                   (USB detection and export; for the kiosk)
FIRMWARE_FRAGMENTS := firmware/cli.mk firmware/gpio.mk firmware/kiosk.mk firmware/usb.mk
$(call check_fragments,firmware/module.mk $(FIRMWARE_FRAGMENTS),$(wildcard firmware/*.mk firmware/*/*.mk))
include $(FIRMWARE_FRAGMENTS)
