# sync/: protocol codec and uploader (client.mk), collector and its stores (collector.mk).
-include $(wildcard sync/*.mk)
