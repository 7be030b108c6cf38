/*
 * cstore_sqlite.c - the collector store on SQLite ("sqlite:PATH"): one shop's embedded default.
 *
 * WAL mode with synchronous=FULL: an acknowledged batch is on disk before the reply goes out, as
 * the device deletes nothing but marks answers synced from that reply. A pool of connections (one
 * per HTTP worker) lets reports read while a batch is written; writers take the write lock with
 * BEGIN IMMEDIATE and wait up to the busy timeout, after which the request gets 503.
 */
#include "calert_int.h"
#include "cpool.h"
#include "crollup.h"
#include "cstore.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 7
#define BUSY_MS 5000

/* The columns of answers after its id (schema 1; step 7 keeps them). */
#define ANSWERS_COLUMNS                                                                            \
    " device TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL,"                            \
    " session TEXT NOT NULL, survey TEXT NOT NULL, survey_version INTEGER NOT NULL,"               \
    " question TEXT NOT NULL, kind TEXT NOT NULL, value INTEGER, choice TEXT,"                     \
    " lang TEXT NOT NULL, store TEXT NOT NULL, touchpoint TEXT NOT NULL,"                          \
    " wall_ms INTEGER NOT NULL, clock_trusted INTEGER NOT NULL, mono_ms INTEGER NOT NULL,"         \
    " boot_id TEXT NOT NULL, flags INTEGER NOT NULL, at_ms INTEGER NOT NULL,"                      \
    " time_source TEXT NOT NULL, received_at_ms INTEGER NOT NULL, batch_id TEXT NOT NULL,"

static const char *const schema_v1 =
    "CREATE TABLE answers( id TEXT PRIMARY KEY," ANSWERS_COLUMNS
    " UNIQUE(device, epoch, seq)) WITHOUT ROWID;"
    "CREATE INDEX answers_at ON answers(at_ms);"
    "CREATE TABLE devices("
    " id TEXT PRIMARY KEY, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
    " app_version TEXT NOT NULL, pending INTEGER NOT NULL, highest_seq INTEGER NOT NULL,"
    " disk_free INTEGER NOT NULL, clock_trusted INTEGER NOT NULL, epoch TEXT NOT NULL,"
    " boot_id TEXT NOT NULL, sent_wall_ms INTEGER NOT NULL, clock_skew_ms INTEGER NOT NULL,"
    " batches INTEGER NOT NULL, answers INTEGER NOT NULL);"
    "CREATE TABLE epochs("
    " device TEXT NOT NULL, epoch TEXT NOT NULL, first_seq INTEGER NOT NULL,"
    " highest_seq INTEGER NOT NULL, first_seen_ms INTEGER NOT NULL,"
    " last_seen_ms INTEGER NOT NULL, PRIMARY KEY(device, epoch)) WITHOUT ROWID;"
    "CREATE TABLE seq_ranges("
    " device TEXT NOT NULL, epoch TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL,"
    " PRIMARY KEY(device, epoch, lo)) WITHOUT ROWID;";

/* Step 7 (issue 14, ingest speed): answers in a rowid table, appended in arrival order, with
 * its two unique keys as narrow indexes. As a WITHOUT ROWID table keyed by id, a batch of a
 * device's backlog wrote its rows between the other devices' rows of the same days: a page per
 * answer into the WAL. Only a table still WITHOUT ROWID is rebuilt (the step is safe to re-run). */
static const char *const schema_v7_answers =
    "CREATE TABLE answers_v7( id TEXT NOT NULL UNIQUE," ANSWERS_COLUMNS
    " UNIQUE(device, epoch, seq));"
    "INSERT INTO answers_v7 SELECT id, device, epoch, seq, session, survey, survey_version,"
    " question, kind, value, choice, lang, store, touchpoint, wall_ms, clock_trusted, mono_ms,"
    " boot_id, flags, at_ms, time_source, received_at_ms, batch_id FROM answers"
    " ORDER BY received_at_ms, device, epoch, seq;"
    "DROP TABLE answers;"
    "ALTER TABLE answers_v7 RENAME TO answers;"
    "CREATE INDEX answers_at ON answers(at_ms);";

enum {
    ST_INSERT,
    ST_EXISTS,
    ST_DEVICE,
    ST_EPOCH,
    ST_RANGE_PREV,
    ST_RANGE_UPTO,
    ST_RANGE_DEL,
    ST_RANGE_ADD,
    ST_RANGE_COUNT,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_INSERT] = "INSERT INTO answers(id, device, epoch, seq, session, survey, survey_version,"
                  " question, kind, value, choice, lang, store, touchpoint, wall_ms,"
                  " clock_trusted, mono_ms, boot_id, flags, at_ms, time_source, received_at_ms,"
                  " batch_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,"
                  "?17,?18,?19,?20,?21,?22,?23) ON CONFLICT DO NOTHING",
    [ST_EXISTS] = "SELECT 1 FROM answers WHERE id = ?1",
    [ST_DEVICE] = "INSERT INTO devices(id, first_seen_ms, last_seen_ms, app_version, pending,"
                  " highest_seq, disk_free, clock_trusted, epoch, boot_id, sent_wall_ms,"
                  " clock_skew_ms, batches, answers) VALUES(?1,?2,?2,?3,?4,?5,?6,?7,?8,?9,?10,"
                  "?11,1,?12) ON CONFLICT(id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms,"
                  " app_version = excluded.app_version, pending = excluded.pending,"
                  " highest_seq = excluded.highest_seq, disk_free = excluded.disk_free,"
                  " clock_trusted = excluded.clock_trusted, epoch = excluded.epoch,"
                  " boot_id = excluded.boot_id, sent_wall_ms = excluded.sent_wall_ms,"
                  " clock_skew_ms = excluded.clock_skew_ms, batches = batches + 1,"
                  " answers = answers + excluded.answers",
    [ST_EPOCH] = "INSERT INTO epochs(device, epoch, first_seq, highest_seq, first_seen_ms,"
                 " last_seen_ms) VALUES(?1,?2,?3,?4,?5,?5) ON CONFLICT(device, epoch) DO UPDATE"
                 " SET first_seq = min(first_seq, excluded.first_seq),"
                 " highest_seq = max(highest_seq, excluded.highest_seq),"
                 " last_seen_ms = excluded.last_seen_ms",
    /* The one range below lo that may touch [lo, hi], found by the primary key in O(log n). */
    [ST_RANGE_PREV] = "SELECT lo, hi FROM seq_ranges WHERE device = ?1 AND epoch = ?2 AND lo < ?3"
                      " ORDER BY lo DESC LIMIT 1",
    /* The ranges starting inside [lo, hi + 1]: those it swallows (each is deleted once). */
    [ST_RANGE_UPTO] = "SELECT max(hi) FROM seq_ranges WHERE device = ?1 AND epoch = ?2"
                      " AND lo BETWEEN ?3 AND ?4 + 1",
    [ST_RANGE_DEL] = "DELETE FROM seq_ranges WHERE device = ?1 AND epoch = ?2"
                     " AND lo BETWEEN ?3 AND ?4 + 1",
    [ST_RANGE_COUNT] = "SELECT count(*) FROM seq_ranges WHERE device = ?1 AND epoch = ?2",
    [ST_RANGE_ADD] = "INSERT INTO seq_ranges(device, epoch, lo, hi) VALUES(?1,?2,?3,?4)",
};

#define RU_STMTS 24 /* the rollups' statements kept prepared per connection (crollup.c) */

typedef struct sconn {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    sqlite3_stmt *ru[RU_STMTS]; /* by their SQL text (sqlite3_sql), replaced round-robin */
    int ru_next;
} sconn;

typedef struct spool {
    char path[4096];
    /* Writers queue here in arrival order instead of spinning in SQLite's busy handler: the
     * database takes one writer at a time anyway. */
    pthread_mutex_t write_lock;
    /* Every write goes through this one connection (under write_lock): its page cache stays
     * valid from batch to batch. Writes on pooled connections would make every reader's cache
     * stale in turn, and the next writer would read its pages back from the file. */
    sconn writer;
    cpool *conns; /* of sconn, one per HTTP worker, for reads */
} spool;

/* Maps a SQLite result to tp_err: lock timeouts and I/O trouble make the store "unavailable"
 * (HTTP 503 with Retry-After) because a later retry may well succeed. */
static tp_err map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return TP_OK;
    case SQLITE_NOMEM: return TP_ERR_NOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY: return TP_ERR_BUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return TP_ERR_CORRUPT;
    default: return TP_ERR_IO;
    }
}

static tp_err db_err(sqlite3 *db, const char *path, const char *what, int rc, char *err,
                     size_t errlen)
{
    return tp_errf(err, errlen, map_rc(rc) == TP_OK ? TP_ERR_IO : map_rc(rc),
                   "sqlite store %s: %s: %s", path, what, db ? sqlite3_errmsg(db) : "no handle");
}

static tp_err exec(sqlite3 *db, const char *path, const char *sql, char *err, size_t errlen)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? TP_OK : db_err(db, path, sql, rc, err, errlen);
}

/* Runs schema step v's sql (NULL: nothing to change) and records the step in schema_version. */
static tp_err migrate_step(sqlite3 *db, const char *path, int v, const char *sql, char *err,
                           size_t errlen)
{
    char rec[64];
    snprintf(rec, sizeof rec, "INSERT INTO schema_version VALUES(%d)", v);
    tp_err rc = sql ? exec(db, path, sql, err, errlen) : TP_OK;
    return rc == TP_OK ? exec(db, path, rec, err, errlen) : rc;
}

/* Whether the answers table is still the WITHOUT ROWID table of schema 1 to 6. */
static tp_err answers_without_rowid(sqlite3 *db, const char *path, bool *keyed, char *err,
                                    size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db, "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE name = 'answers'", -1, &st,
        NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        *keyed = sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? TP_OK
               : db_err(db, path, "read answers' schema", rc, err, errlen);
}

/* Creates or migrates the schema (inside one write transaction). */
static tp_err migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    tp_err rc = exec(db, path, "BEGIN IMMEDIATE", err, errlen);
    if (rc != TP_OK)
        return rc;
    rc = exec(db, path, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)", err,
              errlen);
    if (rc != TP_OK)
        goto out;
    int src = sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL);
    if (src != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        rc = db_err(db, path, "read schema version", src, err, errlen);
        goto out;
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_reset(st); /* a pending read would refuse step 7's DROP TABLE */
    if (version > SCHEMA_VERSION) {
        rc = tp_errf(err, errlen, TP_ERR_TOO_NEW,
                     "sqlite store %s: schema version %d is newer than this collector's %d", path,
                     version, SCHEMA_VERSION);
        goto out;
    }
    if (version < 1)
        rc = migrate_step(db, path, 1, schema_v1, err, errlen);
    if (rc == TP_OK && version < 2)
        rc = migrate_step(db, path, 2, cstore_sqlite_schema_v2, err, errlen);
    if (rc == TP_OK && version < 3)
        rc = migrate_step(db, path, 3, cstore_sqlite_schema_v3, err, errlen);
    if (rc == TP_OK && version < 4) /* issue 14: the rollups (crollup.h) */
        rc = migrate_step(db, path, 4, cstore_sqlite_schema_v4, err, errlen);
    if (rc == TP_OK && version < 5)
        rc = migrate_step(db, path, 5, cstore_sqlite_schema_v5, err, errlen);
    if (rc == TP_OK && version < 6)
        rc = migrate_step(db, path, 6, cstore_sqlite_schema_v6, err, errlen);
    if (rc == TP_OK && version < 7) {
        bool keyed = false;
        rc = answers_without_rowid(db, path, &keyed, err, errlen);
        if (rc == TP_OK)
            rc = migrate_step(db, path, 7, keyed ? schema_v7_answers : NULL, err, errlen);
    }
out:
    sqlite3_finalize(st);
    if (rc == TP_OK)
        rc = exec(db, path, "COMMIT", err, errlen);
    else
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void conn_close(sconn *c)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    for (int i = 0; i < RU_STMTS; i++)
        sqlite3_finalize(c->ru[i]);
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

static tp_err conn_open(spool *p, sconn *c, bool first, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(
        p->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    tp_err trc;
    if (rc != SQLITE_OK) {
        trc = db_err(c->db, p->path, "open", rc, err, errlen);
        goto fail;
    }
    sqlite3_busy_timeout(c->db, BUSY_MS);
    /* A checkpoint every 16,000 pages (64 MiB of WAL) rather than SQLite's 1,000: the rollup and
     * index pages a stream of batches rewrites are copied back to the database once, not once
     * per few batches (issue 14's ingest figure). */
    trc = exec(c->db, p->path,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
               " PRAGMA wal_autocheckpoint=16000;",
               err, errlen);
    if (trc == TP_OK && first)
        trc = migrate(c->db, p->path, err, errlen);
    for (int i = 0; trc == TP_OK && i < ST_COUNT; i++) {
        rc = sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i], NULL);
        if (rc != SQLITE_OK)
            trc = db_err(c->db, p->path, "prepare", rc, err, errlen);
    }
    if (trc == TP_OK)
        return TP_OK;
fail:
    conn_close(c);
    return trc;
}

static void s_close(void *impl)
{
    spool *p = impl;
    if (!p)
        return;
    for (unsigned i = 0; p->conns && i < cpool_size(p->conns); i++)
        conn_close(cpool_slot(p->conns, i));
    cpool_free(p->conns);
    conn_close(&p->writer);
    pthread_mutex_destroy(&p->write_lock);
    free(p);
}

static tp_err s_open(const char *path, unsigned pool, void **impl, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    spool *p = calloc(1, sizeof *p);
    *impl = NULL;
    if (!p)
        return TP_ERR_NOMEM;
    pthread_mutex_init(&p->write_lock, NULL);
    if (!*path || tp_strlcpy(p->path, path, sizeof p->path) != TP_OK) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "sqlite store: empty or too long path");
        goto out;
    }
    p->conns = cpool_new(pool, sizeof(sconn));
    if (!p->conns) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    rc = conn_open(p, &p->writer, true, err, errlen);
    for (unsigned i = 0; rc == TP_OK && i < cpool_size(p->conns); i++)
        rc = conn_open(p, cpool_slot(p->conns, i), false, err, errlen);
out:
    if (rc != TP_OK)
        s_close(p);
    else
        *impl = p;
    return rc;
}

/* Runs a reset statement that returns no rows (or whose rows are ignored). */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int insert_answer(sconn *c, const cbatch *b, const cbatch_answer *a, int64_t recv,
                         unsigned char *outcome)
{
    sqlite3_stmt *st = c->st[ST_INSERT];
    const cbatch_device *d = &b->device;
    sqlite3_clear_bindings(st);
    bind_text(st, 1, a->id);
    bind_text(st, 2, d->id);
    bind_text(st, 3, d->epoch);
    sqlite3_bind_int64(st, 4, a->seq);
    bind_text(st, 5, a->session);
    bind_text(st, 6, a->survey);
    sqlite3_bind_int(st, 7, a->survey_version);
    bind_text(st, 8, a->question);
    bind_text(st, 9, tp_kind_name(a->kind));
    if (a->kind == TP_KIND_CHOICE)
        bind_text(st, 11, a->choice);
    else
        sqlite3_bind_int(st, 10, a->value);
    bind_text(st, 12, a->lang);
    bind_text(st, 13, a->store);
    bind_text(st, 14, a->touchpoint);
    sqlite3_bind_int64(st, 15, a->wall_ms);
    sqlite3_bind_int(st, 16, a->clock_trusted);
    sqlite3_bind_int64(st, 17, a->mono_ms);
    bind_text(st, 18, a->boot_id);
    sqlite3_bind_int(st, 19, (int)a->flags);
    sqlite3_bind_int64(st, 20, a->at_ms);
    bind_text(st, 21, cbatch_time_source_name(a->time_source));
    sqlite3_bind_int64(st, 22, recv);
    bind_text(st, 23, b->batch_id);
    int rc = step_done(st);
    if (rc != SQLITE_DONE)
        return rc;
    if (sqlite3_changes(c->db) == 1) {
        *outcome = CBATCH_ACCEPTED;
        return SQLITE_DONE;
    }
    /* Not inserted: either the id is known (a duplicate, whatever else differs) or another id
     * holds this device+epoch+seq. */
    st = c->st[ST_EXISTS];
    bind_text(st, 1, a->id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    *outcome = rc == SQLITE_ROW ? CBATCH_DUPLICATE : CBATCH_CONFLICT;
    return SQLITE_DONE;
}

static void bind_epoch(sqlite3_stmt *st, const cbatch_device *d)
{
    bind_text(st, 1, d->id);
    bind_text(st, 2, d->epoch);
}

/* Merges [lo, hi] into the device's seq ranges: the ranges it touches or overlaps are replaced by
 * their union. Ranges are disjoint and not adjacent, so at most one of them starts below lo (the
 * nearest one, if it reaches lo - 1) and the others start in [lo, hi + 1]: every lookup is an
 * index probe, O(log n) in the epoch's ranges, never a scan of the ranges below. */
static int merge_range(sconn *c, const cbatch_device *d, cstore_range r)
{
    sqlite3_stmt *prev = c->st[ST_RANGE_PREV], *upto = c->st[ST_RANGE_UPTO],
                 *del = c->st[ST_RANGE_DEL], *add = c->st[ST_RANGE_ADD];
    bind_epoch(prev, d);
    sqlite3_bind_int64(prev, 3, r.lo);
    int rc = sqlite3_step(prev);
    if (rc == SQLITE_ROW && sqlite3_column_int64(prev, 1) >= r.lo - 1) {
        r.lo = sqlite3_column_int64(prev, 0);
        if (sqlite3_column_int64(prev, 1) > r.hi)
            r.hi = sqlite3_column_int64(prev, 1);
    }
    sqlite3_reset(prev);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    bind_epoch(upto, d);
    sqlite3_bind_int64(upto, 3, r.lo);
    sqlite3_bind_int64(upto, 4, r.hi);
    rc = sqlite3_step(upto);
    if (rc == SQLITE_ROW && sqlite3_column_type(upto, 0) != SQLITE_NULL &&
        sqlite3_column_int64(upto, 0) > r.hi)
        r.hi = sqlite3_column_int64(upto, 0);
    sqlite3_reset(upto);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    bind_epoch(del, d);
    sqlite3_bind_int64(del, 3, r.lo);
    sqlite3_bind_int64(del, 4, r.hi);
    if ((rc = step_done(del)) != SQLITE_DONE)
        return rc;
    bind_epoch(add, d);
    sqlite3_bind_int64(add, 3, r.lo);
    sqlite3_bind_int64(add, 4, r.hi);
    return step_done(add);
}

/* Counts the epoch's ranges into *n (bounded by CSTORE_RANGES_MAX plus one batch, so this costs
 * the same whatever the device sends). */
static int count_ranges(sconn *c, const cbatch_device *d, int64_t *n)
{
    sqlite3_stmt *st = c->st[ST_RANGE_COUNT];
    bind_epoch(st, d);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static tp_err s_tx_exec_ordered(void *impl, void *conn, const char *sql, const char *const *params,
                                int n, cstore_rows *rows, char *err, size_t errlen);

static tp_err s_ingest(void *impl, const cbatch *b, int64_t recv, unsigned char *outcomes,
                       char *err, size_t errlen)
{
    spool *p = impl;
    sconn *c = &p->writer;
    cstore_range *ranges = NULL;
    size_t n_ranges = 0;
    const cbatch_device *d = &b->device;
    int64_t accepted = 0;
    const char *what = "begin";
    tp_err trc = cstore_batch_ranges(b, &ranges, &n_ranges);
    if (trc != TP_OK)
        goto out;
    pthread_mutex_lock(&p->write_lock);
    int rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    what = "insert answers";
    for (size_t i = 0; rc == SQLITE_OK && i < b->n_answers; i++) {
        rc = insert_answer(c, b, &b->answers[i], recv, &outcomes[i]);
        if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
            accepted += outcomes[i] == CBATCH_ACCEPTED;
        }
    }
    if (rc == SQLITE_OK) {
        what = "update device";
        sqlite3_stmt *st = c->st[ST_DEVICE];
        bind_text(st, 1, d->id);
        sqlite3_bind_int64(st, 2, recv);
        bind_text(st, 3, d->app_version);
        sqlite3_bind_int64(st, 4, d->pending);
        sqlite3_bind_int64(st, 5, d->highest_seq);
        sqlite3_bind_int64(st, 6, d->disk_free);
        sqlite3_bind_int(st, 7, d->clock_trusted);
        bind_text(st, 8, d->epoch);
        bind_text(st, 9, d->boot_id);
        sqlite3_bind_int64(st, 10, d->sent_wall_ms);
        sqlite3_bind_int64(st, 11, d->sent_wall_ms - recv);
        sqlite3_bind_int64(st, 12, accepted);
        rc = step_done(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc == SQLITE_OK) {
        what = "update epoch";
        sqlite3_stmt *st = c->st[ST_EPOCH];
        bind_text(st, 1, d->id);
        bind_text(st, 2, d->epoch);
        sqlite3_bind_int64(st, 3, d->epoch_first_seq);
        int64_t high = d->highest_seq;
        if (n_ranges > 0 && ranges[n_ranges - 1].hi > high)
            high = ranges[n_ranges - 1].hi;
        sqlite3_bind_int64(st, 4, high);
        sqlite3_bind_int64(st, 5, recv);
        rc = step_done(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    what = "merge seq ranges";
    for (size_t i = 0; rc == SQLITE_OK && i < n_ranges; i++) {
        rc = merge_range(c, d, ranges[i]);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    int64_t held = 0;
    if (rc == SQLITE_OK && n_ranges > 0)
        rc = count_ranges(c, d, &held);
    if (rc == SQLITE_OK && held > CSTORE_RANGES_MAX) {
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        trc = cstore_ranges_refused(d, held, err, errlen);
        goto unlock;
    }
    if (rc == SQLITE_OK) { /* issue 14: the rollups, in this transaction */
        crollup_io io = {p, c, s_tx_exec_ordered, true, NULL};
        trc = crollup_ingest(&io, b, outcomes, recv, err, errlen);
        if (trc != TP_OK) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            goto unlock;
        }
    }
    if (rc == SQLITE_OK && accepted > 0) {
        what = "queue alert evaluation";
        rc = calert_queue_sqlite(c->db, b, outcomes, recv);
    }
    if (rc == SQLITE_OK) {
        what = "commit";
        rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        trc = db_err(c->db, p->path, what, rc, err, errlen);
        if (!sqlite3_get_autocommit(c->db))
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    }
unlock:
    pthread_mutex_unlock(&p->write_lock);
out:
    free(ranges);
    return trc;
}

static tp_err s_ping(void *impl, char *err, size_t errlen)
{
    spool *p = impl;
    sconn *c = cpool_acquire_spare(p->conns);
    sqlite3_stmt *st = NULL;
    tp_err trc = TP_OK;
    int rc = sqlite3_prepare_v2(c->db, "SELECT count(*) FROM schema_version", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        trc = db_err(c->db, p->path, "health check", rc, err, errlen);
    if (trc != TP_OK && trc != TP_ERR_NOMEM)
        trc = TP_ERR_BUSY;
    sqlite3_finalize(st);
    cpool_release(p->conns, c);
    return trc;
}

static const char *const group_cols[] = {
    [CREPORT_BY_DAY] = "CAST(at_ms / 900000 AS TEXT)",
    [CREPORT_BY_STORE] = "store",
    [CREPORT_BY_TOUCHPOINT] = "touchpoint",
    [CREPORT_BY_DEVICE] = "device",
};

static tp_err s_report(void *impl, const cstore_query *q, creport *r, char *err, size_t errlen)
{
    spool *p = impl;
    sconn *c = cpool_acquire(p->conns);
    sqlite3_stmt *st = NULL;
    tp_err trc = TP_OK;
    char sql[512];
    /* The grouping column comes from a fixed table, never from the request. */
    snprintf(sql, sizeof sql,
             "SELECT %s, kind, value, choice, time_source = 'uncorrected', count(*) FROM answers"
             " WHERE at_ms >= ?1 AND at_ms < ?2 AND (?3 IS NULL OR survey = ?3)"
             " AND (?4 IS NULL OR survey_version = ?4) GROUP BY 1, 2, 3, 4, 5",
             group_cols[q->by]);
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, q->from_ms);
        sqlite3_bind_int64(st, 2, q->to_ms);
        if (q->survey)
            bind_text(st, 3, q->survey);
        if (q->survey_version > 0)
            sqlite3_bind_int(st, 4, q->survey_version);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && trc == TP_OK) {
            char key[TP_ID_MAX + 1];
            tp_kind kind;
            cstore_group_key(q->by, (const char *)sqlite3_column_text(st, 0), key, sizeof key);
            if (tp_kind_parse((const char *)sqlite3_column_text(st, 1), &kind) != TP_OK)
                continue;
            trc = creport_add(r, key, kind, sqlite3_column_int(st, 2),
                              (const char *)sqlite3_column_text(st, 3),
                              sqlite3_column_int(st, 4) != 0, sqlite3_column_int64(st, 5));
        }
    }
    if (trc == TP_OK && rc != SQLITE_DONE)
        trc = db_err(c->db, p->path, "report", rc, err, errlen);
    else if (trc != TP_OK)
        tp_errf(err, errlen, trc, "report: too many groups");
    sqlite3_finalize(st);
    cpool_release(p->conns, c);
    return trc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static tp_err s_list_devices(void *impl, cstore_devices *out, char *err, size_t errlen)
{
    spool *p = impl;
    sconn *c = cpool_acquire(p->conns);
    sqlite3_stmt *st = NULL;
    tp_err trc = TP_OK;
    int rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        goto out;
    rc = sqlite3_prepare_v2(c->db,
                            "SELECT id, first_seen_ms, last_seen_ms, app_version, pending,"
                            " highest_seq, disk_free, clock_trusted, epoch, boot_id, sent_wall_ms,"
                            " clock_skew_ms, batches, answers FROM devices ORDER BY id",
                            -1, &st, NULL);
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cstore_device *d = cstore_devices_add(out);
        if (!d) {
            trc = TP_ERR_NOMEM;
            goto out;
        }
        tp_strlcpy(d->id, col_text(st, 0), sizeof d->id);
        d->first_seen_ms = sqlite3_column_int64(st, 1);
        d->last_seen_ms = sqlite3_column_int64(st, 2);
        tp_strlcpy(d->app_version, col_text(st, 3), sizeof d->app_version);
        d->pending = sqlite3_column_int64(st, 4);
        d->highest_seq = sqlite3_column_int64(st, 5);
        d->disk_free = sqlite3_column_int64(st, 6);
        d->clock_trusted = sqlite3_column_int(st, 7) != 0;
        tp_strlcpy(d->epoch, col_text(st, 8), sizeof d->epoch);
        tp_strlcpy(d->boot_id, col_text(st, 9), sizeof d->boot_id);
        d->sent_wall_ms = sqlite3_column_int64(st, 10);
        d->clock_skew_ms = sqlite3_column_int64(st, 11);
        d->batches = sqlite3_column_int64(st, 12);
        d->answers = sqlite3_column_int64(st, 13);
    }
    if (rc != SQLITE_DONE)
        goto out;
    sqlite3_finalize(st);
    st = NULL;
    rc = sqlite3_prepare_v2(c->db,
                            "SELECT device, epoch, first_seq, highest_seq, first_seen_ms,"
                            " last_seen_ms FROM epochs ORDER BY device, first_seen_ms",
                            -1, &st, NULL);
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cstore_device *d = cstore_devices_find(out, col_text(st, 0));
        cstore_epoch *e = d ? cstore_device_add_epoch(d) : NULL;
        if (d && !e) {
            trc = TP_ERR_NOMEM;
            goto out;
        }
        if (!e)
            continue;
        tp_strlcpy(e->epoch, col_text(st, 1), sizeof e->epoch);
        e->first_seq = sqlite3_column_int64(st, 2);
        e->highest_seq = sqlite3_column_int64(st, 3);
        e->first_seen_ms = sqlite3_column_int64(st, 4);
        e->last_seen_ms = sqlite3_column_int64(st, 5);
    }
    if (rc != SQLITE_DONE)
        goto out;
    sqlite3_finalize(st);
    st = NULL;
    rc = sqlite3_prepare_v2(
        c->db, "SELECT device, epoch, lo, hi FROM seq_ranges ORDER BY device, epoch, lo", -1, &st,
        NULL);
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cstore_epoch *e =
            cstore_device_find_epoch(cstore_devices_find(out, col_text(st, 0)), col_text(st, 1));
        if (e && cstore_epoch_add_range(e, sqlite3_column_int64(st, 2),
                                        sqlite3_column_int64(st, 3)) != TP_OK) {
            trc = TP_ERR_NOMEM;
            goto out;
        }
    }
out:
    if (trc == TP_OK && rc != SQLITE_DONE)
        trc = db_err(c->db, p->path, "list devices", rc, err, errlen);
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    cpool_release(p->conns, c);
    return trc;
}

/* ---- Generic transactions -------------------------------------------------------------------- */

static tp_err s_tx_begin(void *impl, bool write, void **conn, char *err, size_t errlen)
{
    spool *p = impl;
    sconn *c;
    if (write) {
        pthread_mutex_lock(&p->write_lock);
        c = &p->writer;
    } else {
        c = cpool_acquire(p->conns);
    }
    tp_err rc = exec(c->db, p->path, write ? "BEGIN IMMEDIATE" : "BEGIN", err, errlen);
    if (rc != TP_OK) {
        if (write)
            pthread_mutex_unlock(&p->write_lock);
        else
            cpool_release(p->conns, c);
        return rc;
    }
    *conn = c;
    return TP_OK;
}

/* ordered: the statement's parameters are "?" or $1..$n first named in that order (the rollups'
 * long multi-row statements), so parameter i binds at index i + 1 without a lookup by name (which
 * costs a scan of every name per parameter). */
static tp_err tx_exec(void *impl, void *conn, const char *sql, const char *const *params, int n,
                      cstore_rows *rows, char *err, size_t errlen, bool ordered)
{
    spool *p = impl;
    sconn *c = conn;
    sqlite3_stmt *st = NULL;
    tp_err trc = TP_OK;
    int rc = SQLITE_OK, slot = -1;
    for (int i = 0; ordered && i < RU_STMTS && !st; i++)
        if (c->ru[i] && strcmp(sqlite3_sql(c->ru[i]), sql) == 0)
            st = c->ru[slot = i];
    if (!st && ordered) { /* the rollups repeat a dozen statements on every batch: keep them */
        slot = c->ru_next;
        c->ru_next = (c->ru_next + 1) % RU_STMTS;
        sqlite3_finalize(c->ru[slot]);
        c->ru[slot] = NULL;
        rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->ru[slot], NULL);
        st = c->ru[slot];
    } else if (!st) {
        rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    }
    if (rc != SQLITE_OK)
        return db_err(c->db, p->path, "prepare", rc, err, errlen);
    for (int i = 0; i < n && rc == SQLITE_OK; i++) {
        int idx = i + 1;
        if (!ordered) {
            char name[16];
            snprintf(name, sizeof name, "$%d", i + 1);
            idx = sqlite3_bind_parameter_index(st, name);
        }
        if (idx > 0)
            /* STATIC: the statement is reset or finalized before the caller's strings go */
            rc = params[i] ? sqlite3_bind_text(st, idx, params[i], -1, SQLITE_STATIC)
                           : sqlite3_bind_null(st, idx);
    }
    while (rc == SQLITE_OK && trc == TP_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cells[32];
        int cols = sqlite3_column_count(st);
        if (cols > 32)
            cols = 32;
        for (int i = 0; i < cols; i++)
            cells[i] = (const char *)sqlite3_column_text(st, i);
        trc = cstore_rows_add(rows, cells, (size_t)cols);
        rc = SQLITE_OK;
    }
    if (trc == TP_OK && rc != SQLITE_DONE) {
        trc = (rc & 0xff) == SQLITE_CONSTRAINT
                  ? tp_errf(err, errlen, TP_ERR_EXISTS, "%s", sqlite3_errmsg(c->db))
                  : db_err(c->db, p->path, "statement", rc, err, errlen);
    }
    if (slot >= 0) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
    return trc;
}

static tp_err s_tx_exec(void *impl, void *conn, const char *sql, const char *const *params, int n,
                        cstore_rows *rows, char *err, size_t errlen)
{
    return tx_exec(impl, conn, sql, params, n, rows, err, errlen, false);
}

static tp_err s_tx_exec_ordered(void *impl, void *conn, const char *sql, const char *const *params,
                                int n, cstore_rows *rows, char *err, size_t errlen)
{
    return tx_exec(impl, conn, sql, params, n, rows, err, errlen, true);
}

static tp_err s_tx_end(void *impl, void *conn, bool write, bool commit, char *err, size_t errlen)
{
    spool *p = impl;
    sconn *c = conn;
    tp_err rc = TP_OK;
    if (commit)
        rc = exec(c->db, p->path, "COMMIT", err, errlen);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    if (write)
        pthread_mutex_unlock(&p->write_lock);
    else
        cpool_release(p->conns, c);
    return rc;
}

const cstore_ops cstore_sqlite_ops = {
    .name = "sqlite",
    .open = s_open,
    .close = s_close,
    .ingest = s_ingest,
    .ping = s_ping,
    .report = s_report,
    .list_devices = s_list_devices,
    .tx_begin = s_tx_begin,
    .tx_exec = s_tx_exec,
    .tx_end = s_tx_end,
};
