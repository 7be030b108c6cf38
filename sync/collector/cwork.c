/*
 * cwork.c - the batch workers (see cwork.h): one mutex, one condition variable and a FIFO list
 * threaded through the jobs themselves, so queuing never allocates and cannot fail.
 */
#include "cwork.h"

#include <pthread.h>
#include <stdlib.h>

struct cwork {
    pthread_mutex_t lock;
    pthread_cond_t more;
    cwork_job *head, *tail;
    bool stop;
    unsigned n;
    pthread_t *threads;
};

static void *work(void *arg)
{
    cwork *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->more, &w->lock);
        cwork_job *job = w->head;
        if (!job)
            break; /* stopping, and the queue is empty */
        w->head = job->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        job->run(job); /* job may be freed by the time run returns */
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

tp_err cwork_start(unsigned n, cwork **out)
{
    cwork *w = calloc(1, sizeof *w);
    *out = NULL;
    if (n == 0)
        n = 1;
    if (!w || !(w->threads = calloc(n, sizeof *w->threads))) {
        free(w);
        return TP_ERR_NOMEM;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->more, NULL);
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&w->threads[i], NULL, work, w) != 0) {
            cwork_stop(w); /* joins the w->n started so far */
            return TP_ERR_NOMEM;
        }
        w->n++;
    }
    *out = w;
    return TP_OK;
}

bool cwork_submit(cwork *w, cwork_job *job)
{
    pthread_mutex_lock(&w->lock);
    bool ok = !w->stop;
    if (ok) {
        job->next = NULL;
        if (w->tail)
            w->tail->next = job;
        else
            w->head = job;
        w->tail = job;
        pthread_cond_signal(&w->more);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

void cwork_stop(cwork *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->more);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->more);
    pthread_mutex_destroy(&w->lock);
    free(w->threads);
    free(w);
}
