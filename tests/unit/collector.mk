# Unit tests of the collector (sync/collector/): its objects and link line from
# sync/collector/collector.mk, its headers through COLLECTOR_CFLAGS.
TESTS += $(BUILD)/tests/test_collector
$(call obj,tests/unit/test_collector.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_collector: $(call obj,tests/unit/test_collector.c) $(COLLECTOR_CORE_OBJS) \
    $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_collector = $(COLLECTOR_LIBS)

# The fleet (issue 12): tree, devices, surveys, configuration on a SQLite store.
TESTS += $(BUILD)/tests/test_collector_fleet
$(call obj,tests/unit/test_collector_fleet.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_collector_fleet: $(call obj,tests/unit/test_collector_fleet.c) \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_collector_fleet = $(COLLECTOR_LIBS)
