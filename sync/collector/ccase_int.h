/*
 * ccase_int.h - helpers shared by the cases' files (ccase.c, ccase_report.c, ccase_scope.c) and
 * the digests (cdigest*.c): reading scopes (which stores lie under a node) and case rows.
 */
#ifndef TP_CCASE_INT_H
#define TP_CCASE_INT_H

#include "ccase.h"
#include "cfleet.h"

/* A reader's scope, resolved against the tree: the node and the stores (segment 3 of the nodes
 * at depth >= 3 under it). all: the empty scope (everything, also data of no node). */
typedef struct cscope {
    bool all;
    bool store_only; /* narrowed by store=: cases and answers of that store only */
    char node[CFLEET_PATH_MAX + 1];
    int depth;
    char touchpoint[TP_ID_MAX + 1]; /* depth >= 4: the touchpoint's segment, else "" */
    char **stores;                  /* sorted */
    size_t n_stores;
} cscope;

/* Resolves node ("" = all) into sc (free with cscope_free). Returns TP_OK or a store error. */
tp_err cscope_load(cstore_tx *tx, const char *node, cscope *sc, char *err, size_t errlen);
void cscope_free(cscope *sc);

/* Whether path equals node or lies below it ("" holds everything). */
bool cscope_path_within(const char *node, const char *path);

/* Whether the scope holds a store id. */
bool cscope_has_store(const cscope *sc, const char *store);

/* Whether a case of node_path and store (may be NULL) lies in the scope: its node under the
 * scope's node, or (a scope of depth <= 3) its store among the scope's stores. */
bool cscope_has_case(const cscope *sc, const char *node_path, const char *store);

/* The effective scope of a read with filters node= and store= (either may be NULL or "") under
 * the reader's scope: loads *sc and narrows it to store when given. Returns TP_OK; TP_ERR_AUTH
 * (HTTP 403) when a filter lies outside the reader's scope; TP_ERR_INVALID for a bad path; or a
 * store error; err says which. */
tp_err cscope_filter(cstore_tx *tx, const char *scope, const char *node, const char *store,
                     cscope *sc, char *err, size_t errlen);

/* A capi reply for an error of the read side (400, 403, 404, 503, 500). */
capi_reply cscope_error(tp_err rc, const char *err);

/* The columns of a case row, in the order ccase_json reads them. */
#define CCASE_COLS                                                                                 \
    "id, alert_id, node_path, store, title_vi, title_en, state, assignee, opened_ms,"              \
    " acknowledged_ms, resolved_ms, updated_ms"

/* The store of a case: its store column, else segment 3 of its node path, else NULL; buf holds
 * TP_ID_MAX + 1 bytes. */
const char *ccase_store_of(const char *node_path, const char *store, char *buf);

/* The region (first two segments) of a node path in buf (CFLEET_PATH_MAX + 1), or NULL. */
const char *ccase_region_of(const char *node_path, char *buf);

/* Row i of rows (CCASE_COLS) as the case object of PROTOCOL.md 14.1, or NULL (out of memory). */
cJSON *ccase_json(const cstore_rows *rows, size_t i, int64_t now_ms);

/* Integer cell (0 for NULL). */
int64_t ccase_i64(const cstore_rows *rows, size_t i, size_t col);

/* Adds "<name>_ms" and "<name>_at" (RFC 3339 UTC) for a cell that may be NULL. */
bool ccase_add_time(cJSON *o, const char *name, const char *cell);

/* Parses a local day "YYYY-MM-DD" (the process TZ) of query parameter name. Returns TP_OK or
 * TP_ERR_INVALID with err. */
tp_err ccase_parse_day(const char *name, const char *s, int64_t *ms, char *err, size_t errlen);

#endif /* TP_CCASE_INT_H */
