/*
 * cwork.h - a fixed pool of threads that run queued jobs in arrival order.
 *
 * libmicrohttpd's thread pool binds each connection to the thread that accepted it, and a thread
 * serves its connections one request at a time. A batch stored inline on that thread holds up
 * every other connection the thread owns, however idle the other threads are: four kiosks whose
 * connections landed on one thread were stored one after another while three threads and half
 * the machine's CPU idled. So a batch whose body is in is handed to these workers (the connection
 * suspended meanwhile), and any worker stores whichever batch waits longest; the read side's
 * GETs go to a pool of their own the same way. Each worker holds at most one store connection,
 * so the database work in flight stays bounded by their number.
 *
 * Ownership: the caller owns each job (typically a member of its request) and keeps it alive
 * until its run function has returned; the pool never frees a job.
 * Thread-safety: cwork_submit from any thread; cwork_start and cwork_stop from the owner.
 */
#ifndef TP_CWORK_H
#define TP_CWORK_H

#include <stdbool.h>

#include "tp.h"

typedef struct cwork cwork;

typedef struct cwork_job {
    void (*run)(struct cwork_job *job); /* called once, on a worker thread */
    struct cwork_job *next;             /* the queue's link: the pool's, not the caller's */
} cwork_job;

/* Starts n worker threads (0: one). Returns TP_OK with *out set, or TP_ERR_NOMEM (memory or
 * threads), having started none. */
tp_err cwork_start(unsigned n, cwork **out);

/* Queues job->run to run on a worker; returns true. Returns false, queuing nothing, once
 * cwork_stop has begun: the caller then runs the job itself. */
bool cwork_submit(cwork *w, cwork_job *job);

/* Refuses new jobs, runs every job already queued, joins the workers and frees the pool. NULL
 * is a no-op. */
void cwork_stop(cwork *w);

#endif /* TP_CWORK_H */
