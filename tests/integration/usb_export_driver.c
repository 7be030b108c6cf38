/*
 * usb_export_driver.c - a small program that does what the kiosk's staff screen will do for
 * "Export to USB", for the integration test (test_usb_export.py) and the benchmark (bench_usb.py)
 * until the kiosk has its button: watch a mount root with usb.h, wait for a stick, optionally
 * check the staff key, run usb_export_run() and print the outcome. It also seeds a store with
 * answers through the store API (the same call the kiosk uses).
 *
 *   usb_export_driver seed --db PATH --device ID --sessions N [--start-ms MS] [--lang vi|en]
 *   usb_export_driver export --db PATH --device ID --mount-root DIR [--all] [--jsonl]
 *       [--wait-ms N] [--staff-key PIN_HASH] [--hold-at-rows N --hold-file PATH]
 *   usb_export_driver watch --mount-root DIR --events N [--wait-ms N]
 *   usb_export_driver cursor --db PATH        prints "cursor: N" and "highest: N"
 *
 * Output is "key: value" lines; exit 0 ok (done or nothing new), 1 export failed, 2 usage,
 * 3 no (writable or read-only) stick appeared in time, 4 staff key refused.
 * --hold-at-rows makes the progress callback stop once N rows are written, print "holding" and
 * wait (at most 60 s) until --hold-file exists: the test pulls the stick at that moment.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "usb.h"
#include "usb_export.h"

typedef struct args {
    const char *cmd, *db, *device, *root, *staff_key, *hold_file, *lang;
    int64_t sessions, start_ms, hold_at, wait_ms, events;
    bool all, jsonl;
} args;

static int usage(void)
{
    fprintf(stderr, "usage: usb_export_driver seed|export|watch [options] (see the source)\n");
    return 2;
}

static bool num(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || end == s || v < 0)
        return false;
    *out = v;
    return true;
}

static int parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->wait_ms = 5000;
    a->lang = "vi";
    a->start_ms = INT64_C(1763900000000); /* 2025-11-23 */
    if (argc < 2)
        return usage();
    a->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(o, "--all"))
            a->all = true;
        else if (!strcmp(o, "--jsonl"))
            a->jsonl = true;
        else if (!v)
            return usage();
        else if (!strcmp(o, "--db"))
            a->db = v;
        else if (!strcmp(o, "--device"))
            a->device = v;
        else if (!strcmp(o, "--mount-root"))
            a->root = v;
        else if (!strcmp(o, "--staff-key"))
            a->staff_key = v;
        else if (!strcmp(o, "--hold-file"))
            a->hold_file = v;
        else if (!strcmp(o, "--lang"))
            a->lang = v;
        else if (!strcmp(o, "--sessions"))
            ok = num(v, &a->sessions);
        else if (!strcmp(o, "--start-ms"))
            ok = num(v, &a->start_ms);
        else if (!strcmp(o, "--hold-at-rows"))
            ok = num(v, &a->hold_at);
        else if (!strcmp(o, "--wait-ms"))
            ok = num(v, &a->wait_ms);
        else if (!strcmp(o, "--events"))
            ok = num(v, &a->events);
        else
            return usage();
        if (!ok)
            return usage();
        if (strcmp(o, "--all") && strcmp(o, "--jsonl"))
            i++;
    }
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records a->sessions sessions of two answers (an NPS rating and a choice), one minute apart on a
 * virtual clock, through store_record_session. */
static int seed(const args *a)
{
    char err[TP_ERRMSG_MAX];
    store *s = NULL;
    tp_vclock vc;
    int rc = 1;
    if (!a->db || !a->device)
        return usage();
    tp_vclock_init(&vc, a->start_ms);
    store_options so = {.device_id = a->device, .clock = &vc.clock};
    if (store_open(a->db, &so, &s, err, sizeof err) != TP_OK) {
        fprintf(stderr, "seed: %s\n", err);
        return 1;
    }
    static const char *const choices[] = {"staff", "price", "queue", "clean"};
    for (int64_t i = 0; i < a->sessions; i++) {
        store_answer_in ans[2] = {
            {.question_id = "recommend", .kind = TP_KIND_NPS, .value = (int)(i % 11)},
            {.question_id = "why", .kind = TP_KIND_CHOICE, .choice_id = choices[i % 4]},
        };
        store_session_in in = {.survey_id = "checkout-nps",
                               .survey_version = 2,
                               .store_id = "hcm-01",
                               .touchpoint_id = "exit",
                               .lang = a->lang,
                               .flags = i % 17 == 5 ? TP_FLAG_RAPID_REPEAT : 0,
                               .n_answers = 2,
                               .answers = ans};
        if (store_record_session(s, &in, NULL, NULL) != TP_OK) {
            fprintf(stderr, "seed: session %" PRId64 ": %s\n", i, store_errmsg(s));
            goto out;
        }
        tp_vclock_advance(&vc, 60000);
    }
    printf("seeded: %" PRId64 " answers\n", a->sessions * 2);
    rc = 0;
out:
    store_close(s);
    return rc;
}

/* Waits for events until want sticks were added (or any removal when want_removed). */
static int wait_stick(usb *u, int64_t wait_ms, usb_stick *out)
{
    int64_t deadline = mono_ms() + wait_ms;
    for (;;) {
        usb_event ev[8];
        size_t n = 0;
        if (usb_poll(u, ev, 8, &n) != TP_OK) {
            fprintf(stderr, "usb_poll: %s\n", usb_errmsg(u));
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            printf("event: %s %s ro=%d free=%" PRId64 " fstype=%s\n",
                   ev[i].kind == USB_EV_ADDED ? "added" : "removed", ev[i].stick.mount_point,
                   ev[i].stick.readonly, ev[i].stick.free_bytes, ev[i].stick.fstype);
            if (ev[i].kind == USB_EV_ADDED) {
                *out = ev[i].stick;
                return 0;
            }
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 3;
        struct pollfd p = {.fd = usb_fd(u), .events = POLLIN};
        (void)poll(&p, 1, (int)left);
    }
}

typedef struct hold {
    int64_t at;
    const char *file;
    bool held;
} hold;

static void progress(void *ctx, int64_t done, int64_t total)
{
    hold *h = ctx;
    printf("progress: %" PRId64 "/%" PRId64 "\n", done, total);
    fflush(stdout);
    if (h->at > 0 && !h->held && done >= h->at && done < total && h->file) {
        h->held = true;
        printf("holding\n");
        fflush(stdout);
        for (int i = 0; i < 1200 && access(h->file, F_OK) != 0; i++)
            usleep(50000);
    }
}

static int export_cmd(const args *a)
{
    char err[TP_ERRMSG_MAX];
    usb *u = NULL;
    store *s = NULL;
    usb_stick st;
    int rc = 1;
    if (!a->db || !a->device || !a->root)
        return usage();
    usb_options uo = {.mount_root = a->root};
    if (usb_open(&uo, &u, err, sizeof err) != TP_OK) {
        fprintf(stderr, "usb: %s\n", err);
        return 1;
    }
    rc = wait_stick(u, a->wait_ms, &st);
    if (rc != 0) {
        printf("outcome: no_stick\n");
        goto out;
    }
    if (a->staff_key) {
        tp_err k = usb_check_staff_key(st.mount_point, a->staff_key, err, sizeof err);
        printf("staff_key: %s%s%s\n", tp_err_name(k), k ? " " : "", k ? err : "");
        if (k != TP_OK) {
            rc = 4;
            goto out;
        }
    }
    store_options so = {.device_id = a->device};
    if (store_open(a->db, &so, &s, err, sizeof err) != TP_OK) {
        fprintf(stderr, "store: %s\n", err);
        rc = 1;
        goto out;
    }
    hold h = {.at = a->hold_at, .file = a->hold_file};
    usb_export_request rq = {
        .mount_point = st.mount_point,
        .mount_id = st.mount_id,
        .device_id = a->device,
        .all = a->all,
        .formats = USB_FORMAT_CSV | (a->jsonl ? USB_FORMAT_JSONL : 0),
        .progress = progress,
        .progress_ctx = &h,
    };
    usb_export_report rep;
    tp_err e = usb_export_run(s, &rq, &rep);
    printf("outcome: %s\n", usb_export_outcome_name(rep.outcome));
    printf("message: %s\n", rep.message);
    printf("rows: %" PRId64 "\n", rep.rows);
    printf("elapsed_ms: %" PRId64 "\n", rep.elapsed_ms);
    for (size_t i = 0; i < rep.n_files; i++)
        printf("file: %s\n", rep.files[i]);
    printf("log: %s\n", rep.log);
    rc = e == TP_OK ? 0 : 1;
out:
    store_close(s);
    usb_close(u);
    return rc;
}

static int watch_cmd(const args *a)
{
    char err[TP_ERRMSG_MAX];
    usb *u = NULL;
    int64_t seen = 0, deadline = mono_ms() + a->wait_ms;
    if (!a->root)
        return usage();
    usb_options uo = {.mount_root = a->root};
    if (usb_open(&uo, &u, err, sizeof err) != TP_OK) {
        fprintf(stderr, "usb: %s\n", err);
        return 1;
    }
    printf("watching: %s\n", a->root);
    fflush(stdout);
    while (seen < a->events && mono_ms() < deadline) {
        struct pollfd p = {.fd = usb_fd(u), .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - mono_ms())) <= 0)
            continue;
        usb_event ev[8];
        size_t n = 0;
        if (usb_poll(u, ev, 8, &n) != TP_OK)
            break;
        for (size_t i = 0; i < n; i++, seen++)
            printf("event: %s %s ro=%d\n", ev[i].kind == USB_EV_ADDED ? "added" : "removed",
                   ev[i].stick.mount_point, ev[i].stick.readonly);
        fflush(stdout);
    }
    usb_close(u);
    return seen >= a->events ? 0 : 3;
}

static int cursor_cmd(const args *a)
{
    char err[TP_ERRMSG_MAX];
    store *s = NULL;
    store_info info;
    if (!a->db)
        return usage();
    store_options so = {.readonly = true};
    if (store_open(a->db, &so, &s, err, sizeof err) != TP_OK || store_get_info(s, &info) != TP_OK) {
        fprintf(stderr, "cursor: %s\n", s ? store_errmsg(s) : err);
        store_close(s);
        return 1;
    }
    printf("cursor: %" PRId64 "\nhighest: %" PRId64 "\n", info.export_cursor, info.highest_seq);
    store_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    args a;
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(a.cmd, "seed"))
        return seed(&a);
    if (!strcmp(a.cmd, "export"))
        return export_cmd(&a);
    if (!strcmp(a.cmd, "watch"))
        return watch_cmd(&a);
    if (!strcmp(a.cmd, "cursor"))
        return cursor_cmd(&a);
    return usage();
}
