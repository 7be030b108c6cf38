/*
 * cbatch.c - parses and validates a protocol-v1 batch (cJSON), applies the clock rule and
 * builds the reply. Pure: see cbatch.h.
 *
 * cJSON turns every number into a double and ends a string at a decoded U+0000, which loses two
 * things the protocol depends on: whether a number was written as an integer (9, not 9.0 or 9e0;
 * and 2^63 - 1 exactly, not rounded) and whether a string held \u0000 ("hcm\u000001" would be
 * stored as "hcm"). So after cJSON has accepted the text, mark_literals() walks the tree in
 * document order beside a small scanner over the same text and records, in each item's valueint
 * (which nothing else here reads): for a number, the offset of its literal in the text; for a
 * string, 1 when it held \u0000. Integers are then read from their literal, not from the double.
 */
#include "cbatch.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjarena.h"

static const char *const code_names[CBATCH_CODE_COUNT] = {
    "missing_field", "invalid_type", "invalid_id",   "invalid_kind",  "value_out_of_range",
    "invalid_utf8",  "too_long",     "seq_conflict", "invalid_field",
};

const char *cbatch_code_name(cbatch_code c)
{
    return (unsigned)c < CBATCH_CODE_COUNT ? code_names[c] : "?";
}

const char *cbatch_time_source_name(cbatch_time_source t)
{
    switch (t) {
    case CBATCH_TIME_DEVICE: return "device";
    case CBATCH_TIME_CORRECTED: return "corrected";
    case CBATCH_TIME_UNCORRECTED: return "uncorrected";
    }
    return "?";
}

/* ---- Field checks ----------------------------------------------------------------------------
 * Each check records the first failure in a vctx (code + message naming the field) and returns
 * false; later checks on a failed vctx are skipped by the callers' && chains. */

typedef struct vctx {
    bool failed;
    cbatch_code code;
    char msg[CBATCH_MSG_MAX];
    const char *src; /* the JSON text the items were parsed from (see mark_literals) */
    size_t src_len;
    struct korder *ko; /* the key order its objects are collected with */
} vctx;

static bool fail(vctx *v, cbatch_code code, const char *field, const char *what)
{
    if (!v->failed) {
        v->failed = true;
        v->code = code;
        snprintf(v->msg, sizeof v->msg, "%s: %s", field, what);
    }
    return false;
}

/* The members of one JSON object by key, found in one walk over it (the first of duplicate keys
 * wins, as in cJSON_GetObjectItemCaseSensitive). Devices send the keys in the documented order,
 * so each member usually matches the key after the previous one at the first comparison. */
typedef enum fkey {
    F_PROTOCOL,
    F_BATCH_ID,
    F_DEVICE,
    F_ANSWERS,
    F_ID,
    F_EPOCH,
    F_EPOCH_FIRST_SEQ,
    F_APP_VERSION,
    F_PENDING,
    F_HIGHEST_SEQ,
    F_DISK_FREE,
    F_CLOCK_TRUSTED,
    F_SENT_WALL_MS,
    F_SENT_MONO_MS,
    F_BOOT_ID,
    F_SEQ,
    F_SESSION,
    F_SURVEY,
    F_SURVEY_VERSION,
    F_QUESTION,
    F_KIND,
    F_VALUE,
    F_CHOICE,
    F_LANG,
    F_STORE,
    F_TOUCHPOINT,
    F_WALL_MS,
    F_MONO_MS,
    F_FLAGS,
    F_CONFIG_REVISION,
    F_CONFIG_ERROR,
    F_COUNT
} fkey;

static const char *const fnames[F_COUNT] = {
    [F_PROTOCOL] = "protocol",
    [F_BATCH_ID] = "batch_id",
    [F_DEVICE] = "device",
    [F_ANSWERS] = "answers",
    [F_ID] = "id",
    [F_EPOCH] = "epoch",
    [F_EPOCH_FIRST_SEQ] = "epoch_first_seq",
    [F_APP_VERSION] = "app_version",
    [F_PENDING] = "pending",
    [F_HIGHEST_SEQ] = "highest_seq",
    [F_DISK_FREE] = "disk_free",
    [F_CLOCK_TRUSTED] = "clock_trusted",
    [F_SENT_WALL_MS] = "sent_wall_ms",
    [F_SENT_MONO_MS] = "sent_mono_ms",
    [F_BOOT_ID] = "boot_id",
    [F_SEQ] = "seq",
    [F_SESSION] = "session",
    [F_SURVEY] = "survey",
    [F_SURVEY_VERSION] = "survey_version",
    [F_QUESTION] = "question",
    [F_KIND] = "kind",
    [F_VALUE] = "value",
    [F_CHOICE] = "choice",
    [F_LANG] = "lang",
    [F_STORE] = "store",
    [F_TOUCHPOINT] = "touchpoint",
    [F_WALL_MS] = "wall_ms",
    [F_MONO_MS] = "mono_ms",
    [F_FLAGS] = "flags",
    [F_CONFIG_REVISION] = "config_revision",
    [F_CONFIG_ERROR] = "config_error",
};

typedef struct slots {
    const cJSON *v[F_COUNT];
} slots;

/* The key order collect() expects: next[k] is the key that followed key k in the last object
 * (next[F_COUNT]: its first key). It starts as fkey's order and learns the device's own order
 * from the first answer, so that every later answer matches each key at the first comparison
 * whatever order the device writes them in (the kiosk's is not fkey's). */
typedef struct korder {
    unsigned char next[F_COUNT + 1];
} korder;

static void korder_init(korder *ko)
{
    for (size_t k = 0; k < F_COUNT; k++)
        ko->next[k] = (unsigned char)((k + 1) % F_COUNT);
    ko->next[F_COUNT] = 0;
}

/* strcmp(a, b) == 0 for the few bytes of a key, without a library call. */
static bool same_key(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static void collect(slots *s, const cJSON *obj, korder *ko)
{
    size_t prev = F_COUNT;
    memset(s, 0, sizeof *s);
    for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next) {
        const char *key = it->string;
        if (!key)
            continue;
        size_t hint = ko->next[prev];
        for (size_t k = 0; k < F_COUNT; k++) {
            size_t i = (hint + k) % F_COUNT;
            if (fnames[i][0] == key[0] && same_key(fnames[i], key)) {
                if (!s->v[i])
                    s->v[i] = it;
                ko->next[prev] = (unsigned char)i;
                prev = i;
                break;
            }
        }
    }
}

/* The field as an item, or NULL (and a missing_field failure when required). JSON null counts as
 * absent. */
static cJSON *field(vctx *v, const slots *obj, fkey key, bool required)
{
    const char *name = fnames[key];
    cJSON *it = (cJSON *)obj->v[key];
    if (it && cJSON_IsNull(it))
        it = NULL;
    if (!it && required)
        fail(v, CBATCH_MISSING_FIELD, name, "missing");
    return it;
}

/* ---- Literal forms (see the file's opening comment) ------------------------------------------ */

#define LIT_MAX 32 /* bytes of a number literal quoted in a message */

/* A scanner over JSON text that cJSON has accepted: it only needs to find where each value
 * starts, skip keys (noting a key that holds \u0000) and step over strings and literals. */
typedef struct lex {
    const char *s;
    size_t n, i;
    bool nul_key;
} lex;

/* Whitespace, and the characters between values (after the first): separators and closing
 * brackets. A table: the lexer tests every byte between values against both sets. */
enum { LEX_WS = 1, LEX_SEP = 2 };
static const unsigned char lex_class[256] = {
    [' '] = LEX_WS,  ['\t'] = LEX_WS, ['\n'] = LEX_WS, ['\r'] = LEX_WS,
    [','] = LEX_SEP, [':'] = LEX_SEP, [']'] = LEX_SEP, ['}'] = LEX_SEP};

static bool is_ws(char c)
{
    return lex_class[(unsigned char)c] & LEX_WS;
}

/* A character of a JSON number literal (the literal's form is checked apart). */
static bool is_num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Nonzero when one of the eight bytes at p is a quote, a backslash or NUL: its lowest set bit is
 * in the first such byte (on a little-endian machine). The zero-byte test, (w - 0x01..) & ~w &
 * 0x80.., marks bytes above a zero byte only through its borrow, so never below the first one. */
static uint64_t special8(const char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w, q, bs;
    memcpy(&w, p, 8);
    q = w ^ (ones * '"');
    bs = w ^ (ones * '\\');
    return ((w - ones) & ~w & highs) | ((q - ones) & ~q & highs) | ((bs - ones) & ~bs & highs);
}

/* Steps over the string at s[i] == '"'; returns the index after its closing quote and sets *nul
 * when it holds the escape \u0000. Eight bytes at a time up to the next byte that matters: this
 * reads the whole batch. */
static size_t lex_string(const lex *x, size_t i, bool *nul)
{
    *nul = false;
    for (i++; i < x->n; i++) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (i + 8 <= x->n) {
            uint64_t m = special8(x->s + i);
            if (!m) {
                i += 7;
                continue;
            }
            i += (size_t)__builtin_ctzll(m) / 8;
        }
#endif
        if (x->s[i] == '"')
            break;
        if (x->s[i] == '\0') /* a raw NUL byte ends cJSON's copy just the same */
            *nul = true;
        if (x->s[i] != '\\')
            continue;
        if (i + 5 < x->n && x->s[i + 1] == 'u' && memcmp(x->s + i + 2, "0000", 4) == 0)
            *nul = true;
        i++; /* the escaped character; \uXXXX's hex digits are never a quote */
    }
    return i + 1;
}

/* Moves to the next value and returns its offset (keys are skipped) and *nul for a string. */
static size_t lex_value(lex *x, bool *nul)
{
    const char *s = x->s;
    size_t i = x->i, n = x->n;
    *nul = false;
    for (;;) {
        while (i < n && lex_class[(unsigned char)s[i]])
            i++;
        if (i >= n) {
            x->i = i;
            return n;
        }
        size_t at = i;
        char c = s[at];
        if (c == '"') {
            size_t j = lex_string(x, at, nul), k = j;
            while (k < n && is_ws(s[k]))
                k++;
            i = j;
            if (k < n && s[k] == ':') { /* a key, not a value */
                x->nul_key |= *nul;
                *nul = false;
                continue;
            }
            x->i = i;
            return at;
        }
        if (c == '{' || c == '[')
            i++;
        else
            while (i < n && s[i] && !lex_class[(unsigned char)s[i]])
                i++;
        x->i = i;
        return at;
    }
}

/* Records each number's literal offset and each string's \u0000 in valueint, in document order
 * (cJSON keeps children in that order, so the tree's pre-order is the text's value order). */
static void mark_literals(cJSON *it, lex *x)
{
    for (; it; it = it->next) {
        bool nul = false;
        size_t at = lex_value(x, &nul);
        if ((it->type & 0xFF) == cJSON_Number) /* cJSON_IsNumber, without a call into libcjson */
            it->valueint = (int)at;
        else if ((it->type & 0xFF) == cJSON_String)
            it->valueint = nul;
        if (it->child)
            mark_literals(it->child, x);
    }
}

/* Copies the literal of number item it into out (LIT_MAX bytes, cut with "..." when longer) and
 * returns true when it is written as an integer: -?(0|[1-9][0-9]*), no fraction, no exponent.
 * memcpy, not snprintf: every integer field of every answer comes through here. */
static bool number_literal(const vctx *v, const cJSON *it, char out[LIT_MAX])
{
    size_t at = (size_t)it->valueint, len = 0;
    if (!v->src || it->valueint < 0 || at >= v->src_len) {
        snprintf(out, LIT_MAX, "%.17g", it->valuedouble);
        return false;
    }
    const char *p = v->src + at;
    while (at + len < v->src_len && is_num_char(p[len]))
        len++;
    if (len < LIT_MAX) {
        memcpy(out, p, len);
        out[len] = '\0';
    } else {
        memcpy(out, p, LIT_MAX - 4);
        memcpy(out + LIT_MAX - 4, "...", 4);
    }
    size_t i = p[0] == '-';
    if (i == len || (p[i] == '0' && len > i + 1))
        return false;
    for (; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* Reads number item it as an exact integer into *out. Returns 1 when written as an integer that
 * fits int64, 0 when it is not an integer, -1 when it is an integer beyond int64 (lit always set).
 * The digits are summed here (what strtoll would return, without its locale and errno). */
static int exact_int(const vctx *v, const cJSON *it, char lit[LIT_MAX], int64_t *out)
{
    if (!number_literal(v, it, lit))
        return 0;
    const char *p = v->src + it->valueint, *end = v->src + v->src_len;
    bool neg = *p == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, n = 0;
    for (p += neg; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (n > (limit - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = !neg ? (int64_t)n : n ? -(int64_t)(n - 1) - 1 : 0;
    return 1;
}

/* Checks an integer field within lo..hi. */
static bool get_int(vctx *v, const slots *obj, fkey key, int64_t lo, int64_t hi, int64_t *out)
{
    const char *name = fnames[key];
    cJSON *it = field(v, obj, key, true);
    char lit[LIT_MAX], what[96];
    int64_t n = 0;
    if (!it)
        return false;
    if (!cJSON_IsNumber(it))
        return fail(v, CBATCH_INVALID_TYPE, name, "not a number");
    int r = exact_int(v, it, lit, &n);
    if (r == 0) {
        snprintf(what, sizeof what, "%s is not an integer", lit);
        return fail(v, CBATCH_INVALID_TYPE, name, what);
    }
    if (r < 0 || n < lo || n > hi) {
        snprintf(what, sizeof what, "%s not in %lld..%lld", lit, (long long)lo, (long long)hi);
        return fail(v, CBATCH_VALUE_OUT_OF_RANGE, name, what);
    }
    *out = n;
    return true;
}

static bool get_bool(vctx *v, const slots *obj, fkey key, bool *out)
{
    const char *name = fnames[key];
    cJSON *it = field(v, obj, key, true);
    if (!it)
        return false;
    if (!cJSON_IsBool(it))
        return fail(v, CBATCH_INVALID_TYPE, name, "not true or false");
    *out = cJSON_IsTrue(it);
    return true;
}

/* A string field: type, UTF-8 and length (maxlen bytes) checked; returns it borrowed. */
static const char *get_str(vctx *v, const slots *obj, fkey key, bool required, size_t maxlen)
{
    const char *name = fnames[key];
    cJSON *it = field(v, obj, key, required);
    if (!it)
        return NULL;
    if (!cJSON_IsString(it) || !it->valuestring) {
        fail(v, CBATCH_INVALID_TYPE, name, "not a string");
        return NULL;
    }
    size_t n = strlen(it->valuestring);
    if (it->valueint) { /* see mark_literals */
        fail(v, CBATCH_INVALID_UTF8, name, "holds \\u0000");
        return NULL;
    }
    if (!tp_utf8_valid(it->valuestring, n)) {
        fail(v, CBATCH_INVALID_UTF8, name, "not valid UTF-8");
        return NULL;
    }
    if (n > maxlen) {
        char what[64];
        snprintf(what, sizeof what, "%zu bytes, at most %zu", n, maxlen);
        fail(v, CBATCH_TOO_LONG, name, what);
        return NULL;
    }
    return it->valuestring;
}

static bool get_id(vctx *v, const slots *obj, fkey key, char out[TP_ID_MAX + 1])
{
    const char *name = fnames[key];
    const char *s = get_str(v, obj, key, true, TP_ID_MAX);
    if (!s)
        return false;
    if (!tp_id_valid(s))
        return fail(v, CBATCH_INVALID_ID, name, "not 1-64 characters of A-Z a-z 0-9 . _ -");
    tp_strlcpy(out, s, TP_ID_MAX + 1);
    return true;
}

/* A hex digit in lowercase; 0 for any other byte. */
static const char hex_lower[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5',
    ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9', ['a'] = 'a', ['b'] = 'b',
    ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['A'] = 'a', ['B'] = 'b',
    ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f'};

/* The textual UUID form libuuid's uuid_parse accepts (8-4-4-4-12 hex digits, either case),
 * checked without its strtoul calls and written lowercase into out (left partly written when it
 * is not a UUID): this runs four times per answer. A table, not range tests: digits and letters
 * alternate at random in a UUID, and each range test would be a mispredicted branch. */
static bool uuid_lower(const char *s, char out[TP_UUID_STR])
{
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
            out[i] = '-';
        } else if (!(out[i] = hex_lower[(unsigned char)c])) {
            return false; /* NUL too: no byte past a short string's end is read */
        }
    }
    out[36] = '\0';
    return s[36] == '\0';
}

/* A UUID field, stored lowercase so that one id has one spelling. */
static bool get_uuid(vctx *v, const slots *obj, fkey key, char out[TP_UUID_STR])
{
    const char *name = fnames[key];
    const cJSON *it = obj->v[key];
    /* A string that is a UUID passes every get_str check (36 ASCII bytes, no \u0000): only
     * other values need them, for their message. */
    if (it && (it->type & 0xFF) == cJSON_String && it->valuestring && !it->valueint &&
        uuid_lower(it->valuestring, out))
        return true;
    const char *s = get_str(v, obj, key, true, 64);
    if (!s)
        return false;
    if (!uuid_lower(s, out))
        return fail(v, CBATCH_INVALID_ID, name, "not a UUID");
    return true;
}

/* ---- Clock rule ------------------------------------------------------------------------------ */

void cbatch_correct_time(const cbatch_device *d, int64_t received_at_ms, cbatch_answer *a)
{
    if (a->clock_trusted) {
        a->at_ms = a->wall_ms;
        a->time_source = CBATCH_TIME_DEVICE;
    } else if (strcmp(a->boot_id, d->boot_id) == 0 && a->mono_ms <= d->sent_mono_ms &&
               d->sent_mono_ms - a->mono_ms <= received_at_ms - CBATCH_MIN_MS) {
        a->at_ms = received_at_ms - (d->sent_mono_ms - a->mono_ms);
        a->time_source = CBATCH_TIME_CORRECTED;
    } else {
        a->at_ms = a->wall_ms;
        a->time_source = CBATCH_TIME_UNCORRECTED;
    }
}

/* ---- Answers --------------------------------------------------------------------------------- */

tp_err cbatch_add_reject(cbatch *b, const char *id, int64_t seq, int index, cbatch_code code,
                         const char *message)
{
    tp_err rc = tp_array_grow((void **)&b->rejects, &b->cap_rejects, b->n_rejects + 1,
                              sizeof *b->rejects, CBATCH_MAX_ANSWERS);
    if (rc != TP_OK)
        return rc;
    cbatch_reject *r = &b->rejects[b->n_rejects++];
    memset(r, 0, sizeof *r);
    r->has_id = id != NULL;
    if (id)
        tp_strlcpy(r->id, id, sizeof r->id);
    r->seq = seq;
    r->index = index;
    r->code = code;
    tp_strlcpy(r->message, message ? message : "", sizeof r->message);
    return TP_OK;
}

static const struct {
    const char *name;
    unsigned bit;
} flag_names[] = {{"rapid_repeat", TP_FLAG_RAPID_REPEAT}, {"button", TP_FLAG_BUTTON}};

static bool get_flags(vctx *v, const slots *obj, unsigned *out)
{
    cJSON *it = field(v, obj, F_FLAGS, false);
    *out = 0;
    if (!it)
        return true;
    if (!cJSON_IsArray(it))
        return fail(v, CBATCH_INVALID_TYPE, "flags", "not an array");
    if (cJSON_GetArraySize(it) > 8)
        return fail(v, CBATCH_TOO_LONG, "flags", "more than 8 flags");
    const cJSON *f;
    cJSON_ArrayForEach(f, it)
    {
        if (!cJSON_IsString(f) || !f->valuestring)
            return fail(v, CBATCH_INVALID_TYPE, "flags", "a flag is not a string");
        if (f->valueint)
            return fail(v, CBATCH_INVALID_UTF8, "flags", "a flag holds \\u0000");
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
            if (strcmp(f->valuestring, flag_names[i].name) == 0)
                bit = flag_names[i].bit;
        if (!bit)
            return fail(v, CBATCH_INVALID_FIELD, "flags", "unknown flag name");
        if (*out & bit)
            return fail(v, CBATCH_INVALID_FIELD, "flags", "a flag is repeated");
        *out |= bit;
    }
    return true;
}

/* Validates one answer into a. Returns true when valid; else v holds the code and message. */
static bool parse_answer(vctx *v, const cJSON *obj, const cbatch_device *d, cbatch_answer *a)
{
    int64_t n = 0;
    slots fields;
    const slots *o = &fields;
    memset(a, 0, sizeof *a);
    a->value = -1;
    if (!cJSON_IsObject(obj))
        return fail(v, CBATCH_INVALID_TYPE, "answer", "not an object");
    collect(&fields, obj, v->ko);
    if (!get_uuid(v, o, F_ID, a->id))
        return false;
    if (!get_int(v, o, F_SEQ, d->epoch_first_seq, CBATCH_MAX_INT, &a->seq))
        return false;
    if (!get_uuid(v, o, F_SESSION, a->session) || !get_id(v, o, F_SURVEY, a->survey))
        return false;
    if (!get_int(v, o, F_SURVEY_VERSION, 1, 1000000, &n))
        return false;
    a->survey_version = (int)n;
    if (!get_id(v, o, F_QUESTION, a->question))
        return false;

    const char *kind = get_str(v, o, F_KIND, true, 16);
    if (!kind)
        return false;
    if (tp_kind_parse(kind, &a->kind) != TP_OK)
        return fail(v, CBATCH_INVALID_KIND, "kind", "not nps, csat, ces, smiley4 or choice");
    if (a->kind == TP_KIND_CHOICE) {
        if (field(v, o, F_VALUE, false))
            return fail(v, CBATCH_VALUE_OUT_OF_RANGE, "value", "must be null for kind choice");
        if (!get_id(v, o, F_CHOICE, a->choice))
            return false;
    } else {
        int lo = 0, hi = 0;
        tp_kind_range(a->kind, &lo, &hi);
        if (!get_int(v, o, F_VALUE, lo, hi, &n)) {
            char lit[LIT_MAX];
            if (v->code == CBATCH_VALUE_OUT_OF_RANGE) {
                number_literal(v, o->v[F_VALUE], lit);
                snprintf(v->msg, sizeof v->msg, "%s value %s not in %d..%d", kind, lit, lo, hi);
            }
            return false;
        }
        a->value = (int)n;
        if (field(v, o, F_CHOICE, false))
            return fail(v, CBATCH_INVALID_FIELD, "choice", "must be null for a rating kind");
    }

    const char *lang = get_str(v, o, F_LANG, true, TP_LANG_MAX);
    if (!lang)
        return false;
    if (!tp_lang_valid(lang))
        return fail(v, CBATCH_INVALID_FIELD, "lang", "not a language tag");
    tp_strlcpy(a->lang, lang, sizeof a->lang);
    if (!get_id(v, o, F_STORE, a->store) || !get_id(v, o, F_TOUCHPOINT, a->touchpoint))
        return false;
    if (!get_int(v, o, F_WALL_MS, 0, CBATCH_MAX_MS, &a->wall_ms) ||
        !get_bool(v, o, F_CLOCK_TRUSTED, &a->clock_trusted) ||
        !get_int(v, o, F_MONO_MS, 0, CBATCH_MAX_INT, &a->mono_ms) ||
        !get_uuid(v, o, F_BOOT_ID, a->boot_id) || !get_flags(v, o, &a->flags))
        return false;
    return true;
}

/* ---- Envelope -------------------------------------------------------------------------------- */

/* The device's configuration fields (issue 12): both optional; config_error null = none. */
static bool get_config_fields(vctx *v, const slots *o, cbatch_device *d)
{
    const char *rev = NULL, *cerr = NULL;
    if (o->v[F_CONFIG_REVISION] &&
        !(rev = get_str(v, o, F_CONFIG_REVISION, false, CBATCH_REVISION_MAX)) &&
        !cJSON_IsNull(o->v[F_CONFIG_REVISION]))
        return false;
    if (o->v[F_CONFIG_ERROR] &&
        !(cerr = get_str(v, o, F_CONFIG_ERROR, false, CBATCH_CONFIG_ERROR_MAX)) &&
        !cJSON_IsNull(o->v[F_CONFIG_ERROR]))
        return false;
    d->has_config_revision = rev != NULL;
    tp_strlcpy(d->config_revision, rev ? rev : "", sizeof d->config_revision);
    d->has_config_error = cerr != NULL;
    tp_strlcpy(d->config_error, cerr ? cerr : "", sizeof d->config_error);
    return true;
}

static bool parse_device(vctx *v, const slots *root, cbatch_device *d)
{
    slots fields;
    const slots *o = &fields;
    cJSON *obj = field(v, root, F_DEVICE, true);
    if (!obj)
        return false;
    if (!cJSON_IsObject(obj))
        return fail(v, CBATCH_INVALID_TYPE, "device", "not an object");
    collect(&fields, obj, v->ko);
    const char *ver;
    if (!get_id(v, o, F_ID, d->id) || !get_uuid(v, o, F_EPOCH, d->epoch) ||
        !get_int(v, o, F_EPOCH_FIRST_SEQ, 1, CBATCH_MAX_INT, &d->epoch_first_seq) ||
        !(ver = get_str(v, o, F_APP_VERSION, true, CBATCH_VERSION_MAX)))
        return false;
    if (!*ver)
        return fail(v, CBATCH_INVALID_FIELD, "app_version", "empty");
    for (const char *p = ver; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return fail(v, CBATCH_INVALID_FIELD, "app_version", "not printable ASCII");
    tp_strlcpy(d->app_version, ver, sizeof d->app_version);
    return get_int(v, o, F_PENDING, 0, CBATCH_MAX_INT, &d->pending) &&
           get_int(v, o, F_HIGHEST_SEQ, 0, CBATCH_MAX_INT, &d->highest_seq) &&
           get_int(v, o, F_DISK_FREE, 0, CBATCH_MAX_INT, &d->disk_free) &&
           get_bool(v, o, F_CLOCK_TRUSTED, &d->clock_trusted) &&
           get_int(v, o, F_SENT_WALL_MS, 0, CBATCH_MAX_MS, &d->sent_wall_ms) &&
           get_int(v, o, F_SENT_MONO_MS, 0, CBATCH_MAX_INT, &d->sent_mono_ms) &&
           get_uuid(v, o, F_BOOT_ID, d->boot_id) && get_config_fields(v, o, d);
}

/* The id and seq of a rejected answer as far as they can be read, for the reply. */
static void reject_identity(const vctx *v, const cJSON *obj, const char **id, int64_t *seq)
{
    slots o;
    char lit[LIT_MAX];
    int64_t n = -1;
    *id = NULL;
    *seq = -1;
    if (!cJSON_IsObject(obj))
        return;
    collect(&o, obj, v->ko);
    const cJSON *it = o.v[F_ID];
    if (cJSON_IsString(it) && it->valuestring && !it->valueint &&
        strlen(it->valuestring) <= TP_ID_MAX &&
        tp_utf8_valid(it->valuestring, strlen(it->valuestring)))
        *id = it->valuestring;
    it = o.v[F_SEQ];
    if (cJSON_IsNumber(it) && exact_int(v, it, lit, &n) == 1 && n >= 0 && n <= CBATCH_MAX_INT)
        *seq = n;
}

tp_err cbatch_parse(const char *json, size_t len, int64_t received_at_ms, cbatch **out, char *err,
                    size_t errlen)
{
    tp_err rc = TP_OK;
    cJSON *root = NULL;
    cjarena *arena = NULL; /* the tree's blocks, freed at once */
    cbatch *b = NULL;
    vctx v = {0};
    korder env_order, answer_order; /* the envelope's objects, the answers */
    *out = NULL;
    korder_init(&env_order);
    korder_init(&answer_order);
    v.ko = &env_order;

    if (!json || len == 0) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "empty body");
        goto out;
    }
    if (len > INT_MAX) { /* offsets are kept in an int (mark_literals) */
        rc = tp_errf(err, errlen, TP_ERR_TOO_LARGE, "body of %zu bytes", len);
        goto out;
    }
    root = cjarena_parse(json, len, &arena);
    if (!root) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "body is not valid JSON");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "body is not a JSON object");
        goto out;
    }
    lex x = {.s = json, .n = len};
    mark_literals(root, &x);
    if (x.nul_key) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "a key holds \\u0000");
        goto out;
    }
    v.src = json;
    v.src_len = len;
    b = calloc(1, sizeof *b);
    if (!b) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    int64_t proto = 0;
    slots top;
    collect(&top, root, v.ko);
    if (!get_int(&v, &top, F_PROTOCOL, 1, 1, &proto) ||
        !get_uuid(&v, &top, F_BATCH_ID, b->batch_id) || !parse_device(&v, &top, &b->device)) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "%s (%s)", v.msg, cbatch_code_name(v.code));
        goto out;
    }
    const cJSON *answers = top.v[F_ANSWERS];
    if (!cJSON_IsArray(answers)) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "answers: missing or not an array");
        goto out;
    }
    int count = cJSON_GetArraySize(answers);
    if (count > CBATCH_MAX_ANSWERS) {
        rc = tp_errf(err, errlen, TP_ERR_TOO_LARGE, "answers: %d, at most %d", count,
                     CBATCH_MAX_ANSWERS);
        goto out;
    }
    if (count > 0) {
        b->answers = calloc((size_t)count, sizeof *b->answers);
        if (!b->answers) {
            rc = TP_ERR_NOMEM;
            goto out;
        }
    }
    const cJSON *o;
    int index = 0;
    cJSON_ArrayForEach(o, answers)
    {
        vctx av = {.src = json, .src_len = len, .ko = &answer_order};
        cbatch_answer *a = &b->answers[b->n_answers];
        if (parse_answer(&av, o, &b->device, a)) {
            cbatch_correct_time(&b->device, received_at_ms, a);
            a->index = index++;
            b->n_answers++;
            continue;
        }
        const char *id;
        int64_t seq;
        reject_identity(&av, o, &id, &seq);
        if (cbatch_add_reject(b, id, seq, index++, av.code, av.msg) != TP_OK) {
            rc = TP_ERR_NOMEM;
            goto out;
        }
    }
out:
    cjarena_release(arena, root);
    if (rc != TP_OK) {
        cbatch_free(b);
        b = NULL;
    }
    *out = b;
    return rc;
}

void cbatch_free(cbatch *b)
{
    if (!b)
        return;
    free(b->answers);
    free(b->rejects);
    free(b);
}

/* ---- Reply ----------------------------------------------------------------------------------- */

static bool add_reject_json(cJSON *arr, bool has_id, const char *id, int index, const char *code,
                            const char *msg)
{
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddItemToArray(arr, r))
        return false;
    cJSON *idj = has_id ? cJSON_CreateString(id) : cJSON_CreateNull();
    return idj && cJSON_AddItemToObject(r, "id", idj) &&
           cJSON_AddNumberToObject(r, "index", index) && cJSON_AddStringToObject(r, "code", code) &&
           cJSON_AddStringToObject(r, "message", msg);
}

char *cbatch_reply_json(const cbatch *b, const unsigned char *outcomes, int64_t received_at_ms)
{
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *acc = NULL, *dup = NULL, *rej = NULL;
    if (!root || !cJSON_AddNumberToObject(root, "protocol", 1) ||
        !cJSON_AddStringToObject(root, "ack", "touchpoint-collector") ||
        !cJSON_AddStringToObject(root, "batch_id", b->batch_id) ||
        !cJSON_AddNumberToObject(root, "received_at_ms", (double)received_at_ms) ||
        !(acc = cJSON_AddArrayToObject(root, "accepted")) ||
        !(dup = cJSON_AddArrayToObject(root, "duplicates")) ||
        !(rej = cJSON_AddArrayToObject(root, "rejected")))
        goto out;
    for (size_t i = 0; i < b->n_answers; i++) {
        const cbatch_answer *a = &b->answers[i];
        cJSON *s;
        if (outcomes[i] == CBATCH_CONFLICT)
            continue;
        if (!(s = cJSON_CreateString(a->id)) ||
            !cJSON_AddItemToArray(outcomes[i] == CBATCH_DUPLICATE ? dup : acc, s))
            goto out;
    }
    /* Rejections in request order: the parser's (sorted by index already) merged with the
     * store's seq conflicts (answers are sorted by index too). */
    size_t i = 0, k = 0;
    for (;;) {
        while (i < b->n_answers && outcomes[i] != CBATCH_CONFLICT)
            i++;
        bool have_a = i < b->n_answers, have_r = k < b->n_rejects;
        if (!have_a && !have_r)
            break;
        if (have_a && (!have_r || b->answers[i].index < b->rejects[k].index)) {
            const cbatch_answer *a = &b->answers[i++];
            char msg[CBATCH_MSG_MAX];
            snprintf(msg, sizeof msg, "seq %lld of epoch %s is stored with another answer id",
                     (long long)a->seq, b->device.epoch);
            if (!add_reject_json(rej, true, a->id, a->index, "seq_conflict", msg))
                goto out;
        } else {
            const cbatch_reject *r = &b->rejects[k++];
            if (!add_reject_json(rej, r->has_id, r->id, r->index, cbatch_code_name(r->code),
                                 r->message))
                goto out;
        }
    }
    text = cJSON_PrintUnformatted(root);
out:
    cJSON_Delete(root);
    return text;
}
