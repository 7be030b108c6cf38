/*
 * ctz.c - named time zones from the TZif files (see ctz.h).
 */
#include "ctz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TZ_NAME_MAX 64
#define TZ_FILE_MAX (256 * 1024)

typedef struct zone {
    char name[TZ_NAME_MAX + 1];
    bool ok;
    size_t n;     /* transitions */
    int64_t *at;  /* transition times, UTC seconds, ascending */
    int32_t *off; /* offset in force from at[i] */
    int32_t off0; /* before the first transition */
} zone;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static zone cache[CTZ_MAX_ZONES];
static size_t n_cache;

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TZ_NAME_MAX || s[0] == '/' || strstr(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+' || c == '/'))
            return false;
    }
    return true;
}

static int64_t be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    if (bytes == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

/* Parses the TZif data at buf (len bytes) into z. Returns true when it is a usable zone. */
static bool parse_tzif(const unsigned char *buf, size_t len, zone *z)
{
    if (len < 44 || memcmp(buf, "TZif", 4) != 0)
        return false;
    int tsize = 4;
    const unsigned char *h = buf;
    for (int pass = 0; pass < 2; pass++) {
        if ((size_t)(h - buf) + 44 > len)
            return false;
        int64_t isut = be(h + 20, 4), isstd = be(h + 24, 4), leap = be(h + 28, 4);
        int64_t timecnt = be(h + 32, 4), typecnt = be(h + 36, 4), charcnt = be(h + 40, 4);
        if (isut < 0 || isstd < 0 || leap < 0 || timecnt < 0 || typecnt < 1 || charcnt < 0 ||
            timecnt > 100000 || typecnt > 256)
            return false;
        size_t body = (size_t)(timecnt * tsize + timecnt + typecnt * 6 + charcnt +
                               leap * (tsize + 4) + isstd + isut);
        const unsigned char *d = h + 44;
        if ((size_t)(d - buf) + body > len)
            return false;
        if (pass == 0 && h[4] >= '2') { /* skip the 32-bit part: the 64-bit one follows */
            h = d + body;
            tsize = 8;
            continue;
        }
        const unsigned char *idx = d + timecnt * tsize, *types = idx + timecnt;
        z->n = (size_t)timecnt;
        z->at = calloc(z->n + 1, sizeof *z->at);
        z->off = calloc(z->n + 1, sizeof *z->off);
        if (!z->at || !z->off)
            return false;
        /* Before any transition: the first standard-time type (RFC 8536 3.2), else type 0. */
        z->off0 = (int32_t)be(types, 4);
        for (int64_t t = 0; t < typecnt; t++)
            if (types[t * 6 + 4] == 0) {
                z->off0 = (int32_t)be(types + t * 6, 4);
                break;
            }
        for (size_t i = 0; i < z->n; i++) {
            unsigned ti = idx[i];
            if (ti >= (unsigned)typecnt)
                return false;
            z->at[i] = be(d + i * (size_t)tsize, tsize);
            z->off[i] = (int32_t)be(types + ti * 6, 4);
        }
        return true;
    }
    return false;
}

static void load(zone *z, const char *name)
{
    char path[160];
    unsigned char *buf = NULL;
    tp_strlcpy(z->name, name, sizeof z->name);
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    buf = malloc(TZ_FILE_MAX);
    size_t len = buf ? fread(buf, 1, TZ_FILE_MAX, f) : 0;
    fclose(f);
    z->ok = buf && parse_tzif(buf, len, z);
    free(buf);
    if (!z->ok) {
        free(z->at);
        free(z->off);
        z->at = NULL;
        z->off = NULL;
        z->n = 0;
    }
}

static int process_offset(int64_t utc_ms)
{
    time_t t = (time_t)(utc_ms >= 0 ? utc_ms / 1000 : (utc_ms - 999) / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return (int)tm.tm_gmtoff;
}

tp_err ctz_offset(const char *name, int64_t utc_ms, int *offset_s)
{
    if (!name || !*name) {
        *offset_s = process_offset(utc_ms);
        return TP_OK;
    }
    if (!name_ok(name)) {
        *offset_s = process_offset(utc_ms);
        return TP_ERR_INVALID;
    }
    pthread_mutex_lock(&cache_lock);
    zone *z = NULL;
    for (size_t i = 0; i < n_cache; i++)
        if (strcmp(cache[i].name, name) == 0)
            z = &cache[i];
    if (!z && n_cache < CTZ_MAX_ZONES) {
        z = &cache[n_cache++];
        load(z, name);
    }
    bool ok = z && z->ok;
    int off = 0;
    if (ok) {
        int64_t s = utc_ms >= 0 ? utc_ms / 1000 : (utc_ms - 999) / 1000;
        size_t lo = 0, hi = z->n; /* first transition after s */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (z->at[mid] <= s)
                lo = mid + 1;
            else
                hi = mid;
        }
        off = lo == 0 ? z->off0 : z->off[lo - 1];
    }
    pthread_mutex_unlock(&cache_lock);
    if (!ok) {
        *offset_s = process_offset(utc_ms);
        return TP_ERR_INVALID;
    }
    *offset_s = off;
    return TP_OK;
}

/* Howard Hinnant's civil-date algorithms. */
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
    int64_t s = (utc_ms >= 0 ? utc_ms / 1000 : (utc_ms - 999) / 1000) + offset_s;
    int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
    int64_t sod = s - days * 86400;
    int y, m, d;
    ctz_civil_from_days(days, &y, &m, &d);
    out->day = y * 10000 + m * 100 + d;
    out->month = y * 100 + m;
    out->hour = (int)(sod / 3600);
    out->dow = (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
}
