/*
 * cstore_pg.c - the collector store on PostgreSQL (libpq): a chain's central database.
 *
 * Works behind pgbouncer in transaction mode: nothing is kept in the session between
 * transactions. Every statement goes through PQexecParams (the extended protocol's unnamed
 * prepared statement, parameters sent apart from the SQL) and never a named prepared statement
 * that could land on another server connection; the staging table of a batch is a TEMP table
 * created inside the batch's transaction with ON COMMIT DROP.
 *
 * Ingest of one batch is one transaction (pg_ingest): the answers and the rollups first, then
 * the device row, whose lock serialises only the ends of concurrent batches of one device (seq
 * ranges). answers is partitioned by month (cstore_pg_part.c); the unique keys are the ids in
 * answer_keys and the stored seqs of each device epoch as ranges in key_ranges, ep numbering the
 * epoch in key_epochs (cstore_pg_keys.c). Before the transaction, each statement committing on
 * its own, the batch's months get their partitions and its device epoch its number. In it, the
 * epoch's key lock; a batch of new answers (the common case) is then one binary COPY (cpgcopy.h)
 * into answer_keys and one into answers under a savepoint. A batch with stored seqs (sent again),
 * or whose COPY breaks the id key, goes through the staging table, where each answer is
 * classified accepted / duplicate / seq conflict in batch order and the accepted ones inserted.
 * Then the device row with its answer count, the epoch, and the merged seq ranges. Migrations run
 * in a transaction holding an advisory lock, so several collectors may start at once.
 *
 * Connections: a pool with one connection per HTTP worker, made lazily and remade after a failure,
 * so the collector survives a database restart (requests meanwhile get 503).
 */
#include "calert_int.h"
#include "cpgcopy.h"
#include "crollup.h"
#include "cstore_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 12
#define MIGRATION_LOCK 0x746f7563 /* "touc": the advisory lock id of migrations */

static const char *const schema_v1 =
    "CREATE TABLE answers("
    " id uuid PRIMARY KEY, device text NOT NULL, epoch uuid NOT NULL, seq bigint NOT NULL,"
    " session uuid NOT NULL, survey text NOT NULL, survey_version integer NOT NULL,"
    " question text NOT NULL, kind text NOT NULL, value smallint, choice text,"
    " lang text NOT NULL, store text NOT NULL, touchpoint text NOT NULL,"
    " wall_ms bigint NOT NULL, clock_trusted boolean NOT NULL, mono_ms bigint NOT NULL,"
    " boot_id uuid NOT NULL, flags integer NOT NULL, at_ms bigint NOT NULL,"
    " time_source text NOT NULL, received_at_ms bigint NOT NULL, batch_id uuid NOT NULL,"
    " UNIQUE(device, epoch, seq));"
    "CREATE INDEX answers_at ON answers(at_ms);"
    "CREATE TABLE devices("
    " id text PRIMARY KEY, first_seen_ms bigint NOT NULL, last_seen_ms bigint NOT NULL,"
    " app_version text NOT NULL, pending bigint NOT NULL, highest_seq bigint NOT NULL,"
    " disk_free bigint NOT NULL, clock_trusted boolean NOT NULL, epoch uuid NOT NULL,"
    " boot_id uuid NOT NULL, sent_wall_ms bigint NOT NULL, clock_skew_ms bigint NOT NULL,"
    " batches bigint NOT NULL, answers bigint NOT NULL);"
    "CREATE TABLE epochs("
    " device text NOT NULL, epoch uuid NOT NULL, first_seq bigint NOT NULL,"
    " highest_seq bigint NOT NULL, first_seen_ms bigint NOT NULL, last_seen_ms bigint NOT NULL,"
    " PRIMARY KEY(device, epoch));"
    "CREATE TABLE seq_ranges("
    " device text NOT NULL, epoch uuid NOT NULL, lo bigint NOT NULL, hi bigint NOT NULL,"
    " PRIMARY KEY(device, epoch, lo));";

static const char *const answer_cols =
    "id, device, epoch, seq, session, survey, survey_version, question, kind, value, choice,"
    " lang, store, touchpoint, wall_ms, clock_trusted, mono_ms, boot_id, flags, at_ms,"
    " time_source, received_at_ms, batch_id";

/* ---- Connections ----------------------------------------------------------------------------- */

/* Copies url into err-safe text without the password (user:pass@ -> user@). */
static void redact(const char *url, char *out, size_t outlen)
{
    const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
    const char *colon = scheme && at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (!colon) {
        tp_strlcpy(out, url, outlen);
        return;
    }
    snprintf(out, outlen, "%.*s%s", (int)(colon - url), url, at);
}

/* Whether a failed result means "unavailable, retry later" rather than a bug: a lost
 * connection, the server shutting down or out of resources, a serialisation failure. */
static bool transient(PGconn *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(c) != CONNECTION_OK || !state)
        return true;
    return strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
           strncmp(state, "53", 2) == 0 || strcmp(state, "40001") == 0 ||
           strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0;
}

tp_err pg_err(ppool *p, PGconn *c, const PGresult *res, const char *what, char *err, size_t errlen)
{
    char where[256];
    redact(p->url, where, sizeof where);
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = c ? PQerrorMessage(c) : "no connection";
    tp_errf(err, errlen, TP_ERR_BUSY, "postgresql store %s: %s: %.*s", where, what,
            (int)strcspn(msg, "\n"), msg);
    return transient(c, res) ? TP_ERR_BUSY : TP_ERR_IO;
}

static PGconn *connect_url(const char *url)
{
    /* Defaults first so that a value in the url overrides them. jit off: the collector's
     * statements are short, and a plan over every month partition crossed the JIT's cost
     * threshold, compiling for 40 ms a read that then ran in a few (the dashboard's first
     * view, issue 14). */
    const char *keys[] = {"connect_timeout", "application_name", "options", "dbname", NULL};
    const char *vals[] = {"5", "touchpoint-collector", "-c jit=off", url, NULL};
    return PQconnectdbParams(keys, vals, 1);
}

tp_err pg_ensure_conn(ppool *p, pconn *pc, char *err, size_t errlen)
{
    if (pc->c && PQstatus(pc->c) == CONNECTION_OK && PQtransactionStatus(pc->c) == PQTRANS_IDLE)
        return TP_OK;
    PQfinish(pc->c);
    pc->c = connect_url(p->url);
    if (pc->c && PQstatus(pc->c) == CONNECTION_OK)
        return TP_OK;
    char where[256];
    redact(p->url, where, sizeof where);
    const char *msg = pc->c ? PQerrorMessage(pc->c) : "out of memory";
    tp_errf(err, errlen, TP_ERR_BUSY, "postgresql store %s: connect: %.*s", where,
            (int)strcspn(msg, "\n"), msg);
    PQfinish(pc->c);
    pc->c = NULL;
    return TP_ERR_BUSY;
}

/* Runs sql with text parameters; returns the result (caller PQclear) or NULL and an error. */
PGresult *pg_run(ppool *p, PGconn *c, const char *what, const char *sql, int n,
                 const char *const *params, ExecStatusType want, tp_err *rc, char *err,
                 size_t errlen)
{
    PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == want)
        return res;
    *rc = pg_err(p, c, res, what, err, errlen);
    PQclear(res);
    return NULL;
}

tp_err pg_run_cmd(ppool *p, PGconn *c, const char *what, const char *sql, int n,
                  const char *const *params, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    PGresult *res = pg_run(p, c, what, sql, n, params, PGRES_COMMAND_OK, &rc, err, errlen);
    PQclear(res);
    return rc;
}

void pg_rollback(PGconn *c)
{
    if (c && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
}

/* Runs schema step v (a multi-statement string without parameters: PQexec runs it as a simple
 * query) and records it in schema_version; what names the step in an error. */
static tp_err migrate_step(ppool *p, PGconn *c, int v, const char *sql, const char *what, char *err,
                           size_t errlen)
{
    tp_err rc = TP_OK;
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) /* step 7 ends with a SELECT */
        rc = pg_err(p, c, res, what, err, errlen);
    PQclear(res);
    char num[16];
    snprintf(num, sizeof num, "%d", v);
    const char *params[1] = {num};
    if (rc == TP_OK)
        rc = pg_run_cmd(p, c, "schema version", "INSERT INTO schema_version VALUES ($1::int)", 1,
                        params, err, errlen);
    return rc;
}

static tp_err migrate(ppool *p, PGconn *c, char *err, size_t errlen)
{
    tp_err rc = pg_run_cmd(p, c, "begin", "BEGIN", 0, NULL, err, errlen);
    PGresult *res = NULL;
    char lock[64];
    const char *params[1] = {lock};
    snprintf(lock, sizeof lock, "%d", MIGRATION_LOCK);
    if (rc != TP_OK)
        return rc;
    res = pg_run(p, c, "migration lock", "SELECT pg_advisory_xact_lock($1::bigint)", 1, params,
                 PGRES_TUPLES_OK, &rc, err, errlen);
    PQclear(res);
    if (rc == TP_OK)
        rc = pg_run_cmd(p, c, "schema_version",
                        "CREATE TABLE IF NOT EXISTS schema_version(version integer NOT NULL)", 0,
                        NULL, err, errlen);
    if (rc != TP_OK)
        goto out;
    res =
        pg_run(p, c, "read schema version", "SELECT coalesce(max(version), 0) FROM schema_version",
               0, NULL, PGRES_TUPLES_OK, &rc, err, errlen);
    if (!res)
        goto out;
    int version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (version > SCHEMA_VERSION) {
        char where[256];
        redact(p->url, where, sizeof where);
        rc = tp_errf(err, errlen, TP_ERR_TOO_NEW,
                     "postgresql store %s: schema version %d is newer than this collector's %d",
                     where, version, SCHEMA_VERSION);
        goto out;
    }
    if (version < 1)
        rc = migrate_step(p, c, 1, schema_v1, "create schema", err, errlen);
    if (rc == TP_OK && version < 2)
        rc = migrate_step(p, c, 2, cstore_pg_schema_v2, "create fleet tables", err, errlen);
    if (rc == TP_OK && version < 3)
        rc = migrate_step(p, c, 3, cstore_pg_schema_v3, "create alert tables", err, errlen);
    if (rc == TP_OK && version < 4) /* issue 14: the rollups (crollup.h) */
        rc = migrate_step(p, c, 4, cstore_pg_schema_v4, "create rollup tables", err, errlen);
    if (rc == TP_OK && version < 5)
        rc = migrate_step(p, c, 5, cstore_pg_schema_v5, "create comment tables", err, errlen);
    if (rc == TP_OK && version < 6)
        rc = migrate_step(p, c, 6, cstore_pg_schema_v6, "create read access tables", err, errlen);
    if (rc == TP_OK && version < 7) /* issue 14: answers by month (cstore_pg_part.c) */
        rc = migrate_step(p, c, 7, cstore_pg_schema_v7, "partition answers", err, errlen);
    if (rc == TP_OK && version < 8) /* issue 14: leaner keys for ingest (cstore_pg_part.c) */
        rc = migrate_step(p, c, 8, cstore_pg_schema_v8, "narrow answer keys", err, errlen);
    if (rc == TP_OK && version < 9) /* issue 14: month rows by index-only scans (crollup.h) */
        rc = migrate_step(p, c, 9, cstore_pg_schema_v9, "index month rollups", err, errlen);
    if (rc == TP_OK && version < 10) /* issue 14: answer keys by device epoch number */
        rc = migrate_step(p, c, 10, cstore_pg_schema_v10, "number answer key epochs", err, errlen);
    if (rc == TP_OK && version < 11) /* issue 14: customers keyed by uuid (crollup.h) */
        rc = migrate_step(p, c, 11, cstore_pg_schema_v11, "session keys as uuid", err, errlen);
    if (rc == TP_OK && version < 12) /* issue 14: stored seqs as ranges (cstore_pg_keys.c) */
        rc = migrate_step(p, c, 12, cstore_pg_schema_v12, "stored seqs as ranges", err, errlen);
out:
    if (rc == TP_OK)
        rc = pg_run_cmd(p, c, "commit", "COMMIT", 0, NULL, err, errlen);
    else
        pg_rollback(c);
    return rc;
}

static void pg_close(void *impl)
{
    ppool *p = impl;
    if (!p)
        return;
    for (unsigned i = 0; p->conns && i < cpool_size(p->conns); i++)
        PQfinish(((pconn *)cpool_slot(p->conns, i))->c);
    cpool_free(p->conns);
    free(p->url);
    free(p);
}

static tp_err pg_open(const char *url, unsigned pool, void **impl, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    ppool *p = calloc(1, sizeof *p);
    *impl = NULL;
    if (!p)
        return TP_ERR_NOMEM;
    p->url = strdup(url);
    p->conns = cpool_new(pool, sizeof(pconn));
    if (!p->url || !p->conns) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    pconn *first = cpool_slot(p->conns, 0);
    rc = pg_ensure_conn(p, first, err, errlen);
    if (rc == TP_OK)
        rc = migrate(p, first->c, err, errlen);
out:
    if (rc != TP_OK)
        pg_close(p);
    else
        *impl = p;
    return rc;
}

/* ---- Ingest ---------------------------------------------------------------------------------- */

/* Writes one binary COPY row of answer_cols (23 columns, their types in schema_v1), preceded by
 * the batch position ord when ord >= 0. */
static void copy_row(cpgcopy *w, long ord, const cbatch *b, const cbatch_answer *a, int64_t recv)
{
    cpgcopy_row(w, ord >= 0 ? 24 : 23);
    if (ord >= 0)
        cpgcopy_i32(w, (int32_t)ord);
    cpgcopy_uuid(w, a->id);
    cpgcopy_text(w, b->device.id);
    cpgcopy_uuid(w, b->device.epoch);
    cpgcopy_i64(w, a->seq);
    cpgcopy_uuid(w, a->session);
    cpgcopy_text(w, a->survey);
    cpgcopy_i32(w, a->survey_version);
    cpgcopy_text(w, a->question);
    cpgcopy_text(w, tp_kind_name(a->kind));
    if (a->kind == TP_KIND_CHOICE) {
        cpgcopy_null(w);
        cpgcopy_text(w, a->choice);
    } else {
        cpgcopy_i16(w, (int16_t)a->value);
        cpgcopy_null(w);
    }
    cpgcopy_text(w, a->lang);
    cpgcopy_text(w, a->store);
    cpgcopy_text(w, a->touchpoint);
    cpgcopy_i64(w, a->wall_ms);
    cpgcopy_bool(w, a->clock_trusted);
    cpgcopy_i64(w, a->mono_ms);
    cpgcopy_uuid(w, a->boot_id);
    cpgcopy_i32(w, (int32_t)a->flags);
    cpgcopy_i64(w, a->at_ms);
    cpgcopy_text(w, cbatch_time_source_name(a->time_source));
    cpgcopy_i64(w, recv);
    cpgcopy_uuid(w, b->batch_id);
}

enum { COPY_ROWS, COPY_STAGE, COPY_KEYS }; /* answer_cols; ord first; answer_keys (id, ep, seq) */

/* Starts the COPY ... FROM STDIN statement sql. Returns TP_OK or an error. */
static tp_err copy_begin(ppool *p, PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, sql);
    tp_err rc = TP_OK;
    if (PQresultStatus(res) != PGRES_COPY_IN)
        rc = pg_err(p, c, res, "copy", err, errlen);
    PQclear(res);
    return rc;
}

/* Ends a COPY whose data went out (ok) or not. Returns TP_OK, TP_ERR_EXISTS when it failed only
 * because a row broke a unique constraint (SQLSTATE 23505: the caller may recover with ROLLBACK
 * TO SAVEPOINT), or another error. */
static tp_err copy_end(ppool *p, PGconn *c, bool ok, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    bool unique = false;
    PGresult *res;
    if (PQputCopyEnd(c, ok ? NULL : "collector: copy failed") != 1)
        ok = false;
    while ((res = PQgetResult(c)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == TP_OK) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            unique = ok && state && strcmp(state, "23505") == 0;
            rc = pg_err(p, c, res, "copy", err, errlen);
        }
        PQclear(res);
    }
    if (!ok && rc == TP_OK)
        rc = pg_err(p, c, NULL, "copy", err, errlen);
    return unique ? TP_ERR_EXISTS : rc;
}

/* Runs the COPY ... FROM STDIN statement sql and sends every answer of b in the form mode names.
 * Returns what copy_end returns (TP_ERR_EXISTS: a row broke a unique constraint). */
static tp_err copy_answers(ppool *p, PGconn *c, const char *sql, const cbatch *b, int64_t recv,
                           int64_t ep, int mode, char *err, size_t errlen)
{
    tp_err rc = copy_begin(p, c, sql, err, errlen);
    if (rc != TP_OK)
        return rc;
    /* The rows go out in pieces of about 256 KiB: a batch's data is never all in memory. */
    cpgcopy w;
    cpgcopy_init(&w, (size_t)64 << 20);
    bool ok = true;
    for (size_t i = 0; ok && i < b->n_answers; i++) {
        if (mode == COPY_KEYS) {
            cpgcopy_row(&w, 3);
            cpgcopy_uuid(&w, b->answers[i].id);
            cpgcopy_i64(&w, ep);
            cpgcopy_i64(&w, b->answers[i].seq);
        } else {
            copy_row(&w, mode == COPY_STAGE ? (long)i : -1, b, &b->answers[i], recv);
        }
        if (w.rc == TP_OK && w.len >= 256 * 1024) {
            ok = PQputCopyData(c, w.p, (int)w.len) == 1;
            cpgcopy_reset(&w);
        }
        ok = ok && w.rc == TP_OK;
    }
    if (ok && cpgcopy_finish(&w) == TP_OK)
        ok = PQputCopyData(c, w.p, (int)w.len) == 1;
    tp_err wrc = w.rc;
    cpgcopy_free(&w);
    rc = copy_end(p, c, ok, err, errlen);
    if (wrc == TP_OK)
        return rc;
    return tp_errf(err, errlen, wrc, "copy: batch %s: %s", b->batch_id, tp_strerror(wrc));
}

/* The way for a batch that a plain COPY could not take (an id stored before or repeated in the
 * batch, or a seq stored or repeated): stage the answers in a TEMP table, classify each in batch
 * order from what the store holds (pg_keys_classify), then insert the keys of the accepted ones
 * (ON CONFLICT DO NOTHING: a concurrent batch of another device may have stored one of their ids
 * meanwhile, which makes that answer a duplicate) and the answers whose keys went in. Sets
 * outcomes and *accepted; returns TP_OK or an error (the transaction is then to be rolled back). */
static tp_err insert_staged(ppool *p, PGconn *c, const cbatch *b, int64_t recv, int64_t ep,
                            unsigned char *outcomes, int64_t *accepted, char *err, size_t errlen)
{
    char ep_s[24], sql[2048];
    snprintf(ep_s, sizeof ep_s, "%lld", (long long)ep);
    PGresult *res = NULL;
    tp_buf ords;
    tp_buf_init(&ords, (size_t)1 << 20);
    tp_err rc = pg_run_cmd(p, c, "staging table",
                           "CREATE TEMP TABLE stage (ord integer NOT NULL, id uuid, device text,"
                           " epoch uuid, seq bigint, session uuid, survey text,"
                           " survey_version integer, question text, kind text, value smallint,"
                           " choice text, lang text, store text, touchpoint text, wall_ms bigint,"
                           " clock_trusted boolean, mono_ms bigint, boot_id uuid, flags integer,"
                           " at_ms bigint, time_source text, received_at_ms bigint, batch_id uuid)"
                           " ON COMMIT DROP",
                           0, NULL, err, errlen);
    if (rc == TP_OK)
        rc = copy_answers(p, c, "COPY stage FROM STDIN WITH (FORMAT binary)", b, recv, ep,
                          COPY_STAGE, err, errlen);
    if (rc == TP_OK)
        rc = pg_keys_classify(p, c, ep, b, outcomes, err, errlen);
    if (rc != TP_OK)
        goto out;
    /* "{ord,...}": the accepted answers' positions. */
    rc = tp_buf_add(&ords, "{", 1);
    for (size_t i = 0, k = 0; rc == TP_OK && i < b->n_answers; i++)
        if (outcomes[i] == CBATCH_ACCEPTED)
            rc = tp_buf_addf(&ords, "%s%zu", k++ ? "," : "", i);
    if (rc == TP_OK)
        rc = tp_buf_add(&ords, "}", 1);
    if (rc != TP_OK) {
        tp_errf(err, errlen, rc, "batch %s: out of memory", b->batch_id);
        goto out;
    }
    const char *params[] = {ep_s, ords.p};
    snprintf(sql, sizeof sql,
             "WITH k AS (INSERT INTO answer_keys (id, ep, seq)"
             " SELECT id, $1::bigint, seq FROM stage WHERE ord = ANY($2::int[]) ORDER BY ord"
             " ON CONFLICT DO NOTHING RETURNING id),"
             " a AS (INSERT INTO answers (%s) SELECT %s FROM stage s"
             " JOIN k ON k.id = s.id WHERE s.ord = ANY($2::int[]))"
             " SELECT s.ord FROM stage s JOIN k ON k.id = s.id WHERE s.ord = ANY($2::int[])",
             answer_cols,
             "s.id, s.device, s.epoch, s.seq, s.session, s.survey, s.survey_version,"
             " s.question, s.kind, s.value, s.choice, s.lang, s.store, s.touchpoint, s.wall_ms,"
             " s.clock_trusted, s.mono_ms, s.boot_id, s.flags, s.at_ms, s.time_source,"
             " s.received_at_ms, s.batch_id");
    res = pg_run(p, c, "insert answers", sql, 2, params, PGRES_TUPLES_OK, &rc, err, errlen);
    if (!res)
        goto out;
    /* An accepted answer whose key did not go in lost its id to a concurrent batch. */
    for (size_t i = 0; i < b->n_answers; i++)
        if (outcomes[i] == CBATCH_ACCEPTED)
            outcomes[i] = CBATCH_DUPLICATE;
    for (int r = 0; r < PQntuples(res); r++) {
        long ord = strtol(PQgetvalue(res, r, 0), NULL, 10);
        if (ord >= 0 && (size_t)ord < b->n_answers) {
            outcomes[ord] = CBATCH_ACCEPTED;
            (*accepted)++;
        }
    }
out:
    tp_buf_free(&ords);
    PQclear(res);
    return rc;
}

/* The number of the batch's device epoch in key_epochs in *ep, numbered by the epoch's first
 * batch. Runs before the batch's transaction, each statement committing on its own: a new epoch's
 * row is then locked only for a moment (inside the batch, a concurrent batch of the same new
 * epoch would wait for this one's whole work), and a number left by a batch that fails is
 * harmless. ON CONFLICT DO NOTHING: of two collectors numbering an epoch at once one inserts and
 * the other, having waited for it, reads its row. Returns TP_OK or an error. */
static tp_err key_epoch(ppool *p, PGconn *c, const cbatch_device *d, int64_t *ep, char *err,
                        size_t errlen)
{
    const char *params[] = {d->id, d->epoch};
    tp_err rc = TP_OK;
    for (int attempt = 0; attempt < 3; attempt++) {
        PGresult *res = pg_run(p, c, "find device epoch",
                               "SELECT ep FROM key_epochs WHERE device = $1 AND epoch = $2::uuid",
                               2, params, PGRES_TUPLES_OK, &rc, err, errlen);
        if (!res)
            return rc;
        bool found = PQntuples(res) == 1;
        if (found)
            *ep = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (found)
            return TP_OK;
        rc = pg_run_cmd(p, c, "number device epoch",
                        "INSERT INTO key_epochs(device, epoch) VALUES ($1, $2::uuid)"
                        " ON CONFLICT DO NOTHING",
                        2, params, err, errlen);
        if (rc != TP_OK)
            return rc;
    }
    return tp_errf(err, errlen, TP_ERR_BUSY, "device %s epoch %s: no key number after 3 tries",
                   d->id, d->epoch);
}

/* Stores the answers of b (at least one), holding the lock of their device epoch's keys. The
 * common batch is all new answers: one COPY into answer_keys (ids) and one into answers, at the
 * cost of about a raw COPY. A batch sent again (its reply was lost) has stored seqs, which one
 * probe of key_ranges finds first; it takes insert_staged, as does a batch with a seq twice, or
 * whose COPY breaks the id key all the same (an id stored by another device, or twice in the
 * batch): a savepoint undoes the COPY. The accepted seqs then join key_ranges. Sets outcomes and
 * *accepted; returns TP_OK or an error (the transaction is then to be rolled back). */
static tp_err insert_answers(ppool *p, PGconn *c, const cbatch *b, int64_t recv, int64_t ep,
                             unsigned char *outcomes, int64_t *accepted, char *err, size_t errlen)
{
    char sql[512];
    bool taken = false;
    tp_err rc = pg_keys_lock(p, c, ep, err, errlen);
    if (rc == TP_OK)
        rc = pg_keys_taken(p, c, ep, b, &taken, err, errlen);
    if (rc == TP_OK && taken)
        rc = insert_staged(p, c, b, recv, ep, outcomes, accepted, err, errlen);
    if (rc != TP_OK || taken)
        goto merge;

    if ((rc = pg_run_cmd(p, c, "savepoint", "SAVEPOINT copy_answers", 0, NULL, err, errlen)) !=
        TP_OK)
        return rc;
    /* The keys first: a broken id key shows there, before the rows are sent. */
    rc = copy_answers(p, c, "COPY answer_keys (id, ep, seq) FROM STDIN WITH (FORMAT binary)", b,
                      recv, ep, COPY_KEYS, err, errlen);
    snprintf(sql, sizeof sql, "COPY answers (%s) FROM STDIN WITH (FORMAT binary)", answer_cols);
    if (rc == TP_OK)
        rc = copy_answers(p, c, sql, b, recv, ep, COPY_ROWS, err, errlen);
    if (rc == TP_OK) {
        memset(outcomes, CBATCH_ACCEPTED, b->n_answers);
        *accepted = (int64_t)b->n_answers;
        rc = pg_run_cmd(p, c, "savepoint", "RELEASE SAVEPOINT copy_answers", 0, NULL, err, errlen);
    } else if (rc == TP_ERR_EXISTS) {
        rc = pg_run_cmd(p, c, "savepoint", "ROLLBACK TO SAVEPOINT copy_answers", 0, NULL, err,
                        errlen);
        if (rc == TP_OK)
            rc = insert_staged(p, c, b, recv, ep, outcomes, accepted, err, errlen);
    }
merge:
    if (rc == TP_OK && *accepted > 0)
        rc = pg_keys_merge(p, c, ep, b, outcomes, err, errlen);
    return rc;
}

#define RANGES_NEW_OLD                                                                             \
    PG_RANGES_NEW_OLD("seq_ranges", "device = $1 AND epoch = $2::uuid", "$3", "$4")

/* Checks the epoch's range budget before anything of the batch is written (so a refused batch
 * leaves no dead rows behind, and costs the same however often it is sent): when the ranges held
 * plus the batch's could go over CSTORE_RANGES_MAX, counts exactly how many the merge would leave,
 * read-only. params: device, epoch, the lo and hi arrays. Run before anything is written and
 * again under the device row lock, which makes the count hold until the merge. Returns TP_OK,
 * TP_ERR_TOO_LARGE over the budget, or an error. */
static tp_err range_budget(ppool *p, PGconn *c, const cbatch_device *d, const char *const params[4],
                           size_t n, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    PGresult *res = pg_run(p, c, "count seq ranges",
                           "SELECT count(*) FROM seq_ranges WHERE device = $1 AND epoch = $2::uuid",
                           2, params, PGRES_TUPLES_OK, &rc, err, errlen);
    if (!res)
        return rc;
    long long held = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (held + (long long)n <= CSTORE_RANGES_MAX)
        return TP_OK;
    char held_s[24];
    snprintf(held_s, sizeof held_s, "%lld", held);
    const char *with_held[] = {params[0], params[1], params[2], params[3], held_s};
    res = pg_run(
        p, c, "count merged seq ranges",
        RANGES_NEW_OLD PG_RANGES_ISLANDS("old") " SELECT $5::bigint - (SELECT count(*) FROM old)"
                                                " + (SELECT count(DISTINCT g) FROM grouped)",
        5, with_held, PGRES_TUPLES_OK, &rc, err, errlen);
    if (!res)
        return rc;
    long long would = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return would > CSTORE_RANGES_MAX ? cstore_ranges_refused(d, would, err, errlen) : TP_OK;
}

/* Merges the batch's ranges (sorted, disjoint, not adjacent) into the device epoch's seq ranges
 * in one statement: the old ranges they touch are deleted and the union of old and new is
 * inserted back as merged islands (the INSERT reads the DELETE's RETURNING rows, so the deletion
 * comes first). The device row lock taken before it keeps this race-free. */
static tp_err merge_ranges(ppool *p, PGconn *c, const char *const params[4], char *err,
                           size_t errlen)
{
    return pg_run_cmd(
        p, c, "merge seq ranges",
        RANGES_NEW_OLD
        " del AS (DELETE FROM seq_ranges s USING old WHERE s.device = $1"
        "  AND s.epoch = $2::uuid AND s.lo = old.lo RETURNING s.lo, s.hi)," PG_RANGES_ISLANDS(
            "del") " INSERT INTO seq_ranges(device, epoch, lo, hi)"
                   " SELECT $1, $2::uuid, min(lo), max(hi) FROM grouped"
                   " GROUP BY g",
        4, params, err, errlen);
}

/* crollup_io.copy: runs the binary COPY sql with the len bytes of data; TP_ERR_EXISTS when a
 * row broke a unique constraint. */
static tp_err pg_copy_data(void *impl, void *conn, const char *sql, const char *data, size_t len,
                           char *err, size_t errlen)
{
    ppool *p = impl;
    PGconn *c = ((pconn *)conn)->c;
    bool ok = true;
    tp_err rc = copy_begin(p, c, sql, err, errlen);
    if (rc != TP_OK)
        return rc;
    for (size_t off = 0; ok && off < len; off += (size_t)1 << 20) {
        size_t part = len - off < ((size_t)1 << 20) ? len - off : (size_t)1 << 20;
        ok = PQputCopyData(c, data + off, (int)part) == 1;
    }
    return copy_end(p, c, ok, err, errlen);
}

/* The device row, its answer count with it. Its row lock serialises the ends of concurrent
 * batches of one device (the range check and merge after it); taken last, it is held briefly. */
static tp_err upsert_device(ppool *p, PGconn *c, const cbatch_device *d, int64_t recv,
                            int64_t accepted, char *err, size_t errlen)
{
    char v[7][24];
    snprintf(v[0], sizeof v[0], "%lld", (long long)recv);
    snprintf(v[1], sizeof v[1], "%lld", (long long)d->pending);
    snprintf(v[2], sizeof v[2], "%lld", (long long)d->highest_seq);
    snprintf(v[3], sizeof v[3], "%lld", (long long)d->disk_free);
    snprintf(v[4], sizeof v[4], "%lld", (long long)d->sent_wall_ms);
    snprintf(v[5], sizeof v[5], "%lld", (long long)(d->sent_wall_ms - recv));
    snprintf(v[6], sizeof v[6], "%lld", (long long)accepted);
    const char *params[] = {
        d->id,    v[0],       d->app_version, v[1], v[2], v[3], d->clock_trusted ? "t" : "f",
        d->epoch, d->boot_id, v[4],           v[5], v[6]};
    return pg_run_cmd(p, c, "update device",
                      "INSERT INTO devices(id, first_seen_ms, last_seen_ms, app_version, pending,"
                      " highest_seq, disk_free, clock_trusted, epoch, boot_id, sent_wall_ms,"
                      " clock_skew_ms, batches, answers) VALUES ($1, $2, $2, $3, $4, $5, $6, $7,"
                      " $8, $9, $10, $11, 1, $12) ON CONFLICT (id) DO UPDATE SET"
                      " last_seen_ms = excluded.last_seen_ms, app_version = excluded.app_version,"
                      " pending = excluded.pending, highest_seq = excluded.highest_seq,"
                      " disk_free = excluded.disk_free, clock_trusted = excluded.clock_trusted,"
                      " epoch = excluded.epoch, boot_id = excluded.boot_id,"
                      " sent_wall_ms = excluded.sent_wall_ms,"
                      " clock_skew_ms = excluded.clock_skew_ms, batches = devices.batches + 1,"
                      " answers = devices.answers + excluded.answers",
                      12, params, err, errlen);
}

/* One batch: before its transaction, its months' partitions and its device epoch's number (each
 * committed at once, kept whatever becomes of the batch: empty tables and one row per epoch);
 * then one transaction: the range budget (read-only, so a refused batch writes nothing more),
 * the answers under their epoch's key lock (concurrent batches of one device epoch wait for each
 * other from here: a kiosk never sends two at once), the rollups, then the device row (locked:
 * concurrent batches of one device, in different epochs, wait from here), the budget again under
 * that lock, the epoch, the seq ranges and the alert queue. */
static tp_err pg_ingest(void *impl, const cbatch *b, int64_t recv, unsigned char *outcomes,
                        char *err, size_t errlen)
{
    ppool *p = impl;
    pconn *pc = cpool_acquire(p->conns);
    PGconn *c = NULL;
    cstore_range *ranges = NULL;
    size_t n_ranges = 0;
    const cbatch_device *d = &b->device;
    char v[4][24];
    int64_t accepted = 0, high = d->highest_seq, ep = 0;
    tp_buf los, his;
    tp_buf_init(&los, (size_t)64 << 20);
    tp_buf_init(&his, (size_t)64 << 20);
    tp_err rc = cstore_batch_ranges(b, &ranges, &n_ranges);
    if (rc == TP_OK)
        rc = pg_range_arrays(ranges, n_ranges, &los, &his);
    const char *rparams[] = {d->id, d->epoch, los.p, his.p};
    if (rc == TP_OK)
        rc = pg_ensure_conn(p, pc, err, errlen);
    if (rc != TP_OK)
        goto out;
    c = pc->c;
    /* Before the transaction, each committing at once (a lock held for a moment, not for the
     * batch): the month partitions of its answers and the number of its device epoch. */
    if (b->n_answers > 0 && (rc = pg_part_ensure(p, c, b, err, errlen)) != TP_OK)
        goto out;
    if (b->n_answers > 0 && (rc = key_epoch(p, c, d, &ep, err, errlen)) != TP_OK)
        goto out;
    if ((rc = pg_run_cmd(p, c, "begin", "BEGIN", 0, NULL, err, errlen)) != TP_OK)
        goto out;
    if (n_ranges > 0 && (rc = range_budget(p, c, d, rparams, n_ranges, err, errlen)) != TP_OK)
        goto out;
    if (b->n_answers > 0 &&
        (rc = insert_answers(p, c, b, recv, ep, outcomes, &accepted, err, errlen)) != TP_OK)
        goto out;
    /* issue 14: the rollups, in this transaction (new sessions by COPY: pg_copy_data) */
    crollup_io io = {p, pc, pg_tx_exec, false, pg_copy_data};
    if ((rc = crollup_ingest(&io, b, outcomes, recv, err, errlen)) != TP_OK)
        goto out;
    if ((rc = upsert_device(p, c, d, recv, accepted, err, errlen)) != TP_OK)
        goto out;
    /* A concurrent batch of the device may have merged ranges since the first check. */
    if (n_ranges > 0 && (rc = range_budget(p, c, d, rparams, n_ranges, err, errlen)) != TP_OK)
        goto out;

    if (n_ranges > 0 && ranges[n_ranges - 1].hi > high)
        high = ranges[n_ranges - 1].hi;
    snprintf(v[0], sizeof v[0], "%lld", (long long)recv);
    snprintf(v[1], sizeof v[1], "%lld", (long long)d->epoch_first_seq);
    snprintf(v[2], sizeof v[2], "%lld", (long long)high);
    {
        const char *params[] = {d->id, d->epoch, v[1], v[2], v[0]};
        rc = pg_run_cmd(p, c, "update epoch",
                        "INSERT INTO epochs(device, epoch, first_seq, highest_seq, first_seen_ms,"
                        " last_seen_ms) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (device, epoch)"
                        " DO UPDATE SET first_seq = least(epochs.first_seq, excluded.first_seq),"
                        " highest_seq = greatest(epochs.highest_seq, excluded.highest_seq),"
                        " last_seen_ms = excluded.last_seen_ms",
                        5, params, err, errlen);
    }
    if (rc == TP_OK && n_ranges > 0)
        rc = merge_ranges(p, c, rparams, err, errlen);
    if (rc == TP_OK && accepted > 0)
        rc = calert_queue_pg(c, b, outcomes, recv, err, errlen);
    if (rc == TP_OK)
        rc = pg_run_cmd(p, c, "commit", "COMMIT", 0, NULL, err, errlen);
out:
    if (rc != TP_OK)
        pg_rollback(c);
    tp_buf_free(&los);
    tp_buf_free(&his);
    free(ranges);
    cpool_release(p->conns, pc);
    return rc;
}

/* ---- Read side ------------------------------------------------------------------------------- */

static tp_err pg_ping(void *impl, char *err, size_t errlen)
{
    ppool *p = impl;
    pconn *pc = cpool_acquire_spare(p->conns);
    tp_err rc = pg_ensure_conn(p, pc, err, errlen);
    if (rc == TP_OK) {
        PGresult *res = pg_run(p, pc->c, "health check", "SELECT count(*) FROM schema_version", 0,
                               NULL, PGRES_TUPLES_OK, &rc, err, errlen);
        PQclear(res);
    }
    cpool_release(p->conns, pc);
    return rc == TP_OK ? TP_OK : TP_ERR_BUSY;
}

static const char *const group_cols[] = {
    [CREPORT_BY_DAY] = "(at_ms / 900000)::text",
    [CREPORT_BY_STORE] = "store",
    [CREPORT_BY_TOUCHPOINT] = "touchpoint",
    [CREPORT_BY_DEVICE] = "device",
};

static tp_err pg_report(void *impl, const cstore_query *q, creport *r, char *err, size_t errlen)
{
    ppool *p = impl;
    pconn *pc = cpool_acquire(p->conns);
    PGresult *res = NULL;
    char from[32], to[32], sql[512];
    tp_err rc = pg_ensure_conn(p, pc, err, errlen);
    if (rc != TP_OK)
        goto out;
    snprintf(from, sizeof from, "%lld", (long long)q->from_ms);
    snprintf(to, sizeof to, "%lld", (long long)q->to_ms);
    /* The grouping column comes from a fixed table, never from the request. */
    snprintf(sql, sizeof sql,
             "SELECT %s, kind, value, choice, time_source = 'uncorrected', count(*)"
             " FROM answers WHERE at_ms >= $1::bigint AND at_ms < $2::bigint"
             " AND ($3::text IS NULL OR survey = $3::text)"
             " AND ($4::integer IS NULL OR survey_version = $4::integer) GROUP BY 1, 2, 3, 4, 5",
             group_cols[q->by]);
    char ver[16];
    snprintf(ver, sizeof ver, "%d", q->survey_version);
    const char *params[] = {from, to, q->survey, q->survey_version > 0 ? ver : NULL};
    res = pg_run(p, pc->c, "report", sql, 4, params, PGRES_TUPLES_OK, &rc, err, errlen);
    for (int i = 0; res && rc == TP_OK && i < PQntuples(res); i++) {
        char key[TP_ID_MAX + 1];
        tp_kind kind;
        cstore_group_key(q->by, PQgetvalue(res, i, 0), key, sizeof key);
        if (tp_kind_parse(PQgetvalue(res, i, 1), &kind) != TP_OK)
            continue;
        int value = PQgetisnull(res, i, 2) ? -1 : (int)strtol(PQgetvalue(res, i, 2), NULL, 10);
        rc = creport_add(r, key, kind, value, PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3),
                         PQgetvalue(res, i, 4)[0] == 't', strtoll(PQgetvalue(res, i, 5), NULL, 10));
        if (rc != TP_OK)
            tp_errf(err, errlen, rc, "report: too many groups");
    }
out:
    PQclear(res);
    cpool_release(p->conns, pc);
    return rc;
}

static int64_t ival(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static tp_err pg_list_devices(void *impl, cstore_devices *out, char *err, size_t errlen)
{
    ppool *p = impl;
    pconn *pc = cpool_acquire(p->conns);
    PGresult *res = NULL;
    PGconn *c = NULL;
    tp_err rc = pg_ensure_conn(p, pc, err, errlen);
    if (rc != TP_OK)
        goto out;
    c = pc->c;
    /* One snapshot for the three queries, so ranges match their epochs. */
    rc = pg_run_cmd(p, c, "begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err,
                    errlen);
    if (rc != TP_OK)
        goto out;
    res = pg_run(p, c, "list devices",
                 "SELECT id, first_seen_ms, last_seen_ms, app_version, pending, highest_seq,"
                 " disk_free, clock_trusted, epoch, boot_id, sent_wall_ms, clock_skew_ms, batches,"
                 " answers FROM devices ORDER BY id COLLATE \"C\"",
                 0, NULL, PGRES_TUPLES_OK, &rc, err, errlen);
    for (int i = 0; res && i < PQntuples(res); i++) {
        cstore_device *d = cstore_devices_add(out);
        if (!d) {
            rc = TP_ERR_NOMEM;
            goto out;
        }
        tp_strlcpy(d->id, PQgetvalue(res, i, 0), sizeof d->id);
        d->first_seen_ms = ival(res, i, 1);
        d->last_seen_ms = ival(res, i, 2);
        tp_strlcpy(d->app_version, PQgetvalue(res, i, 3), sizeof d->app_version);
        d->pending = ival(res, i, 4);
        d->highest_seq = ival(res, i, 5);
        d->disk_free = ival(res, i, 6);
        d->clock_trusted = PQgetvalue(res, i, 7)[0] == 't';
        tp_strlcpy(d->epoch, PQgetvalue(res, i, 8), sizeof d->epoch);
        tp_strlcpy(d->boot_id, PQgetvalue(res, i, 9), sizeof d->boot_id);
        d->sent_wall_ms = ival(res, i, 10);
        d->clock_skew_ms = ival(res, i, 11);
        d->batches = ival(res, i, 12);
        d->answers = ival(res, i, 13);
    }
    PQclear(res);
    res = NULL;
    if (rc != TP_OK)
        goto out;
    res = pg_run(p, c, "list epochs",
                 "SELECT device, epoch, first_seq, highest_seq, first_seen_ms, last_seen_ms"
                 " FROM epochs ORDER BY device, first_seen_ms",
                 0, NULL, PGRES_TUPLES_OK, &rc, err, errlen);
    for (int i = 0; res && i < PQntuples(res); i++) {
        cstore_device *d = cstore_devices_find(out, PQgetvalue(res, i, 0));
        cstore_epoch *e = d ? cstore_device_add_epoch(d) : NULL;
        if (d && !e) {
            rc = TP_ERR_NOMEM;
            goto out;
        }
        if (!e)
            continue;
        tp_strlcpy(e->epoch, PQgetvalue(res, i, 1), sizeof e->epoch);
        e->first_seq = ival(res, i, 2);
        e->highest_seq = ival(res, i, 3);
        e->first_seen_ms = ival(res, i, 4);
        e->last_seen_ms = ival(res, i, 5);
    }
    PQclear(res);
    res = NULL;
    if (rc != TP_OK)
        goto out;
    res = pg_run(p, c, "list seq ranges",
                 "SELECT device, epoch, lo, hi FROM seq_ranges ORDER BY device, epoch, lo", 0, NULL,
                 PGRES_TUPLES_OK, &rc, err, errlen);
    for (int i = 0; res && i < PQntuples(res); i++) {
        cstore_epoch *e = cstore_device_find_epoch(cstore_devices_find(out, PQgetvalue(res, i, 0)),
                                                   PQgetvalue(res, i, 1));
        if (e && cstore_epoch_add_range(e, ival(res, i, 2), ival(res, i, 3)) != TP_OK) {
            rc = TP_ERR_NOMEM;
            goto out;
        }
    }
out:
    PQclear(res);
    pg_rollback(c);
    cpool_release(p->conns, pc);
    return rc;
}

const cstore_ops cstore_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .ingest = pg_ingest,
    .ping = pg_ping,
    .report = pg_report,
    .list_devices = pg_list_devices,
    .tx_begin = pg_tx_begin,
    .tx_exec = pg_tx_exec,
    .tx_end = pg_tx_end,
};
