/*
 * calert_fire.c - firing an alert in one transaction: the alert row (its UNIQUE dedup_key makes
 * a window fire once, whichever collector evaluates it: ON CONFLICT DO NOTHING), its case with
 * the "open" event, and one outbox row per endpoint carrying the canonical event (CONTRACT.md:
 * type, id, created_at, alert{...}, case_id, dashboard_url) that the delivery worker renders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert_int.h"
#include "cfleet_int.h"

void calert_dedup_key(const calert_event *ev, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s|%s/%s/%s|%lld", ev->rule->id, ev->store ? ev->store : "",
             ev->touchpoint ? ev->touchpoint : "", ev->device ? ev->device : "",
             (long long)ev->dedup_at);
}

static void add_str_or_null(cJSON *o, const char *name, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_time(cJSON *o, const char *name, int64_t ms)
{
    char t[40];
    tp_format_utc(ms, t, sizeof t);
    cJSON_AddStringToObject(o, name, t);
}

/* The canonical event of an alert (type "alert.fired" or "alert.test"); *out is the text. */
static tp_err payload(const char *type, const char *outbox_id, const char *alert_id,
                      const calert_event *ev, const cJSON *numbers, const char *case_id,
                      const char *public_url, int64_t now_ms, char **out)
{
    cJSON *o = cJSON_CreateObject(), *a = NULL, *n = NULL;
    char url[1024];
    if (!o)
        return TP_ERR_NOMEM;
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "id", outbox_id);
    add_time(o, "created_at", now_ms);
    a = cJSON_AddObjectToObject(o, "alert");
    add_str_or_null(a, "id", alert_id);
    cJSON_AddStringToObject(a, "rule_id", ev->rule->id);
    n = cJSON_AddObjectToObject(a, "rule_name");
    cJSON_AddStringToObject(n, "vi", ev->rule->name_vi);
    cJSON_AddStringToObject(n, "en", ev->rule->name_en);
    cJSON_AddStringToObject(a, "kind", calert_kind_name(ev->rule->kind));
    cJSON_AddStringToObject(a, "node", ev->node ? ev->node : ev->rule->node);
    add_str_or_null(a, "store", ev->store);
    add_str_or_null(a, "touchpoint", ev->touchpoint);
    add_str_or_null(a, "device", ev->device);
    n = cJSON_AddObjectToObject(a, "window");
    add_time(n, "from", ev->from_ms);
    add_time(n, "to", ev->to_ms);
    n = cJSON_AddObjectToObject(a, "title");
    cJSON_AddStringToObject(n, "vi", ev->title_vi);
    cJSON_AddStringToObject(n, "en", ev->title_en);
    cJSON_AddItemToObject(a, "numbers",
                          numbers ? cJSON_Duplicate(numbers, true) : cJSON_CreateObject());
    add_time(a, "fired_at", now_ms);
    add_str_or_null(o, "case_id", case_id);
    if (public_url && case_id) {
        snprintf(url, sizeof url, "%s/#case=%s", public_url, case_id);
        cJSON_AddStringToObject(o, "dashboard_url", url);
    } else {
        cJSON_AddNullToObject(o, "dashboard_url");
    }
    *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return *out ? TP_OK : TP_ERR_NOMEM;
}

/* One outbox row per endpoint named in ev->rule->endpoints; ids (may be NULL) collects them. */
static tp_err write_outbox(cstore_tx *tx, const char *kind, const char *type, const char *alert_id,
                           const calert_event *ev, const char *case_id, const char *public_url,
                           int64_t now_ms, cJSON *ids, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    char at[24];
    cfleet_i64(at, now_ms);
    for (const cJSON *e = ev->rule->endpoints ? ev->rule->endpoints->child : NULL; rc == TP_OK && e;
         e = e->next) {
        cstore_rows *rows = NULL;
        char oid[TP_UUID_STR], *body = NULL;
        if (!cJSON_IsString(e))
            continue;
        rc = FX(tx, &rows, err, errlen, "SELECT id FROM endpoints WHERE name = $1", e->valuestring);
        const char *eid = rc == TP_OK ? cstore_rows_get(rows, 0, 0) : NULL;
        if (rc == TP_OK && !eid)
            fprintf(stderr, "touchpoint-collector: alert rule %s: no endpoint named %s\n",
                    ev->rule->id, e->valuestring);
        if (rc == TP_OK && eid && (rc = tp_uuid7_new(tp_clock_system(), oid)) == TP_OK)
            rc = payload(type, oid, alert_id, ev, ev->numbers, case_id, public_url, now_ms, &body);
        if (rc == TP_OK && eid)
            rc = FX(tx, NULL, err, errlen,
                    "INSERT INTO outbox(id, endpoint_id, kind, ref_id, payload_json, created_ms,"
                    " next_attempt_ms, attempts, state) VALUES($1, $2, $3, $4, $5,"
                    " CAST($6 AS bigint), CAST($6 AS bigint), 0, 'pending')",
                    oid, eid, kind, alert_id, body, at);
        if (rc == TP_OK && eid && ids)
            cJSON_AddItemToArray(ids, cJSON_CreateString(oid));
        free(body);
        cstore_rows_free(rows);
    }
    return rc;
}

/* Whether an alert of the same rule and unit has its window start within the cooldown of ev's
 * (window distance, not firing time: a backlog uploaded at once still fires once per cooldown). */
static tp_err cooling(cstore_tx *tx, const calert_event *ev, bool *out, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    char lo[24], hi[24];
    *out = false;
    if (ev->rule->cooldown_ms <= 0)
        return TP_OK;
    cfleet_i64(lo, ev->from_ms - ev->rule->cooldown_ms);
    cfleet_i64(hi, ev->from_ms + ev->rule->cooldown_ms);
    tp_err rc = FX(tx, &rows, err, errlen,
                   "SELECT 1 FROM alerts WHERE rule_id = $1 AND coalesce(store, '') = $2 AND"
                   " coalesce(touchpoint, '') = $3 AND coalesce(device, '') = $4 AND"
                   " window_from_ms > CAST($5 AS bigint) AND window_from_ms < CAST($6 AS bigint)"
                   " LIMIT 1",
                   ev->rule->id, ev->store ? ev->store : "", ev->touchpoint ? ev->touchpoint : "",
                   ev->device ? ev->device : "", lo, hi);
    if (rc == TP_OK)
        *out = rows->n > 0;
    cstore_rows_free(rows);
    return rc;
}

tp_err calert_fire(cstore_tx *tx, const calert_event *ev, const char *public_url, int64_t now_ms,
                   bool *fired, char *err, size_t errlen)
{
    char key[512], aid[TP_UUID_STR], cid[TP_UUID_STR], from[24], to[24], at[24];
    char *numbers = NULL;
    cstore_rows *rows = NULL;
    bool cool = false;
    *fired = false;
    calert_dedup_key(ev, key, sizeof key);
    tp_err rc = cooling(tx, ev, &cool, err, errlen);
    if (rc != TP_OK || cool)
        return rc;
    numbers = ev->numbers ? cJSON_PrintUnformatted(ev->numbers) : strdup("{}");
    if (!numbers)
        return TP_ERR_NOMEM;
    if ((rc = tp_uuid7_new(tp_clock_system(), aid)) == TP_OK)
        rc = tp_uuid7_new(tp_clock_system(), cid);
    const char *node = ev->node ? ev->node : ev->rule->node;
    cfleet_i64(from, ev->from_ms);
    cfleet_i64(to, ev->to_ms);
    cfleet_i64(at, now_ms);
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, errlen,
                "INSERT INTO alerts(id, rule_id, dedup_key, node_path, store, touchpoint, device,"
                " window_from_ms, window_to_ms, fired_ms, title_vi, title_en, numbers_json)"
                " VALUES($1, $2, $3, $4, $5, $6, $7, CAST($8 AS bigint), CAST($9 AS bigint),"
                " CAST($10 AS bigint), $11, $12, $13) ON CONFLICT (dedup_key) DO NOTHING"
                " RETURNING id",
                aid, ev->rule->id, key, node, ev->store, ev->touchpoint, ev->device, from, to, at,
                ev->title_vi, ev->title_en, numbers);
    if (rc != TP_OK || rows->n == 0)
        goto out;
    rc = FX(tx, NULL, err, errlen,
            "INSERT INTO cases(id, alert_id, node_path, store, title_vi, title_en, state,"
            " assignee, opened_ms, updated_ms) VALUES($1, $2, $3, $4, $5, $6, 'open', NULL,"
            " CAST($7 AS bigint), CAST($7 AS bigint))",
            cid, aid, node, ev->store, ev->title_vi, ev->title_en, at);
    if (rc == TP_OK)
        rc = FX(tx, NULL, err, errlen,
                "INSERT INTO case_events(case_id, at_ms, actor, action, text)"
                " VALUES($1, CAST($2 AS bigint), 'system', 'open', $3)",
                cid, at, ev->title_en);
    if (rc == TP_OK)
        rc = write_outbox(tx, "alert", "alert.fired", aid, ev, cid, public_url, now_ms, NULL, err,
                          errlen);
    if (rc == TP_OK)
        *fired = true;
out:
    free(numbers);
    cstore_rows_free(rows);
    return rc;
}

tp_err calert_write_test(cstore_tx *tx, const cstore_rows *rule, int64_t now_ms, cJSON **ids,
                         char *err, size_t errlen)
{
    calert_rule r;
    tp_err rc = calert_rule_from_row(rule, 0, &r);
    if (rc != TP_OK)
        return tp_errf(err, errlen, rc, "alert rule: stored row unreadable");
    cJSON *numbers = cJSON_CreateObject();
    cJSON_AddBoolToObject(numbers, "test", true);
    calert_event ev = {
        .rule = &r, .from_ms = now_ms - 15 * 60000, .to_ms = now_ms, .numbers = numbers};
    snprintf(ev.title_vi, sizeof ev.title_vi, "Thử nghiệm: %s", r.name_vi);
    snprintf(ev.title_en, sizeof ev.title_en, "Test: %s", r.name_en);
    *ids = cJSON_CreateArray();
    rc = *ids ? write_outbox(tx, "test", "alert.test", NULL, &ev, NULL, NULL, now_ms, *ids, err,
                             errlen)
              : TP_ERR_NOMEM;
    cJSON_Delete(numbers);
    calert_rule_clear(&r);
    if (rc != TP_OK) {
        cJSON_Delete(*ids);
        *ids = NULL;
    }
    return rc;
}
