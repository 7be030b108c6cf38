# firmware/usb.mk - USB stick detection (usb.c) and the kiosk's "Export to USB" job (usb_export.c).
#
# USB_SRCS is for the programs that need it: the kiosk's fragment adds $(call obj,$(USB_SRCS)) to
# its link (usb_export.c sits on the export core, $(EXPORT_LIB), which cli.mk builds).
# No pkg-config packages: inotify, epoll and eventfd are plain Linux system calls.
USB_SRCS := firmware/usb.c firmware/usb_export.c
ALL_SRCS += $(USB_SRCS)
