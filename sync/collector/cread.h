/*
 * cread.h - who may read what on the collector's read side (issue 14, item 9): bearer tokens of
 * the read side, the node subtree each may see (its scope), the bounds one reader may cost the
 * others, and the read audit.
 *
 * Who reads (cread_auth, from the Authorization header):
 *   read token        `read-token add NAME --node PATH`: scope PATH (a chain, region, store or
 *                     touchpoint node); the audit names it NAME
 *   admin token       `admin-token add NAME`: unscoped (""), audit name "admin:NAME"
 *   --read-token      the single token of the collector's option (before issue 14): unscoped,
 *                     audit name "option:read-token"
 *   nobody            while no read token was ever added (revoked ones count: revoking the last
 *                     token must not open the read side) and no --read-token is given, the read
 *                     side stays open as before issue 14: unscoped, audit name "open"
 * Tokens are compared by their SHA-256: the store looks the hash up, and the hash it returns is
 * compared again in constant time (as cauth.c), so no timing says which bytes matched.
 *
 * Scope math (cread_within, cread_scope): a scope is a node path, "" = everything. A path lies
 * within a scope when it equals it or continues it after a '/': "vn/hcm" contains "vn/hcm/q1"
 * but not "vn/hcm2". A store id is the last segment of a depth-3 node (sync/PROTOCOL.md section
 * 12; CONTRACT.md): it is within a scope when every depth-3 node of that name is (a store id that
 * also names a store elsewhere would show that store's answers too), or, for a store or
 * touchpoint scope, when it is the scope's own store. Data of a store in no node is visible only
 * to unscoped readers.
 *
 * Thread-safety: every function may be called from any thread; a cread_gate is shared.
 */
#ifndef TP_CREAD_H
#define TP_CREAD_H

#include <cjson/cJSON.h>

#include "cfleet.h"
#include "cstore.h"

#define CREAD_NAME_MAX 80    /* bytes of a reader's audit name, NUL included */
#define CREAD_QUERY_MAX 2048 /* bytes of a query string kept in the audit */
#define CREAD_AUDIT_KEEP_DAYS 400
#define CREAD_AUDIT_LISTED_S "10000" /* rows an audit listing shows: the latest */
#define CREAD_STORES_MAX 10000       /* stores one scope may list (a bound of the SQL IN list) */

typedef enum cread_kind {
    CREAD_OPEN = 0,   /* no token configured at all */
    CREAD_OPTION = 1, /* the collector's --read-token */
    CREAD_ADMIN = 2,  /* an admin token */
    CREAD_TOKEN = 3,  /* a read token bound to a node */
} cread_kind;

/* One authenticated reader and its request, as the audit records it. */
typedef struct cread_ctx {
    cread_kind kind;
    char name[CREAD_NAME_MAX];       /* audit name (see above) */
    char scope[CFLEET_PATH_MAX + 1]; /* "" = the whole chain */
    char addr[64];                   /* client address, numeric */
    char method[8];                  /* "GET" */
    int status;                      /* the status answered (set before cread_log) */
} cread_ctx;

/* Authenticates the Authorization header value (may be NULL) against the read tokens, the
 * --read-token option (option_token, NULL or "" when not given) and the admin tokens, and fills
 * ctx's kind, name and scope. Returns TP_OK; TP_ERR_AUTH (missing, unknown or revoked token while
 * the read side is closed: HTTP 401); TP_ERR_BUSY (the store cannot answer: 503). */
tp_err cread_auth(cstore *s, const char *authorization, const char *option_token, cread_ctx *ctx);

/* Whether path lies within scope ("" contains everything; '/' boundaries). Pure. */
bool cread_within(const char *scope, const char *path);

/* Segment i (0-based) of path into out (TP_ID_MAX + 1 bytes). Returns false when path has no
 * such segment. Pure. */
bool cread_segment(const char *path, int i, char out[TP_ID_MAX + 1]);

/* Whether store id `store` lies within scope, given the paths of every depth-3 node (stores,
 * n of them). Pure; see "Scope math" above. */
bool cread_store_within(const char *scope, const char *store, const char *const *stores, size_t n);

/* Resolves a request's filters node= and store= (each NULL or "" when absent) against scope:
 * both must lie within it. Writes the narrowest node path the request reads into out (node when
 * given, else scope; a store filter narrows further to its node when that node is within scope).
 * Returns TP_OK; TP_ERR_AUTH when a filter lies outside the scope (HTTP 403, err names it);
 * TP_ERR_INVALID for a malformed node path or store id (400); TP_ERR_BUSY (503). */
tp_err cread_scope(cstore *s, const char *scope, const char *node, const char *store,
                   char out[CFLEET_PATH_MAX + 1], char *err, size_t errlen);

/* The store ids a scoped reader may see (scope not ""): *ids (free with cread_ids_free) holds
 * *n ids, sorted; for a touchpoint scope also *touchpoint (TP_ID_MAX + 1 bytes, else ""). Returns
 * TP_OK, TP_ERR_TOO_LARGE (over CREAD_STORES_MAX), TP_ERR_BUSY or TP_ERR_NOMEM. */
tp_err cread_scope_stores(cstore *s, const char *scope, char ***ids, size_t *n,
                          char touchpoint[TP_ID_MAX + 1], char *err, size_t errlen);
void cread_ids_free(char **ids, size_t n);

/* Writes one read_audit row: ctx's reader, scope, method, status and address, what (the path
 * read, "/v1/report"; or a word such as "comments.export") and query (the query string, cut to
 * CREAD_QUERY_MAX; NULL = ""), at now_ms. Prunes rows older than CREAD_AUDIT_KEEP_DAYS at most
 * once an hour. Returns TP_OK or the store's error (a read whose audit cannot be written is not
 * answered: see collector_read.c). */
tp_err cread_log(cstore *s, const cread_ctx *ctx, const char *what, const char *query,
                 int64_t now_ms);

/* ---- Concurrency cap per reader -------------------------------------------------------------- */

typedef struct cread_gate cread_gate;

/* A gate letting each key hold at most per_key requests at once. Returns NULL when out of
 * memory or per_key < 1. Free with cread_gate_free (NULL: no-op). */
cread_gate *cread_gate_new(unsigned per_key);
void cread_gate_free(cread_gate *g);

/* Enters the gate for key. Returns true (leave with cread_gate_leave) or false when key already
 * holds per_key requests (or out of memory: refused the same way). */
bool cread_gate_enter(cread_gate *g, const char *key);
void cread_gate_leave(cread_gate *g, const char *key);

/* ---- Administration (cfleet_call operations, one transaction with their audit row) ---------- */

/* read-token.add {name, node}: result {name, node, token} (the token shown once).
 * read-token.list: [{name, node, created_ms, created_by, revoked_ms}].
 * read-token.revoke {name}: result {name, revoked_ms}.
 * read-audit.list {token?, since? (YYYY-MM-DD, local)}: the latest CREAD_AUDIT_LISTED_S rows,
 * oldest first.
 * admin.list: [{name, created_ms, revoked_ms}]. admin.revoke {name}: {name, revoked_ms}.
 * Return TP_OK, TP_ERR_INVALID (with the JSON path), TP_ERR_NOT_FOUND, TP_ERR_EXISTS or the
 * store's error, with err. */
tp_err cread_token_add(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                       cJSON **result, char *err, size_t errlen);
tp_err cread_token_list(cstore_tx *tx, cJSON **result, char *err, size_t errlen);
tp_err cread_token_revoke(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                          cJSON **result, char *err, size_t errlen);
tp_err cread_audit_list(cstore_tx *tx, const cJSON *args, cJSON **result, char *err, size_t errlen);
tp_err cread_admin_list(cstore_tx *tx, cJSON **result, char *err, size_t errlen);
tp_err cread_admin_revoke(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                          cJSON **result, char *err, size_t errlen);

#endif /* TP_CREAD_H */
