/*
 * bench_store.c - performance figures of the answer store (make bench; never run by make test):
 *   - durable record of a 2-answer session, p50/p99, against a bare SQLite insert of the same rows
 *     with the same pragmas (WAL, synchronous=FULL) in the same folder, interleaved;
 *   - bytes per answer on disk at 100,000 answers;
 *   - open-time integrity checks at 100,000 answers (quick_check vs integrity_check);
 *   - statistics over 1,000,000 answers, one month, by day;
 *   - batch read of 1,000 pending answers + mark synced (durable).
 * Data files go under the build folder (a real disk, not tmpfs). Bulk data is generated with the
 * bench-only fast path store_bulk_begin/end (synchronous=OFF, one transaction) through the same
 * store_record_session code; the figures themselves are measured with the normal durable store.
 * Each figure prints as `figure: VALUE UNIT (target: ...; limit/ratio: ...) met|MISSED`.
 */
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_int.h"

#define DAY_MS 86400000LL

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pctl(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, msg);
    exit(1);
}

static store *open_or_die(const char *path, const store_options *o)
{
    char err[TP_ERRMSG_MAX];
    store *s = NULL;
    if (store_open(path, o, &s, err, sizeof err) != TP_OK)
        die("store_open", err);
    return s;
}

static const char *const TPS[3] = {"exit", "cashier", "cafe"};

/* One realistic session: an NPS rating and a reason choice (or a CSAT at another touchpoint). */
static void session_of(unsigned i, store_answer_in a[2], store_session_in *in)
{
    static const char *const choices[4] = {"staff", "price", "queue", "clean"};
    a[0] = (store_answer_in){"recommend", TP_KIND_NPS, (int)(i * 7919u % 11u), NULL};
    a[1] = (store_answer_in){"why", TP_KIND_CHOICE, 0, choices[i % 4]};
    if (i % 5 == 4) {
        a[0] = (store_answer_in){"satisfied", TP_KIND_CSAT, 1 + (int)(i % 5), NULL};
        a[1] = (store_answer_in){"effort", TP_KIND_CES, 1 + (int)(i % 7), NULL};
    }
    *in = (store_session_in){.survey_id = "checkout-nps",
                             .survey_version = 2,
                             .store_id = "hcm-01",
                             .touchpoint_id = TPS[i % 3],
                             .lang = i % 3 ? "vi" : "en",
                             .flags = i % 50 == 0 ? TP_FLAG_RAPID_REPEAT : 0,
                             .n_answers = 2,
                             .answers = a};
}

/* Fills a store with n_sessions 2-answer sessions spread evenly over span_ms from start_ms. */
static void generate(const char *path, unsigned n_sessions, int64_t start_ms, int64_t span_ms)
{
    tp_vclock vc;
    tp_vclock_init(&vc, start_ms);
    store_options o = {.clock = &vc.clock};
    store *s = open_or_die(path, &o);
    if (store_bulk_begin(s) != TP_OK)
        die("bulk begin", store_errmsg(s));
    for (unsigned i = 0; i < n_sessions; i++) {
        vc.wall = start_ms + (int64_t)((double)span_ms * i / n_sessions);
        vc.mono = vc.wall - start_ms + 1000;
        store_answer_in a[2];
        store_session_in in;
        session_of(i, a, &in);
        if (store_record_session(s, &in, NULL, NULL) != TP_OK)
            die("bulk record", store_errmsg(s));
    }
    if (store_bulk_end(s) != TP_OK)
        die("bulk end", store_errmsg(s));
    store_close(s);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
}

static void verdict(bool met)
{
    printf(" %s\n", met ? "met" : "MISSED");
}

/* ---- 1. durable record vs bare insert ------------------------------------------------------ */

static void bench_record(const char *dir)
{
    enum { N = 300, WARM = 10 };
    char path[PATH_MAX], bare[PATH_MAX];
    snprintf(path, sizeof path, "%.3000s/record.db", dir);
    snprintf(bare, sizeof bare, "%.3000s/bare.db", dir);
    store *s = open_or_die(path, NULL);

    /* The bare baseline: one flat table holding the same fields an answer row carries (ids as
     * text, as a naive design would), the same pragmas, one transaction per 2-row session. */
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    if (sqlite3_open(bare, &db) != SQLITE_OK)
        die("bare open", sqlite3_errmsg(db));
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE a(seq INTEGER PRIMARY KEY, id TEXT, session TEXT, survey TEXT,"
                 " version INT, question TEXT, kind INT, value INT, choice TEXT, lang TEXT,"
                 " store TEXT, touchpoint TEXT, wall INT, trusted INT, mono INT, boot TEXT,"
                 " flags INT, state INT)",
                 NULL, NULL, NULL);
    int one = 1;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
    sqlite3_prepare_v2(db,
                       "INSERT INTO a VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
                       "?16,?17,0)",
                       -1, &ins, NULL);
    double *ts = calloc(N, sizeof *ts), *tb = calloc(N, sizeof *tb);
    int64_t seq = 0;
    const tp_clock *clk = tp_clock_system();
    for (int i = 0; i < N + WARM; i++) {
        store_answer_in a[2];
        store_session_in in;
        session_of((unsigned)i, a, &in);
        /* Interleaved, so machine noise (this box is shared) hits both sides alike, and the
         * order alternates so neither side always follows the other's fsync. */
        double t_store = 0, t_bare = 0;
        for (int side = 0; side < 2; side++) {
            if ((side == 0) == (i % 2 == 0)) {
                double t0 = now_ms();
                if (store_record_session(s, &in, NULL, NULL) != TP_OK)
                    die("record", store_errmsg(s));
                t_store = now_ms() - t0;
                continue;
            }
            double t1 = now_ms();
            char sess[TP_UUID_STR];
            tp_uuid7_new(NULL, sess);
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
            for (int k = 0; k < 2; k++) {
                char id[TP_UUID_STR];
                tp_uuid7_new(NULL, id);
                sqlite3_reset(ins);
                sqlite3_bind_int64(ins, 1, ++seq);
                sqlite3_bind_text(ins, 2, id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(ins, 3, sess, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(ins, 4, in.survey_id, -1, SQLITE_STATIC);
                sqlite3_bind_int(ins, 5, in.survey_version);
                sqlite3_bind_text(ins, 6, a[k].question_id, -1, SQLITE_STATIC);
                sqlite3_bind_int(ins, 7, (int)a[k].kind);
                sqlite3_bind_int(ins, 8, a[k].value);
                if (a[k].choice_id)
                    sqlite3_bind_text(ins, 9, a[k].choice_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 10, in.lang, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 11, in.store_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 12, in.touchpoint_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 13, clk->wall_ms(clk->ctx));
                sqlite3_bind_int(ins, 14, clk->synced(clk->ctx));
                sqlite3_bind_int64(ins, 15, clk->mono_ms(clk->ctx));
                sqlite3_bind_text(ins, 16, clk->boot_id(clk->ctx), -1, SQLITE_STATIC);
                sqlite3_bind_int(ins, 17, (int)in.flags);
                if (sqlite3_step(ins) != SQLITE_DONE)
                    die("bare insert", sqlite3_errmsg(db));
            }
            if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                die("bare commit", sqlite3_errmsg(db));
            t_bare = now_ms() - t1;
        }
        if (i >= WARM) {
            ts[i - WARM] = t_store;
            tb[i - WARM] = t_bare;
        }
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);
    store_close(s);
    double s50 = pctl(ts, N, 0.50), s99 = pctl(ts, N, 0.99);
    double b50 = pctl(tb, N, 0.50), b99 = pctl(tb, N, 0.99);
    printf("figure: %.2f ms record p50, 2-answer session (target: ratio <= 1.3; limit/ratio: bare "
           "insert p50 %.2f ms, ratio %.2f)",
           s50, b50, s50 / b50);
    verdict(s50 / b50 <= 1.3);
    printf("figure: %.2f ms record p99, 2-answer session (target: ratio <= 1.3; limit/ratio: bare "
           "insert p99 %.2f ms, ratio %.2f)",
           s99, b99, s99 / b99);
    verdict(s99 / b99 <= 1.3);
    free(ts);
    free(tb);
}

/* ---- 2. bytes per answer and open checks at 100k ------------------------------------------- */

static int64_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (int64_t)st.st_size : 0;
}

static double time_pragma(const char *path, const char *pragma)
{
    sqlite3 *db = NULL;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    double t0 = now_ms();
    sqlite3_exec(db, pragma, NULL, NULL, NULL);
    double t = now_ms() - t0;
    sqlite3_close(db);
    return t;
}

static void bench_size_and_open(const char *dir)
{
    char path[PATH_MAX], wal[PATH_MAX + 8];
    snprintf(path, sizeof path, "%.3000s/size.db", dir);
    snprintf(wal, sizeof wal, "%.3500s-wal", path);
    /* 100,000 answers over 100 days, all still pending (the partial index at its largest). */
    generate(path, 50000, 1795428000000LL - 100 * DAY_MS, 100 * DAY_MS);
    double bytes = (double)(file_size(path) + file_size(wal)) / 100000.0;
    printf("figure: %.1f bytes/answer at 100,000 answers, all pending (target: <= 150; "
           "limit/ratio: %.1f MB file)",
           bytes, (double)file_size(path) / 1e6);
    verdict(bytes <= 150.0);

    /* Open-time check choice: a warm cache (the kiosk starts after the OS read the file). */
    time_pragma(path, "PRAGMA quick_check");
    double q[5], f[5], o[5];
    for (int i = 0; i < 5; i++) {
        q[i] = time_pragma(path, "PRAGMA quick_check");
        f[i] = time_pragma(path, "PRAGMA integrity_check");
        double t0 = now_ms();
        store *s = open_or_die(path, NULL);
        o[i] = now_ms() - t0;
        store_close(s);
    }
    double qm = pctl(q, 5, 0.5), fm = pctl(f, 5, 0.5), om = pctl(o, 5, 0.5);
    printf("figure: %.1f ms store_open with quick_check at 100,000 answers (target: well under "
           "300 ms first frame; limit/ratio: quick_check %.1f ms, integrity_check %.1f ms)",
           om, qm, fm);
    verdict(om < 300.0);

    /* The budget running out: the check timer interrupts the check and the open goes on. */
    store_open_check_budget_ms = 5;
    double t0 = now_ms();
    store *s = open_or_die(path, NULL);
    double ob = now_ms() - t0;
    store_open_check_budget_ms = 250;
    store_event ev[1];
    size_t n = 0;
    bool logged = store_events(s, ev, 1, &n) == TP_OK && n == 1 && strstr(ev[0].message, "budget");
    store_close(s);
    printf("figure: %.1f ms store_open when a 5 ms check budget runs out at 100,000 answers "
           "(target: < 300 ms; limit/ratio: warning event %s)",
           ob, logged ? "logged" : "NOT logged");
    verdict(ob < 300.0 && logged);
}

/* ---- 3. stats and 4. batch read at 1M ------------------------------------------------------ */

static void bench_million(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.3000s/million.db", dir);
    int64_t from = 0;
    if (tp_parse_date_local("2026-10-01", &from) != TP_OK)
        die("date", "parse");
    int64_t to = from + 31 * DAY_MS; /* local midnight of Nov 1 in a zone without DST */
    double g0 = now_ms();
    generate(path, 500000, from, 31 * DAY_MS);
    double gen = now_ms() - g0;
    fprintf(stderr, "bench_store: generated 1,000,000 answers in %.1f s\n", gen / 1e3);

    store *s = open_or_die(path, NULL);
    store_stats_query q = {.from_ms = from, .to_ms = to, .by = STORE_BY_DAY};
    double t[7];
    size_t nrows = 0;
    int64_t total = 0;
    for (int i = 0; i < 7; i++) {
        store_stats_row *rows = NULL;
        double t0 = now_ms();
        if (store_stats(s, &q, &rows, &nrows) != TP_OK)
            die("stats", store_errmsg(s));
        t[i] = now_ms() - t0;
        total = 0;
        for (size_t k = 0; k < nrows; k++)
            total += rows[k].n;
        store_stats_free(rows);
    }
    double first = t[0];
    double med = pctl(t, 7, 0.5);
    printf("figure: %.1f ms stats, 1,000,000 answers, one month by day (target: <= 200 ms; "
           "limit/ratio: %zu days, %lld answers counted (rapid repeats excluded), first run "
           "%.1f ms)",
           med, nrows, (long long)total, first);
    verdict(med <= 200.0);

    /* Batch read + durable mark synced, 10 consecutive batches. */
    store_answer *batch = calloc(1000, sizeof *batch);
    int64_t *seqs = calloc(1000, sizeof *seqs);
    double b[10];
    int64_t after = 0;
    for (int i = 0; i < 10; i++) {
        size_t n = 0, changed = 0;
        double t0 = now_ms();
        if (store_read_pending(s, after, 1000, batch, &n) != TP_OK)
            die("read_pending", store_errmsg(s));
        for (size_t k = 0; k < n; k++)
            seqs[k] = batch[k].seq;
        if (store_mark_synced(s, seqs, n, &changed) != TP_OK || changed != n || n != 1000)
            die("mark_synced", store_errmsg(s));
        b[i] = now_ms() - t0;
        after = seqs[n - 1];
    }
    double bm = pctl(b, 10, 0.5), bmax = pctl(b, 10, 1.0);
    printf("figure: %.1f ms read 1,000 pending + mark synced (durable), 1,000,000-answer store "
           "(target: <= 20 ms; limit/ratio: worst of 10 batches %.1f ms)",
           bm, bmax);
    verdict(bm <= 20.0);
    free(batch);
    free(seqs);
    store_info info;
    store_get_info(s, &info);
    double t0 = now_ms();
    for (int i = 0; i < 100; i++)
        store_get_info(s, &info);
    double ti = (now_ms() - t0) / 100;
    printf("figure: %.3f ms store_get_info, 1,000,000-answer store (target: cheap, no scan; "
           "limit/ratio: %lld pending)",
           ti, (long long)info.n_pending);
    verdict(ti < 5.0);
    store_close(s);
}

/* ---- 5. short-lived writers ------------------------------------------------------------------ */

/* 2,000 processes that each open the store, record one session and exit (`touchpoint record`
 * from a script): the -wal stays bounded and the open does not slow down with their number. */
static void bench_writers(const char *dir)
{
    enum { WRITERS = 2000, SAMPLE = 100 };
    char path[PATH_MAX], wal[PATH_MAX + 8];
    /* On /dev/shm when there is one: what is measured is the open's work, not fsync latency,
     * which on a busy disk would make 2,000 processes take minutes. */
    char shm[64] = "/dev/shm/tp-bench-XXXXXX";
    bool on_shm = mkdtemp(shm) != NULL;
    snprintf(path, sizeof path, "%.3000s/writers.db", on_shm ? shm : dir);
    snprintf(wal, sizeof wal, "%.3500s-wal", path);
    static double t_open[WRITERS];
    int64_t wal_max = 0;
    for (int i = 0; i < WRITERS; i++) {
        int fds[2];
        if (pipe(fds) != 0)
            die("pipe", "writers");
        pid_t pid = fork();
        if (pid < 0)
            die("fork", "writers");
        if (pid == 0) {
            close(fds[0]);
            store_options o = {.device_id = "bench-01"};
            double t0 = now_ms();
            store *s = open_or_die(path, &o);
            double t = now_ms() - t0;
            store_answer_in a[2];
            store_session_in in;
            session_of((unsigned)i, a, &in);
            if (store_record_session(s, &in, NULL, NULL) != TP_OK)
                die("record", store_errmsg(s));
            store_close(s);
            _exit(write(fds[1], &t, sizeof t) == (ssize_t)sizeof t ? 0 : 1);
        }
        close(fds[1]);
        int st = 0;
        if (read(fds[0], &t_open[i], sizeof t_open[i]) != (ssize_t)sizeof t_open[i] ||
            waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die("writer", "a writer process failed");
        close(fds[0]);
        if (file_size(wal) > wal_max)
            wal_max = file_size(wal);
    }
    double first = pctl(t_open, SAMPLE, 0.5), last = pctl(t_open + WRITERS - SAMPLE, SAMPLE, 0.5);
    printf("figure: %.2f ms store_open after 2,000 short-lived writer processes (target: no growth "
           "with their number; limit/ratio: %.2f ms after the first 100, %.2f x)",
           last, first, last / first);
    verdict(last <= 2.0 * first + 0.5);
    printf("figure: %.1f kB largest -wal left by 2,000 short-lived writer processes (target: <= "
           "4096 kB; limit/ratio: database %.1f kB)",
           (double)wal_max / 1e3, (double)file_size(path) / 1e3);
    verdict(wal_max <= 4 * 1024 * 1024);
    if (on_shm)
        nftw(shm, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
    (void)argc;
    setenv("TZ", getenv("TZ") ? getenv("TZ") : "Asia/Ho_Chi_Minh", 1);
    tzset();
    /* Data under the build folder: $(BUILD)/bench/store-data (a real disk, not tmpfs). */
    char exe[PATH_MAX], dir[PATH_MAX];
    tp_strlcpy(exe, argv[0], sizeof exe);
    snprintf(dir, sizeof dir, "%.3000s/store-data", dirname(exe));
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (mkdir(dir, 0755) != 0)
        die("mkdir", dir);
    const char *only = getenv("TP_BENCH_STORE");
    if (!only || strstr(only, "record"))
        bench_record(dir);
    if (!only || strstr(only, "size"))
        bench_size_and_open(dir);
    if (!only || strstr(only, "million"))
        bench_million(dir);
    if (!only || strstr(only, "writers"))
        bench_writers(dir);
    if (!getenv("TP_BENCH_KEEP")) /* keep the files for a look with sqlite3 */
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
