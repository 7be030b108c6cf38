# Unit tests of the sync client: protocol codec (test_proto) and uploader against a scripted
# libmicrohttpd server inside the test (test_uploader).
SYNC_TEST_PKGS := libcjson zlib libmicrohttpd libcurl libcrypto
TESTS += $(BUILD)/tests/test_proto $(BUILD)/tests/test_uploader
$(call obj,tests/unit/test_proto.c tests/unit/test_uploader.c): MOD_CFLAGS = \
    $(call pkg_cflags,$(TEST_PKGS) $(SYNC_TEST_PKGS) sqlite3) -Itests
$(BUILD)/tests/test_proto: $(call obj,tests/unit/test_proto.c) $(SYNC_CLIENT_LIB) $(STORAGE_LIB)
$(BUILD)/tests/test_uploader: $(call obj,tests/unit/test_uploader.c) $(SYNC_CLIENT_LIB) \
    $(STORAGE_LIB)
TEST_LIBS_test_proto = $(SYNC_CLIENT_LIBS) $(STORAGE_LIBS)
TEST_LIBS_test_uploader = $(SYNC_CLIENT_LIBS) $(STORAGE_LIBS) $(call pkg_libs,$(SYNC_TEST_PKGS))
