# tests/: each group adds its programs through a fragment (tests/*/*.mk), so that unit tests,
# integration programs and benchmarks of different modules do not edit one shared list.
#
# A unit test tests/unit/test_NAME.c becomes $(BUILD)/tests/test_NAME; fragments declare
#   TESTS += $(BUILD)/tests/test_NAME
#   $(BUILD)/tests/test_NAME: <objects and libraries>
TEST_PKGS := cmocka
ALL_SRCS  += $(wildcard tests/*/*.c)

$(call obj,$(wildcard tests/*/*.c)): MOD_CFLAGS = $(call pkg_cflags,$(TEST_PKGS) sqlite3) -Itests

# Link rule shared by every test program: its own object first, then what the fragment lists.
$(BUILD)/tests/%:
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(TEST_LIBS_$*) \
	    $(call pkg_libs,$(TEST_PKGS))

-include $(wildcard tests/*/*.mk)
