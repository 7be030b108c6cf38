# Unit test of the kiosk's systemd watchdog (firmware/watchdog.c) with a real store and
# libsystemd (sd_watchdog_enabled reads the environment the test sets).
TESTS += $(BUILD)/tests/test_watchdog
$(BUILD)/tests/test_watchdog: $(OBJ)/tests/unit/test_watchdog.o $(OBJ)/firmware/watchdog.o \
    $(STORAGE_LIB)
TEST_LIBS_test_watchdog = $(STORAGE_LIBS) $(call pkg_libs,libsystemd)
