# sync/: the sync client and the collector.
#   client.mk     -> $(BUILD)/libtpsyncclient.a (protocol codec and uploader)
#   collector.mk  -> $(BUILD)/touchpoint-collector (HTTP server, its stores, report, dashboard)
SYNC_FRAGMENTS := sync/client.mk sync/collector.mk
$(call check_fragments,sync/module.mk $(SYNC_FRAGMENTS),$(wildcard sync/*.mk sync/*/*.mk))
include $(SYNC_FRAGMENTS)
