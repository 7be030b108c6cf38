# Unit tests of the document library (sync/doc.mk): the settings object. test_survey stays in
# kiosk.mk's list (it links libtpconf, which includes $(DOC_LIBS)).
TESTS += $(BUILD)/tests/test_settings
$(BUILD)/tests/test_settings: $(OBJ)/tests/unit/test_settings.o $(DOC_LIB) $(TPBASE_LIB)
TEST_LIBS_test_settings = $(DOC_LIBS)
