# tests/bench/ui.mk - the ui frame-time benchmark ($(BUILD)/bench/bench_ui, run by make bench).
$(call obj,tests/bench/bench_ui.c): MOD_CFLAGS = $(call pkg_cflags,$(UI_PKGS)) -Itests/ui
TESTS += $(BUILD)/bench/bench_ui
$(BUILD)/bench/bench_ui: $(call obj,tests/bench/bench_ui.c tests/ui/samples.c) $(UI_LIB) $(STORAGE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(UI_LIBS) $(STORAGE_LIBS)
