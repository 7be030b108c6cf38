/*
 * usb_export.h - the kiosk-side "Export to USB" job: runs the export core (export.h) against a
 * detected stick (usb.h) and turns the outcome into one sentence a shop employee understands plus
 * one detailed log line.
 *
 * On top of export_run() this adds what only the USB case knows:
 *   - the stick's mount is checked (by its kernel mount id) after the final syncfs and on every
 *     failed file system call, so "stick pulled out" (also a lazy unmount, where writes still
 *     succeed into a detached file system) is told apart from an I/O error, and "safe to remove"
 *     is never shown for a stick that was detached meanwhile: the export then fails before the
 *     export cursor moves;
 *   - when the stick is full, how much more space the export needs;
 *   - "new since last export" or "everything", CSV and optionally JSON Lines.
 *
 * The staff sentences exist in English (usb_export_report.message, the documented texts, and the
 * log) and Vietnamese (usb_export_message() with lang "vi", for the staff screen's language):
 *   Done: N answers, safe to remove
 *       / Xong: N câu trả lời, có thể rút USB ra an toàn.
 *   No new answers since the last export. Nothing was written; safe to remove.
 *   The USB stick is full. The export needs X more free space (Y free now). ...
 *   The USB stick is read-only (write-protected). ...
 *   The USB stick was removed before the export finished. ...
 *   The USB stick could not be written (input/output error). ...
 *   Export cancelled. Nothing was written and nothing was marked as exported; safe to remove.
 * Every failure says "Nothing was marked as exported." ("Chưa có câu trả lời nào được đánh dấu
 * là đã xuất.") because the cursor did not move.
 *
 * Thread-safety: one export per store handle at a time. The job API (usb_export_job_*) runs it
 * on a worker thread with its own store handle and wakes the caller's loop through an eventfd.
 */
#ifndef TP_USB_EXPORT_H
#define TP_USB_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "export.h"
#include "store.h"
#include "tp.h"

#define USB_FORMAT_CSV 0x1u
#define USB_FORMAT_JSONL 0x2u

typedef enum usb_export_outcome {
    USB_EXPORT_DONE = 0,      /* files written, verified, flushed; cursor advanced (mode new) */
    USB_EXPORT_NOTHING = 1,   /* mode new and no new answers: nothing written */
    USB_EXPORT_FULL = 2,      /* not enough space (bytes_needed says how much more) */
    USB_EXPORT_READONLY = 3,  /* read-only mount or write-protected stick */
    USB_EXPORT_REMOVED = 4,   /* the stick was unmounted / pulled out during the export */
    USB_EXPORT_IO = 5,        /* a write, flush or read-back failed */
    USB_EXPORT_FAILED = 6,    /* anything else (database, too large, no free name, bug) */
    USB_EXPORT_CANCELLED = 7, /* the cancel callback asked to stop: nothing left, cursor unmoved */
} usb_export_outcome;

typedef struct usb_export_request {
    const char *mount_point;     /* the stick's folder (usb_stick.mount_point); required */
    int mount_id;                /* usb_stick.mount_id; < 0: a plain folder, no mount checks */
    const char *mountinfo_path;  /* NULL: /proc/self/mountinfo */
    const char *device_id;       /* required (file names, device_id column) */
    bool all;                    /* true: everything; false: new since the last export */
    unsigned formats;            /* USB_FORMAT_* bits; 0: CSV */
    export_progress_fn progress; /* may be NULL; rows done of total, on the export's thread */
    void *progress_ctx;
    export_cancel_fn cancel; /* may be NULL; true: stop (staff pressed Cancel), see export.h */
    void *cancel_ctx;
    const export_fs_ops *fs; /* NULL: export_fs_posix(); tests inject faults */
    int64_t max_file_bytes;  /* 0: FAT's 4 GiB - 1 */
} usb_export_request;

#define USB_EXPORT_MAX_FILES 4

typedef struct usb_export_report {
    usb_export_outcome outcome;
    tp_err rc;    /* the export core's code (TP_OK when DONE or NOTHING) */
    int64_t rows; /* answers written (per file; every file has the same rows) */
    int64_t first_seq, last_seq;
    int64_t cursor_before, cursor_after;
    int64_t free_bytes;    /* free space on the stick when the export started; -1 unknown */
    int64_t bytes_needed;  /* FULL: size of the export; -1 unknown */
    int64_t bytes_missing; /* FULL: bytes_needed - free_bytes (how much more to free) */
    int64_t elapsed_ms;
    size_t n_files;
    char files[USB_EXPORT_MAX_FILES][EXPORT_NAME_MAX]; /* names written, data and .sha256 */
    char sha256_hex[65];                               /* SHA-256 of the first data file */
    char message[384]; /* for the staff screen (see the top of this file) */
    char log[2048];    /* one line for the log: every figure and the technical cause */
} usb_export_report;

/* Runs the export described by rq on store s and fills *rep (caller's). Returns TP_OK when the
 * outcome is DONE, NOTHING or CANCELLED, else the export core's error code; in every case
 * rep->message and rep->log are set. s, rq and the callbacks are borrowed. */
tp_err usb_export_run(store *s, const usb_export_request *rq, usb_export_report *rep);

/* Writes rep's staff sentence (see the top of this file) in lang ("vi": Vietnamese; anything
 * else, NULL included: English, the same text as rep->message) into out (caller's, truncated to
 * outlen). Uses rep->outcome, rows, rc and the byte figures. Defined in kiosk_text.c, beside the
 * kiosk's other sentences; whoever links usb_export.o links kiosk_text.o. */
void usb_export_message(const usb_export_report *rep, const char *lang, char *out, size_t outlen);

/* ---- The job: one export off the caller's loop ----------------------------------------------
 * usb_export_job_new, then usb_export_job_start (a worker thread; the loop waits on
 * usb_export_job_fd and calls usb_export_job_poll) or usb_export_job_run (inline on the caller's
 * thread: scripts stay deterministic); usb_export_job_cancel from the loop; usb_export_job_free. */

typedef struct usb_export_job usb_export_job;

typedef struct usb_export_job_options {
    const char *database;        /* the store file; the job opens its own handle (borrowed) */
    const char *device_id;       /* store_options.device_id and the request's (borrowed) */
    const tp_clock *clock;       /* store_options.clock (borrowed; NULL: the system clock) */
    const char *mount_point;     /* copied */
    int mount_id;                /* usb_export_request.mount_id */
    bool all;                    /* usb_export_request.all */
    unsigned formats;            /* usb_export_request.formats */
    export_progress_fn progress; /* usb_export_job_run only: rows as they go, on that thread */
    void *progress_ctx;
} usb_export_job_options;

/* A job for o (copied; the borrowed strings must outlive the job). Returns TP_OK and *out (free
 * with usb_export_job_free), or TP_ERR_NOMEM / TP_ERR_IO (no eventfd) with the cause in err. */
tp_err usb_export_job_new(const usb_export_job_options *o, usb_export_job **out, char *err,
                          size_t errlen);

/* Starts the job on a worker thread. Returns TP_OK, or TP_ERR_NOMEM when no thread can be made
 * (the job then holds a FAILED report for usb_export_job_poll). */
tp_err usb_export_job_start(usb_export_job *j);

/* Runs the job on the caller's thread, calling o->progress as rows go. */
void usb_export_job_run(usb_export_job *j);

/* The wake fd (an eventfd): readable when progress or the end waits for usb_export_job_poll. */
int usb_export_job_fd(const usb_export_job *j);

/* Reads the wake fd and the progress (rows done of total). Returns true once the job has ended:
 * *rep is then filled and the thread is joined. Loop thread. */
bool usb_export_job_poll(usb_export_job *j, int64_t *done, int64_t *total, usb_export_report *rep);

/* Asks the job to stop at its next check (it removes what it wrote and reports CANCELLED).
 * Thread-safe. */
void usb_export_job_cancel(usb_export_job *j);

/* Waits for a running job to end (its files must be complete), then frees it. NULL is a no-op. */
void usb_export_job_free(usb_export_job *j);

/* Parses the `[usb] formats` value: a comma-separated list of "csv" and "jsonl" (spaces around
 * names allowed, each at most once) into USB_FORMAT_* bits in *out. Returns TP_OK, or
 * TP_ERR_INVALID (empty, unknown or repeated name) with the cause in err (may be NULL). For
 * config.c, so the key is checked where the file is read. */
tp_err usb_export_parse_formats(const char *s, unsigned *out, char *err, size_t errlen);

/* Returns a static name for outcome ("done", "full", ...). */
const char *usb_export_outcome_name(usb_export_outcome o);

/* Writes a byte count the way the staff screen shows it ("840 KB", "2.1 MB", "1.4 GB";
 * decimal units, rounded up so "needs" is never understated) into out. Defined in kiosk_text.c. */
void usb_format_bytes(int64_t bytes, char *out, size_t outlen);

#endif /* TP_USB_EXPORT_H */
