/*
 * clabel.h - the words the customer read: the texts of a survey version's questions and options
 * in Vietnamese and English, from the versions the collector stores (the `surveys` table, issue
 * 12), for the read side's replies (/v1/reasons, the journey's top reason, the report's choice
 * counts, the CSV export). Answers carry only ids (survey, survey_version, question, choice); a
 * label set turns them back into "Phải chờ lâu" / "Long wait".
 *
 * A set lives for one request: each distinct (survey, version) is read and parsed (survey_parse,
 * the kiosk's own parser) at most once, and only its texts are kept. Survey versions are
 * immutable (PROTOCOL 12.7), so a set never goes stale within its request. A version the
 * collector does not hold (a device with a local survey file never published to the fleet), or a
 * stored document that no longer parses, has no labels: the callers answer with the ids and
 * "label": null, never an error.
 *
 * Thread-safety: a set belongs to one thread (the request's).
 */
#ifndef TP_CLABEL_H
#define TP_CLABEL_H

#include <cjson/cJSON.h>

#include "cstore.h"

/* Most distinct survey versions one set loads; later ones have no labels (null). */
#define CLABEL_MAX_VERSIONS 64

typedef struct clabel clabel;

/* A new, empty set (free with clabel_free), or NULL when out of memory. */
clabel *clabel_new(void);

/* Frees l. NULL is a no-op. */
void clabel_free(clabel *l);

/* Reads (survey, version) through tx unless the set already holds it (with or without labels).
 * Returns TP_OK (also when the version is not stored, does not parse, or the set is full: it then
 * has no labels), or the store's error (TP_ERR_BUSY, ...) with err. */
tp_err clabel_load(clabel *l, cstore_tx *tx, const char *survey, int version, char *err,
                   size_t errlen);

/* {"vi": "...", "en": "..."}: the prompt of question (option NULL) or the label of its option
 * in (survey, version), or a JSON null when the set has no such text. A survey without one of
 * the two languages gives its first language's text for it (survey_text_get). New item owned by
 * the caller (NULL only when out of memory). */
cJSON *clabel_json(const clabel *l, const char *survey, int version, const char *question,
                   const char *option);

/* The text in lang ("vi" or "en") of the prompt of question (option NULL) or of the label of its
 * option in (survey, version), borrowed from l; NULL when the set has no such text. */
const char *clabel_text(const clabel *l, const char *survey, int version, const char *question,
                        const char *option, const char *lang);

/* Whether (survey, version) was loaded with its texts. */
bool clabel_known(const clabel *l, const char *survey, int version);

/* When (survey, version) was published (ms since the epoch), or -1 when it has no labels. Used to
 * pick the newest version's label for counts merged across versions. */
int64_t clabel_published_ms(const clabel *l, const char *survey, int version);

#endif /* TP_CLABEL_H */
