/*
 * calert_tz.c - the pure parts of alert evaluation: a small TZif reader (the collector serves
 * stores in many zones from one process, and setenv("TZ") is not safe beside the workers'
 * localtime_r), windows aligned on a store's local midnight, and the interval tests of low_score.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert.h"

#define TZ_FILE_MAX (1u << 20)
#define DAY_MS 86400000LL

struct calert_tz {
    size_t n;       /* transitions */
    int64_t *at;    /* transition instants, seconds */
    int32_t *off;   /* offset in force from at[i] */
    int32_t before; /* offset before the first transition (or always, n == 0) */
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Parses the 64-bit block of a version 2+ TZif file (the v1 block is skipped). */
static tp_err parse_tzif(const unsigned char *d, size_t len, calert_tz *z)
{
    size_t pos = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (len - pos < 44 || memcmp(d + pos, "TZif", 4) != 0)
            return TP_ERR_CORRUPT;
        const unsigned char *h = d + pos + 20;
        uint32_t isut = be32(h), isstd = be32(h + 4), leap = be32(h + 8), timecnt = be32(h + 12),
                 typecnt = be32(h + 16), charcnt = be32(h + 20);
        size_t tsz = pass ? 8 : 4;
        size_t body =
            timecnt * tsz + timecnt + typecnt * 6 + charcnt + leap * (tsz + 4) + isstd + isut;
        if (typecnt == 0 || timecnt > 100000 || typecnt > 256 || body > len - pos - 44)
            return TP_ERR_CORRUPT;
        if (pass == 0 && d[pos + 4] >= '2') {
            pos += 44 + body;
            continue;
        }
        const unsigned char *t = d + pos + 44, *idx = t + timecnt * tsz, *types = idx + timecnt;
        z->at = malloc((timecnt ? timecnt : 1) * sizeof *z->at);
        z->off = malloc((timecnt ? timecnt : 1) * sizeof *z->off);
        if (!z->at || !z->off)
            return TP_ERR_NOMEM;
        for (uint32_t i = 0; i < timecnt; i++) {
            if (idx[i] >= typecnt)
                return TP_ERR_CORRUPT;
            z->at[i] = pass ? be64(t + i * 8) : (int64_t)(int32_t)be32(t + i * 4);
            z->off[i] = (int32_t)be32(types + idx[i] * 6);
        }
        z->n = timecnt;
        /* Before the first transition: the first non-DST type (RFC 8536 3.2). */
        z->before = (int32_t)be32(types);
        for (uint32_t k = 0; k < typecnt; k++)
            if (!types[k * 6 + 4]) {
                z->before = (int32_t)be32(types + k * 6);
                break;
            }
        return TP_OK;
    }
    return TP_ERR_CORRUPT;
}

/* Loads one zone by name ("UTC": no file) or absolute path. */
static tp_err load_zone(const char *zone, calert_tz **out, char *err, size_t errlen)
{
    char path[512];
    char *data = NULL;
    size_t len = 0;
    const char *dir = getenv("TZDIR");
    calert_tz *z = calloc(1, sizeof *z);
    *out = NULL;
    if (!z)
        return TP_ERR_NOMEM;
    if (strcmp(zone, "UTC") == 0) {
        *out = z;
        return TP_OK;
    }
    if (strstr(zone, "..")) {
        free(z);
        return tp_errf(err, errlen, TP_ERR_NOT_FOUND, "time zone %.100s: unknown", zone);
    }
    if (zone[0] == '/')
        snprintf(path, sizeof path, "%s", zone);
    else
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    tp_err rc = tp_read_file(path, TZ_FILE_MAX, &data, &len, err, errlen);
    if (rc == TP_OK && (rc = parse_tzif((const unsigned char *)data, len, z)) != TP_OK)
        tp_errf(err, errlen, rc, "time zone %s: not a TZif file", path);
    else if (rc != TP_OK)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "time zone %.100s: unknown", zone);
    free(data);
    if (rc != TP_OK) {
        calert_tz_free(z);
        return rc;
    }
    *out = z;
    return TP_OK;
}

tp_err calert_tz_load(const char *zone, calert_tz **out, char *err, size_t errlen)
{
    if (zone && *zone)
        return load_zone(zone, out, err, errlen);
    /* The collector's own zone: TZ when it names a zoneinfo file (a POSIX rule such as "ICT-7"
     * does not), else /etc/localtime, else UTC; never an error. */
    const char *tz = getenv("TZ");
    char e2[TP_ERRMSG_MAX];
    if (tz && *tz && load_zone(tz[0] == ':' ? tz + 1 : tz, out, e2, sizeof e2) == TP_OK)
        return TP_OK;
    if (load_zone("/etc/localtime", out, e2, sizeof e2) == TP_OK)
        return TP_OK;
    return load_zone("UTC", out, err, errlen);
}

void calert_tz_free(calert_tz *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->off);
    free(z);
}

int calert_tz_offset(const calert_tz *z, int64_t utc_ms)
{
    int64_t t = utc_ms >= 0 ? utc_ms / 1000 : -((-utc_ms + 999) / 1000);
    if (z->n == 0 || t < z->at[0])
        return z->before;
    size_t lo = 0, hi = z->n; /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->off[lo];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int64_t calert_local_midnight(const calert_tz *z, int64_t utc_ms)
{
    int64_t off = (int64_t)calert_tz_offset(z, utc_ms) * 1000;
    int64_t mid_local = floor_div(utc_ms + off, DAY_MS) * DAY_MS;
    /* The offset at midnight may differ from the one at utc_ms (a DST change during the day). */
    int64_t guess = mid_local - off;
    int64_t off2 = (int64_t)calert_tz_offset(z, guess) * 1000;
    if (off2 != off && calert_tz_offset(z, mid_local - off2) * 1000LL == off2)
        guess = mid_local - off2;
    return guess <= utc_ms ? guess : mid_local - off;
}

void calert_window(const calert_tz *z, int64_t at_ms, int minutes, int64_t *from_ms, int64_t *to_ms)
{
    int64_t w = (int64_t)(minutes > 0 ? minutes : 1) * 60000;
    int64_t mid = calert_local_midnight(z, at_ms);
    /* Days last 23 to 25 hours: 25 h after this midnight is in the next day at the latest. */
    int64_t next = calert_local_midnight(z, mid + 25 * 3600000LL);
    if (next <= mid)
        next = mid + DAY_MS;
    int64_t k = (at_ms - mid) / w;
    *from_ms = mid + k * w;
    *to_ms = *from_ms + w < next ? *from_ms + w : next;
}

void calert_local_clock(const calert_tz *z, int64_t utc_ms, int *minute_of_day, int *weekday)
{
    int64_t local = utc_ms + (int64_t)calert_tz_offset(z, utc_ms) * 1000;
    int64_t day = floor_div(local, DAY_MS);
    *minute_of_day = (int)((local - day * DAY_MS) / 60000);
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    *weekday = (int)(((day % 7) + 7 + 3) % 7);
}

bool calert_nps_below(const int64_t dist[11], double threshold, double *lo, double *hi)
{
    tp_nps nps;
    tp_nps_compute(dist, &nps);
    double n = (double)nps.n + 3.0;
    double centre = 100.0 * (((double)nps.promoters + 0.75) - ((double)nps.detractors + 0.75)) / n;
    *lo = centre - nps.moe;
    *hi = centre + nps.moe;
    return nps.n > 0 && *hi < threshold;
}

bool calert_mean_below(const int64_t *dist, int lo_v, int hi_v, double threshold, double *mean,
                       double *lo, double *hi)
{
    double n = 0, sum = 0;
    for (int v = lo_v; v <= hi_v; v++) {
        n += (double)dist[v - lo_v];
        sum += (double)dist[v - lo_v] * v;
    }
    *mean = n > 0 ? sum / n : 0;
    double n2 = n + 2, sum2 = sum + lo_v + hi_v, m2 = sum2 / n2, ss = 0;
    for (int v = lo_v; v <= hi_v; v++)
        ss += (double)dist[v - lo_v] * (v - m2) * (v - m2);
    ss += (lo_v - m2) * (lo_v - m2) + (hi_v - m2) * (hi_v - m2);
    double se = sqrt(ss / (n2 - 1)) / sqrt(n2);
    *lo = m2 - 1.96 * se;
    *hi = m2 + 1.96 * se;
    return n > 0 && *hi < threshold;
}
