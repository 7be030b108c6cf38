/*
 * calert.h - alert rules (issue 13): the rule model and its parameters, window math in a store's
 * time zone, the confidence-interval tests, the batch queue written in the ingest transaction,
 * the evaluator thread (queue + device-health timer) that fires alerts, and the `alert`
 * operations behind the CLI and /v1/admin/alert-rules.
 *
 * A rule is attached to a node of the organisation tree and covers its subtree. Answer rules
 * (negative_share, low_score, reason, praise) are evaluated per touchpoint (store, touchpoint)
 * over windows aligned on the store's local midnight; device rules per device under the node.
 * An alert's dedup_key is "rule|unit|window start": a window fires at most once, whichever
 * collector evaluates it. Firing writes, in one transaction, the alert, its case (open) with a
 * case_events "open" row, and one outbox row per endpoint of the rule (sync/PROTOCOL.md, CONTRACT).
 *
 * Thread-safety: the pure functions are reentrant; calert_eval runs its own thread; the op
 * functions run inside the caller's transaction.
 */
#ifndef TP_CALERT_H
#define TP_CALERT_H

#include <cjson/cJSON.h>

#include "cstore.h"
#include "ctz.h"

typedef enum calert_kind {
    CALERT_NEGATIVE_SHARE = 0,
    CALERT_LOW_SCORE,
    CALERT_REASON,
    CALERT_PRAISE,
    CALERT_DEVICE_SILENT,
    CALERT_DEVICE_PENDING_AGE,
    CALERT_DEVICE_SEQ_HOLES,
    CALERT_DEVICE_CLOCK,
    CALERT_DEVICE_DISK,
    CALERT_DEVICE_CONFIG_ERROR,
    CALERT_COMMENT_TAG, /* comments (issue 15) carrying a tag, evaluated per touchpoint window */
    CALERT_KIND_COUNT
} calert_kind;

/* Returns the kind's name ("negative_share", ...). */
const char *calert_kind_name(calert_kind k);

/* Parses a kind name. Returns TP_OK or TP_ERR_INVALID (err lists the kinds). */
tp_err calert_kind_parse(const char *name, calert_kind *out, char *err, size_t errlen);

/* True for the device-health kinds (evaluated by the timer, per device). */
bool calert_kind_is_device(calert_kind k);

#define CALERT_TAG_MAX 16

/* A rule's parameters with their defaults applied (which fields a kind uses: calert.c's table). */
typedef struct calert_params {
    double min_share;             /* negative_share: percent of negative ratings (50) */
    int window_min;               /* negative_share 15, low_score 60, reason 60: minutes */
    int min_count;                /* negative_share: ratings at least (4); reason: K times (5) */
    tp_kind metric;               /* low_score: nps | csat | ces */
    double threshold;             /* low_score: NPS points, or the mean on the metric's scale */
    char choice[TP_ID_MAX + 1];   /* reason: the choice id */
    char question[TP_ID_MAX + 1]; /* reason: its question ("" = any) */
    int run;                      /* praise: happy ratings in a row (10) */
    int minutes;                  /* device_silent 30, device_pending_age 60: T */
    int64_t min_free_mb;          /* device_disk: below this many MB free (200) */
    int min_missing;              /* device_seq_holes: missing seqs at least (1) */
    char tag[CALERT_TAG_MAX];     /* comment_tag: a ctag category ("urgent"; "staff" = any name) */
} calert_params;

/* Parses params (a JSON object or NULL) for kind k, applying defaults; unknown keys and bad
 * values are refused with a message naming "$.params.<field>" and the cause. Numbers may be
 * given as JSON numbers or strings ("50"). Returns TP_OK or TP_ERR_INVALID. */
tp_err calert_params_parse(calert_kind k, const cJSON *params, calert_params *out, char *err,
                           size_t errlen);

/* The parameters kind k uses, as a JSON object (cJSON_Delete). NULL when out of memory. */
cJSON *calert_params_json(calert_kind k, const calert_params *p);

/* Whether rating v of kind k counts as negative (NPS 0-6, CSAT 1-2, CES 1-3, smiley4 1-2) or as
 * happy (NPS 9-10, CSAT 4-5, CES 5-7, smiley4 3-4, the report's top boxes). */
bool calert_is_negative(tp_kind k, int v);
bool calert_is_happy(tp_kind k, int v);

/* ---- Windows (calert_window.c) -------------------------------------------------------------- */

/* The window of minutes (1..1440) containing at_ms: windows start at local midnight and every
 * `minutes` of elapsed time after it; the day's last window ends at the next local midnight. */
void calert_window(const ctz *z, int64_t at_ms, int minutes, int64_t *from_ms, int64_t *to_ms);

/* ---- Interval tests (calert_window.c) ---------------------------------------------------------
 */

/* NPS of dist below threshold with its whole 95% interval: the adjusted-Wald interval of
 * tp_nps_compute (centre 100 (p' - d'), margin moe). Writes the interval; returns true when its
 * upper end is below threshold. */
bool calert_nps_below(const int64_t dist[11], double threshold, double *lo, double *hi);

/* The mean of ratings lo_v..hi_v (dist[v - lo_v] = count) below threshold with its whole 95%
 * interval: a normal interval mean' +- 1.96 s'/sqrt(n') over the answers plus one pseudo-answer
 * at each end of the scale (as adjusted Wald adds pseudo-counts), so a few identical answers
 * never give a zero-width interval. Writes the raw mean and the interval; returns true when the
 * upper end is below threshold (never for n == 0). */
bool calert_mean_below(const int64_t *dist, int lo_v, int hi_v, double threshold, double *mean,
                       double *lo, double *hi);

/* ---- The batch queue (calert_queue.c), called from each backend's ingest transaction ----------
 */

/* One (store, touchpoint) of a batch's accepted answers with their at_ms range. */
typedef struct calert_unit {
    const char *store, *touchpoint; /* borrowed from the batch */
    int64_t from_ms, to_ms;
} calert_unit;

/* The units of b's accepted answers (outcomes[i] == CBATCH_ACCEPTED). Returns the count written
 * to out (room for b->n_answers); a batch holds few units, so the scan is linear in units. */
size_t calert_queue_units(const cbatch *b, const unsigned char *outcomes, calert_unit *out);

/* ---- Comment tags (calert_comment.c) ---------------------------------------------------------
 */

/* Called from the comment's transaction (ccomment.c) after a comment with at least one tag is
 * stored: one alert_queue row for its (device, store, touchpoint) at at_ms, so the evaluator
 * runs the comment_tag rules over it and a crash loses nothing (the row commits or rolls back
 * with the comment). A comment outside any store (store "") queues nothing. Returns TP_OK or
 * the store's error. */
tp_err calert_queue_comment(cstore_tx *tx, const char *device, const char *store,
                            const char *touchpoint, int64_t at_ms, char *err, size_t errlen);

/* ---- Evaluator (calert_eval.c) --------------------------------------------------------------- */

typedef struct calert_eval calert_eval;

/* Starts the evaluator thread: every interval_ms (0: 1000) it claims queue rows and evaluates the
 * answer rules over them, and every health_ms (0: 30000) the device rules. public_url (copied;
 * NULL: none) makes the dashboard links. wake (may be NULL) is called with wake_cls on the
 * evaluator's thread after a pass committed alerts (their outbox rows): the owner wakes the
 * outbox worker with it (cdeliver_wake), so delivery does not wait for the worker's poll.
 * Returns TP_OK and *out (calert_eval_stop) or an error. */
tp_err calert_eval_start(cstore *s, const tp_clock *clk, const char *public_url,
                         unsigned interval_ms, unsigned health_ms, void (*wake)(void *cls),
                         void *wake_cls, calert_eval **out, char *err, size_t errlen);

/* Stops the thread (a pass in progress finishes) and frees e. NULL is a no-op. */
void calert_eval_stop(calert_eval *e);

/* One pass on the calling thread: the queue until it is empty (at most 50 claims), then the
 * device rules when health is true. Sets *fired to the alerts written and *no_rules (may be
 * NULL) when no answer rule is enabled (the queue is then only purged, when health is true).
 * Returns TP_OK or the store's error (queue rows of a failed transaction stay queued). */
tp_err calert_eval_pass(cstore *s, const char *public_url, int64_t now_ms, bool health, int *fired,
                        bool *no_rules, char *err, size_t errlen);

/* ---- Operations (calert.c): cfleet_call's "alert.*" ops, inside its transaction -------------- */

/* alert.add {node, kind, name_vi, name_en, params?, cooldown_s?, endpoints?: [name]} -> the rule;
 * alert.list {} -> [rule]; alert.remove / alert.disable / alert.enable {id};
 * alert.test {id} -> {rule, outbox: [id], endpoints: n} (writes kind "test" outbox rows).
 * Each change writes its audit row. Errors name the JSON field ("$.params.min_share: ..."). */
tp_err calert_op(cstore_tx *tx, const char *op, const char *actor, const cJSON *args,
                 int64_t now_ms, cJSON **result, char *err, size_t errlen);

/* ---- CLI (calert_cli.c) ---------------------------------------------------------------------- */

/* Whether argv is an `alert ...` command. */
bool calert_cli_is(int argc, char **argv);

/* Runs `touchpoint-collector alert add|list|test|remove|disable|enable`. Returns the exit
 * status (0 ok, 1 failed, 2 usage). */
int calert_cli_main(int argc, char **argv);

#endif /* TP_CALERT_H */
