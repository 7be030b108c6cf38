# Unit tests of the collector (sync/collector/): its objects and link line from
# sync/collector/collector.mk, its headers through COLLECTOR_CFLAGS. test_collector (reports,
# ranges, tokens, the SQLite store, guard, pool) and test_collector_batch (the batch parser) share
# the fixture collector_fixture.c (batches built as JSON text); test_collector_fleet,
# test_collector_access, test_ckey, test_ccase, test_ctag, test_canalytics and (deliver.mk)
# test_cdeliver link it for its temporary SQLite store.
COLLECTOR_TESTS := test_collector test_collector_batch
TESTS += $(foreach t,$(COLLECTOR_TESTS),$(BUILD)/tests/$(t))
$(call obj,$(foreach t,$(COLLECTOR_TESTS) collector_fixture,tests/unit/$(t).c)): \
    MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(foreach t,$(COLLECTOR_TESTS),$(BUILD)/tests/$(t)): $(BUILD)/tests/%: $(OBJ)/tests/unit/%.o \
    $(OBJ)/tests/unit/collector_fixture.o $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
$(foreach t,$(COLLECTOR_TESTS),$(eval TEST_LIBS_$(t) = $$(COLLECTOR_LIBS)))

# The fleet (issue 12): tree, devices, surveys, configuration on a SQLite store.
TESTS += $(BUILD)/tests/test_collector_fleet
$(call obj,tests/unit/test_collector_fleet.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_collector_fleet: $(call obj,tests/unit/test_collector_fleet.c) \
    $(OBJ)/tests/unit/collector_fixture.o \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_collector_fleet = $(COLLECTOR_LIBS)

# The comments' tagging and privacy helpers (issue 15): ctag.c on libunistring, ccomment_privacy.c.
TESTS += $(BUILD)/tests/test_ctag
$(call obj,tests/unit/test_ctag.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_ctag: $(call obj,tests/unit/test_ctag.c) \
    $(OBJ)/tests/unit/collector_fixture.o $(COLLECTOR_CORE_OBJS) $(DOC_LIB) \
    $(TPBASE_LIB)
TEST_LIBS_test_ctag = $(COLLECTOR_LIBS)
# Cases and digests (issue 13): periods in a node's time zone, due times, TTA/TTR quantiles.
TESTS += $(BUILD)/tests/test_cdigest
$(call obj,tests/unit/test_cdigest.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_cdigest: $(call obj,tests/unit/test_cdigest.c) \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_cdigest = $(COLLECTOR_LIBS)

# Cases' read side under a reader's scope (SQLite store in a temporary folder).
TESTS += $(BUILD)/tests/test_ccase
$(call obj,tests/unit/test_ccase.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_ccase: $(call obj,tests/unit/test_ccase.c) \
    $(OBJ)/tests/unit/collector_fixture.o \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_ccase = $(COLLECTOR_LIBS)

# Alert rules (issue 13): windows in a zone, parameters, interval tests (pure, no store).
TESTS += $(BUILD)/tests/test_collector_alert
$(call obj,tests/unit/test_collector_alert.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_collector_alert: $(call obj,tests/unit/test_collector_alert.c) \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_collector_alert = $(COLLECTOR_LIBS)
# Read access (issue 14): scope math, read tokens, the read audit, the per-reader gate.
TESTS += $(BUILD)/tests/test_collector_access
$(call obj,tests/unit/test_collector_access.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_collector_access: $(call obj,tests/unit/test_collector_access.c) \
    $(OBJ)/tests/unit/collector_fixture.o \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_collector_access = $(COLLECTOR_LIBS)

# A batch's JSON tree in one arena (issue 14's ingest CPU).
TESTS += $(BUILD)/tests/test_cjarena
$(call obj,tests/unit/test_cjarena.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_cjarena: $(call obj,tests/unit/test_cjarena.c) \
    $(OBJ)/tests/unit/collector_fixture.o \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_cjarena = $(COLLECTOR_LIBS)

# Rows in PostgreSQL's binary COPY format (issue 14's ingest CPU).
TESTS += $(BUILD)/tests/test_cpgcopy
$(call obj,tests/unit/test_cpgcopy.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_cpgcopy: $(call obj,tests/unit/test_cpgcopy.c) \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_cpgcopy = $(COLLECTOR_LIBS)

# The read side (issue 14): interval and ranking math, zone files, scope of the read handlers.
TESTS += $(BUILD)/tests/test_canalytics
$(call obj,tests/unit/test_canalytics.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_canalytics: $(call obj,tests/unit/test_canalytics.c) \
    $(OBJ)/tests/unit/collector_fixture.o \
    $(COLLECTOR_CORE_OBJS) $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_canalytics = $(COLLECTOR_LIBS)

# The devices' comment keys (issue 15) on a SQLite store.
TESTS += $(BUILD)/tests/test_ckey
$(call obj,tests/unit/test_ckey.c): MOD_CFLAGS += $(COLLECTOR_CFLAGS)
$(BUILD)/tests/test_ckey: $(call obj,tests/unit/test_ckey.c) \
    $(OBJ)/tests/unit/collector_fixture.o $(COLLECTOR_CORE_OBJS) $(DOC_LIB) \
    $(TPBASE_LIB)
TEST_LIBS_test_ckey = $(COLLECTOR_LIBS)
