/*
 * cguard.h - the collector's guard against connection floods and stalled bodies.
 *
 * libmicrohttpd's own connection timeout is an idle timeout: every byte renews it, so a client
 * that trickles one header byte every few seconds holds its connection for ever, and a few
 * thousand such clients used to lock every device out. The guard adds what that lacks:
 *
 *   - absolute deadlines: the request head (from the connection's start, or from the end of the
 *     previous request on a kept-alive connection, to the last header line) and the body (from
 *     the head to the last body byte), which bytes do not renew. A reaper thread shuts down the
 *     socket of a connection past its deadline; libmicrohttpd then closes it as a dead peer.
 *   - a global budget of bytes held by request bodies in flight, so that stalled bodies cannot
 *     grow the process without bound; a request that would go over it is refused (503).
 *
 * The per-address and total connection limits are libmicrohttpd options (collector.c).
 *
 * Thread-safety: every function may be called from any thread; cguard_new/cguard_free from the
 * owner only, with no connection open (after MHD_stop_daemon).
 */
#ifndef TP_CGUARD_H
#define TP_CGUARD_H

#include "tp.h"

typedef struct cguard cguard;

/* One connection's entry, owned by the guard from cguard_conn_open to cguard_conn_close. */
typedef struct cguard_conn cguard_conn;

/* Makes a guard with the head and body deadlines (ms, > 0) and a budget of body_budget bytes for
 * bodies in flight, and starts its reaper thread. Returns NULL when out of memory or the thread
 * cannot start. Free with cguard_free. */
cguard *cguard_new(int64_t head_ms, int64_t body_ms, size_t body_budget);

/* Stops the reaper and frees g (every connection must be closed). NULL is a no-op. */
void cguard_free(cguard *g);

/* Registers the connection on socket fd, its head deadline starting now. Returns its entry
 * (borrowed until cguard_conn_close) or NULL when out of memory (the connection is then not
 * guarded by deadlines, only by libmicrohttpd's idle timeout). */
cguard_conn *cguard_conn_open(cguard *g, int fd);

/* Forgets the connection before its socket is closed. NULL is a no-op. */
void cguard_conn_close(cguard *g, cguard_conn *c);

/* The request's head has arrived: the body deadline starts now (once per request; later calls
 * before cguard_request_done change nothing, so a trickled body cannot renew it). NULL: no-op. */
void cguard_request_started(cguard *g, cguard_conn *c);

/* The request is complete and the server works on it (store, report): no deadline runs until
 * cguard_request_done, since that time is the server's, not the peer's. NULL: no-op. */
void cguard_request_working(cguard *g, cguard_conn *c);

/* The request is finished: the head deadline of the next request on this connection starts now.
 * NULL: no-op. */
void cguard_request_done(cguard *g, cguard_conn *c);

/* Takes n bytes from the body budget. Returns true, or false (nothing taken) when that would go
 * over it. */
bool cguard_take_bytes(cguard *g, size_t n);

/* Gives n bytes taken with cguard_take_bytes back. */
void cguard_put_bytes(cguard *g, size_t n);

/* Bytes of the body budget free now (a hint: another thread may take them first). */
size_t cguard_bytes_free(cguard *g);

/* Bytes of the body budget in use now (for tests and /metrics). */
size_t cguard_bytes_used(cguard *g);

/* Connections shut down so far for being past a deadline. */
uint64_t cguard_expired(cguard *g);

#endif /* TP_CGUARD_H */
