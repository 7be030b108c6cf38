# firmware/usb.mk - USB stick detection (usb.c) and the kiosk's "Export to USB" job (usb_export.c).
#
# usb.o and usb_export.o are linked by touchpoint-kiosk (kiosk.mk, read before this file, names
# them) and by the USB tests (tests/unit/usb.mk), each on the export core $(EXPORT_LIB) (cli.mk).
# No pkg-config packages: inotify, epoll and eventfd are plain Linux system calls.
USB_SRCS := firmware/usb.c firmware/usb_export.c
ALL_SRCS += $(USB_SRCS)
