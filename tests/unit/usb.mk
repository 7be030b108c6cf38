# tests/unit/usb.mk - unit test of USB detection and the USB export job (test_usb), and the
# driver program the integration test and the benchmark use (usb_export_driver: runs usb
# detection + usb_export against a mount root, like the kiosk does). Both link the objects of
# firmware/usb.mk (USB_SRCS) and the export core of firmware/cli.mk (EXPORT_SRCS), and the store.
USB_TEST_DEPS = $(call obj,$(USB_SRCS) $(EXPORT_SRCS)) $(STORAGE_LIB)
USB_TEST_LIBS = $(STORAGE_LIBS) $(call pkg_libs,libcjson libcrypto)

TESTS += $(BUILD)/tests/test_usb $(BUILD)/tests/usb_export_driver
$(BUILD)/tests/test_usb: $(call obj,tests/unit/test_usb.c) $(USB_TEST_DEPS)
TEST_LIBS_test_usb = $(USB_TEST_LIBS)
$(BUILD)/tests/usb_export_driver: $(call obj,tests/integration/usb_export_driver.c) $(USB_TEST_DEPS)
TEST_LIBS_usb_export_driver = $(USB_TEST_LIBS)
