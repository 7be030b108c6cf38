/*
 * kiosk_staff.c - the staff side of the kiosk state machine (kiosk.h): the PIN pad and its
 * lockout, the staff screen (today's figures, sync, language, exit), the survey switch, the USB
 * export screen, and the ways into staff mode (staff corner, key switch, staff key stick).
 *
 * What needs the outside world (the database quick check, the sync daemon's state, the survey
 * folder) is asked of the owner as work (kiosk_take_work) and arrives by kiosk_work_done, so the
 * staff lines are rebuilt and traced only once the owner's answer is in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiosk_int.h"

/* PIN pad */

static bool pin_locked(const kiosk *k)
{
    return k->locked_until > 0 && kiosk_now(k) < k->locked_until;
}

/* A lockout that has run out (perhaps while another screen was up) starts a fresh count. */
static void lock_expire(kiosk *k)
{
    if (k->locked_until > 0 && !pin_locked(k)) {
        k->locked_until = 0;
        k->wrong = 0;
        kiosk_disarm(k, T_LOCK);
    }
}

void kiosk_pin_enter(kiosk *k)
{
    lock_expire(k);
    k->pin_len = 0;
    k->pin[0] = '\0';
    k->pin_wrong_shown = false;
    if (pin_locked(k))
        k->timers[T_LOCK] = k->locked_until;
}

void kiosk_leave_staff(kiosk *k)
{
    explicit_bzero(k->pin, sizeof k->pin);
    k->pin_len = 0;
    if (k->staff_return == S_OOO)
        kiosk_go(k, S_OOO);
    else
        kiosk_reset_customer(k);
}

kiosk_action kiosk_pin_event(kiosk *k, const kev *ev)
{
    if (ev->type == EV_TIMER) {
        if (ev->timer == T_LOCK) {
            lock_expire(k);
            k->dirty |= KIOSK_DIRTY_SCREEN;
            trace_event(k->tr, "pin", TRACE_STR("result", "unlocked"), TRACE_END);
        }
        return KIOSK_NONE;
    }
    if (strcmp(ev->id, "pin-cancel") == 0) {
        kiosk_leave_staff(k);
        return KIOSK_NONE;
    }
    lock_expire(k);
    if (pin_locked(k)) {
        trace_event(k->tr, "pin", TRACE_STR("result", "locked"), TRACE_END);
        return KIOSK_NONE;
    }
    int d;
    if (kiosk_id_number(ev->id, "pin", &d) && d <= 9 && strlen(ev->id) == 5) {
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
            trace_event(k->tr, "pin", TRACE_STR("result", "ok"), TRACE_END);
            k->staff_note[0] = '\0';
            kiosk_go(k, S_STAFF);
            return KIOSK_NONE;
        }
        k->wrong++;
        k->pin_wrong_shown = true;
        if (k->wrong >= k->cfg->max_attempts) {
            k->locked_until = kiosk_now(k) + (int64_t)k->cfg->lockout_s * 1000;
            k->timers[T_LOCK] = k->locked_until;
            trace_event(k->tr, "pin", TRACE_STR("result", "lockout"),
                        TRACE_NUM("attempts", k->wrong), TRACE_NUM("until", k->locked_until),
                        TRACE_END);
        } else {
            trace_event(k->tr, "pin", TRACE_STR("result", "wrong"), TRACE_NUM("attempts", k->wrong),
                        TRACE_END);
        }
    }
    return KIOSK_NONE;
}

void kiosk_pin_draw(kiosk *k)
{
    const strings *s = kiosk_strings(k->default_lang);
    bool locked = pin_locked(k);
    ui_style st = locked ? UI_STYLE_DISABLED : UI_STYLE_NEUTRAL;
    k->m.kind = UI_SCREEN_PIN;
    k->m.prompt = s->pin_prompt;
    if (locked) {
        int64_t left = k->locked_until - kiosk_now(k);
        int min = (int)((left + 59999) / 60000);
        kiosk_pin_note(s->lang, true, min, k->subtitle, sizeof k->subtitle);
        k->m.subtitle = k->subtitle;
        k->m.subtitle_warn = true;
    } else if (k->pin_wrong_shown) {
        int left = k->cfg->max_attempts - k->wrong;
        kiosk_pin_note(s->lang, false, left, k->subtitle, sizeof k->subtitle);
        k->m.subtitle = k->subtitle;
        k->m.subtitle_warn = true;
    }
    for (int d = 1; d <= 9; d++) {
        char id[16], label[16];
        snprintf(id, sizeof id, "pin-%d", d);
        snprintf(label, sizeof label, "%d", d);
        kiosk_add_item(k, id, label, 0, st);
    }
    kiosk_add_item(k, "pin-del", s->pin_del, 0, st);
    kiosk_add_item(k, "pin-0", "0", 0, st);
    kiosk_add_item(k, "pin-ok", "OK", 0, locked ? UI_STYLE_DISABLED : UI_STYLE_PRIMARY);
    /* Cancel closes the keypad block (a last key alone on its row spans it), where the hand
     * already is, instead of a bar button far away. */
    kiosk_add_item(k, "pin-cancel", s->pin_cancel, 0, UI_STYLE_NEUTRAL);
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

static void add_line(kiosk *k, const char *key, const char *val)
{
    if (k->n_lines >= UI_LINES_MAX)
        return;
    /* Cut to the line's size; the return value is used so the cut is deliberate. */
    if (snprintf(k->lines[k->n_lines], LINE_MAX_B, "%s\t%s", key, val) < 0)
        k->lines[k->n_lines][0] = '\0';
    k->n_lines++;
}

/* A line that needs staff attention: drawn in the warning colour (its value says why). */
static void warn_line(kiosk *k, const char *key, const char *val)
{
    if (k->n_lines < UI_LINES_MAX)
        k->warn_lines |= 1u << k->n_lines;
    add_line(k, key, val);
}

/* The outcome of "Sync now" (the owner woke the daemon): the staff note and the trace. */
void kiosk_sync_woken(kiosk *k, long pid, const char *err)
{
    const strings *s = kiosk_strings(k->default_lang);
    const char *result = pid > 0 ? "sent" : pid == 0 ? "not_running" : "error";
    if (pid > 0)
        tp_strlcpy(k->staff_note, s->sync_requested, sizeof k->staff_note);
    else if (pid == 0)
        snprintf(k->staff_note, sizeof k->staff_note, "%s: %s", s->sync_state, s->sync_not_running);
    else
        snprintf(k->staff_note, sizeof k->staff_note, "%s: %.120s", s->sync_failed, err ? err : "");
    /* The note is what staff read on the screen (the subtitle). */
    trace_event(k->tr, "sync_now", TRACE_STR("result", result), TRACE_STR("note", k->staff_note),
                TRACE_NUM_IF(pid > 0, "pid", pid), TRACE_END);
    if (k->cur == S_STAFF)
        kiosk_staff_refresh(k, KIOSK_WORK_DB_CHECK | KIOSK_WORK_SYNC_STATE, LINES_SILENT);
}

/* Reads today's figures from the database into the staff lines. The database line comes from the
 * owner's last quick check (slow on a big file, so the owner runs it, and not on the periodic
 * refresh, which reuses the last result); while answers cannot be recorded it gives the cause,
 * in the warning colour. */
static void staff_refresh_lines(kiosk *k)
{
    const strings *s = kiosk_strings(k->default_lang);
    char v[160], a[48], b[48];
    bool kinds[TP_KIND_COUNT] = {false};
    for (int q = 0; q < k->sv->n_questions; q++)
        kinds[k->sv->questions[q].kind] = true;
    k->n_lines = 0;
    k->warn_lines = 0;
    snprintf(v, sizeof v, "%.120s (v%d)", survey_text_get(k->sv, &k->sv->title, k->default_lang),
             k->sv->version);
    add_line(k, s->survey, v);
    if (k->hw_status[0]) {
        /* A stuck input ("stuck: ...") or hardware that did not start: the customer cannot
         * use the button, so the line is a warning. */
        warn_line(k, s->hw_inputs, k->hw_status);
    }
    if (kiosk_ensure_store(k) != TP_OK) {
        snprintf(v, sizeof v, "%s: %.120s", s->db_closed, k->store_err);
        warn_line(k, s->database, v);
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
        /* A customer's session holds one rating (the first question) and its follow-up choices,
         * so the ratings count the customers. */
        int64_t customers = r ? r->n - r->n_kind[TP_KIND_CHOICE] : 0;
        snprintf(v, sizeof v, "%lld", (long long)customers);
        add_line(k, s->customers_today, v);
        snprintf(v, sizeof v, "%lld", r ? (long long)r->n : 0LL);
        add_line(k, s->answers_today, v);
        /* Only the figures of kinds the running survey asks. */
        if (kinds[TP_KIND_NPS]) {
            if (r && r->n_kind[TP_KIND_NPS] > 0)
                snprintf(v, sizeof v, "%+.0f (n=%lld)", r->nps, (long long)r->n_kind[TP_KIND_NPS]);
            else
                tp_strlcpy(v, s->none, sizeof v);
            add_line(k, s->nps_today, v);
        }
        if (kinds[TP_KIND_CSAT]) {
            if (r && r->n_kind[TP_KIND_CSAT] > 0)
                snprintf(v, sizeof v, "%.0f%% (n=%lld)", r->csat_pct,
                         (long long)r->n_kind[TP_KIND_CSAT]);
            else
                tp_strlcpy(v, s->none, sizeof v);
            add_line(k, s->csat_today, v);
        }
        if (kinds[TP_KIND_CES]) {
            if (r && r->n_kind[TP_KIND_CES] > 0)
                snprintf(v, sizeof v, "%.1f / 7 (n=%lld)", r->ces_mean,
                         (long long)r->n_kind[TP_KIND_CES]);
            else
                tp_strlcpy(v, s->none, sizeof v);
            add_line(k, s->ces_today, v);
        }
        if (kinds[TP_KIND_SMILEY4]) {
            if (r && r->n_kind[TP_KIND_SMILEY4] > 0)
                snprintf(v, sizeof v, "%.0f%% %s (n=%lld)", r->smiley4_pct_happy, s->happy,
                         (long long)r->n_kind[TP_KIND_SMILEY4]);
            else
                tp_strlcpy(v, s->none, sizeof v);
            add_line(k, s->smiley_today, v);
        }
    } else {
        snprintf(v, sizeof v, "%s: %.120s", s->db_bad, store_errmsg(k->st));
        warn_line(k, s->answers_today, v);
    }
    store_stats_free(rows);

    store_info info;
    bool have_info = store_get_info(k->st, &info) == TP_OK;
    if (have_info) {
        int amber_s = k->cfg->gpio.amber_after_s;
        snprintf(v, sizeof v, "%lld", (long long)info.n_pending);
        if (info.n_pending > 0 && info.oldest_pending_ms > 0 &&
            wall - info.oldest_pending_ms > (int64_t)amber_s * 1000) {
            size_t l = strlen(v);
            snprintf(v + l, sizeof v - l, " \u2013 %s %d\u00a0%s", s->warn_waiting, amber_s / 60,
                     s->minutes);
            warn_line(k, s->pending, v);
        } else {
            add_line(k, s->pending, v);
        }
    }
    store_sync_result last, last_ok;
    tp_err rc = store_last_sync(k->st, &last, &last_ok);
    if (rc == TP_ERR_NOT_FOUND) {
        add_line(k, s->last_sync, s->never);
    } else if (rc == TP_OK) {
        fmt_local_hm(last.at_ms, a, sizeof a);
        if (last.ok) {
            snprintf(v, sizeof v, "%s, %s", a, s->sync_ok);
            add_line(k, s->last_sync, v);
        } else {
            snprintf(v, sizeof v, "%s, %s: %.80s", a, s->sync_failed, last.message);
            warn_line(k, s->last_sync, v);
        }
    } else {
        snprintf(v, sizeof v, "%s: %.120s", s->db_bad, store_errmsg(k->st));
        warn_line(k, s->last_sync, v);
    }
    if (k->cfg->sync.pid_file[0]) {
        if (k->sync_pid == 0)
            warn_line(k, s->sync_state, s->sync_not_running);
        else if (k->sync_pid == -1)
            warn_line(k, s->sync_state, k->sync_err);
    }
    if (k->db_fresh) {
        k->db_fresh = false;
        k->db_warn = true;
        if (k->db_rc == TP_OK && have_info) {
            int64_t reserve = (int64_t)k->cfg->min_free_mb * 1024 * 1024;
            bool low = info.free_bytes >= 0 && info.free_bytes < 2 * reserve;
            tp_format_bytes(info.db_bytes, true, a, sizeof a);    /* never understated */
            tp_format_bytes(info.free_bytes, false, b, sizeof b); /* never overstated */
            snprintf(k->db_line, sizeof k->db_line, "%s (%s, %s %s)%s%s%s%s", s->db_ok, a, s->free,
                     b, low ? " \u2013 " : "", low ? s->warn_disk : "",
                     info.recovered_from[0] ? ", " : "",
                     info.recovered_from[0] ? s->recovered : "");
            k->db_warn = low || info.recovered_from[0];
        } else {
            snprintf(k->db_line, sizeof k->db_line, "%s: %.120s", s->db_bad, store_errmsg(k->st));
        }
    }
    if (k->ooo_cause[0]) {
        snprintf(v, sizeof v, "%s: %.150s", s->db_bad, k->ooo_cause);
        warn_line(k, s->database, v);
    } else if (k->db_warn) {
        warn_line(k, s->database, k->db_line);
    } else {
        add_line(k, s->database, k->db_line);
    }
}

/* Traces the staff screen's info lines (tests read what staff would see). */
static void trace_staff_lines(kiosk *k)
{
    for (int i = 0; i < k->n_lines; i++)
        k->line_ptrs[i] = k->lines[i];
    trace_event(k->tr, "staff_lines", TRACE_STRS("lines", k->line_ptrs, k->n_lines),
                TRACE_NUM("warn", (double)k->warn_lines), TRACE_END);
}

static bool same_lines(const kiosk *k, char (*old)[LINE_MAX_B], int n_old)
{
    bool same = n_old == k->n_lines;
    for (int i = 0; same && i < n_old; i++)
        same = strcmp(old[i], k->lines[i]) == 0;
    return same;
}

void kiosk_staff_refresh(kiosk *k, unsigned work, lines_trace lt)
{
    if (lt == LINES_IF_CHANGED && k->lines_trace == LINES_SILENT) {
        memcpy(k->lines_before, k->lines, sizeof k->lines_before);
        k->n_lines_before = k->n_lines;
    }
    if (lt > k->lines_trace)
        k->lines_trace = lt;
    k->work |= work;
    char old[UI_LINES_MAX][LINE_MAX_B];
    int n_old = k->n_lines;
    memcpy(old, k->lines, sizeof old);
    staff_refresh_lines(k);
    if (lt == LINES_IF_CHANGED && !same_lines(k, old, n_old))
        k->dirty |= KIOSK_DIRTY_SCREEN;
}

unsigned kiosk_take_work(kiosk *k)
{
    unsigned w = k->work;
    k->work = 0;
    return w;
}

void kiosk_work_done(kiosk *k, const kiosk_work *w)
{
    if (w->done & KIOSK_WORK_SURVEYS) {
        k->n_surveys = w->n_surveys < KIOSK_MAX_SURVEYS ? w->n_surveys : KIOSK_MAX_SURVEYS;
        memcpy(k->surveys, w->surveys, sizeof k->surveys[0] * (size_t)k->n_surveys);
        if (k->cur == S_STAFF_SURVEY)
            k->dirty |= KIOSK_DIRTY_SCREEN;
    }
    if (w->done & KIOSK_WORK_DB_CHECK) {
        k->db_rc = w->db_rc;
        k->db_fresh = true;
    }
    if (w->done & KIOSK_WORK_SYNC_STATE) {
        k->sync_pid = w->sync_pid;
        tp_strlcpy(k->sync_err, w->sync_err, sizeof k->sync_err);
    }
    if (!(w->done & (KIOSK_WORK_DB_CHECK | KIOSK_WORK_SYNC_STATE)) || k->cur != S_STAFF)
        return;
    char(*old)[LINE_MAX_B] = k->lines_before;
    int n_old = k->n_lines_before;
    if (k->lines_trace != LINES_IF_CHANGED) {
        memcpy(old, k->lines, sizeof k->lines_before);
        n_old = k->n_lines;
    }
    staff_refresh_lines(k);
    bool changed = !same_lines(k, old, n_old);
    if (k->lines_trace == LINES_ALWAYS || (k->lines_trace == LINES_IF_CHANGED && changed))
        trace_staff_lines(k);
    if (changed)
        k->dirty |= KIOSK_DIRTY_SCREEN;
    k->lines_trace = LINES_SILENT;
}

void kiosk_staff_enter(kiosk *k)
{
    kiosk_arm(k, T_REFRESH, KIOSK_STAFF_REFRESH_MS);
    kiosk_staff_refresh(k, KIOSK_WORK_DB_CHECK | KIOSK_WORK_SYNC_STATE, LINES_ALWAYS);
}

kiosk_action kiosk_staff_event(kiosk *k, const kev *ev)
{
    if (ev->type == EV_TIMER) {
        /* The periodic refresh: a sync that finished, or answers recorded by the other process,
         * show up while staff look at the screen. Traced and redrawn only when a line changed. */
        if (ev->timer == T_REFRESH) {
            kiosk_staff_refresh(k, KIOSK_WORK_SYNC_STATE, LINES_IF_CHANGED);
            kiosk_arm(k, T_REFRESH, KIOSK_STAFF_REFRESH_MS);
        }
        return KIOSK_NONE;
    }
    if (strcmp(ev->id, "staff-back") == 0) {
        kiosk_leave_staff(k);
    } else if (strcmp(ev->id, "staff-exit") == 0) {
        kiosk_go(k, S_STAFF_EXIT); /* ends only after the confirmation */
    } else if (strcmp(ev->id, "staff-survey") == 0) {
        kiosk_go(k, S_STAFF_SURVEY);
    } else if (strcmp(ev->id, "staff-export") == 0 && k->n_sticks > 0) {
        kiosk_go(k, S_STAFF_EXPORT);
    } else if (strcmp(ev->id, "staff-sync") == 0 && k->cfg->sync.pid_file[0]) {
        k->dirty |= KIOSK_DIRTY_SCREEN;
        return KIOSK_SYNC_NOW; /* the owner wakes the daemon and calls kiosk_sync_woken */
    } else if (strcmp(ev->id, "staff-lang") == 0) {
        /* Cycle the default language through those the survey offers. */
        int cur = 0;
        for (int i = 0; i < k->cfg->n_langs; i++)
            if (strcmp(k->cfg->langs[i], k->default_lang) == 0)
                cur = i;
        for (int j = 1; j <= k->cfg->n_langs; j++) {
            const char *l = k->cfg->langs[(cur + j) % k->cfg->n_langs];
            if (kiosk_lang_offered(k, l)) {
                tp_strlcpy(k->default_lang, l, sizeof k->default_lang);
                tp_strlcpy(k->lang, l, sizeof k->lang);
                break;
            }
        }
        trace_event(k->tr, "default_lang", TRACE_STR("lang", k->default_lang), TRACE_END);
        kiosk_staff_refresh(k, KIOSK_WORK_DB_CHECK | KIOSK_WORK_SYNC_STATE, LINES_SILENT);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    }
    return KIOSK_NONE;
}

void kiosk_staff_draw(kiosk *k)
{
    const strings *s = kiosk_strings(k->default_lang);
    char label[LABEL_MAX];
    k->m.kind = UI_SCREEN_STAFF;
    k->m.prompt = s->staff_title;
    if (k->staff_note[0])
        k->m.subtitle = k->staff_note;
    for (int i = 0; i < k->n_lines; i++)
        k->line_ptrs[i] = k->lines[i];
    k->m.lines = k->line_ptrs;
    k->m.n_lines = k->n_lines;
    k->m.warn_lines = k->warn_lines;
    kiosk_add_item(k, "staff-survey", s->switch_survey, 0, UI_STYLE_NEUTRAL);
    snprintf(label, sizeof label, "%s: %s", s->default_lang, kiosk_lang_name(k->default_lang));
    kiosk_add_item(k, "staff-lang", label, 0, UI_STYLE_NEUTRAL);
    if (k->n_sticks > 0) {
        snprintf(label, sizeof label, "%s (%.100s)", s->usb_export, k->sticks[0].name);
        kiosk_add_item(k, "staff-export", label, 0, UI_STYLE_NEUTRAL);
    }
    if (k->cfg->sync.pid_file[0])
        kiosk_add_item(k, "staff-sync", s->sync_now, 0, UI_STYLE_NEUTRAL);
    /* Exit sits in the bottom bar's far end (the ui puts a danger action there), away from
     * "Sync now" and "Back", and asks first (S_STAFF_EXIT). */
    kiosk_add_action(k, "staff-exit", s->exit, UI_STYLE_DANGER);
    kiosk_add_action(k, "staff-back", s->back_survey, UI_STYLE_PRIMARY);
}

/* staff: "exit the kiosk?" */

kiosk_action kiosk_staff_exit_event(kiosk *k, const kev *ev)
{
    if (ev->type != EV_PRESS)
        return KIOSK_NONE;
    if (strcmp(ev->id, "exit-confirm") == 0) {
        trace_event(k->tr, "exit", TRACE_STR("reason", "staff"), TRACE_END);
        return KIOSK_QUIT;
    }
    if (strcmp(ev->id, "staff-back") == 0)
        kiosk_go(k, S_STAFF);
    return KIOSK_NONE;
}

void kiosk_staff_exit_draw(kiosk *k)
{
    const strings *s = kiosk_strings(k->default_lang);
    k->m.kind = UI_SCREEN_STAFF;
    k->m.prompt = s->exit_title;
    k->m.subtitle = s->exit_sub;
    kiosk_add_action(k, "exit-confirm", s->exit_confirm, UI_STYLE_DANGER);
    kiosk_add_action(k, "staff-back", s->back, UI_STYLE_PRIMARY);
}

/* staff: choose a survey */

void kiosk_staff_survey_enter(kiosk *k)
{
    k->n_surveys = 0;
    k->work |= KIOSK_WORK_SURVEYS; /* the owner scans [survey] folder: kiosk_work_done */
}

kiosk_action kiosk_staff_survey_event(kiosk *k, const kev *ev)
{
    int i;
    if (ev->type != EV_PRESS)
        return KIOSK_NONE;
    if (strcmp(ev->id, "staff-back") == 0) {
        kiosk_go(k, S_STAFF);
    } else if (kiosk_id_number(ev->id, "survey", &i) && i < k->n_surveys) {
        survey *sv = NULL;
        char err[TP_ERRMSG_MAX];
        if (kiosk_load_survey(k, k->surveys[i].path, &sv, err, sizeof err) != TP_OK) {
            tp_strlcpy(k->staff_note, err, sizeof k->staff_note);
            trace_event(k->tr, "error", TRACE_STR("message", err), TRACE_END);
            kiosk_go(k, S_STAFF);
            return KIOSK_NONE;
        }
        survey_free(k->sv);
        k->sv = sv;
        if (!kiosk_lang_offered(k, k->default_lang)) {
            for (int j = 0; j < k->cfg->n_langs; j++)
                if (kiosk_lang_offered(k, k->cfg->langs[j])) {
                    tp_strlcpy(k->default_lang, k->cfg->langs[j], sizeof k->default_lang);
                    break;
                }
        }
        tp_strlcpy(k->lang, k->default_lang, sizeof k->lang);
        snprintf(k->staff_note, sizeof k->staff_note, "%s: %s",
                 kiosk_strings(k->default_lang)->switched, sv->id);
        trace_event(k->tr, "survey", TRACE_STR("survey", sv->id), TRACE_END);
        kiosk_go(k, S_STAFF);
    }
    return KIOSK_NONE;
}

void kiosk_staff_survey_draw(kiosk *k)
{
    const strings *s = kiosk_strings(k->default_lang);
    k->m.kind = UI_SCREEN_STAFF;
    k->m.prompt = s->choose_survey;
    for (int i = 0; i < k->n_surveys; i++) {
        char id[24];
        snprintf(id, sizeof id, "survey-%d", i);
        bool current = strcmp(k->surveys[i].path, k->sv->path) == 0;
        kiosk_add_item(k, id, k->surveys[i].label, 0,
                       current ? UI_STYLE_SELECTED : UI_STYLE_NEUTRAL);
    }
    kiosk_add_action(k, "staff-back", s->back, UI_STYLE_NEUTRAL);
}

/* staff: export to a USB stick (the owner runs the job; see kiosk_take_export) */

/* Never walk away from a running export (the screen row's keep): its outcome must be seen. */
bool kiosk_export_busy(const kiosk *k)
{
    return k->export_running || k->export_requested;
}

kiosk_action kiosk_staff_export_event(kiosk *k, const kev *ev)
{
    if (ev->type != EV_PRESS)
        return KIOSK_NONE;
    bool busy = kiosk_export_busy(k);
    if (strcmp(ev->id, "staff-back") == 0 && !busy) {
        kiosk_go(k, S_STAFF);
    } else if (strcmp(ev->id, "export-cancel") == 0 && busy && !k->export_cancel) {
        /* The owner's cancel callback reads this (kiosk_export_cancelled); the job stops at its
         * next check, removes what it wrote and reports "cancelled". */
        k->export_cancel = true;
        trace_event(k->tr, "usb_export_cancel", TRACE_END);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    } else if ((strcmp(ev->id, "export-new") == 0 || strcmp(ev->id, "export-all") == 0) && !busy &&
               k->n_sticks > 0) {
        k->export_requested = true;
        k->export_all = strcmp(ev->id, "export-all") == 0;
        k->export_done = k->export_total = 0;
        k->export_cancel = false;
        k->export_drawn = -1;
        k->export_note[0] = '\0';
        trace_event(k->tr, "usb_export_start", TRACE_STR("mode", k->export_all ? "all" : "new"),
                    TRACE_END);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    }
    return KIOSK_NONE;
}

void kiosk_staff_export_draw(kiosk *k)
{
    const strings *s = kiosk_strings(k->default_lang);
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
    kiosk_add_item(k, "export-new", s->export_new, 0, st);
    kiosk_add_item(k, "export-all", s->export_all, 0, st);
    if (busy)
        kiosk_add_action(k, "export-cancel", s->export_cancel,
                         k->export_cancel ? UI_STYLE_DISABLED : UI_STYLE_DANGER);
    kiosk_add_action(k, "staff-back", s->back, busy ? UI_STYLE_DISABLED : UI_STYLE_NEUTRAL);
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
        tp_strlcpy(k->export_note, kiosk_strings(k->default_lang)->usb_removed,
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
    int64_t now = kiosk_now(k);
    int64_t step = total * KIOSK_EXPORT_STEP_PCT / 100;
    bool due = k->export_drawn < 0 || done >= total || done - k->export_drawn >= step ||
               now - k->export_drawn_ms >= KIOSK_EXPORT_FRAME_MS;
    if (!due || done == k->export_drawn)
        return;
    k->export_drawn = done;
    k->export_drawn_ms = now;
    trace_event(k->tr, "export_progress", TRACE_NUM("done", done), TRACE_NUM("total", total),
                TRACE_END);
    if (k->cur == S_STAFF_EXPORT)
        k->dirty |= KIOSK_DIRTY_SCREEN;
}

bool kiosk_export_cancelled(const kiosk *k)
{
    return k->export_cancel;
}

void kiosk_export_done(kiosk *k, bool ok, const char *message)
{
    (void)ok;
    k->export_running = false;
    tp_strlcpy(k->export_note, message ? message : "", sizeof k->export_note);
    if (k->cur == S_STAFF_EXPORT) {
        k->dirty |= KIOSK_DIRTY_SCREEN;
        kiosk_arm(k, T_IDLE, (int64_t)k->cfg->staff_idle_s * 1000);
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
    kiosk_hold_cancel(k);
    kiosk_disarm(k, T_THANKS);
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
    trace_event(k->tr, "pin", TRACE_STR("result", "usb_key"), TRACE_END);
    k->staff_note[0] = '\0';
    /* The key stick is also the export target: straight to the export screen. */
    kiosk_go(k, k->n_sticks > 0 ? S_STAFF_EXPORT : S_STAFF);
    return true;
}

bool kiosk_staff_switch(kiosk *k)
{
    bool customer = on_customer_screen(k);
    trace_event(k->tr, "staff_key", TRACE_STR("result", customer ? "pin" : "ignored"), TRACE_END);
    if (!customer || !leave_customer(k))
        return false;
    kiosk_go(k, S_PIN);
    return true;
}

void kiosk_set_hw_status(kiosk *k, const char *text)
{
    const char *t = text ? text : "";
    if (strcmp(t, k->hw_status) == 0)
        return;
    tp_strlcpy(k->hw_status, t, sizeof k->hw_status);
    trace_event(k->tr, "hw_status", TRACE_STR("text", k->hw_status), TRACE_END);
    if (k->cur == S_STAFF) {
        kiosk_staff_refresh(k, KIOSK_WORK_DB_CHECK | KIOSK_WORK_SYNC_STATE, LINES_ALWAYS);
        k->dirty |= KIOSK_DIRTY_SCREEN;
    }
}
