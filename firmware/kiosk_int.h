/*
 * kiosk_int.h - the kiosk state machine's insides, shared by its files and by nothing else:
 * struct kiosk, the screen table's row type, and the helpers each file gives the others.
 *
 *   kiosk.c           screen table, timers, dispatch(), record / retry path, out of order
 *   kiosk_customer.c  question (attract), follow-up and thank-you screens
 *   kiosk_staff.c     PIN pad, lockout, staff screens, USB export and the staff key
 *   kiosk_text.c      every sentence the kiosk shows, in Vietnamese and English
 */
#ifndef TP_KIOSK_INT_H
#define TP_KIOSK_INT_H

#include "kiosk.h"
#include "pin.h"
#include "usb_export.h"

/* Screen ids are the public kiosk_screen values. */
typedef kiosk_screen scr_id;
#define S_QUESTION KIOSK_SCREEN_QUESTION
#define S_FOLLOWUP KIOSK_SCREEN_FOLLOWUP
#define S_THANKS KIOSK_SCREEN_THANKS
#define S_OOO KIOSK_SCREEN_OUT_OF_ORDER
#define S_PIN KIOSK_SCREEN_PIN
#define S_STAFF KIOSK_SCREEN_STAFF
#define S_STAFF_SURVEY KIOSK_SCREEN_STAFF_SURVEY
#define S_STAFF_EXPORT KIOSK_SCREEN_STAFF_EXPORT
#define S_STAFF_EXIT KIOSK_SCREEN_STAFF_EXIT
#define S_COUNT KIOSK_SCREEN_COUNT

typedef enum timer_id {
    T_IDLE = 0,   /* question: reset language; follow-up: abandon; pin/staff: leave */
    T_THANKS,     /* end of the thank-you */
    T_RETRY,      /* out-of-order: retry the failed write / the open */
    T_HOLD,       /* staff corner held long enough */
    T_HOLD_FRAME, /* redraw the hold ring */
    T_LOCK,       /* PIN lockout over */
    T_REFRESH,    /* staff screen: re-read pending answers, last sync, today's figures */
    T_ATTRACT,    /* question: nobody for [power] dim_after_s: the attract state */
    T_ANIM,       /* thanks: the next animation frame (entry, countdown ring) */
    T_COUNT
} timer_id;

typedef enum ev_type { EV_PRESS, EV_RELEASE, EV_TIMER } ev_type;

typedef struct kev {
    ev_type type;
    const char *id; /* EV_PRESS: control id or NULL */
    timer_id timer; /* EV_TIMER */
} kev;

/* One write waiting for its frame (deferred) or for the store to come back (retry). */
typedef struct pending {
    bool active;
    int question; /* index in the survey */
    int value;    /* rating value */
    int option;   /* choice: option index */
    unsigned flags;
    char lang[TP_LANG_MAX + 1];
    char session[TP_UUID_STR]; /* "" for a new session */
    /* Copies, not indexes into k->sv: a write waiting for retry stays right even if staff
     * switch the survey meanwhile. */
    char survey_id[TP_ID_MAX + 1];
    int survey_version;
    char question_id[TP_ID_MAX + 1];
    tp_kind kind;
    char choice_id[TP_ID_MAX + 1];
} pending;

#define LABEL_MAX 160
#define LINE_MAX_B 200

/* How the staff lines are traced once the owner's work (kiosk_work_done) has rebuilt them. */
typedef enum lines_trace { LINES_SILENT = 0, LINES_IF_CHANGED, LINES_ALWAYS } lines_trace;

struct kiosk {
    const config *cfg;
    const tp_clock *clk;
    trace *tr;
    bool windowed;
    int64_t max_page_count;
    store *st;
    char store_err[TP_ERRMSG_MAX];
    survey *sv;
    survey_glyph_fn has_glyph; /* the font's glyph check (kiosk_check_glyphs); NULL: none yet */
    void *glyph_ctx;

    scr_id cur;
    int64_t timers[T_COUNT]; /* mono ms; -1 = off */
    unsigned dirty;
    unsigned work; /* KIOSK_WORK_* bits for the owner */

    /* customer */
    char lang[TP_LANG_MAX + 1]; /* current language */
    char default_lang[TP_LANG_MAX + 1];
    char session[TP_UUID_STR]; /* session of the main answer, "" before */
    int main_value;
    unsigned session_flags;  /* flags of the session's main answer */
    int followup;            /* question index shown on S_FOLLOWUP */
    int64_t last_thanks_end; /* mono ms; -1 = none yet */
    pending deferred, retry;
    char highlight[UI_ID_MAX + 1];
    int64_t hold_start;            /* -1: no hold */
    bool holding;                  /* pointer is down on the staff corner */
    char ooo_cause[TP_ERRMSG_MAX]; /* why answers cannot be recorded ("" when they can) */
    bool attract;                  /* question: the attract state (logo, invitation) is shown */
    int64_t anim_start;            /* thanks: mono ms the screen came up */
    int64_t tap_wall_ms;           /* wall ms of the session's main answer (the comment link) */
    int thanks_s;                  /* this thank-you's length: thankyou_s or comment_thanks_s */
    /* The comment link on this thank-you (kiosk_comment.c); comment_qr_size 0: none. */
    char comment_link[CLINK_URL_MAX];
    int comment_qr_size;
    unsigned char comment_qr[UI_QR_MAX * UI_QR_MAX];

    /* staff */
    char pin[PIN_MAX_DIGITS + 1];
    int pin_len;
    int wrong;            /* wrong PINs since the last success or lockout */
    int64_t locked_until; /* mono ms; 0 = not locked */
    bool pin_wrong_shown;
    scr_id staff_return;        /* where "back" and the idle timeout go */
    char staff_note[LABEL_MAX]; /* a message on the staff screens ("survey switched") */
    int n_surveys;
    kiosk_survey_entry surveys[KIOSK_MAX_SURVEYS];
    char lines[UI_LINES_MAX][LINE_MAX_B];
    int n_lines;
    unsigned warn_lines;                         /* bit i: line i in the warning colour */
    char lines_before[UI_LINES_MAX][LINE_MAX_B]; /* LINES_IF_CHANGED: the lines before */
    int n_lines_before;
    lines_trace lines_trace; /* for the next kiosk_work_done */
    char db_line[160];       /* the staff screen's database line, from the last store_check */
    tp_err db_rc;            /* the owner's last store_check (kiosk_work.db_rc) */
    bool db_fresh;           /* db_rc is new: rebuild db_line from it */
    bool db_warn;            /* db_line needs attention (bad, low disk, recovered) */
    long sync_pid;           /* the owner's last look at the sync daemon (kiosk_work.sync_pid) */
    char sync_err[TP_ERRMSG_MAX];

    /* USB export */
    int n_sticks;
    usb_stick sticks[KIOSK_MAX_STICKS];
    bool export_requested; /* waiting for kiosk_take_export */
    bool export_running;
    bool export_all;
    int64_t export_done, export_total;
    bool export_cancel;                /* staff pressed export-cancel during this export */
    int64_t export_drawn;              /* rows shown by the last progress redraw (-1: none) */
    int64_t export_drawn_ms;           /* mono ms of that redraw */
    char export_note[UI_TEXT_MAX + 1]; /* the last outcome for staff */

    /* physical inputs (kiosk_button, kiosk_staff_switch) */
    unsigned press_flags; /* flags of the press being handled: TP_FLAG_BUTTON */
    char hw_status[160];  /* staff line about buttons and lights ("" none) */
    int64_t n_recorded;   /* answers recorded since kiosk_new */

    /* model storage (rebuilt by draw) */
    ui_screen m;
    ui_item items[UI_ITEMS_MAX], langs[UI_LANGS_MAX], actions[UI_ACTIONS_MAX];
    char item_ids[UI_ITEMS_MAX][UI_ID_MAX + 1];
    char item_labels[UI_ITEMS_MAX][LABEL_MAX];
    char action_ids[UI_ACTIONS_MAX][UI_ID_MAX + 1];
    char lang_ids[UI_LANGS_MAX][UI_ID_MAX + 1];
    const char *line_ptrs[UI_LINES_MAX];
    char subtitle[UI_TEXT_MAX + 1];
    char prompt[UI_TEXT_MAX + 1];
};

/* What dispatch() does for a screen before its event function sees the event. */
typedef enum idle_kind {
    IDLE_NONE = 0, /* no idle timer; every press reaches the screen, NULL id included */
    IDLE_LANG,     /* question: the screen arms it; on timeout back to the default language */
    IDLE_CUSTOMER, /* armed on entry and each press (idle_timeout_s); timeout: next customer */
    IDLE_STAFF,    /* armed on entry and each press (staff_idle_s); timeout: leave staff mode */
} idle_kind;

/* One row of the screen table: { idle, keep, enter, event, draw }. event sees only presses on a
 * control (NULL ids are dropped unless idle is IDLE_NONE) and the timers other than T_IDLE. */
typedef struct screen_def {
    idle_kind idle;
    bool (*keep)(const kiosk *k); /* true: the idle timeout waits (an export is running) */
    void (*enter)(kiosk *k);
    kiosk_action (*event)(kiosk *k, const kev *ev);
    void (*draw)(kiosk *k);
} screen_def;

/* ---- kiosk.c: helpers for the other files ---- */
int64_t kiosk_now(const kiosk *k);
void kiosk_arm(kiosk *k, timer_id t, int64_t in_ms);
void kiosk_disarm(kiosk *k, timer_id t);
void kiosk_go(kiosk *k, scr_id to);
void kiosk_reset_customer(kiosk *k);
bool kiosk_lang_offered(const kiosk *k, const char *lang);
tp_err kiosk_load_survey(const kiosk *k, const char *path, survey **out, char *err, size_t errlen);
bool kiosk_id_number(const char *id, const char *prefix, int *n);
void kiosk_add_item(kiosk *k, const char *id, const char *label, int value, ui_style style);
void kiosk_add_action(kiosk *k, const char *id, const char *label, ui_style style);
tp_err kiosk_ensure_store(kiosk *k);
void kiosk_hold_cancel(kiosk *k);

/* The screen after question qi was answered (or skipped): its next follow-up, or thanks. */
void kiosk_after_recorded(kiosk *k, int qi);

/* ---- kiosk_customer.c: the customer screens' rows ---- */
/* Arms the attract timer when [brand] attract and [power] dim_after_s ask for it. */
void kiosk_arm_attract(kiosk *k);
void kiosk_question_enter(kiosk *k);
kiosk_action kiosk_question_event(kiosk *k, const kev *ev);
void kiosk_question_draw(kiosk *k);
kiosk_action kiosk_followup_event(kiosk *k, const kev *ev);
void kiosk_followup_draw(kiosk *k);
void kiosk_thanks_enter(kiosk *k);
/* Makes this thank-you's comment link and its QR code (kiosk_comment.c) when the survey offers
 * one after the main answer's value and the kiosk has a key, a page and a trusted clock; else
 * clears them. Traces "comment_link" either way (shown, or why not). */
void kiosk_comment_prepare(kiosk *k);
kiosk_action kiosk_thanks_event(kiosk *k, const kev *ev);
void kiosk_thanks_draw(kiosk *k);

/* ---- kiosk_staff.c: the staff screens' rows ---- */
void kiosk_pin_enter(kiosk *k);
kiosk_action kiosk_pin_event(kiosk *k, const kev *ev);
void kiosk_pin_draw(kiosk *k);
void kiosk_staff_enter(kiosk *k);
kiosk_action kiosk_staff_event(kiosk *k, const kev *ev);
void kiosk_staff_draw(kiosk *k);
void kiosk_staff_survey_enter(kiosk *k);
kiosk_action kiosk_staff_survey_event(kiosk *k, const kev *ev);
void kiosk_staff_survey_draw(kiosk *k);
bool kiosk_export_busy(const kiosk *k);
kiosk_action kiosk_staff_export_event(kiosk *k, const kev *ev);
void kiosk_staff_export_draw(kiosk *k);
kiosk_action kiosk_staff_exit_event(kiosk *k, const kev *ev);
void kiosk_staff_exit_draw(kiosk *k);
/* Leaves staff mode for where the customer was (the question or out of order). */
void kiosk_leave_staff(kiosk *k);
/* Rebuilds the staff lines now and asks the owner for work; lt: how to trace them after. */
void kiosk_staff_refresh(kiosk *k, unsigned work, lines_trace lt);

/* ---- kiosk_text.c: the sentences ---- */
typedef struct strings {
    const char *lang;
    const char *lang_name;
    const char *skip;
    const char *ooo_msg;
    const char *ooo_sub;
    const char *pin_prompt;
    const char *pin_cancel;
    const char *pin_del;
    const char *staff_title;
    const char *answers_today;
    const char *nps_today;
    const char *csat_today;
    const char *ces_today;
    const char *smiley_today;
    const char *pending;
    const char *last_sync;
    const char *never;
    const char *sync_ok;
    const char *sync_failed;
    const char *database;
    const char *db_ok;
    const char *db_bad;
    const char *db_closed;
    const char *survey;
    const char *switch_survey;
    const char *default_lang;
    const char *exit;
    const char *back_survey;
    const char *choose_survey;
    const char *back;
    const char *none;
    const char *switched;
    const char *recovered;
    const char *free;
    const char *usb_export;
    const char *export_new;
    const char *export_all;
    const char *exporting;
    const char *export_cancel;
    const char *cancelling;
    const char *usb_removed;
    const char *hw_inputs;
    const char *sync_now;
    const char *sync_state;
    const char *sync_not_running;
    const char *sync_requested;
    const char *customers_today;
    const char *happy;        /* smiley4: the share of happy faces ("62% happy") */
    const char *exit_title;   /* the exit confirmation's question */
    const char *exit_sub;     /* ... and what it means */
    const char *exit_confirm; /* its button that ends the kiosk */
    const char *warn_waiting; /* pending answers: "waiting over" (+ minutes) */
    const char *minutes;      /* "min" */
    const char *invite;       /* the attract state's invitation */
    const char *warn_disk;    /* the database line: free space below twice the reserve */
    const char *comment_scan; /* thank-you: the line under the comment link's QR code */
} strings;

/* The sentences in lang ("vi" or "en"; anything else: English). Static. */
const strings *kiosk_strings(const char *lang);
/* The PIN pad's subtitle in lang (shown in the warning colour): locked for n more minutes
 * (locked), else a wrong PIN with n attempts left ("Sai mã PIN – còn 3 lần thử"). */
void kiosk_pin_note(const char *lang, bool locked, int n, char *out, size_t outlen);
/* The name of lang in that language ("Tiếng Việt"), or lang itself. Static or borrowed. */
const char *kiosk_lang_name(const char *lang);

#endif /* TP_KIOSK_INT_H */
