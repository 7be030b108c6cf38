/*
 * ccase_scope.c - scopes and case rows shared by the cases and the digests (see ccase_int.h).
 *
 * A scope is resolved against the tree on every read (no cache: a store moved under another
 * region through one collector is seen by every other at once). Matching runs in C rather than
 * in SQL because node paths may hold '_' and '.', which LIKE would take as wildcards.
 */
#include "ccase_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfleet_int.h"

bool cscope_path_within(const char *node, const char *path)
{
    size_t n = strlen(node);
    if (n == 0)
        return true;
    return path && strncmp(path, node, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Segment k (0-based) of path into out (TP_ID_MAX + 1); returns false when there is none. */
static bool segment(const char *path, int k, char *out)
{
    const char *p = path;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, '/');
        if (p)
            p++;
    }
    if (!p || !*p)
        return false;
    size_t n = strcspn(p, "/");
    if (n > TP_ID_MAX)
        n = TP_ID_MAX;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static int depth_of(const char *path)
{
    if (!*path)
        return 0;
    int d = 1;
    for (const char *p = path; *p; p++)
        d += *p == '/';
    return d;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static tp_err add_store(cscope *sc, size_t *cap, const char *name)
{
    for (size_t i = 0; i < sc->n_stores; i++)
        if (strcmp(sc->stores[i], name) == 0)
            return TP_OK;
    tp_err rc =
        tp_array_grow((void **)&sc->stores, cap, sc->n_stores + 1, sizeof(char *), CSTORE_ROWS_MAX);
    if (rc != TP_OK)
        return rc;
    if (!(sc->stores[sc->n_stores] = strdup(name)))
        return TP_ERR_NOMEM;
    sc->n_stores++;
    return TP_OK;
}

tp_err cscope_load(cstore_tx *tx, const char *node, cscope *sc, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    size_t cap = 0;
    char seg[TP_ID_MAX + 1];
    memset(sc, 0, sizeof *sc);
    if (!node || !*node) {
        sc->all = true;
        return TP_OK;
    }
    tp_strlcpy(sc->node, node, sizeof sc->node);
    sc->depth = depth_of(node);
    if (sc->depth >= 4)
        segment(node, 3, sc->touchpoint);
    if (sc->depth >= 3) {
        segment(node, 2, seg);
        return add_store(sc, &cap, seg);
    }
    tp_err rc = FX0(tx, &rows, err, errlen, "SELECT path FROM nodes");
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *p = cstore_rows_get(rows, i, 0);
        if (p && depth_of(p) >= 3 && cscope_path_within(node, p) && segment(p, 2, seg))
            rc = add_store(sc, &cap, seg);
    }
    cstore_rows_free(rows);
    if (rc == TP_OK && sc->n_stores > 1)
        qsort(sc->stores, sc->n_stores, sizeof(char *), cmp_str);
    return rc;
}

void cscope_free(cscope *sc)
{
    for (size_t i = 0; sc && i < sc->n_stores; i++)
        free(sc->stores[i]);
    if (sc)
        free(sc->stores);
}

bool cscope_has_store(const cscope *sc, const char *store)
{
    if (sc->all)
        return true;
    if (!store || sc->n_stores == 0)
        return false;
    return bsearch(&store, sc->stores, sc->n_stores, sizeof(char *), cmp_str) != NULL;
}

bool cscope_has_case(const cscope *sc, const char *node_path, const char *store)
{
    char buf[TP_ID_MAX + 1];
    if (sc->all || (!sc->store_only && cscope_path_within(sc->node, node_path)))
        return true;
    return sc->depth <= 3 && cscope_has_store(sc, ccase_store_of(node_path, store, buf));
}

tp_err cscope_filter(cstore_tx *tx, const char *scope, const char *node, const char *store,
                     cscope *sc, char *err, size_t errlen)
{
    scope = scope ? scope : "";
    node = node && *node ? node : NULL;
    store = store && *store ? store : NULL;
    memset(sc, 0, sizeof *sc);
    if (node && cfleet_path_check(node, err, errlen) != TP_OK)
        return tp_errf(err, errlen, TP_ERR_INVALID, "node: not a node path");
    if (store && !tp_id_valid(store))
        return tp_errf(err, errlen, TP_ERR_INVALID, "store: not a valid id");
    if (node && !cscope_path_within(scope, node))
        return tp_errf(err, errlen, TP_ERR_AUTH, "node %s lies outside the reader's scope %s", node,
                       scope);
    tp_err rc = cscope_load(tx, node ? node : scope, sc, err, errlen);
    if (rc != TP_OK || !store)
        return rc;
    if (!cscope_has_store(sc, store)) {
        cscope_free(sc);
        memset(sc, 0, sizeof *sc);
        return tp_errf(err, errlen, TP_ERR_AUTH, "store %s lies outside the scope %s", store,
                       node ? node : scope);
    }
    /* Narrowed to one store: its cases whatever node they were opened on. */
    for (size_t i = 0; i < sc->n_stores; i++)
        free(sc->stores[i]);
    sc->n_stores = 0;
    size_t cap = 0;
    free(sc->stores);
    sc->stores = NULL;
    sc->all = false;
    sc->depth = 3;
    sc->store_only = true;
    sc->touchpoint[0] = '\0';
    return add_store(sc, &cap, store);
}

capi_reply cscope_error(tp_err rc, const char *err)
{
    switch (rc) {
    case TP_ERR_INVALID: return capi_error(400, "malformed", err);
    case TP_ERR_AUTH: return capi_error(403, "forbidden", err);
    case TP_ERR_NOT_FOUND: return capi_error(404, "not_found", err);
    case TP_ERR_TOO_LARGE: return capi_error(413, "too_large", err);
    case TP_ERR_BUSY: return capi_error(503, "store_unavailable", "the store cannot answer now");
    default:
        fprintf(stderr, "touchpoint-collector: cases: %s\n", err);
        return capi_error(500, "internal", "the store failed; see the collector's log");
    }
}

const char *ccase_store_of(const char *node_path, const char *store, char *buf)
{
    if (store && *store)
        return store;
    if (node_path && depth_of(node_path) >= 3 && segment(node_path, 2, buf))
        return buf;
    return NULL;
}

const char *ccase_region_of(const char *node_path, char *buf)
{
    const char *slash = node_path ? strchr(node_path, '/') : NULL;
    if (!slash)
        return NULL;
    size_t n = strcspn(slash + 1, "/") + (size_t)(slash + 1 - node_path);
    if (n > CFLEET_PATH_MAX)
        n = CFLEET_PATH_MAX;
    memcpy(buf, node_path, n);
    buf[n] = '\0';
    return buf;
}

int64_t ccase_i64(const cstore_rows *rows, size_t i, size_t col)
{
    const char *v = cstore_rows_get(rows, i, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

bool ccase_add_time(cJSON *o, const char *name, const char *cell)
{
    char key[48], at[40];
    snprintf(key, sizeof key, "%s_ms", name);
    if (!cell) {
        bool ok = cJSON_AddNullToObject(o, key) != NULL;
        snprintf(key, sizeof key, "%s_at", name);
        return ok && cJSON_AddNullToObject(o, key) != NULL;
    }
    int64_t ms = strtoll(cell, NULL, 10);
    tp_format_utc(ms, at, sizeof at);
    bool ok = cJSON_AddNumberToObject(o, key, (double)ms) != NULL;
    snprintf(key, sizeof key, "%s_at", name);
    return ok && cJSON_AddStringToObject(o, key, at) != NULL;
}

static bool add_str_or_null(cJSON *o, const char *name, const char *v)
{
    return (v ? cJSON_AddStringToObject(o, name, v) : cJSON_AddNullToObject(o, name)) != NULL;
}

cJSON *ccase_json(const cstore_rows *rows, size_t i, int64_t now_ms)
{
    char sbuf[TP_ID_MAX + 1], rbuf[CFLEET_PATH_MAX + 1];
    const char *node = cstore_rows_get(rows, i, 2);
    const char *state = cstore_rows_get(rows, i, 6);
    const char *resolved = cstore_rows_get(rows, i, 10);
    int64_t opened = ccase_i64(rows, i, 8);
    int64_t end =
        state && strcmp(state, "resolved") == 0 && resolved ? strtoll(resolved, NULL, 10) : now_ms;
    cJSON *o = cJSON_CreateObject(), *t = NULL;
    bool ok =
        o && add_str_or_null(o, "id", cstore_rows_get(rows, i, 0)) &&
        add_str_or_null(o, "alert_id", cstore_rows_get(rows, i, 1)) &&
        add_str_or_null(o, "state", state) && add_str_or_null(o, "node", node) &&
        add_str_or_null(o, "store", ccase_store_of(node, cstore_rows_get(rows, i, 3), sbuf)) &&
        add_str_or_null(o, "region", ccase_region_of(node, rbuf)) &&
        (t = cJSON_AddObjectToObject(o, "title")) &&
        add_str_or_null(t, "vi", cstore_rows_get(rows, i, 4)) &&
        add_str_or_null(t, "en", cstore_rows_get(rows, i, 5)) &&
        add_str_or_null(o, "assignee", cstore_rows_get(rows, i, 7)) &&
        ccase_add_time(o, "opened", cstore_rows_get(rows, i, 8)) &&
        ccase_add_time(o, "acknowledged", cstore_rows_get(rows, i, 9)) &&
        ccase_add_time(o, "resolved", resolved) &&
        cJSON_AddNumberToObject(o, "updated_ms", (double)ccase_i64(rows, i, 11)) &&
        cJSON_AddNumberToObject(o, "age_s", (double)((end - opened) / 1000));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

tp_err ccase_parse_day(const char *name, const char *s, int64_t *ms, char *err, size_t errlen)
{
    int y = 0, m = 0, d = 0, used = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 ||
        s[4] != '-' || s[7] != '-' || y < 1970 || m < 1 || m > 12 || d < 1 || d > 31 ||
        tp_parse_date_local(s, ms) != TP_OK)
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s: '%.16s' is not a date (YYYY-MM-DD)", name,
                       s);
    return TP_OK;
}
