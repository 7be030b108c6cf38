# tests/unit/ui.mk - the ui tests (layout, rendering) and the sample renderer (tests/ui/).
#   UI_SAMPLES_LIB  $(BUILD)/libtpuisamples.a: the sample screens of tests/ui/samples.c, for these
#                   tests and the ui benchmark (tests/bench/ui.mk)
# Each program links the sample library, the ui library and the base layer (UI_LIBS).
UI_TEST_CFLAGS = $(call pkg_cflags,cmocka $(UI_PKGS)) -Itests -Itests/ui
UI_TEST_SRCS := tests/unit/test_ui.c tests/unit/test_ui_render.c tests/ui/samples.c \
                tests/ui/render_samples.c
$(call obj,$(UI_TEST_SRCS)): MOD_CFLAGS = $(UI_TEST_CFLAGS)

UI_SAMPLES_LIB := $(BUILD)/libtpuisamples.a
$(UI_SAMPLES_LIB): $(call obj,tests/ui/samples.c)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

UI_TEST_DEPS = $(UI_SAMPLES_LIB) $(UI_LIB) $(TPBASE_LIB)
TESTS += $(BUILD)/tests/test_ui $(BUILD)/tests/test_ui_render $(BUILD)/tests/ui_samples
$(BUILD)/tests/test_ui: $(call obj,tests/unit/test_ui.c) $(UI_TEST_DEPS)
TEST_LIBS_test_ui = $(UI_SAMPLES_LIB) $(UI_LIBS)
$(BUILD)/tests/test_ui_render: $(call obj,tests/unit/test_ui_render.c) $(UI_TEST_DEPS)
TEST_LIBS_test_ui_render = $(UI_SAMPLES_LIB) $(UI_LIBS)
# Not a test (run.sh runs tests/test_* only): writes sample PNGs, `ui_samples OUTDIR [WxH ...]`.
$(BUILD)/tests/ui_samples: $(call obj,tests/ui/render_samples.c) $(UI_TEST_DEPS)
TEST_LIBS_ui_samples = $(UI_SAMPLES_LIB) $(UI_LIBS)
# Line breaking of the shipped surveys reads assets/surveys through survey.c (libtpconf).
UI_TEST_SRCS += tests/unit/test_ui_text.c tests/unit/test_ui_look.c
$(call obj,tests/unit/test_ui_text.c tests/unit/test_ui_look.c): MOD_CFLAGS = $(UI_TEST_CFLAGS)
TESTS += $(BUILD)/tests/test_ui_text $(BUILD)/tests/test_ui_look
# ... and the kiosk's own sentences (firmware/kiosk_text.c, which needs nothing but the base).
$(BUILD)/tests/test_ui_text: $(call obj,tests/unit/test_ui_text.c firmware/kiosk_text.c) \
                             $(UI_TEST_DEPS) $(TPCONF_LIB)
TEST_LIBS_test_ui_text = $(UI_SAMPLES_LIB) $(UI_LIBS) $(TPCONF_LIBS)
$(BUILD)/tests/test_ui_look: $(call obj,tests/unit/test_ui_look.c) $(UI_TEST_DEPS)
TEST_LIBS_test_ui_look = $(UI_SAMPLES_LIB) $(UI_LIBS)
# The thank-you with the comment link's QR code (issue 15): encoded with libqrencode, built and
# verified with the comment link (libtpdoc), decoded with zbarimg (zbar-tools).
UI_TEST_SRCS += tests/unit/test_ui_comment.c
$(call obj,tests/unit/test_ui_comment.c): MOD_CFLAGS = $(UI_TEST_CFLAGS) \
    $(call pkg_cflags,libqrencode)
TESTS += $(BUILD)/tests/test_ui_comment
$(BUILD)/tests/test_ui_comment: $(call obj,tests/unit/test_ui_comment.c) $(UI_TEST_DEPS) $(DOC_LIB)
TEST_LIBS_test_ui_comment = $(UI_SAMPLES_LIB) $(UI_LIBS) $(DOC_LIBS) $(call pkg_libs,libqrencode)
