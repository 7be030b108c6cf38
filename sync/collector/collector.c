/*
 * collector.c - touchpoint-collector's HTTP side (see collector.h): routing, the checks of
 * POST /v1/batches in order (token 401, media type 415, declared size 413, rate 429, body bound
 * 413 while receiving, gzip bound 413, JSON 400, device 403, store 503), and the read side.
 *
 * A request that is refused before its body arrives still has its body read and thrown away (up
 * to DRAIN_MAX bytes) so that the client, which is usually still sending, gets the status instead
 * of a reset connection; beyond DRAIN_MAX the connection is closed.
 *
 * Floods (see cguard.h): each address holds at most conn_per_ip connections and the daemon at
 * most conn_max; each request has an absolute deadline for its head and one for its body; bodies
 * in flight share a byte budget, above which a request is refused 503 busy with Retry-After.
 */
#include "collector_int.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "canalytics.h"
#include "capi.h"
#include "cauth.h"
#include "cbatch.h"
#include "ccase.h"
#include "ccomment.h"
#include "cfleet.h"
#include "cguard.h"
#include "cjarena.h"
#include "cmetrics.h"
#include "crate.h"
#include "cread.h"
#include "creport.h"
#include "cstore.h"

/* The dashboard page (sync/collector/dashboard.html), embedded at build time with xxd -i. */
extern unsigned char sync_collector_dashboard_html[];
extern unsigned int sync_collector_dashboard_html_len;

/* ---- Replies --------------------------------------------------------------------------------- */

enum MHD_Result send_reply(collector *c, struct MHD_Connection *conn, int status, const char *ctype,
                           void *body, size_t len, enum MHD_ResponseMemoryMode mode,
                           int retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (strncmp(ctype, "text/html", 9) == 0)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; script-src 'unsafe-inline'; style-src "
                                "'unsafe-inline'; connect-src 'self'; img-src data:");
    cmetrics_status(c->metrics, status);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result send_json(collector *c, struct MHD_Connection *conn, int status, char *json,
                          int retry_after)
{
    static const char nomem[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    if (!json)
        return send_reply(c, conn, 500, "application/json", (void *)(uintptr_t)nomem,
                          sizeof nomem - 1, MHD_RESPMEM_PERSISTENT, 0);
    return send_reply(c, conn, status, "application/json", json, strlen(json),
                      MHD_RESPMEM_MUST_FREE, retry_after);
}

enum MHD_Result send_error(collector *c, struct MHD_Connection *conn, int status, const char *code,
                           const char *msg, int retry_after)
{
    char *text = NULL;
    cJSON *root = cJSON_CreateObject(), *e = NULL;
    if (root && (e = cJSON_AddObjectToObject(root, "error")) &&
        cJSON_AddStringToObject(e, "code", code) && cJSON_AddStringToObject(e, "message", msg))
        text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return send_json(c, conn, status, text, retry_after);
}

/* ---- POST /v1/batches ------------------------------------------------------------------------ */

/* Frees the request's body and gives its bytes back to the budget. */
static void drop_body(collector *c, req *r)
{
    tp_buf_free(&r->body);
    cguard_put_bytes(c->guard, r->held);
    r->held = 0;
}

void refuse(collector *c, req *r, int status, const char *code, int retry_after, const char *fmt,
            ...)
{
    va_list ap;
    r->err_status = status;
    r->err_code = code;
    r->retry_after = retry_after;
    va_start(ap, fmt);
    vsnprintf(r->err_msg, sizeof r->err_msg, fmt, ap);
    va_end(ap);
    drop_body(c, r);
}

int64_t mono_ms(const collector *c)
{
    return c->clock->mono_ms(c->clock->ctx);
}

/* The header checks, in the order the protocol lists them. */
static void check_headers(collector *c, struct MHD_Connection *conn, req *r)
{
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *ctype =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *cenc =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    const char *clen =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    tp_err arc = auth && strncasecmp(auth, "Bearer ", 7) == 0
                     ? cfleet_auth_device(c->store, c->auth, auth + 7, mono_ms(c), r->device)
                     : TP_ERR_AUTH;
    if (arc == TP_ERR_BUSY) {
        refuse(c, r, 503, "store_unavailable", c->retry_after_s, "the store cannot answer now");
        return;
    }
    if (arc != TP_OK) {
        refuse(c, r, 401, "unauthenticated", 0, "missing or unknown bearer token");
        return;
    }
    size_t tlen = ctype ? strcspn(ctype, ";") : 0;
    while (tlen > 0 && ctype[tlen - 1] == ' ')
        tlen--;
    if (!ctype || tlen != 16 || strncasecmp(ctype, "application/json", 16) != 0) {
        refuse(c, r, 415, "unsupported_media_type", 0, "Content-Type must be application/json");
        return;
    }
    if (cenc && strcasecmp(cenc, "gzip") == 0) {
        r->gzip = true;
    } else if (cenc && *cenc && strcasecmp(cenc, "identity") != 0) {
        refuse(c, r, 415, "unsupported_media_type", 0, "Content-Encoding must be gzip or none");
        return;
    }
    if (clen) {
        char *end = NULL;
        unsigned long long n = strtoull(clen, &end, 10);
        if (end != clen && n > COLLECTOR_BODY_MAX) {
            refuse(c, r, 413, "too_large", 0, "body of %llu bytes, at most %u", n,
                   COLLECTOR_BODY_MAX);
            return;
        }
    }
    int retry = 0;
    if (!crate_take(c->rate, r->device, mono_ms(c), &retry))
        refuse(c, r, 429, "rate_limited", retry, "device %s sends too fast; retry in %d s",
               r->device, retry);
}

/* Appends n body bytes, taking what the buffer grows by from the body budget. Returns TP_OK,
 * TP_ERR_TOO_LARGE (over COLLECTOR_BODY_MAX), TP_ERR_BUSY (over the budget) or TP_ERR_NOMEM. */
tp_err append_body(collector *c, req *r, const char *data, size_t n)
{
    size_t cap = r->body.cap;
    tp_err rc = tp_buf_add(&r->body, data, n);
    if (rc != TP_OK || r->body.cap == cap)
        return rc;
    if (!cguard_take_bytes(c->guard, r->body.cap - cap))
        return TP_ERR_BUSY;
    r->held += r->body.cap - cap;
    return TP_OK;
}

enum MHD_Result take_body(collector *c, req *r, const char *upload, size_t *upload_size, size_t max)
{
    size_t n = *upload_size;
    *upload_size = 0;
    if (r->err_status) { /* refused: drain (bounded), reply at the end */
        r->drained += n;
        return r->drained > DRAIN_MAX ? MHD_NO : MHD_YES;
    }
    tp_err rc = append_body(c, r, upload, n);
    if (rc == TP_ERR_TOO_LARGE)
        refuse(c, r, 413, "too_large", 0, "body larger than %zu bytes", max);
    else if (rc == TP_ERR_BUSY)
        refuse(c, r, 503, "busy", c->retry_after_s,
               "too many request bodies in flight; retry in %d s", c->retry_after_s);
    else if (rc != TP_OK)
        refuse(c, r, 500, "internal", 0, "out of memory");
    r->drained = r->body.len;
    return MHD_YES;
}

/* Inflates a gzip body of exactly one member with a running bound: more than
 * COLLECTOR_INFLATED_MAX bytes out is a gzip bomb (TP_ERR_TOO_LARGE) and stops at once. Bytes after
 * the member's end (trailing garbage, or a second member) are TP_ERR_INVALID with a message in
 * err, as is a corrupt or truncated stream. *out is freed by the caller. */
static tp_err gunzip(const char *in, size_t n, char **out, size_t *outlen, char *err, size_t errlen)
{
    z_stream zs;
    tp_buf buf;
    tp_err rc = TP_OK;
    memset(&zs, 0, sizeof zs);
    tp_buf_init(&buf, COLLECTOR_INFLATED_MAX + 1);
    *out = NULL;
    *outlen = 0;
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return TP_ERR_NOMEM;
    /* gzip's trailer ends with the inflated size (mod 2^32): room for it and one more step at
     * once, instead of doubling and copying a 3 MB batch ten times. Only a hint: a wrong one costs
     * a realloc, a failed one is left to the loop's own reserve; a lying one gets no more than
     * deflate's largest ratio (1032:1) of what was sent, as a real gzip bomb would. */
    if (n >= 18) {
        const unsigned char *t = (const unsigned char *)in + n - 4;
        size_t hint = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
        if (hint / 1032 > n)
            hint = n * 1032;
        hint = hint < buf.max - 65536 ? hint + 65536 : buf.max;
        (void)tp_buf_reserve(&buf, hint);
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    for (;;) {
        size_t room = buf.max - buf.len < 65536 ? buf.max - buf.len : 65536;
        if (room == 0) {
            rc = TP_ERR_TOO_LARGE;
            goto out;
        }
        if ((rc = tp_buf_reserve(&buf, room)) != TP_OK)
            goto out;
        zs.next_out = (Bytef *)buf.p + buf.len;
        zs.avail_out = (uInt)room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        tp_buf_commit(&buf, room - zs.avail_out);
        if (buf.len > COLLECTOR_INFLATED_MAX) {
            rc = TP_ERR_TOO_LARGE;
            goto out;
        }
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && zs.avail_out == 0)) {
            rc = tp_errf(err, errlen, TP_ERR_INVALID, "body is not valid gzip");
            goto out;
        }
        if (zs.avail_in == 0 && zs.avail_out != 0) {
            rc = tp_errf(err, errlen, TP_ERR_INVALID, "body is not valid gzip (truncated)");
            goto out;
        }
    }
    if (zs.avail_in != 0)
        rc = tp_errf(err, errlen, TP_ERR_INVALID,
                     "gzip body has %u bytes after its end (trailing data or a second member)",
                     zs.avail_in);
out:
    inflateEnd(&zs);
    if (rc != TP_OK) {
        tp_buf_free(&buf);
        return rc;
    }
    *outlen = buf.len;
    *out = tp_buf_take(&buf);
    return *out ? TP_OK : TP_ERR_NOMEM;
}

static void reply_error(req *r, int status, const char *code, const char *msg, int retry_after)
{
    r->rep = capi_error(status, code, msg);
    r->reply_retry = retry_after;
}

/* The reply to a batch whose body is in, into r->rep. It runs on a batch worker, so it
 * touches no connection. */
static void finish_batch(collector *c, req *r)
{
    char err[TP_ERRMSG_MAX];
    char *plain = NULL, *json = NULL;
    size_t plain_len = 0;
    cbatch *b = NULL;
    unsigned char *outcomes = NULL;
    int status = 200;
    uint64_t acc = 0, dup = 0;
    const char *body = r->body.p;
    size_t len = r->body.len;

    if (r->gzip) {
        tp_err rc = gunzip(body, len, &plain, &plain_len, err, sizeof err);
        if (rc == TP_ERR_TOO_LARGE) {
            status = 413;
            reply_error(r, 413, "too_large", "body inflates to more than 16 MiB", 0);
            goto out;
        }
        if (rc != TP_OK) {
            status = rc == TP_ERR_NOMEM ? 500 : 400;
            reply_error(r, status, status == 500 ? "internal" : "malformed",
                        status == 500 ? "out of memory" : err, 0);
            goto out;
        }
        body = plain;
        len = plain_len;
    }
    int64_t received = c->clock->wall_ms(c->clock->ctx);
    tp_err rc = cbatch_parse(body, len, received, &b, err, sizeof err);
    if (rc != TP_OK) {
        status = rc == TP_ERR_TOO_LARGE ? 413 : rc == TP_ERR_INVALID ? 400 : 500;
        reply_error(r, status,
                    status == 413   ? "too_large"
                    : status == 400 ? "malformed"
                                    : "internal",
                    status == 500 ? tp_strerror(rc) : err, 0);
        goto out;
    }
    if (strcmp(b->device.id, r->device) != 0) {
        status = 403;
        snprintf(err, sizeof err, "token belongs to device %s, batch names %s", r->device,
                 b->device.id);
        reply_error(r, 403, "wrong_device", err, 0);
        goto out;
    }
    outcomes = calloc(b->n_answers ? b->n_answers : 1, 1);
    if (!outcomes) {
        status = 500;
        reply_error(r, 500, "internal", "out of memory", 0);
        goto out;
    }
    rc = cstore_ingest(c->store, b, received, outcomes, err, sizeof err);
    if (rc == TP_ERR_TOO_LARGE) {
        status = 409;
        reply_error(r, 409, "too_many_gaps", err, 0);
        goto out;
    }
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: batch %s of %s not stored: %s\n", b->batch_id,
                b->device.id, err);
        status = 503;
        reply_error(r, 503, "store_unavailable", "the store cannot take the batch now",
                    c->retry_after_s);
        goto out;
    }
    uint64_t conflicts = 0;
    for (size_t i = 0; i < b->n_answers; i++) {
        acc += outcomes[i] == CBATCH_ACCEPTED;
        dup += outcomes[i] == CBATCH_DUPLICATE;
        conflicts += outcomes[i] == CBATCH_CONFLICT;
    }
    for (size_t i = 0; i < b->n_rejects; i++)
        cmetrics_rejected(c->metrics, b->rejects[i].code, 1);
    cmetrics_rejected(c->metrics, CBATCH_SEQ_CONFLICT, conflicts);
    json = cbatch_reply_json(b, outcomes, received);
    if (!json)
        status = 500;
    else
        json = with_revision(c, b, json, received);
    r->rep = (capi_reply){.status = 200, .body = json}; /* NULL: sent as 500 out of memory */
out:
    cmetrics_batch(c->metrics, status, (double)(mono_ms(c) - r->t0), acc, dup);
    cbatch_free(b);
    free(outcomes);
    free(plain);
}

req *req_of(cwork_job *job)
{
    return (req *)(void *)((char *)job - offsetof(req, job));
}

enum MHD_Result req_reply(collector *c, struct MHD_Connection *conn, req *r)
{
    capi_reply rep = r->rep;
    r->rep.body = NULL; /* taken */
    if (r->via_route)
        return r->route->send(c, conn, r->path, rep);
    return send_json(c, conn, rep.status, rep.body, r->reply_retry);
}

void req_resume(req *r)
{
    r->ready = true;
    atomic_fetch_add(&r->c->replies_due, 1);
    MHD_resume_connection(r->conn);
}

enum MHD_Result req_defer(collector *c, struct MHD_Connection *conn, req *r, cwork *w,
                          void (*run)(cwork_job *job))
{
    r->c = c;
    r->conn = conn;
    r->job.run = run;
    MHD_suspend_connection(conn); /* before the job can resume it */
    if (!cwork_submit(w, &r->job))
        run(&r->job); /* the collector is stopping: served on this thread */
    return MHD_YES;
}

/* A batch worker's job (cwork.h): the reply made, the connection resumed to send it. */
static void run_batch(cwork_job *job)
{
    req *r = req_of(job);
    finish_batch(r->c, r);
    drop_body(r->c, r); /* the budget back before the reply waits for its thread */
    req_resume(r);
}

/* A body of a declared length (<= COLLECTOR_BODY_MAX, checked before) is allocated once, at its
 * size, and taken from the budget before it arrives: no doubling garbage, and a request the budget
 * cannot take is refused before it sends anything. Returns false when the budget is short (or
 * memory: then the request is refused the same way). */
static bool reserve_body(collector *c, req *r, size_t declared)
{
    tp_buf_init(&r->body, declared); /* libmicrohttpd reads no more than Content-Length */
    if (!cguard_take_bytes(c->guard, declared + 1))
        return false;
    r->held = declared + 1;
    return tp_buf_reserve(&r->body, declared) == TP_OK;
}

static cguard_conn *guard_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static enum MHD_Result handle_batch(collector *c, struct MHD_Connection *conn, const char *upload,
                                    size_t *upload_size, void **con_cls)
{
    req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        r->t0 = mono_ms(c);
        tp_buf_init(&r->body, COLLECTOR_BODY_MAX);
        check_headers(c, conn, r);
        /* A refused request with a huge declared body is answered at once (and the connection
         * closed) rather than drained. */
        const char *clen =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long declared = clen ? strtoull(clen, NULL, 10) : 0;
        if (!r->err_status && declared > 0 && !reserve_body(c, r, (size_t)declared))
            refuse(c, r, 503, "busy", c->retry_after_s,
                   "too many request bodies in flight; retry in %d s", c->retry_after_s);
        if (r->err_status && (declared > DRAIN_MAX || r->err_status == 503)) {
            cmetrics_batch(c->metrics, r->err_status, 0, 0, 0);
            return send_error(c, conn, r->err_status, r->err_code, r->err_msg, r->retry_after);
        }
        return MHD_YES;
    }
    if (*upload_size > 0)
        return take_body(c, r, upload, upload_size, COLLECTOR_BODY_MAX);
    if (r->err_status) {
        cmetrics_batch(c->metrics, r->err_status, (double)(mono_ms(c) - r->t0), 0, 0);
        return send_error(c, conn, r->err_status, r->err_code, r->err_msg, r->retry_after);
    }
    if (r->ready) /* called again after run_batch resumed the connection */
        return req_reply(c, conn, r);
    cguard_request_working(c->guard, guard_of(conn)); /* the body is in: the store's time */
    return req_defer(c, conn, r, c->batches, run_batch);
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    collector *c = cls;
    req *r = *con_cls;
    cguard_request_done(c->guard, guard_of(conn));
    if (r) {
        if (r->ready)
            atomic_fetch_sub(&c->replies_due, 1);
        drop_body(c, r);
        free(r->rep.body); /* the connection closed before its reply went out */
        free(r);
        *con_cls = NULL;
    }
}

/* Registers each connection with the guard (its socket context) from start to close. */
static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe)
{
    collector *c = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? cguard_conn_open(c->guard, ci->connect_fd) : NULL;
    } else {
        cguard_conn_close(c->guard, *socket_context);
        *socket_context = NULL;
    }
}

/* ---- Read side ------------------------------------------------------------------------------- */

static enum MHD_Result handle_health(collector *c, struct MHD_Connection *conn)
{
    char err[TP_ERRMSG_MAX], body[256];
    tp_err rc = cstore_ping(c->store, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: health: %s\n", err);
        return send_error(c, conn, 503, "store_unavailable", "the store does not answer",
                          c->retry_after_s);
    }
    snprintf(body, sizeof body, "{\"status\":\"ok\",\"store\":\"%s\",\"devices\":%zu}",
             cstore_kind(c->store), c->auth ? cauth_count(c->auth) : 0);
    return send_json(c, conn, 200, strdup(body), 0);
}

/* Sends a CSV read (the comments' export) as text/csv; an error stays JSON. */
static enum MHD_Result send_csv(collector *c, struct MHD_Connection *conn, const char *url,
                                capi_reply r)
{
    (void)url;
    if (!r.body)
        return send_json(c, conn, 500, NULL, 0);
    return send_reply(c, conn, r.status,
                      r.status == 200 ? "text/csv; charset=utf-8" : "application/json", r.body,
                      strlen(r.body), MHD_RESPMEM_MUST_FREE, r.retry_after);
}

/* The read side's resources, one line each: collector_read.c authenticates the reader, limits
 * it, checks node= / store= against its scope, runs the handler with the scope and audits the
 * read. */
static const read_route read_routes[] = {
    {"/v1/report", NULL, analytics_reply, send_analytics},
    {"/v1/reasons", NULL, analytics_reply, send_analytics},
    {"/v1/journey", NULL, analytics_reply, send_analytics},
    {"/v1/rankings", NULL, analytics_reply, send_analytics},
    {"/v1/heatmap", NULL, analytics_reply, send_analytics},
    {"/v1/devices", NULL, analytics_reply, send_analytics},
    {"/v1/nodes", NULL, analytics_reply, send_analytics},
    {"/v1/export.csv", NULL, analytics_reply, send_analytics},
    {"/v1/comments", ccomment_get, NULL, NULL},
    {"/v1/comments.csv", ccomment_get, NULL, send_csv},
    {"/v1/cases", ccase_get, NULL, NULL},
    {"/v1/cases/", ccase_get, NULL, NULL}, /* a prefix: /v1/cases/report, /v1/cases/<id> */
};

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    collector *c = cls;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    cguard_request_started(c->guard, guard_of(conn));
    if (strcmp(url, "/v1/batches") == 0) {
        if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
            return handle_batch(c, conn, upload, upload_size, con_cls);
        return send_error(c, conn, 405, "method_not_allowed", "use POST", 0);
    }
    if (strcmp(url, "/v1/config") == 0 || strcmp(url, "/v1/enroll") == 0 ||
        strncmp(url, "/v1/admin/", 10) == 0)
        return handle_api(c, conn, url, method, upload, upload_size, con_cls);
    if (strcmp(url, "/c") == 0) /* the comment page (issue 15) */
        return handle_comment_page(c, conn, method, upload, upload_size, con_cls);
    if (*upload_size > 0) { /* a body on a read request: ignore it */
        *upload_size = 0;
        return MHD_YES;
    }
    const read_route *rr = NULL;
    for (size_t i = 0; i < sizeof read_routes / sizeof read_routes[0]; i++)
        if (strcmp(url, read_routes[i].path) == 0 ||
            (read_routes[i].path[strlen(read_routes[i].path) - 1] == '/' &&
             strncmp(url, read_routes[i].path, strlen(read_routes[i].path)) == 0))
            rr = &read_routes[i];
    bool known = strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0 ||
                 strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0 || rr;
    if (!known)
        return send_error(c, conn, 404, "not_found", "no such resource", 0);
    if (!get)
        return send_error(c, conn, 405, "method_not_allowed", "use GET", 0);
    if (strcmp(url, "/healthz") == 0)
        return handle_health(c, conn);
    if (strcmp(url, "/metrics") == 0) {
        cmetrics_guard(c->metrics, cguard_bytes_used(c->guard), cguard_expired(c->guard));
        char *text = cmetrics_render(c->metrics);
        if (!text)
            return send_error(c, conn, 500, "internal", "out of memory", 0);
        return send_reply(c, conn, 200, "text/plain; version=0.0.4; charset=utf-8", text,
                          strlen(text), MHD_RESPMEM_MUST_FREE, 0);
    }
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        return send_reply(c, conn, 200, "text/html; charset=utf-8", sync_collector_dashboard_html,
                          sync_collector_dashboard_html_len, MHD_RESPMEM_PERSISTENT, 0);
    cguard_request_working(c->guard, guard_of(conn));
    return handle_read(c, conn, rr, url, con_cls);
}

/* The /healthz-only listener: its own thread, so a monitor is answered even while every worker
 * of the main listener is busy with batches, and a store connection kept for it (cstore_ping). */
static enum MHD_Result handle_health_only(void *cls, struct MHD_Connection *conn, const char *url,
                                          const char *method, const char *version,
                                          const char *upload, size_t *upload_size, void **con_cls)
{
    collector *c = cls;
    cguard_request_started(c->guard, guard_of(conn));
    if (*upload_size > 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/healthz") != 0)
        return send_error(c, conn, 404, "not_found", "this listener serves /healthz only", 0);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return send_error(c, conn, 405, "method_not_allowed", "use GET", 0);
    return handle_health(c, conn);
}

/* ---- Start and stop -------------------------------------------------------------------------- */

static tp_err parse_listen(const char *listen, struct addrinfo **out, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen ? listen : "", ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host || !colon[1])
        return tp_errf(err, errlen, TP_ERR_INVALID, "--listen '%s': expected HOST:PORT",
                       listen ? listen : "");
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICSERV | AI_PASSIVE,
                             .ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    int g = getaddrinfo(h, colon + 1, &hints, out);
    if (g != 0)
        return tp_errf(err, errlen, TP_ERR_INVALID, "--listen '%s': %s", listen, gai_strerror(g));
    return TP_OK;
}

/* The alert evaluator's wake-up after it committed alerts: their outbox rows are due now. The
 * evaluator is stopped before the worker (collector_stop), so d outlives every call. */
static void wake_deliver(void *cls)
{
    cdeliver_wake(cls);
}

/* Each batch keeps one core busy at a time, in the collector or in the database: by default as
 * many at once as cores (measured on two cores with a local PostgreSQL: 200,000 answers in 1.6 s
 * with two workers, 1.9 s with four), and no more than --threads. */
static unsigned batch_workers(const collector_options *opt, unsigned threads)
{
    if (opt->batch_workers)
        return opt->batch_workers;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 && (unsigned long)cpus < threads ? (unsigned)cpus : threads;
}

tp_err collector_start(const collector_options *opt, collector **out, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    struct addrinfo *ai = NULL;
    collector *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c)
        return TP_ERR_NOMEM;
    cjarena_install(); /* before the HTTP threads parse anything */
    unsigned threads = opt->threads ? opt->threads : 4;
    unsigned workers = batch_workers(opt, threads);
    c->clock = opt->clock ? opt->clock : tp_clock_system();
    c->silent_after_s = opt->silent_after_s > 0 ? opt->silent_after_s : 3600;
    c->retry_after_s = opt->retry_after_s > 0 ? opt->retry_after_s : 5;
    const char *tz = getenv("TZ");
    tp_strlcpy(c->tz, tz && *tz ? tz : "localtime", sizeof c->tz);
    if (opt->read_token && *opt->read_token && !(c->read_token = strdup(opt->read_token))) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    if (opt->public_url && *opt->public_url) {
        const char *u = opt->public_url;
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
            rc = tp_errf(err, errlen, TP_ERR_INVALID,
                         "--public-url '%s': expected an http:// or https:// URL", u);
            goto out;
        }
        size_t n = strlen(u);
        while (n > 8 && u[n - 1] == '/')
            n--;
        if (!(c->public_url = strndup(u, n))) {
            rc = TP_ERR_NOMEM;
            goto out;
        }
    }
    if ((rc = parse_listen(opt->listen, &ai, err, errlen)) != TP_OK)
        goto out;
    if (opt->devices_path && (rc = cauth_open(opt->devices_path, &c->auth, err, errlen)) != TP_OK)
        goto out;
    c->rate =
        crate_new(opt->rate_per_s > 0 ? opt->rate_per_s : 100, opt->burst >= 1 ? opt->burst : 200);
    c->read_rate = crate_new(opt->read_rate_per_s > 0 ? opt->read_rate_per_s : COLLECTOR_READ_RATE,
                             opt->read_burst >= 1 ? opt->read_burst : COLLECTOR_READ_BURST);
    c->read_fail = crate_new(COLLECTOR_READ_FAIL_RATE, COLLECTOR_READ_FAIL_BURST);
    c->read_gate =
        cread_gate_new(opt->read_concurrency ? opt->read_concurrency : COLLECTOR_READ_CONCURRENCY);
    c->metrics = cmetrics_new();
    c->guard = cguard_new((int64_t)(opt->head_s ? opt->head_s : COLLECTOR_HEAD_S) * 1000,
                          (int64_t)(opt->body_s ? opt->body_s : COLLECTOR_BODY_S) * 1000,
                          (size_t)(opt->bodies_mb ? opt->bodies_mb : COLLECTOR_BODIES_MB) << 20);
    if (!c->rate || !c->metrics || !c->guard || !c->read_rate || !c->read_fail || !c->read_gate) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    /* A store connection for each HTTP thread (the fleet's API, the comment page), each batch
     * worker and each read worker: none waits for another's connections. */
    if ((rc = cstore_open(opt->store_url, threads + workers + threads, &c->store, err, errlen)) !=
            TP_OK ||
        (rc = cstore_set_public_url(c->store, c->public_url)) != TP_OK)
        goto out;
    if ((rc = ccomment_http_start(c)) != TP_OK)
        goto out;
    cdeliver_options dopt = opt->deliver;
    dopt.public_url = c->public_url;
    if ((rc = cdeliver_start(c->store, &dopt, c->clock, &c->deliver, err, errlen)) != TP_OK)
        goto out;
    if ((rc = calert_eval_start(c->store, c->clock, c->public_url, opt->alert_interval_ms,
                                opt->alert_health_ms, wake_deliver, c->deliver, &c->alerts, err,
                                errlen)) != TP_OK)
        goto out;
    /* Reads as many at once as HTTP threads, as when they ran on them. */
    if ((rc = cwork_start(workers, &c->batches)) != TP_OK ||
        (rc = cwork_start(threads, &c->reads)) != TP_OK)
        goto out;
    /* The idle timeout stays as a backstop; the guard's deadlines are the real bound. */
    c->d = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
        handle, c, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_NOTIFY_COMPLETED, request_done, c, MHD_OPTION_NOTIFY_CONNECTION,
        connection_event, c, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_LIMIT,
        opt->conn_max ? opt->conn_max : COLLECTOR_CONN_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        opt->conn_per_ip ? opt->conn_per_ip : COLLECTOR_CONN_PER_IP, MHD_OPTION_END);
    if (!c->d) {
        rc = tp_errf(err, errlen, TP_ERR_NETWORK, "cannot listen on %s (address in use?)",
                     opt->listen);
        goto out;
    }
    rc = cdigest_sched_start(c->store, c->clock, c->silent_after_s, 60, &c->digests);
    if (rc != TP_OK)
        goto out;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(c->d, MHD_DAEMON_INFO_BIND_PORT);
    c->port = info ? info->port : 0;
    if (opt->health_listen && *opt->health_listen) {
        freeaddrinfo(ai);
        ai = NULL;
        if ((rc = parse_listen(opt->health_listen, &ai, err, errlen)) != TP_OK)
            goto out;
        c->health = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                     handle_health_only, c, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                     MHD_OPTION_NOTIFY_COMPLETED, request_done, c,
                                     MHD_OPTION_NOTIFY_CONNECTION, connection_event, c,
                                     MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_CONNECTION_LIMIT,
                                     64u, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 8u, MHD_OPTION_END);
        if (!c->health) {
            rc = tp_errf(err, errlen, TP_ERR_NETWORK, "cannot listen on %s (address in use?)",
                         opt->health_listen);
            goto out;
        }
        info = MHD_get_daemon_info(c->health, MHD_DAEMON_INFO_BIND_PORT);
        c->health_port = info ? info->port : 0;
    }
out:
    if (ai)
        freeaddrinfo(ai);
    if (rc != TP_OK) {
        collector_stop(c);
        return rc;
    }
    *out = c;
    return TP_OK;
}

unsigned collector_port(const collector *c)
{
    return c->port;
}

unsigned collector_health_port(const collector *c)
{
    return c->health_port;
}

void collector_stop(collector *c)
{
    if (!c)
        return;
    if (c->health)
        MHD_stop_daemon(c->health);
    /* The workers first: they store or answer what is queued and resume its connections, and a
     * request that arrives meanwhile is served on its HTTP thread, so no connection is left
     * suspended for MHD_stop_daemon. */
    cwork_stop(c->batches);
    cwork_stop(c->reads);
    /* Their replies go out before the daemon closes the connections; a client that does not read
     * its reply is cut after 5 s (its batch is stored: sent again, it is a duplicate). */
    for (int i = 0; i < 500 && atomic_load(&c->replies_due) > 0; i++)
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    if (c->d)
        MHD_stop_daemon(c->d);
    ccomment_http_stop(c);
    cdigest_sched_stop(c->digests);
    calert_eval_stop(c->alerts);
    cdeliver_stop(c->deliver);
    cstore_close(c->store);
    cauth_free(c->auth);
    crate_free(c->rate);
    crate_free(c->read_rate);
    crate_free(c->read_fail);
    cread_gate_free(c->read_gate);
    cmetrics_free(c->metrics);
    cguard_free(c->guard);
    free(c->read_token);
    free(c->public_url);
    free(c);
}
