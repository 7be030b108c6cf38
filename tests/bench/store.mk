# Benchmark of the answer store (run by `make bench` through tests/bench/run.sh, never by
# `make test`; built with the tests so it stays compiling). Links the store (STORAGE_LIBS).
TESTS += $(BUILD)/bench/bench_store
$(BUILD)/bench/bench_store: $(call obj,tests/bench/bench_store.c) $(STORAGE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(STORAGE_LIBS)
