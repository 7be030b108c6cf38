/*
 * cenroll.c - enrollment of devices without a token (POST /v1/enroll, `device approve`).
 *
 * A kiosk's sync process makes a code and a secret key, and polls with both. The store keeps
 * only the key's hash: whoever polls with the code but another key gets 403 (a code read off a
 * screen is not enough to take the token). Until an operator approves the code nothing is
 * granted; once approved, each poll by the key's holder makes a fresh device token and stores
 * its hash, so a lost reply is simply polled again; the code closes at the device's first
 * authenticated batch (cfleet_device_seen). Codes expire after CENROLL_TTL_MS. New codes are
 * limited per address (CENROLL_PER_ADDR per CENROLL_WINDOW_MS), counted in the store, so the
 * limit holds across collectors.
 */
#include "cfleet_int.h"
#include "ckey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/* "ABCD-2345": 4 + '-' + 4 of the alphabet. */
static bool code_valid(const char *c)
{
    if (!c || strlen(c) != 9 || c[4] != '-')
        return false;
    for (int i = 0; i < 9; i++)
        if (i != 4 && !strchr(alphabet, c[i]))
            return false;
    return true;
}

static bool key_valid(const char *k)
{
    if (!k || strlen(k) != 43)
        return false;
    for (const char *p = k; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static void iso(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *reply(const char *status, const char *k1, const char *v1, const char *k2,
                   const char *v2)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", status);
    if (k1)
        cJSON_AddStringToObject(o, k1, v1);
    if (k2)
        cJSON_AddStringToObject(o, k2, v2);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static char *error_body(const char *code, const char *msg)
{
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

tp_err cfleet_enroll(cstore *s, const char *body, size_t len, const char *addr, int64_t now_ms,
                     int *status, char **out)
{
    char err[TP_ERRMSG_MAX], khx[65], at[24], exp[24], when[32];
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    cJSON *root = cJSON_ParseWithLength(body ? body : "", len);
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(root, "code");
    const cJSON *jk = cJSON_GetObjectItemCaseSensitive(root, "key");
    const char *code = cJSON_IsString(jc) ? jc->valuestring : NULL;
    const char *key = cJSON_IsString(jk) ? jk->valuestring : NULL;
    /* The id the device is configured with: approve uses it unless the operator gives another. */
    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(root, "device_id");
    const char *want_id = cJSON_IsString(jd) ? jd->valuestring : NULL;
    tp_err rc = TP_OK;
    *out = NULL;
    *status = 400;
    if (!code_valid(code) || !key_valid(key) ||
        (jd && !cJSON_IsNull(jd) && !(want_id && tp_id_valid(want_id)))) {
        *out = error_body("malformed", "expected {\"code\": \"XXXX-XXXX\", \"key\": 43 base64url"
                                       ", \"device_id\": optional device id}");
        goto out;
    }
    cauth_sha256_hex(key, strlen(key), khx);
    cfleet_i64(at, now_ms);
    if ((rc = cstore_tx_begin(s, true, &tx, err, sizeof err)) != TP_OK ||
        (rc = FX(tx, &rows, err, sizeof err,
                 "SELECT key_sha256, expires_ms, approved_ms, device_id, delivered_ms, closed_ms"
                 " FROM enrollments WHERE code = $1",
                 code)) != TP_OK)
        goto out;
    if (rows->n == 0) {
        cstore_rows *n = NULL;
        char since[24];
        rc = FX(tx, &n, err, sizeof err,
                "SELECT count(*) FROM enrollments WHERE addr = $1 AND created_ms > $2", addr,
                cfleet_i64(since, now_ms - CENROLL_WINDOW_MS));
        if (rc == TP_OK && strtol(cstore_rows_get(n, 0, 0), NULL, 10) >= CENROLL_PER_ADDR) {
            *status = 429;
            *out = error_body("rate_limited", "too many pairing codes from this address");
        } else if (rc == TP_OK) {
            rc = FX(tx, NULL, err, sizeof err,
                    "INSERT INTO enrollments(code, key_sha256, created_ms, expires_ms, addr,"
                    " device_id) VALUES($1, $2, $3, $4, $5, $6)",
                    code, khx, at, cfleet_i64(exp, now_ms + CENROLL_TTL_MS), addr, want_id);
            iso(now_ms + CENROLL_TTL_MS, when);
            *status = 202;
            *out = reply("pending", "expires_at", when, NULL, NULL);
        }
        cstore_rows_free(n);
        goto out;
    }
    int64_t expires = strtoll(cstore_rows_get(rows, 0, 1), NULL, 10);
    bool approved = cstore_rows_get(rows, 0, 2) != NULL;
    const char *dev = cstore_rows_get(rows, 0, 3);
    if (!cauth_equal_ct(cstore_rows_get(rows, 0, 0), khx)) {
        *status = 403;
        *out = error_body("wrong_key", "this code belongs to another key");
    } else if (cstore_rows_get(rows, 0, 5)) {
        *status = 410;
        *out = error_body("used", "this code has been used");
    } else if (now_ms > expires && !cstore_rows_get(rows, 0, 4)) {
        *status = 410;
        *out = error_body("expired", "this code has expired; the device makes a new one");
    } else if (!approved) {
        iso(expires, when);
        *status = 202;
        *out = reply("pending", "expires_at", when, NULL, NULL);
    } else {
        char token[64], hx[65];
        if (cauth_new_token(token, hx) != TP_OK) {
            rc = TP_ERR_IO;
            goto out;
        }
        rc = FX(tx, NULL, err, sizeof err,
                "UPDATE fleet_devices SET token_sha256 = $2 WHERE id = $1", dev, hx);
        if (rc == TP_OK)
            rc = ckey_issue(tx, dev, err, sizeof err);
        if (rc == TP_OK)
            rc = FX(tx, NULL, err, sizeof err,
                    "UPDATE enrollments SET delivered_ms = $2 WHERE code = $1", code, at);
        if (rc == TP_OK) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "status", "approved");
            cJSON_AddStringToObject(o, "device_id", dev);
            cJSON_AddStringToObject(o, "token", token);
            cJSON_AddObjectToObject(o, "collector");
            *out = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            *status = 200;
        }
    }
out:
    if (rc == TP_OK && tx)
        rc = cstore_tx_commit(tx, err, sizeof err);
    else
        cstore_tx_rollback(tx);
    if (rc != TP_OK) {
        free(*out);
        fprintf(stderr, "touchpoint-collector: enroll: %s\n", err);
        *status = 503;
        *out = error_body("store_unavailable", "the store cannot answer now");
    }
    cstore_rows_free(rows);
    cJSON_Delete(root);
    return rc;
}

tp_err cenroll_approve(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                       cJSON **result, char *err, size_t errlen)
{
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(args, "code");
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(args, "node");
    const cJSON *ji = cJSON_GetObjectItemCaseSensitive(args, "id");
    char code[16], id[TP_ID_MAX + 1], token[64], hx[65], at[24];
    cstore_rows *rows = NULL;
    tp_err rc = TP_OK;
    if (!cJSON_IsString(jc) || strlen(jc->valuestring) > 9)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.code: expected XXXX-XXXX");
    /* Codes are read off a screen: accept lower case and a missing dash. */
    size_t k = 0;
    for (const char *p = jc->valuestring; *p && k < 9; p++) {
        if (*p == '-')
            continue;
        if (k == 4)
            code[k++] = '-';
        code[k++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    code[k] = '\0';
    if (!code_valid(code))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.code: expected XXXX-XXXX");
    if (!cJSON_IsString(jn))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.node: expected a node path");
    if (ji && (!cJSON_IsString(ji) || !tp_id_valid(ji->valuestring)))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.id: expected a device id");
    if ((rc = cfleet_node_exists(tx, jn->valuestring, err, errlen)) != TP_OK ||
        (rc = FX(tx, &rows, err, errlen,
                 "SELECT expires_ms, approved_ms, closed_ms, device_id FROM enrollments"
                 " WHERE code = $1",
                 code)) != TP_OK)
        goto out;
    /* --id, else the id the device sent with its code (before approval device_id holds that),
     * else one made from the code. */
    const char *asked = rows->n ? cstore_rows_get(rows, 0, 3) : NULL;
    if (ji)
        tp_strlcpy(id, ji->valuestring, sizeof id);
    else if (asked && tp_id_valid(asked))
        tp_strlcpy(id, asked, sizeof id);
    else
        snprintf(id, sizeof id, "kiosk-%.4s%.4s", code, code + 5);
    if (rows->n == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no pairing code %s", code);
    else if (cstore_rows_get(rows, 0, 1) || cstore_rows_get(rows, 0, 2))
        rc = tp_errf(err, errlen, TP_ERR_EXISTS, "code %s is already approved", code);
    else if (now_ms > strtoll(cstore_rows_get(rows, 0, 0), NULL, 10))
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "code %s has expired", code);
    /* The device row gets a token nobody knows; the first poll after approval replaces it. */
    if (rc == TP_OK && cauth_new_token(token, hx) != TP_OK)
        rc = TP_ERR_IO;
    if (rc == TP_OK) {
        rc = FX(tx, NULL, err, errlen,
                "INSERT INTO fleet_devices(id, node_path, token_sha256, comment_key, created_ms)"
                " VALUES($1, $2, $3, $4, $5)",
                id, jn->valuestring, hx, code, cfleet_i64(at, now_ms));
        if (rc == TP_ERR_EXISTS)
            tp_errf(err, errlen, rc, "device %s is already in the store (give --id)", id);
    }
    if (rc == TP_OK)
        rc = FX(tx, NULL, err, errlen,
                "UPDATE enrollments SET approved_ms = $2, device_id = $3, node_path = $4"
                " WHERE code = $1",
                code, at, id, jn->valuestring);
    if (rc == TP_OK) {
        cJSON *after = cJSON_CreateObject();
        cJSON_AddStringToObject(after, "code", code);
        cJSON_AddStringToObject(after, "node", jn->valuestring);
        rc = cfleet_audit(tx, actor, "device.approve", id, NULL, after, now_ms, err, errlen);
        cJSON_Delete(after);
    }
    if (rc == TP_OK) {
        *result = cJSON_CreateObject();
        cJSON_AddStringToObject(*result, "id", id);
        cJSON_AddStringToObject(*result, "code", code);
        cJSON_AddStringToObject(*result, "node", jn->valuestring);
    }
out:
    cstore_rows_free(rows);
    return rc;
}

tp_err cenroll_list(cstore_tx *tx, int64_t now_ms, cJSON **result, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    tp_err rc = FX0(tx, &rows, err, errlen,
                    "SELECT code, created_ms, expires_ms, approved_ms, device_id, node_path,"
                    " delivered_ms, closed_ms, addr FROM enrollments ORDER BY"
                    " created_ms");
    cJSON *arr = rc == TP_OK ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; arr && i < rows->n; i++) {
        cJSON *o = cJSON_CreateObject();
        const char *st = cstore_rows_get(rows, i, 7)                               ? "closed"
                         : cstore_rows_get(rows, i, 3)                             ? "approved"
                         : now_ms > strtoll(cstore_rows_get(rows, i, 2), NULL, 10) ? "expired"
                                                                                   : "pending";
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "code", cstore_rows_get(rows, i, 0));
        cJSON_AddStringToObject(o, "status", st);
        cJSON_AddNumberToObject(o, "expires_ms", strtod(cstore_rows_get(rows, i, 2), NULL));
        cJSON_AddStringToObject(o, "addr", cstore_rows_get(rows, i, 8));
        if (cstore_rows_get(rows, i, 4))
            cJSON_AddStringToObject(o, "device_id", cstore_rows_get(rows, i, 4));
    }
    cstore_rows_free(rows);
    *result = arr;
    return rc != TP_OK ? rc : arr ? TP_OK : TP_ERR_NOMEM;
}
