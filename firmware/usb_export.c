/*
 * usb_export.c - the kiosk's "Export to USB" job over export_run(): a file system ops wrapper that
 * notices a pulled stick, the space estimate for "stick full", and the staff and log wording.
 */
#include "usb_export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "usb.h"

/* export.c's EXPORT_SLACK_BYTES (not in export.h): free space it wants beyond the data. */
#define USB_EXPORT_CORE_RESERVE 65536

/* ---- File system wrapper: every failure asks "is the stick still there?" ------------------- */

typedef struct watch {
    const export_fs_ops *base;
    const usb_export_request *rq;
    bool removed;    /* the mount disappeared during the export */
    int first_errno; /* first failing call's errno, and which call */
    const char *first_op;
    int64_t frsize; /* fragment size seen by fstatvfs (for the space estimate) */
} watch;

/* Records a failure of op; marks the stick removed when its mount is gone. Keeps errno. */
static void failed(watch *w, const char *op)
{
    int e = errno;
    if (!w->first_op) {
        w->first_op = op;
        w->first_errno = e;
    }
    if (w->rq->mount_id >= 0 && !w->removed &&
        !usb_still_mounted(w->rq->mountinfo_path, w->rq->mount_id, w->rq->mount_point))
        w->removed = true;
    /* Tell the core the medium is gone, whatever error the dying file system returned. */
    errno = w->removed ? ENODEV : e;
}

#define W ((watch *)ctx)
#define CHECK(op, expr)                                                                            \
    do {                                                                                           \
        __typeof__(expr) r_ = (expr);                                                              \
        if (r_ < 0)                                                                                \
            failed(W, op);                                                                         \
        return r_;                                                                                 \
    } while (0)

static int w_open_dir(void *ctx, const char *path)
{
    CHECK("open folder", W->base->open_dir(W->base->ctx, path));
}

static int w_openat(void *ctx, int dirfd, const char *name, int flags, mode_t mode)
{
    CHECK("open", W->base->openat(W->base->ctx, dirfd, name, flags, mode));
}

static ssize_t w_write(void *ctx, int fd, const void *buf, size_t n)
{
    ssize_t r = W->base->write(W->base->ctx, fd, buf, n);
    if (r >= 0)
        return r;
    /* Permission is checked when a file is opened, so EPERM/EACCES/EIO on a write to a file we
     * created is the file system running out of room in its own words (fusefat says EPERM when
     * no cluster is left): when the free space is below this write, call it ENOSPC so the staff
     * hear "stick full" rather than "read-only". */
    int e = errno;
    struct statvfs v;
    if ((e == EPERM || e == EACCES || e == EIO) && W->base->fstatvfs(W->base->ctx, fd, &v) == 0 &&
        (uint64_t)v.f_bavail * v.f_frsize < n)
        e = ENOSPC;
    errno = e;
    failed(W, "write");
    return r;
}

static ssize_t w_read(void *ctx, int fd, void *buf, size_t n)
{
    CHECK("read back", W->base->read(W->base->ctx, fd, buf, n));
}

static int w_fsync(void *ctx, int fd)
{
    CHECK("fsync", W->base->fsync(W->base->ctx, fd));
}

static int w_drop_cache(void *ctx, int fd)
{
    return W->base->drop_cache(W->base->ctx, fd);
}

static int w_close(void *ctx, int fd)
{
    CHECK("close", W->base->close(W->base->ctx, fd));
}

static int w_fstatat(void *ctx, int dirfd, const char *name, struct stat *st)
{
    /* ENOENT is the normal answer when a name is free: not a failure. */
    int r = W->base->fstatat(W->base->ctx, dirfd, name, st);
    if (r < 0 && errno != ENOENT)
        failed(W, "stat");
    return r;
}

static int w_fstatvfs(void *ctx, int fd, struct statvfs *st)
{
    int r = W->base->fstatvfs(W->base->ctx, fd, st);
    if (r < 0)
        failed(W, "statvfs");
    else
        W->frsize = (int64_t)st->f_frsize;
    return r;
}

static int w_rename(void *ctx, int dirfd, const char *from, const char *to)
{
    int r = W->base->rename_noreplace(W->base->ctx, dirfd, from, to);
    if (r < 0 && errno != EEXIST)
        failed(W, "rename");
    return r;
}

static int w_unlinkat(void *ctx, int dirfd, const char *name)
{
    CHECK("unlink", W->base->unlinkat(W->base->ctx, dirfd, name));
}

static int w_syncfs(void *ctx, int fd)
{
    int r = W->base->syncfs(W->base->ctx, fd);
    if (r < 0) {
        failed(W, "syncfs");
        return r;
    }
    /* The last step before the cursor moves. A lazily unmounted stick still accepts writes and
     * syncs into its detached file system, so only the mount table tells that it is gone: fail
     * here rather than say "safe to remove" about a stick that is no longer there. */
    if (W->rq->mount_id >= 0 &&
        !usb_still_mounted(W->rq->mountinfo_path, W->rq->mount_id, W->rq->mount_point)) {
        W->removed = true;
        if (!W->first_op) {
            W->first_op = "syncfs (mount gone)";
            W->first_errno = ENODEV;
        }
        errno = ENODEV;
        return -1;
    }
    return 0;
}

#undef CHECK
#undef W

static const export_fs_ops watch_ops = {
    .open_dir = w_open_dir,
    .openat = w_openat,
    .write = w_write,
    .read = w_read,
    .fsync = w_fsync,
    .drop_cache = w_drop_cache,
    .close = w_close,
    .fstatat = w_fstatat,
    .fstatvfs = w_fstatvfs,
    .rename_noreplace = w_rename,
    .unlinkat = w_unlinkat,
    .syncfs = w_syncfs,
};

/* ---- Space estimate ----------------------------------------------------------------------------
 */

typedef struct sizer {
    export_format format;
    const char *device_id;
    const char *epoch;
    int64_t bytes;
    char buf[8192];
} sizer;

static tp_err size_row(const store_answer *a, void *ctx)
{
    sizer *z = ctx;
    size_t used = 0;
    tp_err rc =
        export_format_row(z->format, a, z->device_id, z->epoch, z->buf, sizeof z->buf, &used);
    z->bytes += (int64_t)used;
    return rc;
}

static int64_t round_up(int64_t v, int64_t unit)
{
    return unit > 1 ? (v + unit - 1) / unit * unit : v;
}

/* Computes what the export of format f occupies on the stick: the data file as the core writes it
 * (BOM and header for CSV) and its .sha256, each rounded up to whole clusters. -1 when unknown. */
static int64_t export_size(store *s, export_format f, const usb_export_request *rq, int64_t cluster)
{
    store_info info;
    int64_t after = 0;
    sizer *z = NULL;
    int64_t total = -1;
    if (store_get_info(s, &info) != TP_OK)
        return -1;
    if (!rq->all)
        after = info.export_cursor;
    z = calloc(1, sizeof *z);
    if (!z)
        return -1;
    z->format = f;
    z->device_id = rq->device_id;
    z->epoch = info.epoch;
    if (f == EXPORT_CSV) {
        size_t used = 0;
        if (export_csv_header(z->buf, sizeof z->buf, &used) == TP_OK)
            z->bytes = 3 + (int64_t)used; /* UTF-8 BOM + header row */
    }
    if (store_foreach_answer(s, after, -1, size_row, z) == TP_OK) {
        /* sha256sum line: 64 hex digits, two spaces, the name, a newline; plus the reserve the
         * export core keeps free (64 KiB: cluster rounding, directory entries), since it refuses
         * to start with less. */
        total = round_up(z->bytes, cluster) + round_up(64 + 2 + EXPORT_NAME_MAX / 2 + 1, cluster) +
                USB_EXPORT_CORE_RESERVE;
    }
    free(z);
    return total;
}

/* ---- Wording ------------------------------------------------------------------------------- */

/* Writes bytes in decimal units, rounded up (what is needed) or down (what is free), so the
 * staff are never told a stick has more room, or an export needs less, than it does. */
static void fmt_bytes(int64_t bytes, bool up, char *out, size_t outlen)
{
    int64_t unit, r;
    const char *name;
    if (bytes < 0) {
        snprintf(out, outlen, "an unknown amount of");
        return;
    }
    if (bytes < 1000 * 1000) {
        r = up ? (bytes + 999) / 1000 : bytes / 1000;
        snprintf(out, outlen, "%" PRId64 " KB", r);
        return;
    }
    unit = bytes < INT64_C(1000) * 1000 * 1000 ? INT64_C(100000) : INT64_C(100000000);
    name = unit == INT64_C(100000) ? "MB" : "GB";
    r = up ? (bytes + unit - 1) / unit : bytes / unit; /* tenths */
    snprintf(out, outlen, "%" PRId64 ".%" PRId64 " %s", r / 10, r % 10, name);
}

void usb_format_bytes(int64_t bytes, char *out, size_t outlen)
{
    fmt_bytes(bytes, true, out, outlen);
}

tp_err usb_export_parse_formats(const char *s, unsigned *out, char *err, size_t errlen)
{
    unsigned bits = 0;
    if (!s || !out)
        return tp_errf(err, errlen, TP_ERR_INVALID, "formats: missing value");
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *b = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - b);
        unsigned bit = 0;
        if (n == 3 && strncmp(b, "csv", 3) == 0)
            bit = USB_FORMAT_CSV;
        else if (n == 5 && strncmp(b, "jsonl", 5) == 0)
            bit = USB_FORMAT_JSONL;
        if (!bit || (bits & bit))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "formats: '%.*s' is %s (a list of csv, jsonl)", (int)(n > 32 ? 32 : n),
                           b, bit ? "given twice" : "not a format");
        bits |= bit;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p != ',')
            return tp_errf(err, errlen, TP_ERR_INVALID, "formats: expected ',' in '%s'", s);
        p++;
    }
    *out = bits;
    return TP_OK;
}

const char *usb_export_outcome_name(usb_export_outcome o)
{
    switch (o) {
    case USB_EXPORT_DONE: return "done";
    case USB_EXPORT_NOTHING: return "nothing_new";
    case USB_EXPORT_FULL: return "stick_full";
    case USB_EXPORT_READONLY: return "read_only";
    case USB_EXPORT_REMOVED: return "removed";
    case USB_EXPORT_IO: return "io_error";
    case USB_EXPORT_FAILED: return "failed";
    }
    return "unknown";
}

#define NOT_MARKED " Nothing was marked as exported."

static void set_message(usb_export_report *rep, tp_err rc)
{
    char need[32], freeb[32];
    switch (rep->outcome) {
    case USB_EXPORT_DONE:
        snprintf(rep->message, sizeof rep->message, "Done: %" PRId64 " answer%s, safe to remove",
                 rep->rows, rep->rows == 1 ? "" : "s");
        return;
    case USB_EXPORT_NOTHING:
        snprintf(rep->message, sizeof rep->message,
                 "No new answers since the last export. Nothing was written; safe to remove.");
        return;
    case USB_EXPORT_FULL:
        if (rep->bytes_missing > 0) {
            usb_format_bytes(rep->bytes_missing, need, sizeof need);
            fmt_bytes(rep->free_bytes, false, freeb, sizeof freeb);
            snprintf(rep->message, sizeof rep->message,
                     "The USB stick is full. The export needs %s more free space (%s free now). "
                     "Delete files from the stick on a computer, or use a bigger stick." NOT_MARKED,
                     need, freeb);
        } else {
            usb_format_bytes(rep->bytes_needed, need, sizeof need);
            snprintf(rep->message, sizeof rep->message,
                     "The USB stick is full. The export needs about %s of free space. Delete "
                     "files from the stick on a computer, or use a bigger stick." NOT_MARKED,
                     need);
        }
        return;
    case USB_EXPORT_READONLY:
        snprintf(rep->message, sizeof rep->message,
                 "The USB stick is read-only (write-protected). Slide its lock switch to unlock "
                 "it, or use another stick." NOT_MARKED);
        return;
    case USB_EXPORT_REMOVED:
        snprintf(rep->message, sizeof rep->message,
                 "The USB stick was removed before the export finished." NOT_MARKED
                 " Plug it in again and export again.");
        return;
    case USB_EXPORT_IO:
        snprintf(rep->message, sizeof rep->message,
                 "The USB stick could not be written (input/output error). Try again, or use "
                 "another stick." NOT_MARKED);
        return;
    case USB_EXPORT_FAILED:
        if (rc == TP_ERR_TOO_LARGE)
            snprintf(rep->message, sizeof rep->message,
                     "The export is too big for one file on a USB stick (4 GB at most)." NOT_MARKED
                     " Please call the technician.");
        else if (rc == TP_ERR_EXISTS)
            snprintf(rep->message, sizeof rep->message,
                     "There is no free file name left on the USB stick. Delete old export files "
                     "from it on a computer, then try again." NOT_MARKED);
        else
            snprintf(rep->message, sizeof rep->message,
                     "The export did not work (%s)." NOT_MARKED
                     " Try again; if it fails again, please call the technician.",
                     tp_strerror(rc));
        return;
    }
}

/* Replaces control characters (a message from below may carry a newline) so the log stays one
 * line per export. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- The job ------------------------------------------------------------------------------- */

tp_err usb_export_run(store *s, const usb_export_request *rq, usb_export_report *rep)
{
    char cause[TP_ERRMSG_MAX] = "";
    char note[160] = "";
    export_result res;
    watch w;
    export_fs_ops ops = watch_ops;
    tp_err rc = TP_OK;
    int64_t t0 = now_ms();
    unsigned formats;
    export_format fmts[2];
    size_t n_fmts = 0;

    if (!rep)
        return TP_ERR_INVALID;
    memset(rep, 0, sizeof *rep);
    rep->free_bytes = rep->bytes_needed = -1;
    memset(&res, 0, sizeof res);
    if (!s || !rq || !rq->mount_point || !rq->device_id) {
        rc = tp_errf(cause, sizeof cause, TP_ERR_INVALID, "usb_export_run: missing argument");
        rep->outcome = USB_EXPORT_FAILED;
        goto out;
    }
    formats = rq->formats ? rq->formats : USB_FORMAT_CSV;
    if (formats & USB_FORMAT_CSV)
        fmts[n_fmts++] = EXPORT_CSV;
    if (formats & USB_FORMAT_JSONL) {
        /* export_run moves the cursor after each file, so a second "new" file would be empty:
         * in "new" mode JSON Lines waits for a seq-range option in export.h (see the README). */
        if (rq->all || n_fmts == 0)
            fmts[n_fmts++] = EXPORT_JSONL;
        else
            snprintf(note, sizeof note, " jsonl=skipped(new mode needs export.h seq range)");
    }
    store_get_export_cursor(s, &rep->cursor_before);
    rep->cursor_after = rep->cursor_before;
    {
        struct statvfs v;
        if (statvfs(rq->mount_point, &v) == 0)
            rep->free_bytes = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
    }
    if (rq->mount_id >= 0 &&
        !usb_still_mounted(rq->mountinfo_path, rq->mount_id, rq->mount_point)) {
        rc = tp_errf(cause, sizeof cause, TP_ERR_NOT_FOUND, "%s is no longer mounted (mount id %d)",
                     rq->mount_point, rq->mount_id);
        rep->outcome = USB_EXPORT_REMOVED;
        goto out;
    }

    memset(&w, 0, sizeof w);
    w.base = rq->fs ? rq->fs : export_fs_posix();
    w.rq = rq;
    ops.ctx = &w;
    for (size_t i = 0; i < n_fmts; i++) {
        export_options eo = {
            .out_dir = rq->mount_point,
            .format = fmts[i],
            /* The second format must cover the same answers as the first (mode all only). */
            .all = rq->all,
            .device_id = rq->device_id,
            .fs = &ops,
            .max_file_bytes = rq->max_file_bytes,
            .progress = rq->progress,
            .progress_ctx = rq->progress_ctx,
        };
        memset(&res, 0, sizeof res);
        rc = export_run(s, &eo, &res, cause, sizeof cause);
        if (rc != TP_OK) {
            if (w.removed ||
                ((rc == TP_ERR_IO || rc == TP_ERR_NOT_FOUND) && rq->mount_id >= 0 &&
                 !usb_still_mounted(rq->mountinfo_path, rq->mount_id, rq->mount_point)))
                rep->outcome = USB_EXPORT_REMOVED;
            else if (rc == TP_ERR_NOT_FOUND)
                /* the core's word for a vanished folder or a dead medium (ENODEV, ENOTCONN: a
                 * FUSE stick whose driver died stays in the mount table) */
                rep->outcome = USB_EXPORT_REMOVED;
            else if (rc == TP_ERR_DISK_FULL)
                rep->outcome = USB_EXPORT_FULL;
            else if (rc == TP_ERR_READONLY)
                rep->outcome = USB_EXPORT_READONLY;
            else if (rc == TP_ERR_IO)
                rep->outcome = USB_EXPORT_IO;
            else
                rep->outcome = USB_EXPORT_FAILED;
            if (rep->outcome == USB_EXPORT_FULL) {
                rep->bytes_needed = export_size(s, fmts[i], rq, w.frsize);
                if (rep->bytes_needed >= 0 && rep->free_bytes >= 0)
                    rep->bytes_missing = rep->bytes_needed - rep->free_bytes;
            }
            break;
        }
        if (i == 0) {
            rep->rows = res.rows;
            rep->first_seq = res.first_seq;
            rep->last_seq = res.last_seq;
        }
        if (res.rows == 0)
            break;
        if (rep->n_files + 2 <= USB_EXPORT_MAX_FILES) {
            if (rep->n_files == 0)
                tp_strlcpy(rep->sha256_hex, res.sha256_hex, sizeof rep->sha256_hex);
            tp_strlcpy(rep->files[rep->n_files++], res.name, EXPORT_NAME_MAX);
            tp_strlcpy(rep->files[rep->n_files++], res.sha256_name, EXPORT_NAME_MAX);
        }
    }
    if (rc == TP_OK)
        rep->outcome = rep->rows > 0 ? USB_EXPORT_DONE : USB_EXPORT_NOTHING;
    if (w.first_op && cause[0] == '\0')
        snprintf(cause, sizeof cause, "%s: %s", w.first_op, strerror(w.first_errno));
    else if (w.first_op) {
        size_t l = strlen(cause);
        snprintf(cause + l, sizeof cause - l, " [first failure: %s: %s]", w.first_op,
                 strerror(w.first_errno));
    }
out:
    rep->rc = rc;
    if (s)
        store_get_export_cursor(s, &rep->cursor_after);
    rep->elapsed_ms = now_ms() - t0;
    set_message(rep, rc);
    if (rc != TP_OK && rep->cursor_after != rep->cursor_before) {
        /* "everything" as CSV + JSON Lines: the CSV was verified and moved the cursor before the
         * JSON Lines file failed; say what is true. */
        char *at = strstr(rep->message, NOT_MARKED);
        if (at)
            snprintf(at, sizeof rep->message - (size_t)(at - rep->message), "%s",
                     "The CSV file on the stick is complete; only the JSON Lines copy failed.");
    }
    one_line(cause);
    snprintf(rep->log, sizeof rep->log,
             "usb export: outcome=%s rc=%s mount=%s mount_id=%d mode=%s rows=%" PRId64
             " seq=%" PRId64 "..%" PRId64 " cursor=%" PRId64 "->%" PRId64 " free=%" PRId64
             " needed=%" PRId64 " file=%s sha256=%s elapsed_ms=%" PRId64 "%s cause=%s",
             usb_export_outcome_name(rep->outcome), tp_err_name(rc),
             rq && rq->mount_point ? rq->mount_point : "?", rq ? rq->mount_id : -1,
             rq && rq->all ? "all" : "new", rep->rows, rep->first_seq, rep->last_seq,
             rep->cursor_before, rep->cursor_after, rep->free_bytes, rep->bytes_needed,
             rep->n_files > 0 ? rep->files[0] : "-", rep->n_files > 0 ? rep->sha256_hex : "-",
             rep->elapsed_ms, note, cause[0] ? cause : "-");
    return rc;
}
