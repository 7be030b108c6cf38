# Unit test of the kiosk's systemd watchdog (firmware/watchdog.c, built by firmware/kiosk.mk) with
# a real store and libsystemd (sd_watchdog_enabled reads the environment the test sets).
TESTS += $(BUILD)/tests/test_watchdog
$(BUILD)/tests/test_watchdog: $(call obj,tests/unit/test_watchdog.c firmware/watchdog.c) \
    $(STORAGE_LIB)
TEST_LIBS_test_watchdog = $(STORAGE_LIBS) $(call pkg_libs,libsystemd)
