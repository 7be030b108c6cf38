/*
 * trace.h - the kiosk's event trace: one JSON line per event on a stream (--trace: stdout), read
 * by the integration tests and by people watching a kiosk. Each line is
 *   {"event":NAME,"t":MONO_MS,"screen":SCREEN, ...fields}
 * with the fields in the order given; a field named like a head field replaces it.
 *
 * Each event is one call with typed key/value pairs ended by TRACE_END:
 *   trace_event(tr, "pin", TRACE_STR("result", "wrong"), TRACE_NUM("attempts", n), TRACE_END);
 * The TRACE_* macros cast each value to the type the reader expects, so a wrong argument is a
 * compiler warning rather than a garbled line.
 *
 * Ownership: main creates the trace (trace_new) and hands it down; the kiosk state machine sets
 * the screen name it is on (trace_set_screen). A NULL trace is valid everywhere and writes
 * nothing, so callers never test for it.
 *
 * Thread-safety: one thread (the kiosk's loop).
 */
#ifndef TP_TRACE_H
#define TP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tp.h"

typedef struct trace trace;

/* Value kinds of trace_event's arguments; use the macros below, not these. */
enum {
    TRACE_K_END = 0,
    TRACE_K_STR,      /* key, const char * (NULL: JSON null) */
    TRACE_K_NUM,      /* key, double */
    TRACE_K_BOOL,     /* key, int */
    TRACE_K_NULL,     /* key */
    TRACE_K_STRS,     /* key, const char *const *, size_t: an array of strings */
    TRACE_K_SKIP_STR, /* as TRACE_K_STR, left out (TRACE_STR_IF with a false condition) */
    TRACE_K_SKIP_NUM, /* as TRACE_K_NUM, left out */
    TRACE_K_NULL_NUM, /* as TRACE_K_NUM, written as null (TRACE_NUM_OR_NULL) */
};

#define TRACE_STR(k, v) TRACE_K_STR, (const char *)(k), (const char *)(v)
#define TRACE_NUM(k, v) TRACE_K_NUM, (const char *)(k), (double)(v)
#define TRACE_BOOL(k, v) TRACE_K_BOOL, (const char *)(k), (int)((v) ? 1 : 0)
#define TRACE_NULL(k) TRACE_K_NULL, (const char *)(k)
#define TRACE_STRS(k, a, n) TRACE_K_STRS, (const char *)(k), (const char *const *)(a), (size_t)(n)
/* The field only when c is true. */
#define TRACE_STR_IF(c, k, v)                                                                      \
    ((c) ? TRACE_K_STR : TRACE_K_SKIP_STR), (const char *)(k), (const char *)(v)
#define TRACE_NUM_IF(c, k, v) ((c) ? TRACE_K_NUM : TRACE_K_SKIP_NUM), (const char *)(k), (double)(v)
/* null instead of the number when n is true. */
#define TRACE_NUM_OR_NULL(n, k, v)                                                                 \
    ((n) ? TRACE_K_NULL_NUM : TRACE_K_NUM), (const char *)(k), (double)(v)
#define TRACE_END TRACE_K_END

/* A trace writing to out (borrowed, flushed after each line) with "t" from clock (borrowed; NULL:
 * tp_clock_system()). Returns NULL when out is NULL (no tracing) or memory is short; free with
 * trace_free. */
trace *trace_new(FILE *out, const tp_clock *clock);

/* Frees t (not its stream). NULL is a no-op. */
void trace_free(trace *t);

/* The screen name written in each line's head (borrowed; a static string). */
void trace_set_screen(trace *t, const char *screen);

/* Writes one line {"event":event, "t", "screen", fields...}; the arguments after event are
 * TRACE_* fields ended by TRACE_END. No-op when t is NULL. */
void trace_event(trace *t, const char *event, ...);

/* True when t writes somewhere (a caller can skip costly preparation). */
bool trace_on(const trace *t);

#endif /* TP_TRACE_H */
