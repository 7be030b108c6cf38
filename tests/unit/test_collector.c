/* test_collector.c - unit tests of the collector's pure parts: report arithmetic (NPS with the
 * adjusted-Wald margin on hand-computed values, CSAT, CES, smiley), seq ranges and gaps, token
 * hashing and constant-time compare, add-device, the rate limiter, metrics text, and the SQLite
 * store through the cstore ops table (duplicates, seq conflicts, range merging, report, devices),
 * the flood guard, the connection pool and the batch workers.
 * The same store semantics run against PostgreSQL in tests/integration/test_collector.py. Batch
 * validation is in test_collector_batch.c; both build batches with collector_fixture.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cauth.h"
#include "cbatch.h"
#include "cguard.h"
#include "cmetrics.h"
#include "cpool.h"
#include "crate.h"
#include "creport.h"
#include "cstore.h"
#include "cwork.h"

#include "collector_fixture.h"

/* ---- Report arithmetic ----------------------------------------------------------------------- */

static void nps_adjusted_wald(void **state)
{
    (void)state;
    /* 10,10,9,9,9,8,7,6,3,0: P=5 D=3 n=10 -> NPS 20. By hand: n'=13, p'=5.75/13=0.442308,
     * d'=3.75/13=0.288462, var=(0.730769-0.023669)/13=0.054392, MoE=196*0.233221=45.711. */
    int64_t d[11] = {1, 0, 0, 1, 0, 0, 1, 1, 1, 3, 2};
    tp_nps r; /* the report's NPS is the base layer's (tp.h) */
    tp_nps_compute(d, &r);
    assert_int_equal(r.n, 10);
    assert_int_equal(r.promoters, 5);
    assert_int_equal(r.passives, 2);
    assert_int_equal(r.detractors, 3);
    assert_true(fabs(r.score - 20.0) < 1e-9);
    assert_true(fabs(r.moe - 45.711) < 0.01);
    /* 100 answers: 60 promoters, 10 detractors -> NPS 50. n'=103, p'=60.75/103=0.589806,
     * d'=10.75/103=0.104369, var=(0.694175-0.235649)/103=0.004452, MoE=196*0.066720=13.08. */
    int64_t e[11] = {0};
    e[10] = 60;
    e[8] = 30;
    e[2] = 10;
    tp_nps_compute(e, &r);
    assert_true(fabs(r.score - 50.0) < 1e-9);
    assert_true(fabs(r.moe - 13.08) < 0.01);
    /* no answers: score 0, and the adjusted interval is still defined (n'=3). */
    int64_t z[11] = {0};
    tp_nps_compute(z, &r);
    assert_int_equal(r.n, 0);
    assert_true(r.score == 0.0);
    assert_true(r.moe > 0);
    print_message("checked: NPS 20.0 +- 45.71 and 50.0 +- 13.08 by the adjusted-Wald method, "
                  "as computed by hand\n");
}

static void csat_ces_smiley(void **state)
{
    (void)state;
    creport_rating r;
    int64_t csat[5] = {1, 1, 2, 3, 3}; /* n=10, 4-5: 6 -> 60 %, mean (1+2+6+12+15)/10 = 3.6 */
    creport_rating_compute(csat, 1, 5, 4, &r);
    assert_int_equal(r.n, 10);
    assert_true(fabs(r.top_pct - 60.0) < 1e-9);
    assert_true(fabs(r.mean - 3.6) < 1e-9);
    int64_t ces[7] = {0, 1, 0, 1, 2, 0, 1}; /* 2,4,5,5,7: mean 23/5 = 4.6, 5-7: 3 -> 60 % */
    creport_rating_compute(ces, 1, 7, 5, &r);
    assert_true(fabs(r.mean - 4.6) < 1e-9);
    assert_true(fabs(r.top_pct - 60.0) < 1e-9);
    int64_t sm[4] = {1, 0, 0, 3}; /* 3-4: 75 % */
    creport_rating_compute(sm, 1, 4, 3, &r);
    assert_true(fabs(r.top_pct - 75.0) < 1e-9);
    int64_t none[5] = {0};
    creport_rating_compute(none, 1, 5, 4, &r);
    assert_int_equal(r.n, 0);
    assert_true(r.mean == 0 && r.top_pct == 0);
    print_message("checked: CSAT %% of 4-5 and mean, CES mean and %% of 5-7, smiley %% of 3-4 on "
                  "hand-computed values\n");
}

static void report_groups_json(void **state)
{
    (void)state;
    creport *r = creport_new(CREPORT_BY_STORE);
    assert_non_null(r);
    assert_int_equal(creport_add(r, "hcm-02", TP_KIND_NPS, 10, NULL, false, 3), TP_OK);
    assert_int_equal(creport_add(r, "hcm-01", TP_KIND_NPS, 0, NULL, true, 1), TP_OK);
    assert_int_equal(creport_add(r, "hcm-01", TP_KIND_CSAT, 5, NULL, false, 2), TP_OK);
    assert_int_equal(creport_add(r, "hcm-01", TP_KIND_CHOICE, 0, "parking", false, 4), TP_OK);
    assert_int_equal(creport_add(r, "hcm-01", TP_KIND_NPS, 11, NULL, false, 1),
                     TP_OK); /* ignored */
    char *j = creport_json(r, "2026-11-01", "2026-11-30", NULL, "Asia/Ho_Chi_Minh");
    assert_non_null(j);
    char *h1 = strstr(j, "\"key\":\"hcm-01\""), *h2 = strstr(j, "\"key\":\"hcm-02\"");
    assert_true(h1 && h2 && h1 < h2); /* sorted by key */
    assert_non_null(strstr(h1, "\"n\":7,\"uncorrected\":1"));
    assert_non_null(strstr(h1, "\"parking\":4"));
    assert_non_null(strstr(h2, "\"score\":100"));
    assert_non_null(strstr(j, "\"total\":{\"n\":10,\"uncorrected\":1"));
    assert_non_null(strstr(j, "\"survey\":null"));
    free(j);
    creport_free(r);
    creport_by by;
    assert_int_equal(creport_by_parse("touchpoint", &by), TP_OK);
    assert_int_equal(by, CREPORT_BY_TOUCHPOINT);
    assert_int_equal(creport_by_parse("color", &by), TP_ERR_INVALID);
    print_message("checked: report groups sorted by key, counts, uncorrected flag, choices, "
                  "out-of-range values ignored, totals\n");
}

/* ---- Seq ranges and gaps --------------------------------------------------------------------- */

static void ranges_and_gaps(void **state)
{
    (void)state;
    int64_t seqs[] = {7, 3, 1, 2, 3, 6, 10};
    cstore_range r[7], g[4];
    size_t n = cstore_seq_ranges(seqs, 7, r);
    assert_int_equal(n, 3);
    assert_true(r[0].lo == 1 && r[0].hi == 3 && r[1].lo == 6 && r[1].hi == 7 && r[2].lo == 10);
    size_t ng;
    int64_t missing;
    cstore_gaps(1, 12, r, n, g, 4, &ng, &missing);
    assert_int_equal(ng, 3);
    assert_int_equal(missing, 2 + 2 + 2); /* 4-5, 8-9, 11-12 */
    assert_true(g[0].lo == 4 && g[0].hi == 5 && g[1].lo == 8 && g[1].hi == 9 && g[2].lo == 11 &&
                g[2].hi == 12);
    cstore_gaps(1, 3, r, n, g, 4, &ng, &missing);
    assert_int_equal(ng, 0);
    assert_int_equal(missing, 0);
    /* first_seq above 1 (a restored device), head gap */
    cstore_range only[1] = {{105, 110}};
    cstore_gaps(100, 110, only, 1, g, 4, &ng, &missing);
    assert_int_equal(ng, 1);
    assert_true(g[0].lo == 100 && g[0].hi == 104 && missing == 5);
    /* nothing received */
    cstore_gaps(1, 5, NULL, 0, g, 4, &ng, &missing);
    assert_true(ng == 1 && missing == 5);
    /* more gaps than listed: counted */
    cstore_range many[5] = {{1, 1}, {3, 3}, {5, 5}, {7, 7}, {9, 9}};
    cstore_gaps(1, 10, many, 5, g, 2, &ng, &missing);
    assert_int_equal(ng, 5);
    assert_int_equal(missing, 5);
    print_message("checked: seqs merge into ranges; gaps between, before and after them, counted "
                  "beyond the listed bound\n");
}

/* ---- Tokens ---------------------------------------------------------------------------------- */

static void token_hash_and_compare(void **state)
{
    (void)state;
    char hx[65];
    assert_int_equal(cauth_sha256_hex("abc", 3, hx), TP_OK);
    assert_string_equal(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(cauth_equal_ct("abc", "abc"));
    assert_false(cauth_equal_ct("abc", "abd"));
    assert_false(cauth_equal_ct("abc", "abcd"));

    char dir[] = "/tmp/tp-collector-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], tok1[64], tok2[64], err[256], dev[TP_ID_MAX + 1];
    snprintf(path, sizeof path, "%s/devices", dir);
    assert_int_equal(cauth_add_device(path, "kiosk-01", tok1, err, sizeof err), TP_OK);
    assert_int_equal(strlen(tok1), 43); /* 32 bytes base64url, no padding */
    assert_null(strpbrk(tok1, "+/="));
    assert_int_equal(cauth_add_device(path, "kiosk-02", tok2, err, sizeof err), TP_OK);
    assert_int_equal(cauth_add_device(path, "kiosk-01", tok2 + 0, err, sizeof err), TP_ERR_EXISTS);
    assert_int_equal(cauth_add_device(path, "bad id", tok2 + 0, err, sizeof err), TP_ERR_INVALID);
    cauth *a = NULL;
    assert_int_equal(cauth_open(path, &a, err, sizeof err), TP_OK);
    assert_int_equal(cauth_count(a), 2);
    assert_int_equal(cauth_check(a, tok1, 1, dev), TP_OK);
    assert_string_equal(dev, "kiosk-01");
    tok1[5] ^= 1;
    assert_int_equal(cauth_check(a, tok1, 1, dev), TP_ERR_AUTH);
    assert_int_equal(cauth_check(a, "", 1, dev), TP_ERR_AUTH);
    cauth_free(a);
    /* A file whose line is broken is refused with file:line. */
    FILE *f = fopen(path, "a");
    fputs("kiosk-03 nothex\n", f);
    fclose(f);
    assert_int_equal(cauth_open(path, &a, err, sizeof err), TP_ERR_CONFIG);
    assert_non_null(strstr(err, ":3:"));
    unlink(path);
    rmdir(dir);
    print_message("checked: SHA-256 known answer, constant-time compare, add-device tokens "
                  "(43 chars base64url), duplicate ids refused, token check, bad line refused\n");
}

static void rate_limit_bucket(void **state)
{
    (void)state;
    crate *r = crate_new(0.5, 2); /* 1 token every 2 s, burst 2 */
    int retry = 0;
    assert_true(crate_take(r, "k1", 1000, &retry));
    assert_true(crate_take(r, "k1", 1000, &retry));
    assert_false(crate_take(r, "k1", 1000, &retry));
    assert_int_equal(retry, 2);
    assert_true(crate_take(r, "k2", 1000, &retry)); /* buckets are per device */
    assert_false(crate_take(r, "k1", 2500, &retry));
    assert_int_equal(retry, 1);
    assert_true(crate_take(r, "k1", 3000, &retry));
    crate_free(r);
    assert_null(crate_new(0, 1));
    print_message("checked: token bucket per device: burst, refusal with Retry-After, refill\n");
}

static void metrics_text(void **state)
{
    (void)state;
    cmetrics *m = cmetrics_new();
    cmetrics_batch(m, 200, 3.0, 10, 2);
    cmetrics_batch(m, 413, 0.5, 0, 0);
    cmetrics_rejected(m, CBATCH_SEQ_CONFLICT, 4);
    cmetrics_status(m, 200);
    char *t = cmetrics_render(m);
    assert_non_null(strstr(t, "touchpoint_batches_total{status=\"200\"} 1\n"));
    assert_non_null(strstr(t, "touchpoint_batches_total{status=\"413\"} 1\n"));
    assert_non_null(strstr(t, "touchpoint_answers_accepted_total 10\n"));
    assert_non_null(strstr(t, "touchpoint_answers_duplicate_total 2\n"));
    assert_non_null(strstr(t, "touchpoint_answers_rejected_total{code=\"seq_conflict\"} 4\n"));
    assert_non_null(strstr(t, "touchpoint_batch_duration_seconds_bucket{le=\"0.001\"} 1\n"));
    assert_non_null(strstr(t, "touchpoint_batch_duration_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr(t, "touchpoint_batch_duration_seconds_count 2\n"));
    assert_non_null(strstr(t, "# TYPE touchpoint_batch_duration_seconds histogram\n"));
    free(t);
    cmetrics_free(m);
    print_message("checked: Prometheus text: batches by status, answers, rejections by code, "
                  "cumulative latency buckets\n");
}

/* ---- The SQLite store through the ops table ----------------------------------------------------
 */

static cbatch *simple_batch(const int *seqs, int n, int id_base)
{
    char *all = calloc((size_t)n + 1, 2100);
    size_t w = 0;
    for (int i = 0; i < n; i++) {
        char a[2048], seq[16];
        answer_json(a, sizeof a, id_base + i, NULL, NULL);
        snprintf(seq, sizeof seq, "%d", seqs[i]);
        char b[2100];
        char *p = strstr(a, "\"seq\": ");
        char *q = strchr(p, ',');
        snprintf(b, sizeof b, "%.*s\"seq\": %s%s", (int)(p - a), a, seq, q);
        w += (size_t)snprintf(all + w, 2100 * ((size_t)n + 1) - w, "%s%s", i ? "," : "", b);
    }
    char *json = batch_json(all);
    cbatch *b = NULL;
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
    free(json);
    free(all);
    return b;
}

static void sqlite_store_semantics(void **state)
{
    (void)state;
    char dir[] = "/tmp/tp-cstore-unit-XXXXXX", url[300], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof url, "sqlite:%s/central.db", dir);
    cstore *s = NULL;
    assert_int_equal(cstore_open(url, 2, &s, err, sizeof err), TP_OK);
    assert_string_equal(cstore_kind(s), "sqlite");
    assert_int_equal(cstore_ping(s, err, sizeof err), TP_OK);

    int seqs1[] = {1, 2, 3, 6};
    cbatch *b = simple_batch(seqs1, 4, 100);
    unsigned char oc[8];
    assert_int_equal(cstore_ingest(s, b, RECV, oc, err, sizeof err), TP_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(oc[i], CBATCH_ACCEPTED);
    assert_int_equal(cstore_ingest(s, b, RECV, oc, err, sizeof err), TP_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(oc[i], CBATCH_DUPLICATE);
    cbatch_free(b);
    /* new ids: seq 2 taken -> conflict; seq 4, 5 new -> accepted, ranges merge to 1-6 */
    int seqs2[] = {2, 4, 5};
    b = simple_batch(seqs2, 3, 200);
    assert_int_equal(cstore_ingest(s, b, RECV, oc, err, sizeof err), TP_OK);
    assert_int_equal(oc[0], CBATCH_CONFLICT);
    assert_int_equal(oc[1], CBATCH_ACCEPTED);
    assert_int_equal(oc[2], CBATCH_ACCEPTED);
    cbatch_free(b);

    cstore_devices *d = NULL;
    assert_int_equal(cstore_list_devices(s, &d, err, sizeof err), TP_OK);
    assert_int_equal(d->n, 1);
    assert_string_equal(d->v[0].id, "kiosk-01");
    assert_int_equal(d->v[0].answers, 6);
    assert_int_equal(d->v[0].batches, 3);
    assert_int_equal(d->v[0].pending, 5);
    assert_int_equal(d->v[0].n_epochs, 1);
    const cstore_epoch *e = &d->v[0].epochs[0];
    assert_int_equal(e->n_ranges, 1);
    assert_true(e->ranges[0].lo == 1 && e->ranges[0].hi == 6);
    assert_int_equal(e->highest_seq, 9);
    cstore_devices_free(d);

    creport *r = creport_new(CREPORT_BY_DAY);
    cstore_query q = {
        .from_ms = RECV - 86400000LL * 2, .to_ms = RECV + 86400000LL, .by = CREPORT_BY_DAY};
    assert_int_equal(cstore_report(s, &q, r, err, sizeof err), TP_OK);
    char *j = creport_json(r, "a", "b", NULL, "");
    assert_non_null(strstr(j, "\"total\":{\"n\":6,"));
    char day[11];
    tp_local_day_start(1763920000000LL, day);
    char key[40];
    snprintf(key, sizeof key, "\"key\":\"%s\"", day);
    assert_non_null(strstr(j, key));
    free(j);
    creport_free(r);
    q.survey = "other-survey";
    r = creport_new(CREPORT_BY_STORE);
    assert_int_equal(cstore_report(s, &q, r, err, sizeof err), TP_OK);
    j = creport_json(r, "a", "b", q.survey, "");
    assert_non_null(strstr(j, "\"groups\":[]"));
    free(j);
    creport_free(r);
    cstore_close(s);

    /* Reopening migrates nothing and keeps the data. */
    assert_int_equal(cstore_open(url, 1, &s, err, sizeof err), TP_OK);
    assert_int_equal(cstore_list_devices(s, &d, err, sizeof err), TP_OK);
    assert_int_equal(d->v[0].answers, 6);
    cstore_devices_free(d);
    cstore_close(s);
    assert_int_equal(cstore_open("mysql://x", 1, &s, err, sizeof err), TP_ERR_INVALID);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    print_message("checked: sqlite store: accepted then duplicates, seq conflict, ranges merged "
                  "1-6, device status and counts, report by day and survey filter, reopen\n");
}

/* ---- Flood guard and connection pool --------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when the peer of fd has been shut down (a read returns 0 at once). */
static bool peer_shut(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* Waits up to max_ms for the peer of fd to be shut down; returns the time it was seen, or -1. */
static int64_t wait_shut(int fd, int64_t max_ms)
{
    int64_t end = now_ms() + max_ms;
    while (now_ms() < end) {
        if (peer_shut(fd))
            return now_ms();
        sleep_ms(10);
    }
    return -1;
}

static void guard_deadlines_and_budget(void **state)
{
    (void)state;
    cguard *g = cguard_new(300, 1500, 1000);
    assert_non_null(g);
    /* the budget: taken, refused over it, given back */
    assert_true(cguard_take_bytes(g, 600));
    assert_false(cguard_take_bytes(g, 401));
    assert_true(cguard_take_bytes(g, 400));
    assert_int_equal(cguard_bytes_free(g), 0);
    cguard_put_bytes(g, 1000);
    assert_int_equal(cguard_bytes_used(g), 0);

    /* head 300 ms and body 1500 ms, absolute: bytes (later calls) do not renew them */
    int head[2], body[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, head), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, body), 0);
    int64_t t0 = now_ms();
    cguard_conn *h = cguard_conn_open(g, head[0]);
    cguard_conn *b = cguard_conn_open(g, body[0]);
    assert_non_null(h);
    assert_non_null(b);
    cguard_request_started(g, b); /* b's head arrived: 1500 ms for its body from now */
    assert_false(peer_shut(head[1]));
    sleep_ms(100);
    cguard_request_started(g, b); /* more body bytes: changes nothing */
    int64_t t_head = wait_shut(head[1], 5000);
    assert_true(t_head >= t0 + 300);
    if (now_ms() < t0 + 1400)
        assert_false(peer_shut(body[1]));
    int64_t t_body = wait_shut(body[1], 10000);
    assert_true(t_body >= t0 + 1500);
    assert_int_equal(cguard_expired(g), 2);
    cguard_conn_close(g, h);
    cguard_conn_close(g, b);
    for (int i = 0; i < 2; i++) {
        close(head[i]);
        close(body[i]);
    }
    cguard_free(g);
    cguard_free(NULL);
    print_message("checked: body budget taken and refused over it; head and body deadlines are "
                  "absolute (a trickle does not renew them); expired connections counted\n");
}

static void pool_keeps_a_spare(void **state)
{
    (void)state;
    cpool *p = cpool_new(2, sizeof(int));
    assert_non_null(p);
    assert_int_equal(cpool_size(p), 3);
    int *a = cpool_acquire(p), *b = cpool_acquire(p);
    assert_true(a != b);
    int *spare = cpool_acquire_spare(p); /* both workers' slots are busy: the spare is free */
    assert_ptr_equal(spare, cpool_slot(p, 2));
    assert_true(spare != a && spare != b);
    cpool_release(p, spare);
    cpool_release(p, a);
    int *again = cpool_acquire(p);
    assert_ptr_equal(again, a); /* a worker never gets the spare */
    cpool_release(p, again);
    cpool_release(p, b);
    cpool_free(p);
    cpool_free(NULL);
    print_message("checked: the pool hands out its worker slots and keeps one spare for health "
                  "checks\n");
}

/* ---- Batch workers (cwork.c) ----------------------------------------------------------------- */

typedef struct {
    cwork_job job;
    int id;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *started, *ran, *order, *n_order; /* shared, under mu */
    bool wait_for_other;                  /* run until another job has started (5 s at most) */
    bool *saw_other;
    bool *release; /* run until *release */
} test_job;

static void run_test_job(cwork_job *job)
{
    test_job *t = (test_job *)(void *)job;
    pthread_mutex_lock(t->mu);
    (*t->started)++;
    pthread_cond_broadcast(t->cv);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    if (t->wait_for_other) {
        while (*t->started < 2 && pthread_cond_timedwait(t->cv, t->mu, &until) == 0)
            ;
        *t->saw_other = *t->started >= 2;
    }
    while (t->release && !*t->release)
        pthread_cond_wait(t->cv, t->mu);
    t->order[(*t->n_order)++] = t->id;
    (*t->ran)++;
    pthread_mutex_unlock(t->mu);
}

static void *stop_workers(void *w)
{
    cwork_stop(w);
    return NULL;
}

static void batch_workers_run_jobs(void **state)
{
    (void)state;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int started = 0, ran = 0, order[64] = {0}, n_order = 0;
    bool saw[2] = {false, false}, release = false;
    test_job jobs[64];
    for (int i = 0; i < 64; i++)
        jobs[i] = (test_job){
            {run_test_job, NULL}, i, &mu, &cv, &started, &ran, order, &n_order, false, NULL, NULL};

    /* two workers: two jobs that each wait for the other to start both finish, having met */
    cwork *w = NULL;
    assert_int_equal(cwork_start(2, &w), TP_OK);
    for (int i = 0; i < 2; i++) {
        jobs[i].wait_for_other = true;
        jobs[i].saw_other = &saw[i];
        assert_true(cwork_submit(w, &jobs[i].job));
    }
    cwork_stop(w);
    assert_int_equal(ran, 2);
    assert_true(saw[0] && saw[1]);

    /* one worker: jobs run in the order they came; cwork_stop runs what is still queued, and a
     * job offered once the stop has begun is refused (the caller runs it) */
    started = ran = n_order = 0;
    assert_int_equal(cwork_start(1, &w), TP_OK);
    jobs[2].release = &release; /* holds the only worker until released */
    for (int i = 2; i < 7; i++)
        assert_true(cwork_submit(w, &jobs[i].job));
    pthread_t stopper;
    assert_int_equal(pthread_create(&stopper, NULL, stop_workers, w), 0);
    int queued = 5, refused = 0;
    for (int i = 7; i < 64 && !refused; i++) {
        if (cwork_submit(w, &jobs[i].job))
            queued++;
        else
            refused = i;
        sleep_ms(1);
    }
    assert_true(refused > 0);
    pthread_mutex_lock(&mu);
    release = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(stopper, NULL);
    assert_int_equal(ran, queued);
    for (int i = 0; i < n_order; i++)
        assert_int_equal(order[i], i + 2);
    cwork_stop(NULL);
    print_message("checked: two batch workers run two jobs at once; one worker runs its jobs in "
                  "arrival order; stopping runs the %d jobs still queued and refuses a job "
                  "offered after the stop began\n",
                  queued);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nps_adjusted_wald),
        cmocka_unit_test(csat_ces_smiley),
        cmocka_unit_test(report_groups_json),
        cmocka_unit_test(ranges_and_gaps),
        cmocka_unit_test(token_hash_and_compare),
        cmocka_unit_test(rate_limit_bucket),
        cmocka_unit_test(metrics_text),
        cmocka_unit_test(sqlite_store_semantics),
        cmocka_unit_test(guard_deadlines_and_budget),
        cmocka_unit_test(pool_keeps_a_spare),
        cmocka_unit_test(batch_workers_run_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
