/*
 * crate.h - per-key token bucket rate limits: per device for POST /v1/batches, per reader and
 * per address (failed read authentications) on the read side (collector_read.c).
 *
 * Each device has a bucket of `burst` tokens refilled at `rate` tokens per second; a batch takes
 * one token; an empty bucket answers 429 with Retry-After (the seconds until a token is back).
 * The clock is an argument, so tests drive it.
 *
 * Thread-safety: crate_take may be called from many threads at once.
 */
#ifndef TP_CRATE_H
#define TP_CRATE_H

#include "tp.h"

#define CRATE_MAX_DEVICES 100000
#define CRATE_KEY_MAX 96 /* bytes of a key kept, NUL included (a longer key: its first bytes) */

typedef struct crate crate;

/* Returns a new limiter (free with crate_free) or NULL when out of memory or rate <= 0 or
 * burst < 1. */
crate *crate_new(double rate_per_s, double burst);
void crate_free(crate *r);

/* Takes a token for device at now_ms (monotonic). Returns true when allowed; else false and
 * *retry_after_s (>= 1) is when to come back. Beyond CRATE_MAX_DEVICES distinct devices every
 * request is allowed (the devices file bounds the ids that reach here). */
bool crate_take(crate *r, const char *device, int64_t now_ms, int *retry_after_s);

/* Whether key could take a token at now_ms, without taking one (a key never seen can). Returns
 * true, or false with *retry_after_s (>= 1). Lets a caller refuse before it does the work whose
 * failures crate_take counts (failed authentications per address). */
bool crate_check(crate *r, const char *key, int64_t now_ms, int *retry_after_s);

#endif /* TP_CRATE_H */
