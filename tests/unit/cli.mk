# tests/unit/cli.mk - unit tests of the export core (firmware/export.c) against the real store.
TESTS += $(BUILD)/tests/test_export
$(BUILD)/tests/test_export: $(call obj,tests/unit/test_export.c firmware/export.c) $(STORAGE_LIB)
TEST_LIBS_test_export = $(STORAGE_LIBS) $(call pkg_libs,libcjson libcrypto)
