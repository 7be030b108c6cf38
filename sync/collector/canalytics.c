/*
 * canalytics.c - the read side's requests (see canalytics.h): filters and scope resolved against
 * the tree (PROTOCOL 13.1), the period ranges that make a year read month rows, the report
 * (13.2), and the routing of the other views (canalytics_views.c, canalytics_dev.c) and of the
 * CSV export (canalytics_csv.c).
 */
#include "canalytics_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creport.h"
#include "ctz.h"

#define MAX_DAYS 1000

/* ---- Small helpers --------------------------------------------------------------------------- */

double an_r2(double x)
{
    return round(x * 100.0) / 100.0;
}

const char *an_arg(an_req *r, const char *key)
{
    const char *v = r->arg ? r->arg(r->cls, key) : NULL;
    return v && *v ? v : NULL;
}

void an_day_string(int day, char out[11])
{
    unsigned u = (unsigned)day;
    snprintf(out, 11, "%04u-%02u-%02u", (u / 10000) % 10000, (u / 100) % 100, u % 100);
}

static int64_t day_num(int day)
{
    return ctz_days_from_civil(day / 10000, (day / 100) % 100, day % 100);
}

static int day_of_num(int64_t n)
{
    int y, m, d;
    ctz_civil_from_days(n, &y, &m, &d);
    return y * 10000 + m * 100 + d;
}

void an_previous(const an_req *r, int *from, int *to)
{
    int64_t a = day_num(r->f.from_day), b = day_num(r->f.to_day);
    *to = day_of_num(a - 1);
    *from = day_of_num(a - 1 - (b - a));
}

cJSON *an_ci_json(const cstat_ci *ci)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (ci->valid) {
        cJSON_AddNumberToObject(o, "score", an_r2(ci->score));
        cJSON_AddNumberToObject(o, "moe", an_r2(ci->moe));
        cJSON_AddNumberToObject(o, "low", an_r2(ci->low));
        cJSON_AddNumberToObject(o, "high", an_r2(ci->high));
    } else {
        cJSON_AddNullToObject(o, "score");
        cJSON_AddNullToObject(o, "moe");
        cJSON_AddNullToObject(o, "low");
        cJSON_AddNullToObject(o, "high");
    }
    cJSON_AddNumberToObject(o, "n", (double)ci->n);
    return o;
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

bool an_add_common(an_req *r, cJSON *o)
{
    cJSON *f = cJSON_CreateObject();
    if (!f || !cJSON_AddItemToObject(o, "filters", f)) {
        cJSON_Delete(f);
        return false;
    }
    cJSON_AddItemToObject(f, "from", cJSON_CreateString(r->f.from_s));
    cJSON_AddItemToObject(f, "to", cJSON_CreateString(r->f.to_s));
    cJSON_AddItemToObject(f, "survey", str_or_null(r->f.survey));
    cJSON_AddItemToObject(f, "version",
                          r->f.version ? cJSON_CreateNumber(r->f.version) : cJSON_CreateNull());
    cJSON_AddItemToObject(f, "node", str_or_null(r->f.node));
    cJSON_AddItemToObject(f, "store", str_or_null(r->f.store));
    cJSON_AddItemToObject(f, "touchpoint", str_or_null(r->f.touchpoint));
    return cJSON_AddStringToObject(o, "from", r->f.from_s) &&
           cJSON_AddStringToObject(o, "to", r->f.to_s) &&
           cJSON_AddStringToObject(o, "scope", r->scope);
}

/* ---- The tree -------------------------------------------------------------------------------- */

static void tree_free(an_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->path[i]);
        cJSON_Delete(t->settings[i]);
    }
    free(t->path);
    free(t->settings);
    memset(t, 0, sizeof *t);
}

static tp_err tree_load(an_req *r)
{
    cstore_rows *rows = NULL;
    tp_err rc = cstore_tx_exec(r->tx, "SELECT path, settings_json FROM nodes ORDER BY path", NULL,
                               0, &rows, r->err, sizeof r->err);
    if (rc != TP_OK)
        return rc;
    r->tree.path = calloc(rows->n + 1, sizeof *r->tree.path);
    r->tree.settings = calloc(rows->n + 1, sizeof *r->tree.settings);
    if (!r->tree.path || !r->tree.settings)
        rc = TP_ERR_NOMEM;
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *p = cstore_rows_get(rows, i, 0), *js = cstore_rows_get(rows, i, 1);
        if (!p || !(r->tree.path[r->tree.n] = strdup(p))) {
            rc = p ? TP_ERR_NOMEM : TP_OK;
            continue;
        }
        r->tree.settings[r->tree.n++] = cJSON_Parse(js ? js : "{}");
    }
    cstore_rows_free(rows);
    return rc;
}

static int depth(const char *path)
{
    int d = *path ? 1 : 0;
    for (; *path; path++)
        d += *path == '/';
    return d;
}

/* Segment i (0-based) of path into out; "" when absent. */
static void segment(const char *path, int i, char *out, size_t outlen)
{
    for (; i > 0 && path; i--) {
        path = strchr(path, '/');
        path = path ? path + 1 : NULL;
    }
    out[0] = '\0';
    if (!path)
        return;
    size_t n = strcspn(path, "/");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, path, n);
    out[n] = '\0';
}

static bool under(const char *path, const char *top)
{
    size_t n = strlen(top);
    return !*top || (strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/'));
}

const cJSON *an_tree_setting(const an_tree *t, const char *path, const char *key)
{
    const cJSON *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!under(path, t->path[i]))
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->settings[i], key);
        if (v && !cJSON_IsNull(v) && strlen(t->path[i]) >= best_len) {
            best = v;
            best_len = strlen(t->path[i]);
        }
    }
    return best;
}

void an_tree_region(const an_tree *t, const char *store, char *out, size_t outlen)
{
    char seg[TP_ID_MAX + 1];
    out[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        if (depth(t->path[i]) != 3)
            continue;
        segment(t->path[i], 2, seg, sizeof seg);
        if (strcmp(seg, store) == 0) {
            size_t n = (size_t)(strrchr(t->path[i], '/') - t->path[i]);
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, t->path[i], n);
            out[n] = '\0';
            return;
        }
    }
}

const char *an_tree_touchpoint(const an_tree *t, const char *store, const char *tp)
{
    char s3[TP_ID_MAX + 1], s4[TP_ID_MAX + 1];
    for (size_t i = 0; i < t->n; i++) {
        if (depth(t->path[i]) != 4)
            continue;
        segment(t->path[i], 2, s3, sizeof s3);
        segment(t->path[i], 3, s4, sizeof s4);
        if (strcmp(s3, store) == 0 && strcmp(s4, tp) == 0)
            return t->path[i];
    }
    return NULL;
}

static bool tree_has(const an_tree *t, const char *path)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->path[i], path) == 0)
            return true;
    return false;
}

/* ---- Filters and scope ----------------------------------------------------------------------- */

typedef struct strset {
    char (*v)[TP_ID_MAX + 1];
    size_t n, cap;
} strset;

static bool set_has(const strset *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

static tp_err set_add(strset *s, const char *x)
{
    if (set_has(s, x))
        return TP_OK;
    tp_err rc = tp_array_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v, AN_MAX_STORES);
    if (rc == TP_OK)
        tp_strlcpy(s->v[s->n++], x, sizeof *s->v);
    return rc;
}

/* The stores under a node: its own store segment at depth >= 3, else every store node below. */
static tp_err stores_under(const an_tree *t, const char *path, strset *out)
{
    char seg[TP_ID_MAX + 1];
    if (depth(path) >= 3) {
        segment(path, 2, seg, sizeof seg);
        return set_add(out, seg);
    }
    tp_err rc = TP_OK;
    for (size_t i = 0; rc == TP_OK && i < t->n; i++) {
        if (depth(t->path[i]) < 3 || !under(t->path[i], path))
            continue;
        segment(t->path[i], 2, seg, sizeof seg);
        rc = set_add(out, seg);
    }
    return rc;
}

static bool path_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 8 * (TP_ID_MAX + 1) || p[0] == '/' || p[n - 1] == '/' || strstr(p, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return false;
    }
    return true;
}

static int fail(an_req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(an_req *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return status;
}

/* Parses a day parameter. Returns 0 or 400 with the message. */
static int parse_day(an_req *r, const char *name, const char *s, int *day)
{
    int y = 0, m = 0, d = 0, used = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 ||
        s[4] != '-' || s[7] != '-')
        return fail(r, 400, "%s: '%.16s' is not a date (YYYY-MM-DD)", name, s);
    if (y < 1970)
        return fail(r, 400, "%s: %s is before 1970-01-01, the earliest day a report covers", name,
                    s);
    if (m < 1 || m > 12 || d < 1 ||
        day_of_num(ctz_days_from_civil(y, m, d)) != y * 10000 + m * 100 + d)
        return fail(r, 400, "%s: %s is not a day of the calendar", name, s);
    *day = y * 10000 + m * 100 + d;
    return 0;
}

/* Today (YYYYMMDD) where it is latest: in the collector's own zone or in any zone a node of the
 * tree sets. The rollups count each answer on its store's local day, so a default range ending
 * on the collector's today would leave out today's answers of stores east of it (a collector on
 * UTC serving Vietnamese stores between 17:00 and 24:00 UTC). */
static int latest_today(const an_req *r)
{
    char day[11];
    int y = 0, m = 0, d = 0;
    tp_local_day_start(r->now_ms, day);
    sscanf(day, "%d-%d-%d", &y, &m, &d);
    int best = y * 10000 + m * 100 + d;
    const char *seen[16]; /* zones already read (a chain sets a few, often on every store) */
    size_t n_seen = 0;
    for (size_t i = 0; i < r->tree.n; i++) {
        const cJSON *tz = cJSON_GetObjectItemCaseSensitive(r->tree.settings[i], "timezone");
        ctz *z = NULL;
        char err[TP_ERRMSG_MAX];
        struct tm tm;
        bool again = false;
        for (size_t k = 0; cJSON_IsString(tz) && k < n_seen && !again; k++)
            again = strcmp(seen[k], tz->valuestring) == 0;
        if (!cJSON_IsString(tz) || again || ctz_open(tz->valuestring, &z, err, sizeof err) != TP_OK)
            continue; /* a zone that does not open was refused when it was set */
        if (n_seen < sizeof seen / sizeof seen[0])
            seen[n_seen++] = tz->valuestring;
        ctz_local_tm(z, r->now_ms, &tm);
        ctz_free(z);
        int local = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
        if (local > best)
            best = local;
    }
    return best;
}

/* Resolves the common filters (13.1). Returns 0, or an HTTP status with r->err. */
static int resolve(an_req *r)
{
    an_filter *f = &r->f;
    const char *from = an_arg(r, "from"), *to = an_arg(r, "to"), *v = an_arg(r, "version");
    int st = 0;
    if (to) {
        if ((st = parse_day(r, "to", to, &f->to_day)))
            return st;
    } else {
        f->to_day = latest_today(r);
    }
    if (from) {
        if ((st = parse_day(r, "from", from, &f->from_day)))
            return st;
    } else {
        f->from_day = day_of_num(day_num(f->to_day) - 29);
    }
    if (f->from_day > f->to_day)
        return fail(r, 400, "from is after to");
    if (day_num(f->to_day) - day_num(f->from_day) >= MAX_DAYS)
        return fail(r, 400, "at most 1000 days per report");
    an_day_string(f->from_day, f->from_s);
    an_day_string(f->to_day, f->to_s);
    f->survey = an_arg(r, "survey");
    if (f->survey && !tp_id_valid(f->survey))
        return fail(r, 400, "survey: not a valid id");
    if (v) {
        char *end = NULL;
        long n = strtol(v, &end, 10);
        if (!f->survey || end == v || *end || n < 1 || n > 1000000)
            return fail(r, 400, "version: an integer >= 1, with survey=ID");
        f->version = (int)n;
    }
    f->node = an_arg(r, "node");
    f->store = an_arg(r, "store");
    f->touchpoint = an_arg(r, "touchpoint");
    if (f->node && !path_ok(f->node))
        return fail(r, 400, "node: not a node path");
    if (f->store && !tp_id_valid(f->store))
        return fail(r, 400, "store: not a valid id");
    if (f->touchpoint && !tp_id_valid(f->touchpoint))
        return fail(r, 400, "touchpoint: not a valid id");

    strset scope = {0}, node = {0};
    tp_err rc = TP_OK;
    const char *sc = r->scope;
    if (*sc) {
        rc = stores_under(&r->tree, sc, &scope);
        if (depth(sc) >= 4) {
            segment(sc, 2, f->tp_store, sizeof f->tp_store);
            segment(sc, 3, f->tp, sizeof f->tp);
        }
    }
    if (rc == TP_OK && f->node) {
        if (!under(f->node, sc)) {
            st = fail(r, 403, "node %s is outside this token's scope %s", f->node, sc);
            goto out;
        }
        if (!tree_has(&r->tree, f->node)) {
            st = fail(r, 404, "node %s is not in the tree", f->node);
            goto out;
        }
        rc = stores_under(&r->tree, f->node, &node);
        if (depth(f->node) >= 4) {
            segment(f->node, 2, f->tp_store, sizeof f->tp_store);
            segment(f->node, 3, f->tp, sizeof f->tp);
        }
    }
    if (rc == TP_OK && f->store && *sc && !set_has(&scope, f->store)) {
        st = fail(r, 403, "store %s is outside this token's scope %s", f->store, sc);
        goto out;
    }
    if (f->touchpoint && f->tp[0] && strcmp(f->touchpoint, f->tp) != 0) {
        st = *sc && depth(sc) >= 4
                 ? fail(r, 403, "touchpoint %s is outside this token's scope %s", f->touchpoint, sc)
                 : 0;
        if (st)
            goto out;
    }
    if (f->touchpoint)
        tp_strlcpy(f->tp, f->touchpoint, sizeof f->tp);
    /* The allowed stores: the intersection of the scope's, the node's and store=. */
    if (rc == TP_OK && (*sc || f->node || f->store)) {
        strset all = {0};
        const strset *base = *sc ? &scope : f->node ? &node : NULL;
        if (base) {
            for (size_t i = 0; rc == TP_OK && i < base->n; i++)
                if ((!f->node || set_has(&node, base->v[i])) &&
                    (!f->store || strcmp(f->store, base->v[i]) == 0))
                    rc = set_add(&all, base->v[i]);
        } else {
            rc = set_add(&all, f->store);
        }
        f->has_stores = true;
        f->stores = all.v;
        f->n_stores = all.n;
    }
    if (rc != TP_OK)
        st = fail(r, 500, "out of memory");
out:
    free(scope.v);
    free(node.v);
    return st;
}

bool an_store_visible(const an_req *r, const char *store)
{
    if (!r->f.has_stores)
        return true;
    for (size_t i = 0; i < r->f.n_stores; i++)
        if (strcmp(r->f.stores[i], store) == 0)
            return true;
    return false;
}

/* ---- Period ranges and statements ------------------------------------------------------------ */

static int last_day(int y, int m)
{
    int64_t a = ctz_days_from_civil(y, m, 1);
    int64_t b = m == 12 ? ctz_days_from_civil(y + 1, 1, 1) : ctz_days_from_civil(y, m + 1, 1);
    return (int)(b - a);
}

/* Up to 3 period ranges covering [from, to]: leading days, whole months (YYYYMM), trailing
 * days. Returns how many. */
static int period_ranges(int from, int to, bool days_only, int out[3][2])
{
    if (days_only) {
        out[0][0] = from;
        out[0][1] = to;
        return 1;
    }
    int fy = from / 10000, fm = (from / 100) % 100, fd = from % 100;
    int ty = to / 10000, tm = (to / 100) % 100, td = to % 100;
    int first = fd == 1 ? fy * 100 + fm : (fm == 12 ? (fy + 1) * 100 + 1 : fy * 100 + fm + 1);
    int last = td == last_day(ty, tm) ? ty * 100 + tm
                                      : (tm == 1 ? (ty - 1) * 100 + 12 : ty * 100 + tm - 1);
    if (first > last) {
        out[0][0] = from;
        out[0][1] = to;
        return 1;
    }
    int n = 0;
    if (fd != 1)
        out[n][0] = from, out[n][1] = fy * 10000 + fm * 100 + 31, n++;
    out[n][0] = first, out[n][1] = last, n++;
    if (td != last_day(ty, tm))
        out[n][0] = ty * 10000 + tm * 100 + 1, out[n][1] = to, n++;
    return n;
}

static const char *pnum(an_params *p, int64_t v)
{
    if (p->nnum >= 16)
        return "0";
    snprintf(p->num[p->nnum], sizeof p->num[0], "%lld", (long long)v);
    return p->num[p->nnum++];
}

/* Appends prefix and the next parameter's placeholder ($n) for value v. */
static tp_err param(an_params *p, tp_buf *sql, const char *prefix, const char *v)
{
    if (p->n >= AN_PARAMS_MAX)
        return TP_ERR_TOO_LARGE;
    p->p[p->n++] = v;
    return tp_buf_addf(sql, "%s$%d", prefix, p->n);
}

tp_err an_where(an_req *r, tp_buf *sql, an_params *p, int from_day, int to_day, bool days_only)
{
    int rg[3][2];
    int n = period_ranges(from_day, to_day, days_only, rg);
    tp_err rc = tp_buf_addf(sql, " WHERE (");
    for (int i = 0; rc == TP_OK && i < n; i++) {
        rc = tp_buf_addf(sql, "%s", i ? " OR " : "");
        if (rc == TP_OK)
            rc = param(p, sql, "period BETWEEN ", pnum(p, rg[i][0]));
        if (rc == TP_OK)
            rc = param(p, sql, " AND ", pnum(p, rg[i][1]));
    }
    if (rc == TP_OK)
        rc = tp_buf_addf(sql, ")");
    const an_filter *f = &r->f;
    if (rc == TP_OK && f->has_stores) {
        if (f->n_stores == 0)
            rc = tp_buf_addf(sql, " AND 1 = 0");
        for (size_t i = 0; rc == TP_OK && i < f->n_stores; i++)
            rc = param(p, sql, i ? "," : " AND store IN (", f->stores[i]);
        if (rc == TP_OK && f->n_stores)
            rc = tp_buf_addf(sql, ")");
    }
    if (rc == TP_OK && f->tp_store[0])
        rc = param(p, sql, " AND store = ", f->tp_store);
    if (rc == TP_OK && f->tp[0])
        rc = param(p, sql, " AND touchpoint = ", f->tp);
    if (rc == TP_OK && f->survey)
        rc = param(p, sql, " AND survey = ", f->survey);
    if (rc == TP_OK && f->version)
        rc = param(p, sql, " AND version = ", pnum(p, f->version));
    return rc;
}

tp_err an_query(an_req *r, const char *sql, an_params *p, cstore_rows **rows)
{
    return cstore_tx_exec(r->tx, sql, p->p, p->n, rows, r->err, sizeof r->err);
}

static int64_t cell_i64(const cstore_rows *rows, size_t i, size_t c)
{
    const char *v = cstore_rows_get(rows, i, c);
    return v ? strtoll(v, NULL, 10) : 0;
}

/* ---- The report (13.2) ----------------------------------------------------------------------- */

static const char *const by_names[BY_N] = {"day",   "week",       "month",  "hour",
                                           "store", "touchpoint", "region", "device"};
static const char *const by_expr[BY_N] = {
    "period", "period", "period", "hour", "store", "store || '/' || touchpoint", "store", "device"};

void an_group_key(an_req *r, int by, const char *raw, char *out, size_t outlen)
{
    int v = raw ? (int)strtol(raw, NULL, 10) : 0;
    switch (by) {
    case BY_DAY: an_day_string(v, out); return;
    case BY_MONTH:
        if (v >= 1000000)
            v /= 100;
        snprintf(out, outlen, "%04d-%02d", v / 100, v % 100);
        return;
    case BY_WEEK: {
        int64_t n = day_num(v);
        int dow = (int)(((n + 3) % 7 + 7) % 7); /* 0 = Monday */
        int64_t thu = n - dow + 3;              /* the ISO week's Thursday names its year */
        int y, m, d;
        ctz_civil_from_days(thu, &y, &m, &d);
        int64_t jan1 = ctz_days_from_civil(y, 1, 1);
        snprintf(out, outlen, "%04d-W%02d", y, (int)((thu - jan1) / 7 + 1));
        return;
    }
    case BY_HOUR: snprintf(out, outlen, "%02d", v); return;
    case BY_REGION: an_tree_region(&r->tree, raw ? raw : "", out, outlen); return;
    default: tp_strlcpy(out, raw ? raw : "", outlen); return;
    }
}

static void add_interval(cJSON *o, tp_kind kind)
{
    int64_t hist[11] = {0};
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "distribution");
    int lo = kind == TP_KIND_NPS ? 0 : 1, i = 0;
    for (const cJSON *x = d ? d->child : NULL; x && lo + i <= 10; x = x->next, i++)
        hist[lo + i] = (int64_t)x->valuedouble;
    cstat_ci ci;
    cstat_kind(kind, hist, &ci);
    cJSON *j = an_ci_json(&ci);
    static const char *const keys[] = {"score", "moe", "low", "high"};
    for (int k = 0; j && k < 4; k++) {
        cJSON *x = cJSON_DetachItemFromObjectCaseSensitive(j, keys[k]);
        if (x && !cJSON_ReplaceItemInObjectCaseSensitive(o, keys[k], x) &&
            !cJSON_AddItemToObject(o, keys[k], x))
            cJSON_Delete(x);
    }
    cJSON_Delete(j);
}

/* Adds customers, answers, corrected, uncorrected (v) and the intervals to a report group. */
static void decorate(cJSON *g, const int64_t v[4])
{
    cJSON_DeleteItemFromObjectCaseSensitive(g, "n");
    cJSON_DeleteItemFromObjectCaseSensitive(g, "uncorrected");
    cJSON_AddNumberToObject(g, "customers", (double)v[0]);
    cJSON_AddNumberToObject(g, "answers", (double)v[1]);
    cJSON_AddNumberToObject(g, "n", (double)v[1]);
    cJSON_AddNumberToObject(g, "corrected", (double)v[2]);
    cJSON_AddNumberToObject(g, "uncorrected", (double)v[3]);
    static const struct {
        const char *name;
        tp_kind kind;
    } k[] = {{"nps", TP_KIND_NPS},
             {"csat", TP_KIND_CSAT},
             {"ces", TP_KIND_CES},
             {"smiley4", TP_KIND_SMILEY4}};
    for (size_t i = 0; i < 4; i++) {
        cJSON *o = cJSON_GetObjectItemCaseSensitive(g, k[i].name);
        if (o)
            add_interval(o, k[i].kind);
    }
}

/* by=hour: customers, answers, ratings and negative ones per local hour (ru_hour). */
static cJSON *report_hours(an_req *r, cJSON *root, int *status)
{
    tp_buf sql;
    an_params p = {0};
    cstore_rows *rows = NULL;
    int64_t tot[4] = {0};
    tp_buf_init(&sql, (size_t)1 << 20);
    tp_err rc = tp_buf_addf(&sql, "SELECT hour, SUM(customers), SUM(answers), SUM(rated),"
                                  " SUM(negative) FROM ru_hour");
    if (rc == TP_OK)
        rc = an_where(r, &sql, &p, r->f.from_day, r->f.to_day, false);
    if (rc == TP_OK)
        rc = tp_buf_addf(&sql, " GROUP BY hour ORDER BY hour");
    if (rc == TP_OK)
        rc = an_query(r, sql.p, &p, &rows);
    tp_buf_free(&sql);
    if (rc != TP_OK) {
        *status = 503;
        cJSON_Delete(root);
        return NULL;
    }
    cJSON *groups = cJSON_AddArrayToObject(root, "groups");
    for (size_t i = 0; i < rows->n; i++) {
        char key[8];
        int64_t v[4];
        for (int c = 0; c < 4; c++)
            tot[c] += v[c] = cell_i64(rows, i, (size_t)c + 1);
        an_group_key(r, BY_HOUR, cstore_rows_get(rows, i, 0), key, sizeof key);
        cJSON *g = cJSON_CreateObject();
        cJSON_AddItemToArray(groups, g);
        cJSON_AddStringToObject(g, "key", key);
        cJSON_AddNumberToObject(g, "customers", (double)v[0]);
        cJSON_AddNumberToObject(g, "answers", (double)v[1]);
        cJSON_AddNumberToObject(g, "n", (double)v[1]);
        cJSON_AddNumberToObject(g, "rated", (double)v[2]);
        cJSON_AddNumberToObject(g, "negative", (double)v[3]);
        if (v[2])
            cJSON_AddNumberToObject(g, "negative_share",
                                    an_r2(100.0 * (double)v[3] / (double)v[2]));
        else
            cJSON_AddNullToObject(g, "negative_share");
    }
    cstore_rows_free(rows);
    cJSON *t = cJSON_AddObjectToObject(root, "total");
    cJSON_AddNumberToObject(t, "customers", (double)tot[0]);
    cJSON_AddNumberToObject(t, "answers", (double)tot[1]);
    cJSON_AddNumberToObject(t, "n", (double)tot[1]);
    cJSON_AddNumberToObject(t, "rated", (double)tot[2]);
    cJSON_AddNumberToObject(t, "negative", (double)tot[3]);
    return root;
}

cJSON *an_report(an_req *r, int *status)
{
    const char *bys = an_arg(r, "by");
    int by = BY_DAY;
    if (bys) {
        for (by = 0; by < BY_N && strcmp(bys, by_names[by]) != 0; by++)
            ;
        if (by == BY_N) {
            *status = fail(r, 400,
                           "by: expected day, week, month, hour, store, touchpoint, region or "
                           "device");
            return NULL;
        }
    }
    const char *tz = getenv("TZ"); /* --tz sets it, as collector.c names it */
    if (!tz || !*tz)
        tz = "localtime";
    cJSON *root = cJSON_CreateObject();
    if (!root || !cJSON_AddStringToObject(root, "by", by_names[by]) ||
        !cJSON_AddItemToObject(root, "survey", str_or_null(r->f.survey)) ||
        !cJSON_AddStringToObject(root, "tz", tz) || !an_add_common(r, root)) {
        cJSON_Delete(root);
        *status = 500;
        return NULL;
    }
    if (r->f.version)
        cJSON_AddNumberToObject(root, "survey_version", r->f.version);
    if (by == BY_HOUR)
        return an_report_comments(r, by, report_hours(r, root, status), status);

    bool days_only = by == BY_DAY || by == BY_WEEK;
    creport *rep = creport_new(CREPORT_BY_STORE);
    cJSON *extra = cJSON_CreateObject(); /* key -> [customers, answers, corrected, uncorrected] */
    static const char *const sel[3] = {
        "SUM(customers), SUM(answers), SUM(corrected), SUM(uncorrected) FROM ru_cust",
        "kind, SUM(c0), SUM(c1), SUM(c2), SUM(c3), SUM(c4), SUM(c5), SUM(c6), SUM(c7), SUM(c8),"
        " SUM(c9), SUM(c10) FROM ru_rating",
        "choice, SUM(n), survey, version, question FROM ru_choice"};
    cJSON *picks = cJSON_CreateObject(); /* choice id -> its label's version (choice_labels) */
    tp_err rc = rep && extra && picks ? TP_OK : TP_ERR_NOMEM;
    for (int q = 0; rc == TP_OK && q < 3; q++) {
        tp_buf sql;
        an_params p = {0};
        cstore_rows *rows = NULL;
        tp_buf_init(&sql, (size_t)1 << 20);
        rc = tp_buf_addf(&sql, "SELECT %s, %s", by_expr[by], sel[q]);
        if (rc == TP_OK)
            rc = an_where(r, &sql, &p, r->f.from_day, r->f.to_day, days_only);
        if (rc == TP_OK)
            rc = tp_buf_addf(&sql, " GROUP BY 1%s", q == 2 ? ", 2, 4, 5, 6" : q ? ", 2" : "");
        if (rc == TP_OK)
            rc = an_query(r, sql.p, &p, &rows);
        tp_buf_free(&sql);
        for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
            char key[2 * TP_ID_MAX + 2];
            an_group_key(r, by, cstore_rows_get(rows, i, 0), key, sizeof key);
            if (q == 0) {
                cJSON *a = cJSON_GetObjectItemCaseSensitive(extra, key);
                if (!a) {
                    a = cJSON_AddArrayToObject(extra, key);
                    for (int c = 0; c < 4; c++)
                        cJSON_AddItemToArray(a, cJSON_CreateNumber(0));
                }
                int c = 0;
                for (cJSON *x = a ? a->child : NULL; x; x = x->next, c++)
                    cJSON_SetNumberValue(x,
                                         x->valuedouble + (double)cell_i64(rows, i, (size_t)c + 1));
                continue;
            }
            tp_kind kind = TP_KIND_CHOICE;
            if (q == 1 && tp_kind_parse(cstore_rows_get(rows, i, 1), &kind) != TP_OK)
                continue;
            if (q == 1) {
                for (int v = 0; rc == TP_OK && v <= 10; v++)
                    rc = creport_add(rep, key, kind, v, NULL, false,
                                     cell_i64(rows, i, (size_t)v + 2));
            } else {
                rc = creport_add(rep, key, TP_KIND_CHOICE, 0, cstore_rows_get(rows, i, 1), false,
                                 cell_i64(rows, i, 2));
                if (rc == TP_OK && cstore_rows_get(rows, i, 1))
                    rc = an_label_pick(r, picks, cstore_rows_get(rows, i, 1),
                                       cstore_rows_get(rows, i, 3), (int)cell_i64(rows, i, 4),
                                       cstore_rows_get(rows, i, 5));
            }
        }
        if (rc != TP_OK && rows)
            snprintf(r->err, sizeof r->err, "report: too many groups");
        cstore_rows_free(rows);
    }
    char *text = rc == TP_OK ? creport_json(rep, r->f.from_s, r->f.to_s, r->f.survey, tz) : NULL;
    cJSON *made = text ? cJSON_Parse(text) : NULL;
    free(text);
    creport_free(rep);
    if (!made) {
        *status = rc == TP_ERR_TOO_LARGE ? 413 : rc == TP_OK || rc == TP_ERR_NOMEM ? 500 : 503;
        cJSON_Delete(picks);
        cJSON_Delete(extra);
        cJSON_Delete(root);
        return NULL;
    }
    int64_t tot[4] = {0};
    cJSON *groups = cJSON_DetachItemFromObjectCaseSensitive(made, "groups");
    cJSON *total = cJSON_DetachItemFromObjectCaseSensitive(made, "total");
    for (cJSON *g = groups ? groups->child : NULL; g; g = g->next) {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(g, "key");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(extra, key ? key->valuestring : "");
        int64_t v[4] = {0};
        int c = 0;
        for (const cJSON *x = a ? a->child : NULL; x && c < 4; x = x->next, c++)
            tot[c] += v[c] = (int64_t)x->valuedouble;
        decorate(g, v);
    }
    if (total)
        decorate(total, tot);
    cJSON_AddItemToObject(root, "groups", groups ? groups : cJSON_CreateArray());
    cJSON_AddItemToObject(root, "total", total ? total : cJSON_CreateObject());
    /* The words of the choice counts (13.2): the newest labelled version's, null when none. */
    cJSON *labels = cJSON_AddObjectToObject(root, "choice_labels");
    const cJSON *pk;
    cJSON_ArrayForEach(pk, picks)
    {
        cJSON_AddItemToObject(labels, pk->string,
                              an_label_picked(r, picks, pk->string, pk->string));
    }
    cJSON_Delete(picks);
    cJSON_Delete(made);
    cJSON_Delete(extra);
    return an_report_comments(r, by, root, status);
}

/* ---- Routing --------------------------------------------------------------------------------- */

typedef cJSON *(*view_fn)(an_req *r, int *status);

static const struct {
    const char *url, *name;
    view_fn fn;
} views[] = {
    {"/v1/report", "report", an_report},    {"/v1/reasons", "reasons", an_reasons},
    {"/v1/journey", "journey", an_journey}, {"/v1/rankings", "rankings", an_rankings},
    {"/v1/heatmap", "heatmap", an_heatmap}, {"/v1/nodes", "nodes", an_nodes},
};

bool canalytics_serves(const char *url)
{
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        if (strcmp(url, views[i].url) == 0)
            return true;
    return strcmp(url, "/v1/devices") == 0 || strcmp(url, "/v1/export.csv") == 0;
}

static capi_reply status_reply(an_req *r, int status)
{
    switch (status) {
    case 400: return capi_error(400, "malformed", r->err);
    case 403: return capi_error(403, "forbidden", r->err);
    case 404: return capi_error(404, "not_found", r->err);
    case 413: return capi_error(413, "too_large", r->err);
    case 503: {
        fprintf(stderr, "touchpoint-collector: read: %s\n", r->err);
        capi_reply rep = capi_error(503, "store_unavailable", "the store cannot answer now");
        rep.retry_after = 5;
        return rep;
    }
    default: return capi_error(500, "internal", "out of memory");
    }
}

capi_reply canalytics_get(cstore *s, const char *url, const char *scope, canalytics_arg_fn arg,
                          void *cls, int64_t now_ms, int silent_after_s)
{
    an_req *r = calloc(1, sizeof *r);
    capi_reply rep = {0};
    int status = 0;
    cJSON *view = NULL;
    const char *name = NULL;
    if (!r)
        return capi_error(500, "internal", "out of memory");
    r->s = s;
    r->scope = scope ? scope : "";
    r->arg = arg;
    r->cls = cls;
    r->now_ms = now_ms;
    bool csv = strcmp(url, "/v1/export.csv") == 0;
    view_fn fn = NULL;
    if (csv) {
        name = an_arg(r, "view") ? an_arg(r, "view") : "report";
        for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
            if (strcmp(name, views[i].name) == 0 && views[i].fn != an_nodes)
                fn = views[i].fn;
        if (!fn) {
            status = fail(r, 400, "view: expected report, reasons, rankings, heatmap or journey");
            goto out;
        }
    } else {
        for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
            if (strcmp(url, views[i].url) == 0)
                fn = views[i].fn;
    }
    if (cstore_tx_begin(s, false, &r->tx, r->err, sizeof r->err) != TP_OK ||
        tree_load(r) != TP_OK) {
        status = 503;
        goto out;
    }
    if ((status = resolve(r)) != 0)
        goto out;
    view = fn ? fn(r, &status) : an_devices(r, silent_after_s, &status);
    if (view) {
        rep.status = 200;
        if (csv)
            rep.body = an_csv(name, view);
        else
            rep.body = cJSON_PrintUnformatted(view);
        if (!rep.body)
            status = 500;
    } else if (!status) {
        status = 503;
    }
out:
    if (r->tx)
        cstore_tx_rollback(r->tx);
    if (!view || !rep.body) {
        free(rep.body);
        rep = status_reply(r, status);
    }
    cJSON_Delete(view);
    tree_free(&r->tree);
    clabel_free(r->labels);
    free(r->f.stores);
    free(r);
    return rep;
}
