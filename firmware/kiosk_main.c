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
 */
#include <SDL.h>
#include <cjson/cJSON.h>
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
#include "kiosk.h"
#include "script.h"
#include "ui.h"
#include "usb.h"
#include "usb_export.h"

#define EXIT_USAGE 2
#define EXIT_EXPECT 3

/* ---- Signals -------------------------------------------------------------------------------- */

typedef struct sigwatch {
    int sfd;          /* signalfd for SIGTERM, SIGINT */
    int stopfd;       /* eventfd: tells the thread to end */
    int usbfd;        /* usb_fd() or -1: readable when the sticks may have changed */
    int rearmfd;      /* eventfd: the loop has run usb_poll(), watch usbfd again */
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

/* Waits for signals and (while armed) the USB descriptor; turns each into an SDL user event. The
 * USB descriptor stays readable until the loop calls usb_poll(), so after one wake-up it is not
 * watched again until the loop re-arms it. */
static void *sigwatch_main(void *arg)
{
    sigwatch *w = arg;
    bool usb_armed = w->usbfd >= 0;
    for (;;) {
        struct pollfd p[4] = {{w->sfd, POLLIN, 0},
                              {w->stopfd, POLLIN, 0},
                              {w->rearmfd, POLLIN, 0},
                              {usb_armed ? w->usbfd : -1, POLLIN, 0}};
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[2].revents & POLLIN) {
            uint64_t v;
            if (read(w->rearmfd, &v, sizeof v) == (ssize_t)sizeof v)
                usb_armed = w->usbfd >= 0;
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
    FILE *trace;
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
    usb_export_report export_rep;      /* written by the job, read after export_finished */
    kiosk_export_req export_req;
    bool key_checked; /* the sticks were checked for a staff key on this PIN pad visit */
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
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "code", code);
        cJSON_AddStringToObject(o, "message", msg);
    }
    kiosk_trace(a->k, "error", o);
}

/* Brings the window up to date with the state machine: a new screen, a highlight or the hold
 * ring, then one frame; after the frame, the deferred durable write (which may change the
 * screen again, so loop). */
static void export_start(app *a);
static void staff_key_check(app *a);

static void present(app *a)
{
    export_start(a);
    staff_key_check(a);
    for (int guard = 0; guard < 16; guard++) {
        unsigned d = kiosk_dirty(a->k);
        if (!d)
            return;
        if (d & KIOSK_DIRTY_SCREEN) {
            ui_screen scr;
            kiosk_model(a->k, &scr);
            if (ui_set_screen(a->u, &scr) != TP_OK) {
                fprintf(stderr, "touchpoint-kiosk: screen %s: %s\n", kiosk_screen_name(a->k),
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
        if (a->trace) {
            cJSON *o = cJSON_CreateObject();
            if (o) {
                cJSON_AddNumberToObject(o, "n", (double)a->frames);
                const char *h = kiosk_highlight(a->k);
                if (h)
                    cJSON_AddStringToObject(o, "highlight", h);
                else
                    cJSON_AddNullToObject(o, "highlight");
                if (a->frames == 1)
                    cJSON_AddNumberToObject(o, "since_main_ms",
                                            (double)(real_us() - a->started_us) / 1000);
                if (a->input_pending)
                    cJSON_AddNumberToObject(o, "latency_us",
                                            (double)(real_us() - ts_us(&a->input_at)));
            }
            kiosk_trace(a->k, "frame", o);
        }
        kiosk_after_frame(a->k);
    }
}

static void handle_action(app *a, kiosk_action act)
{
    if (act == KIOSK_QUIT)
        a->quit = true;
}

/* ---- USB sticks and the export job ------------------------------------------------------ */

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
        for (size_t i = 0; i < n && a->trace; i++) {
            cJSON *o = cJSON_CreateObject();
            if (o) {
                cJSON_AddStringToObject(o, "change",
                                        ev[i].kind == USB_EV_ADDED ? "added" : "removed");
                cJSON_AddStringToObject(o, "name", ev[i].stick.name);
                cJSON_AddStringToObject(o, "mount_point", ev[i].stick.mount_point);
                cJSON_AddBoolToObject(o, "readonly", ev[i].stick.readonly);
            }
            kiosk_trace(a->k, "usb", o);
        }
    }
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
    if (strcmp(kiosk_screen_name(a->k), "pin") != 0) {
        a->key_checked = false;
        return;
    }
    if (!a->cfg.usb.staff_key || !a->usb || a->key_checked)
        return;
    a->key_checked = true;
    usb_stick sticks[USB_MAX_STICKS];
    size_t n = usb_list(a->usb, sticks, USB_MAX_STICKS);
    for (size_t i = 0; i < n; i++) {
        char err[TP_ERRMSG_MAX];
        tp_err rc = usb_check_staff_key(sticks[i].mount_point, a->cfg.pin_hash, err, sizeof err);
        if (rc == TP_OK) {
            kiosk_staff_key(a->k);
            return;
        }
        if (rc != TP_ERR_NOT_FOUND)
            trace_error(a, tp_err_name(rc), err);
    }
}

static void export_progress(void *ctx, int64_t done, int64_t total)
{
    app *a = ctx;
    pthread_mutex_lock(&a->export_mu);
    a->export_done = done;
    a->export_total = total;
    pthread_mutex_unlock(&a->export_mu);
    if (!a->scripted)
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
    bool ok = rep->outcome == USB_EXPORT_DONE || rep->outcome == USB_EXPORT_NOTHING;
    kiosk_export_done(a->k, ok, rep->message);
    fprintf(stderr, "touchpoint-kiosk: %s\n", rep->log);
    if (a->trace) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddStringToObject(o, "outcome", usb_export_outcome_name(rep->outcome));
            cJSON_AddNumberToObject(o, "rows", (double)rep->rows);
            cJSON_AddStringToObject(o, "message", rep->message);
            cJSON *files = cJSON_AddArrayToObject(o, "files");
            for (size_t i = 0; files && i < rep->n_files; i++)
                cJSON_AddItemToArray(files, cJSON_CreateString(rep->files[i]));
        }
        kiosk_trace(a->k, "usb_export", o);
    }
}

/* Starts the job staff asked for: on a worker thread live, inline in script mode (so scripts stay
 * deterministic on the virtual clock). */
static void export_start(app *a)
{
    if (a->export_thread_running || !kiosk_take_export(a->k, &a->export_req))
        return;
    a->export_done = a->export_total = 0;
    a->export_finished = false;
    if (a->scripted) {
        kiosk_export_job(a);
        export_collect(a);
        return;
    }
    if (pthread_create(&a->export_thread, NULL, export_thread_main, a) == 0) {
        a->export_thread_running = true;
    } else {
        kiosk_export_done(a->k, false,
                          "The export could not be started. Nothing was marked "
                          "as exported.");
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
    if (ev->type == a->sw.sdl_event && a->sw.sdl_event != 0) {
        const char *name = ev->user.code == SIGTERM ? "SIGTERM" : "SIGINT";
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddStringToObject(o, "reason", "signal");
            cJSON_AddStringToObject(o, "signal", name);
        }
        kiosk_trace(a->k, "exit", o);
        a->quit = true;
        return;
    }
    switch (ev->type) {
    case SDL_MOUSEBUTTONDOWN:
        if (ev->button.button != SDL_BUTTON_LEFT)
            break;
        mark_input(a);
        handle_action(a, kiosk_press(a->k, ui_hit(a->u, ev->button.x, ev->button.y)));
        break;
    case SDL_MOUSEBUTTONUP:
        if (ev->button.button != SDL_BUTTON_LEFT)
            break;
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

/* ---- Live loop ------------------------------------------------------------------------------ */

static void run_live(app *a)
{
    const tp_clock *clk = tp_clock_system();
    present(a);
    while (!a->quit) {
        int64_t d = kiosk_next_deadline(a->k);
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
        present(a);
        a->input_pending = false;
    }
}

/* ---- Scripted run on the virtual clock ------------------------------------------------------- */

/* Moves the virtual clock forward ms, firing each timer at its own time. */
static void advance(app *a, int64_t ms)
{
    int64_t target = a->vc.mono + ms;
    while (!a->quit) {
        int64_t d = kiosk_next_deadline(a->k);
        if (d < 0 || d > target)
            break;
        if (d > a->vc.mono)
            tp_vclock_advance(&a->vc, d - a->vc.mono);
        handle_action(a, kiosk_tick(a->k));
        present(a);
        drain_events(a);
    }
    if (target > a->vc.mono)
        tp_vclock_advance(&a->vc, target - a->vc.mono);
    handle_action(a, kiosk_tick(a->k));
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
                    c->arg, kiosk_screen_name(a->k));
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
        if (a->trace) {
            cJSON *o = cJSON_CreateObject();
            if (o)
                cJSON_AddStringToObject(o, "path", c->arg);
            kiosk_trace(a->k, "screenshot", o);
        }
        break;
    case SCRIPT_EXPECT_SCREEN: {
        bool ok = strcmp(kiosk_screen_name(a->k), c->arg) == 0;
        if (a->trace) {
            cJSON *o = cJSON_CreateObject();
            if (o) {
                cJSON_AddStringToObject(o, "want", c->arg);
                cJSON_AddBoolToObject(o, "ok", ok);
                cJSON_AddNumberToObject(o, "line", c->line);
            }
            kiosk_trace(a->k, "expect", o);
        }
        if (!ok) {
            fprintf(stderr, "%s:%d: expect-screen: expected %s, the screen is %s\n", a->script_name,
                    c->line, c->arg, kiosk_screen_name(a->k));
            a->exit_code = EXIT_EXPECT;
            return false;
        }
        break;
    }
    }
    drain_events(a);
    return true;
}

static void run_script_file(app *a, const script *s)
{
    present(a);
    for (size_t i = 0; i < s->n && !a->quit; i++)
        if (!run_cmd(a, &s->cmds[i]))
            return;
}

/* `--script -`: commands are read from stdin as they come, so a test can act between them. */
static void run_script_stdin(app *a)
{
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    present(a);
    while (!a->quit && getline(&line, &cap, stdin) >= 0) {
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
    bool windowed = false, headless = false, trace = false;
    int size_w = 0, size_h = 0;
    script *scr = NULL;
    char err[TP_ERRMSG_MAX * 2];
    int c;

    if (!a) {
        fprintf(stderr, "touchpoint-kiosk: out of memory\n");
        return 1;
    }
    a->started_us = real_us();
    a->sw.sfd = a->sw.stopfd = a->sw.usbfd = a->sw.rearmfd = -1;
    pthread_mutex_init(&a->export_mu, NULL);
    a->exit_code = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'w': windowed = true; break;
        case 'H': headless = true; break;
        case 's': script_path = optarg; break;
        case 't': trace = true; break;
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
    if (trace) {
        a->trace = stdout;
        setvbuf(stdout, NULL, _IOLBF, 0);
    }
    if (a->scripted) {
        const tp_clock *sys = tp_clock_system();
        tp_vclock_init(&a->vc, sys->wall_ms(sys->ctx));
    }

    kiosk_options ko = {0};
    ko.cfg = &a->cfg;
    ko.clock = a->scripted ? &a->vc.clock : NULL;
    ko.trace = a->trace;
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
        if (a->trace) {
            cJSON *o = cJSON_CreateObject();
            if (o) {
                cJSON_AddStringToObject(o, "code", "usb");
                cJSON_AddStringToObject(o, "message", err);
                cJSON_AddStringToObject(o, "during", "usb_open");
            }
            kiosk_trace(a->k, "error", o);
        }
    } else {
        a->sw.usbfd = usb_fd(a->usb);
    }

    a->sw.sdl_event = SDL_RegisterEvents(1);
    if (a->sw.sdl_event == (Uint32)-1)
        a->sw.sdl_event = 0;
    if (a->sw.sfd >= 0 && a->sw.stopfd >= 0 && a->sw.sdl_event &&
        pthread_create(&a->sw.thread, NULL, sigwatch_main, &a->sw) == 0)
        a->sw.running = true;

    if (a->trace) {
        cJSON *o = cJSON_CreateObject();
        int lw = 0, lh = 0;
        ui_logical_size(a->u, &lw, &lh);
        if (o) {
            cJSON_AddStringToObject(o, "device", a->cfg.device_id);
            cJSON_AddStringToObject(o, "database", a->cfg.database);
            cJSON_AddNumberToObject(o, "width", lw);
            cJSON_AddNumberToObject(o, "height", lh);
            cJSON_AddBoolToObject(o, "fullscreen", a->cfg.fullscreen);
            cJSON_AddBoolToObject(o, "scripted", a->scripted);
            /* Where start-up time goes (config + survey, store open, window + fonts). */
            cJSON_AddNumberToObject(o, "config_ms", (double)(t_config - t_start) / 1000);
            cJSON_AddNumberToObject(o, "kiosk_ms", (double)(t_kiosk - t_config) / 1000);
            cJSON_AddNumberToObject(o, "ui_ms", (double)(t_ui - t_kiosk) / 1000);
        }
        kiosk_trace(a->k, "start", o);
    }

    if (scr)
        run_script_file(a, scr);
    else if (a->scripted)
        run_script_stdin(a);
    else
        run_live(a);
    if (a->scripted && a->exit_code == 0 && !a->quit) {
        cJSON *o = cJSON_CreateObject();
        if (o)
            cJSON_AddStringToObject(o, "reason", "script_end");
        kiosk_trace(a->k, "exit", o);
    }

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
    pthread_mutex_destroy(&a->export_mu);
    kiosk_free(a->k); /* closes the store: every write is complete */
    ui_free(a->u);
    script_free(scr);
    int rc = a->exit_code;
    free(a);
    return rc;
}
