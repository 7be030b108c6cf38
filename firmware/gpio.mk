# firmware/gpio.mk - the kiosk's physical buttons and lights (gpio.c: debounce, stuck buttons,
# status LED; gpio_sim.c: simulated lines for tests and scripts; gpio_gpiod.c: libgpiod 1.6, the
# only file that calls libgpiod) and screen power (power.c).
#
# $(GPIO_OBJS) and $(GPIO_LIBS) are linked by touchpoint-kiosk (kiosk.mk) and test_gpio.
GPIO_PKGS := libgpiod
GPIO_SRCS := firmware/gpio.c firmware/gpio_sim.c firmware/gpio_gpiod.c firmware/power.c
GPIO_OBJS := $(call obj,$(GPIO_SRCS))
GPIO_LIBS  = $(call pkg_libs,$(GPIO_PKGS))
ALL_SRCS  += $(GPIO_SRCS)

$(call obj,firmware/gpio_gpiod.c): MOD_CFLAGS = $(call pkg_cflags,$(GPIO_PKGS))
