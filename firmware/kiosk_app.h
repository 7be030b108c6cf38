/*
 * kiosk_app.h - the touchpoint-kiosk program's own state (struct app) and the functions its files
 * share: kiosk_main.c (options, main, the live loop, drawing), kiosk_signal.c (the watcher
 * thread: signals and wake-ups), kiosk_hw.c (buttons,
 * lights, screen power), kiosk_usb.c (sticks and the export job), kiosk_work.c (the work the
 * state machine asks of its owner), kiosk_script.c (the script runner and its test hooks).
 * Nothing outside the program includes it.
 */
#ifndef TP_KIOSK_APP_H
#define TP_KIOSK_APP_H

#include <SDL.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

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
#define EXIT_DISPLAY_LOST 4 /* the X server went away under the kiosk */

#define WAKE_USB (-1)    /* user event code: the sticks may have changed */
#define WAKE_EXPORT (-2) /* user event code: the export job progressed or ended */
#define WAKE_GPIO (-3)   /* user event code: GPIO edges wait (gpio_fd readable) */

/* ---- Signals -------------------------------------------------------------------------------- */

typedef struct sigwatch {
    int sfd;              /* signalfd for SIGTERM, SIGINT */
    int stopfd;           /* eventfd: tells the thread to end */
    int usbfd;            /* usb_fd() or -1: readable when the sticks may have changed */
    int rearmfd;          /* eventfd: the loop has run usb_poll(), watch usbfd again */
    int gpiofd;           /* gpio_fd() or -1: readable when GPIO edges wait (re-armed likewise) */
    _Atomic int exportfd; /* usb_export_job_fd() of the running export or -1 (re-armed likewise) */
    Uint32 sdl_event;     /* registered SDL user event type */
    pthread_t thread;
    bool running;
} sigwatch;

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
    usb_export_job *job; /* the running export (NULL: none) */
    int64_t shot_rows;   /* script mode: TP_KIOSK_EXPORT_SHOT's row count (-1) */
    int64_t cancel_rows; /* script mode: TP_KIOSK_EXPORT_CANCEL's row count (-1) */
    bool usb_scanned;    /* the first usb_refresh (sticks present at start) ran */
    bool hooks_read;     /* the TP_KIOSK_EXPORT_* hooks were read (first export) */
    kiosk_export_req export_req;
    bool key_checked; /* the sticks were checked for a staff key on this PIN pad visit */
    /* Buttons and lights (gpio.h, NULL: none or failed to open) and screen power (power.h) */
    gpio *gpio;
    power *pw;
    config_power power_cfg;       /* [power] as power_new sees it (no idle dim with attract) */
    bool press_shot_done;         /* TP_KIOSK_PRESS_SHOT written (screenshots) */
    char gpio_err[TP_ERRMSG_MAX]; /* start-up error for the staff screen, "" none */
    int64_t answers_seen;         /* kiosk_answers_recorded() at the last ack pulse */
    int64_t led_next;             /* mono ms of the next status LED check */
    kiosk_screen led_screen;      /* screen at the last status LED check */
    bool swallow_release;         /* the press was a wake-up tap: drop its release too */
    bool gpio_woken;              /* the watcher stopped watching the GPIO fd: re-arm it */
    watchdog *wd;                 /* systemd notifications (watchdog.h); no-op outside systemd */
    kiosk_work work;              /* the state machine's work, done by do_work */
    struct kremote *rm;           /* central configuration (kiosk_remote.c); NULL: none */
} app;

/* kiosk_main.c */
void present(app *a);
void handle_event(app *a, const SDL_Event *ev);
void handle_action(app *a, kiosk_action act);
void drain_events(app *a);
void wd_tick(app *a);
void mark_input(app *a);
void trace_error(app *a, const char *code, const char *msg);
kiosk_screen screen_of(const app *a);
const tp_clock *app_clock(const app *a);

/* kiosk_signal.c */
void *sigwatch_main(void *arg); /* the watcher thread: pthread_create(..., sigwatch_main, &a->sw) */
void rearm_watcher(app *a, const char *what);

/* kiosk_hw.c */
void power_changed(app *a, const char *reason);
void led_update(app *a, bool force);
void hw_after_frame(app *a);
void hw_power_config(app *a);
void guard_display(app *a);
void hw_status_update(app *a);
void gpio_service(app *a);
void hw_tick(app *a);
int64_t hw_deadline(const app *a, int64_t d);

/* kiosk_usb.c */
void usb_refresh(app *a);
void staff_key_check(app *a);
void export_cancel_sync(app *a);
void export_collect(app *a);
void export_start(app *a);

/* kiosk_work.c */
void do_work(app *a);
void sync_now(app *a);

/* kiosk_remote.c: central configuration, applied between customers */
typedef struct kremote kremote;
void remote_open(app *a);
void remote_tick(app *a);
int64_t remote_deadline(const app *a, int64_t d);
void remote_close(app *a);
bool remote_present(app *a);            /* pairing screen drawn instead of the kiosk's: true */
bool remote_blocks_input(const app *a); /* the pairing screen takes no taps */

/* kiosk_script.c */
void run_script_file(app *a, const script *s);
void run_script_stdin(app *a);
void script_export_hooks(app *a);
void script_export_progress(void *ctx, int64_t done, int64_t total);

#endif /* TP_KIOSK_APP_H */
