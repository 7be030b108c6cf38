/*
 * export.c - the export core (export.h) as five phases over one exp_run: count (rows, size, free
 * space), write with SHA-256, verify (read back), rename without replacing (data file, then its
 * .sha256, then flush), advance the cursor. Used by `touchpoint export` and the kiosk's USB
 * export; rows and names come from export_format.c, file system calls from export_fs.c.
 *
 * Why two passes over the answers: the file name carries the dates of the first and last answer,
 * and the free-space and FAT size checks need the size, all before the first byte is written.
 * The second pass is bounded by the last seq the first pass saw, so answers recorded meanwhile by
 * the kiosk wait for the next export instead of slipping in unaccounted.
 */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT_FAT_MAX ((int64_t)4 * 1024 * 1024 * 1024 - 1)
#define EXPORT_BUF 65536
#define EXPORT_ROW_MAX 4096        /* one formatted row; ids are bounded, so rows are < 1.5 KiB */
#define EXPORT_MAX_SUFFIX 999      /* "-2" .. "-999" before giving up on a name */
#define EXPORT_TMP_TRIES 8         /* random temp names tried when one exists */
#define EXPORT_PROGRESS_EVERY 2000 /* rows between progress reports at most ... */
#define EXPORT_PROGRESS_MIN 25     /* ... and at least (~1 % of the export in between) */
#define EXPORT_CANCEL_EVERY 64     /* rows between cancel checks: a tap answered within ~1 ms */
#define EXPORT_BLOCK_DEFAULT 4096  /* cluster size assumed until statvfs tells */

static const char utf8_bom[3] = {'\xEF', '\xBB', '\xBF'};

/* ---- Export run ----------------------------------------------------------------------------- */

typedef struct exp_run {
    store *s;
    const export_options *opt;
    const export_fs_ops *fs;
    char *err;
    size_t errlen;
    const char *device_id;
    char epoch[TP_UUID_STR];
    int64_t max_bytes;
    /* count pass */
    int64_t n_rows, first_seq, last_seq, min_ms, max_ms, est_bytes;
    int64_t free_bytes; /* statvfs before writing; -1 until known */
    int64_t need_bytes; /* est_bytes rounded up to clusters + EXPORT_SLACK_BYTES (>= 2 clusters) */
    export_result *res; /* the caller's, for bytes_needed / free_bytes on "full" */
    /* write pass */
    int dirfd;
    int fd;
    char *wbuf;
    size_t wused;
    int64_t written; /* bytes handed to write() successfully */
    int64_t rows_done, rows_first_seq, rows_last_seq;
    EVP_MD_CTX *md;
    const char *cur_name;   /* file being written, for messages */
    tp_err wrc;             /* the write pass's error (message already in err) */
    bool cancelled;         /* opt->cancel said stop: clean up like a failure, then report TP_OK */
    int64_t progress_every; /* rows between progress reports: ~1 % of the export, bounded */
    int64_t after, upto;    /* the seq range: after < seq <= upto (upto -1: the highest) */
    /* names and state of the files this export made, for the phases and undo_files() */
    char tmp[64], shatmp[64], name[EXPORT_NAME_MAX], shaname[EXPORT_NAME_MAX];
    bool tmp_made, shatmp_made, name_made, shaname_made;
    unsigned char sum[32]; /* SHA-256 of the data file */
    char hex[65];
    int64_t data_bytes;
} exp_run;

/* Turns a failed file system call into a message for a shop employee, with the details in
 * brackets. what: "writing", "creating", ...; name: the file or folder. */
static tp_err fs_error(exp_run *r, int e, const char *what, const char *name)
{
    const char *dir = r->opt->out_dir;
    char need[32], avail[32];
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        tp_format_bytes(r->need_bytes, true, need, sizeof need);
        if (r->free_bytes >= 0)
            tp_format_bytes(r->free_bytes, false, avail, sizeof avail);
        else
            tp_strlcpy(avail, "an unknown amount", sizeof avail);
        if (r->res) {
            r->res->bytes_needed = r->need_bytes;
            r->res->free_bytes = r->free_bytes;
        }
        return tp_errf(r->err, r->errlen, TP_ERR_DISK_FULL,
                       "%s: the drive is full: the export needs about %s (%" PRId64
                       " bytes), %s were free (%s %s: %s)",
                       dir, need, r->need_bytes, avail, what, name, strerror(e));
    case EFBIG:
        return tp_errf(r->err, r->errlen, TP_ERR_TOO_LARGE,
                       "%s: the file is too large for this drive (%s %s: %s)", dir, what, name,
                       strerror(e));
    case EROFS:
        return tp_errf(r->err, r->errlen, TP_ERR_READONLY,
                       "%s: the drive is read-only (write-protect switch?) (%s %s: %s)", dir, what,
                       name, strerror(e));
    case EACCES:
    case EPERM:
        return tp_errf(r->err, r->errlen, TP_ERR_READONLY,
                       "%s: no permission to write here (%s %s: %s)", dir, what, name, strerror(e));
    case ENODEV:
    case ENXIO:
    case ENOTCONN:     /* a FUSE stick whose driver died */
    case ECONNABORTED: /* ... while a request of ours was in flight */
    case ESHUTDOWN:
    case ESTALE:
    case ENOMEDIUM:
        return tp_errf(r->err, r->errlen, TP_ERR_NOT_FOUND,
                       "%s: the drive was removed during the export (%s %s: %s)", dir, what, name,
                       strerror(e));
    case ENOENT:
        return tp_errf(r->err, r->errlen, TP_ERR_NOT_FOUND,
                       "%s: the folder or file disappeared; was the drive removed? (%s %s: %s)",
                       dir, what, name, strerror(e));
    case EIO:
        return tp_errf(r->err, r->errlen, TP_ERR_IO,
                       "%s: the drive reported an I/O error; it may be faulty or was removed "
                       "(%s %s: %s)",
                       dir, what, name, strerror(e));
    case EEXIST:
    case ELOOP:
        return tp_errf(r->err, r->errlen, TP_ERR_EXISTS,
                       "%s: a file or link is in the way and is left untouched (%s %s: %s)", dir,
                       what, name, strerror(e));
    default:
        return tp_errf(r->err, r->errlen, tp_err_from_errno(e), "%s: %s %s failed: %s", dir, what,
                       name, strerror(e));
    }
}

/* Space an export of est bytes takes: whole clusters of blk (0: unknown, assume 4 KiB) plus the
 * slack for the .sha256 file and the folder, at least two clusters. */
static int64_t need_of(int64_t est, int64_t blk)
{
    if (blk <= 0)
        blk = EXPORT_BLOCK_DEFAULT;
    int64_t slack = EXPORT_SLACK_BYTES > 2 * blk ? EXPORT_SLACK_BYTES : 2 * blk;
    return (est + blk - 1) / blk * blk + slack;
}

/* A failed write, fsync or close on a full drive does not always say ENOSPC: FUSE FAT drivers
 * answer EPERM, some USB sticks EIO. When the drive has no room left for what remains, the
 * honest message is "full", so check the free space before blaming permissions or hardware. */
static tp_err write_error(exp_run *r, int e, const char *what, const char *name)
{
    struct statvfs v;
    if ((e == EPERM || e == EACCES || e == EIO) && r->fs->fstatvfs(r->fs->ctx, r->dirfd, &v) == 0) {
        int64_t blk = v.f_frsize > 0 ? (int64_t)v.f_frsize : EXPORT_BLOCK_DEFAULT;
        int64_t avail = (int64_t)v.f_bavail * blk;
        int64_t left = r->need_bytes - r->written;
        if (avail <= blk || avail < left)
            e = ENOSPC;
    }
    return fs_error(r, e, what, name);
}

static tp_err count_cb(const store_answer *a, void *ctx)
{
    exp_run *r = ctx;
    char row[EXPORT_ROW_MAX];
    size_t used = 0;
    tp_err rc =
        export_format_row(r->opt->format, a, r->device_id, r->epoch, row, sizeof row, &used);
    if (rc != TP_OK)
        return r->wrc = tp_errf(r->err, r->errlen, TP_ERR_INTERNAL,
                                "export: answer seq %" PRId64 " does not fit a row: %s", a->seq,
                                tp_strerror(rc));
    if (r->n_rows == 0) {
        r->first_seq = a->seq;
        r->min_ms = r->max_ms = a->wall_ms;
    }
    r->n_rows++;
    r->last_seq = a->seq;
    if (a->wall_ms < r->min_ms)
        r->min_ms = a->wall_ms;
    if (a->wall_ms > r->max_ms)
        r->max_ms = a->wall_ms;
    r->est_bytes += (int64_t)used;
    return TP_OK;
}

/* Hands the buffered bytes to write(), all of them, hashing what is handed over. */
static tp_err wflush(exp_run *r)
{
    size_t off = 0;
    while (off < r->wused) {
        ssize_t w = r->fs->write(r->fs->ctx, r->fd, r->wbuf + off, r->wused - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            return r->wrc = write_error(r, e, "writing", r->cur_name);
        }
        if (EVP_DigestUpdate(r->md, r->wbuf + off, (size_t)w) != 1)
            return r->wrc = tp_errf(r->err, r->errlen, TP_ERR_INTERNAL,
                                    "export: SHA-256 update failed (libcrypto)");
        off += (size_t)w;
        r->written += w;
    }
    r->wused = 0;
    return TP_OK;
}

static tp_err wput(exp_run *r, const char *p, size_t n)
{
    if (r->written + (int64_t)r->wused + (int64_t)n > r->max_bytes) {
        char lim[32];
        tp_format_bytes(r->max_bytes, false, lim, sizeof lim);
        return r->wrc = tp_errf(r->err, r->errlen, TP_ERR_TOO_LARGE,
                                "%s: the export is larger than the %s a file may have on a FAT "
                                "drive; export new answers more often (%s)",
                                r->opt->out_dir, lim, r->cur_name);
    }
    if (r->wused + n > EXPORT_BUF) {
        tp_err rc = wflush(r);
        if (rc != TP_OK)
            return rc;
    }
    memcpy(r->wbuf + r->wused, p, n);
    r->wused += n;
    return TP_OK;
}

/* Asks the cancel callback; remembers a yes (with a message for the log) in r. */
static bool cancel_asked(exp_run *r)
{
    if (!r->cancelled && r->opt->cancel && r->opt->cancel(r->opt->cancel_ctx)) {
        r->cancelled = true;
        tp_errf(r->err, r->errlen, TP_OK,
                "%s: export cancelled after %" PRId64 " of %" PRId64
                " answers; the partial file was removed and nothing was marked as exported",
                r->opt->out_dir, r->rows_done, r->n_rows);
    }
    return r->cancelled;
}

static tp_err write_cb(const store_answer *a, void *ctx)
{
    exp_run *r = ctx;
    char row[EXPORT_ROW_MAX];
    size_t used = 0;
    tp_err rc =
        export_format_row(r->opt->format, a, r->device_id, r->epoch, row, sizeof row, &used);
    if (rc != TP_OK)
        return r->wrc = tp_errf(r->err, r->errlen, TP_ERR_INTERNAL,
                                "export: answer seq %" PRId64 " does not fit a row: %s", a->seq,
                                tp_strerror(rc));
    rc = wput(r, row, used);
    if (rc != TP_OK)
        return rc;
    if (r->rows_done == 0)
        r->rows_first_seq = a->seq;
    r->rows_done++;
    r->rows_last_seq = a->seq;
    if (r->opt->progress && r->rows_done % r->progress_every == 0)
        r->opt->progress(r->opt->progress_ctx, r->rows_done, r->n_rows);
    if (r->rows_done % EXPORT_CANCEL_EVERY == 0 && cancel_asked(r))
        return r->wrc = TP_ERR_BUSY; /* any error stops the walk; cancelled tells it apart */
    return TP_OK;
}

static void hex_of(const unsigned char *d, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Creates a fresh temp file in the folder: O_EXCL|O_NOFOLLOW, never an existing name. */
static tp_err create_temp(exp_run *r, char *name, size_t namelen, int *fd)
{
    int e = EEXIST;
    for (int i = 0; i < EXPORT_TMP_TRIES; i++) {
        unsigned char rnd[6];
        char hex[13];
        if (tp_random_bytes(rnd, sizeof rnd) != TP_OK)
            return tp_errf(r->err, r->errlen, TP_ERR_IO, "export: no randomness for a temp name");
        hex_of(rnd, sizeof rnd, hex);
        snprintf(name, namelen, ".touchpoint-export-%s.tmp", hex);
        *fd = r->fs->openat(r->fs->ctx, r->dirfd, name,
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (*fd >= 0)
            return TP_OK;
        e = errno;
        if (e != EEXIST && e != ELOOP && e != EINTR)
            break;
    }
    return fs_error(r, e, "creating", name);
}

/* fsyncs and closes r->fd (always closed afterwards). */
static tp_err finish_file(exp_run *r, const char *name)
{
    tp_err rc = TP_OK;
    if (r->fs->fsync(r->fs->ctx, r->fd) != 0)
        rc = write_error(r, errno, "flushing (fsync)", name);
    if (rc == TP_OK && r->fs->drop_cache)
        (void)r->fs->drop_cache(r->fs->ctx, r->fd);
    if (r->fs->close(r->fs->ctx, r->fd) != 0 && rc == TP_OK)
        rc = write_error(r, errno, "closing", name);
    r->fd = -1;
    return rc;
}

/* Reads name back from the folder and checks its size and SHA-256. */
static tp_err verify_file(exp_run *r, const char *name, int64_t size, const unsigned char *sum)
{
    tp_err rc = TP_OK;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int fd = -1;
    int64_t got = 0;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: SHA-256 init failed");
        goto out;
    }
    fd = r->fs->openat(r->fs->ctx, r->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) {
        rc = fs_error(r, errno, "reading back", name);
        goto out;
    }
    for (;;) {
        ssize_t n = r->fs->read(r->fs->ctx, fd, r->wbuf, EXPORT_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fs_error(r, errno, "reading back", name);
            goto out;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(md, r->wbuf, (size_t)n) != 1) {
            rc = tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: SHA-256 update failed");
            goto out;
        }
        got += n;
    }
    if (EVP_DigestFinal_ex(md, d, &dl) != 1 || dl != 32) {
        rc = tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: SHA-256 final failed");
        goto out;
    }
    if (got != size || memcmp(d, sum, 32) != 0)
        rc = tp_errf(r->err, r->errlen, TP_ERR_IO,
                     "%s: the file read back from the drive is not what was written (%" PRId64
                     " of %" PRId64 " bytes, checksum %s); the drive may be faulty or fake (%s)",
                     r->opt->out_dir, got, size, memcmp(d, sum, 32) ? "differs" : "matches", name);
out:
    if (fd >= 0)
        (void)r->fs->close(r->fs->ctx, fd);
    EVP_MD_CTX_free(md);
    return rc;
}

/* Writes the whole data file into the open temp fd: BOM and header (CSV), then every row. */
static tp_err write_data(exp_run *r, int64_t after, unsigned char sum[32])
{
    tp_err rc = TP_OK;
    unsigned int dl = 0;
    if (EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
        return tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: SHA-256 init failed");
    if (r->opt->format == EXPORT_CSV) {
        char hdr[512];
        size_t used = 0;
        rc = wput(r, utf8_bom, sizeof utf8_bom);
        if (rc == TP_OK && export_csv_header(hdr, sizeof hdr, &used) != TP_OK)
            rc = tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: header too long");
        if (rc == TP_OK)
            rc = wput(r, hdr, used);
        if (rc != TP_OK)
            return rc;
    }
    rc = store_foreach_answer(r->s, after, r->last_seq, write_cb, r);
    if (rc != TP_OK) {
        if (r->wrc == TP_OK) /* the store failed, not the file */
            tp_errf(r->err, r->errlen, rc, "export: reading answers: %s", store_errmsg(r->s));
        return rc;
    }
    rc = wflush(r);
    if (rc != TP_OK)
        return rc;
    if (EVP_DigestFinal_ex(r->md, sum, &dl) != 1 || dl != 32)
        return tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: SHA-256 final failed");
    return TP_OK;
}

/* Writes buf (n bytes) to a new temp file, fsyncs, reads back. *created tells the caller a temp
 * exists (to remove on failure). */
static tp_err write_small(exp_run *r, const char *buf, size_t n, char *tmp, size_t tmplen,
                          bool *created)
{
    unsigned char sum[32];
    unsigned int dl = 0;
    tp_err rc = create_temp(r, tmp, tmplen, &r->fd);
    if (rc != TP_OK)
        return rc;
    *created = true;
    r->cur_name = tmp;
    int64_t before = r->written;
    if (EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
        return tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: SHA-256 init failed");
    rc = wput(r, buf, n);
    if (rc == TP_OK)
        rc = wflush(r);
    if (rc == TP_OK && (EVP_DigestFinal_ex(r->md, sum, &dl) != 1 || dl != 32))
        rc = tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: SHA-256 final failed");
    if (rc != TP_OK) {
        (void)r->fs->close(r->fs->ctx, r->fd);
        r->fd = -1;
        return rc;
    }
    rc = finish_file(r, tmp);
    if (rc == TP_OK)
        rc = verify_file(r, tmp, r->written - before, sum);
    return rc;
}

static bool name_taken(exp_run *r, const char *name)
{
    struct stat st;
    if (r->fs->fstatat(r->fs->ctx, r->dirfd, name, &st) == 0)
        return true;
    return errno != ENOENT; /* unsure (EACCES, EIO): treat as taken, never overwrite */
}

/* Phase 1, count: what will be written, how big, which dates; then the folder and its free
 * space. TP_OK with r->n_rows == 0 when there is nothing to export. */
static tp_err phase_count(exp_run *r)
{
    const export_options *opt = r->opt;
    tp_err rc = store_foreach_answer(r->s, r->after, r->upto, count_cb, r);
    if (rc != TP_OK) {
        if (r->wrc == TP_OK) /* the store failed, not the formatting */
            tp_errf(r->err, r->errlen, rc, "export: reading answers: %s", store_errmsg(r->s));
        return rc;
    }
    if (r->n_rows == 0)
        return TP_OK; /* nothing to export: no file, cursor as it is */
    /* About 100 reports per export (a smooth bar), never more often than every
     * EXPORT_PROGRESS_MIN rows nor rarer than every EXPORT_PROGRESS_EVERY. */
    r->progress_every = r->n_rows / 100;
    if (r->progress_every < EXPORT_PROGRESS_MIN)
        r->progress_every = EXPORT_PROGRESS_MIN;
    if (r->progress_every > EXPORT_PROGRESS_EVERY)
        r->progress_every = EXPORT_PROGRESS_EVERY;
    r->est_bytes += opt->format == EXPORT_CSV ? 3 + 256 : 0; /* BOM + header */
    r->need_bytes = need_of(r->est_bytes, EXPORT_BLOCK_DEFAULT);
    if (r->est_bytes > r->max_bytes) {
        char need[32], lim[32];
        tp_format_bytes(r->est_bytes, true, need, sizeof need);
        tp_format_bytes(r->max_bytes, false, lim, sizeof lim);
        return tp_errf(r->err, r->errlen, TP_ERR_TOO_LARGE,
                       "%s: the export would be %s, more than the %s a file may have on a FAT "
                       "drive; export new answers more often",
                       opt->out_dir, need, lim);
    }

    r->dirfd = r->fs->open_dir(r->fs->ctx, opt->out_dir);
    if (r->dirfd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return tp_errf(r->err, r->errlen, TP_ERR_NOT_FOUND, "%s: no such folder (%s)",
                           opt->out_dir, strerror(e));
        return fs_error(r, e, "opening folder", opt->out_dir);
    }
    struct statvfs vfs;
    if (r->fs->fstatvfs(r->fs->ctx, r->dirfd, &vfs) != 0)
        return fs_error(r, errno, "checking free space on", opt->out_dir);
    if (vfs.f_flag & ST_RDONLY)
        return fs_error(r, EROFS, "checking", opt->out_dir);
    r->free_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    r->need_bytes = need_of(r->est_bytes, vfs.f_frsize > 0 ? (int64_t)vfs.f_frsize : 0);
    if (r->free_bytes < r->need_bytes)
        return fs_error(r, ENOSPC, "checking free space on", opt->out_dir);
    return TP_OK;
}

/* Phase 2, write: the data file under a temp name, hashed (SHA-256) while written, fsynced. */
static tp_err phase_write(exp_run *r)
{
    tp_err rc = create_temp(r, r->tmp, sizeof r->tmp, &r->fd);
    if (rc != TP_OK)
        return rc;
    r->tmp_made = true;
    r->cur_name = r->tmp;
    rc = write_data(r, r->after, r->sum);
    if (rc != TP_OK) {
        (void)r->fs->close(r->fs->ctx, r->fd);
        r->fd = -1;
        return rc;
    }
    r->data_bytes = r->written;
    return finish_file(r, r->tmp);
}

/* Phase 3, verify: the temp file read back from the medium matches the hash; last chance to
 * cancel before the file gets its name. */
static tp_err phase_verify(exp_run *r)
{
    tp_err rc = verify_file(r, r->tmp, r->data_bytes, r->sum);
    if (rc != TP_OK)
        return rc;
    if (r->opt->progress)
        r->opt->progress(r->opt->progress_ctx, r->rows_done, r->n_rows);
    if (cancel_asked(r))
        return TP_ERR_BUSY; /* cleaned up as a failure, reported as cancelled */
    return TP_OK;
}

/* Phase 4, rename: the data file to a free name, its .sha256 beside it the same safe way, then
 * the folder and the whole file system flushed (a stick may be pulled right after). */
static tp_err phase_rename(exp_run *r)
{
    const export_options *opt = r->opt;
    /* A free name: neither it nor its .sha256 may exist, whatever they are (file, folder,
     * symlink). The rename itself never replaces, so a name taken meanwhile moves us on. */
    for (int n = 1;; n++) {
        if (n > EXPORT_MAX_SUFFIX)
            return tp_errf(r->err, r->errlen, TP_ERR_EXISTS,
                           "%s: no free file name (tried %d names like %s)", opt->out_dir,
                           EXPORT_MAX_SUFFIX, r->name);
        if (export_file_name(opt->device_id, r->min_ms, r->max_ms, n,
                             export_format_ext(opt->format), r->name, sizeof r->name) != TP_OK ||
            snprintf(r->shaname, sizeof r->shaname, "%s.sha256", r->name) >= (int)sizeof r->shaname)
            return tp_errf(r->err, r->errlen, TP_ERR_TOO_LARGE, "export: file name too long");
        if (name_taken(r, r->name) || name_taken(r, r->shaname))
            continue;
        if (r->fs->rename_noreplace(r->fs->ctx, r->dirfd, r->tmp, r->name) == 0)
            break;
        if (errno != EEXIST)
            return fs_error(r, errno, "renaming to", r->name);
    }
    r->tmp_made = false;
    r->name_made = true;

    char line[EXPORT_NAME_MAX + 80];
    hex_of(r->sum, 32, r->hex);
    int ll = snprintf(line, sizeof line, "%s  %s\n", r->hex, r->name);
    if (ll < 0 || (size_t)ll >= sizeof line)
        return tp_errf(r->err, r->errlen, TP_ERR_INTERNAL, "export: checksum line too long");
    tp_err rc = write_small(r, line, (size_t)ll, r->shatmp, sizeof r->shatmp, &r->shatmp_made);
    if (rc != TP_OK)
        return rc;
    if (r->fs->rename_noreplace(r->fs->ctx, r->dirfd, r->shatmp, r->shaname) != 0)
        return fs_error(r, errno, "renaming to", r->shaname);
    r->shatmp_made = false;
    r->shaname_made = true;

    if (r->fs->fsync(r->fs->ctx, r->dirfd) != 0)
        return fs_error(r, errno, "flushing folder", opt->out_dir);
    if (r->fs->syncfs && r->fs->syncfs(r->fs->ctx, r->dirfd) != 0)
        return fs_error(r, errno, "flushing drive", opt->out_dir);
    return TP_OK;
}

/* Phase 5, advance the cursor: verified and durable, only now may it move (the caller's job
 * with keep_cursor). A range that starts above the cursor leaves answers unexported in between:
 * no move then. Fills the result. */
static tp_err phase_cursor(exp_run *r)
{
    export_result *res = r->res;
    int64_t cursor = res->cursor_before;
    if (!r->opt->keep_cursor && r->after <= cursor && r->rows_last_seq > cursor) {
        tp_err rc = store_set_export_cursor(r->s, r->rows_last_seq);
        if (rc != TP_OK)
            return tp_errf(r->err, r->errlen, rc,
                           "export: the file was written but the export cursor could "
                           "not be saved, so it was removed: %s",
                           store_errmsg(r->s));
        res->cursor_after = r->rows_last_seq;
    }
    res->rows = r->rows_done;
    res->bytes = r->data_bytes;
    res->bytes_needed = r->need_bytes;
    res->free_bytes = r->free_bytes;
    res->first_seq = r->rows_first_seq;
    res->last_seq = r->rows_last_seq;
    tp_strlcpy(res->name, r->name, sizeof res->name);
    tp_strlcpy(res->sha256_name, r->shaname, sizeof res->sha256_name);
    tp_strlcpy(res->sha256_hex, r->hex, sizeof res->sha256_hex);
    return TP_OK;
}

/* After a failure or a cancel: removes what this export made (a removed stick may refuse: err
 * says so). */
static void undo_files(exp_run *r)
{
    const char *left = NULL;
    const struct {
        bool made;
        const char *name;
    } made[] = {
        {r->tmp_made, r->tmp},
        {r->shatmp_made, r->shatmp},
        {r->shaname_made, r->shaname},
        {r->name_made, r->name},
    };
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        if (made[i].made && r->fs->unlinkat(r->fs->ctx, r->dirfd, made[i].name) != 0 &&
            errno != ENOENT)
            left = made[i].name;
    if (left && r->err && r->errlen) {
        size_t l = strlen(r->err);
        if (l < r->errlen)
            snprintf(r->err + l, r->errlen - l, "; could not remove the partial file %s", left);
    }
    (void)r->fs->fsync(r->fs->ctx, r->dirfd);
}

tp_err export_run(store *s, const export_options *opt, export_result *res, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    exp_run r = {.s = s,
                 .opt = opt,
                 .err = err,
                 .errlen = errlen,
                 .dirfd = -1,
                 .fd = -1,
                 .free_bytes = -1,
                 .res = res};
    store_info *info = NULL;

    if (err && errlen)
        err[0] = '\0';
    if (!s || !opt || !res)
        return tp_errf(err, errlen, TP_ERR_INVALID, "export: missing store, options or result");
    memset(res, 0, sizeof *res);
    res->bytes_needed = res->free_bytes = -1;
    if (!opt->out_dir || !opt->out_dir[0])
        return tp_errf(err, errlen, TP_ERR_INVALID, "export: no output folder given");
    if (!opt->device_id || !tp_id_valid(opt->device_id))
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "export: device id '%s' is not valid (1-64 of A-Z a-z 0-9 . _ -)",
                       opt->device_id ? opt->device_id : "");
    if (opt->format != EXPORT_CSV && opt->format != EXPORT_JSONL)
        return tp_errf(err, errlen, TP_ERR_INVALID, "export: unknown format %d", (int)opt->format);
    r.fs = opt->fs ? opt->fs : export_fs_posix();
    r.device_id = opt->device_id;
    r.max_bytes = opt->max_file_bytes > 0 ? opt->max_file_bytes : EXPORT_FAT_MAX;

    info = calloc(1, sizeof *info);
    r.wbuf = malloc(EXPORT_BUF);
    r.md = EVP_MD_CTX_new();
    if (!info || !r.wbuf || !r.md) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "export: out of memory");
        goto out;
    }
    rc = store_get_info(s, info);
    if (rc != TP_OK) {
        tp_errf(err, errlen, rc, "export: %s", store_errmsg(s));
        goto out;
    }
    tp_strlcpy(r.epoch, info->epoch, sizeof r.epoch);
    res->cursor_before = res->cursor_after = info->export_cursor;
    r.after = opt->after_seq > 0 ? opt->after_seq : opt->all ? 0 : info->export_cursor;
    r.upto = opt->upto_seq > 0 ? opt->upto_seq : -1;
    if (r.upto > 0 && r.upto <= r.after)
        goto out; /* an empty range: nothing to export */

    rc = phase_count(&r);
    if (rc != TP_OK || r.n_rows == 0)
        goto out;
    rc = phase_write(&r);
    if (rc == TP_OK)
        rc = phase_verify(&r);
    if (rc == TP_OK)
        rc = phase_rename(&r);
    if (rc == TP_OK)
        rc = phase_cursor(&r);

out:
    if (r.fd >= 0)
        (void)r.fs->close(r.fs->ctx, r.fd);
    if (rc != TP_OK && r.dirfd >= 0)
        undo_files(&r);
    if (r.dirfd >= 0)
        (void)r.fs->close(r.fs->ctx, r.dirfd);
    if (r.cancelled && rc != TP_OK) {
        /* Staff asked for it: not a failure. Nothing written remains, the cursor is as it was. */
        int64_t c = res->cursor_before;
        memset(res, 0, sizeof *res);
        res->bytes_needed = res->free_bytes = -1;
        res->cursor_before = res->cursor_after = c;
        res->cancelled = true;
        rc = TP_OK;
    }
    EVP_MD_CTX_free(r.md);
    free(r.wbuf);
    free(info);
    return rc;
}

/* Removes the data file and .sha256 that an earlier export_run of this call wrote into out_dir
 * (a later file failed, so this one must go too). Appends to err what could not be removed. */
static void remove_written(const export_fs_ops *fs, const char *out_dir, const export_result *w,
                           char *err, size_t errlen)
{
    int dirfd = fs->open_dir(fs->ctx, out_dir);
    const char *left = NULL;
    if (dirfd < 0) {
        left = w->name;
    } else {
        if (fs->unlinkat(fs->ctx, dirfd, w->sha256_name) != 0 && errno != ENOENT)
            left = w->sha256_name;
        if (fs->unlinkat(fs->ctx, dirfd, w->name) != 0 && errno != ENOENT)
            left = w->name;
        (void)fs->fsync(fs->ctx, dirfd);
        (void)fs->close(fs->ctx, dirfd);
    }
    if (left && err && errlen) {
        size_t l = strlen(err);
        if (l < errlen)
            snprintf(err + l, errlen - l,
                     "; could not remove the earlier file %s (it is complete and verified, but "
                     "the answers were not marked as exported)",
                     left);
    }
}

/* Progress over several files as one bar: file i of n reports i * total + done of n * total. */
typedef struct multi_progress {
    export_progress_fn fn;
    void *ctx;
    int64_t i, n;
} multi_progress;

static void multi_progress_cb(void *ctx, int64_t done, int64_t total)
{
    multi_progress *m = ctx;
    m->fn(m->ctx, m->i * total + done, m->n * total);
}

tp_err export_run_formats(store *s, const export_options *opt, const export_format *fmts, size_t n,
                          export_result *res, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    size_t done = 0; /* files fully written by this call */
    int64_t cursor0 = 0;

    if (err && errlen)
        err[0] = '\0';
    if (!s || !opt || !fmts || !res || n == 0 || n > EXPORT_MAX_FORMATS)
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "export: missing store, options, formats or results (1-%d formats)",
                       EXPORT_MAX_FORMATS);
    for (size_t i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        res[i].bytes_needed = res[i].free_bytes = -1;
        for (size_t j = 0; j < i; j++)
            if (fmts[j] == fmts[i])
                return tp_errf(err, errlen, TP_ERR_INVALID, "export: format %s given twice",
                               export_format_ext(fmts[i]));
    }
    const export_fs_ops *fs = opt->fs ? opt->fs : export_fs_posix();
    multi_progress mp = {.fn = opt->progress, .ctx = opt->progress_ctx, .n = (int64_t)n};
    for (size_t i = 0; i < n; i++) {
        export_options o = *opt;
        o.format = fmts[i];
        o.keep_cursor = true; /* moved once below, after the last file */
        if (opt->progress) {
            mp.i = (int64_t)i;
            o.progress = multi_progress_cb;
            o.progress_ctx = &mp;
        }
        if (i > 0) {
            /* Exactly the answers of the first file, whatever was recorded or exported since. */
            o.all = res[0].first_seq <= 1;
            o.after_seq = res[0].first_seq - 1;
            o.upto_seq = res[0].last_seq;
        }
        if (i > 0 && opt->cancel && opt->cancel(opt->cancel_ctx)) {
            res[i].cancelled = true;
            tp_errf(err, errlen, TP_OK,
                    "%s: export cancelled before the %s file; the %s file was removed and "
                    "nothing was marked as exported",
                    opt->out_dir, export_format_label(fmts[i]), export_format_label(fmts[0]));
            goto out;
        }
        rc = export_run(s, &o, &res[i], err, errlen);
        if (i == 0)
            cursor0 = res[0].cursor_before;
        if (rc == TP_OK && res[i].cancelled)
            goto out;
        if (rc != TP_OK) {
            if (rc == TP_ERR_DISK_FULL && done > 0 && res[i].bytes_needed > 0) {
                /* The files before it are removed again: the export as a whole needs them all,
                 * measured from the free space before the first. */
                for (size_t j = 0; j < done; j++)
                    if (res[j].bytes_needed > 0)
                        res[i].bytes_needed += res[j].bytes_needed;
                res[i].free_bytes = res[0].free_bytes;
                if (err && errlen) {
                    char msg[TP_ERRMSG_MAX];
                    char need[32], avail[32];
                    tp_format_bytes(res[i].bytes_needed, true, need, sizeof need);
                    if (res[i].free_bytes >= 0)
                        tp_format_bytes(res[i].free_bytes, false, avail, sizeof avail);
                    else
                        tp_strlcpy(avail, "an unknown amount", sizeof avail);
                    snprintf(msg, sizeof msg,
                             "%s: the drive is full: the %s and %s files need about %s (%" PRId64
                             " bytes), %s were free [%s]",
                             opt->out_dir, export_format_label(fmts[0]),
                             export_format_label(fmts[i]), need, res[i].bytes_needed, avail, err);
                    tp_strlcpy(err, msg, errlen);
                }
            }
            goto out;
        }
        if (res[i].rows == 0) {
            if (i == 0)
                goto out; /* nothing to export: no file at all */
            /* The answers of the first file vanished meanwhile (pruned): not the same export. */
            rc = tp_errf(err, errlen, TP_ERR_INTERNAL,
                         "export: the answers of seq %" PRId64 "..%" PRId64
                         " disappeared between the %s and the %s file",
                         res[0].first_seq, res[0].last_seq, export_format_label(fmts[0]),
                         export_format_label(fmts[i]));
            goto out;
        }
        done++;
        if (res[i].rows != res[0].rows || res[i].last_seq != res[0].last_seq) {
            rc = tp_errf(err, errlen, TP_ERR_INTERNAL,
                         "export: the %s file has %" PRId64 " answers up to seq %" PRId64
                         ", the %s file %" PRId64 " up to %" PRId64,
                         export_format_label(fmts[i]), res[i].rows, res[i].last_seq,
                         export_format_label(fmts[0]), res[0].rows, res[0].last_seq);
            goto out;
        }
    }

    /* Every file verified and flushed: now, and only now, the cursor moves, once. */
    int64_t cur = cursor0;
    int64_t after0 = opt->after_seq > 0 ? opt->after_seq : opt->all ? 0 : cursor0;
    if (!opt->keep_cursor && after0 <= cursor0 && res[0].last_seq > cursor0) {
        rc = store_set_export_cursor(s, res[0].last_seq);
        if (rc != TP_OK) {
            tp_errf(err, errlen, rc,
                    "export: the files were written but the export cursor could not be saved, so "
                    "they were removed: %s",
                    store_errmsg(s));
            goto out;
        }
        cur = res[0].last_seq;
    }
    for (size_t i = 0; i < n; i++)
        res[i].cursor_after = cur;

out:;
    bool cancelled = false;
    for (size_t i = 0; i < n; i++)
        cancelled = cancelled || res[i].cancelled;
    if (rc != TP_OK || cancelled) {
        for (size_t j = 0; j < done; j++)
            remove_written(fs, opt->out_dir, &res[j], err, errlen);
        for (size_t i = 0; i < n; i++) {
            res[i].cursor_after = cursor0;
            if (cancelled) { /* every result tells it: no file of this call remains */
                res[i].cancelled = true;
                res[i].rows = 0;
                res[i].name[0] = res[i].sha256_name[0] = '\0';
            }
        }
    }
    return rc;
}
