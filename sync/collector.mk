# sync/collector.mk: touchpoint-collector, the central collector (HTTP server, validation,
# SQLite/PostgreSQL stores, report, dashboard). COLLECTOR_CORE_OBJS is everything but main, for
# the unit tests and the fuzz targets; COLLECTOR_LIBS is its link line.
COLLECTOR_PKGS := libmicrohttpd libcjson libpq sqlite3 zlib libcrypto uuid
COLLECTOR_SRCS := sync/collector.c sync/collector_batch.c sync/collector_report.c \
                  sync/collector_auth.c sync/collector_rate.c sync/collector_metrics.c \
                  sync/cstore.c sync/cstore_sqlite.c sync/cstore_pg.c
COLLECTOR_MAIN := sync/collector_main.c
ALL_SRCS       += $(COLLECTOR_SRCS) $(COLLECTOR_MAIN)

# The dashboard page is embedded as a byte array (xxd -i names it sync_dashboard_html).
COLLECTOR_DASH_C := $(BUILD)/gen/dashboard_html.c
COLLECTOR_DASH_O := $(OBJ)/gen/dashboard_html.o
$(COLLECTOR_DASH_C): sync/dashboard.html
	@mkdir -p $(@D)
	xxd -i sync/dashboard.html > $@.tmp && mv $@.tmp $@
$(COLLECTOR_DASH_O): $(COLLECTOR_DASH_C)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

COLLECTOR_CORE_OBJS := $(call obj,$(COLLECTOR_SRCS)) $(COLLECTOR_DASH_O)
COLLECTOR_LIBS = $(STORAGE_LIBS) $(call pkg_libs,$(COLLECTOR_PKGS)) -lm

$(call obj,$(COLLECTOR_SRCS) $(COLLECTOR_MAIN)): MOD_CFLAGS = $(call pkg_cflags,$(COLLECTOR_PKGS))

PROGRAMS += $(BUILD)/touchpoint-collector
$(BUILD)/touchpoint-collector: $(call obj,$(COLLECTOR_MAIN)) $(COLLECTOR_CORE_OBJS) $(STORAGE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(COLLECTOR_LIBS)
