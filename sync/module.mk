# sync/: the sync client and the collector.
#   doc.mk                  -> $(BUILD)/libtpdoc.a (survey and settings documents: parsed and
#                              checked by the kiosk, the CLI and the collector alike)
#   client.mk               -> $(BUILD)/libtpsyncclient.a (protocol codec and uploader)
#   collector/collector.mk  -> $(BUILD)/touchpoint-collector (HTTP server, its stores, report,
#                              dashboard: everything in sync/collector/)
SYNC_FRAGMENTS := sync/doc.mk sync/client.mk sync/collector/collector.mk
$(call check_fragments,sync/module.mk $(SYNC_FRAGMENTS),$(wildcard sync/*.mk sync/*/*.mk))
include $(SYNC_FRAGMENTS)
