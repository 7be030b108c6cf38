/*
 * cdigest_period.c - digest periods in a node's time zone (see cdigest.h): keys, ranges, due
 * times. Pure functions over a ctz, unit-tested across zones (tests/unit/test_cdigest.c).
 *
 * Local days are found by wall-clock arithmetic (timegm on local fields) and converted back with
 * ctz_utc_of_local, so a day is 23 or 25 hours across a DST change, and a week 167 or 169.
 */
#include "cdigest.h"

#include <stdio.h>
#include <string.h>

static const char *const period_names[] = {"daily", "weekly"};

tp_err cdigest_period_parse(const char *s, cdigest_period *out)
{
    for (int i = 0; s && i < 2; i++)
        if (strcmp(s, period_names[i]) == 0) {
            *out = (cdigest_period)i;
            return TP_OK;
        }
    return TP_ERR_INVALID;
}

const char *cdigest_period_name(cdigest_period p)
{
    return (unsigned)p < 2 ? period_names[p] : "?";
}

void cdigest_period_key(const ctz *z, cdigest_period p, int64_t ms, char key[CDIGEST_KEY_MAX])
{
    struct tm tm;
    ctz_local_tm(z, ms, &tm);
    if (p == CDIGEST_DAILY)
        strftime(key, CDIGEST_KEY_MAX, "%Y-%m-%d", &tm);
    else
        strftime(key, CDIGEST_KEY_MAX, "%G-W%V", &tm);
}

/* The local date (y, m, d) of the first day of period key. Returns TP_OK or TP_ERR_INVALID. */
static tp_err first_day(cdigest_period p, const char *key, int *y, int *m, int *d)
{
    int used = 0, w = 0;
    if (!key)
        return TP_ERR_INVALID;
    if (p == CDIGEST_DAILY) {
        if (strlen(key) != 10 || sscanf(key, "%4d-%2d-%2d%n", y, m, d, &used) != 3 || used != 10 ||
            key[4] != '-' || key[7] != '-' || *y < 1970 || *y > 9999 || *m < 1 || *m > 12 ||
            *d < 1 || *d > 31)
            return TP_ERR_INVALID;
        struct tm tm = {.tm_year = *y - 1900, .tm_mon = *m - 1, .tm_mday = *d, .tm_hour = 12};
        time_t t = timegm(&tm);
        gmtime_r(&t, &tm);
        return tm.tm_mday == *d && tm.tm_mon == *m - 1 ? TP_OK : TP_ERR_INVALID;
    }
    if (strlen(key) != 8 || sscanf(key, "%4d-W%2d%n", y, &w, &used) != 2 || used != 8 ||
        key[4] != '-' || key[5] != 'W' || *y < 1970 || *y > 9999 || w < 1 || w > 53)
        return TP_ERR_INVALID;
    /* ISO 8601: week 1 holds 4 January; weeks start on Monday. */
    struct tm tm = {.tm_year = *y - 1900, .tm_mon = 0, .tm_mday = 4, .tm_hour = 12};
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    int iso_dow = (tm.tm_wday + 6) % 7; /* Monday 0 */
    tm.tm_mday = 4 - iso_dow + (w - 1) * 7;
    t = timegm(&tm);
    gmtime_r(&t, &tm);
    char back[CDIGEST_KEY_MAX];
    strftime(back, sizeof back, "%G-W%V", &tm);
    if (strcmp(back, key) != 0) /* week 53 of a year that has 52 */
        return TP_ERR_INVALID;
    *y = tm.tm_year + 1900;
    *m = tm.tm_mon + 1;
    *d = tm.tm_mday;
    return TP_OK;
}

tp_err cdigest_period_range(const ctz *z, cdigest_period p, const char *key, int64_t *from_ms,
                            int64_t *to_ms)
{
    int y, m, d;
    if (first_day(p, key, &y, &m, &d) != TP_OK)
        return TP_ERR_INVALID;
    *from_ms = ctz_utc_of_local(z, y, m, d, 0, 0);
    *to_ms = ctz_utc_of_local(z, y, m, d + (p == CDIGEST_DAILY ? 1 : 7), 0, 0);
    return TP_OK;
}

tp_err cdigest_period_prev(const ctz *z, cdigest_period p, const char *key,
                           char prev[CDIGEST_KEY_MAX])
{
    int64_t from, to;
    if (cdigest_period_range(z, p, key, &from, &to) != TP_OK)
        return TP_ERR_INVALID;
    cdigest_period_key(z, p, from - 3600000, prev); /* an hour before: inside the previous one */
    return TP_OK;
}

/* Minutes of "HH:MM" at s, or -1. */
static int hhmm(const char *s)
{
    int h = 0, m = 0, used = 0;
    if (sscanf(s, "%2d:%2d%n", &h, &m, &used) != 2 || used != 5 || h > 24 || m > 59)
        return -1;
    return h * 60 + m;
}

int cdigest_closing_min(const cJSON *opening_hours, int wday)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    if (!cJSON_IsObject(opening_hours) || wday < 0 || wday > 6)
        return -1;
    const char *v =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(opening_hours, days[wday]));
    if (!v || strlen(v) != 11 || v[5] != '-')
        return -1;
    int open = hhmm(v), close = hhmm(v + 6);
    if (open < 0 || close < 0)
        return -1;
    return close <= open ? close + 1440 : close;
}

tp_err cdigest_due_ms(const ctz *z, cdigest_period p, const char *key, const cJSON *opening_hours,
                      int64_t *due_ms)
{
    int y, m, d;
    if (first_day(p, key, &y, &m, &d) != TP_OK)
        return TP_ERR_INVALID;
    if (p == CDIGEST_WEEKLY) {
        *due_ms = ctz_utc_of_local(z, y, m, d + 7, CDIGEST_WEEKLY_HOUR, 0);
        return TP_OK;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    int close = cdigest_closing_min(opening_hours, tm.tm_wday);
    int at = close < 0 ? CDIGEST_NO_HOURS_MIN : close + CDIGEST_CLOSE_DELAY_MIN;
    *due_ms = ctz_utc_of_local(z, y, m, d, at / 60, at % 60);
    return TP_OK;
}

void cdigest_last_complete(const ctz *z, cdigest_period p, int64_t now_ms,
                           char key[CDIGEST_KEY_MAX])
{
    char cur[CDIGEST_KEY_MAX];
    cdigest_period_key(z, p, now_ms, cur);
    if (cdigest_period_prev(z, p, cur, key) != TP_OK)
        tp_strlcpy(key, cur, CDIGEST_KEY_MAX);
}

void cdigest_latest_due(const ctz *z, cdigest_period p, const cJSON *opening_hours, int64_t now_ms,
                        char key[CDIGEST_KEY_MAX])
{
    /* The current period can be due already (a daily after today's closing); else walk back:
     * a closing past midnight makes yesterday's due today, so look two periods back at most. */
    char k[CDIGEST_KEY_MAX], prev[CDIGEST_KEY_MAX];
    int64_t due = 0;
    cdigest_period_key(z, p, now_ms, k);
    for (int i = 0; i < 3; i++) {
        if (cdigest_due_ms(z, p, k, opening_hours, &due) == TP_OK && due <= now_ms)
            break;
        if (cdigest_period_prev(z, p, k, prev) != TP_OK)
            break;
        tp_strlcpy(k, prev, sizeof k);
    }
    tp_strlcpy(key, k, CDIGEST_KEY_MAX);
}
