/*
 * store_stats.c - statistics (from the 15-minute rollup), store_info, integrity and gap checks,
 * and retention (prune) of the answer store.
 *
 * Statistics read the rollup table, not the answers: a month is ~3,000 buckets, so a month of a
 * million answers costs a few thousand to a few hundred thousand small rows, and the rollup is
 * updated in the same transaction as every insert and every prune, so it always equals the
 * stored answers. Buckets are summed into local days in C (localtime_r per day boundary), which
 * handles DST and half-hour zones because every zone offset is a multiple of 15 minutes.
 */
#include "store_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- Helpers -------------------------------------------------------------------------------- */

static tp_err prep(store *s, const char *sql, sqlite3_stmt **st)
{
    int sr = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (sr != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return store_sqlfail(s, sr, "preparing a query");
    }
    return TP_OK;
}

/* ---- Info ----------------------------------------------------------------------------------- */

static int64_t file_size(const char *path, const char *suffix)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s%s", path, suffix);
    return stat(p, &st) == 0 ? (int64_t)st.st_size : 0;
}

tp_err store_get_info(store *s, store_info *out)
{
    if (!s)
        return TP_ERR_INVALID;
    if (!out)
        return store_fail(s, TP_ERR_INVALID, "get_info: out is required");
    memset(out, 0, sizeof *out);
    tp_strlcpy(out->path, s->path, sizeof out->path);
    out->schema_version = s->schema_version;
    sqlite3_stmt *st = NULL;
    tp_err rc = store_tx_begin(s, false);
    if (rc != TP_OK)
        return rc;
    /* Every figure comes from the meta row (counters kept in the same transactions that change
     * states) or from the first entry of the pending partial index: no scan of the answers. */
    if ((rc = prep(s,
                   "SELECT epoch, device_id, next_seq, epoch_first_seq, export_cursor, n_pending, "
                   "n_synced, n_rejected, recovered_from FROM meta WHERE id = 1",
                   &st)) != TP_OK)
        return store_fail_rollback(s, rc);
    int sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        const char *e = (const char *)sqlite3_column_text(st, 0);
        const char *d = (const char *)sqlite3_column_text(st, 1);
        const char *r = (const char *)sqlite3_column_text(st, 8);
        tp_strlcpy(out->epoch, e ? e : "", sizeof out->epoch);
        tp_strlcpy(out->device_id, d ? d : "", sizeof out->device_id);
        tp_strlcpy(out->recovered_from, r ? r : "", sizeof out->recovered_from);
        out->highest_seq = sqlite3_column_int64(st, 2) - 1;
        out->epoch_first_seq = sqlite3_column_int64(st, 3);
        out->export_cursor = sqlite3_column_int64(st, 4);
        out->n_pending = sqlite3_column_int64(st, 5);
        out->n_synced = sqlite3_column_int64(st, 6);
        out->n_rejected = sqlite3_column_int64(st, 7);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sr != SQLITE_ROW)
        return store_fail_rollback(
            s, store_sqlfail(s, sr == SQLITE_DONE ? SQLITE_CORRUPT : sr, "get_info: meta row"));
    if ((rc = prep(s,
                   "SELECT wall FROM answers INDEXED BY answers_pending WHERE state = 0 "
                   "ORDER BY seq LIMIT 1",
                   &st)) != TP_OK)
        return store_fail_rollback(s, rc);
    sr = sqlite3_step(st);
    if (sr == SQLITE_ROW)
        out->oldest_pending_ms = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sr != SQLITE_ROW && sr != SQLITE_DONE)
        return store_fail_rollback(s, store_sqlfail(s, sr, "get_info: oldest pending"));
    rc = store_tx_commit(s);
    if (rc != TP_OK)
        return rc;
    /* Answers above the cursor are never pruned (prune needs exported), and seqs have no holes,
     * so the count is arithmetic. A recovered epoch's cursor starts at epoch_first_seq - 1. */
    int64_t base = out->export_cursor > out->epoch_first_seq - 1 ? out->export_cursor
                                                                 : out->epoch_first_seq - 1;
    out->n_not_exported = out->highest_seq > base ? out->highest_seq - base : 0;
    out->db_bytes = file_size(s->path, "") + file_size(s->path, "-wal");
    int64_t fb = store_free_bytes(s);
    out->free_bytes = fb > 0 ? fb : 0;
    return TP_OK;
}

/* ---- Check and gaps ------------------------------------------------------------------------- */

tp_err store_check(store *s, bool full)
{
    if (!s)
        return TP_ERR_INVALID;
    const char *pragma = full ? "PRAGMA integrity_check(20)" : "PRAGMA quick_check(20)";
    sqlite3_stmt *st = NULL;
    char problems[TP_ERRMSG_MAX - 64] = "";
    size_t used = 0;
    int rows = 0;
    bool ok = false;
    tp_err rc = prep(s, pragma, &st);
    if (rc != TP_OK)
        return rc;
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (!t)
            t = "?";
        if (rows++ == 0 && strcmp(t, "ok") == 0)
            ok = true;
        if (used + 4 < sizeof problems) {
            int w = snprintf(problems + used, sizeof problems - used, "%s%s", used ? "; " : "", t);
            if (w > 0)
                used += (size_t)w < sizeof problems - used ? (size_t)w : sizeof problems - used - 1;
        }
    }
    sqlite3_finalize(st);
    if (sr != SQLITE_DONE)
        return store_sqlfail(s, sr, pragma);
    if (!ok || rows != 1) {
        store_mark_suspect(s);
        return store_fail(s, TP_ERR_CORRUPT, "%s failed: %s", pragma, problems);
    }
    if (!s->readonly)
        store_clear_suspect(s);
    if (!full)
        return TP_OK;

    /* The full check also proves the store's own invariants: counters equal the states, next_seq
     * is above every seq, and the rollup equals the answers it summarises. */
    static const char *const inv[][2] = {
        {"SELECT (SELECT n_pending FROM meta) = (SELECT count(*) FROM answers WHERE state = 0) "
         "AND (SELECT n_synced FROM meta) = (SELECT count(*) FROM answers WHERE state = 1) "
         "AND (SELECT n_rejected FROM meta) = (SELECT count(*) FROM answers WHERE state = 2)",
         "the state counters in meta differ from the answers"},
        {"SELECT coalesce((SELECT max(seq) FROM answers), 0) < (SELECT next_seq FROM meta)",
         "an answer has a seq at or above next_seq"},
        {"SELECT (SELECT coalesce(sum(n), 0) FROM rollup) = (SELECT count(*) FROM answers)",
         "the statistics rollup differs from the answers"},
    };
    for (size_t i = 0; i < sizeof inv / sizeof inv[0]; i++) {
        if ((rc = prep(s, inv[i][0], &st)) != TP_OK)
            return rc;
        sr = sqlite3_step(st);
        int good = sr == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
        sqlite3_finalize(st);
        if (sr != SQLITE_ROW)
            return store_sqlfail(s, sr, "checking invariants");
        if (!good)
            return store_fail(s, TP_ERR_CORRUPT, "store check failed: %s", inv[i][1]);
    }
    return TP_OK;
}

tp_err store_find_gaps(store *s, int64_t (*gaps)[2], size_t max, size_t *n)
{
    if (!s)
        return TP_ERR_INVALID;
    if (!n || (max > 0 && !gaps))
        return store_fail(s, TP_ERR_INVALID, "find_gaps: gaps and n are required");
    *n = 0;
    int64_t first = 0, next = 0;
    sqlite3_stmt *meta = NULL, *ans = NULL, *pr = NULL;
    tp_err rc = store_tx_begin(s, false);
    if (rc != TP_OK)
        return rc;
    if ((rc = prep(s, "SELECT epoch_first_seq, next_seq FROM meta WHERE id = 1", &meta)) != TP_OK)
        goto out;
    if (sqlite3_step(meta) == SQLITE_ROW) {
        first = sqlite3_column_int64(meta, 0);
        next = sqlite3_column_int64(meta, 1);
    }
    /* Walk the present seqs and the pruned ranges together, both in seq order; whatever between
     * epoch_first_seq and highest_seq neither covers is a gap. */
    if ((rc = prep(s, "SELECT seq FROM answers WHERE seq >= ?1 ORDER BY seq", &ans)) != TP_OK ||
        (rc = prep(s, "SELECT lo, hi FROM pruned ORDER BY lo", &pr)) != TP_OK)
        goto out;
    sqlite3_bind_int64(ans, 1, first);
    int64_t expect = first;
    int ar = sqlite3_step(ans), prr = sqlite3_step(pr);
    while (ar == SQLITE_ROW || prr == SQLITE_ROW) {
        int64_t lo, hi;
        bool take_pruned =
            prr == SQLITE_ROW &&
            (ar != SQLITE_ROW || sqlite3_column_int64(pr, 0) <= sqlite3_column_int64(ans, 0));
        if (take_pruned) {
            lo = sqlite3_column_int64(pr, 0);
            hi = sqlite3_column_int64(pr, 1);
            prr = sqlite3_step(pr);
        } else {
            lo = hi = sqlite3_column_int64(ans, 0);
            ar = sqlite3_step(ans);
        }
        if (lo > expect) {
            if (*n < max) {
                gaps[*n][0] = expect;
                gaps[*n][1] = lo - 1;
                (*n)++;
            }
        }
        if (hi + 1 > expect)
            expect = hi + 1;
    }
    if ((ar != SQLITE_DONE) || (prr != SQLITE_DONE)) {
        rc = store_sqlfail(s, ar != SQLITE_DONE ? ar : prr, "find_gaps: reading seqs");
        goto out;
    }
    if (expect <= next - 1 && *n < max) {
        gaps[*n][0] = expect;
        gaps[*n][1] = next - 1;
        (*n)++;
    }
out:
    sqlite3_finalize(meta);
    sqlite3_finalize(ans);
    sqlite3_finalize(pr);
    if (rc == TP_OK)
        return store_tx_commit(s);
    return store_fail_rollback(s, rc);
}

/* ---- Prune ---------------------------------------------------------------------------------- */

#define PRUNE_CHUNK 2000

struct prune_row {
    int64_t seq, sess, tp, q, kind, val, flags, wall;
};

/* Deletes one chunk of prunable answers in one transaction. *done gets how many. */
static tp_err prune_chunk(store *s, int64_t older_than_ms, struct prune_row *rows, int64_t *done)
{
    sqlite3_stmt *sel = NULL, *del = NULL, *sess = NULL, *sessdel = NULL, *roll = NULL,
                 *rolldel = NULL, *grow = NULL, *addr = NULL, *meta = NULL;
    size_t n = 0;
    *done = 0;
    tp_err rc = store_tx_begin(s, true);
    if (rc != TP_OK)
        return rc;
    /* Synced AND exported (seq <= export_cursor) AND older: the three conditions of retention. */
    if ((rc = prep(s,
                   "SELECT a.seq, a.sess, s.tp, a.q, a.kind, a.val, a.flags, a.wall "
                   "FROM answers AS a JOIN sessions AS s ON s.id = a.sess "
                   "WHERE a.seq <= (SELECT export_cursor FROM meta WHERE id = 1) "
                   "AND a.state = 1 AND a.wall < ?1 ORDER BY a.seq LIMIT ?2",
                   &sel)) != TP_OK)
        goto out;
    sqlite3_bind_int64(sel, 1, older_than_ms);
    sqlite3_bind_int(sel, 2, PRUNE_CHUNK);
    int sr;
    while ((sr = sqlite3_step(sel)) == SQLITE_ROW && n < PRUNE_CHUNK) {
        struct prune_row *r = &rows[n++];
        r->seq = sqlite3_column_int64(sel, 0);
        r->sess = sqlite3_column_int64(sel, 1);
        r->tp = sqlite3_column_int64(sel, 2);
        r->q = sqlite3_column_int64(sel, 3);
        r->kind = sqlite3_column_int64(sel, 4);
        r->val = sqlite3_column_int64(sel, 5);
        r->flags = sqlite3_column_int64(sel, 6);
        r->wall = sqlite3_column_int64(sel, 7);
    }
    if (sr != SQLITE_DONE && sr != SQLITE_ROW) {
        rc = store_sqlfail(s, sr, "prune: selecting answers");
        goto out;
    }
    sqlite3_reset(sel);
    if (n == 0)
        goto out;
    if ((rc = prep(s, "DELETE FROM answers WHERE seq = ?1", &del)) != TP_OK ||
        (rc = prep(s, "UPDATE sessions SET n = n - 1 WHERE id = ?1", &sess)) != TP_OK ||
        (rc = prep(s, "DELETE FROM sessions WHERE id = ?1 AND n <= 0", &sessdel)) != TP_OK ||
        (rc = prep(s,
                   "DELETE FROM rollup WHERE bucket = ?1 AND tp = ?2 AND q = ?3 AND kind = ?4 "
                   "AND val = ?5 AND excl = ?6 AND n <= 0",
                   &rolldel)) != TP_OK ||
        (rc = prep(s, "UPDATE pruned SET hi = ?2 WHERE hi = ?1 - 1", &grow)) != TP_OK ||
        (rc = prep(s, "INSERT INTO pruned(lo, hi) VALUES (?1, ?2)", &addr)) != TP_OK ||
        (rc = prep(s, "UPDATE meta SET n_synced = n_synced - ?1 WHERE id = 1", &meta)) != TP_OK)
        goto out;
    int64_t lo = rows[0].seq, hi = rows[0].seq;
    for (size_t i = 0; i <= n; i++) {
        /* Flush a contiguous range of deleted seqs into pruned (extending the previous range). */
        if (i == n || rows[i].seq != hi + 1) {
            if (i > 0) {
                sqlite3_reset(grow);
                sqlite3_bind_int64(grow, 1, lo);
                sqlite3_bind_int64(grow, 2, hi);
                if ((sr = sqlite3_step(grow)) != SQLITE_DONE)
                    goto sqlerr;
                if (sqlite3_changes(s->db) == 0) {
                    sqlite3_reset(addr);
                    sqlite3_bind_int64(addr, 1, lo);
                    sqlite3_bind_int64(addr, 2, hi);
                    if ((sr = sqlite3_step(addr)) != SQLITE_DONE)
                        goto sqlerr;
                }
            }
            if (i == n)
                break;
            lo = rows[i].seq;
        }
        hi = rows[i].seq;
        const struct prune_row *r = &rows[i];
        int64_t bucket = store_bucket_of(r->wall);
        int excl = (r->flags & TP_FLAG_RAPID_REPEAT) ? 1 : 0;
        roll = store_stmt(s, ST_ROLLUP_ADD);
        if (!roll) {
            rc = TP_ERR_INTERNAL;
            goto out;
        }
        sqlite3_bind_int64(roll, 1, bucket);
        sqlite3_bind_int64(roll, 2, r->tp);
        sqlite3_bind_int64(roll, 3, r->q);
        sqlite3_bind_int64(roll, 4, r->kind);
        sqlite3_bind_int64(roll, 5, r->val);
        sqlite3_bind_int(roll, 6, excl);
        sqlite3_bind_int(roll, 7, -1);
        sr = sqlite3_step(roll);
        sqlite3_reset(roll);
        if (sr != SQLITE_DONE)
            goto sqlerr;
        sqlite3_reset(rolldel);
        sqlite3_bind_int64(rolldel, 1, bucket);
        sqlite3_bind_int64(rolldel, 2, r->tp);
        sqlite3_bind_int64(rolldel, 3, r->q);
        sqlite3_bind_int64(rolldel, 4, r->kind);
        sqlite3_bind_int64(rolldel, 5, r->val);
        sqlite3_bind_int(rolldel, 6, excl);
        if ((sr = sqlite3_step(rolldel)) != SQLITE_DONE)
            goto sqlerr;
        sqlite3_reset(del);
        sqlite3_bind_int64(del, 1, r->seq);
        if ((sr = sqlite3_step(del)) != SQLITE_DONE)
            goto sqlerr;
        sqlite3_reset(sess);
        sqlite3_bind_int64(sess, 1, r->sess);
        if ((sr = sqlite3_step(sess)) != SQLITE_DONE)
            goto sqlerr;
        sqlite3_reset(sessdel);
        sqlite3_bind_int64(sessdel, 1, r->sess);
        if ((sr = sqlite3_step(sessdel)) != SQLITE_DONE)
            goto sqlerr;
    }
    sqlite3_bind_int64(meta, 1, (int64_t)n);
    if ((sr = sqlite3_step(meta)) != SQLITE_DONE)
        goto sqlerr;
    *done = (int64_t)n;
    goto out;
sqlerr:
    rc = store_sqlfail(s, sr, "prune");
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    sqlite3_finalize(sess);
    sqlite3_finalize(sessdel);
    sqlite3_finalize(rolldel);
    sqlite3_finalize(grow);
    sqlite3_finalize(addr);
    sqlite3_finalize(meta);
    if (rc != TP_OK) {
        *done = 0;
        return store_fail_rollback(s, rc);
    }
    return store_tx_commit(s);
}

tp_err store_prune(store *s, int64_t older_than_ms, int64_t *deleted)
{
    if (!s)
        return TP_ERR_INVALID;
    if (deleted)
        *deleted = 0;
    if (s->readonly)
        return store_fail(s, TP_ERR_READONLY, "prune: the store was opened read-only");
    struct prune_row *rows = malloc(PRUNE_CHUNK * sizeof *rows);
    if (!rows)
        return store_fail(s, TP_ERR_NOMEM, "prune: out of memory");
    /* Chunks of PRUNE_CHUNK answers, each its own transaction: the kiosk can record between
     * them, and an interruption leaves a consistent, partly pruned store. */
    int64_t total = 0, done = 0;
    tp_err rc;
    do {
        rc = prune_chunk(s, older_than_ms, rows, &done);
        total += done;
    } while (rc == TP_OK && done == PRUNE_CHUNK);
    free(rows);
    if (deleted)
        *deleted = total;
    if (rc == TP_OK && total > 0 && s->schema_version >= 2) {
        char msg[160], when[32];
        tp_format_utc(older_than_ms, when, sizeof when);
        snprintf(msg, sizeof msg, "pruned %lld synced and exported answers recorded before %s",
                 (long long)total, when);
        rc = store_log_event(s, "info", msg);
    }
    return rc;
}

/* ---- Statistics ----------------------------------------------------------------------------- */

struct choice_count {
    int64_t id, n;
};

struct group {
    int64_t gkey;
    store_stats_row row;
    struct choice_count *ch;
    size_t n_ch, cap_ch;
};

/* Bounds of one statistics query: groups (days, touchpoints or questions in the range) and
 * distinct choice ids per group. Far above any real survey; past them the query fails. */
#define STATS_MAX_GROUPS 1000000
#define STATS_MAX_CHOICES 100000

struct groups {
    struct group *g;
    size_t n, cap;
    size_t last; /* index of the last group hit: rollup rows come clustered by bucket */
};

static struct group *group_get(struct groups *gs, int64_t gkey)
{
    if (gs->n > gs->last && gs->g[gs->last].gkey == gkey)
        return &gs->g[gs->last];
    for (size_t i = 0; i < gs->n; i++)
        if (gs->g[i].gkey == gkey) {
            gs->last = i;
            return &gs->g[i];
        }
    void *arr = gs->g;
    tp_err rc = tp_array_grow(&arr, &gs->cap, gs->n + 1, sizeof *gs->g, STATS_MAX_GROUPS);
    gs->g = arr;
    if (rc != TP_OK)
        return NULL;
    struct group *g = &gs->g[gs->n];
    memset(g, 0, sizeof *g);
    g->gkey = gkey;
    gs->last = gs->n++;
    return g;
}

static bool choice_add(struct group *g, int64_t id, int64_t n)
{
    for (size_t i = 0; i < g->n_ch; i++)
        if (g->ch[i].id == id) {
            g->ch[i].n += n;
            return true;
        }
    void *arr = g->ch;
    tp_err rc = tp_array_grow(&arr, &g->cap_ch, g->n_ch + 1, sizeof *g->ch, STATS_MAX_CHOICES);
    g->ch = arr;
    if (rc != TP_OK)
        return false;
    g->ch[g->n_ch++] = (struct choice_count){id, n};
    return true;
}

static int cmp_choice(const void *a, const void *b)
{
    const struct choice_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const store_stats_row *)a)->key, ((const store_stats_row *)b)->key);
}

static double pct(int64_t part, int64_t all)
{
    return all > 0 ? 100.0 * (double)part / (double)all : NAN;
}

/* Derives the percentages and means of a row from its distributions. */
static void finish_row(store_stats_row *r)
{
    tp_nps nps;
    tp_nps_compute(r->dist_nps, &nps);
    r->nps = nps.n > 0 ? nps.score : NAN;
    r->csat_pct = pct(r->dist_csat[3] + r->dist_csat[4], r->n_kind[TP_KIND_CSAT]);
    int64_t ces_sum = 0, ces_hi = 0;
    for (int v = 1; v <= 7; v++) {
        ces_sum += v * r->dist_ces[v - 1];
        if (v >= 5)
            ces_hi += r->dist_ces[v - 1];
    }
    r->ces_mean =
        r->n_kind[TP_KIND_CES] > 0 ? (double)ces_sum / (double)r->n_kind[TP_KIND_CES] : NAN;
    r->ces_pct_5_7 = pct(ces_hi, r->n_kind[TP_KIND_CES]);
    r->smiley4_pct_happy = pct(r->dist_smiley4[2] + r->dist_smiley4[3], r->n_kind[TP_KIND_SMILEY4]);
}

static void groups_free(struct groups *gs)
{
    for (size_t i = 0; i < gs->n; i++)
        free(gs->g[i].ch);
    free(gs->g);
}

tp_err store_stats(store *s, const store_stats_query *q, store_stats_row **rows, size_t *n)
{
    if (!s)
        return TP_ERR_INVALID;
    if (rows)
        *rows = NULL;
    if (n)
        *n = 0;
    if (!q || !rows || !n)
        return store_fail(s, TP_ERR_INVALID, "stats: query, rows and n are required");
    if (q->from_ms % STORE_BUCKET_MS != 0 || q->to_ms % STORE_BUCKET_MS != 0)
        return store_fail(s, TP_ERR_INVALID,
                          "stats: from_ms %lld and to_ms %lld must be multiples of 15 minutes "
                          "(900000 ms)",
                          (long long)q->from_ms, (long long)q->to_ms);
    if (q->to_ms < q->from_ms)
        return store_fail(s, TP_ERR_INVALID, "stats: to_ms %lld is before from_ms %lld",
                          (long long)q->to_ms, (long long)q->from_ms);
    if (q->by < STORE_BY_NONE || q->by > STORE_BY_QUESTION)
        return store_fail(s, TP_ERR_INVALID, "stats: grouping %d is not known", (int)q->by);

    struct groups gs = {0};
    sqlite3_stmt *st = NULL;
    store_stats_row *out = NULL;
    tp_err rc = store_tx_begin(s, false);
    if (rc != TP_OK)
        return rc;
    if ((rc = prep(s,
                   "SELECT bucket, tp, q, kind, val, excl, n FROM rollup "
                   "WHERE bucket >= ?1 AND bucket < ?2",
                   &st)) != TP_OK)
        goto out;
    sqlite3_bind_int64(st, 1, q->from_ms / STORE_BUCKET_MS);
    sqlite3_bind_int64(st, 2, q->to_ms / STORE_BUCKET_MS);
    int64_t day_lo = 1, day_hi = 0; /* [day_lo, day_hi): the local day of the last bucket */
    char day[11] = "";
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t bucket = sqlite3_column_int64(st, 0);
        int64_t tp = sqlite3_column_int64(st, 1);
        int64_t qid = sqlite3_column_int64(st, 2);
        int kind = sqlite3_column_int(st, 3);
        int64_t val = sqlite3_column_int64(st, 4);
        int excl = sqlite3_column_int(st, 5);
        int64_t cnt = sqlite3_column_int64(st, 6);
        if ((excl && !q->include_flagged) || cnt <= 0 || kind < 0 || kind >= TP_KIND_COUNT)
            continue;
        int64_t gkey = 0;
        if (q->by == STORE_BY_DAY) {
            int64_t ms = bucket * STORE_BUCKET_MS;
            if (ms < day_lo || ms >= day_hi) {
                /* localtime_r only at day boundaries; +25 h from a day start always lands in
                 * the next local day, whatever DST does. */
                day_lo = tp_local_day_start(ms, day);
                day_hi = tp_local_day_start(day_lo + 25 * 3600 * 1000LL, NULL);
            }
            gkey = day_lo;
        } else if (q->by == STORE_BY_TOUCHPOINT) {
            gkey = tp;
        } else if (q->by == STORE_BY_QUESTION) {
            gkey = qid;
        }
        struct group *g = group_get(&gs, gkey);
        if (!g) {
            rc = store_fail(s, TP_ERR_NOMEM, "stats: out of memory");
            goto out;
        }
        store_stats_row *r = &g->row;
        if (!r->key[0]) {
            if (q->by == STORE_BY_DAY)
                tp_strlcpy(r->key, day, sizeof r->key);
            else if (q->by == STORE_BY_NONE)
                tp_strlcpy(r->key, "all", sizeof r->key);
            else
                tp_strlcpy(r->key, store_name_get(s, gkey), sizeof r->key);
        }
        r->n += cnt;
        r->n_kind[kind] += cnt;
        switch ((tp_kind)kind) {
        case TP_KIND_NPS:
            if (val >= 0 && val <= 10)
                r->dist_nps[val] += cnt;
            break;
        case TP_KIND_CSAT:
            if (val >= 1 && val <= 5)
                r->dist_csat[val - 1] += cnt;
            break;
        case TP_KIND_CES:
            if (val >= 1 && val <= 7)
                r->dist_ces[val - 1] += cnt;
            break;
        case TP_KIND_SMILEY4:
            if (val >= 1 && val <= 4)
                r->dist_smiley4[val - 1] += cnt;
            break;
        case TP_KIND_CHOICE:
            if (!choice_add(g, val, cnt)) {
                rc = store_fail(s, TP_ERR_NOMEM, "stats: out of memory");
                goto out;
            }
            break;
        }
    }
    if (sr != SQLITE_DONE) {
        rc = store_sqlfail(s, sr, "stats: reading the rollup");
        goto out;
    }
    out = calloc(gs.n ? gs.n : 1, sizeof *out);
    if (!out) {
        rc = store_fail(s, TP_ERR_NOMEM, "stats: out of memory");
        goto out;
    }
    for (size_t i = 0; i < gs.n; i++) {
        struct group *g = &gs.g[i];
        if (g->n_ch > 1)
            qsort(g->ch, g->n_ch, sizeof *g->ch, cmp_choice);
        for (size_t c = 0; c < g->n_ch && c < STORE_CHOICE_TOP; c++) {
            tp_strlcpy(g->row.choices[c].id, store_name_get(s, g->ch[c].id),
                       sizeof g->row.choices[c].id);
            g->row.choices[c].n = g->ch[c].n;
        }
        finish_row(&g->row);
        out[i] = g->row;
    }
    if (gs.n > 1)
        qsort(out, gs.n, sizeof *out, cmp_row);
out:
    sqlite3_finalize(st);
    if (rc == TP_OK) {
        rc = store_tx_commit(s);
    } else {
        store_fail_rollback(s, rc);
    }
    if (rc == TP_OK) {
        *rows = out;
        *n = gs.n;
    } else {
        free(out);
    }
    groups_free(&gs);
    return rc;
}

void store_stats_free(store_stats_row *rows)
{
    free(rows);
}
