/*
 * collector_api.c - the collector's fleet resources over HTTP (capi.h does the work; this file
 * reads the request body within the same bounds as a batch's and sends the reply), and the batch
 * reply's configuration revision.
 */
#include "collector_int.h"

#include <cjson/cJSON.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi.h"
#include "cfleet.h"

/* Records the device's configuration fields and adds its desired revision to the reply (none
 * when the device is not in the fleet, or the store cannot say now: the batch is stored). */
char *with_revision(collector *c, const cbatch *b, char *json, int64_t now)
{
    char rev[CFLEET_REVISION_LEN + 1], err[TP_ERRMSG_MAX];
    tp_err rc = cfleet_device_seen(c->store, &b->device, now, rev, err, sizeof err);
    size_t n = strlen(json);
    if (rc != TP_OK) {
        if (rc != TP_ERR_NOT_FOUND)
            fprintf(stderr, "touchpoint-collector: config revision of %s: %s\n", b->device.id, err);
        return json;
    }
    char *out = n > 1 ? realloc(json, n + 64) : NULL;
    if (!out)
        return json;
    /* The reply is an object: its closing brace makes room for one more key. */
    snprintf(out + n - 1, 64, ",\"config_revision\":\"%s\"}", rev);
    return out;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    cJSON_AddStringToObject(cls, key, value ? value : "");
    return MHD_YES;
}

/* The query arguments of a GET as a JSON object text (free()), or NULL when there are none. */
static char *query_json(struct MHD_Connection *conn)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, o) > 0)
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* The fleet's resources (capi.h): the body read like a batch's (bounded, from the budget),
 * then one call that makes the reply. */
enum MHD_Result handle_api(collector *c, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *upload, size_t *upload_size,
                           void **con_cls)
{
    req *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *con_cls = r;
        r->t0 = mono_ms(c);
        tp_buf_init(&r->body, CAPI_BODY_MAX);
        return MHD_YES;
    }
    if (*upload_size > 0)
        return take_body(c, r, upload, upload_size, CAPI_BODY_MAX);
    if (r->err_status)
        return send_error(c, conn, r->err_status, r->err_code, r->err_msg, r->retry_after);
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    int64_t now = c->clock->wall_ms(c->clock->ctx);
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    capi_reply rep;
    if (strcmp(url, "/v1/config") == 0) {
        if (!get)
            return send_error(c, conn, 405, "method_not_allowed", "use GET", 0);
        rep = capi_config(
            c->store, c->auth, auth,
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH), now);
    } else if (strcmp(url, "/v1/enroll") == 0) {
        char host[NI_MAXHOST] = "unknown";
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (!post)
            return send_error(c, conn, 405, "method_not_allowed", "use POST", 0);
        if (ci && ci->client_addr)
            getnameinfo(ci->client_addr,
                        ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                               : sizeof(struct sockaddr_in),
                        host, sizeof host, NULL, 0, NI_NUMERICHOST);
        rep = capi_enroll(c->store, r->body.p, r->body.len, host, now);
    } else if (get) {
        char *q = query_json(conn); /* a listing's filters */
        rep = capi_admin(c->store, auth, method, url, q, q ? strlen(q) : 0, now);
        free(q);
    } else {
        rep = capi_admin(c->store, auth, method, url, r->body.p, r->body.len, now);
    }
    if (rep.status == 304) {
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, rep.etag);
        cmetrics_status(c->metrics, 304);
        enum MHD_Result ret = MHD_queue_response(conn, 304, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (!rep.body)
        return send_json(c, conn, 500, NULL, 0);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(rep.body), rep.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(rep.body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (rep.etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, rep.etag);
    if (rep.retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", rep.retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    cmetrics_status(c->metrics, rep.status);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rep.status, resp);
    MHD_destroy_response(resp);
    return ret;
}
