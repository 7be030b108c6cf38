/*
 * ctag.h - local tagging of customer comments (issue 15), no cloud: keyword lists in vi and en
 * matched by whole word and without diacritics, plus the store's staff names.
 *
 * Lists document (assets/comments/keywords.json is the shipped default; a chain may store its
 * own, `tags set`):
 *
 *   {"vi": {"spam": [...], "nonsense": [...], "profanity": [...], "urgent": [...],
 *           "praise": [...]},
 *    "en": {...}}
 *
 * An entry is one or more words ("bị thương" matches the two words in a row). Matching folds
 * both sides: Unicode NFD, lower case, combining marks dropped, đ -> d; so "ban" matches "bẩn".
 * An entry starting with "=" is exact: compared in NFC lower case with its diacritics, so "=dơ"
 * (dirty) does not match "do" (because) and the reverse. Both languages' lists apply to every
 * comment (customers mix them). "nonsense" also fires on text without any letter or with one
 * character repeated 6 times or more.
 *
 * Tags: "spam", "nonsense", "profanity", "urgent", "praise" and "staff:<name as listed>".
 *
 * Thread-safety: a ctag is read-only after ctag_new; any thread may use it.
 */
#ifndef TP_CTAG_H
#define TP_CTAG_H

#include <cjson/cJSON.h>

#include "tp.h"

#define CTAG_ENTRIES_MAX 5000 /* entries of one lists document, all categories */
#define CTAG_ENTRY_MAX 64     /* bytes of one entry */
#define CTAG_TEXT_MAX 1000    /* grapheme clusters of a comment */

typedef struct ctag ctag;

/* Checks a lists document (languages vi/en, the five categories, arrays of non-empty UTF-8
 * strings within the bounds). Returns TP_OK or TP_ERR_INVALID with the JSON path in err. */
tp_err ctag_check(const cJSON *lists, char *err, size_t errlen);

/* Builds a matcher from a checked lists document. Returns TP_OK and *out (free with ctag_free),
 * TP_ERR_INVALID (as ctag_check) or TP_ERR_NOMEM. */
tp_err ctag_new(const cJSON *lists, ctag **out, char *err, size_t errlen);
void ctag_free(ctag *t);

/* The tags of text (valid UTF-8) with the store's staff names (a JSON array of strings, or
 * NULL), in a fixed order, without duplicates. Returns TP_OK and *out (cJSON_Delete) or
 * TP_ERR_NOMEM. */
tp_err ctag_text(const ctag *t, const char *text, const cJSON *staff, cJSON **out);

/* The folded form of s (see above; exact: NFC lower case instead). Returns a string to free(),
 * or NULL when out of memory. */
char *ctag_fold(const char *s, bool exact);

/* Grapheme clusters in s (len bytes of valid UTF-8): the characters the customer sees, the count
 * the page's Intl.Segmenter shows. */
size_t ctag_graphemes(const char *s, size_t len);

#endif /* TP_CTAG_H */
