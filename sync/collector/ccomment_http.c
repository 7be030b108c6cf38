/*
 * ccomment_http.c - the comment page and the comment reads over HTTP (ccomment.h does the work;
 * this file reads the form body within its bound, applies the per-address rate limit and sends
 * the reply), and the daily retention job's thread.
 *
 * The page faces the internet (customers' phones), so each client address has a token bucket
 * (crate.c) shared by GET and POST /c: generous enough for many phones behind one carrier NAT,
 * tight enough that a script cannot fill the store. A form body is bounded at
 * CCOMMENT_BODY_MAX.
 */
#include "collector_int.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccomment_int.h"

#define RATE_PER_S 1.0
#define RATE_BURST 60.0
#define RETENTION_FIRST_S 60
#define RETENTION_EVERY_S 86400

struct ccomment_job {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    collector *c;
};

static enum MHD_Result send_cc(collector *c, struct MHD_Connection *conn, ccomment_reply r)
{
    if (!r.body)
        return send_error(c, conn, 500, "internal", "out of memory", 0);
    return send_reply(c, conn, r.status, r.ctype, r.body, r.len, MHD_RESPMEM_MUST_FREE,
                      r.retry_after);
}

static const char *get_arg(void *cls, const char *key)
{
    return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, key);
}

static void client_addr(struct MHD_Connection *conn, char host[NI_MAXHOST])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(host, NI_MAXHOST, "unknown");
    if (ci && ci->client_addr)
        getnameinfo(ci->client_addr,
                    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in),
                    host, NI_MAXHOST, NULL, 0, NI_NUMERICHOST);
}

enum MHD_Result handle_comment_page(collector *c, struct MHD_Connection *conn, const char *method,
                                    const char *upload, size_t *upload_size, void **con_cls)
{
    req *r = *con_cls;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *con_cls = r;
        r->t0 = mono_ms(c);
        tp_buf_init(&r->body, CCOMMENT_BODY_MAX);
        char host[NI_MAXHOST];
        int retry = 0;
        client_addr(conn, host);
        if (!get && !post)
            refuse(c, r, 405, "method_not_allowed", 0, "use GET or POST");
        else if (!crate_take(c->comment_rate, host, mono_ms(c), &retry))
            refuse(c, r, 429, "rate_limited", retry, "too many requests from %s", host);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (get) { /* a body on GET: ignored */
            *upload_size = 0;
            return MHD_YES;
        }
        return take_body(c, r, upload, upload_size, CCOMMENT_BODY_MAX);
    }
    int64_t now = c->clock->wall_ms(c->clock->ctx);
    if (r->err_status == 429 || r->err_status == 503) {
        /* The customer gets the friendly "try again" page, not JSON. */
        const char *l = get ? get_arg(conn, "l") : NULL;
        cc_view v = {.state = CC_BUSY};
        tp_strlcpy(v.lang, l && strcmp(l, "en") == 0 ? "en" : "vi", sizeof v.lang);
        ccomment_reply rep = {.status = r->err_status,
                              .ctype = "text/html; charset=utf-8",
                              .retry_after = r->retry_after > 0 ? r->retry_after : 5};
        rep.body = cc_page_html(&v, &rep.len);
        return send_cc(c, conn, rep);
    }
    if (r->err_status)
        return send_error(c, conn, r->err_status, r->err_code, r->err_msg, r->retry_after);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    cguard_request_working(c->guard, ci ? ci->socket_context : NULL);
    if (get)
        return send_cc(c, conn, ccomment_page(c->store, get_arg, conn, now));
    return send_cc(c, conn, ccomment_submit(c->store, r->body.p, r->body.len, now));
}

enum MHD_Result handle_comments_read(collector *c, struct MHD_Connection *conn, const char *url,
                                     const char *scope)
{
    int64_t now = c->clock->wall_ms(c->clock->ctx);
    capi_reply r = ccomment_get(c->store, url, scope, get_arg, conn, now);
    bool csv = r.status == 200 && strcmp(url, "/v1/comments.csv") == 0;
    if (!r.body)
        return send_json(c, conn, 500, NULL, 0);
    return send_reply(c, conn, r.status, csv ? "text/csv; charset=utf-8" : "application/json",
                      r.body, strlen(r.body), MHD_RESPMEM_MUST_FREE, r.retry_after);
}

/* ---- The daily retention job ----------------------------------------------------------------- */

static void *job_main(void *arg)
{
    struct ccomment_job *j = arg;
    int wait_s = RETENTION_FIRST_S;
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait_s;
        while (!j->stop && pthread_cond_timedwait(&j->cv, &j->mu, &until) == 0)
            ;
        if (j->stop)
            break;
        pthread_mutex_unlock(&j->mu);
        char err[TP_ERRMSG_MAX];
        int cleared = 0;
        int64_t now = j->c->clock->wall_ms(j->c->clock->ctx);
        tp_err rc = ccomment_retention_run(j->c->store, now, &cleared, err, sizeof err);
        if (rc != TP_OK)
            fprintf(stderr, "touchpoint-collector: comment retention: %s\n", err);
        else if (cleared > 0)
            fprintf(stderr,
                    "touchpoint-collector: comment retention: contact details of %d comments "
                    "deleted (see comment_retention)\n",
                    cleared);
        wait_s = RETENTION_EVERY_S;
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

tp_err ccomment_http_start(collector *c)
{
    c->comment_rate = crate_new(RATE_PER_S, RATE_BURST);
    struct ccomment_job *j = calloc(1, sizeof *j);
    if (!c->comment_rate || !j) {
        free(j);
        return TP_ERR_NOMEM;
    }
    j->c = c;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
        return TP_ERR_NOMEM;
    }
    c->comment_job = j;
    return TP_OK;
}

void ccomment_http_stop(collector *c)
{
    struct ccomment_job *j = c->comment_job;
    if (j) {
        pthread_mutex_lock(&j->mu);
        j->stop = true;
        pthread_cond_signal(&j->cv);
        pthread_mutex_unlock(&j->mu);
        pthread_join(j->thread, NULL);
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
        c->comment_job = NULL;
    }
    crate_free(c->comment_rate);
    c->comment_rate = NULL;
}
