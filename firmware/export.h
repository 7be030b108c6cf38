/*
 * export.h - writes the stored answers to a file a person can open (CSV for spreadsheets, or JSON
 * Lines), safely, and advances the store's export cursor only after the file is verified.
 *
 * One core serves `touchpoint export` on the command line and the kiosk's USB export, where the
 * target folder is an untrusted, possibly full, read-only or half-removed USB stick. The steps:
 *
 *   1. count pass over the answers (store_foreach_answer): rows, first/last seq and time, size;
 *      the size is checked against the free space (statvfs) and the FAT 4 GiB file limit;
 *   2. pick a name "touchpoint-<device>-<from>-<to>.<ext>" (local dates of the first and last
 *      answer, FAT-safe characters only; "-2", "-3", ... when the name or its .sha256 exists,
 *      whatever it is: a file, a folder or a symlink);
 *   3. stream the rows into a temp file in the same folder, opened with
 *      O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, hashing (SHA-256) while writing;
 *   4. fsync, drop the cached pages, read the temp file back and compare its SHA-256;
 *   5. rename it to its name without replacing anything (renameat2 RENAME_NOREPLACE, or link +
 *      unlink where that is unsupported; a name taken meanwhile moves on to the next suffix);
 *   6. write "<name>.sha256" (sha256sum format) the same way: temp, fsync, read back, rename
 *      without replacing;
 *   7. fsync the folder, then syncfs (a stick may be pulled right after "done");
 *   8. only then store_set_export_cursor() to the last exported seq (unless keep_cursor; with
 *      several formats export_run_formats() moves it once, after the last file).
 * On any error the temp files (and a renamed file whose companion failed) are removed where
 * possible, the cursor is not moved, and err holds a message a shop employee understands, with
 * the technical cause in brackets: "/media/usb: the drive is full: the export needs about 2.1 MB
 * (2203648 bytes), 1.3 MB were free (writing .touchpoint-export-1a2b3c4d5e6f.tmp: No space left
 * on device)". The message starts with the folder; the kiosk maps the code to its own words.
 *
 * export_run() runs these as five phases (export.c): count (1, 2's inputs), write with SHA-256
 * (3), verify (4), rename (2, 5, 6, 7) and advance the cursor (8). The pure formatting (rows,
 * header, file name) is export_format.c, the real file system export_fs.c.
 *
 * Every file system call goes through an export_fs_ops table so tests inject ENOSPC, EIO, a
 * removed medium or a planted symlink. Nothing on the target is ever read except the files this
 * export itself wrote, and no folder is created.
 *
 * Thread-safety: export_run uses the store handle it is given; one export per handle at a time.
 */
#ifndef TP_EXPORT_H
#define TP_EXPORT_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "store.h"
#include "tp.h"

/* ---- File system operations ----------------------------------------------------------------- */

/* Every call returns what the system call of the same name returns and sets errno the same way.
 * Paths are names relative to dirfd (the export folder), never with a '/'. */
typedef struct export_fs_ops {
    int (*open_dir)(void *ctx, const char *path); /* O_RDONLY|O_DIRECTORY|O_CLOEXEC */
    int (*openat)(void *ctx, int dirfd, const char *name, int flags, mode_t mode);
    ssize_t (*write)(void *ctx, int fd, const void *buf, size_t n);
    ssize_t (*read)(void *ctx, int fd, void *buf, size_t n);
    int (*fsync)(void *ctx, int fd);
    int (*drop_cache)(void *ctx, int fd); /* posix_fadvise DONTNEED; errors ignored */
    int (*close)(void *ctx, int fd);
    int (*fstatat)(void *ctx, int dirfd, const char *name, struct stat *st); /* no follow */
    int (*fstatvfs)(void *ctx, int fd, struct statvfs *st);
    /* Renames from to to in dirfd; fails with EEXIST when to exists (never replaces). */
    int (*rename_noreplace)(void *ctx, int dirfd, const char *from, const char *to);
    int (*unlinkat)(void *ctx, int dirfd, const char *name);
    int (*syncfs)(void *ctx, int fd);
    void *ctx;
} export_fs_ops;

/* Returns the real POSIX implementation (static storage). Its rename_noreplace uses renameat2
 * RENAME_NOREPLACE, falling back to linkat + unlinkat where the file system does not support it,
 * and, on file systems without hard links (FAT), to a no-follow existence check + renameat. */
const export_fs_ops *export_fs_posix(void);

/* ---- Running an export ---------------------------------------------------------------------- */

typedef enum export_format {
    EXPORT_CSV = 0,   /* RFC 4180, CRLF, UTF-8 with BOM, header row */
    EXPORT_JSONL = 1, /* one JSON object per line (cJSON), LF */
} export_format;

/* Progress: done of total rows written (called every few thousand rows and at the end). */
typedef void (*export_progress_fn)(void *ctx, int64_t done, int64_t total);

/* Cancel request (staff pressed Cancel): returns true to stop. Asked every 64 rows while writing,
 * before a verified file gets its name, and between the files of export_run_formats(); runs on
 * the export's thread. A cancelled export removes its temp and earlier files, leaves the cursor,
 * and returns TP_OK with export_result.cancelled set and rows 0 (cancelling is not a failure). */
typedef bool (*export_cancel_fn)(void *ctx);

/* Free space an export wants beyond its data (rounded up to whole clusters) before it writes
 * anything: the .sha256 file, directory entries (a FAT folder grows a cluster at a time) and the
 * file system's own bookkeeping. At least two clusters on file systems with larger clusters.
 * Public so the kiosk can show the same figure the core checks (export_result.bytes_needed). */
#define EXPORT_SLACK_BYTES 65536

/* The seq range and cursor options below are zero-initialised in most callers (designated
 * initialisers), so 0 behaves like -1 ("derive"): seqs start at 1, so "after 0" is what `all`
 * already says and "up to 0" would be an empty range. */
typedef struct export_options {
    const char *out_dir; /* existing folder to write into (not created) */
    export_format format;
    bool all;                    /* true: every stored answer; false: only seq > export cursor */
    const char *device_id;       /* required: goes into the file name and the device_id column */
    const export_fs_ops *fs;     /* NULL: export_fs_posix() */
    int64_t max_file_bytes;      /* 0: 4 GiB - 1 (FAT's limit); tests set it lower */
    export_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    int64_t after_seq; /* > 0: export seq > after_seq (all is then ignored); <= 0 (-1): from all */
    int64_t upto_seq;  /* > 0: export seq <= upto_seq; <= 0 (-1): the highest seq at the start */
    bool keep_cursor;  /* true: never move the export cursor (the caller moves it) */
    export_cancel_fn cancel; /* may be NULL */
    void *cancel_ctx;
    /* Without keep_cursor the cursor moves to the last seq written only when the range starts
     * at or below it (after_seq <= cursor): a range above it would skip unexported answers. */
} export_options;

#define EXPORT_NAME_MAX 160

typedef struct export_result {
    int64_t rows;                /* answers written; 0: nothing to export, no file */
    bool cancelled;              /* the cancel callback stopped it: no file, cursor unmoved */
    int64_t bytes;               /* size of the data file */
    int64_t first_seq, last_seq; /* seq range written (0 when rows == 0) */
    int64_t cursor_before, cursor_after;
    /* Space: set on TP_OK (rows > 0) and on TP_ERR_DISK_FULL; -1 when not known (e.g. the
     * folder could not be opened). bytes_needed is the data rounded up to clusters plus
     * EXPORT_SLACK_BYTES (at least two clusters); free_bytes what statvfs said before writing. */
    int64_t bytes_needed;
    int64_t free_bytes;
    char name[EXPORT_NAME_MAX];        /* "touchpoint-kiosk-01-2026-11-01-2026-11-23.csv" */
    char sha256_name[EXPORT_NAME_MAX]; /* name + ".sha256" */
    char sha256_hex[65];
} export_result;

/* Exports answers from s as described at the top of this file. Returns TP_OK (res filled; when
 * there is nothing new res->rows is 0 and no file is written), or an error with a message in err
 * (size errlen, may be NULL): TP_ERR_INVALID (bad options, device id), TP_ERR_NOT_FOUND (no such
 * folder, or the medium was removed), TP_ERR_READONLY, TP_ERR_DISK_FULL (with the bytes needed,
 * also in res->bytes_needed / free_bytes), TP_ERR_TOO_LARGE (over max_file_bytes), TP_ERR_IO
 * (write/fsync/read-back failure), TP_ERR_EXISTS (no free name), or the store's errors. A write,
 * fsync or close failing with EPERM, EACCES or EIO (what FUSE FAT drivers and some sticks say when
 * full) counts as TP_ERR_DISK_FULL when statvfs then shows less room than the rest of the export
 * needs: this check lives here only, callers need not repeat it. The store and opt are borrowed;
 * res is the caller's. */
tp_err export_run(store *s, const export_options *opt, export_result *res, char *err,
                  size_t errlen);

#define EXPORT_MAX_FORMATS 2

/* Exports the same answers once per format in fmts (n of them, 1..EXPORT_MAX_FORMATS, no format
 * twice; opt->format is ignored): the first file fixes the seq range (from opt as in export_run),
 * every further file covers exactly that range, and the export cursor moves ONCE, after every
 * file (and its .sha256) is written, read back, renamed and flushed (not at all when
 * opt->keep_cursor). If any file fails, the files this call already wrote are removed again
 * (where the drive still allows: err then ends with "; could not remove ..."), the cursor is not
 * moved, and res[i] of the failed file holds bytes_needed / free_bytes for TP_ERR_DISK_FULL: the
 * space of all the files (the ones written before it included, as they are removed again) and the
 * free space before the first. res is an array of n results (caller's), filled per format; each
 * res[i].cursor_after tells the final cursor. Returns what export_run returns; TP_OK with
 * res[0].rows == 0 when there is nothing to export (no file written). */
tp_err export_run_formats(store *s, const export_options *opt, const export_format *fmts, size_t n,
                          export_result *res, char *err, size_t errlen);

/* ---- Pieces, public for tests and for the kiosk's file name preview ------------------------- */

/* Appends the CSV header row (with CRLF) to buf (size len); *used in/out. Returns TP_OK or
 * TP_ERR_TOO_LARGE when it does not fit. */
tp_err export_csv_header(char *buf, size_t len, size_t *used);

/* Formats one answer as a CSV row (RFC 4180: fields quoted when they hold a comma, quote, CR or LF,
 * quotes doubled, CRLF at the end) or as a JSON line, appended to buf. device_id and epoch fill
 * their columns. Returns TP_OK, TP_ERR_TOO_LARGE (does not fit) or TP_ERR_NOMEM (JSON). */
tp_err export_format_row(export_format f, const store_answer *a, const char *device_id,
                         const char *epoch, char *buf, size_t len, size_t *used);

/* Appends field to buf quoted as RFC 4180 requires (only when needed). Returns TP_OK or
 * TP_ERR_TOO_LARGE. */
tp_err export_csv_field(const char *field, char *buf, size_t len, size_t *used);

/* The file extension of f ("csv", "jsonl") and its name for people ("CSV", "JSON Lines").
 * Static strings. */
const char *export_format_ext(export_format f);
const char *export_format_label(export_format f);

/* Writes the FAT-safe base name "touchpoint-<device>-<from>-<to>" (dates YYYY-MM-DD, local time of
 * from_ms and to_ms) with suffix "-<n>" when n > 1 and the extension ext ("csv") into out. Any
 * character of device outside [A-Za-z0-9._-] becomes '_'. Returns TP_OK or TP_ERR_TOO_LARGE. */
tp_err export_file_name(const char *device, int64_t from_ms, int64_t to_ms, int n, const char *ext,
                        char *out, size_t outlen);

#endif /* TP_EXPORT_H */
