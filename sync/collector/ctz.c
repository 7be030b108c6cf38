/*
 * ctz.c - named time zones from the TZif files (see ctz.h): the collector's one TZif reader.
 * The reader came from the alerts (calert_tz), whose windows across midnight and DST changes
 * are tested hardest; the per-name cache and the calendar arithmetic came from the analytics.
 */
#include "ctz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

#define TZ_FILE_MAX (1u << 20)
#define DAY_MS 86400000LL

struct ctz {
    char name[SETTINGS_TZ_MAX + 1];
    size_t n;       /* transitions */
    int64_t *at;    /* transition instants, seconds, ascending */
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

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Parses the 64-bit block of a version 2+ TZif file (the v1 block is skipped). */
static tp_err parse_tzif(const unsigned char *d, size_t len, ctz *z)
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
static tp_err load_zone(const char *zone, ctz **out, char *err, size_t errlen)
{
    char path[512];
    char *data = NULL;
    size_t len = 0;
    const char *dir = getenv("TZDIR");
    ctz *z = calloc(1, sizeof *z);
    *out = NULL;
    if (!z)
        return TP_ERR_NOMEM;
    if (strcmp(zone, "UTC") == 0) {
        tp_strlcpy(z->name, zone, sizeof z->name);
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
        ctz_free(z);
        return rc;
    }
    if (zone[0] != '/')
        tp_strlcpy(z->name, zone, sizeof z->name);
    *out = z;
    return TP_OK;
}

tp_err ctz_load(const char *zone, ctz **out, char *err, size_t errlen)
{
    if (zone && *zone)
        return load_zone(zone, out, err, errlen);
    /* The collector's own zone: TZ when it names a zoneinfo file (a POSIX rule such as "ICT-7"
     * does not), else /etc/localtime, else UTC; never an error. */
    const char *tz = getenv("TZ");
    char e2[TP_ERRMSG_MAX];
    tp_err rc;
    if (tz && *tz && load_zone(tz[0] == ':' ? tz + 1 : tz, out, e2, sizeof e2) == TP_OK)
        rc = TP_OK;
    else if (load_zone("/etc/localtime", out, e2, sizeof e2) == TP_OK)
        rc = TP_OK;
    else
        rc = load_zone("UTC", out, err, errlen);
    if (rc == TP_OK)
        (*out)->name[0] = '\0';
    return rc;
}

tp_err ctz_open(const char *zone, ctz **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!zone || !*zone)
        zone = "UTC"; /* a node without a timezone setting: UTC, never the process's TZ */
    const char *bad = strcmp(zone, "UTC") == 0 ? NULL : settings_check_timezone(zone);
    if (bad)
        return tp_errf(err, errlen, TP_ERR_INVALID, "timezone %.64s: %s", zone, bad);
    tp_err rc = load_zone(zone, out, err, errlen);
    return rc == TP_OK || rc == TP_ERR_NOMEM ? rc : TP_ERR_INVALID;
}

void ctz_free(ctz *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->off);
    free(z);
}

const char *ctz_name(const ctz *z)
{
    return z->name;
}

int ctz_offset_at(const ctz *z, int64_t utc_ms)
{
    int64_t t = floor_div(utc_ms, 1000);
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

void ctz_local_tm(const ctz *z, int64_t ms, struct tm *out)
{
    int64_t s = floor_div(ms, 1000);
    int off = ctz_offset_at(z, s * 1000);
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
    int64_t guess = local - ctz_offset_at(z, local * 1000);
    int64_t utc = local - ctz_offset_at(z, guess * 1000);
    /* In a DST gap neither offset gives back the wall time: take the later offset. */
    if (utc + ctz_offset_at(z, utc * 1000) != local)
        utc = local - ctz_offset_at(z, (guess + 86400) * 1000);
    return utc * 1000;
}

int64_t ctz_local_midnight(const ctz *z, int64_t utc_ms)
{
    int64_t off = (int64_t)ctz_offset_at(z, utc_ms) * 1000;
    int64_t mid_local = floor_div(utc_ms + off, DAY_MS) * DAY_MS;
    /* The offset at midnight may differ from the one at utc_ms (a DST change during the day). */
    int64_t guess = mid_local - off;
    int64_t off2 = (int64_t)ctz_offset_at(z, guess) * 1000;
    if (off2 != off && ctz_offset_at(z, mid_local - off2) * 1000LL == off2)
        guess = mid_local - off2;
    return guess <= utc_ms ? guess : mid_local - off;
}

void ctz_local_clock(const ctz *z, int64_t utc_ms, int *minute_of_day, int *weekday)
{
    int64_t local = utc_ms + (int64_t)ctz_offset_at(z, utc_ms) * 1000;
    int64_t day = floor_div(local, DAY_MS);
    *minute_of_day = (int)((local - day * DAY_MS) / 60000);
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    *weekday = (int)(((day % 7) + 7 + 3) % 7);
}

/* ---- By name, cached ---------------------------------------------------------------------- */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static ctz *cache[CTZ_MAX_ZONES];
static size_t n_cache;
static ctz *own_zone; /* the collector's (ctz_load(NULL)), loaded on first use */

/* The cached zone of name ("" = the collector's), loading it; NULL when it is not a zone or
 * memory ran out. Called with cache_lock held. The cache keeps zones for the process's life. */
static const ctz *cached(const char *name)
{
    char err[TP_ERRMSG_MAX];
    if (!*name) {
        if (!own_zone && ctz_load(NULL, &own_zone, err, sizeof err) != TP_OK)
            own_zone = NULL;
        return own_zone;
    }
    for (size_t i = 0; i < n_cache; i++)
        if (strcmp(cache[i]->name, name) == 0)
            return cache[i];
    ctz *z = NULL;
    if (n_cache == CTZ_MAX_ZONES || ctz_open(name, &z, err, sizeof err) != TP_OK)
        return NULL;
    cache[n_cache++] = z;
    return z;
}

tp_err ctz_offset(const char *zone, int64_t utc_ms, int *offset_s)
{
    tp_err rc = TP_OK;
    char err[TP_ERRMSG_MAX];
    if (!zone)
        zone = "";
    pthread_mutex_lock(&cache_lock);
    const ctz *z = cached(zone);
    ctz *uncached = NULL;
    if (!z && *zone && n_cache == CTZ_MAX_ZONES &&
        ctz_open(zone, &uncached, err, sizeof err) == TP_OK)
        z = uncached;
    if (!z && *zone) {
        rc = TP_ERR_INVALID;
        z = cached("");
    }
    *offset_s = z ? ctz_offset_at(z, utc_ms) : 0;
    pthread_mutex_unlock(&cache_lock);
    ctz_free(uncached);
    return rc;
}

/* ---- Pure calendar arithmetic (Howard Hinnant's civil-date algorithms) ---------------------- */

int64_t ctz_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ctz_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void ctz_local_of(int64_t utc_ms, int offset_s, ctz_local *out)
{
    int64_t s = floor_div(utc_ms, 1000) + offset_s;
    int64_t days = floor_div(s, 86400);
    int64_t sod = s - days * 86400;
    int y, m, d;
    ctz_civil_from_days(days, &y, &m, &d);
    out->day = y * 10000 + m * 100 + d;
    out->month = y * 100 + m;
    out->hour = (int)(sod / 3600);
    out->dow = (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
}
