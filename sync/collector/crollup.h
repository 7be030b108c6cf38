/*
 * crollup.h - the read side's rollups (schema version 4, sync/PROTOCOL.md 13.10), kept exactly
 * equal to a recount of the raw answers:
 *
 *  - crollup_ingest, called by each backend's ingest inside the batch's transaction (one call):
 *    customers (distinct sessions) at their earliest answer's local day and hour, answers,
 *    rating histograms, follow-ups by the band of their session's rating (a follow-up whose
 *    rating comes in a later batch waits in ru_orphans and moves then), the hour x weekday grid,
 *    per device the corrected / uncorrected answer counts, and the pending fix
 * (ru_device.pending_after: a device's pending as it has it after this batch was accepted).
 *  - crollup_purge, the retention path: deletes whole customers (sessions) older than a time and
 *    their rollup counts in one transaction.
 *  - crollup_backfill: builds the rollups of answers stored before version 4.
 *
 * Local time: the device's node's "timezone" setting (inherited), else the process's TZ; one
 * offset per session (taken at its first answer) places all its answers.
 *
 * Thread-safety: as the store; each call runs on the connection it is given.
 */
#ifndef TP_CROLLUP_H
#define TP_CROLLUP_H

#include "cstore.h"

/* The schema-4 tables in each dialect (cstore_rollup_sql.c). */
extern const char *const cstore_sqlite_schema_v4;
extern const char *const cstore_pg_schema_v4;
/* PostgreSQL step 9: covering indexes of the month rows (cstore_rollup_sql.c). */
extern const char *const cstore_pg_schema_v9;
/* PostgreSQL step 11: ru_sessions keyed by uuid (cstore_rollup_sql.c). */
extern const char *const cstore_pg_schema_v11;

/* A backend's connection inside its open transaction, and its generic statement call (the
 * cstore_ops tx_exec of that backend). Every statement here names its parameters $1..$n in the
 * order of their first appearance, so a backend may bind them by position. */
typedef struct crollup_io {
    void *impl;
    void *conn;
    tp_err (*exec)(void *impl, void *conn, const char *sql, const char *const *params, int n,
                   cstore_rows *rows, char *err, size_t errlen);
    bool positional; /* long statements use "?" (bound by position) instead of "$n" */
    /* PostgreSQL ingest only (NULL elsewhere): runs sql, a "COPY ... FROM STDIN WITH (FORMAT
     * binary)", sending the len bytes of data (cpgcopy.h); TP_ERR_EXISTS when a row broke a
     * unique key. With it, a batch's rows and sessions go as array parameters, one statement
     * each (the array form); the sessions are looked up FOR UPDATE and the new ones stored with
     * one COPY, which fails with TP_ERR_EXISTS when one of them was stored already (by a
     * concurrent batch, or one not looked up: crollup.c's GUESS) rather than counting that
     * customer twice. */
    tp_err (*copy)(void *impl, void *conn, const char *sql, const char *data, size_t len, char *err,
                   size_t errlen);
} crollup_io;

/* Adds the answers of b stored now (outcomes[i] == CBATCH_ACCEPTED) to the rollups and records
 * the device's pending after this reply (ru_device). Runs on io inside the batch's transaction.
 * Returns TP_OK or the statement's error (the caller rolls back); with io->copy, TP_ERR_BUSY
 * when concurrent batches kept storing the batch's sessions first (under its own savepoint it
 * looks them up again a few times before). */
tp_err crollup_ingest(const crollup_io *io, const cbatch *b, const unsigned char *outcomes,
                      int64_t received_at_ms, char *err, size_t errlen);

/* Deletes every customer whose earliest answer is before before_ms, with all its answers, and
 * their counts from the rollups, in one transaction. Sets *sessions and *answers (may be NULL).
 * Returns TP_OK, TP_ERR_BUSY or another error with err. */
tp_err crollup_purge(cstore *s, int64_t before_ms, int64_t *sessions, int64_t *answers, char *err,
                     size_t errlen);

/* Builds the rollups of the answers stored before schema 4 (once: a flag row remembers it).
 * Returns TP_OK or an error with err. */
tp_err crollup_backfill(cstore *s, char *err, size_t errlen);

/* The band of a rating: "negative", "neutral" or "positive" (PROTOCOL 13.1); "" for choice or
 * a value out of range. Pure. */
const char *crollup_band(tp_kind kind, int value);

#endif /* TP_CROLLUP_H */
