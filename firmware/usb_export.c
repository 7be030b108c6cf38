/*
 * usb_export.c - the kiosk's "Export to USB" job over export_run_formats(): a file system ops
 * wrapper that notices a pulled stick, the log wording, and the job API (a worker thread woken
 * through an eventfd). The staff sentences (usb_export_message, usb_format_bytes) are in
 * kiosk_text.c with every other sentence the kiosk shows. The space figures for "stick full" and
 * the mapping of a full FUSE FAT driver's EPERM to "full" are the export core's (export.h); they
 * are not repeated here.
 */
#include "usb_export.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "usb.h"

/* ---- File system wrapper: every failure asks "is the stick still there?" ------------------- */

typedef struct watch {
    const export_fs_ops *base;
    const usb_export_request *rq;
    bool removed;    /* the mount disappeared during the export */
    int first_errno; /* first failing call's errno, and which call */
    const char *first_op;
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
    /* A full FUSE FAT stick answers EPERM: the core re-checks the free space and says "full". */
    CHECK("write", W->base->write(W->base->ctx, fd, buf, n));
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
    CHECK("statvfs", W->base->fstatvfs(W->base->ctx, fd, st));
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

/* ---- Wording ------------------------------------------------------------------------------- */

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
    case USB_EXPORT_CANCELLED: return "cancelled";
    }
    return "unknown";
}

/* The English sentence (the documented one), from kiosk_text.c with the kiosk's other texts. */
static void set_message(usb_export_report *rep)
{
    usb_export_message(rep, "en", rep->message, sizeof rep->message);
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
    export_result res[EXPORT_MAX_FORMATS];
    watch w;
    export_fs_ops ops = watch_ops;
    tp_err rc = TP_OK;
    int64_t t0 = now_ms();
    unsigned formats;
    export_format fmts[EXPORT_MAX_FORMATS];
    size_t n_fmts = 0;
    const char *fmt_label = "-";

    if (!rep)
        return TP_ERR_INVALID;
    memset(rep, 0, sizeof *rep);
    rep->free_bytes = rep->bytes_needed = -1;
    memset(res, 0, sizeof res);
    if (!s || !rq || !rq->mount_point || !rq->device_id) {
        rc = tp_errf(cause, sizeof cause, TP_ERR_INVALID, "usb_export_run: missing argument");
        rep->outcome = USB_EXPORT_FAILED;
        goto out;
    }
    formats = rq->formats ? rq->formats : USB_FORMAT_CSV;
    if (formats & USB_FORMAT_CSV)
        fmts[n_fmts++] = EXPORT_CSV;
    if (formats & USB_FORMAT_JSONL)
        fmts[n_fmts++] = EXPORT_JSONL;
    if (n_fmts == 0) {
        rc = tp_errf(cause, sizeof cause, TP_ERR_INVALID, "usb_export_run: formats 0x%x unknown",
                     formats);
        rep->outcome = USB_EXPORT_FAILED;
        goto out;
    }
    fmt_label = n_fmts == 2 ? "csv,jsonl" : fmts[0] == EXPORT_JSONL ? "jsonl" : "csv";
    store_get_export_cursor(s, &rep->cursor_before);
    rep->cursor_after = rep->cursor_before;
    {
        /* For the log when the core stops before it looks (it measures again before writing). */
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
    /* Every format over the same answers; the core moves the cursor once, after the last file is
     * verified and flushed, and removes the earlier files when a later one fails. */
    export_options eo = {
        .out_dir = rq->mount_point,
        .all = rq->all,
        .device_id = rq->device_id,
        .fs = &ops,
        .max_file_bytes = rq->max_file_bytes,
        .progress = rq->progress,
        .progress_ctx = rq->progress_ctx,
        .cancel = rq->cancel,
        .cancel_ctx = rq->cancel_ctx,
        .after_seq = -1,
        .upto_seq = -1,
    };
    rc = export_run_formats(s, &eo, fmts, n_fmts, res, cause, sizeof cause);
    if (rc != TP_OK) {
        if (w.removed || ((rc == TP_ERR_IO || rc == TP_ERR_NOT_FOUND) && rq->mount_id >= 0 &&
                          !usb_still_mounted(rq->mountinfo_path, rq->mount_id, rq->mount_point)))
            rep->outcome = USB_EXPORT_REMOVED;
        else if (rc == TP_ERR_NOT_FOUND)
            /* the core's word for a vanished folder or a dead medium (ENODEV, ENOTCONN: a FUSE
             * stick whose driver died stays in the mount table) */
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
            /* The core's figures; the failed file's result counts the files before it too. */
            size_t at = 0;
            for (size_t i = 1; i < n_fmts; i++)
                if (res[i].bytes_needed > res[at].bytes_needed)
                    at = i;
            rep->bytes_needed = res[at].bytes_needed;
            if (res[at].free_bytes >= 0)
                rep->free_bytes = res[at].free_bytes;
            if (rep->bytes_needed >= 0 && rep->free_bytes >= 0)
                rep->bytes_missing = rep->bytes_needed - rep->free_bytes;
        }
    } else if (res[0].cancelled) {
        rep->outcome = USB_EXPORT_CANCELLED;
    } else {
        rep->outcome = res[0].rows > 0 ? USB_EXPORT_DONE : USB_EXPORT_NOTHING;
        rep->rows = res[0].rows;
        rep->first_seq = res[0].first_seq;
        rep->last_seq = res[0].last_seq;
        if (res[0].free_bytes >= 0)
            rep->free_bytes = res[0].free_bytes;
        rep->bytes_needed = res[0].bytes_needed;
        for (size_t i = 0; rep->rows > 0 && i < n_fmts; i++) {
            if (rep->n_files + 2 > USB_EXPORT_MAX_FILES)
                break;
            tp_strlcpy(rep->files[rep->n_files++], res[i].name, EXPORT_NAME_MAX);
            tp_strlcpy(rep->files[rep->n_files++], res[i].sha256_name, EXPORT_NAME_MAX);
        }
        if (rep->rows > 0)
            tp_strlcpy(rep->sha256_hex, res[0].sha256_hex, sizeof rep->sha256_hex);
    }
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
    set_message(rep);
    one_line(cause);
    snprintf(rep->log, sizeof rep->log,
             "usb export: outcome=%s rc=%s mount=%s mount_id=%d mode=%s formats=%s rows=%" PRId64
             " seq=%" PRId64 "..%" PRId64 " cursor=%" PRId64 "->%" PRId64 " free=%" PRId64
             " needed=%" PRId64 " files=%zu file=%s sha256=%s elapsed_ms=%" PRId64 " cause=%s",
             usb_export_outcome_name(rep->outcome), tp_err_name(rc),
             rq && rq->mount_point ? rq->mount_point : "?", rq ? rq->mount_id : -1,
             rq && rq->all ? "all" : "new", fmt_label, rep->rows, rep->first_seq, rep->last_seq,
             rep->cursor_before, rep->cursor_after, rep->free_bytes, rep->bytes_needed,
             rep->n_files, rep->n_files > 0 ? rep->files[0] : "-",
             rep->n_files > 0 ? rep->sha256_hex : "-", rep->elapsed_ms, cause[0] ? cause : "-");
    return rc;
}

/* ---- The job ------------------------------------------------------------------------------- */

struct usb_export_job {
    usb_export_job_options o;
    char mount_point[USB_PATH_MAX];
    int wakefd;
    pthread_t thread;
    bool thread_running;
    pthread_mutex_t mu;
    int64_t done, total;   /* under mu */
    bool finished;         /* under mu */
    bool cancel;           /* under mu */
    usb_export_report rep; /* written by the job, read after finished */
};

static void job_wake(usb_export_job *j)
{
    uint64_t one = 1;
    if (write(j->wakefd, &one, sizeof one) != (ssize_t)sizeof one)
        (void)0; /* the counter is full: the loop is woken anyway */
}

static void job_progress(void *ctx, int64_t done, int64_t total)
{
    usb_export_job *j = ctx;
    pthread_mutex_lock(&j->mu);
    j->done = done;
    j->total = total;
    pthread_mutex_unlock(&j->mu);
    if (j->o.progress)
        j->o.progress(j->o.progress_ctx, done, total);
    else
        job_wake(j);
}

static bool job_cancelled(void *ctx)
{
    usb_export_job *j = ctx;
    pthread_mutex_lock(&j->mu);
    bool c = j->cancel;
    pthread_mutex_unlock(&j->mu);
    return c;
}

/* The export with the job's own store handle (a handle belongs to one thread). */
void usb_export_job_run(usb_export_job *j)
{
    store *s = NULL;
    char err[TP_ERRMSG_MAX];
    store_options so = {0};
    usb_export_report *rep = &j->rep;
    memset(rep, 0, sizeof *rep);
    so.device_id = j->o.device_id;
    so.clock = j->o.clock;
    tp_err rc = store_open(j->o.database, &so, &s, err, sizeof err);
    if (rc != TP_OK) {
        rep->outcome = USB_EXPORT_FAILED;
        rep->rc = rc;
        snprintf(rep->message, sizeof rep->message,
                 "The answers could not be read (%s). Nothing was marked as exported.",
                 tp_strerror(rc));
        snprintf(rep->log, sizeof rep->log, "usb export: outcome=failed cause=%s", err);
    } else {
        usb_export_request rq = {0};
        rq.mount_point = j->mount_point;
        rq.mount_id = j->o.mount_id;
        rq.device_id = j->o.device_id;
        rq.all = j->o.all;
        rq.formats = j->o.formats;
        rq.progress = job_progress;
        rq.progress_ctx = j;
        rq.cancel = job_cancelled;
        rq.cancel_ctx = j;
        usb_export_run(s, &rq, rep);
    }
    store_close(s);
    pthread_mutex_lock(&j->mu);
    j->finished = true;
    pthread_mutex_unlock(&j->mu);
    job_wake(j);
}

static void *job_main(void *arg)
{
    usb_export_job_run(arg);
    return NULL;
}

tp_err usb_export_job_new(const usb_export_job_options *o, usb_export_job **out, char *err,
                          size_t errlen)
{
    *out = NULL;
    usb_export_job *j = calloc(1, sizeof *j);
    if (!j)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "usb export: out of memory");
    j->o = *o;
    tp_strlcpy(j->mount_point, o->mount_point ? o->mount_point : "", sizeof j->mount_point);
    j->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (j->wakefd < 0) {
        free(j);
        return tp_errf(err, errlen, TP_ERR_IO, "usb export: eventfd: %s", strerror(errno));
    }
    pthread_mutex_init(&j->mu, NULL);
    *out = j;
    return TP_OK;
}

tp_err usb_export_job_start(usb_export_job *j)
{
    if (pthread_create(&j->thread, NULL, job_main, j) == 0) {
        j->thread_running = true;
        return TP_OK;
    }
    memset(&j->rep, 0, sizeof j->rep);
    j->rep.outcome = USB_EXPORT_FAILED;
    j->rep.rc = TP_ERR_NOMEM;
    set_message(&j->rep);
    snprintf(j->rep.log, sizeof j->rep.log, "usb export: outcome=failed cause=pthread_create");
    pthread_mutex_lock(&j->mu);
    j->finished = true;
    pthread_mutex_unlock(&j->mu);
    job_wake(j);
    return TP_ERR_NOMEM;
}

int usb_export_job_fd(const usb_export_job *j)
{
    return j->wakefd;
}

bool usb_export_job_poll(usb_export_job *j, int64_t *done, int64_t *total, usb_export_report *rep)
{
    uint64_t v;
    if (read(j->wakefd, &v, sizeof v) < 0)
        (void)0; /* EAGAIN: nothing new, the figures below are still right */
    pthread_mutex_lock(&j->mu);
    *done = j->done;
    *total = j->total;
    bool finished = j->finished;
    pthread_mutex_unlock(&j->mu);
    if (!finished)
        return false;
    if (j->thread_running) {
        pthread_join(j->thread, NULL);
        j->thread_running = false;
    }
    *rep = j->rep;
    return true;
}

void usb_export_job_cancel(usb_export_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->cancel = true;
    pthread_mutex_unlock(&j->mu);
}

void usb_export_job_free(usb_export_job *j)
{
    if (!j)
        return;
    if (j->thread_running)
        pthread_join(j->thread, NULL);
    pthread_mutex_destroy(&j->mu);
    close(j->wakefd);
    free(j);
}
