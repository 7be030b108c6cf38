# tests/unit/cli.mk - unit tests of the export core against the real store: they link the export
# core of firmware/cli.mk ($(EXPORT_LIBS): export.c, export_format.c, export_fs.c) and the store
# ($(STORAGE_LIBS)); and of the sync daemon's pid file (sync/pidfile.c, $(SYNC_PID_LIBS)).
# test_export (single files, faults) and test_export_multi (export_run_formats, cancel) share
# the fixture export_fixture.c (temp store, fault-injecting file system ops).
EXPORT_TESTS := test_export test_export_multi
TESTS += $(foreach t,$(EXPORT_TESTS),$(BUILD)/tests/$(t))
$(foreach t,$(EXPORT_TESTS),$(BUILD)/tests/$(t)): $(BUILD)/tests/%: $(OBJ)/tests/unit/%.o \
    $(OBJ)/tests/unit/export_fixture.o $(EXPORT_LIB) $(STORAGE_LIB)
$(foreach t,$(EXPORT_TESTS),$(eval TEST_LIBS_$(t) = $$(EXPORT_LIBS) $$(STORAGE_LIBS)))

TESTS += $(BUILD)/tests/test_pidfile
$(BUILD)/tests/test_pidfile: $(call obj,tests/unit/test_pidfile.c) $(SYNC_PID_LIB) $(TPBASE_LIB)
TEST_LIBS_test_pidfile = $(SYNC_PID_LIBS) $(TPBASE_LIBS)
