/*
 * cstat.c - intervals, comparisons and ranks (see cstat.h).
 */
#include "cstat.h"

#include <math.h>
#include <string.h>

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

void cstat_nps(const int64_t dist[11], cstat_ci *out)
{
    tp_nps nps;
    tp_nps_compute(dist, &nps);
    memset(out, 0, sizeof *out);
    out->n = nps.n;
    if (nps.n == 0)
        return;
    out->valid = true;
    out->score = nps.score;
    out->moe = nps.moe;
    out->low = clamp(nps.score - nps.moe, -100, 100);
    out->high = clamp(nps.score + nps.moe, -100, 100);
}

void cstat_prop(int64_t x, int64_t n, cstat_ci *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n <= 0)
        return;
    double n2 = (double)n + 4.0, p2 = ((double)x + 2.0) / n2;
    out->valid = true;
    out->score = 100.0 * (double)x / (double)n;
    out->moe = 196.0 * sqrt(p2 * (1.0 - p2) / n2);
    out->low = clamp(out->score - out->moe, 0, 100);
    out->high = clamp(out->score + out->moe, 0, 100);
}

void cstat_kind(tp_kind kind, const int64_t hist[11], cstat_ci *out)
{
    int lo = 0, hi = -1, top = 0;
    switch (kind) {
    case TP_KIND_NPS: cstat_nps(hist, out); return;
    case TP_KIND_CSAT: lo = 1, hi = 5, top = 4; break;
    case TP_KIND_CES: lo = 1, hi = 7, top = 5; break;
    case TP_KIND_SMILEY4: lo = 1, hi = 4, top = 3; break;
    case TP_KIND_CHOICE: break;
    }
    int64_t n = 0, x = 0;
    for (int v = lo; v <= hi; v++) {
        n += hist[v];
        x += v >= top ? hist[v] : 0;
    }
    cstat_prop(x, n, out);
}

int cstat_vs_average(const cstat_ci *row, double avg)
{
    if (!row->valid)
        return 0;
    return row->low > avg ? 1 : row->high < avg ? -1 : 0;
}

int cstat_change(const cstat_ci *cur, const cstat_ci *prev)
{
    if (!cur->valid || !prev->valid)
        return 0;
    bool outside = (prev->score < cur->low || prev->score > cur->high) &&
                   (cur->score < prev->low || cur->score > prev->high);
    if (!outside)
        return 0;
    return cur->score > prev->score ? 1 : -1;
}

int cstat_trend(const cstat_ci *cur, const cstat_ci *prev)
{
    if (!cur->valid || !prev->valid)
        return 0;
    double d = cur->score - prev->score;
    if (fabs(d) <= sqrt(cur->moe * cur->moe + prev->moe * prev->moe))
        return 0;
    return d > 0 ? 1 : -1;
}

void cstat_rank(const double *score, const bool *eligible, size_t n, int *rank)
{
    for (size_t i = 0; i < n; i++) {
        rank[i] = 0;
        if (!eligible[i])
            continue;
        int r = 1;
        for (size_t j = 0; j < n; j++)
            r += eligible[j] && score[j] > score[i];
        rank[i] = r;
    }
}
