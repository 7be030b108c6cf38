# Touchpoint - plain GNU Make with pkg-config. Build products go under $(BUILD) only.
#
#   make            build everything (build/)
#   make test       install missing packages, build normal + ASan/UBSan, run every test twice
#   make run        install, build, start the demo
#   make bench      performance figures beside their targets
#   make check      clang-format and cppcheck over the sources
#   make fuzz       libFuzzer runs of the collector's batch parser and the client's reply parser
#   make install    the appliance into PREFIX/DESTDIR (board/board.mk)
#   make cross      every program for aarch64; make cross-test runs the test programs under qemu
#   make clean
#
# Each top-level folder has a module.mk that includes its fragments by name; each fragment says
# what its programs and libraries are built from and what they link. A listed fragment that is
# missing stops the build, and so does a fragment that its module.mk does not list
# (check_fragments), so no program is ever left out silently.

BUILD      ?= build
SAN        ?= 0
CC         ?= cc
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
DESTDIR    ?=

WARN   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
          -Wundef -Wvla -Wpointer-arith -Wwrite-strings -Wno-unused-parameter
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -pthread -fno-common $(WARN) -MMD -MP \
          -Istorage -Iui -Isync -Ifirmware
LDFLAGS += -pthread

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS   += $(SANFLAGS) -O1
LDFLAGS  += $(SANFLAGS)
endif

# pkg-config flags for a list of packages: $(call pkg_cflags,sqlite3 uuid)
pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pkg_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

OBJ := $(BUILD)/obj
obj  = $(patsubst %.c,$(OBJ)/%.o,$(1))

# Stops make when a folder holds a fragment its module.mk does not list:
# $(call check_fragments,LISTED FRAGMENTS AND module.mk ITSELF,FRAGMENTS FOUND)
check_fragments = $(if $(filter-out $(1),$(2)),$(error $(filter-out $(1),$(2)): not listed in \
                    its module.mk, so nothing it declares would be built))

PROGRAMS :=
TESTS    :=
ALL_SRCS :=

.PHONY: all tests test run bench check clean deps screenshots install
all:

include storage/module.mk
include ui/module.mk
include sync/module.mk
include firmware/module.mk
include tests/module.mk
include board/board.mk

all: $(PROGRAMS)
tests: $(TESTS)

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(MOD_CFLAGS) -c $< -o $@

deps:
	@board/deps.sh

# Every test runs twice: in the normal build and in the ASan+UBSan build.
test: deps
	$(MAKE) all tests BUILD=build
	$(MAKE) all tests BUILD=build/asan SAN=1
	tests/run.sh build build/asan

bench: deps
	$(MAKE) all tests BUILD=build
	tests/bench/run.sh build

check:
	clang-format --dry-run --Werror $(ALL_SRCS) $(wildcard */*.h */*/*.h)
	cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
	    --suppress=missingIncludeSystem -Istorage -Iui -Isync -Ifirmware $(ALL_SRCS)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
