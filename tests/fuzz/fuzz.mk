# tests/fuzz/: libFuzzer targets for the parsers of outside input (clang, ASan + UBSan).
#
#   make fuzz                    build every fuzzer into $(BUILD)/fuzz/ and run each for
#                                FUZZ_TIME seconds (default 60) from the seeds in
#                                tests/fuzz/corpus/NAME/ (and corpus/batch/, which the reply
#                                fuzzer also uses); findings go to $(BUILD)/fuzz/artifacts/
#     fuzz_batch   the collector's batch parser (sync/collector/cbatch.h cbatch_parse)
#     fuzz_reply   the client's reply parser (sync/proto.h proto_parse_reply), and the
#                  collector's reply fed to it
#     fuzz_encode  store-valid answers encoded by the client (proto_encode_batch) must be read
#                  back by the collector unchanged, none rejected
#     fuzz_clink   the comment link's parser (sync/clink.h clink_parse, clink_verify): refused
#                  or well-formed, never a forged link accepted
#     fuzz_comment a customer's comment text through the collector's tagging (ctag.h:
#                  graphemes, folding, whole words; libunistring)
#   make tests                   also builds the fuzzers; tests/integration/test_fuzz_short.sh runs
#                                each briefly in `make test`
#
# What each fuzzer is built from; all three link cJSON, zlib, libuuid and libm:
#     fuzz_batch   tests/fuzz/fuzz_batch.c, sync/collector/cbatch.c + cjarena.c, the base layer ($(TPBASE_SRCS))
#     fuzz_reply   tests/fuzz/fuzz_reply.c, sync/proto.c, sync/collector/cbatch.c, the base layer
#     fuzz_encode  tests/fuzz/fuzz_encode.c, sync/proto.c, sync/collector/cbatch.c, the base layer
#     fuzz_clink   tests/fuzz/fuzz_clink.c, sync/clink.c, the base layer (and libcrypto)
#     fuzz_comment tests/fuzz/fuzz_comment.c, sync/collector/ctag.c, the base layer; + libunistring
#
# The fuzzers are built with clang (board/deps.sh installs it) and -fsanitize=fuzzer,address,
# undefined, whatever SAN says. libFuzzer steers by the coverage of the code under test, so the
# sources above are compiled here a second time with that instrumentation, into
# $(BUILD)/fuzz/obj/, and those objects are linked only into the fuzzers (the owners' libraries
# and COLLECTOR_CORE_OBJS are built with $(CC), without coverage). `make cross` sets FUZZ=0:
# libFuzzer is a host tool, so the aarch64 `make tests` leaves the fuzzers out.
FUZZ       ?= 1
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_BUILD  = $(BUILD)/fuzz
FUZZ_PKGS  := libcjson zlib $(TPBASE_PKGS)
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -g -O1 -fno-omit-frame-pointer \
              -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
              -Wall -Wextra -Wno-unused-parameter -MMD -MP \
              -Istorage -Isync -Isync/collector $(call pkg_cflags,$(FUZZ_PKGS))
FUZZ_LDFLAGS = -pthread -fsanitize=fuzzer,address,undefined
FUZZ_LIBS    = $(call pkg_libs,$(FUZZ_PKGS)) -lm
fuzz_obj     = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(1))

FUZZ_BATCH_SRCS := sync/collector/cbatch.c sync/collector/cjarena.c $(TPBASE_SRCS)
FUZZ_PROTO_SRCS := sync/proto.c $(FUZZ_BATCH_SRCS)
FUZZERS := $(FUZZ_BUILD)/fuzz_batch $(FUZZ_BUILD)/fuzz_reply $(FUZZ_BUILD)/fuzz_encode \
           $(FUZZ_BUILD)/fuzz_clink $(FUZZ_BUILD)/fuzz_comment
$(FUZZ_BUILD)/fuzz_batch:  $(call fuzz_obj,tests/fuzz/fuzz_batch.c $(FUZZ_BATCH_SRCS))
$(FUZZ_BUILD)/fuzz_reply:  $(call fuzz_obj,tests/fuzz/fuzz_reply.c $(FUZZ_PROTO_SRCS))
$(FUZZ_BUILD)/fuzz_encode: $(call fuzz_obj,tests/fuzz/fuzz_encode.c $(FUZZ_PROTO_SRCS))
$(FUZZ_BUILD)/fuzz_clink:  $(call fuzz_obj,tests/fuzz/fuzz_clink.c sync/clink.c $(TPBASE_SRCS))
$(FUZZ_BUILD)/fuzz_clink:  FUZZ_LIBS += $(call pkg_libs,libcrypto)
$(FUZZ_BUILD)/fuzz_comment: $(call fuzz_obj,tests/fuzz/fuzz_comment.c sync/collector/ctag.c \
                             $(TPBASE_SRCS))
$(FUZZ_BUILD)/fuzz_comment: FUZZ_LIBS += -lunistring
ifeq ($(FUZZ),1)
TESTS += $(FUZZERS)
endif

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZERS):
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

# Each fuzzer grows its own working corpus (seeds merged in), so tests/fuzz/corpus stays as is.
.PHONY: fuzz
fuzz: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do \
	    n=$$(basename $$f); n=$${n#fuzz_}; \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/artifacts; \
	    echo "fuzz: $$f for $(FUZZ_TIME) s"; \
	    $$f -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	        -dict=tests/fuzz/batch.dict -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$n- \
	        -print_final_stats=1 $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n \
	        $$([ $$n = reply ] && echo tests/fuzz/corpus/batch); \
	done
