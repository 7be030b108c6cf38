/*
 * calert_queue.c - the batch's part of alert evaluation: inside the ingest transaction each
 * backend records one alert_queue row per (device, store, touchpoint) of the batch's accepted
 * answers with their at_ms range, so the evaluator reads only what changed and a crash between
 * the batch and its evaluation loses nothing (the rows commit or roll back with the answers).
 */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert.h"
#include "calert_int.h"

size_t calert_queue_units(const cbatch *b, const unsigned char *outcomes, calert_unit *out)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_answers; i++) {
        const cbatch_answer *a = &b->answers[i];
        if (outcomes[i] != CBATCH_ACCEPTED)
            continue;
        size_t k = 0;
        while (k < n && (strcmp(out[k].store, a->store) != 0 ||
                         strcmp(out[k].touchpoint, a->touchpoint) != 0))
            k++;
        if (k == n)
            out[n++] = (calert_unit){a->store, a->touchpoint, a->at_ms, a->at_ms};
        if (a->at_ms < out[k].from_ms)
            out[k].from_ms = a->at_ms;
        if (a->at_ms > out[k].to_ms)
            out[k].to_ms = a->at_ms;
    }
    return n;
}

/* Units of a batch without allocating for the common case (one touchpoint per device). */
#define UNITS_ON_STACK 8

static size_t units_of(const cbatch *b, const unsigned char *outcomes, calert_unit *stack,
                       calert_unit **heap)
{
    *heap = NULL;
    size_t distinct = 0;
    /* A cheap upper bound first: a batch almost always has one unit. */
    for (size_t i = 1; i < b->n_answers && distinct < UNITS_ON_STACK; i++)
        if (strcmp(b->answers[i].store, b->answers[0].store) != 0 ||
            strcmp(b->answers[i].touchpoint, b->answers[0].touchpoint) != 0)
            distinct++;
    calert_unit *u = stack;
    if (distinct >= UNITS_ON_STACK - 1 && !(u = *heap = malloc(b->n_answers * sizeof *u)))
        return (size_t)-1;
    return calert_queue_units(b, outcomes, u);
}

int calert_queue_sqlite(sqlite3 *db, const cbatch *b, const unsigned char *outcomes, int64_t now_ms)
{
    calert_unit stack[UNITS_ON_STACK], *heap = NULL;
    size_t n = units_of(b, outcomes, stack, &heap);
    calert_unit *u = heap ? heap : stack;
    sqlite3_stmt *st = NULL;
    int rc = n == (size_t)-1 ? SQLITE_NOMEM : SQLITE_OK;
    if (rc == SQLITE_OK && n > 0)
        rc = sqlite3_prepare_v3(db,
                                "INSERT INTO alert_queue(device, store, touchpoint, from_ms, to_ms,"
                                " created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                                -1, 0, &st, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_bind_text(st, 1, b->device.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, u[i].store, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, u[i].touchpoint, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, u[i].from_ms);
        sqlite3_bind_int64(st, 5, u[i].to_ms);
        sqlite3_bind_int64(st, 6, now_ms);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    free(heap);
    return rc;
}

tp_err calert_queue_pg(PGconn *c, const cbatch *b, const unsigned char *outcomes, int64_t now_ms,
                       char *err, size_t errlen)
{
    calert_unit stack[UNITS_ON_STACK], *heap = NULL;
    size_t n = units_of(b, outcomes, stack, &heap);
    calert_unit *u = heap ? heap : stack;
    tp_err rc = n == (size_t)-1 ? TP_ERR_NOMEM : TP_OK;
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        char from[24], to[24], now[24];
        snprintf(from, sizeof from, "%lld", (long long)u[i].from_ms);
        snprintf(to, sizeof to, "%lld", (long long)u[i].to_ms);
        snprintf(now, sizeof now, "%lld", (long long)now_ms);
        const char *params[] = {b->device.id, u[i].store, u[i].touchpoint, from, to, now};
        PGresult *res = PQexecParams(c,
                                     "INSERT INTO alert_queue(device, store, touchpoint, from_ms,"
                                     " to_ms, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                                     6, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = tp_errf(err, errlen, TP_ERR_BUSY, "postgresql: queue alert evaluation: %s",
                         PQerrorMessage(c));
        PQclear(res);
    }
    free(heap);
    return rc;
}
