/*
 * canalytics_views.c - the read side's views beyond the report (sync/PROTOCOL.md 13.3-13.6,
 * 13.8): reasons by band, the journey map, honest rankings, the hour x weekday heat map, and the
 * tree for the filters. Each reads the rollups through an_where (periods, filters, scope).
 */
#include "canalytics_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t cell_i64(const cstore_rows *rows, size_t i, size_t c)
{
    const char *v = cstore_rows_get(rows, i, c);
    return v ? strtoll(v, NULL, 10) : 0;
}

static const char *cell(const cstore_rows *rows, size_t i, size_t c)
{
    const char *v = cstore_rows_get(rows, i, c);
    return v ? v : "";
}

/* SELECT head + where(period range) + tail. */
static tp_err select_rows(an_req *r, const char *head, int from, int to, const char *tail,
                          cstore_rows **rows)
{
    tp_buf sql;
    an_params p = {0};
    tp_buf_init(&sql, (size_t)1 << 20);
    tp_err rc = tp_buf_addf(&sql, "%s", head);
    if (rc == TP_OK)
        rc = an_where(r, &sql, &p, from, to, false);
    if (rc == TP_OK)
        rc = tp_buf_addf(&sql, "%s", tail);
    if (rc == TP_OK)
        rc = an_query(r, sql.p, &p, rows);
    else
        snprintf(r->err, sizeof r->err, "query too large");
    tp_buf_free(&sql);
    return rc;
}

static cJSON *fail_store(cJSON *o, int *status)
{
    cJSON_Delete(o);
    *status = 503;
    return NULL;
}

static cJSON *new_view(an_req *r)
{
    cJSON *o = cJSON_CreateObject();
    if (o && !an_add_common(r, o)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- Bands ----------------------------------------------------------------------------------- */

static const char *const band_ids[4] = {"negative", "neutral", "positive", "none"};

static const char *band_name(const char *kind, int band)
{
    static const char *const names[4][4] = {
        {"detractors", "passives", "promoters", "no rating"},
        {"dissatisfied", "neutral", "satisfied", "no rating"},
        {"difficult", "neutral", "easy", "no rating"},
        {"unhappy", "", "happy", "no rating"},
    };
    int k = strcmp(kind, "csat") == 0      ? 1
            : strcmp(kind, "ces") == 0     ? 2
            : strcmp(kind, "smiley4") == 0 ? 3
                                           : 0;
    if (band == 3)
        return "no rating";
    return kind[0] ? names[k][band] : band_ids[band];
}

static int band_index(const char *b)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(b, band_ids[i]) == 0)
            return i;
    return 3;
}

/* ---- Reasons (13.3) -------------------------------------------------------------------------- */

static int option_cmp(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    double na = cJSON_GetObjectItemCaseSensitive(a, "n")->valuedouble;
    double nb = cJSON_GetObjectItemCaseSensitive(b, "n")->valuedouble;
    if (na != nb)
        return na > nb ? -1 : 1;
    return strcmp(cJSON_GetObjectItemCaseSensitive(a, "choice")->valuestring,
                  cJSON_GetObjectItemCaseSensitive(b, "choice")->valuestring);
}

/* Sorts each band's options by n and adds the shares; drops neutral for smiley4. */
static void finish_question(cJSON *q, const char *kind)
{
    if (!q)
        return;
    cJSON *bands = cJSON_GetObjectItemCaseSensitive(q, "bands");
    cJSON_AddItemToObject(q, "rating_kind",
                          kind[0] ? cJSON_CreateString(kind) : cJSON_CreateNull());
    cJSON *next = NULL;
    for (cJSON *b = bands ? bands->child : NULL; b; b = next) {
        next = b->next;
        int bi = band_index(cJSON_GetObjectItemCaseSensitive(b, "band")->valuestring);
        if (bi == 1 && strcmp(kind, "smiley4") == 0) {
            cJSON_Delete(cJSON_DetachItemViaPointer(bands, b));
            continue;
        }
        cJSON_AddStringToObject(b, "band_name", band_name(kind, bi));
        cJSON *opts = cJSON_DetachItemFromObjectCaseSensitive(b, "options");
        int n = cJSON_GetArraySize(opts);
        cJSON **v = calloc((size_t)n + 1, sizeof *v);
        double total = cJSON_GetObjectItemCaseSensitive(b, "n")->valuedouble;
        int k = 0;
        while (v && opts && opts->child)
            v[k++] = cJSON_DetachItemViaPointer(opts, opts->child);
        if (v)
            qsort(v, (size_t)k, sizeof *v, option_cmp);
        cJSON *sorted = cJSON_AddArrayToObject(b, "options");
        for (int i = 0; i < k; i++) {
            double on = cJSON_GetObjectItemCaseSensitive(v[i], "n")->valuedouble;
            cJSON_AddNumberToObject(v[i], "share", total > 0 ? an_r2(100.0 * on / total) : 0);
            cJSON_AddItemToArray(sorted, v[i]);
        }
        free(v);
        cJSON_Delete(opts);
    }
}

static cJSON *new_question(cJSON *arr, const char *survey, int version, const char *question)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, q);
    cJSON_AddStringToObject(q, "survey", survey);
    cJSON_AddNumberToObject(q, "version", version);
    cJSON_AddStringToObject(q, "question", question);
    cJSON_AddNumberToObject(q, "n", 0);
    cJSON *bands = cJSON_AddArrayToObject(q, "bands");
    for (int i = 0; i < 4; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddItemToArray(bands, b);
        cJSON_AddStringToObject(b, "band", band_ids[i]);
        cJSON_AddNumberToObject(b, "n", 0);
        cJSON_AddArrayToObject(b, "options");
    }
    return q;
}

static void add_n(cJSON *o, int64_t n)
{
    cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "n");
    cJSON_SetNumberValue(x, x->valuedouble + (double)n);
}

cJSON *an_reasons(an_req *r, int *status)
{
    static const char *const bys[] = {"all", "store", "touchpoint", "version"};
    static const char *const exprs[] = {"'' AS g", "store", "store || '/' || touchpoint",
                                        "survey || '@' || version"};
    const char *by = an_arg(r, "by") ? an_arg(r, "by") : "all";
    int b = 0;
    while (b < 4 && strcmp(by, bys[b]) != 0)
        b++;
    if (b == 4) {
        snprintf(r->err, sizeof r->err, "by: expected all, store, touchpoint or version");
        *status = 400;
        return NULL;
    }
    cJSON *o = new_view(r);
    cstore_rows *rows = NULL;
    char head[256];
    snprintf(head, sizeof head,
             "SELECT %s, survey, version, question, band, rating_kind, choice, SUM(n) FROM"
             " ru_choice",
             exprs[b]);
    if (!o || select_rows(r, head, r->f.from_day, r->f.to_day,
                          " GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4", &rows) != TP_OK)
        return fail_store(o, status);
    cJSON_AddStringToObject(o, "by", by);
    cJSON *groups = cJSON_AddArrayToObject(o, "groups"), *g = NULL, *qs = NULL, *q = NULL;
    char gkey[2 * TP_ID_MAX + 2] = "", qkey[3 * TP_ID_MAX + 24] = "", kind[10] = "";
    for (size_t i = 0; i < rows->n; i++) {
        const char *gk = cell(rows, i, 0);
        char k[sizeof qkey];
        snprintf(k, sizeof k, "%s\x1f%s\x1f%s", cell(rows, i, 1), cell(rows, i, 2),
                 cell(rows, i, 3));
        if (!g || strcmp(gk, gkey) != 0) {
            finish_question(q, kind);
            q = NULL;
            g = cJSON_CreateObject();
            cJSON_AddItemToArray(groups, g);
            cJSON_AddStringToObject(g, "key", gk);
            qs = cJSON_AddArrayToObject(g, "questions");
            tp_strlcpy(gkey, gk, sizeof gkey);
        }
        if (!q || strcmp(k, qkey) != 0) {
            finish_question(q, kind);
            q = new_question(qs, cell(rows, i, 1), (int)cell_i64(rows, i, 2), cell(rows, i, 3));
            tp_strlcpy(qkey, k, sizeof qkey);
            kind[0] = '\0';
        }
        int bi = band_index(cell(rows, i, 4));
        if (bi != 3 && !kind[0])
            tp_strlcpy(kind, cell(rows, i, 5), sizeof kind);
        int64_t n = cell_i64(rows, i, 7);
        if (n == 0)
            continue;
        cJSON *band = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(q, "bands"), bi);
        add_n(q, n);
        add_n(band, n);
        cJSON *opts = cJSON_GetObjectItemCaseSensitive(band, "options"), *opt = NULL;
        for (cJSON *x = opts->child; x && !opt; x = x->next)
            if (strcmp(cJSON_GetObjectItemCaseSensitive(x, "choice")->valuestring,
                       cell(rows, i, 6)) == 0)
                opt = x;
        if (!opt) {
            opt = cJSON_CreateObject();
            cJSON_AddItemToArray(opts, opt);
            cJSON_AddStringToObject(opt, "choice", cell(rows, i, 6));
            cJSON_AddNumberToObject(opt, "n", 0);
        }
        add_n(opt, n);
    }
    finish_question(q, kind);
    cstore_rows_free(rows);
    if (an_label_reasons(r, o) != TP_OK)
        return fail_store(o, status);
    return o;
}

/* ---- Journey (13.4) -------------------------------------------------------------------------- */

typedef struct jtp {
    char store[TP_ID_MAX + 1], tp[TP_ID_MAX + 1];
    int64_t customers, answers, hist[2][4][11];
    char reason_q[TP_ID_MAX + 1], reason_c[TP_ID_MAX + 1];
    int64_t reason_n, neg_n;
} jtp;

typedef struct jlist {
    jtp *v;
    size_t n, cap;
} jlist;

static jtp *jfind(jlist *l, const char *store, const char *tp)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].store, store) == 0 && strcmp(l->v[i].tp, tp) == 0)
            return &l->v[i];
    if (tp_array_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, 100000) != TP_OK)
        return NULL;
    jtp *j = &l->v[l->n++];
    memset(j, 0, sizeof *j);
    tp_strlcpy(j->store, store, sizeof j->store);
    tp_strlcpy(j->tp, tp, sizeof j->tp);
    return j;
}

static void jkey(const jtp *j, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", j->store, j->tp);
}

static int kind_index(const char *k)
{
    tp_kind kind;
    if (tp_kind_parse(k, &kind) != TP_OK || kind == TP_KIND_CHOICE)
        return -1;
    return (int)kind;
}

static int jtp_cmp(const void *x, const void *y)
{
    const jtp *a = x, *b = y;
    int c = strcmp(a->store, b->store);
    return c ? c : strcmp(a->tp, b->tp);
}

static const char *const rating_sql =
    "SELECT store, touchpoint, kind, SUM(c0), SUM(c1), SUM(c2), SUM(c3), SUM(c4), SUM(c5),"
    " SUM(c6), SUM(c7), SUM(c8), SUM(c9), SUM(c10) FROM ru_rating";

cJSON *an_journey(an_req *r, int *status)
{
    int pf, pt;
    char ps[11], pe[11];
    jlist l = {0};
    cstore_rows *rows = NULL;
    cJSON *picks = cJSON_CreateObject(); /* store/touchpoint -> the top reason's label source */
    char key[2 * TP_ID_MAX + 2];
    an_previous(r, &pf, &pt);
    cJSON *o = new_view(r);
    if (!o)
        goto fail;
    if (select_rows(r, "SELECT store, touchpoint, SUM(customers), SUM(answers) FROM ru_cust",
                    r->f.from_day, r->f.to_day, " GROUP BY store, touchpoint", &rows) != TP_OK)
        goto fail;
    for (size_t i = 0; i < rows->n; i++) {
        jtp *j = jfind(&l, cell(rows, i, 0), cell(rows, i, 1));
        if (j) {
            j->customers += cell_i64(rows, i, 2);
            j->answers += cell_i64(rows, i, 3);
        }
    }
    cstore_rows_free(rows);
    rows = NULL;
    for (int per = 0; per < 2; per++) {
        if (select_rows(r, rating_sql, per ? pf : r->f.from_day, per ? pt : r->f.to_day,
                        " GROUP BY store, touchpoint, kind", &rows) != TP_OK)
            goto fail;
        for (size_t i = 0; i < rows->n; i++) {
            int k = kind_index(cell(rows, i, 2));
            jtp *j = jfind(&l, cell(rows, i, 0), cell(rows, i, 1));
            for (int v = 0; j && k >= 0 && v <= 10; v++)
                j->hist[per][k][v] += cell_i64(rows, i, (size_t)v + 3);
        }
        cstore_rows_free(rows);
        rows = NULL;
    }
    /* Per survey version for the labels: a (question, choice) run of rows is one count. */
    if (!picks ||
        select_rows(r,
                    "SELECT store, touchpoint, question, choice, survey, version, SUM(n) FROM"
                    " ru_choice",
                    r->f.from_day, r->f.to_day,
                    " AND band = 'negative' GROUP BY store, touchpoint, question, choice, survey,"
                    " version ORDER BY store, touchpoint, question, choice",
                    &rows) != TP_OK)
        goto fail;
    for (size_t i = 0, end; i < rows->n; i = end) {
        jtp *j = jfind(&l, cell(rows, i, 0), cell(rows, i, 1));
        int64_t n = 0;
        for (end = i; end < rows->n; end++) {
            bool same = true;
            for (size_t c = 0; c < 4 && same; c++)
                same = strcmp(cell(rows, end, c), cell(rows, i, c)) == 0;
            if (!same)
                break;
            n += cell_i64(rows, end, 6);
        }
        if (!j)
            continue;
        j->neg_n += n;
        if (n > j->reason_n || (n == j->reason_n && strcmp(cell(rows, i, 3), j->reason_c) < 0)) {
            j->reason_n = n;
            tp_strlcpy(j->reason_q, cell(rows, i, 2), sizeof j->reason_q);
            tp_strlcpy(j->reason_c, cell(rows, i, 3), sizeof j->reason_c);
            /* The labels of this run's versions; a later top replaces the pick. */
            jkey(j, key, sizeof key);
            cJSON_DeleteItemFromObjectCaseSensitive(picks, key);
            for (size_t k = i; k < end; k++)
                if (an_label_pick(r, picks, key, cell(rows, k, 4), (int)cell_i64(rows, k, 5),
                                  j->reason_q) != TP_OK)
                    goto fail;
        }
    }
    cstore_rows_free(rows);
    rows = NULL;
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, jtp_cmp);
    an_day_string(pf, ps);
    an_day_string(pt, pe);
    cJSON *prev = cJSON_AddObjectToObject(o, "previous");
    cJSON_AddStringToObject(prev, "from", ps);
    cJSON_AddStringToObject(prev, "to", pe);
    cJSON *stages = cJSON_AddArrayToObject(o, "stages");
    static const char *const names[4] = {"before", "during", "after", "unassigned"};
    for (int s = 0; s < 4; s++) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddItemToArray(stages, st);
        cJSON_AddStringToObject(st, "stage", names[s]);
        cJSON *tps = cJSON_AddArrayToObject(st, "touchpoints");
        for (size_t i = 0; i < l.n; i++) {
            jtp *j = &l.v[i];
            const char *node = an_tree_touchpoint(&r->tree, j->store, j->tp);
            const cJSON *sv = node ? an_tree_setting(&r->tree, node, "stage") : NULL;
            int si = 3;
            for (int k = 0; k < 3 && cJSON_IsString(sv); k++)
                if (strcmp(sv->valuestring, names[k]) == 0)
                    si = k;
            if (si != s || (j->customers == 0 && j->answers == 0))
                continue;
            int kind = -1;
            int64_t best = 0;
            for (int k = 0; k < 4; k++) {
                int64_t n = 0;
                for (int v = 0; v <= 10; v++)
                    n += j->hist[0][k][v];
                if (n > best)
                    best = n, kind = k;
            }
            cJSON *t = cJSON_CreateObject();
            cJSON_AddItemToArray(tps, t);
            cJSON_AddStringToObject(t, "store", j->store);
            cJSON_AddStringToObject(t, "touchpoint", j->tp);
            cJSON_AddItemToObject(t, "node", node ? cJSON_CreateString(node) : cJSON_CreateNull());
            cJSON_AddNumberToObject(t, "customers", (double)j->customers);
            cJSON_AddNumberToObject(t, "answers", (double)j->answers);
            cstat_ci cur = {0}, old = {0};
            if (kind >= 0) {
                cstat_kind((tp_kind)kind, j->hist[0][kind], &cur);
                cstat_kind((tp_kind)kind, j->hist[1][kind], &old);
            }
            cJSON_AddItemToObject(t, "kind",
                                  kind >= 0 ? cJSON_CreateString(tp_kind_name((tp_kind)kind))
                                            : cJSON_CreateNull());
            cJSON_AddItemToObject(t, "score", an_ci_json(&cur));
            cJSON_AddItemToObject(t, "previous", an_ci_json(&old));
            if (cur.valid && old.valid) {
                int tr = cstat_trend(&cur, &old);
                cJSON_AddStringToObject(t, "trend", tr > 0 ? "up" : tr < 0 ? "down" : "flat");
                cJSON_AddNumberToObject(t, "delta", an_r2(cur.score - old.score));
            } else {
                cJSON_AddNullToObject(t, "trend");
                cJSON_AddNullToObject(t, "delta");
            }
            if (j->reason_n > 0) {
                cJSON *tr = cJSON_AddObjectToObject(t, "top_reason");
                cJSON_AddStringToObject(tr, "question", j->reason_q);
                cJSON_AddStringToObject(tr, "choice", j->reason_c);
                jkey(j, key, sizeof key);
                cJSON_AddItemToObject(tr, "question_label", an_label_picked(r, picks, key, NULL));
                cJSON_AddItemToObject(tr, "label", an_label_picked(r, picks, key, j->reason_c));
                cJSON_AddItemToObject(tr, "label_from", an_label_source(picks, key));
                cJSON_AddStringToObject(tr, "band", "negative");
                cJSON_AddNumberToObject(tr, "n", (double)j->reason_n);
                cJSON_AddNumberToObject(tr, "share",
                                        an_r2(100.0 * (double)j->reason_n / (double)j->neg_n));
            } else {
                cJSON_AddNullToObject(t, "top_reason");
            }
        }
    }
    free(l.v);
    cJSON_Delete(picks);
    return o;
fail:
    free(l.v);
    cJSON_Delete(picks);
    cstore_rows_free(rows);
    return fail_store(o, status);
}

/* ---- Rankings (13.5) ------------------------------------------------------------------------- */

typedef struct rrow {
    char key[2 * TP_ID_MAX + 2];
    int64_t customers[2], hist[2][11];
    cstat_ci ci[2];
    int rank;
} rrow;

static int rrow_cmp(const void *x, const void *y)
{
    const rrow *a = x, *b = y;
    bool fa = a->rank == 0, fb = b->rank == 0;
    if (fa != fb)
        return fa ? 1 : -1;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return strcmp(a->key, b->key);
}

static rrow *rfind(rrow **v, size_t *n, size_t *cap, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].key, key) == 0)
            return &(*v)[i];
    if (tp_array_grow((void **)v, cap, *n + 1, sizeof **v, 100000) != TP_OK)
        return NULL;
    rrow *x = &(*v)[(*n)++];
    memset(x, 0, sizeof *x);
    tp_strlcpy(x->key, key, sizeof x->key);
    return x;
}

cJSON *an_rankings(an_req *r, int *status)
{
    const char *of = an_arg(r, "of") ? an_arg(r, "of") : "store";
    const char *ks = an_arg(r, "kind") ? an_arg(r, "kind") : "nps";
    tp_kind kind;
    if (strcmp(of, "store") != 0 && strcmp(of, "touchpoint") != 0) {
        snprintf(r->err, sizeof r->err, "of: expected store or touchpoint");
        *status = 400;
        return NULL;
    }
    if (tp_kind_parse(ks, &kind) != TP_OK || kind == TP_KIND_CHOICE) {
        snprintf(r->err, sizeof r->err, "kind: expected nps, csat, ces or smiley4");
        *status = 400;
        return NULL;
    }
    const char *g = strcmp(of, "store") == 0 ? "store" : "store || '/' || touchpoint";
    int pf, pt;
    an_previous(r, &pf, &pt);
    rrow *v = NULL;
    size_t n = 0, cap = 0;
    int64_t avg_hist[11] = {0}, avg_cust = 0;
    cstore_rows *rows = NULL;
    cJSON *o = new_view(r);
    char head[512], tail[64];
    for (int per = 0; o && per < 2; per++) {
        int from = per ? pf : r->f.from_day, to = per ? pt : r->f.to_day;
        snprintf(head, sizeof head, "SELECT %s, SUM(customers) FROM ru_cust", g);
        if (select_rows(r, head, from, to, " GROUP BY 1", &rows) != TP_OK)
            goto fail;
        for (size_t i = 0; i < rows->n; i++) {
            rrow *x = rfind(&v, &n, &cap, cell(rows, i, 0));
            if (x)
                x->customers[per] += cell_i64(rows, i, 1);
            if (!per)
                avg_cust += cell_i64(rows, i, 1);
        }
        cstore_rows_free(rows);
        rows = NULL;
        snprintf(head, sizeof head,
                 "SELECT %s, SUM(c0), SUM(c1), SUM(c2), SUM(c3), SUM(c4), SUM(c5), SUM(c6),"
                 " SUM(c7), SUM(c8), SUM(c9), SUM(c10) FROM ru_rating",
                 g);
        snprintf(tail, sizeof tail, " AND kind = '%s' GROUP BY 1", tp_kind_name(kind));
        if (select_rows(r, head, from, to, tail, &rows) != TP_OK)
            goto fail;
        for (size_t i = 0; i < rows->n; i++) {
            rrow *x = rfind(&v, &n, &cap, cell(rows, i, 0));
            for (int k = 0; x && k <= 10; k++) {
                x->hist[per][k] += cell_i64(rows, i, (size_t)k + 1);
                if (!per)
                    avg_hist[k] += cell_i64(rows, i, (size_t)k + 1);
            }
        }
        cstore_rows_free(rows);
        rows = NULL;
    }
    if (!o)
        goto fail;
    cstat_ci avg;
    cstat_kind(kind, avg_hist, &avg);
    double *score = calloc(n + 1, sizeof *score);
    bool *ok = calloc(n + 1, sizeof *ok);
    int *rank = calloc(n + 1, sizeof *rank);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) { /* rows of the current period only */
        if (v[i].customers[0] == 0 && v[i].hist[0][0] == 0) {
            bool any = false;
            for (int k = 0; k <= 10; k++)
                any |= v[i].hist[0][k] != 0;
            if (!any)
                continue;
        }
        v[m++] = v[i];
    }
    n = m;
    for (size_t i = 0; score && ok && rank && i < n; i++) {
        cstat_kind(kind, v[i].hist[0], &v[i].ci[0]);
        cstat_kind(kind, v[i].hist[1], &v[i].ci[1]);
        score[i] = v[i].ci[0].score;
        ok[i] = v[i].customers[0] >= CSTAT_MIN_CUSTOMERS && v[i].ci[0].valid;
    }
    if (score && ok && rank) {
        cstat_rank(score, ok, n, rank);
        for (size_t i = 0; i < n; i++)
            v[i].rank = rank[i];
    }
    free(score);
    free(ok);
    free(rank);
    if (n)
        qsort(v, n, sizeof *v, rrow_cmp);
    char ps[11], pe[11];
    an_day_string(pf, ps);
    an_day_string(pt, pe);
    cJSON_AddStringToObject(o, "of", of);
    cJSON_AddStringToObject(o, "kind", tp_kind_name(kind));
    cJSON_AddNumberToObject(o, "min_customers", CSTAT_MIN_CUSTOMERS);
    cJSON *prev = cJSON_AddObjectToObject(o, "previous");
    cJSON_AddStringToObject(prev, "from", ps);
    cJSON_AddStringToObject(prev, "to", pe);
    cJSON *aj = an_ci_json(&avg);
    cJSON_AddNumberToObject(aj, "customers", (double)avg_cust);
    cJSON_AddItemToObject(o, "average", aj);
    cJSON *arr = cJSON_AddArrayToObject(o, "rows");
    for (size_t i = 0; i < n; i++) {
        rrow *x = &v[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, j);
        char st[TP_ID_MAX + 1];
        size_t sl = strcspn(x->key, "/");
        tp_strlcpy(st, x->key, sl + 1 < sizeof st ? sl + 1 : sizeof st);
        cJSON_AddStringToObject(j, "key", x->key);
        cJSON_AddStringToObject(j, "store", st);
        cJSON_AddItemToObject(
            j, "touchpoint", x->key[sl] ? cJSON_CreateString(x->key + sl + 1) : cJSON_CreateNull());
        cJSON_AddNumberToObject(j, "customers", (double)x->customers[0]);
        cJSON_AddItemToObject(j, "score", an_ci_json(&x->ci[0]));
        bool few = x->rank == 0;
        cJSON_AddBoolToObject(j, "too_few", few);
        cJSON_AddItemToObject(j, "rank", few ? cJSON_CreateNull() : cJSON_CreateNumber(x->rank));
        int vs = cstat_vs_average(&x->ci[0], avg.score);
        cJSON_AddItemToObject(j, "vs_average",
                              few || !avg.valid ? cJSON_CreateNull()
                                                : cJSON_CreateString(vs > 0   ? "better"
                                                                     : vs < 0 ? "worse"
                                                                              : "same"));
        cJSON_AddItemToObject(j, "previous", an_ci_json(&x->ci[1]));
        cJSON_AddNumberToObject(j, "previous_customers", (double)x->customers[1]);
        bool both = x->ci[0].valid && x->ci[1].valid;
        cJSON_AddItemToObject(j, "change",
                              both ? cJSON_CreateNumber(an_r2(x->ci[0].score - x->ci[1].score))
                                   : cJSON_CreateNull());
        int ch = cstat_change(&x->ci[0], &x->ci[1]);
        bool judge = both && !few && x->customers[1] >= CSTAT_MIN_CUSTOMERS;
        cJSON_AddBoolToObject(j, "change_significant", judge && ch != 0);
        cJSON_AddItemToObject(j, "change_direction",
                              judge ? cJSON_CreateString(ch > 0   ? "up"
                                                         : ch < 0 ? "down"
                                                                  : "same")
                                    : cJSON_CreateNull());
    }
    free(v);
    return o;
fail:
    free(v);
    cstore_rows_free(rows);
    return fail_store(o, status);
}

/* ---- Heat map (13.6) ------------------------------------------------------------------------- */

cJSON *an_heatmap(an_req *r, int *status)
{
    cstore_rows *rows = NULL;
    cJSON *o = new_view(r);
    if (!o || select_rows(r,
                          "SELECT dow, hour, SUM(customers), SUM(rated), SUM(negative) FROM"
                          " ru_hour",
                          r->f.from_day, r->f.to_day, " GROUP BY dow, hour ORDER BY dow, hour",
                          &rows) != TP_OK)
        return fail_store(o, status);
    static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    cJSON *w = cJSON_AddArrayToObject(o, "weekdays");
    for (int i = 0; i < 7; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(days[i]));
    cJSON *cells = cJSON_AddArrayToObject(o, "cells");
    int64_t max = 0;
    for (size_t i = 0; i < rows->n; i++) {
        int64_t c = cell_i64(rows, i, 2), rated = cell_i64(rows, i, 3), neg = cell_i64(rows, i, 4);
        if (c == 0 && rated == 0)
            continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToArray(cells, x);
        cJSON_AddNumberToObject(x, "weekday", (double)cell_i64(rows, i, 0));
        cJSON_AddNumberToObject(x, "hour", (double)cell_i64(rows, i, 1));
        cJSON_AddNumberToObject(x, "customers", (double)c);
        cJSON_AddNumberToObject(x, "rated", (double)rated);
        cJSON_AddNumberToObject(x, "negative", (double)neg);
        if (rated)
            cJSON_AddNumberToObject(x, "negative_share",
                                    an_r2(100.0 * (double)neg / (double)rated));
        else
            cJSON_AddNullToObject(x, "negative_share");
        if (c > max)
            max = c;
    }
    cJSON_AddNumberToObject(o, "max_customers", (double)max);
    cstore_rows_free(rows);
    return o;
}

/* ---- Nodes (13.8) ---------------------------------------------------------------------------- */

static bool is_under(const char *path, const char *top)
{
    size_t n = strlen(top);
    return !*top || (strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/'));
}

static void add_unique(cJSON *arr, const char *s)
{
    for (cJSON *x = arr->child; x; x = x->next)
        if (strcmp(x->valuestring, s) == 0)
            return;
    cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

cJSON *an_nodes(an_req *r, int *status)
{
    cJSON *o = cJSON_CreateObject();
    cstore_rows *rows = NULL;
    if (!o)
        return fail_store(o, status);
    cJSON_AddStringToObject(o, "scope", r->scope);
    cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
    cJSON *stores = cJSON_AddArrayToObject(o, "stores");
    cJSON *tps = cJSON_AddArrayToObject(o, "touchpoints");
    for (size_t i = 0; i < r->tree.n; i++) {
        const char *p = r->tree.path[i];
        bool in = is_under(p, r->scope), anc = !in && is_under(r->scope, p);
        if (!in && !anc)
            continue;
        int d = 1;
        for (const char *c = p; *c; c++)
            d += *c == '/';
        const char *last = strrchr(p, '/');
        const cJSON *tz = an_tree_setting(&r->tree, p, "timezone");
        const cJSON *stage = an_tree_setting(&r->tree, p, "stage");
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToArray(nodes, x);
        cJSON_AddStringToObject(x, "path", p);
        cJSON_AddNumberToObject(x, "depth", d);
        cJSON_AddStringToObject(x, "name", last ? last + 1 : p);
        cJSON_AddItemToObject(x, "timezone",
                              cJSON_IsString(tz) ? cJSON_CreateString(tz->valuestring)
                                                 : cJSON_CreateNull());
        cJSON_AddItemToObject(x, "stage",
                              cJSON_IsString(stage) ? cJSON_CreateString(stage->valuestring)
                                                    : cJSON_CreateNull());
        cJSON_AddBoolToObject(x, "in_scope", in);
        if (in && d >= 3) {
            char st[TP_ID_MAX + 1] = "", tp[2 * TP_ID_MAX + 2];
            const char *s3 = p;
            for (int k = 0; k < 2 && s3; k++)
                s3 = strchr(s3, '/') ? strchr(s3, '/') + 1 : NULL;
            if (s3) {
                tp_strlcpy(st, s3,
                           strcspn(s3, "/") + 1 < sizeof st ? strcspn(s3, "/") + 1 : sizeof st);
                add_unique(stores, st);
                if (d == 4) {
                    snprintf(tp, sizeof tp, "%s", s3);
                    add_unique(tps, tp);
                }
            }
        }
    }
    if (!*r->scope) { /* ids seen in the answers but in no node: unscoped readers only */
        if (cstore_tx_exec(r->tx,
                           "SELECT DISTINCT store, touchpoint FROM ru_cust WHERE period < 1000000"
                           " ORDER BY 1, 2",
                           NULL, 0, &rows, r->err, sizeof r->err) != TP_OK)
            return fail_store(o, status);
        for (size_t i = 0; i < rows->n; i++) {
            char tp[2 * TP_ID_MAX + 2];
            add_unique(stores, cell(rows, i, 0));
            snprintf(tp, sizeof tp, "%s/%s", cell(rows, i, 0), cell(rows, i, 1));
            add_unique(tps, tp);
        }
        cstore_rows_free(rows);
    }
    return o;
}
