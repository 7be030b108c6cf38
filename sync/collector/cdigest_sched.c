/*
 * cdigest_sched.c - the digests' scheduler (see cdigest.h): one thread per collector that wakes
 * every tick and sends each digest's latest due period that is not sent yet.
 *
 * Nothing is kept in the process: what was sent is the digest_runs table, so a restarted
 * collector, or a second one on the same PostgreSQL, sends each period once (the claim in
 * cdigest_send). Only the latest due period is sent: a collector that was down for a week sends
 * one daily digest, not seven.
 */
#include "cdigest_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfleet_int.h"

struct cdigest_sched {
    cstore *s;
    const tp_clock *clock;
    int silent_after_s, tick_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

/* Sends digest row i's latest due period when it is not sent yet. Returns 1 when sent. */
static int run_one(cstore *s, const char *id, const char *node, const char *period, int64_t now_ms,
                   int silent_after_s)
{
    char err[TP_ERRMSG_MAX], key[CDIGEST_KEY_MAX];
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    cJSON *settings = NULL, *result = NULL;
    ctz *z = NULL;
    cdigest_period p;
    int sent = 0;
    if (cdigest_period_parse(period, &p) != TP_OK)
        return 0;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = cdigest_node_settings(tx, node, &settings, err, sizeof err);
    if (rc == TP_OK)
        rc = ctz_open(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(settings, "timezone")),
                      &z, err, sizeof err);
    if (rc == TP_OK) {
        cdigest_latest_due(z, p, cJSON_GetObjectItemCaseSensitive(settings, "opening_hours"),
                           now_ms, key);
        rc = FX(tx, &rows, err, sizeof err,
                "SELECT 1 FROM digest_runs WHERE digest_id = $1 AND period_key = $2", id, key);
    }
    bool due = rc == TP_OK && rows->n == 0;
    cstore_rows_free(rows);
    cstore_tx_rollback(tx);
    tx = NULL;
    if (due && (rc = cstore_tx_begin(s, true, &tx, err, sizeof err)) == TP_OK) {
        rc = cdigest_send(tx, id, key, now_ms, silent_after_s, &result, err, sizeof err);
        if (rc == TP_OK)
            rc = cstore_tx_commit(tx, err, sizeof err);
        else
            cstore_tx_rollback(tx);
        sent = rc == TP_OK;
    }
    if (rc != TP_OK && rc != TP_ERR_EXISTS)
        fprintf(stderr, "touchpoint-collector: digest %s: %s\n", id, err);
    cJSON_Delete(result);
    cJSON_Delete(settings);
    ctz_free(z);
    return sent;
}

int cdigest_sched_run(cstore *s, int64_t now_ms, int silent_after_s)
{
    char err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    int sent = 0;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX0(tx, &rows, err, sizeof err,
                 "SELECT id, node_path, period FROM digests ORDER BY id");
    cstore_tx_rollback(tx);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: digests: %s\n", err);
        return 0;
    }
    for (size_t i = 0; i < rows->n; i++)
        sent += run_one(s, cstore_rows_get(rows, i, 0), cstore_rows_get(rows, i, 1),
                        cstore_rows_get(rows, i, 2), now_ms, silent_after_s);
    cstore_rows_free(rows);
    return sent;
}

static void *loop(void *arg)
{
    cdigest_sched *d = arg;
    int wait_s = 2; /* the first pass soon after start, then every tick */
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait_s;
        while (!d->stop && pthread_cond_timedwait(&d->cv, &d->mu, &until) != ETIMEDOUT)
            ;
        if (d->stop)
            break;
        pthread_mutex_unlock(&d->mu);
        cdigest_sched_run(d->s, d->clock->wall_ms(d->clock->ctx), d->silent_after_s);
        pthread_mutex_lock(&d->mu);
        wait_s = d->tick_s;
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

tp_err cdigest_sched_start(cstore *s, const tp_clock *clock, int silent_after_s, int tick_s,
                           cdigest_sched **out)
{
    cdigest_sched *d = calloc(1, sizeof *d);
    pthread_condattr_t ca;
    *out = NULL;
    if (!d)
        return TP_ERR_NOMEM;
    d->s = s;
    d->clock = clock;
    d->silent_after_s = silent_after_s;
    d->tick_s = tick_s > 0 ? tick_s : 60;
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&d->thread, NULL, loop, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return TP_ERR_NOMEM;
    }
    *out = d;
    return TP_OK;
}

void cdigest_sched_stop(cdigest_sched *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}
