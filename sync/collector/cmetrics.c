/*
 * cmetrics.c - atomic counters and their Prometheus text (see cmetrics.h).
 */
#include "cmetrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* Upper bounds (ms) of the batch latency histogram's buckets; +Inf is implicit. */
static const double lat_bounds[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define N_BOUNDS (sizeof lat_bounds / sizeof lat_bounds[0])

/* HTTP statuses counted one by one; anything else lands in "other". */
static const int statuses[] = {200, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503};
#define N_STATUS (sizeof statuses / sizeof statuses[0])

struct cmetrics {
    atomic_uint_fast64_t batches[N_STATUS + 1];
    atomic_uint_fast64_t accepted, duplicates;
    atomic_uint_fast64_t rejected[CBATCH_CODE_COUNT];
    atomic_uint_fast64_t http[N_STATUS + 1];
    atomic_uint_fast64_t lat_bucket[N_BOUNDS + 1];
    atomic_uint_fast64_t lat_count;
    atomic_uint_fast64_t lat_sum_us;
    atomic_uint_fast64_t body_bytes, expired; /* set from the guard (cmetrics_guard) */
};

cmetrics *cmetrics_new(void)
{
    return calloc(1, sizeof(cmetrics));
}

void cmetrics_free(cmetrics *m)
{
    free(m);
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < N_STATUS; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS;
}

void cmetrics_batch(cmetrics *m, int status, double latency_ms, uint64_t accepted,
                    uint64_t duplicates)
{
    atomic_fetch_add(&m->batches[status_slot(status)], 1);
    atomic_fetch_add(&m->accepted, accepted);
    atomic_fetch_add(&m->duplicates, duplicates);
    size_t b = 0;
    while (b < N_BOUNDS && latency_ms > lat_bounds[b])
        b++;
    atomic_fetch_add(&m->lat_bucket[b], 1);
    atomic_fetch_add(&m->lat_count, 1);
    atomic_fetch_add(&m->lat_sum_us, (uint64_t)(latency_ms * 1000.0));
}

void cmetrics_rejected(cmetrics *m, cbatch_code code, uint64_t n)
{
    if ((unsigned)code < CBATCH_CODE_COUNT)
        atomic_fetch_add(&m->rejected[code], n);
}

void cmetrics_status(cmetrics *m, int status)
{
    atomic_fetch_add(&m->http[status_slot(status)], 1);
}

/* Appends to the page; a failure (over RENDER_MAX or out of memory) is kept in *rc and makes
 * later calls no-ops, so the page is dropped whole, never cut. */
#define RENDER_MAX (64u << 10)

__attribute__((format(printf, 3, 4))) static void put(tp_buf *t, tp_err *rc, const char *fmt, ...)
{
    if (*rc != TP_OK)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    *rc = w < 0 || (size_t)w >= sizeof line ? TP_ERR_TOO_LARGE : tp_buf_add(t, line, (size_t)w);
}

static unsigned long long ld(atomic_uint_fast64_t *a)
{
    return (unsigned long long)atomic_load(a);
}

char *cmetrics_render(cmetrics *m)
{
    tp_buf t;
    tp_err rc = TP_OK;
    tp_buf_init(&t, RENDER_MAX);
    put(&t, &rc,
        "# HELP touchpoint_batches_total Batch requests (POST /v1/batches) by HTTP status.\n"
        "# TYPE touchpoint_batches_total counter\n");
    for (size_t i = 0; i <= N_STATUS; i++) {
        if (i < N_STATUS)
            put(&t, &rc, "touchpoint_batches_total{status=\"%d\"} %llu\n", statuses[i],
                ld(&m->batches[i]));
        else
            put(&t, &rc, "touchpoint_batches_total{status=\"other\"} %llu\n", ld(&m->batches[i]));
    }
    put(&t, &rc,
        "# HELP touchpoint_answers_accepted_total Answers stored for the first time.\n"
        "# TYPE touchpoint_answers_accepted_total counter\n"
        "touchpoint_answers_accepted_total %llu\n",
        ld(&m->accepted));
    put(&t, &rc,
        "# HELP touchpoint_answers_duplicate_total Answers received again (already stored).\n"
        "# TYPE touchpoint_answers_duplicate_total counter\n"
        "touchpoint_answers_duplicate_total %llu\n",
        ld(&m->duplicates));
    put(&t, &rc,
        "# HELP touchpoint_answers_rejected_total Answers rejected, by code.\n"
        "# TYPE touchpoint_answers_rejected_total counter\n");
    for (int c = 0; c < CBATCH_CODE_COUNT; c++)
        put(&t, &rc, "touchpoint_answers_rejected_total{code=\"%s\"} %llu\n",
            cbatch_code_name((cbatch_code)c), ld(&m->rejected[c]));
    put(&t, &rc,
        "# HELP touchpoint_http_responses_total HTTP responses by status.\n"
        "# TYPE touchpoint_http_responses_total counter\n");
    for (size_t i = 0; i <= N_STATUS; i++) {
        if (i < N_STATUS)
            put(&t, &rc, "touchpoint_http_responses_total{status=\"%d\"} %llu\n", statuses[i],
                ld(&m->http[i]));
        else
            put(&t, &rc, "touchpoint_http_responses_total{status=\"other\"} %llu\n",
                ld(&m->http[i]));
    }
    put(&t, &rc,
        "# HELP touchpoint_batch_duration_seconds Time from request headers to reply.\n"
        "# TYPE touchpoint_batch_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t b = 0; b < N_BOUNDS; b++) {
        cum += ld(&m->lat_bucket[b]);
        put(&t, &rc, "touchpoint_batch_duration_seconds_bucket{le=\"%g\"} %llu\n",
            lat_bounds[b] / 1000.0, cum);
    }
    cum += ld(&m->lat_bucket[N_BOUNDS]);
    put(&t, &rc, "touchpoint_batch_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    put(&t, &rc, "touchpoint_batch_duration_seconds_sum %.6f\n", (double)ld(&m->lat_sum_us) / 1e6);
    put(&t, &rc, "touchpoint_batch_duration_seconds_count %llu\n", ld(&m->lat_count));
    put(&t, &rc,
        "# HELP touchpoint_body_bytes_in_flight Bytes held by request bodies being received.\n"
        "# TYPE touchpoint_body_bytes_in_flight gauge\n"
        "touchpoint_body_bytes_in_flight %llu\n"
        "# HELP touchpoint_connections_expired_total Connections closed past their head or body "
        "deadline.\n"
        "# TYPE touchpoint_connections_expired_total counter\n"
        "touchpoint_connections_expired_total %llu\n",
        ld(&m->body_bytes), ld(&m->expired));
    if (rc != TP_OK) {
        tp_buf_free(&t);
        return NULL;
    }
    return tp_buf_take(&t);
}

void cmetrics_guard(cmetrics *m, uint64_t body_bytes, uint64_t expired)
{
    atomic_store(&m->body_bytes, body_bytes);
    atomic_store(&m->expired, expired);
}
