# tests/support/: what the tests share that is not a test itself (tests/run.sh only runs
# $(BUILD)/tests/test_*).
#   $(BUILD)/libtpstorefixture.a  the answer store's test fixture (store_fixture.c: temp folders,
#                                 open-or-fail, a checkout session, the seq walk, the unit tests'
#                                 setup). A store test lists $(STORE_FIXTURE_LIB) and
#                                 $(STORAGE_LIB) and links $(STORE_FIXTURE_LIBS), which ends with
#                                 the store (STORAGE_LIBS).
#   $(BUILD)/tests/gen_answers    fills a device database with N realistic answers; links the
#                                 store (STORAGE_LIBS)
# tests/module.mk includes this fragment first, so the other test fragments can name the fixture.
STORE_FIXTURE_LIB  := $(BUILD)/libtpstorefixture.a
STORE_FIXTURE_LIBS  = $(STORE_FIXTURE_LIB) $(STORAGE_LIBS)
$(STORE_FIXTURE_LIB): $(call obj,tests/support/store_fixture.c)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

TESTS += $(BUILD)/tests/gen_answers
$(BUILD)/tests/gen_answers: $(call obj,tests/support/gen_answers.c) $(STORAGE_LIB)
TEST_LIBS_gen_answers = $(STORAGE_LIBS)
