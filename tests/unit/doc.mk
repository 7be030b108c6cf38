# Unit tests of the document library (sync/doc.mk): the settings object. test_survey stays in
# kiosk.mk's list (it links libtpconf, which includes $(DOC_LIBS)).
TESTS += $(BUILD)/tests/test_settings
$(BUILD)/tests/test_settings: $(OBJ)/tests/unit/test_settings.o $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_settings = $(DOC_LIBS)

# The /v1/config body and the state folder's files (rconfig.c): the atomic writer.
TESTS += $(BUILD)/tests/test_rconfig
$(BUILD)/tests/test_rconfig: $(OBJ)/tests/unit/test_rconfig.o $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_rconfig = $(DOC_LIBS)

# The comment link (clink.c): a fixed vector, parsing, forgery and expiry.
TESTS += $(BUILD)/tests/test_clink
$(BUILD)/tests/test_clink: $(OBJ)/tests/unit/test_clink.o $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_clink = $(DOC_LIBS)
