/*
 * store_core.c - the layer every other file of the answer store builds on: the statement cache,
 * error mapping, transactions, small helpers, the seq high-water sidecar and the "suspect"
 * marker. It calls nothing above it (store.c opens, store_log.c logs, store_rec.c records,
 * store_stats.c counts; all of them call down into this file). The names cache is here because
 * recording interns names and both reading and statistics look them up.
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

/* ---- Statement cache ------------------------------------------------------------------------ */

#define ANSWER_COLS                                                                                \
    "a.seq, a.uuid, s.uuid, s.survey, s.version, a.q, a.kind, a.val, a.lang, s.store, s.tp, "      \
    "a.wall, a.mono, a.boot, a.flags, a.state, r.code, r.reason "

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN_IMM] = "BEGIN IMMEDIATE",
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_SEQ] = "SELECT next_seq, seq_mark FROM meta WHERE id = 1",
    [ST_META_SET_SEQ] = "UPDATE meta SET next_seq = ?1, seq_mark = ?2, n_pending = n_pending + ?3 "
                        "WHERE id = 1",
    [ST_NAME_FIND] = "SELECT id FROM names WHERE name = ?1",
    [ST_NAME_ADD] = "INSERT INTO names(name) VALUES (?1)",
    [ST_NAMES_LOAD] = "SELECT id, name FROM names WHERE id > ?1 ORDER BY id",
    [ST_SESS_FIND] = "SELECT id, survey, version, store, tp FROM sessions WHERE uuid = ?1",
    [ST_SESS_ADD] = "INSERT INTO sessions(uuid, survey, version, store, tp, n) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SESS_GROW] = "UPDATE sessions SET n = n + ?2 WHERE id = ?1",
    [ST_ANS_ADD] = "INSERT INTO answers(seq, uuid, sess, q, kind, val, lang, boot, wall, mono, "
                   "flags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_ROLLUP_ADD] = "INSERT INTO rollup(bucket, tp, q, kind, val, excl, n) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                      "ON CONFLICT DO UPDATE SET n = n + excluded.n",
    /* INDEXED BY: the partial index holds only pending rows, so the read never walks the
     * (possibly million) synced rows that a rowid range scan would visit. */
    [ST_READ_PENDING] = "SELECT " ANSWER_COLS "FROM answers AS a INDEXED BY answers_pending "
                        "JOIN sessions AS s ON s.id = a.sess "
                        "LEFT JOIN rejects AS r ON r.seq = a.seq "
                        "WHERE a.state = 0 AND a.seq > ?1 ORDER BY a.seq LIMIT ?2",
    [ST_READ_RANGE] = "SELECT " ANSWER_COLS "FROM answers AS a JOIN sessions AS s ON s.id = a.sess "
                      "LEFT JOIN rejects AS r ON r.seq = a.seq "
                      "WHERE a.seq > ?1 AND a.seq <= ?2 ORDER BY a.seq",
    [ST_MARK_SYNCED] = "UPDATE answers SET state = 1 WHERE seq = ?1 AND state = 0",
    [ST_META_ADD_COUNTS] = "UPDATE meta SET n_pending = n_pending + ?1, n_synced = n_synced + ?2, "
                           "n_rejected = n_rejected + ?3 WHERE id = 1",
};

sqlite3_stmt *store_stmt(store *s, enum store_stmt id)
{
    if (!s->st[id]) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->st[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            store_sqlfail(s, rc, "preparing a statement");
            s->st[id] = NULL;
            return NULL;
        }
    } else {
        sqlite3_reset(s->st[id]);
        sqlite3_clear_bindings(s->st[id]);
    }
    return s->st[id];
}

/* ---- Errors --------------------------------------------------------------------------------- */

tp_err store_fail(store *s, tp_err rc, const char *fmt, ...)
{
    va_list ap;
    int w = snprintf(s->errmsg, sizeof s->errmsg, "%s: ", s->path);
    if (w < 0 || (size_t)w >= sizeof s->errmsg)
        return rc;
    va_start(ap, fmt);
    vsnprintf(s->errmsg + w, sizeof s->errmsg - (size_t)w, fmt, ap);
    va_end(ap);
    return rc;
}

tp_err store_map_sqlite(sqlite3 *db, int sqlrc)
{
    int err = db ? sqlite3_system_errno(db) : 0;
    switch (sqlrc & 0xFF) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return TP_OK;
    case SQLITE_FULL: return TP_ERR_DISK_FULL;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return TP_ERR_READONLY;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return TP_ERR_LOCKED;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return TP_ERR_CORRUPT;
    case SQLITE_NOMEM: return TP_ERR_NOMEM;
    case SQLITE_TOOBIG: return TP_ERR_TOO_LARGE;
    case SQLITE_IOERR:
        if (err == ENOSPC || err == EDQUOT || err == EFBIG)
            return TP_ERR_DISK_FULL;
        if (err == EROFS || err == EACCES || err == EPERM)
            return TP_ERR_READONLY;
        return TP_ERR_IO;
    case SQLITE_CANTOPEN:
        if (err == EROFS || err == EACCES || err == EPERM)
            return TP_ERR_READONLY;
        if (err == ENOENT || err == ENOTDIR)
            return TP_ERR_NOT_FOUND;
        if (err == ENOSPC || err == EDQUOT)
            return TP_ERR_DISK_FULL;
        return TP_ERR_IO;
    default: return TP_ERR_INTERNAL;
    }
}

tp_err store_sqlfail(store *s, int sqlrc, const char *what)
{
    tp_err rc = store_map_sqlite(s->db, sqlrc);
    if (rc == TP_OK)
        rc = TP_ERR_INTERNAL;
    int err = s->db ? sqlite3_system_errno(s->db) : 0;
    const char *sqlmsg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(sqlrc);
    char cause[96] = "";
    if (err != 0 && (rc == TP_ERR_IO || rc == TP_ERR_DISK_FULL || rc == TP_ERR_READONLY ||
                     rc == TP_ERR_NOT_FOUND))
        snprintf(cause, sizeof cause, "; %s", strerror(err));
    snprintf(s->errmsg, sizeof s->errmsg, "%s: %s: %s (%s%s)", s->path, what, tp_strerror(rc),
             sqlmsg, cause);
    if (rc == TP_ERR_CORRUPT)
        store_mark_suspect(s);
    return rc;
}

tp_err store_exec_cached(store *s, enum store_stmt id, const char *what)
{
    sqlite3_stmt *st = store_stmt(s, id);
    if (!st)
        return TP_ERR_INTERNAL;
    int rc = sqlite3_step(st);
    tp_err out = TP_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        out = store_sqlfail(s, rc, what);
    sqlite3_reset(st);
    return out;
}

/* Runs SQL text without results (schema, pragmas). */
tp_err store_exec_sql(store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? TP_OK : store_sqlfail(s, rc, what);
}

/* ---- Transactions --------------------------------------------------------------------------- */

tp_err store_tx_begin(store *s, bool write)
{
    if (s->bulk)
        return TP_OK;
    return store_exec_cached(s, write ? ST_BEGIN_IMM : ST_BEGIN,
                             write ? "starting a write transaction" : "starting a read");
}

tp_err store_tx_commit(store *s)
{
    if (s->bulk)
        return TP_OK;
    tp_err rc = store_exec_cached(s, ST_COMMIT, "committing");
    return rc == TP_OK ? TP_OK : store_fail_rollback(s, rc);
}

void store_tx_rollback(store *s)
{
    if (s->bulk)
        return;
    /* After SQLITE_FULL or an I/O error SQLite may already have rolled back; then ROLLBACK fails
     * harmlessly with "no transaction is active". */
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_stmt *st = store_stmt(s, ST_ROLLBACK);
        if (st) {
            sqlite3_step(st);
            sqlite3_reset(st);
        }
    }
}

tp_err store_need_writable(store *s, const char *what)
{
    if (s->readonly)
        return store_fail(s, TP_ERR_READONLY, "%s: the store was opened read-only", what);
    return TP_OK;
}

tp_err store_fail_rollback(store *s, tp_err rc)
{
    /* Keep the message of the failure, not of the rollback. */
    char keep[TP_ERRMSG_MAX];
    memcpy(keep, s->errmsg, sizeof keep);
    store_tx_rollback(s);
    memcpy(s->errmsg, keep, sizeof keep);
    return rc;
}

/* Copies at most max-1 bytes of a valid UTF-8 string without cutting a character. */
void store_utf8_copy(char *dst, const char *src, size_t max)
{
    size_t n = strlen(src);
    if (n >= max) {
        n = max - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- Small helpers -------------------------------------------------------------------------- */

bool store_uuid_to_blob(const char *str, unsigned char out[16])
{
    return tp_uuid_valid(str) && uuid_parse(str, out) == 0;
}

void store_uuid_from_blob(const void *blob, int len, char out[TP_UUID_STR])
{
    if (!blob || len != 16) {
        out[0] = '\0';
        return;
    }
    uuid_unparse_lower(blob, out);
}

int64_t store_bucket_of(int64_t wall_ms)
{
    int64_t b = wall_ms / STORE_BUCKET_MS;
    if (wall_ms % STORE_BUCKET_MS < 0)
        b--;
    return b;
}

/* Writes the folder part of path into dir. */
void store_dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        tp_strlcpy(dir, ".", len);
    else if (slash == path)
        tp_strlcpy(dir, "/", len);
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* fsync of a folder, so a created or renamed name in it survives a power cut. */
int store_fsync_dir(const char *path)
{
    char dir[4096];
    store_dir_of(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int64_t store_free_bytes(const store *s)
{
    char dir[4096];
    struct statvfs sv;
    store_dir_of(s->path, dir, sizeof dir);
    if (statvfs(dir, &sv) != 0)
        return -1;
    return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
}

/* ---- Names cache ---------------------------------------------------------------------------- */

/* Names ids are rowids from 1; a wild one (a damaged page) is not worth a huge array. */
#define STORE_NAMES_MAX 100000000

/* Loads names with id > names_loaded_max into the cache. */
static tp_err names_reload(store *s)
{
    sqlite3_stmt *st = store_stmt(s, ST_NAMES_LOAD);
    if (!st)
        return TP_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, s->names_loaded_max);
    int sr;
    tp_err rc = TP_OK;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (id <= 0 || id > STORE_NAMES_MAX)
            continue;
        size_t had = s->n_names_cap;
        void *arr = s->names;
        rc = tp_array_grow(&arr, &s->n_names_cap, (size_t)id + 1, sizeof *s->names,
                           STORE_NAMES_MAX + 1);
        s->names = arr;
        if (rc != TP_OK) {
            rc = store_fail(s, TP_ERR_NOMEM, "out of memory loading names");
            break;
        }
        memset(s->names + had, 0, (s->n_names_cap - had) * sizeof *s->names);
        free(s->names[id]);
        s->names[id] = strdup(name ? name : "");
        if (!s->names[id]) {
            rc = store_fail(s, TP_ERR_NOMEM, "out of memory loading names");
            break;
        }
        s->names_loaded_max = id;
    }
    if (rc == TP_OK && sr != SQLITE_DONE)
        rc = store_sqlfail(s, sr, "loading names");
    sqlite3_reset(st);
    return rc;
}

const char *store_name_get(store *s, int64_t id)
{
    if (id <= 0)
        return "";
    if (id > s->names_loaded_max)
        names_reload(s);
    if ((size_t)id < s->n_names_cap && s->names[id])
        return s->names[id];
    return "";
}

tp_err store_name_intern(store *s, const char *name, int64_t *id)
{
    sqlite3_stmt *st = store_stmt(s, ST_NAME_FIND);
    if (!st)
        return TP_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return TP_OK;
    }
    sqlite3_reset(st);
    if (sr != SQLITE_DONE)
        return store_sqlfail(s, sr, "looking up a name");
    st = store_stmt(s, ST_NAME_ADD);
    if (!st)
        return TP_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sr = sqlite3_step(st);
    sqlite3_reset(st);
    if (sr != SQLITE_DONE)
        return store_sqlfail(s, sr, "storing a name");
    *id = sqlite3_last_insert_rowid(s->db);
    return TP_OK;
}

/* ---- Seq high-water sidecar ----------------------------------------------------------------- */

int64_t store_seqmark_read(const char *seqmark_path)
{
    char *buf = NULL;
    /* The file is two short lines; anything much longer is not ours. */
    if (tp_read_file(seqmark_path, 128, &buf, NULL, NULL, 0) != TP_OK)
        return 0;
    /* Format: "touchpoint-seqmark 1\n<highest seq that may have been used>\n". */
    const char *nl = strchr(buf, '\n');
    long long v = -1;
    if (strncmp(buf, "touchpoint-seqmark 1\n", 21) == 0 && nl) {
        char *end = NULL;
        errno = 0;
        v = strtoll(nl + 1, &end, 10);
        if (errno != 0 || end == nl + 1 || *end != '\n')
            v = -1;
    }
    free(buf);
    return v < 0 ? 0 : (int64_t)v;
}

tp_err store_seqmark_write(store *s, int64_t mark)
{
    char tmp[4200];
    char body[64];
    int n = snprintf(body, sizeof body, "touchpoint-seqmark 1\n%lld\n", (long long)mark);
    snprintf(tmp, sizeof tmp, "%s.tmp", s->seqmark_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    if (write(fd, body, (size_t)n) != n || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e ? e : EIO;
        goto fail;
    }
    if (close(fd) != 0 || rename(tmp, s->seqmark_path) != 0 ||
        store_fsync_dir(s->seqmark_path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        goto fail;
    }
    return TP_OK;
fail:;
    int e = errno;
    tp_err rc = tp_err_from_errno(e);
    if (rc == TP_OK || rc == TP_ERR_NOT_FOUND || rc == TP_ERR_INVALID || rc == TP_ERR_BUSY)
        rc = TP_ERR_IO;
    return store_fail(s, rc, "writing the seq high-water file %s: %s", s->seqmark_path,
                      strerror(e));
}

/* ---- Suspect marker ------------------------------------------------------------------------- */

void store_mark_suspect(store *s)
{
    if (s->readonly)
        return;
    char p[4200];
    snprintf(p, sizeof p, "%s.suspect", s->path);
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
}

bool store_suspect_marked(const store *s)
{
    char p[4200];
    snprintf(p, sizeof p, "%s.suspect", s->path);
    return access(p, F_OK) == 0;
}

void store_clear_suspect(const store *s)
{
    char p[4200];
    snprintf(p, sizeof p, "%s.suspect", s->path);
    unlink(p);
}
