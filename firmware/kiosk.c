/*
 * kiosk.c - the kiosk's state machine (kiosk.h): the screen table, timers on a tp_clock,
 * dispatch(), and durable recording with its out-of-order retry. The customer screens are in
 * kiosk_customer.c, the staff side in kiosk_staff.c, the sentences in kiosk_text.c (kiosk_int.h
 * joins them).
 *
 * Each screen is a row { idle, keep, enter, event, draw }: dispatch() runs the idle timer and the
 * press filter every screen shares (the row says which), enter arms the screen's own timers,
 * event handles one input or timer event and may switch screens, draw fills the model.
 * Everything a screen shows is rebuilt from the state by draw, so there is no "half-updated"
 * model.
 *
 * Out of order is a condition with a cause (ooo_cause), not only a screen: each transition into
 * and out of it is written once to stderr (the journal) with the cause and the file, and the
 * staff screen shows the cause until a write succeeds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kiosk_int.h"

static const char *const SCREEN_LABEL[S_COUNT] = {
    [S_QUESTION] = "question",
    [S_FOLLOWUP] = "followup",
    [S_THANKS] = "thanks",
    [S_OOO] = "out_of_order",
    [S_PIN] = "pin",
    [S_STAFF] = "staff",
    [S_STAFF_SURVEY] = "staff_survey",
    [S_STAFF_EXPORT] = "staff_export",
    [S_STAFF_EXIT] = "staff_exit",
};

const char *kiosk_screen_label(kiosk_screen s)
{
    return s >= 0 && s < S_COUNT ? SCREEN_LABEL[s] : "?";
}

kiosk_screen kiosk_screen_parse(const char *name)
{
    for (int i = 0; i < S_COUNT; i++)
        if (strcmp(SCREEN_LABEL[i], name) == 0)
            return (kiosk_screen)i;
    return S_COUNT;
}

static const screen_def SCREENS[S_COUNT];

/* ---- Helpers ------------------------------------------------------------------------------ */

int64_t kiosk_now(const kiosk *k)
{
    return k->clk->mono_ms(k->clk->ctx);
}

void kiosk_arm(kiosk *k, timer_id t, int64_t in_ms)
{
    k->timers[t] = kiosk_now(k) + in_ms;
}

void kiosk_disarm(kiosk *k, timer_id t)
{
    k->timers[t] = -1;
}

static int64_t idle_ms(const kiosk *k, idle_kind idle)
{
    return (int64_t)(idle == IDLE_STAFF ? k->cfg->staff_idle_s : k->cfg->idle_timeout_s) * 1000;
}

void kiosk_go(kiosk *k, scr_id to)
{
    scr_id from = k->cur;
    k->cur = to;
    k->highlight[0] = '\0';
    k->dirty |= KIOSK_DIRTY_SCREEN;
    kiosk_disarm(k, T_IDLE);
    kiosk_disarm(k, T_REFRESH);
    kiosk_disarm(k, T_ATTRACT);
    kiosk_disarm(k, T_ANIM);
    k->attract = false;
    trace_set_screen(k->tr, SCREEN_LABEL[to]);
    trace_event(k->tr, "screen", TRACE_STR("from", SCREEN_LABEL[from]), TRACE_END);
    if (SCREENS[to].idle == IDLE_CUSTOMER || SCREENS[to].idle == IDLE_STAFF)
        kiosk_arm(k, T_IDLE, idle_ms(k, SCREENS[to].idle));
    if (SCREENS[to].enter)
        SCREENS[to].enter(k);
}

/* Back to the question for the next customer: default language, no session, no highlight. */
void kiosk_reset_customer(kiosk *k)
{
    if (strcmp(k->lang, k->default_lang) != 0) {
        tp_strlcpy(k->lang, k->default_lang, sizeof k->lang);
        trace_event(k->tr, "lang", TRACE_STR("lang", k->lang), TRACE_END);
    }
    k->session[0] = '\0';
    k->followup = -1;
    kiosk_go(k, S_QUESTION);
}

bool kiosk_lang_offered(const kiosk *k, const char *lang)
{
    bool in_cfg = false;
    for (int i = 0; i < k->cfg->n_langs; i++)
        in_cfg = in_cfg || strcmp(k->cfg->langs[i], lang) == 0;
    return in_cfg && survey_lang_index(k->sv, lang) >= 0;
}

/* Staff corner: press starts the hold, release or leaving the screen cancels it. */
static void hold_start(kiosk *k)
{
    k->holding = true;
    k->hold_start = kiosk_now(k);
    kiosk_arm(k, T_HOLD, k->cfg->hold_ms);
    kiosk_arm(k, T_HOLD_FRAME, KIOSK_HOLD_FRAME_MS);
    k->dirty |= KIOSK_DIRTY_HOLD;
}

void kiosk_hold_cancel(kiosk *k)
{
    if (k->hold_start >= 0)
        k->dirty |= KIOSK_DIRTY_HOLD;
    k->holding = false;
    k->hold_start = -1;
    kiosk_disarm(k, T_HOLD);
    kiosk_disarm(k, T_HOLD_FRAME);
}

/* Parses "<prefix>-<n>" into n. */
bool kiosk_id_number(const char *id, const char *prefix, int *n)
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

/* The free space the store keeps ([storage] min_free_mb; the store reads 0 as 1 MiB). */
static int64_t reserve_bytes(const kiosk *k)
{
    int64_t b = (int64_t)k->cfg->min_free_mb * 1024 * 1024;
    return b > 0 ? b : 1024 * 1024;
}

/* Sets why answers cannot be recorded (NULL or "": they can). The transitions go to stderr, once
 * each, with the cause and the file; the staff screen's database line shows the cause. */
static void set_cause(kiosk *k, const char *cause)
{
    bool was = k->ooo_cause[0] != '\0';
    tp_strlcpy(k->ooo_cause, cause ? cause : "", sizeof k->ooo_cause);
    bool is = k->ooo_cause[0] != '\0';
    if (is && !was)
        fprintf(stderr, "touchpoint-kiosk: out of order (database %s): %s\n", k->cfg->database,
                k->ooo_cause);
    else if (was && !is)
        fprintf(stderr,
                "touchpoint-kiosk: back in order (database %s): answers are recorded again\n",
                k->cfg->database);
}

/* TP_OK when the database's filesystem has the reserve free; else TP_ERR_DISK_FULL and the cause
 * set (the store would refuse the next answer: better out of order before the customer taps). */
static tp_err check_reserve(kiosk *k)
{
    store_info info;
    if (store_get_info(k->st, &info) != TP_OK || info.free_bytes >= reserve_bytes(k))
        return TP_OK;
    char cause[TP_ERRMSG_MAX];
    snprintf(cause, sizeof cause,
             "only %lld bytes free on the filesystem, below the reserve of %lld; nothing can be "
             "stored",
             (long long)info.free_bytes, (long long)reserve_bytes(k));
    trace_event(k->tr, "error", TRACE_STR("code", tp_err_name(TP_ERR_DISK_FULL)),
                TRACE_STR("message", cause), TRACE_STR("during", "reserve"), TRACE_END);
    set_cause(k, cause);
    return TP_ERR_DISK_FULL;
}

tp_err kiosk_ensure_store(kiosk *k)
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
    so.min_free_bytes = reserve_bytes(k);
    so.max_page_count = k->max_page_count;
    tp_err rc = store_open(k->cfg->database, &so, &k->st, k->store_err, sizeof k->store_err);
    if (rc != TP_OK) {
        k->st = NULL;
        trace_event(k->tr, "error", TRACE_STR("code", tp_err_name(rc)),
                    TRACE_STR("message", k->store_err), TRACE_STR("during", "open"), TRACE_END);
        set_cause(k, k->store_err);
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
    tp_err rc = kiosk_ensure_store(k);
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
        trace_event(k->tr, "error", TRACE_STR("code", tp_err_name(rc)),
                    TRACE_STR("message", store_errmsg(k->st)), TRACE_STR("during", "record"),
                    TRACE_STR("question", p->question_id), TRACE_END);
        set_cause(k, store_errmsg(k->st));
        return rc;
    }
    set_cause(k, NULL); /* a write succeeded: the database line is good again */
    if (!p->session[0])
        tp_strlcpy(p->session, session, sizeof p->session);
    tp_strlcpy(k->session, p->session, sizeof k->session);
    k->n_recorded++;
    const char *flags[2];
    size_t n_flags = 0;
    if (p->flags & TP_FLAG_RAPID_REPEAT)
        flags[n_flags++] = "rapid_repeat";
    if (p->flags & TP_FLAG_BUTTON)
        flags[n_flags++] = "button";
    bool choice = p->kind == TP_KIND_CHOICE;
    trace_event(k->tr, "answer", TRACE_NUM("seq", rcpt.seq), TRACE_STR("id", rcpt.id),
                TRACE_STR("session", p->session), TRACE_STR("survey", p->survey_id),
                TRACE_STR("question", p->question_id), TRACE_STR("kind", tp_kind_name(p->kind)),
                TRACE_NUM_OR_NULL(choice, "value", p->value),
                TRACE_STR("choice", choice ? a.choice_id : NULL), TRACE_STR("lang", p->lang),
                TRACE_STRS("flags", flags, n_flags), TRACE_END);
    return TP_OK;
}

/* The screen after question qi was answered (or skipped): its next follow-up, or thanks. */
void kiosk_after_recorded(kiosk *k, int qi)
{
    int next = survey_next_followup(k->sv, qi, k->main_value);
    if (next >= 0) {
        k->followup = next;
        kiosk_go(k, S_FOLLOWUP);
    } else {
        kiosk_go(k, S_THANKS);
    }
}

static void fail_to_ooo(kiosk *k, const pending *p)
{
    k->retry = *p;
    k->retry.active = true;
    kiosk_go(k, S_OOO);
}

/* ---- Screens ------------------------------------------------------------------------------ */

void kiosk_add_item(kiosk *k, const char *id, const char *label, int value, ui_style style)
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

void kiosk_add_action(kiosk *k, const char *id, const char *label, ui_style style)
{
    int i = k->m.n_actions;
    if (i >= UI_ACTIONS_MAX)
        return;
    tp_strlcpy(k->action_ids[i], id, sizeof k->action_ids[i]);
    k->actions[i] = (ui_item){k->action_ids[i], label, 0, style};
    k->m.actions = k->actions;
    k->m.n_actions = i + 1;
}

/* out of order */

static void ooo_enter(kiosk *k)
{
    kiosk_disarm(k, T_THANKS);
    kiosk_arm(k, T_RETRY, KIOSK_RETRY_MS);
}

static kiosk_action ooo_event(kiosk *k, const kev *ev)
{
    if (ev->type != EV_TIMER || ev->timer != T_RETRY)
        return KIOSK_NONE;
    tp_err rc = kiosk_ensure_store(k);
    if (rc == TP_OK && k->retry.active)
        rc = record(k, &k->retry);
    else if (rc == TP_OK)
        rc = check_reserve(k);
    if (rc != TP_OK) {
        kiosk_arm(k, T_RETRY, KIOSK_RETRY_MS);
        return KIOSK_NONE;
    }
    k->retry.active = false;
    set_cause(k, NULL);
    trace_event(k->tr, "recovered", TRACE_END);
    /* The customer of the failed answer was never thanked; start afresh. */
    kiosk_reset_customer(k);
    return KIOSK_NONE;
}

static void ooo_draw(kiosk *k)
{
    const strings *vi = kiosk_strings("vi"), *en = kiosk_strings("en");
    const strings *s = kiosk_strings(k->default_lang);
    k->m.kind = UI_SCREEN_OUT_OF_ORDER;
    /* Both languages at once: whoever reads it must understand it. */
    const strings *other = s == vi ? en : vi;
    snprintf(k->prompt, sizeof k->prompt, "%s %s", s->ooo_msg, s->ooo_sub);
    snprintf(k->subtitle, sizeof k->subtitle, "%s %s", other->ooo_msg, other->ooo_sub);
    k->m.message = k->prompt;
    k->m.subtitle = k->subtitle;
    k->m.staff_corner = true;
}

static const screen_def SCREENS[S_COUNT] = {
    [S_QUESTION] = {IDLE_LANG, NULL, kiosk_question_enter, kiosk_question_event,
                    kiosk_question_draw},
    [S_FOLLOWUP] = {IDLE_CUSTOMER, NULL, NULL, kiosk_followup_event, kiosk_followup_draw},
    [S_THANKS] = {IDLE_NONE, NULL, kiosk_thanks_enter, kiosk_thanks_event, kiosk_thanks_draw},
    [S_OOO] = {IDLE_NONE, NULL, ooo_enter, ooo_event, ooo_draw},
    [S_PIN] = {IDLE_STAFF, NULL, kiosk_pin_enter, kiosk_pin_event, kiosk_pin_draw},
    [S_STAFF] = {IDLE_STAFF, NULL, kiosk_staff_enter, kiosk_staff_event, kiosk_staff_draw},
    [S_STAFF_SURVEY] = {IDLE_STAFF, NULL, kiosk_staff_survey_enter, kiosk_staff_survey_event,
                        kiosk_staff_survey_draw},
    [S_STAFF_EXPORT] = {IDLE_STAFF, kiosk_export_busy, NULL, kiosk_staff_export_event,
                        kiosk_staff_export_draw},
    [S_STAFF_EXIT] = {IDLE_STAFF, NULL, NULL, kiosk_staff_exit_event, kiosk_staff_exit_draw},
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
    k->tr = opt->trace;
    k->windowed = opt->windowed;
    k->max_page_count = opt->max_page_count;
    for (int t = 0; t < T_COUNT; t++)
        k->timers[t] = -1;
    k->last_thanks_end = -1;
    k->hold_start = -1;
    k->followup = -1;
    k->sync_pid = 1; /* not known yet: no line until the owner has looked */
    rc = kiosk_load_survey(k, opt->cfg->survey_file, &k->sv, err, errlen);
    if (rc != TP_OK)
        goto out;
    tp_strlcpy(k->default_lang, opt->cfg->default_lang, sizeof k->default_lang);
    if (!kiosk_lang_offered(k, k->default_lang)) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG,
                     "%s: [language] default: '%s' is not a language of survey %s", opt->cfg->path,
                     k->default_lang, k->sv->path);
        goto out;
    }
    tp_strlcpy(k->lang, k->default_lang, sizeof k->lang);
    k->cur = S_QUESTION;
    trace_set_screen(k->tr, SCREEN_LABEL[S_QUESTION]);
    k->dirty = KIOSK_DIRTY_SCREEN;
    /* Out of order at once, not after the first customer's tap, when answers cannot be kept. */
    if (kiosk_ensure_store(k) != TP_OK || check_reserve(k) != TP_OK) {
        k->retry.active = false;
        kiosk_go(k, S_OOO);
    } else {
        kiosk_question_enter(k);
    }
    *out = k;
    k = NULL;
out:
    kiosk_free(k);
    return rc;
}

/* Loads a survey the kiosk may show: it parses, offers every configured language, and (once the
 * owner has given the font's check) the font can draw every text. */
tp_err kiosk_load_survey(const kiosk *k, const char *path, survey **out, char *err, size_t errlen)
{
    tp_err rc = survey_load(path, out, err, errlen);
    if (rc == TP_OK)
        rc = config_check_survey_langs(k->cfg, path, (*out)->langs, (*out)->n_langs, err, errlen);
    if (rc == TP_OK && k->has_glyph)
        rc = survey_check_glyphs(*out, k->has_glyph, k->glyph_ctx, err, errlen);
    if (rc != TP_OK && *out) {
        survey_free(*out);
        *out = NULL;
    }
    return rc;
}

tp_err kiosk_check_glyphs(kiosk *k, survey_glyph_fn has_glyph, void *ctx, char *err, size_t errlen)
{
    k->has_glyph = has_glyph;
    k->glyph_ctx = ctx;
    return has_glyph ? survey_check_glyphs(k->sv, has_glyph, ctx, err, errlen) : TP_OK;
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

/* The one way an event reaches a screen. The prologue every screen shares runs here, driven by
 * the row's idle kind: the idle timeout (unless the row keeps the screen), dropping presses on no
 * control, and re-arming the idle timer on each press. */
static kiosk_action dispatch(kiosk *k, const kev *ev)
{
    const screen_def *sd = &SCREENS[k->cur];
    if (ev->type == EV_TIMER && ev->timer == T_IDLE && sd->idle != IDLE_NONE) {
        if (sd->keep && sd->keep(k)) {
            kiosk_arm(k, T_IDLE, idle_ms(k, sd->idle));
            return KIOSK_NONE;
        }
        /* Follow-up abandoned: the main answer is stored; the next customer starts afresh. */
        trace_event(k->tr, "timeout", TRACE_END);
        if (sd->idle == IDLE_STAFF)
            kiosk_leave_staff(k);
        else
            kiosk_reset_customer(k);
        return KIOSK_NONE;
    }
    if (ev->type == EV_RELEASE || (ev->type == EV_PRESS && !ev->id && sd->idle != IDLE_NONE))
        return KIOSK_NONE;
    if (ev->type == EV_PRESS && (sd->idle == IDLE_CUSTOMER || sd->idle == IDLE_STAFF))
        kiosk_arm(k, T_IDLE, idle_ms(k, sd->idle));
    return sd->event(k, ev);
}

/* Screens with the staff corner: it is handled here, before the screen sees the press. */
static bool has_corner(const kiosk *k)
{
    return k->cur == S_QUESTION || k->cur == S_FOLLOWUP || k->cur == S_OOO;
}

kiosk_action kiosk_press(kiosk *k, const char *id)
{
    if (k->cur == S_QUESTION) {
        /* Someone is here: the attract state gives way to the plain question (the press still
         * counts), and the wait starts again. */
        if (k->attract) {
            k->attract = false;
            k->dirty |= KIOSK_DIRTY_SCREEN;
            trace_event(k->tr, "attract", TRACE_BOOL("on", false), TRACE_END);
        }
        kiosk_arm_attract(k);
    }
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
        kiosk_hold_cancel(k);
    kev ev = {EV_RELEASE, NULL, T_COUNT};
    return dispatch(k, &ev);
}

kiosk_action kiosk_key(kiosk *k, const char *name)
{
    bool quit = k->windowed && (strcmp(name, "escape") == 0 || strcmp(name, "quit") == 0 ||
                                strcmp(name, "close") == 0 || strcmp(name, "alt+f4") == 0 ||
                                strcmp(name, "ctrl+q") == 0);
    trace_event(k->tr, "key", TRACE_STR("key", name),
                TRACE_STR("action", quit ? "quit" : "ignored"), TRACE_END);
    return quit ? KIOSK_QUIT : KIOSK_NONE;
}

kiosk_action kiosk_tick(kiosk *k)
{
    kiosk_action act = KIOSK_NONE;
    /* Fire due timers one at a time, earliest first, re-checking after each (a handler may arm
     * or cancel others). Bounded: each firing disarms its timer. */
    for (int guard = 0; guard < 64; guard++) {
        int64_t t = kiosk_now(k);
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
            kiosk_hold_cancel(k);
            if (ok) {
                trace_event(k->tr, "staff_hold", TRACE_END);
                kiosk_go(k, S_PIN);
            }
            continue;
        }
        if (due == T_HOLD_FRAME) {
            if (k->holding) {
                k->dirty |= KIOSK_DIRTY_HOLD;
                kiosk_arm(k, T_HOLD_FRAME, KIOSK_HOLD_FRAME_MS);
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
        k->tap_wall_ms = k->clk->wall_ms(k->clk->ctx);
        k->session_flags = p.flags; /* remembered for the session's follow-ups */
    }
    if (record(k, &p) != TP_OK) {
        fail_to_ooo(k, &p);
        return true;
    }
    kiosk_after_recorded(k, p.question);
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
    float p = (float)(kiosk_now(k) - k->hold_start) / (float)k->cfg->hold_ms;
    return p > 1.0f ? 1.0f : p;
}

void kiosk_status_get(const kiosk *k, kiosk_status *out)
{
    memset(out, 0, sizeof *out);
    out->screen = k->cur;
    out->out_of_order = k->cur == S_OOO;
    out->pin_pad = k->cur == S_PIN;
    out->staff_lang = kiosk_strings(k->default_lang)->lang;
    out->default_lang = k->default_lang;
    out->answers_recorded = k->n_recorded;
}

store *kiosk_store(const kiosk *k)
{
    return k->st;
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
            snprintf(id, sizeof id, "%s-%d", tp_kind_name(q->kind), value);
    } else if (k->cur == S_FOLLOWUP && !k->deferred.active) {
        const survey_question *q = &k->sv->questions[k->followup];
        if (value >= 1 && value <= q->n_options)
            snprintf(id, sizeof id, "%s-%s", q->id, q->options[value - 1].id);
    }
    trace_event(k->tr, "button", TRACE_NUM("value", value), TRACE_BOOL("accepted", id[0] != '\0'),
                TRACE_STR_IF(id[0], "widget", id), TRACE_END);
    if (!id[0])
        return KIOSK_NONE;
    /* The same path as a tap, with the answer flagged as coming from a button. */
    k->press_flags = TP_FLAG_BUTTON;
    kev ev = {EV_PRESS, id, T_COUNT};
    kiosk_action act = dispatch(k, &ev);
    k->press_flags = 0;
    return act;
}
