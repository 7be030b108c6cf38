# sync/collector/collector.mk: touchpoint-collector, the central collector (HTTP server,
# validation, SQLite/PostgreSQL stores, report, dashboard). COLLECTOR_CORE_OBJS is everything but
# main, for the unit tests; COLLECTOR_LIBS is its link line: the survey and settings parsers the
# kiosk uses (DOC_LIBS, libtpdoc.a: publish checks with the kiosk's own rules), the base layer (TPBASE_LIBS:
# libtpbase.a, tp.c; not the device store), then libmicrohttpd, cJSON, libpq, SQLite (its own
# central store), zlib, libcrypto, libuuid, libcurl (the outbox's webhooks and e-mail) and libm. Programs linking COLLECTOR_CORE_OBJS list
# $(TPBASE_LIB) among their prerequisites. COLLECTOR_CFLAGS is what its sources and its tests
# compile with (-Isync/collector: its headers are not global).
COLLECTOR_PKGS := libmicrohttpd libcjson libpq sqlite3 zlib libcrypto uuid libcurl
COLLECTOR_DIR  := sync/collector
COLLECTOR_SRCS := $(addprefix $(COLLECTOR_DIR)/,collector.c cbatch.c cjarena.c creport.c \
                  cauth.c crate.c cmetrics.c \
                  cstore.c cstore_sqlite.c cstore_pg.c cpgcopy.c cpool.c cwork.c cguard.c \
                  cstore_pg_tx.c cstore_pg_part.c cstore_pg_keys.c cstore_fleet_sql.c cstore_alert_sql.c \
                  calert.c calert_window.c calert_queue.c calert_fire.c calert_eval.c calert_util.c \
                  calert_health.c calert_cli.c calert_comment.c \
                  cfleet.c cfleet_ops.c cenroll.c cfleet_cli.c capi.c collector_api.c \
                  ccase.c ccase_scope.c ccase_report.c ccase_cli.c \
                  cdigest.c cdigest_period.c cdigest_mail.c cdigest_sched.c \
                  cstore_access_sql.c cread.c cread_ops.c collector_read.c \
                  ctz.c crollup.c cpart.c cstore_rollup_sql.c cstat.c canalytics.c \
                  canalytics_views.c canalytics_dev.c canalytics_csv.c canalytics_http.c canalytics_comments.c \
                  canalytics_labels.c clabel.c \
                  ckey.c \
                  cstore_comment_sql.c ctag.c ccomment.c ccomment_page.c ccomment_read.c \
                  ccomment_privacy.c ccomment_cli.c ccomment_http.c canalytics_cli.c)
# The outbox worker (issue 13, delivery): webhooks and e-mail over libcurl.
COLLECTOR_SRCS += $(addprefix $(COLLECTOR_DIR)/,cdeliver.c cdeliver_render.c cdeliver_http.c \
                  cdeliver_mail.c cdeliver_ops.c cdeliver_cli.c)
COLLECTOR_MAIN := $(COLLECTOR_DIR)/collector_main.c
ALL_SRCS       += $(COLLECTOR_SRCS) $(COLLECTOR_MAIN)

# The dashboard page is assembled from its sources and Chart.js, then embedded as a byte array
# (sync_collector_dashboard_html). Chart.js comes from Debian's libjs-chart.js at build time:
# nothing vendored, no CDN, the page works offline. CHARTJS overrides the path.
CHARTJS ?= /usr/share/javascript/chart.js/chart.min.js
COLLECTOR_DASH_SRCS := $(addprefix $(COLLECTOR_DIR)/,dashboard.html dashboard.css dashboard.js \
                       dashboard_views.js dashboard_i18n.js)
COLLECTOR_DASH_HTML := $(BUILD)/gen/dashboard.html
COLLECTOR_DASH_C := $(BUILD)/gen/dashboard_html.c
COLLECTOR_DASH_O := $(OBJ)/gen/dashboard_html.o
$(COLLECTOR_DASH_HTML): $(COLLECTOR_DASH_SRCS) $(wildcard $(CHARTJS))
	@test -r "$(CHARTJS)" || { echo "collector.mk: Chart.js not found at CHARTJS=$(CHARTJS):" \
	  "install Debian's libjs-chart.js (board/deps.sh) or set CHARTJS=/path/to/chart.min.js" >&2; \
	  exit 1; }
	@mkdir -p $(@D)
	sed -e '/^@DASHBOARD_CSS@$$/{r $(COLLECTOR_DIR)/dashboard.css' -e 'd}' \
	    -e '/^@CHARTJS@$$/{r $(CHARTJS)' -e 'd}' \
	    -e '/^@DASHBOARD_I18N@$$/{r $(COLLECTOR_DIR)/dashboard_i18n.js' -e 'd}' \
	    -e '/^@DASHBOARD_JS@$$/{r $(COLLECTOR_DIR)/dashboard.js' -e 'd}' \
	    -e '/^@DASHBOARD_VIEWS@$$/{r $(COLLECTOR_DIR)/dashboard_views.js' -e 'd}' \
	    $(COLLECTOR_DIR)/dashboard.html > $@.tmp
	@! grep -qi '</script' $(CHARTJS) || { echo "collector.mk: $(CHARTJS) holds </script" >&2; exit 1; }
	mv $@.tmp $@
$(COLLECTOR_DASH_C): $(COLLECTOR_DASH_HTML)
	xxd -i -n sync_collector_dashboard_html $< > $@.tmp && mv $@.tmp $@
$(COLLECTOR_DASH_O): $(COLLECTOR_DASH_C)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

# The comments' shipped keyword lists (issue 15), embedded the same way
# (assets_comments_keywords_json). libunistring (tagging, grapheme counts) has no pkg-config file.
COLLECTOR_KW_C := $(BUILD)/gen/keywords_json.c
COLLECTOR_KW_O := $(OBJ)/gen/keywords_json.o
$(COLLECTOR_KW_C): assets/comments/keywords.json
	@mkdir -p $(@D)
	xxd -i assets/comments/keywords.json > $@.tmp && mv $@.tmp $@
$(COLLECTOR_KW_O): $(COLLECTOR_KW_C)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

COLLECTOR_CORE_OBJS := $(call obj,$(COLLECTOR_SRCS)) $(COLLECTOR_DASH_O) $(COLLECTOR_KW_O)
COLLECTOR_LIBS = $(DOC_LIBS) $(TPBASE_LIBS) $(call pkg_libs,$(COLLECTOR_PKGS)) -lunistring -lm

COLLECTOR_CFLAGS = -I$(COLLECTOR_DIR) $(call pkg_cflags,$(COLLECTOR_PKGS))
$(call obj,$(COLLECTOR_SRCS) $(COLLECTOR_MAIN)): MOD_CFLAGS = $(COLLECTOR_CFLAGS)

PROGRAMS += $(BUILD)/touchpoint-collector
$(BUILD)/touchpoint-collector: $(call obj,$(COLLECTOR_MAIN)) $(COLLECTOR_CORE_OBJS) $(DOC_LIB) \
                               $(TPBASE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(COLLECTOR_LIBS)
