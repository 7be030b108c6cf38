# Unit tests of storage/: the base layer alone (libtpbase.a, no SQLite) and the store, in three
# programs on the store fixture (tests/support/support.mk: STORE_FIXTURE_LIBS):
#   test_store        the API: open, record and validation, numbering, sync state, reading, the
#                     export cursor, two handles, the sync and event logs, NULL handles
#   test_store_stats  statistics (maths, local days, rollup against a direct count) and prune
#   test_store_files  the store's files: schema versions, damage, reserve, WAL bound, read-only
#                     opens, foreign and deleted files
TESTS += $(BUILD)/tests/test_tp
$(BUILD)/tests/test_tp: $(call obj,tests/unit/test_tp.c) $(TPBASE_LIB)
TEST_LIBS_test_tp = $(TPBASE_LIBS)

TESTS += $(BUILD)/tests/test_store $(BUILD)/tests/test_store_stats $(BUILD)/tests/test_store_files
$(BUILD)/tests/test_store: $(call obj,tests/unit/test_store.c) $(STORE_FIXTURE_LIB) $(STORAGE_LIB)
TEST_LIBS_test_store = $(STORE_FIXTURE_LIBS)
$(BUILD)/tests/test_store_stats: $(call obj,tests/unit/test_store_stats.c) $(STORE_FIXTURE_LIB) \
    $(STORAGE_LIB)
TEST_LIBS_test_store_stats = $(STORE_FIXTURE_LIBS)
$(BUILD)/tests/test_store_files: $(call obj,tests/unit/test_store_files.c) $(STORE_FIXTURE_LIB) \
    $(STORAGE_LIB)
TEST_LIBS_test_store_files = $(STORE_FIXTURE_LIBS)
