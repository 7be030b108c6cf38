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

#define EXIT_USAGE 2
#define EXIT_EXPECT 3

/* ---- Signals -------------------------------------------------------------------------------- */

typedef struct sigwatch {
    int sfd;          /* signalfd for SIGTERM, SIGINT */
    int stopfd;       /* eventfd: tells the thread to end */
    Uint32 sdl_event; /* registered SDL user event type */
    pthread_t thread;
    bool running;
} sigwatch;

static void *sigwatch_main(void *arg)
{
    sigwatch *w = arg;
    struct pollfd p[2] = {{w->sfd, POLLIN, 0}, {w->stopfd, POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(w->sfd, &si, sizeof si) != (ssize_t)sizeof si)
                continue;
            SDL_Event ev;
            memset(&ev, 0, sizeof ev);
            ev.type = w->sdl_event;
            ev.user.code = (Sint32)si.ssi_signo;
            SDL_PushEvent(&ev); /* thread-safe; wakes SDL_WaitEventTimeout */
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
static void present(app *a)
{
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

/* One SDL event, live or synthesized by the script. */
static void handle_event(app *a, const SDL_Event *ev)
{
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
    a->sw.sfd = a->sw.stopfd = -1;
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
    kiosk_free(a->k); /* closes the store: every write is complete */
    ui_free(a->u);
    script_free(scr);
    int rc = a->exit_code;
    free(a);
    return rc;
}
