/*
 * test_store_fault.c - fault tests of the answer store with real processes and real filesystems:
 * kill -9 during recording (>= 200 times), a full disk (max_page_count and a 1 MiB tmpfs), a
 * read-only folder (a child that drops to user nobody, and a read-only bind mount), a locked
 * database, and corrupt files (garbage, truncated, a damaged page) recovered at open.
 *
 * Runs as root (mount and setuid need it); the parts that need a privilege the machine does not
 * grant are reported as TAP skips, never as passes.
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
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"
#include "support/store_fixture.h"

#define CRASH_ROUNDS 205

struct fx {
    char dir[64];
    char path[128];
    char mnt[128]; /* a mount point to unmount at teardown, or "" */
    char shm[64];  /* a folder on /dev/shm to remove at teardown, or "" */
    store *s;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    sfx_temp_dir(f->dir, sizeof f->dir, "fault");
    chmod(f->dir, 0755);
    snprintf(f->path, sizeof f->path, "%s/answers.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    if (f->mnt[0])
        umount2(f->mnt, MNT_DETACH);
    sfx_rm_tree(f->dir);
    if (f->shm[0])
        sfx_rm_tree(f->shm);
    free(f);
    return 0;
}

/* Every seq from epoch_first_seq to highest_seq exists exactly once and no gap is reported. */
static void assert_contiguous(store *s)
{
    store_info i;
    assert_int_equal(store_get_info(s, &i), TP_OK);
    assert_int_equal(i.n_pending + i.n_synced + i.n_rejected,
                     i.highest_seq - i.epoch_first_seq + 1);
    int64_t gaps[4][2];
    size_t n = 9;
    assert_int_equal(store_find_gaps(s, gaps, 4, &n), TP_OK);
    assert_int_equal(n, 0);
}

/* ---- kill -9 -------------------------------------------------------------------------------- */

struct acked {
    int64_t seq;
    char id[TP_UUID_STR];
};

/* The child: records sessions forever, printing "seq id" for each answer after the call
 * returned TP_OK (that is, after the answer is durable). */
static void crash_child(const char *path, int fd, unsigned seed)
{
    store *s = NULL;
    char err[TP_ERRMSG_MAX];
    if (store_open(path, NULL, &s, err, sizeof err) != TP_OK) {
        dprintf(fd, "E %s\n", err);
        _exit(3);
    }
    for (unsigned i = 0;; i++) {
        store_receipt r[2];
        if (sfx_record(s, (int)(seed + i), 2, r) != TP_OK) {
            dprintf(fd, "E %s\n", store_errmsg(s));
            _exit(4);
        }
        char line[2 * (TP_UUID_STR + 24)];
        int n = snprintf(line, sizeof line, "A %lld %s\nA %lld %s\n", (long long)r[0].seq, r[0].id,
                         (long long)r[1].seq, r[1].id);
        /* One write of < PIPE_BUF bytes: atomic, so a kill never leaves half a line. */
        if (write(fd, line, (size_t)n) != n)
            _exit(5);
    }
}

static void kill9_never_loses_acknowledged_answers(void **state)
{
    struct fx *f = *state;
    /* The database lives on a tmpfs (/dev/shm) when there is one: a SIGKILL does not drop the
     * page cache, so what this test proves (a kill at any instruction leaves a consistent file
     * holding every acknowledged answer) does not depend on the medium, and without real fsyncs
     * 220 rounds fit in seconds even in the ASan build on a loaded machine. Power-loss
     * durability rests on synchronous=FULL, which no process test can show. */
    char shmdir[64] = "/dev/shm/tp-crash-XXXXXX";
    char path[128];
    bool on_shm = mkdtemp(shmdir) != NULL;
    if (on_shm) /* removed at teardown, also when an assertion fails */
        tp_strlcpy(f->shm, shmdir, sizeof f->shm);
    snprintf(path, sizeof path, "%s/answers.db", on_shm ? shmdir : f->dir);
    size_t cap = 1 << 16;
    struct acked *acks = calloc(cap, sizeof *acks);
    size_t n_acks = 0;
    struct sfx_walk w = {.cap = 1 << 17};
    w.ids = calloc((size_t)w.cap, sizeof *w.ids);
    srand(12345);
    int killed_mid = 0, no_ack_rounds = 0;
    int64_t prev_highest = 0;
    for (int round = 0; round < CRASH_ROUNDS; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            crash_child(path, p[1], (unsigned)round * 7919u);
        }
        close(p[1]);
        /* Kill at a random moment: half of the rounds within the first 3 ms (start, open,
         * first commit), the others after a random number (1..4) of acknowledged answers plus a
         * random 0..2 ms, so kills land inside commits whatever the machine's speed (the ASan
         * build is several times slower). */
        int target = rand() % 2 == 0 ? 0 : 1 + rand() % 4;
        /* Room for everything the child can write before it dies: what we read while waiting
         * plus at most one full pipe (64 KiB) while we sleep. */
        static char buf[256 * 1024];
        size_t used = 0;
        int lines = 0;
        while (lines < target && used < 64 * 1024) {
            ssize_t got = read(p[0], buf + used, sizeof buf - 1 - used);
            if (got <= 0)
                break;
            for (ssize_t k = 0; k < got; k++)
                lines += buf[used + (size_t)k] == '\n';
            used += (size_t)got;
        }
        struct timespec d = {0, (long)(rand() % (target ? 2000 : 3000)) * 1000L};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (WIFSIGNALED(st))
            killed_mid++;
        else
            fail_msg("round %d: the child exited by itself (status %d)", round, st);
        /* Read the rest of the acknowledgements (the writer is dead: read to EOF). */
        for (;;) {
            if (used >= sizeof buf - 1)
                fail_msg("round %d: too many acknowledgements for the buffer", round);
            ssize_t got = read(p[0], buf + used, sizeof buf - 1 - used);
            if (got <= 0)
                break;
            used += (size_t)got;
        }
        close(p[0]);
        buf[used] = '\0';
        size_t acks_before = n_acks;
        for (char *line = buf, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
            *nl = '\0';
            long long seq;
            char id[TP_UUID_STR];
            if (line[0] == 'E')
                fail_msg("round %d: child failed: %s", round, line);
            if (sscanf(line, "A %lld %36s", &seq, id) != 2)
                fail_msg("round %d: torn acknowledgement line '%s'", round, line);
            assert_true(n_acks < cap);
            acks[n_acks].seq = seq;
            memcpy(acks[n_acks].id, id, TP_UUID_STR);
            n_acks++;
        }
        if (n_acks == acks_before)
            no_ack_rounds++;

        /* The database opens cleanly (quick_check passes, no recovery), every acknowledged
         * answer is there with its id, and seqs are 1..highest with no gap or duplicate. */
        store *s = sfx_open(path, NULL);
        store_info i;
        assert_int_equal(store_get_info(s, &i), TP_OK);
        assert_string_equal(i.recovered_from, "");
        assert_int_equal(i.epoch_first_seq, 1);
        /* Every 50 rounds (and at the end) walk and compare everything; otherwise the answers
         * from this round's first acknowledgement on (older ones were compared before, and
         * find_gaps below proves none vanished). */
        bool full = round % 50 == 49 || round == CRASH_ROUNDS - 1;
        int64_t from = full ? 0 : prev_highest; /* this round's answers are all above it */
        w.count = 0;
        w.prev = from;
        w.dup_or_order = false;
        assert_int_equal(store_foreach_answer(s, from, -1, sfx_walk_cb, &w), TP_OK);
        assert_false(w.dup_or_order);
        assert_int_equal(w.count, i.highest_seq - from);
        assert_true(i.highest_seq < w.cap);
        for (size_t k = full ? 0 : acks_before; k < n_acks; k++) {
            assert_true(acks[k].seq <= i.highest_seq);
            if (strcmp(w.ids[acks[k].seq], acks[k].id) != 0)
                fail_msg("round %d: acknowledged seq %lld id %s, stored %s", round,
                         (long long)acks[k].seq, acks[k].id, w.ids[acks[k].seq]);
        }
        assert_contiguous(s);
        prev_highest = i.highest_seq;
        if (full)
            assert_int_equal(store_check(s, true), TP_OK);
        store_close(s);
    }
    /* Acknowledged seqs are unique (a seq acknowledged twice would be a reuse). */
    for (size_t k = 1; k < n_acks; k++)
        for (size_t j = k; j > 0 && acks[j - 1].seq > acks[j].seq; j--) {
            struct acked t = acks[j];
            acks[j] = acks[j - 1];
            acks[j - 1] = t;
        }
    for (size_t k = 1; k < n_acks; k++)
        assert_true(acks[k].seq != acks[k - 1].seq);
    assert_true(n_acks > 0);
    print_message("checked: %d SIGKILLs of a recording child at random moments (%d before its "
                  "first acknowledgement: during start, open or the first commit); after each the "
                  "database opened cleanly without recovery, all %zu "
                  "acknowledged answers were there with their ids, seqs 1..N with no gap or "
                  "duplicate; full walk + integrity_check every 50 rounds (database on %s)\n",
                  killed_mid, no_ack_rounds, n_acks, on_shm ? "tmpfs /dev/shm" : "disk");
    free(acks);
    free(w.ids);
}

/* ---- Disk full ------------------------------------------------------------------------------ */

static void disk_full_max_page_count(void **state)
{
    struct fx *f = *state;
    f->s = sfx_open(f->path, NULL);
    store_receipt r[2];
    assert_int_equal(sfx_record(f->s, 1, 2, r), TP_OK);
    store_close(f->s);
    /* A cap a few pages above the current size: the store fills up after some sessions. */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t pages = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    store_options o = {.max_page_count = pages + 3};
    f->s = sfx_open(f->path, &o);
    int64_t last_ok = r[1].seq;
    tp_err rc = TP_OK;
    int sessions = 0;
    for (int i = 0; i < 100000 && rc == TP_OK; i++) {
        rc = sfx_record(f->s, i, 2, r);
        if (rc == TP_OK) {
            last_ok = r[1].seq;
            sessions++;
        }
    }
    assert_int_equal(rc, TP_ERR_DISK_FULL);
    const char *m = store_errmsg(f->s);
    assert_non_null(strstr(m, f->path));
    assert_non_null(strstr(m, "disk full"));
    /* Consistent: the failed call left nothing, the earlier ones are all there. */
    store_info i;
    assert_int_equal(store_get_info(f->s, &i), TP_OK);
    assert_int_equal(i.highest_seq, last_ok);
    assert_int_equal(store_check(f->s, true), TP_OK);
    assert_contiguous(f->s);
    /* A second attempt fails the same way (no half state). */
    assert_int_equal(sfx_record(f->s, 5, 2, r), TP_ERR_DISK_FULL);
    store_close(f->s);
    /* With room again, numbering continues at +1. */
    f->s = sfx_open(f->path, NULL);
    assert_int_equal(sfx_record(f->s, 5, 2, r), TP_OK);
    assert_int_equal(r[0].seq, last_ok + 1);
    assert_contiguous(f->s);
    print_message("checked: max_page_count = page_count+3: after %d sessions record returns "
                  "TP_ERR_DISK_FULL naming the file and 'disk full', highest_seq stays at the "
                  "last success, integrity and counters hold; with room seq continues at +1\n",
                  sessions);
}

static void disk_full_tmpfs(void **state)
{
    struct fx *f = *state;
    char mnt[160];
    snprintf(mnt, sizeof mnt, "%s/small", f->dir);
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        skip(); /* not permitted here (no CAP_SYS_ADMIN): reported as a TAP skip */
    }
    tp_strlcpy(f->mnt, mnt, sizeof f->mnt);
    char path[200];
    snprintf(path, sizeof path, "%s/answers.db", mnt);
    /* The default 1 MiB reserve refuses at once on a 1 MiB filesystem. */
    store *s = sfx_open(path, NULL);
    store_receipt r[2];
    assert_int_equal(sfx_record(s, 1, 2, r), TP_ERR_DISK_FULL);
    assert_non_null(strstr(store_errmsg(s), "reserve"));
    store_close(s);
    /* With a tiny reserve, fill the filesystem for real: SQLite hits ENOSPC. */
    store_options o = {.min_free_bytes = 1};
    s = sfx_open(path, &o);
    tp_err rc = TP_OK;
    int64_t last_ok = 0;
    int sessions = 0;
    char filler[200];
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    /* Leave ~96 KiB so the run is short but still fills up inside SQLite's writes. */
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    char block[4096];
    memset(block, 'x', sizeof block);
    struct stat stt;
    for (;;) {
        store_info i;
        assert_int_equal(store_get_info(s, &i), TP_OK);
        if (i.free_bytes < 96 * 1024 || write(fd, block, sizeof block) != (ssize_t)sizeof block)
            break;
    }
    close(fd);
    for (int i = 0; i < 100000 && rc == TP_OK; i++) {
        rc = sfx_record(s, i, 2, r);
        if (rc == TP_OK) {
            last_ok = r[1].seq;
            sessions++;
        }
    }
    assert_int_equal(rc, TP_ERR_DISK_FULL);
    assert_non_null(strstr(store_errmsg(s), path));
    char msg[TP_ERRMSG_MAX];
    tp_strlcpy(msg, store_errmsg(s), sizeof msg);
    store_close(s);
    /* Free space, reopen: consistent and numbering continues. */
    assert_int_equal(unlink(filler), 0);
    s = sfx_open(path, &o);
    store_info i;
    assert_int_equal(store_get_info(s, &i), TP_OK);
    assert_int_equal(i.highest_seq, last_ok);
    assert_int_equal(store_check(s, true), TP_OK);
    assert_contiguous(s);
    assert_int_equal(sfx_record(s, 1, 2, r), TP_OK);
    assert_int_equal(r[0].seq, last_ok + 1);
    store_close(s);
    (void)stt;
    print_message("checked: on a 1 MiB tmpfs the 1 MiB reserve refuses at once; with a 1-byte "
                  "reserve %d sessions fit, then TP_ERR_DISK_FULL (\"%.120s\"); after freeing "
                  "space the file passes integrity_check, holds exactly the acknowledged "
                  "answers, and seq continues at +1\n",
                  sessions, msg);
}

/* ---- Read-only ------------------------------------------------------------------------------ */

/* In a child running as nobody (root ignores permissions): opening for writing in a folder it
 * cannot write must fail with TP_ERR_READONLY. Exit codes: 0 ok, 10+rc otherwise. */
static void readonly_child(const char *newpath, const char *oldpath)
{
    if (setgid(65534) != 0 || setuid(65534) != 0)
        _exit(2);
    char err[TP_ERRMSG_MAX];
    store *s = NULL;
    tp_err rc = store_open(newpath, NULL, &s, err, sizeof err);
    if (rc != TP_ERR_READONLY || !strstr(err, newpath)) {
        fprintf(stderr, "new file: rc %d: %s\n", rc, err);
        _exit(10 + rc);
    }
    rc = store_open(oldpath, NULL, &s, err, sizeof err);
    if (rc != TP_ERR_READONLY || !strstr(err, oldpath)) {
        fprintf(stderr, "existing file: rc %d: %s\n", rc, err);
        _exit(40 + rc);
    }
    fprintf(stderr, "as nobody: %s\n", err);
    _exit(0);
}

static void readonly_folder(void **state)
{
    struct fx *f = *state;
    f->s = sfx_open(f->path, NULL);
    store_receipt r[2];
    assert_int_equal(sfx_record(f->s, 1, 2, r), TP_OK);
    store_close(f->s);
    f->s = NULL;
    char newpath[200];
    snprintf(newpath, sizeof newpath, "%s/new.db", f->dir);
    /* The folder and files belong to root, mode 0755/0644: nobody can read but not write. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        readonly_child(newpath, f->path);
    }
    close(p[1]);
    char out[1024] = "";
    ssize_t got = read(p[0], out, sizeof out - 1);
    out[got > 0 ? got : 0] = '\0';
    close(p[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("child as nobody: status %d: %s", st, out);
    assert_int_not_equal(access(newpath, F_OK), 0);

    /* A read-only bind mount of the folder: root cannot write there either. */
    char ro[160];
    snprintf(ro, sizeof ro, "%s/ro", f->dir);
    assert_int_equal(mkdir(ro, 0755), 0);
    bool bind_ok = mount(f->dir, ro, NULL, MS_BIND, NULL) == 0;
    if (bind_ok) {
        tp_strlcpy(f->mnt, ro, sizeof f->mnt);
        bind_ok = mount(NULL, ro, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0;
    }
    char bindmsg[TP_ERRMSG_MAX] = "read-only bind mount not permitted here";
    if (bind_ok) {
        char rpath[200];
        snprintf(rpath, sizeof rpath, "%s/answers.db", ro);
        char err[TP_ERRMSG_MAX];
        store *s = NULL;
        assert_int_equal(store_open(rpath, NULL, &s, err, sizeof err), TP_ERR_READONLY);
        assert_non_null(strstr(err, rpath));
        tp_strlcpy(bindmsg, err, sizeof bindmsg);
        snprintf(rpath, sizeof rpath, "%s/other.db", ro);
        assert_int_equal(store_open(rpath, NULL, &s, err, sizeof err), TP_ERR_READONLY);
        /* The original is untouched and still fine. */
    }
    f->s = sfx_open(f->path, NULL);
    store_info i;
    assert_int_equal(store_get_info(f->s, &i), TP_OK);
    assert_int_equal(i.highest_seq, 2);
    print_message("checked: a child as uid 65534 gets TP_ERR_READONLY naming the file for a new "
                  "file and for the existing store in a root-owned folder (%.*s); read-only bind "
                  "mount: %s\n",
                  (int)strcspn(out, "\n"), out, bindmsg);
}

/* ---- Locked --------------------------------------------------------------------------------- */

static void locked_database(void **state)
{
    struct fx *f = *state;
    store_options o = {.busy_timeout_ms = 150};
    f->s = sfx_open(f->path, &o);
    store_receipt r[2];
    assert_int_equal(sfx_record(f->s, 1, 2, r), TP_OK);
    /* Another process-like connection holds the write lock. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sfx_record(f->s, 2, 2, r), TP_ERR_LOCKED);
    const char *m = store_errmsg(f->s);
    assert_non_null(strstr(m, f->path));
    assert_non_null(strstr(m, "locked"));
    int64_t one = 1;
    assert_int_equal(store_mark_synced(f->s, &one, 1, NULL), TP_ERR_LOCKED);
    assert_int_equal(store_set_export_cursor(f->s, 1), TP_ERR_LOCKED);
    /* Reads still work under WAL while a writer holds the lock. */
    store_info i;
    assert_int_equal(store_get_info(f->s, &i), TP_OK);
    assert_int_equal(i.highest_seq, 2);
    /* Opening a new (empty) file needs the lock to create the schema; an existing up-to-date
     * store opens without it. */
    store *s2 = NULL;
    char err[TP_ERRMSG_MAX];
    assert_int_equal(store_open(f->path, &o, &s2, err, sizeof err), TP_OK);
    store_close(s2);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sfx_record(f->s, 3, 2, r), TP_OK);
    assert_int_equal(r[0].seq, 3);
    assert_int_equal(store_check(f->s, true), TP_OK);
    assert_contiguous(f->s);
    print_message("checked: while another connection holds BEGIN IMMEDIATE, record, "
                  "mark_synced and set_export_cursor return TP_ERR_LOCKED after the 150 ms busy "
                  "timeout naming the file; reads and opening still work; after release seq "
                  "continues at 3\n");
}

/* ---- Corrupt files -------------------------------------------------------------------------- */

/* Makes a store with n sessions (2n answers), closed with an empty WAL so the main file holds
 * everything. Returns the highest seq. */
static int64_t make_store(struct fx *f, int n)
{
    store *s = sfx_open(f->path, NULL);
    /* Sessions of 16 answers: 2n answers with n/8 durable commits (fsyncs are slow here). */
    store_answer_in a[16];
    for (int k = 0; k < 16; k++)
        a[k] = (store_answer_in){"recommend", TP_KIND_NPS, k % 11, NULL};
    store_session_in in = {.survey_id = "checkout-nps",
                           .survey_version = 2,
                           .store_id = "hcm-01",
                           .touchpoint_id = "exit",
                           .lang = "vi",
                           .n_answers = 16,
                           .answers = a};
    store_receipt r[16] = {{"", 0}};
    for (int i = 0; i < n / 8; i++)
        assert_int_equal(store_record_session(s, &in, NULL, r), TP_OK);
    store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    return r[15].seq;
}

/* Opens f->path expecting a recovery; checks the outcome and returns the new first seq. */
static int64_t expect_recovery(struct fx *f, int64_t old_highest, const char *what)
{
    /* Capture stderr during the open: the recovery must be reported there. */
    char errfile[200];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", f->dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    char err[TP_ERRMSG_MAX] = "";
    store *s = NULL;
    tp_err rc = store_open(f->path, NULL, &s, err, sizeof err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    if (rc != TP_OK)
        fail_msg("%s: store_open: %s", what, err);
    f->s = s;
    store_info i;
    assert_int_equal(store_get_info(s, &i), TP_OK);
    /* Moved aside, never deleted. */
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s.corrupt-", f->path);
    assert_int_equal(strncmp(i.recovered_from, prefix, strlen(prefix)), 0);
    assert_int_equal(strlen(i.recovered_from), strlen(prefix) + 16); /* 20261123T183000Z */
    assert_int_equal(i.recovered_from[strlen(i.recovered_from) - 1], 'Z');
    assert_int_equal(access(i.recovered_from, F_OK), 0);
    /* Numbering continues after everything the old file may have used; a new epoch. */
    assert_true(i.epoch_first_seq > old_highest);
    /* ...and does not jump absurdly (a damaged page can hold any number): at most the seqmark's
     * reservation step ahead. */
    assert_true(i.epoch_first_seq <= old_highest + 2 * 1024 + 1);
    assert_int_equal(i.highest_seq, i.epoch_first_seq - 1);
    store_receipt r[2];
    assert_int_equal(sfx_record(s, 1, 2, r), TP_OK);
    assert_int_equal(r[0].seq, i.epoch_first_seq);
    assert_contiguous(s);
    assert_int_equal(store_check(s, true), TP_OK);
    /* Reported: an event the UI can show, and stderr. */
    store_event ev[4];
    size_t n = 0;
    assert_int_equal(store_events(s, ev, 4, &n), TP_OK);
    assert_true(n >= 1);
    assert_string_equal(ev[n - 1].level, "error");
    assert_non_null(strstr(ev[n - 1].message, i.recovered_from));
    FILE *ef = fopen(errfile, "r");
    char line[2048] = "";
    assert_non_null(ef);
    assert_non_null(fgets(line, sizeof line, ef));
    fclose(ef);
    assert_non_null(strstr(line, "moved aside"));
    /* A second open is normal (no new recovery). */
    store_close(s);
    f->s = sfx_open(f->path, NULL);
    store_info j;
    assert_int_equal(store_get_info(f->s, &j), TP_OK);
    assert_string_equal(j.recovered_from, i.recovered_from);
    assert_string_equal(j.epoch, i.epoch);
    return i.epoch_first_seq;
}

static void corrupt_garbage_file(void **state)
{
    struct fx *f = *state;
    int64_t hi = make_store(f, 20);
    store *old = sfx_open(f->path, NULL);
    store_info oi;
    assert_int_equal(store_get_info(old, &oi), TP_OK);
    store_close(old);
    /* Overwrite the whole file with text: not a database at all. */
    FILE *g = fopen(f->path, "w");
    for (int i = 0; i < 2000; i++)
        fputs("this is not an sqlite database, just garbage bytes\n", g);
    fclose(g);
    char wal[200];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    unlink(wal);
    /* A readonly open must not recover: it reports corruption and moves nothing. */
    store_options ro = {.readonly = true};
    char err[TP_ERRMSG_MAX];
    store *s = NULL;
    assert_int_equal(store_open(f->path, &ro, &s, err, sizeof err), TP_ERR_CORRUPT);
    assert_non_null(strstr(err, f->path));
    int64_t first = expect_recovery(f, hi, "garbage");
    store_info i;
    assert_int_equal(store_get_info(f->s, &i), TP_OK);
    assert_string_not_equal(i.epoch, oi.epoch);
    /* The garbage is kept byte for byte. */
    FILE *k = fopen(i.recovered_from, "r");
    char line[128];
    assert_non_null(fgets(line, sizeof line, k));
    fclose(k);
    assert_string_equal(line, "this is not an sqlite database, just garbage bytes\n");
    print_message("checked: a garbage file (old highest seq %lld) is refused by a readonly open "
                  "(TP_ERR_CORRUPT), then moved aside as %s by a normal open; new epoch starts "
                  "at seq %lld (from the seqmark), event + stderr report\n",
                  (long long)hi, i.recovered_from, (long long)first);
}

static void corrupt_truncated_file(void **state)
{
    struct fx *f = *state;
    int64_t hi = make_store(f, 300);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(truncate(f->path, st.st_size / 2), 0);
    int64_t first = expect_recovery(f, hi, "truncated");
    print_message("checked: a store truncated to half (%lld of %lld bytes, highest seq %lld) is "
                  "recovered: moved aside, new epoch at seq %lld\n",
                  (long long)(st.st_size / 2), (long long)st.st_size, (long long)hi,
                  (long long)first);
}

static void corrupt_damaged_page_without_seqmark(void **state)
{
    struct fx *f = *state;
    int64_t hi = make_store(f, 300);
    /* Find a leaf page of the answers table and overwrite its middle with noise. */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    int64_t page = 0, page_size = 4096;
    if (sqlite3_prepare_v2(db,
                           "SELECT pageno FROM dbstat WHERE name = 'answers' AND pagetype = 'leaf' "
                           "ORDER BY pageno LIMIT 1 OFFSET 3",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW)
        page_size = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (page == 0)
        page = 10; /* dbstat not compiled in: some page in the middle of the answers */
    int fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    unsigned char noise[512];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(i * 37 + 11);
    assert_int_equal(pwrite(fd, noise, sizeof noise, (page - 1) * page_size + 8), 512);
    close(fd);
    /* Remove the sidecar: the highest seq must then come from the damaged file itself. */
    char mark[200];
    snprintf(mark, sizeof mark, "%s.seqmark", f->path);
    assert_int_equal(unlink(mark), 0);
    int64_t first = expect_recovery(f, hi, "damaged page");
    print_message("checked: a valid store with page %lld damaged and no seqmark file is "
                  "recovered: moved aside, highest seq %lld read from the damaged file, new "
                  "epoch at %lld\n",
                  (long long)page, (long long)hi, (long long)first);
}

static void corruption_found_later_is_recovered_at_next_open(void **state)
{
    struct fx *f = *state;
    int64_t hi = make_store(f, 300);
    /* Damage the last leaf of the answers (the newest answers). */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    int64_t page = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT pageno FROM dbstat WHERE name = 'answers' AND pagetype = 'leaf' "
                           "ORDER BY pageno DESC LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (page == 0)
        skip(); /* dbstat is not compiled into this SQLite */
    int fd = open(f->path, O_WRONLY);
    unsigned char noise[1024];
    memset(noise, 0xA5, sizeof noise);
    /* The end of a leaf page holds its cells (free space is in the middle). */
    assert_int_equal(pwrite(fd, noise, sizeof noise, page * 4096 - 1024 - 16), 1024);
    close(fd);
    /* No time for the check (budget 0): the open goes on and says so in the event log. */
    store_open_check_budget_ms = 0;
    store *s = sfx_open(f->path, NULL);
    store_open_check_budget_ms = 250;
    store_event ev[2];
    size_t n = 0;
    assert_int_equal(store_events(s, ev, 2, &n), TP_OK);
    assert_true(n >= 1);
    assert_non_null(strstr(ev[0].message, "budget"));
    /* Reading every answer runs into the damage: TP_ERR_CORRUPT, and the file is marked. */
    struct sfx_walk w = {.cap = 0};
    assert_int_equal(store_foreach_answer(s, 0, -1, sfx_walk_cb, &w), TP_ERR_CORRUPT);
    assert_non_null(strstr(store_errmsg(s), f->path));
    store_close(s);
    char mark[200];
    snprintf(mark, sizeof mark, "%s.suspect", f->path);
    assert_int_equal(access(mark, F_OK), 0);
    /* The next open checks without a budget and recovers. */
    int64_t first = expect_recovery(f, hi, "suspect");
    assert_int_not_equal(access(mark, F_OK), 0);
    print_message("checked: with the open check's budget exhausted the open succeeds and logs a "
                  "warning; a later read hits the damaged page (TP_ERR_CORRUPT) and marks the "
                  "file suspect; the next open checks fully and recovers (new epoch at %lld)\n",
                  (long long)first);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(kill9_never_loses_acknowledged_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(disk_full_max_page_count, setup, teardown),
        cmocka_unit_test_setup_teardown(disk_full_tmpfs, setup, teardown),
        cmocka_unit_test_setup_teardown(readonly_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(locked_database, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_garbage_file, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_truncated_file, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_damaged_page_without_seqmark, setup, teardown),
        cmocka_unit_test_setup_teardown(corruption_found_later_is_recovered_at_next_open, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("store_fault", tests, NULL, NULL);
}
