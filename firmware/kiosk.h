/*
 * kiosk.h - the kiosk's state machine: screens as a const table of { name, enter, event, draw },
 * driven by input events and timers on a tp_clock (the system clock, or a virtual clock in
 * script mode and tests). It knows no SDL: it receives "pressed control X" / "released" / "key"
 * events, fills a plain ui_screen model (ui.h) for the owner to draw, and records answers in the
 * store. The owner (kiosk_main.c) owns the loop, the window and the signals.
 *
 * Flow: question -> press a rating -> the control is highlighted (owner draws one frame) ->
 * kiosk_after_frame() records it durably -> follow-up (same session) or thanks -> question.
 * A failed write goes to the out-of-order screen, which retries every KIOSK_RETRY_MS and never
 * thanks. Taps during the thank-you are ignored. A rating within repeat_window_s after the end of
 * the previous thank-you is flagged TP_FLAG_RAPID_REPEAT. The language goes back to the default
 * after each customer (thanks, follow-up timeout, idle). Holding the staff corner hold_ms opens
 * the PIN pad; max_attempts wrong PINs lock it for lockout_s; the staff screen leaves by itself
 * after staff_idle_s.
 *
 * An answer that cannot be recorded (or a store that cannot be opened, or free space already below
 * the reserve at start) puts the kiosk out of order; each transition into and out of it is
 * written once to stderr (the journal) with the cause and the file.
 *
 * Thread-safety: one thread.
 */
#ifndef TP_KIOSK_H
#define TP_KIOSK_H

#include <stdio.h>

#include "config.h"
#include "store.h"
#include "survey.h"
#include "tp.h"
#include "trace.h"
#include "ui.h"
#include "usb.h"

#define KIOSK_RETRY_MS 5000         /* out-of-order: retry the failed write this often */
#define KIOSK_HOLD_FRAME_MS 100     /* staff-corner hold: redraw the progress ring this often */
#define KIOSK_STAFF_REFRESH_MS 5000 /* staff screen: re-read sync state and figures this often */
#define KIOSK_MAX_SURVEYS 32        /* survey files offered on the staff screen */
#define KIOSK_MAX_STICKS 4          /* USB sticks remembered for the staff screen export */

typedef struct kiosk kiosk;

typedef struct kiosk_options {
    const config *cfg;      /* borrowed; must outlive the kiosk */
    const tp_clock *clock;  /* borrowed; NULL: tp_clock_system() */
    trace *trace;           /* borrowed (main owns it); NULL: no trace */
    bool windowed;          /* developer mode: Escape quits */
    int64_t max_page_count; /* passed to store_open (tests); 0: none */
} kiosk_options;

/* Loads the configured survey and opens the store (a store that cannot be opened is not fatal:
 * the kiosk starts on the out-of-order screen and keeps retrying). Returns TP_OK and *out (free
 * with kiosk_free), or the survey's error (TP_ERR_SURVEY, TP_ERR_NOT_FOUND, ...) / TP_ERR_CONFIG
 * (bad PIN hash) with the cause in err. */
tp_err kiosk_new(const kiosk_options *opt, kiosk **out, char *err, size_t errlen);

/* Closes the store and frees everything. NULL is a no-op. */
void kiosk_free(kiosk *k);

/* Gives the kiosk the font's glyph check (the ui's ui_font_has_glyph and its handle, which must
 * outlive the kiosk) and checks the running survey with it; every survey loaded later (the staff
 * survey switch) is checked too. Returns TP_OK, or TP_ERR_SURVEY with the text's JSON path and
 * the first character the font lacks in err. */
tp_err kiosk_check_glyphs(kiosk *k, survey_glyph_fn has_glyph, void *ctx, char *err, size_t errlen);

/* What the owner should do after an event. */
typedef enum kiosk_action {
    KIOSK_NONE = 0,
    KIOSK_QUIT = 1,     /* leave the loop and exit cleanly (staff exit, windowed Escape) */
    KIOSK_SYNC_NOW = 2, /* staff pressed "Sync now": wake the sync daemon, then kiosk_sync_woken */
} kiosk_action;

/* The screens. */
typedef enum kiosk_screen {
    KIOSK_SCREEN_QUESTION = 0,
    KIOSK_SCREEN_FOLLOWUP,
    KIOSK_SCREEN_THANKS,
    KIOSK_SCREEN_OUT_OF_ORDER,
    KIOSK_SCREEN_PIN,
    KIOSK_SCREEN_STAFF,
    KIOSK_SCREEN_STAFF_SURVEY,
    KIOSK_SCREEN_STAFF_EXPORT,
    KIOSK_SCREEN_STAFF_EXIT, /* "exit kiosk?": the confirmation before the kiosk ends */
    KIOSK_SCREEN_COUNT
} kiosk_screen;

/* Returns the static name of s ("question", "followup", "thanks", "out_of_order", "pin", "staff",
 * "staff_survey", "staff_export", "staff_exit"), as the trace and the scripts' expect-screen spell
 * it. */
const char *kiosk_screen_label(kiosk_screen s);

/* Returns the screen called name, or KIOSK_SCREEN_COUNT when there is none. */
kiosk_screen kiosk_screen_parse(const char *name);

typedef struct kiosk_status {
    kiosk_screen screen;
    bool out_of_order;        /* answers cannot be recorded (the out-of-order screen) */
    bool pin_pad;             /* the PIN pad is up */
    const char *staff_lang;   /* the staff screens' language, "vi" or "en" (static) */
    const char *default_lang; /* the customers' default language (borrowed until the next call) */
    int64_t answers_recorded; /* since kiosk_new (the owner pulses the acknowledgement LED) */
} kiosk_status;

/* Fills *out with where the kiosk is. */
void kiosk_status_get(const kiosk *k, kiosk_status *out);

/* A pointer went down on control id (NULL: on no control). */
kiosk_action kiosk_press(kiosk *k, const char *id);

/* The pointer went up. */
kiosk_action kiosk_release(kiosk *k);

/* A key or window event by name: "escape", "alt+f4", "ctrl+q", "quit" (SDL_QUIT), "close"
 * (window close). Ignored in fullscreen (lockdown); with windowed, escape/quit/close quit. */
kiosk_action kiosk_key(kiosk *k, const char *name);

/* Runs every timer due at the clock's current time. */
kiosk_action kiosk_tick(kiosk *k);

/* Work that must wait until the highlight of a pressed control is on screen (the durable write).
 * The owner calls it after presenting a frame. Returns true when it did something. */
bool kiosk_after_frame(kiosk *k);

/* True when kiosk_after_frame has work queued. */
bool kiosk_has_deferred(const kiosk *k);

/* Monotonic time (clock->mono_ms) of the next timer, or -1 when none is armed. */
int64_t kiosk_next_deadline(const kiosk *k);

/* What changed since the last kiosk_model / kiosk_clear_dirty. */
#define KIOSK_DIRTY_SCREEN 0x1u    /* the model changed: ui_set_screen */
#define KIOSK_DIRTY_HIGHLIGHT 0x2u /* only the highlight: ui_set_highlight */
#define KIOSK_DIRTY_HOLD 0x4u      /* only the hold ring: ui_set_hold */
#define KIOSK_DIRTY_ANIM 0x8u      /* only the thank-you's animation: ui_set_anim */
unsigned kiosk_dirty(const kiosk *k);
void kiosk_clear_dirty(kiosk *k);

/* Fills *scr with the current screen. Pointers in it are borrowed from k and valid until the
 * next call on k. */
void kiosk_model(kiosk *k, ui_screen *scr);

/* The thank-you's animation now: *anim the entry's progress 0..1 (1: still), *countdown the
 * fraction of the wait left before the next customer (0 elsewhere). */
void kiosk_anim(const kiosk *k, float *anim, float *countdown);

/* Thank-you animation timing: the entry lasts KIOSK_ANIM_ENTRY_MS drawn every KIOSK_ANIM_FRAME_MS
 * (30 frames per second at most); then the countdown ring moves every KIOSK_RING_FRAME_MS. No
 * other screen animates, so the loop otherwise sleeps until input or a timer. */
#define KIOSK_ANIM_ENTRY_MS 400
#define KIOSK_ANIM_FRAME_MS 34
#define KIOSK_RING_FRAME_MS 100

/* The comment link the thank-you shows as a QR code (issue 15), or NULL when it shows none.
 * Borrowed until the next thank-you. */
const char *kiosk_comment_link(const kiosk *k);

/* Current highlight (NULL: none) and hold progress (< 0: none). */
const char *kiosk_highlight(const kiosk *k);
float kiosk_hold_progress(const kiosk *k);

/* The open store (NULL while it cannot be opened). Borrowed. */
store *kiosk_store(const kiosk *k);

/* ---- Work for the owner ---------------------------------------------------------------------
 * The state machine does no I/O besides recording: slow or outside work the staff screens need
 * is asked of the owner, which takes it (kiosk_take_work), does it off the state machine and
 * hands the result back (kiosk_work_done) before it draws. */

#define KIOSK_WORK_DB_CHECK 0x1u   /* store_check(kiosk_store(k), false) for the database line */
#define KIOSK_WORK_SYNC_STATE 0x2u /* is the sync daemon running ([sync] pid_file) */
#define KIOSK_WORK_SURVEYS 0x4u    /* the surveys of [survey] folder that load, with labels */

typedef struct kiosk_survey_entry {
    char path[SURVEY_PATH_MAX];
    char label[160]; /* "Title (id)" in the staff language */
} kiosk_survey_entry;

typedef struct kiosk_work {
    unsigned done; /* KIOSK_WORK_* bits filled below */
    tp_err db_rc;  /* DB_CHECK: store_check's result */
    long sync_pid; /* SYNC_STATE: > 0 running, 0 not running, -1 unknown (sync_err says why) */
    char sync_err[TP_ERRMSG_MAX];
    int n_surveys; /* SURVEYS */
    kiosk_survey_entry surveys[KIOSK_MAX_SURVEYS];
} kiosk_work;

/* Returns the KIOSK_WORK_* bits asked since the last call (0: none) and forgets them. */
unsigned kiosk_take_work(kiosk *k);

/* The results of taken work (copied). Rebuilds the staff lines and redraws when they change. */
void kiosk_work_done(kiosk *k, const kiosk_work *w);

/* The outcome of KIOSK_SYNC_NOW: pid > 0 the daemon was woken, 0 it is not running, -1 error
 * (err says why). Shown to staff and traced. */
void kiosk_sync_woken(kiosk *k, long pid, const char *err);

/* ---- USB export from the staff screen ------------------------------------------------------
 * The owner watches the sticks (usb.h) and tells the kiosk; when staff press "export", the kiosk
 * asks the owner (kiosk_take_export) to run the job (usb_export.h) off the state machine, and is
 * told the progress and the outcome. Staff screens do not time out while a job runs. */

typedef struct kiosk_export_req {
    char mount_point[USB_PATH_MAX];
    int mount_id;
    bool all; /* everything, rather than new since the last export */
} kiosk_export_req;

/* The sticks now present (copied; the first is the export target). */
void kiosk_set_sticks(kiosk *k, const usb_stick *sticks, size_t n);

/* Returns true (once) with *out filled when staff asked for an export; the owner then runs it
 * and must call kiosk_export_done. */
bool kiosk_take_export(kiosk *k, kiosk_export_req *out);

#define KIOSK_EXPORT_STEP_PCT 2   /* export progress: redraw (and trace) every 2 % of rows */
#define KIOSK_EXPORT_FRAME_MS 100 /* ... or when this long has passed since the last redraw */

/* Progress of the running export (rows done of total). Redraws the bar at a bounded rate (see
 * above) and traces {"event":"export_progress","done":N,"total":M} for each redraw. */
void kiosk_export_progress(kiosk *k, int64_t done, int64_t total);

/* True when staff pressed "export-cancel" during the current export: the owner's
 * usb_export_request.cancel callback returns it (through a flag the worker thread may read). */
bool kiosk_export_cancelled(const kiosk *k);

/* The export ended; message is the one sentence for staff (usb_export_report.message). */
void kiosk_export_done(kiosk *k, bool ok, const char *message);

/* A stick holding the staff key (usb_check_staff_key, [usb] staff_key = true) was plugged in on
 * a customer screen, or is present while the PIN pad is up: opens the staff export screen
 * directly (the staff menu when no stick is known), like the right PIN, and ends a lockout (the
 * key is a physical token). Leaving or the staff idle timeout return to the customer screen as
 * usual. Returns true when it did; false on other screens (staff screens already open). */
bool kiosk_staff_key(kiosk *k);

/* ---- Physical inputs (the owner reads them through gpio.h and calls these) ------------------ */

/* A rating button with answer value: the same path as a tap on that value of the current screen
 * (question: the rating value; follow-up: option number value, 1-based), flagged TP_FLAG_BUTTON.
 * Ignored (traced "button" with accepted false) on other screens or for a value the question
 * does not have. */
kiosk_action kiosk_button(kiosk *k, int value);

/* The staff key switch was turned on: opens the PIN pad from a customer screen (question,
 * follow-up, thanks, out of order). Returns true when it did. */
bool kiosk_staff_switch(kiosk *k);

/* One line for the staff screen about the physical inputs ("" or NULL: none), e.g. a GPIO start-up
 * error or a stuck button. Copied. */
void kiosk_set_hw_status(kiosk *k, const char *text);

#endif /* TP_KIOSK_H */
