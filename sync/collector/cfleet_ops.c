/*
 * cfleet_ops.c - the fleet's administrative operations (cfleet_call): the one code path behind
 * both the CLI subcommands and the admin API. Each runs in one write transaction together with
 * its audit row, so a change is never stored without its audit (nor the reverse).
 */
#include "calert.h"
#include "cfleet_int.h"
#include "cread.h"

#include "ccase.h"
#include "ccomment.h"
#include "cdeliver.h"
#include "cdigest.h"
#include "ckey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct octx {
    cstore_tx *tx;
    const char *actor;
    const cJSON *args;
    int64_t now;
    cJSON *result;
    char *err;
    size_t errlen;
} octx;

static const char *arg_str(octx *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o->args, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static tp_err need(octx *o, const char *name, const char **out)
{
    *out = arg_str(o, name);
    if (!*out)
        return tp_errf(o->err, o->errlen, TP_ERR_INVALID, "$.%s: expected a string", name);
    return TP_OK;
}

/* Lists the rows of sql (no parameters) as objects named by cols ("#name": a number). */
static tp_err list(octx *o, const char *sql, const char *const *cols, size_t n)
{
    cstore_rows *rows = NULL;
    tp_err rc = FX0(o->tx, &rows, o->err, o->errlen, sql);
    cJSON *arr = rc == TP_OK ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        cJSON *it = cJSON_CreateObject();
        if (!arr || !it || !cJSON_AddItemToArray(arr, it)) {
            cJSON_Delete(it);
            rc = TP_ERR_NOMEM;
            break;
        }
        for (size_t c = 0; c < n; c++) {
            const char *v = cstore_rows_get(rows, i, c);
            if (cols[c][0] == '#')
                cJSON_AddNumberToObject(it, cols[c] + 1, v ? strtod(v, NULL) : 0);
            else if (v)
                cJSON_AddStringToObject(it, cols[c], v);
            else
                cJSON_AddNullToObject(it, cols[c]);
        }
    }
    cstore_rows_free(rows);
    if (rc != TP_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    o->result = arr;
    return TP_OK;
}

/* ---- Nodes ----------------------------------------------------------------------------------- */

static tp_err node_set(octx *o)
{
    const char *path;
    cstore_rows *rows = NULL;
    cJSON *before = NULL, *after = NULL;
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(o->args, "settings");
    char at[24];
    tp_err rc = need(o, "path", &path);
    if (rc == TP_OK)
        rc = cfleet_path_check(path, o->err, o->errlen);
    if (rc == TP_OK && settings)
        rc = cfleet_settings_check(settings, "$.settings", o->err, o->errlen);
    if (rc == TP_OK)
        rc = cfleet_node_create(o->tx, path, o->now, o->err, o->errlen);
    /* A no-op update first takes the row lock (PostgreSQL), so two collectors setting keys of one
     * node at once both keep their keys instead of one read-modify-write winning. */
    if (rc == TP_OK)
        rc = FX(o->tx, NULL, o->err, o->errlen,
                "UPDATE nodes SET updated_ms = updated_ms WHERE path = $1", path);
    if (rc == TP_OK)
        rc = FX(o->tx, &rows, o->err, o->errlen, "SELECT settings_json FROM nodes WHERE path = $1",
                path);
    if (rc != TP_OK)
        goto out;
    before = cJSON_Parse(cstore_rows_get(rows, 0, 0));
    after = cJSON_Duplicate(before, true);
    if (!before || !after || (rc = cfleet_settings_merge(after, settings)) != TP_OK) {
        rc = rc != TP_OK ? rc : TP_ERR_CORRUPT;
        goto out;
    }
    char *text = cJSON_PrintUnformatted(after);
    rc = text ? FX(o->tx, NULL, o->err, o->errlen,
                   "UPDATE nodes SET settings_json = $2, updated_ms = $3 WHERE path = $1", path,
                   text, cfleet_i64(at, o->now))
              : TP_ERR_NOMEM;
    free(text);
    if (rc == TP_OK)
        rc = cfleet_audit(o->tx, o->actor, "node.set", path, before, after, o->now, o->err,
                          o->errlen);
    if (rc == TP_OK) {
        o->result = cJSON_CreateObject();
        cJSON_AddStringToObject(o->result, "path", path);
        cJSON_AddItemToObject(o->result, "settings", after);
        after = NULL;
    }
out:
    cJSON_Delete(before);
    cJSON_Delete(after);
    cstore_rows_free(rows);
    return rc;
}

static tp_err node_list(octx *o)
{
    static const char *const cols[] = {"path", "parent", "settings"};
    tp_err rc = list(o, "SELECT path, parent, settings_json FROM nodes ORDER BY path", cols, 3);
    /* settings as JSON rather than text */
    for (cJSON *it = rc == TP_OK ? o->result->child : NULL; it; it = it->next) {
        cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "settings");
        cJSON *parsed = cJSON_Parse(s ? s->valuestring : "{}");
        if (parsed)
            cJSON_ReplaceItemInObjectCaseSensitive(it, "settings", parsed);
    }
    return rc;
}

/* ---- Devices --------------------------------------------------------------------------------- */

static tp_err device_row(octx *o, const char *id, cstore_rows **rows)
{
    tp_err rc = FX(o->tx, rows, o->err, o->errlen,
                   "SELECT node_path, revoked_ms FROM fleet_devices WHERE id = $1", id);
    if (rc == TP_OK && (*rows)->n == 0)
        rc = tp_errf(o->err, o->errlen, TP_ERR_NOT_FOUND, "no device %s in the store", id);
    return rc;
}

cJSON *cfleet_pair(const char *k1, const char *v1, const char *k2, const char *v2)
{
    cJSON *o = cJSON_CreateObject();
    if (o && k1)
        cJSON_AddStringToObject(o, k1, v1);
    if (o && k2)
        cJSON_AddStringToObject(o, k2, v2);
    return o;
}

static tp_err audit_pair(octx *o, const char *action, const char *target, cJSON *before,
                         cJSON *after)
{
    tp_err rc =
        cfleet_audit(o->tx, o->actor, action, target, before, after, o->now, o->err, o->errlen);
    cJSON_Delete(before);
    cJSON_Delete(after);
    return rc;
}

static tp_err device_add(octx *o)
{
    const char *id, *node;
    char token[64], hx[65], at[24];
    tp_err rc = need(o, "id", &id);
    if (rc == TP_OK)
        rc = need(o, "node", &node);
    if (rc == TP_OK && !tp_id_valid(id))
        rc = tp_errf(o->err, o->errlen, TP_ERR_INVALID,
                     "$.id: expected 1-64 characters of A-Z a-z 0-9 . _ -");
    if (rc == TP_OK)
        rc = cfleet_node_exists(o->tx, node, o->err, o->errlen);
    if (rc == TP_OK && cauth_new_token(token, hx) != TP_OK)
        rc = tp_errf(o->err, o->errlen, TP_ERR_IO, "getrandom failed");
    if (rc == TP_OK) {
        rc = FX(o->tx, NULL, o->err, o->errlen,
                "INSERT INTO fleet_devices(id, node_path, token_sha256, created_ms)"
                " VALUES($1, $2, $3, $4)",
                id, node, hx, cfleet_i64(at, o->now));
        if (rc == TP_ERR_EXISTS)
            tp_errf(o->err, o->errlen, rc, "device %s is already in the store", id);
    }
    if (rc == TP_OK)
        rc = ckey_issue(o->tx, id, o->err, o->errlen);
    if (rc == TP_OK)
        rc = audit_pair(o, "device.add", id, NULL, cfleet_pair("node", node, NULL, NULL));
    if (rc == TP_OK)
        o->result = cfleet_pair("id", id, "token", token);
    return rc;
}

static tp_err device_move(octx *o)
{
    const char *id, *node;
    cstore_rows *rows = NULL;
    tp_err rc = need(o, "id", &id);
    if (rc == TP_OK)
        rc = need(o, "node", &node);
    if (rc == TP_OK)
        rc = device_row(o, id, &rows);
    if (rc == TP_OK)
        rc = cfleet_node_exists(o->tx, node, o->err, o->errlen);
    if (rc == TP_OK)
        rc = FX(o->tx, NULL, o->err, o->errlen,
                "UPDATE fleet_devices SET node_path = $2 WHERE id = $1", id, node);
    if (rc == TP_OK)
        rc = audit_pair(o, "device.move", id,
                        cfleet_pair("node", cstore_rows_get(rows, 0, 0), NULL, NULL),
                        cfleet_pair("node", node, NULL, NULL));
    if (rc == TP_OK)
        o->result = cfleet_pair("id", id, "node", node);
    cstore_rows_free(rows);
    return rc;
}

static tp_err device_revoke(octx *o)
{
    const char *id;
    cstore_rows *rows = NULL;
    char at[24];
    tp_err rc = need(o, "id", &id);
    if (rc == TP_OK)
        rc = device_row(o, id, &rows);
    if (rc == TP_OK)
        rc = FX(o->tx, NULL, o->err, o->errlen,
                "UPDATE fleet_devices SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL", id,
                cfleet_i64(at, o->now));
    if (rc == TP_OK)
        rc = audit_pair(o, "device.revoke", id, NULL, cfleet_pair("revoked", "true", NULL, NULL));
    if (rc == TP_OK)
        o->result = cfleet_pair("id", id, "status", "revoked");
    cstore_rows_free(rows);
    return rc;
}

static tp_err device_rotate(octx *o)
{
    const char *id;
    cstore_rows *rows = NULL;
    char token[64], hx[65];
    tp_err rc = need(o, "id", &id);
    if (rc == TP_OK)
        rc = device_row(o, id, &rows);
    if (rc == TP_OK && cauth_new_token(token, hx) != TP_OK)
        rc = tp_errf(o->err, o->errlen, TP_ERR_IO, "getrandom failed");
    /* A revoked device gets a working token again only through rotate: say so in the audit. */
    if (rc == TP_OK)
        rc = FX(o->tx, NULL, o->err, o->errlen,
                "UPDATE fleet_devices SET token_sha256 = $2, revoked_ms = NULL WHERE id = $1", id,
                hx);
    if (rc == TP_OK)
        rc = ckey_issue(o->tx, id, o->err, o->errlen);
    if (rc == TP_OK)
        rc =
            audit_pair(o, "device.rotate-token", id, NULL, cfleet_pair("token", "new", NULL, NULL));
    if (rc == TP_OK)
        o->result = cfleet_pair("id", id, "token", token);
    cstore_rows_free(rows);
    return rc;
}

/* args: {"node": PATH (default "unassigned"), "devices": [{"id", "token_sha256"}, ...]} */
static tp_err device_import(octx *o)
{
    const char *node = arg_str(o, "node");
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(o->args, "devices");
    char at[24];
    int added = 0, skipped = 0;
    tp_err rc = TP_OK;
    if (!node)
        node = "unassigned";
    if (!cJSON_IsArray(devs))
        return tp_errf(o->err, o->errlen, TP_ERR_INVALID, "$.devices: expected an array");
    if ((rc = cfleet_path_check(node, o->err, o->errlen)) != TP_OK ||
        (rc = cfleet_node_create(o->tx, node, o->now, o->err, o->errlen)) != TP_OK)
        return rc;
    cfleet_i64(at, o->now);
    cJSON *ids = cJSON_CreateArray();
    for (const cJSON *d = devs->child; rc == TP_OK && d; d = d->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(d, "id");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(d, "token_sha256");
        cstore_rows *rows = NULL;
        if (!cJSON_IsString(id) || !tp_id_valid(id->valuestring) || !cJSON_IsString(h) ||
            strlen(h->valuestring) != 64) {
            rc = tp_errf(o->err, o->errlen, TP_ERR_INVALID, "$.devices: bad entry");
            break;
        }
        rc = FX(o->tx, &rows, o->err, o->errlen,
                "INSERT INTO fleet_devices(id, node_path, token_sha256, comment_key, created_ms)"
                " VALUES($1, $2, $3, 'imported', $4) ON CONFLICT DO NOTHING RETURNING id",
                id->valuestring, node, h->valuestring, at);
        if (rc == TP_OK && rows->n == 1) {
            added++;
            cJSON_AddItemToArray(ids, cJSON_CreateString(id->valuestring));
            rc = audit_pair(o, "device.import", id->valuestring, NULL,
                            cfleet_pair("node", node, NULL, NULL));
        } else if (rc == TP_OK) {
            skipped++;
        }
        cstore_rows_free(rows);
    }
    if (rc != TP_OK) {
        cJSON_Delete(ids);
        return rc;
    }
    o->result = cJSON_CreateObject();
    cJSON_AddNumberToObject(o->result, "added", added);
    cJSON_AddNumberToObject(o->result, "skipped", skipped);
    cJSON_AddItemToObject(o->result, "ids", ids);
    return TP_OK;
}

static tp_err device_list(octx *o)
{
    static const char *const cols[] = {
        "id", "node", "revoked_ms", "running_revision", "apply_error", "#created_ms"};
    return list(o,
                "SELECT id, node_path, revoked_ms, running_revision, apply_error, created_ms"
                " FROM fleet_devices ORDER BY id",
                cols, 6);
}

/* ---- Surveys --------------------------------------------------------------------------------- */

static tp_err survey_publish(octx *o)
{
    const char *doc;
    char id[TP_ID_MAX + 1], ver[24], at[24];
    int version = 0;
    cstore_rows *rows = NULL;
    tp_err rc = need(o, "document", &doc);
    const char *name = arg_str(o, "file");
    if (rc == TP_OK)
        rc = cfleet_survey_check(name ? name : "survey", doc, strlen(doc), id, &version, o->err,
                                 o->errlen);
    if (rc != TP_OK)
        return rc;
    cJSON *parsed = cJSON_Parse(doc);
    char *norm = parsed ? cJSON_PrintUnformatted(parsed) : NULL;
    cJSON_Delete(parsed);
    if (!norm)
        return TP_ERR_NOMEM;
    cfleet_i64(ver, version);
    rc = FX(o->tx, &rows, o->err, o->errlen,
            "SELECT document FROM surveys WHERE id = $1 AND version = $2", id, ver);
    if (rc == TP_OK && rows->n == 1) {
        if (strcmp(cstore_rows_get(rows, 0, 0), norm) != 0)
            rc = tp_errf(o->err, o->errlen, TP_ERR_EXISTS,
                         "survey %s version %d is already published with other content "
                         "(versions are immutable: publish version %d)",
                         id, version, version + 1);
    } else if (rc == TP_OK) {
        rc = FX(o->tx, NULL, o->err, o->errlen,
                "INSERT INTO surveys(id, version, document, published_ms, published_by)"
                " VALUES($1, $2, $3, $4, $5)",
                id, ver, norm, cfleet_i64(at, o->now), o->actor);
        if (rc == TP_OK)
            rc = audit_pair(o, "survey.publish", id, NULL, cfleet_pair("version", ver, NULL, NULL));
    }
    free(norm);
    cstore_rows_free(rows);
    if (rc == TP_OK) {
        o->result = cfleet_pair("id", id, NULL, NULL);
        cJSON_AddNumberToObject(o->result, "version", version);
    }
    return rc;
}

/* args: {"survey": ID, "version": N, "node": PATH} or {..., "devices": [ID, ...]} */
static tp_err survey_assign(octx *o)
{
    const char *sid, *node = arg_str(o, "node");
    const cJSON *jv = cJSON_GetObjectItemCaseSensitive(o->args, "version");
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(o->args, "devices");
    char ver[24], at[24];
    cstore_rows *rows = NULL;
    tp_err rc = need(o, "survey", &sid);
    if (rc == TP_OK && !cJSON_IsNumber(jv))
        rc = tp_errf(o->err, o->errlen, TP_ERR_INVALID, "$.version: expected an integer");
    if (rc == TP_OK && !node == !cJSON_IsArray(devs))
        rc = tp_errf(o->err, o->errlen, TP_ERR_INVALID, "$: expected either node or devices");
    if (rc != TP_OK)
        return rc;
    cfleet_i64(ver, (int64_t)jv->valuedouble);
    cfleet_i64(at, o->now);
    rc = FX(o->tx, &rows, o->err, o->errlen, "SELECT 1 FROM surveys WHERE id = $1 AND version = $2",
            sid, ver);
    if (rc == TP_OK && rows->n == 0)
        rc =
            tp_errf(o->err, o->errlen, TP_ERR_NOT_FOUND, "survey %s@%s is not published", sid, ver);
    cstore_rows_free(rows);
    if (rc == TP_OK && node) {
        /* The node's own "survey" setting: children inherit it like any other key. */
        cJSON *args = cJSON_CreateObject(), *set = cJSON_AddObjectToObject(args, "settings");
        cJSON *sv = cJSON_AddObjectToObject(set, "survey");
        cJSON_AddStringToObject(sv, "id", sid);
        cJSON_AddNumberToObject(sv, "version", jv->valuedouble);
        cJSON_AddStringToObject(args, "path", node);
        const cJSON *saved = o->args;
        rc = cfleet_node_exists(o->tx, node, o->err, o->errlen);
        o->args = args;
        if (rc == TP_OK)
            rc = node_set(o);
        o->args = saved;
        cJSON_Delete(args);
        cJSON_Delete(o->result);
        o->result = NULL;
        if (rc == TP_OK)
            rc = FX(o->tx, NULL, o->err, o->errlen,
                    "INSERT INTO survey_assignments(node_path, survey_id, survey_version,"
                    " assigned_ms, assigned_by) VALUES($1, $2, $3, $4, $5)",
                    node, sid, ver, at, o->actor);
    }
    for (const cJSON *d = devs ? devs->child : NULL; rc == TP_OK && d; d = d->next) {
        cstore_rows *r = NULL;
        if (!cJSON_IsString(d)) {
            rc = tp_errf(o->err, o->errlen, TP_ERR_INVALID, "$.devices: expected device ids");
            break;
        }
        rc = device_row(o, d->valuestring, &r);
        cstore_rows_free(r);
        if (rc == TP_OK)
            rc = FX(o->tx, NULL, o->err, o->errlen,
                    "INSERT INTO survey_assignments(device_id, survey_id, survey_version,"
                    " assigned_ms, assigned_by) VALUES($1, $2, $3, $4, $5)",
                    d->valuestring, sid, ver, at, o->actor);
        if (rc == TP_OK)
            rc = audit_pair(o, "survey.assign", d->valuestring, NULL,
                            cfleet_pair("survey", sid, "version", ver));
    }
    if (rc == TP_OK)
        o->result = cfleet_pair("survey", sid, "version", ver);
    return rc;
}

static tp_err survey_list(octx *o)
{
    static const char *const cols[] = {"id", "#version", "#published_ms", "published_by"};
    return list(o,
                "SELECT id, version, published_ms, published_by FROM surveys"
                " ORDER BY id, version",
                cols, 4);
}

/* ---- Admin tokens and audit ------------------------------------------------------------------ */

static tp_err admin_add(octx *o)
{
    const char *name;
    char token[64], hx[65], at[24];
    tp_err rc = need(o, "name", &name);
    if (rc == TP_OK && !tp_id_valid(name))
        rc = tp_errf(o->err, o->errlen, TP_ERR_INVALID,
                     "$.name: expected 1-64 characters of A-Z a-z 0-9 . _ -");
    if (rc == TP_OK && cauth_new_token(token, hx) != TP_OK)
        rc = tp_errf(o->err, o->errlen, TP_ERR_IO, "getrandom failed");
    if (rc == TP_OK) {
        rc = FX(o->tx, NULL, o->err, o->errlen,
                "INSERT INTO admin_tokens(name, token_sha256, created_ms) VALUES($1, $2, $3)", name,
                hx, cfleet_i64(at, o->now));
        if (rc == TP_ERR_EXISTS)
            tp_errf(o->err, o->errlen, rc, "admin token %s exists", name);
    }
    if (rc == TP_OK)
        rc = audit_pair(o, "admin-token.add", name, NULL, NULL);
    if (rc == TP_OK)
        o->result = cfleet_pair("name", name, "token", token);
    return rc;
}

static tp_err audit_list(octx *o)
{
    static const char *const cols[] = {"#id",    "#at_ms", "actor", "action",
                                       "target", "before", "after"};
    /* The latest CFLEET_AUDIT_LISTED rows, oldest first: a listing has a bound, the table not. */
    tp_err rc = list(o,
                     "SELECT * FROM (SELECT id, at_ms, actor, action, target, before_json,"
                     " after_json FROM audit_log ORDER BY id DESC LIMIT " CFLEET_AUDIT_LISTED_S
                     ") AS latest ORDER BY id",
                     cols, 7);
    for (cJSON *it = rc == TP_OK ? o->result->child : NULL; it; it = it->next) {
        for (int k = 0; k < 2; k++) {
            const char *name = k ? "after" : "before";
            cJSON *s = cJSON_GetObjectItemCaseSensitive(it, name);
            cJSON *parsed = cJSON_IsString(s) ? cJSON_Parse(s->valuestring) : NULL;
            if (parsed)
                cJSON_ReplaceItemInObjectCaseSensitive(it, name, parsed);
        }
    }
    return rc;
}

static tp_err enroll_approve(octx *o)
{
    return cenroll_approve(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}

static tp_err enroll_list(octx *o)
{
    return cenroll_list(o->tx, o->now, &o->result, o->err, o->errlen);
}

/* The outbox's endpoints (issue 13, cdeliver_ops.c). */
static tp_err endpoint_add(octx *o)
{
    return cdeliver_endpoint_add(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}

static tp_err endpoint_list(octx *o)
{
    return cdeliver_endpoint_list(o->tx, &o->result, o->err, o->errlen);
}

static tp_err endpoint_test(octx *o)
{
    return cdeliver_endpoint_test(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}

/* alert.* (calert.c): the op name picks the operation there. */
#define ALERT_OP(fn, name)                                                                         \
    static tp_err fn(octx *o)                                                                      \
    {                                                                                              \
        return calert_op(o->tx, name, o->actor, o->args, o->now, &o->result, o->err, o->errlen);   \
    }
ALERT_OP(alert_add, "alert.add")
ALERT_OP(alert_list, "alert.list")
ALERT_OP(alert_test, "alert.test")
ALERT_OP(alert_remove, "alert.remove")
ALERT_OP(alert_disable, "alert.disable")
ALERT_OP(alert_enable, "alert.enable")

static tp_err case_act(octx *o)
{
    return ccase_act(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}

static tp_err case_list(octx *o)
{
    return ccase_list(o->tx, o->args, o->now, &o->result, o->err, o->errlen);
}

/* Read access (cread_ops.c). */
static tp_err rtok_add(octx *o)
{
    return cread_token_add(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}
static tp_err rtok_list(octx *o)
{
    return cread_token_list(o->tx, &o->result, o->err, o->errlen);
}
static tp_err rtok_revoke(octx *o)
{
    return cread_token_revoke(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}
static tp_err raudit_list(octx *o)
{
    return cread_audit_list(o->tx, o->args, &o->result, o->err, o->errlen);
}
static tp_err admin_list(octx *o)
{
    return cread_admin_list(o->tx, &o->result, o->err, o->errlen);
}
static tp_err admin_revoke(octx *o)
{
    return cread_admin_revoke(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}

/* The comments' keyword lists (ccomment.h). */
static tp_err tags_list(octx *o)
{
    return ccomment_tags_list(o->tx, o->args, &o->result, o->err, o->errlen);
}

static tp_err tags_set(octx *o)
{
    return ccomment_tags_set(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}

static tp_err digest_act(octx *o)
{
    return cdigest_act(o->tx, o->actor, o->args, o->now, &o->result, o->err, o->errlen);
}

static tp_err digest_list(octx *o)
{
    return cdigest_list(o->tx, o->now, &o->result, o->err, o->errlen);
}

static const struct {
    const char *name;
    bool write;
    tp_err (*run)(octx *o);
} ops[] = {
    {"node.set", true, node_set},
    {"node.list", false, node_list},
    {"device.add", true, device_add},
    {"device.move", true, device_move},
    {"device.revoke", true, device_revoke},
    {"device.rotate", true, device_rotate},
    {"device.import", true, device_import},
    {"device.list", false, device_list},
    {"device.approve", true, enroll_approve},
    {"survey.publish", true, survey_publish},
    {"survey.assign", true, survey_assign},
    {"survey.list", false, survey_list},
    {"admin.add", true, admin_add},
    {"audit.list", false, audit_list},
    {"enroll.list", false, enroll_list},
    {"endpoint.add", true, endpoint_add},
    {"endpoint.list", false, endpoint_list},
    {"endpoint.test", true, endpoint_test},
    {"alert.add", true, alert_add},
    {"alert.list", false, alert_list},
    {"alert.test", true, alert_test},
    {"alert.remove", true, alert_remove},
    {"alert.disable", true, alert_disable},
    {"alert.enable", true, alert_enable},
    {"case.act", true, case_act},
    {"case.list", false, case_list},
    {"read-token.add", true, rtok_add},
    {"read-token.list", false, rtok_list},
    {"read-token.revoke", true, rtok_revoke},
    {"read-audit.list", false, raudit_list},
    {"admin.list", false, admin_list},
    {"admin.revoke", true, admin_revoke},
    {"tags.list", false, tags_list},
    {"tags.set", true, tags_set},
    {"digest.act", true, digest_act},
    {"digest.list", false, digest_list},
};

tp_err cfleet_call(cstore *s, const char *actor, const char *op, const cJSON *args, int64_t now_ms,
                   cJSON **result, char *err, size_t errlen)
{
    octx o = {.actor = actor, .args = args, .now = now_ms, .err = err, .errlen = errlen};
    *result = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(ops[i].name, op) != 0)
            continue;
        if (ops[i].write && !cJSON_IsObject(args))
            return tp_errf(err, errlen, TP_ERR_INVALID, "$: expected an object");
        tp_err rc = cstore_tx_begin(s, ops[i].write, &o.tx, err, errlen);
        if (rc != TP_OK)
            return rc;
        rc = ops[i].run(&o);
        if (rc == TP_OK && !o.result)
            rc = TP_ERR_NOMEM;
        if (rc == TP_OK)
            rc = cstore_tx_commit(o.tx, err, errlen);
        else
            cstore_tx_rollback(o.tx);
        if (rc != TP_OK) {
            cJSON_Delete(o.result);
            return rc;
        }
        *result = o.result;
        return TP_OK;
    }
    return tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no operation %s", op);
}
