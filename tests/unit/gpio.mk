# tests/unit/gpio.mk - unit test of the kiosk's GPIO (debounce, stuck buttons, LEDs, mapping; the
# sim backend and the libgpiod backend's error path), its config keys and screen power. Links the
# GPIO objects (GPIO_OBJS, GPIO_LIBS: firmware/gpio.mk), the config library (TPCONF_LIBS:
# firmware/kiosk.mk) and the base layer (TPBASE_LIBS).
TESTS += $(BUILD)/tests/test_gpio
$(BUILD)/tests/test_gpio: $(OBJ)/tests/unit/test_gpio.o $(GPIO_OBJS) $(TPCONF_LIB) $(TPBASE_LIB)
TEST_LIBS_test_gpio = $(GPIO_LIBS) $(TPCONF_LIBS) $(TPBASE_LIBS)
