/*
 * canalytics_comments.c - the comments of /v1/report (PROTOCOL.md 13.2): each group and the
 * total gain {"count", "recent": up to 3, newest first}.
 *
 * Two queries per report, not two per group: the first reads the light columns of every comment
 * in a UTC window padded by 14 hours each side (the comments_created index), with its session's
 * survey from ru_sessions; the rows are then placed in C, the local day and hour from the
 * comment's node's "timezone" through ctz_offset, as the rollups place answers. The second reads
 * the shown rows by id. Contact details are never selected here: they are read only through
 * /v1/comments, whose reads are audited.
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
#define IDS_CHUNK 1000
#define TOTAL " total" /* not a group key: ids have no spaces */

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
    case BY_TOUCHPOINT:
        snprintf(raw, sizeof raw, "%s/%s", store ? store : "", tp ? tp : "");
        break;
    case BY_DEVICE: tp_strlcpy(raw, cstore_rows_get(rows, i, 4), sizeof raw); break;
    default: tp_strlcpy(raw, store ? store : "", sizeof raw); break;
    }
    an_group_key(r, by, raw, key, keylen);
    return true;
}

/* Counts rows into acc (key -> [count, id...]; TOTAL is the total); returns false when out of
 * memory. Rows come newest first, so the first RECENT ids of a key are its recent ones. */
static bool count_row(cJSON *acc, const char *key, const char *id)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(acc, key);
    if (!a && (!(a = cJSON_AddArrayToObject(acc, key)) ||
               !cJSON_AddItemToArray(a, cJSON_CreateNumber(0))))
        return false;
    cJSON_SetNumberValue(a->child, a->child->valuedouble + 1);
    return cJSON_GetArraySize(a) > RECENT || cJSON_AddItemToArray(a, cJSON_CreateString(id));
}

/* Reads the shown rows by id into shown (id -> report JSON). */
static tp_err read_shown(an_req *r, const cJSON *acc, cJSON *shown)
{
    const char *ids[IDS_CHUNK];
    int n = 0;
    tp_err rc = TP_OK;
    const cJSON *a = acc->child, *x = a ? a->child : NULL;
    for (;;) {
        while (a && !x)
            a = a->next, x = a ? a->child : NULL;
        if (x && cJSON_IsString(x) &&
            !cJSON_GetObjectItemCaseSensitive(shown, x->valuestring)) {
            bool dup = false;
            for (int k = 0; k < n && !dup; k++)
                dup = strcmp(ids[k], x->valuestring) == 0;
            if (!dup)
                ids[n++] = x->valuestring;
        }
        if (x)
            x = x->next;
        if (n < IDS_CHUNK && a)
            continue;
        if (n == 0)
            break;
        tp_buf sql;
        an_params p = {0};
        cstore_rows *rows = NULL;
        tp_buf_init(&sql, (size_t)1 << 20);
        rc = tp_buf_addf(&sql, "SELECT " CCOMMENT_REPORT_COLS " FROM comments c WHERE c.id IN (");
        for (int k = 0; rc == TP_OK && k < n; k++) {
            p.p[p.n++] = ids[k];
            rc = tp_buf_addf(&sql, "%s$%d", k ? "," : "", p.n);
        }
        if (rc == TP_OK)
            rc = tp_buf_addf(&sql, ")");
        if (rc == TP_OK)
            rc = an_query(r, sql.p, &p, &rows);
        tp_buf_free(&sql);
        for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
            cJSON *o = ccomment_report_json(rows, i);
            if (!o || !cJSON_AddItemToObject(shown, cstore_rows_get(rows, i, 0), o)) {
                cJSON_Delete(o);
                rc = TP_ERR_NOMEM;
            }
        }
        cstore_rows_free(rows);
        if (rc != TP_OK || !a)
            break;
        n = 0;
    }
    return rc;
}

/* Sets g's "comments" from acc's entry for key. */
static bool attach(cJSON *g, const cJSON *acc, const cJSON *shown, const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(acc, key);
    cJSON *o = cJSON_CreateObject(), *rec = NULL;
    bool ok = o && cJSON_AddNumberToObject(o, "count", a ? a->child->valuedouble : 0) &&
              (rec = cJSON_AddArrayToObject(o, "recent"));
    for (const cJSON *x = a ? a->child->next : NULL; ok && x; x = x->next) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(shown, x->valuestring);
        cJSON *d = c ? cJSON_Duplicate(c, true) : NULL;
        ok = !c || (d && cJSON_AddItemToArray(rec, d));
        if (!ok)
            cJSON_Delete(d);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(g, "comments");
    if (ok && cJSON_AddItemToObject(g, "comments", o))
        return true;
    cJSON_Delete(o);
    return false;
}

cJSON *an_report_comments(an_req *r, int by, cJSON *report, int *status)
{
    if (!report)
        return NULL;
    const an_filter *f = &r->f;
    char from[24], to[24];
    int64_t d0 = ctz_days_from_civil(f->from_day / 10000, f->from_day / 100 % 100,
                                     f->from_day % 100);
    int64_t d1 = ctz_days_from_civil(f->to_day / 10000, f->to_day / 100 % 100, f->to_day % 100);
    snprintf(from, sizeof from, "%lld", (long long)(d0 * 86400000LL - PAD_MS));
    snprintf(to, sizeof to, "%lld", (long long)((d1 + 1) * 86400000LL + PAD_MS));
    tp_buf sql;
    an_params p = {.p = {from, to}, .n = 2};
    cstore_rows *rows = NULL;
    cJSON *acc = cJSON_CreateObject(), *shown = cJSON_CreateObject();
    tp_buf_init(&sql, (size_t)1 << 20);
    tp_err rc = acc && shown ? TP_OK : TP_ERR_NOMEM;
    if (rc == TP_OK)
        rc = tp_buf_addf(&sql, "SELECT c.id, c.created_ms, c.store, c.touchpoint, c.device,"
                               " c.node_path, s.survey, s.version FROM comments c LEFT JOIN"
                               " ru_sessions s ON s.session = c.session WHERE c.created_ms >="
                               " CAST($1 AS BIGINT) AND c.created_ms < CAST($2 AS BIGINT)");
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
            (!count_row(acc, key, id) || !count_row(acc, TOTAL, id)))
            rc = TP_ERR_NOMEM;
    }
    cstore_rows_free(rows);
    if (rc == TP_OK)
        rc = read_shown(r, acc, shown);
    cJSON *groups = cJSON_GetObjectItemCaseSensitive(report, "groups");
    for (cJSON *g = groups ? groups->child : NULL; rc == TP_OK && g; g = g->next) {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(g, "key");
        if (!attach(g, acc, shown, cJSON_IsString(key) ? key->valuestring : TOTAL))
            rc = TP_ERR_NOMEM;
    }
    cJSON *total = cJSON_GetObjectItemCaseSensitive(report, "total");
    if (rc == TP_OK && total && !attach(total, acc, shown, TOTAL))
        rc = TP_ERR_NOMEM;
    cJSON_Delete(acc);
    cJSON_Delete(shown);
    if (rc != TP_OK) {
        *status = rc == TP_ERR_NOMEM ? 500 : 503;
        cJSON_Delete(report);
        return NULL;
    }
    return report;
}
