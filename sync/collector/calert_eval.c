/*
 * calert_eval.c - the evaluator: a thread that claims alert_queue rows (PostgreSQL: FOR UPDATE
 * SKIP LOCKED, so several collectors share the queue; SQLite: the write transaction), evaluates
 * the answer rules covering each claimed (store, touchpoint) over the windows its at_ms range
 * touches, reading answers through the at_ms index, and fires in the same transaction; a queue
 * row is deleted only when its evaluation commits. Every health interval it also evaluates the
 * device rules (calert_health.c).
 *
 * With several collectors on one PostgreSQL, a transaction takes a transaction-level advisory
 * lock per (rule, touchpoint) in sorted order before evaluating it, so one collector evaluates a
 * rule's window at a time; the UNIQUE dedup_key makes it fire once in any case.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calert_eval_int.h"
#include "cfleet_int.h"

#define CLAIM_ROWS "200"
#define STEPS_MAX 50     /* claims per pass */
#define WINDOWS_MAX 2000 /* windows one unit's range may touch in one pass (a week of 5 min) */

struct calert_eval {
    cstore *s;
    const tp_clock *clk;
    char *public_url;
    unsigned interval_ms, health_ms;
    void (*wake)(void *cls); /* after alerts were committed (the owner's outbox worker) */
    void *wake_cls;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, started;
};

/* ---- Units of the claimed queue rows --------------------------------------------------------- */

typedef struct unit {
    char store[TP_ID_MAX + 1], touchpoint[TP_ID_MAX + 1], device[TP_ID_MAX + 1];
    char node[256]; /* the store node's path, once resolved */
    int64_t from_ms, to_ms;
} unit;

static int unit_cmp(const void *a, const void *b)
{
    const unit *x = a, *y = b;
    int c = strcmp(x->store, y->store);
    return c ? c : strcmp(x->touchpoint, y->touchpoint);
}

/* Merges the claimed rows into units sorted by (store, touchpoint). */
static unit *merge_units(const cstore_rows *rows, size_t *n)
{
    unit *u = calloc(rows->n ? rows->n : 1, sizeof *u);
    *n = 0;
    if (!u)
        return NULL;
    for (size_t i = 0; i < rows->n; i++) {
        unit x = {0};
        tp_strlcpy(x.device, cstore_rows_get(rows, i, 0), sizeof x.device);
        tp_strlcpy(x.store, cstore_rows_get(rows, i, 1), sizeof x.store);
        tp_strlcpy(x.touchpoint, cstore_rows_get(rows, i, 2), sizeof x.touchpoint);
        x.from_ms = strtoll(cstore_rows_get(rows, i, 3), NULL, 10);
        x.to_ms = strtoll(cstore_rows_get(rows, i, 4), NULL, 10);
        size_t k = 0;
        while (k < *n && unit_cmp(&u[k], &x) != 0)
            k++;
        if (k == *n)
            u[(*n)++] = x;
        if (x.from_ms < u[k].from_ms)
            u[k].from_ms = x.from_ms;
        if (x.to_ms > u[k].to_ms)
            u[k].to_ms = x.to_ms;
    }
    qsort(u, *n, sizeof *u, unit_cmp);
    return u;
}

/* The store node's path for an answer's store id: the depth-3 node whose last segment it is,
 * else the first three segments of the device's node. "" when neither is known. */
static tp_err store_path(cstore_tx *tx, const unit *u, char *out, size_t outlen, char *err,
                         size_t errlen)
{
    cstore_rows *rows = NULL;
    char like[TP_ID_MAX + 4];
    out[0] = '\0';
    snprintf(like, sizeof like, "%%/%s", u->store);
    tp_err rc = FX(tx, &rows, err, errlen, "SELECT path FROM nodes WHERE path LIKE $1", like);
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *p = cstore_rows_get(rows, i, 0), *a = strchr(p, '/');
        const char *b = a ? strchr(a + 1, '/') : NULL;
        if (b && !strchr(b + 1, '/') && strcmp(b + 1, u->store) == 0) {
            tp_strlcpy(out, p, outlen);
            break;
        }
    }
    cstore_rows_free(rows);
    rows = NULL;
    if (rc != TP_OK || out[0])
        return rc;
    rc = FX(tx, &rows, err, errlen, "SELECT node_path FROM fleet_devices WHERE id = $1", u->device);
    const char *p = rc == TP_OK ? cstore_rows_get(rows, 0, 0) : NULL;
    const char *a = p ? strchr(p, '/') : NULL, *b = a ? strchr(a + 1, '/') : NULL;
    if (b) {
        size_t n = (size_t)(strchrnul(b + 1, '/') - p);
        snprintf(out, outlen, "%.*s", (int)n, p);
    }
    cstore_rows_free(rows);
    return rc;
}

/* ---- Answer rules ---------------------------------------------------------------------------- */

/* Ratings of one window of the current unit, shared by the rules that use the same window. */
#define DIST_CACHE 32
typedef struct dist_entry {
    int64_t from, to;
    int64_t dist[4][11];
} dist_entry;

/* One evaluation step: its transaction, and where firings go. PostgreSQL fires in the claiming
 * transaction (under the unit's advisory lock); SQLite evaluates in a read transaction, which
 * does not hold the write lock the batches need, and fires the collected events afterwards in
 * one short write transaction that also deletes the claimed queue rows. */
typedef struct ectx {
    cstore_tx *tx;
    bool defer;
    calert_event *pend; /* deferred events (their numbers owned) */
    size_t n_pend, cap_pend;
    const char *public_url;
    int64_t now;
    int *fired;
    dist_entry cache[DIST_CACHE];
    size_t n_cache;
    void *units; /* the step's units (deferred events point into them) */
    char *err;
    size_t errlen;
} ectx;

/* Fires ev now or keeps it for the write transaction (taking ev->numbers). */
static tp_err emit(ectx *x, calert_event *ev)
{
    if (!x->defer) {
        bool f = false;
        tp_err rc = calert_fire(x->tx, ev, x->public_url, x->now, &f, x->err, x->errlen);
        *x->fired += f;
        return rc;
    }
    tp_err rc =
        tp_array_grow((void **)&x->pend, &x->cap_pend, x->n_pend + 1, sizeof *x->pend, 1u << 20);
    if (rc != TP_OK)
        return rc;
    x->pend[x->n_pend++] = *ev;
    ev->numbers = NULL;
    return TP_OK;
}

/* Counts per kind and value of the unit's ratings in [from, to). */
static tp_err window_dist(ectx *x, const unit *u, int64_t from, int64_t to, int64_t dist[4][11])
{
    cstore_tx *tx = x->tx;
    char *err = x->err;
    size_t errlen = x->errlen;
    cstore_rows *rows = NULL;
    char f[24], t[24];
    for (size_t i = 0; i < x->n_cache; i++)
        if (x->cache[i].from == from && x->cache[i].to == to) {
            memcpy(dist, x->cache[i].dist, sizeof x->cache[i].dist);
            return TP_OK;
        }
    memset(dist, 0, sizeof(int64_t) * 4 * 11);
    tp_err rc = FX(tx, &rows, err, errlen,
                   "SELECT kind, value, count(*) FROM answers WHERE at_ms >= CAST($1 AS bigint)"
                   " AND at_ms < CAST($2 AS bigint) AND store = $3 AND touchpoint = $4 AND"
                   " kind <> 'choice' GROUP BY kind, value",
                   cfleet_i64(f, from), cfleet_i64(t, to), u->store, u->touchpoint);
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        tp_kind k;
        int lo, hi,
            v = (int)strtol(cstore_rows_get(rows, i, 1) ? cstore_rows_get(rows, i, 1) : "-1", NULL,
                            10);
        if (tp_kind_parse(cstore_rows_get(rows, i, 0), &k) != TP_OK || k == TP_KIND_CHOICE ||
            tp_kind_range(k, &lo, &hi) != TP_OK || v < lo || v > hi)
            continue;
        dist[k][v] += strtoll(cstore_rows_get(rows, i, 2), NULL, 10);
    }
    cstore_rows_free(rows);
    if (rc == TP_OK) {
        dist_entry *e = &x->cache[x->n_cache < DIST_CACHE ? x->n_cache++ : DIST_CACHE - 1];
        e->from = from;
        e->to = to;
        memcpy(e->dist, dist, sizeof e->dist);
    }
    return rc;
}

static void fmt_hm(const ctz *z, int64_t ms, char out[8])
{
    int m, wd;
    ctz_local_clock(z, ms, &m, &wd);
    m = m < 0 ? 0 : m % 1440;
    snprintf(out, 8, "%02u:%02u", (unsigned)(m / 60) % 24u, (unsigned)(m % 60));
}

/* Evaluates one windowed rule over one window; fills ev's titles and numbers when it trips. */
static tp_err eval_window(ectx *x, const calert_rule *r, const unit *u, int64_t from, int64_t to,
                          calert_event *ev, bool *trips)
{
    cstore_tx *tx = x->tx;
    char *err = x->err;
    size_t errlen = x->errlen;
    int64_t dist[4][11];
    *trips = false;
    tp_err rc = TP_OK;
    const char *where = u->touchpoint;
    if (r->kind == CALERT_REASON) {
        cstore_rows *rows = NULL;
        char f[24], t[24];
        rc = FX(tx, &rows, err, errlen,
                "SELECT count(*) FROM answers WHERE at_ms >= CAST($1 AS bigint) AND at_ms <"
                " CAST($2 AS bigint) AND store = $3 AND touchpoint = $4 AND kind = 'choice' AND"
                " choice = $5 AND ($6 = '' OR question = $6)",
                cfleet_i64(f, from), cfleet_i64(t, to), u->store, u->touchpoint, r->p.choice,
                r->p.question);
        int64_t n = rc == TP_OK ? strtoll(cstore_rows_get(rows, 0, 0), NULL, 10) : 0;
        cstore_rows_free(rows);
        if (rc != TP_OK || n < r->p.min_count)
            return rc;
        cJSON_AddStringToObject(ev->numbers, "choice", r->p.choice);
        cJSON_AddNumberToObject(ev->numbers, "count", (double)n);
        cJSON_AddNumberToObject(ev->numbers, "min_count", r->p.min_count);
        snprintf(ev->title_vi, sizeof ev->title_vi, "%s: lý do \"%s\" được chọn %lld lần tại %s/%s",
                 r->name_vi, r->p.choice, (long long)n, u->store, where);
        snprintf(ev->title_en, sizeof ev->title_en, "%s: reason \"%s\" chosen %lld times at %s/%s",
                 r->name_en, r->p.choice, (long long)n, u->store, where);
        *trips = true;
        return TP_OK;
    }
    if (r->kind == CALERT_COMMENT_TAG)
        return calert_comment_window(tx, r, u->store, u->touchpoint, from, to, ev, trips, err,
                                     errlen);
    if ((rc = window_dist(x, u, from, to, dist)) != TP_OK)
        return rc;
    if (r->kind == CALERT_NEGATIVE_SHARE) {
        int64_t n = 0, neg = 0;
        for (int k = 0; k < 4; k++)
            for (int v = 0; v <= 10; v++) {
                n += dist[k][v];
                neg += calert_is_negative((tp_kind)k, v) ? dist[k][v] : 0;
            }
        double share = n ? 100.0 * (double)neg / (double)n : 0;
        if (n < r->p.min_count || share < r->p.min_share)
            return TP_OK;
        cJSON_AddNumberToObject(ev->numbers, "ratings", (double)n);
        cJSON_AddNumberToObject(ev->numbers, "negative", (double)neg);
        cJSON_AddNumberToObject(ev->numbers, "share_pct", (double)(int64_t)(share * 10 + 0.5) / 10);
        cJSON_AddNumberToObject(ev->numbers, "min_share_pct", r->p.min_share);
        snprintf(ev->title_vi, sizeof ev->title_vi,
                 "%s: %.0f%% đánh giá tiêu cực tại %s/%s (%lld/%lld)", r->name_vi, share, u->store,
                 where, (long long)neg, (long long)n);
        snprintf(ev->title_en, sizeof ev->title_en,
                 "%s: %.0f%% negative ratings at %s/%s (%lld of %lld)", r->name_en, share, u->store,
                 where, (long long)neg, (long long)n);
        *trips = true;
        return TP_OK;
    }
    /* low_score */
    double lo = 0, hi = 0, value = 0;
    int64_t n = 0;
    const char *metric = tp_kind_name(r->p.metric);
    if (r->p.metric == TP_KIND_NPS) {
        tp_nps nps;
        *trips = calert_nps_below(dist[TP_KIND_NPS], r->p.threshold, &lo, &hi);
        tp_nps_compute(dist[TP_KIND_NPS], &nps);
        value = nps.score;
        n = nps.n;
    } else {
        int vlo, vhi;
        tp_kind_range(r->p.metric, &vlo, &vhi);
        *trips =
            calert_mean_below(&dist[r->p.metric][vlo], vlo, vhi, r->p.threshold, &value, &lo, &hi);
        for (int v = vlo; v <= vhi; v++)
            n += dist[r->p.metric][v];
    }
    if (!*trips)
        return TP_OK;
    cJSON_AddStringToObject(ev->numbers, "metric", metric);
    cJSON_AddNumberToObject(ev->numbers, "n", (double)n);
    cJSON_AddNumberToObject(ev->numbers, "value", (double)(int64_t)(value * 100) / 100);
    cJSON_AddNumberToObject(ev->numbers, "ci_low", (double)(int64_t)(lo * 100) / 100);
    cJSON_AddNumberToObject(ev->numbers, "ci_high", (double)(int64_t)(hi * 100) / 100);
    cJSON_AddNumberToObject(ev->numbers, "threshold", r->p.threshold);
    snprintf(ev->title_vi, sizeof ev->title_vi, "%s: %s %.1f (95%%: %.1f..%.1f) dưới %g tại %s/%s",
             r->name_vi, metric, value, lo, hi, r->p.threshold, u->store, where);
    snprintf(ev->title_en, sizeof ev->title_en, "%s: %s %.1f (95%%: %.1f..%.1f) below %g at %s/%s",
             r->name_en, metric, value, lo, hi, r->p.threshold, u->store, where);
    return TP_OK;
}

static tp_err eval_windows(ectx *x, const calert_rule *r, const unit *u, const char *node,
                           const ctz *z)
{
    cstore_tx *tx = x->tx;
    char *err = x->err;
    size_t errlen = x->errlen;
    int64_t from, to;
    tp_err rc = TP_OK;
    calert_window(z, u->from_ms, r->p.window_min, &from, &to);
    for (int i = 0; rc == TP_OK && i < WINDOWS_MAX && from <= u->to_ms; i++) {
        calert_event ev = {.rule = r,
                           .node = node,
                           .store = u->store,
                           .touchpoint = u->touchpoint,
                           .from_ms = from,
                           .to_ms = to,
                           .dedup_at = from};
        char key[512];
        cstore_rows *rows = NULL;
        calert_dedup_key(&ev, key, sizeof key);
        rc = FX(tx, &rows, err, errlen, "SELECT 1 FROM alerts WHERE dedup_key = $1", key);
        bool done = rc == TP_OK && rows->n > 0, trips = false;
        cstore_rows_free(rows);
        if (rc == TP_OK && !done && (ev.numbers = cJSON_CreateObject()) == NULL)
            rc = TP_ERR_NOMEM;
        if (rc == TP_OK && !done)
            rc = eval_window(x, r, u, from, to, &ev, &trips);
        if (rc == TP_OK && trips) {
            char a[8], b[8];
            fmt_hm(z, from, a);
            fmt_hm(z, to, b);
            cJSON_AddStringToObject(ev.numbers, "window_local", a);
            cJSON_AddStringToObject(ev.numbers, "window_local_end", b);
            rc = emit(x, &ev);
        }
        cJSON_Delete(ev.numbers);
        calert_window(z, to, r->p.window_min, &from, &to);
    }
    return rc;
}

/* praise: a run of p.run happy ratings in a row at the touchpoint; the run's first rating is the
 * dedup point, so a run fires once however long it grows. */
static tp_err eval_praise(ectx *x, const calert_rule *r, const unit *u, const char *node)
{
    cstore_tx *tx = x->tx;
    char *err = x->err;
    size_t errlen = x->errlen;
    cstore_rows *before = NULL, *rows = NULL;
    char f[24], t[24], lim[24];
    bool carried = true; /* every earlier rating fetched was happy */
    tp_err rc = FX(tx, &before, err, errlen,
                   "SELECT kind, value, at_ms FROM answers WHERE store = $1 AND touchpoint = $2"
                   " AND at_ms < CAST($3 AS bigint) AND kind <> 'choice' ORDER BY at_ms DESC, id"
                   " DESC LIMIT CAST($4 AS bigint)",
                   u->store, u->touchpoint, cfleet_i64(f, u->from_ms), cfleet_i64(lim, r->p.run));
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, errlen,
                "SELECT kind, value, at_ms FROM answers WHERE store = $1 AND touchpoint = $2 AND"
                " at_ms >= CAST($3 AS bigint) AND at_ms <= CAST($4 AS bigint) AND"
                " kind <> 'choice' ORDER BY at_ms, id",
                u->store, u->touchpoint, f, cfleet_i64(t, u->to_ms));
    int64_t run = 0, start = 0;
    /* The run leading into the range: the earlier ratings, newest first. */
    for (size_t i = 0; rc == TP_OK && i < before->n; i++) {
        tp_kind k;
        tp_kind_parse(cstore_rows_get(before, i, 0), &k);
        if (!calert_is_happy(k, (int)strtol(cstore_rows_get(before, i, 1), NULL, 10))) {
            carried = false;
            break;
        }
        run++;
        start = strtoll(cstore_rows_get(before, i, 2), NULL, 10);
    }
    /* A run of p.run already complete before the range fired then (or starts further back). */
    bool done = carried && run >= r->p.run;
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        tp_kind k;
        int64_t at = strtoll(cstore_rows_get(rows, i, 2), NULL, 10);
        tp_kind_parse(cstore_rows_get(rows, i, 0), &k);
        if (!calert_is_happy(k, (int)strtol(cstore_rows_get(rows, i, 1), NULL, 10))) {
            run = 0;
            done = false;
            continue;
        }
        if (run++ == 0)
            start = at;
        if (run < r->p.run || done)
            continue;
        done = true;
        calert_event ev = {.rule = r,
                           .node = node,
                           .store = u->store,
                           .touchpoint = u->touchpoint,
                           .from_ms = start,
                           .to_ms = at,
                           .dedup_at = start,
                           .numbers = cJSON_CreateObject()};
        cJSON_AddNumberToObject(ev.numbers, "run", (double)run);
        snprintf(ev.title_vi, sizeof ev.title_vi, "%s: %lld đánh giá hài lòng liên tiếp tại %s/%s",
                 r->name_vi, (long long)run, u->store, u->touchpoint);
        snprintf(ev.title_en, sizeof ev.title_en, "%s: %lld happy ratings in a row at %s/%s",
                 r->name_en, (long long)run, u->store, u->touchpoint);
        rc = ev.numbers ? emit(x, &ev) : TP_ERR_NOMEM;
        cJSON_Delete(ev.numbers);
    }
    cstore_rows_free(before);
    cstore_rows_free(rows);
    return rc;
}

/* Evaluates the answer rules over the claimed rows (x->tx open). */
static tp_err evaluate(ectx *x, bool pg, const cstore_rows *rows, calert_tzcache *tzc,
                       calert_rule *rules, size_t n_rules)
{
    size_t n_units = 0;
    unit *units = merge_units(rows, &n_units);
    tp_err rc = units ? TP_OK : TP_ERR_NOMEM;
    for (size_t i = 0; rc == TP_OK && i < n_units; i++) {
        unit *u = &units[i];
        char *sp = u->node, path[400], zone[128], key[200];
        const ctz *z = NULL;
        rc = store_path(x->tx, u, sp, sizeof u->node, x->err, x->errlen);
        if (rc != TP_OK || !sp[0])
            continue; /* a store in no node: no rule covers it */
        snprintf(path, sizeof path, "%s/%s", sp, u->touchpoint);
        bool any = false;
        for (size_t k = 0; k < n_rules && !any; k++)
            any = calert_covers(rules[k].node, path);
        if (!any)
            continue;
        rc = calert_node_setting(x->tx, sp, "timezone", zone, sizeof zone, x->err, x->errlen);
        if (rc == TP_OK)
            rc = calert_tz_get(tzc, zone, &z);
        snprintf(key, sizeof key, "%s/%s", u->store, u->touchpoint);
        x->n_cache = 0;
        for (size_t k = 0; rc == TP_OK && k < n_rules; k++) {
            const calert_rule *r = &rules[k];
            if (!calert_covers(r->node, path))
                continue;
            rc = calert_lock_unit(x->tx, pg, r->id, key, x->err, x->errlen);
            if (rc == TP_OK && r->kind == CALERT_PRAISE)
                rc = eval_praise(x, r, u, sp);
            else if (rc == TP_OK)
                rc = eval_windows(x, r, u, sp, z);
        }
    }
    /* Deferred events point into units: fire them before freeing (the caller's write tx). */
    x->units = units;
    return rc;
}

/* Claims up to CLAIM_ROWS queue rows, evaluates them and fires (see ectx). *claimed: rows. */
/* With no answer rule enabled there is nothing to evaluate: the queue is only emptied, up to
 * the highest row seen, on the health timer (purge), so a collector without rules adds no write
 * transaction per batch. Rows kept meanwhile are evaluated by a rule added before the purge. */
static tp_err purge_step(cstore *s, bool purge, char *err, size_t errlen)
{
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    char top[24] = "";
    tp_err rc = TP_OK;
    if (!purge)
        return TP_OK;
    if ((rc = cstore_tx_begin(s, true, &tx, err, errlen)) != TP_OK)
        return rc;
    rc = FX0(tx, &rows, err, errlen, "SELECT max(id) FROM alert_queue");
    if (rc == TP_OK && cstore_rows_get(rows, 0, 0))
        tp_strlcpy(top, cstore_rows_get(rows, 0, 0), sizeof top);
    cstore_rows_free(rows);
    if (rc == TP_OK && top[0])
        rc = FX(tx, NULL, err, errlen, "DELETE FROM alert_queue WHERE id <= CAST($1 AS bigint)",
                top);
    if (rc == TP_OK)
        return cstore_tx_commit(tx, err, errlen);
    cstore_tx_rollback(tx);
    return rc;
}

static tp_err queue_step(cstore *s, const char *public_url, int64_t now, calert_tzcache *tzc,
                         bool purge, size_t *claimed, int *fired, bool *no_rules, char *err,
                         size_t errlen)
{
    bool pg = strcmp(cstore_kind(s), "postgresql") == 0;
    cstore_rows *rows = NULL;
    calert_rule *rules = NULL;
    size_t n_rules = 0;
    ectx x = {.defer = !pg,
              .public_url = public_url,
              .now = now,
              .fired = fired,
              .err = err,
              .errlen = errlen};
    *claimed = 0;
    tp_err rc = cstore_tx_begin(s, pg, &x.tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    rc = calert_load_rules(x.tx, false, &rules, &n_rules, err, errlen);
    *no_rules = rc == TP_OK && n_rules == 0;
    if (rc != TP_OK || n_rules == 0) {
        calert_free_rules(rules, n_rules);
        cstore_tx_rollback(x.tx);
        return rc == TP_OK ? purge_step(s, purge, err, errlen) : rc;
    }
    rc = FX0(x.tx, &rows, err, errlen,
             pg ? "DELETE FROM alert_queue WHERE id IN (SELECT id FROM alert_queue ORDER BY id"
                  " LIMIT " CLAIM_ROWS " FOR UPDATE SKIP LOCKED)"
                  " RETURNING device, store, touchpoint, from_ms, to_ms, id"
                : "SELECT device, store, touchpoint, from_ms, to_ms, id FROM alert_queue"
                  " ORDER BY id LIMIT " CLAIM_ROWS);
    if (rc == TP_OK)
        *claimed = rows->n;
    if (rc == TP_OK && rows->n > 0)
        rc = evaluate(&x, pg, rows, tzc, rules, n_rules);
    /* PostgreSQL: the claim, evaluation and firing commit together. SQLite: the read ends. */
    if (rc == TP_OK)
        rc = cstore_tx_commit(x.tx, err, errlen);
    else
        cstore_tx_rollback(x.tx);
    x.tx = NULL;
    if (rc == TP_OK && !pg && rows && rows->n > 0) {
        /* The first rows by id are claimed: ids only grow (AUTOINCREMENT), so the range holds
         * exactly them. A crash before this commit leaves them queued: evaluated again, and the
         * dedup key keeps each window to one alert. */
        char lo[24], hi[24];
        tp_strlcpy(lo, cstore_rows_get(rows, 0, 5), sizeof lo);
        tp_strlcpy(hi, cstore_rows_get(rows, rows->n - 1, 5), sizeof hi);
        rc = cstore_tx_begin(s, true, &x.tx, err, errlen);
        if (rc == TP_OK)
            rc = FX(x.tx, NULL, err, errlen,
                    "DELETE FROM alert_queue WHERE id >= CAST($1 AS bigint) AND"
                    " id <= CAST($2 AS bigint)",
                    lo, hi);
        x.defer = false;
        for (size_t i = 0; rc == TP_OK && i < x.n_pend; i++)
            rc = emit(&x, &x.pend[i]);
        if (rc == TP_OK)
            rc = cstore_tx_commit(x.tx, err, errlen);
        else if (x.tx)
            cstore_tx_rollback(x.tx);
    }
    for (size_t i = 0; i < x.n_pend; i++)
        cJSON_Delete(x.pend[i].numbers);
    free(x.pend);
    free(x.units);
    calert_free_rules(rules, n_rules);
    cstore_rows_free(rows);
    return rc;
}

tp_err calert_eval_pass(cstore *s, const char *public_url, int64_t now_ms, bool health, int *fired,
                        bool *no_rules, char *err, size_t errlen)
{
    calert_tzcache tzc = {0};
    size_t claimed = 0;
    tp_err rc = TP_OK;
    bool none = false;
    *fired = 0;
    /* Bounded, so the health rules still run while batches keep coming. */
    int steps = 0;
    do
        rc = queue_step(s, public_url, now_ms, &tzc, health, &claimed, fired, &none, err, errlen);
    while (rc == TP_OK && claimed > 0 && ++steps < STEPS_MAX);
    if (rc == TP_OK && health)
        rc = calert_health_pass(s, public_url, now_ms, &tzc, fired, err, errlen);
    calert_tzcache_clear(&tzc);
    if (no_rules)
        *no_rules = none;
    return rc;
}

/* ---- The thread ------------------------------------------------------------------------------ */

static void *run(void *arg)
{
    calert_eval *e = arg;
    int64_t next_health = 0;
    bool idle = false; /* no answer rule at the last look: the queue waits for the health tick */
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        pthread_mutex_unlock(&e->mu);
        char err[TP_ERRMSG_MAX];
        int fired = 0;
        int64_t now = e->clk->wall_ms(e->clk->ctx);
        bool health = now >= next_health;
        tp_err rc = TP_OK;
        if (health)
            next_health = now + e->health_ms;
        /* Without rules a store transaction every interval only competes with the batches
         * (measured: multi-second /healthz stalls under a connection flood with ASan), so an
         * idle evaluator looks again on the health tick; a rule added meanwhile sees the rows
         * queued since. */
        if (health || !idle)
            rc = calert_eval_pass(e->s, e->public_url, now, health, &fired, &idle, err, sizeof err);
        if (rc != TP_OK)
            fprintf(stderr, "touchpoint-collector: alert evaluation: %s (retried)\n", err);
        if (fired > 0 && e->wake) /* new outbox rows (a wake after a rollback is harmless) */
            e->wake(e->wake_cls);
        pthread_mutex_lock(&e->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)e->interval_ms * 1000000;
        ts.tv_sec += (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        if (!e->stop)
            pthread_cond_timedwait(&e->cv, &e->mu, &ts);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

tp_err calert_eval_start(cstore *s, const tp_clock *clk, const char *public_url,
                         unsigned interval_ms, unsigned health_ms, void (*wake)(void *cls),
                         void *wake_cls, calert_eval **out, char *err, size_t errlen)
{
    calert_eval *e = calloc(1, sizeof *e);
    *out = NULL;
    if (!e || (public_url && !(e->public_url = strdup(public_url)))) {
        free(e);
        return TP_ERR_NOMEM;
    }
    e->s = s;
    e->wake = wake;
    e->wake_cls = wake_cls;
    e->clk = clk ? clk : tp_clock_system();
    e->interval_ms = interval_ms ? interval_ms : 1000;
    e->health_ms = health_ms ? health_ms : 30000;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    if (pthread_create(&e->thread, NULL, run, e) != 0) {
        calert_eval_stop(e);
        return tp_errf(err, errlen, TP_ERR_NOMEM, "cannot start the alert evaluator thread");
    }
    e->started = true;
    *out = e;
    return TP_OK;
}

void calert_eval_stop(calert_eval *e)
{
    if (!e)
        return;
    if (e->started) {
        pthread_mutex_lock(&e->mu);
        e->stop = true;
        pthread_cond_signal(&e->cv);
        pthread_mutex_unlock(&e->mu);
        pthread_join(e->thread, NULL);
    }
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e->public_url);
    free(e);
}
