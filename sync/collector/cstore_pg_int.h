/*
 * cstore_pg_int.h - internals of the PostgreSQL store shared by cstore_pg.c (ingest, reports)
 * and cstore_pg_tx.c (the generic transactions of the fleet tables).
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

/* Makes the month partitions the answers of b fall in, before they are stored: on c outside a
 * transaction (the statement commits at once, so the lock that making a partition takes is held
 * for a moment, not for the batch; an empty partition left by a batch that then fails is
 * harmless). Returns TP_OK or an error. */
tp_err pg_part_ensure(ppool *p, PGconn *c, const cbatch *b, char *err, size_t errlen);

#endif /* TP_CSTORE_PG_INT_H */
