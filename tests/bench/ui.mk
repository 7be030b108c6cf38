# tests/bench/ui.mk - the ui frame-time benchmark ($(BUILD)/bench/bench_ui, run by make bench):
# links the sample screens (UI_SAMPLES_LIB, tests/unit/ui.mk), the ui library and the base layer.
$(call obj,tests/bench/bench_ui.c): MOD_CFLAGS = $(call pkg_cflags,$(UI_PKGS)) -Itests/ui
TESTS += $(BUILD)/bench/bench_ui
$(BUILD)/bench/bench_ui: $(call obj,tests/bench/bench_ui.c) $(UI_SAMPLES_LIB) $(UI_LIB) \
                         $(TPBASE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(UI_SAMPLES_LIB) $(UI_LIBS)
