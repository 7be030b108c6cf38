/*
 * calert_eval_int.h - what the queue evaluator (calert_eval.c) and the device-health pass
 * (calert_health.c) share: rule loading, coverage, inherited node settings, a per-pass cache of
 * time zones, and the PostgreSQL per-unit lock.
 */
#ifndef TP_CALERT_EVAL_INT_H
#define TP_CALERT_EVAL_INT_H

#include "calert_int.h"

#define CALERT_TZCACHE_MAX 32

typedef struct calert_tzcache {
    char name[CALERT_TZCACHE_MAX][128];
    ctz *tz[CALERT_TZCACHE_MAX];
    size_t n;
} calert_tzcache;

/* Enabled rules of the device kinds (device_kinds) or of the answer kinds into *out (free with
 * calert_free_rules). Unreadable rows are skipped with a message. */
tp_err calert_load_rules(cstore_tx *tx, bool device_kinds, calert_rule **out, size_t *n, char *err,
                         size_t errlen);
void calert_free_rules(calert_rule *v, size_t n);

/* Whether a rule on rule_node covers path (the node itself or its subtree). */
bool calert_covers(const char *rule_node, const char *path);

/* The value of settings key on path's deepest node that sets it (strings as is, other JSON as
 * text); "" when none does. */
tp_err calert_node_setting(cstore_tx *tx, const char *path, const char *key, char *out,
                           size_t outlen, char *err, size_t errlen);

/* The zone named (""= the collector's), loaded once per pass; borrowed from c. */
tp_err calert_tz_get(calert_tzcache *c, const char *zone, const ctz **out);
void calert_tzcache_clear(calert_tzcache *c);

/* PostgreSQL: a transaction-level advisory lock on (rule, unit); SQLite: nothing to do. */
tp_err calert_lock_unit(cstore_tx *tx, bool pg, const char *rule, const char *unit, char *err,
                        size_t errlen);

/* The device rules over every fleet device under their nodes, in one transaction. */
tp_err calert_health_pass(cstore *s, const char *public_url, int64_t now_ms, calert_tzcache *tzc,
                          int *fired, char *err, size_t errlen);

/* Whether opening_hours ("always", "" or {"mon": "07:00-22:00" | "closed", ...}) has the store
 * open at local (weekday 0 = Monday, minute of day); *open_min is the opening minute of the
 * current interval (0 for always). A closing time at or before the opening one runs past
 * midnight. */
bool calert_open_at(const char *opening_hours, int weekday, int minute, int *open_min);

#endif /* TP_CALERT_EVAL_INT_H */
