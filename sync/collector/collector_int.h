/*
 * collector_int.h - internals of the collector's HTTP side shared by collector.c (routing, the
 * batch and the read side) and collector_api.c (the fleet's resources, the batch reply's
 * configuration revision).
 */
#ifndef TP_COLLECTOR_INT_H
#define TP_COLLECTOR_INT_H

#include <microhttpd.h>
#include <stdatomic.h>

#include "calert.h"
#include "capi.h"
#include "cauth.h"
#include "cbatch.h"
#include "cdigest.h"
#include "cguard.h"
#include "cmetrics.h"
#include "collector.h"
#include "crate.h"
#include "cstore.h"
#include "cwork.h"

#define DRAIN_MAX (64u << 20)

struct collector {
    struct MHD_Daemon *d;
    struct MHD_Daemon *health; /* the /healthz-only listener, or NULL */
    unsigned health_port;
    cstore *store;
    cauth *auth;
    crate *rate;
    cmetrics *metrics;
    cguard *guard;
    cdigest_sched *digests; /* the digests' scheduler thread */
    const tp_clock *clock;
    char *read_token;
    crate *read_rate;             /* requests per reader (token name, or address when open) */
    crate *read_fail;             /* failed read authentications per address */
    struct cread_gate *read_gate; /* requests in flight per reader */
    char *public_url;             /* --public-url without a trailing '/', or NULL */
    cwork *batches;               /* the batch workers: they store what the HTTP threads take in */
    cwork *reads;                 /* the read workers: they answer the read side's GETs */
    atomic_uint replies_due;      /* workers' replies made, not yet sent */
    cdeliver *deliver;            /* the outbox worker */
    calert_eval *alerts;          /* the alert evaluator thread */
    int silent_after_s;
    int retry_after_s;
    unsigned port;
    char tz[64];
    crate *comment_rate;              /* per client address, GET/POST /c (ccomment_http.c) */
    struct ccomment_job *comment_job; /* the daily retention job's thread */
};

/* Per-request state of POST /v1/batches. */
typedef struct req {
    int64_t t0;
    int err_status; /* != 0: refused, reply after draining the body */
    const char *err_code;
    char err_msg[256];
    int retry_after;
    char device[TP_ID_MAX + 1];
    bool gzip;
    tp_buf body;
    size_t held; /* bytes of the body budget taken for body.cap */
    uint64_t drained;
    /* With the workers (cwork.h): a batch once its body is in, a read of the read side at once
     * (collector_read.c). The connection stays suspended from the job's submission until the
     * job has made the reply below and resumed it (req_resume). */
    cwork_job job;
    collector *c;
    struct MHD_Connection *conn;
    bool ready;      /* the reply is made */
    capi_reply rep;  /* the reply; its body (JSON, NULL: 500 out of memory) owned until sent */
    int reply_retry; /* Retry-After seconds, 0: none */
    bool via_route;  /* a read whose rep goes out through route->send, else as JSON */
    const struct read_route *route; /* a read: its entry of read_routes[] */
    const char *path;               /* a read: the path asked for (libmicrohttpd's) */
} req;

/* The workers' side of a request (cwork.h). req_defer suspends conn and queues r on w, where
 * run does the work, leaves the reply in r and calls req_resume; when w is stopping, run runs on
 * this thread. The handler, called again once resumed (r->ready), sends it with req_reply.
 * req_of finds the request of a job. */
enum MHD_Result req_defer(collector *c, struct MHD_Connection *conn, req *r, cwork *w,
                          void (*run)(cwork_job *job));
void req_resume(req *r);
enum MHD_Result req_reply(collector *c, struct MHD_Connection *conn, req *r);
req *req_of(cwork_job *job);

enum MHD_Result send_reply(collector *c, struct MHD_Connection *conn, int status, const char *ctype,
                           void *body, size_t len, enum MHD_ResponseMemoryMode mode,
                           int retry_after);
/* Sends json (taken; NULL: 500 out of memory). */
enum MHD_Result send_json(collector *c, struct MHD_Connection *conn, int status, char *json,
                          int retry_after);
enum MHD_Result send_error(collector *c, struct MHD_Connection *conn, int status, const char *code,
                           const char *msg, int retry_after);
/* Marks r refused with status (replied once its body is drained) and frees its body. */
void refuse(collector *c, req *r, int status, const char *code, int retry_after, const char *fmt,
            ...) __attribute__((format(printf, 6, 7)));
int64_t mono_ms(const collector *c);
/* Appends body bytes within COLLECTOR_BODY_MAX (or the buffer's max) and the body budget. */
tp_err append_body(collector *c, req *r, const char *data, size_t n);

/* One chunk of a request body (MHD's upload_data / *upload_size, which it sets to 0): appended
 * within max (r->body's own bound) and the body budget, or drained (bounded) when r is refused; a
 * body over its maximum is refused 413, over the budget 503 busy. Returns MHD_YES, or MHD_NO to
 * close a refused connection whose drained body grew past DRAIN_MAX. */
enum MHD_Result take_body(collector *c, req *r, const char *upload, size_t *upload_size,
                          size_t max);

/* canalytics_http.c: the read endpoints of canalytics.h for a reader of scope ("" = chain):
 * analytics_reply() computes the reply, send_analytics() sends it (its body taken; JSON, or the
 * CSV as a download), handle_analytics() does both. */
enum MHD_Result handle_analytics(collector *c, struct MHD_Connection *conn, const char *url,
                                 const char *scope);
capi_reply analytics_reply(collector *c, struct MHD_Connection *conn, const char *url,
                           const char *scope);
enum MHD_Result send_analytics(collector *c, struct MHD_Connection *conn, const char *url,
                               capi_reply rep);

/* collector_api.c: /v1/config, /v1/enroll, /v1/admin/... */
enum MHD_Result handle_api(collector *c, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *upload, size_t *upload_size,
                           void **con_cls);

/* collector_api.c: records the batch's configuration fields and returns json (taken) with the
 * device's desired config_revision added when the device is in the fleet. */
char *with_revision(collector *c, const cbatch *b, char *json, int64_t now);

/* A resource of the read side. get has the handler signature of CONTRACT.md ("Read side"):
 * it restricts its answer to scope (a node path, "" = everything) and reads its query arguments
 * through arg(cls, key). get_c takes the collector and the connection instead (the analytics
 * glue). One of the two is set. send, when set, sends the reply (else it is sent as JSON). */
typedef struct read_route {
    const char *path;
    capi_reply (*get)(cstore *s, const char *url, const char *scope,
                      const char *(*arg)(void *cls, const char *key), void *cls, int64_t now_ms);
    capi_reply (*get_c)(collector *c, struct MHD_Connection *conn, const char *url,
                        const char *scope);
    enum MHD_Result (*send)(collector *c, struct MHD_Connection *conn, const char *url,
                            capi_reply rep);
} read_route;

/* collector_read.c: a GET of the read side: the reader authenticated (401), limited per
 * address, per reader and in flight (429 with Retry-After), its node= / store= filters checked
 * against its scope (403), the route run with the scope, the read written to the read audit
 * (503 and no data when it cannot be), then the reply. All but the reply runs on a read worker
 * while the connection is suspended; path is the path asked for (/v1/cases/<id>). */
enum MHD_Result handle_read(collector *c, struct MHD_Connection *conn, const read_route *route,
                            const char *path, void **con_cls);
/* ccomment_http.c: the comment page GET/POST /c, the reads /v1/comments[.csv] (scope: a node
 * path, "" = all), and the rate limit and retention thread they need (start: TP_OK or
 * TP_ERR_NOMEM; stop: safe after a failed or no start). */
enum MHD_Result handle_comment_page(collector *c, struct MHD_Connection *conn, const char *method,
                                    const char *upload, size_t *upload_size, void **con_cls);
enum MHD_Result handle_comments_read(collector *c, struct MHD_Connection *conn, const char *url,
                                     const char *scope);
tp_err ccomment_http_start(collector *c);
void ccomment_http_stop(collector *c);

#endif /* TP_COLLECTOR_INT_H */
