/*
 * store_int.h - internals of the answer store, shared by its files. Calls go down this list only:
 *   store.c         open, schema, pragmas, the check at open, close
 *   store_rec.c     recording, reading, sync state, the export cursor
 *   store_stats.c   statistics, info, check, gaps, prune
 *   store_recover.c moving a damaged store aside (only ever a file that was ours)
 *   store_log.c     the event log and the sync log
 *   store_core.c    statement cache, errors, transactions, names cache, helpers, seq sidecar,
 *                   suspect marker
 * Not for other modules: they use store.h only. Tests may include it for the schema hook and the
 * bulk-load fast path used to generate benchmark data.
 */
#ifndef TP_STORE_INT_H
#define TP_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* Schema versions (PRAGMA user_version). Migrations are applied forward one step at a time. */
#define STORE_SCHEMA_LATEST 2

/* Test hook: the schema version a newly created or migrated database is brought to. Tests set it
 * to an older version to make a database "from an older program" and then reopen it normally.
 * Always STORE_SCHEMA_LATEST in production. */
extern int store_schema_target;

/* Time budget of the quick_check at open, in ms (see store.c); -1: no budget, 0: skip the
 * check. A variable so tests can make it run out. */
extern int store_open_check_budget_ms;

/* Creates "<db>.suspect": corruption was seen, so the next open checks without a budget.
 * Does nothing on a read-only handle (a reader changes no file). */
void store_mark_suspect(store *s);

/* Removes the marker after a complete check found the file sound. */
void store_clear_suspect(const store *s);

/* Returns true when "<db>.suspect" exists. */
bool store_suspect_marked(const store *s);

/* Statistics buckets: 15 minutes of UTC. Every time zone's offset is a multiple of 15 minutes,
 * so local days are whole numbers of buckets. */
#define STORE_BUCKET_MS 900000LL

/* The seq high-water mark in "<db>.seqmark" is reserved this far ahead of next_seq, so the
 * sidecar is rewritten (fsync + rename) only once per this many answers. */
#define STORE_SEQMARK_STEP 1024

/* Stored flag bit (answers.flags) for "the wall clock was NTP-synced": kept out of TP_FLAGS_*. */
#define STORE_FLAG_TRUSTED 0x80u

/* The free-space reserve when none is given (store_options.min_free_bytes = 0, so also the
 * kiosk's min_free_mb = 0): a commit needs room for its WAL frames and the checkpoint, and the
 * seq sidecar is rewritten through a temp file; failing those half-way is what the reserve
 * avoids, so it never drops to nothing. */
#define STORE_MIN_FREE_FLOOR (1024 * 1024)

/* journal_size_limit: a WAL restarted while the store is open is cut back to this many bytes, and
 * the last connection to close truncates it to 0 (see store.c). */
#define STORE_WAL_LIMIT_SQL "4194304"

/* Rows kept in the event log and the sync log (the newest). */
#define STORE_LOG_KEEP 1000

/* Cached prepared statements, one per SQL text in store.c's table. */
enum store_stmt {
    ST_BEGIN_IMM,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_META_SEQ,
    ST_META_SET_SEQ,
    ST_NAME_FIND,
    ST_NAME_ADD,
    ST_NAMES_LOAD,
    ST_SESS_FIND,
    ST_SESS_ADD,
    ST_SESS_GROW,
    ST_ANS_ADD,
    ST_ROLLUP_ADD,
    ST_READ_PENDING,
    ST_READ_RANGE,
    ST_MARK_SYNCED,
    ST_META_ADD_COUNTS,
    ST_COUNT
};

/* One open handle. */
struct store {
    sqlite3 *db;
    char *path;
    char *seqmark_path;
    const tp_clock *clock;
    const char *vfs; /* SQLite VFS name (borrowed from store_options); NULL: the default */
    int64_t min_free_bytes;
    bool min_free_floor; /* min_free_bytes is the 1 MiB minimum (none was given) */
    bool readonly;
    bool bulk; /* inside store_bulk_begin(): records skip BEGIN/COMMIT */
    int schema_version;
    sqlite3_stmt *st[ST_COUNT];
    /* id -> name cache for reads. Names are never changed or deleted once committed, so the
     * cache only ever grows; it is filled from committed rows only (inside read snapshots). */
    char **names;
    size_t n_names_cap;       /* entries in names[] (index = names.id) */
    int64_t names_loaded_max; /* highest names.id loaded */
    char errmsg[TP_ERRMSG_MAX];
};

/* Returns the cached statement id, reset and with bindings cleared; NULL on a prepare error
 * (message in s->errmsg). */
sqlite3_stmt *store_stmt(store *s, enum store_stmt id);

/* Records a failure message on s ("<path>: <what>: <cause>") and returns rc. */
tp_err store_fail(store *s, tp_err rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Maps an SQLite result code (with the OS errno behind it) to a tp_err, records the message
 * naming the file, what was attempted and SQLite's explanation, and returns the tp_err. */
tp_err store_sqlfail(store *s, int sqlrc, const char *what);

/* Maps an SQLite result code to the closest tp_err (errno-aware for I/O errors). */
tp_err store_map_sqlite(sqlite3 *db, int sqlrc);

/* Runs one SQL statement that returns no rows (cached); TP_OK or the mapped error. */
tp_err store_exec_cached(store *s, enum store_stmt id, const char *what);

/* Runs SQL text without results (schema, pragmas); TP_OK or the mapped error. */
tp_err store_exec_sql(store *s, const char *sql, const char *what);

/* Transactions: immediate (write lock now, waits busy_timeout) or deferred (read snapshot). */
tp_err store_tx_begin(store *s, bool write);
tp_err store_tx_commit(store *s);
void store_tx_rollback(store *s);

/* Rolls back the open transaction keeping the message of the failure (not of the rollback);
 * returns rc. */
tp_err store_fail_rollback(store *s, tp_err rc);

/* TP_ERR_READONLY (message names what) when s was opened read-only; TP_OK otherwise. */
tp_err store_need_writable(store *s, const char *what);

/* Copies at most max-1 bytes of a valid UTF-8 string without cutting a character. */
void store_utf8_copy(char *dst, const char *src, size_t max);

/* Returns the name with that id from the cache (reloading new names when needed), or "" when
 * it does not exist. Call inside a read snapshot. */
const char *store_name_get(store *s, int64_t id);

/* Finds or adds a name (inside a write transaction); *id gets its id. */
tp_err store_name_intern(store *s, const char *name, int64_t *id);

/* UUID string <-> 16 bytes. */
bool store_uuid_to_blob(const char *str, unsigned char out[16]);
void store_uuid_from_blob(const void *blob, int len, char out[TP_UUID_STR]);

/* Floor division of a wall time into its 15-minute bucket. */
int64_t store_bucket_of(int64_t wall_ms);

/* Writes the folder part of path into dir ("." when there is none). */
void store_dir_of(const char *path, char *dir, size_t len);

/* fsync of the folder holding path, so a created or renamed name survives a power cut; 0 or -1
 * with errno. */
int store_fsync_dir(const char *path);

/* Free space of the database's filesystem in bytes (statvfs of the folder); -1 on error. */
int64_t store_free_bytes(const store *s);

/* Writes the seq high-water mark sidecar (temp file, fsync, rename, fsync folder). */
tp_err store_seqmark_write(store *s, int64_t mark);

/* Reads the sidecar's mark; 0 when there is none or it is unreadable. */
int64_t store_seqmark_read(const char *seqmark_path);

/* ---- Recovery (store_recover.c) ---- */

/* What a fresh database starts with (set by store_open before creating). */
struct store_create_info {
    int64_t first_seq;
    char recovered_from[4096];
    char device_id[TP_ID_MAX + 1];
};

/* One recovery from a damaged file, as reported. */
struct store_recovery {
    char cause[TP_ERRMSG_MAX]; /* why the file was found damaged */
    char aside[4096];          /* the name it was moved to */
    int64_t first_seq;         /* first seq of the new epoch */
    int64_t old_highest;       /* highest seq read from the old file (0: none readable) */
    int64_t mark;              /* the seq sidecar's mark then */
};

/* TP_OK when s->path is missing, empty, starts with the SQLite header or has its .seqmark
 * sidecar (a file that was, or may have been, ours); otherwise TP_ERR_INVALID with "<path> is not
 * a Touchpoint database; refusing to touch it" in s->errmsg. Touches no file. */
tp_err store_recover_check_ours(store *s);

/* After an open found s->path damaged (cause in s->errmsg, connection closed): reads what it
 * can of the old numbering, moves the file (and its -wal, -shm) aside and sets ci's first seq,
 * device id (when the caller gave none) and recovered_from; *r gets the figures to report. */
tp_err store_recover_aside(store *s, struct store_create_info *ci, struct store_recovery *r);

/* Writes the recovery to stderr and to the new database's event log. */
void store_recover_report(const struct store_recovery *r, store *s);

/* Bulk-load fast path FOR BENCHMARK AND TEST DATA ONLY: synchronous=OFF and one outer
 * transaction; store_record_session() calls between begin and end skip their own BEGIN/COMMIT
 * (so they are NOT durable until store_bulk_end). Never used by the kiosk. */
tp_err store_bulk_begin(store *s);
tp_err store_bulk_end(store *s);

#endif /* TP_STORE_INT_H */
