/*
 * calert.c - the rule model: kinds, their parameters with defaults and validation, the
 * negative/happy scales, and the `alert` operations (add, list, remove, disable, enable, test)
 * that cfleet_call runs for the CLI and /v1/admin/alert-rules, audited in their transaction.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert.h"
#include "calert_int.h"
#include "cfleet_int.h"

static const char *const kind_names[CALERT_KIND_COUNT] = {
    [CALERT_NEGATIVE_SHARE] = "negative_share",
    [CALERT_LOW_SCORE] = "low_score",
    [CALERT_REASON] = "reason",
    [CALERT_PRAISE] = "praise",
    [CALERT_DEVICE_SILENT] = "device_silent",
    [CALERT_DEVICE_PENDING_AGE] = "device_pending_age",
    [CALERT_DEVICE_SEQ_HOLES] = "device_seq_holes",
    [CALERT_DEVICE_CLOCK] = "device_clock",
    [CALERT_DEVICE_DISK] = "device_disk",
    [CALERT_DEVICE_CONFIG_ERROR] = "device_config_error",
    [CALERT_COMMENT_TAG] = "comment_tag",
};

const char *calert_kind_name(calert_kind k)
{
    return k >= 0 && k < CALERT_KIND_COUNT ? kind_names[k] : "?";
}

tp_err calert_kind_parse(const char *name, calert_kind *out, char *err, size_t errlen)
{
    for (int k = 0; name && k < CALERT_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (calert_kind)k;
            return TP_OK;
        }
    return tp_errf(err, errlen, TP_ERR_INVALID,
                   "$.kind: '%.64s' is not a kind (negative_share, low_score, reason, praise,"
                   " device_silent, device_pending_age, device_seq_holes, device_clock,"
                   " device_disk, device_config_error, comment_tag)",
                   name ? name : "");
}

bool calert_kind_is_device(calert_kind k)
{
    return k >= CALERT_DEVICE_SILENT && k <= CALERT_DEVICE_CONFIG_ERROR;
}

bool calert_is_negative(tp_kind k, int v)
{
    switch (k) {
    case TP_KIND_NPS: return v >= 0 && v <= 6;
    case TP_KIND_CSAT: return v >= 1 && v <= 2;
    case TP_KIND_CES: return v >= 1 && v <= 3;
    case TP_KIND_SMILEY4: return v >= 1 && v <= 2;
    case TP_KIND_CHOICE: return false;
    }
    return false;
}

bool calert_is_happy(tp_kind k, int v)
{
    switch (k) {
    case TP_KIND_NPS: return v >= 9 && v <= 10;
    case TP_KIND_CSAT: return v >= 4 && v <= 5;
    case TP_KIND_CES: return v >= 5 && v <= 7;
    case TP_KIND_SMILEY4: return v >= 3 && v <= 4;
    case TP_KIND_CHOICE: return false;
    }
    return false;
}

/* ---- Parameters ------------------------------------------------------------------------------ */

/* Which fields each kind takes (bit per field) and their ranges. */
enum {
    F_SHARE = 1,
    F_WINDOW = 2,
    F_COUNT = 4,
    F_METRIC = 8,
    F_THRESHOLD = 16,
    F_CHOICE = 32,
    F_QUESTION = 64,
    F_RUN = 128,
    F_MINUTES = 256,
    F_FREE = 512,
    F_MISSING = 1024,
    F_TAG = 2048
};

static const unsigned kind_fields[CALERT_KIND_COUNT] = {
    [CALERT_NEGATIVE_SHARE] = F_SHARE | F_WINDOW | F_COUNT,
    [CALERT_LOW_SCORE] = F_METRIC | F_THRESHOLD | F_WINDOW,
    [CALERT_REASON] = F_CHOICE | F_QUESTION | F_COUNT | F_WINDOW,
    [CALERT_PRAISE] = F_RUN,
    [CALERT_DEVICE_SILENT] = F_MINUTES,
    [CALERT_DEVICE_PENDING_AGE] = F_MINUTES,
    [CALERT_DEVICE_SEQ_HOLES] = F_MISSING,
    [CALERT_DEVICE_CLOCK] = 0,
    [CALERT_DEVICE_DISK] = F_FREE,
    [CALERT_DEVICE_CONFIG_ERROR] = 0,
    [CALERT_COMMENT_TAG] = F_TAG | F_COUNT | F_WINDOW,
};

/* comment_tag's categories (ctag.h); "staff" matches every "staff:<name>" tag. */
static const char *const comment_tags[] = {"urgent", "profanity", "praise",
                                           "staff",  "spam",      "nonsense"};

static const struct {
    const char *name;
    unsigned bit;
    double lo, hi;
} fields[] = {
    {"min_share", F_SHARE, 1, 100},
    {"window_minutes", F_WINDOW, 1, 1440},
    {"min_count", F_COUNT, 1, 100000},
    {"metric", F_METRIC, 0, 0},
    {"threshold", F_THRESHOLD, -100, 100},
    {"choice", F_CHOICE, 0, 0},
    {"question", F_QUESTION, 0, 0},
    {"run", F_RUN, 2, 10000},
    {"minutes", F_MINUTES, 1, 10080},
    {"min_free_mb", F_FREE, 1, 10000000},
    {"min_missing", F_MISSING, 1, 1000000000},
    {"tag", F_TAG, 0, 0},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

/* A number given as a JSON number or a string of one. */
static bool num_of(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return isfinite(*out);
    }
    if (!cJSON_IsString(v) || !*v->valuestring)
        return false;
    char *end = NULL;
    *out = strtod(v->valuestring, &end);
    return end && !*end && isfinite(*out);
}

tp_err calert_params_parse(calert_kind k, const cJSON *params, calert_params *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->min_share = 50;
    out->window_min = k == CALERT_NEGATIVE_SHARE ? 15 : 60;
    out->min_count = k == CALERT_REASON ? 5 : k == CALERT_COMMENT_TAG ? 1 : 4;
    tp_strlcpy(out->tag, "urgent", sizeof out->tag);
    out->metric = TP_KIND_NPS;
    out->threshold = 0;
    out->run = 10;
    out->minutes = k == CALERT_DEVICE_PENDING_AGE ? 60 : 30;
    out->min_free_mb = 200;
    out->min_missing = 1;
    if (params && !cJSON_IsObject(params))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.params: expected an object");
    bool has_threshold = false;
    for (const cJSON *it = params ? params->child : NULL; it; it = it->next) {
        size_t f = 0;
        while (f < N_FIELDS && strcmp(fields[f].name, it->string) != 0)
            f++;
        if (f == N_FIELDS || !(kind_fields[k] & fields[f].bit))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "$.params.%.64s: not a parameter of kind %s", it->string,
                           calert_kind_name(k));
        unsigned bit = fields[f].bit;
        if (bit == F_CHOICE || bit == F_QUESTION) {
            if (!cJSON_IsString(it) || !tp_id_valid(it->valuestring))
                return tp_errf(err, errlen, TP_ERR_INVALID,
                               "$.params.%s: expected an id (1-64 of A-Z a-z 0-9 . _ -)",
                               it->string);
            tp_strlcpy(bit == F_CHOICE ? out->choice : out->question, it->valuestring,
                       sizeof out->choice);
            continue;
        }
        if (bit == F_TAG) {
            const char *t = cJSON_GetStringValue(it);
            size_t c = 0, n_tags = sizeof comment_tags / sizeof comment_tags[0];
            while (t && c < n_tags && strcmp(t, comment_tags[c]) != 0)
                c++;
            if (!t || c == n_tags)
                return tp_errf(err, errlen, TP_ERR_INVALID,
                               "$.params.tag: expected urgent, profanity, praise, staff, spam or"
                               " nonsense");
            tp_strlcpy(out->tag, t, sizeof out->tag);
            continue;
        }
        if (bit == F_METRIC) {
            const char *m = cJSON_GetStringValue(it);
            if (!m || (strcmp(m, "nps") != 0 && strcmp(m, "csat") != 0 && strcmp(m, "ces") != 0))
                return tp_errf(err, errlen, TP_ERR_INVALID,
                               "$.params.metric: expected nps, csat or ces");
            tp_kind_parse(m, &out->metric);
            continue;
        }
        double v;
        if (!num_of(it, &v) || v < fields[f].lo || v > fields[f].hi ||
            (bit != F_THRESHOLD && bit != F_SHARE && v != floor(v)))
            return tp_errf(err, errlen, TP_ERR_INVALID, "$.params.%s: expected %s in %g..%g",
                           it->string,
                           bit == F_THRESHOLD || bit == F_SHARE ? "a number" : "a whole number",
                           fields[f].lo, fields[f].hi);
        switch (bit) {
        case F_SHARE: out->min_share = v; break;
        case F_WINDOW: out->window_min = (int)v; break;
        case F_COUNT: out->min_count = (int)v; break;
        case F_THRESHOLD:
            out->threshold = v;
            has_threshold = true;
            break;
        case F_RUN: out->run = (int)v; break;
        case F_MINUTES: out->minutes = (int)v; break;
        case F_FREE: out->min_free_mb = (int64_t)v; break;
        case F_MISSING: out->min_missing = (int)v; break;
        default: break;
        }
    }
    if (k == CALERT_REASON && !out->choice[0])
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.params.choice: missing (the choice id)");
    if (k == CALERT_LOW_SCORE) {
        int lo = 0, hi = 10;
        if (!has_threshold)
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "$.params.threshold: missing (NPS points, or the mean on the metric's"
                           " scale)");
        tp_kind_range(out->metric, &lo, &hi);
        if (out->metric != TP_KIND_NPS && (out->threshold <= lo || out->threshold > hi))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "$.params.threshold: expected a mean in %d..%d for %s (not %g)", lo, hi,
                           tp_kind_name(out->metric), out->threshold);
    }
    return TP_OK;
}

cJSON *calert_params_json(calert_kind k, const calert_params *p)
{
    cJSON *o = cJSON_CreateObject();
    unsigned f = kind_fields[k];
    if (!o)
        return NULL;
    if (f & F_SHARE)
        cJSON_AddNumberToObject(o, "min_share", p->min_share);
    if (f & F_WINDOW)
        cJSON_AddNumberToObject(o, "window_minutes", p->window_min);
    if (f & F_COUNT)
        cJSON_AddNumberToObject(o, "min_count", p->min_count);
    if (f & F_METRIC)
        cJSON_AddStringToObject(o, "metric", tp_kind_name(p->metric));
    if (f & F_THRESHOLD)
        cJSON_AddNumberToObject(o, "threshold", p->threshold);
    if (f & F_CHOICE)
        cJSON_AddStringToObject(o, "choice", p->choice);
    if ((f & F_QUESTION) && p->question[0])
        cJSON_AddStringToObject(o, "question", p->question);
    if (f & F_RUN)
        cJSON_AddNumberToObject(o, "run", p->run);
    if (f & F_MINUTES)
        cJSON_AddNumberToObject(o, "minutes", p->minutes);
    if (f & F_FREE)
        cJSON_AddNumberToObject(o, "min_free_mb", (double)p->min_free_mb);
    if (f & F_MISSING)
        cJSON_AddNumberToObject(o, "min_missing", p->min_missing);
    if (f & F_TAG)
        cJSON_AddStringToObject(o, "tag", p->tag);
    return o;
}

/* ---- Operations ------------------------------------------------------------------------------ */

#define RULE_COLS CALERT_RULE_COLS

/* Row r of a RULE_COLS result as the API's JSON object. */
static cJSON *rule_json(const cstore_rows *rows, size_t r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", cstore_rows_get(rows, r, 0));
    cJSON_AddStringToObject(o, "node", cstore_rows_get(rows, r, 1));
    cJSON_AddStringToObject(o, "kind", cstore_rows_get(rows, r, 2));
    cJSON *name = cJSON_AddObjectToObject(o, "name");
    cJSON_AddStringToObject(name, "vi", cstore_rows_get(rows, r, 3));
    cJSON_AddStringToObject(name, "en", cstore_rows_get(rows, r, 4));
    cJSON *params = cJSON_Parse(cstore_rows_get(rows, r, 5));
    cJSON_AddItemToObject(o, "params", params ? params : cJSON_CreateObject());
    cJSON_AddNumberToObject(o, "cooldown_s", strtod(cstore_rows_get(rows, r, 6), NULL));
    cJSON *eps = cJSON_Parse(cstore_rows_get(rows, r, 7));
    cJSON_AddItemToObject(o, "endpoints", eps ? eps : cJSON_CreateArray());
    cJSON_AddBoolToObject(o, "enabled", strcmp(cstore_rows_get(rows, r, 8), "0") != 0);
    cJSON_AddNumberToObject(o, "created_ms", strtod(cstore_rows_get(rows, r, 9), NULL));
    cJSON_AddNumberToObject(o, "updated_ms", strtod(cstore_rows_get(rows, r, 10), NULL));
    return o;
}

/* Reads rule id into *out (a RULE_COLS row set). TP_ERR_NOT_FOUND names it. */
static tp_err rule_get(cstore_tx *tx, const char *id, cstore_rows **out, char *err, size_t errlen)
{
    tp_err rc = FX(tx, out, err, errlen, "SELECT " RULE_COLS " FROM alert_rules WHERE id = $1", id);
    if (rc == TP_OK && (*out)->n == 0) {
        cstore_rows_free(*out);
        *out = NULL;
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "$.id: no alert rule %.64s", id);
    }
    return rc;
}

static const char *str_arg(const cJSON *args, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, name));
}

static tp_err need_text(const cJSON *args, const char *name, size_t max, const char **out,
                        char *err, size_t errlen)
{
    *out = str_arg(args, name);
    if (!*out || !**out)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s: expected a non-empty string", name);
    if (strlen(*out) > max || !tp_utf8_valid(*out, strlen(*out)))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s: expected UTF-8 of at most %zu bytes",
                       name, max);
    return TP_OK;
}

tp_err calert_rule_from_row(const cstore_rows *rows, size_t row, calert_rule *r)
{
    char err[TP_ERRMSG_MAX];
    memset(r, 0, sizeof *r);
    const char *kind = cstore_rows_get(rows, row, 2);
    cJSON *params = cJSON_Parse(cstore_rows_get(rows, row, 5));
    tp_err rc = calert_kind_parse(kind, &r->kind, err, sizeof err);
    if (rc == TP_OK)
        rc = calert_params_parse(r->kind, params, &r->p, err, sizeof err);
    cJSON_Delete(params);
    r->endpoints = cJSON_Parse(cstore_rows_get(rows, row, 7));
    if (rc != TP_OK || !cJSON_IsArray(r->endpoints)) {
        calert_rule_clear(r);
        return TP_ERR_CORRUPT;
    }
    tp_strlcpy(r->id, cstore_rows_get(rows, row, 0), sizeof r->id);
    tp_strlcpy(r->node, cstore_rows_get(rows, row, 1), sizeof r->node);
    tp_strlcpy(r->name_vi, cstore_rows_get(rows, row, 3), sizeof r->name_vi);
    tp_strlcpy(r->name_en, cstore_rows_get(rows, row, 4), sizeof r->name_en);
    r->cooldown_ms = strtoll(cstore_rows_get(rows, row, 6), NULL, 10) * 1000;
    return TP_OK;
}

void calert_rule_clear(calert_rule *r)
{
    cJSON_Delete(r->endpoints);
    r->endpoints = NULL;
}

static tp_err op_add(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now,
                     cJSON **result, char *err, size_t errlen)
{
    const char *node, *kind_s, *name_vi, *name_en;
    calert_kind kind;
    calert_params p;
    cJSON *params = NULL, *eps = NULL, *after = NULL;
    char *params_txt = NULL, *eps_txt = NULL, id[TP_UUID_STR], cool[24], at[24];
    cstore_rows *rows = NULL;
    double cooldown = 1800;
    tp_err rc = need_text(args, "node", CFLEET_PATH_MAX, &node, err, errlen);
    if (rc == TP_OK)
        rc = cfleet_path_check(node, err, errlen);
    if (rc == TP_OK)
        rc = cfleet_node_exists(tx, node, err, errlen);
    if (rc == TP_OK)
        rc = need_text(args, "kind", 64, &kind_s, err, errlen);
    if (rc == TP_OK)
        rc = calert_kind_parse(kind_s, &kind, err, errlen);
    if (rc == TP_OK)
        rc = need_text(args, "name_vi", 200, &name_vi, err, errlen);
    if (rc == TP_OK)
        rc = need_text(args, "name_en", 200, &name_en, err, errlen);
    if (rc == TP_OK)
        rc = calert_params_parse(kind, cJSON_GetObjectItemCaseSensitive(args, "params"), &p, err,
                                 errlen);
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(args, "cooldown_s");
    if (rc == TP_OK && cd &&
        (!num_of(cd, &cooldown) || cooldown < 0 || cooldown > 30 * 86400 ||
         cooldown != floor(cooldown)))
        rc = tp_errf(err, errlen, TP_ERR_INVALID,
                     "$.cooldown_s: expected whole seconds in 0..2592000 (30 days)");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(args, "endpoints");
    if (rc == TP_OK && ep && !cJSON_IsArray(ep))
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "$.endpoints: expected an array of names");
    eps = cJSON_CreateArray();
    int i = 0;
    for (const cJSON *e = ep ? ep->child : NULL; rc == TP_OK && e; e = e->next, i++) {
        if (!cJSON_IsString(e) || !*e->valuestring || strlen(e->valuestring) > 64) {
            rc = tp_errf(err, errlen, TP_ERR_INVALID, "$.endpoints[%d]: expected an endpoint name",
                         i);
            break;
        }
        cJSON_AddItemToArray(eps, cJSON_CreateString(e->valuestring));
    }
    if (rc != TP_OK)
        goto out;
    params = calert_params_json(kind, &p);
    params_txt = params ? cJSON_PrintUnformatted(params) : NULL;
    eps_txt = eps ? cJSON_PrintUnformatted(eps) : NULL;
    if (!params_txt || !eps_txt || (rc = tp_uuid7_new(tp_clock_system(), id)) != TP_OK) {
        rc = rc != TP_OK ? rc : TP_ERR_NOMEM;
        goto out;
    }
    rc = FX(tx, NULL, err, errlen,
            "INSERT INTO alert_rules(id, node_path, kind, name_vi, name_en, params_json,"
            " cooldown_s, endpoints_json, enabled, created_ms, updated_ms)"
            " VALUES($1, $2, $3, $4, $5, $6, CAST($7 AS bigint), $8, 1, CAST($9 AS bigint),"
            " CAST($9 AS bigint))",
            id, node, calert_kind_name(kind), name_vi, name_en, params_txt,
            cfleet_i64(cool, (int64_t)cooldown), eps_txt, cfleet_i64(at, now));
    if (rc == TP_OK)
        rc = rule_get(tx, id, &rows, err, errlen);
    if (rc == TP_OK && !(after = rule_json(rows, 0)))
        rc = TP_ERR_NOMEM;
    if (rc == TP_OK)
        rc = cfleet_audit(tx, actor, "alert.add", id, NULL, after, now, err, errlen);
    if (rc == TP_OK) {
        *result = after;
        after = NULL;
    }
out:
    cJSON_Delete(params);
    cJSON_Delete(eps);
    cJSON_Delete(after);
    free(params_txt);
    free(eps_txt);
    cstore_rows_free(rows);
    return rc;
}

static tp_err op_list(cstore_tx *tx, cJSON **result, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    tp_err rc =
        FX0(tx, &rows, err, errlen, "SELECT " RULE_COLS " FROM alert_rules ORDER BY node_path, id");
    cJSON *arr = rc == TP_OK ? cJSON_CreateArray() : NULL;
    for (size_t r = 0; rc == TP_OK && r < rows->n; r++) {
        cJSON *it = rule_json(rows, r);
        if (!arr || !it || !cJSON_AddItemToArray(arr, it)) {
            cJSON_Delete(it);
            rc = TP_ERR_NOMEM;
        }
    }
    cstore_rows_free(rows);
    if (rc != TP_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    *result = arr;
    return TP_OK;
}

/* remove / disable / enable: one row changed, audited with before and after. */
static tp_err op_change(cstore_tx *tx, const char *op, const char *actor, const cJSON *args,
                        int64_t now, cJSON **result, char *err, size_t errlen)
{
    const char *id;
    cstore_rows *rows = NULL;
    cJSON *before = NULL, *after = NULL;
    char at[24];
    tp_err rc = need_text(args, "id", TP_UUID_STR, &id, err, errlen);
    if (rc == TP_OK)
        rc = rule_get(tx, id, &rows, err, errlen);
    if (rc == TP_OK && !(before = rule_json(rows, 0)))
        rc = TP_ERR_NOMEM;
    cstore_rows_free(rows);
    rows = NULL;
    if (rc != TP_OK)
        goto out;
    if (strcmp(op, "alert.remove") == 0)
        rc = FX(tx, NULL, err, errlen, "DELETE FROM alert_rules WHERE id = $1", id);
    else
        rc = FX(tx, NULL, err, errlen,
                "UPDATE alert_rules SET enabled = CAST($2 AS bigint), updated_ms ="
                " CAST($3 AS bigint) WHERE id = $1",
                id, strcmp(op, "alert.enable") == 0 ? "1" : "0", cfleet_i64(at, now));
    if (rc == TP_OK && strcmp(op, "alert.remove") != 0) {
        rc = rule_get(tx, id, &rows, err, errlen);
        if (rc == TP_OK && !(after = rule_json(rows, 0)))
            rc = TP_ERR_NOMEM;
    }
    if (rc == TP_OK)
        rc = cfleet_audit(tx, actor, op, id, before, after, now, err, errlen);
    if (rc == TP_OK) {
        *result = after ? after : before;
        if (after)
            cJSON_Delete(before);
        before = after = NULL;
    }
out:
    cJSON_Delete(before);
    cJSON_Delete(after);
    cstore_rows_free(rows);
    return rc;
}

static tp_err op_test(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now,
                      cJSON **result, char *err, size_t errlen)
{
    const char *id;
    cstore_rows *rows = NULL;
    cJSON *rule = NULL, *ids = NULL;
    tp_err rc = need_text(args, "id", TP_UUID_STR, &id, err, errlen);
    if (rc == TP_OK)
        rc = rule_get(tx, id, &rows, err, errlen);
    if (rc == TP_OK && !(rule = rule_json(rows, 0)))
        rc = TP_ERR_NOMEM;
    if (rc == TP_OK)
        rc = calert_write_test(tx, rows, now, &ids, err, errlen);
    if (rc == TP_OK)
        rc = cfleet_audit(tx, actor, "alert.test", id, NULL, ids, now, err, errlen);
    if (rc == TP_OK) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "rule", rule);
        cJSON_AddNumberToObject(o, "endpoints", cJSON_GetArraySize(ids));
        cJSON_AddItemToObject(o, "outbox", ids);
        rule = ids = NULL;
        *result = o;
    }
    cJSON_Delete(rule);
    cJSON_Delete(ids);
    cstore_rows_free(rows);
    return rc;
}

tp_err calert_op(cstore_tx *tx, const char *op, const char *actor, const cJSON *args,
                 int64_t now_ms, cJSON **result, char *err, size_t errlen)
{
    if (strcmp(op, "alert.add") == 0)
        return op_add(tx, actor, args, now_ms, result, err, errlen);
    if (strcmp(op, "alert.list") == 0)
        return op_list(tx, result, err, errlen);
    if (strcmp(op, "alert.test") == 0)
        return op_test(tx, actor, args, now_ms, result, err, errlen);
    if (strcmp(op, "alert.remove") == 0 || strcmp(op, "alert.disable") == 0 ||
        strcmp(op, "alert.enable") == 0)
        return op_change(tx, op, actor, args, now_ms, result, err, errlen);
    return tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no operation %s", op);
}
