# tests/unit/usb.mk - unit tests of USB detection and the USB export job (test_usb) and of the
# mount table parser (test_usb_mountinfo), and the driver program the integration test and the
# benchmark use (usb_export_driver: runs usb detection + usb_export against a mount root, like the
# kiosk does). They link the objects of firmware/usb.mk (USB_SRCS), the export core of
# firmware/cli.mk (EXPORT_LIBS) and the store, with the export's sentences (kiosk_text.o).
USB_TEST_DEPS = $(call obj,$(USB_SRCS) firmware/kiosk_text.c) $(EXPORT_LIB) $(STORAGE_LIB)
USB_TEST_LIBS = $(EXPORT_LIBS) $(STORAGE_LIBS)

TESTS += $(BUILD)/tests/test_usb $(BUILD)/tests/test_usb_mountinfo $(BUILD)/tests/usb_export_driver
$(BUILD)/tests/test_usb: $(call obj,tests/unit/test_usb.c) $(USB_TEST_DEPS)
TEST_LIBS_test_usb = $(USB_TEST_LIBS)
$(BUILD)/tests/test_usb_mountinfo: $(call obj,tests/unit/test_usb_mountinfo.c firmware/usb.c) \
    $(STORAGE_LIB)
TEST_LIBS_test_usb_mountinfo = $(STORAGE_LIBS)
$(BUILD)/tests/usb_export_driver: $(call obj,tests/integration/usb_export_driver.c) $(USB_TEST_DEPS)
TEST_LIBS_usb_export_driver = $(USB_TEST_LIBS)
