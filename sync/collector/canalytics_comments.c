/*
 * canalytics_comments.c - the comments of /v1/report (PROTOCOL.md 13.2): each group and the
 * total gain {"count", "recent": up to 3, newest first}.
 *
 * Two queries per report, not two per group: the first reads the light columns of every comment
 * in a UTC window padded by 14 hours each side (the comments_created index), with its session's
 * survey from ru_sessions; the rows are then placed in C, the local day and hour from the
 * comment's node's "timezone" through ctz_offset, as the rollups place answers. The second reads
 * the shown rows by id. Contact details are never selected here: they are read only through
 * /v1/comments, whose reads are audited. Bounds: ROWS_MAX comments a report (the newest; older
 * ones beyond it are not counted, and the total's comments say "capped": true), ROWS_MAX groups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canalytics_int.h"
#include "ccomment.h"
#include "ctz.h"

#define RECENT 3
#define PAD_MS (14LL * 3600 * 1000) /* the widest UTC offset */
#define ROWS_MAX 200000             /* comments per report read */
#define IDS_CHUNK 1000              /* ids a statement */
#define TOTAL " total"              /* not a group key: ids have no spaces */

/* The group key of a comment row (id, created_ms, store, touchpoint, device, node_path, survey,
 * version) or false when the row is outside the report's days or filters. */
static bool place(an_req *r, int by, const cstore_rows *rows, size_t i, char *key, size_t keylen)
{
    const char *store = cstore_rows_get(rows, i, 2), *tp = cstore_rows_get(rows, i, 3);
    const char *node = cstore_rows_get(rows, i, 5), *survey = cstore_rows_get(rows, i, 6);
    const char *version = cstore_rows_get(rows, i, 7);
    const an_filter *f = &r->f;
    if ((f->has_stores && (!store || !an_store_visible(r, store))) ||
        (f->tp_store[0] && (!store || strcmp(store, f->tp_store) != 0)) ||
        (f->tp[0] && (!tp || strcmp(tp, f->tp) != 0)) ||
        (f->survey && (!survey || strcmp(survey, f->survey) != 0)) ||
        (f->version && (!version || strtol(version, NULL, 10) != f->version)))
        return false;
    const cJSON *zone = node ? an_tree_setting(&r->tree, node, "timezone") : NULL;
    int64_t ms = strtoll(cstore_rows_get(rows, i, 1), NULL, 10);
    int off = 0;
    if (ctz_offset(cJSON_IsString(zone) ? zone->valuestring : "", ms, &off) != TP_OK)
        ctz_offset("", ms, &off);
    ctz_local L;
    ctz_local_of(ms, off, &L);
    if (L.day < f->from_day || L.day > f->to_day)
        return false;
    char raw[2 * TP_ID_MAX + 2];
    switch (by) {
    case BY_DAY:
    case BY_WEEK: snprintf(raw, sizeof raw, "%d", L.day); break;
    case BY_MONTH: snprintf(raw, sizeof raw, "%d", L.month); break;
    case BY_HOUR: snprintf(raw, sizeof raw, "%d", L.hour); break;
    case BY_TOUCHPOINT: snprintf(raw, sizeof raw, "%s/%s", store ? store : "", tp ? tp : ""); break;
    case BY_DEVICE: tp_strlcpy(raw, cstore_rows_get(rows, i, 4), sizeof raw); break;
    default: tp_strlcpy(raw, store ? store : "", sizeof raw); break;
    }
    an_group_key(r, by, raw, key, keylen);
    return true;
}

/* A group's comments: the count and the newest RECENT ids, then their rows as JSON. */
typedef struct entry {
    char key[2 * TP_ID_MAX + 2];
    int64_t count;
    int n;
    char id[RECENT][TP_UUID_STR];
    cJSON *row[RECENT];
} entry;

/* The groups by key: open addressing over a power-of-two table of indexes into v. */
typedef struct gmap {
    entry *v;
    size_t n, cap;
    size_t *slot, nslot; /* index + 1; 0 = empty */
} gmap;

static tp_err rehash(gmap *g)
{
    size_t n = g->nslot ? g->nslot * 2 : 256;
    size_t *t = calloc(n, sizeof *t);
    if (!t)
        return TP_ERR_NOMEM;
    for (size_t i = 0; i < g->n; i++) {
        size_t h = (size_t)tp_hash_str(g->v[i].key) & (n - 1);
        while (t[h])
            h = (h + 1) & (n - 1);
        t[h] = i + 1;
    }
    free(g->slot);
    g->slot = t;
    g->nslot = n;
    return TP_OK;
}

/* The entry of key, added when absent; NULL when out of memory or past ROWS_MAX groups. */
static entry *group_of(gmap *g, const char *key)
{
    if ((g->n + 1) * 2 > g->nslot && rehash(g) != TP_OK)
        return NULL;
    size_t h = (size_t)tp_hash_str(key) & (g->nslot - 1);
    for (; g->slot[h]; h = (h + 1) & (g->nslot - 1))
        if (strcmp(g->v[g->slot[h] - 1].key, key) == 0)
            return &g->v[g->slot[h] - 1];
    if (tp_array_grow((void **)&g->v, &g->cap, g->n + 1, sizeof *g->v, ROWS_MAX) != TP_OK)
        return NULL;
    entry *e = &g->v[g->n];
    memset(e, 0, sizeof *e);
    tp_strlcpy(e->key, key, sizeof e->key);
    g->slot[h] = ++g->n;
    return e;
}

static void groups_free(gmap *g)
{
    for (size_t i = 0; i < g->n; i++)
        for (int k = 0; k < g->v[i].n; k++)
            cJSON_Delete(g->v[i].row[k]);
    free(g->v);
    free(g->slot);
}

/* Counts a row into key's group. Rows come newest first, so the first RECENT ids of a group
 * are its recent ones. Returns false when out of memory. */
static bool count_row(gmap *g, const char *key, const char *id)
{
    entry *e = group_of(g, key);
    if (!e)
        return false;
    e->count++;
    if (e->n < RECENT)
        tp_strlcpy(e->id[e->n++], id, sizeof e->id[0]);
    return true;
}

typedef struct shown {
    const char *id;
    cJSON *row;
} shown;

static int shown_cmp(const void *a, const void *b)
{
    return strcmp(((const shown *)a)->id, ((const shown *)b)->id);
}

/* Reads the shown rows by id (IDS_CHUNK ids a statement) and gives each group copies of its
 * own. */
static tp_err read_shown(an_req *r, gmap *g)
{
    size_t total = 0, nrows = 0, gi = 0;
    int gk = 0;
    for (size_t i = 0; i < g->n; i++)
        total += (size_t)g->v[i].n;
    shown *all = total ? calloc(total, sizeof *all) : NULL;
    if (total && !all)
        return TP_ERR_NOMEM;
    tp_err rc = TP_OK;
    while (rc == TP_OK) {
        tp_buf sql;
        an_params p = {0};
        cstore_rows *rows = NULL;
        tp_buf_init(&sql, (size_t)1 << 20);
        rc = tp_buf_addf(&sql, "SELECT " CCOMMENT_REPORT_COLS " FROM comments c WHERE c.id IN (");
        /* Duplicates (a group's ids are also the total's) are harmless in IN. */
        while (rc == TP_OK && gi < g->n && p.n < IDS_CHUNK) {
            if (gk >= g->v[gi].n) {
                gi++, gk = 0;
                continue;
            }
            p.p[p.n++] = g->v[gi].id[gk++];
            rc = tp_buf_addf(&sql, "%s$%d", p.n > 1 ? "," : "", p.n);
        }
        if (rc == TP_OK)
            rc = tp_buf_addf(&sql, ")");
        if (rc == TP_OK && p.n)
            rc = an_query(r, sql.p, &p, &rows);
        tp_buf_free(&sql);
        /* Each chunk returns at most its ids, so the rows never pass total. */
        for (size_t i = 0; rc == TP_OK && rows && i < rows->n && nrows < total; i++) {
            cJSON *o = ccomment_report_json(rows, i);
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
            if (!cJSON_IsString(id)) {
                cJSON_Delete(o);
                rc = TP_ERR_NOMEM;
                break;
            }
            all[nrows].id = id->valuestring;
            all[nrows++].row = o;
        }
        cstore_rows_free(rows);
        if (p.n == 0)
            break;
    }
    if (rc == TP_OK && nrows)
        qsort(all, nrows, sizeof *all, shown_cmp);
    for (size_t i = 0; rc == TP_OK && i < g->n; i++)
        for (int k = 0; rc == TP_OK && k < g->v[i].n; k++) {
            shown key = {.id = g->v[i].id[k]};
            const shown *f = nrows ? bsearch(&key, all, nrows, sizeof *all, shown_cmp) : NULL;
            /* A row erased between the two statements is simply not shown. */
            if (f && !(g->v[i].row[k] = cJSON_Duplicate(f->row, true)))
                rc = TP_ERR_NOMEM;
        }
    for (size_t i = 0; i < nrows; i++)
        cJSON_Delete(all[i].row);
    free(all);
    return rc;
}

/* Sets o's "comments" from group key (none: count 0). */
static bool attach(cJSON *o, gmap *g, const char *key)
{
    const entry *e = NULL;
    if (g->nslot) {
        for (size_t h = (size_t)tp_hash_str(key) & (g->nslot - 1); g->slot[h] && !e;
             h = (h + 1) & (g->nslot - 1))
            if (strcmp(g->v[g->slot[h] - 1].key, key) == 0)
                e = &g->v[g->slot[h] - 1];
    }
    cJSON *c = cJSON_CreateObject(), *rec = NULL;
    bool ok = c && cJSON_AddNumberToObject(c, "count", e ? (double)e->count : 0) &&
              (rec = cJSON_AddArrayToObject(c, "recent"));
    for (int k = 0; ok && e && k < e->n; k++) {
        cJSON *d = e->row[k] ? cJSON_Duplicate(e->row[k], true) : NULL;
        ok = !e->row[k] || (d && cJSON_AddItemToArray(rec, d));
        if (!ok)
            cJSON_Delete(d);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, "comments");
    if (ok && cJSON_AddItemToObject(o, "comments", c))
        return true;
    cJSON_Delete(c);
    return false;
}

cJSON *an_report_comments(an_req *r, int by, cJSON *report, int *status)
{
    if (!report)
        return NULL;
    const an_filter *f = &r->f;
    char from[24], to[24];
    int64_t d0 =
        ctz_days_from_civil(f->from_day / 10000, f->from_day / 100 % 100, f->from_day % 100);
    int64_t d1 = ctz_days_from_civil(f->to_day / 10000, f->to_day / 100 % 100, f->to_day % 100);
    snprintf(from, sizeof from, "%lld", (long long)(d0 * 86400000LL - PAD_MS));
    snprintf(to, sizeof to, "%lld", (long long)((d1 + 1) * 86400000LL + PAD_MS));
    tp_buf sql;
    an_params p = {.p = {from, to}, .n = 2};
    cstore_rows *rows = NULL;
    gmap acc = {0};
    tp_buf_init(&sql, (size_t)1 << 20);
    tp_err rc = TP_OK;
    if (rc == TP_OK)
        rc = tp_buf_addf(&sql,
                         "SELECT c.id, c.created_ms, c.store, c.touchpoint, c.device,"
                         " c.node_path, s.survey, s.version FROM comments c LEFT JOIN"
                         " ru_sessions s ON s.session = %s WHERE c.created_ms >="
                         " CAST($1 AS BIGINT) AND c.created_ms < CAST($2 AS BIGINT)",
                         /* PostgreSQL's session key is a uuid (step 11); the cast keeps its index
                          * (comment sessions are checked UUIDs: clink.h) */
                         strcmp(cstore_kind(r->s), "postgresql") == 0 ? "CAST(c.session AS uuid)"
                                                                      : "c.session");
    /* The stores in SQL too, so a store's read of a chain's comments stays small. */
    if (rc == TP_OK && f->has_stores && f->n_stores == 0)
        rc = tp_buf_addf(&sql, " AND 1 = 0");
    for (size_t i = 0; rc == TP_OK && f->has_stores && i < f->n_stores; i++) {
        p.p[p.n++] = f->stores[i];
        rc = tp_buf_addf(&sql, "%s$%d", i ? "," : " AND c.store IN (", p.n);
    }
    if (rc == TP_OK && f->has_stores && f->n_stores)
        rc = tp_buf_addf(&sql, ")");
    if (rc == TP_OK)
        rc = tp_buf_addf(&sql, " ORDER BY c.created_ms DESC, c.id DESC LIMIT %d", ROWS_MAX);
    if (rc == TP_OK)
        rc = an_query(r, sql.p, &p, &rows);
    tp_buf_free(&sql);
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        char key[2 * TP_ID_MAX + 2];
        const char *id = cstore_rows_get(rows, i, 0);
        if (place(r, by, rows, i, key, sizeof key) &&
            (!count_row(&acc, key, id) || !count_row(&acc, TOTAL, id)))
            rc = TP_ERR_NOMEM;
    }
    bool capped = rc == TP_OK && rows->n >= ROWS_MAX;
    cstore_rows_free(rows);
    if (rc == TP_OK)
        rc = read_shown(r, &acc);
    cJSON *groups = cJSON_GetObjectItemCaseSensitive(report, "groups");
    for (cJSON *g = groups ? groups->child : NULL; rc == TP_OK && g; g = g->next) {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(g, "key");
        if (!attach(g, &acc, cJSON_IsString(key) ? key->valuestring : TOTAL))
            rc = TP_ERR_NOMEM;
    }
    cJSON *total = cJSON_GetObjectItemCaseSensitive(report, "total");
    if (rc == TP_OK && total && !attach(total, &acc, TOTAL))
        rc = TP_ERR_NOMEM;
    /* Past the bound the counts are of the newest ROWS_MAX comments: said, not hidden. */
    cJSON *tc = total ? cJSON_GetObjectItemCaseSensitive(total, "comments") : NULL;
    if (rc == TP_OK && capped && (!tc || !cJSON_AddBoolToObject(tc, "capped", true)))
        rc = TP_ERR_NOMEM;
    groups_free(&acc);
    if (rc != TP_OK) {
        *status = rc == TP_ERR_NOMEM ? 500 : 503;
        cJSON_Delete(report);
        return NULL;
    }
    return report;
}
