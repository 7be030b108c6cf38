/*
 * cstore.c - the collector store's front: picks the backend by url scheme, and the pure helpers
 * both backends share (seq ranges, gaps, report keys, device lists).
 */
#include "cstore.h"
#include "crollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cstore {
    const cstore_ops *ops;
    void *impl;
};

tp_err cstore_open(const char *url, unsigned pool, cstore **out, char *err, size_t errlen)
{
    const cstore_ops *ops = NULL;
    const char *arg = url;
    *out = NULL;
    if (!url)
        return tp_errf(err, errlen, TP_ERR_INVALID, "no store url");
    if (strncmp(url, "sqlite:", 7) == 0) {
        ops = &cstore_sqlite_ops;
        arg = url + 7;
    } else if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        ops = &cstore_pg_ops;
    } else {
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "store '%.200s': expected sqlite:PATH or postgresql://...", url);
    }
    cstore *s = calloc(1, sizeof *s);
    if (!s)
        return TP_ERR_NOMEM;
    s->ops = ops;
    tp_err rc = ops->open(arg, pool ? pool : 1, &s->impl, err, errlen);
    if (rc != TP_OK) {
        free(s);
        return rc;
    }
    /* issue 14: count the answers stored before the rollups existed (once). */
    if ((rc = crollup_backfill(s, err, errlen)) != TP_OK) {
        cstore_close(s);
        return rc;
    }
    *out = s;
    return TP_OK;
}

void cstore_close(cstore *s)
{
    if (!s)
        return;
    s->ops->close(s->impl);
    free(s);
}

const char *cstore_kind(const cstore *s)
{
    return s->ops->name;
}

tp_err cstore_ingest(cstore *s, const cbatch *b, int64_t received_at_ms, unsigned char *outcomes,
                     char *err, size_t errlen)
{
    return s->ops->ingest(s->impl, b, received_at_ms, outcomes, err, errlen);
}

tp_err cstore_ping(cstore *s, char *err, size_t errlen)
{
    return s->ops->ping(s->impl, err, errlen);
}

tp_err cstore_report(cstore *s, const cstore_query *q, creport *r, char *err, size_t errlen)
{
    return s->ops->report(s->impl, q, r, err, errlen);
}

tp_err cstore_list_devices(cstore *s, cstore_devices **out, char *err, size_t errlen)
{
    cstore_devices *d = calloc(1, sizeof *d);
    *out = NULL;
    if (!d)
        return TP_ERR_NOMEM;
    tp_err rc = s->ops->list_devices(s->impl, d, err, errlen);
    if (rc != TP_OK) {
        cstore_devices_free(d);
        return rc;
    }
    *out = d;
    return TP_OK;
}

void cstore_devices_free(cstore_devices *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        for (size_t e = 0; e < d->v[i].n_epochs; e++)
            free(d->v[i].epochs[e].ranges);
        free(d->v[i].epochs);
    }
    free(d->v);
    free(d);
}

/* Bounds of what a device listing may hold (tp_array_grow refuses more). */
#define LIST_MAX_DEVICES (1u << 20)
#define LIST_MAX_EPOCHS (1u << 16)
#define LIST_MAX_RANGES (4u * CSTORE_RANGES_MAX)

cstore_device *cstore_devices_add(cstore_devices *d)
{
    if (tp_array_grow((void **)&d->v, &d->cap, d->n + 1, sizeof *d->v, LIST_MAX_DEVICES) != TP_OK)
        return NULL;
    cstore_device *dev = &d->v[d->n++];
    memset(dev, 0, sizeof *dev);
    return dev;
}

cstore_epoch *cstore_device_add_epoch(cstore_device *dev)
{
    if (tp_array_grow((void **)&dev->epochs, &dev->cap_epochs, dev->n_epochs + 1,
                      sizeof *dev->epochs, LIST_MAX_EPOCHS) != TP_OK)
        return NULL;
    cstore_epoch *e = &dev->epochs[dev->n_epochs++];
    memset(e, 0, sizeof *e);
    return e;
}

tp_err cstore_epoch_add_range(cstore_epoch *e, int64_t lo, int64_t hi)
{
    tp_err rc = tp_array_grow((void **)&e->ranges, &e->cap_ranges, e->n_ranges + 1,
                              sizeof *e->ranges, LIST_MAX_RANGES);
    if (rc != TP_OK)
        return rc;
    e->ranges[e->n_ranges++] = (cstore_range){lo, hi};
    return TP_OK;
}

cstore_device *cstore_devices_find(cstore_devices *d, const char *id)
{
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(d->v[mid].id, id);
        if (c == 0)
            return &d->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

cstore_epoch *cstore_device_find_epoch(cstore_device *dev, const char *epoch)
{
    for (size_t i = 0; dev && i < dev->n_epochs; i++)
        if (strcmp(dev->epochs[i].epoch, epoch) == 0)
            return &dev->epochs[i];
    return NULL;
}

/* ---- Pure helpers ---------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

size_t cstore_seq_ranges(int64_t *seqs, size_t n, cstore_range *out)
{
    size_t k = 0;
    if (n == 0)
        return 0;
    qsort(seqs, n, sizeof *seqs, cmp_i64);
    out[0] = (cstore_range){seqs[0], seqs[0]};
    for (size_t i = 1; i < n; i++) {
        if (seqs[i] <= out[k].hi + 1) {
            if (seqs[i] > out[k].hi)
                out[k].hi = seqs[i];
        } else {
            out[++k] = (cstore_range){seqs[i], seqs[i]};
        }
    }
    return k + 1;
}

void cstore_gaps(int64_t first, int64_t last, const cstore_range *ranges, size_t n_ranges,
                 cstore_range *out, size_t max_out, size_t *n_gaps, int64_t *missing)
{
    int64_t next = first; /* lowest seq not yet known to be covered */
    *n_gaps = 0;
    *missing = 0;
    for (size_t i = 0; i <= n_ranges && next <= last; i++) {
        int64_t lo = i < n_ranges ? ranges[i].lo : last + 1;
        int64_t hi = i < n_ranges ? ranges[i].hi : last;
        if (hi < next)
            continue;
        if (lo > next) {
            int64_t gap_hi = lo - 1 < last ? lo - 1 : last;
            if (*n_gaps < max_out)
                out[*n_gaps] = (cstore_range){next, gap_hi};
            (*n_gaps)++;
            *missing += gap_hi - next + 1;
        }
        next = hi + 1;
    }
}

tp_err cstore_batch_ranges(const cbatch *b, cstore_range **out, size_t *n)
{
    size_t total = b->n_answers + b->n_rejects, k = 0;
    int64_t *seqs = malloc((total ? total : 1) * sizeof *seqs);
    cstore_range *r = malloc((total ? total : 1) * sizeof *r);
    if (!seqs || !r) {
        free(seqs);
        free(r);
        return TP_ERR_NOMEM;
    }
    for (size_t i = 0; i < b->n_answers; i++)
        seqs[k++] = b->answers[i].seq;
    for (size_t i = 0; i < b->n_rejects; i++)
        if (b->rejects[i].seq >= b->device.epoch_first_seq && b->rejects[i].seq >= 0)
            seqs[k++] = b->rejects[i].seq;
    *n = cstore_seq_ranges(seqs, k, r);
    free(seqs);
    *out = r;
    return TP_OK;
}

tp_err cstore_ranges_refused(const cbatch_device *d, int64_t held, char *err, size_t errlen)
{
    return tp_errf(err, errlen, TP_ERR_TOO_LARGE,
                   "device %s epoch %s: the batch would leave %lld separate seq ranges, at most %d"
                   " (seqs sent with holes between them)",
                   d->id, d->epoch, (long long)held, CSTORE_RANGES_MAX);
}

void cstore_group_key(creport_by by, const char *raw, char *out, size_t outlen)
{
    if (by == CREPORT_BY_DAY) {
        char day[11];
        long long bucket = strtoll(raw ? raw : "0", NULL, 10);
        tp_local_day_start((int64_t)bucket * CSTORE_DAY_BUCKET_MS, day);
        tp_strlcpy(out, day, outlen);
    } else {
        tp_strlcpy(out, raw ? raw : "", outlen);
    }
}

/* ---- Generic transactions -------------------------------------------------------------------- */

struct cstore_tx {
    cstore *s;
    void *conn;
    bool write;
};

tp_err cstore_tx_begin(cstore *s, bool write, cstore_tx **out, char *err, size_t errlen)
{
    cstore_tx *tx = calloc(1, sizeof *tx);
    *out = NULL;
    if (!tx)
        return TP_ERR_NOMEM;
    tx->s = s;
    tx->write = write;
    tp_err rc = s->ops->tx_begin(s->impl, write, &tx->conn, err, errlen);
    if (rc != TP_OK) {
        free(tx);
        return rc;
    }
    *out = tx;
    return TP_OK;
}

tp_err cstore_tx_exec(cstore_tx *tx, const char *sql, const char *const *params, int n,
                      cstore_rows **rows, char *err, size_t errlen)
{
    cstore_rows *r = calloc(1, sizeof *r);
    if (rows)
        *rows = NULL;
    if (!r)
        return TP_ERR_NOMEM;
    tp_err rc = tx->s->ops->tx_exec(tx->s->impl, tx->conn, sql, params, n, r, err, errlen);
    if (rc != TP_OK || !rows)
        cstore_rows_free(r);
    else
        *rows = r;
    return rc;
}

tp_err cstore_tx_commit(cstore_tx *tx, char *err, size_t errlen)
{
    tp_err rc = tx->s->ops->tx_end(tx->s->impl, tx->conn, tx->write, true, err, errlen);
    free(tx);
    return rc;
}

void cstore_tx_rollback(cstore_tx *tx)
{
    char err[TP_ERRMSG_MAX];
    if (!tx)
        return;
    tx->s->ops->tx_end(tx->s->impl, tx->conn, tx->write, false, err, sizeof err);
    free(tx);
}

const char *cstore_rows_get(const cstore_rows *r, size_t row, size_t col)
{
    if (!r || row >= r->n || col >= r->cols)
        return NULL;
    return r->cell[row * r->cols + col];
}

void cstore_rows_free(cstore_rows *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n * r->cols; i++)
        free(r->cell[i]);
    free(r->cell);
    free(r);
}

tp_err cstore_rows_add(cstore_rows *r, const char *const *cells, size_t cols)
{
    if (r->n >= CSTORE_ROWS_MAX)
        return TP_ERR_TOO_LARGE;
    char **v = realloc(r->cell, (r->n + 1) * cols * sizeof *v);
    if (!v)
        return TP_ERR_NOMEM;
    r->cell = v;
    r->cols = cols;
    for (size_t i = 0; i < cols; i++) {
        char **dst = &v[r->n * cols + i];
        *dst = NULL;
        if (cells[i] && !(*dst = strdup(cells[i]))) {
            for (size_t k = 0; k < i; k++)
                free(v[r->n * cols + k]);
            return TP_ERR_NOMEM;
        }
    }
    r->n++;
    return TP_OK;
}
