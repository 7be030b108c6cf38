/*
 * cfleet.c - the fleet's checks, settings inheritance, device auth and configuration (see
 * cfleet.h). The administrative operations are in cfleet_ops.c, enrollment in cenroll.c.
 *
 * The revision of a configuration is the first 32 hex digits of the SHA-256 of its canonical
 * body (cJSON's unformatted print of the body without "revision", keys in a fixed order, stored
 * documents as normalised at publish): every collector computes the same revision from the same
 * store, so a load balancer may send a device's requests anywhere.
 */
#include "cfleet_int.h"
#include "ckey.h"

#include "ccomment.h"
#include "settings.h"
#include "survey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cfleet_i64(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%lld", (long long)v);
    return buf;
}

tp_err cfleet_path_check(const char *path, char *err, size_t errlen)
{
    size_t n = path ? strlen(path) : 0;
    int depth = 0;
    if (n == 0 || n > CFLEET_PATH_MAX)
        return tp_errf(err, errlen, TP_ERR_INVALID, "node path: 1 to %d bytes", CFLEET_PATH_MAX);
    for (const char *p = path; *p;) {
        size_t seg = strcspn(p, "/");
        char id[TP_ID_MAX + 2];
        if (seg == 0 || seg > TP_ID_MAX)
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "node path '%.100s': empty or over-long segment", path);
        memcpy(id, p, seg);
        id[seg] = '\0';
        if (!tp_id_valid(id))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "node path '%.100s': segment '%s' not of A-Z a-z 0-9 . _ -", path, id);
        if (++depth > CFLEET_DEPTH_MAX)
            return tp_errf(err, errlen, TP_ERR_INVALID, "node path '%.100s': deeper than %d", path,
                           CFLEET_DEPTH_MAX);
        p += seg;
        if (*p == '/' && !*++p)
            return tp_errf(err, errlen, TP_ERR_INVALID, "node path '%.100s': ends with /", path);
    }
    return TP_OK;
}

/* ---- Settings -------------------------------------------------------------------------------- */

/* The keys the center may set, in the order resolved settings are written. */
static const char *const keys[] = {"timezone",         "opening_hours", "languages",
                                   "default_language", "survey",        "timing",
                                   "screen",           "brand",         "stage"};
#define N_KEYS (sizeof keys / sizeof keys[0])

tp_err cfleet_settings_check(const cJSON *obj, const char *prefix, char *err, size_t errlen)
{
    settings parsed;
    if (!cJSON_IsObject(obj))
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s: expected an object", prefix);
    /* A null removes the key (node set); the rest is checked by the kiosk's own parser. */
    cJSON *copy = cJSON_Duplicate(obj, true);
    if (!copy)
        return TP_ERR_NOMEM;
    for (cJSON *it = copy->child, *next; it; it = next) {
        next = it->next;
        if (cJSON_IsNull(it))
            cJSON_DeleteItemFromObjectCaseSensitive(copy, it->string);
    }
    /* "comments" is the collector's own (ccomment.h), never sent to kiosks. */
    cJSON *com = cJSON_DetachItemFromObjectCaseSensitive(copy, "comments");
    if (com) {
        char cp[96];
        snprintf(cp, sizeof cp, "%.80s.comments", prefix);
        tp_err crc = ccomment_settings_check(com, cp, err, errlen);
        cJSON_Delete(com);
        if (crc != TP_OK) {
            cJSON_Delete(copy);
            return crc;
        }
    }
    tp_err rc = settings_parse_cjson(copy, prefix, &parsed, err, errlen);
    cJSON_Delete(copy);
    if (rc != TP_OK)
        return rc == TP_ERR_NOMEM ? rc : TP_ERR_INVALID;
    settings_release(&parsed);
    return TP_OK;
}

tp_err cfleet_settings_merge(cJSON *parent, const cJSON *child)
{
    for (const cJSON *it = child ? child->child : NULL; it; it = it->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(parent, it->string);
        if (cJSON_IsNull(it))
            continue;
        cJSON *dup = cJSON_Duplicate(it, true);
        if (!dup || !cJSON_AddItemToObject(parent, it->string, dup)) {
            cJSON_Delete(dup);
            return TP_ERR_NOMEM;
        }
    }
    return TP_OK;
}

/* ---- Surveys --------------------------------------------------------------------------------- */

tp_err cfleet_survey_check(const char *name, const char *doc, size_t len, char id[TP_ID_MAX + 1],
                           int *version, char *err, size_t errlen)
{
    survey *sv = NULL;
    if (len > CFLEET_DOC_MAX)
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s: $: larger than %u bytes", name,
                       CFLEET_DOC_MAX);
    /* The kiosk's own parser and rules: what is published here loads on every kiosk. */
    tp_err rc = survey_parse(name, doc, len, &sv, err, errlen);
    if (rc != TP_OK)
        return rc == TP_ERR_NOMEM ? rc : TP_ERR_INVALID;
    tp_strlcpy(id, sv->id, TP_ID_MAX + 1);
    *version = sv->version;
    survey_free(sv);
    return TP_OK;
}

/* ---- Auth ------------------------------------------------------------------------------------ */

tp_err cfleet_auth_device(cstore *s, cauth *file, const char *token, int64_t now_ms,
                          char device[TP_ID_MAX + 1])
{
    char hx[65], err[TP_ERRMSG_MAX], fid[TP_ID_MAX + 1] = "";
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    device[0] = '\0';
    if (!token || !*token || strlen(token) > CAUTH_TOKEN_MAX ||
        cauth_sha256_hex(token, strlen(token), hx) != TP_OK)
        return TP_ERR_AUTH;
    bool in_file = file && cauth_check(file, token, now_ms, fid) == TP_OK;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, sizeof err,
                "SELECT id, revoked_ms, token_sha256 FROM fleet_devices WHERE token_sha256 = $1 OR "
                "id = $2",
                hx, fid);
    if (rc != TP_OK) {
        cstore_tx_rollback(tx);
        fprintf(stderr, "touchpoint-collector: device auth: %s\n", err);
        return TP_ERR_BUSY;
    }
    cstore_tx_rollback(tx);
    rc = TP_ERR_AUTH;
    bool file_id_in_store = false;
    for (size_t i = 0; i < rows->n; i++) {
        const char *id = cstore_rows_get(rows, i, 0), *h = cstore_rows_get(rows, i, 2);
        if (in_file && strcmp(id, fid) == 0)
            file_id_in_store = true;
        if (rc != TP_OK && h && cauth_equal_ct(h, hx) && !cstore_rows_get(rows, i, 1)) {
            tp_strlcpy(device, id, TP_ID_MAX + 1);
            rc = TP_OK;
        }
    }
    /* The devices file speaks only for devices the store does not know. */
    if (rc != TP_OK && in_file && !file_id_in_store) {
        tp_strlcpy(device, fid, TP_ID_MAX + 1);
        rc = TP_OK;
    }
    cstore_rows_free(rows);
    return rc;
}

tp_err cfleet_auth_admin(cstore *s, const char *token, char name[65])
{
    char hx[65], err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    name[0] = '\0';
    if (!token || !*token || strlen(token) > CAUTH_TOKEN_MAX ||
        cauth_sha256_hex(token, strlen(token), hx) != TP_OK)
        return TP_ERR_AUTH;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, sizeof err,
                "SELECT name FROM admin_tokens WHERE token_sha256 = $1 AND revoked_ms IS NULL", hx);
    cstore_tx_rollback(tx);
    if (rc != TP_OK)
        return TP_ERR_BUSY;
    rc = rows->n == 1 ? TP_OK : TP_ERR_AUTH;
    if (rc == TP_OK)
        tp_strlcpy(name, cstore_rows_get(rows, 0, 0), 65);
    cstore_rows_free(rows);
    return rc;
}

/* ---- Tree ------------------------------------------------------------------------------------ */

tp_err cfleet_audit(cstore_tx *tx, const char *actor, const char *action, const char *target,
                    const cJSON *before, const cJSON *after, int64_t now_ms, char *err,
                    size_t errlen)
{
    char at[24];
    char *b = before ? cJSON_PrintUnformatted(before) : NULL;
    char *a = after ? cJSON_PrintUnformatted(after) : NULL;
    tp_err rc = FX(tx, NULL, err, errlen,
                   "INSERT INTO audit_log(at_ms, actor, action, target, before_json, after_json)"
                   " VALUES($1, $2, $3, $4, $5, $6)",
                   cfleet_i64(at, now_ms), actor, action, target, b, a);
    free(b);
    free(a);
    return rc;
}

tp_err cfleet_node_exists(cstore_tx *tx, const char *path, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    tp_err rc = FX(tx, &rows, err, errlen, "SELECT 1 FROM nodes WHERE path = $1", path);
    if (rc == TP_OK && rows->n == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no node %s (create it with node set)", path);
    cstore_rows_free(rows);
    return rc;
}

tp_err cfleet_node_create(cstore_tx *tx, const char *path, int64_t now_ms, char *err, size_t errlen)
{
    char buf[CFLEET_PATH_MAX + 1], parent[CFLEET_PATH_MAX + 1], at[24];
    tp_err rc = TP_OK;
    tp_strlcpy(buf, path, sizeof buf);
    cfleet_i64(at, now_ms);
    /* Each prefix ending at a '/' (and the whole path), root first. */
    for (size_t i = 0; rc == TP_OK && i <= strlen(path); i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char *slash;
        buf[i] = '\0';
        tp_strlcpy(parent, buf, sizeof parent);
        slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        rc = FX(tx, NULL, err, errlen,
                "INSERT INTO nodes(path, parent, settings_json, created_ms, updated_ms)"
                " VALUES($1, $2, '{}', $3, $3) ON CONFLICT(path) DO NOTHING",
                buf, slash ? parent : NULL, at);
        buf[i] = path[i];
    }
    return rc;
}

/* The effective settings of path: its ancestors' own settings merged root first. */
static tp_err resolve(cstore_tx *tx, const char *path, cJSON **out, char *err, size_t errlen)
{
    char buf[CFLEET_PATH_MAX + 1];
    tp_err rc = TP_OK;
    cJSON *merged = cJSON_CreateObject();
    *out = NULL;
    if (!merged)
        return TP_ERR_NOMEM;
    tp_strlcpy(buf, path, sizeof buf);
    for (size_t i = 0; rc == TP_OK && i <= strlen(path); i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        cstore_rows *rows = NULL;
        buf[i] = '\0';
        rc = FX(tx, &rows, err, errlen, "SELECT settings_json FROM nodes WHERE path = $1", buf);
        buf[i] = path[i];
        if (rc == TP_OK && rows->n == 1) {
            cJSON *own = cJSON_Parse(cstore_rows_get(rows, 0, 0));
            rc = own ? cfleet_settings_merge(merged, own) : TP_ERR_CORRUPT;
            cJSON_Delete(own);
        }
        cstore_rows_free(rows);
    }
    if (rc != TP_OK) {
        cJSON_Delete(merged);
        return rc;
    }
    /* In the fixed key order, so that the revision does not depend on who set what first. */
    cJSON *sorted = cJSON_CreateObject();
    for (size_t k = 0; sorted && k < N_KEYS; k++) {
        cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(merged, keys[k]);
        if (it)
            cJSON_AddItemToObject(sorted, keys[k], it);
    }
    cJSON_Delete(merged);
    *out = sorted;
    return sorted ? TP_OK : TP_ERR_NOMEM;
}

/* Segment n (0-based) of path into out, or the last one when the path is shorter. */
static void segment(const char *path, int n, char out[TP_ID_MAX + 1])
{
    const char *p = path;
    for (int i = 0; i < n; i++) {
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        p = slash + 1;
    }
    size_t len = strcspn(p, "/");
    snprintf(out, TP_ID_MAX + 1, "%.*s", (int)(len > TP_ID_MAX ? TP_ID_MAX : len), p);
}

tp_err cfleet_config_tx(cstore_tx *tx, const char *device, bool *in_fleet, char **body,
                        char rev[CFLEET_REVISION_LEN + 1], char *err, size_t errlen)
{
    cstore_rows *rows = NULL, *doc = NULL;
    cJSON *eff = NULL, *root = NULL, *dev = NULL, *sdoc = NULL;
    char store[TP_ID_MAX + 1], tpoint[TP_ID_MAX + 1], hx[65], ver[24];
    char *text = NULL;
    *in_fleet = false;
    *body = NULL;
    rev[0] = '\0';
    tp_err rc =
        FX(tx, &rows, err, errlen,
           "SELECT node_path FROM fleet_devices WHERE id = $1 AND revoked_ms IS NULL", device);
    if (rc != TP_OK)
        goto out;
    if (rows->n == 0) {
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "device %s is not in the fleet", device);
        goto out;
    }
    *in_fleet = true;
    const char *node = cstore_rows_get(rows, 0, 0);
    if ((rc = resolve(tx, node, &eff, err, errlen)) != TP_OK)
        goto out;
    /* A device assignment (a canary) overrides the tree's sdoc. */
    cstore_rows_free(doc);
    doc = NULL;
    if ((rc = FX(tx, &doc, err, errlen,
                 "SELECT survey_id, survey_version FROM survey_assignments WHERE device_id = $1"
                 " ORDER BY id DESC LIMIT 1",
                 device)) != TP_OK)
        goto out;
    if (doc->n == 1) {
        cJSON *sv = cJSON_CreateObject();
        cJSON_AddStringToObject(sv, "id", cstore_rows_get(doc, 0, 0));
        cJSON_AddNumberToObject(sv, "version", strtod(cstore_rows_get(doc, 0, 1), NULL));
        cJSON_DeleteItemFromObjectCaseSensitive(eff, "survey");
        if (!sv || !cJSON_AddItemToObject(eff, "survey", sv)) {
            cJSON_Delete(sv);
            rc = TP_ERR_NOMEM;
            goto out;
        }
    }
    cstore_rows_free(doc);
    doc = NULL;
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(eff, "survey");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(sv, "id");
    const cJSON *sver = cJSON_GetObjectItemCaseSensitive(sv, "version");
    if (!cJSON_IsString(sid) || !cJSON_IsNumber(sver)) {
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no sdoc resolved for device %s at %s", device,
                     node);
        goto out;
    }
    if ((rc = FX(tx, &doc, err, errlen,
                 "SELECT document FROM surveys WHERE id = $1 AND version = $2", sid->valuestring,
                 cfleet_i64(ver, (int64_t)sver->valuedouble))) != TP_OK)
        goto out;
    if (doc->n == 0) {
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "sdoc %s@%s is not published", sid->valuestring,
                     ver);
        goto out;
    }
    sdoc = cJSON_Parse(cstore_rows_get(doc, 0, 0));
    segment(node, 2, store);
    segment(node, CFLEET_DEPTH_MAX, tpoint);
    const cJSON *stage = cJSON_GetObjectItemCaseSensitive(eff, "stage");
    root = cJSON_CreateObject();
    dev = cJSON_AddObjectToObject(root, "device");
    if (!sdoc || !dev || !cJSON_AddStringToObject(dev, "id", device) ||
        !cJSON_AddStringToObject(dev, "node", node) ||
        !cJSON_AddStringToObject(dev, "store", store) ||
        !cJSON_AddStringToObject(dev, "touchpoint", tpoint) ||
        !cJSON_AddStringToObject(dev, "stage", cJSON_IsString(stage) ? stage->valuestring : "")) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    cJSON_AddItemToObject(root, "settings", eff);
    eff = NULL;
    cJSON_AddItemToObject(root, "survey", sdoc);
    sdoc = NULL;
    if ((rc = ckey_config_add(tx, device, root, err, errlen)) != TP_OK)
        goto out;
    if (!(text = cJSON_PrintUnformatted(root)) ||
        (rc = cauth_sha256_hex(text, strlen(text), hx)) != TP_OK) {
        rc = rc != TP_OK ? rc : TP_ERR_NOMEM;
        goto out;
    }
    memcpy(rev, hx, CFLEET_REVISION_LEN);
    rev[CFLEET_REVISION_LEN] = '\0';
    /* "revision" first: the body a device stores reads naturally. */
    cJSON *full = cJSON_CreateObject();
    if (!full || !cJSON_AddStringToObject(full, "revision", rev)) {
        cJSON_Delete(full);
        rc = TP_ERR_NOMEM;
        goto out;
    }
    while (root->child) {
        cJSON *it = cJSON_DetachItemViaPointer(root, root->child);
        cJSON_AddItemToObject(full, it->string, it);
    }
    cJSON_Delete(root);
    root = full;
    *body = cJSON_PrintUnformatted(root);
    if (!*body)
        rc = TP_ERR_NOMEM;
out:
    free(text);
    cJSON_Delete(root);
    cJSON_Delete(eff);
    cJSON_Delete(sdoc);
    cstore_rows_free(rows);
    cstore_rows_free(doc);
    return rc;
}

tp_err cfleet_config(cstore *s, const char *device, char **body, char rev[CFLEET_REVISION_LEN + 1],
                     char *err, size_t errlen)
{
    cstore_tx *tx = NULL;
    bool in_fleet;
    *body = NULL;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    rc = cfleet_config_tx(tx, device, &in_fleet, body, rev, err, errlen);
    cstore_tx_rollback(tx);
    return rc;
}

/* Whether the batch's device fields change what the store holds for the device (row: its
 * running_revision, apply_error). */
static bool seen_changes(const cbatch_device *d, const cstore_rows *row)
{
    const char *run = cstore_rows_get(row, 0, 0), *aerr = cstore_rows_get(row, 0, 1);
    if (d->has_config_revision && strcmp(run ? run : "", d->config_revision) != 0)
        return true;
    if (d->has_config_error)
        return !aerr || strcmp(aerr, d->config_error) != 0;
    return aerr != NULL;
}

tp_err cfleet_device_seen(cstore *s, const cbatch_device *d, int64_t now_ms,
                          char rev[CFLEET_REVISION_LEN + 1], char *err, size_t errlen)
{
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL, *open_enr = NULL;
    char *body = NULL, at[24];
    bool in_fleet = false, write = false;
    rev[0] = '\0';
    /* Read first: a batch whose device is not in the fleet, or reports what the store already
     * holds, costs no write transaction (on SQLite a second writer per batch would halve the
     * ingest rate of every device). */
    tp_err rc = cstore_tx_begin(s, false, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    rc = FX(tx, &rows, err, errlen,
            "SELECT running_revision, apply_error FROM fleet_devices WHERE id = $1", d->id);
    if (rc == TP_OK && rows->n == 0)
        rc = TP_ERR_NOT_FOUND;
    if (rc == TP_OK)
        rc = FX(tx, &open_enr, err, errlen,
                "SELECT code FROM enrollments WHERE device_id = $1 AND closed_ms IS NULL"
                " AND delivered_ms IS NOT NULL",
                d->id);
    if (rc == TP_OK) {
        write = seen_changes(d, rows) || open_enr->n > 0;
        tp_err crc = cfleet_config_tx(tx, d->id, &in_fleet, &body, rev, err, errlen);
        if (crc != TP_OK && crc != TP_ERR_NOT_FOUND)
            rc = crc;
        if (crc != TP_OK)
            rev[0] = '\0';
    }
    cstore_tx_rollback(tx);
    tx = NULL;
    free(body);
    cstore_rows_free(rows);
    cstore_rows_free(open_enr);
    rows = NULL;
    if (rc != TP_OK || !write)
        return rc;
    rc = cstore_tx_begin(s, true, &tx, err, errlen);
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, errlen,
                "UPDATE fleet_devices SET running_revision = CASE WHEN CAST($2 AS TEXT) = '1'"
                " THEN CAST($3 AS TEXT) ELSE running_revision END, apply_error = CAST($4 AS TEXT),"
                " apply_error_ms = CASE WHEN CAST($4 AS TEXT) IS NULL THEN apply_error_ms"
                " ELSE CAST($5 AS BIGINT) END WHERE id = $1 RETURNING id",
                d->id, d->has_config_revision ? "1" : "0", d->config_revision,
                d->has_config_error ? d->config_error : NULL, cfleet_i64(at, now_ms));
    if (rc == TP_OK)
        rc = FX(tx, NULL, err, errlen,
                "UPDATE enrollments SET closed_ms = $2 WHERE device_id = $1 AND closed_ms IS NULL"
                " AND delivered_ms IS NOT NULL",
                d->id, at);
    cstore_rows_free(rows);
    if (rc == TP_OK)
        return cstore_tx_commit(tx, err, errlen);
    cstore_tx_rollback(tx);
    return rc;
}

tp_err cfleet_device_states(cstore *s, cJSON **out, char *err, size_t errlen)
{
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    cJSON *root = cJSON_CreateObject();
    *out = NULL;
    tp_err rc = root ? cstore_tx_begin(s, false, &tx, err, errlen) : TP_ERR_NOMEM;
    if (rc == TP_OK)
        rc = FX0(tx, &rows, err, errlen,
                 "SELECT id, node_path, running_revision, apply_error, apply_error_ms, revoked_ms"
                 " FROM fleet_devices ORDER BY id");
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *id = cstore_rows_get(rows, i, 0);
        char *body = NULL, rev[CFLEET_REVISION_LEN + 1];
        bool in_fleet;
        char cerr[TP_ERRMSG_MAX];
        if (cfleet_config_tx(tx, id, &in_fleet, &body, rev, cerr, sizeof cerr) != TP_OK)
            rev[0] = '\0';
        free(body);
        cJSON *o = cJSON_AddObjectToObject(root, id);
        const char *run = cstore_rows_get(rows, i, 2), *ae = cstore_rows_get(rows, i, 3);
        const char *aems = cstore_rows_get(rows, i, 4);
        if (!o || !cJSON_AddStringToObject(o, "node", cstore_rows_get(rows, i, 1)) ||
            !cJSON_AddStringToObject(o, "desired_revision", rev) ||
            !(run ? cJSON_AddStringToObject(o, "running_revision", run)
                  : cJSON_AddNullToObject(o, "running_revision")) ||
            !(ae ? cJSON_AddStringToObject(o, "apply_error", ae)
                 : cJSON_AddNullToObject(o, "apply_error")) ||
            !cJSON_AddNumberToObject(o, "apply_error_ms", aems ? strtod(aems, NULL) : 0) ||
            !cJSON_AddBoolToObject(o, "revoked", cstore_rows_get(rows, i, 5) != NULL))
            rc = TP_ERR_NOMEM;
    }
    cstore_tx_rollback(tx);
    cstore_rows_free(rows);
    if (rc != TP_OK) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return TP_OK;
}

int cfleet_http_status(tp_err rc)
{
    switch (rc) {
    case TP_ERR_INVALID:
    case TP_ERR_SURVEY:
    case TP_ERR_CONFIG: return 400;
    case TP_ERR_AUTH: return 401;
    case TP_ERR_NOT_FOUND: return 404;
    case TP_ERR_EXISTS: return 409;
    case TP_ERR_TOO_LARGE: return 413;
    case TP_ERR_BUSY: return 503;
    default: return 500;
    }
}
