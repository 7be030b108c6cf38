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
 * With --script (kiosk_script.c), input comes from the script and time from a virtual clock
 * (tp_vclock), so tests are instant and deterministic; the same event handler as live input is
 * used. The hardware side is kiosk_hw.c, the USB side kiosk_usb.c, the watcher thread
 * kiosk_signal.c (with the lost-display guard), the state machine's outside work kiosk_work.c.
 *
 * Under systemd (watchdog.h): READY=1 after the first frame; WATCHDOG=1 only from the loop's tick
 * (wd_tick) after a health check, on real time even in script mode; the loop's wait (and the wait
 * for the next `--script -` line) includes the ping deadline.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "kiosk_app.h"

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

void mark_input(app *a)
{
    clock_gettime(CLOCK_MONOTONIC, &a->input_at);
    a->input_pending = true;
}

void trace_error(app *a, const char *code, const char *msg)
{
    trace_event(a->tr, "error", TRACE_STR("code", code), TRACE_STR("message", msg), TRACE_END);
}

kiosk_screen screen_of(const app *a)
{
    kiosk_status st;
    kiosk_status_get(a->k, &st);
    return st.screen;
}

/* Brings the window up to date with the state machine: a new screen, a highlight or the hold
 * ring, then one frame; after the frame, the deferred durable write (which may change the
 * screen again, so loop). */
void present(app *a)
{
    if (remote_present(a))
        return;
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
                        kiosk_screen_label(screen_of(a)), ui_errmsg(a->u));
                trace_error(a, "ui", ui_errmsg(a->u));
            }
        } else {
            if (d & KIOSK_DIRTY_HIGHLIGHT)
                ui_set_highlight(a->u, kiosk_highlight(a->k));
            if (d & KIOSK_DIRTY_HOLD)
                ui_set_hold(a->u, kiosk_hold_progress(a->k));
            if (d & KIOSK_DIRTY_ANIM) {
                float an, cd;
                kiosk_anim(a->k, &an, &cd);
                ui_set_anim(a->u, an, cd);
            }
        }
        kiosk_clear_dirty(a->k);
        if (ui_render(a->u) != TP_OK)
            trace_error(a, "ui", ui_errmsg(a->u));
        a->frames++;
        trace_event(
            a->tr, "frame", TRACE_NUM("n", a->frames),
            TRACE_STR("highlight", kiosk_highlight(a->k)),
            TRACE_NUM_IF(a->frames == 1, "since_main_ms",
                         (double)(real_us() - a->started_us) / 1000),
            TRACE_NUM_IF(a->input_pending, "latency_us", (double)(real_us() - ts_us(&a->input_at))),
            TRACE_END);
        if (a->frames == 1) { /* systemd: started once the first frame is on screen */
            char st[WATCHDOG_STATUS_MAX];
            snprintf(st, sizeof st, "first frame drawn: %s screen",
                     kiosk_screen_label(screen_of(a)));
            watchdog_ready(a->wd, st);
        }
        /* Screenshots (board/screenshots.py): the pressed state lives for one frame, before the
         * deferred write moves on, so it is saved here, once, when TP_KIOSK_PRESS_SHOT names a
         * file. */
        const char *ps = a->scripted ? getenv("TP_KIOSK_PRESS_SHOT") : NULL;
        if (ps && ps[0] && !a->press_shot_done && kiosk_has_deferred(a->k)) {
            a->press_shot_done = true;
            if (ui_screenshot(a->u, ps) != TP_OK)
                trace_error(a, "ui", ui_errmsg(a->u));
        }
        kiosk_after_frame(a->k);
        hw_after_frame(a);
    }
}

void handle_action(app *a, kiosk_action act)
{
    if (act == KIOSK_QUIT) {
        a->quit = true;
    } else if (act == KIOSK_SYNC_NOW) {
        sync_now(a);
    }
}

/* ---- Clock -------------------------------------------------------------------------------- */

const tp_clock *app_clock(const app *a)
{
    return a->scripted ? &a->vc.clock : tp_clock_system();
}

/* One SDL event, live or synthesized by the script. */
void handle_event(app *a, const SDL_Event *ev)
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
    if (remote_blocks_input(a) && ev->type != SDL_QUIT && ev->type != SDL_WINDOWEVENT)
        return;
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

void drain_events(app *a)
{
    SDL_Event ev;
    while (!a->quit && SDL_PollEvent(&ev))
        handle_event(a, &ev);
}

/* ---- systemd watchdog -------------------------------------------------------------------- */

/* The health check behind each WATCHDOG=1: the database answers and is writable, the kiosk is not
 * out of order, and its timers are not long overdue (the state machine is being serviced). */
void wd_tick(app *a)
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
                 kiosk_screen_label(screen), (long long)h.pending);
        watchdog_status(a->wd, text);
    }
    watchdog_tick(a->wd, &h);
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
    a->sw.exportfd = -1;
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

    /* A write to a dead peer (the X server's socket, a closed trace reader) fails with EPIPE
     * where it is made, rather than killing the kiosk with SIGPIPE: a lost display then reaches
     * lost_display() and ends with its message. */
    signal(SIGPIPE, SIG_IGN);
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
    uo.logo = a->cfg.brand.logo[0] ? a->cfg.brand.logo : NULL;
    uo.accent = a->cfg.brand.accent;
    tp_err urc = ui_new(&uo, &a->u, err, sizeof err);
    if (urc == TP_ERR_CONFIG && uo.logo) {
        /* A logo that is missing or no picture must not keep customers from the survey (like a
         * missing GPIO chip): said once, on stderr (the journal) and in the trace, then the
         * kiosk runs without it. An accent too pale is still refused below. */
        fprintf(stderr, "touchpoint-kiosk: %s: [brand] logo: %s (running without the logo)\n",
                a->cfg.path, err);
        trace_event(a->tr, "error", TRACE_STR("code", "logo"), TRACE_STR("message", err),
                    TRACE_END);
        uo.logo = NULL;
        urc = ui_new(&uo, &a->u, err, sizeof err);
    }
    if (urc == TP_ERR_CONFIG) { /* [brand] accent unreadable on the background */
        fprintf(stderr, "touchpoint-kiosk: %s: [brand]: %s\n", a->cfg.path, err);
        a->exit_code = EXIT_USAGE;
        goto out;
    } else if (urc != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: display: %s\n", err);
        a->exit_code = 1;
        goto out;
    }
    guard_display(a);
    if (kiosk_check_glyphs(a->k, ui_font_has_glyph, a->u, err, sizeof err) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: %s\n", err);
        a->exit_code = EXIT_USAGE;
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
    hw_power_config(a);
    if (power_new(&a->power_cfg, a->scripted ? &a->vc.clock : NULL, NULL, &a->pw, err,
                  sizeof err) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: %s\n", err);
        a->pw = NULL;
    }
    remote_open(a); /* central configuration: needs the kiosk, the font and screen power */

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
    /* A running export finishes (or fails) on its own; wait so its files are complete. */
    usb_export_job_free(a->job);
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
    remote_close(a);
    watchdog_free(a->wd); /* STOPPING=1 */
    kiosk_free(a->k);     /* closes the store: every write is complete */
    ui_free(a->u);
    trace_free(a->tr);
    script_free(scr);
    int rc = a->exit_code;
    free(a);
    return rc;
}
