# Unit tests of the kiosk's modules: config, survey, PIN hashes, script parser. They need only the
# base layer (tp.o), not the whole store.
KIOSK_UNIT := config survey pin script
TESTS += $(foreach t,$(KIOSK_UNIT),$(BUILD)/tests/test_$(t))
$(foreach t,$(KIOSK_UNIT),$(BUILD)/tests/test_$(t)): $(BUILD)/tests/test_%: \
    $(OBJ)/tests/unit/test_%.o $(BUILD)/libtpconf.a $(call obj,storage/tp.c)
$(foreach t,$(KIOSK_UNIT),$(eval TEST_LIBS_test_$(t) = $$(TPCONF_LIBS) $$(call pkg_libs,uuid) -lm))

# The state machine, with a real store (no SDL: it only fills ui_screen models).
TESTS += $(BUILD)/tests/test_kiosk
$(BUILD)/tests/test_kiosk: $(OBJ)/tests/unit/test_kiosk.o $(KIOSK_CORE_OBJS) \
    $(BUILD)/libtpconf.a $(STORAGE_LIB)
TEST_LIBS_test_kiosk = $(TPCONF_LIBS) $(STORAGE_LIBS) $(call pkg_libs,libcjson libqrencode)
