/*
 * collector_read.c - the read side's dispatch (collector_int.h, handle_read): who reads, within
 * which scope, at what cost to the others, and the audit of every read.
 *
 * The collector faces the internet, so what one address, one token or one stalled request can
 * cost the other readers is bounded, in this order, before any store work of the request:
 *   - per address: failed authentications take from a bucket (--read-rate-fail); an address that
 *     emptied it is answered 429 before its next token is even hashed or looked up
 *   - per reader (the token's name; the address on an open read side): a token bucket
 *     (--read-rate, --read-burst) and a cap on requests in flight (--read-concurrency), so one
 *     dashboard left open, a script in a loop or a year-long report cannot hold every worker
 *   - a stalled request is the guard's (cguard.h): head and body deadlines
 * 429s and 401s are not written to the read audit (they read nothing, and a flood of them must not
 * turn into store writes); they are counted in /metrics by status. Every other answer, 403 and
 * 400 included, is audited, and a read whose audit row cannot be written is answered 503 without
 * its data.
 */
#include "collector_int.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cread.h"

static const char *conn_arg(void *cls, const char *key)
{
    return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, key);
}

/* The query string rebuilt from the arguments (decoded), cut at CREAD_QUERY_MAX bytes. */
typedef struct qbuf {
    char s[CREAD_QUERY_MAX + 1];
    size_t n;
} qbuf;

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    qbuf *q = cls;
    (void)kind;
    if (q->n < sizeof q->s - 1) {
        int w = snprintf(q->s + q->n, sizeof q->s - q->n, "%s%s%s%s", q->n ? "&" : "", key,
                         value ? "=" : "", value ? value : "");
        q->n = w < 0 ? q->n : q->n + (size_t)w >= sizeof q->s ? sizeof q->s - 1 : q->n + (size_t)w;
    }
    return MHD_YES;
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    tp_strlcpy(out, "unknown", outlen);
    if (ci && ci->client_addr &&
        getnameinfo(ci->client_addr,
                    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in),
                    out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST) != 0)
        tp_strlcpy(out, "unknown", outlen);
}

/* The reply of r, sent when its connection is resumed: rep (its body taken) as JSON with retry
 * seconds of Retry-After, or through the route's own sender. */
static void answer(req *r, capi_reply rep, int retry, bool via_route)
{
    r->rep = rep;
    r->reply_retry = retry;
    r->via_route = via_route;
}

static void limited(req *r, int retry, const char *msg)
{
    char text[160];
    snprintf(text, sizeof text, "%s; retry in %d s", msg, retry);
    answer(r, capi_error(429, "rate_limited", text), retry, false);
}

/* Runs the route for ctx (gate taken) and audits it. */
static void serve(collector *c, struct MHD_Connection *conn, req *r, cread_ctx *ctx,
                  const char *query, int64_t now)
{
    char err[TP_ERRMSG_MAX], scope[CFLEET_PATH_MAX + 1]; /* the narrowed scope: checked only */
    capi_reply rep;
    tp_err rc = cread_scope(c->store, ctx->scope, conn_arg(conn, "node"), conn_arg(conn, "store"),
                            scope, err, sizeof err);
    if (rc == TP_ERR_AUTH)
        rep = capi_error(403, "forbidden", err);
    else if (rc == TP_ERR_INVALID)
        rep = capi_error(400, "malformed", err);
    else if (rc != TP_OK)
        rep = capi_error(503, "store_unavailable", "the store cannot answer now");
    else if (r->route->get) /* the handler filters node= / store= itself, within the scope */
        rep = r->route->get(c->store, r->path, ctx->scope, conn_arg, conn, now);
    else
        rep = r->route->get_c(c, conn, r->path, ctx->scope);
    ctx->status = rep.status;
    if (cread_log(c->store, ctx, r->path, query, now) != TP_OK) {
        free(rep.body);
        answer(r,
               capi_error(503, "store_unavailable",
                          "the read cannot be audited now, so it is not answered"),
               c->retry_after_s, false);
        return;
    }
    if (r->route->send)
        answer(r, rep, 0, true);
    else
        answer(r, rep, rep.retry_after > 0 ? c->retry_after_s : 0, false);
}

/* The read itself, on a read worker while the connection is suspended (nothing else touches it
 * then): who reads, the limits, the route, the audit; the reply is left in r. */
static void read_work(collector *c, struct MHD_Connection *conn, req *r)
{
    cread_ctx ctx = {0};
    char key[CREAD_NAME_MAX]; /* as the gate keeps it: names and "@" + address fit */
    qbuf q = {.n = 0};
    int retry = 0;
    int64_t mono = mono_ms(c), now = c->clock->wall_ms(c->clock->ctx);
    client_addr(conn, ctx.addr, sizeof ctx.addr);
    tp_strlcpy(ctx.method, "GET", sizeof ctx.method);
    if (!crate_check(c->read_fail, ctx.addr, mono, &retry)) {
        limited(r, retry, "too many failed read authentications from this address");
        return;
    }
    tp_err rc = cread_auth(
        c->store, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        c->read_token, &ctx);
    if (rc == TP_ERR_BUSY) {
        answer(r, capi_error(503, "store_unavailable", "the store cannot answer now"),
               c->retry_after_s, false);
        return;
    }
    if (rc != TP_OK) {
        crate_take(c->read_fail, ctx.addr, mono, &retry);
        answer(r,
               capi_error(401, "unauthenticated",
                          "read token required (missing, unknown or revoked bearer token)"),
               0, false);
        return;
    }
    /* An open read side has no names: its readers are told apart by address. */
    key[0] = '@';
    tp_strlcpy(ctx.kind == CREAD_OPEN ? key + 1 : key, ctx.kind == CREAD_OPEN ? ctx.addr : ctx.name,
               ctx.kind == CREAD_OPEN ? sizeof key - 1 : sizeof key);
    if (!crate_take(c->read_rate, key, mono, &retry)) {
        limited(r, retry, "this reader sends too many requests");
        return;
    }
    if (!cread_gate_enter(c->read_gate, key)) {
        limited(r, 1, "this reader has too many requests in flight");
        return;
    }
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, &q);
    serve(c, conn, r, &ctx, q.s, now);
    cread_gate_leave(c->read_gate, key);
}

/* A read worker's job (cwork.h): the read done, the connection resumed to send its reply. */
static void run_read(cwork_job *job)
{
    req *r = req_of(job);
    read_work(r->c, r->conn, r);
    req_resume(r);
}

enum MHD_Result handle_read(collector *c, struct MHD_Connection *conn, const read_route *route,
                            const char *path, void **con_cls)
{
    req *r = *con_cls;
    if (r && r->ready) /* called again after run_read resumed the connection */
        return req_reply(c, conn, r);
    if (r) /* not expected: the connection stays suspended until the read is done */
        return MHD_YES;
    if (!(r = calloc(1, sizeof *r)))
        return send_error(c, conn, 500, "internal", "out of memory", 0);
    *con_cls = r;
    r->route = route;
    r->path = path;
    return req_defer(c, conn, r, c->reads, run_read);
}
