# Fault tests of the answer store: kill -9, disk full, read-only, locked, corrupt files.
TESTS += $(BUILD)/tests/test_store_fault
$(BUILD)/tests/test_store_fault: $(call obj,tests/fault/test_store_fault.c) $(STORAGE_LIB)
TEST_LIBS_test_store_fault = $(STORAGE_LIBS)
