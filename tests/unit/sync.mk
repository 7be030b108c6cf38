# Unit tests of the sync client: protocol codec (test_proto) and uploader against a scripted
# libmicrohttpd server inside the test (test_uploader; TLS and the daemon: test_uploader_daemon;
# both on the fixture uploader_fixture.c).
SYNC_TEST_PKGS := libcjson zlib libmicrohttpd libcurl libcrypto
UPLOADER_TESTS := test_uploader test_uploader_daemon
TESTS += $(BUILD)/tests/test_proto $(foreach t,$(UPLOADER_TESTS),$(BUILD)/tests/$(t))
$(call obj,tests/unit/test_proto.c tests/unit/uploader_fixture.c \
    $(foreach t,$(UPLOADER_TESTS),tests/unit/$(t).c)): MOD_CFLAGS = \
    $(call pkg_cflags,$(TEST_PKGS) $(SYNC_TEST_PKGS) sqlite3) -Itests
$(BUILD)/tests/test_proto: $(call obj,tests/unit/test_proto.c) $(SYNC_CLIENT_LIB) $(SYNC_PID_LIB) $(STORAGE_LIB)
$(foreach t,$(UPLOADER_TESTS),$(BUILD)/tests/$(t)): $(BUILD)/tests/%: $(OBJ)/tests/unit/%.o \
    $(OBJ)/tests/unit/uploader_fixture.o $(SYNC_CLIENT_LIB) $(SYNC_PID_LIB) $(STORAGE_LIB)
TEST_LIBS_test_proto = $(SYNC_CLIENT_LIBS) $(STORAGE_LIBS)
$(foreach t,$(UPLOADER_TESTS),$(eval TEST_LIBS_$(t) = $$(SYNC_CLIENT_LIBS) $$(STORAGE_LIBS) \
    $$(call pkg_libs,$$(SYNC_TEST_PKGS))))
