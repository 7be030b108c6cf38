/*
 * cguard.c - absolute head/body deadlines and the body budget (see cguard.h).
 *
 * Connections sit on one list under one mutex; the reaper walks it four times a second (a few
 * thousand entries cost microseconds). It shuts a socket down (shutdown(2), not close) while
 * holding the mutex, and cguard_conn_close takes the same mutex before libmicrohttpd closes the
 * descriptor, so the reaper never touches a descriptor number that has been closed and reused.
 */
#include "cguard.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#define REAP_EVERY_MS 250

struct cguard_conn {
    cguard_conn *prev, *next;
    int fd;
    bool in_body;        /* between cguard_request_started and cguard_request_done */
    bool shut;           /* shut down once already */
    int64_t deadline_ms; /* monotonic */
};

struct cguard {
    int64_t head_ms, body_ms;
    size_t budget, used;
    uint64_t expired;
    cguard_conn *list;
    bool stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t reaper;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *reap(void *arg)
{
    cguard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += REAP_EVERY_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->wake, &g->lock, &until);
        int64_t now = now_ms();
        for (cguard_conn *c = g->list; c && !g->stop; c = c->next) {
            if (!c->shut && now > c->deadline_ms) {
                /* Bytes the peer sent that nobody has read yet: the worker that owns this
                 * connection is busy with other requests, so the wait is ours, not the peer's.
                 * A trickling peer's byte is read at once by an idle worker and cannot hide. */
                int unread = 0;
                if (ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0)
                    continue;
                c->shut = true;
                g->expired++;
                shutdown(c->fd, SHUT_RDWR);
            }
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

cguard *cguard_new(int64_t head_ms, int64_t body_ms, size_t body_budget)
{
    cguard *g = calloc(1, sizeof *g);
    pthread_condattr_t ca;
    if (!g)
        return NULL;
    g->head_ms = head_ms;
    g->body_ms = body_ms;
    g->budget = body_budget;
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->reaper, NULL, reap, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    return g;
}

void cguard_free(cguard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->reaper, NULL);
    while (g->list) { /* none expected; freed all the same */
        cguard_conn *c = g->list;
        g->list = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

cguard_conn *cguard_conn_open(cguard *g, int fd)
{
    cguard_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    pthread_mutex_lock(&g->lock);
    c->deadline_ms = now_ms() + g->head_ms;
    c->next = g->list;
    if (g->list)
        g->list->prev = c;
    g->list = c;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void cguard_conn_close(cguard *g, cguard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    free(c);
}

void cguard_request_started(cguard *g, cguard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (!c->in_body) {
        c->in_body = true;
        c->deadline_ms = now_ms() + g->body_ms;
    }
    pthread_mutex_unlock(&g->lock);
}

void cguard_request_working(cguard *g, cguard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    c->in_body = true;
    c->deadline_ms = INT64_MAX;
    pthread_mutex_unlock(&g->lock);
}

void cguard_request_done(cguard *g, cguard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    c->in_body = false;
    c->deadline_ms = now_ms() + g->head_ms;
    pthread_mutex_unlock(&g->lock);
}

bool cguard_take_bytes(cguard *g, size_t n)
{
    bool ok;
    pthread_mutex_lock(&g->lock);
    ok = n <= g->budget - g->used;
    if (ok)
        g->used += n;
    pthread_mutex_unlock(&g->lock);
    return ok;
}

void cguard_put_bytes(cguard *g, size_t n)
{
    pthread_mutex_lock(&g->lock);
    g->used -= n <= g->used ? n : g->used;
    pthread_mutex_unlock(&g->lock);
}

size_t cguard_bytes_free(cguard *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->budget - g->used;
    pthread_mutex_unlock(&g->lock);
    return n;
}

size_t cguard_bytes_used(cguard *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->used;
    pthread_mutex_unlock(&g->lock);
    return n;
}

uint64_t cguard_expired(cguard *g)
{
    pthread_mutex_lock(&g->lock);
    uint64_t n = g->expired;
    pthread_mutex_unlock(&g->lock);
    return n;
}
