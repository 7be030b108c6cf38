/*
 * ctz.h - time zones of the organisation tree's nodes (settings "timezone"), read from the
 * zoneinfo database (TZif files, $TZDIR or /usr/share/zoneinfo) without touching the process's
 * TZ: the collector serves stores of several zones from one process, and setenv("TZ") + tzset()
 * in a worker would change every other thread's local time under it.
 *
 * Offsets come from the file's transition table (calert_tz, the alerts' reader). Beyond the last
 * transition the last one's offset holds; Debian's tzdata files list transitions up to 2037.
 *
 * Thread-safety: a ctz is immutable after ctz_open; any thread may read it.
 */
#ifndef TP_CTZ_H
#define TP_CTZ_H

#include <time.h>

#include "tp.h"

typedef struct ctz ctz;

/* Opens zone (an IANA name such as "Asia/Ho_Chi_Minh"; NULL or "" = UTC). Returns TP_OK and *out
 * (free with ctz_free); TP_ERR_INVALID for a name that is not a zone, or a file that is not TZif,
 * with err naming the zone. */
tp_err ctz_open(const char *zone, ctz **out, char *err, size_t errlen);

/* Frees z. NULL is a no-op. */
void ctz_free(ctz *z);

/* The zone's name ("UTC" for the default). Borrowed from z. */
const char *ctz_name(const ctz *z);

/* The offset from UTC in seconds (east positive) at UTC time utc_s. */
int ctz_offset_s(const ctz *z, int64_t utc_s);

/* The local broken-down time of UTC ms (tm_wday, tm_yday set; tm_gmtoff the offset). */
void ctz_local(const ctz *z, int64_t ms, struct tm *out);

/* The UTC ms of a local wall time (month 1..12; fields may overflow: day 32 is the next month's
 * first). A time skipped by a DST jump maps to the same wall time after the jump. */
int64_t ctz_utc_of_local(const ctz *z, int year, int month, int day, int hour, int minute);

#endif /* TP_CTZ_H */
