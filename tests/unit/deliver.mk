# Unit tests of the outbox worker (sync/collector/cdeliver*.c): pure helpers, renderings and the
# endpoint operations on a SQLite store. Links the collector's objects like test_collector_fleet.
TESTS += $(BUILD)/tests/test_cdeliver
$(call obj,tests/unit/test_cdeliver.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_cdeliver: $(call obj,tests/unit/test_cdeliver.c) \
    $(OBJ)/tests/unit/collector_fixture.o \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_cdeliver = $(COLLECTOR_LIBS)
