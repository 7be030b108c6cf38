/*
 * export_fixture.h - the fixture of the export core's unit tests (test_export.c,
 * test_export_multi.c): a real store in a temp folder with N_FIRST sessions recorded, a
 * fault-injecting export_fs_ops over the real one, and helpers that read the out folder back.
 */
#ifndef TP_EXPORT_FIXTURE_H
#define TP_EXPORT_FIXTURE_H

/* cmocka.h needs these four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "store.h"

/* 2026-11-20T03:00:00Z = 10:00 in Asia/Ho_Chi_Minh (run.sh sets TZ). */
#define T0 1795143600000LL
#define N_FIRST 25

typedef struct fx {
    char root[256];
    char db[PATH_MAX];
    char out[PATH_MAX];
    tp_vclock vc;
    store *s;
} fx;

/* Fault-injecting file system ops: set the fields, pass &f.ops as export_options.fs. */
typedef struct fault {
    export_fs_ops ops;
    const export_fs_ops *base;
    int write_errno;     /* fail writes with this errno ... */
    int64_t write_limit; /* ... once this many bytes were written (partial write first) */
    int64_t written;
    int fsync_errno; /* fail the fsync_nth fsync call (1-based) with this errno */
    int fsync_nth, fsyncs;
    bool flip_read;   /* corrupt one byte of every read */
    int create_errno; /* openat with O_CREAT fails with this */
    bool vfs_rdonly;
    int64_t vfs_free;         /* > 0: report this much free space */
    bool full_after_write;    /* report 0 free once something was written */
    const char *plant_target; /* at the first rename to this name plant a symlink there first */
    bool planted;
    int renames;
} fault;

void fault_init(fault *f);
void record(fx *x, int i);
int64_t cursor(fx *x);
int64_t highest(fx *x);
int dir_count(fx *x, int *temps);
char *slurp(const char *dir, const char *name, size_t *len);
void sha256_hex(const char *buf, size_t n, char hex[65]);
int count_lines(const char *buf, size_t n);
tp_err run(fx *x, const export_fs_ops *fs, bool all, export_result *res, char *err, size_t errlen);
void after_fault(fx *x, int64_t cursor_before, int files_before);
int setup(void **state);
int teardown(void **state);

#endif /* TP_EXPORT_FIXTURE_H */
