# tests/: each group adds its programs through a fragment, so that unit tests, integration
# programs and benchmarks of different modules do not edit one shared list.
#
# A unit test tests/unit/test_NAME.c becomes $(BUILD)/tests/test_NAME; fragments declare
#   TESTS += $(BUILD)/tests/test_NAME
#   $(BUILD)/tests/test_NAME: <its objects and the libraries it links>
#   TEST_LIBS_test_NAME = <the link lines of those libraries>
TEST_PKGS := cmocka
ALL_SRCS  += $(wildcard tests/*/*.c)

$(call obj,$(wildcard tests/*/*.c)): MOD_CFLAGS = $(call pkg_cflags,$(TEST_PKGS) sqlite3) -Itests

# Link rule shared by every test program: its objects, then what the fragment lists.
$(BUILD)/tests/%:
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(TEST_LIBS_$*) \
	    $(call pkg_libs,$(TEST_PKGS))

# The fragments, in this order (support.mk builds the store fixture that unit/storage.mk and
# fault/fault.mk link; bench/ui.mk links the sample library that unit/ui.mk builds).
TEST_FRAGMENTS := tests/support/support.mk tests/unit/storage.mk tests/unit/ui.mk \
                  tests/unit/sync.mk tests/unit/collector.mk tests/unit/deliver.mk tests/unit/cli.mk \
                  tests/unit/kiosk.mk tests/unit/doc.mk tests/unit/gpio.mk tests/unit/usb.mk \
                  tests/unit/watchdog.mk tests/fault/fault.mk tests/fuzz/fuzz.mk \
                  tests/bench/store.mk tests/bench/ui.mk
$(call check_fragments,$(TEST_FRAGMENTS),$(wildcard tests/*/*.mk))
include $(TEST_FRAGMENTS)
