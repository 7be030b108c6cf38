/*
 * kiosk_signal.c - the kiosk program's watcher thread (kiosk_app.h). SIGTERM/SIGINT are blocked
 * in every thread and read here from a signalfd; the USB, GPIO and export job descriptors are
 * watched here too; each becomes an SDL user event that wakes the loop in SDL_WaitEventTimeout,
 * so the loop itself waits on one thing and finishes what it is doing before it acts. Also the
 * other way the process can be ended from outside: a lost X display (guard_display).
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "kiosk_app.h"

static void push_user(const sigwatch *w, int code)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = w->sdl_event;
    ev.user.code = code;
    SDL_PushEvent(&ev); /* thread-safe; wakes SDL_WaitEventTimeout */
}

/* Waits for signals and (while armed) the USB, GPIO and export descriptors; turns each into an
 * SDL user event. A descriptor stays readable until the loop has read it, so after one wake-up it
 * is not watched again until the loop re-arms it (rearm_watcher). */
void *sigwatch_main(void *arg)
{
    sigwatch *w = arg;
    bool usb_armed = w->usbfd >= 0;
    bool gpio_armed = w->gpiofd >= 0;
    bool export_armed = true;
    for (;;) {
        int efd = w->exportfd;
        struct pollfd p[6] = {{w->sfd, POLLIN, 0},
                              {w->stopfd, POLLIN, 0},
                              {w->rearmfd, POLLIN, 0},
                              {usb_armed ? w->usbfd : -1, POLLIN, 0},
                              {gpio_armed ? w->gpiofd : -1, POLLIN, 0},
                              {export_armed ? efd : -1, POLLIN, 0}};
        if (poll(p, 6, -1) < 0) {
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
                export_armed = true;
            }
        }
        if (p[5].revents & (POLLIN | POLLERR)) {
            export_armed = false; /* until the loop has polled the job */
            push_user(w, WAKE_EXPORT);
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

/* Lets the watcher thread watch its descriptors again (live mode). */
void rearm_watcher(app *a, const char *what)
{
    uint64_t one = 1;
    if (a->sw.rearmfd < 0 || a->scripted)
        return;
    if (write(a->sw.rearmfd, &one, sizeof one) != (ssize_t)sizeof one)
        trace_error(a, what, "cannot re-arm the watcher");
}

/* ---- A lost display ------------------------------------------------------------------------ */

static app *lost_display_app; /* for the handler below, which Xlib calls without a context */

/* Xlib's I/O error handler: the X server is gone (killed, or ended first by the Ctrl+C that is
 * also ending us). Xlib's default handler calls exit(), whose exit handlers crash (SIGSEGV) with
 * libraries SDL has unloaded and threads still running. Every recorded answer is already durable
 * (each write is synchronous), so say why and leave at once with a status. */
static int lost_display(void *display)
{
    app *a = lost_display_app;
    (void)display;
    if (a)
        trace_event(a->tr, "exit", TRACE_STR("reason", "display_lost"), TRACE_END);
    fprintf(stderr, "touchpoint-kiosk: display: the connection to the X server was lost (the X "
                    "server ended); exiting\n");
    fflush(NULL);
    _exit(EXIT_DISPLAY_LOST);
}

/* Installs lost_display when SDL drives an X display (libX11 already loaded by SDL's x11 driver;
 * the kiosk does not link libX11 itself). */
void guard_display(app *a)
{
    const char *drv = SDL_GetCurrentVideoDriver();
    if (!drv || strcmp(drv, "x11") != 0)
        return;
    void *x11 = dlopen("libX11.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (!x11)
        return;
    typedef int (*io_handler)(void *);
    io_handler (*set_handler)(io_handler) = NULL;
    *(void **)&set_handler = dlsym(x11, "XSetIOErrorHandler");
    if (set_handler) {
        lost_display_app = a;
        set_handler(lost_display);
    }
    dlclose(x11); /* NOLOAD took a reference; SDL keeps its own */
}
