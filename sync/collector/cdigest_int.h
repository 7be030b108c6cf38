/*
 * cdigest_int.h - internals shared by the digests' files (cdigest.c, cdigest_mail.c,
 * cdigest_sched.c).
 */
#ifndef TP_CDIGEST_INT_H
#define TP_CDIGEST_INT_H

#include "cdigest.h"

#define CDIGEST_CSV_MAX (32u << 20)   /* bytes of the answers' CSV attachment */
#define CDIGEST_SILENT_DEFAULT_S 3600 /* silence bound of a send-now (the collector's default) */

/* The node's effective settings (its ancestors' own settings merged from the root down, as
 * cfleet resolves a device's) into *out (cJSON_Delete). Returns TP_OK or a store error. */
tp_err cdigest_node_settings(cstore_tx *tx, const char *node, cJSON **out, char *err,
                             size_t errlen);

/* Appends one CSV field (quoted when it holds a comma, quote, CR or LF; a leading = + - @ is
 * prefixed with ' so that a spreadsheet does not run it). Returns tp_buf_add's errors. */
tp_err cdigest_csv_field(tp_buf *b, const char *v);

/* The e-mail of a digest model (cdigest.c: node, period, period_key, lang, current, previous,
 * reasons, cases, silent, ...) with the CSV attachment: {"subject", "text", "html",
 * "attachments": [{"filename", "content_type", "content_base64"}]}. Returns it (cJSON_Delete)
 * or NULL when out of memory. */
cJSON *cdigest_mail(const cJSON *model, const char *csv, size_t csv_len);

#endif /* TP_CDIGEST_INT_H */
