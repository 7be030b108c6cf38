# Unit tests of storage/ (base layer and store).
TESTS += $(BUILD)/tests/test_tp
$(BUILD)/tests/test_tp: $(call obj,tests/unit/test_tp.c) $(STORAGE_LIB)
TEST_LIBS_test_tp = $(STORAGE_LIBS)

TESTS += $(BUILD)/tests/test_store
$(BUILD)/tests/test_store: $(call obj,tests/unit/test_store.c) $(STORAGE_LIB)
TEST_LIBS_test_store = $(STORAGE_LIBS)
