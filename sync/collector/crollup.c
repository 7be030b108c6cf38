/*
 * crollup.c - the rollups of the read side, kept in the batch's transaction (see crollup.h).
 *
 * A batch is first folded in memory: its sessions are looked up once (one statement per 400),
 * every count goes into a delta map keyed by the rollup row, and the maps are written with
 * multi-row upserts in key order (so two PostgreSQL transactions touching the same rows lock
 * them in the same order). The same folding with sign -1 takes a purged customer out again.
 */
#include "crollup.h"
#include "cpgcopy.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpart.h"
#include "ctz.h"

#define SEP '\x1f'       /* between the fields of a delta key: never in an id */
#define LOOKUP_CHUNK 400 /* sessions per lookup statement */
#define UPSERT_ROWS 40   /* rows per upsert statement */
#define KEY_MAX 512
#define ARRAY_MAX ((size_t)1 << 26) /* an array parameter's text (a batch's sessions) */
/* Where the backend keeps statements prepared (SQLite, io->positional), one row per statement
 * repeats one text that is parsed once per connection; multi-row statements would vary. */
#define CHUNK(io, n) ((io)->positional ? 1 : (n))
#define PURGE_WINDOW_MS 86400000LL

/* ---- Answers and sessions -------------------------------------------------------------------- */

typedef struct ru_ans {
    const char *id, *session, *device, *store, *touchpoint, *survey, *question, *choice;
    int version;
    tp_kind kind;
    int value;
    int64_t at_ms;
    int tsrc; /* cbatch_time_source */
} ru_ans;

typedef struct dims {
    char device[TP_ID_MAX + 1], store[TP_ID_MAX + 1], touchpoint[TP_ID_MAX + 1];
    char survey[TP_ID_MAX + 1];
    int version;
} dims;

typedef struct sess {
    char id[TP_UUID_STR];
    bool in_db, changed;
    dims d, d0; /* now, and as stored before this batch (in_db) */
    int64_t first_ms, first0_ms;
    int tz_off, day, hour, dow, day0, hour0, dow0;
    char band[10], kind[10];
    bool banded_in_db; /* its band was already stored */
    int orphans, orphans_db;
} sess;

const char *crollup_band(tp_kind kind, int v)
{
    switch (kind) {
    case TP_KIND_NPS:
        return v < 0 || v > 10 ? "" : v <= 6 ? "negative" : v <= 8 ? "neutral" : "positive";
    case TP_KIND_CSAT:
        return v < 1 || v > 5 ? "" : v <= 2 ? "negative" : v == 3 ? "neutral" : "positive";
    case TP_KIND_CES:
        return v < 1 || v > 7 ? "" : v <= 3 ? "negative" : v == 4 ? "neutral" : "positive";
    case TP_KIND_SMILEY4: return v < 1 || v > 4 ? "" : v <= 2 ? "negative" : "positive";
    case TP_KIND_CHOICE: return "";
    }
    return "";
}

/* ---- Delta maps ------------------------------------------------------------------------------ */

enum { T_CUST, T_RATING, T_CHOICE, T_HOUR, T_DEVICE, T_COUNT };

typedef struct table_def {
    const char *name;
    const char *keys; /* comma-separated */
    int nkeys;
    const char *vals;
    int nvals;
} table_def;

static const table_def tables[T_COUNT] = {
    [T_CUST] = {"ru_cust", "period,store,touchpoint,device,survey,version", 6,
                "customers,answers,corrected,uncorrected", 4},
    [T_RATING] = {"ru_rating", "period,store,touchpoint,device,survey,version,question,kind", 8,
                  "c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10", 11},
    [T_CHOICE] = {"ru_choice",
                  "period,store,touchpoint,device,survey,version,question,choice,band,rating_kind",
                  10, "n", 1},
    [T_HOUR] = {"ru_hour", "period,store,touchpoint,device,survey,version,dow,hour", 8,
                "customers,answers,rated,negative", 4},
    [T_DEVICE] = {"ru_device", "device", 1, "corrected,uncorrected", 2},
};

typedef struct dent {
    char *key;
    size_t len;    /* strlen(key) */
    uint64_t hash; /* tp_hash_mem(key, len) */
    int64_t v[11];
} dent;

typedef struct dmap {
    dent *e; /* open addressing; key NULL = empty */
    size_t cap, n;
    size_t last[2]; /* the two entries found last, latest first (< cap when set): consecutive
                     * answers of a batch mostly share their dims, day and hour, so their rows
                     * at the two period levels (day, month) alternate between two keys */
} dmap;

typedef struct fold {
    dmap t[T_COUNT];
    tp_err rc;
} fold;

static void dmap_free(dmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->e[i].key);
    free(m->e);
    memset(m, 0, sizeof *m);
}

/* Returns the entry of the len bytes at key, adding it (zero deltas); NULL when out of memory.
 * Full keys are always compared; the hash only picks the slot. */
static dent *dmap_get(dmap *m, const char *key, size_t len)
{
    for (int r = 0; r < 2; r++) {
        size_t i = m->last[r];
        if (i < m->cap && m->e[i].key && m->e[i].len == len && memcmp(m->e[i].key, key, len) == 0) {
            m->last[1] = m->last[0];
            m->last[0] = i;
            return &m->e[i];
        }
    }
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        dent *e = calloc(cap, sizeof *e);
        if (!e)
            return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->e[i].key)
                continue;
            size_t j = m->e[i].hash & (cap - 1);
            while (e[j].key)
                j = (j + 1) & (cap - 1);
            e[j] = m->e[i];
        }
        free(m->e);
        m->e = e;
        m->cap = cap;
        m->last[0] = m->last[1] = cap;
    }
    uint64_t h = tp_hash_mem(key, len);
    size_t j = h & (m->cap - 1);
    while (m->e[j].key) {
        if (m->e[j].hash == h && m->e[j].len == len && memcmp(m->e[j].key, key, len) == 0)
            break;
        j = (j + 1) & (m->cap - 1);
    }
    if (!m->e[j].key) {
        char *k = malloc(len + 1);
        if (!k)
            return NULL;
        memcpy(k, key, len);
        k[len] = '\0';
        m->e[j].key = k;
        m->e[j].len = len;
        m->e[j].hash = h;
        m->n++;
    }
    m->last[1] = m->last[0];
    m->last[0] = j;
    return &m->e[j];
}

/* A delta key being built: its fields so far, each followed by SEP. */
typedef struct dkey {
    char s[KEY_MAX];
    size_t used;
    bool too_long; /* a field did not fit with its SEP and the NUL (TP_ERR_TOO_LARGE) */
} dkey;

/* Adds at most max bytes of field to k. Copied byte by byte while its end is sought: fields are
 * a few bytes, shorter than a strnlen and memcpy call cost. */
static void dkey_addn(dkey *k, const char *field, size_t max)
{
    size_t n = 0, used = k->used;
    if (k->too_long)
        return;
    for (; n < max && field[n]; n++) {
        if (used + n + 1 >= sizeof k->s) {
            k->too_long = true;
            return;
        }
        k->s[used + n] = field[n];
    }
    if (used + n + 1 >= sizeof k->s) {
        k->too_long = true;
        return;
    }
    k->used = used + n;
    k->s[k->used++] = SEP;
}

static void dkey_add(dkey *k, const char *field)
{
    dkey_addn(k, field, KEY_MAX);
}

/* Adds the deltas d (one per value column of table t) to t's row whose key is k's fields joined
 * by SEP. One key built and looked up for all the columns an answer counts in that row. */
static void bump(fold *f, int t, const dkey *k, const int64_t *d)
{
    bool any = false;
    for (int c = 0; c < tables[t].nvals; c++)
        any |= d[c] != 0;
    if (f->rc != TP_OK || !any)
        return;
    if (k->too_long) {
        f->rc = TP_ERR_TOO_LARGE;
        return;
    }
    dent *e = dmap_get(&f->t[t], k->s, k->used ? k->used - 1 : 0);
    if (!e) {
        f->rc = TP_ERR_NOMEM;
        return;
    }
    for (int c = 0; c < tables[t].nvals; c++)
        e->v[c] += d[c];
}

/* Writes the decimal digits of v into out (24 bytes); no printf: this runs per row. */
static void i64toa(int64_t v, char *out)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *out++ = '-';
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* Writes the decimal digits of v (>= 0) into out (16 bytes). */
static void itoa16(int v, char *out)
{
    char tmp[16];
    int n = 0;
    unsigned u = v < 0 ? 0u : (unsigned)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u && n < 15);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* The five dims fields that follow the period in every table's key (store, touchpoint, device,
 * survey, version), cut at TP_ID_MAX bytes as a dims struct holds them (answers read back from
 * the store, crollup_purge, are not checked): built once per answer, copied behind each period. */
static void kdims_tail(dkey *t, const char *store, const char *touchpoint, const char *device,
                       const char *survey, int version)
{
    char num[16];
    t->used = 0;
    t->too_long = false;
    dkey_addn(t, store, TP_ID_MAX);
    dkey_addn(t, touchpoint, TP_ID_MAX);
    dkey_addn(t, device, TP_ID_MAX);
    dkey_addn(t, survey, TP_ID_MAX);
    itoa16(version, num);
    dkey_add(t, num);
}

/* Starts k with the six leading key fields: the period, then the dims of tail. */
static void kdims(dkey *k, int period, const dkey *tail)
{
    char num[16];
    k->used = 0;
    k->too_long = false;
    itoa16(period, num);
    dkey_add(k, num);
    if (k->too_long || tail->too_long || k->used + tail->used >= sizeof k->s) {
        k->too_long = true;
        return;
    }
    memcpy(k->s + k->used, tail->s, tail->used);
    k->used += tail->used;
}

/* Adds the day of week and the hour (ru_hour's last key fields) to k. */
static void khour(dkey *k, int dow, int hour)
{
    char num[16];
    itoa16(dow, num);
    dkey_add(k, num);
    itoa16(hour, num);
    dkey_add(k, num);
}

static void dims_of(dims *d, const ru_ans *a)
{
    tp_strlcpy(d->device, a->device, sizeof d->device);
    tp_strlcpy(d->store, a->store, sizeof d->store);
    tp_strlcpy(d->touchpoint, a->touchpoint, sizeof d->touchpoint);
    tp_strlcpy(d->survey, a->survey, sizeof d->survey);
    d->version = a->version;
}

/* Counts (sign +1) or uncounts (-1) a customer at its day/hour. */
static void fold_customer(fold *f, const dims *d, int day, int hour, int dow, int sign)
{
    dkey k, tail;
    int periods[2] = {day, day / 100};
    kdims_tail(&tail, d->store, d->touchpoint, d->device, d->survey, d->version);
    for (int l = 0; l < 2; l++) {
        kdims(&k, periods[l], &tail);
        bump(f, T_CUST, &k, (const int64_t[4]){sign});
        khour(&k, dow, hour);
        bump(f, T_HOUR, &k, (const int64_t[4]){sign});
    }
}

/* Counts (or uncounts) one answer of session s (its band for a follow-up). Each row's key is
 * built once from the period and dims (kdims), which the tables' keys all start with. */
static void fold_answer(fold *f, const ru_ans *a, const sess *s, int sign)
{
    ctz_local L;
    dkey k, tail;
    ctz_local_of(a->at_ms, s->tz_off, &L);
    int periods[2] = {L.day, L.month};
    const char *band = a->kind == TP_KIND_CHOICE ? "" : crollup_band(a->kind, a->value);
    int64_t corrected = a->tsrc == CBATCH_TIME_CORRECTED ? sign : 0;
    int64_t uncorrected = a->tsrc == CBATCH_TIME_UNCORRECTED ? sign : 0;
    kdims_tail(&tail, a->store, a->touchpoint, a->device, a->survey, a->version);
    for (int l = 0; l < 2; l++) {
        kdims(&k, periods[l], &tail);
        size_t dims_used = k.used;
        bool dims_too_long = k.too_long;
        bump(f, T_CUST, &k, (const int64_t[4]){0, sign, corrected, uncorrected});
        if (a->kind == TP_KIND_CHOICE) {
            dkey_add(&k, a->question);
            dkey_add(&k, a->choice);
            dkey_add(&k, s->band[0] ? s->band : "none");
            dkey_add(&k, s->band[0] ? s->kind : "");
            bump(f, T_CHOICE, &k, (const int64_t[1]){sign});
        } else if (band[0]) {
            int64_t d[11] = {0};
            d[a->value] = sign;
            dkey_add(&k, a->question);
            dkey_add(&k, tp_kind_name(a->kind));
            bump(f, T_RATING, &k, d);
        }
        k.used = dims_used;
        k.too_long = dims_too_long;
        khour(&k, L.dow, L.hour);
        bump(f, T_HOUR, &k,
             (const int64_t[4]){0, sign, band[0] ? sign : 0,
                                band[0] && strcmp(band, "negative") == 0 ? sign : 0});
    }
    k.used = 0;
    k.too_long = false;
    dkey_add(&k, a->device);
    bump(f, T_DEVICE, &k, (const int64_t[2]){corrected, uncorrected});
}

/* Moves a waiting follow-up (an orphan) from band "none" to its session's band. */
static void fold_orphan_move(fold *f, const dims *d, int day, const char *question,
                             const char *choice, const char *band, const char *kind)
{
    dkey k, tail;
    int periods[2] = {day, day / 100};
    kdims_tail(&tail, d->store, d->touchpoint, d->device, d->survey, d->version);
    for (int l = 0; l < 2; l++) {
        kdims(&k, periods[l], &tail);
        dkey_add(&k, question);
        dkey_add(&k, choice);
        size_t used = k.used;
        bool too_long = k.too_long;
        dkey_add(&k, "none");
        dkey_add(&k, "");
        bump(f, T_CHOICE, &k, (const int64_t[1]){-1});
        k.used = used;
        k.too_long = too_long;
        dkey_add(&k, band);
        dkey_add(&k, kind);
        bump(f, T_CHOICE, &k, (const int64_t[1]){1});
    }
}

/* ---- Statements ------------------------------------------------------------------------------ */

static tp_err run(const crollup_io *io, const char *sql, const char *const *params, int n,
                  cstore_rows **rows, char *err, size_t errlen)
{
    cstore_rows *r = calloc(1, sizeof *r);
    if (rows)
        *rows = NULL;
    if (!r)
        return TP_ERR_NOMEM;
    tp_err rc = io->exec(io->impl, io->conn, sql, params, n, r, err, errlen);
    if (rc != TP_OK || !rows)
        cstore_rows_free(r);
    else
        *rows = r;
    return rc;
}

/* Appends prefix and the placeholder of parameter n: "$n", or "?" where the backend binds by
 * position (SQLite: a long statement of "$n" names costs a scan of the names per name). */
static tp_err placeholder(const crollup_io *io, tp_buf *sql, const char *prefix, int n)
{
    if (!io->positional)
        return tp_buf_addf(sql, "%s$%d", prefix, n);
    tp_err rc = tp_buf_add(sql, prefix, strlen(prefix));
    return rc == TP_OK ? tp_buf_add(sql, "?", 1) : rc;
}

/* Appends s to a PostgreSQL array literal in b ("{" first, "}" by the caller) as a quoted
 * element. */
static tp_err array_add(tp_buf *b, const char *s)
{
    tp_err rc = tp_buf_add(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1);
    for (const char *q = s; rc == TP_OK && *q;) {
        size_t n = strcspn(q, "\"\\");
        rc = tp_buf_add(b, q, n);
        q += n;
        if (rc == TP_OK && *q) { /* a quote or a backslash, escaped */
            const char e[2] = {'\\', *q++};
            rc = tp_buf_add(b, e, 2);
        }
    }
    return rc == TP_OK ? tp_buf_add(b, "\"", 1) : rc;
}

/* The type of a rollup key column in PostgreSQL (the array casts). */
static const char *key_type(const char *name, size_t len)
{
    static const char *const ints[] = {"period", "version", "dow", "hour"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (strlen(ints[i]) == len && strncmp(name, ints[i], len) == 0)
            return "int";
    return "text";
}

/* The array form (io->copy) of flush_table: the n sorted rows of m in one statement, a column
 * per array. */
static tp_err flush_table_array(const crollup_io *io, int t, const dmap *m, size_t n, char *err,
                                size_t errlen)
{
    const table_def *td = &tables[t];
    int cols = td->nkeys + td->nvals;
    tp_buf col[20], sql;
    const char *params[20];
    tp_err rc = TP_OK;
    tp_buf_init(&sql, (size_t)1 << 16);
    for (int c = 0; c < cols; c++) {
        tp_buf_init(&col[c], ARRAY_MAX);
        if (rc == TP_OK)
            rc = tp_buf_add(&col[c], "{", 1);
    }
    for (size_t r = 0; rc == TP_OK && r < n; r++) {
        char k[KEY_MAX], num[24];
        tp_strlcpy(k, m->e[r].key, sizeof k);
        char *field = k;
        for (int c = 0; rc == TP_OK && c < td->nkeys; c++) {
            char *end = strchr(field, SEP);
            if (end)
                *end = '\0';
            rc = array_add(&col[c], field);
            field = end ? end + 1 : field + strlen(field);
        }
        for (int v = 0; rc == TP_OK && v < td->nvals; v++) {
            i64toa(m->e[r].v[v], num);
            rc = array_add(&col[td->nkeys + v], num);
        }
    }
    for (int c = 0; rc == TP_OK && c < cols; c++) {
        rc = tp_buf_add(&col[c], "}", 1);
        params[c] = col[c].p;
    }
    if (rc == TP_OK)
        rc = tp_buf_addf(&sql, "INSERT INTO %s(%s,%s) SELECT * FROM unnest(", td->name, td->keys,
                         td->vals);
    const char *k = td->keys;
    for (int c = 0; rc == TP_OK && c < cols; c++) {
        size_t len = c < td->nkeys ? strcspn(k, ",") : 0;
        rc = tp_buf_addf(&sql, "%s$%d::%s[]", c ? ", " : "", c + 1,
                         c < td->nkeys ? key_type(k, len) : "bigint");
        if (c < td->nkeys)
            k += len + (k[len] == ',');
    }
    if (rc == TP_OK)
        rc = tp_buf_addf(&sql, ") ON CONFLICT(%s) DO UPDATE SET ", td->keys);
    const char *v = td->vals;
    for (int c = 0; rc == TP_OK && c < td->nvals; c++) {
        size_t len = strcspn(v, ",");
        rc = tp_buf_addf(&sql, "%s%.*s = %s.%.*s + excluded.%.*s", c ? ", " : "", (int)len, v,
                         td->name, (int)len, v, (int)len, v);
        v += len + (v[len] == ',');
    }
    if (rc == TP_OK)
        rc = run(io, sql.p, params, cols, NULL, err, errlen);
    else
        tp_errf(err, errlen, rc, "rollup %s: statement too large", td->name);
    for (int c = 0; c < cols; c++)
        tp_buf_free(&col[c]);
    tp_buf_free(&sql);
    return rc;
}

static int dent_cmp(const void *x, const void *y)
{
    const dent *a = x, *b = y;
    return strcmp(a->key, b->key);
}

/* Writes table t's deltas with multi-row upserts in key order. */
static tp_err flush_table(const crollup_io *io, int t, dmap *m, char *err, size_t errlen)
{
    const table_def *td = &tables[t];
    size_t n = 0;
    tp_err rc = TP_OK;
    for (size_t i = 0; i < m->cap; i++) {
        bool nonzero = false;
        for (int v = 0; m->e[i].key && v < td->nvals; v++)
            nonzero |= m->e[i].v[v] != 0;
        if (nonzero)
            m->e[n++] = m->e[i];
        else if (m->e[i].key)
            free(m->e[i].key);
        if (i >= n)
            m->e[i].key = NULL;
    }
    m->n = n;
    m->last[0] = m->last[1] = m->cap; /* the entries moved */
    if (n == 0)
        return TP_OK;
    qsort(m->e, n, sizeof *m->e, dent_cmp);
    if (io->copy)
        return flush_table_array(io, t, m, n, err, errlen);
    int cols = td->nkeys + td->nvals;
    tp_buf sql;
    tp_buf_init(&sql, (size_t)1 << 20);
    const char **params = calloc((size_t)UPSERT_ROWS * (size_t)cols, sizeof *params);
    char(*nums)[24] = calloc((size_t)UPSERT_ROWS * (size_t)td->nvals, sizeof *nums);
    char *keys = calloc((size_t)UPSERT_ROWS, KEY_MAX);
    if (!params || !nums || !keys)
        rc = TP_ERR_NOMEM;
    size_t chunk = CHUNK(io, UPSERT_ROWS), built = 0;
    for (size_t start = 0; rc == TP_OK && start < n; start += chunk) {
        size_t rows = n - start < chunk ? n - start : chunk;
        bool text = rows != built; /* the same statement as the last one: keep its text */
        built = rows;
        if (text) {
            tp_buf_reset(&sql);
            rc = tp_buf_addf(&sql, "INSERT INTO %s(%s,%s) VALUES ", td->name, td->keys, td->vals);
        }
        int p = 0;
        for (size_t r = 0; rc == TP_OK && r < rows; r++) {
            char *k = keys + r * KEY_MAX;
            tp_strlcpy(k, m->e[start + r].key, KEY_MAX);
            const char *field = k;
            if (text)
                rc = tp_buf_add(&sql, r ? ",(" : "(", r ? 2 : 1);
            for (int c = 0; rc == TP_OK && c < td->nkeys; c++) {
                char *end = strchr(field, SEP);
                if (end)
                    *end = '\0';
                params[p++] = field;
                field = end ? end + 1 : field + strlen(field);
                if (text)
                    rc = placeholder(io, &sql, c ? "," : "", p);
            }
            for (int v = 0; rc == TP_OK && v < td->nvals; v++) {
                char *num = nums[r * (size_t)td->nvals + (size_t)v];
                i64toa(m->e[start + r].v[v], num);
                params[p++] = num;
                if (text)
                    rc = placeholder(io, &sql, ",", p);
            }
            if (rc == TP_OK && text)
                rc = tp_buf_add(&sql, ")", 1);
        }
        if (rc == TP_OK && text)
            rc = tp_buf_addf(&sql, " ON CONFLICT(%s) DO UPDATE SET ", td->keys);
        const char *v = td->vals;
        for (int c = 0; rc == TP_OK && text && c < td->nvals; c++) {
            size_t len = strcspn(v, ",");
            rc = tp_buf_addf(&sql, "%s%.*s = %s.%.*s + excluded.%.*s", c ? ", " : "", (int)len, v,
                             td->name, (int)len, v, (int)len, v);
            v += len + (v[len] == ',');
        }
        if (rc == TP_OK)
            rc = run(io, sql.p, params, p, NULL, err, errlen);
        else
            tp_errf(err, errlen, rc, "rollup %s: statement too large", td->name);
    }
    tp_buf_free(&sql);
    free(params);
    free(nums);
    free(keys);
    return rc;
}

static tp_err flush(const crollup_io *io, fold *f, char *err, size_t errlen)
{
    if (f->rc != TP_OK)
        return tp_errf(err, errlen, f->rc, "rollup: %s", tp_strerror(f->rc));
    tp_err rc = TP_OK;
    for (int t = 0; rc == TP_OK && t < T_COUNT; t++)
        rc = flush_table(io, t, &f->t[t], err, errlen);
    return rc;
}

static void fold_free(fold *f)
{
    for (int t = 0; t < T_COUNT; t++)
        dmap_free(&f->t[t]);
}

/* ---- Session state --------------------------------------------------------------------------- */

typedef struct smap {
    sess **e;
    size_t cap, n;
    sess **list; /* in order of first appearance */
    sess *pool;  /* the sessions, one allocation for the batch */
} smap;

static void smap_free(smap *m)
{
    free(m->pool);
    free(m->e);
    free(m->list);
}

static sess *smap_find(const smap *m, const char *id)
{
    if (!m->cap)
        return NULL;
    size_t j = tp_hash_str(id) & (m->cap - 1);
    while (m->e[j]) {
        if (strcmp(m->e[j]->id, id) == 0)
            return m->e[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

/* Returns the session named id, adding an empty one. NULL when out of memory. */
static sess *smap_add(smap *m, const char *id, size_t max)
{
    sess *s = smap_find(m, id);
    if (s)
        return s;
    if (!m->cap) {
        size_t cap = 16;
        while (cap < max * 2 + 2)
            cap *= 2;
        m->e = calloc(cap, sizeof *m->e);
        m->list = calloc(max + 1, sizeof *m->list);
        m->pool = calloc(max + 1, sizeof *m->pool);
        if (!m->e || !m->list || !m->pool)
            return NULL;
        m->cap = cap;
    }
    if (m->n > max)
        return NULL;
    s = &m->pool[m->n];
    tp_strlcpy(s->id, id, sizeof s->id);
    size_t j = tp_hash_str(id) & (m->cap - 1);
    while (m->e[j])
        j = (j + 1) & (m->cap - 1);
    m->e[j] = s;
    m->list[m->n++] = s;
    return s;
}

#define SESS_COLS                                                                                  \
    "session, device, store, touchpoint, survey, version, first_ms, tz_off, day, hour, dow, band," \
    " rating_kind, orphans"

static void sess_from_row(sess *s, const cstore_rows *r, size_t i)
{
    const char *c[14];
    for (int k = 0; k < 14; k++) {
        c[k] = cstore_rows_get(r, i, (size_t)k);
        if (!c[k])
            c[k] = "";
    }
    s->in_db = true;
    tp_strlcpy(s->d.device, c[1], sizeof s->d.device);
    tp_strlcpy(s->d.store, c[2], sizeof s->d.store);
    tp_strlcpy(s->d.touchpoint, c[3], sizeof s->d.touchpoint);
    tp_strlcpy(s->d.survey, c[4], sizeof s->d.survey);
    s->d.version = (int)strtol(c[5], NULL, 10);
    s->first_ms = strtoll(c[6], NULL, 10);
    s->tz_off = (int)strtol(c[7], NULL, 10);
    s->day = (int)strtol(c[8], NULL, 10);
    s->hour = (int)strtol(c[9], NULL, 10);
    s->dow = (int)strtol(c[10], NULL, 10);
    tp_strlcpy(s->band, c[11], sizeof s->band);
    tp_strlcpy(s->kind, c[12], sizeof s->kind);
    s->orphans = s->orphans_db = (int)strtol(c[13], NULL, 10);
    s->banded_in_db = s->band[0] != '\0';
    s->d0 = s->d;
    s->first0_ms = s->first_ms;
    s->day0 = s->day;
    s->hour0 = s->hour;
    s->dow0 = s->dow;
}

/* The array form (io->copy): every session of m looked up in one statement; when guess, only
 * those that can go on from a stored batch (see GUESS). */
static tp_err load_sessions_array(const crollup_io *io, smap *m, bool guess, char *err,
                                  size_t errlen)
{
    tp_buf ids;
    cstore_rows *rows = NULL;
    tp_buf_init(&ids, ARRAY_MAX);
    tp_err rc = tp_buf_add(&ids, "{", 1);
    for (size_t i = 0; rc == TP_OK && i < m->n; i++)
        if (!guess || i == 0 || i + 1 == m->n)
            rc = array_add(&ids, m->list[i]->id);
    if (rc == TP_OK)
        rc = tp_buf_add(&ids, "}", 1);
    const char *params[1] = {ids.p};
    /* Ingest locks the stored ones, in key order, until the batch commits. */
    if (rc == TP_OK)
        rc = run(io,
                 "SELECT " SESS_COLS " FROM ru_sessions WHERE session = ANY($1::uuid[])"
                 " ORDER BY session FOR UPDATE",
                 params, 1, &rows, err, errlen);
    else
        tp_errf(err, errlen, rc, "rollup: sessions: %s", tp_strerror(rc));
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        sess *s = smap_find(m, cstore_rows_get(rows, i, 0));
        if (s)
            sess_from_row(s, rows, i);
    }
    cstore_rows_free(rows);
    tp_buf_free(&ids);
    return rc;
}

/* Loads the stored state of every session of m (those not yet looked up); guess: see GUESS. */
static tp_err load_sessions(const crollup_io *io, smap *m, bool guess, char *err, size_t errlen)
{
    if (io->copy)
        return load_sessions_array(io, m, guess, err, errlen);
    tp_buf sql;
    tp_err rc = TP_OK;
    const char *params[LOOKUP_CHUNK];
    tp_buf_init(&sql, (size_t)1 << 20);
    size_t chunk = CHUNK(io, LOOKUP_CHUNK), built = 0;
    for (size_t start = 0; rc == TP_OK && start < m->n; start += chunk) {
        size_t k = m->n - start < chunk ? m->n - start : chunk;
        bool text = k != built; /* the same statement as the last one: keep its text */
        built = k;
        if (text) {
            tp_buf_reset(&sql);
            rc = tp_buf_addf(&sql, "SELECT " SESS_COLS " FROM ru_sessions WHERE session IN (");
        }
        for (size_t i = 0; rc == TP_OK && i < k; i++) {
            params[i] = m->list[start + i]->id;
            if (text)
                rc = placeholder(io, &sql, i ? "," : "", (int)i + 1);
        }
        if (rc == TP_OK && text)
            rc = tp_buf_add(&sql, ")", 1);
        cstore_rows *rows = NULL;
        if (rc == TP_OK)
            rc = run(io, sql.p, params, (int)k, &rows, err, errlen);
        for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
            sess *s = smap_find(m, cstore_rows_get(rows, i, 0));
            if (s)
                sess_from_row(s, rows, i);
        }
        cstore_rows_free(rows);
    }
    tp_buf_free(&sql);
    return rc;
}

#define SESS_UPDATE                                                                                \
    " ON CONFLICT(session) DO UPDATE SET device = excluded.device,"                                \
    " store = excluded.store, touchpoint = excluded.touchpoint,"                                   \
    " survey = excluded.survey, version = excluded.version,"                                       \
    " first_ms = excluded.first_ms, tz_off = excluded.tz_off,"                                     \
    " day = excluded.day, hour = excluded.hour, dow = excluded.dow,"                               \
    " band = excluded.band, rating_kind = excluded.rating_kind,"                                   \
    " orphans = excluded.orphans"

static int sess_cmp(const void *x, const void *y)
{
    return strcmp((*(sess *const *)x)->id, (*(sess *const *)y)->id);
}

/* The sessions of m not stored before this batch (io->copy) in one COPY: cheaper than an upsert
 * per row, and a row that a concurrent batch stored meanwhile fails it (TP_ERR_EXISTS). In key
 * order: the inserts into the key's index then walk it once instead of jumping about (a quarter
 * of the COPY's time for random session ids). */
static tp_err copy_new_sessions(const crollup_io *io, smap *m, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    size_t rows = 0;
    sess **order = malloc((m->n + 1) * sizeof *order);
    if (!order)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "rollup: sessions: out of memory");
    for (size_t i = 0; i < m->n; i++)
        if (!m->list[i]->in_db && m->list[i]->changed)
            order[rows++] = m->list[i];
    qsort(order, rows, sizeof *order, sess_cmp);
    /* Binary COPY (cpgcopy.h): the server reads the numbers as they are rather than parsing
     * text, and nothing needs escaping. The types follow RU_TABLES (INTEGER, BIGINT, TEXT) and step
     * 11 (session uuid). */
    cpgcopy w;
    cpgcopy_init(&w, ARRAY_MAX);
    for (size_t i = 0; i < rows; i++) {
        const sess *s = order[i];
        cpgcopy_row(&w, 14);
        cpgcopy_uuid(&w, s->id);
        cpgcopy_text(&w, s->d.device);
        cpgcopy_text(&w, s->d.store);
        cpgcopy_text(&w, s->d.touchpoint);
        cpgcopy_text(&w, s->d.survey);
        cpgcopy_i32(&w, s->d.version);
        cpgcopy_i64(&w, s->first_ms);
        cpgcopy_i32(&w, s->tz_off);
        cpgcopy_i32(&w, s->day);
        cpgcopy_i32(&w, s->hour);
        cpgcopy_i32(&w, s->dow);
        cpgcopy_text(&w, s->band);
        cpgcopy_text(&w, s->kind);
        cpgcopy_i32(&w, (int32_t)s->orphans);
    }
    if ((rc = cpgcopy_finish(&w)) != TP_OK)
        tp_errf(err, errlen, rc, "rollup: sessions: %s", tp_strerror(rc));
    else if (rows > 0)
        rc = io->copy(io->impl, io->conn,
                      "COPY ru_sessions(" SESS_COLS ") FROM STDIN WITH (FORMAT binary)", w.p, w.len,
                      err, errlen);
    cpgcopy_free(&w);
    free(order);
    return rc;
}

/* The array form (io->copy): every changed session in one statement, a column per array (a
 * long VALUES list costs PostgreSQL a parse and plan per 40 rows): the stored ones (an update
 * each); the new ones go by copy_new_sessions. */
static tp_err save_sessions_array(const crollup_io *io, smap *m, char *err, size_t errlen)
{
    enum { COLS = 14 };
    tp_buf col[COLS];
    const char *params[COLS];
    tp_err rc = TP_OK;
    size_t changed = 0;
    for (int c = 0; c < COLS; c++) {
        tp_buf_init(&col[c], ARRAY_MAX);
        if (rc == TP_OK)
            rc = tp_buf_add(&col[c], "{", 1);
    }
    for (size_t i = 0; rc == TP_OK && i < m->n; i++) {
        sess *s = m->list[i];
        char nums[7][24];
        if (!s->changed || !s->in_db)
            continue;
        changed++;
        int64_t vals[7] = {s->d.version, s->first_ms, s->tz_off, s->day,
                           s->hour,      s->dow,      s->orphans};
        for (int v = 0; v < 7; v++)
            i64toa(vals[v], nums[v]);
        const char *row[COLS] = {s->id,   s->d.device, s->d.store, s->d.touchpoint, s->d.survey,
                                 nums[0], nums[1],     nums[2],    nums[3],         nums[4],
                                 nums[5], s->band,     s->kind,    nums[6]};
        for (int c = 0; rc == TP_OK && c < COLS; c++)
            rc = array_add(&col[c], row[c]);
    }
    for (int c = 0; rc == TP_OK && c < COLS; c++) {
        rc = tp_buf_add(&col[c], "}", 1);
        params[c] = col[c].p;
    }
    if (rc != TP_OK)
        tp_errf(err, errlen, rc, "rollup: sessions: %s", tp_strerror(rc));
    else if (changed > 0)
        rc = run(io,
                 "INSERT INTO ru_sessions(" SESS_COLS ") SELECT * FROM unnest($1::uuid[],"
                 " $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[],"
                 " $8::int[], $9::int[], $10::int[], $11::int[], $12::text[], $13::text[],"
                 " $14::int[])" SESS_UPDATE,
                 params, COLS, NULL, err, errlen);
    for (int c = 0; c < COLS; c++)
        tp_buf_free(&col[c]);
    if (rc == TP_OK)
        rc = copy_new_sessions(io, m, err, errlen);
    return rc;
}

/* Writes every changed session (insert or update). */
static tp_err save_sessions(const crollup_io *io, smap *m, char *err, size_t errlen)
{
    if (io->copy)
        return save_sessions_array(io, m, err, errlen);
    enum { COLS = 14, ROWS = 40 };
    tp_buf sql;
    tp_err rc = TP_OK;
    const char *params[COLS * ROWS];
    char nums[ROWS][7][24];
    tp_buf_init(&sql, (size_t)1 << 20);
    size_t i = 0;
    int built = 0;
    while (rc == TP_OK && i < m->n) {
        int rows = 0, p = 0;
        for (; i < m->n && rows < (int)CHUNK(io, ROWS); i++) {
            sess *s = m->list[i];
            if (!s->changed)
                continue;
            int64_t vals[7] = {s->d.version, s->first_ms, s->tz_off, s->day,
                               s->hour,      s->dow,      s->orphans};
            for (int v = 0; v < 7; v++)
                i64toa(vals[v], nums[rows][v]);
            const char *row[COLS] = {s->id,         s->d.device,   s->d.store,    s->d.touchpoint,
                                     s->d.survey,   nums[rows][0], nums[rows][1], nums[rows][2],
                                     nums[rows][3], nums[rows][4], nums[rows][5], s->band,
                                     s->kind,       nums[rows][6]};
            for (int c = 0; c < COLS; c++)
                params[p++] = row[c];
            rows++;
        }
        if (rows == 0)
            break;
        if (rows == built) { /* the same statement as the last one: keep its text */
            rc = run(io, sql.p, params, p, NULL, err, errlen);
            continue;
        }
        built = rows;
        tp_buf_reset(&sql);
        rc = tp_buf_addf(&sql, "INSERT INTO ru_sessions(" SESS_COLS ") VALUES ");
        for (int r = 0, q = 0; rc == TP_OK && r < rows; r++) {
            rc = tp_buf_add(&sql, r ? ",(" : "(", r ? 2 : 1);
            for (int c = 0; rc == TP_OK && c < COLS; c++) {
                q++;
                rc = placeholder(io, &sql, c ? "," : "", q);
            }
            if (rc == TP_OK)
                rc = tp_buf_add(&sql, ")", 1);
        }
        if (rc == TP_OK)
            rc = tp_buf_addf(&sql, SESS_UPDATE);
        if (rc == TP_OK)
            rc = run(io, sql.p, params, p, NULL, err, errlen);
    }
    tp_buf_free(&sql);
    return rc;
}

/* ---- The fold of new answers ----------------------------------------------------------------- */

/* The device's time zone: the nearest "timezone" setting on its node's path; "" = process TZ. */
static tp_err device_zone(const crollup_io *io, const char *device, char *zone, size_t zlen,
                          char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    const char *params[1] = {device};
    zone[0] = '\0';
    tp_err rc = run(io,
                    "SELECT n.path, n.settings_json FROM fleet_devices d JOIN nodes n ON"
                    " d.node_path = n.path OR substr(d.node_path, 1, length(n.path) + 1) ="
                    " n.path || '/' WHERE d.id = $1",
                    params, 1, &rows, err, errlen);
    size_t best = 0;
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *path = cstore_rows_get(rows, i, 0);
        cJSON *j = cJSON_Parse(cstore_rows_get(rows, i, 1) ? cstore_rows_get(rows, i, 1) : "");
        const cJSON *tz = cJSON_GetObjectItemCaseSensitive(j, "timezone");
        if (path && cJSON_IsString(tz) && strlen(path) >= best) {
            best = strlen(path);
            tp_strlcpy(zone, tz->valuestring, zlen);
        }
        cJSON_Delete(j);
    }
    cstore_rows_free(rows);
    return rc;
}

static void set_first(sess *s, const ru_ans *a)
{
    ctz_local L;
    dims_of(&s->d, a);
    s->first_ms = a->at_ms;
    ctz_local_of(a->at_ms, s->tz_off, &L);
    s->day = L.day;
    s->hour = L.hour;
    s->dow = L.dow;
}

/* Folds the answers A (all new to the store) into the rollups; zone places new sessions. */
static tp_err fold_new(const crollup_io *io, const ru_ans *A, size_t n, const char *zone,
                       bool guess, char *err, size_t errlen)
{
    smap m = {0};
    fold f = {0};
    tp_err rc = TP_OK;
    sess **S = calloc(n + 1, sizeof *S); /* each answer's session, looked up once */
    if (!S)
        rc = TP_ERR_NOMEM;
    for (size_t i = 0; rc == TP_OK && i < n; i++)
        if (!(S[i] = smap_add(&m, A[i].session, n)))
            rc = TP_ERR_NOMEM;
    if (rc == TP_OK)
        rc = load_sessions(io, &m, guess, err, errlen);
    /* Pass 1: each session's earliest answer and band. */
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        const ru_ans *a = &A[i];
        sess *s = S[i];
        if (!s->in_db && !s->changed) {
            ctz_offset(zone, a->at_ms, &s->tz_off);
            set_first(s, a);
            s->changed = true;
        } else if (a->at_ms < s->first_ms) {
            set_first(s, a);
            s->changed = true;
        }
        if (a->kind != TP_KIND_CHOICE && !s->band[0]) {
            tp_strlcpy(s->band, crollup_band(a->kind, a->value), sizeof s->band);
            tp_strlcpy(s->kind, tp_kind_name(a->kind), sizeof s->kind);
            s->changed = true;
        }
    }
    /* Customers: new ones counted, moved ones moved. */
    for (size_t i = 0; rc == TP_OK && i < m.n; i++) {
        sess *s = m.list[i];
        if (!s->in_db) {
            fold_customer(&f, &s->d, s->day, s->hour, s->dow, 1);
        } else if (s->first_ms != s->first0_ms) {
            fold_customer(&f, &s->d0, s->day0, s->hour0, s->dow0, -1);
            fold_customer(&f, &s->d, s->day, s->hour, s->dow, 1);
        }
    }
    /* Pass 2: the answers; follow-ups of sessions still without a rating wait as orphans. */
    tp_buf sql;
    tp_buf_init(&sql, (size_t)1 << 20);
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        const ru_ans *a = &A[i];
        sess *s = S[i];
        fold_answer(&f, a, s, 1);
        if (a->kind == TP_KIND_CHOICE && !s->band[0]) {
            ctz_local L;
            char day[16], ver[16];
            ctz_local_of(a->at_ms, s->tz_off, &L);
            snprintf(day, sizeof day, "%d", L.day);
            snprintf(ver, sizeof ver, "%d", a->version);
            const char *p[] = {a->id,     a->session, day, a->store,    a->touchpoint,
                               a->device, a->survey,  ver, a->question, a->choice};
            rc = run(io,
                     "INSERT INTO ru_orphans(id, session, day, store, touchpoint, device, survey,"
                     " version, question, choice) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                     p, 10, NULL, err, errlen);
            s->orphans++;
            s->changed = true;
        }
    }
    /* Sessions whose rating came after some of their follow-ups: those move to its band. */
    for (size_t i = 0; rc == TP_OK && i < m.n; i++) {
        sess *s = m.list[i];
        if (!s->in_db || s->banded_in_db || !s->band[0] || s->orphans_db == 0)
            continue;
        cstore_rows *rows = NULL;
        const char *p[1] = {s->id};
        rc = run(io,
                 "SELECT day, store, touchpoint, device, survey, version, question, choice FROM"
                 " ru_orphans WHERE session = $1",
                 p, 1, &rows, err, errlen);
        for (size_t r = 0; rc == TP_OK && r < rows->n; r++) {
            dims d;
            const char *c[8];
            for (int k = 0; k < 8; k++)
                c[k] =
                    cstore_rows_get(rows, r, (size_t)k) ? cstore_rows_get(rows, r, (size_t)k) : "";
            tp_strlcpy(d.store, c[1], sizeof d.store);
            tp_strlcpy(d.touchpoint, c[2], sizeof d.touchpoint);
            tp_strlcpy(d.device, c[3], sizeof d.device);
            tp_strlcpy(d.survey, c[4], sizeof d.survey);
            d.version = (int)strtol(c[5], NULL, 10);
            fold_orphan_move(&f, &d, (int)strtol(c[0], NULL, 10), c[6], c[7], s->band, s->kind);
        }
        cstore_rows_free(rows);
        if (rc == TP_OK)
            rc = run(io, "DELETE FROM ru_orphans WHERE session = $1", p, 1, NULL, err, errlen);
        s->orphans = 0;
        s->changed = true;
    }
    tp_buf_free(&sql);
    if (rc == TP_OK)
        rc = save_sessions(io, &m, err, errlen);
    if (rc == TP_OK)
        rc = flush(io, &f, err, errlen);
    fold_free(&f);
    smap_free(&m);
    free(S);
    return rc;
}

/* PostgreSQL's ingest (io->copy) of fold_new, under a savepoint. GUESS: a kiosk's customer
 * answers in consecutive seqs and a batch is a run of seqs, so only the batch's first session
 * (and its last, for a batch sent out of order) can have answers stored before; the others are
 * taken as new unlooked-up, and the COPY of the new sessions proves it (a stored one fails it
 * with TP_ERR_EXISTS). Then the fold is done again from the savepoint with every session looked
 * up, FOR UPDATE; TP_ERR_EXISTS again means a concurrent batch stored one meanwhile. */
#define PG_TRIES 4
static tp_err fold_new_pg(const crollup_io *io, const ru_ans *A, size_t n, const char *zone,
                          char *err, size_t errlen)
{
    tp_err rc = run(io, "SAVEPOINT crollup", NULL, 0, NULL, err, errlen);
    for (int i = 0; rc == TP_OK; i++) {
        rc = fold_new(io, A, n, zone, i == 0, err, errlen);
        if (rc != TP_ERR_EXISTS)
            break;
        if (i + 1 == PG_TRIES)
            return tp_errf(err, errlen, TP_ERR_BUSY,
                           "rollup: the batch's sessions were stored concurrently %d times, retry"
                           " later",
                           PG_TRIES);
        rc = run(io, "ROLLBACK TO SAVEPOINT crollup", NULL, 0, NULL, err, errlen);
    }
    return rc == TP_OK ? run(io, "RELEASE SAVEPOINT crollup", NULL, 0, NULL, err, errlen) : rc;
}

static void ans_of(ru_ans *r, const cbatch *b, const cbatch_answer *a)
{
    r->id = a->id;
    r->session = a->session;
    r->device = b->device.id;
    r->store = a->store;
    r->touchpoint = a->touchpoint;
    r->survey = a->survey;
    r->question = a->question;
    r->choice = a->choice;
    r->version = a->survey_version;
    r->kind = a->kind;
    r->value = a->value;
    r->at_ms = a->at_ms;
    r->tsrc = (int)a->time_source;
}

tp_err crollup_ingest(const crollup_io *io, const cbatch *b, const unsigned char *outcomes,
                      int64_t received_at_ms, char *err, size_t errlen)
{
    char zone[TP_ID_MAX + 1], pend[24], rep[24];
    (void)received_at_ms;
    size_t n = 0;
    ru_ans *A = calloc(b->n_answers + 1, sizeof *A);
    if (!A)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "rollup: out of memory");
    for (size_t i = 0; i < b->n_answers; i++)
        if (outcomes[i] == CBATCH_ACCEPTED)
            ans_of(&A[n++], b, &b->answers[i]);
    tp_err rc = TP_OK;
    if (n > 0) {
        rc = device_zone(io, b->device.id, zone, sizeof zone, err, errlen);
        if (rc == TP_OK)
            rc = io->copy ? fold_new_pg(io, A, n, zone, err, errlen)
                          : fold_new(io, A, n, zone, false, err, errlen);
    }
    free(A);
    /* Pending as the device holds it once this reply marks the batch's answers. */
    int64_t named = (int64_t)(b->n_answers + b->n_rejects);
    int64_t after = b->device.pending - named;
    snprintf(pend, sizeof pend, "%lld", (long long)(after < 0 ? 0 : after));
    snprintf(rep, sizeof rep, "%lld", (long long)b->device.pending);
    const char *p[3] = {b->device.id, rep, pend};
    if (rc == TP_OK)
        rc = run(io,
                 "INSERT INTO ru_device(device, corrected, uncorrected, pending_reported,"
                 " pending_after) VALUES ($1, 0, 0, $2, $3) ON CONFLICT(device) DO UPDATE SET"
                 " pending_reported = excluded.pending_reported,"
                 " pending_after = excluded.pending_after",
                 p, 3, NULL, err, errlen);
    return rc;
}

/* ---- Through a generic transaction (purge, backfill) ----------------------------------------- */

static tp_err tx_exec(void *impl, void *conn, const char *sql, const char *const *params, int n,
                      cstore_rows *rows, char *err, size_t errlen)
{
    cstore_rows *r = NULL;
    (void)conn;
    tp_err rc = cstore_tx_exec(impl, sql, params, n, &r, err, errlen);
    if (rc == TP_OK && r) { /* hand the cells over to the caller's (empty) rows */
        *rows = *r;
        free(r);
    }
    return rc;
}

#define ANS_COLS                                                                                   \
    "id, session, device, store, touchpoint, survey, survey_version, question, kind,"              \
    " value, choice, at_ms, time_source"

/* Fills A from answer rows (ANS_COLS); the strings stay borrowed from rows. */
static size_t ans_from_rows(ru_ans *A, const cstore_rows *rows)
{
    size_t n = 0;
    for (size_t i = 0; i < rows->n; i++) {
        ru_ans *a = &A[n];
        const char *c[13];
        for (int k = 0; k < 13; k++)
            c[k] = cstore_rows_get(rows, i, (size_t)k);
        if (!c[0] || !c[1] || !c[8] || tp_kind_parse(c[8], &a->kind) != TP_OK)
            continue;
        a->id = c[0];
        a->session = c[1];
        a->device = c[2] ? c[2] : "";
        a->store = c[3] ? c[3] : "";
        a->touchpoint = c[4] ? c[4] : "";
        a->survey = c[5] ? c[5] : "";
        a->version = c[6] ? (int)strtol(c[6], NULL, 10) : 0;
        a->question = c[7] ? c[7] : "";
        a->value = c[9] ? (int)strtol(c[9], NULL, 10) : -1;
        a->choice = c[10] ? c[10] : "";
        a->at_ms = c[11] ? strtoll(c[11], NULL, 10) : 0;
        a->tsrc = !c[12]                              ? 0
                  : strcmp(c[12], "corrected") == 0   ? CBATCH_TIME_CORRECTED
                  : strcmp(c[12], "uncorrected") == 0 ? CBATCH_TIME_UNCORRECTED
                                                      : CBATCH_TIME_DEVICE;
        n++;
    }
    return n;
}

/* Purges the sessions of one window: answers with at_ms in [lo, lo + 2 windows), sessions that
 * started in [lo, hi). Answers before whole are folded out but left for cpart_drop. */
static tp_err purge_window(const crollup_io *io, int64_t lo, int64_t hi, int64_t whole,
                           int64_t *n_sess, int64_t *n_ans, char *err, size_t errlen)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%lld", (long long)lo);
    snprintf(b, sizeof b, "%lld", (long long)(lo + 2 * PURGE_WINDOW_MS));
    const char *p[2] = {a, b};
    cstore_rows *rows = NULL;
    smap m = {0};
    fold f = {0};
    ru_ans *A = NULL;
    tp_err rc = run(io, "SELECT " ANS_COLS " FROM answers WHERE at_ms >= $1 AND at_ms < $2", p, 2,
                    &rows, err, errlen);
    if (rc != TP_OK)
        return rc;
    A = calloc(rows->n + 1, sizeof *A);
    if (!A) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    size_t n = ans_from_rows(A, rows);
    for (size_t i = 0; rc == TP_OK && i < n; i++)
        if (!smap_add(&m, A[i].session, n))
            rc = TP_ERR_NOMEM;
    if (rc == TP_OK)
        rc = load_sessions(io, &m, false, err, errlen);
    for (size_t i = 0; rc == TP_OK && i < m.n; i++) {
        sess *s = m.list[i];
        s->changed = s->in_db && s->first_ms >= lo && s->first_ms < hi; /* changed = purged */
        if (s->changed)
            fold_customer(&f, &s->d, s->day, s->hour, s->dow, -1);
    }
    tp_buf sql;
    tp_buf_init(&sql, (size_t)1 << 20);
    const char *one[1];
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        sess *s = smap_find(&m, A[i].session);
        if (!s || !s->changed)
            continue;
        fold_answer(&f, &A[i], s, -1);
        char at[24];
        i64toa(A[i].at_ms, at);
        const char *key[2] = {A[i].id, at}; /* at_ms: PostgreSQL's month, then its index */
        if (A[i].at_ms >= whole)
            rc = run(io, "DELETE FROM answers WHERE id = $1 AND at_ms = $2", key, 2, NULL, err,
                     errlen);
        (*n_ans)++;
    }
    for (size_t i = 0; rc == TP_OK && i < m.n; i++) {
        if (!m.list[i]->changed)
            continue;
        one[0] = m.list[i]->id;
        rc = run(io, "DELETE FROM ru_sessions WHERE session = $1", one, 1, NULL, err, errlen);
        if (rc == TP_OK && m.list[i]->orphans > 0)
            rc = run(io, "DELETE FROM ru_orphans WHERE session = $1", one, 1, NULL, err, errlen);
        (*n_sess)++;
    }
    tp_buf_free(&sql);
    if (rc == TP_OK)
        rc = flush(io, &f, err, errlen);
out:
    if (rc == TP_ERR_NOMEM)
        tp_errf(err, errlen, rc, "purge: out of memory");
    fold_free(&f);
    smap_free(&m);
    free(A);
    cstore_rows_free(rows);
    return rc;
}

tp_err crollup_purge(cstore *s, int64_t before_ms, int64_t *sessions, int64_t *answers, char *err,
                     size_t errlen)
{
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    int64_t ns = 0, na = 0, whole = INT64_MIN;
    tp_err rc = cstore_tx_begin(s, true, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    crollup_io io = {tx, NULL, tx_exec, false, NULL};
    rc = cpart_cut(s, tx, before_ms, &whole, err, errlen); /* whole months: dropped at the end */
    if (rc == TP_OK)
        rc = cstore_tx_exec(tx, "SELECT min(first_ms) FROM ru_sessions", NULL, 0, &rows, err,
                            errlen);
    const char *lo_s = rc == TP_OK ? cstore_rows_get(rows, 0, 0) : NULL;
    int64_t lo = lo_s ? strtoll(lo_s, NULL, 10) : before_ms;
    cstore_rows_free(rows);
    for (; rc == TP_OK && lo < before_ms; lo += PURGE_WINDOW_MS) {
        int64_t hi = lo + PURGE_WINDOW_MS < before_ms ? lo + PURGE_WINDOW_MS : before_ms;
        rc = purge_window(&io, lo, hi, whole, &ns, &na, err, errlen);
    }
    if (rc == TP_OK)
        rc = cpart_drop(tx, whole, err, errlen);
    if (rc == TP_OK)
        rc = cstore_tx_commit(tx, err, errlen);
    else
        cstore_tx_rollback(tx);
    if (sessions)
        *sessions = ns;
    if (answers)
        *answers = na;
    return rc;
}

/* Backfill: the answers stored before version 4, device by device in pages of 5000. */
tp_err crollup_backfill(cstore *s, char *err, size_t errlen)
{
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL, *devs = NULL;
    tp_err rc = cstore_tx_begin(s, true, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    crollup_io io = {tx, NULL, tx_exec, false, NULL};
    rc = cstore_tx_exec(tx, "SELECT value FROM ru_state WHERE key = 'backfill'", NULL, 0, &rows,
                        err, errlen);
    bool pending = rc == TP_OK && rows->n == 1 && cstore_rows_get(rows, 0, 0) &&
                   strcmp(cstore_rows_get(rows, 0, 0), "pending") == 0;
    cstore_rows_free(rows);
    rows = NULL;
    if (rc == TP_OK && pending)
        rc = cstore_tx_exec(tx, "SELECT DISTINCT device FROM answers ORDER BY device", NULL, 0,
                            &devs, err, errlen);
    for (size_t d = 0; rc == TP_OK && pending && d < devs->n; d++) {
        char zone[TP_ID_MAX + 1], after_ms[24] = "-9223372036854775807";
        char after_id[TP_UUID_STR] = "00000000-0000-0000-0000-000000000000"; /* a uuid for PG */
        const char *dev = cstore_rows_get(devs, d, 0);
        rc = device_zone(&io, dev ? dev : "", zone, sizeof zone, err, errlen);
        for (;;) {
            const char *p[3] = {dev, after_ms, after_id};
            if (rc != TP_OK)
                break;
            rc = cstore_tx_exec(tx,
                                "SELECT " ANS_COLS " FROM answers WHERE device = $1 AND"
                                " (at_ms > $2 OR (at_ms = $2 AND id > $3)) ORDER BY at_ms, id"
                                " LIMIT 5000",
                                p, 3, &rows, err, errlen);
            if (rc != TP_OK || rows->n == 0)
                break;
            ru_ans *A = calloc(rows->n, sizeof *A);
            size_t n = A ? ans_from_rows(A, rows) : 0;
            if (!A)
                rc = TP_ERR_NOMEM;
            if (rc == TP_OK && n > 0) {
                rc = fold_new(&io, A, n, zone, false, err, errlen);
                snprintf(after_ms, sizeof after_ms, "%lld", (long long)A[n - 1].at_ms);
                tp_strlcpy(after_id, A[n - 1].id, sizeof after_id);
            }
            free(A);
            cstore_rows_free(rows);
            rows = NULL;
            if (n == 0)
                break;
        }
        cstore_rows_free(rows);
        rows = NULL;
    }
    cstore_rows_free(devs);
    if (rc == TP_OK && pending)
        rc = cstore_tx_exec(tx, "UPDATE ru_state SET value = 'done' WHERE key = 'backfill'", NULL,
                            0, NULL, err, errlen);
    if (rc == TP_OK)
        rc = cstore_tx_commit(tx, err, errlen);
    else
        cstore_tx_rollback(tx);
    return rc;
}
