/*
 * calert_window.c - the pure parts of alert evaluation: windows aligned on a store's local
 * midnight (in its zone, ctz.h) and the interval tests of low_score.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert.h"

#define DAY_MS 86400000LL

void calert_window(const ctz *z, int64_t at_ms, int minutes, int64_t *from_ms, int64_t *to_ms)
{
    int64_t w = (int64_t)(minutes > 0 ? minutes : 1) * 60000;
    int64_t mid = ctz_local_midnight(z, at_ms);
    /* Days last 23 to 25 hours: 25 h after this midnight is in the next day at the latest. */
    int64_t next = ctz_local_midnight(z, mid + 25 * 3600000LL);
    if (next <= mid)
        next = mid + DAY_MS;
    int64_t k = (at_ms - mid) / w;
    *from_ms = mid + k * w;
    *to_ms = *from_ms + w < next ? *from_ms + w : next;
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
