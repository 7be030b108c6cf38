/*
 * cread_ops.c - the administration of read access (cread.h, "Administration"): read tokens,
 * the read audit listing, and the listing and revocation of admin tokens (issue 12 left them
 * without). cfleet_call runs each in one transaction with its audit_log row, as every fleet
 * operation: adding or revoking a token is itself audited.
 */
#include "cread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfleet_int.h"

static const char *arg_str(const cJSON *args, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, name));
}

static tp_err need_name(const cJSON *args, const char **name, char *err, size_t errlen)
{
    *name = arg_str(args, "name");
    if (!*name)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.name: expected a string");
    if (!tp_id_valid(*name))
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "$.name: expected 1-64 characters of A-Z a-z 0-9 . _ -");
    return TP_OK;
}

/* Rows as objects named by cols ("#name": a number, null kept). */
static tp_err rows_json(const cstore_rows *rows, const char *const *cols, size_t n, cJSON **out)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < rows->n; i++) {
        cJSON *it = cJSON_CreateObject();
        if (!it || !cJSON_AddItemToArray(arr, it)) {
            cJSON_Delete(it);
            cJSON_Delete(arr);
            return TP_ERR_NOMEM;
        }
        for (size_t c = 0; c < n; c++) {
            const char *v = cstore_rows_get(rows, i, c);
            if (!v)
                cJSON_AddNullToObject(it, cols[c] + (cols[c][0] == '#'));
            else if (cols[c][0] == '#')
                cJSON_AddNumberToObject(it, cols[c] + 1, strtod(v, NULL));
            else
                cJSON_AddStringToObject(it, cols[c], v);
        }
    }
    *out = arr;
    return arr ? TP_OK : TP_ERR_NOMEM;
}

static tp_err list(cstore_tx *tx, const char *sql, const char *const *params, int np,
                   const char *const *cols, size_t n, cJSON **result, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    tp_err rc = cstore_tx_exec(tx, sql, params, np, &rows, err, errlen);
    if (rc == TP_OK)
        rc = rows_json(rows, cols, n, result);
    cstore_rows_free(rows);
    return rc;
}

tp_err cread_token_add(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                       cJSON **result, char *err, size_t errlen)
{
    const char *name, *node = arg_str(args, "node");
    char token[64], hx[65], at[24];
    tp_err rc = need_name(args, &name, err, errlen);
    if (rc == TP_OK && !node)
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "$.node: expected a node path");
    if (rc == TP_OK && cfleet_path_check(node, err, errlen) != TP_OK)
        rc = TP_ERR_INVALID;
    if (rc == TP_OK)
        rc = cfleet_node_exists(tx, node, err, errlen);
    if (rc == TP_OK && cauth_new_token(token, hx) != TP_OK)
        rc = tp_errf(err, errlen, TP_ERR_IO, "getrandom failed");
    if (rc == TP_OK) {
        rc = FX(tx, NULL, err, errlen,
                "INSERT INTO read_tokens(name, token_sha256, node_path, created_ms, created_by)"
                " VALUES($1, $2, $3, $4, $5)",
                name, hx, node, cfleet_i64(at, now_ms), actor);
        if (rc == TP_ERR_EXISTS)
            tp_errf(err, errlen, rc, "read token %s exists (a revoked name is not reused)", name);
    }
    cJSON *after = rc == TP_OK ? cfleet_pair("node", node, NULL, NULL) : NULL;
    if (rc == TP_OK)
        rc = cfleet_audit(tx, actor, "read-token.add", name, NULL, after, now_ms, err, errlen);
    cJSON_Delete(after);
    if (rc == TP_OK) {
        *result = cfleet_pair("name", name, "node", node);
        cJSON_AddStringToObject(*result, "token", token);
    }
    return rc;
}

tp_err cread_token_list(cstore_tx *tx, cJSON **result, char *err, size_t errlen)
{
    static const char *const cols[] = {"name", "node", "#created_ms", "created_by", "#revoked_ms"};
    return list(tx,
                "SELECT name, node_path, created_ms, created_by, revoked_ms FROM read_tokens"
                " ORDER BY name",
                NULL, 0, cols, 5, result, err, errlen);
}

/* Sets revoked_ms of the row name in table (a fixed name, never from a request). */
static tp_err revoke(cstore_tx *tx, const char *table, const char *what, const char *actor,
                     const cJSON *args, int64_t now_ms, cJSON **result, char *err, size_t errlen)
{
    const char *name;
    char sql[160], at[24], action[48];
    cstore_rows *rows = NULL;
    tp_err rc = need_name(args, &name, err, errlen);
    snprintf(sql, sizeof sql, "SELECT revoked_ms FROM %s WHERE name = $1", table);
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, errlen, sql, name);
    if (rc == TP_OK && rows->n == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no %s %s", what, name);
    /* Revoking twice keeps the first time. */
    bool already = rc == TP_OK && cstore_rows_get(rows, 0, 0) != NULL;
    tp_strlcpy(at, already ? cstore_rows_get(rows, 0, 0) : cfleet_i64(at, now_ms), sizeof at);
    cstore_rows_free(rows);
    snprintf(sql, sizeof sql, "UPDATE %s SET revoked_ms = $1 WHERE name = $2", table);
    if (rc == TP_OK && !already)
        rc = FX(tx, NULL, err, errlen, sql, at, name);
    snprintf(action, sizeof action, "%s.revoke", what[0] == 'r' ? "read-token" : "admin-token");
    cJSON *after = rc == TP_OK && !already ? cfleet_pair("revoked", "true", NULL, NULL) : NULL;
    if (rc == TP_OK && !already)
        rc = cfleet_audit(tx, actor, action, name, NULL, after, now_ms, err, errlen);
    cJSON_Delete(after);
    if (rc == TP_OK && (*result = cfleet_pair("name", name, NULL, NULL)))
        cJSON_AddNumberToObject(*result, "revoked_ms", strtod(at, NULL));
    return rc;
}

tp_err cread_token_revoke(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                          cJSON **result, char *err, size_t errlen)
{
    return revoke(tx, "read_tokens", "read token", actor, args, now_ms, result, err, errlen);
}

tp_err cread_audit_list(cstore_tx *tx, const cJSON *args, cJSON **result, char *err, size_t errlen)
{
    static const char *const cols[] = {"#id",  "#at_ms", "token",   "scope", "method",
                                       "path", "query",  "#status", "addr"};
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(args, "since");
    const char *token = arg_str(args, "token");
    char since_s[24];
    int64_t since_ms = 0;
    if (cJSON_GetObjectItemCaseSensitive(args, "token") && !token)
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.token: expected a string");
    if (since && !(cJSON_IsString(since) && strlen(since->valuestring) == 10 &&
                   tp_parse_date_local(since->valuestring, &since_ms) == TP_OK))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.since: expected a date YYYY-MM-DD");
    const char *params[] = {token && *token ? token : NULL,
                            since ? cfleet_i64(since_s, since_ms) : NULL};
    /* The latest rows, oldest first: a listing has a bound, the table only its retention. */
    return list(tx,
                "SELECT * FROM (SELECT id, at_ms, token_name, scope, method, path, query, status,"
                " addr FROM read_audit WHERE (CAST($1 AS TEXT) IS NULL"
                " OR token_name = CAST($1 AS TEXT)) AND (CAST($2 AS BIGINT) IS NULL"
                " OR at_ms >= CAST($2 AS BIGINT)) ORDER BY id DESC LIMIT " CREAD_AUDIT_LISTED_S
                ") AS latest ORDER BY id",
                params, 2, cols, 9, result, err, errlen);
}

tp_err cread_admin_list(cstore_tx *tx, cJSON **result, char *err, size_t errlen)
{
    static const char *const cols[] = {"name", "#created_ms", "#revoked_ms"};
    return list(tx, "SELECT name, created_ms, revoked_ms FROM admin_tokens ORDER BY name", NULL, 0,
                cols, 3, result, err, errlen);
}

tp_err cread_admin_revoke(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                          cJSON **result, char *err, size_t errlen)
{
    return revoke(tx, "admin_tokens", "admin token", actor, args, now_ms, result, err, errlen);
}
