/*
 * calert_util.c - what the queue evaluator and the device-health pass share (calert_eval_int.h):
 * enabled rules, a rule's coverage of a path, inherited node settings, a per-pass cache of time
 * zones, and PostgreSQL's per-unit advisory lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert_eval_int.h"
#include "cfleet_int.h"

tp_err calert_load_rules(cstore_tx *tx, bool device_kinds, calert_rule **out, size_t *n, char *err,
                         size_t errlen)
{
    cstore_rows *rows = NULL;
    *out = NULL;
    *n = 0;
    tp_err rc = FX0(tx, &rows, err, errlen,
                    "SELECT " CALERT_RULE_COLS " FROM alert_rules WHERE enabled = 1 ORDER BY id");
    if (rc != TP_OK)
        return rc;
    calert_rule *v = calloc(rows->n ? rows->n : 1, sizeof *v);
    if (!v) {
        cstore_rows_free(rows);
        return TP_ERR_NOMEM;
    }
    for (size_t i = 0; i < rows->n; i++) {
        calert_rule r;
        if (calert_rule_from_row(rows, i, &r) != TP_OK) {
            fprintf(stderr, "touchpoint-collector: alert rule %s: unreadable, skipped\n",
                    cstore_rows_get(rows, i, 0));
            continue;
        }
        if (calert_kind_is_device(r.kind) != device_kinds) {
            calert_rule_clear(&r);
            continue;
        }
        v[(*n)++] = r;
    }
    cstore_rows_free(rows);
    *out = v;
    return TP_OK;
}

void calert_free_rules(calert_rule *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        calert_rule_clear(&v[i]);
    free(v);
}

bool calert_covers(const char *rule_node, const char *path)
{
    size_t n = strlen(rule_node);
    return strncmp(rule_node, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Settings key of the deepest node on path (and its ancestors) that sets it; NULL if none. */
tp_err calert_node_setting(cstore_tx *tx, const char *path, const char *key, char *out,
                           size_t outlen, char *err, size_t errlen)
{
    char p[256];
    out[0] = '\0';
    tp_strlcpy(p, path, sizeof p);
    for (;;) {
        cstore_rows *rows = NULL;
        tp_err rc =
            FX(tx, &rows, err, errlen, "SELECT settings_json FROM nodes WHERE path = $1", p);
        if (rc != TP_OK)
            return rc;
        cJSON *s = cJSON_Parse(cstore_rows_get(rows, 0, 0) ? cstore_rows_get(rows, 0, 0) : "");
        cstore_rows_free(rows);
        cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);
        if (v && !cJSON_IsNull(v)) {
            char *txt = cJSON_IsString(v) ? NULL : cJSON_PrintUnformatted(v);
            tp_strlcpy(out, txt ? txt : v->valuestring, outlen);
            free(txt);
            cJSON_Delete(s);
            return TP_OK;
        }
        cJSON_Delete(s);
        char *slash = strrchr(p, '/');
        if (!slash)
            return TP_OK;
        *slash = '\0';
    }
}

tp_err calert_tz_get(calert_tzcache *c, const char *zone, const ctz **out)
{
    char err[TP_ERRMSG_MAX];
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->name[i], zone) == 0) {
            *out = c->tz[i];
            return TP_OK;
        }
    ctz *z = NULL;
    tp_err rc = ctz_load(zone, &z, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: alerts: %s (using the collector's)\n", err);
        if ((rc = ctz_load(NULL, &z, err, sizeof err)) != TP_OK)
            return rc;
    }
    if (c->n == CALERT_TZCACHE_MAX) {
        ctz_free(c->tz[--c->n]);
    }
    tp_strlcpy(c->name[c->n], zone, sizeof c->name[c->n]);
    c->tz[c->n++] = z;
    *out = z;
    return TP_OK;
}

void calert_tzcache_clear(calert_tzcache *c)
{
    for (size_t i = 0; i < c->n; i++)
        ctz_free(c->tz[i]);
    c->n = 0;
}

tp_err calert_lock_unit(cstore_tx *tx, bool pg, const char *rule, const char *unit, char *err,
                        size_t errlen)
{
    char key[512];
    if (!pg)
        return TP_OK; /* SQLite: the write transaction already excludes everyone */
    snprintf(key, sizeof key, "tp-alert|%s|%s", rule, unit);
    return FX(tx, NULL, err, errlen, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key);
}
