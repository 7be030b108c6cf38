# tests/support/: helper programs of the integration tests and benchmarks (not tests themselves:
# tests/run.sh only runs $(BUILD)/tests/test_*).
#   $(BUILD)/tests/gen_answers   fills a device database with N realistic answers; links the
#                                store (STORAGE_LIBS)
TESTS += $(BUILD)/tests/gen_answers
$(BUILD)/tests/gen_answers: $(call obj,tests/support/gen_answers.c) $(STORAGE_LIB)
TEST_LIBS_gen_answers = $(STORAGE_LIBS)
