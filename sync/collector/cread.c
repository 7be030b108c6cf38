/*
 * cread.c - read tokens, scopes, the read audit and the per-reader concurrency gate (see
 * cread.h). Everything is read from the store on every request (as cfleet.c): a token revoked
 * through one collector is refused by every collector on the same database at its next request.
 *
 * The read side is closed as soon as a read token was ever added, revoked ones included: with
 * "open while no active token" the revocation of the last token would publish every answer.
 */
#include "cread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfleet_int.h"

/* ---- Auth ------------------------------------------------------------------------------------ */

static bool option_matches(const char *option_token, const char *token)
{
    char want[65], got[65];
    /* Hashes compared, so the comparison takes the same time whatever the lengths. */
    return option_token && *option_token && token &&
           cauth_sha256_hex(option_token, strlen(option_token), want) == TP_OK &&
           cauth_sha256_hex(token, strlen(token), got) == TP_OK && cauth_equal_ct(want, got);
}

tp_err cread_auth(cstore *s, const char *authorization, const char *option_token, cread_ctx *ctx)
{
    char hx[65] = "", err[TP_ERRMSG_MAX], admin[65];
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL, *any = NULL;
    const char *token =
        authorization && strncasecmp(authorization, "Bearer ", 7) == 0 ? authorization + 7 : NULL;
    ctx->kind = CREAD_OPEN;
    ctx->scope[0] = '\0';
    tp_strlcpy(ctx->name, "open", sizeof ctx->name);
    if (token && (!*token || strlen(token) > CAUTH_TOKEN_MAX ||
                  cauth_sha256_hex(token, strlen(token), hx) != TP_OK))
        token = NULL;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX0(tx, &any, err, sizeof err, "SELECT 1 FROM read_tokens LIMIT 1");
    if (rc == TP_OK && token)
        rc = FX(tx, &rows, err, sizeof err,
                "SELECT name, node_path, revoked_ms, token_sha256 FROM read_tokens"
                " WHERE token_sha256 = $1",
                hx);
    cstore_tx_rollback(tx);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: read auth: %s\n", err);
        cstore_rows_free(any);
        return TP_ERR_BUSY;
    }
    bool closed = any->n > 0 || (option_token && *option_token);
    cstore_rows_free(any);
    rc = TP_ERR_AUTH;
    if (rows && rows->n == 1 && cauth_equal_ct(cstore_rows_get(rows, 0, 3), hx)) {
        /* A revoked read token is refused, whatever else the token might be. */
        if (!cstore_rows_get(rows, 0, 2)) {
            ctx->kind = CREAD_TOKEN;
            tp_strlcpy(ctx->name, cstore_rows_get(rows, 0, 0), sizeof ctx->name);
            tp_strlcpy(ctx->scope, cstore_rows_get(rows, 0, 1), sizeof ctx->scope);
            rc = TP_OK;
        }
        cstore_rows_free(rows);
        return rc;
    }
    cstore_rows_free(rows);
    if (token && option_matches(option_token, token)) {
        ctx->kind = CREAD_OPTION;
        tp_strlcpy(ctx->name, "option:read-token", sizeof ctx->name);
        return TP_OK;
    }
    if (token) {
        tp_err arc = cfleet_auth_admin(s, token, admin);
        if (arc == TP_ERR_BUSY)
            return TP_ERR_BUSY;
        if (arc == TP_OK) {
            ctx->kind = CREAD_ADMIN;
            snprintf(ctx->name, sizeof ctx->name, "admin:%s", admin);
            return TP_OK;
        }
    }
    return closed ? TP_ERR_AUTH : TP_OK;
}

/* ---- Scope math ------------------------------------------------------------------------------ */

bool cread_within(const char *scope, const char *path)
{
    size_t n = strlen(scope);
    if (n == 0)
        return true;
    return strncmp(scope, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool cread_segment(const char *path, int i, char out[TP_ID_MAX + 1])
{
    const char *p = path;
    out[0] = '\0';
    for (int k = 0; k < i; k++) {
        p = strchr(p, '/');
        if (!p)
            return false;
        p++;
    }
    size_t n = strcspn(p, "/");
    if (n == 0 || n > TP_ID_MAX)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* The number of segments of path. */
static int depth_of(const char *path)
{
    int d = *path ? 1 : 0;
    for (const char *p = path; *p; p++)
        d += *p == '/';
    return d;
}

/* scope cut to its first three segments (a touchpoint scope's store), into out. */
static void store_scope(const char *scope, char out[CFLEET_PATH_MAX + 1])
{
    tp_strlcpy(out, scope, CFLEET_PATH_MAX + 1);
    if (depth_of(scope) > 3) {
        char *p = out;
        for (int k = 0; k < 3; k++)
            p = strchr(p, '/') + 1;
        p[-1] = '\0';
    }
}

/* Whether the last segment of the depth-3 path is store. */
static bool names_store(const char *path, const char *store)
{
    const char *last = strrchr(path, '/');
    return last && strcmp(last + 1, store) == 0;
}

bool cread_store_within(const char *scope, const char *store, const char *const *stores, size_t n)
{
    char s3[CFLEET_PATH_MAX + 1];
    size_t named = 0;
    if (!*scope)
        return true;
    store_scope(scope, s3);
    for (size_t i = 0; i < n; i++) {
        if (!names_store(stores[i], store))
            continue;
        if (!cread_within(s3, stores[i]))
            return false;
        named++;
    }
    return named > 0;
}

/* Every depth-3 node path, or those whose last segment may be store (LIKE narrows, the caller
 * checks exactly). */
static tp_err store_nodes(cstore *s, const char *store, cstore_rows **rows, char *err,
                          size_t errlen)
{
    cstore_tx *tx = NULL;
    char like[TP_ID_MAX + 4];
    snprintf(like, sizeof like, "%%%s%s", store ? "/" : "", store ? store : "");
    tp_err rc = cstore_tx_begin(s, false, &tx, err, errlen);
    if (rc == TP_OK)
        rc = FX(tx, rows, err, errlen,
                "SELECT path FROM nodes WHERE path LIKE '%/%/%' AND path NOT LIKE '%/%/%/%'"
                " AND path LIKE $1 ORDER BY path",
                like);
    cstore_tx_rollback(tx);
    return rc == TP_OK ? TP_OK : TP_ERR_BUSY;
}

tp_err cread_scope(cstore *s, const char *scope, const char *node, const char *store,
                   char out[CFLEET_PATH_MAX + 1], char *err, size_t errlen)
{
    char msg[TP_ERRMSG_MAX];
    tp_strlcpy(out, scope, CFLEET_PATH_MAX + 1);
    if (node && *node) {
        if (cfleet_path_check(node, msg, sizeof msg) != TP_OK)
            return tp_errf(err, errlen, TP_ERR_INVALID, "node: %s", msg);
        if (!cread_within(scope, node))
            return tp_errf(err, errlen, TP_ERR_AUTH,
                           "node: %.100s lies outside this token's scope %.100s", node, scope);
        tp_strlcpy(out, node, CFLEET_PATH_MAX + 1);
    }
    if (!store || !*store)
        return TP_OK;
    if (!tp_id_valid(store))
        return tp_errf(err, errlen, TP_ERR_INVALID, "store: not a valid id");
    if (!*scope)
        return TP_OK; /* unscoped: any store, also one in no node */
    cstore_rows *rows = NULL;
    tp_err rc = store_nodes(s, store, &rows, err, errlen);
    if (rc != TP_OK)
        return rc;
    const char **paths = calloc(rows->n ? rows->n : 1, sizeof *paths);
    size_t n = 0;
    for (size_t i = 0; paths && i < rows->n; i++)
        paths[n++] = cstore_rows_get(rows, i, 0);
    if (!paths) {
        rc = TP_ERR_NOMEM;
    } else if (!cread_store_within(out, store, paths, n)) {
        rc = tp_errf(err, errlen, TP_ERR_AUTH, "store: %s lies outside %s %.100s", store,
                     node && *node ? "the node" : "this token's scope", out);
    } else if (depth_of(out) < 3) {
        for (size_t i = 0; i < n; i++)
            if (names_store(paths[i], store))
                tp_strlcpy(out, paths[i], CFLEET_PATH_MAX + 1);
    }
    free(paths);
    cstore_rows_free(rows);
    return rc;
}

void cread_ids_free(char **ids, size_t n)
{
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
}

static int by_last_segment(const void *a, const void *b)
{
    const char *x = strrchr(*(const char *const *)a, '/'),
               *y = strrchr(*(const char *const *)b, '/');
    return strcmp(x ? x + 1 : "", y ? y + 1 : "");
}

tp_err cread_scope_stores(cstore *s, const char *scope, char ***ids, size_t *n,
                          char touchpoint[TP_ID_MAX + 1], char *err, size_t errlen)
{
    char s3[CFLEET_PATH_MAX + 1];
    cstore_rows *rows = NULL;
    const char **paths = NULL;
    char **out = NULL;
    size_t k = 0;
    *ids = NULL;
    *n = 0;
    touchpoint[0] = '\0';
    if (depth_of(scope) >= 4)
        cread_segment(scope, 3, touchpoint);
    store_scope(scope, s3);
    tp_err rc = store_nodes(s, NULL, &rows, err, errlen);
    if (rc != TP_OK)
        return rc;
    paths = calloc(rows->n ? rows->n : 1, sizeof *paths);
    out = calloc(rows->n ? rows->n : 1, sizeof *out);
    if (!paths || !out) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < rows->n; i++)
        paths[i] = cstore_rows_get(rows, i, 0);
    qsort(paths, rows->n, sizeof *paths, by_last_segment);
    /* One pass over the groups of one store id: in scope when every node of the group is. */
    for (size_t i = 0; i < rows->n;) {
        size_t j = i;
        bool all = true;
        for (; j < rows->n && by_last_segment(&paths[i], &paths[j]) == 0; j++)
            all = all && cread_within(s3, paths[j]);
        if (all) {
            if (k >= CREAD_STORES_MAX) {
                rc = tp_errf(err, errlen, TP_ERR_TOO_LARGE, "scope %.100s: over %d stores", scope,
                             CREAD_STORES_MAX);
                goto out;
            }
            if (!(out[k] = strdup(strrchr(paths[i], '/') + 1))) {
                rc = TP_ERR_NOMEM;
                goto out;
            }
            k++;
        }
        i = j;
    }
out:
    free(paths);
    cstore_rows_free(rows);
    if (rc != TP_OK) {
        cread_ids_free(out, k);
        return rc;
    }
    *ids = out;
    *n = k;
    return TP_OK;
}

/* ---- Audit ----------------------------------------------------------------------------------- */

/* When the audit was last pruned (ms; process-wide: pruning is idempotent, so several collectors
 * or a race between threads only prune twice). */
static _Atomic int64_t pruned_ms;

tp_err cread_log(cstore *s, const cread_ctx *ctx, const char *what, const char *query,
                 int64_t now_ms)
{
    char err[TP_ERRMSG_MAX], at[24], st[24], cut[24], q[CREAD_QUERY_MAX + 1];
    cstore_tx *tx = NULL;
    tp_strlcpy(q, query ? query : "", sizeof q);
    tp_err rc = cstore_tx_begin(s, true, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX(tx, NULL, err, sizeof err,
                "INSERT INTO read_audit(at_ms, token_name, scope, method, path, query, status,"
                " addr) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                cfleet_i64(at, now_ms), ctx->name, ctx->scope, ctx->method[0] ? ctx->method : "GET",
                what, q, cfleet_i64(st, ctx->status), ctx->addr);
    int64_t last = atomic_load(&pruned_ms);
    if (rc == TP_OK && now_ms - last > 3600000 &&
        atomic_compare_exchange_strong(&pruned_ms, &last, now_ms))
        rc = FX(tx, NULL, err, sizeof err, "DELETE FROM read_audit WHERE at_ms < $1",
                cfleet_i64(cut, now_ms - (int64_t)CREAD_AUDIT_KEEP_DAYS * 86400000));
    if (rc == TP_OK)
        rc = cstore_tx_commit(tx, err, sizeof err);
    else
        cstore_tx_rollback(tx);
    if (rc != TP_OK)
        fprintf(stderr, "touchpoint-collector: read audit of %s by %s: %s\n", what, ctx->name, err);
    return rc;
}

/* ---- Concurrency gate ------------------------------------------------------------------------ */

typedef struct held {
    char key[CREAD_NAME_MAX];
    unsigned n;
} held;

struct cread_gate {
    pthread_mutex_t lock;
    unsigned per_key;
    held *v; /* keys with requests in flight: as many as requests at most */
    size_t n, cap;
};

cread_gate *cread_gate_new(unsigned per_key)
{
    if (per_key < 1)
        return NULL;
    cread_gate *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    pthread_mutex_init(&g->lock, NULL);
    g->per_key = per_key;
    return g;
}

void cread_gate_free(cread_gate *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->lock);
    free(g->v);
    free(g);
}

static held *gate_find(cread_gate *g, const char *key)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].key, key) == 0)
            return &g->v[i];
    return NULL;
}

bool cread_gate_enter(cread_gate *g, const char *key)
{
    bool ok = false;
    pthread_mutex_lock(&g->lock);
    held *h = gate_find(g, key);
    if (!h && tp_array_grow((void **)&g->v, &g->cap, g->n + 1, sizeof *g->v, 1u << 20) == TP_OK) {
        h = &g->v[g->n++];
        tp_strlcpy(h->key, key, sizeof h->key);
        h->n = 0;
    }
    if (h && h->n < g->per_key) {
        h->n++;
        ok = true;
    }
    pthread_mutex_unlock(&g->lock);
    return ok;
}

void cread_gate_leave(cread_gate *g, const char *key)
{
    pthread_mutex_lock(&g->lock);
    held *h = gate_find(g, key);
    if (h && h->n > 0 && --h->n == 0)
        *h = g->v[--g->n]; /* order does not matter: swap the last one in */
    pthread_mutex_unlock(&g->lock);
}
