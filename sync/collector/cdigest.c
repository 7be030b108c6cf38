/*
 * cdigest.c - digests: the admin operations (add, remove, send-now, list) and the sending of one
 * period (see cdigest.h): the model of the e-mail is computed here, rendered by cdigest_mail.c.
 *
 * The numbers go through creport exactly as GET /v1/report's do (the same counts, the same NPS
 * and margin from tp_nps_compute, the same rounding), so a digest never disagrees with the
 * dashboard. The period's answers are read with the same half-open range [from, to) the report
 * uses, with the bounds from the node's time zone.
 */
#include "cdigest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccase_int.h"
#include "cdigest_int.h"
#include "cfleet_int.h"

/* ---- The node's settings --------------------------------------------------------------------- */

tp_err cdigest_node_settings(cstore_tx *tx, const char *node, cJSON **out, char *err, size_t errlen)
{
    char path[CFLEET_PATH_MAX + 1];
    cJSON *merged = cJSON_CreateObject();
    tp_err rc = merged ? TP_OK : TP_ERR_NOMEM;
    size_t n = strlen(node);
    /* Each ancestor from the root down: the prefixes ending before a '/' and the node itself. */
    for (size_t i = 1; rc == TP_OK && i <= n && n <= CFLEET_PATH_MAX; i++) {
        if (i < n && node[i] != '/')
            continue;
        memcpy(path, node, i);
        path[i] = '\0';
        cstore_rows *rows = NULL;
        rc = FX(tx, &rows, err, errlen, "SELECT settings_json FROM nodes WHERE path = $1", path);
        cJSON *own = rc == TP_OK && rows->n ? cJSON_Parse(cstore_rows_get(rows, 0, 0)) : NULL;
        if (own)
            rc = cfleet_settings_merge(merged, own);
        cJSON_Delete(own);
        cstore_rows_free(rows);
    }
    if (rc != TP_OK) {
        cJSON_Delete(merged);
        return rc;
    }
    *out = merged;
    return TP_OK;
}

/* ---- The period's numbers -------------------------------------------------------------------- */

/* Whether an answer of (store, touchpoint) lies in sc. */
static bool answer_in(const cscope *sc, const char *store, const char *touchpoint)
{
    if (!cscope_has_store(sc, store))
        return false;
    return sc->all || !sc->touchpoint[0] || (touchpoint && strcmp(touchpoint, sc->touchpoint) == 0);
}

/* The report total of [from, to) in sc, with "customers" (distinct sessions). */
static tp_err numbers(cstore_tx *tx, const cscope *sc, int64_t from, int64_t to, cJSON **out,
                      char *err, size_t errlen)
{
    char f[24], t[24];
    cstore_rows *rows = NULL;
    creport *r = creport_new(CREPORT_BY_STORE);
    int64_t customers = 0;
    tp_err rc = r ? TP_OK : TP_ERR_NOMEM;
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, errlen,
                "SELECT store, touchpoint, kind, value, choice, time_source = 'uncorrected',"
                " count(*) FROM answers WHERE at_ms >= CAST($1 AS BIGINT) AND"
                " at_ms < CAST($2 AS BIGINT) GROUP BY 1, 2, 3, 4, 5, 6",
                cfleet_i64(f, from), cfleet_i64(t, to));
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        tp_kind kind;
        const char *v = cstore_rows_get(rows, i, 3), *unc = cstore_rows_get(rows, i, 5);
        if (!answer_in(sc, cstore_rows_get(rows, i, 0), cstore_rows_get(rows, i, 1)) ||
            tp_kind_parse(cstore_rows_get(rows, i, 2), &kind) != TP_OK)
            continue;
        /* One group: the report's total over the scope. */
        rc = creport_add(
            r, "all", kind, v ? atoi(v) : 0, cstore_rows_get(rows, i, 4),
            unc && (strcmp(unc, "1") == 0 || strcmp(unc, "t") == 0 || strcmp(unc, "true") == 0),
            ccase_i64(rows, i, 6));
    }
    cstore_rows_free(rows);
    rows = NULL;
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, errlen,
                "SELECT store, touchpoint, count(DISTINCT session) FROM answers"
                " WHERE at_ms >= CAST($1 AS BIGINT) AND at_ms < CAST($2 AS BIGINT)"
                " GROUP BY 1, 2",
                f, t);
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++)
        if (answer_in(sc, cstore_rows_get(rows, i, 0), cstore_rows_get(rows, i, 1)))
            customers += ccase_i64(rows, i, 2); /* a session is one device's: no double count */
    cstore_rows_free(rows);
    char *json = rc == TP_OK ? creport_json(r, "", "", NULL, "") : NULL;
    creport_free(r);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    free(json);
    cJSON *total = root ? cJSON_DetachItemFromObjectCaseSensitive(root, "total") : NULL;
    cJSON_Delete(root);
    if (rc == TP_OK && (!total || !cJSON_AddNumberToObject(total, "customers", (double)customers)))
        rc = TP_ERR_NOMEM;
    if (rc != TP_OK) {
        cJSON_Delete(total);
        return rc;
    }
    *out = total;
    return TP_OK;
}

/* The top reasons of a report total: [{"id", "n"}], the CDIGEST_REASONS most chosen. */
static cJSON *top_reasons(const cJSON *total)
{
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(total, "choice"), "counts");
    cJSON *arr = cJSON_CreateArray();
    bool used[CREPORT_MAX_CHOICES + 1] = {false};
    for (int k = 0; arr && k < CDIGEST_REASONS; k++) {
        const cJSON *best = NULL;
        int bi = -1, i = 0;
        for (const cJSON *c = counts ? counts->child : NULL; c; c = c->next, i++)
            if (i <= CREPORT_MAX_CHOICES && !used[i] &&
                (!best || c->valuedouble > best->valuedouble ||
                 (c->valuedouble == best->valuedouble && strcmp(c->string, best->string) < 0))) {
                best = c;
                bi = i;
            }
        if (!best)
            break;
        used[bi] = true;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", best->string);
        cJSON_AddNumberToObject(o, "n", best->valuedouble);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* Silent devices under sc: [{"id", "node", "last_seen_ms" | null, "silent_for_s" | null}]. */
static tp_err silent_devices(cstore_tx *tx, const char *node, int64_t now_ms, int silent_after_s,
                             cJSON **out, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    cJSON *arr = cJSON_CreateArray();
    tp_err rc = arr ? FX0(tx, &rows, err, errlen,
                          "SELECT f.id, f.node_path, d.last_seen_ms FROM fleet_devices f"
                          " LEFT JOIN devices d ON d.id = f.id WHERE f.revoked_ms IS NULL"
                          " ORDER BY f.id")
                    : TP_ERR_NOMEM;
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *path = cstore_rows_get(rows, i, 1), *seen = cstore_rows_get(rows, i, 2);
        int64_t last = seen ? strtoll(seen, NULL, 10) : 0;
        if (!cscope_path_within(node, path) ||
            (seen && now_ms - last <= (int64_t)silent_after_s * 1000))
            continue;
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = TP_ERR_NOMEM;
            break;
        }
        cJSON_AddStringToObject(o, "id", cstore_rows_get(rows, i, 0));
        cJSON_AddStringToObject(o, "node", path);
        if (seen) {
            cJSON_AddNumberToObject(o, "last_seen_ms", (double)last);
            cJSON_AddNumberToObject(o, "silent_for_s", (double)((now_ms - last) / 1000));
        } else {
            cJSON_AddNullToObject(o, "last_seen_ms");
            cJSON_AddNullToObject(o, "silent_for_s");
        }
    }
    cstore_rows_free(rows);
    if (rc != TP_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return TP_OK;
}

/* The period's answers under sc as CSV (PROTOCOL.md 14.6) into *csv (free()). */
static tp_err answers_csv(cstore_tx *tx, const cscope *sc, int64_t from, int64_t to, char **csv,
                          char *err, size_t errlen)
{
    static const char *const head = "answer_id,session_id,device,store,touchpoint,survey,"
                                    "survey_version,question,kind,value,choice,at\r\n";
    char f[24], t[24], at[40];
    cstore_rows *rows = NULL;
    tp_buf b;
    tp_buf_init(&b, CDIGEST_CSV_MAX);
    tp_err rc = FX(tx, &rows, err, errlen,
                   "SELECT id, session, device, store, touchpoint, survey, survey_version,"
                   " question, kind, value, choice, at_ms FROM answers"
                   " WHERE at_ms >= CAST($1 AS BIGINT) AND at_ms < CAST($2 AS BIGINT)"
                   " ORDER BY at_ms, id",
                   cfleet_i64(f, from), cfleet_i64(t, to));
    if (rc == TP_OK)
        rc = tp_buf_add(&b, head, strlen(head));
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        if (!answer_in(sc, cstore_rows_get(rows, i, 3), cstore_rows_get(rows, i, 4)))
            continue;
        for (size_t c = 0; rc == TP_OK && c < 11; c++) {
            const char *v = cstore_rows_get(rows, i, c);
            rc = cdigest_csv_field(&b, v ? v : "");
            if (rc == TP_OK)
                rc = tp_buf_add(&b, ",", 1);
        }
        tp_format_utc(ccase_i64(rows, i, 11), at, sizeof at);
        if (rc == TP_OK)
            rc = tp_buf_addf(&b, "%s\r\n", at);
    }
    cstore_rows_free(rows);
    if (rc == TP_ERR_TOO_LARGE)
        tp_errf(err, errlen, rc, "the period's answers exceed the attachment's %u bytes",
                CDIGEST_CSV_MAX);
    if (rc != TP_OK) {
        tp_buf_free(&b);
        return rc;
    }
    *csv = tp_buf_take(&b);
    return *csv ? TP_OK : TP_ERR_NOMEM;
}

/* ---- Sending --------------------------------------------------------------------------------- */

/* The digest row: node, period, endpoint id, lang, and the endpoint's name and kind. */
static tp_err digest_row(cstore_tx *tx, const char *id, cstore_rows **rows, char *err,
                         size_t errlen)
{
    tp_err rc = FX(tx, rows, err, errlen,
                   "SELECT g.node_path, g.period, g.endpoint_id, g.lang, e.name, e.kind"
                   " FROM digests g LEFT JOIN endpoints e ON e.id = g.endpoint_id WHERE g.id = $1",
                   id);
    if (rc == TP_OK && (*rows)->n == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no digest %s", id);
    return rc;
}

tp_err cdigest_send(cstore_tx *tx, const char *id, const char *key, int64_t now_ms,
                    int silent_after_s, cJSON **result, char *err, size_t errlen)
{
    cstore_rows *row = NULL, *claim = NULL;
    cJSON *settings = NULL, *model = NULL, *payload = NULL;
    ctz *z = NULL;
    cscope sc = {0};
    char outbox_id[TP_UUID_STR], at[24], prev[CDIGEST_KEY_MAX], created[40];
    char *csv = NULL, *text = NULL;
    int64_t from = 0, to = 0, pfrom = 0, pto = 0;
    cdigest_period p;
    *result = NULL;
    tp_err rc = digest_row(tx, id, &row, err, errlen);
    if (rc != TP_OK)
        goto out;
    const char *node = cstore_rows_get(row, 0, 0);
    if (cdigest_period_parse(cstore_rows_get(row, 0, 1), &p) != TP_OK) {
        rc = tp_errf(err, errlen, TP_ERR_CORRUPT, "digest %s: unknown period", id);
        goto out;
    }
    if ((rc = cdigest_node_settings(tx, node, &settings, err, errlen)) != TP_OK)
        goto out;
    const char *zone = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(settings, "timezone"));
    if ((rc = ctz_open(zone, &z, err, errlen)) != TP_OK)
        goto out;
    if (cdigest_period_range(z, p, key, &from, &to) != TP_OK ||
        cdigest_period_prev(z, p, key, prev) != TP_OK ||
        cdigest_period_range(z, p, prev, &pfrom, &pto) != TP_OK) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "$.period: '%.16s' is not a %s period (%s)", key,
                     cdigest_period_name(p), p == CDIGEST_DAILY ? "YYYY-MM-DD" : "YYYY-Www");
        goto out;
    }
    /* Claim the period first: a second sender stops here (PostgreSQL: waits on the key, then
     * finds it taken). */
    if ((rc = tp_uuid7_new(NULL, outbox_id)) != TP_OK)
        goto out;
    rc = FX(tx, &claim, err, errlen,
            "INSERT INTO digest_runs(digest_id, period_key, outbox_id, sent_ms)"
            " VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING digest_id",
            id, key, outbox_id, cfleet_i64(at, now_ms));
    if (rc == TP_OK && claim->n == 0) {
        cstore_rows_free(claim);
        claim = NULL;
        rc =
            FX(tx, &claim, err, errlen,
               "SELECT sent_ms FROM digest_runs WHERE digest_id = $1 AND period_key = $2", id, key);
        char when[40] = "?";
        if (rc == TP_OK && claim->n)
            tp_format_utc(ccase_i64(claim, 0, 0), when, sizeof when);
        rc = tp_errf(err, errlen, TP_ERR_EXISTS, "digest %s period %s was sent at %s", id, key,
                     when);
        goto out;
    }
    if (rc != TP_OK)
        goto out;
    cJSON *cur = NULL, *old = NULL, *cases = NULL, *silent = NULL;
    model = cJSON_CreateObject();
    if (!model) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    cJSON_AddStringToObject(model, "digest_id", id);
    cJSON_AddStringToObject(model, "node", node);
    cJSON_AddStringToObject(model, "period", cdigest_period_name(p));
    cJSON_AddStringToObject(model, "period_key", key);
    cJSON_AddStringToObject(model, "previous_key", prev);
    cJSON_AddStringToObject(model, "lang", cstore_rows_get(row, 0, 3));
    cJSON_AddStringToObject(model, "tz", ctz_name(z));
    cJSON_AddNumberToObject(model, "from_ms", (double)from);
    cJSON_AddNumberToObject(model, "to_ms", (double)to);
    cJSON_AddNumberToObject(model, "now_ms", (double)now_ms);
    if ((rc = cscope_load(tx, node, &sc, err, errlen)) == TP_OK &&
        (rc = numbers(tx, &sc, from, to, &cur, err, errlen)) == TP_OK &&
        (rc = numbers(tx, &sc, pfrom, pto, &old, err, errlen)) == TP_OK &&
        (rc = ccase_active(tx, node, now_ms, CDIGEST_CASES, &cases, err, errlen)) == TP_OK &&
        (rc = silent_devices(tx, node, now_ms, silent_after_s, &silent, err, errlen)) == TP_OK)
        rc = answers_csv(tx, &sc, from, to, &csv, err, errlen);
    cJSON_AddItemToObject(model, "reasons", top_reasons(cur));
    cJSON_AddItemToObject(model, "current", cur);
    cJSON_AddItemToObject(model, "previous", old);
    cJSON_AddItemToObject(model, "cases", cases);
    cJSON_AddItemToObject(model, "silent", silent);
    if (rc != TP_OK)
        goto out;
    cJSON *email = cdigest_mail(model, csv, strlen(csv));
    tp_format_utc(now_ms, created, sizeof created);
    payload = cJSON_CreateObject();
    cJSON *dj = payload ? cJSON_AddObjectToObject(payload, "digest") : NULL;
    if (!email || !dj) {
        cJSON_Delete(email);
        rc = TP_ERR_NOMEM;
        goto out;
    }
    cJSON_AddStringToObject(payload, "type", "digest");
    cJSON_AddStringToObject(payload, "id", outbox_id);
    cJSON_AddStringToObject(payload, "created_at", created);
    cJSON_AddStringToObject(dj, "id", id);
    cJSON_AddStringToObject(dj, "node", node);
    cJSON_AddStringToObject(dj, "period", cdigest_period_name(p));
    cJSON_AddStringToObject(dj, "period_key", key);
    char fs[40], ts[40];
    tp_format_utc(from, fs, sizeof fs);
    tp_format_utc(to, ts, sizeof ts);
    cJSON_AddStringToObject(dj, "from", fs);
    cJSON_AddStringToObject(dj, "to", ts);
    cJSON_AddStringToObject(dj, "lang", cstore_rows_get(row, 0, 3));
    cJSON_AddItemToObject(dj, "numbers", cJSON_Duplicate(cJSON_GetObjectItem(model, "current"), 1));
    cJSON_AddItemToObject(payload, "email", email);
    if (!(text = cJSON_PrintUnformatted(payload))) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    rc = FX(tx, NULL, err, errlen,
            "INSERT INTO outbox(id, endpoint_id, kind, ref_id, payload_json, created_ms,"
            " next_attempt_ms) VALUES($1, $2, 'digest', $3, $4, $5, $5)",
            outbox_id, cstore_rows_get(row, 0, 2), id, text, at);
    if (rc != TP_OK)
        goto out;
    *result = cJSON_CreateObject();
    if (!*result) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    cJSON_AddStringToObject(*result, "digest_id", id);
    cJSON_AddStringToObject(*result, "period_key", key);
    cJSON_AddStringToObject(*result, "outbox_id", outbox_id);
    cJSON_AddNumberToObject(*result, "from_ms", (double)from);
    cJSON_AddNumberToObject(*result, "to_ms", (double)to);
out:
    cstore_rows_free(row);
    cstore_rows_free(claim);
    cJSON_Delete(settings);
    cJSON_Delete(model);
    cJSON_Delete(payload);
    cscope_free(&sc);
    ctz_free(z);
    free(csv);
    free(text);
    return rc;
}

/* ---- Operations ------------------------------------------------------------------------------ */

static tp_err digest_add(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                         cJSON **result, char *err, size_t errlen)
{
    const char *node = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "node"));
    const char *period = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "period"));
    const char *ep = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "endpoint"));
    const char *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "lang"));
    cdigest_period p;
    cstore_rows *rows = NULL;
    char id[TP_UUID_STR], at[24];
    lang = lang ? lang : "vi";
    if (!node)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.node: expected a node path");
    tp_err rc = cfleet_path_check(node, err, errlen);
    if (rc != TP_OK)
        return rc;
    if (cdigest_period_parse(period, &p) != TP_OK)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.period: expected daily or weekly");
    if (!ep)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.endpoint: expected an endpoint name");
    if (strcmp(lang, "vi") != 0 && strcmp(lang, "en") != 0)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.lang: expected vi or en");
    if ((rc = cfleet_node_exists(tx, node, err, errlen)) != TP_OK)
        return rc;
    rc = FX(tx, &rows, err, errlen, "SELECT id, kind FROM endpoints WHERE name = $1", ep);
    if (rc == TP_OK && rows->n == 0)
        rc =
            tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no endpoint %s (add it with endpoint add)", ep);
    else if (rc == TP_OK && strcmp(cstore_rows_get(rows, 0, 1), "email") != 0)
        rc = tp_errf(err, errlen, TP_ERR_INVALID,
                     "$.endpoint: %s is a %s endpoint; digests go to e-mail endpoints", ep,
                     cstore_rows_get(rows, 0, 1));
    if (rc == TP_OK && (rc = tp_uuid7_new(NULL, id)) == TP_OK)
        rc = FX(tx, NULL, err, errlen,
                "INSERT INTO digests(id, node_path, period, endpoint_id, lang, created_ms)"
                " VALUES($1, $2, $3, $4, $5, $6)",
                id, node, cdigest_period_name(p), cstore_rows_get(rows, 0, 0), lang,
                cfleet_i64(at, now_ms));
    cJSON *after = rc == TP_OK ? cJSON_CreateObject() : NULL;
    if (after) {
        cJSON_AddStringToObject(after, "id", id);
        cJSON_AddStringToObject(after, "node", node);
        cJSON_AddStringToObject(after, "period", cdigest_period_name(p));
        cJSON_AddStringToObject(after, "endpoint", ep);
        cJSON_AddStringToObject(after, "endpoint_id", cstore_rows_get(rows, 0, 0));
        cJSON_AddStringToObject(after, "lang", lang);
        cJSON_AddNumberToObject(after, "created_ms", (double)now_ms);
        rc = cfleet_audit(tx, actor, "digest.add", id, NULL, after, now_ms, err, errlen);
    } else if (rc == TP_OK) {
        rc = TP_ERR_NOMEM;
    }
    cstore_rows_free(rows);
    if (rc != TP_OK) {
        cJSON_Delete(after);
        return rc;
    }
    *result = after;
    return TP_OK;
}

static tp_err digest_remove(cstore_tx *tx, const char *actor, const char *id, int64_t now_ms,
                            cJSON **result, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    tp_err rc = FX(tx, &rows, err, errlen, "DELETE FROM digests WHERE id = $1 RETURNING id", id);
    if (rc == TP_OK && rows->n == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no digest %s", id);
    cstore_rows_free(rows);
    if (rc == TP_OK)
        rc = cfleet_audit(tx, actor, "digest.remove", id, NULL, NULL, now_ms, err, errlen);
    if (rc == TP_OK && !(*result = cJSON_CreateObject()))
        rc = TP_ERR_NOMEM;
    if (rc == TP_OK) {
        cJSON_AddStringToObject(*result, "id", id);
        cJSON_AddStringToObject(*result, "status", "removed");
    }
    return rc;
}

tp_err cdigest_act(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                   cJSON **result, char *err, size_t errlen)
{
    const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "action"));
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "id"));
    *result = NULL;
    if (a && strcmp(a, "add") == 0)
        return digest_add(tx, actor, args, now_ms, result, err, errlen);
    if (!a || (strcmp(a, "remove") != 0 && strcmp(a, "send-now") != 0))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.action: expected add, remove or send-now");
    if (!id || !tp_uuid_valid(id))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.id: expected a digest id (a UUID)");
    if (strcmp(a, "remove") == 0)
        return digest_remove(tx, actor, id, now_ms, result, err, errlen);
    /* send-now: the given period, or the last complete one in the node's zone. */
    const cJSON *pj = cJSON_GetObjectItemCaseSensitive(args, "period");
    char key[CDIGEST_KEY_MAX];
    if (pj && !cJSON_IsString(pj))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.period: expected YYYY-MM-DD or YYYY-Www");
    if (pj) {
        if (tp_strlcpy(key, pj->valuestring, sizeof key) != TP_OK)
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "$.period: expected YYYY-MM-DD or YYYY-Www");
    } else {
        cstore_rows *row = NULL;
        cJSON *settings = NULL;
        ctz *z = NULL;
        cdigest_period p = CDIGEST_DAILY;
        tp_err rc = digest_row(tx, id, &row, err, errlen);
        if (rc == TP_OK)
            rc = cdigest_node_settings(tx, cstore_rows_get(row, 0, 0), &settings, err, errlen);
        if (rc == TP_OK)
            rc = ctz_open(
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(settings, "timezone")), &z,
                err, errlen);
        if (rc == TP_OK) {
            cdigest_period_parse(cstore_rows_get(row, 0, 1), &p);
            cdigest_last_complete(z, p, now_ms, key);
        }
        ctz_free(z);
        cJSON_Delete(settings);
        cstore_rows_free(row);
        if (rc != TP_OK)
            return rc;
    }
    /* The silence bound of the digests sent by hand is the collector's default (1 h). */
    tp_err rc = cdigest_send(tx, id, key, now_ms, CDIGEST_SILENT_DEFAULT_S, result, err, errlen);
    if (rc == TP_OK) {
        cJSON *after = cJSON_CreateObject();
        cJSON_AddStringToObject(after, "period_key", key);
        rc = cfleet_audit(tx, actor, "digest.send-now", id, NULL, after, now_ms, err, errlen);
        cJSON_Delete(after);
    }
    if (rc != TP_OK) {
        cJSON_Delete(*result);
        *result = NULL;
    }
    return rc;
}

tp_err cdigest_list(cstore_tx *tx, int64_t now_ms, cJSON **result, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    cJSON *arr = cJSON_CreateArray();
    tp_err rc = arr ? FX0(tx, &rows, err, errlen,
                          "SELECT g.id, g.node_path, g.period, e.name, g.lang, g.created_ms,"
                          " (SELECT r.period_key FROM digest_runs r WHERE r.digest_id = g.id"
                          " ORDER BY r.period_key DESC LIMIT 1),"
                          " (SELECT max(r.sent_ms) FROM digest_runs r WHERE r.digest_id = g.id)"
                          " FROM digests g LEFT JOIN endpoints e ON e.id = g.endpoint_id"
                          " ORDER BY g.created_ms, g.id")
                    : TP_ERR_NOMEM;
    static const char *const cols[] = {"id",   "node",        "period",          "endpoint",
                                       "lang", "#created_ms", "last_period_key", "#last_sent_ms"};
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = TP_ERR_NOMEM;
            break;
        }
        for (size_t c = 0; c < 8; c++) {
            const char *v = cstore_rows_get(rows, i, c);
            const char *name = cols[c][0] == '#' ? cols[c] + 1 : cols[c];
            if (!v)
                cJSON_AddNullToObject(o, name);
            else if (cols[c][0] == '#')
                cJSON_AddNumberToObject(o, name, strtod(v, NULL));
            else
                cJSON_AddStringToObject(o, name, v);
        }
    }
    cstore_rows_free(rows);
    (void)now_ms;
    if (rc != TP_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    *result = arr;
    return TP_OK;
}
