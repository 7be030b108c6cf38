/*
 * cpool.h - a fixed pool of connection slots shared by the HTTP worker threads, the one pool both
 * central stores (cstore_sqlite.c, cstore_pg.c) use: n slots of one size, each handed to one
 * caller at a time, a caller blocking while all are busy. What a slot holds (an sqlite3 handle and
 * its statements, a PGconn) is the store's business; the pool only hands slots out.
 *
 * Thread-safety: cpool_acquire/cpool_release from any thread; cpool_new, cpool_slot and
 * cpool_free from the owner while no slot is acquired.
 */
#ifndef TP_CPOOL_H
#define TP_CPOOL_H

#include "tp.h"

typedef struct cpool cpool;

/* Makes a pool of n (>= 1) zeroed slots of elem bytes each for the workers, plus one spare slot
 * (the last, index n) that only cpool_acquire_spare hands out, so that a health check never waits
 * behind the workers. Returns it (free with cpool_free), or NULL when out of memory. */
cpool *cpool_new(unsigned n, size_t elem);

/* Frees the pool and its slots (close what they hold first). NULL is a no-op. */
void cpool_free(cpool *p);

/* The number of slots, the spare one included (n + 1). */
unsigned cpool_size(const cpool *p);

/* Slot i (< cpool_size), borrowed, for opening and closing what it holds. */
void *cpool_slot(cpool *p, unsigned i);

/* Takes a free slot, waiting while all are busy. Returns it borrowed until cpool_release. */
void *cpool_acquire(cpool *p);

/* Takes the spare slot, waiting while another health check has it. Returns it borrowed until
 * cpool_release. */
void *cpool_acquire_spare(cpool *p);

/* Gives a slot taken with cpool_acquire or cpool_acquire_spare back and wakes the waiters. */
void cpool_release(cpool *p, void *slot);

#endif /* TP_CPOOL_H */
