/*
 * cmetrics.h - the collector's counters and the Prometheus text rendering of GET /metrics.
 *
 * Counters are C11 atomics: workers bump them without a lock; a scrape reads each one once.
 *
 * Thread-safety: every function may be called from many threads at once.
 */
#ifndef TP_CMETRICS_H
#define TP_CMETRICS_H

#include "cbatch.h"

typedef struct cmetrics cmetrics;

/* Returns new zeroed counters (free with cmetrics_free) or NULL when out of memory. */
cmetrics *cmetrics_new(void);
void cmetrics_free(cmetrics *m);

/* One batch request finished with status after latency_ms; answers are its accepted and
 * duplicate counts (0 for a failed batch). */
void cmetrics_batch(cmetrics *m, int status, double latency_ms, uint64_t accepted,
                    uint64_t duplicates);
/* n answers rejected with code. */
void cmetrics_rejected(cmetrics *m, cbatch_code code, uint64_t n);
/* Any HTTP response with status. */
void cmetrics_status(cmetrics *m, int status);
/* The flood guard's figures at this moment: bytes held by bodies in flight (a gauge) and
 * connections closed past a deadline so far (a counter). */
void cmetrics_guard(cmetrics *m, uint64_t body_bytes, uint64_t expired);

/* Renders the Prometheus text exposition format (version 0.0.4). Returns a string to free() or
 * NULL when out of memory. */
char *cmetrics_render(cmetrics *m);

#endif /* TP_CMETRICS_H */
