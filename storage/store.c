/*
 * store.c - the answer store: opening (pragmas, schema migrations, the integrity check at open)
 * and closing. Recording and reading live in store_rec.c, statistics and maintenance in
 * store_stats.c, recovery from a damaged file in store_recover.c, the logs in store_log.c, and
 * what they all share (statement cache, errors, transactions, seq sidecar) in store_core.c.
 *
 * Durability choice: WAL with synchronous=FULL. In WAL mode synchronous=NORMAL only syncs the WAL
 * at checkpoints, so a power cut can lose the last commits even though the call returned; FULL
 * fsyncs the WAL at every commit, so an answer is on stable storage when store_record_session()
 * returns, which is the promise of store.h. WAL (rather than a rollback journal) lets the sync
 * process and the CLI read while the kiosk writes, and a commit costs one fsync of an append.
 *
 * The WAL file is kept between connections (SQLITE_FCNTL_PERSIST_WAL): SQLite does not fsync the
 * folder when it re-creates a WAL, so a deleted-and-recreated WAL could vanish from the folder on
 * power loss together with its commits. We create it once, fsync the folder, and keep it.
 * Kept, but bounded: PRAGMA journal_size_limit makes the last connection to close truncate the
 * checkpointed log to 0 bytes (the name stays in the folder, which is what persisting is for).
 * Without it every short-lived writer (`touchpoint record`) appended ~25 kB to a log that was
 * never restarted: 51 MB after 2,000 of them, and each open recovered all of it.
 *
 * Integrity check at open: PRAGMA quick_check (every b-tree page, record format and constraint,
 * but not that indexes match their tables). Measured with 100,000 answers on this project's x86
 * build machine (tests/bench/bench_store.c): quick_check ~50-60 ms of CPU, integrity_check ~85 ms;
 * a Raspberry Pi is several times slower and the kiosk must show its first frame within 300 ms,
 * so quick_check it is (a broken index loses no data and REINDEX repairs it; `touchpoint check`
 * runs the full integrity_check). A store kept for a long time can grow past what even
 * quick_check does in time, so the open check has a budget (store_open_check_budget_ms, 250 ms):
 * when it runs out the open goes on, logs a warning event, and the full check is left to staff.
 * Corruption met later by any call writes "<db>.suspect"; the next open then checks without a
 * budget, so a damaged file is still moved aside and recovered at the next start
 * (store_recover.c).
 *
 * The other store files: store_int.h lists them and the order they call each other in.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

int store_schema_target = STORE_SCHEMA_LATEST;
int store_open_check_budget_ms = 250;

/* ---- Schema --------------------------------------------------------------------------------- */

/* Version 1: the answers and everything that numbers, syncs and counts them.
 * - names interns repeated strings (survey, question, choice, store, touchpoint, lang, boot id)
 *   so an answer row holds small integers: ~100 bytes per answer on disk instead of ~300.
 * - answers.seq is the INTEGER PRIMARY KEY and comes from meta.next_seq, never from max(rowid),
 *   so deleting rows (prune) can never lead to a seq being given twice.
 * - answers_pending is partial (state = 0): the sync batch read and n_pending use it, and it
 *   shrinks as answers sync instead of indexing every answer forever. No other index on answers:
 *   nothing looks answers up by id or session.
 * - rollup holds counts per 15-minute UTC bucket, updated in the same transaction as each answer,
 *   so a month of statistics reads a few thousand rows instead of a million answers.
 * - pruned remembers deleted seq ranges so store_find_gaps does not report them as gaps. */
static const char schema_v1[] =
    "CREATE TABLE meta ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  epoch TEXT NOT NULL,"
    "  device_id TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  epoch_first_seq INTEGER NOT NULL,"
    "  next_seq INTEGER NOT NULL,"
    "  seq_mark INTEGER NOT NULL,"
    "  export_cursor INTEGER NOT NULL DEFAULT 0,"
    "  n_pending INTEGER NOT NULL DEFAULT 0,"
    "  n_synced INTEGER NOT NULL DEFAULT 0,"
    "  n_rejected INTEGER NOT NULL DEFAULT 0,"
    "  recovered_from TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY, uuid BLOB NOT NULL UNIQUE, survey INTEGER NOT NULL,"
    "  version INTEGER NOT NULL, store INTEGER NOT NULL, tp INTEGER NOT NULL,"
    "  n INTEGER NOT NULL);"
    "CREATE TABLE answers ("
    "  seq INTEGER PRIMARY KEY, uuid BLOB NOT NULL, sess INTEGER NOT NULL, q INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL, val INTEGER NOT NULL, lang INTEGER NOT NULL, boot INTEGER NOT NULL,"
    "  wall INTEGER NOT NULL, mono INTEGER NOT NULL, flags INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX answers_pending ON answers(seq) WHERE state = 0;"
    "CREATE TABLE rejects (seq INTEGER PRIMARY KEY, code TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE TABLE rollup ("
    "  bucket INTEGER NOT NULL, tp INTEGER NOT NULL, q INTEGER NOT NULL, kind INTEGER NOT NULL,"
    "  val INTEGER NOT NULL, excl INTEGER NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (bucket, tp, q, kind, val, excl)) WITHOUT ROWID;"
    "CREATE TABLE pruned (lo INTEGER PRIMARY KEY, hi INTEGER NOT NULL);";

/* Version 2: the event log (recoveries, prunes) and the sync attempt log for the staff screen. */
static const char schema_v2[] =
    "CREATE TABLE events (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, level TEXT NOT NULL,"
    "  message TEXT NOT NULL);"
    "CREATE TABLE sync_log (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, ok INTEGER NOT NULL,"
    "  http_status INTEGER NOT NULL, sent INTEGER NOT NULL, accepted INTEGER NOT NULL,"
    "  duplicates INTEGER NOT NULL, rejected INTEGER NOT NULL, message TEXT NOT NULL);";

/* Creates the v1 tables and the meta row, and reserves seqs in the sidecar. */
static tp_err migrate_to_1(store *s, const struct store_create_info *ci)
{
    tp_err rc = store_exec_sql(s, schema_v1, "creating the schema (version 1)");
    if (rc != TP_OK)
        return rc;
    char epoch[TP_UUID_STR];
    if (tp_uuid4_new(epoch) != TP_OK)
        return store_fail(s, TP_ERR_IO, "making the epoch id: getrandom failed");
    int64_t mark = ci->first_seq - 1 + STORE_SEQMARK_STEP;
    sqlite3_stmt *st = NULL;
    int sr = sqlite3_prepare_v2(s->db,
                                "INSERT INTO meta(id, epoch, device_id, created_ms, "
                                "epoch_first_seq, next_seq, seq_mark, export_cursor, "
                                "recovered_from) VALUES (1, ?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
                                -1, &st, NULL);
    if (sr == SQLITE_OK) {
        sqlite3_bind_text(st, 1, epoch, -1, SQLITE_TRANSIENT);
        if (ci->device_id[0])
            sqlite3_bind_text(st, 2, ci->device_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, s->clock->wall_ms(s->clock->ctx));
        sqlite3_bind_int64(st, 4, ci->first_seq);
        sqlite3_bind_int64(st, 5, mark);
        /* The export cursor of a recovered epoch starts just below its first seq: the answers
         * before it are in the moved-aside file, not here. */
        sqlite3_bind_int64(st, 6, ci->first_seq - 1);
        sqlite3_bind_text(st, 7, ci->recovered_from, -1, SQLITE_TRANSIENT);
        sr = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (sr != SQLITE_DONE)
        return store_sqlfail(s, sr, "initialising the meta row");
    /* Reserve seqs before any can be used: the sidecar must always be >= every used seq. */
    return store_seqmark_write(s, mark);
}

static tp_err migrate_to_2(store *s, const struct store_create_info *ci)
{
    (void)ci;
    return store_exec_sql(s, schema_v2, "migrating the schema to version 2");
}

/* The forward migrations: entry i brings a database from user_version i to i + 1. A new
 * version adds one entry here and bumps STORE_SCHEMA_LATEST; old entries never change. */
static tp_err (*const migrations[STORE_SCHEMA_LATEST])(store *,
                                                       const struct store_create_info *) = {
    migrate_to_1,
    migrate_to_2,
};

/* Reads an integer pragma or single-value query. */
static tp_err query_int(store *s, const char *sql, int64_t *out, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? TP_OK : store_sqlfail(s, rc, what);
}

/* Brings the schema to store_schema_target inside one write transaction (so two processes opening
 * a new file at once cannot both create it). *created is set when the file was new. */
static tp_err migrate(store *s, const struct store_create_info *ci, bool *created)
{
    int64_t v = 0, n_tables = 0;
    *created = false;
    /* The common case, an up-to-date file, needs no write lock: opening must not wait for (or
     * block) the kiosk's recording. */
    tp_err rc = query_int(s, "PRAGMA user_version", &v, "reading the schema version");
    if (rc != TP_OK)
        return rc;
    if (v > 0 && v >= store_schema_target && v <= STORE_SCHEMA_LATEST) {
        s->schema_version = (int)v;
        return TP_OK;
    }
    rc = store_tx_begin(s, true);
    if (rc != TP_OK)
        return rc;
    rc = query_int(s, "PRAGMA user_version", &v, "reading the schema version");
    if (rc == TP_OK && v > STORE_SCHEMA_LATEST) {
        rc = store_fail(s, TP_ERR_TOO_NEW,
                        "schema version %lld is newer than this program's %d; upgrade the program "
                        "(the file is left untouched)",
                        (long long)v, STORE_SCHEMA_LATEST);
        goto out;
    }
    if (rc == TP_OK && v == 0) {
        rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &n_tables, "reading the schema");
        if (rc == TP_OK && n_tables > 0) {
            rc = store_fail(s, TP_ERR_INVALID,
                            "an SQLite database but not a Touchpoint store (user_version 0 with "
                            "%lld schema objects); refusing to touch it",
                            (long long)n_tables);
            goto out;
        }
    }
    for (int64_t step = v + 1; rc == TP_OK && step <= store_schema_target; step++) {
        rc = migrations[step - 1](s, ci);
        if (step == 1)
            *created = true;
        if (rc == TP_OK) {
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", (int)step);
            rc = store_exec_sql(s, sql, "setting the schema version");
        }
    }
    if (rc == TP_OK) {
        s->schema_version = (int)(v > store_schema_target ? v : store_schema_target);
        return store_tx_commit(s);
    }
out:
    store_tx_rollback(s);
    return rc;
}

/* ---- Open ----------------------------------------------------------------------------------- */

static void close_db(store *s)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(s->st[i]);
        s->st[i] = NULL;
    }
    if (s->db)
        sqlite3_close(s->db);
    s->db = NULL;
}

/* Opens the SQLite connection with the pragmas every handle uses. */
/* Writes "file:<path>?<query>" with the path percent-encoded where a URI needs it. */
static void uri_of(const char *path, const char *query, char *out, size_t len)
{
    size_t w = (size_t)snprintf(out, len, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p && w + 4 < len; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7F)
            w += (size_t)snprintf(out + w, len - w, "%%%02X", *p);
        else
            out[w++] = (char)*p;
    }
    snprintf(out + w, len - w, "?%s", query);
}

/* A reader must create and change nothing (`touchpoint check` on any file): a read-only SQLite
 * connection would otherwise create a missing -wal, and a -shm (or write read marks into one).
 * With both present, the -shm is mapped read-only (SQLite reads the WAL into private memory
 * when no writer keeps the -shm valid); with no -wal, every committed page is in the main file
 * (a store's -wal is kept, see above, so a missing one was deleted or not copied), which is read
 * as immutable. A -wal without its -shm (a copied pair) is read the ordinary way, which creates
 * the -shm: the WAL must be read and SQLite has no other way to index it. */
static void readonly_uri(const store *s, char *uri, size_t len)
{
    char p[4200];
    bool wal, shm;
    snprintf(p, sizeof p, "%s-wal", s->path);
    wal = access(p, F_OK) == 0;
    snprintf(p, sizeof p, "%s-shm", s->path);
    shm = access(p, F_OK) == 0;
    uri_of(s->path,
           !wal  ? "mode=ro&immutable=1"
           : shm ? "mode=ro&readonly_shm=1"
                 : "mode=ro",
           uri, len);
}

/* Why a database that does not exist could not be created, when the folder is to blame: its
 * folder exists but is not writable, or it is missing and the nearest folder above it is on a
 * read-only file system (so creating it cannot work either). Returns TP_ERR_READONLY with the
 * message, or TP_OK when the folder is not the cause. */
static tp_err explain_create_failure(store *s)
{
    char dir[4096];
    struct stat st;
    struct statvfs sv;
    store_dir_of(s->path, dir, sizeof dir);
    if (stat(dir, &st) == 0) {
        if (faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) == 0)
            return TP_OK;
        int en = errno;
        return store_fail(s, TP_ERR_READONLY,
                          "cannot create the database: folder %s is not writable (%s)", dir,
                          strerror(en));
    }
    while (stat(dir, &st) != 0 && errno == ENOENT && strcmp(dir, "/") != 0 &&
           strcmp(dir, ".") != 0) {
        char up[4096];
        store_dir_of(dir, up, sizeof up);
        tp_strlcpy(dir, up, sizeof dir);
    }
    if (statvfs(dir, &sv) != 0 || !(sv.f_flag & ST_RDONLY))
        return TP_OK;
    store_dir_of(s->path, dir, sizeof dir);
    return store_fail(s, TP_ERR_READONLY,
                      "cannot create the database: folder %s does not exist and cannot be made "
                      "there (%s)",
                      dir, strerror(EROFS));
}

/* True when the main file is in WAL mode (header bytes 18 and 19 are 2) but its -wal is gone. */
static bool wal_missing(const store *s)
{
    unsigned char h[20];
    char p[4200];
    int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    bool wal_mode = read(fd, h, sizeof h) == (ssize_t)sizeof h && h[18] == 2 && h[19] == 2;
    close(fd);
    snprintf(p, sizeof p, "%s-wal", s->path);
    return wal_mode && access(p, F_OK) != 0;
}

static tp_err open_conn(store *s, const store_options *o, bool readonly)
{
    int flags = (readonly ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
                          : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;
    char uri[13000];
    if (readonly)
        readonly_uri(s, uri, sizeof uri);
    int rc = sqlite3_open_v2(readonly ? uri : s->path, &s->db, flags, s->vfs);
    if (rc != SQLITE_OK) {
        tp_err e = store_sqlfail(s, rc, "opening the database");
        close_db(s);
        /* SQLite reports a file it could not create in a read-only folder with the errno of its
         * last fallback attempt (ENOENT); say what really happened. */
        struct stat st;
        if (!readonly && stat(s->path, &st) != 0 && explain_create_failure(s) != TP_OK)
            return TP_ERR_READONLY;
        return e;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, o && o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000);
    if (!readonly && sqlite3_db_readonly(s->db, "main") == 1)
        return store_fail(s, TP_ERR_READONLY,
                          "the database file cannot be written (read-only file, folder or "
                          "filesystem; permission denied)");
    int one = 1;
    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
    return TP_OK;
}

/* Sets WAL + synchronous=FULL (see the file comment) and the page cap. */
static tp_err set_pragmas(store *s, const store_options *o, bool readonly)
{
    tp_err rc = TP_OK;
    if (!readonly) {
        sqlite3_stmt *st = NULL;
        int sr = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (sr == SQLITE_OK)
            sr = sqlite3_step(st);
        if (sr == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(st, 0);
            if (!mode || strcmp(mode, "wal") != 0)
                rc = store_fail(s, TP_ERR_IO, "cannot switch to WAL mode (journal mode is %s)",
                                mode ? mode : "?");
        } else {
            rc = store_sqlfail(s, sr, "switching to WAL mode");
        }
        sqlite3_finalize(st);
        if (rc != TP_OK)
            return rc;
    }
    rc = store_exec_sql(s, "PRAGMA synchronous = FULL", "setting synchronous=FULL");
    /* The bound of the kept WAL (see the file comment): with a limit set, the last connection to
     * close truncates the checkpointed log to 0 bytes instead of leaving it for the next process
     * to recover and append to, and a log restarted while open is cut back to the limit. */
    if (rc == TP_OK && !readonly)
        rc = store_exec_sql(s, "PRAGMA journal_size_limit = " STORE_WAL_LIMIT_SQL,
                            "setting journal_size_limit");
    if (rc == TP_OK && o && o->max_page_count > 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)o->max_page_count);
        rc = store_exec_sql(s, sql, "setting max_page_count");
    }
    return rc;
}

/* The open check's budget timer (named apart from firmware/watchdog.c, the systemd watchdog):
 * integrity checks run inside one VM instruction that never calls the progress handler, but they
 * do honour sqlite3_interrupt(), which is safe from another thread. After the deadline it
 * interrupts every millisecond until told to stop (a statement clears a pending interrupt when
 * it starts, so one early interrupt could be lost). */
struct check_timer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int budget_ms;
    sqlite3 *db;
};

static void *check_timer_main(void *arg)
{
    struct check_timer *w = arg;
    struct timespec at;
    clock_gettime(CLOCK_REALTIME, &at);
    at.tv_sec += w->budget_ms / 1000;
    at.tv_nsec += (long)(w->budget_ms % 1000) * 1000000L;
    pthread_mutex_lock(&w->mu);
    while (!w->done) {
        if (at.tv_nsec >= 1000000000L) {
            at.tv_sec++;
            at.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&w->cv, &w->mu, &at) == ETIMEDOUT && !w->done) {
            sqlite3_interrupt(w->db);
            at.tv_nsec += 1000000L;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Runs a check pragma; TP_ERR_CORRUPT with the first problem when it is not "ok". With
 * budget_ms >= 0 the check stops after that long: *incomplete is set and TP_OK returned. */
static tp_err run_check(store *s, const char *pragma, int budget_ms, bool *incomplete)
{
    sqlite3_stmt *st = NULL;
    char first[256] = "";
    int rows = 0;
    *incomplete = budget_ms == 0; /* no time at all: the check is skipped */
    if (budget_ms == 0)
        return TP_OK;
    struct check_timer w = {.budget_ms = budget_ms, .db = s->db};
    pthread_t tid;
    bool watched = false;
    if (budget_ms >= 0) {
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        watched = pthread_create(&tid, NULL, check_timer_main, &w) == 0;
    }
    int sr = sqlite3_prepare_v2(s->db, pragma, -1, &st, NULL);
    while (sr == SQLITE_OK && (sr = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (rows++ == 0)
            tp_strlcpy(first, t ? t : "?", sizeof first);
        sr = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (budget_ms >= 0) {
        if (watched) {
            pthread_mutex_lock(&w.mu);
            w.done = true;
            pthread_cond_signal(&w.cv);
            pthread_mutex_unlock(&w.mu);
            pthread_join(tid, NULL);
        }
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
    }
    if ((sr & 0xFF) == SQLITE_INTERRUPT && budget_ms >= 0) {
        *incomplete = true;
        return TP_OK;
    }
    if (sr != SQLITE_DONE)
        return store_sqlfail(s, sr, pragma);
    if (rows != 1 || strcmp(first, "ok") != 0)
        return store_fail(s, TP_ERR_CORRUPT, "%s failed: %s%s", pragma, first,
                          rows > 1 ? " (and more)" : "");
    return TP_OK;
}

/* Checks or sets the device id. */
static tp_err check_device(store *s, const char *device_id, bool readonly)
{
    if (!device_id)
        return TP_OK;
    sqlite3_stmt *st = NULL;
    tp_err rc = TP_OK;
    int sr = sqlite3_prepare_v2(s->db, "SELECT device_id FROM meta WHERE id = 1", -1, &st, NULL);
    if (sr == SQLITE_OK)
        sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        const char *have = (const char *)sqlite3_column_text(st, 0);
        if (have && strcmp(have, device_id) != 0)
            rc = store_fail(s, TP_ERR_INVALID,
                            "device id mismatch: the database belongs to device '%s', opened as "
                            "'%s'",
                            have, device_id);
        else if (!have && !readonly) {
            sqlite3_finalize(st);
            st = NULL;
            sr = sqlite3_prepare_v2(s->db, "UPDATE meta SET device_id = ?1 WHERE id = 1", -1, &st,
                                    NULL);
            if (sr == SQLITE_OK) {
                sqlite3_bind_text(st, 1, device_id, -1, SQLITE_TRANSIENT);
                sr = sqlite3_step(st);
            }
            if (sr != SQLITE_DONE)
                rc = store_sqlfail(s, sr, "setting the device id");
        }
    } else {
        rc = store_sqlfail(s, sr == SQLITE_DONE ? SQLITE_CORRUPT : sr, "reading the device id");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Rewrites the sidecar when it is missing or behind the database's reservation (someone deleted
 * it, or it was restored from an older copy). */
static tp_err check_seqmark(store *s)
{
    int64_t mark = 0;
    tp_err rc = query_int(s, "SELECT seq_mark FROM meta WHERE id = 1", &mark, "reading seq_mark");
    if (rc == TP_OK && store_seqmark_read(s->seqmark_path) < mark)
        rc = store_seqmark_write(s, mark);
    return rc;
}

/* Read-write open of an existing or new file. Any corruption comes back as TP_ERR_CORRUPT. */
static tp_err open_rw(store *s, const store_options *o, const struct store_create_info *ci,
                      bool *created)
{
    struct stat stt;
    bool existed = stat(s->path, &stt) == 0 && stt.st_size > 0;
    tp_err rc = open_conn(s, o, false);
    if (rc == TP_OK)
        rc = set_pragmas(s, o, false);
    bool incomplete = false, suspect = store_suspect_marked(s);
    if (rc == TP_OK && existed && (!(o && o->quick_open) || suspect))
        rc = run_check(s, "PRAGMA quick_check", suspect ? -1 : store_open_check_budget_ms,
                       &incomplete);
    if (rc == TP_OK)
        rc = migrate(s, ci, created);
    if (rc == TP_OK && !incomplete && (existed || *created))
        store_clear_suspect(s);
    if (rc == TP_OK && incomplete && s->schema_version >= 2) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "the integrity check at open stopped after its %d ms budget (large store); "
                 "run `touchpoint check`",
                 store_open_check_budget_ms);
        store_log_event(s, "warn", msg);
    }
    if (rc == TP_OK && *created && store_fsync_dir(s->path) != 0)
        rc = store_fail(s, tp_err_from_errno(errno), "fsync of the folder failed: %s",
                        strerror(errno));
    if (rc == TP_OK)
        rc = check_device(s, o ? o->device_id : NULL, false);
    if (rc == TP_OK)
        rc = check_seqmark(s);
    return rc;
}

/* Frees the handle without touching errmsg ownership. */
static void free_handle(store *s)
{
    if (!s)
        return;
    close_db(s);
    if (s->names) {
        for (size_t i = 0; i < s->n_names_cap; i++)
            free(s->names[i]);
        free(s->names);
    }
    free(s->path);
    free(s->seqmark_path);
    free(s);
}

tp_err store_open(const char *path, const store_options *opt, store **out, char *err, size_t errlen)
{
    store *s = NULL;
    tp_err rc = TP_OK;
    struct store_create_info *ci = NULL;
    struct store_recovery *rec = NULL;
    if (out)
        *out = NULL;
    if (!path || !*path || !out)
        return tp_errf(err, errlen, TP_ERR_INVALID, "store_open: path and out are required");
    if (strlen(path) >= 4000)
        return tp_errf(err, errlen, TP_ERR_INVALID, "%.64s...: path too long", path);
    if (opt && opt->device_id && !tp_id_valid(opt->device_id))
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "%s: device id '%.80s' is not valid (1-64 of A-Z a-z 0-9 . _ -)", path,
                       opt->device_id);
    if (opt && (opt->busy_timeout_ms < 0 || opt->max_page_count < 0 || opt->min_free_bytes < 0))
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "%s: busy_timeout_ms, max_page_count and min_free_bytes must be >= 0", path);

    s = calloc(1, sizeof *s);
    ci = calloc(1, sizeof *ci);
    rec = calloc(1, sizeof *rec);
    if (!s || !ci || !rec) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    s->path = strdup(path);
    s->seqmark_path = malloc(strlen(path) + 16);
    if (!s->path || !s->seqmark_path) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    snprintf(s->seqmark_path, strlen(path) + 16, "%s.seqmark", path);
    s->clock = opt && opt->clock ? opt->clock : tp_clock_system();
    s->vfs = opt ? opt->vfs : NULL;
    s->min_free_floor = !(opt && opt->min_free_bytes > 0);
    s->min_free_bytes = s->min_free_floor ? STORE_MIN_FREE_FLOOR : opt->min_free_bytes;
    s->readonly = opt && opt->readonly;

    if (s->readonly) {
        /* No recovery and no migration: a reader must never move the kiosk's file. */
        int64_t v = 0;
        rc = open_conn(s, opt, true);
        if (rc == TP_OK)
            rc = set_pragmas(s, opt, true);
        if (rc == TP_OK)
            rc = query_int(s, "PRAGMA user_version", &v, "reading the schema version");
        if (rc == TP_OK && v > STORE_SCHEMA_LATEST)
            rc = store_fail(s, TP_ERR_TOO_NEW,
                            "schema version %lld is newer than this program's %d; upgrade the "
                            "program",
                            (long long)v, STORE_SCHEMA_LATEST);
        else if (rc == TP_OK && v == 0 && wal_missing(s))
            rc = store_fail(s, TP_ERR_NOT_FOUND,
                            "the WAL file %s-wal is missing: this store's data is in it (the "
                            "main file holds none yet); copy or restore the -wal beside it",
                            s->path);
        else if (rc == TP_OK && v == 0)
            rc = store_fail(s, TP_ERR_NOT_FOUND, "not an initialised Touchpoint store");
        bool incomplete = false;
        if (rc == TP_OK && !(opt && opt->quick_open))
            rc = run_check(s, "PRAGMA quick_check", store_open_check_budget_ms, &incomplete);
        if (rc == TP_OK)
            rc = check_device(s, opt ? opt->device_id : NULL, true);
        s->schema_version = (int)v;
        if (rc != TP_OK)
            tp_errf(err, errlen, rc, "%s", s->errmsg);
        goto out;
    }

    ci->first_seq = store_seqmark_read(s->seqmark_path) + 1;
    if (opt && opt->device_id)
        tp_strlcpy(ci->device_id, opt->device_id, sizeof ci->device_id);
    bool created = false;
    rc = store_recover_check_ours(s);
    if (rc == TP_OK)
        rc = open_rw(s, opt, ci, &created);
    if (rc == TP_ERR_CORRUPT) {
        close_db(s);
        rc = store_recover_aside(s, ci, rec);
        if (rc == TP_OK)
            rc = open_rw(s, opt, ci, &created);
        if (rc == TP_OK)
            store_recover_report(rec, s);
    } else if (rc == TP_OK && created && ci->first_seq > 1) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "new database file, but %s says seqs up to %lld were used before: a new epoch "
                 "starts at seq %lld",
                 s->seqmark_path, (long long)(ci->first_seq - 1), (long long)ci->first_seq);
        if (s->schema_version >= 2)
            store_log_event(s, "warn", msg);
    }
    if (rc != TP_OK)
        tp_errf(err, errlen, rc, "%s", s->errmsg);
out:
    free(ci);
    free(rec);
    if (rc != TP_OK) {
        free_handle(s);
        return rc;
    }
    *out = s;
    return TP_OK;
}

void store_close(store *s)
{
    free_handle(s);
}

const char *store_errmsg(const store *s)
{
    return s ? s->errmsg : "";
}

/* ---- Bulk load (benchmark/test data only) --------------------------------------------------- */

tp_err store_bulk_begin(store *s)
{
    tp_err rc = store_exec_sql(s, "PRAGMA synchronous = OFF", "bulk: synchronous=OFF");
    if (rc == TP_OK)
        rc = store_tx_begin(s, true);
    if (rc == TP_OK)
        s->bulk = true;
    return rc;
}

tp_err store_bulk_end(store *s)
{
    s->bulk = false;
    tp_err rc = store_tx_commit(s);
    tp_err rc2 = store_exec_sql(s, "PRAGMA synchronous = FULL", "bulk: synchronous=FULL");
    return rc != TP_OK ? rc : rc2;
}
