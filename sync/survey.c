/*
 * survey.c - loads and validates survey definition files (survey.h) with cJSON.
 *
 * Validation walks the document once; every check names the JSON path of the fault so a
 * translator editing a file sees exactly which text is missing. Unknown keys are rejected too, so
 * a misspelt "low_lable" does not silently vanish.
 */
#include "survey.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JPATH_MAX 160

typedef struct vctx {
    const char *file;
    char *err;
    size_t errlen;
    survey *s;
} vctx;

static tp_err bad(vctx *v, const char *jpath, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records "FILE: $.json.path: cause" and returns TP_ERR_SURVEY. */
static tp_err bad(vctx *v, const char *jpath, const char *fmt, ...)
{
    char cause[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cause, sizeof cause, fmt, ap);
    va_end(ap);
    if (n < 0)
        cause[0] = '\0';
    return tp_errf(v->err, v->errlen, TP_ERR_SURVEY, "%s: %s: %s", v->file, jpath, cause);
}

/* Builds "base.key" or "base[i]" into out (JPATH_MAX bytes); a path too deep is cut with "...". */
static void jp_key(char *out, const char *base, const char *key)
{
    int n = snprintf(out, JPATH_MAX, "%s.%s", base, key);
    if (n < 0 || n >= JPATH_MAX)
        memcpy(out + JPATH_MAX - 4, "...", 4);
}

static void jp_idx(char *out, const char *base, int i)
{
    int n = snprintf(out, JPATH_MAX, "%s[%d]", base, i);
    if (n < 0 || n >= JPATH_MAX)
        memcpy(out + JPATH_MAX - 4, "...", 4);
}

/* Rejects keys of obj not in the NULL-terminated list allowed. */
static tp_err only_keys(vctx *v, const cJSON *obj, const char *jpath, const char *const *allowed)
{
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, obj)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, it->string) == 0;
        if (!ok) {
            char p[JPATH_MAX];
            jp_key(p, jpath, it->string);
            return bad(v, p, "unknown key");
        }
    }
    return TP_OK;
}

static tp_err get_int(vctx *v, const cJSON *obj, const char *jpath, const char *key, int lo, int hi,
                      int *out)
{
    char p[JPATH_MAX];
    jp_key(p, jpath, key);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return bad(v, p, "missing");
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int)it->valuedouble)
        return bad(v, p, "not a whole number");
    int n = (int)it->valuedouble;
    if (n < lo || n > hi) {
        char range[64];
        snprintf(range, sizeof range, "%d not in %d..%d", n, lo, hi);
        return bad(v, p, "%s", range);
    }
    *out = n;
    return TP_OK;
}

static tp_err get_id(vctx *v, const cJSON *obj, const char *jpath, const char *key,
                     char out[TP_ID_MAX + 1])
{
    char p[JPATH_MAX];
    jp_key(p, jpath, key);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return bad(v, p, "missing");
    if (!cJSON_IsString(it))
        return bad(v, p, "not a string");
    if (!tp_id_valid(it->valuestring))
        return bad(v, p, "'%s' is not a valid id (1-64 of A-Z a-z 0-9 . _ -)",
                   strlen(it->valuestring) > 80 ? "(too long)" : it->valuestring);
    tp_strlcpy(out, it->valuestring, TP_ID_MAX + 1);
    return TP_OK;
}

/* Reads {"vi": "...", "en": "..."} with exactly the survey's languages. */
static tp_err get_text(vctx *v, const cJSON *obj, const char *jpath, const char *key, bool required,
                       survey_text *out, bool *present)
{
    char p[JPATH_MAX], lp[JPATH_MAX];
    jp_key(p, jpath, key);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (present)
        *present = t != NULL;
    if (!t)
        return required ? bad(v, p, "missing") : TP_OK;
    if (!cJSON_IsObject(t))
        return bad(v, p, "not an object of texts per language");
    const survey *s = v->s;
    for (int i = 0; i < s->n_langs; i++) {
        jp_key(lp, p, s->langs[i]);
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(t, s->langs[i]);
        if (!it)
            return bad(v, lp, "missing");
        if (!cJSON_IsString(it))
            return bad(v, lp, "not a string");
        size_t len = strlen(it->valuestring);
        if (len == 0)
            return bad(v, lp, "empty");
        if (len > SURVEY_TEXT_MAX)
            return bad(v, lp, "too long (at most 400 bytes)");
        if (!tp_utf8_valid(it->valuestring, len))
            return bad(v, lp, "not valid UTF-8");
        memcpy(out->t[i], it->valuestring, len + 1);
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, t)
    {
        if (survey_lang_index(s, it->string) < 0) {
            jp_key(lp, p, it->string);
            return bad(v, lp, "language not listed in $.languages");
        }
    }
    return TP_OK;
}

static tp_err parse_when(vctx *v, const cJSON *w, const char *jpath, int qi, survey_cond *c)
{
    static const char *const keys[] = {"question", "op", "value", NULL};
    static const char *const ops[] = {"<", "<=", "==", "!=", ">=", ">"};
    char p[JPATH_MAX];
    char qid[TP_ID_MAX + 1];
    tp_err rc;

    if (!cJSON_IsObject(w))
        return bad(v, jpath, "not an object");
    if ((rc = only_keys(v, w, jpath, keys)) != TP_OK)
        return rc;
    if ((rc = get_id(v, w, jpath, "question", qid)) != TP_OK)
        return rc;
    c->question = -1;
    for (int i = 0; i < qi; i++)
        if (strcmp(v->s->questions[i].id, qid) == 0)
            c->question = i;
    jp_key(p, jpath, "question");
    if (c->question < 0)
        return bad(v, p, "'%s' is not an earlier question", qid);
    tp_kind k = v->s->questions[c->question].kind;
    if (k == TP_KIND_CHOICE)
        return bad(v, p, "'%s' is a choice question; conditions need a rating", qid);
    jp_key(p, jpath, "op");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(w, "op");
    if (!op)
        return bad(v, p, "missing");
    if (!cJSON_IsString(op))
        return bad(v, p, "not a string");
    int found = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(ops[i], op->valuestring) == 0)
            found = i;
    if (found < 0)
        return bad(v, p, "'%s' is not one of < <= == != >= >",
                   strlen(op->valuestring) > 8 ? "?" : op->valuestring);
    c->op = (survey_op)found;
    int lo = 0, hi = 0;
    tp_kind_range(k, &lo, &hi);
    if ((rc = get_int(v, w, jpath, "value", lo, hi, &c->value)) != TP_OK)
        return rc;
    c->present = true;
    return TP_OK;
}

/* "scale_style" (nps, ces) and the per-value captions "labels" (csat, smiley4): how the main
 * question looks, both optional. */
static tp_err parse_look(vctx *v, const cJSON *q, const char *jpath, survey_question *out)
{
    char p[JPATH_MAX], lp[JPATH_MAX], key[8];
    tp_err rc;
    bool numbered = out->kind == TP_KIND_NPS || out->kind == TP_KIND_CES;
    bool faces = out->kind == TP_KIND_CSAT || out->kind == TP_KIND_SMILEY4;

    const cJSON *st = cJSON_GetObjectItemCaseSensitive(q, "scale_style");
    jp_key(p, jpath, "scale_style");
    out->scale_style = SURVEY_SCALE_NEUTRAL;
    if (st && !numbered)
        return bad(v, p, "only nps and ces questions have a scale style");
    if (st && (!cJSON_IsString(st) || (strcmp(st->valuestring, "neutral") != 0 &&
                                       strcmp(st->valuestring, "traffic") != 0)))
        return bad(v, p, "expected \"neutral\" or \"traffic\"");
    if (st && strcmp(st->valuestring, "traffic") == 0)
        out->scale_style = SURVEY_SCALE_TRAFFIC;

    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(q, "labels");
    jp_key(p, jpath, "labels");
    out->has_value_labels = false;
    if (!labels)
        return TP_OK;
    if (!faces)
        return bad(v, p, "only csat and smiley4 questions have a label per value");
    if (!cJSON_IsObject(labels))
        return bad(v, p, "not an object of captions per value (\"1\": {...}, ...)");
    int lo = 0, hi = 0;
    tp_kind_range(out->kind, &lo, &hi);
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, labels)
    {
        char *end = NULL;
        long val = strtol(it->string, &end, 10);
        if (!it->string[0] || *end || val < lo || val > hi) {
            jp_key(lp, p, it->string);
            return bad(v, lp, "not a value of the scale (%d..%d)", lo, hi);
        }
    }
    for (int val = lo; val <= hi; val++) {
        snprintf(key, sizeof key, "%d", val);
        if ((rc = get_text(v, labels, p, key, true, &out->value_labels[val - lo], NULL)) != TP_OK)
            return rc;
    }
    out->has_value_labels = true;
    return TP_OK;
}

static tp_err parse_question(vctx *v, const cJSON *q, const char *jpath, int qi)
{
    static const char *const keys[] = {"id",   "kind",    "prompt",      "low_label", "high_label",
                                       "when", "options", "scale_style", "labels",    NULL};
    survey_question *out = &v->s->questions[qi];
    char p[JPATH_MAX];
    tp_err rc;

    if (!cJSON_IsObject(q))
        return bad(v, jpath, "not an object");
    if ((rc = only_keys(v, q, jpath, keys)) != TP_OK)
        return rc;
    if ((rc = get_id(v, q, jpath, "id", out->id)) != TP_OK)
        return rc;
    for (int i = 0; i < qi; i++) {
        if (strcmp(v->s->questions[i].id, out->id) == 0) {
            jp_key(p, jpath, "id");
            return bad(v, p, "'%s' is used by an earlier question", out->id);
        }
    }
    jp_key(p, jpath, "kind");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(q, "kind");
    if (!kind)
        return bad(v, p, "missing");
    if (!cJSON_IsString(kind) || tp_kind_parse(kind->valuestring, &out->kind) != TP_OK)
        return bad(v, p, "expected nps, csat, ces, smiley4 or choice");
    if (qi == 0 && out->kind == TP_KIND_CHOICE)
        return bad(v, p, "the first question must be a rating (nps, csat, ces or smiley4)");
    if (qi > 0 && out->kind != TP_KIND_CHOICE)
        return bad(v, p, "follow-up questions must be of kind choice");
    if ((rc = get_text(v, q, jpath, "prompt", true, &out->prompt, NULL)) != TP_OK)
        return rc;

    bool has_low = false, has_high = false;
    if ((rc = get_text(v, q, jpath, "low_label", false, &out->low_label, &has_low)) != TP_OK)
        return rc;
    if ((rc = get_text(v, q, jpath, "high_label", false, &out->high_label, &has_high)) != TP_OK)
        return rc;
    if (has_low != has_high) {
        jp_key(p, jpath, has_low ? "high_label" : "low_label");
        return bad(v, p, "missing (low_label and high_label go together)");
    }
    if (has_low && out->kind != TP_KIND_NPS && out->kind != TP_KIND_CES) {
        jp_key(p, jpath, "low_label");
        return bad(v, p, "only nps and ces questions have scale labels");
    }
    out->has_labels = has_low;
    if ((rc = parse_look(v, q, jpath, out)) != TP_OK)
        return rc;

    const cJSON *when = cJSON_GetObjectItemCaseSensitive(q, "when");
    jp_key(p, jpath, "when");
    if (when && qi == 0)
        return bad(v, p, "the main question cannot have a condition");
    if (when && (rc = parse_when(v, when, p, qi, &out->when)) != TP_OK)
        return rc;

    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
    jp_key(p, jpath, "options");
    if (out->kind != TP_KIND_CHOICE) {
        if (opts)
            return bad(v, p, "only choice questions have options");
        return TP_OK;
    }
    if (!opts)
        return bad(v, p, "missing");
    if (!cJSON_IsArray(opts))
        return bad(v, p, "not an array");
    int n = cJSON_GetArraySize(opts);
    if (n < SURVEY_MIN_OPTIONS || n > SURVEY_MAX_OPTIONS)
        return bad(v, p, "needs 2 to 8 options");
    for (int i = 0; i < n; i++) {
        static const char *const okeys[] = {"id", "label", NULL};
        char op[JPATH_MAX];
        const cJSON *o = cJSON_GetArrayItem(opts, i);
        survey_option *so = &out->options[i];
        jp_idx(op, p, i);
        if (!cJSON_IsObject(o))
            return bad(v, op, "not an object");
        if ((rc = only_keys(v, o, op, okeys)) != TP_OK)
            return rc;
        if ((rc = get_id(v, o, op, "id", so->id)) != TP_OK)
            return rc;
        for (int j = 0; j < i; j++) {
            if (strcmp(out->options[j].id, so->id) == 0) {
                char ip[JPATH_MAX];
                jp_key(ip, op, "id");
                return bad(v, ip, "'%s' is used by an earlier option", so->id);
            }
        }
        if ((rc = get_text(v, o, op, "label", true, &so->label, NULL)) != TP_OK)
            return rc;
    }
    out->n_options = n;
    return TP_OK;
}

/* "comment": {"after": "any"|"low"|"high", "prompt": {...} (optional), "link_minutes": N
 * (optional)}. */
static tp_err parse_comment(vctx *v, const cJSON *c)
{
    static const char *const keys[] = {"after", "prompt", "link_minutes", NULL};
    static const char *const afters[] = {"any", "low", "high"};
    survey *s = v->s;
    tp_err rc;
    if (!c)
        return TP_OK;
    if (!cJSON_IsObject(c))
        return bad(v, "$.comment", "not an object");
    if ((rc = only_keys(v, c, "$.comment", keys)) != TP_OK)
        return rc;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "after");
    if (!a)
        return bad(v, "$.comment.after", "missing");
    for (int i = 0; cJSON_IsString(a) && i < 3; i++)
        if (strcmp(a->valuestring, afters[i]) == 0)
            s->comment_after = (survey_comment_after)(SURVEY_COMMENT_ANY + i);
    if (s->comment_after == SURVEY_COMMENT_NONE)
        return bad(v, "$.comment.after", "expected \"any\", \"low\" or \"high\"");
    if ((rc = get_text(v, c, "$.comment", "prompt", false, &s->comment_prompt,
                       &s->has_comment_prompt)) != TP_OK)
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(c, "link_minutes"))
        return get_int(v, c, "$.comment", "link_minutes", 1, 1440, &s->comment_minutes);
    return TP_OK;
}

static tp_err parse_root(vctx *v, const cJSON *root)
{
    static const char *const keys[] = {"format",    "id",     "version", "languages", "title",
                                       "questions", "thanks", "comment", NULL};
    survey *s = v->s;
    char p[JPATH_MAX];
    int format = 0;
    tp_err rc;

    if (!cJSON_IsObject(root))
        return bad(v, "$", "not an object");
    if ((rc = only_keys(v, root, "$", keys)) != TP_OK)
        return rc;
    if ((rc = get_int(v, root, "$", "format", SURVEY_FORMAT, SURVEY_FORMAT, &format)) != TP_OK)
        return rc;
    if ((rc = get_id(v, root, "$", "id", s->id)) != TP_OK)
        return rc;
    if ((rc = get_int(v, root, "$", "version", 1, 1000000, &s->version)) != TP_OK)
        return rc;

    const cJSON *langs = cJSON_GetObjectItemCaseSensitive(root, "languages");
    if (!langs)
        return bad(v, "$.languages", "missing");
    if (!cJSON_IsArray(langs))
        return bad(v, "$.languages", "not an array");
    int nl = cJSON_GetArraySize(langs);
    if (nl < 1 || nl > SURVEY_MAX_LANGS)
        return bad(v, "$.languages", "needs 1 to 4 languages");
    for (int i = 0; i < nl; i++) {
        const cJSON *l = cJSON_GetArrayItem(langs, i);
        jp_idx(p, "$.languages", i);
        if (!cJSON_IsString(l) || !tp_lang_valid(l->valuestring))
            return bad(v, p, "not a language tag (like vi or en)");
        for (int j = 0; j < i; j++)
            if (strcmp(s->langs[j], l->valuestring) == 0)
                return bad(v, p, "listed twice");
        tp_strlcpy(s->langs[i], l->valuestring, sizeof s->langs[i]);
    }
    s->n_langs = nl;

    if ((rc = get_text(v, root, "$", "title", true, &s->title, NULL)) != TP_OK)
        return rc;

    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(root, "questions");
    if (!qs)
        return bad(v, "$.questions", "missing");
    if (!cJSON_IsArray(qs))
        return bad(v, "$.questions", "not an array");
    int nq = cJSON_GetArraySize(qs);
    if (nq < 1 || nq > SURVEY_MAX_QUESTIONS)
        return bad(v, "$.questions", "needs 1 to 5 questions");
    for (int i = 0; i < nq; i++) {
        jp_idx(p, "$.questions", i);
        if ((rc = parse_question(v, cJSON_GetArrayItem(qs, i), p, i)) != TP_OK)
            return rc;
    }
    s->n_questions = nq;
    if ((rc = get_text(v, root, "$", "thanks", true, &s->thanks, NULL)) != TP_OK)
        return rc;
    return parse_comment(v, cJSON_GetObjectItemCaseSensitive(root, "comment"));
}

tp_err survey_parse(const char *path, const char *json, size_t len, survey **out, char *err,
                    size_t errlen)
{
    cJSON *root = NULL;
    survey *s = NULL;
    tp_err rc = TP_OK;

    *out = NULL;
    if (len > SURVEY_FILE_MAX)
        return tp_errf(err, errlen, TP_ERR_TOO_LARGE, "%s: larger than %d bytes", path,
                       SURVEY_FILE_MAX);
    root = cJSON_ParseWithLength(json, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= json && at <= json + len ? (long)(at - json) : -1;
        int line = 1;
        for (long i = 0; i < off; i++)
            line += json[i] == '\n';
        rc =
            tp_errf(err, errlen, TP_ERR_SURVEY, "%s: $: not valid JSON (near line %d)", path, line);
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    tp_strlcpy(s->path, path, sizeof s->path);
    vctx v = {path, err, errlen, s};
    rc = parse_root(&v, root);
    if (rc == TP_OK) {
        *out = s;
        s = NULL;
    }
out:
    cJSON_Delete(root);
    free(s);
    return rc;
}

tp_err survey_load(const char *path, survey **out, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t n = 0;

    *out = NULL;
    tp_err rc = tp_read_file(path, SURVEY_FILE_MAX, &buf, &n, err, errlen);
    if (rc == TP_OK)
        rc = survey_parse(path, buf, n, out, err, errlen);
    free(buf);
    return rc;
}

/* Decodes the UTF-8 character at *p (the text is valid UTF-8: survey_parse checked it) and moves
 * *p past it. */
static uint32_t utf8_take(const char **p)
{
    const unsigned char *u = (const unsigned char *)*p;
    int n = u[0] < 0x80 ? 1 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
    uint32_t c = n == 1 ? u[0] : u[0] & (0x3Fu >> (n - 1));
    for (int i = 1; i < n; i++)
        c = c << 6 | (u[i] & 0x3Fu);
    *p += n;
    return c;
}

/* What survey_check_glyphs asks, and where it reports. */
typedef struct gctx {
    const survey *s;
    survey_glyph_fn has_glyph;
    void *ctx;
    char *err;
    size_t errlen;
} gctx;

/* Checks every language of one text; jpath names the text, without the language. */
static tp_err check_text(const gctx *g, const survey_text *t, const char *jpath)
{
    for (int i = 0; i < g->s->n_langs; i++) {
        for (const char *p = t->t[i]; *p;) {
            const char *at = p;
            uint32_t c = utf8_take(&p);
            if (c < 0x20 || c == 0x7F || g->has_glyph(g->ctx, c))
                continue;
            return tp_errf(g->err, g->errlen, TP_ERR_SURVEY,
                           "%s: %s.%s: character U+%04X (%.*s) is not in the font", g->s->path,
                           jpath, g->s->langs[i], (unsigned)c, (int)(p - at), at);
        }
    }
    return TP_OK;
}

tp_err survey_check_glyphs(const survey *s, survey_glyph_fn has_glyph, void *ctx, char *err,
                           size_t errlen)
{
    const gctx g = {s, has_glyph, ctx, err, errlen};
    char qp[JPATH_MAX], p[JPATH_MAX];
    tp_err rc = check_text(&g, &s->title, "$.title");
    for (int q = 0; q < s->n_questions && rc == TP_OK; q++) {
        const survey_question *sq = &s->questions[q];
        jp_idx(qp, "$.questions", q);
        jp_key(p, qp, "prompt");
        rc = check_text(&g, &sq->prompt, p);
        if (rc == TP_OK && sq->has_labels) {
            jp_key(p, qp, "low_label");
            rc = check_text(&g, &sq->low_label, p);
        }
        if (rc == TP_OK && sq->has_labels) {
            jp_key(p, qp, "high_label");
            rc = check_text(&g, &sq->high_label, p);
        }
        for (int o = 0; o < sq->n_options && rc == TP_OK; o++) {
            char op[JPATH_MAX];
            jp_key(p, qp, "options");
            jp_idx(op, p, o);
            jp_key(p, op, "label");
            rc = check_text(&g, &sq->options[o].label, p);
        }
    }
    if (rc == TP_OK)
        rc = check_text(&g, &s->thanks, "$.thanks");
    return rc;
}

void survey_free(survey *s)
{
    free(s);
}

int survey_lang_index(const survey *s, const char *lang)
{
    if (!lang)
        return -1;
    for (int i = 0; i < s->n_langs; i++)
        if (strcmp(s->langs[i], lang) == 0)
            return i;
    return -1;
}

const char *survey_text_get(const survey *s, const survey_text *t, const char *lang)
{
    int i = survey_lang_index(s, lang);
    return t->t[i < 0 ? 0 : i];
}

bool survey_cond_holds(const survey_cond *c, int value)
{
    if (!c->present)
        return true;
    switch (c->op) {
    case SURVEY_OP_LT: return value < c->value;
    case SURVEY_OP_LE: return value <= c->value;
    case SURVEY_OP_EQ: return value == c->value;
    case SURVEY_OP_NE: return value != c->value;
    case SURVEY_OP_GE: return value >= c->value;
    case SURVEY_OP_GT: return value > c->value;
    }
    return false;
}

const char *survey_op_name(survey_op op)
{
    switch (op) {
    case SURVEY_OP_LT: return "<";
    case SURVEY_OP_LE: return "<=";
    case SURVEY_OP_EQ: return "==";
    case SURVEY_OP_NE: return "!=";
    case SURVEY_OP_GE: return ">=";
    case SURVEY_OP_GT: return ">";
    }
    return "?";
}

int survey_value_band(tp_kind k, int value)
{
    switch (k) {
    case TP_KIND_NPS: {
        tp_nps_band b = tp_nps_band_of(value);
        return b == TP_NPS_DETRACTOR ? -1 : b == TP_NPS_PROMOTER ? 1 : 0;
    }
    case TP_KIND_CSAT: return value <= 2 ? -1 : value >= 4 ? 1 : 0;
    case TP_KIND_CES: return value <= 3 ? -1 : value >= 5 ? 1 : 0;
    case TP_KIND_SMILEY4: return value <= 2 ? -1 : 1;
    case TP_KIND_CHOICE: return 0;
    }
    return 0;
}

bool survey_comment_offered(const survey *s, int value)
{
    int band = s->n_questions > 0 ? survey_value_band(s->questions[0].kind, value) : 0;
    switch (s->comment_after) {
    case SURVEY_COMMENT_NONE: return false;
    case SURVEY_COMMENT_ANY: return true;
    case SURVEY_COMMENT_LOW: return band < 0;
    case SURVEY_COMMENT_HIGH: return band > 0;
    }
    return false;
}

int survey_next_followup(const survey *s, int after, int main_value)
{
    for (int i = after + 1; i < s->n_questions; i++)
        if (survey_cond_holds(&s->questions[i].when, main_value))
            return i;
    return -1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

tp_err survey_list_dir(const char *dir, char (*names)[SURVEY_PATH_MAX], size_t max, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? TP_ERR_NOT_FOUND : tp_err_from_errno(errno);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && *n < max) {
        size_t len = strlen(e->d_name);
        if (len < 6 || e->d_name[0] == '.' || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        int w = snprintf(names[*n], SURVEY_PATH_MAX, "%s/%s", dir, e->d_name);
        if (w > 0 && w < SURVEY_PATH_MAX)
            (*n)++;
    }
    closedir(d);
    qsort(names, *n, SURVEY_PATH_MAX, cmp_names);
    return TP_OK;
}
