/*
 * ctz.c - time zones of nodes (see ctz.h) over the alerts' TZif reader (calert_tz): the file is
 * read once per ctz_open; the digests open their node's zone per run, not per answer. This file
 * adds what the digests need beyond an offset: local broken-down times and local to UTC.
 */
#include "ctz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert.h"
#include "settings.h"

struct ctz {
    char name[SETTINGS_TZ_MAX + 1];
    calert_tz *z; /* the zone file, read by the alerts' TZif reader (one reader in the tree) */
};

tp_err ctz_open(const char *zone, ctz **out, char *err, size_t errlen)
{
    ctz *z = calloc(1, sizeof *z);
    *out = NULL;
    if (!z)
        return TP_ERR_NOMEM;
    if (!zone || !*zone)
        zone = "UTC"; /* a node without a timezone setting: UTC, never the process's TZ */
    const char *bad = settings_check_timezone(zone);
    if (bad) {
        free(z);
        return tp_errf(err, errlen, TP_ERR_INVALID, "timezone %.64s: %s", zone, bad);
    }
    tp_strlcpy(z->name, zone, sizeof z->name);
    tp_err rc = calert_tz_load(zone, &z->z, err, errlen);
    if (rc != TP_OK) {
        free(z);
        return rc == TP_ERR_NOMEM ? rc : TP_ERR_INVALID;
    }
    *out = z;
    return TP_OK;
}

void ctz_free(ctz *z)
{
    if (!z)
        return;
    calert_tz_free(z->z);
    free(z);
}

const char *ctz_name(const ctz *z)
{
    return z->name;
}

int ctz_offset_s(const ctz *z, int64_t utc_s)
{
    return calert_tz_offset(z->z, utc_s * 1000);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void ctz_local(const ctz *z, int64_t ms, struct tm *out)
{
    int64_t s = floor_div(ms, 1000);
    int off = ctz_offset_s(z, s);
    time_t t = (time_t)(s + off);
    gmtime_r(&t, out);
    out->tm_gmtoff = off;
}

int64_t ctz_utc_of_local(const ctz *z, int year, int month, int day, int hour, int minute)
{
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute};
    int64_t local = (int64_t)timegm(&tm);
    int64_t guess = local - ctz_offset_s(z, local);
    int64_t utc = local - ctz_offset_s(z, guess);
    /* In a DST gap neither offset gives back the wall time: take the later offset. */
    if (utc + ctz_offset_s(z, utc) != local)
        utc = local - ctz_offset_s(z, guess + 86400);
    return utc * 1000;
}
