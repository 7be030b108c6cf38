/*
 * test_store_stats.c - unit tests of the answer store's statistics and prune (storage/store.h):
 * the maths on known data, by-day grouping across local midnight, DST and half-hour zones, the
 * rollup against a direct count over the answers, and what prune deletes and keeps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"
#include "support/store_fixture.h"

/* ---- Statistics ----------------------------------------------------------------------------- */

static void stats_math_on_known_data(void **state)
{
    struct sfx *f = *state;
    int nps[6] = {10, 10, 9, 8, 7, 6};
    int csat[5] = {5, 4, 3, 2, 4};
    int ces[4] = {7, 5, 3, 1};
    int sm[4] = {4, 3, 1, 2};
    int ch[4] = {1, 1, 2, 1}; /* staff, staff, price, staff */
    for (int i = 0; i < 6; i++)
        sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, nps[i], 0);
    sfx_rec(f->s, "exit", "sat", TP_KIND_CSAT, csat, 5, 0);
    sfx_rec(f->s, "desk", "effort", TP_KIND_CES, ces, 4, 0);
    sfx_rec(f->s, "desk", "mood", TP_KIND_SMILEY4, sm, 4, 0);
    sfx_rec(f->s, "desk", "why", TP_KIND_CHOICE, ch, 4, 0);
    /* A rapid repeat: excluded unless asked for. */
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 0, TP_FLAG_RAPID_REPEAT);

    store_stats_query q = {.from_ms = T0, .to_ms = T0 + STORE_BUCKET_MS};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 1);
    store_stats_row *r = &rows[0];
    assert_string_equal(r->key, "all");
    assert_int_equal(r->n, 23);
    assert_int_equal(r->n_kind[TP_KIND_NPS], 6);
    /* NPS: promoters 10,10,9 = 3/6, detractors 6 = 1/6 -> 33.33 */
    assert_true(fabs(r->nps - 100.0 * 2 / 6) < 1e-9);
    assert_int_equal(r->dist_nps[10], 2);
    assert_int_equal(r->dist_nps[0], 0);
    /* CSAT: 5,4,4 of 5 -> 60 % */
    assert_true(fabs(r->csat_pct - 60.0) < 1e-9);
    assert_int_equal(r->dist_csat[3], 2);
    /* CES: mean (7+5+3+1)/4 = 4, 5..7: 2 of 4 = 50 % */
    assert_true(fabs(r->ces_mean - 4.0) < 1e-9);
    assert_true(fabs(r->ces_pct_5_7 - 50.0) < 1e-9);
    /* Smiley4: 3,4 are happy: 2 of 4 */
    assert_true(fabs(r->smiley4_pct_happy - 50.0) < 1e-9);
    assert_int_equal(r->dist_smiley4[0], 1);
    /* Choices in count order. */
    assert_string_equal(r->choices[0].id, "staff");
    assert_int_equal(r->choices[0].n, 3);
    assert_string_equal(r->choices[1].id, "price");
    assert_int_equal(r->choices[1].n, 1);
    assert_int_equal(r->choices[2].n, 0);
    store_stats_free(rows);

    q.include_flagged = true;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(rows[0].n_kind[TP_KIND_NPS], 7);
    /* promoters 3/7, detractors (6, 0) 2/7 -> 14.2857 */
    assert_true(fabs(rows[0].nps - 100.0 / 7) < 1e-9);
    store_stats_free(rows);

    q.include_flagged = false;
    q.by = STORE_BY_TOUCHPOINT;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].key, "desk");
    assert_int_equal(rows[0].n, 12);
    assert_true(isnan(rows[0].nps));
    assert_string_equal(rows[1].key, "exit");
    assert_int_equal(rows[1].n, 11);
    assert_true(isnan(rows[1].ces_mean));
    store_stats_free(rows);

    q.by = STORE_BY_QUESTION;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 5);
    const char *keys[5] = {"effort", "mood", "recommend", "sat", "why"};
    for (int k = 0; k < 5; k++)
        assert_string_equal(rows[k].key, keys[k]);
    store_stats_free(rows);

    /* An empty range has no rows. */
    q.from_ms = T0 + STORE_BUCKET_MS;
    q.to_ms = T0 + 2 * STORE_BUCKET_MS;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 0);
    store_stats_free(rows);
    /* Validation. */
    q.from_ms = T0 + 1;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_ERR_INVALID);
    assert_non_null(strstr(store_errmsg(f->s), "15 minutes"));
    q.from_ms = T0;
    q.to_ms = T0 - STORE_BUCKET_MS;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_ERR_INVALID);
    q.to_ms = T0;
    q.by = (store_group)9;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_ERR_INVALID);
    assert_int_equal(store_stats(f->s, NULL, &rows, &n), TP_ERR_INVALID);
    store_stats_free(NULL);
    print_message("checked: NPS 33.33 (14.29 with the rapid repeat), CSAT 60 %%, CES mean 4 and "
                  "50 %% 5-7, smiley 50 %%, choices top order, by touchpoint/question keys, "
                  "unaligned range and bad grouping rejected\n");
}

static void stats_by_day_across_local_midnight(void **state)
{
    struct sfx *f = *state;
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    tzset();
    /* Local midnight of 2026-11-24 in UTC+7 is 2026-11-23T17:00Z. */
    int64_t midnight = T0 + 7 * HOUR_MS; /* T0 = 10:00Z */
    f->vc.wall = midnight - 15 * MIN_MS; /* 23:45 local, Nov 23 */
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 10, 0);
    f->vc.wall = midnight - 1; /* 23:59:59.999 local */
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 0, 0);
    f->vc.wall = midnight; /* 00:00 local, Nov 24 */
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    f->vc.wall = midnight + 20 * MIN_MS;
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    int64_t from = 0, to = 0;
    assert_int_equal(tp_parse_date_local("2026-11-23", &from), TP_OK);
    assert_int_equal(tp_parse_date_local("2026-11-25", &to), TP_OK);
    store_stats_query q = {.from_ms = from, .to_ms = to, .by = STORE_BY_DAY};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].key, "2026-11-23");
    assert_int_equal(rows[0].n, 2);
    assert_true(fabs(rows[0].nps - 0.0) < 1e-9); /* one promoter, one detractor */
    assert_string_equal(rows[1].key, "2026-11-24");
    assert_int_equal(rows[1].n, 2);
    assert_true(fabs(rows[1].nps - 100.0) < 1e-9);
    store_stats_free(rows);
    /* Only the 24th. */
    q.from_ms = midnight;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].key, "2026-11-24");
    store_stats_free(rows);
    print_message("checked: by-day statistics in Asia/Ho_Chi_Minh put 23:45 and 23:59:59.999 "
                  "local on 2026-11-23 and 00:00, 00:20 on 2026-11-24; from/to select days\n");
}

/* Records one answer at the given UTC time. */
static void rec_at(struct sfx *f, const char *utc, int v)
{
    struct tm tm = {0};
    assert_non_null(strptime(utc, "%Y-%m-%dT%H:%M", &tm));
    f->vc.wall = (int64_t)timegm(&tm) * 1000;
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, v, 0);
}

/* Returns the day keys and counts of a by-day query over [from, to) local dates as "k=n,...". */
static void days_of(store *s, const char *from, const char *to, char *out, size_t len)
{
    int64_t f = 0, t = 0;
    assert_int_equal(tp_parse_date_local(from, &f), TP_OK);
    assert_int_equal(tp_parse_date_local(to, &t), TP_OK);
    store_stats_query q = {.from_ms = f, .to_ms = t, .by = STORE_BY_DAY};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(s, &q, &rows, &n), TP_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s=%lld", i ? "," : "", rows[i].key,
                 (long long)rows[i].n);
    }
    store_stats_free(rows);
}

static void stats_by_day_dst_and_half_hour_zones(void **state)
{
    struct sfx *f = *state;
    char got[256];
    /* Europe/Berlin, 2026-10-25 has 25 hours (CEST -> CET at 03:00 local). */
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    rec_at(f, "2026-10-24T21:50", 9); /* 23:50 CEST, Oct 24 */
    rec_at(f, "2026-10-24T22:00", 9); /* 00:00 CEST, Oct 25 */
    rec_at(f, "2026-10-25T22:45", 9); /* 23:45 CET, Oct 25 (the 25-hour day's last bucket) */
    rec_at(f, "2026-10-25T23:00", 9); /* 00:00 CET, Oct 26 */
    days_of(f->s, "2026-10-24", "2026-10-27", got, sizeof got);
    assert_string_equal(got, "2026-10-24=1,2026-10-25=2,2026-10-26=1");
    /* Asia/Kolkata, +05:30: a local day starts at hh:30 UTC. */
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    rec_at(f, "2026-11-20T18:15", 5); /* 23:45 IST, Nov 20 */
    rec_at(f, "2026-11-20T18:30", 5); /* 00:00 IST, Nov 21 */
    days_of(f->s, "2026-11-20", "2026-11-22", got, sizeof got);
    assert_string_equal(got, "2026-11-20=1,2026-11-21=1");
    /* Asia/Kathmandu, +05:45: days start at hh:15 UTC, still on a 15-minute bucket. */
    setenv("TZ", "Asia/Kathmandu", 1);
    tzset();
    days_of(f->s, "2026-11-20", "2026-11-22", got, sizeof got);
    assert_string_equal(got, "2026-11-21=2"); /* 18:15Z and 18:30Z are 00:00, 00:15 NPT */
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    tzset();
    print_message("checked: by-day statistics follow local days across the 25-hour DST day in "
                  "Europe/Berlin and in the +05:30 (Kolkata) and +05:45 (Kathmandu) zones\n");
}

/* Direct count over the answers (not the rollup), per local day, for comparison. */
struct direct {
    int64_t day[64];
    store_stats_row row[64];
    size_t n;
    bool include_flagged;
};

static tp_err direct_cb(const store_answer *a, void *ctx)
{
    struct direct *d = ctx;
    if ((a->flags & TP_FLAG_RAPID_REPEAT) && !d->include_flagged)
        return TP_OK;
    int64_t day = tp_local_day_start(a->wall_ms, NULL);
    size_t i = 0;
    while (i < d->n && d->day[i] != day)
        i++;
    if (i == d->n) {
        assert_true(d->n < 64);
        d->day[d->n++] = day;
        memset(&d->row[i], 0, sizeof d->row[i]);
    }
    store_stats_row *r = &d->row[i];
    r->n++;
    r->n_kind[a->kind]++;
    if (a->kind == TP_KIND_NPS)
        r->dist_nps[a->value]++;
    else if (a->kind == TP_KIND_CSAT)
        r->dist_csat[a->value - 1]++;
    else if (a->kind == TP_KIND_CES)
        r->dist_ces[a->value - 1]++;
    else if (a->kind == TP_KIND_SMILEY4)
        r->dist_smiley4[a->value - 1]++;
    return TP_OK;
}

/* Compares store_stats (rollup) with a direct count over the answers; returns days compared. */
static size_t compare_with_direct(store *s, bool include_flagged)
{
    struct direct *d = calloc(1, sizeof *d);
    d->include_flagged = include_flagged;
    assert_int_equal(store_foreach_answer(s, 0, -1, direct_cb, d), TP_OK);
    store_stats_query q = {.from_ms = T0 - 60 * DAY_MS,
                           .to_ms = T0 + 60 * DAY_MS,
                           .by = STORE_BY_DAY,
                           .include_flagged = include_flagged};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, d->n);
    for (size_t i = 0; i < n; i++) {
        char key[11];
        size_t j = 0;
        for (; j < d->n; j++) {
            tp_local_day_start(d->day[j], key);
            if (strcmp(key, rows[i].key) == 0)
                break;
        }
        assert_true(j < d->n);
        const store_stats_row *e = &d->row[j];
        assert_int_equal(rows[i].n, e->n);
        assert_memory_equal(rows[i].n_kind, e->n_kind, sizeof e->n_kind);
        assert_memory_equal(rows[i].dist_nps, e->dist_nps, sizeof e->dist_nps);
        assert_memory_equal(rows[i].dist_csat, e->dist_csat, sizeof e->dist_csat);
        assert_memory_equal(rows[i].dist_ces, e->dist_ces, sizeof e->dist_ces);
        assert_memory_equal(rows[i].dist_smiley4, e->dist_smiley4, sizeof e->dist_smiley4);
    }
    store_stats_free(rows);
    free(d);
    return n;
}

/* Records random answers over days -40..+0 from T0. */
static void random_history(struct sfx *f, int sessions, unsigned seed)
{
    srand(seed);
    static const char *const tps[3] = {"exit", "desk", "cafe"};
    for (int i = 0; i < sessions; i++) {
        f->vc.wall =
            T0 - 40 * DAY_MS + (int64_t)i * (40 * DAY_MS / sessions) + (rand() % 3600) * 1000LL;
        tp_kind k = (tp_kind)(rand() % 4);
        int lo, hi;
        tp_kind_range(k, &lo, &hi);
        int v[2] = {lo + rand() % (hi - lo + 1), lo + rand() % (hi - lo + 1)};
        sfx_rec(f->s, tps[rand() % 3], k == TP_KIND_NPS ? "recommend" : "other", k, v,
                (size_t)(1 + rand() % 2), rand() % 5 == 0 ? TP_FLAG_RAPID_REPEAT : 0);
    }
    f->vc.wall = T0;
}

static void stats_rollup_equals_direct_count(void **state)
{
    struct sfx *f = *state;
    random_history(f, 400, 7);
    size_t days = compare_with_direct(f->s, false);
    assert_true(days >= 30);
    compare_with_direct(f->s, true);
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("checked: rollup-based stats by day equal a direct count over the answers "
                  "(%zu days, with and without flagged answers); store_check(full) ok\n",
                  days);
}

/* ---- Prune ---------------------------------------------------------------------------------- */

static void prune_keeps_numbering_and_stats(void **state)
{
    struct sfx *f = *state;
    random_history(f, 300, 11);
    store_info before = sfx_info(f->s);
    int64_t hi = before.highest_seq;
    /* Sync all but seqs 10..19 (pending) and 30 (rejected); export up to hi - 50. */
    int64_t *seqs = calloc((size_t)hi, sizeof *seqs);
    size_t ns = 0;
    for (int64_t q = 1; q <= hi; q++)
        if ((q < 10 || q > 19) && q != 30)
            seqs[ns++] = q;
    assert_int_equal(store_mark_synced(f->s, seqs, ns, NULL), TP_OK);
    assert_int_equal(store_mark_rejected(f->s, 30, "invalid_field", "test"), TP_OK);
    free(seqs);
    assert_int_equal(store_set_export_cursor(f->s, hi - 50), TP_OK);

    int64_t cutoff = T0 - 20 * DAY_MS;
    int64_t deleted = -1;
    assert_int_equal(store_prune(f->s, cutoff, &deleted), TP_OK);
    assert_true(deleted > 0);
    store_info after = sfx_info(f->s);
    assert_int_equal(after.highest_seq, hi);
    assert_int_equal(after.n_synced, before.n_pending - 11 - deleted);
    assert_int_equal(after.n_pending, 10);
    assert_int_equal(after.n_rejected, 1);
    /* What is left: nothing synced+exported+old remains; pending and rejected are all kept. */
    struct sfx_collect c = {0};
    int64_t kept_old_synced = 0;
    (void)kept_old_synced;
    assert_int_equal(store_foreach_answer(f->s, 0, 19, sfx_collect_cb, &c), TP_OK);
    assert_int_equal(c.n, 10); /* seqs 10..19 pending, 1..9 pruned (old, synced, exported) */
    assert_int_equal(c.seqs[0], 10);
    int64_t gaps[4][2];
    size_t ng = 9;
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &ng), TP_OK);
    assert_int_equal(ng, 0);
    compare_with_direct(f->s, false);
    compare_with_direct(f->s, true);
    assert_int_equal(store_check(f->s, true), TP_OK);
    /* Numbering continues after the highest seq, never into pruned ones. */
    f->vc.wall = T0;
    int64_t next = sfx_rec(f->s, "exit", "recommend", TP_KIND_NPS, (int[]){9}, 1, 0);
    assert_int_equal(next, hi + 1);
    /* Pruning again deletes nothing more; an event was logged. */
    assert_int_equal(store_prune(f->s, cutoff, &deleted), TP_OK);
    assert_int_equal(deleted, 0);
    store_event ev[4];
    size_t nev = 0;
    assert_int_equal(store_events(f->s, ev, 4, &nev), TP_OK);
    assert_true(nev >= 1);
    assert_non_null(strstr(ev[0].message, "pruned"));
    /* Prune everything exported and synced: still no gaps, stats still equal the answers. */
    assert_int_equal(store_prune(f->s, T0 + DAY_MS, &deleted), TP_OK);
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &ng), TP_OK);
    assert_int_equal(ng, 0);
    compare_with_direct(f->s, true);
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("checked: prune deletes only synced+exported+older answers (pending and "
                  "rejected kept), seq continues at highest+1, find_gaps sees no gap, rollup "
                  "stats still equal a direct count, counters consistent, event logged\n");
}

static void prune_drops_empty_sessions(void **state)
{
    struct sfx *f = *state;
    store_answer_in a = {"recommend", TP_KIND_NPS, 9, NULL};
    store_session_in in = sfx_session(&a, 1);
    char sid[TP_UUID_STR];
    f->vc.wall = T0 - 10 * DAY_MS;
    assert_int_equal(store_record_session(f->s, &in, sid, NULL), TP_OK);
    int64_t one = 1;
    assert_int_equal(store_mark_synced(f->s, &one, 1, NULL), TP_OK);
    assert_int_equal(store_set_export_cursor(f->s, 1), TP_OK);
    int64_t deleted = 0;
    assert_int_equal(store_prune(f->s, T0, &deleted), TP_OK);
    assert_int_equal(deleted, 1);
    in.session_id = sid;
    f->vc.wall = T0;
    assert_int_equal(store_record_session(f->s, &in, NULL, NULL), TP_ERR_NOT_FOUND);
    assert_int_equal(store_prune(NULL, 0, NULL), TP_ERR_INVALID);
    print_message("checked: pruning a session's last answer removes the session (a follow-up "
                  "to it is NOT_FOUND)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stats_math_on_known_data, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(stats_by_day_across_local_midnight, sfx_setup,
                                        sfx_teardown),
        cmocka_unit_test_setup_teardown(stats_by_day_dst_and_half_hour_zones, sfx_setup,
                                        sfx_teardown),
        cmocka_unit_test_setup_teardown(stats_rollup_equals_direct_count, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(prune_keeps_numbering_and_stats, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(prune_drops_empty_sessions, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests_name("store_stats", tests, NULL, NULL);
}
