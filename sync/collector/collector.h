/*
 * collector.h - touchpoint-collector's HTTP server (libmicrohttpd, thread pool).
 *
 * Fleet (sync/PROTOCOL.md section 12): GET /v1/config, POST /v1/enroll, /v1/admin/... (capi.h),
 * and the batch reply's config_revision.
 * Write side: POST /v1/batches (protocol v1, sync/PROTOCOL.md): bearer token, media type, body
 * bounds (4 MiB as sent, 16 MiB after gzip), per-device rate limit, per-answer validation, one
 * store transaction per batch, a reply naming every accepted, duplicate and rejected id.
 * Read side: GET /v1/report, GET /v1/devices, GET /healthz, GET /metrics and the dashboard GET /.
 * The data resources take read tokens bound to a node, admin tokens or the --read-token option
 * (cread.h: open while none is configured), each reader limited and every read audited
 * (collector_read.c); the page, /healthz and /metrics need no token.
 *
 * Thread-safety: collector_start/stop from one thread; requests are served by the pool.
 */
#ifndef TP_COLLECTOR_H
#define TP_COLLECTOR_H

#include "cdeliver.h"
#include "tp.h"

#define COLLECTOR_BODY_MAX (4u << 20)      /* bytes as sent */
#define COLLECTOR_INFLATED_MAX (16u << 20) /* bytes after gzip */

/* Flood limits (defaults of the options below; README "Limits"). */
#define COLLECTOR_CONN_PER_IP 64 /* connections one address may hold */
#define COLLECTOR_CONN_MAX 4096  /* connections in all */
#define COLLECTOR_HEAD_S 10      /* seconds for a request's head, however it trickles */
#define COLLECTOR_BODY_S 60      /* seconds for its body */
#define COLLECTOR_BODIES_MB 256  /* MiB held by request bodies in flight, all together */

/* Read side limits (README "Read access and audit"). */
#define COLLECTOR_READ_RATE 10       /* requests per second per reader */
#define COLLECTOR_READ_BURST 60      /* a dashboard's first view fits in it */
#define COLLECTOR_READ_CONCURRENCY 2 /* requests in flight per reader */
#define COLLECTOR_READ_FAIL_RATE 0.2 /* failed read authentications per second per address */
#define COLLECTOR_READ_FAIL_BURST 20

typedef struct collector_options {
    const char *listen;        /* "127.0.0.1:8088"; port 0 picks a free one (collector_port) */
    const char *store_url;     /* "sqlite:PATH" or "postgresql://..." */
    const char *devices_path;  /* devices file; NULL: devices only in the store (cfleet.h) */
    const char *read_token;    /* unscoped read token; NULL: see cread.h for who reads */
    double read_rate_per_s;    /* reads per second per reader; 0: COLLECTOR_READ_RATE */
    double read_burst;         /* 0: COLLECTOR_READ_BURST */
    unsigned read_concurrency; /* 0: COLLECTOR_READ_CONCURRENCY */
    unsigned threads;          /* HTTP threads, and as many read workers; 0: 4 */
    unsigned batch_workers;    /* batches stored at once; 0: the online CPUs, <= threads */
    double rate_per_s;         /* batches per second per device; 0: 100 */
    double burst;              /* bucket size; 0: 200 */
    int silent_after_s;        /* a device with no batch for longer is "silent"; 0: 3600 */
    int retry_after_s;         /* Retry-After of 503; 0: 5 */
    unsigned conn_per_ip;      /* 0: COLLECTOR_CONN_PER_IP */
    unsigned conn_max;         /* 0: COLLECTOR_CONN_MAX */
    unsigned head_s;           /* 0: COLLECTOR_HEAD_S */
    unsigned body_s;           /* 0: COLLECTOR_BODY_S */
    unsigned bodies_mb;        /* 0: COLLECTOR_BODIES_MB */
    const char *health_listen; /* "HOST:PORT" of a listener serving only /healthz, with its own
                                  thread and limits, for monitors; NULL: none */
    const char *public_url;    /* "https://host[/path]": base of dashboard and comment links
                                  (alerts' dashboard_url, the kiosk's comment URL); NULL: none */
    cdeliver_options deliver;  /* the outbox worker (cdeliver.h); its public_url is set from
                                  public_url above */
    const tp_clock *clock;     /* NULL: system clock */
    /* Periods of the alert evaluator: the batch queue (0: 1000 ms), device health (0: 30 s). */
    unsigned alert_interval_ms, alert_health_ms;
} collector_options;

typedef struct collector collector;

/* Opens the store and the devices file and starts serving. Returns TP_OK and *out (stop with
 * collector_stop), or an error with a message in err (bad listen address, store unavailable,
 * devices file invalid, port in use). */
tp_err collector_start(const collector_options *opt, collector **out, char *err, size_t errlen);

/* The port actually listened on. */
unsigned collector_port(const collector *c);

/* The port of the /healthz-only listener, 0 when there is none. */
unsigned collector_health_port(const collector *c);

/* Stops serving (finishing requests in progress), closes the store and frees c. NULL: no-op. */
void collector_stop(collector *c);

#endif /* TP_COLLECTOR_H */
