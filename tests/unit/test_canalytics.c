/* test_canalytics.c - unit tests of the read side's arithmetic (cstat: intervals computed by
 * hand, better / worse only when the interval excludes the average, changes, ranks that skip
 * groups with too few customers), of ctz (a zone file's offsets), and of the scope of the read
 * handlers (canalytics_get with a scope on a real SQLite store: node= / store= outside it 403), and
 * of clabel (the labels of the survey versions a store holds; none for a missing one, bounded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canalytics.h"
#include "clabel.h"
#include "collector_fixture.h"
#include "cstat.h"
#include "cstore.h"
#include "ctz.h"

static void nps_interval_by_hand(void **state)
{
    (void)state;
    /* 22 promoters, 8 passives, 10 detractors: NPS 30; n' = 43, p' = 22.75/43,
     * d' = 10.75/43, var = (p' + d' - (p' - d')^2)/n', moe = 196 sqrt(var). */
    int64_t h[11] = {0};
    h[10] = 22, h[8] = 8, h[3] = 10;
    cstat_ci ci;
    cstat_nps(h, &ci);
    double p = 22.75 / 43, d = 10.75 / 43;
    double moe = 196.0 * sqrt((p + d - (p - d) * (p - d)) / 43);
    assert_true(ci.valid && ci.n == 40);
    assert_true(fabs(ci.score - 30) < 1e-9 && fabs(ci.moe - moe) < 1e-9);
    assert_true(fabs(ci.low - (30 - moe)) < 1e-9 && fabs(ci.high - (30 + moe)) < 1e-9);
    /* All promoters: the high end is clamped to 100. */
    int64_t all[11] = {0};
    all[9] = 35;
    cstat_nps(all, &ci);
    assert_true(ci.score == 100 && ci.high == 100 && ci.low < 100);
    int64_t none[11] = {0};
    cstat_nps(none, &ci);
    assert_false(ci.valid);
}

static void proportion_interval_by_hand(void **state)
{
    (void)state;
    /* CSAT 5 of 10 at 4-5: 50%, n' = 14, p' = 7/14 = 0.5, moe = 196 sqrt(0.25/14) = 26.19. */
    int64_t h[11] = {0};
    h[5] = 5, h[2] = 3, h[3] = 2;
    cstat_ci ci;
    cstat_kind(TP_KIND_CSAT, h, &ci);
    assert_true(ci.valid && ci.n == 10 && fabs(ci.score - 50) < 1e-9);
    assert_true(fabs(ci.moe - 196.0 * sqrt(0.25 / 14)) < 1e-9);
    /* 0 of 3: the interval stays within 0..100. */
    cstat_prop(0, 3, &ci);
    assert_true(ci.score == 0 && ci.low == 0 && ci.high > 0);
}

static void better_worse_only_outside_the_interval(void **state)
{
    (void)state;
    cstat_ci row = {.n = 40, .score = 30, .moe = 25, .low = 5, .high = 55, .valid = true};
    assert_int_equal(cstat_vs_average(&row, 10.9), 0); /* inside: the same */
    assert_int_equal(cstat_vs_average(&row, 4.9), 1);  /* below the low end: better */
    assert_int_equal(cstat_vs_average(&row, 55.1), -1);
    assert_int_equal(cstat_vs_average(&row, 55), 0); /* on the edge: not excluded */
    cstat_ci none = {0};
    assert_int_equal(cstat_vs_average(&none, 0), 0);
}

static void change_needs_both_intervals(void **state)
{
    (void)state;
    cstat_ci cur = {.score = 100, .moe = 10, .low = 90, .high = 100, .valid = true};
    cstat_ci prev = {.score = 0, .moe = 12, .low = -12, .high = 12, .valid = true};
    assert_int_equal(cstat_change(&cur, &prev), 1);
    assert_int_equal(cstat_change(&prev, &cur), -1);
    /* prev's score outside cur's interval, but cur's inside prev's wide one: no change. */
    cstat_ci wide = {.score = 60, .moe = 45, .low = 15, .high = 100, .valid = true};
    cstat_ci narrow = {.score = 20, .moe = 3, .low = 17, .high = 23, .valid = true};
    assert_int_equal(cstat_change(&narrow, &wide), 0);
    assert_int_equal(cstat_trend(&cur, &prev), 1); /* 100 > sqrt(10^2 + 12^2) */
    cstat_ci close = {.score = 5, .moe = 10, .low = -5, .high = 15, .valid = true};
    assert_int_equal(cstat_trend(&close, &prev), 0);
}

static void ranks_skip_too_few(void **state)
{
    (void)state;
    double score[5] = {30, 100, -100, 100, 50};
    bool ok[5] = {true, true, true, true, false}; /* the last has < 30 customers */
    int rank[5];
    cstat_rank(score, ok, 5, rank);
    assert_int_equal(rank[1], 1);
    assert_int_equal(rank[3], 1); /* equal scores share a rank */
    assert_int_equal(rank[0], 3);
    assert_int_equal(rank[2], 4);
    assert_int_equal(rank[4], 0); /* never ranked, though its score would be 3rd */
}

static void zone_offsets(void **state)
{
    (void)state;
    int off = 0;
    assert_int_equal(ctz_offset("Asia/Ho_Chi_Minh", 1796000000000LL, &off), TP_OK);
    assert_int_equal(off, 7 * 3600);
    /* Berlin: +1 in January, +2 in July (daylight saving from the zone file). */
    assert_int_equal(ctz_offset("Europe/Berlin", 1767225600000LL, &off), TP_OK); /* 2026-01-01 */
    assert_int_equal(off, 3600);
    assert_int_equal(ctz_offset("Europe/Berlin", 1782864000000LL, &off), TP_OK); /* 2026-07-01 */
    assert_int_equal(off, 7200);
    assert_int_equal(ctz_offset("Asia/Kathmandu", 1796000000000LL, &off), TP_OK);
    assert_int_equal(off, 5 * 3600 + 45 * 60);
    assert_int_equal(ctz_offset("../etc/passwd", 0, &off), TP_ERR_INVALID);
    assert_int_equal(ctz_offset("No/Such_Zone", 0, &off), TP_ERR_INVALID);
    ctz_local L;
    ctz_local_of(1796000000000LL, 7 * 3600, &L); /* 2026-11-30 00:53:20 UTC = 07:53 local */
    assert_int_equal(L.day, 20261130);
    assert_int_equal(L.month, 202611);
    assert_int_equal(L.hour, 7);
    assert_int_equal(L.dow, 0);                   /* a Monday */
    ctz_local_of(1796000000000LL, -2 * 3600, &L); /* 22:53 on Sunday the 29th, west of UTC */
    assert_int_equal(L.day, 20261129);
    assert_int_equal(L.hour, 22);
    assert_int_equal(L.dow, 6);
}

/* ---- Scope on a real store ------------------------------------------------------------------- */

typedef struct kv {
    const char *k[4], *v[4];
} kv;

static const char *lookup(void *cls, const char *key)
{
    const kv *a = cls;
    for (int i = 0; i < 4 && a->k[i]; i++)
        if (strcmp(a->k[i], key) == 0)
            return a->v[i];
    return NULL;
}

static int get_status(cstore *s, const char *url, const char *scope, const char *k, const char *v)
{
    kv a = {{k, "from"}, {v, "2026-11-01"}};
    capi_reply r = canalytics_get(s, url, scope, lookup, &a, 1796000000000LL, 3600);
    if (r.status == 403)
        assert_non_null(strstr(r.body, "\"forbidden\""));
    free(r.body);
    return r.status;
}

static void scope_forbids_outside(void **state)
{
    (void)state;
    char dir[64], err[TP_ERRMSG_MAX];
    cstore *s = NULL;
    s = fixture_store_open(dir, sizeof dir, "analytics", 2);
    cstore_tx *tx = NULL;
    assert_int_equal(cstore_tx_begin(s, true, &tx, err, sizeof err), TP_OK);
    static const char *const paths[] = {"vn",    "vn/hcm",    "vn/hcm/hcm-q1", "vn/hcm/hcm-q1/exit",
                                        "vn/hn", "vn/hn/hn-1"};
    for (size_t i = 0; i < 6; i++) {
        const char *p[1] = {paths[i]};
        assert_int_equal(cstore_tx_exec(tx,
                                        "INSERT INTO nodes(path, parent, settings_json,"
                                        " created_ms, updated_ms) VALUES ($1, NULL, '{}', 0, 0)",
                                        p, 1, NULL, err, sizeof err),
                         TP_OK);
    }
    assert_int_equal(cstore_tx_commit(tx, err, sizeof err), TP_OK);
    assert_int_equal(get_status(s, "/v1/report", "vn/hcm", "node", "vn/hn"), 403);
    assert_int_equal(get_status(s, "/v1/report", "vn/hcm", "node", "vn"), 403);
    assert_int_equal(get_status(s, "/v1/reasons", "vn/hcm", "store", "hn-1"), 403);
    assert_int_equal(get_status(s, "/v1/export.csv", "vn/hcm", "node", "vn/hn/hn-1"), 403);
    assert_int_equal(get_status(s, "/v1/heatmap", "vn/hcm/hcm-q1/exit", "touchpoint", "door"), 403);
    assert_int_equal(get_status(s, "/v1/report", "vn/hcm", "node", "vn/hcm/hcm-q1"), 200);
    assert_int_equal(get_status(s, "/v1/rankings", "vn/hcm", "store", "hcm-q1"), 200);
    assert_int_equal(get_status(s, "/v1/report", "", "node", "vn/hn"), 200);
    assert_int_equal(get_status(s, "/v1/devices", "vn/hcm", NULL, NULL), 200);
    fixture_store_close(s, dir);
}

/* ---- Labels from the stored survey versions (clabel) ------------------------------------------
 */

static const char *const label_doc =
    "{\"format\": 1, \"id\": \"sv\", \"version\": %d, \"languages\": [\"vi\", \"en\"],"
    " \"title\": {\"vi\": \"T\", \"en\": \"T\"}, \"questions\": ["
    " {\"id\": \"main\", \"kind\": \"nps\", \"prompt\": {\"vi\": \"Giới thiệu?\","
    " \"en\": \"Recommend?\"}},"
    " {\"id\": \"why\", \"kind\": \"choice\", \"prompt\": {\"vi\": \"Vì sao?\","
    " \"en\": \"Why?\"}, \"options\": [{\"id\": \"slow\", \"label\": {\"vi\":"
    " \"Chậm %d\", \"en\": \"Slow %d\"}}, {\"id\": \"rude\", \"label\": {\"vi\":"
    " \"Thô lỗ\", \"en\": \"Rude\"}}]}], \"thanks\": {\"vi\": \"C\", \"en\": \"T\"}}";

static void put_survey(cstore *s, int version, const char *doc)
{
    char err[TP_ERRMSG_MAX], ver[16], pub[24];
    cstore_tx *tx = NULL;
    snprintf(ver, sizeof ver, "%d", version);
    snprintf(pub, sizeof pub, "%d", 1000 + version);
    const char *p[3] = {ver, doc, pub};
    assert_int_equal(cstore_tx_begin(s, true, &tx, err, sizeof err), TP_OK);
    assert_int_equal(cstore_tx_exec(tx,
                                    "INSERT INTO surveys(id, version, document, published_ms,"
                                    " published_by) VALUES ('sv', $1, $2, $3, 'test')",
                                    p, 3, NULL, err, sizeof err),
                     TP_OK);
    assert_int_equal(cstore_tx_commit(tx, err, sizeof err), TP_OK);
}

static void assert_label(const clabel *l, int version, const char *q, const char *opt,
                         const char *vi, const char *en)
{
    cJSON *j = clabel_json(l, "sv", version, q, opt);
    assert_non_null(j);
    if (!vi) {
        assert_true(cJSON_IsNull(j));
    } else {
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "vi")->valuestring, vi);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "en")->valuestring, en);
    }
    cJSON_Delete(j);
}

static void labels_from_stored_versions(void **state)
{
    (void)state;
    char dir[64], err[TP_ERRMSG_MAX], doc[2048];
    cstore *s = fixture_store_open(dir, sizeof dir, "labels", 1);
    for (int v = 1; v <= 2; v++) {
        snprintf(doc, sizeof doc, label_doc, v, v, v);
        put_survey(s, v, doc);
    }
    put_survey(s, 3, "{\"format\": 99}"); /* stored, but not a survey this parser reads */
    cstore_tx *tx = NULL;
    assert_int_equal(cstore_tx_begin(s, false, &tx, err, sizeof err), TP_OK);
    clabel *l = clabel_new();
    assert_non_null(l);
    for (int v = 1; v <= 4; v++)
        assert_int_equal(clabel_load(l, tx, "sv", v, err, sizeof err), TP_OK);
    assert_int_equal(clabel_load(l, tx, "sv", 1, err, sizeof err), TP_OK); /* once */
    assert_int_equal(clabel_load(l, tx, NULL, 1, err, sizeof err), TP_OK);
    assert_label(l, 1, "why", "slow", "Chậm 1", "Slow 1");
    assert_label(l, 2, "why", "slow", "Chậm 2", "Slow 2");
    assert_label(l, 2, "why", NULL, "Vì sao?", "Why?");
    assert_label(l, 2, "why", "dirty", NULL, NULL); /* an id the version does not list */
    assert_label(l, 3, "why", "slow", NULL, NULL);  /* does not parse: no labels */
    assert_label(l, 4, "why", "slow", NULL, NULL);  /* not on the collector */
    assert_true(clabel_known(l, "sv", 2) && !clabel_known(l, "sv", 3) && !clabel_known(l, "sv", 4));
    assert_true(clabel_published_ms(l, "sv", 2) == 1002 && clabel_published_ms(l, "sv", 4) == -1);
    /* Bounded: past CLABEL_MAX_VERSIONS distinct versions, the rest have none. */
    for (int v = 5; v < CLABEL_MAX_VERSIONS + 8; v++)
        assert_int_equal(clabel_load(l, tx, "other", v, err, sizeof err), TP_OK);
    clabel_free(l);
    clabel_free(NULL);
    l = clabel_new();
    for (int v = 10; v < 10 + CLABEL_MAX_VERSIONS; v++)
        assert_int_equal(clabel_load(l, tx, "other", v, err, sizeof err), TP_OK);
    assert_int_equal(clabel_load(l, tx, "sv", 1, err, sizeof err), TP_OK);
    assert_false(clabel_known(l, "sv", 1));
    clabel_free(l);
    cstore_tx_rollback(tx);
    fixture_store_close(s, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nps_interval_by_hand),
        cmocka_unit_test(proportion_interval_by_hand),
        cmocka_unit_test(better_worse_only_outside_the_interval),
        cmocka_unit_test(change_needs_both_intervals),
        cmocka_unit_test(ranks_skip_too_few),
        cmocka_unit_test(zone_offsets),
        cmocka_unit_test(scope_forbids_outside),
        cmocka_unit_test(labels_from_stored_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
