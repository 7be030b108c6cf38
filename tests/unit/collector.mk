# Unit tests of the collector (sync/collector*.c, sync/cstore*.c).
TESTS += $(BUILD)/tests/test_collector
$(BUILD)/tests/test_collector: $(call obj,tests/unit/test_collector.c) $(COLLECTOR_CORE_OBJS) \
    $(STORAGE_LIB)
TEST_LIBS_test_collector = $(COLLECTOR_LIBS)
