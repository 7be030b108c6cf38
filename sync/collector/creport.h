/*
 * creport.h - the read side's arithmetic: NPS with its adjusted-Wald 95% margin of error,
 * CSAT, CES, smiley4, distributions, and the groups of GET /v1/report.
 *
 * Pure (no I/O): the store streams aggregated counts (group key, kind, value, count) into a
 * creport, which then renders the JSON. Unit tests check the math on hand-computed values.
 *
 * Thread-safety: a creport is used by one thread at a time; the math functions are reentrant.
 */
#ifndef TP_CREPORT_H
#define TP_CREPORT_H

#include "tp.h"

/* NPS and its margin come from the base layer's tp_nps_compute (tp.h), the one NPS computation
 * of the project. */

/* Rating summaries: n, mean, and the share (percent) of "top" ratings. Returns n. */
typedef struct creport_rating {
    int64_t n;
    double mean;    /* 0 when n == 0 */
    double top_pct; /* csat: % of 4-5; ces: % of 5-7; smiley4: % of 3-4 */
} creport_rating;

/* Summarises dist[0..hi-lo] of a kind with values lo..hi, counting values >= top as "top". */
void creport_rating_compute(const int64_t *dist, int lo, int hi, int top, creport_rating *out);

/* How a report groups answers. */
typedef enum creport_by {
    CREPORT_BY_DAY = 0,
    CREPORT_BY_STORE = 1,
    CREPORT_BY_TOUCHPOINT = 2,
    CREPORT_BY_DEVICE = 3,
} creport_by;

/* Parses "day", "store", "touchpoint" or "device". Returns TP_OK or TP_ERR_INVALID. */
tp_err creport_by_parse(const char *s, creport_by *out);
const char *creport_by_name(creport_by by);

/* Most groups and distinct choice ids per group a report holds (a bound; more are counted in
 * "other"). */
#define CREPORT_MAX_GROUPS 5000
#define CREPORT_MAX_CHOICES 32

typedef struct creport creport;

/* Returns a new empty report grouped by `by`, or NULL when out of memory. Free with
 * creport_free. */
creport *creport_new(creport_by by);
void creport_free(creport *r);

/* Adds count answers of one (group, kind, value/choice). key is the group's name (for by=day the
 * local day "YYYY-MM-DD"); value is ignored for choice; choice is ignored for ratings (may be
 * NULL). uncorrected marks answers whose time could not be corrected (counted and flagged).
 * Values outside the kind's range are ignored. Returns TP_OK, TP_ERR_TOO_LARGE (group bound) or
 * TP_ERR_NOMEM. */
tp_err creport_add(creport *r, const char *key, tp_kind kind, int value, const char *choice,
                   bool uncorrected, int64_t count);

/* Renders {"from","to","by","survey","tz","groups":[...],"total":{...}} with groups sorted by key.
 * survey may be NULL. Returns a string the caller frees with free(), or NULL (out of memory). */
char *creport_json(const creport *r, const char *from, const char *to, const char *survey,
                   const char *tz);

#endif /* TP_CREPORT_H */
