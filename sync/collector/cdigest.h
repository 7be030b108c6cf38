/*
 * cdigest.h - digests (issue 13, sync/PROTOCOL.md 14.6): a daily or weekly e-mail per node scope
 * and recipient endpoint with the period's numbers (computed by creport, the code of
 * GET /v1/report), the change against the previous period, the active cases, the silent devices,
 * and the period's answers as a CSV attachment; written to the outbox (kind digest) for the
 * outbox worker to send.
 *
 * Each (digest, period) goes out once: the digest_runs row (primary key digest_id, period_key)
 * is inserted in the same transaction as the outbox row, so two collectors on one store, or the
 * scheduler and a send-now, cannot both send it.
 *
 * Thread-safety: any thread (each call takes its own store transaction); the scheduler is one
 * thread per collector.
 */
#ifndef TP_CDIGEST_H
#define TP_CDIGEST_H

#include <cjson/cJSON.h>

#include "cstore.h"
#include "ctz.h"

#define CDIGEST_KEY_MAX 16 /* bytes of a period key with its NUL ("2026-W49", "2026-12-05") */
#define CDIGEST_REASONS 5  /* follow-up reasons listed */
#define CDIGEST_CASES 20   /* active cases listed */
#define CDIGEST_CLOSE_DELAY_MIN 15     /* a daily digest goes out this long after closing */
#define CDIGEST_NO_HOURS_MIN (23 * 60) /* ... or at 23:00 on a day without opening hours */
#define CDIGEST_WEEKLY_HOUR 8          /* a weekly digest goes out on Monday at 08:00 local */

typedef enum cdigest_period {
    CDIGEST_DAILY = 0,
    CDIGEST_WEEKLY = 1,
} cdigest_period;

/* ---- Periods (pure; cdigest_period.c) ------------------------------------------------------- */

/* Parses "daily" or "weekly". Returns TP_OK or TP_ERR_INVALID. */
tp_err cdigest_period_parse(const char *s, cdigest_period *out);
const char *cdigest_period_name(cdigest_period p);

/* The key of the period holding UTC ms in z: "YYYY-MM-DD" (local day) or "YYYY-Www" (ISO week). */
void cdigest_period_key(const ctz *z, cdigest_period p, int64_t ms, char key[CDIGEST_KEY_MAX]);

/* The UTC range [*from_ms, *to_ms) of the period named key in z. Returns TP_OK or
 * TP_ERR_INVALID (a key that is not a date, or a week, of that period's form). */
tp_err cdigest_period_range(const ctz *z, cdigest_period p, const char *key, int64_t *from_ms,
                            int64_t *to_ms);

/* The key of the period before key (same form). Returns TP_OK or TP_ERR_INVALID. */
tp_err cdigest_period_prev(const ctz *z, cdigest_period p, const char *key,
                           char prev[CDIGEST_KEY_MAX]);

/* The closing time of a day, in minutes after its local midnight, from the opening_hours setting
 * (NULL, "always", or {"mon": "HH:MM-HH:MM" | "closed", ...}); wday 0 = Sunday. A range ending
 * past midnight ("18:00-02:00") closes the next day (> 1440). Returns -1 when the day has no
 * hours (closed, always open, unset). */
int cdigest_closing_min(const cJSON *opening_hours, int wday);

/* When the period key is due, in UTC ms: daily, the day's closing + CDIGEST_CLOSE_DELAY_MIN (or
 * CDIGEST_NO_HOURS_MIN without hours); weekly, the Monday after the week at CDIGEST_WEEKLY_HOUR.
 * Returns TP_OK or TP_ERR_INVALID (bad key). */
tp_err cdigest_due_ms(const ctz *z, cdigest_period p, const char *key, const cJSON *opening_hours,
                      int64_t *due_ms);

/* The latest period due at now_ms (its due time <= now_ms): the key in key. */
void cdigest_latest_due(const ctz *z, cdigest_period p, const cJSON *opening_hours, int64_t now_ms,
                        char key[CDIGEST_KEY_MAX]);

/* The last complete period at now_ms (the one before the period holding now_ms). */
void cdigest_last_complete(const ctz *z, cdigest_period p, int64_t now_ms,
                           char key[CDIGEST_KEY_MAX]);

/* ---- Operations (cdigest.c) ----------------------------------------------------------------- */

/* digest.act inside tx (cfleet_call's write transaction): args {"action": "add" | "remove" |
 * "send-now", ...} (PROTOCOL.md 14.6). Writes an audit row naming actor. Returns TP_OK and
 * *result (cJSON_Delete); TP_ERR_INVALID, TP_ERR_NOT_FOUND, TP_ERR_EXISTS (a period already
 * sent: 409) or a store error, with err. */
tp_err cdigest_act(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                   cJSON **result, char *err, size_t errlen);

/* digest.list inside tx. Returns TP_OK and *result (an array) or a store error. */
tp_err cdigest_list(cstore_tx *tx, int64_t now_ms, cJSON **result, char *err, size_t errlen);

/* Sends digest id for period key inside tx: claims (id, key) in digest_runs, builds the e-mail
 * and writes the outbox row. silent_after_s: a device without a batch for longer is silent.
 * Returns TP_OK and *result ({"digest_id", "period_key", "outbox_id", "from_ms", "to_ms"});
 * TP_ERR_EXISTS when that period was already sent; TP_ERR_NOT_FOUND; or a store error. */
tp_err cdigest_send(cstore_tx *tx, const char *id, const char *key, int64_t now_ms,
                    int silent_after_s, cJSON **result, char *err, size_t errlen);

/* ---- Scheduler (cdigest_sched.c) ------------------------------------------------------------ */

typedef struct cdigest_sched cdigest_sched;

/* Starts the scheduler thread: every tick_s seconds (first after 2 s) it sends each digest's
 * latest due period not sent yet. clock: wall time (borrowed; outlives the scheduler). Returns
 * TP_OK and *out (stop with cdigest_sched_stop) or TP_ERR_NOMEM. */
tp_err cdigest_sched_start(cstore *s, const tp_clock *clock, int silent_after_s, int tick_s,
                           cdigest_sched **out);

/* One pass of the scheduler (also for tests): returns the number of digests sent. */
int cdigest_sched_run(cstore *s, int64_t now_ms, int silent_after_s);

/* Stops the thread (waking it) and frees d. NULL is a no-op. */
void cdigest_sched_stop(cdigest_sched *d);

#endif /* TP_CDIGEST_H */
