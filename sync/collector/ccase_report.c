/*
 * ccase_report.c - GET /v1/cases/report (sync/PROTOCOL.md 14.4): time to acknowledge and time to
 * resolution, median and p90, per store, region or month, and the cases open now per store.
 *
 * The cases of the period are read once and grouped in C: a chain has thousands of cases a
 * quarter, not millions, and one code path serves both backends (no percentile_cont in SQLite).
 */
#include "ccase_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfleet_int.h"

#define REPORT_DAYS_DEFAULT 90
#define REPORT_DAYS_MAX 1000

typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

typedef struct group {
    char key[CFLEET_PATH_MAX + 1];
    int64_t opened, acknowledged, resolved, active;
    dvec tta, ttr;
} group;

typedef struct groups {
    group *g;
    size_t n, cap;
} groups;

static tp_err dvec_add(dvec *d, double x)
{
    tp_err rc = tp_array_grow((void **)&d->v, &d->cap, d->n + 1, sizeof(double), CSTORE_ROWS_MAX);
    if (rc == TP_OK)
        d->v[d->n++] = x;
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static group *group_of(groups *gs, const char *key)
{
    for (size_t i = 0; i < gs->n; i++)
        if (strcmp(gs->g[i].key, key) == 0)
            return &gs->g[i];
    if (tp_array_grow((void **)&gs->g, &gs->cap, gs->n + 1, sizeof(group), CSTORE_ROWS_MAX) !=
        TP_OK)
        return NULL;
    group *g = &gs->g[gs->n++];
    memset(g, 0, sizeof *g);
    tp_strlcpy(g->key, key, sizeof g->key);
    return g;
}

static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const group *)a)->key, ((const group *)b)->key);
}

/* Adds case row i to g. */
static tp_err group_add(group *g, const cstore_rows *rows, size_t i)
{
    const char *state = cstore_rows_get(rows, i, 6);
    int64_t opened = ccase_i64(rows, i, 8);
    tp_err rc = TP_OK;
    g->opened++;
    if (cstore_rows_get(rows, i, 9)) {
        g->acknowledged++;
        rc = dvec_add(&g->tta, (double)(ccase_i64(rows, i, 9) - opened) / 1000.0);
    }
    if (state && strcmp(state, "resolved") == 0) {
        g->resolved++;
        if (rc == TP_OK && cstore_rows_get(rows, i, 10))
            rc = dvec_add(&g->ttr, (double)(ccase_i64(rows, i, 10) - opened) / 1000.0);
    } else {
        g->active++;
    }
    return rc;
}

static cJSON *stats_json(dvec *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (d->n > 1) /* qsort of an empty (NULL) vector is undefined (UBSan) */
        qsort(d->v, d->n, sizeof(double), cmp_double);
    cJSON_AddNumberToObject(o, "n", (double)d->n);
    if (d->n) {
        cJSON_AddNumberToObject(o, "median", ccase_quantile(d->v, d->n, 0.5));
        cJSON_AddNumberToObject(o, "p90", ccase_quantile(d->v, d->n, 0.9));
    } else {
        cJSON_AddNullToObject(o, "median");
        cJSON_AddNullToObject(o, "p90");
    }
    return o;
}

static bool group_fill(cJSON *o, group *g)
{
    return cJSON_AddNumberToObject(o, "opened", (double)g->opened) &&
           cJSON_AddNumberToObject(o, "acknowledged", (double)g->acknowledged) &&
           cJSON_AddNumberToObject(o, "resolved", (double)g->resolved) &&
           cJSON_AddNumberToObject(o, "active", (double)g->active) &&
           cJSON_AddItemToObject(o, "tta_s", stats_json(&g->tta)) &&
           cJSON_AddItemToObject(o, "ttr_s", stats_json(&g->ttr));
}

static void groups_free(groups *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].tta.v);
        free(gs->g[i].ttr.v);
    }
    free(gs->g);
}

/* The group key of case row i for by (0 store, 1 region, 2 month) in key. */
static void key_of(int by, const cstore_rows *rows, size_t i, char *key, size_t keylen)
{
    char buf[CFLEET_PATH_MAX + 1];
    const char *node = cstore_rows_get(rows, i, 2);
    const char *k = NULL;
    if (by == 0) {
        k = ccase_store_of(node, cstore_rows_get(rows, i, 3), buf);
    } else if (by == 1) {
        k = ccase_region_of(node, buf);
    } else {
        time_t t = (time_t)(ccase_i64(rows, i, 8) / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        snprintf(key, keylen, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
        return;
    }
    tp_strlcpy(key, k ? k : "", keylen);
}

/* open_by_store: the active cases of sc per store, the oldest store first. */
static tp_err open_by_store(const cstore_rows *rows, const cscope *sc, int64_t now_ms, cJSON *arr)
{
    char sbuf[TP_ID_MAX + 1];
    /* rows are sorted by opened_ms: the first case seen of a store is its oldest. */
    for (size_t i = 0; i < rows->n; i++) {
        const char *node = cstore_rows_get(rows, i, 2), *state = cstore_rows_get(rows, i, 6);
        if (!state || strcmp(state, "resolved") == 0 ||
            !cscope_has_case(sc, node, cstore_rows_get(rows, i, 3)))
            continue;
        const char *st = ccase_store_of(node, cstore_rows_get(rows, i, 3), sbuf);
        st = st ? st : "";
        int64_t age = (now_ms - ccase_i64(rows, i, 8)) / 1000;
        cJSON *entry = NULL, *cases = NULL;
        for (cJSON *e = arr->child; e && !entry; e = e->next)
            if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "store")), st) == 0)
                entry = e;
        if (!entry) {
            entry = cJSON_CreateObject();
            if (!entry || !cJSON_AddItemToArray(arr, entry)) {
                cJSON_Delete(entry);
                return TP_ERR_NOMEM;
            }
            if (!cJSON_AddStringToObject(entry, "store", st) ||
                !cJSON_AddNumberToObject(entry, "active", 0) ||
                !cJSON_AddNumberToObject(entry, "oldest_age_s", (double)age) ||
                !cJSON_AddArrayToObject(entry, "cases"))
                return TP_ERR_NOMEM;
        }
        cJSON *n = cJSON_GetObjectItemCaseSensitive(entry, "active");
        cJSON_SetNumberValue(n, n->valuedouble + 1);
        cases = cJSON_GetObjectItemCaseSensitive(entry, "cases");
        if (cJSON_GetArraySize(cases) >= CCASE_OPEN_PER_STORE)
            continue;
        cJSON *o = cJSON_CreateObject(), *t = NULL;
        if (!o || !cJSON_AddItemToArray(cases, o)) {
            cJSON_Delete(o);
            return TP_ERR_NOMEM;
        }
        if (!cJSON_AddStringToObject(o, "id", cstore_rows_get(rows, i, 0)) ||
            !cJSON_AddStringToObject(o, "state", state) ||
            !(t = cJSON_AddObjectToObject(o, "title")) ||
            !cJSON_AddStringToObject(t, "vi", cstore_rows_get(rows, i, 4)) ||
            !cJSON_AddStringToObject(t, "en", cstore_rows_get(rows, i, 5)) ||
            !cJSON_AddNumberToObject(o, "opened_ms", (double)ccase_i64(rows, i, 8)) ||
            !cJSON_AddNumberToObject(o, "age_s", (double)age))
            return TP_ERR_NOMEM;
    }
    return TP_OK;
}

capi_reply ccase_report_get(cstore *s, const char *url, const char *scope, ccase_arg_fn arg,
                            void *cls, int64_t now_ms)
{
    char err[TP_ERRMSG_MAX], from_s[11], to_s[11], key[CFLEET_PATH_MAX + 1], at[24], end_at[24];
    const char *bys = arg(cls, "by"), *from = arg(cls, "from"), *to = arg(cls, "to");
    int64_t from_ms = 0, to_ms = 0;
    int by = !bys || !*bys || strcmp(bys, "store") == 0 ? 0
             : strcmp(bys, "region") == 0               ? 1
             : strcmp(bys, "month") == 0                ? 2
                                                        : -1;
    (void)url;
    if (by < 0)
        return capi_error(400, "malformed", "by: expected store, region or month");
    if (to && *to) {
        if (ccase_parse_day("to", to, &to_ms, err, sizeof err) != TP_OK)
            return capi_error(400, "malformed", err);
        tp_strlcpy(to_s, to, sizeof to_s);
    } else {
        to_ms = tp_local_day_start(now_ms, to_s);
    }
    if (from && *from) {
        if (ccase_parse_day("from", from, &from_ms, err, sizeof err) != TP_OK)
            return capi_error(400, "malformed", err);
        tp_strlcpy(from_s, from, sizeof from_s);
    } else {
        from_ms =
            tp_local_day_start(to_ms - (REPORT_DAYS_DEFAULT - 1) * 86400000LL + 43200000, from_s);
    }
    if (from_ms > to_ms)
        return capi_error(400, "malformed", "from is after to");
    if ((to_ms - from_ms) / 86400000 > REPORT_DAYS_MAX)
        return capi_error(400, "malformed", "at most 1000 days per report");
    /* to is inclusive: up to the next local midnight (36 h on, back to the day's start). */
    int64_t end_ms = tp_local_day_start(to_ms + 36LL * 3600000, NULL);

    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    cscope sc;
    groups gs = {0};
    group total = {0};
    cJSON *root = NULL, *arr = NULL, *t = NULL, *obs = NULL;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, sizeof err);
    if (rc != TP_OK)
        return cscope_error(rc, err);
    rc = cscope_filter(tx, scope, arg(cls, "node"), arg(cls, "store"), &sc, err, sizeof err);
    if (rc != TP_OK) {
        cstore_tx_rollback(tx);
        return cscope_error(rc, err);
    }
    /* The period's cases, and every active one (for open_by_store), oldest first. */
    rc = FX(tx, &rows, err, sizeof err,
            "SELECT " CCASE_COLS " FROM cases WHERE (opened_ms >= CAST($1 AS BIGINT) AND"
            " opened_ms < CAST($2 AS BIGINT)) OR state <> 'resolved' ORDER BY opened_ms, id",
            cfleet_i64(at, from_ms), cfleet_i64(end_at, end_ms));
    cstore_tx_rollback(tx);
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        int64_t opened = ccase_i64(rows, i, 8);
        if (opened < from_ms || opened >= end_ms ||
            !cscope_has_case(&sc, cstore_rows_get(rows, i, 2), cstore_rows_get(rows, i, 3)))
            continue;
        key_of(by, rows, i, key, sizeof key);
        group *g = group_of(&gs, key);
        rc = g ? group_add(g, rows, i) : TP_ERR_NOMEM;
        if (rc == TP_OK)
            rc = group_add(&total, rows, i);
    }
    if (rc == TP_OK && gs.n > 1)
        qsort(gs.g, gs.n, sizeof(group), cmp_group);
    root = rc == TP_OK ? cJSON_CreateObject() : NULL;
    if (root &&
        cJSON_AddStringToObject(root, "by",
                                by == 0   ? "store"
                                : by == 1 ? "region"
                                          : "month") &&
        cJSON_AddStringToObject(root, "from", from_s) &&
        cJSON_AddStringToObject(root, "to", to_s) &&
        cJSON_AddStringToObject(root, "tz",
                                getenv("TZ") && *getenv("TZ") ? getenv("TZ") : "localtime") &&
        cJSON_AddNumberToObject(root, "now_ms", (double)now_ms) &&
        cJSON_AddStringToObject(root, "scope", scope) &&
        (arr = cJSON_AddArrayToObject(root, "groups")) &&
        (t = cJSON_AddObjectToObject(root, "total")) && group_fill(t, &total) &&
        (obs = cJSON_AddArrayToObject(root, "open_by_store"))) {
        for (size_t i = 0; rc == TP_OK && i < gs.n; i++) {
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddItemToArray(arr, o) ||
                !cJSON_AddStringToObject(o, "key", gs.g[i].key) || !group_fill(o, &gs.g[i]))
                rc = TP_ERR_NOMEM;
        }
        if (rc == TP_OK)
            rc = open_by_store(rows, &sc, now_ms, obs);
    } else if (rc == TP_OK) {
        rc = TP_ERR_NOMEM;
    }
    cstore_rows_free(rows);
    cscope_free(&sc);
    groups_free(&gs);
    free(total.tta.v);
    free(total.ttr.v);
    if (rc != TP_OK) {
        cJSON_Delete(root);
        return cscope_error(rc, err);
    }
    capi_reply r = {.status = 200, .body = cJSON_PrintUnformatted(root)};
    cJSON_Delete(root);
    return r.body ? r : capi_error(500, "internal", "out of memory");
}
