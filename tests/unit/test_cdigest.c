/* test_cdigest.c - unit tests of the digests' periods and the cases' quantiles (issue 13): the
 * node time zones (ctz) across a DST change, period keys (local days, ISO weeks and their
 * year-end edges), their UTC ranges, previous periods, closing times from opening_hours, due
 * times and the latest due period, and the TTA/TTR median and p90 (linear between closest
 * ranks) on hand-computed values. Every expected instant was computed independently (Python's
 * datetime and zoneinfo). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "ccase.h"
#include "cdigest.h"
#include "ctz.h"

static ctz *zone(const char *name)
{
    char err[TP_ERRMSG_MAX];
    ctz *z = NULL;
    assert_int_equal(ctz_open(name, &z, err, sizeof err), TP_OK);
    return z;
}

static void zones(void **state)
{
    (void)state;
    char err[TP_ERRMSG_MAX];
    ctz *bad = NULL;
    ctz *hcm = zone("Asia/Ho_Chi_Minh"), *ber = zone("Europe/Berlin"), *utc = zone(NULL);
    assert_int_equal(ctz_offset_at(hcm, 1796491800000LL), 7 * 3600);
    assert_int_equal(ctz_offset_at(ber, 1768478400000LL), 3600);     /* January */
    assert_int_equal(ctz_offset_at(ber, 1782907200000LL), 2 * 3600); /* July */
    assert_int_equal(ctz_offset_at(utc, 1782907200000LL), 0);
    assert_string_equal(ctz_name(utc), "UTC");
    assert_int_equal(ctz_utc_of_local(hcm, 2026, 12, 5, 0, 0), 1796403600000LL);
    assert_int_equal(ctz_utc_of_local(ber, 2026, 3, 29, 0, 0), 1774738800000LL);
    assert_int_equal(ctz_utc_of_local(ber, 2026, 3, 30, 0, 0), 1774821600000LL);
    assert_int_equal(ctz_open("Mars/Olympus", &bad, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "Mars/Olympus"));
    assert_int_equal(ctz_open("../etc/passwd", &bad, err, sizeof err), TP_ERR_INVALID);
    ctz_free(hcm);
    ctz_free(ber);
    ctz_free(utc);
}

static void keys(void **state)
{
    (void)state;
    char k[CDIGEST_KEY_MAX];
    ctz *hcm = zone("Asia/Ho_Chi_Minh"), *utc = zone("UTC");
    cdigest_period_key(hcm, CDIGEST_DAILY, 1796491800000LL, k); /* 17:30Z = 00:30 local */
    assert_string_equal(k, "2026-12-06");
    cdigest_period_key(utc, CDIGEST_DAILY, 1796491800000LL, k);
    assert_string_equal(k, "2026-12-05");
    cdigest_period_key(hcm, CDIGEST_WEEKLY, 1796491800000LL, k); /* Sunday 6 Dec */
    assert_string_equal(k, "2026-W49");
    cdigest_period_key(hcm, CDIGEST_WEEKLY, 1796576400000LL, k); /* Monday 7 Dec 00:00 */
    assert_string_equal(k, "2026-W50");
    int64_t from = 0, to = 0;
    assert_int_equal(cdigest_period_range(hcm, CDIGEST_DAILY, "2026-12-05", &from, &to), TP_OK);
    assert_int_equal(from, 1796403600000LL);
    assert_int_equal(to, 1796490000000LL);
    assert_int_equal(cdigest_period_range(hcm, CDIGEST_WEEKLY, "2026-W49", &from, &to), TP_OK);
    assert_int_equal(from, 1795971600000LL);
    assert_int_equal(to - from, 7 * 86400000LL);
    /* ISO years: 2026 has 53 weeks (1 Jan 2027 is in 2026-W53), 2025 has 52. */
    assert_int_equal(cdigest_period_range(utc, CDIGEST_WEEKLY, "2026-W53", &from, &to), TP_OK);
    cdigest_period_key(utc, CDIGEST_WEEKLY, from + 4 * 86400000LL, k);
    assert_string_equal(k, "2026-W53");
    assert_int_equal(cdigest_period_range(utc, CDIGEST_WEEKLY, "2025-W53", &from, &to),
                     TP_ERR_INVALID);
    cdigest_period_key(utc, CDIGEST_WEEKLY, 1735560000000LL, k); /* 30 Dec 2024 */
    assert_string_equal(k, "2025-W01");
    const char *bad[] = {"2026-02-30", "2026-12-5", "2026-13-01", "26-12-05",
                         "",           "2026-W00",  "2026-W5",    "2026-12-05x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cdigest_period_range(utc, CDIGEST_DAILY, bad[i], &from, &to),
                         TP_ERR_INVALID);
        assert_int_equal(cdigest_period_range(utc, CDIGEST_WEEKLY, bad[i], &from, &to),
                         TP_ERR_INVALID);
    }
    assert_int_equal(cdigest_period_prev(utc, CDIGEST_DAILY, "2026-03-01", k), TP_OK);
    assert_string_equal(k, "2026-02-28");
    assert_int_equal(cdigest_period_prev(utc, CDIGEST_WEEKLY, "2027-W01", k), TP_OK);
    assert_string_equal(k, "2026-W53");
    ctz_free(hcm);
    ctz_free(utc);
}

static void dst_day(void **state)
{
    (void)state;
    ctz *ber = zone("Europe/Berlin");
    int64_t from = 0, to = 0, due = 0;
    char k[CDIGEST_KEY_MAX];
    /* The spring-forward day is 23 hours long; its digest (no hours) at 23:00 CEST. */
    assert_int_equal(cdigest_period_range(ber, CDIGEST_DAILY, "2026-03-29", &from, &to), TP_OK);
    assert_int_equal(from, 1774738800000LL);
    assert_int_equal(to, 1774821600000LL);
    assert_int_equal(cdigest_due_ms(ber, CDIGEST_DAILY, "2026-03-29", NULL, &due), TP_OK);
    assert_int_equal(due, 1774818000000LL);
    assert_int_equal(cdigest_period_prev(ber, CDIGEST_DAILY, "2026-03-30", k), TP_OK);
    assert_string_equal(k, "2026-03-29");
    ctz_free(ber);
}

static void due_times(void **state)
{
    (void)state;
    ctz *hcm = zone("Asia/Ho_Chi_Minh");
    cJSON *hours = cJSON_Parse("{\"mon\": \"07:00-22:00\", \"tue\": \"07:00-22:00\","
                               " \"fri\": \"18:00-02:00\", \"sun\": \"closed\"}");
    cJSON *always = cJSON_CreateString("always");
    int64_t due = 0;
    char k[CDIGEST_KEY_MAX];
    assert_int_equal(cdigest_closing_min(hours, 1), 22 * 60);
    assert_int_equal(cdigest_closing_min(hours, 5), 26 * 60); /* past midnight */
    assert_int_equal(cdigest_closing_min(hours, 0), -1);      /* closed */
    assert_int_equal(cdigest_closing_min(hours, 3), -1);      /* not set */
    assert_int_equal(cdigest_closing_min(always, 1), -1);
    assert_int_equal(cdigest_closing_min(NULL, 1), -1);
    /* Monday 7 Dec: closing 22:00 + 15 min, local; Sunday closed: 23:00. */
    assert_int_equal(cdigest_due_ms(hcm, CDIGEST_DAILY, "2026-12-07", hours, &due), TP_OK);
    assert_int_equal(due, 1796656500000LL);
    assert_int_equal(cdigest_due_ms(hcm, CDIGEST_DAILY, "2026-12-06", hours, &due), TP_OK);
    assert_int_equal(due, 1796572800000LL);
    assert_int_equal(cdigest_due_ms(hcm, CDIGEST_WEEKLY, "2026-W49", hours, &due), TP_OK);
    assert_int_equal(due, 1796605200000LL); /* Monday 7 Dec 08:00 local */
    assert_int_equal(cdigest_due_ms(hcm, CDIGEST_DAILY, "2026-12-32", hours, &due), TP_ERR_INVALID);
    cdigest_latest_due(hcm, CDIGEST_DAILY, hours, 1796655600000LL, k); /* Mon 22:00 local */
    assert_string_equal(k, "2026-12-06");
    cdigest_latest_due(hcm, CDIGEST_DAILY, hours, 1796656800000LL, k); /* Mon 22:20 local */
    assert_string_equal(k, "2026-12-07");
    cdigest_latest_due(hcm, CDIGEST_WEEKLY, hours, 1796603400000LL, k); /* Mon 07:30 */
    assert_string_equal(k, "2026-W48");
    cdigest_latest_due(hcm, CDIGEST_WEEKLY, hours, 1796607000000LL, k); /* Mon 08:30 */
    assert_string_equal(k, "2026-W49");
    cdigest_last_complete(hcm, CDIGEST_DAILY, 1796603400000LL, k);
    assert_string_equal(k, "2026-12-06");
    cJSON_Delete(hours);
    cJSON_Delete(always);
    ctz_free(hcm);
}

static void quantiles(void **state)
{
    (void)state;
    const double four[] = {1, 2, 3, 4}, one[] = {5}, three[] = {10, 20, 30};
    assert_true(fabs(ccase_quantile(four, 4, 0.5) - 2.5) < 1e-9);
    assert_true(fabs(ccase_quantile(four, 4, 0.9) - 3.7) < 1e-9);
    assert_true(fabs(ccase_quantile(one, 1, 0.5) - 5) < 1e-9);
    assert_true(fabs(ccase_quantile(one, 1, 0.9) - 5) < 1e-9);
    assert_true(fabs(ccase_quantile(three, 3, 0.9) - 28) < 1e-9);
    assert_true(fabs(ccase_quantile(three, 3, 1.0) - 30) < 1e-9);
    assert_true(ccase_quantile(NULL, 0, 0.5) == 0);
}

static void periods_parse(void **state)
{
    (void)state;
    cdigest_period p;
    assert_int_equal(cdigest_period_parse("daily", &p), TP_OK);
    assert_int_equal(p, CDIGEST_DAILY);
    assert_int_equal(cdigest_period_parse("weekly", &p), TP_OK);
    assert_int_equal(p, CDIGEST_WEEKLY);
    assert_int_equal(cdigest_period_parse("monthly", &p), TP_ERR_INVALID);
    assert_int_equal(cdigest_period_parse(NULL, &p), TP_ERR_INVALID);
    assert_string_equal(cdigest_period_name(CDIGEST_WEEKLY), "weekly");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zones),     cmocka_unit_test(keys),      cmocka_unit_test(dst_day),
        cmocka_unit_test(due_times), cmocka_unit_test(quantiles), cmocka_unit_test(periods_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
