/*
 * fuzz_comment.c - libFuzzer target for the comment text path of the collector (issue 15):
 * a customer's text from the internet goes through ctag_graphemes and ctag_text (libunistring:
 * normalisation, case, word breaks, grapheme breaks) before it is stored.
 *
 * Beyond "no crash, no leak, no undefined behaviour": for valid UTF-8 the grapheme count is at
 * least 1 per non-empty text and at most its code points; every tag is one of the known
 * categories or "staff:<a listed name>"; folding returns valid UTF-8 no longer than the NFD form
 * allows. Invalid UTF-8 is what the collector refuses before tagging, so it is skipped.
 *
 * Build and run: `make fuzz` (see tests/fuzz/fuzz.mk); seeds in tests/fuzz/corpus/comment/.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctag.h"
#include "tp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_comment: promise broken: %s (line %d)\n", #cond, __LINE__);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char lists[] =
    "{\"vi\": {\"urgent\": [\"bị thương\", \"=dơ\", \"trộm\"], \"praise\": [\"ngon\", "
    "\"cảm ơn\"], \"spam\": [\"http\"], \"profanity\": [\"=lồn\"], \"nonsense\": [\"asdf\"]},"
    " \"en\": {\"urgent\": [\"fire\"], \"praise\": [\"thank you\"]}}";
static const char staff[] = "[\"Lan\", \"Minh Anh\", \"=Đức\"]";

static size_t code_points(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ctag *t;
    static cJSON *names;
    char err[TP_ERRMSG_MAX];
    if (!t) {
        cJSON *l = cJSON_Parse(lists);
        CHECK(l && ctag_new(l, &t, err, sizeof err) == TP_OK);
        cJSON_Delete(l);
        names = cJSON_Parse(staff);
    }
    if (size > 16384 || !tp_utf8_valid((const char *)data, size) || memchr(data, 0, size))
        return 0;
    char *text = malloc(size + 1);
    CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t g = ctag_graphemes(text, size);
    CHECK(g <= code_points(text, size));
    CHECK(size == 0 || g >= 1);
    cJSON *tags = NULL;
    CHECK(ctag_text(t, text, names, &tags) == TP_OK && cJSON_IsArray(tags));
    for (cJSON *it = tags->child; it; it = it->next) {
        const char *v = cJSON_GetStringValue(it);
        CHECK(v);
        CHECK(strcmp(v, "spam") == 0 || strcmp(v, "nonsense") == 0 || strcmp(v, "profanity") == 0 ||
              strcmp(v, "urgent") == 0 || strcmp(v, "praise") == 0 || strcmp(v, "staff:Lan") == 0 ||
              strcmp(v, "staff:Minh Anh") == 0 || strcmp(v, "staff:Đức") == 0);
    }
    cJSON_Delete(tags);
    for (int exact = 0; exact < 2; exact++) {
        char *f = ctag_fold(text, exact);
        CHECK(f && tp_utf8_valid(f, strlen(f)));
        free(f);
    }
    free(text);
    return 0;
}
