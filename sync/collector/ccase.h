/*
 * ccase.h - cases (issue 13, sync/PROTOCOL.md section 14): the read side (GET /v1/cases, one
 * case with its timeline, the TTA/TTR report) and the people's actions on a case (ack, comment,
 * assign, resolve, reopen) as one function the admin API and the CLI both run through
 * cfleet_call.
 *
 * Alerts open cases (the alert's own transaction writes the case and its "open" event); this
 * module never creates one. The state machine is a const table: an action names the states it
 * may start from and the state it leaves, so a refused transition is a 409 with the state named.
 *
 * Thread-safety: any thread (each call uses its own store transaction).
 */
#ifndef TP_CCASE_H
#define TP_CCASE_H

#include <cjson/cJSON.h>

#include "capi.h"
#include "cstore.h"

#define CCASE_TEXT_MAX 2000      /* bytes of a comment or note */
#define CCASE_ASSIGNEE_MAX 128   /* bytes of an assignee */
#define CCASE_LIST_DEFAULT 200   /* cases a list shows without limit= */
#define CCASE_LIST_MAX 1000      /* the largest limit= */
#define CCASE_OPEN_PER_STORE 100 /* cases listed per store in open_by_store */

/* A query-string reader: returns the value of key or NULL (collector.c passes
 * MHD_lookup_connection_value over the connection). */
typedef const char *(*ccase_arg_fn)(void *cls, const char *key);

/* GET /v1/cases, GET /v1/cases/<id> and GET /v1/cases/report under scope (a node path, "" =
 * the whole chain). Returns the reply (body JSON, free()); 400 bad query, 403 a filter outside the
 * scope, 404 unknown case, 503 store unavailable. */
capi_reply ccase_get(cstore *s, const char *url, const char *scope, ccase_arg_fn arg, void *cls,
                     int64_t now_ms);

/* The report of GET /v1/cases/report (ccase_report.c); same contract as ccase_get. */
capi_reply ccase_report_get(cstore *s, const char *url, const char *scope, ccase_arg_fn arg,
                            void *cls, int64_t now_ms);

/* One action inside tx (cfleet_call's write transaction): args {"action", "id", "text"?,
 * "assignee"?}. Writes the case_events row, updates the case and writes the audit row. Returns
 * TP_OK and *result ({"case", "event"}; cJSON_Delete); TP_ERR_INVALID (with the JSON path),
 * TP_ERR_NOT_FOUND, TP_ERR_EXISTS for a transition the state refuses (HTTP 409), or a store
 * error; err says which. */
tp_err ccase_act(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                 cJSON **result, char *err, size_t errlen);

/* Lists cases inside tx, unscoped: args {"state"?, "node"?, "id"?}; with "id" the case and its
 * timeline (as GET /v1/cases/<id>), else the list (as GET /v1/cases). Returns TP_OK and *result
 * (cJSON_Delete) or an error with err. */
tp_err ccase_list(cstore_tx *tx, const cJSON *args, int64_t now_ms, cJSON **result, char *err,
                  size_t errlen);

/* ---- Shared with ccase_report.c and the digests (ccase_int.h has the rest) ------------------ */

/* The q-quantile (0 <= q <= 1) of sorted values v[0..n-1], linear between closest ranks
 * (numpy's default, PostgreSQL's percentile_cont). Returns 0 when n == 0 (callers print null). */
double ccase_quantile(const double *v, size_t n, double q);

/* The active (open or acknowledged) cases under scope as a JSON array of {id, state, store,
 * title: {vi, en}, opened_ms, age_s}, oldest first, at most max. Returns TP_OK and *out
 * (cJSON_Delete) or a store error. */
tp_err ccase_active(cstore_tx *tx, const char *scope, int64_t now_ms, size_t max, cJSON **out,
                    char *err, size_t errlen);

#endif /* TP_CCASE_H */
