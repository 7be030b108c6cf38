/*
 * cread_bridge.c - the scope applied to the two read handlers still in collector.c (GET
 * /v1/report and GET /v1/devices) until the analytics engineer's handlers, which take the scope
 * themselves (CONTRACT.md "Read side"), replace them.
 *
 * The scoped report runs the same grouping query as the backends' report (cstore_sqlite.c,
 * cstore_pg.c), in the dialect both share, with the scope's store ids as an IN list: the report
 * of an unscoped reader keeps its own path unchanged.
 */
#include "cread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfleet_int.h"

static const char *const group_cols[] = {
    [CREPORT_BY_DAY] = "CAST(at_ms / 900000 AS TEXT)",
    [CREPORT_BY_STORE] = "store",
    [CREPORT_BY_TOUCHPOINT] = "touchpoint",
    [CREPORT_BY_DEVICE] = "device",
};

/* Streams rows (group, kind, value, choice, uncorrected, count) into r. */
static tp_err add_rows(const cstore_query *q, const cstore_rows *rows, creport *r, char *err,
                       size_t errlen)
{
    for (size_t i = 0; i < rows->n; i++) {
        char key[TP_ID_MAX + 1];
        tp_kind kind;
        const char *g = cstore_rows_get(rows, i, 0), *k = cstore_rows_get(rows, i, 1);
        const char *v = cstore_rows_get(rows, i, 2), *n = cstore_rows_get(rows, i, 5);
        const char *u = cstore_rows_get(rows, i, 4);
        if (!g || !k || tp_kind_parse(k, &kind) != TP_OK)
            continue;
        cstore_group_key(q->by, g, key, sizeof key);
        tp_err rc = creport_add(r, key, kind, v ? (int)strtol(v, NULL, 10) : 0,
                                cstore_rows_get(rows, i, 3), u && strcmp(u, "1") == 0,
                                n ? strtoll(n, NULL, 10) : 0);
        if (rc != TP_OK)
            return tp_errf(err, errlen, rc, "report: too many groups");
    }
    return TP_OK;
}

tp_err cread_report(cstore *s, const cstore_query *q, const char *scope, creport *r, char *err,
                    size_t errlen)
{
    char **ids = NULL, tp[TP_ID_MAX + 1], from[24], to[24], ver[24];
    size_t n = 0;
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    const char **params = NULL;
    tp_buf sql;
    tp_buf_init(&sql, 64u << 10 << 4);
    tp_err rc = cread_scope_stores(s, scope, &ids, &n, tp, err, errlen);
    if (rc != TP_OK || n == 0) /* no store in scope: an empty report */
        goto out;
    if (!(params = calloc(n + 5, sizeof *params))) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    params[0] = cfleet_i64(from, q->from_ms);
    params[1] = cfleet_i64(to, q->to_ms);
    params[2] = q->survey;
    params[3] = q->survey_version > 0 ? cfleet_i64(ver, q->survey_version) : NULL;
    params[4] = tp[0] ? tp : NULL;
    char head[512];
    /* The grouping column comes from a fixed table, never from the request. */
    snprintf(head, sizeof head,
             "SELECT %s, kind, value, choice,"
             " CASE WHEN time_source = 'uncorrected' THEN 1 ELSE 0 END, count(*) FROM answers"
             " WHERE at_ms >= CAST($1 AS BIGINT) AND at_ms < CAST($2 AS BIGINT)"
             " AND (CAST($3 AS TEXT) IS NULL OR survey = CAST($3 AS TEXT))"
             " AND (CAST($4 AS INTEGER) IS NULL OR survey_version = CAST($4 AS INTEGER))"
             " AND (CAST($5 AS TEXT) IS NULL OR touchpoint = CAST($5 AS TEXT)) AND store IN (",
             group_cols[q->by]);
    rc = tp_buf_add(&sql, head, strlen(head));
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        char p[24];
        int w = snprintf(p, sizeof p, "%s$%zu", i ? ", " : "", i + 6);
        params[i + 5] = ids[i];
        rc = tp_buf_add(&sql, p, (size_t)w);
    }
    static const char tail[] = ") GROUP BY 1, 2, 3, 4, 5";
    if (rc == TP_OK)
        rc = tp_buf_add(&sql, tail, sizeof tail); /* with its NUL */
    if (rc == TP_OK)
        rc = cstore_tx_begin(s, false, &tx, err, errlen);
    if (rc == TP_OK)
        rc = cstore_tx_exec(tx, sql.p, params, (int)(n + 5), &rows, err, errlen);
    cstore_tx_rollback(tx);
    if (rc == TP_OK)
        rc = add_rows(q, rows, r, err, errlen);
out:
    cstore_rows_free(rows);
    free(params);
    tp_buf_free(&sql);
    cread_ids_free(ids, n);
    return rc;
}

void cread_devices_scope(cJSON *fleet, const char *scope)
{
    if (!fleet || !*scope)
        return;
    for (cJSON *it = fleet->child, *next = NULL; it; it = next) {
        next = it->next;
        const char *node = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "node"));
        if (!node || !cread_within(scope, node))
            cJSON_Delete(cJSON_DetachItemViaPointer(fleet, it));
    }
}
