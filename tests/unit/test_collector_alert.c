/* test_collector_alert.c - unit tests of the alert rules' pure parts (calert.h): windows aligned
 * on local midnight in a store's zone (Asia/Ho_Chi_Minh across midnight; Europe/Berlin on the
 * 23- and 25-hour days of its DST changes; expected instants computed with Python's zoneinfo),
 * parameter parsing with defaults and errors naming the field, the interval tests of low_score
 * (three answers never trip it), negative/happy scales, opening hours, and the batch's queue
 * units. The rules against a real collector: tests/integration/test_alerts.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "calert.h"
#include "calert_eval_int.h"

static ctz *zone(const char *name)
{
    char err[TP_ERRMSG_MAX];
    ctz *z = NULL;
    assert_int_equal(ctz_load(name, &z, err, sizeof err), TP_OK);
    return z;
}

static void window_hcm_midnight(void **state)
{
    (void)state;
    ctz *z = zone("Asia/Ho_Chi_Minh");
    int64_t from, to;
    /* 2026-12-05 23:50 local: 25-minute windows end the day with [23:45, 24:00). */
    calert_window(z, 1796489400000LL, 25, &from, &to);
    assert_int_equal(from, 1796489100000LL);
    assert_int_equal(to, 1796490000000LL);
    /* 00:02 the next day: [00:00, 00:25), a new day's first window. */
    calert_window(z, 1796490120000LL, 25, &from, &to);
    assert_int_equal(from, 1796490000000LL);
    assert_int_equal(to, 1796490000000LL + 25 * 60000);
    assert_int_equal(ctz_local_midnight(z, 1796489400000LL), 1796490000000LL - 86400000LL);
    assert_int_equal(ctz_offset_at(z, 1796489400000LL), 7 * 3600);
    int minute, wd;
    ctz_local_clock(z, 1796490120000LL, &minute, &wd); /* Sunday 2026-12-06 00:02 */
    assert_int_equal(minute, 2);
    assert_int_equal(wd, 6);
    ctz_free(z);
}

static void window_berlin_dst(void **state)
{
    (void)state;
    ctz *z = zone("Europe/Berlin");
    int64_t from, to;
    /* 2026-03-29 (23 hours): 01:30Z is 03:30 CEST; windows count from 00:00 CET (23:00Z). */
    assert_int_equal(ctz_local_midnight(z, 1774747800000LL), 1774738800000LL);
    calert_window(z, 1774747800000LL, 60, &from, &to);
    assert_int_equal(from, 1774746000000LL); /* 03:00 CEST */
    assert_int_equal(to, 1774746000000LL + 3600000);
    assert_int_equal(ctz_offset_at(z, 1774747800000LL), 7200);
    /* The day's last window ends at the next midnight, 23 hours later. */
    calert_window(z, 1774821600000LL - 60000, 60, &from, &to);
    assert_int_equal(to, 1774821600000LL);
    /* 2026-10-25 (25 hours): 22:30Z is 23:30 CET, window [22:00Z, 23:00Z = midnight). */
    calert_window(z, 1792967400000LL, 60, &from, &to);
    assert_int_equal(from, 1792965600000LL);
    assert_int_equal(to, 1792969200000LL);
    assert_int_equal(ctz_local_midnight(z, 1792967400000LL), 1792879200000LL);
    ctz_free(z);
}

static void tz_errors(void **state)
{
    (void)state;
    char err[TP_ERRMSG_MAX];
    ctz *z = NULL;
    assert_int_equal(ctz_load("Mars/Olympus", &z, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "Mars/Olympus"));
    assert_int_equal(ctz_load("UTC", &z, err, sizeof err), TP_OK);
    assert_int_equal(ctz_offset_at(z, 1796489400000LL), 0);
    ctz_free(z);
    /* The collector's zone from a POSIX TZ rule (no zone file): a fallback, never an error. */
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", "ICT-7", 1);
    assert_int_equal(ctz_load(NULL, &z, err, sizeof err), TP_OK);
    ctz_free(z);
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    assert_int_equal(ctz_load("", &z, err, sizeof err), TP_OK);
    assert_int_equal(ctz_offset_at(z, 1796489400000LL), 7 * 3600);
    ctz_free(z);
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    free(saved);
}

static cJSON *js(const char *text)
{
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    return o;
}

/* Parses text for kind k; returns the error (static) or NULL. */
static const char *parse(calert_kind k, const char *text, calert_params *p)
{
    static char err[TP_ERRMSG_MAX];
    cJSON *o = text ? js(text) : NULL;
    tp_err rc = calert_params_parse(k, o, p, err, sizeof err);
    cJSON_Delete(o);
    return rc == TP_OK ? NULL : err;
}

static void params_defaults_and_errors(void **state)
{
    (void)state;
    calert_params p;
    assert_null(parse(CALERT_NEGATIVE_SHARE, NULL, &p));
    assert_true(p.min_share == 50 && p.window_min == 15 && p.min_count == 4);
    assert_null(parse(CALERT_NEGATIVE_SHARE, "{\"min_share\":\"66.5\",\"window_minutes\":30}", &p));
    assert_true(p.min_share == 66.5 && p.window_min == 30 && p.min_count == 4);
    assert_null(parse(CALERT_REASON, "{\"choice\":\"slow\"}", &p));
    assert_true(p.min_count == 5 && p.window_min == 60 && strcmp(p.choice, "slow") == 0);
    assert_null(parse(CALERT_PRAISE, NULL, &p));
    assert_int_equal(p.run, 10);
    assert_null(parse(CALERT_DEVICE_PENDING_AGE, NULL, &p));
    assert_int_equal(p.minutes, 60);
    assert_null(parse(CALERT_LOW_SCORE, "{\"metric\":\"ces\",\"threshold\":\"4.5\"}", &p));
    assert_true(p.metric == TP_KIND_CES && p.threshold == 4.5 && p.window_min == 60);

    assert_string_equal(parse(CALERT_NEGATIVE_SHARE, "{\"min_share\":150}", &p),
                        "$.params.min_share: expected a number in 1..100");
    assert_string_equal(parse(CALERT_NEGATIVE_SHARE, "{\"window_minutes\":7.5}", &p),
                        "$.params.window_minutes: expected a whole number in 1..1440");
    assert_string_equal(parse(CALERT_NEGATIVE_SHARE, "{\"run\":3}", &p),
                        "$.params.run: not a parameter of kind negative_share");
    assert_string_equal(parse(CALERT_REASON, "{}", &p), "$.params.choice: missing (the choice id)");
    assert_string_equal(parse(CALERT_REASON, "{\"choice\":\"a b\"}", &p),
                        "$.params.choice: expected an id (1-64 of A-Z a-z 0-9 . _ -)");
    assert_non_null(
        strstr(parse(CALERT_LOW_SCORE, "{\"metric\":\"nps\"}", &p), "$.params.threshold: missing"));
    assert_string_equal(parse(CALERT_LOW_SCORE, "{\"metric\":\"smiley4\",\"threshold\":1}", &p),
                        "$.params.metric: expected nps, csat or ces");
    assert_string_equal(parse(CALERT_LOW_SCORE, "{\"metric\":\"csat\",\"threshold\":7}", &p),
                        "$.params.threshold: expected a mean in 1..5 for csat (not 7)");
    assert_string_equal(parse(CALERT_DEVICE_DISK, "[1]", &p), "$.params: expected an object");

    char err[TP_ERRMSG_MAX];
    calert_kind k;
    assert_int_equal(calert_kind_parse("device_silent", &k, err, sizeof err), TP_OK);
    assert_int_equal(k, CALERT_DEVICE_SILENT);
    assert_true(calert_kind_is_device(k) && !calert_kind_is_device(CALERT_PRAISE));
    assert_int_equal(calert_kind_parse("nope", &k, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "$.kind"));

    /* The JSON form lists the kind's parameters only, with their values. */
    assert_null(parse(CALERT_NEGATIVE_SHARE, NULL, &p));
    cJSON *o = calert_params_json(CALERT_NEGATIVE_SHARE, &p);
    char *t = cJSON_PrintUnformatted(o);
    assert_string_equal(t, "{\"min_share\":50,\"window_minutes\":15,\"min_count\":4}");
    free(t);
    cJSON_Delete(o);
}

/* comment_tag (issue 15 item 5): tag, min_count, window_minutes with defaults; errors name the
 * field. */
static void params_comment_tag(void **state)
{
    (void)state;
    calert_params p;
    char err[TP_ERRMSG_MAX];
    calert_kind k;
    assert_int_equal(calert_kind_parse("comment_tag", &k, err, sizeof err), TP_OK);
    assert_int_equal(k, CALERT_COMMENT_TAG);
    assert_false(calert_kind_is_device(k));
    assert_null(parse(CALERT_COMMENT_TAG, NULL, &p));
    assert_true(p.min_count == 1 && p.window_min == 60 && strcmp(p.tag, "urgent") == 0);
    assert_null(parse(CALERT_COMMENT_TAG,
                      "{\"tag\":\"staff\",\"min_count\":\"3\",\"window_minutes\":30}", &p));
    assert_true(p.min_count == 3 && p.window_min == 30 && strcmp(p.tag, "staff") == 0);
    assert_string_equal(parse(CALERT_COMMENT_TAG, "{\"tag\":\"angry\"}", &p),
                        "$.params.tag: expected urgent, profanity, praise, staff, spam or"
                        " nonsense");
    assert_string_equal(parse(CALERT_COMMENT_TAG, "{\"tag\":5}", &p),
                        "$.params.tag: expected urgent, profanity, praise, staff, spam or"
                        " nonsense");
    assert_string_equal(parse(CALERT_COMMENT_TAG, "{\"min_count\":0}", &p),
                        "$.params.min_count: expected a whole number in 1..100000");
    assert_string_equal(parse(CALERT_COMMENT_TAG, "{\"window_minutes\":2000}", &p),
                        "$.params.window_minutes: expected a whole number in 1..1440");
    assert_string_equal(parse(CALERT_COMMENT_TAG, "{\"min_share\":50}", &p),
                        "$.params.min_share: not a parameter of kind comment_tag");
    assert_string_equal(parse(CALERT_NEGATIVE_SHARE, "{\"tag\":\"urgent\"}", &p),
                        "$.params.tag: not a parameter of kind negative_share");
    assert_null(parse(CALERT_COMMENT_TAG, "{\"tag\":\"praise\"}", &p));
    cJSON *o = calert_params_json(CALERT_COMMENT_TAG, &p);
    char *t = cJSON_PrintUnformatted(o);
    assert_string_equal(t, "{\"window_minutes\":60,\"min_count\":1,\"tag\":\"praise\"}");
    free(t);
    cJSON_Delete(o);
}

static void interval_below_threshold(void **state)
{
    (void)state;
    double lo, hi, mean;
    int64_t nps[11] = {0};
    nps[0] = 3; /* three zeros: NPS -100, but the interval reaches above 0 */
    assert_false(calert_nps_below(nps, 0, &lo, &hi));
    assert_true(hi > 0 && lo < -100 + 60);
    nps[0] = 16;
    nps[8] = 4; /* NPS -80 of 20 */
    assert_true(calert_nps_below(nps, 0, &lo, &hi));
    assert_true(hi < 0);
    assert_false(calert_nps_below(nps, -60, &lo, &hi)); /* the interval reaches -60 */
    int64_t none[11] = {0};
    assert_false(calert_nps_below(none, 100, &lo, &hi));

    int64_t csat[5] = {3, 0, 0, 0, 0}; /* three 1s */
    assert_false(calert_mean_below(csat, 1, 5, 3, &mean, &lo, &hi));
    assert_true(mean == 1 && hi > 3);
    int64_t csat2[5] = {9, 3, 0, 0, 0}; /* mean 1.25 of 12 */
    assert_true(calert_mean_below(csat2, 1, 5, 3, &mean, &lo, &hi));
    assert_true(mean == 1.25 && hi < 3 && lo < mean);
    int64_t csat3[5] = {0, 5, 0, 3, 0}; /* mean 2.75 of 8 */
    assert_false(calert_mean_below(csat3, 1, 5, 3, &mean, &lo, &hi));
    int64_t zero[7] = {0};
    assert_false(calert_mean_below(zero, 1, 7, 7, &mean, &lo, &hi));
}

static void scales(void **state)
{
    (void)state;
    assert_true(calert_is_negative(TP_KIND_NPS, 6) && !calert_is_negative(TP_KIND_NPS, 7));
    assert_true(calert_is_negative(TP_KIND_CSAT, 2) && !calert_is_negative(TP_KIND_CSAT, 3));
    assert_true(calert_is_negative(TP_KIND_CES, 3) && !calert_is_negative(TP_KIND_CES, 4));
    assert_true(calert_is_negative(TP_KIND_SMILEY4, 2) && !calert_is_negative(TP_KIND_SMILEY4, 3));
    assert_true(calert_is_happy(TP_KIND_NPS, 9) && !calert_is_happy(TP_KIND_NPS, 8));
    assert_true(calert_is_happy(TP_KIND_CSAT, 4) && !calert_is_happy(TP_KIND_CSAT, 3));
    assert_true(calert_is_happy(TP_KIND_CES, 5) && !calert_is_happy(TP_KIND_CES, 4));
    assert_true(calert_is_happy(TP_KIND_SMILEY4, 3) && !calert_is_happy(TP_KIND_SMILEY4, 2));
    assert_false(calert_is_negative(TP_KIND_CHOICE, 0) || calert_is_happy(TP_KIND_CHOICE, 0));
}

static void opening_hours(void **state)
{
    (void)state;
    int open;
    assert_true(calert_open_at("", 0, 60, &open) && open == 0);
    assert_true(calert_open_at("always", 3, 0, &open));
    const char *week = "{\"mon\":\"08:00-22:00\",\"tue\":\"closed\",\"wed\":\"20:00-02:00\","
                       "\"thu\":\"08:00-22:00\",\"fri\":\"08:00-22:00\",\"sat\":\"08:00-22:00\","
                       "\"sun\":\"08:00-22:00\"}";
    assert_true(calert_open_at(week, 0, 9 * 60, &open) && open == 8 * 60);
    assert_false(calert_open_at(week, 0, 7 * 60, &open));
    assert_false(calert_open_at(week, 1, 12 * 60, &open));
    assert_true(calert_open_at(week, 2, 23 * 60, &open) && open == 20 * 60);
}

static void queue_units(void **state)
{
    (void)state;
    cbatch b = {0};
    cbatch_answer a[4] = {0};
    unsigned char outcomes[4] = {CBATCH_ACCEPTED, CBATCH_ACCEPTED, CBATCH_DUPLICATE,
                                 CBATCH_ACCEPTED};
    const char *tp[4] = {"exit", "exit", "door", "door"};
    int64_t at[4] = {300, 100, 50, 700};
    for (int i = 0; i < 4; i++) {
        tp_strlcpy(a[i].store, "s1", sizeof a[i].store);
        tp_strlcpy(a[i].touchpoint, tp[i], sizeof a[i].touchpoint);
        a[i].at_ms = at[i];
    }
    b.answers = a;
    b.n_answers = 4;
    calert_unit u[4];
    assert_int_equal(calert_queue_units(&b, outcomes, u), 2);
    assert_string_equal(u[0].touchpoint, "exit");
    assert_true(u[0].from_ms == 100 && u[0].to_ms == 300);
    assert_string_equal(u[1].touchpoint, "door"); /* the duplicate at 50 is not counted */
    assert_true(u[1].from_ms == 700 && u[1].to_ms == 700);
    assert_true(calert_covers("vn/hcm", "vn/hcm/q1/exit") && calert_covers("vn/hcm", "vn/hcm"));
    assert_false(calert_covers("vn/hcm", "vn/hcm2/q1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_hcm_midnight),
        cmocka_unit_test(window_berlin_dst),
        cmocka_unit_test(tz_errors),
        cmocka_unit_test(params_defaults_and_errors),
        cmocka_unit_test(params_comment_tag),
        cmocka_unit_test(interval_below_threshold),
        cmocka_unit_test(scales),
        cmocka_unit_test(opening_hours),
        cmocka_unit_test(queue_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
