# sync/: protocol codec and uploader (client.mk), collector and its stores (collector.mk).
-include $(filter-out sync/module.mk,$(wildcard sync/*.mk))
