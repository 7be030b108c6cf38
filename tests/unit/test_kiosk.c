/* test_kiosk.c - unit tests of the kiosk state machine (kiosk.c) on a virtual clock, with a real
 * store in a temporary folder: screen transitions, the model each screen draws, timers, the
 * deferred write after the highlight frame, rapid-repeat flags, staff hold / PIN / lockout,
 * lockdown keys. No SDL: the state machine only fills ui_screen models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clink.h"
#include "config.h"
#include "kiosk.h"
#include "pin.h"

typedef struct fixture {
    char dir[64];
    config cfg;
    tp_vclock vc;
    kiosk *k;
} fixture;

static const char *g_survey = "assets/surveys/checkout-nps.json";

static int setup_with(void **state, bool fullscreen)
{
    fixture *f = calloc(1, sizeof *f);
    char path[128], hash[PIN_HASH_MAX], err[512];
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tp_kiosk_unit_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(pin_hash_new("2468", 1000, hash, sizeof hash, err, sizeof err), TP_OK);
    snprintf(path, sizeof path, "%s/kiosk.conf", f->dir);
    FILE *c = fopen(path, "w");
    assert_non_null(c);
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    fprintf(c,
            "[device]\nid = unit\nstore = s1\ntouchpoint = tp1\n"
            "[survey]\nfile = %s/%s\n"
            "[storage]\ndatabase = answers.db\nmin_free_mb = 1\n"
            "[display]\nfullscreen = %s\n[staff]\npin_hash = %s\n",
            cwd, g_survey, fullscreen ? "true" : "false", hash);
    fclose(c);
    if (config_load(path, &f->cfg, err, sizeof err) != TP_OK)
        fail_msg("%s", err);
    tp_vclock_init(&f->vc, 1763920000000LL);
    kiosk_options o = {0};
    o.cfg = &f->cfg;
    o.clock = &f->vc.clock;
    o.windowed = !fullscreen;
    if (kiosk_new(&o, &f->k, err, sizeof err) != TP_OK)
        fail_msg("%s", err);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, false);
}

/* The demo's survey with "comment": {"after": "any"} (issue 15). */
static int setup_comment(void **state)
{
    g_survey = "assets/demo/checkout-nps-comment.json";
    int rc = setup_with(state, false);
    g_survey = "assets/surveys/checkout-nps.json";
    return rc;
}

static int setup_fullscreen(void **state)
{
    return setup_with(state, true);
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    kiosk_free(f->k);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    free(f);
    return 0;
}

static kiosk_status status(fixture *f)
{
    kiosk_status st;
    kiosk_status_get(f->k, &st);
    return st;
}

static kiosk_screen screen(fixture *f)
{
    return status(f).screen;
}

/* Moves the clock ms forward, firing timers at their own times. */
static void advance(fixture *f, int64_t ms)
{
    int64_t target = f->vc.mono + ms;
    for (;;) {
        int64_t d = kiosk_next_deadline(f->k);
        if (d < 0 || d > target)
            break;
        if (d > f->vc.mono)
            tp_vclock_advance(&f->vc, d - f->vc.mono);
        kiosk_tick(f->k);
    }
    tp_vclock_advance(&f->vc, target - f->vc.mono);
    kiosk_tick(f->k);
}

/* A tap as the owner does it: press, (frame), deferred write, release. */
static void tap(fixture *f, const char *id)
{
    kiosk_press(f->k, id);
    kiosk_after_frame(f->k);
    kiosk_release(f->k);
}

static void pending(fixture *f, store_answer *out, size_t max, size_t *n)
{
    assert_non_null(kiosk_store(f->k));
    assert_int_equal(store_read_pending(kiosk_store(f->k), 0, max, out, n), TP_OK);
}

static void question_model_and_highlight_first(void **state)
{
    fixture *f = *state;
    ui_screen m;
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    kiosk_model(f->k, &m);
    assert_int_equal(m.kind, UI_SCREEN_QUESTION);
    assert_int_equal(m.scale, TP_KIND_NPS);
    assert_int_equal(m.n_items, 11);
    assert_string_equal(m.items[0].id, "nps-0");
    assert_string_equal(m.items[10].id, "nps-10");
    assert_int_equal(m.items[9].value, 9);
    assert_int_equal(m.n_langs, 2);
    assert_string_equal(m.lang, "vi");
    assert_true(m.staff_corner);
    assert_non_null(strstr(m.prompt, "giới\u00a0thiệu"));
    assert_null(m.highlight);

    kiosk_clear_dirty(f->k);
    kiosk_press(f->k, "nps-4");
    /* Before the frame: highlighted, nothing written, still the question. */
    assert_true(kiosk_dirty(f->k) & KIOSK_DIRTY_HIGHLIGHT);
    assert_string_equal(kiosk_highlight(f->k), "nps-4");
    assert_true(kiosk_has_deferred(f->k));
    store_answer a[4];
    size_t n = 9;
    pending(f, a, 4, &n);
    assert_int_equal(n, 0);
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    /* After the frame: written, then the follow-up. */
    assert_true(kiosk_after_frame(f->k));
    pending(f, a, 4, &n);
    assert_int_equal(n, 1);
    assert_int_equal(a[0].value, 4);
    assert_int_equal(screen(f), KIOSK_SCREEN_FOLLOWUP);
    kiosk_model(f->k, &m);
    assert_int_equal(m.kind, UI_SCREEN_FOLLOWUP);
    assert_int_equal(m.n_items, 6);
    assert_string_equal(m.items[0].id, "reason-wait");
    assert_int_equal(m.n_actions, 1);
    assert_string_equal(m.actions[0].id, "reason-skip");
    print_message("checked: question model (11 nps items, 2 langs, corner); a press highlights "
                  "first and writes only after the frame; nps 4 leads to the follow-up model\n");
}

static void followup_session_and_thanks_timer(void **state)
{
    fixture *f = *state;
    tap(f, "nps-2");
    tap(f, "reason-price");
    assert_int_equal(screen(f), KIOSK_SCREEN_THANKS);
    /* The next timer is the entry animation's frame; the thank-you's 4 s end is checked below. */
    assert_int_equal(kiosk_next_deadline(f->k), f->vc.mono + KIOSK_ANIM_FRAME_MS);
    kiosk_press(f->k, "nps-9"); /* ignored during the thank-you */
    assert_false(kiosk_has_deferred(f->k));
    advance(f, 3999);
    assert_int_equal(screen(f), KIOSK_SCREEN_THANKS);
    advance(f, 1);
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    store_answer a[4];
    size_t n = 0;
    pending(f, a, 4, &n);
    assert_int_equal(n, 2);
    assert_string_equal(a[0].session_id, a[1].session_id);
    assert_int_equal(a[1].kind, TP_KIND_CHOICE);
    assert_string_equal(a[1].choice_id, "price");
    print_message("checked: follow-up joins the main answer's session; thank-you lasts exactly "
                  "4000 ms; presses during it do nothing\n");
}

static void followup_abandoned(void **state)
{
    fixture *f = *state;
    tap(f, "lang-en");
    tap(f, "nps-1");
    assert_int_equal(screen(f), KIOSK_SCREEN_FOLLOWUP);
    advance(f, 20000);
    tap(f, "lang-vi"); /* activity restarts the idle timer */
    tap(f, "lang-en");
    advance(f, 29999);
    assert_int_equal(screen(f), KIOSK_SCREEN_FOLLOWUP);
    advance(f, 1);
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    ui_screen m;
    kiosk_model(f->k, &m);
    assert_string_equal(m.lang, "vi");
    print_message("checked: an abandoned follow-up returns to the question after the idle "
                  "timeout from the last touch, in the default language\n");
}

static void rapid_repeat(void **state)
{
    fixture *f = *state;
    tap(f, "nps-9");
    advance(f, 4000);
    advance(f, 4999);
    tap(f, "nps-9");
    advance(f, 4000);
    advance(f, 5000);
    tap(f, "nps-9");
    store_answer a[4];
    size_t n = 0;
    pending(f, a, 4, &n);
    assert_int_equal(n, 3);
    assert_int_equal(a[0].flags & TP_FLAG_RAPID_REPEAT, 0);
    assert_int_equal(a[1].flags & TP_FLAG_RAPID_REPEAT, TP_FLAG_RAPID_REPEAT);
    assert_int_equal(a[2].flags & TP_FLAG_RAPID_REPEAT, 0);
    print_message("checked: a rating 4999 ms after the thank-you ends is flagged rapid_repeat, "
                  "5000 ms after is not\n");
}

static void staff_hold_pin_lockout(void **state)
{
    fixture *f = *state;
    kiosk_press(f->k, "staff-corner");
    advance(f, 1500);
    assert_true(kiosk_hold_progress(f->k) > 0.49f && kiosk_hold_progress(f->k) < 0.51f);
    kiosk_release(f->k);
    advance(f, 5000);
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    kiosk_press(f->k, "staff-corner");
    advance(f, 3000);
    assert_int_equal(screen(f), KIOSK_SCREEN_PIN);
    kiosk_release(f->k);
    for (int i = 0; i < 5; i++) {
        tap(f, "pin-1");
        tap(f, "pin-2");
        tap(f, "pin-3");
        tap(f, "pin-4");
        tap(f, "pin-ok");
    }
    ui_screen m;
    kiosk_model(f->k, &m);
    assert_int_equal(m.kind, UI_SCREEN_PIN);
    assert_int_equal(m.items[0].style, UI_STYLE_DISABLED);
    assert_non_null(m.subtitle);
    assert_non_null(strstr(m.subtitle, "5"));
    tap(f, "pin-2");
    tap(f, "pin-4");
    tap(f, "pin-6");
    tap(f, "pin-8");
    tap(f, "pin-ok");
    assert_int_equal(screen(f), KIOSK_SCREEN_PIN);
    /* The pad stays locked across leaving it (idle 60 s) until 300 s have passed. */
    advance(f, 60000);
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    advance(f, 240000);
    kiosk_press(f->k, "staff-corner");
    advance(f, 3000);
    kiosk_release(f->k);
    tap(f, "pin-2");
    tap(f, "pin-4");
    tap(f, "pin-6");
    tap(f, "pin-8");
    tap(f, "pin-del");
    tap(f, "pin-8");
    tap(f, "pin-ok");
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF);
    kiosk_model(f->k, &m);
    assert_int_equal(m.kind, UI_SCREEN_STAFF);
    assert_true(m.n_lines >= 6);
    bool never = false;
    for (int i = 0; i < m.n_lines; i++)
        never = never || strstr(m.lines[i], "chưa bao\u00a0giờ") != NULL;
    assert_true(never); /* no sync yet: "never" (vi) */
    advance(f, 59999);
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF);
    advance(f, 1);
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    print_message("checked: hold progress, early release cancels, 3 s hold opens the PIN pad; 5 "
                  "wrong PINs lock it (keys disabled) for 300 s even for the right PIN; then "
                  "the right PIN (with a delete) opens staff, showing 'never synced'; staff "
                  "leaves after 60 s idle\n");
}

/* Hold the staff corner 3 s, then the right PIN. */
static void open_staff(fixture *f)
{
    kiosk_press(f->k, "staff-corner");
    advance(f, 3000);
    kiosk_release(f->k);
    tap(f, "pin-2");
    tap(f, "pin-4");
    tap(f, "pin-6");
    tap(f, "pin-8");
    tap(f, "pin-ok");
}

static bool any_line(kiosk *k, const char *needle)
{
    ui_screen m;
    kiosk_model(k, &m);
    for (int i = 0; i < m.n_lines; i++)
        if (strstr(m.lines[i], needle))
            return true;
    return false;
}

/* The staff screen re-reads the database every KIOSK_STAFF_REFRESH_MS: a sync that the daemon
 * (another process) finishes while staff watch shows up without leaving the screen. */
static void staff_screen_refreshes(void **state)
{
    fixture *f = *state;
    open_staff(f);
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF);
    assert_true(any_line(f->k, "chưa bao\u00a0giờ"));
    store_sync_result r = {.at_ms = f->vc.wall, .ok = true, .http_status = 200};
    tp_strlcpy(r.message, "ok", sizeof r.message);
    assert_int_equal(store_log_sync(kiosk_store(f->k), &r), TP_OK);
    kiosk_clear_dirty(f->k);
    advance(f, KIOSK_STAFF_REFRESH_MS - 1);
    assert_false(kiosk_dirty(f->k) & KIOSK_DIRTY_SCREEN);
    assert_true(any_line(f->k, "chưa bao\u00a0giờ"));
    advance(f, 1);
    assert_true(kiosk_dirty(f->k) & KIOSK_DIRTY_SCREEN);
    assert_true(any_line(f->k, "thành\u00a0công"));
    assert_false(any_line(f->k, "chưa bao\u00a0giờ"));
    kiosk_clear_dirty(f->k);
    advance(f, KIOSK_STAFF_REFRESH_MS); /* nothing changed: no redraw */
    assert_false(kiosk_dirty(f->k) & KIOSK_DIRTY_SCREEN);
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF);
    print_message("checked: a sync logged while the staff screen is open shows ('thành công') "
                  "%d ms later with a redraw, and not before; an unchanged refresh does not "
                  "redraw\n",
                  KIOSK_STAFF_REFRESH_MS);
}

/* A stick mounted at /media/NAME, as usb_list() reports it. */
static usb_stick make_stick(const char *name, int mount_id)
{
    usb_stick st;
    memset(&st, 0, sizeof st);
    snprintf(st.mount_point, sizeof st.mount_point, "/media/%s", name);
    snprintf(st.name, sizeof st.name, "%s", name);
    st.mount_id = mount_id;
    return st;
}

static void staff_usb_export(void **state)
{
    fixture *f = *state;
    usb_stick st = make_stick("touchpoint-usb-1", 77);
    kiosk_export_req rq;
    ui_screen m;
    open_staff(f);
    tap(f, "staff-export"); /* no stick: no such button, nothing happens */
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF);
    kiosk_set_sticks(f->k, &st, 1);
    tap(f, "staff-export");
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF_EXPORT);
    assert_false(kiosk_take_export(f->k, &rq));
    tap(f, "export-all");
    assert_true(kiosk_take_export(f->k, &rq));
    assert_false(kiosk_take_export(f->k, &rq)); /* once */
    assert_true(rq.all);
    assert_int_equal(rq.mount_id, 77);
    assert_string_equal(rq.mount_point, "/media/touchpoint-usb-1");
    kiosk_export_progress(f->k, 5, 10);
    kiosk_model(f->k, &m);
    assert_non_null(m.subtitle);
    assert_non_null(strstr(m.subtitle, "5 / 10"));
    assert_int_equal(m.items[0].style, UI_STYLE_DISABLED);
    tap(f, "staff-back"); /* refused while running */
    advance(f, 120000);   /* and no idle timeout either */
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF_EXPORT);
    kiosk_export_done(f->k, true, "Done: 10 answers, safe to remove");
    kiosk_model(f->k, &m);
    assert_string_equal(m.subtitle, "Done: 10 answers, safe to remove");
    advance(f, 60000);
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    print_message("checked: export button only with a stick; export-all hands one request with "
                  "the stick's mount to the owner; progress shown; back and idle timeout held "
                  "off while it runs; the outcome sentence shown; idle leaves afterwards\n");
}

/* The dirty flags since the last look, cleared (as the owner does after drawing). */
static unsigned take_dirty(fixture *f)
{
    unsigned d = kiosk_dirty(f->k);
    kiosk_clear_dirty(f->k);
    return d;
}

static void export_progress_cancel_and_key(void **state)
{
    fixture *f = *state;
    usb_stick st = make_stick("touchpoint-usb-key", 0);
    kiosk_export_req rq;
    ui_screen m;
    /* A key stick plugged in on the survey: straight to the export screen, no PIN pad. */
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    kiosk_set_sticks(f->k, &st, 1);
    assert_true(kiosk_staff_key(f->k));
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF_EXPORT);
    assert_false(kiosk_staff_key(f->k)); /* already on a staff screen */
    kiosk_model(f->k, &m);
    assert_false(m.progress_bar);
    tap(f, "export-new");
    assert_true(kiosk_take_export(f->k, &rq));
    take_dirty(f);
    /* Redraws at a bounded rate: the first report, then every 2 % (or 100 ms), then the end. */
    int redraws = 0;
    for (int64_t done = 0; done <= 10000; done += 25) {
        kiosk_export_progress(f->k, done, 10000);
        if (take_dirty(f) & KIOSK_DIRTY_SCREEN)
            redraws++;
    }
    assert_in_range(redraws, 50, 52);
    kiosk_export_progress(f->k, 2500, 10000);
    kiosk_model(f->k, &m);
    assert_true(m.progress_bar);
    assert_true(m.progress > 0.249f && m.progress < 0.251f);
    assert_string_equal(m.actions[0].id, "export-cancel");
    assert_int_equal(m.actions[0].style, UI_STYLE_DANGER);
    tp_vclock_advance(&f->vc, 150); /* time also brings a redraw */
    kiosk_export_progress(f->k, 2501, 10000);
    assert_true(take_dirty(f) & KIOSK_DIRTY_SCREEN);
    /* Cancel: the owner's callback sees it; the outcome is shown, not treated as a failure. */
    assert_false(kiosk_export_cancelled(f->k));
    tap(f, "export-cancel");
    assert_true(kiosk_export_cancelled(f->k));
    kiosk_model(f->k, &m);
    assert_int_equal(m.actions[0].style, UI_STYLE_DISABLED);
    kiosk_export_done(f->k, true, "Đã hủy xuất.");
    kiosk_model(f->k, &m);
    assert_string_equal(m.subtitle, "Đã hủy xuất.");
    assert_string_equal(m.actions[0].id, "staff-back");
    assert_string_equal(status(f).staff_lang, "vi");
    /* The next export starts uncancelled. */
    tap(f, "export-all");
    assert_true(kiosk_take_export(f->k, &rq));
    assert_false(kiosk_export_cancelled(f->k));
    kiosk_export_done(f->k, true, "Xong");
    advance(f, 60000); /* staff idle: back to the survey */
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    print_message("checked: a staff key stick opens staff_export from the survey; the progress "
                  "bar fraction is in the model; 401 reports over 10000 rows give 50-52 "
                  "redraws (2 %% steps) and 100 ms brings one; export-cancel (danger) sets the "
                  "owner's cancel flag and disables itself; the next export is uncancelled; "
                  "idle returns to the survey\n");
}

static void smiley_unhappiest_first(void **state)
{
    fixture *f = *state;
    char path[600], cwd[512], err[512];
    ui_screen m;
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(path, sizeof path, "%s/assets/surveys/exit-smiley.json", cwd);
    kiosk_free(f->k);
    f->k = NULL;
    tp_strlcpy(f->cfg.survey_file, path, sizeof f->cfg.survey_file);
    kiosk_options o = {0};
    o.cfg = &f->cfg;
    o.clock = &f->vc.clock;
    o.windowed = true;
    if (kiosk_new(&o, &f->k, err, sizeof err) != TP_OK)
        fail_msg("%s", err);
    kiosk_model(f->k, &m);
    assert_int_equal(m.scale, TP_KIND_SMILEY4);
    assert_int_equal(m.n_items, 4);
    for (int i = 0; i < 4; i++) {
        char id[24];
        snprintf(id, sizeof id, "smiley4-%d", i + 1);
        assert_string_equal(m.items[i].id, id);
        assert_int_equal(m.items[i].value, i + 1);
    }
    print_message("checked: smiley4 items go unhappiest first (smiley4-1 value 1 .. smiley4-4 "
                  "value 4): the product's one face order, ids and values unchanged\n");
}

static void keys_windowed(void **state)
{
    fixture *f = *state;
    assert_int_equal(kiosk_key(f->k, "alt+f4"), KIOSK_QUIT);
    assert_int_equal(kiosk_key(f->k, "escape"), KIOSK_QUIT);
    print_message("checked: windowed developer mode quits on Escape\n");
}

static void keys_lockdown(void **state)
{
    fixture *f = *state;
    const char *keys[] = {"escape", "alt+f4", "ctrl+q", "quit", "close"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(kiosk_key(f->k, keys[i]), KIOSK_NONE);
    print_message("checked: fullscreen lockdown ignores Escape, Alt+F4, Ctrl+Q, quit, close\n");
}

/* The index of the staff line whose key starts with key, or -1. */
static int line_of(const ui_screen *m, const char *key)
{
    for (int i = 0; i < m->n_lines; i++)
        if (strncmp(m->lines[i], key, strlen(key)) == 0)
            return i;
    return -1;
}

/* Issue 11 item 8: the survey's title, customers beside answers, only the running survey's
 * metrics, no ":)", warnings in the warning colour with a reason and healthy lines plain, "exit"
 * apart and confirmed. */
static void staff_screen_trusted(void **state)
{
    fixture *f = *state;
    ui_screen m;
    tap(f, "nps-3"); /* one customer: a rating and a follow-up choice */
    assert_int_equal(screen(f), KIOSK_SCREEN_FOLLOWUP);
    kiosk_model(f->k, &m);
    tap(f, m.items[0].id);
    assert_int_equal(screen(f), KIOSK_SCREEN_THANKS);
    advance(f, 10000);
    open_staff(f);
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF);
    kiosk_work w = {.done = KIOSK_WORK_DB_CHECK, .db_rc = TP_OK};
    kiosk_work_done(f->k, &w);
    kiosk_model(f->k, &m);
    int sv = line_of(&m, "Khảo\u00a0sát\t");
    assert_true(sv >= 0);
    assert_string_equal(m.lines[sv], "Khảo\u00a0sát\tKhảo\u00a0sát tại quầy thanh\u00a0toán (v1)");
    int cu = line_of(&m, "Khách hôm\u00a0nay\t"),
        an = line_of(&m, "Câu trả\u00a0lời hôm\u00a0nay\t");
    assert_true(cu >= 0 && an == cu + 1);
    assert_string_equal(strchr(m.lines[cu], '\t'), "\t1");
    assert_string_equal(strchr(m.lines[an], '\t'), "\t2");
    assert_true(line_of(&m, "NPS hôm\u00a0nay\t") >= 0);
    assert_int_equal(line_of(&m, "CSAT"), -1); /* checkout-nps asks no csat, ces, smiley */
    assert_int_equal(line_of(&m, "CES"), -1);
    assert_int_equal(line_of(&m, "Mặt\u00a0cười"), -1);
    for (int i = 0; i < m.n_lines; i++)
        assert_null(strstr(m.lines[i], ":)"));
    assert_int_equal(m.warn_lines, 0); /* all healthy: every line plain */
    /* Exit kiosk: not among the menu buttons next to "Sync now", but a danger action that the
     * ui sets apart from "Back". */
    for (int i = 0; i < m.n_items; i++)
        assert_string_not_equal(m.items[i].id, "staff-exit");
    assert_int_equal(m.n_actions, 2);
    assert_string_equal(m.actions[0].id, "staff-exit");
    assert_int_equal(m.actions[0].style, UI_STYLE_DANGER);

    /* Warnings: a stuck button, a failed last sync, answers waiting past amber_after_s. */
    kiosk_set_hw_status(f->k, "stuck: button 1");
    store_sync_result r = {.at_ms = f->vc.wall, .ok = false, .http_status = 503};
    tp_strlcpy(r.message, "server said 503", sizeof r.message);
    assert_int_equal(store_log_sync(kiosk_store(f->k), &r), TP_OK);
    tp_vclock_advance(&f->vc, (int64_t)f->cfg.gpio.amber_after_s * 1000 + 1000);
    tap(f, "staff-lang");
    tap(f, "staff-lang"); /* back to vi; each press rebuilds the lines */
    kiosk_model(f->k, &m);
    int hw = line_of(&m, "Nút\u00a0bấm"), ls = line_of(&m, "Đồng\u00a0bộ gần\u00a0nhất"),
        pe = line_of(&m, "Chờ đồng\u00a0bộ");
    assert_true(hw >= 0 && ls >= 0 && pe >= 0);
    assert_non_null(strstr(m.lines[hw], "stuck: button 1"));
    assert_non_null(strstr(m.lines[ls], "lỗi: server said 503"));
    assert_non_null(strstr(m.lines[pe], "2 \u2013 chờ quá"));
    assert_int_equal(m.warn_lines, (1u << hw) | (1u << ls) | (1u << pe));

    /* Exit asks first. */
    tap(f, "staff-exit");
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF_EXIT);
    kiosk_model(f->k, &m);
    assert_int_equal(m.n_actions, 2);
    assert_string_equal(m.actions[0].id, "exit-confirm");
    assert_int_equal(kiosk_press(f->k, "staff-back"), KIOSK_NONE);
    kiosk_release(f->k);
    assert_int_equal(screen(f), KIOSK_SCREEN_STAFF);
    tap(f, "staff-exit");
    assert_int_equal(kiosk_press(f->k, "exit-confirm"), KIOSK_QUIT);
    print_message("checked: staff lines name the survey by title and version, customers (1) "
                  "beside answers (2), only NPS for an NPS survey, no ':)', all plain when "
                  "healthy; a stuck button, a failed last sync and answers waiting past "
                  "amber_after_s are in the warning colour with the reason; 'exit' is a danger "
                  "action apart from the menu, and ends only after its confirmation screen\n");
}

/* Issue 11 item 8: a wrong PIN shows in the warning colour with the attempts left; Cancel is
 * the keypad's last key, not a bar button. */
static void pin_wrong_in_warning_colour(void **state)
{
    fixture *f = *state;
    ui_screen m;
    kiosk_press(f->k, "staff-corner");
    advance(f, 3000);
    kiosk_release(f->k);
    kiosk_model(f->k, &m);
    assert_int_equal(m.n_actions, 0);
    assert_string_equal(m.items[m.n_items - 1].id, "pin-cancel");
    assert_int_equal(m.n_items % 3, 1);
    assert_false(m.subtitle_warn);
    tap(f, "pin-1");
    tap(f, "pin-ok");
    kiosk_model(f->k, &m);
    assert_true(m.subtitle_warn);
    assert_string_equal(m.subtitle, "Sai mã\u00a0PIN – còn 4 lần thử");
    tap(f, "pin-cancel");
    assert_int_equal(screen(f), KIOSK_SCREEN_QUESTION);
    print_message("checked: the PIN pad's Cancel is the keypad block's last key; a wrong PIN "
                  "reads 'Sai mã PIN – còn 4 lần thử' in the warning colour\n");
}

/* Issue 11 item 7: after [power] dim_after_s (300 s) without anyone the question shows the
 * attract band (invitation, brand); any press ends it and still counts. */
static void attract_after_idle(void **state)
{
    fixture *f = *state;
    ui_screen m;
    advance(f, 299999);
    kiosk_model(f->k, &m);
    assert_null(m.invite);
    assert_int_equal(kiosk_next_deadline(f->k), f->vc.mono + 1);
    advance(f, 1);
    assert_true(kiosk_dirty(f->k) & KIOSK_DIRTY_SCREEN);
    kiosk_model(f->k, &m);
    assert_int_equal(m.kind, UI_SCREEN_QUESTION);
    assert_non_null(m.invite);
    assert_string_equal(m.invite, "Chạm để góp\u00a0ý – chỉ 5\u00a0giây");
    assert_int_equal(m.n_items, 11); /* the question stays, lit and usable */
    kiosk_press(f->k, "lang-en");
    kiosk_release(f->k);
    kiosk_model(f->k, &m);
    assert_null(m.invite);
    advance(f, 400000); /* again (the language went back to vi on its own idle meanwhile) */
    kiosk_model(f->k, &m);
    assert_non_null(m.invite);
    tap(f, "nps-9"); /* a tap during the attract state is an answer */
    assert_int_equal(screen(f), KIOSK_SCREEN_THANKS);
    store_answer a[2];
    size_t n = 0;
    pending(f, a, 2, &n);
    assert_int_equal(n, 1);
    print_message("checked: the attract state comes exactly at dim_after_s on the question, with "
                  "the invitation and the scale still there; a press ends it, and a rating tap "
                  "in it is recorded\n");
}

/* Issue 11 item 7: the thank-you animates only while it moves, at most 30 frames a second, and
 * nothing is scheduled once it is over (the loop sleeps). */
static void thanks_animation_frames(void **state)
{
    fixture *f = *state;
    ui_screen m;
    float an, cd;
    tap(f, "nps-9");
    assert_int_equal(screen(f), KIOSK_SCREEN_THANKS);
    kiosk_model(f->k, &m);
    assert_true(m.anim < 0.01f && m.countdown > 0.99f);
    int frames = 0, entry_frames = 0;
    int64_t t0 = f->vc.mono, last = t0;
    while (screen(f) == KIOSK_SCREEN_THANKS) {
        int64_t d = kiosk_next_deadline(f->k);
        assert_true(d > last);
        tp_vclock_advance(&f->vc, d - f->vc.mono);
        kiosk_clear_dirty(f->k);
        kiosk_tick(f->k);
        if (screen(f) != KIOSK_SCREEN_THANKS)
            break;
        assert_true(kiosk_dirty(f->k) & KIOSK_DIRTY_ANIM);
        assert_true(d - last >= 1000 / 30); /* <= 30 frames per second */
        kiosk_anim(f->k, &an, &cd);
        if (d - t0 <= KIOSK_ANIM_ENTRY_MS)
            entry_frames++;
        if (d - t0 == 2 * KIOSK_ANIM_FRAME_MS * 3) /* on the way: half grown */
            assert_true(an > 0.4f && an < 0.6f);
        frames++;
        last = d;
    }
    assert_int_equal(f->vc.mono - t0, 4000);
    assert_true(entry_frames >= 10 && frames <= 12 + 40);
    kiosk_anim(f->k, &an, &cd);
    assert_true(an == 1.0f && cd == 0.0f);
    /* Back on the question: the next wake-up is the attract timer, minutes away. */
    assert_int_equal(kiosk_next_deadline(f->k), f->vc.mono + 300000);
    print_message("checked: the thank-you draws %d animation frames in 4 s (%d in the 400 ms "
                  "entry), never faster than 30 per second; after it no timer is due before "
                  "the attract state\n",
                  frames, entry_frames);
}

/* Issue 15: the thank-you's comment link. */
static const char *CKEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/* Runs one customer (nps value, with the follow-up when it comes) and returns the thank-you's
 * length in ms, leaving the link (or "") in link. */
static int64_t one_customer(fixture *f, const char *nps, char *link, size_t linklen)
{
    tap(f, nps);
    if (screen(f) == KIOSK_SCREEN_FOLLOWUP)
        tap(f, "reason-wait");
    assert_int_equal(screen(f), KIOSK_SCREEN_THANKS);
    const char *l = kiosk_comment_link(f->k);
    snprintf(link, linklen, "%s", l ? l : "");
    ui_screen m;
    kiosk_model(f->k, &m);
    if (l) {
        assert_true(m.qr_size >= 21 && m.qr != NULL);
        assert_string_equal(m.subtitle, strstr(l, "&l=vi&")
                                            ? "Quét mã để góp\u00a0ý thêm bằng điện\u00a0thoại"
                                            : "Scan to tell us more on your phone");
    } else {
        assert_int_equal(m.qr_size, 0);
    }
    int64_t t0 = f->vc.mono;
    while (screen(f) == KIOSK_SCREEN_THANKS)
        advance(f, 500);
    return f->vc.mono - t0;
}

static void comment_link_on_thanks(void **state)
{
    fixture *f = *state;
    char link[CLINK_URL_MAX], err[128];
    /* No key from the center yet: the plain thank-you, as long as before. */
    assert_int_equal(one_customer(f, "nps-9", link, sizeof link), 4000);
    assert_string_equal(link, "");
    /* Key and page delivered: a link for this session, valid 30 min after the tap. */
    snprintf(f->cfg.comment_key, sizeof f->cfg.comment_key, "%s", CKEY);
    snprintf(f->cfg.comment_url, sizeof f->cfg.comment_url, "https://fb.example.vn/c");
    int64_t tap_s = f->vc.wall / 1000;
    assert_int_equal(one_customer(f, "nps-3", link, sizeof link), 15000);
    clink l;
    assert_int_equal(clink_verify(link, CKEY, tap_s + 1800, &l, err, sizeof err), CLINK_VALID);
    assert_int_equal(clink_verify(link, CKEY, tap_s + 1801, &l, err, sizeof err), CLINK_EXPIRED);
    assert_true(l.expiry_s == tap_s + 1800);
    assert_string_equal(l.device, "unit");
    assert_string_equal(l.lang, "vi");
    assert_int_equal(strncmp(link, "https://fb.example.vn/c?", 24), 0);
    store_answer a[8];
    size_t n = 0;
    pending(f, a, 8, &n);
    assert_int_equal(n, 3); /* nps-9, nps-3 and its reason */
    assert_string_equal(l.session, a[1].session_id);
    /* English customer, a longer validity from [timing] comment_link_minutes. */
    f->cfg.comment_link_minutes = 45;
    tap(f, "lang-en");
    tap_s = f->vc.wall / 1000;
    one_customer(f, "nps-10", link, sizeof link);
    assert_int_equal(clink_verify(link, CKEY, tap_s, &l, err, sizeof err), CLINK_VALID);
    assert_true(l.expiry_s == tap_s + 45 * 60);
    assert_string_equal(l.lang, "en");
    /* An untrusted clock: no link at all (its expiry could be anything). */
    f->vc.is_synced = false;
    assert_int_equal(one_customer(f, "nps-8", link, sizeof link), 4000);
    assert_string_equal(link, "");
    print_message("checked: no key: plain 4 s thank-you; with key and page: a link for the "
                  "session that clink_verify accepts until tap + 30 min (45 with "
                  "comment_link_minutes), in the customer's language, and a 15 s thank-you; an "
                  "unsynchronised clock shows no link\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(question_model_and_highlight_first, setup, teardown),
        cmocka_unit_test_setup_teardown(followup_session_and_thanks_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(followup_abandoned, setup, teardown),
        cmocka_unit_test_setup_teardown(rapid_repeat, setup, teardown),
        cmocka_unit_test_setup_teardown(staff_hold_pin_lockout, setup, teardown),
        cmocka_unit_test_setup_teardown(staff_screen_refreshes, setup, teardown),
        cmocka_unit_test_setup_teardown(staff_screen_trusted, setup, teardown),
        cmocka_unit_test_setup_teardown(pin_wrong_in_warning_colour, setup, teardown),
        cmocka_unit_test_setup_teardown(attract_after_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(thanks_animation_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(comment_link_on_thanks, setup_comment, teardown),
        cmocka_unit_test_setup_teardown(staff_usb_export, setup, teardown),
        cmocka_unit_test_setup_teardown(export_progress_cancel_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(smiley_unhappiest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_windowed, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_lockdown, setup_fullscreen, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
