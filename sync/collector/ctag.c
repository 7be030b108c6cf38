/*
 * ctag.c - local tagging of comments (see ctag.h), on libunistring: u8_normalize for NFD/NFC,
 * u8_tolower, uc_is_general_category for the combining marks, u8_wordbreaks for whole words
 * (Unicode's word boundaries, UAX #29), u8_grapheme_breaks for the characters a person sees.
 *
 * Texts are short (CTAG_TEXT_MAX graphemes), so matching is a plain scan of every entry at every
 * word: at most a few thousand entries times a few hundred words, no index needed.
 */
#include "ctag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <unigbrk.h>
#include <uninorm.h>
#include <unistr.h>
#include <uniwbrk.h>

static const char *const cats[] = {"spam", "nonsense", "profanity", "urgent", "praise"};
#define N_CATS (sizeof cats / sizeof cats[0])
#define WORDS_MAX 8 /* words of one entry */

typedef struct entry {
    char *w[WORDS_MAX];
    size_t n;
    bool exact;
} entry;

struct ctag {
    entry *e[N_CATS];
    size_t n[N_CATS];
};

/* A text split into words, each in its exact and folded form. */
typedef struct words {
    char **exact, **folded;
    size_t n;
} words;

char *ctag_fold(const char *s, bool exact)
{
    size_t len = 0;
    const uint8_t *in = (const uint8_t *)s;
    if (exact) {
        uint8_t *o = u8_tolower(in, strlen(s), NULL, UNINORM_NFC, NULL, &len);
        char *z = o ? realloc(o, len + 1) : NULL;
        if (!z) {
            free(o);
            return NULL;
        }
        z[len] = '\0';
        return z;
    }
    uint8_t *low = u8_tolower(in, strlen(s), NULL, UNINORM_NFD, NULL, &len);
    if (!low)
        return NULL;
    char *out = malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; out && i < len;) {
        ucs4_t uc = 0;
        int k = u8_mbtouc(&uc, low + i, len - i);
        if (k <= 0)
            break;
        if (uc == 0x0111 || uc == 0x0110) /* đ Đ: a letter of its own, not d + a mark */
            out[o++] = 'd';
        else if (!uc_is_general_category(uc, UC_CATEGORY_M)) {
            memcpy(out + o, low + i, (size_t)k);
            o += (size_t)k;
        }
        i += (size_t)k;
    }
    free(low);
    if (out)
        out[o] = '\0';
    return out;
}

size_t ctag_graphemes(const char *s, size_t len)
{
    /* u8_grapheme_breaks, not u8_grapheme_next: only the whole-string form applies the rules
     * with context (flags, emoji joined by ZWJ), as Intl.Segmenter does. */
    char *p = len ? malloc(len) : NULL;
    size_t n = 0;
    if (!p)
        return len; /* out of memory: bytes, never fewer than graphemes */
    u8_grapheme_breaks((const uint8_t *)s, len, p);
    for (size_t i = 0; i < len; i++)
        n += p[i] != 0;
    free(p);
    return n;
}

static void words_free(words *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->exact[i]);
        free(w->folded[i]);
    }
    free(w->exact);
    free(w->folded);
    memset(w, 0, sizeof *w);
}

/* Whether the segment holds a letter or a digit (a word, not spaces or punctuation). */
static bool wordlike(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        ucs4_t uc = 0;
        int k = u8_mbtouc(&uc, s + i, n - i);
        if (k <= 0)
            return false;
        if (uc_is_alpha(uc) || uc_is_digit(uc))
            return true;
        i += (size_t)k;
    }
    return false;
}

/* Splits s (NFC lower-cased first, so breaks fall the same way for both forms) into words. */
static tp_err split(const char *s, words *w)
{
    memset(w, 0, sizeof *w);
    char *low = ctag_fold(s, true);
    size_t n = low ? strlen(low) : 0;
    char *br = low ? malloc(n + 1) : NULL;
    tp_err rc = TP_OK;
    if (!br) {
        free(low);
        return TP_ERR_NOMEM;
    }
    u8_wordbreaks((const uint8_t *)low, n, br);
    size_t cap = 0;
    for (size_t i = 0; i < n && rc == TP_OK;) {
        size_t j = i + 1;
        while (j < n && !br[j])
            j++;
        if (wordlike((const uint8_t *)low + i, j - i)) {
            if (w->n == cap) {
                size_t nc = cap ? cap * 2 : 32;
                char **a = realloc(w->exact, nc * sizeof *a);
                if (a)
                    w->exact = a;
                char **b = a ? realloc(w->folded, nc * sizeof *b) : NULL;
                if (b)
                    w->folded = b;
                if (!a || !b) {
                    rc = TP_ERR_NOMEM;
                    break;
                }
                cap = nc;
            }
            char *e = strndup(low + i, j - i);
            char *f = e ? ctag_fold(e, false) : NULL;
            if (!f) {
                free(e);
                rc = TP_ERR_NOMEM;
                break;
            }
            w->exact[w->n] = e;
            w->folded[w->n++] = f;
        }
        i = j;
    }
    free(br);
    free(low);
    if (rc != TP_OK)
        words_free(w);
    return rc;
}

tp_err ctag_check(const cJSON *lists, char *err, size_t errlen)
{
    size_t total = 0;
    if (!cJSON_IsObject(lists))
        return tp_errf(err, errlen, TP_ERR_INVALID, "$: expected an object");
    for (const cJSON *l = lists->child; l; l = l->next) {
        if (strcmp(l->string, "vi") != 0 && strcmp(l->string, "en") != 0)
            return tp_errf(err, errlen, TP_ERR_INVALID, "$.%.16s: unknown language (vi or en)",
                           l->string);
        if (!cJSON_IsObject(l))
            return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s: expected an object", l->string);
        for (const cJSON *c = l->child; c; c = c->next) {
            size_t k = 0;
            while (k < N_CATS && strcmp(cats[k], c->string) != 0)
                k++;
            if (k == N_CATS)
                return tp_errf(err, errlen, TP_ERR_INVALID,
                               "$.%s.%.32s: unknown category (spam, nonsense, profanity, urgent, "
                               "praise)",
                               l->string, c->string);
            if (!cJSON_IsArray(c))
                return tp_errf(err, errlen, TP_ERR_INVALID, "$.%s.%s: expected an array", l->string,
                               c->string);
            int i = 0;
            for (const cJSON *e = c->child; e; e = e->next, i++) {
                const char *v = cJSON_GetStringValue(e);
                size_t vl = v ? strlen(v) : 0;
                if (!v || vl == 0 || vl > CTAG_ENTRY_MAX || !tp_utf8_valid(v, vl) ||
                    (v[0] == '=' && vl == 1))
                    return tp_errf(err, errlen, TP_ERR_INVALID,
                                   "$.%s.%s[%d]: expected a word of 1..%d bytes of UTF-8",
                                   l->string, c->string, i, CTAG_ENTRY_MAX);
                if (++total > CTAG_ENTRIES_MAX)
                    return tp_errf(err, errlen, TP_ERR_INVALID, "$: more than %d entries",
                                   CTAG_ENTRIES_MAX);
            }
        }
    }
    return TP_OK;
}

static void entry_free(entry *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->w[i]);
}

void ctag_free(ctag *t)
{
    if (!t)
        return;
    for (size_t k = 0; k < N_CATS; k++) {
        for (size_t i = 0; i < t->n[k]; i++)
            entry_free(&t->e[k][i]);
        free(t->e[k]);
    }
    free(t);
}

/* Parses one entry into e. Returns TP_OK (an entry of no word gets n = 0) or TP_ERR_NOMEM. */
static tp_err entry_parse(const char *v, entry *e)
{
    words w;
    memset(e, 0, sizeof *e);
    e->exact = v[0] == '=';
    tp_err rc = split(e->exact ? v + 1 : v, &w);
    if (rc != TP_OK)
        return rc;
    for (size_t i = 0; i < w.n && i < WORDS_MAX; i++) {
        e->w[e->n++] = e->exact ? w.exact[i] : w.folded[i];
        if (e->exact)
            w.exact[i] = NULL;
        else
            w.folded[i] = NULL;
    }
    words_free(&w);
    return TP_OK;
}

tp_err ctag_new(const cJSON *lists, ctag **out, char *err, size_t errlen)
{
    *out = NULL;
    tp_err rc = ctag_check(lists, err, errlen);
    if (rc != TP_OK)
        return rc;
    ctag *t = calloc(1, sizeof *t);
    if (!t)
        return TP_ERR_NOMEM;
    for (size_t k = 0; k < N_CATS && rc == TP_OK; k++) {
        size_t total = 0;
        for (const cJSON *l = lists->child; l; l = l->next)
            total += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(l, cats[k]));
        if (!total)
            continue;
        if (!(t->e[k] = calloc(total, sizeof(entry)))) {
            rc = TP_ERR_NOMEM;
            break;
        }
        for (const cJSON *l = lists->child; l && rc == TP_OK; l = l->next) {
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(l, cats[k]);
            for (const cJSON *e = arr ? arr->child : NULL; e && rc == TP_OK; e = e->next) {
                rc = entry_parse(e->valuestring, &t->e[k][t->n[k]]);
                if (rc == TP_OK && t->e[k][t->n[k]].n > 0)
                    t->n[k]++;
                else if (rc == TP_OK)
                    entry_free(&t->e[k][t->n[k]]);
            }
        }
    }
    if (rc != TP_OK) {
        ctag_free(t);
        return rc;
    }
    *out = t;
    return TP_OK;
}

/* Whether entry e occurs as whole words anywhere in w. */
static bool found(const entry *e, const words *w)
{
    char *const *side = e->exact ? w->exact : w->folded;
    for (size_t i = 0; i + e->n <= w->n; i++) {
        size_t j = 0;
        while (j < e->n && strcmp(side[i + j], e->w[j]) == 0)
            j++;
        if (j == e->n)
            return true;
    }
    return false;
}

/* No letter at all, or one character 6 times in a row ("aaaaaa", "!!!!!!"). */
static bool nonsense(const char *text, const words *w)
{
    bool letter = false;
    for (size_t i = 0; i < w->n && !letter; i++)
        for (const char *p = w->folded[i]; *p && !letter; p++)
            letter = !(*p >= '0' && *p <= '9');
    if (!letter)
        return true;
    size_t run = 1;
    for (size_t i = 1; text[i]; i++) {
        run = text[i] == text[i - 1] && text[i] != ' ' ? run + 1 : 1;
        if (run >= 6)
            return true;
    }
    return false;
}

tp_err ctag_text(const ctag *t, const char *text, const cJSON *staff, cJSON **out)
{
    words w;
    *out = NULL;
    tp_err rc = split(text, &w);
    if (rc != TP_OK)
        return rc;
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    for (size_t k = 0; ok && k < N_CATS; k++) {
        bool hit = k == 1 && nonsense(text, &w);
        for (size_t i = 0; !hit && t && i < t->n[k]; i++)
            hit = found(&t->e[k][i], &w);
        if (hit)
            ok = cJSON_AddItemToArray(arr, cJSON_CreateString(cats[k]));
    }
    for (const cJSON *s = cJSON_IsArray(staff) ? staff->child : NULL; ok && s; s = s->next) {
        const char *name = cJSON_GetStringValue(s);
        entry e;
        if (!name || !*name || strlen(name) > CTAG_ENTRY_MAX)
            continue;
        if (entry_parse(name, &e) != TP_OK) {
            ok = false;
            break;
        }
        if (e.n > 0 && found(&e, &w)) {
            char tag[CTAG_ENTRY_MAX + 8];
            snprintf(tag, sizeof tag, "staff:%s", name[0] == '=' ? name + 1 : name);
            ok = cJSON_AddItemToArray(arr, cJSON_CreateString(tag));
        }
        entry_free(&e);
    }
    words_free(&w);
    if (!ok) {
        cJSON_Delete(arr);
        return TP_ERR_NOMEM;
    }
    *out = arr;
    return TP_OK;
}
