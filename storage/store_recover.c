/*
 * store_recover.c - what happens to a damaged store: it is moved aside (never deleted) as
 * "<db>.corrupt-<UTC>", and the new file's numbering continues after the highest seq the old file
 * or the seq sidecar shows, so no seq is ever given twice.
 *
 * Only a file that was ours is moved: one that starts with the SQLite header, or whose ".seqmark"
 * sidecar is present. A mistyped --db (the config file, /etc/passwd) is refused untouched: moving
 * it aside and planting a database in its place would break whatever owned it.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

tp_err store_recover_check_ours(store *s)
{
    static const char sqlite_magic[16] = "SQLite format 3";
    char head[16];
    struct stat st;
    int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return TP_OK; /* missing or unreadable: the open itself says why */
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    ssize_t got = regular && st.st_size > 0 ? read(fd, head, sizeof head) : 0;
    close(fd);
    /* An empty file holds nothing to lose (SQLite makes a database in one); a FIFO, device or
     * folder was never ours. The sidecar is checked last so the common case costs no stat. */
    if ((regular && got == 0) ||
        (got == (ssize_t)sizeof head && memcmp(head, sqlite_magic, sizeof head) == 0) ||
        (regular && access(s->seqmark_path, F_OK) == 0))
        return TP_OK;
    if (!regular)
        snprintf(s->errmsg, sizeof s->errmsg,
                 "%s is not a Touchpoint database; refusing to touch it (not a regular file)",
                 s->path);
    else
        snprintf(s->errmsg, sizeof s->errmsg,
                 "%s is not a Touchpoint database; refusing to touch it (it has no SQLite header "
                 "and there is no %s beside it)",
                 s->path, s->seqmark_path);
    return TP_ERR_INVALID;
}

/* Reads what can be read of a damaged file's numbering: the highest seq it used (from meta and
 * from the answers, each tolerated to fail) and its device id. */
static int64_t probe_old_highest(const char *path, const char *vfs, int64_t mark,
                                 char device_id[TP_ID_MAX + 1])
{
    sqlite3 *db = NULL;
    int64_t best = 0;
    /* A damaged page can hold any bytes, so a value read from it can be absurd (a rowid of
     * 0xA5A5...). The sidecar is an upper bound of every seq used (it is reserved ahead before
     * commit and rewritten at open when behind), so with one, values far above it are garbage;
     * without one, only values below 2^40 (a trillion answers) are believed. */
    int64_t limit = mark > 0 ? mark + (1 << 20) : (int64_t)1 << 40;
    static const char *const probes[] = {"SELECT next_seq - 1 FROM meta WHERE id = 1",
                                         "SELECT max(seq) FROM answers",
                                         "SELECT seq FROM answers ORDER BY seq DESC LIMIT 1"};
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, vfs) == SQLITE_OK) {
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(db, probes[i], -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > best &&
                sqlite3_column_int64(st, 0) <= limit)
                best = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT device_id FROM meta WHERE id = 1", -1, &st, NULL) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
            tp_id_valid((const char *)sqlite3_column_text(st, 0)))
            tp_strlcpy(device_id, (const char *)sqlite3_column_text(st, 0), TP_ID_MAX + 1);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return best;
}

/* Moves path (and its -wal, -shm) aside as path.corrupt-<UTC>; writes the new name to aside. */
static tp_err move_aside(store *s, char *aside, size_t asidelen)
{
    time_t now = (time_t)(s->clock->wall_ms(s->clock->ctx) / 1000);
    struct tm tm;
    char stamp[32];
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    struct stat st;
    for (int i = 0; i < 100; i++) {
        if (i == 0)
            snprintf(aside, asidelen, "%s.corrupt-%s", s->path, stamp);
        else
            snprintf(aside, asidelen, "%s.corrupt-%s-%d", s->path, stamp, i);
        if (stat(aside, &st) != 0)
            break;
    }
    /* -wal and -shm first: if we stop half-way the main file is still where SQLite looks. */
    static const char *const sfx[] = {"-wal", "-shm"};
    for (size_t i = 0; i < 2; i++) {
        char from[4200], to[4200];
        snprintf(from, sizeof from, "%s%s", s->path, sfx[i]);
        snprintf(to, sizeof to, "%s%s", aside, sfx[i]);
        if (rename(from, to) != 0 && errno != ENOENT)
            return store_fail(s, tp_err_from_errno(errno), "moving %s aside as %s: %s", from, to,
                              strerror(errno));
    }
    if (rename(s->path, aside) != 0)
        return store_fail(s, tp_err_from_errno(errno), "moving the corrupt file aside as %s: %s",
                          aside, strerror(errno));
    if (store_fsync_dir(s->path) != 0)
        return store_fail(s, tp_err_from_errno(errno), "fsync of the folder failed: %s",
                          strerror(errno));
    return TP_OK;
}

void store_recover_report(const struct store_recovery *r, store *s)
{
    const char *cause = r->cause, *aside = r->aside;
    int64_t first_seq = r->first_seq, old_highest = r->old_highest, mark = r->mark;
    char msg[6000];
    /* The essentials first: the event log keeps 511 bytes of a message. */
    int w = snprintf(msg, sizeof msg,
                     "corrupt database moved aside as %s; new epoch starts at seq %lld (old file's "
                     "highest seq %lld, seq high-water mark %lld); cause: %s",
                     aside, (long long)first_seq, (long long)old_highest, (long long)mark, cause);
    if (w < 0)
        return;
    fprintf(stderr, "touchpoint store: %s: %s\n", s->path, msg);
    if (s->schema_version >= 2)
        store_log_event(s, "error", msg);
}

tp_err store_recover_aside(store *s, struct store_create_info *ci, struct store_recovery *r)
{
    tp_strlcpy(r->cause, s->errmsg, sizeof r->cause);
    r->mark = store_seqmark_read(s->seqmark_path);
    char old_device[TP_ID_MAX + 1] = "";
    r->old_highest = probe_old_highest(s->path, s->vfs, r->mark, old_device);
    if (!ci->device_id[0]) /* keep the device's identity when the caller did not say */
        tp_strlcpy(ci->device_id, old_device, sizeof ci->device_id);
    int64_t highest = r->old_highest > r->mark ? r->old_highest : r->mark;
    tp_err rc = move_aside(s, ci->recovered_from, sizeof ci->recovered_from);
    if (rc == TP_OK) {
        ci->first_seq = highest + 1;
        r->first_seq = ci->first_seq;
        tp_strlcpy(r->aside, ci->recovered_from, sizeof r->aside);
    }
    return rc;
}
