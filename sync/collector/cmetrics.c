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
static const int statuses[] = {200, 400, 401, 403, 404, 405, 413, 415, 429, 500, 503};
#define N_STATUS (sizeof statuses / sizeof statuses[0])

struct cmetrics {
    atomic_uint_fast64_t batches[N_STATUS + 1];
    atomic_uint_fast64_t accepted, duplicates;
    atomic_uint_fast64_t rejected[CBATCH_CODE_COUNT];
    atomic_uint_fast64_t http[N_STATUS + 1];
    atomic_uint_fast64_t lat_bucket[N_BOUNDS + 1];
    atomic_uint_fast64_t lat_count;
    atomic_uint_fast64_t lat_sum_us;
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

/* A bounded text buffer; on overflow the output is dropped (NULL), never cut. */
typedef struct tbuf {
    char *p;
    size_t n, cap;
    bool bad;
} tbuf;

__attribute__((format(printf, 2, 3))) static void put(tbuf *t, const char *fmt, ...)
{
    if (t->bad)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= t->cap - t->n)
        t->bad = true;
    else
        t->n += (size_t)w;
}

static unsigned long long ld(atomic_uint_fast64_t *a)
{
    return (unsigned long long)atomic_load(a);
}

char *cmetrics_render(cmetrics *m)
{
    tbuf t = {malloc(16384), 0, 16384, false};
    if (!t.p)
        return NULL;
    put(&t, "# HELP touchpoint_batches_total Batch requests (POST /v1/batches) by HTTP status.\n"
            "# TYPE touchpoint_batches_total counter\n");
    for (size_t i = 0; i <= N_STATUS; i++) {
        if (i < N_STATUS)
            put(&t, "touchpoint_batches_total{status=\"%d\"} %llu\n", statuses[i],
                ld(&m->batches[i]));
        else
            put(&t, "touchpoint_batches_total{status=\"other\"} %llu\n", ld(&m->batches[i]));
    }
    put(&t,
        "# HELP touchpoint_answers_accepted_total Answers stored for the first time.\n"
        "# TYPE touchpoint_answers_accepted_total counter\n"
        "touchpoint_answers_accepted_total %llu\n",
        ld(&m->accepted));
    put(&t,
        "# HELP touchpoint_answers_duplicate_total Answers received again (already stored).\n"
        "# TYPE touchpoint_answers_duplicate_total counter\n"
        "touchpoint_answers_duplicate_total %llu\n",
        ld(&m->duplicates));
    put(&t, "# HELP touchpoint_answers_rejected_total Answers rejected, by code.\n"
            "# TYPE touchpoint_answers_rejected_total counter\n");
    for (int c = 0; c < CBATCH_CODE_COUNT; c++)
        put(&t, "touchpoint_answers_rejected_total{code=\"%s\"} %llu\n",
            cbatch_code_name((cbatch_code)c), ld(&m->rejected[c]));
    put(&t, "# HELP touchpoint_http_responses_total HTTP responses by status.\n"
            "# TYPE touchpoint_http_responses_total counter\n");
    for (size_t i = 0; i <= N_STATUS; i++) {
        if (i < N_STATUS)
            put(&t, "touchpoint_http_responses_total{status=\"%d\"} %llu\n", statuses[i],
                ld(&m->http[i]));
        else
            put(&t, "touchpoint_http_responses_total{status=\"other\"} %llu\n", ld(&m->http[i]));
    }
    put(&t, "# HELP touchpoint_batch_duration_seconds Time from request headers to reply.\n"
            "# TYPE touchpoint_batch_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t b = 0; b < N_BOUNDS; b++) {
        cum += ld(&m->lat_bucket[b]);
        put(&t, "touchpoint_batch_duration_seconds_bucket{le=\"%g\"} %llu\n",
            lat_bounds[b] / 1000.0, cum);
    }
    cum += ld(&m->lat_bucket[N_BOUNDS]);
    put(&t, "touchpoint_batch_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    put(&t, "touchpoint_batch_duration_seconds_sum %.6f\n", (double)ld(&m->lat_sum_us) / 1e6);
    put(&t, "touchpoint_batch_duration_seconds_count %llu\n", ld(&m->lat_count));
    if (t.bad) {
        free(t.p);
        return NULL;
    }
    return t.p;
}
