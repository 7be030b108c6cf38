/*
 * test_store_vfs.c - storage faults without root, the way SQLite tests itself: the store is opened
 * through faultvfs (tests/fault/faultvfs.h), and for each of store_record_session, store_prune
 * and store_set_export_cursor the failing call N is moved over every read, write and sync the
 * operation makes, and then onto the first one after it returned. Each N is run four times: the
 * call fails once with ENOSPC, EIO or EROFS (the process lives on), and a power cut at that call
 * (it and all later I/O fail, then every write not yet synced is undone). After each run the store
 * is reopened normally and must show:
 *   - the operation failed cleanly (a disk-full / read-only / I/O error naming the file) or
 *     succeeded; no recovery from a "corrupt" file was needed; integrity_check is ok;
 *   - no acknowledged answer lost (the six recorded before, and the new one when the call said
 *     TP_OK), a prune all-or-nothing, the export cursor old or new (new when acknowledged);
 *   - seqs with no hole and no repeat, and the next answer numbered after every seq given.
 * Runs as an ordinary user; tests/fault/test_store_fault.c keeps the root-only real-filesystem
 * faults (tmpfs, bind mounts, kill -9).
 */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faultvfs.h"
#include "support/store_fixture.h"

/* The six baseline answers are recorded at T0 (store_fixture.h), the prune cuts an hour on. */
#define BASE_N 6
#define SYNCED_N 3

enum op { OP_RECORD, OP_PRUNE, OP_CURSOR };
static const char *const op_name[] = {"store_record_session", "store_prune",
                                      "store_set_export_cursor"};

struct fx {
    char dir[64];
    char tmpl[128], work[128], path[160];
    tp_vclock vc;
    char ids[BASE_N + 1][TP_UUID_STR]; /* baseline answer ids by seq */
};

/* Opens path on f's clock through the SQLite VFS named vfs (NULL: the default) or fails. */
static store *open_vfs(struct fx *f, const char *path, const char *vfs)
{
    store_options o = {.clock = &f->vc.clock, .device_id = "kiosk-01", .vfs = vfs};
    return sfx_open(path, &o);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return; /* the -wal may be absent */
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* The work folder gets a fresh copy of the baseline store. */
static void fresh_copy(struct fx *f)
{
    static const char *const suffix[] = {"", "-wal", ".seqmark"};
    sfx_rm_tree(f->work);
    assert_int_equal(mkdir(f->work, 0755), 0);
    for (size_t i = 0; i < 3; i++) {
        char a[200], b[200];
        snprintf(a, sizeof a, "%s/answers.db%s", f->tmpl, suffix[i]);
        snprintf(b, sizeof b, "%s%s", f->path, suffix[i]);
        copy_file(a, b);
    }
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_int_equal(faultvfs_register(), SQLITE_OK);
    sfx_temp_dir(f->dir, sizeof f->dir, "vfs");
    snprintf(f->tmpl, sizeof f->tmpl, "%s/template", f->dir);
    snprintf(f->work, sizeof f->work, "%s/work", f->dir);
    snprintf(f->path, sizeof f->path, "%s/answers.db", f->work);
    assert_int_equal(mkdir(f->tmpl, 0755), 0);
    tp_vclock_init(&f->vc, T0);
    f->vc.mono = 5000;
    /* Baseline: six answers; 1..3 synced and exported (prunable once an hour old). */
    char p[200];
    snprintf(p, sizeof p, "%s/answers.db", f->tmpl);
    store *s = open_vfs(f, p, NULL);
    for (int i = 1; i <= BASE_N; i++) {
        store_receipt r;
        assert_int_equal(sfx_record(s, i, 1, &r), TP_OK);
        assert_int_equal(r.seq, i);
        memcpy(f->ids[i], r.id, TP_UUID_STR);
    }
    int64_t seqs[SYNCED_N] = {1, 2, 3};
    assert_int_equal(store_mark_synced(s, seqs, SYNCED_N, NULL), TP_OK);
    assert_int_equal(store_set_export_cursor(s, SYNCED_N), TP_OK);
    store_close(s);
    f->vc.wall += 2 * HOUR_MS;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    faultvfs_disarm();
    sfx_rm_tree(f->dir);
    free(f);
    return 0;
}

/* Runs the operation on s; *acked gets the new answer's receipt when it recorded one. */
static tp_err run_op(struct fx *f, enum op op, store *s, store_receipt *acked)
{
    int64_t deleted = 0;
    switch (op) {
    case OP_RECORD: return sfx_record(s, 9, 1, acked);
    case OP_PRUNE: return store_prune(s, f->vc.wall - HOUR_MS, &deleted);
    case OP_CURSOR: return store_set_export_cursor(s, 5);
    }
    return TP_ERR_INTERNAL;
}

/* Reopens normally and checks everything the file comment lists; rc is what the operation
 * returned, acked its receipt. */
static void verify(struct fx *f, enum op op, tp_err rc, const store_receipt *acked,
                   const char *what)
{
    store *s = open_vfs(f, f->path, NULL);
    store_info i;
    assert_int_equal(store_get_info(s, &i), TP_OK);
    if (i.recovered_from[0])
        fail_msg("%s: the store had to be recovered from %s", what, i.recovered_from);
    if (store_check(s, true) != TP_OK)
        fail_msg("%s: integrity_check: %s", what, store_errmsg(s));

    char ids[BASE_N + 3][TP_UUID_STR] = {{0}};
    struct sfx_walk w = {.ids = ids, .cap = BASE_N + 3};
    assert_int_equal(store_foreach_answer(s, 0, -1, sfx_walk_cb, &w), TP_OK);
    if (w.dup_or_order)
        fail_msg("%s: a seq repeats or is out of order", what);
    int64_t gaps[4][2];
    size_t ng = 9;
    assert_int_equal(store_find_gaps(s, gaps, 4, &ng), TP_OK);
    if (ng != 0)
        fail_msg("%s: seq gap %lld..%lld", what, (long long)gaps[0][0], (long long)gaps[0][1]);

    /* The unprunable answers always; the prunable ones all or none (and none after an
     * acknowledged prune). */
    int kept_old = 0;
    for (int q = 1; q <= BASE_N; q++) {
        bool there = strcmp(ids[q], f->ids[q]) == 0;
        if (q <= SYNCED_N)
            kept_old += there;
        else if (!there)
            fail_msg("%s: acknowledged answer seq %d lost", what, q);
    }
    if (op != OP_PRUNE && kept_old != SYNCED_N)
        fail_msg("%s: acknowledged answers lost (%d of %d old ones left)", what, kept_old,
                 SYNCED_N);
    if (op == OP_PRUNE && kept_old != 0 && kept_old != SYNCED_N)
        fail_msg("%s: a prune half done: %d of %d", what, kept_old, SYNCED_N);
    if (op == OP_PRUNE && rc == TP_OK && kept_old != 0)
        fail_msg("%s: an acknowledged prune is undone", what);
    if (op == OP_RECORD && rc == TP_OK &&
        (acked->seq != BASE_N + 1 || strcmp(ids[acked->seq], acked->id) != 0))
        fail_msg("%s: the acknowledged answer (seq %lld) is lost", what, (long long)acked->seq);
    int64_t cursor = -1;
    assert_int_equal(store_get_export_cursor(s, &cursor), TP_OK);
    if (cursor != SYNCED_N && !(op == OP_CURSOR && cursor == 5))
        fail_msg("%s: export cursor %lld", what, (long long)cursor);
    if (op == OP_CURSOR && rc == TP_OK && cursor != 5)
        fail_msg("%s: the acknowledged cursor move is undone", what);

    /* The next answer is numbered after every seq ever given. */
    store_receipt next;
    assert_int_equal(store_get_info(s, &i), TP_OK);
    assert_int_equal(sfx_record(s, 1, 1, &next), TP_OK);
    if (next.seq != i.highest_seq + 1 || next.seq <= BASE_N ||
        (op == OP_RECORD && rc == TP_OK && next.seq <= acked->seq))
        fail_msg("%s: next seq %lld after highest %lld", what, (long long)next.seq,
                 (long long)i.highest_seq);
    store_close(s);
}

static void sweep(void **state, enum op op)
{
    struct fx *f = *state;
    static const int errs[] = {ENOSPC, EIO, EROFS};
    /* Count the operation's I/O calls. */
    fresh_copy(f);
    store *s = open_vfs(f, f->path, FAULTVFS_NAME);
    store_receipt acked;
    faultvfs_arm(0, 0, false);
    assert_int_equal(run_op(f, op, s, &acked), TP_OK);
    long calls = faultvfs_calls();
    faultvfs_disarm();
    store_close(s);
    assert_true(calls > 0);

    int failed = 0, succeeded = 0;
    long undone = 0;
    /* n = calls + 1: the operation completes and the fault lands on the first I/O after it
     * (closing); as a power cut, that is the cut right after the call returned. */
    for (long n = 1; n <= calls + 1; n++) {
        for (int mode = 0; mode < 4; mode++) {
            bool cut = mode == 3;
            int err = cut ? EIO : errs[mode];
            char what[160];
            snprintf(what, sizeof what, "%s, I/O call %ld of %ld%s, %s", op_name[op], n, calls,
                     n > calls ? " (after it returned)" : "", cut ? "power cut" : strerror(err));
            fresh_copy(f);
            s = open_vfs(f, f->path, FAULTVFS_NAME);
            memset(&acked, 0, sizeof acked);
            faultvfs_arm(n, err, cut);
            tp_err rc = run_op(f, op, s, &acked);
            if (n <= calls && !faultvfs_fired())
                fail_msg("%s: the armed call was not reached", what);
            if (rc != TP_OK) {
                failed++;
                if (rc != TP_ERR_DISK_FULL && rc != TP_ERR_READONLY && rc != TP_ERR_IO)
                    fail_msg("%s: failed with %s: %s", what, tp_strerror(rc), store_errmsg(s));
                if (!strstr(store_errmsg(s), f->path))
                    fail_msg("%s: the message does not name the file: %s", what, store_errmsg(s));
            } else {
                succeeded++;
            }
            if (cut) {
                store_close(s);
                undone += faultvfs_power_cut();
            } else {
                faultvfs_disarm();
                store_close(s);
            }
            verify(f, op, rc, &acked, what);
        }
    }
    print_message("checked: %s: the failing call moved over all %ld of its reads, writes and "
                  "syncs and the first I/O after it returned, each as ENOSPC, EIO, EROFS and a "
                  "power cut (%d runs failed cleanly, %d "
                  "succeeded; the power cuts undid %ld unsynced writes): integrity ok, nothing "
                  "acknowledged lost, no seq hole or repeat\n",
                  op_name[op], calls, failed, succeeded, undone);
}

static void record_session_faults(void **state)
{
    sweep(state, OP_RECORD);
}

static void prune_faults(void **state)
{
    sweep(state, OP_PRUNE);
}

static void export_cursor_faults(void **state)
{
    sweep(state, OP_CURSOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(record_session_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(prune_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(export_cursor_faults, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_vfs", tests, NULL, NULL);
}
