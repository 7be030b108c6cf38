/*
 * ccomment_read.c - the read side of comments (see ccomment.h): GET /v1/comments (JSON),
 * GET /v1/comments.csv and the CLI export, and the hook that adds comment counts to a report
 * group.
 *
 * A comment meets its session's answers here, at read time, by (device, session): the kiosk may
 * send the answers days after the customer sent the comment from the phone, or the reverse.
 * Every read of personal data is in the read audit (cread_log: the HTTP reads by the read
 * dispatch, the CLI export here) before it is served; a read that cannot be logged is not.
 */
#include "ccomment_int.h"
#include "clabel.h"
#include "cread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The filter of one read: parameters $1..$6 of cond(). */
typedef struct filt {
    char from[24], to[24];
    const char *scope, *node, *store;
    char tag[CTAG_ENTRY_MAX * 2 + 16]; /* a LIKE pattern or "" */
} filt;

/* The WHERE condition on comments aliased c, over the parameters of filt ($1..$6). */
static const char *cond(char *buf, size_t len)
{
    char sc[400], nd[400];
    snprintf(buf, len,
             "c.created_ms >= CAST($1 AS BIGINT) AND c.created_ms < CAST($2 AS BIGINT) AND %s"
             " AND (CAST($4 AS TEXT) = '' OR %s) AND (CAST($5 AS TEXT) = '' OR c.store ="
             " CAST($5 AS TEXT)) AND (CAST($6 AS TEXT) = '' OR c.tags LIKE CAST($6 AS TEXT)"
             " ESCAPE '\\')",
             cc_scope_sql(sc, sizeof sc, "c.node_path", 3),
             cc_scope_sql(nd, sizeof nd, "c.node_path", 4));
    return buf;
}

#define FPARAMS(f)                                                                                 \
    (f)->from, (f)->to, (f)->scope, (f)->node ? (f)->node : "", (f)->store ? (f)->store : "",      \
        (f)->tag

static void tag_pattern(filt *f, const char *tag)
{
    size_t k = 0;
    f->tag[0] = '\0';
    if (!tag || !*tag || strlen(tag) > CTAG_ENTRY_MAX + 6)
        return;
    f->tag[k++] = '%';
    f->tag[k++] = '"';
    for (const char *p = tag; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            f->tag[k++] = '\\';
        f->tag[k++] = *p;
    }
    f->tag[k++] = '"';
    f->tag[k++] = '%';
    f->tag[k] = '\0';
}

static bool add_i64(cJSON *o, const char *name, const char *v)
{
    return v ? cJSON_AddNumberToObject(o, name, strtod(v, NULL)) != NULL
             : cJSON_AddNullToObject(o, name) != NULL;
}

static bool add_str(cJSON *o, const char *name, const char *v)
{
    return v ? cJSON_AddStringToObject(o, name, v) != NULL : cJSON_AddNullToObject(o, name) != NULL;
}

cJSON *cc_comment_json(const cstore_rows *r, size_t i, bool contact)
{
    static const char *const names[] = {"id",         "device", "session", "store",
                                        "touchpoint", "node",   "lang",    "text"};
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL;
    for (size_t k = 0; ok && k < 8; k++)
        ok = add_str(o, names[k], cstore_rows_get(r, i, k));
    cJSON *tags = cJSON_Parse(cstore_rows_get(r, i, 8));
    ok = ok &&
         (tags ? cJSON_AddItemToObject(o, "tags", tags) : (bool)cJSON_AddArrayToObject(o, "tags"));
    if (!ok && tags && !cJSON_GetObjectItemCaseSensitive(o, "tags"))
        cJSON_Delete(tags);
    char when[40];
    const char *cm = cstore_rows_get(r, i, 9);
    tp_format_utc(cm ? strtoll(cm, NULL, 10) : 0, when, sizeof when);
    ok = ok && add_i64(o, "created_ms", cm) && add_str(o, "created_at", when);
    if (ok && contact) {
        bool any =
            cstore_rows_get(r, i, 10) || cstore_rows_get(r, i, 11) || cstore_rows_get(r, i, 12);
        cJSON *c = any ? cJSON_AddObjectToObject(o, "contact") : NULL;
        ok = any ? c && add_str(c, "name", cstore_rows_get(r, i, 10)) &&
                       add_str(c, "phone", cstore_rows_get(r, i, 11)) &&
                       add_str(c, "email", cstore_rows_get(r, i, 12)) &&
                       add_str(c, "consent_version", cstore_rows_get(r, i, 13)) &&
                       add_i64(c, "consent_ms", cstore_rows_get(r, i, 14))
                 : cJSON_AddNullToObject(o, "contact") != NULL;
        ok = ok && add_i64(o, "contact_deleted_ms", cstore_rows_get(r, i, 15)) &&
             add_i64(o, "anonymised_ms", cstore_rows_get(r, i, 16));
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *cc_answer_json(const cstore_rows *a, size_t j)
{
    cJSON *x = cJSON_CreateObject();
    if (x && add_str(x, "survey", cstore_rows_get(a, j, 1)) &&
        add_i64(x, "survey_version", cstore_rows_get(a, j, 2)) &&
        add_str(x, "question", cstore_rows_get(a, j, 3)) &&
        add_str(x, "kind", cstore_rows_get(a, j, 4)) &&
        add_i64(x, "value", cstore_rows_get(a, j, 5)) &&
        add_str(x, "choice", cstore_rows_get(a, j, 6)) &&
        add_i64(x, "at_ms", cstore_rows_get(a, j, 7)))
        return x;
    cJSON_Delete(x);
    return NULL;
}

/* "question_label" and "label" of a follow-up answer x (row j of a), {"vi", "en"} or null. */
static bool add_labels(cJSON *x, const clabel *l, const cstore_rows *a, size_t j)
{
    const char *kind = cstore_rows_get(a, j, 4), *ver = cstore_rows_get(a, j, 2);
    if (!kind || strcmp(kind, "choice") != 0)
        return true;
    const char *sv = cstore_rows_get(a, j, 1), *q = cstore_rows_get(a, j, 3);
    int v = ver ? (int)strtol(ver, NULL, 10) : 0;
    return cJSON_AddItemToObject(x, "question_label", clabel_json(l, sv, v, q, NULL)) &&
           cJSON_AddItemToObject(x, "label", clabel_json(l, sv, v, q, cstore_rows_get(a, j, 6)));
}

/* A label set (clabel.h) holding the survey versions of the answer rows ans, whose survey and
 * survey_version are columns col and col + 1. Returns TP_OK and *out (free with clabel_free), or
 * an error with err. */
static tp_err labels_of(cstore_tx *tx, const cstore_rows *ans, size_t col, clabel **out, char *err,
                        size_t errlen)
{
    tp_err rc = (*out = clabel_new()) ? TP_OK : TP_ERR_NOMEM;
    for (size_t j = 0; rc == TP_OK && j < ans->n; j++)
        if (cstore_rows_get(ans, j, col + 1))
            rc = clabel_load(*out, tx, cstore_rows_get(ans, j, col),
                             (int)strtol(cstore_rows_get(ans, j, col + 1), NULL, 10), err, errlen);
    return rc == TP_ERR_NOMEM ? tp_errf(err, errlen, rc, "comments: out of memory") : rc;
}

/* The answers of the listed comments (the same filter, order and limit $7). */
static tp_err answers_of(cstore_tx *tx, const filt *f, const char *limit, cstore_rows **out,
                         char *err, size_t errlen)
{
    char c[1600], sql[2400];
    snprintf(sql, sizeof sql,
             "SELECT k.id, a.survey, a.survey_version, a.question, a.kind, a.value, a.choice,"
             " a.at_ms FROM comments k JOIN answers a ON a.device = k.device AND"
             " CAST(a.session AS TEXT) = k.session WHERE k.id IN (SELECT c.id FROM comments c"
             " WHERE %s ORDER BY c.created_ms DESC, c.id DESC LIMIT CAST($7 AS INTEGER))"
             " ORDER BY k.id, a.at_ms, a.seq",
             cond(c, sizeof c));
    return FX(tx, out, err, errlen, sql, FPARAMS(f), limit);
}

static capi_reply store_error(tp_err rc, const char *err)
{
    if (rc == TP_ERR_TOO_LARGE)
        return capi_error(413, "too_large", err);
    fprintf(stderr, "touchpoint-collector: comments: %s\n", err);
    return capi_error(503, "store_unavailable", "the store cannot answer now");
}

static bool under(const char *path, const char *scope)
{
    size_t n = strlen(scope);
    return !*scope || (strncmp(path, scope, n) == 0 && (path[n] == '\0' || path[n] == '/'));
}

/* The day filter (from, to as local days; default the last 30) into f. */
static bool days(const char *from, const char *to, int64_t now_ms, filt *f, char *err,
                 size_t errlen)
{
    int64_t from_ms = 0, to_ms = 0;
    if (to && *to) {
        if (tp_parse_date_local(to, &to_ms) != TP_OK) {
            snprintf(err, errlen, "to: '%.16s' is not a date (YYYY-MM-DD)", to);
            return false;
        }
    } else {
        to_ms = tp_local_day_start(now_ms, NULL);
    }
    if (from && *from) {
        if (tp_parse_date_local(from, &from_ms) != TP_OK) {
            snprintf(err, errlen, "from: '%.16s' is not a date (YYYY-MM-DD)", from);
            return false;
        }
    } else {
        from_ms = tp_local_day_start(to_ms - 29LL * 86400000 + 43200000, NULL);
    }
    if (from_ms > to_ms) {
        snprintf(err, errlen, "from is after to");
        return false;
    }
    cfleet_i64(f->from, from_ms);
    cfleet_i64(f->to, tp_local_day_start(to_ms + 36LL * 3600000, NULL));
    return true;
}

/* Whether store lies in scope: the scope's own store, or a node under it ends with it. */
static tp_err store_in_scope(cstore_tx *tx, const char *scope, const char *store, bool *in,
                             char *err, size_t errlen)
{
    char sst[65], stp[65], sc[400], sql[700];
    cstore_rows *rows = NULL;
    cc_node_parts(scope, sst, stp);
    if (!*scope || *sst) {
        *in = !*scope || strcmp(sst, store) == 0;
        return TP_OK;
    }
    snprintf(sql, sizeof sql,
             "SELECT 1 FROM nodes n WHERE %s AND substr(n.path, length(n.path) -"
             " length(CAST($2 AS TEXT))) = '/' || CAST($2 AS TEXT)",
             cc_scope_sql(sc, sizeof sc, "n.path", 1));
    tp_err rc = FX(tx, &rows, err, errlen, sql, scope, store);
    *in = rc == TP_OK && rows->n > 0;
    cstore_rows_free(rows);
    return rc;
}

static tp_err csv_build(cstore_tx *tx, const filt *f, char **csv, char *err, size_t errlen);

capi_reply ccomment_get(cstore *s, const char *url, const char *scope,
                        const char *(*arg)(void *cls, const char *key), void *cls, int64_t now_ms)
{
    char err[TP_ERRMSG_MAX], c[1600], sql[2600], limit[16];
    filt f = {.scope = scope ? scope : ""};
    bool csv = strcmp(url, "/v1/comments.csv") == 0;
    const char *by = arg(cls, "by"), *lim = arg(cls, "limit");
    f.node = arg(cls, "node");
    f.store = arg(cls, "store");
    if (f.node && !*f.node)
        f.node = NULL;
    if (f.store && !*f.store)
        f.store = NULL;
    if (!days(arg(cls, "from"), arg(cls, "to"), now_ms, &f, err, sizeof err))
        return capi_error(400, "malformed", err);
    if (f.node && cfleet_path_check(f.node, err, sizeof err) != TP_OK)
        return capi_error(400, "malformed", err);
    if (f.store && !tp_id_valid(f.store))
        return capi_error(400, "malformed", "store: not a valid id");
    if (f.node && !under(f.node, f.scope))
        return capi_error(403, "forbidden", "node: outside the reader's scope");
    if (!by || !*by)
        by = "store";
    if (strcmp(by, "store") != 0 && strcmp(by, "touchpoint") != 0 && strcmp(by, "device") != 0)
        return capi_error(400, "malformed", "by: expected store, touchpoint or device");
    long n = 50;
    if (lim && *lim) {
        char *end = NULL;
        n = strtol(lim, &end, 10);
        if (end == lim || *end || n < 1 || n > CCOMMENT_LISTED_MAX)
            return capi_error(400, "malformed", "limit: an integer 1..500");
    }
    snprintf(limit, sizeof limit, "%ld", n);
    const char *tag = arg(cls, "tag");
    if (tag && strlen(tag) > CTAG_ENTRY_MAX + 6)
        return capi_error(400, "malformed", "tag: longer than 70 bytes");
    tag_pattern(&f, tag);

    cstore_tx *tx = NULL;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, sizeof err);
    if (rc != TP_OK)
        return store_error(rc, err);
    bool in = true;
    if (f.store && (rc = store_in_scope(tx, f.scope, f.store, &in, err, sizeof err)) != TP_OK) {
        cstore_tx_rollback(tx);
        return store_error(rc, err);
    }
    if (!in) {
        cstore_tx_rollback(tx);
        return capi_error(403, "forbidden", "store: outside the reader's scope");
    }
    cstore_tx_rollback(tx);
    tx = NULL;
    /* The read is audited by the read dispatch (collector_read.c: cread_log with the reader's
     * token name, scope, path and query), like every read endpoint. */
    if ((rc = cstore_tx_begin(s, false, &tx, err, sizeof err)) != TP_OK)
        return store_error(rc, err);
    if (csv) {
        char *text = NULL;
        rc = csv_build(tx, &f, &text, err, sizeof err);
        cstore_tx_rollback(tx);
        if (rc != TP_OK)
            return store_error(rc, err);
        capi_reply r = {.status = 200, .body = text};
        return r;
    }
    cstore_rows *groups = NULL, *list = NULL, *ans = NULL;
    char gcol[32];
    snprintf(gcol, sizeof gcol, "COALESCE(c.%s, '')", by);
    snprintf(sql, sizeof sql,
             "SELECT %s, count(*), max(c.created_ms) FROM comments c WHERE %s GROUP BY %s"
             " ORDER BY %s",
             gcol, cond(c, sizeof c), gcol, gcol);
    rc = FX(tx, &groups, err, sizeof err, sql, FPARAMS(&f));
    if (rc == TP_OK) {
        snprintf(sql, sizeof sql,
                 "SELECT " CC_COLS " FROM comments c WHERE %s ORDER BY c.created_ms DESC, c.id DESC"
                 " LIMIT CAST($7 AS INTEGER)",
                 cond(c, sizeof c));
        rc = FX(tx, &list, err, sizeof err, sql, FPARAMS(&f), limit);
    }
    if (rc == TP_OK)
        rc = answers_of(tx, &f, limit, &ans, err, sizeof err);
    /* The follow-ups' words from their survey versions (clabel.h; null when not published). */
    clabel *labels = NULL;
    if (rc == TP_OK)
        rc = labels_of(tx, ans, 1, &labels, err, sizeof err);
    cstore_tx_rollback(tx);
    if (rc != TP_OK) {
        clabel_free(labels);
        cstore_rows_free(groups);
        cstore_rows_free(list);
        cstore_rows_free(ans);
        return store_error(rc, err);
    }
    cJSON *root = cJSON_CreateObject(), *ga = NULL, *ca = NULL;
    int64_t total = 0;
    bool ok = root && cJSON_AddStringToObject(root, "scope", f.scope) &&
              add_i64(root, "from_ms", f.from) && add_i64(root, "to_ms", f.to) &&
              cJSON_AddStringToObject(root, "by", by) &&
              (ga = cJSON_AddArrayToObject(root, "groups")) &&
              (ca = cJSON_AddArrayToObject(root, "comments"));
    for (size_t i = 0; ok && i < list->n; i++) {
        cJSON *o = cc_comment_json(list, i, true), *aa = NULL;
        ok = o && cJSON_AddItemToArray(ca, o) && (aa = cJSON_AddArrayToObject(o, "answers"));
        for (size_t j = 0; ok && j < ans->n; j++)
            if (strcmp(cstore_rows_get(ans, j, 0), cstore_rows_get(list, i, 0)) == 0) {
                cJSON *x = cc_answer_json(ans, j);
                ok = x && cJSON_AddItemToArray(aa, x) && add_labels(x, labels, ans, j);
            }
        ok = ok && cJSON_AddBoolToObject(o, "answered", cJSON_GetArraySize(aa) > 0);
    }
    for (size_t g = 0; ok && g < groups->n; g++) {
        const char *key = cstore_rows_get(groups, g, 0);
        cJSON *o = cJSON_CreateObject(), *rec = NULL;
        total += strtoll(cstore_rows_get(groups, g, 1), NULL, 10);
        ok = o && cJSON_AddItemToArray(ga, o) && add_str(o, "key", key) &&
             add_i64(o, "count", cstore_rows_get(groups, g, 1)) &&
             add_i64(o, "last_ms", cstore_rows_get(groups, g, 2)) &&
             (rec = cJSON_AddArrayToObject(o, "recent"));
        /* The group's newest of the listed comments, by id (the full comment is listed). */
        int col = strcmp(by, "store") == 0 ? 3 : strcmp(by, "touchpoint") == 0 ? 4 : 1;
        int got = 0;
        for (size_t i = 0; ok && i < list->n && got < 5; i++) {
            const char *v = cstore_rows_get(list, i, (size_t)col);
            if (strcmp(v ? v : "", key ? key : "") == 0) {
                ok = cJSON_AddItemToArray(rec, cJSON_CreateString(cstore_rows_get(list, i, 0)));
                got++;
            }
        }
    }
    ok = ok && cJSON_AddNumberToObject(root, "total", (double)total);
    capi_reply r = {.status = 200, .body = ok ? cJSON_PrintUnformatted(root) : NULL};
    cJSON_Delete(root);
    clabel_free(labels);
    cstore_rows_free(groups);
    cstore_rows_free(list);
    cstore_rows_free(ans);
    if (!r.body)
        return capi_error(500, "internal", "out of memory");
    return r;
}

/* ---- CSV ------------------------------------------------------------------------------------- */

/* One CSV cell (RFC 4180), with a leading ' before = + - @ so a spreadsheet does not run a
 * customer's text as a formula. */
static void csv_cell(tp_buf *b, const char *v, bool last)
{
    tp_buf_add(b, "\"", 1);
    if (v && strchr("=+-@\t\r", v[0]) && v[0])
        tp_buf_add(b, "'", 1);
    for (const char *p = v ? v : ""; *p; p++) {
        tp_buf_add(b, p, 1);
        if (*p == '"')
            tp_buf_add(b, "\"", 1);
    }
    tp_buf_add(b, last ? "\"\r\n" : "\",", last ? 3 : 2);
}

/* The session's answers of comment id (rows of ans: comment id, question, value, choice, survey,
 * survey_version) in one cell: as ids ("recommend=3;why=slow") into ids, and in the comment's
 * language lang with the survey's words where the collector holds its version ("How likely ...:
 * 3; Why?: Long wait", ids where it does not) into words. */
static void answers_cells(const cstore_rows *ans, const char *id, const clabel *l, const char *lang,
                          char *ids, size_t ids_len, char *words, size_t words_len)
{
    size_t il = 0, wl = 0;
    ids[0] = words[0] = '\0';
    for (size_t j = 0; j < ans->n; j++) {
        if (strcmp(cstore_rows_get(ans, j, 0), id) != 0 || il + 200 > ids_len)
            continue;
        const char *q = cstore_rows_get(ans, j, 1), *v = cstore_rows_get(ans, j, 2);
        const char *ch = cstore_rows_get(ans, j, 3), *sv = cstore_rows_get(ans, j, 4);
        int ver = (int)strtol(cstore_rows_get(ans, j, 5), NULL, 10);
        const char *prompt = clabel_text(l, sv, ver, q, NULL, lang);
        const char *option = ch ? clabel_text(l, sv, ver, q, ch, lang) : NULL;
        const char *what = v ? v : option ? option : ch ? ch : "";
        il += (size_t)snprintf(ids + il, ids_len - il, "%s%.80s=%.80s", il ? ";" : "", q,
                               v    ? v
                               : ch ? ch
                                    : "");
        prompt = prompt ? prompt : q;
        /* Whole texts or none: a cut could split a UTF-8 character. */
        if (wl + strlen(prompt) + strlen(what) + 5 <= words_len)
            wl += (size_t)snprintf(words + wl, words_len - wl, "%s%s: %s", wl ? "; " : "", prompt,
                                   what);
    }
}

static tp_err csv_build(cstore_tx *tx, const filt *f, char **csv, char *err, size_t errlen)
{
    char c[1600], sql[2600];
    cstore_rows *list = NULL, *ans = NULL;
    clabel *labels = NULL;
    snprintf(sql, sizeof sql,
             "SELECT " CC_COLS " FROM comments c WHERE %s ORDER BY c.created_ms, c.id",
             cond(c, sizeof c));
    tp_err rc = FX(tx, &list, err, errlen, sql, FPARAMS(f));
    if (rc == TP_OK) {
        snprintf(sql, sizeof sql,
                 "SELECT c.id, a.question, a.value, a.choice, a.survey, a.survey_version"
                 " FROM comments c JOIN answers a ON"
                 " a.device = c.device AND CAST(a.session AS TEXT) = c.session WHERE %s"
                 " ORDER BY c.id, a.at_ms, a.seq",
                 cond(c, sizeof c));
        rc = FX(tx, &ans, err, errlen, sql, FPARAMS(f));
    }
    if (rc == TP_OK)
        rc = labels_of(tx, ans, 4, &labels, err, errlen);
    if (rc != TP_OK) {
        cstore_rows_free(list);
        cstore_rows_free(ans);
        clabel_free(labels);
        return rc;
    }
    static const char head[] = "id,created_at,device,session,store,touchpoint,node,lang,tags,"
                               "text,contact_name,contact_phone,contact_email,consent_version,"
                               "answers,answers_text\r\n";
    tp_buf b;
    tp_buf_init(&b, (size_t)1 << 30);
    tp_buf_add(&b, head, sizeof head - 1);
    for (size_t i = 0; i < list->n; i++) {
        char when[40], ids[2048], words[6144];
        const char *id = cstore_rows_get(list, i, 0);
        tp_format_utc(strtoll(cstore_rows_get(list, i, 9), NULL, 10), when, sizeof when);
        answers_cells(ans, id, labels, cstore_rows_get(list, i, 6), ids, sizeof ids, words,
                      sizeof words);
        csv_cell(&b, id, false);
        csv_cell(&b, when, false);
        for (size_t k = 1; k <= 6; k++) /* device .. lang */
            csv_cell(&b, cstore_rows_get(list, i, k), false);
        csv_cell(&b, cstore_rows_get(list, i, 8), false); /* tags, then text: the header's order */
        csv_cell(&b, cstore_rows_get(list, i, 7), false);
        for (size_t k = 10; k <= 13; k++)
            csv_cell(&b, cstore_rows_get(list, i, k), false);
        csv_cell(&b, ids, false);
        csv_cell(&b, words, true);
    }
    cstore_rows_free(list);
    cstore_rows_free(ans);
    clabel_free(labels);
    if (b.len >= b.max - 1) {
        tp_buf_free(&b);
        return tp_errf(err, errlen, TP_ERR_TOO_LARGE, "the export is larger than 1 GiB");
    }
    *csv = tp_buf_take(&b);
    return *csv ? TP_OK : TP_ERR_NOMEM;
}

tp_err ccomment_export_csv(cstore *s, const char *scope, int64_t from_ms, int64_t to_ms,
                           const char *actor, int64_t now_ms, char **csv, char *err, size_t errlen)
{
    filt f = {.scope = scope ? scope : ""};
    char what[300];
    cstore_tx *tx = NULL;
    *csv = NULL;
    cfleet_i64(f.from, from_ms);
    cfleet_i64(f.to, to_ms);
    /* A read of personal data outside HTTP: in the read audit like the HTTP reads. */
    cread_ctx ctx = {.kind = CREAD_ADMIN, .status = 200};
    tp_strlcpy(ctx.name, actor ? actor : "cli", sizeof ctx.name);
    tp_strlcpy(ctx.scope, f.scope, sizeof ctx.scope);
    tp_strlcpy(ctx.method, "CLI", sizeof ctx.method);
    snprintf(what, sizeof what, "from=%s&to=%s", f.from, f.to);
    tp_err rc = cread_log(s, &ctx, "comments.export", what, now_ms);
    if (rc != TP_OK)
        tp_errf(err, errlen, rc, "the read audit cannot be written, so nothing is exported");
    if (rc == TP_OK)
        rc = cstore_tx_begin(s, false, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    rc = csv_build(tx, &f, csv, err, errlen);
    cstore_tx_rollback(tx);
    return rc;
}

/* ---- Report hook ----------------------------------------------------------------------------- */

cJSON *ccomment_report_json(const cstore_rows *rows, size_t i)
{
    /* The first ten columns of CC_COLS: cc_comment_json without contact reads no others. */
    cJSON *o = cc_comment_json(rows, i, false);
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "created_at");
    if (o && (!at || !cJSON_AddStringToObject(o, "at", at->valuestring))) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, "created_at");
    return o;
}

tp_err ccomment_tag_count(cstore *s, const char *scope, const char *tag, int64_t from_ms,
                          int64_t to_ms, int64_t *count, char newest[TP_UUID_STR], char *err,
                          size_t errlen)
{
    char c[1600], sql[3600];
    filt f = {.scope = scope ? scope : ""};
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    *count = 0;
    newest[0] = '\0';
    if (!tag || !*tag || strlen(tag) > CTAG_ENTRY_MAX + 6)
        return tp_errf(err, errlen, TP_ERR_INVALID, "tag: expected 1..70 bytes");
    cfleet_i64(f.from, from_ms);
    cfleet_i64(f.to, to_ms);
    tag_pattern(&f, tag);
    tp_err rc = cstore_tx_begin(s, false, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    snprintf(sql, sizeof sql,
             "SELECT c.id, (SELECT count(*) FROM comments c WHERE %s) FROM comments c WHERE %s"
             " ORDER BY c.created_ms DESC, c.id DESC LIMIT 1",
             cond(c, sizeof c), c);
    rc = FX(tx, &rows, err, errlen, sql, FPARAMS(&f));
    cstore_tx_rollback(tx);
    if (rc == TP_OK && rows->n == 1) {
        tp_strlcpy(newest, cstore_rows_get(rows, 0, 0), TP_UUID_STR);
        *count = strtoll(cstore_rows_get(rows, 0, 1), NULL, 10);
    }
    cstore_rows_free(rows);
    return rc;
}
