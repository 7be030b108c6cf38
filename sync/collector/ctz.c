/*
 * ctz.c - time zones from TZif files (see ctz.h). The file is read once per ctz_open; the
 * digests open their node's zone per run, not per answer.
 */
#include "ctz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

#define TZIF_MAX (256u << 10) /* bytes of a zone file: real ones are under 4 KiB */
#define TZ_TRANS_MAX 4096
#define TZ_TYPES_MAX 256

struct ctz {
    char name[SETTINGS_TZ_MAX + 1];
    size_t n_trans;
    int64_t *at;        /* transition times, UTC seconds, ascending */
    unsigned char *idx; /* type of each transition */
    int n_types;
    int32_t off[TZ_TYPES_MAX];
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Parses the TZif data at p (n bytes) into z. Returns TP_OK or TP_ERR_INVALID. */
static tp_err parse(ctz *z, const unsigned char *p, size_t n)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return TP_ERR_INVALID;
    int version = p[4];
    size_t w = 4; /* bytes of a transition time: the v1 block, then the v2 one */
    for (int pass = 0; pass < 2; pass++) {
        if (n < 44 || memcmp(p, "TZif", 4) != 0)
            return TP_ERR_INVALID;
        uint32_t isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28);
        uint32_t timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
        if (timecnt > TZ_TRANS_MAX || typecnt == 0 || typecnt > TZ_TYPES_MAX || leap > 1000 ||
            isut > TZ_TYPES_MAX || isstd > TZ_TYPES_MAX || charcnt > 4096)
            return TP_ERR_INVALID;
        size_t body = timecnt * w + timecnt + typecnt * 6 + charcnt + leap * (w + 4) + isstd + isut;
        if (n < 44 + body)
            return TP_ERR_INVALID;
        if (pass == 0 && version >= '2') { /* skip the 32-bit block */
            p += 44 + body;
            n -= 44 + body;
            w = 8;
            continue;
        }
        const unsigned char *t = p + 44, *ix = t + timecnt * w, *ti = ix + timecnt;
        z->at = calloc(timecnt ? timecnt : 1, sizeof *z->at);
        z->idx = calloc(timecnt ? timecnt : 1, 1);
        if (!z->at || !z->idx)
            return TP_ERR_NOMEM;
        z->n_trans = timecnt;
        z->n_types = (int)typecnt;
        for (uint32_t i = 0; i < timecnt; i++) {
            z->at[i] = w == 8 ? be64(t + 8 * i) : (int32_t)be32(t + 4 * i);
            z->idx[i] = ix[i] < typecnt ? ix[i] : 0;
        }
        for (uint32_t i = 0; i < typecnt; i++)
            z->off[i] = (int32_t)be32(ti + 6 * i);
        return TP_OK;
    }
    return TP_ERR_INVALID;
}

tp_err ctz_open(const char *zone, ctz **out, char *err, size_t errlen)
{
    ctz *z = calloc(1, sizeof *z);
    char path[512], *data = NULL;
    size_t len = 0;
    *out = NULL;
    if (!z)
        return TP_ERR_NOMEM;
    if (!zone || !*zone) {
        tp_strlcpy(z->name, "UTC", sizeof z->name);
        z->n_types = 1;
        *out = z;
        return TP_OK;
    }
    const char *bad = settings_check_timezone(zone);
    if (bad) {
        free(z);
        return tp_errf(err, errlen, TP_ERR_INVALID, "timezone %.64s: %s", zone, bad);
    }
    tp_strlcpy(z->name, zone, sizeof z->name);
    const char *dir = getenv("TZDIR");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    tp_err rc = tp_read_file(path, TZIF_MAX, &data, &len, err, errlen);
    if (rc == TP_OK && (rc = parse(z, (const unsigned char *)data, len)) != TP_OK)
        tp_errf(err, errlen, TP_ERR_INVALID, "timezone %s: %s is not a TZif file", zone, path);
    free(data);
    if (rc != TP_OK) {
        ctz_free(z);
        return rc == TP_ERR_NOMEM ? rc : TP_ERR_INVALID;
    }
    *out = z;
    return TP_OK;
}

void ctz_free(ctz *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->idx);
    free(z);
}

const char *ctz_name(const ctz *z)
{
    return z->name;
}

int ctz_offset_s(const ctz *z, int64_t utc_s)
{
    if (z->n_trans == 0 || utc_s < z->at[0])
        return z->off[0]; /* RFC 8536: type 0 before the first transition */
    size_t lo = 0, hi = z->n_trans; /* the last transition <= utc_s: at[lo] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    return z->off[z->idx[lo]];
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
    struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day,
                    .tm_hour = hour, .tm_min = minute};
    int64_t local = (int64_t)timegm(&tm);
    int64_t guess = local - ctz_offset_s(z, local);
    int64_t utc = local - ctz_offset_s(z, guess);
    /* In a DST gap neither offset gives back the wall time: take the later offset. */
    if (utc + ctz_offset_s(z, utc) != local)
        utc = local - ctz_offset_s(z, guess + 86400);
    return utc * 1000;
}
