# tests/unit/cli.mk - unit tests of the export core ($(EXPORT_LIB): export.c, export_format.c,
# export_fs.c) against the real store, and of the sync daemon's pid file (sync/pidfile.c, in the
# sync client library).
TESTS += $(BUILD)/tests/test_export
$(BUILD)/tests/test_export: $(call obj,tests/unit/test_export.c) $(EXPORT_LIB) $(STORAGE_LIB)
TEST_LIBS_test_export = $(EXPORT_LIBS) $(STORAGE_LIBS)

TESTS += $(BUILD)/tests/test_pidfile
$(BUILD)/tests/test_pidfile: $(call obj,tests/unit/test_pidfile.c) $(SYNC_CLIENT_LIB) $(STORAGE_LIB)
TEST_LIBS_test_pidfile = $(SYNC_CLIENT_LIBS) $(STORAGE_LIBS)
