# sync/collector/collector.mk: touchpoint-collector, the central collector (HTTP server,
# validation, SQLite/PostgreSQL stores, report, dashboard). COLLECTOR_CORE_OBJS is everything but
# main, for the unit tests; COLLECTOR_LIBS is its link line: the survey and settings parsers the
# kiosk uses (DOC_LIBS, libtpdoc.a: publish checks with the kiosk's own rules), the base layer (TPBASE_LIBS:
# libtpbase.a, tp.c; not the device store), then libmicrohttpd, cJSON, libpq, SQLite (its own
# central store), zlib, libcrypto, libuuid and libm. Programs linking COLLECTOR_CORE_OBJS list
# $(TPBASE_LIB) among their prerequisites. COLLECTOR_CFLAGS is what its sources and its tests
# compile with (-Isync/collector: its headers are not global).
COLLECTOR_PKGS := libmicrohttpd libcjson libpq sqlite3 zlib libcrypto uuid
COLLECTOR_DIR  := sync/collector
COLLECTOR_SRCS := $(addprefix $(COLLECTOR_DIR)/,collector.c cbatch.c creport.c \
                  cauth.c crate.c cmetrics.c \
                  cstore.c cstore_sqlite.c cstore_pg.c cpool.c cguard.c \
                  cstore_pg_tx.c cstore_pg_part.c cstore_fleet_sql.c cfleet.c cfleet_ops.c cenroll.c cfleet_cli.c capi.c collector_api.c \
                  ctz.c crollup.c cpart.c cstore_rollup_sql.c cstat.c canalytics.c \
                  canalytics_views.c canalytics_dev.c canalytics_csv.c canalytics_http.c \
                  canalytics_cli.c)
COLLECTOR_MAIN := $(COLLECTOR_DIR)/collector_main.c
ALL_SRCS       += $(COLLECTOR_SRCS) $(COLLECTOR_MAIN)

# The dashboard page is embedded as a byte array (xxd -i names it sync_collector_dashboard_html).
COLLECTOR_DASH_C := $(BUILD)/gen/dashboard_html.c
COLLECTOR_DASH_O := $(OBJ)/gen/dashboard_html.o
$(COLLECTOR_DASH_C): $(COLLECTOR_DIR)/dashboard.html
	@mkdir -p $(@D)
	xxd -i $(COLLECTOR_DIR)/dashboard.html > $@.tmp && mv $@.tmp $@
$(COLLECTOR_DASH_O): $(COLLECTOR_DASH_C)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

COLLECTOR_CORE_OBJS := $(call obj,$(COLLECTOR_SRCS)) $(COLLECTOR_DASH_O)
COLLECTOR_LIBS = $(DOC_LIBS) $(TPBASE_LIBS) $(call pkg_libs,$(COLLECTOR_PKGS)) -lm

COLLECTOR_CFLAGS = -I$(COLLECTOR_DIR) $(call pkg_cflags,$(COLLECTOR_PKGS))
$(call obj,$(COLLECTOR_SRCS) $(COLLECTOR_MAIN)): MOD_CFLAGS = $(COLLECTOR_CFLAGS)

PROGRAMS += $(BUILD)/touchpoint-collector
$(BUILD)/touchpoint-collector: $(call obj,$(COLLECTOR_MAIN)) $(COLLECTOR_CORE_OBJS) $(DOC_LIB) \
                               $(TPBASE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(COLLECTOR_LIBS)
