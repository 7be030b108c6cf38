/*
 * ctz.h - time zones of the organisation tree's stores (node setting "timezone"), read from the
 * zoneinfo database (TZif files, $TZDIR or /usr/share/zoneinfo) without touching the process's
 * TZ: the collector serves stores of several zones from one process, and setenv("TZ") + tzset()
 * in a worker would change every other thread's local time under it.
 *
 * The one TZif reader of the collector (the alerts' windows, the digests' periods and the
 * analytics' rollups all use it). It reads the 64-bit part of a version 2+ file; beyond the last
 * transition the last one's offset holds (Debian's tzdata files list transitions up to 2037).
 *
 * Two ways in: a zone handle (ctz_open / ctz_load, freed by the caller) for code that converts
 * many times in one pass, and ctz_offset() by name over a process-wide cache of handles for the
 * rollups, which look a store's zone up per answer.
 *
 * Thread-safety: a ctz is immutable once opened; any thread may read it. ctz_offset() and the
 * pure functions may be called from any thread (the cache has a mutex).
 */
#ifndef TP_CTZ_H
#define TP_CTZ_H

#include <time.h>

#include "tp.h"

#define CTZ_MAX_ZONES 64 /* zones kept by ctz_offset()'s cache */

typedef struct ctz ctz;

/* ---- Zone handles ------------------------------------------------------------------------- */

/* Opens a node's zone (an IANA name such as "Asia/Ho_Chi_Minh"; NULL or "" = UTC, never the
 * process's TZ). Returns TP_OK and *out (free with ctz_free); TP_ERR_INVALID for a name that is
 * not a zone or a file that is not TZif, with err naming the zone; TP_ERR_NOMEM. */
tp_err ctz_open(const char *zone, ctz **out, char *err, size_t errlen);

/* Like ctz_open, but NULL or "" is the collector's own zone (TZ when it names a zone file, else
 * /etc/localtime, else UTC; never an error) and zone may be an absolute path. Returns TP_OK and
 * *out (free with ctz_free); TP_ERR_NOT_FOUND for an unknown zone, TP_ERR_CORRUPT for a file that
 * is not TZif, with err; TP_ERR_NOMEM. */
tp_err ctz_load(const char *zone, ctz **out, char *err, size_t errlen);

/* Frees z. NULL is a no-op. */
void ctz_free(ctz *z);

/* The zone's name as opened ("UTC" for ctz_open's default, "" for ctz_load's). Borrowed. */
const char *ctz_name(const ctz *z);

/* The offset from UTC in seconds (east positive) at the instant utc_ms. */
int ctz_offset_at(const ctz *z, int64_t utc_ms);

/* The local broken-down time of UTC ms (tm_wday, tm_yday set; tm_gmtoff the offset). */
void ctz_local_tm(const ctz *z, int64_t ms, struct tm *out);

/* The UTC ms of a local wall time (month 1..12; fields may overflow: day 32 is the next month's
 * first). A time skipped by a DST jump maps to the same wall time after the jump. */
int64_t ctz_utc_of_local(const ctz *z, int year, int month, int day, int hour, int minute);

/* The instant of local midnight starting the local day that contains utc_ms. */
int64_t ctz_local_midnight(const ctz *z, int64_t utc_ms);

/* Minutes since local midnight and the weekday (0 = Monday) at utc_ms. */
void ctz_local_clock(const ctz *z, int64_t utc_ms, int *minute_of_day, int *weekday);

/* ---- By name, cached ---------------------------------------------------------------------- */

/* Sets *offset_s to the UTC offset (seconds east) of zone at utc_ms. zone NULL or "" means the
 * collector's own zone (as ctz_load). Returns TP_OK, or TP_ERR_INVALID for a name that is not a
 * zone (then *offset_s is that of the collector's zone). Zones stay loaded for the life of the
 * process (at most CTZ_MAX_ZONES; beyond that each call reads the file). */
tp_err ctz_offset(const char *zone, int64_t utc_ms, int *offset_s);

/* ---- Pure calendar arithmetic -------------------------------------------------------------- */

/* A local calendar position. */
typedef struct ctz_local {
    int day;   /* YYYYMMDD */
    int month; /* YYYYMM */
    int hour;  /* 0..23 */
    int dow;   /* 0 = Monday .. 6 = Sunday */
} ctz_local;

/* Converts utc_ms to local calendar fields with the given offset. */
void ctz_local_of(int64_t utc_ms, int offset_s, ctz_local *out);

/* Days since 1970-01-01 of the civil date y-m-d and back (proleptic Gregorian). */
int64_t ctz_days_from_civil(int y, int m, int d);
void ctz_civil_from_days(int64_t days, int *y, int *m, int *d);

#endif /* TP_CTZ_H */
