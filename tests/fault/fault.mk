# Fault tests of the answer store, on the store fixture (tests/support/support.mk:
# STORE_FIXTURE_LIBS).
#   test_store_fault  real processes and filesystems: kill -9, disk full, read-only, locked,
#                     corrupt files (root for the mounts; what is not permitted is a TAP skip)
#   test_store_vfs    every I/O call of a record, a prune and an export-cursor move failed in
#                     turn through faultvfs.c, a fault-injecting SQLite VFS (any user)
TESTS += $(BUILD)/tests/test_store_fault $(BUILD)/tests/test_store_vfs
$(BUILD)/tests/test_store_fault: $(call obj,tests/fault/test_store_fault.c) $(STORE_FIXTURE_LIB) \
    $(STORAGE_LIB)
TEST_LIBS_test_store_fault = $(STORE_FIXTURE_LIBS)
$(BUILD)/tests/test_store_vfs: $(call obj,tests/fault/test_store_vfs.c tests/fault/faultvfs.c) \
    $(STORE_FIXTURE_LIB) $(STORAGE_LIB)
TEST_LIBS_test_store_vfs = $(STORE_FIXTURE_LIBS)
