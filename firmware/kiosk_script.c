/*
 * kiosk_script.c - the kiosk program's scripted run (kiosk_app.h): --script FILE or - (stdin),
 * input synthesized as SDL events through the same handler as live input, time on a virtual
 * clock (tp_vclock) so tests are instant and deterministic, and the test-only hooks
 * (TP_KIOSK_EXPORT_SHOT, TP_KIOSK_EXPORT_CANCEL). Under a watchdog the wait for the next stdin
 * line still feeds it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kiosk_app.h"

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

/* Script mode runs the export job inline, inside one command, so the progress state is shown
 * (and traced) from here; two test hooks act at a row count: TP_KIOSK_EXPORT_SHOT=PNG@ROWS saves
 * a screenshot of the export screen once ROWS are done, TP_KIOSK_EXPORT_CANCEL=ROWS taps
 * "export-cancel" then (the real tap path, so the cancel wiring is what is tested). */
void script_export_progress(void *ctx, int64_t done, int64_t total)
{
    app *a = ctx;
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

void run_script_file(app *a, const script *s)
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
void run_script_stdin(app *a)
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

/* Reads the export test hooks (they act on the first export of the process only). */
void script_export_hooks(app *a)
{
    if (!a->hooks_read) {
        a->hooks_read = true;
        a->shot_rows = hook_rows("TP_KIOSK_EXPORT_SHOT", true);
        a->cancel_rows = hook_rows("TP_KIOSK_EXPORT_CANCEL", false);
    } else {
        a->shot_rows = a->cancel_rows = -1;
    }
}
