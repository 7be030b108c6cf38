/*
 * ctz.h - local time of a named time zone ("Asia/Ho_Chi_Minh") without touching the process's
 * TZ: the rollups put each answer on its store's local day and hour, and stores of one chain may
 * sit in different zones while the collector's threads share one TZ.
 *
 * Reads the system's compiled zone files (/usr/share/zoneinfo, TZif version 2+, the 64-bit
 * part); Debian ships them "fat" (transitions listed up to 2037), so the last transition's offset
 * holds beyond them. Loaded zones are cached for the life of the process (at most CTZ_MAX_ZONES).
 *
 * Thread-safety: every function may be called from any thread (the cache has a mutex).
 */
#ifndef TP_CTZ_H
#define TP_CTZ_H

#include "tp.h"

#define CTZ_MAX_ZONES 64

/* A local calendar position. */
typedef struct ctz_local {
    int day;   /* YYYYMMDD */
    int month; /* YYYYMM */
    int hour;  /* 0..23 */
    int dow;   /* 0 = Monday .. 6 = Sunday */
} ctz_local;

/* Sets *offset_s to the UTC offset (seconds east) of zone at utc_ms. zone NULL or "" means the
 * process's TZ (localtime_r). Returns TP_OK, or TP_ERR_INVALID for a name that is not a zone
 * (then *offset_s is that of the process's TZ). */
tp_err ctz_offset(const char *zone, int64_t utc_ms, int *offset_s);

/* Converts utc_ms to local calendar fields with the given offset. Pure. */
void ctz_local_of(int64_t utc_ms, int offset_s, ctz_local *out);

/* Days since 1970-01-01 of the civil date y-m-d and back (proleptic Gregorian). Pure. */
int64_t ctz_days_from_civil(int y, int m, int d);
void ctz_civil_from_days(int64_t days, int *y, int *m, int *d);

#endif /* TP_CTZ_H */
