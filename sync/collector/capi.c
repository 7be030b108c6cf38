/*
 * capi.c - the fleet's HTTP resources (see capi.h). Admin requests run the same cfleet_call as
 * the CLI, with the admin token's name as the audit actor ("admin:NAME"). Device tokens and read
 * tokens are never admin tokens: the admin API looks only in admin_tokens.
 */
#include "capi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfleet.h"
#include "ckey.h"

capi_reply capi_error(int status, const char *code, const char *msg)
{
    capi_reply r = {.status = status};
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    r.body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (status == 503)
        r.retry_after = 5;
    return r;
}

static const char *bearer(const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    return authorization + 7;
}

capi_reply capi_config(cstore *s, cauth *file, const char *authorization, const char *if_none_match,
                       int64_t now_ms)
{
    char device[TP_ID_MAX + 1], rev[CFLEET_REVISION_LEN + 1], err[TP_ERRMSG_MAX];
    char *body = NULL;
    tp_err rc = cfleet_auth_device(s, file, bearer(authorization), now_ms, device);
    if (rc == TP_ERR_BUSY)
        return capi_error(503, "store_unavailable", "the store cannot answer now");
    if (rc != TP_OK)
        return capi_error(401, "unauthenticated", "missing or unknown bearer token");
    rc = ckey_ensure(s, device, err, sizeof err);
    if (rc == TP_OK)
        rc = cfleet_config(s, device, &body, rev, err, sizeof err);
    if (rc == TP_ERR_NOT_FOUND)
        return capi_error(404, "no_config", err);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: config of %s: %s\n", device, err);
        return capi_error(503, "store_unavailable", "the store cannot answer now");
    }
    capi_reply r = {.status = 200, .body = body};
    snprintf(r.etag, sizeof r.etag, "\"%s\"", rev);
    if (if_none_match && (strcmp(if_none_match, r.etag) == 0 || strcmp(if_none_match, rev) == 0)) {
        free(r.body);
        r.body = NULL;
        r.status = 304;
    }
    return r;
}

capi_reply capi_enroll(cstore *s, const char *body, size_t len, const char *addr, int64_t now_ms)
{
    capi_reply r = {0};
    cfleet_enroll(s, body, len, addr, now_ms, &r.status, &r.body);
    if (r.status == 503)
        r.retry_after = 5;
    return r;
}

/* The operation of (resource, method, body). Returns the op name or NULL. */
static const char *route(const char *res, bool post, cJSON *args)
{
    if (!post) {
        return strcmp(res, "nodes") == 0          ? "node.list"
               : strcmp(res, "devices") == 0      ? "device.list"
               : strcmp(res, "surveys") == 0      ? "survey.list"
               : strcmp(res, "audit") == 0        ? "audit.list"
               : strcmp(res, "enrollments") == 0  ? "enroll.list"
               : strcmp(res, "endpoints") == 0    ? "endpoint.list"
               : strcmp(res, "alert-rules") == 0  ? "alert.list"
               : strcmp(res, "cases") == 0        ? "case.list"
               : strcmp(res, "read-tokens") == 0  ? "read-token.list"
               : strcmp(res, "read-audit") == 0   ? "read-audit.list"
               : strcmp(res, "admin-tokens") == 0 ? "admin.list"
               : strcmp(res, "tags") == 0         ? "tags.list"
               : strcmp(res, "digests") == 0      ? "digest.list"
                                                  : NULL;
    }
    if (strcmp(res, "nodes") == 0)
        return "node.set";
    if (strcmp(res, "assignments") == 0)
        return "survey.assign";
    if (strcmp(res, "enrollments") == 0)
        return "device.approve";
    if (strcmp(res, "endpoints") == 0) { /* {"action": "add" | "test", ...} */
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "action"));
        return !a                       ? NULL
               : strcmp(a, "add") == 0  ? "endpoint.add"
               : strcmp(a, "test") == 0 ? "endpoint.test"
                                        : NULL;
    }
    if (strcmp(res, "cases") == 0)
        return "case.act";
    if (strcmp(res, "read-tokens") == 0 || strcmp(res, "admin-tokens") == 0) {
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "action"));
        bool rt = res[0] == 'r';
        return !a                         ? NULL
               : strcmp(a, "add") == 0    ? (rt ? "read-token.add" : "admin.add")
               : strcmp(a, "revoke") == 0 ? (rt ? "read-token.revoke" : "admin.revoke")
                                          : NULL;
    }
    if (strcmp(res, "tags") == 0)
        return "tags.set";
    if (strcmp(res, "digests") == 0)
        return "digest.act";
    if (strcmp(res, "alert-rules") == 0) {
        /* {"action": "add" (default) | "test" | "remove" | "disable" | "enable", ...} */
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "action"));
        return !a || strcmp(a, "add") == 0 ? "alert.add"
               : strcmp(a, "test") == 0    ? "alert.test"
               : strcmp(a, "remove") == 0  ? "alert.remove"
               : strcmp(a, "disable") == 0 ? "alert.disable"
               : strcmp(a, "enable") == 0  ? "alert.enable"
                                           : NULL;
    }
    if (strcmp(res, "devices") == 0) {
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "action"));
        return !a                               ? NULL
               : strcmp(a, "add") == 0          ? "device.add"
               : strcmp(a, "move") == 0         ? "device.move"
               : strcmp(a, "revoke") == 0       ? "device.revoke"
               : strcmp(a, "rotate-token") == 0 ? "device.rotate"
               : strcmp(a, "import") == 0       ? "device.import"
                                                : NULL;
    }
    return NULL;
}

capi_reply capi_admin(cstore *s, const char *authorization, const char *method, const char *url,
                      const char *body, size_t len, int64_t now_ms)
{
    char name[65], actor[80], err[TP_ERRMSG_MAX];
    bool post = strcmp(method, "POST") == 0;
    cJSON *args = NULL, *result = NULL;
    const char *res = url + strlen("/v1/admin/");
    tp_err rc = cfleet_auth_admin(s, bearer(authorization), name);
    if (rc == TP_ERR_BUSY)
        return capi_error(503, "store_unavailable", "the store cannot answer now");
    if (rc != TP_OK)
        return capi_error(401, "unauthenticated", "admin token required");
    if (!post && strcmp(method, "GET") != 0)
        return capi_error(405, "method_not_allowed", "use GET or POST");
    if (post && strcmp(res, "surveys") == 0) {
        /* The body is the survey document itself. */
        args = cJSON_CreateObject();
        char *doc = malloc(len + 1);
        if (doc) {
            memcpy(doc, body ? body : "", len);
            doc[len] = '\0';
            cJSON_AddStringToObject(args, "document", doc);
            free(doc);
        }
    } else if (post) {
        args = cJSON_ParseWithLength(body ? body : "", len);
        if (!cJSON_IsObject(args)) {
            cJSON_Delete(args);
            return capi_error(400, "malformed", "$: expected a JSON object");
        }
    } else if (len > 0) { /* GET: the query's arguments, as a JSON object (collector_api.c) */
        args = cJSON_ParseWithLength(body, len);
    } else {
        args = cJSON_CreateObject();
    }
    const char *op =
        post && strcmp(res, "surveys") == 0 ? "survey.publish" : route(res, post, args);
    if (!op) {
        cJSON_Delete(args);
        return capi_error(404, "not_found", "no such admin resource or action");
    }
    snprintf(actor, sizeof actor, "admin:%s", name);
    rc = cfleet_call(s, actor, op, args, now_ms, &result, err, sizeof err);
    cJSON_Delete(args);
    if (rc != TP_OK) {
        int st = cfleet_http_status(rc);
        return capi_error(st,
                          st == 400   ? "invalid"
                          : st == 404 ? "not_found"
                          : st == 409 ? "conflict"
                          : st == 503 ? "store_unavailable"
                                      : "internal",
                          err);
    }
    capi_reply r = {.status = 200, .body = cJSON_PrintUnformatted(result)};
    cJSON_Delete(result);
    return r;
}
