/*
 * cpool.c - the stores' connection slots (see cpool.h): one mutex, one condition variable, and a
 * busy flag per slot. A pool has as many slots as HTTP workers, so a linear scan for a free one
 * is the whole search.
 */
#include "cpool.h"

#include <pthread.h>
#include <stdlib.h>

struct cpool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    unsigned n;
    size_t elem;
    bool *busy;
    unsigned char *slots;
};

cpool *cpool_new(unsigned n, size_t elem)
{
    cpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n + 1; /* the last one is the spare */
    p->elem = elem;
    p->busy = calloc(p->n, sizeof *p->busy);
    p->slots = calloc(p->n, elem);
    if (!p->busy || !p->slots) {
        free(p->busy);
        free(p->slots);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    return p;
}

void cpool_free(cpool *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p->busy);
    free(p->slots);
    free(p);
}

unsigned cpool_size(const cpool *p)
{
    return p->n;
}

void *cpool_slot(cpool *p, unsigned i)
{
    return p->slots + (size_t)i * p->elem;
}

/* Takes a free slot among [from, to), waiting while all are busy. */
static void *take(cpool *p, unsigned from, unsigned to)
{
    pthread_mutex_lock(&p->lock);
    for (;;) {
        for (unsigned i = from; i < to; i++) {
            if (!p->busy[i]) {
                p->busy[i] = true;
                pthread_mutex_unlock(&p->lock);
                return cpool_slot(p, i);
            }
        }
        pthread_cond_wait(&p->freed, &p->lock);
    }
}

void *cpool_acquire(cpool *p)
{
    return take(p, 0, p->n - 1);
}

void *cpool_acquire_spare(cpool *p)
{
    return take(p, p->n - 1, p->n);
}

void cpool_release(cpool *p, void *slot)
{
    size_t i = (size_t)((unsigned char *)slot - p->slots) / p->elem;
    pthread_mutex_lock(&p->lock);
    p->busy[i] = false;
    pthread_cond_broadcast(&p->freed); /* a worker and a health check may both be waiting */
    pthread_mutex_unlock(&p->lock);
}
