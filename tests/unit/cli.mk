# tests/unit/cli.mk - unit tests of the export core against the real store: links the export core
# of firmware/cli.mk (EXPORT_SRCS) and the store (STORAGE_LIBS).
TESTS += $(BUILD)/tests/test_export
$(BUILD)/tests/test_export: $(call obj,tests/unit/test_export.c $(EXPORT_SRCS)) $(STORAGE_LIB)
TEST_LIBS_test_export = $(STORAGE_LIBS) $(call pkg_libs,libcjson libcrypto)
