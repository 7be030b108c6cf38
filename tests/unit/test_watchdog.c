/* test_watchdog.c - unit tests of watchdog.c on a virtual clock with a recording notify backend:
 * READY once, pings only when due and healthy, half the timeout as interval, the stall report,
 * WATCHDOG_USEC / WATCHDOG_PID from the environment, and the store health check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "watchdog.h"

typedef struct rec {
    char msgs[64][WATCHDOG_STATUS_MAX + 32];
    int n;
} rec;

static tp_err rec_notify(void *ctx, const char *state)
{
    rec *r = ctx;
    if (r->n < 64)
        tp_strlcpy(r->msgs[r->n++], state, sizeof r->msgs[0]);
    return TP_OK;
}

static int count(const rec *r, const char *needle)
{
    int c = 0;
    for (int i = 0; i < r->n; i++)
        if (strstr(r->msgs[i], needle))
            c++;
    return c;
}

/* The watchdog keeps a copy of the ops, so ops may live on this stack frame. */
static watchdog *make(rec *r, tp_vclock *vc, int64_t us)
{
    memset(r, 0, sizeof *r);
    tp_vclock_init(vc, 1763920000000);
    watchdog_ops ops = {rec_notify, r};
    watchdog_options o = {&ops, &vc->clock, us};
    watchdog *w = NULL;
    char err[256];
    assert_int_equal(watchdog_new(&o, &w, err, sizeof err), TP_OK);
    return w;
}

static void pings_when_due_and_healthy(void **state)
{
    (void)state;
    rec r = {0};
    tp_vclock vc;
    watchdog *w = make(&r, &vc, 400000);
    watchdog_health ok = {.ok = true, .pending = 0};
    assert_int_equal(watchdog_interval_ms(w), 200);
    assert_int_equal(watchdog_next_deadline(w), -1); /* nothing before READY */
    assert_false(watchdog_tick(w, &ok));
    assert_int_equal(r.n, 0);
    watchdog_ready(w, "first frame");
    watchdog_ready(w, "again");
    assert_int_equal(count(&r, "READY=1"), 1);
    assert_non_null(strstr(r.msgs[0], "STATUS=first frame"));
    assert_int_equal(watchdog_next_deadline(w), vc.mono + 200);
    tp_vclock_advance(&vc, 150);
    assert_false(watchdog_tick(w, &ok)); /* not due yet */
    tp_vclock_advance(&vc, 50);
    assert_true(watchdog_tick(w, &ok));
    assert_int_equal(count(&r, "WATCHDOG=1"), 2); /* with READY, and now */
    assert_int_equal(watchdog_next_deadline(w), vc.mono + 200);
    watchdog_status(w, "question screen");
    watchdog_status(w, "question screen"); /* unchanged: not sent twice */
    assert_int_equal(count(&r, "STATUS=question screen"), 1);
    watchdog_free(w);
    assert_int_equal(count(&r, "STOPPING=1"), 1);
    print_message("checked: READY=1 once with its STATUS, interval = half of WATCHDOG_USEC, no "
                  "ping before due, a ping when due, STATUS deduplicated, STOPPING=1 on free\n");
}

static void unhealthy_and_stalled(void **state)
{
    (void)state;
    rec r = {0};
    tp_vclock vc;
    watchdog *w = make(&r, &vc, 400000);
    watchdog_health bad = {.ok = false, .pending = -1};
    tp_strlcpy(bad.cause, "the database is not open", sizeof bad.cause);
    watchdog_health ok = {.ok = true};
    watchdog_ready(w, "up");
    for (int i = 0; i < 5; i++) {
        tp_vclock_advance(&vc, 200);
        assert_false(watchdog_tick(w, &bad));
    }
    assert_int_equal(count(&r, "WATCHDOG=1"), 1); /* only the one with READY */
    assert_int_equal(count(&r, "watchdog not fed: the database is not open"), 1);
    assert_int_equal(watchdog_failed_checks(w), 5);
    tp_vclock_advance(&vc, 200);
    assert_true(watchdog_tick(w, &ok));
    /* A 2 s stall: the next tick reports it (and, healthy, pings). */
    tp_vclock_advance(&vc, 2000);
    assert_true(watchdog_tick(w, &ok));
    assert_int_equal(count(&r, "main loop stalled for 2000 ms"), 1);
    watchdog_free(w);
    print_message(
        "checked: no WATCHDOG=1 while the health check fails (STATUS names the cause "
        "once), pings resume when healthy, a stall longer than the timeout is reported\n");
}

static void environment(void **state)
{
    (void)state;
    watchdog *w = NULL;
    char err[256], pid[32];
    watchdog_options o = {NULL, NULL, 0};
    setenv("WATCHDOG_USEC", "30000000", 1);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(watchdog_new(&o, &w, err, sizeof err), TP_OK);
    assert_int_equal(watchdog_interval_ms(w), 15000);
    watchdog_free(w);
    setenv("WATCHDOG_PID", "1", 1); /* another process's watchdog */
    assert_int_equal(watchdog_new(&o, &w, err, sizeof err), TP_OK);
    assert_int_equal(watchdog_interval_ms(w), 0);
    watchdog_free(w);
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "soon", 1);
    assert_int_equal(watchdog_new(&o, &w, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "WATCHDOG_USEC='soon'"));
    assert_int_equal(watchdog_interval_ms(w), 0); /* runs on, unsupervised */
    watchdog_free(w);
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(watchdog_new(&o, &w, err, sizeof err), TP_OK);
    assert_int_equal(watchdog_interval_ms(w), 0);
    assert_int_equal(watchdog_next_deadline(w), -1);
    watchdog_free(w);
    watchdog_free(NULL);
    print_message("checked: WATCHDOG_USEC/WATCHDOG_PID read through sd_watchdog_enabled (our pid "
                  "on, another pid off, malformed -> INVALID naming the value, absent -> off)\n");
}

static void store_health(void **state)
{
    (void)state;
    char dir[] = "/tmp/tp_wd_unit_XXXXXX";
    char path[256], err[TP_ERRMSG_MAX];
    store *s = NULL;
    watchdog_health h;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/answers.db", dir);
    watchdog_check_store(NULL, &h);
    assert_false(h.ok);
    assert_non_null(strstr(h.cause, "not open"));
    store_options so = {0};
    so.device_id = "wd-unit";
    assert_int_equal(store_open(path, &so, &s, err, sizeof err), TP_OK);
    watchdog_check_store(s, &h);
    assert_true(h.ok);
    assert_int_equal(h.pending, 0);
    store_close(s);
    /* The store leaves its database, WAL and seq mark files: remove every file, then the dir. */
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        char f[512];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(f, sizeof f, "%s/%s", dir, de->d_name);
        unlink(f);
    }
    closedir(dp);
    assert_int_equal(rmdir(dir), 0);
    print_message("checked: the store health check fails without a store and passes on an open, "
                  "writable database with its pending count\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pings_when_due_and_healthy),
        cmocka_unit_test(unhealthy_and_stalled),
        cmocka_unit_test(environment),
        cmocka_unit_test(store_health),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
