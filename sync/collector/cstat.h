/*
 * cstat.h - the honest-comparison arithmetic of the read side (sync/PROTOCOL.md 13.1, 13.4,
 * 13.5): scores with their 95% interval, better / worse than an average only when the interval
 * excludes it, changes only when each period's score lies outside the other's interval, ranks
 * that skip groups with too few customers. Pure; unit-tested (tests/unit/test_cstat.c).
 */
#ifndef TP_CSTAT_H
#define TP_CSTAT_H

#include "tp.h"

#define CSTAT_MIN_CUSTOMERS 30

/* A score with its 95% interval. valid is false when n == 0 (all numbers 0 then). */
typedef struct cstat_ci {
    int64_t n;
    double score, moe, low, high;
    bool valid;
} cstat_ci;

/* NPS of dist[0..10] with the adjusted-Wald margin (tp_nps_compute); low/high clamped to
 * -100..100. */
void cstat_nps(const int64_t dist[11], cstat_ci *out);

/* Percent x of n with the adjusted-Wald interval of a proportion (n' = n + 4,
 * p' = (x + 2) / n', moe = 196 sqrt(p'(1 - p') / n')); low/high clamped to 0..100. */
void cstat_prop(int64_t x, int64_t n, cstat_ci *out);

/* The score of a rating kind's histogram (dist[v - lo] for v in lo..hi): nps -> NPS, csat -> % of
 * 4-5, ces -> % of 5-7, smiley4 -> % of 3-4. hist is indexed by the value itself (hist[v]). */
void cstat_kind(tp_kind kind, const int64_t hist[11], cstat_ci *out);

/* +1 when row's interval lies above avg, -1 below, 0 when it includes avg. */
int cstat_vs_average(const cstat_ci *row, double avg);

/* +1 / -1 when cur and prev differ beyond both intervals (prev's score outside cur's interval and
 * cur's score outside prev's), else 0. */
int cstat_change(const cstat_ci *cur, const cstat_ci *prev);

/* +1 / -1 when |cur - prev| exceeds sqrt(moe_cur^2 + moe_prev^2), else 0 (the journey's trend). */
int cstat_trend(const cstat_ci *cur, const cstat_ci *prev);

/* Ranks n scores: rank[i] = 1 + the number of eligible scores strictly greater than score[i] for
 * eligible[i] (so equal scores share a rank), 0 for the others. */
void cstat_rank(const double *score, const bool *eligible, size_t n, int *rank);

#endif /* TP_CSTAT_H */
