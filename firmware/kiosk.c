/*
 * kiosk.c - the kiosk's state machine (kiosk.h): a const table of screens, timers on a tp_clock,
 * durable recording through the store, and the plain ui_screen model each screen draws.
 *
 * Each screen is { name, enter, event, draw }: enter arms its timers, event handles one input or
 * timer event and may switch screens, draw fills the model. Everything a screen shows is rebuilt
 * from the state by draw, so there is no "half-updated" model.
 */
#include "kiosk.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pin.h"

/* ---- State ------------------------------------------------------------------------------- */

typedef enum scr_id {
    S_QUESTION = 0,
    S_FOLLOWUP,
    S_THANKS,
    S_OOO,
    S_PIN,
    S_STAFF,
    S_STAFF_SURVEY,
    S_STAFF_EXPORT,
    S_COUNT
} scr_id;

typedef enum timer_id {
    T_IDLE = 0,   /* question: reset language; follow-up: abandon; pin/staff: leave */
    T_THANKS,     /* end of the thank-you */
    T_RETRY,      /* out-of-order: retry the write / the open */
    T_HOLD,       /* staff corner held long enough */
    T_HOLD_FRAME, /* redraw the hold ring */
    T_LOCK,       /* PIN lockout over */
    T_REFRESH,    /* staff screen: re-read pending answers, last sync, today's figures */
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

/* Fills the copied survey fields of p from question p->question (and p->option) of sv. */
static void pending_fill(pending *p, const survey *sv)
{
    const survey_question *q = &sv->questions[p->question];
    tp_strlcpy(p->survey_id, sv->id, sizeof p->survey_id);
    p->survey_version = sv->version;
    tp_strlcpy(p->question_id, q->id, sizeof p->question_id);
    p->kind = q->kind;
    if (q->kind == TP_KIND_CHOICE)
        tp_strlcpy(p->choice_id, q->options[p->option].id, sizeof p->choice_id);
    else
        p->choice_id[0] = '\0';
}

typedef struct survey_entry {
    char path[SURVEY_PATH_MAX];
    char label[160];
} survey_entry;

#define LABEL_MAX 160
#define LINE_MAX_B 200

struct kiosk {
    const config *cfg;
    const tp_clock *clk;
    FILE *trace;
    bool windowed;
    int64_t max_page_count;
    store *st;
    char store_err[TP_ERRMSG_MAX];
    survey *sv;

    scr_id cur;
    int64_t timers[T_COUNT]; /* mono ms; -1 = off */
    unsigned dirty;

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
    int64_t hold_start; /* -1: no hold */
    bool holding;       /* pointer is down on the staff corner */

    /* staff */
    char pin[PIN_MAX_DIGITS + 1];
    int pin_len;
    int wrong;            /* wrong PINs since the last success or lockout */
    int64_t locked_until; /* mono ms; 0 = not locked */
    bool pin_wrong_shown;
    scr_id staff_return;        /* where "back" and the idle timeout go */
    char staff_note[LABEL_MAX]; /* a message on the staff screens ("survey switched") */
    int n_surveys;
    survey_entry surveys[KIOSK_MAX_SURVEYS];
    char lines[UI_LINES_MAX][LINE_MAX_B];
    int n_lines;
    char db_line[160]; /* the staff screen's database line, from the last store_check */

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

typedef struct screen_def {
    const char *name;
    void (*enter)(kiosk *k);
    kiosk_action (*event)(kiosk *k, const kev *ev);
    void (*draw)(kiosk *k);
} screen_def;

static const screen_def SCREENS[S_COUNT];

/* ---- Texts the kiosk itself shows (the survey brings its own) ----------------------------- */

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
} strings;

static const strings STRINGS[] = {
    {
        .lang = "vi",
        .lang_name = "Tiếng Việt",
        .skip = "Bỏ qua",
        .ooo_msg = "Xin lỗi, máy đang tạm ngưng.",
        .ooo_sub = "Vui lòng báo nhân viên.",
        .pin_prompt = "Nhập mã PIN nhân viên",
        .pin_cancel = "Hủy",
        .pin_del = "Xóa",
        .staff_title = "Chế độ nhân viên",
        .answers_today = "Câu trả lời hôm nay",
        .nps_today = "NPS hôm nay",
        .csat_today = "CSAT hôm nay",
        .ces_today = "CES hôm nay",
        .smiley_today = "Mặt cười hôm nay",
        .pending = "Chờ đồng bộ",
        .last_sync = "Đồng bộ gần nhất",
        .never = "chưa bao giờ",
        .sync_ok = "thành công",
        .sync_failed = "lỗi",
        .database = "Cơ sở dữ liệu",
        .db_ok = "tốt",
        .db_bad = "LỖI",
        .db_closed = "chưa mở được",
        .survey = "Khảo sát",
        .switch_survey = "Đổi khảo sát",
        .default_lang = "Ngôn ngữ mặc định",
        .exit = "Thoát kiosk",
        .back_survey = "Quay lại khảo sát",
        .choose_survey = "Chọn khảo sát",
        .back = "Quay lại",
        .none = "chưa có",
        .switched = "Đã đổi khảo sát",
        .recovered = "đã khôi phục từ tệp hỏng",
        .free = "còn trống",
        .usb_export = "Xuất ra USB",
        .export_new = "Câu trả lời mới từ lần xuất trước",
        .export_all = "Tất cả câu trả lời",
        .exporting = "Đang xuất",
        .export_cancel = "Hủy xuất",
        .cancelling = "Đang hủy",
        .usb_removed = "Đã rút USB.",
        .hw_inputs = "Nút bấm và đèn",
        .sync_now = "Đồng bộ ngay",
        .sync_state = "Tiến trình đồng bộ",
        .sync_not_running = "không chạy",
        .sync_requested = "Đã yêu cầu đồng bộ ngay",
    },
    {
        .lang = "en",
        .lang_name = "English",
        .skip = "Skip",
        .ooo_msg = "Sorry, this kiosk is out of order.",
        .ooo_sub = "Please tell our staff.",
        .pin_prompt = "Enter staff PIN",
        .pin_cancel = "Cancel",
        .pin_del = "Delete",
        .staff_title = "Staff mode",
        .answers_today = "Answers today",
        .nps_today = "NPS today",
        .csat_today = "CSAT today",
        .ces_today = "CES today",
        .smiley_today = "Smileys today",
        .pending = "Pending sync",
        .last_sync = "Last sync",
        .never = "never",
        .sync_ok = "ok",
        .sync_failed = "failed",
        .database = "Database",
        .db_ok = "OK",
        .db_bad = "ERROR",
        .db_closed = "not open",
        .survey = "Survey",
        .switch_survey = "Switch survey",
        .default_lang = "Default language",
        .exit = "Exit kiosk",
        .back_survey = "Back to survey",
        .choose_survey = "Choose survey",
        .back = "Back",
        .none = "none yet",
        .switched = "Survey switched",
        .recovered = "recovered from a damaged file",
        .free = "free",
        .usb_export = "Export to USB",
        .export_new = "New since the last export",
        .export_all = "Everything",
        .exporting = "Exporting",
        .export_cancel = "Cancel export",
        .cancelling = "Cancelling",
        .usb_removed = "The USB stick was removed.",
        .hw_inputs = "Buttons and lights",
        .sync_now = "Sync now",
        .sync_state = "Sync process",
        .sync_not_running = "not running",
        .sync_requested = "Sync requested",
    },
};

static const strings *strings_for(const char *lang)
{
    for (size_t i = 0; i < sizeof STRINGS / sizeof STRINGS[0]; i++)
        if (strcmp(STRINGS[i].lang, lang) == 0)
            return &STRINGS[i];
    return &STRINGS[1];
}

static const char *lang_name(const char *lang)
{
    for (size_t i = 0; i < sizeof STRINGS / sizeof STRINGS[0]; i++)
        if (strcmp(STRINGS[i].lang, lang) == 0)
            return STRINGS[i].lang_name;
    return lang;
}

/* ---- Helpers ------------------------------------------------------------------------------ */

static int64_t now(const kiosk *k)
{
    return k->clk->mono_ms(k->clk->ctx);
}

static void arm(kiosk *k, timer_id t, int64_t in_ms)
{
    k->timers[t] = now(k) + in_ms;
}

static void disarm(kiosk *k, timer_id t)
{
    k->timers[t] = -1;
}

void kiosk_trace(kiosk *k, const char *event, void *cjson_fields)
{
    cJSON *o = cjson_fields;
    if (!k->trace) {
        cJSON_Delete(o);
        return;
    }
    if (!o)
        o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON *head = cJSON_CreateObject();
    if (head) {
        cJSON_AddStringToObject(head, "event", event);
        cJSON_AddNumberToObject(head, "t", (double)now(k));
        cJSON_AddStringToObject(head, "screen", SCREENS[k->cur].name);
        /* Move the caller's fields after the head's, keeping "event" first for readers. */
        while (o->child) {
            cJSON *it = cJSON_DetachItemViaPointer(o, o->child);
            if (cJSON_GetObjectItemCaseSensitive(head, it->string))
                cJSON_DeleteItemFromObjectCaseSensitive(head, it->string);
            cJSON_AddItemToObject(head, it->string, it);
        }
        char *s = cJSON_PrintUnformatted(head);
        if (s) {
            fprintf(k->trace, "%s\n", s);
            fflush(k->trace);
            cJSON_free(s);
        }
        cJSON_Delete(head);
    }
    cJSON_Delete(o);
}

static void trace_str(kiosk *k, const char *event, const char *key, const char *val)
{
    if (!k->trace)
        return;
    cJSON *o = cJSON_CreateObject();
    if (o && key)
        cJSON_AddStringToObject(o, key, val);
    kiosk_trace(k, event, o);
}

static void go(kiosk *k, scr_id to)
{
    scr_id from = k->cur;
    k->cur = to;
    k->highlight[0] = '\0';
    k->dirty |= KIOSK_DIRTY_SCREEN;
    disarm(k, T_IDLE);
    disarm(k, T_REFRESH);
    if (k->trace) {
        cJSON *o = cJSON_CreateObject();
        if (o)
            cJSON_AddStringToObject(o, "from", SCREENS[from].name);
        kiosk_trace(k, "screen", o);
    }
    if (SCREENS[to].enter)
        SCREENS[to].enter(k);
}

/* Back to the question for the next customer: default language, no session, no highlight. */
static void reset_customer(kiosk *k)
{
    if (strcmp(k->lang, k->default_lang) != 0) {
        tp_strlcpy(k->lang, k->default_lang, sizeof k->lang);
        trace_str(k, "lang", "lang", k->lang);
    }
    k->session[0] = '\0';
    k->followup = -1;
    go(k, S_QUESTION);
}

static bool lang_offered(const kiosk *k, const char *lang)
{
    bool in_cfg = false;
    for (int i = 0; i < k->cfg->n_langs; i++)
        in_cfg = in_cfg || strcmp(k->cfg->langs[i], lang) == 0;
    return in_cfg && survey_lang_index(k->sv, lang) >= 0;
}

/* Handles "lang-xx" presses on customer screens. Returns true when id was a language toggle. */
static bool press_lang(kiosk *k, const char *id)
{
    if (strncmp(id, "lang-", 5) != 0)
        return false;
    const char *lang = id + 5;
    if (!lang_offered(k, lang) || strcmp(lang, k->lang) == 0)
        return true;
    tp_strlcpy(k->lang, lang, sizeof k->lang);
    k->dirty |= KIOSK_DIRTY_SCREEN;
    trace_str(k, "lang", "lang", k->lang);
    return true;
}

/* Staff corner: press starts the hold, release or leaving the screen cancels it. */
static void hold_start(kiosk *k)
{
    k->holding = true;
    k->hold_start = now(k);
    arm(k, T_HOLD, k->cfg->hold_ms);
    arm(k, T_HOLD_FRAME, KIOSK_HOLD_FRAME_MS);
    k->dirty |= KIOSK_DIRTY_HOLD;
}

static void hold_cancel(kiosk *k)
{
    if (k->hold_start >= 0)
        k->dirty |= KIOSK_DIRTY_HOLD;
    k->holding = false;
    k->hold_start = -1;
    disarm(k, T_HOLD);
    disarm(k, T_HOLD_FRAME);
}

static const char *kind_prefix(tp_kind kind)
{
    return tp_kind_name(kind);
}

/* Parses "<prefix>-<n>" into n. */
static bool id_number(const char *id, const char *prefix, int *n)
{
    size_t pl = strlen(prefix);
    if (strncmp(id, prefix, pl) != 0 || id[pl] != '-')
        return false;
    char *end = NULL;
    long v = strtol(id + pl + 1, &end, 10);
    if (end == id + pl + 1 || *end != '\0' || v < 0 || v > 1000)
        return false;
    *n = (int)v;
    return true;
}

/* ---- Recording -------------------------------------------------------------------------- */

static tp_err ensure_store(kiosk *k)
{
    if (k->st)
        return TP_OK;
    /* A fresh SD card or demo checkout has no folder yet: make the last level (not more: a
     * missing mount point must stay an error rather than fill the root filesystem). */
    char dir[CONFIG_PATH_MAX];
    tp_strlcpy(dir, k->cfg->database, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            (void)0; /* store_open reports the real cause */
    }
    store_options so = {0};
    so.clock = k->clk;
    so.device_id = k->cfg->device_id;
    so.min_free_bytes = (int64_t)k->cfg->min_free_mb * 1024 * 1024;
    so.max_page_count = k->max_page_count;
    tp_err rc = store_open(k->cfg->database, &so, &k->st, k->store_err, sizeof k->store_err);
    if (rc != TP_OK) {
        k->st = NULL;
        if (k->trace) {
            cJSON *o = cJSON_CreateObject();
            if (o) {
                cJSON_AddStringToObject(o, "code", tp_err_name(rc));
                cJSON_AddStringToObject(o, "message", k->store_err);
                cJSON_AddStringToObject(o, "during", "open");
            }
            kiosk_trace(k, "error", o);
        }
    } else {
        k->store_err[0] = '\0';
    }
    return rc;
}

/* Writes p durably. On TP_OK fills the session id (main answer) and traces the answer. */
static tp_err record(kiosk *k, pending *p)
{
    store_answer_in a = {0};
    store_session_in in = {0};
    store_receipt rcpt;
    char session[TP_UUID_STR] = "";
    tp_err rc = ensure_store(k);
    if (rc != TP_OK)
        return rc;

    a.question_id = p->question_id;
    a.kind = p->kind;
    a.value = p->kind == TP_KIND_CHOICE ? 0 : p->value;
    a.choice_id = p->kind == TP_KIND_CHOICE ? p->choice_id : NULL;
    in.session_id = p->session[0] ? p->session : NULL;
    in.survey_id = p->survey_id;
    in.survey_version = p->survey_version;
    in.store_id = k->cfg->store_id;
    in.touchpoint_id = k->cfg->touchpoint_id;
    in.lang = p->lang;
    in.flags = p->flags;
    in.n_answers = 1;
    in.answers = &a;
    rc = store_record_session(k->st, &in, session, &rcpt);
    if (rc != TP_OK) {
        if (k->trace) {
            cJSON *o = cJSON_CreateObject();
            if (o) {
                cJSON_AddStringToObject(o, "code", tp_err_name(rc));
                cJSON_AddStringToObject(o, "message", store_errmsg(k->st));
                cJSON_AddStringToObject(o, "during", "record");
                cJSON_AddStringToObject(o, "question", p->question_id);
            }
            kiosk_trace(k, "error", o);
        }
        return rc;
    }
    if (!p->session[0])
        tp_strlcpy(p->session, session, sizeof p->session);
    tp_strlcpy(k->session, p->session, sizeof k->session);
    k->n_recorded++;
    if (k->trace) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddNumberToObject(o, "seq", (double)rcpt.seq);
            cJSON_AddStringToObject(o, "id", rcpt.id);
            cJSON_AddStringToObject(o, "session", p->session);
            cJSON_AddStringToObject(o, "survey", p->survey_id);
            cJSON_AddStringToObject(o, "question", p->question_id);
            cJSON_AddStringToObject(o, "kind", tp_kind_name(p->kind));
            if (p->kind == TP_KIND_CHOICE) {
                cJSON_AddNullToObject(o, "value");
                cJSON_AddStringToObject(o, "choice", a.choice_id);
            } else {
                cJSON_AddNumberToObject(o, "value", p->value);
                cJSON_AddNullToObject(o, "choice");
            }
            cJSON_AddStringToObject(o, "lang", p->lang);
            cJSON *flags = cJSON_AddArrayToObject(o, "flags");
            if (flags && (p->flags & TP_FLAG_RAPID_REPEAT))
                cJSON_AddItemToArray(flags, cJSON_CreateString("rapid_repeat"));
            if (flags && (p->flags & TP_FLAG_BUTTON))
                cJSON_AddItemToArray(flags, cJSON_CreateString("button"));
        }
        kiosk_trace(k, "answer", o);
    }
    return TP_OK;
}

/* Screen after a recorded answer of question qi with main value v. */
static void after_recorded(kiosk *k, int qi, int v)
{
    int next = survey_next_followup(k->sv, qi, v);
    if (next >= 0) {
        k->followup = next;
        go(k, S_FOLLOWUP);
    } else {
        go(k, S_THANKS);
    }
}

static void fail_to_ooo(kiosk *k, const pending *p)
{
    k->retry = *p;
    k->retry.active = true;
    go(k, S_OOO);
}

/* ---- Screens ------------------------------------------------------------------------------ */

static void set_lang_items(kiosk *k)
{
    int n = 0;
    for (int i = 0; i < k->cfg->n_langs && n < UI_LANGS_MAX; i++) {
        const char *l = k->cfg->langs[i];
        if (survey_lang_index(k->sv, l) < 0)
            continue;
        snprintf(k->lang_ids[n], sizeof k->lang_ids[n], "lang-%s", l);
        k->langs[n] = (ui_item){k->lang_ids[n], lang_name(l), 0, UI_STYLE_AUTO};
        n++;
    }
    if (n > 1) {
        k->m.langs = k->langs;
        k->m.n_langs = n;
        k->m.lang = k->lang;
    }
}

static void add_item(kiosk *k, const char *id, const char *label, int value, ui_style style)
{
    int i = k->m.n_items;
    if (i >= UI_ITEMS_MAX)
        return;
    tp_strlcpy(k->item_ids[i], id, sizeof k->item_ids[i]);
    tp_strlcpy(k->item_labels[i], label ? label : "", sizeof k->item_labels[i]);
    k->items[i] = (ui_item){k->item_ids[i], k->item_labels[i], value, style};
    k->m.items = k->items;
    k->m.n_items = i + 1;
}

static void add_action(kiosk *k, const char *id, const char *label, ui_style style)
{
    int i = k->m.n_actions;
    if (i >= UI_ACTIONS_MAX)
        return;
    tp_strlcpy(k->action_ids[i], id, sizeof k->action_ids[i]);
    k->actions[i] = (ui_item){k->action_ids[i], label, 0, style};
    k->m.actions = k->actions;
    k->m.n_actions = i + 1;
}

/* question */

static void question_enter(kiosk *k)
{
    k->deferred.active = false;
}

static kiosk_action question_event(kiosk *k, const kev *ev)
{
    const survey_question *q = &k->sv->questions[0];
    if (ev->type == EV_TIMER) {
        if (ev->timer == T_IDLE) {
            trace_str(k, "timeout", NULL, NULL);
            reset_customer(k);
        }
        return KIOSK_NONE;
    }
    if (ev->type != EV_PRESS || !ev->id)
        return KIOSK_NONE;
    if (press_lang(k, ev->id)) {
        if (strcmp(k->lang, k->default_lang) != 0)
            arm(k, T_IDLE, (int64_t)k->cfg->idle_timeout_s * 1000);
        else
            disarm(k, T_IDLE);
        return KIOSK_NONE;
    }
    int v;
    int lo = 0, hi = 0;
    tp_kind_range(q->kind, &lo, &hi);
    if (!id_number(ev->id, kind_prefix(q->kind), &v) || v < lo || v > hi || k->deferred.active)
        return KIOSK_NONE;
    /* Highlight now; the owner draws it, then kiosk_after_frame() records. */
    tp_strlcpy(k->highlight, ev->id, sizeof k->highlight);
    k->dirty |= KIOSK_DIRTY_HIGHLIGHT;
    pending *p = &k->deferred;
    memset(p, 0, sizeof *p);
    p->active = true;
    p->question = 0;
    p->value = v;
    tp_strlcpy(p->lang, k->lang, sizeof p->lang);
    pending_fill(p, k->sv);
    p->flags |= k->press_flags;
    int64_t t = now(k);
    if (k->last_thanks_end >= 0 && t - k->last_thanks_end < (int64_t)k->cfg->repeat_window_s * 1000)
        p->flags |= TP_FLAG_RAPID_REPEAT;
    return KIOSK_NONE;
}

static void question_draw(kiosk *k)
{
    const survey_question *q = &k->sv->questions[0];
    int lo = 0, hi = 0;
    tp_kind_range(q->kind, &lo, &hi);
    k->m.kind = UI_SCREEN_QUESTION;
    k->m.scale = q->kind;
    k->m.prompt = survey_text_get(k->sv, &q->prompt, k->lang);
    /* Every scale, faces included, runs from its lowest value on the left to its highest on the
     * right (README "Layout and look": one direction across the product). */
    k->m.scale_style = q->scale_style == SURVEY_SCALE_TRAFFIC ? UI_SCALE_TRAFFIC : UI_SCALE_NEUTRAL;
    if (q->has_labels) {
        k->m.anchor_low = survey_text_get(k->sv, &q->low_label, k->lang);
        k->m.anchor_high = survey_text_get(k->sv, &q->high_label, k->lang);
    }
    for (int v = lo; v <= hi; v++) {
        char id[UI_ID_MAX + 1];
        snprintf(id, sizeof id, "%s-%d", kind_prefix(q->kind), v);
        add_item(k, id,
                 q->has_value_labels ? survey_text_get(k->sv, &q->value_labels[v - lo], k->lang)
                                     : NULL,
                 v, UI_STYLE_AUTO);
    }
    set_lang_items(k);
    k->m.staff_corner = true;
}

/* follow-up */

static void followup_enter(kiosk *k)
{
    arm(k, T_IDLE, (int64_t)k->cfg->idle_timeout_s * 1000);
}

static kiosk_action followup_event(kiosk *k, const kev *ev)
{
    const survey_question *q = &k->sv->questions[k->followup];
    if (ev->type == EV_TIMER) {
        if (ev->timer == T_IDLE) {
            /* Abandoned: the main answer is stored; the next customer gets a fresh screen. */
            trace_str(k, "timeout", NULL, NULL);
            reset_customer(k);
        }
        return KIOSK_NONE;
    }
    if (ev->type != EV_PRESS || !ev->id)
        return KIOSK_NONE;
    arm(k, T_IDLE, (int64_t)k->cfg->idle_timeout_s * 1000);
    if (press_lang(k, ev->id) || k->deferred.active)
        return KIOSK_NONE;
    char skip[UI_ID_MAX + 1];
    snprintf(skip, sizeof skip, "%s-skip", q->id);
    if (strcmp(ev->id, skip) == 0) {
        trace_str(k, "skip", "question", q->id);
        int next = survey_next_followup(k->sv, k->followup, k->main_value);
        if (next >= 0) {
            k->followup = next;
            go(k, S_FOLLOWUP);
        } else {
            go(k, S_THANKS);
        }
        return KIOSK_NONE;
    }
    size_t ql = strlen(q->id);
    if (strncmp(ev->id, q->id, ql) != 0 || ev->id[ql] != '-')
        return KIOSK_NONE;
    for (int i = 0; i < q->n_options; i++) {
        if (strcmp(ev->id + ql + 1, q->options[i].id) != 0)
            continue;
        tp_strlcpy(k->highlight, ev->id, sizeof k->highlight);
        k->dirty |= KIOSK_DIRTY_HIGHLIGHT;
        pending *p = &k->deferred;
        memset(p, 0, sizeof *p);
        p->active = true;
        p->question = k->followup;
        p->option = i;
        p->value = k->main_value;
        tp_strlcpy(p->lang, k->lang, sizeof p->lang);
        tp_strlcpy(p->session, k->session, sizeof p->session);
        /* Same flags as the session's main answer, but "button" is this answer's own. */
        p->flags = (k->session_flags & ~TP_FLAG_BUTTON) | k->press_flags;
        pending_fill(p, k->sv);
        return KIOSK_NONE;
    }
    return KIOSK_NONE;
}

static void followup_draw(kiosk *k)
{
    const survey_question *q = &k->sv->questions[k->followup];
    k->m.kind = UI_SCREEN_FOLLOWUP;
    k->m.prompt = survey_text_get(k->sv, &q->prompt, k->lang);
    for (int i = 0; i < q->n_options; i++) {
        char id[UI_ID_MAX + 1];
        snprintf(id, sizeof id, "%s-%s", q->id, q->options[i].id);
        add_item(k, id, survey_text_get(k->sv, &q->options[i].label, k->lang), 0, UI_STYLE_NEUTRAL);
    }
    char skip[UI_ID_MAX + 1];
    snprintf(skip, sizeof skip, "%s-skip", q->id);
    add_action(k, skip, strings_for(k->lang)->skip, UI_STYLE_NEUTRAL);
    set_lang_items(k);
    k->m.staff_corner = true;
}

/* thanks */

static void thanks_enter(kiosk *k)
{
    arm(k, T_THANKS, (int64_t)k->cfg->thankyou_s * 1000);
}

static kiosk_action thanks_event(kiosk *k, const kev *ev)
{
    if (ev->type == EV_TIMER && ev->timer == T_THANKS) {
        k->last_thanks_end = now(k);
        reset_customer(k);
    } else if (ev->type == EV_PRESS) {
        trace_str(k, "ignored", "widget", ev->id ? ev->id : "");
    }
    return KIOSK_NONE;
}

static void thanks_draw(kiosk *k)
{
    k->m.kind = UI_SCREEN_THANKS;
    k->m.message = survey_text_get(k->sv, &k->sv->thanks, k->lang);
}

/* out of order */

static void ooo_enter(kiosk *k)
{
    disarm(k, T_THANKS);
    arm(k, T_RETRY, KIOSK_RETRY_MS);
}

static kiosk_action ooo_event(kiosk *k, const kev *ev)
{
    if (ev->type != EV_TIMER || ev->timer != T_RETRY)
        return KIOSK_NONE;
    tp_err rc = ensure_store(k);
    if (rc == TP_OK && k->retry.active)
        rc = record(k, &k->retry);
    if (rc != TP_OK) {
        arm(k, T_RETRY, KIOSK_RETRY_MS);
        return KIOSK_NONE;
    }
    k->retry.active = false;
    trace_str(k, "recovered", NULL, NULL);
    /* The customer of the failed answer was never thanked; start afresh. */
    reset_customer(k);
    return KIOSK_NONE;
}

static void ooo_draw(kiosk *k)
{
    const strings *vi = strings_for("vi"), *en = strings_for("en");
    const strings *s = strings_for(k->default_lang);
    k->m.kind = UI_SCREEN_OUT_OF_ORDER;
    /* Both languages at once: whoever reads it must understand it. */
    const strings *other = s == vi ? en : vi;
    snprintf(k->prompt, sizeof k->prompt, "%s %s", s->ooo_msg, s->ooo_sub);
    snprintf(k->subtitle, sizeof k->subtitle, "%s %s", other->ooo_msg, other->ooo_sub);
    k->m.message = k->prompt;
    k->m.subtitle = k->subtitle;
    k->m.staff_corner = true;
}

/* PIN pad */

static bool pin_locked(const kiosk *k)
{
    return k->locked_until > 0 && now(k) < k->locked_until;
}

/* A lockout that has run out (perhaps while another screen was up) starts a fresh count. */
static void lock_expire(kiosk *k)
{
    if (k->locked_until > 0 && !pin_locked(k)) {
        k->locked_until = 0;
        k->wrong = 0;
        disarm(k, T_LOCK);
    }
}

static void pin_enter(kiosk *k)
{
    lock_expire(k);
    k->pin_len = 0;
    k->pin[0] = '\0';
    k->pin_wrong_shown = false;
    arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
    if (pin_locked(k))
        k->timers[T_LOCK] = k->locked_until;
}

static void leave_staff(kiosk *k)
{
    explicit_bzero(k->pin, sizeof k->pin);
    k->pin_len = 0;
    if (k->staff_return == S_OOO)
        go(k, S_OOO);
    else
        reset_customer(k);
}

static kiosk_action pin_event(kiosk *k, const kev *ev)
{
    if (ev->type == EV_TIMER) {
        if (ev->timer == T_IDLE) {
            trace_str(k, "timeout", NULL, NULL);
            leave_staff(k);
        } else if (ev->timer == T_LOCK) {
            lock_expire(k);
            k->dirty |= KIOSK_DIRTY_SCREEN;
            trace_str(k, "pin", "result", "unlocked");
        }
        return KIOSK_NONE;
    }
    if (ev->type != EV_PRESS || !ev->id)
        return KIOSK_NONE;
    arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
    if (strcmp(ev->id, "pin-cancel") == 0) {
        leave_staff(k);
        return KIOSK_NONE;
    }
    lock_expire(k);
    if (pin_locked(k)) {
        trace_str(k, "pin", "result", "locked");
        return KIOSK_NONE;
    }
    int d;
    if (id_number(ev->id, "pin", &d) && d <= 9 && strlen(ev->id) == 5) {
        if (k->pin_len < PIN_MAX_DIGITS) {
            k->pin[k->pin_len++] = (char)('0' + d);
            k->pin[k->pin_len] = '\0';
        }
        k->pin_wrong_shown = false;
        k->dirty |= KIOSK_DIRTY_SCREEN;
    } else if (strcmp(ev->id, "pin-del") == 0) {
        if (k->pin_len > 0)
            k->pin[--k->pin_len] = '\0';
        k->dirty |= KIOSK_DIRTY_SCREEN;
    } else if (strcmp(ev->id, "pin-ok") == 0) {
        bool match = false;
        tp_err rc = pin_verify(k->cfg->pin_hash, k->pin, &match);
        explicit_bzero(k->pin, sizeof k->pin);
        k->pin_len = 0;
        k->dirty |= KIOSK_DIRTY_SCREEN;
        if (rc == TP_OK && match) {
            k->wrong = 0;
            trace_str(k, "pin", "result", "ok");
            k->staff_note[0] = '\0';
            go(k, S_STAFF);
            return KIOSK_NONE;
        }
        k->wrong++;
        k->pin_wrong_shown = true;
        if (k->wrong >= k->cfg->max_attempts) {
            k->locked_until = now(k) + (int64_t)k->cfg->lockout_s * 1000;
            k->timers[T_LOCK] = k->locked_until;
            if (k->trace) {
                cJSON *o = cJSON_CreateObject();
                if (o) {
                    cJSON_AddStringToObject(o, "result", "lockout");
                    cJSON_AddNumberToObject(o, "attempts", k->wrong);
                    cJSON_AddNumberToObject(o, "until", (double)k->locked_until);
                }
                kiosk_trace(k, "pin", o);
            }
        } else if (k->trace) {
            cJSON *o = cJSON_CreateObject();
            if (o) {
                cJSON_AddStringToObject(o, "result", "wrong");
                cJSON_AddNumberToObject(o, "attempts", k->wrong);
            }
            kiosk_trace(k, "pin", o);
        }
    }
    return KIOSK_NONE;
}

static void pin_draw(kiosk *k)
{
    const strings *s = strings_for(k->default_lang);
    bool locked = pin_locked(k);
    ui_style st = locked ? UI_STYLE_DISABLED : UI_STYLE_NEUTRAL;
    k->m.kind = UI_SCREEN_PIN;
    k->m.prompt = s->pin_prompt;
    if (locked) {
        int64_t left = k->locked_until - now(k);
        int min = (int)((left + 59999) / 60000);
        if (strcmp(s->lang, "vi") == 0)
            snprintf(k->subtitle, sizeof k->subtitle,
                     "Đã khóa do nhập sai nhiều lần. Thử lại sau %d phút.", min);
        else
            snprintf(k->subtitle, sizeof k->subtitle,
                     "Locked after too many wrong PINs. Try again in %d min.", min);
        k->m.subtitle = k->subtitle;
    } else if (k->pin_wrong_shown) {
        int left = k->cfg->max_attempts - k->wrong;
        if (strcmp(s->lang, "vi") == 0)
            snprintf(k->subtitle, sizeof k->subtitle, "Sai mã PIN. Còn %d lần thử.", left);
        else
            snprintf(k->subtitle, sizeof k->subtitle, "Wrong PIN. %d attempts left.", left);
        k->m.subtitle = k->subtitle;
    }
    for (int d = 1; d <= 9; d++) {
        char id[16], label[16];
        snprintf(id, sizeof id, "pin-%d", d);
        snprintf(label, sizeof label, "%d", d);
        add_item(k, id, label, 0, st);
    }
    add_item(k, "pin-del", s->pin_del, 0, st);
    add_item(k, "pin-0", "0", 0, st);
    add_item(k, "pin-ok", "OK", 0, locked ? UI_STYLE_DISABLED : UI_STYLE_PRIMARY);
    add_action(k, "pin-cancel", s->pin_cancel, UI_STYLE_NEUTRAL);
    k->m.pin_len = k->pin_len;
    k->m.pin_max = k->pin_len > 4 ? k->pin_len : 4;
}

/* staff */

static void fmt_local_hm(int64_t wall_ms, char *out, size_t outlen)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(out, outlen, "%Y-%m-%d %H:%M", &tm) == 0)
        tp_strlcpy(out, "?", outlen);
}

static void fmt_bytes(int64_t b, char *out, size_t outlen)
{
    if (b >= (int64_t)1 << 30)
        snprintf(out, outlen, "%.1f GB", (double)b / (1 << 30));
    else if (b >= 1 << 20)
        snprintf(out, outlen, "%.1f MB", (double)b / (1 << 20));
    else
        snprintf(out, outlen, "%.0f kB", (double)b / 1024);
}

static void add_line(kiosk *k, const char *key, const char *val)
{
    if (k->n_lines >= UI_LINES_MAX)
        return;
    snprintf(k->lines[k->n_lines], LINE_MAX_B, "%s\t%s", key, val);
    k->n_lines++;
}

/* Reads the sync daemon's pid from [sync] pid_file (written by `touchpoint sync --daemon
 * --pid-file`) and checks the process exists. Returns the pid, 0 when the file is missing, empty
 * or names no live process (sync is not running), or -1 with why in err. */
static long sync_daemon_pid(const kiosk *k, char *err, size_t errlen)
{
    char line[32] = "";
    FILE *f = fopen(k->cfg->sync.pid_file, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%.200s: %s", k->cfg->sync.pid_file, strerror(errno));
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
        snprintf(err, errlen, "%.200s: not a pid", k->cfg->sync.pid_file);
        return -1;
    }
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0; /* stale file: the daemon died without removing it */
    return pid;
}

/* Staff "Sync now": wakes the sync daemon with SIGUSR1 (it starts a round at once). The outcome
 * goes to the staff note and the trace. */
static void staff_sync_now(kiosk *k)
{
    const strings *s = strings_for(k->default_lang);
    char err[TP_ERRMSG_MAX] = "";
    long pid = sync_daemon_pid(k, err, sizeof err);
    if (pid > 0 && kill((pid_t)pid, SIGUSR1) != 0) {
        snprintf(err, sizeof err, "kill %ld: %s", pid, strerror(errno));
        pid = errno == ESRCH ? 0 : -1;
    }
    const char *result = pid > 0 ? "sent" : pid == 0 ? "not_running" : "error";
    if (pid > 0)
        tp_strlcpy(k->staff_note, s->sync_requested, sizeof k->staff_note);
    else if (pid == 0)
        snprintf(k->staff_note, sizeof k->staff_note, "%s: %s", s->sync_state, s->sync_not_running);
    else
        snprintf(k->staff_note, sizeof k->staff_note, "%s: %.120s", s->sync_failed, err);
    if (k->trace) {
        /* The note is what staff read on the screen (the subtitle). */
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddStringToObject(o, "result", result);
            cJSON_AddStringToObject(o, "note", k->staff_note);
            if (pid > 0)
                cJSON_AddNumberToObject(o, "pid", (double)pid);
        }
        kiosk_trace(k, "sync_now", o);
    }
}

/* Reads today's figures from the database into the staff lines; check also runs the database's
 * quick check (slow on a big file, so not on the periodic refresh, which reuses the last result).
 */
static void staff_refresh_lines(kiosk *k, bool check)
{
    const strings *s = strings_for(k->default_lang);
    char v[160], a[48], b[48];
    k->n_lines = 0;
    snprintf(v, sizeof v, "%s v%d", k->sv->id, k->sv->version);
    add_line(k, s->survey, v);
    if (k->hw_status[0])
        add_line(k, s->hw_inputs, k->hw_status);
    if (ensure_store(k) != TP_OK) {
        snprintf(v, sizeof v, "%s: %.120s", s->db_closed, k->store_err);
        add_line(k, s->database, v);
        return;
    }
    int64_t wall = k->clk->wall_ms(k->clk->ctx);
    int64_t from = tp_local_day_start(wall, NULL);
    int64_t to = tp_local_day_start(from + 36LL * 3600 * 1000, NULL);
    store_stats_query q = {from, to, STORE_BY_NONE, false};
    store_stats_row *rows = NULL;
    size_t n = 0;
    if (store_stats(k->st, &q, &rows, &n) == TP_OK) {
        const store_stats_row *r = n > 0 ? &rows[0] : NULL;
        snprintf(v, sizeof v, "%lld", r ? (long long)r->n : 0LL);
        add_line(k, s->answers_today, v);
        if (r && r->n_kind[TP_KIND_NPS] > 0)
            snprintf(v, sizeof v, "%+.0f (n=%lld)", r->nps, (long long)r->n_kind[TP_KIND_NPS]);
        else
            tp_strlcpy(v, s->none, sizeof v);
        add_line(k, s->nps_today, v);
        if (r && r->n_kind[TP_KIND_CSAT] > 0)
            snprintf(v, sizeof v, "%.0f%% (n=%lld)", r->csat_pct,
                     (long long)r->n_kind[TP_KIND_CSAT]);
        else
            tp_strlcpy(v, s->none, sizeof v);
        add_line(k, s->csat_today, v);
        if (r && r->n_kind[TP_KIND_CES] > 0)
            snprintf(v, sizeof v, "%.1f / 7 (n=%lld)", r->ces_mean,
                     (long long)r->n_kind[TP_KIND_CES]);
        else
            tp_strlcpy(v, s->none, sizeof v);
        add_line(k, s->ces_today, v);
        if (r && r->n_kind[TP_KIND_SMILEY4] > 0) {
            snprintf(v, sizeof v, "%.0f%% :) (n=%lld)", r->smiley4_pct_happy,
                     (long long)r->n_kind[TP_KIND_SMILEY4]);
            add_line(k, s->smiley_today, v);
        }
    } else {
        snprintf(v, sizeof v, "%s: %.120s", s->db_bad, store_errmsg(k->st));
        add_line(k, s->answers_today, v);
    }
    store_stats_free(rows);

    store_info info;
    bool have_info = store_get_info(k->st, &info) == TP_OK;
    if (have_info) {
        snprintf(v, sizeof v, "%lld", (long long)info.n_pending);
        add_line(k, s->pending, v);
    }
    store_sync_result last, last_ok;
    tp_err rc = store_last_sync(k->st, &last, &last_ok);
    if (rc == TP_ERR_NOT_FOUND) {
        add_line(k, s->last_sync, s->never);
    } else if (rc == TP_OK) {
        fmt_local_hm(last.at_ms, a, sizeof a);
        if (last.ok)
            snprintf(v, sizeof v, "%s, %s", a, s->sync_ok);
        else
            snprintf(v, sizeof v, "%s, %s: %.80s", a, s->sync_failed, last.message);
        add_line(k, s->last_sync, v);
    } else {
        snprintf(v, sizeof v, "%s: %.120s", s->db_bad, store_errmsg(k->st));
        add_line(k, s->last_sync, v);
    }
    if (k->cfg->sync.pid_file[0]) {
        char err[TP_ERRMSG_MAX] = "";
        long pid = sync_daemon_pid(k, err, sizeof err);
        if (pid == 0)
            add_line(k, s->sync_state, s->sync_not_running);
        else if (pid < 0)
            add_line(k, s->sync_state, err);
    }
    if (check || !k->db_line[0]) {
        rc = store_check(k->st, false);
        if (rc == TP_OK && have_info) {
            fmt_bytes(info.db_bytes, a, sizeof a);
            fmt_bytes(info.free_bytes, b, sizeof b);
            snprintf(k->db_line, sizeof k->db_line, "%s (%s, %s %s)%s%s", s->db_ok, a, s->free, b,
                     info.recovered_from[0] ? ", " : "",
                     info.recovered_from[0] ? s->recovered : "");
        } else {
            snprintf(k->db_line, sizeof k->db_line, "%s: %.120s", s->db_bad, store_errmsg(k->st));
        }
    }
    add_line(k, s->database, k->db_line);
}

static void staff_refresh(kiosk *k)
{
    staff_refresh_lines(k, true);
}

/* Traces the staff screen's info lines (tests read what staff would see). */
static void trace_staff_lines(kiosk *k)
{
    if (!k->trace)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = o ? cJSON_AddArrayToObject(o, "lines") : NULL;
    for (int i = 0; arr && i < k->n_lines; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(k->lines[i]));
    kiosk_trace(k, "staff_lines", o);
}

static void staff_enter(kiosk *k)
{
    arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
    arm(k, T_REFRESH, KIOSK_STAFF_REFRESH_MS);
    staff_refresh(k);
    trace_staff_lines(k);
}

/* The periodic refresh: a sync that finished, or answers recorded by the other process, show up
 * while staff look at the screen. Redraws only when a line changed. */
static void staff_tick(kiosk *k)
{
    char old[UI_LINES_MAX][LINE_MAX_B];
    int n_old = k->n_lines;
    memcpy(old, k->lines, sizeof old);
    staff_refresh_lines(k, false);
    bool same = n_old == k->n_lines;
    for (int i = 0; same && i < n_old; i++)
        same = strcmp(old[i], k->lines[i]) == 0;
    if (!same) {
        trace_staff_lines(k);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    }
    arm(k, T_REFRESH, KIOSK_STAFF_REFRESH_MS);
}

static kiosk_action staff_event(kiosk *k, const kev *ev)
{
    if (ev->type == EV_TIMER) {
        if (ev->timer == T_IDLE) {
            trace_str(k, "timeout", NULL, NULL);
            leave_staff(k);
        } else if (ev->timer == T_REFRESH) {
            staff_tick(k);
        }
        return KIOSK_NONE;
    }
    if (ev->type != EV_PRESS || !ev->id)
        return KIOSK_NONE;
    arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
    if (strcmp(ev->id, "staff-back") == 0) {
        leave_staff(k);
    } else if (strcmp(ev->id, "staff-exit") == 0) {
        trace_str(k, "exit", "reason", "staff");
        return KIOSK_QUIT;
    } else if (strcmp(ev->id, "staff-survey") == 0) {
        go(k, S_STAFF_SURVEY);
    } else if (strcmp(ev->id, "staff-export") == 0 && k->n_sticks > 0) {
        go(k, S_STAFF_EXPORT);
    } else if (strcmp(ev->id, "staff-sync") == 0 && k->cfg->sync.pid_file[0]) {
        staff_sync_now(k);
        staff_refresh(k);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    } else if (strcmp(ev->id, "staff-lang") == 0) {
        /* Cycle the default language through those the survey offers. */
        int cur = 0;
        for (int i = 0; i < k->cfg->n_langs; i++)
            if (strcmp(k->cfg->langs[i], k->default_lang) == 0)
                cur = i;
        for (int j = 1; j <= k->cfg->n_langs; j++) {
            const char *l = k->cfg->langs[(cur + j) % k->cfg->n_langs];
            if (lang_offered(k, l)) {
                tp_strlcpy(k->default_lang, l, sizeof k->default_lang);
                tp_strlcpy(k->lang, l, sizeof k->lang);
                break;
            }
        }
        trace_str(k, "default_lang", "lang", k->default_lang);
        staff_refresh(k);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    }
    return KIOSK_NONE;
}

static void staff_draw(kiosk *k)
{
    const strings *s = strings_for(k->default_lang);
    char label[LABEL_MAX];
    k->m.kind = UI_SCREEN_STAFF;
    k->m.prompt = s->staff_title;
    if (k->staff_note[0])
        k->m.subtitle = k->staff_note;
    for (int i = 0; i < k->n_lines; i++)
        k->line_ptrs[i] = k->lines[i];
    k->m.lines = k->line_ptrs;
    k->m.n_lines = k->n_lines;
    add_item(k, "staff-survey", s->switch_survey, 0, UI_STYLE_NEUTRAL);
    snprintf(label, sizeof label, "%s: %s", s->default_lang, lang_name(k->default_lang));
    add_item(k, "staff-lang", label, 0, UI_STYLE_NEUTRAL);
    if (k->n_sticks > 0) {
        snprintf(label, sizeof label, "%s (%.100s)", s->usb_export, k->sticks[0].name);
        add_item(k, "staff-export", label, 0, UI_STYLE_NEUTRAL);
    }
    if (k->cfg->sync.pid_file[0])
        add_item(k, "staff-sync", s->sync_now, 0, UI_STYLE_NEUTRAL);
    add_item(k, "staff-exit", s->exit, 0, UI_STYLE_DANGER);
    add_action(k, "staff-back", s->back_survey, UI_STYLE_PRIMARY);
}

/* staff: choose a survey */

static void staff_survey_enter(kiosk *k)
{
    char(*names)[SURVEY_PATH_MAX] = calloc(KIOSK_MAX_SURVEYS, SURVEY_PATH_MAX);
    size_t n = 0;
    k->n_surveys = 0;
    arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
    if (!names || survey_list_dir(k->cfg->survey_dir, names, KIOSK_MAX_SURVEYS, &n) != TP_OK)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        survey *sv = NULL;
        survey_entry *e = &k->surveys[k->n_surveys];
        /* Only files that load are offered: a broken file must not take the kiosk down. */
        if (survey_load(names[i], &sv, NULL, 0) != TP_OK)
            continue;
        tp_strlcpy(e->path, names[i], sizeof e->path);
        int w = snprintf(e->label, sizeof e->label, "%.90s (%s)",
                         survey_text_get(sv, &sv->title, k->default_lang), sv->id);
        if (w < 0)
            tp_strlcpy(e->label, sv->id, sizeof e->label);
        k->n_surveys++;
        survey_free(sv);
    }
    free(names);
}

static kiosk_action staff_survey_event(kiosk *k, const kev *ev)
{
    if (ev->type == EV_TIMER) {
        if (ev->timer == T_IDLE) {
            trace_str(k, "timeout", NULL, NULL);
            leave_staff(k);
        }
        return KIOSK_NONE;
    }
    if (ev->type != EV_PRESS || !ev->id)
        return KIOSK_NONE;
    arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
    int i;
    if (strcmp(ev->id, "staff-back") == 0) {
        go(k, S_STAFF);
    } else if (id_number(ev->id, "survey", &i) && i < k->n_surveys) {
        survey *sv = NULL;
        char err[TP_ERRMSG_MAX];
        if (survey_load(k->surveys[i].path, &sv, err, sizeof err) != TP_OK) {
            tp_strlcpy(k->staff_note, err, sizeof k->staff_note);
            trace_str(k, "error", "message", err);
            go(k, S_STAFF);
            return KIOSK_NONE;
        }
        survey_free(k->sv);
        k->sv = sv;
        if (!lang_offered(k, k->default_lang)) {
            for (int j = 0; j < k->cfg->n_langs; j++)
                if (lang_offered(k, k->cfg->langs[j])) {
                    tp_strlcpy(k->default_lang, k->cfg->langs[j], sizeof k->default_lang);
                    break;
                }
        }
        tp_strlcpy(k->lang, k->default_lang, sizeof k->lang);
        snprintf(k->staff_note, sizeof k->staff_note, "%s: %s",
                 strings_for(k->default_lang)->switched, sv->id);
        trace_str(k, "survey", "survey", sv->id);
        go(k, S_STAFF);
    }
    return KIOSK_NONE;
}

static void staff_survey_draw(kiosk *k)
{
    const strings *s = strings_for(k->default_lang);
    k->m.kind = UI_SCREEN_STAFF;
    k->m.prompt = s->choose_survey;
    for (int i = 0; i < k->n_surveys; i++) {
        char id[24];
        snprintf(id, sizeof id, "survey-%d", i);
        bool current = strcmp(k->surveys[i].path, k->sv->path) == 0;
        add_item(k, id, k->surveys[i].label, 0, current ? UI_STYLE_SELECTED : UI_STYLE_NEUTRAL);
    }
    add_action(k, "staff-back", s->back, UI_STYLE_NEUTRAL);
}

/* staff: export to a USB stick (the owner runs the job; see kiosk_take_export) */

static void staff_export_enter(kiosk *k)
{
    arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
}

static kiosk_action staff_export_event(kiosk *k, const kev *ev)
{
    if (ev->type == EV_TIMER) {
        if (ev->timer != T_IDLE)
            return KIOSK_NONE;
        if (k->export_running || k->export_requested) {
            /* Never walk away from a running export: its outcome must be seen. */
            arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
            return KIOSK_NONE;
        }
        trace_str(k, "timeout", NULL, NULL);
        leave_staff(k);
        return KIOSK_NONE;
    }
    if (ev->type != EV_PRESS || !ev->id)
        return KIOSK_NONE;
    arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
    bool busy = k->export_running || k->export_requested;
    if (strcmp(ev->id, "staff-back") == 0 && !busy) {
        go(k, S_STAFF);
    } else if (strcmp(ev->id, "export-cancel") == 0 && busy && !k->export_cancel) {
        /* The owner's cancel callback reads this (kiosk_export_cancelled); the job stops at its
         * next check, removes what it wrote and reports "cancelled". */
        k->export_cancel = true;
        trace_str(k, "usb_export_cancel", NULL, NULL);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    } else if ((strcmp(ev->id, "export-new") == 0 || strcmp(ev->id, "export-all") == 0) && !busy &&
               k->n_sticks > 0) {
        k->export_requested = true;
        k->export_all = strcmp(ev->id, "export-all") == 0;
        k->export_done = k->export_total = 0;
        k->export_cancel = false;
        k->export_drawn = -1;
        k->export_note[0] = '\0';
        trace_str(k, "usb_export_start", "mode", k->export_all ? "all" : "new");
        k->dirty |= KIOSK_DIRTY_SCREEN;
    }
    return KIOSK_NONE;
}

static void staff_export_draw(kiosk *k)
{
    const strings *s = strings_for(k->default_lang);
    bool busy = k->export_running || k->export_requested;
    ui_style st = busy || k->n_sticks == 0 ? UI_STYLE_DISABLED : UI_STYLE_NEUTRAL;
    k->m.kind = UI_SCREEN_STAFF;
    if (k->n_sticks > 0)
        snprintf(k->prompt, sizeof k->prompt, "%s: %.200s", s->usb_export, k->sticks[0].name);
    else
        snprintf(k->prompt, sizeof k->prompt, "%s", s->usb_export);
    k->m.prompt = k->prompt;
    if (busy) {
        const char *what = k->export_cancel ? s->cancelling : s->exporting;
        if (k->export_total > 0)
            snprintf(k->subtitle, sizeof k->subtitle, "%s… %lld / %lld", what,
                     (long long)k->export_done, (long long)k->export_total);
        else
            snprintf(k->subtitle, sizeof k->subtitle, "%s…", what);
        k->m.subtitle = k->subtitle;
    } else if (k->export_note[0]) {
        k->m.subtitle = k->export_note;
    } else if (k->n_sticks == 0) {
        k->m.subtitle = s->usb_removed;
    }
    /* The bar while the job runs, and where it ended once it has (full after "Done"). */
    if (busy || (k->export_note[0] && k->export_total > 0)) {
        k->m.progress_bar = true;
        k->m.progress =
            k->export_total > 0 ? (float)((double)k->export_done / (double)k->export_total) : 0.0f;
    }
    add_item(k, "export-new", s->export_new, 0, st);
    add_item(k, "export-all", s->export_all, 0, st);
    if (busy)
        add_action(k, "export-cancel", s->export_cancel,
                   k->export_cancel ? UI_STYLE_DISABLED : UI_STYLE_DANGER);
    add_action(k, "staff-back", s->back, busy ? UI_STYLE_DISABLED : UI_STYLE_NEUTRAL);
}

static const screen_def SCREENS[S_COUNT] = {
    [S_QUESTION] = {"question", question_enter, question_event, question_draw},
    [S_FOLLOWUP] = {"followup", followup_enter, followup_event, followup_draw},
    [S_THANKS] = {"thanks", thanks_enter, thanks_event, thanks_draw},
    [S_OOO] = {"out_of_order", ooo_enter, ooo_event, ooo_draw},
    [S_PIN] = {"pin", pin_enter, pin_event, pin_draw},
    [S_STAFF] = {"staff", staff_enter, staff_event, staff_draw},
    [S_STAFF_SURVEY] = {"staff_survey", staff_survey_enter, staff_survey_event, staff_survey_draw},
    [S_STAFF_EXPORT] = {"staff_export", staff_export_enter, staff_export_event, staff_export_draw},
};

/* ---- Public API ------------------------------------------------------------------------- */

tp_err kiosk_new(const kiosk_options *opt, kiosk **out, char *err, size_t errlen)
{
    kiosk *k = NULL;
    tp_err rc = TP_OK;

    *out = NULL;
    if ((rc = pin_hash_check(opt->cfg->pin_hash, err, errlen)) != TP_OK)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "%s: [staff] pin_hash: unusable (%s)",
                       opt->cfg->path, err ? err : "");
    k = calloc(1, sizeof *k);
    if (!k)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "kiosk: out of memory");
    k->cfg = opt->cfg;
    k->clk = opt->clock ? opt->clock : tp_clock_system();
    k->trace = opt->trace;
    k->windowed = opt->windowed;
    k->max_page_count = opt->max_page_count;
    for (int t = 0; t < T_COUNT; t++)
        k->timers[t] = -1;
    k->last_thanks_end = -1;
    k->hold_start = -1;
    k->followup = -1;
    rc = survey_load(opt->cfg->survey_file, &k->sv, err, errlen);
    if (rc != TP_OK)
        goto out;
    tp_strlcpy(k->default_lang, opt->cfg->default_lang, sizeof k->default_lang);
    if (!lang_offered(k, k->default_lang)) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG,
                     "%s: [language] default: '%s' is not a language of survey %s", opt->cfg->path,
                     k->default_lang, k->sv->path);
        goto out;
    }
    tp_strlcpy(k->lang, k->default_lang, sizeof k->lang);
    k->cur = S_QUESTION;
    k->dirty = KIOSK_DIRTY_SCREEN;
    if (ensure_store(k) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: %s\n", k->store_err);
        k->retry.active = false;
        go(k, S_OOO);
    } else {
        question_enter(k);
    }
    *out = k;
    k = NULL;
out:
    kiosk_free(k);
    return rc;
}

void kiosk_free(kiosk *k)
{
    if (!k)
        return;
    store_close(k->st);
    survey_free(k->sv);
    explicit_bzero(k->pin, sizeof k->pin);
    free(k);
}

static kiosk_action dispatch(kiosk *k, const kev *ev)
{
    return SCREENS[k->cur].event(k, ev);
}

/* Screens with the staff corner: it is handled here, before the screen sees the press. */
static bool has_corner(const kiosk *k)
{
    return k->cur == S_QUESTION || k->cur == S_FOLLOWUP || k->cur == S_OOO;
}

kiosk_action kiosk_press(kiosk *k, const char *id)
{
    if (id && strcmp(id, "staff-corner") == 0) {
        if (has_corner(k))
            hold_start(k);
        return KIOSK_NONE;
    }
    kev ev = {EV_PRESS, id, T_COUNT};
    return dispatch(k, &ev);
}

kiosk_action kiosk_release(kiosk *k)
{
    if (k->holding)
        hold_cancel(k);
    kev ev = {EV_RELEASE, NULL, T_COUNT};
    return dispatch(k, &ev);
}

kiosk_action kiosk_key(kiosk *k, const char *name)
{
    bool quit = k->windowed && (strcmp(name, "escape") == 0 || strcmp(name, "quit") == 0 ||
                                strcmp(name, "close") == 0 || strcmp(name, "alt+f4") == 0 ||
                                strcmp(name, "ctrl+q") == 0);
    if (k->trace) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddStringToObject(o, "key", name);
            cJSON_AddStringToObject(o, "action", quit ? "quit" : "ignored");
        }
        kiosk_trace(k, "key", o);
    }
    return quit ? KIOSK_QUIT : KIOSK_NONE;
}

kiosk_action kiosk_tick(kiosk *k)
{
    kiosk_action act = KIOSK_NONE;
    /* Fire due timers one at a time, earliest first, re-checking after each (a handler may arm
     * or cancel others). Bounded: each firing disarms its timer. */
    for (int guard = 0; guard < 64; guard++) {
        int64_t t = now(k);
        int due = -1;
        for (int i = 0; i < T_COUNT; i++)
            if (k->timers[i] >= 0 && k->timers[i] <= t &&
                (due < 0 || k->timers[i] < k->timers[due]))
                due = i;
        if (due < 0)
            break;
        k->timers[due] = -1;
        if (due == T_HOLD) {
            bool ok = k->holding && has_corner(k);
            k->staff_return = k->cur == S_OOO ? S_OOO : S_QUESTION;
            hold_cancel(k);
            if (ok) {
                trace_str(k, "staff_hold", NULL, NULL);
                go(k, S_PIN);
            }
            continue;
        }
        if (due == T_HOLD_FRAME) {
            if (k->holding) {
                k->dirty |= KIOSK_DIRTY_HOLD;
                arm(k, T_HOLD_FRAME, KIOSK_HOLD_FRAME_MS);
            }
            continue;
        }
        kev ev = {EV_TIMER, NULL, (timer_id)due};
        kiosk_action a = dispatch(k, &ev);
        if (a != KIOSK_NONE)
            act = a;
    }
    return act;
}

bool kiosk_has_deferred(const kiosk *k)
{
    return k->deferred.active;
}

bool kiosk_after_frame(kiosk *k)
{
    if (!k->deferred.active)
        return false;
    pending p = k->deferred;
    k->deferred.active = false;
    if (p.question == 0) {
        k->main_value = p.value;
        k->session_flags = p.flags; /* remembered for the session's follow-ups */
    }
    if (record(k, &p) != TP_OK) {
        fail_to_ooo(k, &p);
        return true;
    }
    if (p.question == 0)
        after_recorded(k, 0, p.value);
    else {
        int next = survey_next_followup(k->sv, p.question, k->main_value);
        if (next >= 0) {
            k->followup = next;
            go(k, S_FOLLOWUP);
        } else {
            go(k, S_THANKS);
        }
    }
    return true;
}

int64_t kiosk_next_deadline(const kiosk *k)
{
    int64_t d = -1;
    for (int i = 0; i < T_COUNT; i++)
        if (k->timers[i] >= 0 && (d < 0 || k->timers[i] < d))
            d = k->timers[i];
    return d;
}

unsigned kiosk_dirty(const kiosk *k)
{
    return k->dirty;
}

void kiosk_clear_dirty(kiosk *k)
{
    k->dirty = 0;
}

void kiosk_model(kiosk *k, ui_screen *out)
{
    memset(&k->m, 0, sizeof k->m);
    k->m.hold_progress = -1.0f;
    SCREENS[k->cur].draw(k);
    k->m.highlight = k->highlight[0] ? k->highlight : NULL;
    k->m.hold_progress = kiosk_hold_progress(k);
    *out = k->m;
}

const char *kiosk_highlight(const kiosk *k)
{
    return k->highlight[0] ? k->highlight : NULL;
}

float kiosk_hold_progress(const kiosk *k)
{
    if (!k->holding || k->hold_start < 0)
        return -1.0f;
    float p = (float)(now(k) - k->hold_start) / (float)k->cfg->hold_ms;
    return p > 1.0f ? 1.0f : p;
}

const char *kiosk_screen_name(const kiosk *k)
{
    return SCREENS[k->cur].name;
}

store *kiosk_store(const kiosk *k)
{
    return k->st;
}

/* ---- USB export ------------------------------------------------------------------------------ */

void kiosk_set_sticks(kiosk *k, const usb_stick *sticks, size_t n)
{
    k->n_sticks = 0;
    /* Read-only sticks are offered too: the export job explains what is wrong with them. */
    for (size_t i = 0; i < n && k->n_sticks < KIOSK_MAX_STICKS; i++)
        k->sticks[k->n_sticks++] = sticks[i];
    if (k->cur == S_STAFF || k->cur == S_STAFF_EXPORT)
        k->dirty |= KIOSK_DIRTY_SCREEN;
}

bool kiosk_take_export(kiosk *k, kiosk_export_req *out)
{
    if (!k->export_requested)
        return false;
    k->export_requested = false;
    if (k->n_sticks == 0) {
        tp_strlcpy(k->export_note, strings_for(k->default_lang)->usb_removed,
                   sizeof k->export_note);
        k->dirty |= KIOSK_DIRTY_SCREEN;
        return false;
    }
    k->export_running = true;
    memset(out, 0, sizeof *out);
    tp_strlcpy(out->mount_point, k->sticks[0].mount_point, sizeof out->mount_point);
    out->mount_id = k->sticks[0].mount_id;
    out->all = k->export_all;
    return true;
}

void kiosk_export_progress(kiosk *k, int64_t done, int64_t total)
{
    k->export_done = done;
    k->export_total = total;
    if (total <= 0) /* nothing to export: no bar, no progress to tell */
        return;
    /* Bounded redraws: on the first report, every KIOSK_EXPORT_STEP_PCT % of the rows, every
     * KIOSK_EXPORT_FRAME_MS, and at the end; a redraw costs a layout and a subtitle texture. */
    int64_t now = k->clk->mono_ms(k->clk->ctx);
    int64_t step = total * KIOSK_EXPORT_STEP_PCT / 100;
    bool due = k->export_drawn < 0 || done >= total || done - k->export_drawn >= step ||
               now - k->export_drawn_ms >= KIOSK_EXPORT_FRAME_MS;
    if (!due || done == k->export_drawn)
        return;
    k->export_drawn = done;
    k->export_drawn_ms = now;
    if (k->trace) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddNumberToObject(o, "done", (double)done);
            cJSON_AddNumberToObject(o, "total", (double)total);
        }
        kiosk_trace(k, "export_progress", o);
    }
    if (k->cur == S_STAFF_EXPORT)
        k->dirty |= KIOSK_DIRTY_SCREEN;
}

bool kiosk_export_cancelled(const kiosk *k)
{
    return k->export_cancel;
}

const char *kiosk_staff_lang(const kiosk *k)
{
    return strings_for(k->default_lang)->lang;
}

void kiosk_export_done(kiosk *k, bool ok, const char *message)
{
    (void)ok;
    k->export_running = false;
    tp_strlcpy(k->export_note, message ? message : "", sizeof k->export_note);
    if (k->cur == S_STAFF_EXPORT) {
        k->dirty |= KIOSK_DIRTY_SCREEN;
        arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
    }
}

/* The screens a customer may be on (the staff key stick and key switch act only there). */
static bool on_customer_screen(const kiosk *k)
{
    return k->cur == S_QUESTION || k->cur == S_FOLLOWUP || k->cur == S_THANKS || k->cur == S_OOO;
}

/* Leaves the customer flow for the staff screens: a write waiting for its frame belongs to the
 * customer and happens first; the staff screens then return to where the customer was. Returns
 * false when that write left the customer screens (nothing else is done then). */
static bool leave_customer(kiosk *k)
{
    if (k->deferred.active)
        kiosk_after_frame(k);
    if (!on_customer_screen(k))
        return false;
    hold_cancel(k);
    disarm(k, T_THANKS);
    k->staff_return = k->cur == S_OOO ? S_OOO : S_QUESTION;
    return true;
}

bool kiosk_staff_key(kiosk *k)
{
    if (k->cur != S_PIN && (!on_customer_screen(k) || !leave_customer(k)))
        return false;
    explicit_bzero(k->pin, sizeof k->pin);
    k->pin_len = 0;
    k->wrong = 0;
    k->locked_until = 0;
    trace_str(k, "pin", "result", "usb_key");
    k->staff_note[0] = '\0';
    /* The key stick is also the export target: straight to the export screen. */
    go(k, k->n_sticks > 0 ? S_STAFF_EXPORT : S_STAFF);
    return true;
}

/* ---- Physical inputs ---------------------------------------------------------------------- */

kiosk_action kiosk_button(kiosk *k, int value)
{
    char id[UI_ID_MAX + 1] = "";
    if (k->cur == S_QUESTION && !k->deferred.active) {
        const survey_question *q = &k->sv->questions[0];
        int lo = 0, hi = 0;
        tp_kind_range(q->kind, &lo, &hi);
        if (value >= lo && value <= hi)
            snprintf(id, sizeof id, "%s-%d", kind_prefix(q->kind), value);
    } else if (k->cur == S_FOLLOWUP && !k->deferred.active) {
        const survey_question *q = &k->sv->questions[k->followup];
        if (value >= 1 && value <= q->n_options)
            snprintf(id, sizeof id, "%s-%s", q->id, q->options[value - 1].id);
    }
    if (k->trace) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddNumberToObject(o, "value", value);
            cJSON_AddBoolToObject(o, "accepted", id[0] != '\0');
            if (id[0])
                cJSON_AddStringToObject(o, "widget", id);
        }
        kiosk_trace(k, "button", o);
    }
    if (!id[0])
        return KIOSK_NONE;
    /* The same path as a tap, with the answer flagged as coming from a button. */
    k->press_flags = TP_FLAG_BUTTON;
    kev ev = {EV_PRESS, id, T_COUNT};
    kiosk_action act = dispatch(k, &ev);
    k->press_flags = 0;
    return act;
}

bool kiosk_staff_switch(kiosk *k)
{
    bool customer = on_customer_screen(k);
    trace_str(k, "staff_key", "result", customer ? "pin" : "ignored");
    if (!customer || !leave_customer(k))
        return false;
    go(k, S_PIN);
    return true;
}

void kiosk_set_hw_status(kiosk *k, const char *text)
{
    const char *t = text ? text : "";
    if (strcmp(t, k->hw_status) == 0)
        return;
    tp_strlcpy(k->hw_status, t, sizeof k->hw_status);
    trace_str(k, "hw_status", "text", k->hw_status);
    if (k->cur == S_STAFF) {
        staff_refresh(k);
        trace_staff_lines(k);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    }
}

int64_t kiosk_answers_recorded(const kiosk *k)
{
    return k->n_recorded;
}
