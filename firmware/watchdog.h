/*
 * watchdog.h - the kiosk's side of systemd supervision (sd_notify): READY=1 once the first frame
 * is on screen, WATCHDOG=1 from the main tick only after a health check passed, STATUS= lines for
 * `systemctl status`, STOPPING=1 on a clean exit.
 *
 * With WatchdogSec= in the unit, systemd passes WATCHDOG_USEC (and WATCHDOG_PID); the kiosk pings
 * every half of it (sd_watchdog_enabled). The owner's loop must wake up for
 * watchdog_next_deadline() and call watchdog_tick() from its one periodic tick: a hung loop, a
 * stuck write or a failing health check then stops the pings and systemd kills and restarts the
 * kiosk. Outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op.
 *
 * Notifications go through an ops table (the real backend is libsystemd's sd_notify) and time
 * through a tp_clock, so tests drive both.
 *
 * Thread-safety: one thread (the kiosk's main loop).
 */
#ifndef TP_WATCHDOG_H
#define TP_WATCHDOG_H

#include "store.h"
#include "tp.h"

#define WATCHDOG_STATUS_MAX 256 /* bytes of one STATUS= text */

typedef struct watchdog watchdog;

typedef struct watchdog_ops {
    /* Sends one notification ("READY=1\nSTATUS=..."); returns TP_OK or TP_ERR_IO. */
    tp_err (*notify)(void *ctx, const char *state);
    void *ctx;
} watchdog_ops;

typedef struct watchdog_options {
    const watchdog_ops *ops; /* copied; NULL: sd_notify (libsystemd) */
    const tp_clock *clock;   /* borrowed; real time, never the script's virtual clock; NULL:
                                tp_clock_system() */
    int64_t watchdog_us;     /* > 0: this timeout; 0: from the environment (WATCHDOG_USEC and
                                WATCHDOG_PID via sd_watchdog_enabled); < 0: no pings */
} watchdog_options;

/* Result of one health check: ok, or the first cause found (for STATUS= and the journal). */
typedef struct watchdog_health {
    bool ok;
    char cause[WATCHDOG_STATUS_MAX];
    int64_t pending; /* answers waiting to sync, -1 when unknown */
} watchdog_health;

/* Creates the watchdog. Returns TP_OK and *out (free with watchdog_free), TP_ERR_NOMEM, or
 * TP_ERR_INVALID when the environment's WATCHDOG_USEC is malformed (cause in err; the caller may
 * run on without supervision). */
tp_err watchdog_new(const watchdog_options *opt, watchdog **out, char *err, size_t errlen);

/* Sends STOPPING=1 if READY=1 was sent, then frees. NULL is a no-op. */
void watchdog_free(watchdog *w);

/* Returns the ping interval in ms (half the watchdog timeout), or 0 when pings are off. */
int64_t watchdog_interval_ms(const watchdog *w);

/* Sends READY=1 with a STATUS= text the first time; later calls do nothing. Returns TP_OK or the
 * notify error. NULL w is a no-op. */
tp_err watchdog_ready(watchdog *w, const char *status);

/* Sends STATUS=text when it differs from the last one sent. NULL w is a no-op. */
tp_err watchdog_status(watchdog *w, const char *text);

/* Monotonic time (the watchdog's clock, ms) when watchdog_tick must next run, or -1 when pings
 * are off or READY=1 was not sent yet. NULL w: -1. */
int64_t watchdog_next_deadline(const watchdog *w);

/* True when a ping is due now (the owner then runs its health check and calls watchdog_tick). */
bool watchdog_due(const watchdog *w);

/* The main tick: when a ping is due, sends WATCHDOG=1 if h->ok, or a STATUS= naming h->cause and
 * no ping. A gap since the previous tick longer than the timeout is reported once (STATUS= and
 * stderr, "main loop stalled for N ms"). Returns true when WATCHDOG=1 was sent. */
bool watchdog_tick(watchdog *w, const watchdog_health *h);

/* The store half of the health check: s is open and store_get_info() succeeds (the database
 * answers, its file system has room above the store's minimum). Fills h (ok, cause, pending). */
void watchdog_check_store(store *s, watchdog_health *h);

/* Pings sent and health checks failed so far (diagnostics and tests). */
int64_t watchdog_pings(const watchdog *w);
int64_t watchdog_failed_checks(const watchdog *w);

#endif /* TP_WATCHDOG_H */
