/*
 * test_store_files.c - unit tests of the answer store's files (storage/store.h): schema versions
 * (too new, migration), damage found by find_gaps and check, the free-space reserve, the WAL's
 * bound under short-lived writers, read-only opens that change nothing, files that are not ours
 * and a deleted database.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"
#include "support/store_fixture.h"

/* ---- Schema versions, damage, reserve, WAL, files on disk ----------------------------------- */

static void schema_too_new(void **state)
{
    struct sfx *f = *state;
    store_close(f->s);
    f->s = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[TP_ERRMSG_MAX];
    store *s = NULL;
    assert_int_equal(store_open(f->path, NULL, &s, err, sizeof err), TP_ERR_TOO_NEW);
    assert_null(s);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "99"));
    char mine[16];
    snprintf(mine, sizeof mine, "%d", STORE_SCHEMA_LATEST);
    assert_non_null(strstr(err, mine));
    store_options ro = {.readonly = true};
    assert_int_equal(store_open(f->path, &ro, &s, err, sizeof err), TP_ERR_TOO_NEW);
    /* The file was not touched (not moved aside, not migrated). */
    assert_int_equal(access(f->path, F_OK), 0);
    /* A foreign SQLite file is refused, not taken over. */
    char foreign[160];
    snprintf(foreign, sizeof foreign, "%s/foreign.db", f->dir);
    assert_int_equal(sqlite3_open(foreign, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(foreign, NULL, &s, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "not a Touchpoint store"));
    print_message("checked: a database with user_version 99 -> TP_ERR_TOO_NEW naming the file "
                  "and both versions (read-write and readonly), file untouched; a foreign "
                  "SQLite file is refused\n");
}

static void migrates_from_older_version(void **state)
{
    struct sfx *f = *state;
    store_close(f->s);
    sfx_rm_tree(f->dir);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    store_schema_target = 1;
    f->s = sfx_open_at(f, "kiosk-01");
    assert_int_equal(sfx_info(f->s).schema_version, 1);
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    store_close(f->s);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);

    store_schema_target = STORE_SCHEMA_LATEST;
    f->s = sfx_open_at(f, "kiosk-01");
    store_info i = sfx_info(f->s);
    assert_int_equal(i.schema_version, STORE_SCHEMA_LATEST);
    assert_int_equal(i.highest_seq, 1);
    /* The version 2 tables work and the old data is intact. */
    assert_int_equal(store_log_event(f->s, "info", "after migration"), TP_OK);
    store_sync_result r = {.at_ms = T0, .ok = true, .http_status = 200, .sent = 1};
    assert_int_equal(store_log_sync(f->s, &r), TP_OK);
    assert_int_equal(sfx_rec(f->s, "exit", "recommend", TP_KIND_NPS, (int[]){1}, 1, 0), 2);
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("checked: a version-1 database (made with the schema hook) is migrated to "
                  "version %d at open, keeps its answers and numbering, new tables usable\n",
                  STORE_SCHEMA_LATEST);
}

static void find_gaps_and_check_detect_damage(void **state)
{
    struct sfx *f = *state;
    for (int i = 0; i < 10; i++)
        sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 5, 0);
    int64_t gaps[4][2];
    size_t n = 9;
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &n), TP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_check(f->s, false), TP_OK);
    assert_int_equal(store_check(f->s, true), TP_OK);
    /* Remove answers behind the store's back: a real gap, and counters that no longer match. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "DELETE FROM answers WHERE seq IN (4, 5, 8)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &n), TP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(gaps[0][0], 4);
    assert_int_equal(gaps[0][1], 5);
    assert_int_equal(gaps[1][0], 8);
    assert_int_equal(gaps[1][1], 8);
    assert_int_equal(store_find_gaps(f->s, gaps, 1, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_find_gaps(f->s, NULL, 1, &n), TP_ERR_INVALID);
    assert_int_equal(store_check(f->s, true), TP_ERR_CORRUPT);
    assert_non_null(strstr(store_errmsg(f->s), "counters"));
    print_message("checked: find_gaps reports [4,5] and [8,8] after rows vanish behind the "
                  "store's back (bounded by max); store_check(full) reports the counter "
                  "mismatch as TP_ERR_CORRUPT\n");
}

static void free_space_reserve(void **state)
{
    struct sfx *f = *state;
    store_close(f->s);
    store_options o = {.clock = &f->vc.clock, .min_free_bytes = INT64_MAX / 2};
    char err[TP_ERRMSG_MAX];
    assert_int_equal(store_open(f->path, &o, &f->s, err, sizeof err), TP_OK);
    store_answer_in a = {"recommend", TP_KIND_NPS, 9, NULL};
    store_session_in in = sfx_session(&a, 1);
    assert_int_equal(store_record_session(f->s, &in, NULL, NULL), TP_ERR_DISK_FULL);
    assert_non_null(strstr(store_errmsg(f->s), "reserve"));
    assert_int_equal(sfx_info(f->s).highest_seq, 0);
    print_message("checked: free space below min_free_bytes -> TP_ERR_DISK_FULL before "
                  "writing, message names the reserve; nothing stored\n");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* 2,000 writers that each open, record once and close (the `touchpoint record` pattern). The WAL
 * is kept between connections (see store.c), so without a bound it grew about 25 kB per writer
 * (51 MB after 2,000) and every open recovered that whole log. */
static void short_lived_writers_bound_the_wal(void **state)
{
    struct sfx *f = *state;
    store_close(f->s);
    f->s = NULL;
    /* On /dev/shm when there is one: the WAL's growth does not depend on fsync, and 2,000
     * writers x 3 fsyncs on a busy disk would make this test slow. */
    char shm[64] = "/dev/shm/tp-wal-XXXXXX";
    if (mkdtemp(shm)) {
        sfx_rm_tree(f->dir);
        tp_strlcpy(f->dir, shm, sizeof f->dir);
        snprintf(f->path, sizeof f->path, "%s/answers.db", f->dir);
    }
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    enum { WRITERS = 2000, SAMPLE = 100 };
    double first = 0, last = 0;
    int64_t wal_max = 0;
    for (int i = 0; i < WRITERS; i++) {
        char err[TP_ERRMSG_MAX] = "";
        store_options o = {.clock = &f->vc.clock, .device_id = "kiosk-01", .quick_open = true};
        store *s = NULL;
        double t = now_ms();
        assert_int_equal(store_open(f->path, &o, &s, err, sizeof err), TP_OK);
        t = now_ms() - t;
        if (i < SAMPLE)
            first += t;
        else if (i >= WRITERS - SAMPLE)
            last += t;
        sfx_rec1(s, "exit", "recommend", TP_KIND_NPS, i % 11, 0);
        store_close(s);
        int64_t w = size_of(wal);
        if (w > wal_max)
            wal_max = w;
    }
    f->s = sfx_open_at(f, "kiosk-01");
    assert_int_equal(sfx_info(f->s).highest_seq, WRITERS);
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("figure: open of a store written by N earlier processes: %.2f ms (N < %d), "
                  "%.2f ms (N >= %d)\n",
                  first / SAMPLE, SAMPLE, last / SAMPLE, WRITERS - SAMPLE);
    print_message("figure: largest -wal after a writer closed: %lld bytes\n", (long long)wal_max);
    assert_true(size_of(wal) >= 0); /* kept (see store.c), only bounded */
    assert_true(wal_max <= 4 * 1024 * 1024);
    print_message("checked: %d open-record-close writers leave the -wal at most 4 MiB (largest "
                  "%lld bytes); the file is kept; all %d answers there, integrity_check ok\n",
                  WRITERS, (long long)wal_max, WRITERS);
}

/* Names, sizes and mtimes of every entry of dir, one line each, into out. */
static void listing(const char *dir, char *out, size_t len)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "cd '%s' && stat -c '%%n %%s %%Y.%%y' -- * | sort", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, len - 1, p);
    out[got] = '\0';
    pclose(p);
}

/* A reader creates and changes nothing, also where the path needs URI escaping (%, ?, #). */
static void readonly_open_changes_nothing(void **state)
{
    struct sfx *f = *state;
    store_close(f->s);
    f->s = NULL;
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/a%%20b?c#d", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/answers.db", dir);
    store_options o = {.clock = &f->vc.clock};
    char err[TP_ERRMSG_MAX] = "", before[4096], after[4096];
    store *s = NULL;
    assert_int_equal(store_open(path, &o, &s, err, sizeof err), TP_OK);
    sfx_rec1(s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    store_close(s);
    listing(dir, before, sizeof before);
    usleep(20000); /* a write from here on would show in the mtimes */
    o.readonly = true;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_open(path, &o, &s, err, sizeof err), TP_OK);
        assert_int_equal(sfx_info(s).highest_seq, 1);
        assert_int_equal(store_check(s, true), TP_OK);
        store_close(s);
        listing(dir, after, sizeof after);
        assert_string_equal(before, after);
        /* Second round: without the -wal and -shm (a copy of the main file alone). */
        char p[200];
        snprintf(p, sizeof p, "%s-wal", path);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", path);
        unlink(p);
        listing(dir, before, sizeof before);
    }
    print_message("checked: read-only opens, info and integrity_check change no name, size or "
                  "mtime in the folder (with and without -wal/-shm; a path with %%, ? and #)\n");
}

/* A file that was never a store is refused untouched; with our sidecar it is recovered. */
static void refuses_a_file_that_is_not_ours(void **state)
{
    struct sfx *f = *state;
    store_close(f->s);
    f->s = NULL;
    char dir[128], path[160], before[4096], after[4096], err[TP_ERRMSG_MAX] = "";
    snprintf(dir, sizeof dir, "%s/other", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/kiosk.conf", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("[storage]\ndatabase = kiosk.conf\n", fp);
    fclose(fp);
    listing(dir, before, sizeof before);
    store_options o = {.clock = &f->vc.clock};
    store *s = NULL;
    assert_int_equal(store_open(path, &o, &s, err, sizeof err), TP_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err, "is not a Touchpoint database; refusing to touch it"));
    assert_non_null(strstr(err, path));
    listing(dir, after, sizeof after);
    assert_string_equal(before, after);
    /* The same bytes with our sidecar beside them: a damaged store of ours, moved aside. */
    char mark[200];
    snprintf(mark, sizeof mark, "%s.seqmark", path);
    fp = fopen(mark, "w");
    assert_non_null(fp);
    fputs("touchpoint-seqmark 1\n40\n", fp);
    fclose(fp);
    assert_int_equal(store_open(path, &o, &s, err, sizeof err), TP_OK);
    store_info i = sfx_info(s);
    assert_non_null(strstr(i.recovered_from, "kiosk.conf.corrupt-"));
    assert_int_equal(i.epoch_first_seq, 41);
    store_close(s);
    print_message("checked: a text file without our sidecar -> TP_ERR_INVALID 'is not a "
                  "Touchpoint database; refusing to touch it', folder unchanged; with the sidecar "
                  "it is moved aside and numbering continues after its mark\n");
}

static void deleted_database_never_reuses_seqs(void **state)
{
    struct sfx *f = *state;
    for (int i = 0; i < 5; i++)
        sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 5, 0);
    char epoch[TP_UUID_STR];
    memcpy(epoch, sfx_info(f->s).epoch, sizeof epoch);
    store_close(f->s);
    /* Someone deletes the database (but not the sidecar): numbering must still not restart. */
    char p[200];
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    f->s = sfx_open_at(f, "kiosk-01");
    store_info i = sfx_info(f->s);
    assert_string_not_equal(i.epoch, epoch);
    assert_true(i.epoch_first_seq > 5);
    assert_int_equal(i.export_cursor, i.epoch_first_seq - 1);
    assert_int_equal(sfx_rec(f->s, "exit", "recommend", TP_KIND_NPS, (int[]){1}, 1, 0),
                     i.epoch_first_seq);
    int64_t gaps[2][2];
    size_t n = 9;
    assert_int_equal(store_find_gaps(f->s, gaps, 2, &n), TP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sfx_info(f->s).n_not_exported, 1);
    store_event ev[2];
    assert_int_equal(store_events(f->s, ev, 2, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_non_null(strstr(ev[0].message, "new epoch"));
    print_message("checked: after the database is deleted, a new one starts a new epoch at "
                  "seq %lld (after the seqmark), no gaps reported, event logged\n",
                  (long long)i.epoch_first_seq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(schema_too_new, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(migrates_from_older_version, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(find_gaps_and_check_detect_damage, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(free_space_reserve, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(short_lived_writers_bound_the_wal, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(readonly_open_changes_nothing, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(refuses_a_file_that_is_not_ours, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(deleted_database_never_reuses_seqs, sfx_setup,
                                        sfx_teardown),
    };
    return cmocka_run_group_tests_name("store_files", tests, NULL, NULL);
}
