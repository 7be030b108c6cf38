/*
 * canalytics.h - the read side of issue 14 (sync/PROTOCOL.md section 13): GET /v1/report,
 * /v1/reasons, /v1/journey, /v1/rankings, /v1/heatmap, /v1/devices, /v1/nodes and
 * /v1/export.csv, each a plain function from a request to a reply that reads only the rollups
 * (crollup.h) and the tree, restricted to the reader's scope.
 *
 * Thread-safety: any thread (each call takes its own read transaction).
 */
#ifndef TP_CANALYTICS_H
#define TP_CANALYTICS_H

#include "capi.h"
#include "cstore.h"

/* Query-string lookup: returns the value of key or NULL (collector.c passes
 * MHD_lookup_connection_value's GET arguments). */
typedef const char *(*canalytics_arg_fn)(void *cls, const char *key);

/* True when url is one of the read endpoints served here. */
bool canalytics_serves(const char *url);

/* The reply of GET url for a reader whose scope is the node path scope ("" = the whole chain):
 * 200 with JSON (or CSV for /v1/export.csv), 400 malformed (the message names the parameter),
 * 403 forbidden (a filter outside the scope), 404 not_found (a node not in the tree), 503
 * store_unavailable. The caller frees reply.body with free(). silent_after_s is the collector's
 * "silent" threshold for /v1/devices. */
capi_reply canalytics_get(cstore *s, const char *url, const char *scope, canalytics_arg_fn arg,
                          void *cls, int64_t now_ms, int silent_after_s);

/* `touchpoint-collector retention --before DAY --store URL` (canalytics_cli.c). Returns the exit
 * status. */
int canalytics_cli_main(int argc, char **argv);

#endif /* TP_CANALYTICS_H */
