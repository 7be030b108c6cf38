/*
 * ccase.c - cases: the list and one case with its timeline (GET /v1/cases[/<id>]) and the
 * actions of people on a case (see ccase.h).
 *
 * Each action first touches its case row with a no-op UPDATE ... RETURNING state: on PostgreSQL
 * that takes the row lock, so two people resolving one case at once through two collectors are
 * serialised and the second sees "resolved" (409) instead of both writing a resolve event; SQLite
 * holds its write lock for the whole transaction anyway.
 */
#include "ccase_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfleet_int.h"

double ccase_quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* ---- Actions --------------------------------------------------------------------------------- */

enum { S_OPEN = 1, S_ACK = 2, S_RESOLVED = 4 };

/* The state machine: which states an action starts from, the state it leaves (NULL: same), the
 * field it needs, and the update it makes ($1 id, $2 now, $3 assignee). */
static const struct action {
    const char *name;
    unsigned from;
    const char *need; /* "text", "assignee" or NULL */
    const char *hint; /* why a refused state is refused */
    const char *sql;
} actions[] = {
    {"ack", S_OPEN, NULL, "ack needs an open case",
     "UPDATE cases SET state = 'acknowledged', acknowledged_ms = COALESCE(acknowledged_ms,"
     " CAST($2 AS BIGINT)), updated_ms = CAST($2 AS BIGINT) WHERE id = $1"},
    {"comment", S_OPEN | S_ACK | S_RESOLVED, "text", "",
     "UPDATE cases SET updated_ms = CAST($2 AS BIGINT) WHERE id = $1"},
    {"assign", S_OPEN | S_ACK, "assignee", "",
     "UPDATE cases SET assignee = $3, updated_ms = CAST($2 AS BIGINT) WHERE id = $1"},
    {"resolve", S_OPEN | S_ACK, NULL, "",
     "UPDATE cases SET state = 'resolved', resolved_ms = CAST($2 AS BIGINT),"
     " updated_ms = CAST($2 AS BIGINT) WHERE id = $1"},
    {"reopen", S_RESOLVED, NULL, "only a resolved case can be reopened",
     "UPDATE cases SET state = 'open', resolved_ms = NULL, updated_ms = CAST($2 AS BIGINT)"
     " WHERE id = $1"},
};

static unsigned state_bit(const char *s)
{
    return !s                               ? 0
           : strcmp(s, "open") == 0         ? S_OPEN
           : strcmp(s, "acknowledged") == 0 ? S_ACK
           : strcmp(s, "resolved") == 0     ? S_RESOLVED
                                            : 0;
}

/* A string argument of at most max bytes of UTF-8; required or not. */
static tp_err str_arg(const cJSON *args, const char *name, size_t max, bool required,
                      const char **out, char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(args, name);
    *out = NULL;
    if (!it || cJSON_IsNull(it)) {
        if (required)
            return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s: required", name);
        return TP_OK;
    }
    if (!cJSON_IsString(it))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s: expected a string", name);
    size_t n = strlen(it->valuestring);
    if (required && n == 0)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s: must not be empty", name);
    if (n > max)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s: longer than %zu bytes", name, max);
    if (!tp_utf8_valid(it->valuestring, n))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s: not valid UTF-8", name);
    *out = n ? it->valuestring : NULL;
    return TP_OK;
}

static cJSON *event_json(const cstore_rows *rows, size_t i)
{
    cJSON *o = cJSON_CreateObject();
    const char *text = cstore_rows_get(rows, i, 4);
    char at[40];
    tp_format_utc(ccase_i64(rows, i, 1), at, sizeof at);
    bool ok = o && cJSON_AddNumberToObject(o, "id", (double)ccase_i64(rows, i, 0)) &&
              cJSON_AddNumberToObject(o, "at_ms", (double)ccase_i64(rows, i, 1)) &&
              cJSON_AddStringToObject(o, "at", at) &&
              cJSON_AddStringToObject(o, "actor", cstore_rows_get(rows, i, 2)) &&
              cJSON_AddStringToObject(o, "action", cstore_rows_get(rows, i, 3)) &&
              (text ? cJSON_AddStringToObject(o, "text", text) : cJSON_AddNullToObject(o, "text"));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The case row of id into *rows. Returns TP_OK or TP_ERR_NOT_FOUND ("no case ID"). */
static tp_err case_row(cstore_tx *tx, const char *id, cstore_rows **rows, char *err, size_t errlen)
{
    tp_err rc = FX(tx, rows, err, errlen, "SELECT " CCASE_COLS " FROM cases WHERE id = $1", id);
    if (rc == TP_OK && (*rows)->n == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no case %s", id);
    return rc;
}

tp_err ccase_act(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                 cJSON **result, char *err, size_t errlen)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "action"));
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "id"));
    const char *text = NULL, *assignee = NULL;
    const struct action *a = NULL;
    cstore_rows *rows = NULL, *ev = NULL;
    char at[24], audit_action[32];
    cJSON *event = NULL, *cs = NULL;
    tp_err rc = TP_OK;
    *result = NULL;
    for (size_t i = 0; name && i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(actions[i].name, name) == 0)
            a = &actions[i];
    if (!a)
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "$.action: expected ack, comment, assign, resolve or reopen");
    if (!id || !tp_uuid_valid(id))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.id: expected a case id (a UUID)");
    bool need_text = a->need && strcmp(a->need, "text") == 0;
    bool need_assignee = a->need && strcmp(a->need, "assignee") == 0;
    if ((rc = str_arg(args, "text", CCASE_TEXT_MAX, need_text, &text, err, errlen)) != TP_OK ||
        (rc = str_arg(args, "assignee", CCASE_ASSIGNEE_MAX, need_assignee, &assignee, err,
                      errlen)) != TP_OK)
        return rc;
    if (need_assignee)
        text = assignee;
    cfleet_i64(at, now_ms);
    rc = FX(tx, &rows, err, errlen,
            "UPDATE cases SET updated_ms = updated_ms WHERE id = $1 RETURNING state", id);
    if (rc == TP_OK && rows->n == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no case %s", id);
    if (rc != TP_OK)
        goto out;
    const char *state = cstore_rows_get(rows, 0, 0);
    if (!(state_bit(state) & a->from)) {
        bool resolved = state_bit(state) == S_RESOLVED;
        rc = tp_errf(err, errlen, TP_ERR_EXISTS, "case %s is %s: %s", id, state ? state : "?",
                     resolved ? "reopen it first" : a->hint);
        goto out;
    }
    cJSON *before = cJSON_CreateObject();
    cJSON_AddStringToObject(before, "state", state);
    /* PostgreSQL wants exactly the parameters a statement uses: $3 only in assign's. */
    const char *params[] = {id, at, assignee};
    rc = cstore_tx_exec(tx, a->sql, params, strstr(a->sql, "$3") ? 3 : 2, NULL, err, errlen);
    if (rc == TP_OK)
        rc = FX(tx, &ev, err, errlen,
                "INSERT INTO case_events(case_id, at_ms, actor, action, text)"
                " VALUES($1, $2, $3, $4, $5) RETURNING id, at_ms, actor, action, text",
                id, at, actor, a->name, text);
    cstore_rows_free(rows);
    rows = NULL;
    if (rc == TP_OK)
        rc = case_row(tx, id, &rows, err, errlen);
    if (rc == TP_OK) {
        cJSON *after = cJSON_CreateObject();
        cJSON_AddStringToObject(after, "state", cstore_rows_get(rows, 0, 6));
        if (text)
            cJSON_AddStringToObject(after, need_assignee ? "assignee" : "text", text);
        snprintf(audit_action, sizeof audit_action, "case.%s", a->name);
        rc = cfleet_audit(tx, actor, audit_action, id, before, after, now_ms, err, errlen);
        cJSON_Delete(after);
    }
    cJSON_Delete(before);
    if (rc != TP_OK)
        goto out;
    cs = ccase_json(rows, 0, now_ms);
    event = ev->n ? event_json(ev, 0) : NULL;
    *result = cJSON_CreateObject();
    if (!cs || !event || !*result) {
        rc = TP_ERR_NOMEM;
        cJSON_Delete(*result);
        *result = NULL;
        goto out;
    }
    cJSON_AddItemToObject(*result, "case", cs);
    cJSON_AddItemToObject(*result, "event", event);
    cs = event = NULL;
out:
    cJSON_Delete(cs);
    cJSON_Delete(event);
    cstore_rows_free(rows);
    cstore_rows_free(ev);
    return rc;
}

/* ---- Reading --------------------------------------------------------------------------------- */

/* Which states a state= filter keeps (a mask of S_*), or 0 for a bad value. */
static unsigned state_filter(const char *s)
{
    if (!s || !*s || strcmp(s, "all") == 0)
        return S_OPEN | S_ACK | S_RESOLVED;
    if (strcmp(s, "active") == 0)
        return S_OPEN | S_ACK;
    return state_bit(s);
}

/* The list of 14.2 for sc, states, limit. */
static tp_err list_json(cstore_tx *tx, const cscope *sc, unsigned states, size_t limit,
                        const char *scope, int64_t now_ms, cJSON **out, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    int64_t counts[3] = {0};
    cJSON *root = cJSON_CreateObject(), *arr = NULL, *c = NULL;
    tp_err rc = FX0(tx, &rows, err, errlen,
                    "SELECT " CCASE_COLS " FROM cases ORDER BY opened_ms DESC, id DESC");
    if (rc == TP_OK && (!root || !cJSON_AddNumberToObject(root, "now_ms", (double)now_ms) ||
                        !cJSON_AddStringToObject(root, "scope", scope) ||
                        !(c = cJSON_AddObjectToObject(root, "counts")) ||
                        !(arr = cJSON_AddArrayToObject(root, "cases"))))
        rc = TP_ERR_NOMEM;
    size_t listed = 0;
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        if (!cscope_has_case(sc, cstore_rows_get(rows, i, 2), cstore_rows_get(rows, i, 3)))
            continue;
        unsigned bit = state_bit(cstore_rows_get(rows, i, 6));
        counts[0] += bit == S_OPEN;
        counts[1] += bit == S_ACK;
        counts[2] += bit == S_RESOLVED;
        if (!(bit & states) || listed >= limit)
            continue;
        cJSON *o = ccase_json(rows, i, now_ms);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = TP_ERR_NOMEM;
        }
        listed++;
    }
    if (rc == TP_OK && (!cJSON_AddNumberToObject(c, "open", (double)counts[0]) ||
                        !cJSON_AddNumberToObject(c, "acknowledged", (double)counts[1]) ||
                        !cJSON_AddNumberToObject(c, "resolved", (double)counts[2])))
        rc = TP_ERR_NOMEM;
    cstore_rows_free(rows);
    if (rc != TP_OK) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return TP_OK;
}

/* The alert that opened a case, or JSON null. */
static cJSON *alert_json(cstore_tx *tx, const char *alert_id, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    if (!alert_id ||
        FX(tx, &rows, err, errlen,
           "SELECT a.id, a.rule_id, r.kind, r.name_vi, r.name_en, a.touchpoint, a.device,"
           " a.window_from_ms, a.window_to_ms, a.fired_ms, a.numbers_json"
           " FROM alerts a LEFT JOIN alert_rules r ON r.id = a.rule_id WHERE a.id = $1",
           alert_id) != TP_OK ||
        rows->n == 0) {
        cstore_rows_free(rows);
        return cJSON_CreateNull();
    }
    static const char *const names[] = {
        "id",     "rule_id",         "kind",          NULL,       NULL, "touchpoint",
        "device", "#window_from_ms", "#window_to_ms", "#fired_ms"};
    cJSON *o = cJSON_CreateObject();
    for (size_t c = 0; o && c < 10; c++) {
        const char *v = cstore_rows_get(rows, 0, c);
        if (!names[c])
            continue;
        if (names[c][0] == '#')
            v ? cJSON_AddNumberToObject(o, names[c] + 1, strtod(v, NULL))
              : cJSON_AddNullToObject(o, names[c] + 1);
        else
            v ? cJSON_AddStringToObject(o, names[c], v) : cJSON_AddNullToObject(o, names[c]);
    }
    const char *vi = cstore_rows_get(rows, 0, 3), *en = cstore_rows_get(rows, 0, 4);
    if (o && vi && en) {
        cJSON *n = cJSON_AddObjectToObject(o, "rule_name");
        cJSON_AddStringToObject(n, "vi", vi);
        cJSON_AddStringToObject(n, "en", en);
    } else if (o) {
        cJSON_AddNullToObject(o, "rule_name");
    }
    cJSON *numbers = cJSON_Parse(cstore_rows_get(rows, 0, 10) ? cstore_rows_get(rows, 0, 10) : "");
    if (o)
        cJSON_AddItemToObject(o, "numbers", numbers ? numbers : cJSON_CreateObject());
    else
        cJSON_Delete(numbers);
    cstore_rows_free(rows);
    return o;
}

/* One case with its alert and timeline (14.3); TP_ERR_NOT_FOUND also outside sc. */
static tp_err one_json(cstore_tx *tx, const cscope *sc, const char *id, int64_t now_ms, cJSON **out,
                       char *err, size_t errlen)
{
    cstore_rows *rows = NULL, *ev = NULL;
    cJSON *root = NULL, *cs = NULL, *tl = NULL;
    tp_err rc = case_row(tx, id, &rows, err, errlen);
    if (rc == TP_OK &&
        !cscope_has_case(sc, cstore_rows_get(rows, 0, 2), cstore_rows_get(rows, 0, 3)))
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no case %s", id);
    if (rc == TP_OK)
        rc = FX(tx, &ev, err, errlen,
                "SELECT id, at_ms, actor, action, text FROM case_events WHERE case_id = $1"
                " ORDER BY at_ms, id",
                id);
    if (rc != TP_OK)
        goto out;
    root = cJSON_CreateObject();
    cs = ccase_json(rows, 0, now_ms);
    if (!root || !cs || !cJSON_AddNumberToObject(root, "now_ms", (double)now_ms) ||
        !cJSON_AddItemToObject(cs, "alert",
                               alert_json(tx, cstore_rows_get(rows, 0, 1), err, errlen)) ||
        !cJSON_AddItemToObject(root, "case", cs) ||
        !(tl = cJSON_AddArrayToObject(root, "timeline"))) {
        if (!cJSON_GetObjectItemCaseSensitive(root, "case"))
            cJSON_Delete(cs);
        rc = TP_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; rc == TP_OK && i < ev->n; i++) {
        cJSON *e = event_json(ev, i);
        if (!e || !cJSON_AddItemToArray(tl, e)) {
            cJSON_Delete(e);
            rc = TP_ERR_NOMEM;
        }
    }
out:
    cstore_rows_free(rows);
    cstore_rows_free(ev);
    if (rc != TP_OK) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return TP_OK;
}

tp_err ccase_list(cstore_tx *tx, const cJSON *args, int64_t now_ms, cJSON **result, char *err,
                  size_t errlen)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "id"));
    const char *node = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "node"));
    const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "state"));
    cscope sc;
    unsigned states = state_filter(state);
    if (!states)
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "$.state: expected open, acknowledged, resolved, active or all");
    if (id && !tp_uuid_valid(id))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.id: expected a case id (a UUID)");
    tp_err rc = cscope_filter(tx, "", node, NULL, &sc, err, errlen);
    if (rc == TP_OK)
        rc = id ? one_json(tx, &sc, id, now_ms, result, err, errlen)
                : list_json(tx, &sc, states, CCASE_LIST_DEFAULT, "", now_ms, result, err, errlen);
    cscope_free(&sc);
    return rc;
}

tp_err ccase_active(cstore_tx *tx, const char *scope, int64_t now_ms, size_t max, cJSON **out,
                    char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    cscope sc;
    char sbuf[TP_ID_MAX + 1];
    cJSON *arr = cJSON_CreateArray();
    tp_err rc = arr ? cscope_load(tx, scope, &sc, err, errlen) : TP_ERR_NOMEM;
    if (rc != TP_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    rc = FX0(tx, &rows, err, errlen,
             "SELECT " CCASE_COLS " FROM cases WHERE state <> 'resolved' ORDER BY opened_ms, id");
    size_t listed = 0;
    for (size_t i = 0; rc == TP_OK && i < rows->n && listed < max; i++) {
        const char *node = cstore_rows_get(rows, i, 2), *store = cstore_rows_get(rows, i, 3);
        if (!cscope_has_case(&sc, node, store))
            continue;
        cJSON *o = cJSON_CreateObject(), *t = NULL;
        const char *st = ccase_store_of(node, store, sbuf);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = TP_ERR_NOMEM;
            break;
        }
        bool ok =
            cJSON_AddStringToObject(o, "id", cstore_rows_get(rows, i, 0)) &&
            cJSON_AddStringToObject(o, "state", cstore_rows_get(rows, i, 6)) &&
            (st ? cJSON_AddStringToObject(o, "store", st) : cJSON_AddNullToObject(o, "store")) &&
            (t = cJSON_AddObjectToObject(o, "title")) &&
            cJSON_AddStringToObject(t, "vi", cstore_rows_get(rows, i, 4)) &&
            cJSON_AddStringToObject(t, "en", cstore_rows_get(rows, i, 5)) &&
            cJSON_AddNumberToObject(o, "opened_ms", (double)ccase_i64(rows, i, 8)) &&
            cJSON_AddNumberToObject(o, "age_s", (double)((now_ms - ccase_i64(rows, i, 8)) / 1000));
        if (!ok)
            rc = TP_ERR_NOMEM;
        listed++;
    }
    cstore_rows_free(rows);
    cscope_free(&sc);
    if (rc != TP_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return TP_OK;
}

static capi_reply reply_json(tp_err rc, cJSON *root, const char *err)
{
    if (rc != TP_OK)
        return cscope_error(rc, err);
    capi_reply r = {.status = 200, .body = cJSON_PrintUnformatted(root)};
    cJSON_Delete(root);
    if (!r.body)
        return capi_error(500, "internal", "out of memory");
    return r;
}

capi_reply ccase_get(cstore *s, const char *url, const char *scope, ccase_arg_fn arg, void *cls,
                     int64_t now_ms)
{
    char err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    cscope sc;
    cJSON *root = NULL;
    scope = scope ? scope : "";
    if (strcmp(url, "/v1/cases/report") == 0)
        return ccase_report_get(s, url, scope, arg, cls, now_ms);
    const char *id = strncmp(url, "/v1/cases/", 10) == 0 ? url + 10 : NULL;
    if (id && !tp_uuid_valid(id))
        return capi_error(400, "malformed", "case id: expected a UUID");
    if (!id && strcmp(url, "/v1/cases") != 0)
        return capi_error(404, "not_found", "no such resource");
    const char *state = arg(cls, "state"), *limit_s = arg(cls, "limit");
    unsigned states = state_filter(state);
    if (!states)
        return capi_error(400, "malformed",
                          "state: expected open, acknowledged, resolved, active or all");
    long limit = CCASE_LIST_DEFAULT;
    if (limit_s && *limit_s) {
        char *end = NULL;
        limit = strtol(limit_s, &end, 10);
        if (end == limit_s || *end || limit < 1 || limit > CCASE_LIST_MAX)
            return capi_error(400, "malformed", "limit: expected an integer in 1..1000");
    }
    tp_err rc = cstore_tx_begin(s, false, &tx, err, sizeof err);
    if (rc != TP_OK)
        return cscope_error(rc, err);
    rc = cscope_filter(tx, scope, id ? NULL : arg(cls, "node"), id ? NULL : arg(cls, "store"), &sc,
                       err, sizeof err);
    if (rc == TP_OK) {
        rc = id ? one_json(tx, &sc, id, now_ms, &root, err, sizeof err)
                : list_json(tx, &sc, states, (size_t)limit, scope, now_ms, &root, err, sizeof err);
        cscope_free(&sc);
    }
    cstore_tx_rollback(tx);
    return reply_json(rc, root, err);
}
