/*
 * canalytics_csv.c - GET /v1/export.csv (sync/PROTOCOL.md 13.9): the rows of a view's JSON as
 * CSV, the same numbers as the JSON view of the same query. UTF-8 with a BOM (spreadsheets then
 * read Vietnamese right); fields quoted when needed; a text field that a spreadsheet would take
 * for a formula is prefixed with ' .
 */
#include "canalytics_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX ((size_t)64 << 20)

static const cJSON *path(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static void field_text(tp_buf *out, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    char *end = NULL;
    if ((s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') &&
        (strtod(s, &end), end == s || *end != '\0'))
        tp_buf_add(out, "'", 1);
    if (!quote) {
        tp_buf_add(out, s, strlen(s));
        return;
    }
    tp_buf_add(out, "\"", 1);
    for (; *s; s++)
        tp_buf_add(out, s, 1 + (*s == '"')); /* a quote is written twice */
    tp_buf_add(out, "\"", 1);
}

/* One cell from a JSON value: numbers as JSON prints them, strings, bools, "" for null. */
static void cell(tp_buf *out, const cJSON *v, bool first)
{
    if (!first)
        tp_buf_add(out, ",", 1);
    if (cJSON_IsString(v)) {
        field_text(out, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15)
            tp_buf_addf(out, "%lld", (long long)d);
        else
            tp_buf_addf(out, "%.2f", d);
    } else if (cJSON_IsBool(v)) {
        tp_buf_addf(out, "%s", cJSON_IsTrue(v) ? "true" : "false");
    }
}

static void row(tp_buf *out, const cJSON *const *v, int n)
{
    for (int i = 0; i < n; i++)
        cell(out, v[i], i == 0);
    tp_buf_add(out, "\r\n", 2);
}

static void report_rows(tp_buf *out, const cJSON *view)
{
    tp_buf_addf(out, "key,customers,answers,nps,nps_moe,nps_n,promoters,passives,detractors,"
                     "csat_pct_4_5,csat_n,ces_pct_5_7,ces_n,smiley4_pct_3_4,smiley4_n,"
                     "uncorrected\r\n");
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(view, "groups"))
    {
        const cJSON *v[] = {path(g, "key", NULL),         path(g, "customers", NULL),
                            path(g, "answers", NULL),     path(g, "nps", "score"),
                            path(g, "nps", "moe"),        path(g, "nps", "n"),
                            path(g, "nps", "promoters"),  path(g, "nps", "passives"),
                            path(g, "nps", "detractors"), path(g, "csat", "pct_4_5"),
                            path(g, "csat", "n"),         path(g, "ces", "pct_5_7"),
                            path(g, "ces", "n"),          path(g, "smiley4", "pct_3_4"),
                            path(g, "smiley4", "n"),      path(g, "uncorrected", NULL)};
        row(out, v, 16);
    }
}

static void reasons_rows(tp_buf *out, const cJSON *view)
{
    tp_buf_addf(out, "group,survey,version,question,band,choice,n,share,question_vi,question_en,"
                     "choice_vi,choice_en\r\n");
    const cJSON *g, *q, *b, *o;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(view, "groups"))
    {
        cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(g, "questions"))
        {
            cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(q, "bands"))
            {
                cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(b, "options"))
                {
                    const cJSON *v[] = {path(g, "key", NULL),
                                        path(q, "survey", NULL),
                                        path(q, "version", NULL),
                                        path(q, "question", NULL),
                                        path(b, "band", NULL),
                                        path(o, "choice", NULL),
                                        path(o, "n", NULL),
                                        path(o, "share", NULL),
                                        path(q, "question_label", "vi"),
                                        path(q, "question_label", "en"),
                                        path(o, "label", "vi"),
                                        path(o, "label", "en")};
                    row(out, v, 12);
                }
            }
        }
    }
}

static void rankings_rows(tp_buf *out, const cJSON *view)
{
    tp_buf_addf(out, "key,customers,score,moe,low,high,rank,too_few,vs_average,previous_score,"
                     "change,change_direction\r\n");
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(view, "rows"))
    {
        const cJSON *v[] = {path(x, "key", NULL),        path(x, "customers", NULL),
                            path(x, "score", "score"),   path(x, "score", "moe"),
                            path(x, "score", "low"),     path(x, "score", "high"),
                            path(x, "rank", NULL),       path(x, "too_few", NULL),
                            path(x, "vs_average", NULL), path(x, "previous", "score"),
                            path(x, "change", NULL),     path(x, "change_direction", NULL)};
        row(out, v, 12);
    }
}

static void heatmap_rows(tp_buf *out, const cJSON *view)
{
    tp_buf_addf(out, "weekday,hour,customers,rated,negative,negative_share\r\n");
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(view, "cells"))
    {
        const cJSON *v[] = {path(x, "weekday", NULL),   path(x, "hour", NULL),
                            path(x, "customers", NULL), path(x, "rated", NULL),
                            path(x, "negative", NULL),  path(x, "negative_share", NULL)};
        row(out, v, 6);
    }
}

static void journey_rows(tp_buf *out, const cJSON *view)
{
    tp_buf_addf(out, "stage,store,touchpoint,customers,kind,score,moe,previous_score,trend,"
                     "top_reason,top_reason_vi,top_reason_en\r\n");
    const cJSON *s, *t;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(view, "stages"))
    {
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "touchpoints"))
        {
            const cJSON *v[] = {path(s, "stage", NULL),
                                path(t, "store", NULL),
                                path(t, "touchpoint", NULL),
                                path(t, "customers", NULL),
                                path(t, "kind", NULL),
                                path(t, "score", "score"),
                                path(t, "score", "moe"),
                                path(t, "previous", "score"),
                                path(t, "trend", NULL),
                                path(t, "top_reason", "choice"),
                                path(path(t, "top_reason", "label"), "vi", NULL),
                                path(path(t, "top_reason", "label"), "en", NULL)};
            row(out, v, 12);
        }
    }
}

char *an_csv(const char *name, const cJSON *view)
{
    tp_buf out;
    tp_buf_init(&out, CSV_MAX);
    tp_buf_add(&out, "\xEF\xBB\xBF", 3);
    if (strcmp(name, "report") == 0)
        report_rows(&out, view);
    else if (strcmp(name, "reasons") == 0)
        reasons_rows(&out, view);
    else if (strcmp(name, "rankings") == 0)
        rankings_rows(&out, view);
    else if (strcmp(name, "heatmap") == 0)
        heatmap_rows(&out, view);
    else
        journey_rows(&out, view);
    return tp_buf_take(&out);
}
