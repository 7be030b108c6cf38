/*
 * cdeliver_ops.c - the endpoint operations of cfleet_call (endpoint.add, endpoint.list,
 * endpoint.test): the one code path behind `touchpoint-collector endpoint ...` and
 * /v1/admin/endpoints. Each change is audited in its own transaction.
 *
 * The secret of an HTTP endpoint is made here, returned once by endpoint.add and never listed:
 * the receiver keeps it to check signatures. The store keeps it in clear because signing needs
 * the key itself (unlike tokens, which are only ever compared and are stored hashed).
 */
#include "cdeliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfleet_int.h"

#define TARGET_MAX 2000

static const char *arg(const cJSON *args, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, name));
}

static bool is_http_kind(const char *k)
{
    return strcmp(k, "webhook") == 0 || strcmp(k, "slack") == 0 || strcmp(k, "google_chat") == 0;
}

/* Checks a comma-separated address list. Returns TP_OK or TP_ERR_INVALID with the reason. */
static tp_err check_addresses(const char *t, char *err, size_t errlen)
{
    int count = 0;
    for (const char *p = t;; p++) {
        size_t len = strcspn(p, ",");
        const char *a = p;
        while (len && *a == ' ')
            a++, len--;
        while (len && a[len - 1] == ' ')
            len--;
        const char *at = len ? memchr(a, '@', len) : NULL;
        if (++count > 50 || !at || at == a || at == a + len - 1 || len > 254)
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "$.target: address %d is not an e-mail address (user@domain, at most "
                           "50 separated by commas)",
                           count);
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)a[i] <= 0x20 || strchr("<>()[]\\\",;:", a[i]))
                return tp_errf(err, errlen, TP_ERR_INVALID,
                               "$.target: address %d holds a character not allowed in an "
                               "address",
                               count);
        p += strcspn(p, ",");
        if (!*p)
            return TP_OK;
    }
}

/* Checks an http(s) URL. Returns TP_OK or TP_ERR_INVALID with the reason. */
static tp_err check_url(const char *t, char *err, size_t errlen)
{
    size_t skip = strncmp(t, "https://", 8) == 0 ? 8 : strncmp(t, "http://", 7) == 0 ? 7 : 0;
    if (!skip || !t[skip] || t[skip] == '/')
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "$.target: expected an http:// or https:// URL with a host");
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "$.target: spaces and control characters are not allowed in a URL");
    return TP_OK;
}

tp_err cdeliver_endpoint_add(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                             cJSON **result, char *err, size_t errlen)
{
    const char *name = arg(args, "name"), *kind = arg(args, "kind"), *target = arg(args, "target");
    const char *lang = arg(args, "lang") ? arg(args, "lang") : "vi";
    char id[TP_UUID_STR], secret[80] = "", at[24];
    if (!name || !tp_id_valid(name))
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "$.name: expected 1-64 characters of A-Z a-z 0-9 . _ -");
    if (!kind || !(is_http_kind(kind) || strcmp(kind, "email") == 0))
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "$.kind: expected webhook, slack, google_chat or email");
    if (!target || !*target || strlen(target) > TARGET_MAX)
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "$.target: expected a URL or addresses of at most %d bytes", TARGET_MAX);
    if (strcmp(lang, "vi") != 0 && strcmp(lang, "en") != 0)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.lang: expected vi or en");
    tp_err rc =
        is_http_kind(kind) ? check_url(target, err, errlen) : check_addresses(target, err, errlen);
    if (rc != TP_OK)
        return rc;
    if (tp_uuid7_new(NULL, id) != TP_OK ||
        (is_http_kind(kind) && cdeliver_new_secret(secret, sizeof secret) != TP_OK))
        return tp_errf(err, errlen, TP_ERR_IO, "getrandom failed");
    rc = FX(tx, NULL, err, errlen,
            "INSERT INTO endpoints(id, name, kind, target, secret, lang, state, created_ms, "
            "updated_ms) VALUES($1, $2, $3, $4, $5, $6, 'ok', $7, $7)",
            id, name, kind, target, secret[0] ? secret : NULL, lang, cfleet_i64(at, now_ms));
    if (rc == TP_ERR_EXISTS)
        return tp_errf(err, errlen, rc, "endpoint %s already exists", name);
    cJSON *after = cJSON_CreateObject();
    cJSON_AddStringToObject(after, "kind", kind);
    cJSON_AddStringToObject(after, "target", target);
    cJSON_AddStringToObject(after, "lang", lang);
    if (rc == TP_OK)
        rc = cfleet_audit(tx, actor, "endpoint.add", name, NULL, after, now_ms, err, errlen);
    cJSON_AddStringToObject(after, "id", id);
    cJSON_AddStringToObject(after, "name", name);
    if (secret[0])
        cJSON_AddStringToObject(after, "secret", secret);
    if (rc != TP_OK) {
        cJSON_Delete(after);
        return rc;
    }
    *result = after;
    return TP_OK;
}

tp_err cdeliver_endpoint_list(cstore_tx *tx, cJSON **result, char *err, size_t errlen)
{
    static const char *const cols[] = {
        "id",         "name",     "kind", "target", "lang", "state", "#failing_since_ms",
        "last_error", "#pending", "#dead"};
    cstore_rows *rows = NULL;
    tp_err rc = FX0(tx, &rows, err, errlen,
                    "SELECT e.id, e.name, e.kind, e.target, e.lang, e.state, e.failing_since_ms, "
                    "e.last_error, (SELECT COUNT(*) FROM outbox o WHERE o.state = 'pending' AND "
                    "o.endpoint_id = e.id), (SELECT COUNT(*) FROM outbox o WHERE o.state = "
                    "'dead' AND o.endpoint_id = e.id) FROM endpoints e ORDER BY e.name");
    cJSON *arr = rc == TP_OK ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; arr && i < rows->n; i++) {
        cJSON *it = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, it);
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            const char *v = cstore_rows_get(rows, i, c);
            const char *key = cols[c][0] == '#' ? cols[c] + 1 : cols[c];
            if (!v)
                cJSON_AddNullToObject(it, key);
            else if (cols[c][0] == '#')
                cJSON_AddNumberToObject(it, key, strtod(v, NULL));
            else
                cJSON_AddStringToObject(it, key, v);
        }
    }
    cstore_rows_free(rows);
    if (rc == TP_OK && !arr)
        rc = TP_ERR_NOMEM;
    *result = arr;
    return rc;
}

/* The canonical event of a test message (CONTRACT.md), in both languages. */
static char *test_event(const char *outbox_id, const char *name, int64_t now_ms)
{
    char when[40], vi[160], en[160];
    tp_format_utc(now_ms, when, sizeof when);
    snprintf(vi, sizeof vi, "Tin nhắn thử của kênh %s", name);
    snprintf(en, sizeof en, "Test message of endpoint %s", name);
    cJSON *ev = cJSON_CreateObject(), *a = NULL, *t = NULL;
    cJSON_AddStringToObject(ev, "type", "alert.test");
    cJSON_AddStringToObject(ev, "id", outbox_id);
    cJSON_AddStringToObject(ev, "created_at", when);
    a = cJSON_AddObjectToObject(ev, "alert");
    cJSON_AddNullToObject(a, "id");
    cJSON_AddNullToObject(a, "rule_id");
    t = cJSON_AddObjectToObject(a, "rule_name");
    cJSON_AddStringToObject(t, "vi", "Thử kênh thông báo");
    cJSON_AddStringToObject(t, "en", "Endpoint test");
    cJSON_AddStringToObject(a, "kind", "test");
    cJSON_AddNullToObject(a, "node");
    cJSON_AddNullToObject(a, "store");
    cJSON_AddNullToObject(a, "touchpoint");
    cJSON_AddNullToObject(a, "device");
    cJSON_AddNullToObject(a, "window");
    t = cJSON_AddObjectToObject(a, "title");
    cJSON_AddStringToObject(t, "vi", vi);
    cJSON_AddStringToObject(t, "en", en);
    cJSON_AddObjectToObject(a, "numbers");
    cJSON_AddStringToObject(a, "fired_at", when);
    cJSON_AddNullToObject(ev, "case_id");
    cJSON_AddNullToObject(ev, "dashboard_url");
    char *out = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    return out;
}

tp_err cdeliver_endpoint_test(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                              cJSON **result, char *err, size_t errlen)
{
    const char *name = arg(args, "name");
    char id[TP_UUID_STR], at[24];
    cstore_rows *rows = NULL;
    if (!name)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.name: expected a string");
    tp_err rc = FX(tx, &rows, err, errlen, "SELECT id FROM endpoints WHERE name = $1", name);
    if (rc == TP_OK && rows->n == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no endpoint %s (add it with endpoint add)",
                     name);
    if (rc == TP_OK && tp_uuid7_new(NULL, id) != TP_OK)
        rc = tp_errf(err, errlen, TP_ERR_IO, "getrandom failed");
    char *payload = rc == TP_OK ? test_event(id, name, now_ms) : NULL;
    if (rc == TP_OK && !payload)
        rc = TP_ERR_NOMEM;
    if (rc == TP_OK)
        rc = FX(tx, NULL, err, errlen,
                "INSERT INTO outbox(id, endpoint_id, kind, ref_id, payload_json, created_ms, "
                "next_attempt_ms, attempts, state) VALUES($1, $2, 'test', NULL, $3, $4, $4, 0, "
                "'pending')",
                id, cstore_rows_get(rows, 0, 0), payload, cfleet_i64(at, now_ms));
    free(payload);
    cstore_rows_free(rows);
    if (rc == TP_OK)
        rc = cfleet_audit(tx, actor, "endpoint.test", name, NULL, NULL, now_ms, err, errlen);
    if (rc != TP_OK)
        return rc;
    *result = cJSON_CreateObject();
    cJSON_AddStringToObject(*result, "outbox_id", id);
    cJSON_AddStringToObject(*result, "endpoint", name);
    return TP_OK;
}
