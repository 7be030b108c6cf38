# sync/: protocol codec and uploader (client.mk), and the central collector with its stores
# (collector/collector.mk). Each fragment is named here, so a missing one is a build error.
include sync/client.mk
include sync/collector/collector.mk
