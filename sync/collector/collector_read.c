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

static enum MHD_Result limited(collector *c, struct MHD_Connection *conn, int retry,
                               const char *msg)
{
    char text[160];
    snprintf(text, sizeof text, "%s; retry in %d s", msg, retry);
    return send_error(c, conn, 429, "rate_limited", text, retry);
}

/* Sends rep (its body taken). */
static enum MHD_Result send_capi(collector *c, struct MHD_Connection *conn, capi_reply rep)
{
    if (!rep.body)
        return send_json(c, conn, 500, NULL, 0);
    return send_json(c, conn, rep.status, rep.body, rep.retry_after > 0 ? c->retry_after_s : 0);
}

/* Runs the route for ctx (gate taken), audits it, and sends. */
static enum MHD_Result serve(collector *c, struct MHD_Connection *conn, const read_route *route,
                             cread_ctx *ctx, const char *query, int64_t now)
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
    else if (route->get) /* the handler filters node= / store= itself, within the token's scope */
        rep = route->get(c->store, route->path, ctx->scope, conn_arg, conn, now);
    else
        rep = route->get_c(c, conn, route->path, ctx->scope);
    ctx->status = rep.status;
    if (cread_log(c->store, ctx, route->path, query, now) != TP_OK) {
        free(rep.body);
        return send_error(c, conn, 503, "store_unavailable",
                          "the read cannot be audited now, so it is not answered",
                          c->retry_after_s);
    }
    return route->send ? route->send(c, conn, route->path, rep) : send_capi(c, conn, rep);
}

enum MHD_Result handle_read(collector *c, struct MHD_Connection *conn, const read_route *route)
{
    cread_ctx ctx = {0};
    char key[CREAD_NAME_MAX]; /* as the gate keeps it: names and "@" + address fit */
    qbuf q = {.n = 0};
    int retry = 0;
    int64_t mono = mono_ms(c), now = c->clock->wall_ms(c->clock->ctx);
    client_addr(conn, ctx.addr, sizeof ctx.addr);
    tp_strlcpy(ctx.method, "GET", sizeof ctx.method);
    if (!crate_check(c->read_fail, ctx.addr, mono, &retry))
        return limited(c, conn, retry, "too many failed read authentications from this address");
    tp_err rc = cread_auth(
        c->store, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        c->read_token, &ctx);
    if (rc == TP_ERR_BUSY)
        return send_error(c, conn, 503, "store_unavailable", "the store cannot answer now",
                          c->retry_after_s);
    if (rc != TP_OK) {
        crate_take(c->read_fail, ctx.addr, mono, &retry);
        return send_error(c, conn, 401, "unauthenticated",
                          "read token required (missing, unknown or revoked bearer token)", 0);
    }
    /* An open read side has no names: its readers are told apart by address. */
    key[0] = '@';
    tp_strlcpy(ctx.kind == CREAD_OPEN ? key + 1 : key, ctx.kind == CREAD_OPEN ? ctx.addr : ctx.name,
               ctx.kind == CREAD_OPEN ? sizeof key - 1 : sizeof key);
    if (!crate_take(c->read_rate, key, mono, &retry))
        return limited(c, conn, retry, "this reader sends too many requests");
    if (!cread_gate_enter(c->read_gate, key))
        return limited(c, conn, 1, "this reader has too many requests in flight");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, &q);
    enum MHD_Result ret = serve(c, conn, route, &ctx, q.s, now);
    cread_gate_leave(c->read_gate, key);
    return ret;
}
