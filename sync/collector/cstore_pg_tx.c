/*
 * cstore_pg_tx.c - the generic transactions of the PostgreSQL store (cstore.h, "Generic
 * transactions"): one pool connection per transaction, every statement through PQexecParams
 * with text parameters (as the rest of the store: nothing session-bound, pgbouncer-safe).
 * Transactions are READ COMMITTED: each statement sees what other collectors committed before
 * it, which is what makes a device added through one collector visible to another at once.
 */
#include "cstore_pg_int.h"

#include <stdlib.h>
#include <string.h>

tp_err pg_tx_begin(void *impl, bool write, void **conn, char *err, size_t errlen)
{
    ppool *p = impl;
    pconn *pc = cpool_acquire(p->conns);
    (void)write;
    tp_err rc = pg_ensure_conn(p, pc, err, errlen);
    if (rc == TP_OK) {
        PGresult *res = PQexec(pc->c, "BEGIN");
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = pg_err(p, pc->c, res, "begin", err, errlen);
        PQclear(res);
    }
    if (rc != TP_OK) {
        cpool_release(p->conns, pc);
        return rc;
    }
    *conn = pc;
    return TP_OK;
}

tp_err pg_tx_exec(void *impl, void *conn, const char *sql, const char *const *params, int n,
                  cstore_rows *rows, char *err, size_t errlen)
{
    ppool *p = impl;
    pconn *pc = conn;
    tp_err rc = TP_OK;
    PGresult *res = PQexecParams(pc->c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK) {
        int cols = PQnfields(res);
        if (cols > 32)
            cols = 32;
        for (int r = 0; rc == TP_OK && r < PQntuples(res); r++) {
            const char *cells[32];
            for (int i = 0; i < cols; i++)
                cells[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
            rc = cstore_rows_add(rows, cells, (size_t)cols);
        }
    } else if (st != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "23505") == 0)
            rc = tp_errf(err, errlen, TP_ERR_EXISTS, "%.*s",
                         (int)strcspn(PQresultErrorMessage(res), "\n"), PQresultErrorMessage(res));
        else
            rc = pg_err(p, pc->c, res, "statement", err, errlen);
    }
    PQclear(res);
    return rc;
}

tp_err pg_tx_end(void *impl, void *conn, bool write, bool commit, char *err, size_t errlen)
{
    ppool *p = impl;
    pconn *pc = conn;
    tp_err rc = TP_OK;
    (void)write;
    if (commit && PQtransactionStatus(pc->c) == PQTRANS_INTRANS) {
        PGresult *res = PQexec(pc->c, "COMMIT");
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = pg_err(p, pc->c, res, "commit", err, errlen);
        PQclear(res);
    } else if (commit) {
        rc = tp_errf(err, errlen, TP_ERR_IO, "postgresql store: commit of a failed transaction");
    }
    pg_rollback(pc->c);
    cpool_release(p->conns, pc);
    return rc;
}
