# Unit tests of storage/: the base layer alone (libtpbase.a, no SQLite) and the store.
TESTS += $(BUILD)/tests/test_tp
$(BUILD)/tests/test_tp: $(call obj,tests/unit/test_tp.c) $(TPBASE_LIB)
TEST_LIBS_test_tp = $(TPBASE_LIBS)

TESTS += $(BUILD)/tests/test_store
$(BUILD)/tests/test_store: $(call obj,tests/unit/test_store.c) $(STORAGE_LIB)
TEST_LIBS_test_store = $(STORAGE_LIBS)
