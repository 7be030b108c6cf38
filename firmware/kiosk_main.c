/*
 * kiosk_main.c - the touchpoint-kiosk program: options, the window (ui), signals and the one
 * event loop that drives the state machine (kiosk.h).
 *
 *   touchpoint-kiosk --config FILE [--windowed] [--headless] [--script FILE|-] [--trace]
 *                    [--size WxH]
 *
 * The loop sleeps in SDL_WaitEventTimeout() until input arrives or the state machine's next timer
 * is due, and draws only when something changed. SIGTERM/SIGINT are blocked in every thread and
 * read from a signalfd by a small thread that wakes the loop with an SDL user event: the loop
 * finishes what it is doing (a write is synchronous, so it is complete) and exits cleanly.
 * SDL's own signal handlers are turned off, so no signal becomes an SDL_QUIT that lockdown would
 * ignore.
 *
 * With --script, input comes from the script and time from a virtual clock (tp_vclock), so tests
 * are instant and deterministic; the same event handler as live input is used.
 *
 * Under systemd (watchdog.h): READY=1 after the first frame; WATCHDOG=1 only from the loop's tick
 * (wd_tick) after a health check, on real time even in script mode; the loop's wait (and the wait
 * for the next `--script -` line) includes the ping deadline.
 */
#include <SDL.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "gpio.h"
#include "kiosk.h"
#include "power.h"
#include "script.h"
#include "trace.h"
#include "ui.h"
#include "usb.h"
#include "usb_export.h"
#include "watchdog.h"

#define EXIT_USAGE 2
#define EXIT_EXPECT 3

/* ---- Signals -------------------------------------------------------------------------------- */

typedef struct sigwatch {
    int sfd;          /* signalfd for SIGTERM, SIGINT */
    int stopfd;       /* eventfd: tells the thread to end */
    int usbfd;        /* usb_fd() or -1: readable when the sticks may have changed */
    int rearmfd;      /* eventfd: the loop has run usb_poll(), watch usbfd again */
    int gpiofd;       /* gpio_fd() or -1: readable when GPIO edges wait (re-armed likewise) */
    Uint32 sdl_event; /* registered SDL user event type */
    pthread_t thread;
    bool running;
} sigwatch;

static void push_user(const sigwatch *w, int code)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = w->sdl_event;
    ev.user.code = code;
    SDL_PushEvent(&ev); /* thread-safe; wakes SDL_WaitEventTimeout */
}

#define WAKE_USB (-1)    /* user event code: the sticks may have changed */
#define WAKE_EXPORT (-2) /* user event code: the export job progressed or ended */
#define WAKE_GPIO (-3)   /* user event code: GPIO edges wait (gpio_fd readable) */

/* Waits for signals and (while armed) the USB descriptor; turns each into an SDL user event. The
 * USB descriptor stays readable until the loop calls usb_poll(), so after one wake-up it is not
 * watched again until the loop re-arms it. */
static void *sigwatch_main(void *arg)
{
    sigwatch *w = arg;
    bool usb_armed = w->usbfd >= 0;
    bool gpio_armed = w->gpiofd >= 0;
    for (;;) {
        struct pollfd p[5] = {{w->sfd, POLLIN, 0},
                              {w->stopfd, POLLIN, 0},
                              {w->rearmfd, POLLIN, 0},
                              {usb_armed ? w->usbfd : -1, POLLIN, 0},
                              {gpio_armed ? w->gpiofd : -1, POLLIN, 0}};
        if (poll(p, 5, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[2].revents & POLLIN) {
            uint64_t v;
            if (read(w->rearmfd, &v, sizeof v) == (ssize_t)sizeof v) {
                usb_armed = w->usbfd >= 0;
                gpio_armed = w->gpiofd >= 0;
            }
        }
        if (p[4].revents & (POLLIN | POLLPRI | POLLERR)) {
            gpio_armed = false; /* until the loop has read the edges */
            push_user(w, WAKE_GPIO);
        }
        if (p[3].revents & (POLLIN | POLLPRI | POLLERR)) {
            usb_armed = false;
            push_user(w, WAKE_USB);
        }
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(w->sfd, &si, sizeof si) != (ssize_t)sizeof si)
                continue;
            push_user(w, (int)si.ssi_signo);
        }
    }
    return NULL;
}

/* ---- The program's state ------------------------------------------------------------------ */

typedef struct app {
    config cfg;
    kiosk *k;
    ui *u;
    tp_vclock vc;
    bool scripted;
    trace *tr; /* NULL: no --trace */
    sigwatch sw;
    bool quit;
    int exit_code;
    long frames;
    int64_t started_us;       /* real time main() began */
    struct timespec input_at; /* real time of the last input event */
    bool input_pending;       /* frames since that input report their latency */
    const char *script_name;
    /* USB sticks and the export job */
    usb *usb;
    pthread_t export_thread;
    bool export_thread_running;
    pthread_mutex_t export_mu;
    int64_t export_done, export_total; /* under export_mu */
    bool export_finished;              /* under export_mu */
    bool export_cancel;                /* under export_mu: staff pressed export-cancel */
    int64_t shot_rows;                 /* script mode: TP_KIOSK_EXPORT_SHOT's row count (-1) */
    int64_t cancel_rows;               /* script mode: TP_KIOSK_EXPORT_CANCEL's row count (-1) */
    bool usb_scanned;                  /* the first usb_refresh (sticks present at start) ran */
    bool hooks_read;                   /* the TP_KIOSK_EXPORT_* hooks were read (first export) */
    usb_export_report export_rep;      /* written by the job, read after export_finished */
    kiosk_export_req export_req;
    bool key_checked; /* the sticks were checked for a staff key on this PIN pad visit */
    /* Buttons and lights (gpio.h, NULL: none or failed to open) and screen power (power.h) */
    gpio *gpio;
    power *pw;
    char gpio_err[TP_ERRMSG_MAX]; /* start-up error for the staff screen, "" none */
    int64_t answers_seen;         /* kiosk_answers_recorded() at the last ack pulse */
    int64_t led_next;             /* mono ms of the next status LED check */
    kiosk_screen led_screen;      /* screen at the last status LED check */
    bool swallow_release;         /* the press was a wake-up tap: drop its release too */
    bool gpio_woken;              /* the watcher stopped watching the GPIO fd: re-arm it */
    watchdog *wd;                 /* systemd notifications (watchdog.h); no-op outside systemd */
    kiosk_work work;              /* the state machine's work, done by do_work */
} app;

static int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t ts_us(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

static void mark_input(app *a)
{
    clock_gettime(CLOCK_MONOTONIC, &a->input_at);
    a->input_pending = true;
}

static void trace_error(app *a, const char *code, const char *msg)
{
    trace_event(a->tr, "error", TRACE_STR("code", code), TRACE_STR("message", msg), TRACE_END);
}

static kiosk_screen screen_of(const app *a)
{
    kiosk_status st;
    kiosk_status_get(a->k, &st);
    return st.screen;
}

/* Brings the window up to date with the state machine: a new screen, a highlight or the hold
 * ring, then one frame; after the frame, the deferred durable write (which may change the
 * screen again, so loop). */
static void export_start(app *a);
static void export_cancel_sync(app *a);
static void staff_key_check(app *a);
static void led_update(app *a, bool force);
static void hw_after_frame(app *a);

static void do_work(app *a);

static void present(app *a)
{
    do_work(a);
    export_cancel_sync(a);
    export_start(a);
    staff_key_check(a);
    led_update(a, false);
    for (int guard = 0; guard < 16; guard++) {
        do_work(a);
        unsigned d = kiosk_dirty(a->k);
        if (!d)
            return;
        if (d & KIOSK_DIRTY_SCREEN) {
            ui_screen scr;
            kiosk_model(a->k, &scr);
            if (ui_set_screen(a->u, &scr) != TP_OK) {
                fprintf(stderr, "touchpoint-kiosk: screen %s: %s\n",
                        kiosk_screen_label(screen_of(a)),
                        ui_errmsg(a->u));
                trace_error(a, "ui", ui_errmsg(a->u));
            }
        } else {
            if (d & KIOSK_DIRTY_HIGHLIGHT)
                ui_set_highlight(a->u, kiosk_highlight(a->k));
            if (d & KIOSK_DIRTY_HOLD)
                ui_set_hold(a->u, kiosk_hold_progress(a->k));
        }
        kiosk_clear_dirty(a->k);
        if (ui_render(a->u) != TP_OK)
            trace_error(a, "ui", ui_errmsg(a->u));
        a->frames++;
        trace_event(a->tr, "frame", TRACE_NUM("n", a->frames),
                    TRACE_STR("highlight", kiosk_highlight(a->k)),
                    TRACE_NUM_IF(a->frames == 1, "since_main_ms",
                                 (double)(real_us() - a->started_us) / 1000),
                    TRACE_NUM_IF(a->input_pending, "latency_us",
                                 (double)(real_us() - ts_us(&a->input_at))),
                    TRACE_END);
        if (a->frames == 1) { /* systemd: started once the first frame is on screen */
            char st[WATCHDOG_STATUS_MAX];
            snprintf(st, sizeof st, "first frame drawn: %s screen",
                     kiosk_screen_label(screen_of(a)));
            watchdog_ready(a->wd, st);
        }
        kiosk_after_frame(a->k);
        hw_after_frame(a);
    }
}

/* ---- Work the state machine asks of its owner ------------------------------------------------ */

/* Reads the sync daemon's pid from pid_file (written by `touchpoint sync --daemon --pid-file`) and
 * sends it sig (0: only checks that it lives). Returns the pid, 0 when the file is missing, empty
 * or names no live process (sync is not running), or -1 with why in err.
 * Replaced by sync_wake() at merge. */
static long wake_sync(const char *pid_file, int sig, char *err, size_t errlen)
{
    char line[32] = "";
    FILE *f = fopen(pid_file, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%.200s: %s", pid_file, strerror(errno));
        return -1;
    }
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!got)
        return 0; /* being replaced right now, or empty: nothing to signal */
    char *end = NULL;
    errno = 0;
    long pid = strtol(line, &end, 10);
    if (errno || end == line || (*end && *end != '\n') || pid <= 1) {
        snprintf(err, errlen, "%.200s: not a pid", pid_file);
        return -1;
    }
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0; /* stale file: the daemon died without removing it */
    if (sig && kill((pid_t)pid, sig) != 0) {
        snprintf(err, errlen, "kill %ld: %s", pid, strerror(errno));
        return errno == ESRCH ? 0 : -1;
    }
    return pid;
}

/* The surveys of folder dir that load (a broken file must not take the kiosk down), labelled
 * "Title (id)" in lang, into out (KIOSK_MAX_SURVEYS entries). Returns how many. */
static int survey_scan(const char *dir, const char *lang, kiosk_survey_entry *out)
{
    char(*names)[SURVEY_PATH_MAX] = calloc(KIOSK_MAX_SURVEYS, SURVEY_PATH_MAX);
    size_t n = 0;
    int got = 0;
    if (!names || survey_list_dir(dir, names, KIOSK_MAX_SURVEYS, &n) != TP_OK)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        survey *sv = NULL;
        kiosk_survey_entry *e = &out[got];
        if (survey_load(names[i], &sv, NULL, 0) != TP_OK)
            continue;
        tp_strlcpy(e->path, names[i], sizeof e->path);
        int w = snprintf(e->label, sizeof e->label, "%.90s (%s)",
                         survey_text_get(sv, &sv->title, lang), sv->id);
        if (w < 0)
            tp_strlcpy(e->label, sv->id, sizeof e->label);
        got++;
        survey_free(sv);
    }
    free(names);
    return got;
}

/* The staff screens' outside work, done here so the state machine does no I/O of its own: the
 * database quick check, the sync daemon's state, the survey folder. */
static void do_work(app *a)
{
    unsigned w = kiosk_take_work(a->k);
    if (!w)
        return;
    kiosk_work *r = &a->work;
    r->done = w;
    if (w & KIOSK_WORK_DB_CHECK)
        r->db_rc = store_check(kiosk_store(a->k), false);
    if (w & KIOSK_WORK_SYNC_STATE) {
        r->sync_err[0] = '\0';
        r->sync_pid = a->cfg.sync.pid_file[0]
                          ? wake_sync(a->cfg.sync.pid_file, 0, r->sync_err, sizeof r->sync_err)
                          : 1;
    }
    if (w & KIOSK_WORK_SURVEYS) {
        kiosk_status st;
        kiosk_status_get(a->k, &st);
        r->n_surveys = survey_scan(a->cfg.survey_dir, st.default_lang, r->surveys);
    }
    kiosk_work_done(a->k, r);
}

static void handle_action(app *a, kiosk_action act)
{
    if (act == KIOSK_QUIT) {
        a->quit = true;
    } else if (act == KIOSK_SYNC_NOW) {
        /* Staff "Sync now": SIGUSR1 starts a sync round at once. */
        char err[TP_ERRMSG_MAX] = "";
        long pid = wake_sync(a->cfg.sync.pid_file, SIGUSR1, err, sizeof err);
        kiosk_sync_woken(a->k, pid, err);
    }
}

/* ---- Buttons, lights and screen power ------------------------------------------------------ */

#define LED_CHECK_MS 60000 /* the sync daemon clears pending answers: re-check this often */

static const tp_clock *app_clock(const app *a)
{
    return a->scripted ? &a->vc.clock : tp_clock_system();
}

static int64_t app_mono(const app *a)
{
    const tp_clock *c = app_clock(a);
    return c->mono_ms(c->ctx);
}

/* After a screen power level change: without a sysfs backlight (a laptop, an HDMI panel) the
 * picture itself is darkened; then the journal (errors) and the trace. */
static void power_changed(app *a, const char *reason)
{
    const char *perr = power_errmsg(a->pw);
    bool overlay = !power_backlight(a->pw)[0];
    if (overlay && a->u) {
        ui_set_brightness(a->u, power_percent(a->pw));
        if (ui_render(a->u) != TP_OK)
            trace_error(a, "ui", ui_errmsg(a->u));
    }
    if (perr[0])
        fprintf(stderr, "touchpoint-kiosk: %s\n", perr);
    trace_event(a->tr, "power", TRACE_STR("level", power_level_name(power_get_level(a->pw))),
                TRACE_NUM("percent", power_percent(a->pw)), TRACE_STR("reason", reason),
                TRACE_STR("backlight", power_backlight(a->pw)), TRACE_BOOL("overlay", overlay),
                TRACE_STR_IF(perr[0], "error", perr), TRACE_END);
}

/* Status LED: red (store failed / out of order), amber (answers waiting too long), green. Checked
 * when the screen changes, after each answer (force) and every LED_CHECK_MS. */
static void led_update(app *a, bool force)
{
    if (!a->gpio)
        return;
    kiosk_screen screen = screen_of(a);
    int64_t t = app_mono(a);
    if (!force && screen == a->led_screen && t < a->led_next)
        return;
    a->led_screen = screen;
    a->led_next = t + LED_CHECK_MS;
    store *st = kiosk_store(a->k);
    store_info info;
    int64_t oldest = 0;
    bool failed = st == NULL;
    if (st && store_get_info(st, &info) == TP_OK)
        oldest = info.oldest_pending_ms;
    else
        failed = true;
    const tp_clock *c = app_clock(a);
    gpio_led before = gpio_status(a->gpio);
    gpio_led led = gpio_status_for(failed, screen == KIOSK_SCREEN_OUT_OF_ORDER, oldest,
                                   c->wall_ms(c->ctx), a->cfg.gpio.amber_after_s);
    if (gpio_set_status(a->gpio, led) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: %s\n", gpio_errmsg(a->gpio));
        trace_error(a, "gpio", gpio_errmsg(a->gpio));
        return;
    }
    if (led != before)
        trace_event(a->tr, "led", TRACE_STR("state", gpio_led_name(led)),
                    TRACE_BOOL("store_failed", failed), TRACE_NUM("oldest_pending_ms", oldest),
                    TRACE_END);
}

/* After a frame: each newly recorded answer gets an acknowledgement pulse. */
static void hw_after_frame(app *a)
{
    kiosk_status st;
    kiosk_status_get(a->k, &st);
    int64_t n = st.answers_recorded;
    if (n == a->answers_seen)
        return;
    a->answers_seen = n;
    if (!a->gpio)
        return;
    if (gpio_pulse_ack(a->gpio) != TP_OK) {
        trace_error(a, "gpio", gpio_errmsg(a->gpio));
    } else {
        trace_event(a->tr, "ack", TRACE_NUM("answers", n), TRACE_END);
    }
    led_update(a, true);
}

/* The staff screen's line about buttons and lights: the start-up error, or stuck inputs. */
static void hw_status_update(app *a)
{
    char stuck[160], text[200];
    if (a->gpio_err[0]) {
        kiosk_set_hw_status(a->k, a->gpio_err);
    } else if (gpio_stuck(a->gpio, stuck, sizeof stuck) > 0) {
        snprintf(text, sizeof text, "stuck: %s", stuck);
        kiosk_set_hw_status(a->k, text);
    } else {
        kiosk_set_hw_status(a->k, NULL);
    }
}

static const char *gpio_ev_name(gpio_ev_type t)
{
    switch (t) {
    case GPIO_EV_BUTTON: return "press";
    case GPIO_EV_STAFF_KEY: return "staff_key";
    case GPIO_EV_PRESENCE: return "presence";
    case GPIO_EV_STUCK: return "stuck";
    case GPIO_EV_UNSTUCK: return "unstuck";
    }
    return "?";
}

static void gpio_event_handle(app *a, const gpio_event *e)
{
    bool button = e->type == GPIO_EV_BUTTON;
    trace_event(a->tr, "gpio", TRACE_STR("what", gpio_ev_name(e->type)),
                TRACE_STR("input", e->label), TRACE_NUM_IF(button, "button", e->button),
                TRACE_NUM_IF(button, "value", e->value), TRACE_END);
    switch (e->type) {
    case GPIO_EV_BUTTON:
        mark_input(a);
        /* A button answers even on a dark screen (it needs no screen), and wakes it. */
        if (a->pw && power_touch(a->pw))
            power_changed(a, "button");
        handle_action(a, kiosk_button(a->k, e->value));
        present(a); /* like a tap: highlight frame, then the durable write */
        break;
    case GPIO_EV_STAFF_KEY:
        if (a->pw && power_touch(a->pw))
            power_changed(a, "staff_key");
        kiosk_staff_switch(a->k);
        present(a);
        break;
    case GPIO_EV_PRESENCE:
        if (a->pw) {
            power_level before = power_get_level(a->pw);
            power_presence(a->pw);
            if (power_get_level(a->pw) != before)
                power_changed(a, "presence");
        }
        break;
    case GPIO_EV_STUCK:
        fprintf(stderr,
                "touchpoint-kiosk: gpio: %s held for %d s: counted once, ignored until released\n",
                e->label, a->cfg.gpio.stuck_s);
        hw_status_update(a);
        break;
    case GPIO_EV_UNSTUCK:
        fprintf(stderr, "touchpoint-kiosk: gpio: %s released\n", e->label);
        hw_status_update(a);
        break;
    }
}

/* Reads GPIO edges and runs its timers; then lets the watcher thread watch the descriptor again. */
static void gpio_service(app *a)
{
    gpio_event ev[16];
    size_t n = 0;
    if (!a->gpio)
        return;
    for (int pass = 0; pass < 8 && !a->quit; pass++) {
        if (gpio_process(a->gpio, ev, 16, &n) != TP_OK) {
            fprintf(stderr, "touchpoint-kiosk: %s\n", gpio_errmsg(a->gpio));
            trace_error(a, "gpio", gpio_errmsg(a->gpio));
        }
        for (size_t i = 0; i < n && !a->quit; i++)
            gpio_event_handle(a, &ev[i]);
        if (n < 16)
            break;
    }
    if (a->gpio_woken && a->sw.rearmfd >= 0 && !a->scripted) {
        uint64_t one = 1;
        a->gpio_woken = false;
        if (write(a->sw.rearmfd, &one, sizeof one) != (ssize_t)sizeof one)
            trace_error(a, "gpio", "cannot re-arm the GPIO watcher");
    }
}

/* Timers of the hardware side: GPIO (debounce, stuck, ack), screen power, status LED. */
static void hw_tick(app *a)
{
    const char *reason = NULL;
    gpio_service(a);
    if (a->pw && power_update(a->pw, &reason))
        power_changed(a, reason);
    led_update(a, false);
}

/* d (a deadline or -1) merged with the hardware side's next deadline. */
static int64_t hw_deadline(const app *a, int64_t d)
{
    int64_t c[3] = {gpio_next_deadline(a->gpio), a->pw ? power_next_deadline(a->pw) : -1,
                    a->gpio ? a->led_next : -1};
    for (int i = 0; i < 3; i++)
        if (c[i] >= 0 && (d < 0 || c[i] < d))
            d = c[i];
    return d;
}

/* Script `press NAME` / `release NAME` on the sim backend. Returns false (exit 3) when there is
 * no such input. */
static bool script_gpio(app *a, const script_cmd *c)
{
    void *sim = gpio_sim_ctx(a->gpio);
    int in = sim ? gpio_input_by_name(a->gpio, c->arg) : -1;
    if (in < 0) {
        fprintf(stderr, "%s:%d: %s: no GPIO input '%s' (needs [gpio] backend = sim)\n",
                a->script_name, c->line, script_op_name(c->op), c->arg);
        trace_error(a, "script", "no such GPIO input");
        a->exit_code = EXIT_EXPECT;
        return false;
    }
    bool active = c->op == SCRIPT_PRESS;
    if (gpio_sim_set_input(sim, gpio_input_line(a->gpio, in), active) != TP_OK) {
        trace_error(a, "script", "simulated GPIO queue full");
        a->exit_code = 1;
        return false;
    }
    trace_event(a->tr, "sim_input", TRACE_STR("name", c->arg), TRACE_BOOL("active", active),
                TRACE_END);
    gpio_service(a);
    present(a);
    return true;
}

/* ---- USB sticks and the export job ------------------------------------------------------ */

/* [usb] staff_key: when the stick at mount_point holds the staff key, opens staff mode
 * (kiosk_staff_key) and returns true; a key file that cannot be read is traced. */
static bool open_by_staff_key(app *a, const char *mount_point)
{
    char err[TP_ERRMSG_MAX];
    tp_err rc = usb_check_staff_key(mount_point, a->cfg.pin_hash, err, sizeof err);
    if (rc == TP_OK) {
        kiosk_staff_key(a->k);
        return true;
    }
    if (rc != TP_ERR_NOT_FOUND)
        trace_error(a, tp_err_name(rc), err);
    return false;
}

/* Re-reads the mount table, tells the kiosk which sticks are there, and re-arms the watcher. */
static void usb_refresh(app *a)
{
    usb_event ev[USB_MAX_STICKS];
    size_t n = 0;
    if (!a->usb)
        return;
    if (usb_poll(a->usb, ev, USB_MAX_STICKS, &n) != TP_OK)
        trace_error(a, "usb", usb_errmsg(a->usb));
    if (n > 0) {
        usb_stick sticks[USB_MAX_STICKS];
        size_t ns = usb_list(a->usb, sticks, USB_MAX_STICKS);
        kiosk_set_sticks(a->k, sticks, ns);
        a->key_checked = false;
        /* [usb] staff_key: a key stick plugged in (not one left in at start) on a customer
         * screen opens the staff export screen directly. */
        for (size_t i = 0; i < n && a->usb_scanned && a->cfg.usb.staff_key; i++)
            if (ev[i].kind == USB_EV_ADDED && open_by_staff_key(a, ev[i].stick.mount_point))
                break;
        for (size_t i = 0; i < n; i++)
            trace_event(a->tr, "usb",
                        TRACE_STR("change", ev[i].kind == USB_EV_ADDED ? "added" : "removed"),
                        TRACE_STR("name", ev[i].stick.name),
                        TRACE_STR("mount_point", ev[i].stick.mount_point),
                        TRACE_BOOL("readonly", ev[i].stick.readonly), TRACE_END);
    }
    a->usb_scanned = true;
    if (a->sw.rearmfd >= 0 && !a->scripted) {
        uint64_t one = 1;
        if (write(a->sw.rearmfd, &one, sizeof one) != (ssize_t)sizeof one)
            trace_error(a, "usb", "cannot re-arm the USB watcher");
    }
}

/* [usb] staff_key: on the PIN pad, a stick with the staff key opens staff mode. Checked once
 * per visit of the pad and again when a stick arrives. */
static void staff_key_check(app *a)
{
    kiosk_status st;
    kiosk_status_get(a->k, &st);
    if (!st.pin_pad) {
        a->key_checked = false;
        return;
    }
    if (!a->cfg.usb.staff_key || !a->usb || a->key_checked)
        return;
    a->key_checked = true;
    usb_stick sticks[USB_MAX_STICKS];
    size_t n = usb_list(a->usb, sticks, USB_MAX_STICKS);
    for (size_t i = 0; i < n; i++)
        if (open_by_staff_key(a, sticks[i].mount_point))
            return;
}

/* Copies the kiosk's "cancel pressed" into the flag the job's thread reads (main thread). */
static void export_cancel_sync(app *a)
{
    if (!kiosk_export_cancelled(a->k))
        return;
    pthread_mutex_lock(&a->export_mu);
    a->export_cancel = true;
    pthread_mutex_unlock(&a->export_mu);
}

/* usb_export_request.cancel: on the job's thread. */
static bool export_cancel_cb(void *ctx)
{
    app *a = ctx;
    pthread_mutex_lock(&a->export_mu);
    bool c = a->export_cancel;
    pthread_mutex_unlock(&a->export_mu);
    return c;
}

/* Script mode runs the job inline, inside one command, so the progress state is shown (and
 * traced) from here; two test hooks act at a row count: TP_KIOSK_EXPORT_SHOT=PNG@ROWS saves a
 * screenshot of the export screen once ROWS are done, TP_KIOSK_EXPORT_CANCEL=ROWS taps
 * "export-cancel" then (the real tap path, so the cancel wiring is what is tested). */
static void export_progress_scripted(app *a, int64_t done, int64_t total)
{
    kiosk_export_progress(a->k, done, total);
    if (a->cancel_rows >= 0 && done >= a->cancel_rows) {
        a->cancel_rows = -1;
        kiosk_press(a->k, "export-cancel");
        kiosk_release(a->k);
        export_cancel_sync(a);
    }
    present(a);
    const char *shot = getenv("TP_KIOSK_EXPORT_SHOT");
    if (a->shot_rows >= 0 && done >= a->shot_rows && shot) {
        char path[1024];
        a->shot_rows = -1;
        tp_strlcpy(path, shot, sizeof path);
        char *at = strrchr(path, '@');
        if (at)
            *at = '\0';
        if (ui_screenshot(a->u, path) != TP_OK)
            trace_error(a, "screenshot", ui_errmsg(a->u));
    }
}

/* A row count from a test hook's environment variable (after the last '@' when at), or -1. */
static int64_t hook_rows(const char *name, bool at)
{
    const char *v = getenv(name);
    if (!v)
        return -1;
    if (at) {
        v = strrchr(v, '@');
        if (!v)
            return -1;
        v++;
    }
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 0)
        return -1;
    return (int64_t)n;
}

static void export_progress(void *ctx, int64_t done, int64_t total)
{
    app *a = ctx;
    pthread_mutex_lock(&a->export_mu);
    a->export_done = done;
    a->export_total = total;
    pthread_mutex_unlock(&a->export_mu);
    if (a->scripted)
        export_progress_scripted(a, done, total);
    else
        push_user(&a->sw, WAKE_EXPORT);
}

/* Runs the export with its own store handle (a handle belongs to one thread). */
static void kiosk_export_job(app *a)
{
    store *s = NULL;
    char err[TP_ERRMSG_MAX];
    store_options so = {0};
    usb_export_report *rep = &a->export_rep;
    memset(rep, 0, sizeof *rep);
    so.device_id = a->cfg.device_id;
    so.clock = a->scripted ? &a->vc.clock : NULL;
    tp_err rc = store_open(a->cfg.database, &so, &s, err, sizeof err);
    if (rc != TP_OK) {
        rep->outcome = USB_EXPORT_FAILED;
        rep->rc = rc;
        snprintf(rep->message, sizeof rep->message,
                 "The answers could not be read (%s). Nothing was marked as exported.",
                 tp_strerror(rc));
        snprintf(rep->log, sizeof rep->log, "usb export: outcome=failed cause=%s", err);
    } else {
        usb_export_request rq = {0};
        rq.mount_point = a->export_req.mount_point;
        rq.mount_id = a->export_req.mount_id;
        rq.device_id = a->cfg.device_id;
        rq.all = a->export_req.all;
        rq.formats = a->cfg.usb.formats;
        rq.progress = export_progress;
        rq.progress_ctx = a;
        rq.cancel = export_cancel_cb;
        rq.cancel_ctx = a;
        usb_export_run(s, &rq, rep);
    }
    store_close(s);
    pthread_mutex_lock(&a->export_mu);
    a->export_finished = true;
    pthread_mutex_unlock(&a->export_mu);
}

static void *export_thread_main(void *arg)
{
    app *a = arg;
    kiosk_export_job(a);
    push_user(&a->sw, WAKE_EXPORT);
    return NULL;
}

/* Hands progress and, at the end, the outcome to the kiosk (main thread). */
static void export_collect(app *a)
{
    pthread_mutex_lock(&a->export_mu);
    int64_t done = a->export_done, total = a->export_total;
    bool finished = a->export_finished;
    pthread_mutex_unlock(&a->export_mu);
    kiosk_export_progress(a->k, done, total);
    if (!finished)
        return;
    if (a->export_thread_running) {
        pthread_join(a->export_thread, NULL);
        a->export_thread_running = false;
    }
    a->export_finished = false;
    const usb_export_report *rep = &a->export_rep;
    kiosk_status st;
    kiosk_status_get(a->k, &st);
    /* Cancelled is what staff asked for: its own message, not a failure. */
    bool ok = rep->outcome == USB_EXPORT_DONE || rep->outcome == USB_EXPORT_NOTHING ||
              rep->outcome == USB_EXPORT_CANCELLED;
    /* The staff screen's language; the log line and the trace's "message" stay English. */
    char shown[sizeof rep->message * 2];
    if (rep->outcome == USB_EXPORT_FAILED && rep->rc == TP_OK)
        tp_strlcpy(shown, rep->message, sizeof shown);
    else
        usb_export_message(rep, st.staff_lang, shown, sizeof shown);
    kiosk_export_done(a->k, ok, shown);
    fprintf(stderr, "touchpoint-kiosk: %s\n", rep->log);
    const char *files[USB_EXPORT_MAX_FILES];
    for (size_t i = 0; i < rep->n_files; i++)
        files[i] = rep->files[i];
    trace_event(a->tr, "usb_export", TRACE_STR("outcome", usb_export_outcome_name(rep->outcome)),
                TRACE_NUM("rows", rep->rows), TRACE_STR("message", rep->message),
                TRACE_STR("shown", shown), TRACE_STR("lang", st.staff_lang),
                TRACE_STRS("files", files, rep->n_files), TRACE_END);
}

/* Starts the job staff asked for: on a worker thread live, inline in script mode (so scripts stay
 * deterministic on the virtual clock). */
static void export_start(app *a)
{
    if (a->export_thread_running || !kiosk_take_export(a->k, &a->export_req))
        return;
    a->export_done = a->export_total = 0;
    a->export_finished = false;
    a->export_cancel = false;
    if (!a->hooks_read) { /* the test hooks act on the first export of the process only */
        a->hooks_read = true;
        a->shot_rows = a->scripted ? hook_rows("TP_KIOSK_EXPORT_SHOT", true) : -1;
        a->cancel_rows = a->scripted ? hook_rows("TP_KIOSK_EXPORT_CANCEL", false) : -1;
    } else {
        a->shot_rows = a->cancel_rows = -1;
    }
    if (a->scripted) {
        kiosk_export_job(a);
        export_collect(a);
        return;
    }
    if (pthread_create(&a->export_thread, NULL, export_thread_main, a) == 0) {
        a->export_thread_running = true;
    } else {
        /* No thread: the generic failure sentence, in the staff screen's language. */
        usb_export_report *rep = &a->export_rep;
        memset(rep, 0, sizeof *rep);
        rep->outcome = USB_EXPORT_FAILED;
        rep->rc = TP_ERR_NOMEM;
        char shown[sizeof rep->message * 2];
        kiosk_status st;
        kiosk_status_get(a->k, &st);
        usb_export_message(rep, st.staff_lang, shown, sizeof shown);
        fprintf(stderr, "touchpoint-kiosk: usb export: outcome=failed cause=pthread_create\n");
        kiosk_export_done(a->k, false, shown);
    }
}

/* One SDL event, live or synthesized by the script. */
static void handle_event(app *a, const SDL_Event *ev)
{
    if (ev->type == a->sw.sdl_event && a->sw.sdl_event != 0 && ev->user.code == WAKE_USB) {
        usb_refresh(a);
        return;
    }
    if (ev->type == a->sw.sdl_event && a->sw.sdl_event != 0 && ev->user.code == WAKE_EXPORT) {
        export_collect(a);
        return;
    }
    if (ev->type == a->sw.sdl_event && a->sw.sdl_event != 0 && ev->user.code == WAKE_GPIO) {
        a->gpio_woken = true;
        gpio_service(a);
        return;
    }
    if (ev->type == a->sw.sdl_event && a->sw.sdl_event != 0) {
        const char *name = ev->user.code == SIGTERM ? "SIGTERM" : "SIGINT";
        trace_event(a->tr, "exit", TRACE_STR("reason", "signal"), TRACE_STR("signal", name),
                    TRACE_END);
        a->quit = true;
        return;
    }
    switch (ev->type) {
    case SDL_MOUSEBUTTONDOWN:
        if (ev->button.button != SDL_BUTTON_LEFT)
            break;
        mark_input(a);
        if (a->pw && power_touch(a->pw)) {
            /* The wake-up tap only turns the screen on: no answer, no button press. */
            a->swallow_release = true;
            power_changed(a, "touch");
            break;
        }
        handle_action(a, kiosk_press(a->k, ui_hit(a->u, ev->button.x, ev->button.y)));
        break;
    case SDL_MOUSEBUTTONUP:
        if (ev->button.button != SDL_BUTTON_LEFT)
            break;
        if (a->swallow_release) {
            a->swallow_release = false;
            break;
        }
        handle_action(a, kiosk_release(a->k));
        break;
    case SDL_KEYDOWN: {
        SDL_Keycode sym = ev->key.keysym.sym;
        Uint16 mod = ev->key.keysym.mod;
        const char *name = NULL;
        if (sym == SDLK_ESCAPE)
            name = "escape";
        else if (sym == SDLK_F4 && (mod & KMOD_ALT))
            name = "alt+f4";
        else if (sym == SDLK_q && (mod & KMOD_CTRL))
            name = "ctrl+q";
        if (name)
            handle_action(a, kiosk_key(a->k, name));
        break;
    }
    case SDL_QUIT: handle_action(a, kiosk_key(a->k, "quit")); break;
    case SDL_WINDOWEVENT:
        if (ev->window.event == SDL_WINDOWEVENT_CLOSE) {
            handle_action(a, kiosk_key(a->k, "close"));
        } else if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
            ui_window_resized(a->u);
            ui_render(a->u);
        } else if (ev->window.event == SDL_WINDOWEVENT_EXPOSED) {
            ui_render(a->u);
        }
        break;
    default: break;
    }
}

static void drain_events(app *a)
{
    SDL_Event ev;
    while (!a->quit && SDL_PollEvent(&ev))
        handle_event(a, &ev);
}

/* ---- systemd watchdog -------------------------------------------------------------------- */

/* The health check behind each WATCHDOG=1: the database answers and is writable, the kiosk is not
 * out of order, and its timers are not long overdue (the state machine is being serviced). */
static void wd_tick(app *a)
{
    watchdog_health h;
    char text[WATCHDOG_STATUS_MAX];
    if (!watchdog_due(a->wd))
        return;
    watchdog_check_store(kiosk_store(a->k), &h);
    kiosk_screen screen = screen_of(a);
    const tp_clock *kc = a->scripted ? &a->vc.clock : tp_clock_system();
    int64_t d = kiosk_next_deadline(a->k);
    if (h.ok && screen == KIOSK_SCREEN_OUT_OF_ORDER) {
        h.ok = false;
        tp_strlcpy(h.cause, "out of order (answers cannot be recorded)", sizeof h.cause);
    } else if (h.ok && d >= 0 && kc->mono_ms(kc->ctx) - d > 10000) {
        h.ok = false;
        snprintf(h.cause, sizeof h.cause, "timers overdue by %lld ms",
                 (long long)(kc->mono_ms(kc->ctx) - d));
    }
    if (h.ok) {
        snprintf(text, sizeof text, "%s screen, %lld answers waiting to sync",
                 kiosk_screen_label(screen),
                 (long long)h.pending);
        watchdog_status(a->wd, text);
    }
    watchdog_tick(a->wd, &h);
}

/* Script `stall MS`: the loop hangs for MS ms of real time, like a stuck write would. */
static void stall(app *a, int ms)
{
    char text[WATCHDOG_STATUS_MAX];
    snprintf(text, sizeof text, "stalled by script for %d ms", ms);
    watchdog_status(a->wd, text);
    trace_event(a->tr, "stall", TRACE_NUM("ms", ms), TRACE_END);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- Live loop ------------------------------------------------------------------------------ */

static void run_live(app *a)
{
    const tp_clock *clk = tp_clock_system();
    present(a);
    while (!a->quit) {
        int64_t d = kiosk_next_deadline(a->k);
        int64_t wdd = watchdog_next_deadline(a->wd); /* same clock: the system's mono */
        if (wdd >= 0 && (d < 0 || wdd < d))
            d = wdd;
        d = hw_deadline(a, d); /* GPIO timers, screen power, status LED */
        SDL_Event ev;
        int got;
        if (d < 0) {
            got = SDL_WaitEvent(&ev);
        } else {
            int64_t wait = d - clk->mono_ms(clk->ctx);
            if (wait < 0)
                wait = 0;
            if (wait > 24 * 3600 * 1000)
                wait = 24 * 3600 * 1000;
            got = SDL_WaitEventTimeout(&ev, (int)wait);
        }
        if (got) {
            handle_event(a, &ev);
            drain_events(a);
        }
        if (a->quit)
            break;
        handle_action(a, kiosk_tick(a->k));
        hw_tick(a);
        present(a);
        a->input_pending = false;
        wd_tick(a);
    }
}

/* ---- Scripted run on the virtual clock ------------------------------------------------------- */

/* Moves the virtual clock forward ms, firing each timer at its own time. */
static void advance(app *a, int64_t ms)
{
    int64_t target = a->vc.mono + ms;
    while (!a->quit) {
        int64_t d = hw_deadline(a, kiosk_next_deadline(a->k));
        if (d < 0 || d > target)
            break;
        if (d > a->vc.mono)
            tp_vclock_advance(&a->vc, d - a->vc.mono);
        handle_action(a, kiosk_tick(a->k));
        hw_tick(a);
        present(a);
        drain_events(a);
    }
    if (target > a->vc.mono)
        tp_vclock_advance(&a->vc, target - a->vc.mono);
    handle_action(a, kiosk_tick(a->k));
    hw_tick(a);
    present(a);
}

static void synth_mouse(app *a, Uint32 type, int x, int y)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.button.button = SDL_BUTTON_LEFT;
    ev.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
    ev.button.clicks = 1;
    ev.button.x = x;
    ev.button.y = y;
    handle_event(a, &ev);
    present(a);
    a->input_pending = false;
}

static void synth_key(app *a, const char *name)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    if (strcmp(name, "quit") == 0) {
        ev.type = SDL_QUIT;
    } else if (strcmp(name, "close") == 0) {
        ev.type = SDL_WINDOWEVENT;
        ev.window.event = SDL_WINDOWEVENT_CLOSE;
    } else {
        ev.type = SDL_KEYDOWN;
        ev.key.state = SDL_PRESSED;
        if (strcmp(name, "escape") == 0) {
            ev.key.keysym.sym = SDLK_ESCAPE;
        } else if (strcmp(name, "alt+f4") == 0) {
            ev.key.keysym.sym = SDLK_F4;
            ev.key.keysym.mod = KMOD_LALT;
        } else {
            ev.key.keysym.sym = SDLK_q;
            ev.key.keysym.mod = KMOD_LCTRL;
        }
    }
    handle_event(a, &ev);
    present(a);
}

/* Runs one command. Returns false when the script must stop (failed expectation or error). */
static bool run_cmd(app *a, const script_cmd *c)
{
    ui_widget_info wi;
    int wx, wy;
    usb_refresh(a); /* scripts see a stick mounted before the command, deterministically */
    present(a);
    switch (c->op) {
    case SCRIPT_TAP:
        if (ui_widget_find(a->u, c->arg, &wi) != TP_OK || !wi.interactive) {
            fprintf(stderr, "%s:%d: tap: no control '%s' on screen %s\n", a->script_name, c->line,
                    c->arg, kiosk_screen_label(screen_of(a)));
            trace_error(a, "script", "no such control");
            a->exit_code = EXIT_EXPECT;
            return false;
        }
        ui_to_window(a->u, wi.rect.x + wi.rect.w / 2, wi.rect.y + wi.rect.h / 2, &wx, &wy);
        synth_mouse(a, SDL_MOUSEBUTTONDOWN, wx, wy);
        synth_mouse(a, SDL_MOUSEBUTTONUP, wx, wy);
        break;
    case SCRIPT_TAP_AT:
        synth_mouse(a, SDL_MOUSEBUTTONDOWN, c->x, c->y);
        synth_mouse(a, SDL_MOUSEBUTTONUP, c->x, c->y);
        break;
    case SCRIPT_HOLD:
        synth_mouse(a, SDL_MOUSEBUTTONDOWN, c->x, c->y);
        advance(a, c->ms);
        synth_mouse(a, SDL_MOUSEBUTTONUP, c->x, c->y);
        break;
    case SCRIPT_ADVANCE: advance(a, c->ms); break;
    case SCRIPT_KEY: synth_key(a, c->arg); break;
    case SCRIPT_SCREENSHOT:
        present(a);
        if (ui_screenshot(a->u, c->arg) != TP_OK) {
            fprintf(stderr, "%s:%d: screenshot: %s\n", a->script_name, c->line, ui_errmsg(a->u));
            trace_error(a, "screenshot", ui_errmsg(a->u));
            a->exit_code = 1;
            return false;
        }
        trace_event(a->tr, "screenshot", TRACE_STR("path", c->arg), TRACE_END);
        break;
    case SCRIPT_EXPECT_SCREEN: {
        bool ok = kiosk_screen_parse(c->arg) == screen_of(a);
        trace_event(a->tr, "expect", TRACE_STR("want", c->arg), TRACE_BOOL("ok", ok),
                    TRACE_NUM("line", c->line), TRACE_END);
        if (!ok) {
            fprintf(stderr, "%s:%d: expect-screen: expected %s, the screen is %s\n", a->script_name,
                    c->line, c->arg, kiosk_screen_label(screen_of(a)));
            a->exit_code = EXIT_EXPECT;
            return false;
        }
        break;
    }
    case SCRIPT_STALL: stall(a, c->ms); break;
    case SCRIPT_PRESS:
    case SCRIPT_RELEASE:
        if (!script_gpio(a, c))
            return false;
        break;
    }
    drain_events(a);
    wd_tick(a);
    return true;
}

static void run_script_file(app *a, const script *s)
{
    present(a);
    for (size_t i = 0; i < s->n && !a->quit; i++)
        if (!run_cmd(a, &s->cmds[i]))
            return;
}

/* Under a watchdog the wait for the next script line is the loop's idle wait: it wakes up for
 * each ping (the main tick) until a line, EOF or an error is there for getline. Returns true. */
static bool stdin_wait(app *a)
{
    const tp_clock *clk = tp_clock_system();
    while (!a->quit && watchdog_interval_ms(a->wd) > 0) {
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        int64_t d = watchdog_next_deadline(a->wd);
        int64_t wait = d < 0 ? -1 : d - clk->mono_ms(clk->ctx);
        if (d >= 0 && wait < 0)
            wait = 0;
        if (poll(&p, 1, wait > 86400000 ? 86400000 : (int)wait) != 0)
            break;
        wd_tick(a);
    }
    return true;
}

/* `--script -`: commands are read from stdin as they come, so a test can act between them. */
static void run_script_stdin(app *a)
{
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    present(a);
    /* stdin unbuffered under a watchdog, so no line hides in stdio's buffer while poll() waits on
     * the descriptor (stdin_wait). */
    if (watchdog_interval_ms(a->wd) > 0)
        setvbuf(stdin, NULL, _IONBF, 0);
    while (!a->quit && stdin_wait(a) && getline(&line, &cap, stdin) >= 0) {
        script_cmd c;
        bool is_cmd = false;
        char err[256];
        lineno++;
        if (script_parse_line("-", lineno, line, &c, &is_cmd, err, sizeof err) != TP_OK) {
            fprintf(stderr, "touchpoint-kiosk: %s\n", err);
            a->exit_code = EXIT_USAGE;
            break;
        }
        if (is_cmd && !run_cmd(a, &c))
            break;
        drain_events(a);
    }
    free(line);
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: touchpoint-kiosk --config FILE [--windowed] [--headless] [--script FILE|-]\n"
               "                        [--trace] [--size WxH]\n"
               "\n"
               "  --config FILE   the kiosk's INI configuration (see assets/demo/kiosk.conf)\n"
               "  --windowed      developer mode: a window instead of fullscreen; Escape quits\n"
               "  --headless      no display: SDL's offscreen driver (tests, screenshots)\n"
               "  --script FILE   feed input from FILE (or - for stdin) on a virtual clock\n"
               "  --trace         print one JSON line per event to stdout\n"
               "  --size WxH      window size, overriding [display] width/height\n");
}

static bool parse_size(const char *s, int *w, int *h)
{
    char *end = NULL;
    long a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X'))
        return false;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end != '\0' || a < 320 || a > 8192 || b < 320 || b > 8192)
        return false;
    *w = (int)a;
    *h = (int)b;
    return true;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"windowed", no_argument, NULL, 'w'},
        {"headless", no_argument, NULL, 'H'},     {"script", required_argument, NULL, 's'},
        {"trace", no_argument, NULL, 't'},        {"size", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    app *a = calloc(1, sizeof *a);
    const char *config_path = NULL, *script_path = NULL;
    bool windowed = false, headless = false, tracing = false;
    int size_w = 0, size_h = 0;
    script *scr = NULL;
    char err[TP_ERRMSG_MAX * 2];
    int c;

    if (!a) {
        fprintf(stderr, "touchpoint-kiosk: out of memory\n");
        return 1;
    }
    a->started_us = real_us();
    a->led_screen = KIOSK_SCREEN_COUNT; /* no LED check yet */
    a->sw.sfd = a->sw.stopfd = a->sw.usbfd = a->sw.rearmfd = a->sw.gpiofd = -1;
    pthread_mutex_init(&a->export_mu, NULL);
    a->exit_code = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'w': windowed = true; break;
        case 'H': headless = true; break;
        case 's': script_path = optarg; break;
        case 't': tracing = true; break;
        case 'S':
            if (!parse_size(optarg, &size_w, &size_h)) {
                fprintf(stderr, "touchpoint-kiosk: --size: '%s' is not WxH (320..8192)\n", optarg);
                a->exit_code = EXIT_USAGE;
                goto out;
            }
            break;
        case 'h': usage(stdout); goto out;
        default:
            usage(stderr);
            a->exit_code = EXIT_USAGE;
            goto out;
        }
    }
    if (!config_path || optind < argc) {
        usage(stderr);
        a->exit_code = EXIT_USAGE;
        goto out;
    }

    /* Signals first, before any thread exists, so every thread inherits the blocked mask. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    a->sw.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    a->sw.stopfd = eventfd(0, EFD_CLOEXEC);
    a->sw.rearmfd = eventfd(0, EFD_CLOEXEC);

    int64_t t_start = a->started_us;
    if (config_load(config_path, &a->cfg, err, sizeof err) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: %s\n", err);
        a->exit_code = EXIT_USAGE;
        goto out;
    }
    if (windowed)
        a->cfg.fullscreen = false;
    if (size_w) {
        a->cfg.width = size_w;
        a->cfg.height = size_h;
    }
    if (script_path && strcmp(script_path, "-") != 0) {
        if (script_load(script_path, &scr, err, sizeof err) != TP_OK) {
            fprintf(stderr, "touchpoint-kiosk: %s\n", err);
            a->exit_code = EXIT_USAGE;
            goto out;
        }
    }
    a->script_name = script_path;
    a->scripted = script_path != NULL;
    if (a->scripted) {
        const tp_clock *sys = tp_clock_system();
        tp_vclock_init(&a->vc, sys->wall_ms(sys->ctx));
    }
    if (tracing) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        a->tr = trace_new(stdout, app_clock(a));
    }

    kiosk_options ko = {0};
    ko.cfg = &a->cfg;
    ko.clock = a->scripted ? &a->vc.clock : NULL;
    ko.trace = a->tr;
    ko.windowed = !a->cfg.fullscreen;
    const char *mpc = getenv("TP_KIOSK_MAX_PAGE_COUNT"); /* tests: simulate a full database */
    if (mpc && *mpc)
        ko.max_page_count = strtoll(mpc, NULL, 10);
    int64_t t_config = real_us();
    if (kiosk_new(&ko, &a->k, err, sizeof err) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: %s\n", err);
        a->exit_code = EXIT_USAGE;
        goto out;
    }

    int64_t t_kiosk = real_us();
    /* systemd (Type=notify, WatchdogSec=): a malformed WATCHDOG_USEC only turns the pings off. */
    if (watchdog_new(NULL, &a->wd, err, sizeof err) != TP_OK)
        fprintf(stderr, "touchpoint-kiosk: %s\n", err);
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
    ui_options uo = {0};
    uo.width = a->cfg.width;
    uo.height = a->cfg.height;
    uo.fullscreen = a->cfg.fullscreen;
    uo.rotation = a->cfg.rotation;
    uo.dpi = a->cfg.dpi;
    uo.headless = headless;
    uo.title = "Touchpoint";
    if (ui_new(&uo, &a->u, err, sizeof err) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: display: %s\n", err);
        a->exit_code = 1;
        goto out;
    }
    if (a->cfg.fullscreen)
        SDL_ShowCursor(SDL_DISABLE);
    int64_t t_ui = real_us();

    /* USB sticks for the staff screen's export. No mount root (a laptop, a test) just means no
     * export button: the kiosk itself must run without it. */
    usb_options uso = {0};
    uso.mount_root = a->cfg.usb.mount_root;
    if (usb_open(&uso, &a->usb, err, sizeof err) != TP_OK) {
        a->usb = NULL;
        trace_event(a->tr, "error", TRACE_STR("code", "usb"), TRACE_STR("message", err),
                    TRACE_STR("during", "usb_open"), TRACE_END);
    } else {
        a->sw.usbfd = usb_fd(a->usb);
    }

    /* Buttons and lights. A missing chip or a busy line does not stop the kiosk: touch keeps
     * working, and the cause goes to the journal and the staff screen. */
    if (a->cfg.gpio.backend != CONFIG_GPIO_NONE) {
        gpio_options gpo = {0};
        gpo.cfg = &a->cfg.gpio;
        gpo.clock = a->scripted ? &a->vc.clock : NULL;
        if (gpio_open(&gpo, &a->gpio, err, sizeof err) != TP_OK) {
            a->gpio = NULL;
            fprintf(stderr, "touchpoint-kiosk: %s; buttons and lights are off, touch works\n", err);
            tp_strlcpy(a->gpio_err, err, sizeof a->gpio_err);
            trace_event(a->tr, "error", TRACE_STR("code", "gpio"), TRACE_STR("message", err),
                        TRACE_STR("during", "gpio_open"), TRACE_END);
        } else if (!a->scripted) {
            a->sw.gpiofd = gpio_fd(a->gpio); /* scripts drive the sim lines synchronously */
        }
        hw_status_update(a);
    }
    if (power_new(&a->cfg.power, a->scripted ? &a->vc.clock : NULL, NULL, &a->pw, err,
                  sizeof err) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: %s\n", err);
        a->pw = NULL;
    }

    a->sw.sdl_event = SDL_RegisterEvents(1);
    if (a->sw.sdl_event == (Uint32)-1)
        a->sw.sdl_event = 0;
    if (a->sw.sfd >= 0 && a->sw.stopfd >= 0 && a->sw.sdl_event &&
        pthread_create(&a->sw.thread, NULL, sigwatch_main, &a->sw) == 0)
        a->sw.running = true;

    int lw = 0, lh = 0;
    ui_logical_size(a->u, &lw, &lh);
    /* Where start-up time goes (config + survey, store open, window + fonts). */
    trace_event(a->tr, "start", TRACE_STR("device", a->cfg.device_id),
                TRACE_STR("database", a->cfg.database), TRACE_NUM("width", lw),
                TRACE_NUM("height", lh), TRACE_BOOL("fullscreen", a->cfg.fullscreen),
                TRACE_BOOL("scripted", a->scripted),
                TRACE_NUM("config_ms", (double)(t_config - t_start) / 1000),
                TRACE_NUM("kiosk_ms", (double)(t_kiosk - t_config) / 1000),
                TRACE_NUM("ui_ms", (double)(t_ui - t_kiosk) / 1000), TRACE_END);
    if (a->pw)
        power_changed(a, "start");
    led_update(a, true);

    if (scr)
        run_script_file(a, scr);
    else if (a->scripted)
        run_script_stdin(a);
    else
        run_live(a);
    if (a->scripted && a->exit_code == 0 && !a->quit)
        trace_event(a->tr, "exit", TRACE_STR("reason", "script_end"), TRACE_END);

out:
    if (a->export_thread_running) {
        /* A running export finishes (or fails) on its own; wait so its files are complete. */
        pthread_join(a->export_thread, NULL);
        a->export_thread_running = false;
    }
    if (a->sw.running) {
        uint64_t one = 1;
        if (write(a->sw.stopfd, &one, sizeof one) != (ssize_t)sizeof one)
            fprintf(stderr, "touchpoint-kiosk: cannot stop the signal thread\n");
        pthread_join(a->sw.thread, NULL);
    }
    if (a->sw.sfd >= 0)
        close(a->sw.sfd);
    if (a->sw.stopfd >= 0)
        close(a->sw.stopfd);
    if (a->sw.rearmfd >= 0)
        close(a->sw.rearmfd);
    usb_close(a->usb);
    gpio_close(a->gpio); /* outputs low: no stale status light */
    power_free(a->pw);
    watchdog_free(a->wd); /* STOPPING=1 */
    pthread_mutex_destroy(&a->export_mu);
    kiosk_free(a->k); /* closes the store: every write is complete */
    ui_free(a->u);
    trace_free(a->tr);
    script_free(scr);
    int rc = a->exit_code;
    free(a);
    return rc;
}
