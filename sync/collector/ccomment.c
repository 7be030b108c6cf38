/*
 * ccomment.c - the comment page's link check and storage (see ccomment.h), the "comments" node
 * setting, and the keyword lists of a chain.
 *
 * Order of the checks: the link's fields, the device (unknown, revoked or without a comment key:
 * forged), the mac (constant time, clink_check), then "already received" before "expired", so a
 * customer who opens the link again after sending sees the kinder answer. A form opened in time
 * may be sent CCOMMENT_GRACE_S after the expiry: typing takes a while.
 *
 * The form post needs no CSRF token: every field a forger would need is bound by the link's MAC,
 * and a link is good for one comment only. Nothing of a refused form is stored.
 */
#include "calert.h"
#include "ccomment_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Small helpers --------------------------------------------------------------------------- */

void cc_node_parts(const char *path, char store[65], char touchpoint[65])
{
    store[0] = touchpoint[0] = '\0';
    int seg = 1;
    for (const char *p = path ? path : ""; *p; seg++) {
        size_t n = strcspn(p, "/");
        char *dst = seg == 3 ? store : seg == 4 ? touchpoint : NULL;
        if (dst && n < 65) {
            memcpy(dst, p, n);
            dst[n] = '\0';
        }
        p += n;
        if (*p == '/')
            p++;
    }
}

const char *cc_scope_sql(char *buf, size_t len, const char *col, int n)
{
    /* substr, not LIKE: '_' is a LIKE wildcard and a legal character of a node's name. */
    snprintf(buf, len,
             "(CAST($%d AS TEXT) = '' OR %s = CAST($%d AS TEXT) OR substr(%s, 1, "
             "length(CAST($%d AS TEXT)) + 1) = CAST($%d AS TEXT) || '/')",
             n, col, n, col, n, n);
    return buf;
}

bool cc_phone_canon(const char *in, char *out, size_t outlen)
{
    char d[CCOMMENT_PHONE_MAX + 1];
    size_t n = 0;
    bool plus = false;
    for (const char *p = in; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n + 1 >= sizeof d)
                return false;
            d[n++] = *p;
        } else if (*p == '+' && n == 0 && !plus) {
            plus = true;
        } else if (!strchr(" .-()", *p)) {
            return false;
        }
    }
    d[n] = '\0';
    const char *digits = d;
    bool vn = (plus || n == 11) && strncmp(d, "84", 2) == 0;
    if (vn)
        digits = d + 2;
    if (strlen(digits) < 6 || strlen(digits) > 15)
        return false;
    snprintf(out, outlen, "%s%s%s", plus && !vn ? "+" : "", vn ? "0" : "", digits);
    return true;
}

bool cc_email_canon(const char *in, char *out, size_t outlen)
{
    while (*in == ' ')
        in++;
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == ' ')
        n--;
    if (n < 3 || n > CCOMMENT_EMAIL_MAX || n + 1 > outlen)
        return false;
    const char *at = memchr(in, '@', n);
    if (!at || at == in || at == in + n - 1 || memchr(at + 1, '@', (size_t)(in + n - at - 1)))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch <= ' ' || ch == '<' || ch == '>' || ch == '"' || ch == ',' || ch == ';')
            return false;
        out[i] = (char)tolower(ch);
    }
    out[n] = '\0';
    return true;
}

/* ---- Settings -------------------------------------------------------------------------------- */

static const cJSON *comments_of(const cJSON *settings)
{
    return cJSON_GetObjectItemCaseSensitive(settings, "comments");
}

const char *cc_setting_str(const cJSON *settings, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(comments_of(settings), key));
}

int cc_setting_int(const cJSON *settings, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(comments_of(settings), key);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

tp_err cc_settings(cstore_tx *tx, const char *path, cJSON **out, char *err, size_t errlen)
{
    char buf[CFLEET_PATH_MAX + 1];
    tp_err rc = TP_OK;
    cJSON *res = cJSON_CreateObject();
    cJSON *com = cJSON_AddObjectToObject(res, "comments");
    *out = NULL;
    if (!res || !com) {
        cJSON_Delete(res);
        return TP_ERR_NOMEM;
    }
    size_t len = path ? strlen(path) : 0;
    if (len > CFLEET_PATH_MAX)
        len = 0;
    if (len)
        memcpy(buf, path, len + 1);
    for (size_t i = 1; rc == TP_OK && i <= len; i++) {
        if (i < len && path[i] != '/')
            continue;
        cstore_rows *rows = NULL;
        buf[i] = '\0';
        rc = FX(tx, &rows, err, errlen, "SELECT settings_json FROM nodes WHERE path = $1", buf);
        buf[i] = path[i];
        cJSON *own = rc == TP_OK && rows->n == 1 ? cJSON_Parse(cstore_rows_get(rows, 0, 0)) : NULL;
        cstore_rows_free(rows);
        /* comments: merged per sub-key (a store may set only its staff); brand: as a whole. */
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(own, "comments");
        for (const cJSON *it = cJSON_IsObject(c) ? c->child : NULL; it; it = it->next) {
            cJSON_DeleteItemFromObjectCaseSensitive(com, it->string);
            cJSON_AddItemToObject(com, it->string, cJSON_Duplicate(it, true));
        }
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(own, "brand");
        if (cJSON_IsObject(b)) {
            cJSON_DeleteItemFromObjectCaseSensitive(res, "brand");
            cJSON_AddItemToObject(res, "brand", cJSON_Duplicate(b, true));
        }
        cJSON_Delete(own);
    }
    if (rc != TP_OK) {
        cJSON_Delete(res);
        return rc;
    }
    *out = res;
    return TP_OK;
}

tp_err ccomment_settings_check(const cJSON *v, const char *prefix, char *err, size_t errlen)
{
    if (cJSON_IsNull(v))
        return TP_OK;
    if (!cJSON_IsObject(v))
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s: expected an object", prefix);
    for (const cJSON *it = v->child; it; it = it->next) {
        const char *k = it->string;
        bool ok = true;
        const char *want = "";
        if (strcmp(k, "consent_text") == 0) {
            want = "an object {\"vi\": text, \"en\": text} of up to 2000 bytes each";
            ok = cJSON_IsObject(it);
            for (const cJSON *t = ok ? it->child : NULL; ok && t; t = t->next)
                ok = (strcmp(t->string, "vi") == 0 || strcmp(t->string, "en") == 0) &&
                     cJSON_IsString(t) && strlen(t->valuestring) <= 2000 &&
                     tp_utf8_valid(t->valuestring, strlen(t->valuestring));
        } else if (strcmp(k, "consent_version") == 0) {
            want = "a string of 1..64 bytes";
            ok = cJSON_IsString(it) && *it->valuestring && strlen(it->valuestring) <= 64 &&
                 tp_utf8_valid(it->valuestring, strlen(it->valuestring));
        } else if (strcmp(k, "retention_days") == 0) {
            want = "an integer 1..3650";
            ok = cJSON_IsNumber(it) && it->valuedouble == (double)it->valueint &&
                 it->valueint >= 1 && it->valueint <= 3650;
        } else if (strcmp(k, "after_retention") == 0) {
            want = "\"keep\" or \"anonymise\"";
            const char *s = cJSON_GetStringValue(it);
            ok = s && (strcmp(s, "keep") == 0 || strcmp(s, "anonymise") == 0);
        } else if (strcmp(k, "staff_names") == 0) {
            want = "an array of up to 200 names of 1..64 bytes";
            ok = cJSON_IsArray(it) && cJSON_GetArraySize(it) <= 200;
            for (const cJSON *t = ok ? it->child : NULL; ok && t; t = t->next)
                ok = cJSON_IsString(t) && *t->valuestring && strlen(t->valuestring) <= 64 &&
                     tp_utf8_valid(t->valuestring, strlen(t->valuestring));
        } else {
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "%s.%.40s: unknown key (consent_text, consent_version, retention_days, "
                           "after_retention, staff_names)",
                           prefix, k);
        }
        if (!ok)
            return tp_errf(err, errlen, TP_ERR_INVALID, "%s.%s: expected %s", prefix, k, want);
    }
    return TP_OK;
}

/* ---- Keyword lists --------------------------------------------------------------------------- */

static cJSON *default_lists(void)
{
    return cJSON_ParseWithLength((const char *)assets_comments_keywords_json,
                                 assets_comments_keywords_json_len);
}

/* The lists document of chain: *out (cJSON_Delete); *stored tells whether the chain has its own. */
static tp_err lists_of(cstore_tx *tx, const char *chain, cJSON **out, bool *stored, char *err,
                       size_t errlen)
{
    cstore_rows *rows = NULL;
    tp_err rc = FX(tx, &rows, err, errlen,
                   "SELECT lists_json FROM comment_keywords WHERE chain = $1", chain ? chain : "");
    *out = NULL;
    if (rc != TP_OK)
        return rc;
    *stored = rows->n == 1;
    *out = *stored ? cJSON_Parse(cstore_rows_get(rows, 0, 0)) : default_lists();
    cstore_rows_free(rows);
    return *out ? TP_OK : TP_ERR_CORRUPT;
}

tp_err cc_tagger(cstore_tx *tx, const char *chain, ctag **out, char *err, size_t errlen)
{
    cJSON *lists = NULL;
    bool stored = false;
    tp_err rc = lists_of(tx, chain, &lists, &stored, err, errlen);
    if (rc == TP_OK)
        rc = ctag_new(lists, out, err, errlen);
    cJSON_Delete(lists);
    return rc;
}

static tp_err all_lists(cstore_tx *tx, cJSON **out, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    tp_err rc = FX0(tx, &rows, err, errlen,
                    "SELECT chain, lists_json FROM comment_keywords ORDER BY chain");
    if (rc != TP_OK)
        return rc;
    cJSON *o = cJSON_CreateObject(), *chains = cJSON_AddObjectToObject(o, "chains");
    bool ok = o && chains && cJSON_AddItemToObject(o, "default", default_lists());
    for (size_t i = 0; ok && i < rows->n; i++)
        ok = cJSON_AddItemToObject(chains, cstore_rows_get(rows, i, 0),
                                   cJSON_Parse(cstore_rows_get(rows, i, 1)));
    cstore_rows_free(rows);
    if (!ok) {
        cJSON_Delete(o);
        return TP_ERR_NOMEM;
    }
    *out = o;
    return TP_OK;
}

tp_err ccomment_tags_list(cstore_tx *tx, const cJSON *args, cJSON **out, char *err, size_t errlen)
{
    const char *chain = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "chain"));
    cJSON *lists = NULL;
    bool stored = false;
    *out = NULL;
    if (!chain) /* every chain's own lists and the defaults (GET /v1/admin/tags) */
        return all_lists(tx, out, err, errlen);
    if (cfleet_path_check(chain, err, errlen) != TP_OK || strchr(chain, '/'))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.chain: expected a chain's node name");
    tp_err rc = lists_of(tx, chain, &lists, &stored, err, errlen);
    if (rc != TP_OK)
        return rc;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "chain", chain) ||
        !cJSON_AddStringToObject(o, "source", stored ? "chain" : "default")) {
        cJSON_Delete(o);
        cJSON_Delete(lists);
        return TP_ERR_NOMEM;
    }
    cJSON_AddItemToObject(o, "lists", lists);
    *out = o;
    return TP_OK;
}

tp_err ccomment_tags_set(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                         cJSON **out, char *err, size_t errlen)
{
    const char *chain = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "chain"));
    const cJSON *lists = cJSON_GetObjectItemCaseSensitive(args, "lists");
    char at[24];
    *out = NULL;
    if (!chain || cfleet_path_check(chain, err, errlen) != TP_OK || strchr(chain, '/'))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$.chain: expected a chain's node name");
    tp_err rc = ctag_check(lists, err, errlen);
    if (rc != TP_OK) {
        char inner[TP_ERRMSG_MAX];
        tp_strlcpy(inner, err, sizeof inner);
        return tp_errf(err, errlen, TP_ERR_INVALID, "lists %s", inner);
    }
    char *text = cJSON_PrintUnformatted(lists);
    if (!text)
        return TP_ERR_NOMEM;
    rc = FX(tx, NULL, err, errlen,
            "INSERT INTO comment_keywords(chain, lists_json, updated_ms) VALUES($1, $2, $3)"
            " ON CONFLICT(chain) DO UPDATE SET lists_json = excluded.lists_json,"
            " updated_ms = excluded.updated_ms",
            chain, text, cfleet_i64(at, now_ms));
    free(text);
    if (rc == TP_OK)
        rc = cfleet_audit(tx, actor, "tags.set", chain, NULL, lists, now_ms, err, errlen);
    if (rc == TP_OK && !(*out = cJSON_CreateObject()))
        rc = TP_ERR_NOMEM;
    if (rc == TP_OK)
        cJSON_AddStringToObject(*out, "chain", chain);
    return rc;
}

/* ---- The link -------------------------------------------------------------------------------- */

/* Checks link l at now_s (grace_s allowed after the expiry) inside tx; node gets the device's
 * node path. Returns the state (CC_FORM when the form may be shown / stored). */
static cc_state check_link(cstore_tx *tx, const clink *l, int64_t now_s, int64_t grace_s,
                           char node[CFLEET_PATH_MAX + 1], char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    node[0] = '\0';
    if (FX(tx, &rows, err, errlen,
           "SELECT comment_key, node_path, revoked_ms FROM fleet_devices WHERE id = $1",
           l->device) != TP_OK)
        return CC_BUSY;
    const char *key = rows->n == 1 ? cstore_rows_get(rows, 0, 0) : NULL;
    bool usable = key && clink_key_valid(key) && !cstore_rows_get(rows, 0, 2);
    clink_result r = usable ? clink_check(l, key, now_s - grace_s) : CLINK_FORGED;
    if (usable)
        tp_strlcpy(node, cstore_rows_get(rows, 0, 1), CFLEET_PATH_MAX + 1);
    cstore_rows_free(rows);
    if (r != CLINK_VALID && r != CLINK_EXPIRED)
        return CC_FORGED;
    if (FX(tx, &rows, err, errlen, "SELECT 1 FROM comments WHERE device = $1 AND session = $2",
           l->device, l->session) != TP_OK)
        return CC_BUSY;
    bool had = rows->n > 0;
    cstore_rows_free(rows);
    if (had)
        return CC_RECEIVED;
    return r == CLINK_EXPIRED ? CC_EXPIRED : CC_FORM;
}

static ccomment_reply reply_page(const cc_view *v)
{
    ccomment_reply r = {.ctype = "text/html; charset=utf-8"};
    r.status = v->state == CC_FORM      ? (v->error ? 400 : 200)
               : v->state == CC_EXPIRED ? 410
               : v->state == CC_FORGED  ? 403
               : v->state == CC_BUSY    ? 503
                                        : 200;
    if (v->state == CC_BUSY)
        r.retry_after = 5;
    r.body = cc_page_html(v, &r.len);
    if (!r.body) {
        r.status = 500;
        r.ctype = "text/plain; charset=utf-8";
    }
    return r;
}

static void pick_lang(char out[3], const char *l)
{
    tp_strlcpy(out, l && strcmp(l, "en") == 0 ? "en" : "vi", 3);
}

ccomment_reply ccomment_page(cstore *s, const char *(*arg)(void *cls, const char *key), void *cls,
                             int64_t now_ms)
{
    char err[TP_ERRMSG_MAX], node[CFLEET_PATH_MAX + 1];
    clink l;
    cc_view v = {.state = CC_FORGED};
    cJSON *settings = NULL;
    cstore_tx *tx = NULL;
    pick_lang(v.lang, arg(cls, "l"));
    if (clink_fields(arg(cls, "d"), arg(cls, "s"), arg(cls, "x"), arg(cls, "l"), arg(cls, "m"), &l,
                     err, sizeof err) != TP_OK)
        return reply_page(&v);
    v.link = &l;
    if (cstore_tx_begin(s, false, &tx, err, sizeof err) != TP_OK) {
        v.state = CC_BUSY;
        return reply_page(&v);
    }
    v.state = check_link(tx, &l, now_ms / 1000, 0, node, err, sizeof err);
    if (v.state != CC_FORGED && v.state != CC_BUSY &&
        cc_settings(tx, node, &settings, err, sizeof err) != TP_OK)
        v.state = CC_BUSY;
    cstore_tx_rollback(tx);
    v.settings = settings;
    ccomment_reply r = reply_page(&v);
    cJSON_Delete(settings);
    return r;
}

/* ---- The form post --------------------------------------------------------------------------- */

#define FORM_FIELDS 12

typedef struct form {
    char *name[FORM_FIELDS], *value[FORM_FIELDS];
    int n;
} form;

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* Decodes n bytes of application/x-www-form-urlencoded text. Returns a string to free(). */
static char *unescape(const char *p, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; o && i < n; i++) {
        if (p[i] == '+') {
            o[k++] = ' ';
        } else if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            o[k++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            o[k++] = p[i];
        }
    }
    if (o)
        o[k] = '\0';
    return o;
}

static void form_free(form *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->name[i]);
        free(f->value[i]);
    }
}

/* Parses body into f: the known fields only (a repeated one keeps the first). Returns false
 * when out of memory or a field is not valid UTF-8. */
static bool form_parse(const char *body, size_t len, form *f)
{
    static const char *const known[] = {"d",    "s",    "x",       "l",     "m",
                                        "text", "name", "consent", "phone", "email"};
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && body[j] != '&')
            j++;
        const char *eq = memchr(body + i, '=', j - i);
        size_t kn = eq ? (size_t)(eq - (body + i)) : j - i;
        char *k = unescape(body + i, kn);
        char *v = eq ? unescape(eq + 1, (size_t)(body + j - eq - 1)) : strdup("");
        bool keep = false;
        for (size_t x = 0; k && v && x < sizeof known / sizeof known[0]; x++)
            keep = keep || strcmp(k, known[x]) == 0;
        for (int x = 0; keep && x < f->n; x++)
            keep = strcmp(f->name[x], k) != 0;
        if (!k || !v || !tp_utf8_valid(v, strlen(v))) {
            free(k);
            free(v);
            form_free(f);
            return false;
        }
        if (keep && f->n < FORM_FIELDS) {
            f->name[f->n] = k;
            f->value[f->n++] = v;
        } else {
            free(k);
            free(v);
        }
        i = j + 1;
    }
    return true;
}

static const char *form_get(const form *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0)
            return f->value[i];
    return NULL;
}

/* The text as stored: CR LF and lone CR made LF, surrounding white space trimmed (in place). */
static char *tidy(char *t)
{
    size_t k = 0;
    for (size_t i = 0; t[i]; i++) {
        if (t[i] == '\r') {
            t[k++] = '\n';
            if (t[i + 1] == '\n')
                i++;
        } else {
            t[k++] = t[i];
        }
    }
    t[k] = '\0';
    while (k > 0 && strchr(" \n\t", t[k - 1]))
        t[--k] = '\0';
    while (*t && strchr(" \n\t", *t))
        t++;
    return t;
}

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (!strchr(" \t\r\n", *s))
            return false;
    return true;
}

/* Stores the comment of link l (checked) in tx. Returns the state to show. */
static cc_state store_comment(cstore_tx *tx, const clink *l, const char *lang, const char *node,
                              const cJSON *settings, const char *text, const char *name,
                              const char *phone, const char *email, int64_t now_ms, char *err,
                              size_t errlen)
{
    char id[TP_UUID_STR], at[24], store[65], tp[65], chain[65] = "";
    ctag *tagger = NULL;
    cJSON *tags = NULL;
    cstore_rows *rows = NULL;
    char *tags_text = NULL;
    bool contact = name || phone || email;
    const char *cv = cc_setting_str(settings, "consent_version");
    cc_node_parts(node, store, tp);
    size_t cl = strcspn(node, "/");
    if (cl < sizeof chain) {
        memcpy(chain, node, cl);
        chain[cl] = '\0';
    }
    if (tp_uuid7_new(tp_clock_system(), id) != TP_OK)
        return CC_BUSY;
    tp_err rc = cc_tagger(tx, chain, &tagger, err, errlen);
    if (rc == TP_OK)
        rc = ctag_text(tagger, text,
                       cJSON_GetObjectItemCaseSensitive(
                           cJSON_GetObjectItemCaseSensitive(settings, "comments"), "staff_names"),
                       &tags);
    if (rc == TP_OK && !(tags_text = cJSON_PrintUnformatted(tags)))
        rc = TP_ERR_NOMEM;
    cfleet_i64(at, now_ms);
    if (rc == TP_OK)
        rc = FX(tx, &rows, err, errlen,
                "INSERT INTO comments(id, device, session, store, touchpoint, node_path, lang,"
                " text, tags, created_ms, contact_name, contact_phone, contact_email,"
                " consent_version, consent_ms) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                " $11, $12, $13, $14, $15) ON CONFLICT(device, session) DO NOTHING RETURNING id",
                id, l->device, l->session, *store ? store : NULL, *tp ? tp : NULL,
                *node ? node : NULL, lang, text, tags_text, at, name, phone, email,
                contact ? (cv ? cv : "default") : NULL, contact ? at : NULL);
    bool stored = rc == TP_OK && rows->n == 1;
    /* A tagged comment queues comment_tag evaluation in its own transaction (calert.h). */
    if (stored && cJSON_GetArraySize(tags) > 0 &&
        calert_queue_comment(tx, l->device, store, tp, now_ms, err, errlen) != TP_OK)
        rc = TP_ERR_BUSY;
    cstore_rows_free(rows);
    ctag_free(tagger);
    cJSON_Delete(tags);
    free(tags_text);
    if (rc != TP_OK)
        return CC_BUSY;
    return stored ? CC_THANKS : CC_RECEIVED;
}

ccomment_reply ccomment_submit(cstore *s, const char *body, size_t len, int64_t now_ms)
{
    char err[TP_ERRMSG_MAX], node[CFLEET_PATH_MAX + 1], phone[CCOMMENT_PHONE_MAX + 1];
    char email[CCOMMENT_EMAIL_MAX + 1];
    form f;
    clink l;
    cc_view v = {.state = CC_FORGED};
    cJSON *settings = NULL;
    cstore_tx *tx = NULL;
    if (!form_parse(body ? body : "", len, &f)) {
        pick_lang(v.lang, NULL);
        return reply_page(&v);
    }
    pick_lang(v.lang, form_get(&f, "l"));
    if (clink_fields(form_get(&f, "d"), form_get(&f, "s"), form_get(&f, "x"), form_get(&f, "l"),
                     form_get(&f, "m"), &l, err, sizeof err) != TP_OK)
        goto out;
    v.link = &l;
    if (cstore_tx_begin(s, true, &tx, err, sizeof err) != TP_OK) {
        v.state = CC_BUSY;
        goto out;
    }
    v.state = check_link(tx, &l, now_ms / 1000, CCOMMENT_GRACE_S, node, err, sizeof err);
    if (v.state == CC_FORM && cc_settings(tx, node, &settings, err, sizeof err) != TP_OK)
        v.state = CC_BUSY;
    v.settings = settings;
    if (v.state != CC_FORM)
        goto out;
    const char *text_in = form_get(&f, "text"), *name = form_get(&f, "name");
    const char *phone_in = form_get(&f, "phone"), *email_in = form_get(&f, "email");
    const char *consent = form_get(&f, "consent");
    v.text = text_in;
    v.name = name;
    v.phone = phone_in;
    v.email = email_in;
    char *text = text_in ? tidy((char *)(uintptr_t)text_in) : NULL;
    bool has_contact = !blank(name) || !blank(phone_in) || !blank(email_in);
    if (!text || !*text)
        v.error = "empty";
    else if (ctag_graphemes(text, strlen(text)) > CTAG_TEXT_MAX)
        v.error = "too_long";
    else if (has_contact && !(consent && strcmp(consent, "yes") == 0))
        v.error = "consent";
    else if (!blank(name) && strlen(name) > CCOMMENT_NAME_MAX)
        v.error = "name";
    else if (!blank(phone_in) && !cc_phone_canon(phone_in, phone, sizeof phone))
        v.error = "phone";
    else if (!blank(email_in) && !cc_email_canon(email_in, email, sizeof email))
        v.error = "email";
    if (v.error)
        goto out;
    v.state = store_comment(
        tx, &l, v.lang, node, settings, text, blank(name) ? NULL : tidy((char *)(uintptr_t)name),
        blank(phone_in) ? NULL : phone, blank(email_in) ? NULL : email, now_ms, err, sizeof err);
    if (v.state == CC_BUSY)
        fprintf(stderr, "touchpoint-collector: comment of %s not stored: %s\n", l.device, err);
out:
    if (tx && v.state == CC_THANKS && cstore_tx_commit(tx, err, sizeof err) != TP_OK)
        v.state = CC_BUSY;
    else if (tx && v.state != CC_THANKS)
        cstore_tx_rollback(tx);
    ccomment_reply r = reply_page(&v);
    cJSON_Delete(settings);
    form_free(&f);
    return r;
}
