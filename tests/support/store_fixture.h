/*
 * store_fixture.h - what the answer store's tests share: tests/unit/test_store.c,
 * test_store_stats.c, test_store_files.c and tests/fault/test_store_fault.c, test_store_vfs.c.
 * Built into $(BUILD)/libtpstorefixture.a (tests/support/support.mk); link it with
 * $(STORE_FIXTURE_LIBS).
 *
 * Helpers that fail the running cmocka test when something they need does not work (a temp
 * folder, an open) so the tests read as what they check, and the unit tests' fixture: a fresh
 * store in its own temp folder for each test, on a virtual clock.
 */
#ifndef TP_STORE_FIXTURE_H
#define TP_STORE_FIXTURE_H

/* cmocka.h needs these four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>

#include "store.h"

/* 2026-11-23T10:00:00Z, a multiple of 15 minutes (a statistics bucket). */
#define T0 1795428000000LL
#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

/* ---- For every store test ------------------------------------------------------------------- */

/* Removes dir and everything below it (symlinks are not followed); a missing dir is fine. */
void sfx_rm_tree(const char *dir);

/* Makes a new folder /tmp/tp-NAME-XXXXXX into dir (len bytes) or fails the test. */
void sfx_temp_dir(char *dir, size_t len, const char *name);

/* Opens the store at path with options o (NULL: defaults) or fails the test naming the path and
 * the error. The caller closes the result (store_close). */
store *sfx_open(const char *path, const store_options *o);

/* A valid session of the checkout survey: survey "checkout-nps" version 2, store "hcm-01",
 * touchpoint "exit", language "vi", no flags, the n answers at a (borrowed, not copied). */
store_session_in sfx_session(const store_answer_in *a, size_t n);

/* Records one sfx_session of n_answers (1 or 2): "recommend" NPS value % 11, then "why" choice
 * "staff" (odd value) or "price". Returns store_record_session's result; r (n_answers receipts)
 * may be NULL. */
tp_err sfx_record(store *s, int value, size_t n_answers, store_receipt *r);

/* A walk over the answers (store_foreach_answer with sfx_walk_cb): counts them, notes a seq that
 * repeats or goes back, and copies each id into ids[seq] when seq < cap (ids may be NULL with
 * cap 0). Zero it, then set ids and cap, before the walk. */
struct sfx_walk {
    char (*ids)[TP_UUID_STR];
    int64_t cap;
    int64_t count, prev;
    bool dup_or_order;
};
tp_err sfx_walk_cb(const store_answer *a, void *ctx);

/* ---- The unit tests' fixture (tests/unit/test_store*.c) ------------------------------------- */

struct sfx {
    char dir[64];   /* the test's temp folder, removed at teardown */
    char path[128]; /* dir/answers.db */
    tp_vclock vc;   /* starts at T0, mono 5000 */
    store *s;       /* open on path as device kiosk-01; teardown closes it */
};

/* cmocka setup and teardown: a struct sfx in *state. Teardown also resets store_schema_target. */
int sfx_setup(void **state);
int sfx_teardown(void **state);

/* Opens f->path on f's clock as device (NULL: the one in the file) or fails the test. */
store *sfx_open_at(struct sfx *f, const char *device);

/* Records one session of n answers of one kind at touchpoint tp with the given values (choice
 * answers: 1 is "staff", others "price") and flags, or fails the test; returns the first seq. */
int64_t sfx_rec(store *s, const char *tp, const char *q, tp_kind kind, const int *vals, size_t n,
                unsigned flags);
void sfx_rec1(store *s, const char *tp, const char *q, tp_kind kind, int v, unsigned flags);

/* store_get_info of s, or fails the test. */
store_info sfx_info(store *s);

/* Collects a walk's seqs (the first 64) and last answer; stops with TP_ERR_EXISTS after
 * stop_after answers when that is set; records an answer through other (when set) during the
 * first callback, to show that a walk reads one snapshot. */
struct sfx_collect {
    int64_t seqs[64];
    store_answer last;
    size_t n;
    size_t stop_after;
    store *other;
};
tp_err sfx_collect_cb(const store_answer *a, void *ctx);

#endif /* TP_STORE_FIXTURE_H */
