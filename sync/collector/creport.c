/*
 * creport.c - report arithmetic and JSON (see creport.h).
 */
#include "creport.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void creport_rating_compute(const int64_t *dist, int lo, int hi, int top, creport_rating *out)
{
    double sum = 0;
    int64_t ntop = 0;
    memset(out, 0, sizeof *out);
    for (int v = lo; v <= hi; v++) {
        out->n += dist[v - lo];
        sum += (double)v * (double)dist[v - lo];
        if (v >= top)
            ntop += dist[v - lo];
    }
    if (out->n > 0) {
        out->mean = sum / (double)out->n;
        out->top_pct = 100.0 * (double)ntop / (double)out->n;
    }
}

static const char *const by_names[] = {"day", "store", "touchpoint", "device"};

tp_err creport_by_parse(const char *s, creport_by *out)
{
    for (int i = 0; s && i < 4; i++) {
        if (strcmp(s, by_names[i]) == 0) {
            *out = (creport_by)i;
            return TP_OK;
        }
    }
    return TP_ERR_INVALID;
}

const char *creport_by_name(creport_by by)
{
    return (unsigned)by < 4 ? by_names[by] : "?";
}

/* ---- Groups ---------------------------------------------------------------------------------- */

typedef struct rchoice {
    char id[TP_ID_MAX + 1];
    int64_t n;
} rchoice;

typedef struct rgroup {
    char key[TP_ID_MAX + 1];
    int64_t n, uncorrected;
    int64_t nps[11], csat[5], ces[7], smiley[4];
    int64_t choice_n, choice_other;
    rchoice choices[CREPORT_MAX_CHOICES];
    size_t n_choices;
} rgroup;

struct creport {
    creport_by by;
    rgroup **groups; /* sorted by key */
    size_t n, cap;
};

creport *creport_new(creport_by by)
{
    creport *r = calloc(1, sizeof *r);
    if (r)
        r->by = by;
    return r;
}

void creport_free(creport *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->groups[i]);
    free(r->groups);
    free(r);
}

/* Finds or inserts the group named key (binary search keeps the array sorted). */
static tp_err find_group(creport *r, const char *key, rgroup **out)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->groups[mid]->key, key);
        if (c == 0) {
            *out = r->groups[mid];
            return TP_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    tp_err rc = tp_array_grow((void **)&r->groups, &r->cap, r->n + 1, sizeof *r->groups,
                              CREPORT_MAX_GROUPS);
    if (rc != TP_OK)
        return rc;
    rgroup *g = calloc(1, sizeof *g);
    if (!g)
        return TP_ERR_NOMEM;
    tp_strlcpy(g->key, key, sizeof g->key);
    memmove(&r->groups[lo + 1], &r->groups[lo], (r->n - lo) * sizeof *r->groups);
    r->groups[lo] = g;
    r->n++;
    *out = g;
    return TP_OK;
}

static void group_add(rgroup *g, tp_kind kind, int value, const char *choice, bool uncorrected,
                      int64_t count)
{
    int lo = 0, hi = -1;
    if (kind != TP_KIND_CHOICE &&
        (tp_kind_range(kind, &lo, &hi) != TP_OK || value < lo || value > hi))
        return;
    switch (kind) {
    case TP_KIND_NPS: g->nps[value] += count; break;
    case TP_KIND_CSAT: g->csat[value - 1] += count; break;
    case TP_KIND_CES: g->ces[value - 1] += count; break;
    case TP_KIND_SMILEY4: g->smiley[value - 1] += count; break;
    case TP_KIND_CHOICE: {
        g->choice_n += count;
        size_t i = 0;
        for (; i < g->n_choices; i++)
            if (choice && strcmp(g->choices[i].id, choice) == 0)
                break;
        if (i == g->n_choices) {
            if (!choice || g->n_choices == CREPORT_MAX_CHOICES) {
                g->choice_other += count;
                break;
            }
            tp_strlcpy(g->choices[i].id, choice, sizeof g->choices[i].id);
            g->n_choices++;
        }
        g->choices[i].n += count;
        break;
    }
    }
    g->n += count;
    if (uncorrected)
        g->uncorrected += count;
}

tp_err creport_add(creport *r, const char *key, tp_kind kind, int value, const char *choice,
                   bool uncorrected, int64_t count)
{
    rgroup *g = NULL;
    if ((unsigned)kind >= TP_KIND_COUNT || count <= 0)
        return TP_OK;
    tp_err rc = find_group(r, key ? key : "", &g);
    if (rc == TP_OK)
        group_add(g, kind, value, choice, uncorrected, count);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* Rounds to 2 decimals so the JSON is stable and readable. */
static double r2(double x)
{
    return round(x * 100.0) / 100.0;
}

static cJSON *dist_json(const int64_t *d, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateNumber((double)d[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static bool add_rating(cJSON *o, const char *name, const int64_t *dist, int lo, int hi, int top,
                       const char *top_name)
{
    creport_rating rt;
    creport_rating_compute(dist, lo, hi, top, &rt);
    cJSON *k = cJSON_AddObjectToObject(o, name);
    cJSON *d = dist_json(dist, hi - lo + 1);
    if (!k || !d || !cJSON_AddItemToObject(k, "distribution", d)) {
        cJSON_Delete(d);
        return false;
    }
    if (!cJSON_AddNumberToObject(k, "n", (double)rt.n))
        return false;
    if (rt.n == 0)
        return cJSON_AddNullToObject(k, "mean") && cJSON_AddNullToObject(k, top_name);
    return cJSON_AddNumberToObject(k, "mean", r2(rt.mean)) &&
           cJSON_AddNumberToObject(k, top_name, r2(rt.top_pct));
}

static cJSON *group_json(const rgroup *g, const char *key)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    tp_nps nps;
    tp_nps_compute(g->nps, &nps);
    cJSON *nj = NULL, *d = NULL, *cj = NULL, *cc = NULL;
    bool ok = (!key || cJSON_AddStringToObject(o, "key", key)) &&
              cJSON_AddNumberToObject(o, "n", (double)g->n) &&
              cJSON_AddNumberToObject(o, "uncorrected", (double)g->uncorrected) &&
              (nj = cJSON_AddObjectToObject(o, "nps")) &&
              cJSON_AddNumberToObject(nj, "n", (double)nps.n) &&
              cJSON_AddNumberToObject(nj, "promoters", (double)nps.promoters) &&
              cJSON_AddNumberToObject(nj, "passives", (double)nps.passives) &&
              cJSON_AddNumberToObject(nj, "detractors", (double)nps.detractors);
    if (ok && nps.n > 0)
        ok = cJSON_AddNumberToObject(nj, "score", r2(nps.score)) &&
             cJSON_AddNumberToObject(nj, "moe", r2(nps.moe));
    else if (ok)
        ok = cJSON_AddNullToObject(nj, "score") && cJSON_AddNullToObject(nj, "moe");
    if (ok) {
        d = dist_json(g->nps, 11);
        ok = d && cJSON_AddItemToObject(nj, "distribution", d);
        if (!ok)
            cJSON_Delete(d);
    }
    ok = ok && add_rating(o, "csat", g->csat, 1, 5, 4, "pct_4_5") &&
         add_rating(o, "ces", g->ces, 1, 7, 5, "pct_5_7") &&
         add_rating(o, "smiley4", g->smiley, 1, 4, 3, "pct_3_4") &&
         (cj = cJSON_AddObjectToObject(o, "choice")) &&
         cJSON_AddNumberToObject(cj, "n", (double)g->choice_n) &&
         (cc = cJSON_AddObjectToObject(cj, "counts")) &&
         cJSON_AddNumberToObject(cj, "other", (double)g->choice_other);
    for (size_t i = 0; ok && i < g->n_choices; i++)
        ok = cJSON_AddNumberToObject(cc, g->choices[i].id, (double)g->choices[i].n) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *creport_json(const creport *r, const char *from, const char *to, const char *survey,
                   const char *tz)
{
    char *text = NULL;
    rgroup *total = calloc(1, sizeof *total);
    cJSON *root = cJSON_CreateObject();
    cJSON *groups = NULL, *tj = NULL;
    if (!total || !root || !cJSON_AddStringToObject(root, "from", from) ||
        !cJSON_AddStringToObject(root, "to", to) ||
        !cJSON_AddStringToObject(root, "by", creport_by_name(r->by)) ||
        !(survey ? cJSON_AddStringToObject(root, "survey", survey)
                 : cJSON_AddNullToObject(root, "survey")) ||
        !cJSON_AddStringToObject(root, "tz", tz ? tz : "") ||
        !(groups = cJSON_AddArrayToObject(root, "groups")))
        goto out;
    for (size_t i = 0; i < r->n; i++) {
        const rgroup *g = r->groups[i];
        cJSON *gj = group_json(g, g->key);
        if (!gj || !cJSON_AddItemToArray(groups, gj)) {
            cJSON_Delete(gj);
            goto out;
        }
        for (int v = 0; v < 11; v++)
            total->nps[v] += g->nps[v];
        for (int v = 0; v < 5; v++)
            total->csat[v] += g->csat[v];
        for (int v = 0; v < 7; v++)
            total->ces[v] += g->ces[v];
        for (int v = 0; v < 4; v++)
            total->smiley[v] += g->smiley[v];
        for (size_t c = 0; c < g->n_choices; c++)
            group_add(total, TP_KIND_CHOICE, 0, g->choices[c].id, false, g->choices[c].n);
        total->choice_n += g->choice_other;
        total->choice_other += g->choice_other;
        total->n += g->n;
        total->uncorrected += g->uncorrected;
    }
    /* group_add counted the choices into n a second time; the sum of the groups is the truth. */
    total->n = 0;
    for (size_t i = 0; i < r->n; i++)
        total->n += r->groups[i]->n;
    tj = group_json(total, NULL);
    if (!tj || !cJSON_AddItemToObject(root, "total", tj)) {
        cJSON_Delete(tj);
        goto out;
    }
    text = cJSON_PrintUnformatted(root);
out:
    cJSON_Delete(root);
    free(total);
    return text;
}
