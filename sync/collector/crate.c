/*
 * crate.c - token buckets kept in an array sorted by device id (see crate.h).
 */
#include "crate.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct bucket {
    char id[CRATE_KEY_MAX];
    double tokens;
    int64_t at_ms;
} bucket;

struct crate {
    pthread_mutex_t lock;
    double rate, burst;
    bucket *v;
    size_t n, cap;
};

crate *crate_new(double rate_per_s, double burst)
{
    if (!(rate_per_s > 0) || !(burst >= 1))
        return NULL;
    crate *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->rate = rate_per_s;
    r->burst = burst;
    return r;
}

void crate_free(crate *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->v);
    free(r);
}

/* Finds or inserts the bucket of id (full at first sight). NULL: out of memory or bound. */
static bucket *find(crate *r, const char *key, int64_t now_ms)
{
    char id[CRATE_KEY_MAX];
    tp_strlcpy(id, key, sizeof id); /* a longer key is its first bytes, here and when stored */
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->v[mid].id, id);
        if (c == 0)
            return &r->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (r->n >= CRATE_MAX_DEVICES)
        return NULL;
    if (tp_array_grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v, CRATE_MAX_DEVICES) != TP_OK)
        return NULL;
    memmove(&r->v[lo + 1], &r->v[lo], (r->n - lo) * sizeof *r->v);
    r->n++;
    bucket *b = &r->v[lo];
    tp_strlcpy(b->id, id, sizeof b->id);
    b->tokens = r->burst;
    b->at_ms = now_ms;
    return b;
}

bool crate_take(crate *r, const char *device, int64_t now_ms, int *retry_after_s)
{
    bool ok = true;
    *retry_after_s = 0;
    pthread_mutex_lock(&r->lock);
    bucket *b = find(r, device, now_ms);
    if (b) {
        if (now_ms > b->at_ms) {
            b->tokens += (double)(now_ms - b->at_ms) * r->rate / 1000.0;
            if (b->tokens > r->burst)
                b->tokens = r->burst;
            b->at_ms = now_ms;
        }
        if (b->tokens >= 1.0) {
            b->tokens -= 1.0;
        } else {
            ok = false;
            double wait = (1.0 - b->tokens) / r->rate;
            *retry_after_s = (int)ceil(wait) < 1 ? 1 : (int)ceil(wait);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

bool crate_check(crate *r, const char *key, int64_t now_ms, int *retry_after_s)
{
    bool ok = true;
    *retry_after_s = 0;
    char id[CRATE_KEY_MAX];
    tp_strlcpy(id, key, sizeof id);
    pthread_mutex_lock(&r->lock);
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->v[mid].id, id);
        if (c == 0) {
            const bucket *b = &r->v[mid];
            double tokens = b->tokens;
            if (now_ms > b->at_ms)
                tokens += (double)(now_ms - b->at_ms) * r->rate / 1000.0;
            if (tokens < 1.0) {
                ok = false;
                double wait = (1.0 - tokens) / r->rate;
                *retry_after_s = (int)ceil(wait) < 1 ? 1 : (int)ceil(wait);
            }
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}
