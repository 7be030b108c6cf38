/*
 * cstore_pg_int.h - internals of the PostgreSQL store shared by cstore_pg.c (ingest, reports),
 * cstore_pg_keys.c (the answers' unique keys), cstore_pg_part.c (month partitions) and
 * cstore_pg_tx.c (the generic transactions of the fleet tables).
 */
#ifndef TP_CSTORE_PG_INT_H
#define TP_CSTORE_PG_INT_H

#include <libpq-fe.h>

#include "cpool.h"
#include "cstore.h"

typedef struct pconn {
    PGconn *c;
} pconn;

typedef struct ppool {
    char *url;
    cpool *conns; /* of pconn, one per HTTP worker, connected lazily */
} ppool;

/* (Re)connects pc when it is not an idle good connection. Returns TP_OK or TP_ERR_BUSY. */
tp_err pg_ensure_conn(ppool *p, pconn *pc, char *err, size_t errlen);

/* The error of a failed result with the url (password removed): TP_ERR_BUSY when transient. */
tp_err pg_err(ppool *p, PGconn *c, const PGresult *res, const char *what, char *err, size_t errlen);

/* Runs sql with text parameters; returns the result (caller PQclear) or NULL with *rc and err
 * set when its status is not want. */
PGresult *pg_run(ppool *p, PGconn *c, const char *what, const char *sql, int n,
                 const char *const *params, ExecStatusType want, tp_err *rc, char *err,
                 size_t errlen);

/* pg_run for a statement without rows. Returns TP_OK or an error. */
tp_err pg_run_cmd(ppool *p, PGconn *c, const char *what, const char *sql, int n,
                  const char *const *params, char *err, size_t errlen);

/* Rolls back an open transaction on c, if any. */
void pg_rollback(PGconn *c);

tp_err pg_tx_begin(void *impl, bool write, void **conn, char *err, size_t errlen);
tp_err pg_tx_exec(void *impl, void *conn, const char *sql, const char *const *params, int n,
                  cstore_rows *rows, char *err, size_t errlen);
tp_err pg_tx_end(void *impl, void *conn, bool write, bool commit, char *err, size_t errlen);

/* Schema step 7 (cstore_pg_part.c): answers partitioned by month, answer_keys. */
extern const char *const cstore_pg_schema_v7;

/* Schema step 8 (cstore_pg_part.c): answer_keys and the answers partitions with one index fewer
 * each. */
extern const char *const cstore_pg_schema_v8;

/* Schema step 10 (cstore_pg_part.c): answer_keys keyed by a number per device epoch
 * (key_epochs) instead of the device's name and epoch. */
extern const char *const cstore_pg_schema_v10;

/* Schema step 12 (cstore_pg_keys.c): the stored seqs of each device epoch as ranges
 * (key_ranges) instead of a unique index entry per answer. */
extern const char *const cstore_pg_schema_v12;

/* n seq ranges as two PostgreSQL array literals "{lo,...}" and "{hi,...}" appended to los and
 * his (tp_buf, freed by the caller). Returns TP_OK or TP_ERR_NOMEM. */
tp_err pg_range_arrays(const cstore_range *r, size_t n, tp_buf *los, tp_buf *his);

/* The old ranges of TABLE (its rows matching KEY, an SQL condition) that the new ranges (the
 * bigint array parameters LOS and HIS) touch: for each new range, the nearest one starting below
 * it (if it reaches lo - 1) and those starting in [lo, hi + 1]. Index probes, O(log n) each,
 * never a scan of the ranges below. PG_RANGES_ISLANDS(from) then groups new and the ranges of
 * `from` into merged islands (column g). Used for seq_ranges and key_ranges. */
#define PG_RANGES_NEW_OLD(TABLE, KEY, LOS, HIS)                                                    \
    "WITH new AS (SELECT lo, hi FROM unnest(" LOS "::bigint[], " HIS "::bigint[]) AS t(lo, hi)),"  \
    " old AS (SELECT DISTINCT o.lo, o.hi FROM new n CROSS JOIN LATERAL ("                          \
    "  (SELECT lo, hi FROM " TABLE " WHERE " KEY " AND lo < n.lo ORDER BY lo DESC LIMIT 1)"        \
    "  UNION ALL (SELECT lo, hi FROM " TABLE " WHERE " KEY " AND lo BETWEEN n.lo AND n.hi + 1))"   \
    " o WHERE o.hi >= n.lo - 1),"
#define PG_RANGES_ISLANDS(from)                                                                    \
    " allr AS (SELECT lo, hi FROM new UNION ALL SELECT lo, hi FROM " from "),"                     \
    " marked AS (SELECT lo, hi, CASE WHEN lo <= max(hi) OVER (ORDER BY lo, hi ROWS BETWEEN"        \
    "  UNBOUNDED PRECEDING AND 1 PRECEDING) + 1 THEN 0 ELSE 1 END AS start FROM allr),"            \
    " grouped AS (SELECT lo, hi, sum(start) OVER (ORDER BY lo, hi) AS g FROM marked)"

/* The answers' unique keys (cstore_pg_keys.c). answer_keys(id PRIMARY KEY) keeps each id once
 * across devices; key_ranges(ep, lo, hi) holds the seqs stored in each device epoch (ep, from
 * key_epochs) as merged ranges, written only under that epoch's lock. */

/* Locks the device epoch ep's row of key_epochs until the transaction ends: the batches of one
 * epoch check and merge their seqs one after the other. Returns TP_OK or an error. */
tp_err pg_keys_lock(ppool *p, PGconn *c, int64_t ep, char *err, size_t errlen);

/* Whether the plain COPY cannot take the answers of b: *taken is true when a seq of them is
 * stored in ep's key_ranges or repeated in b. Call under pg_keys_lock. Returns TP_OK or an
 * error. */
tp_err pg_keys_taken(ppool *p, PGconn *c, int64_t ep, const cbatch *b, bool *taken, char *err,
                     size_t errlen);

/* Classifies the answers of b, staged in the TEMP table stage (column ord = index in b), as a
 * one-by-one insert would in batch order: an id stored or taken by an earlier answer of b is a
 * duplicate, else a seq stored or taken is a conflict, else the answer is accepted
 * (outcomes[i], CBATCH_*). Call under pg_keys_lock. Returns TP_OK or an error. */
tp_err pg_keys_classify(ppool *p, PGconn *c, int64_t ep, const cbatch *b, unsigned char *outcomes,
                        char *err, size_t errlen);

/* Adds the seqs of the accepted answers of b (outcomes) to ep's key_ranges. Call under
 * pg_keys_lock, in the transaction that stored them. Returns TP_OK or an error. */
tp_err pg_keys_merge(ppool *p, PGconn *c, int64_t ep, const cbatch *b,
                     const unsigned char *outcomes, char *err, size_t errlen);

/* The month partitions of answers wholly before cut, by name (relname): retention's rule, in the
 * FOR loop of each version of tp_answers_drop_before (steps 7, 8 and 12). */
#define PG_MONTHS_BEFORE_CUT                                                                       \
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"                    \
    " WHERE i.inhparent = 'answers'::regclass AND c.relname ~ '^answers_[0-9]{4}_[0-9]{2}$'"       \
    " AND extract(epoch FROM to_timestamp(substr(c.relname, 9), 'YYYY_MM')::timestamp"             \
    " + interval '1 month') * 1000 <= cut"

/* Makes the month partitions the answers of b fall in, before they are stored: on c outside a
 * transaction (the statement commits at once, so the lock that making a partition takes is held
 * for a moment, not for the batch; an empty partition left by a batch that then fails is
 * harmless). Returns TP_OK or an error. */
tp_err pg_part_ensure(ppool *p, PGconn *c, const cbatch *b, char *err, size_t errlen);

#endif /* TP_CSTORE_PG_INT_H */
