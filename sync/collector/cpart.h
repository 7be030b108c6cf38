/*
 * cpart.h - retention's side of the month partitions of answers on PostgreSQL (schema step 7,
 * cstore_pg_part.c): which answers retention may drop as whole months, and the drop. On SQLite
 * (and a PostgreSQL store whose answers are not partitioned) nothing is dropped: retention
 * deletes answer by answer as before.
 *
 * Thread-safety: as the store; each call runs inside the caller's transaction.
 */
#ifndef TP_CPART_H
#define TP_CPART_H

#include "cstore.h"

/* Sets *whole to the first ms of the UTC month holding before_ms when s keeps answers in month
 * partitions (every answer before it is dropped with its month by cpart_drop), else INT64_MIN.
 * Returns TP_OK or the statement's error. */
tp_err cpart_cut(cstore *s, cstore_tx *tx, int64_t before_ms, int64_t *whole, char *err,
                 size_t errlen);

/* Drops the month partitions wholly before whole (from cpart_cut), the rows before it left in
 * the default partition, and their keys. A no-op for INT64_MIN. Returns TP_OK or an error. */
tp_err cpart_drop(cstore_tx *tx, int64_t whole, char *err, size_t errlen);

#endif /* TP_CPART_H */
