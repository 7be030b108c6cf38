/*
 * calert_int.h - internals shared by the alert files: the rule as the evaluator holds it, the
 * firing transaction (calert_fire.c), and the ingest hooks each backend calls.
 */
#ifndef TP_CALERT_INT_H
#define TP_CALERT_INT_H

#include <libpq-fe.h>
#include <sqlite3.h>

#include "calert.h"

/* The ingest transaction's hooks: one alert_queue row per unit of b's accepted answers.
 * calert_queue_sqlite returns an SQLite result code (SQLITE_OK); calert_queue_pg TP_OK or
 * TP_ERR_BUSY / TP_ERR_NOMEM with err. */
int calert_queue_sqlite(sqlite3 *db, const cbatch *b, const unsigned char *outcomes,
                        int64_t now_ms);
tp_err calert_queue_pg(PGconn *c, const cbatch *b, const unsigned char *outcomes, int64_t now_ms,
                       char *err, size_t errlen);

/* A rule as evaluated. */
typedef struct calert_rule {
    char id[TP_UUID_STR];
    char node[256];
    calert_kind kind;
    char name_vi[256], name_en[256];
    calert_params p;
    int64_t cooldown_ms;
    cJSON *endpoints; /* array of endpoint names (owned) */
} calert_rule;

/* What fires: the unit (store/touchpoint or device), its window, titles and numbers. */
typedef struct calert_event {
    const calert_rule *rule;
    const char *node, *store, *touchpoint, *device; /* NULL when not applicable */
    int64_t from_ms, to_ms; /* the window (device rules: the episode's start and now) */
    int64_t dedup_at;       /* the window or episode start in the dedup key */
    char title_vi[512], title_en[512];
    cJSON *numbers; /* borrowed */
} calert_event;

/* Writes the alert of ev unless its dedup key exists or the rule's cooldown holds for the unit;
 * then its case, the case's "open" event and one outbox row per endpoint, in tx. Sets *fired.
 * Returns TP_OK or the store's error. */
tp_err calert_fire(cstore_tx *tx, const calert_event *ev, const char *public_url, int64_t now_ms,
                   bool *fired, char *err, size_t errlen);

/* comment_tag over [from, to) of (store, touchpoint) (calert_comment.c): sets *trips and fills
 * ev's titles and numbers (tag, count, min_count, newest_comment id) when at least min_count
 * comments carry the rule's tag. Returns TP_OK or the store's error. */
tp_err calert_comment_window(cstore_tx *tx, const calert_rule *r, const char *store,
                             const char *touchpoint, int64_t from, int64_t to, calert_event *ev,
                             bool *trips, char *err, size_t errlen);

/* The dedup key of ev (out: 400 bytes). */
void calert_dedup_key(const calert_event *ev, char *out, size_t outlen);

/* alert.test: one outbox row of kind "test" per endpoint of the rule (a RULE_COLS row); *ids
 * (cJSON array, cJSON_Delete) their ids. Returns TP_OK or the store's error. */
tp_err calert_write_test(cstore_tx *tx, const cstore_rows *rule, int64_t now_ms, cJSON **ids,
                         char *err, size_t errlen);

/* Fills r from a RULE_COLS row. Returns TP_OK or TP_ERR_CORRUPT (a bad stored row). */
tp_err calert_rule_from_row(const cstore_rows *rows, size_t row, calert_rule *r);
void calert_rule_clear(calert_rule *r);

/* The columns of alert_rules every reader selects, in this order. */
#define CALERT_RULE_COLS                                                                           \
    "id, node_path, kind, name_vi, name_en, params_json, cooldown_s, endpoints_json, enabled,"     \
    " created_ms, updated_ms"

#endif /* TP_CALERT_INT_H */
