/*
 * kiosk_customer.c - the customer screens of the state machine: the question (with the attract
 * state and the repeat filter), the follow-up choices and the thank-you screen with its entry
 * animation and countdown ring. Their rows are in kiosk.c's screen table; an answer is recorded
 * there too (kiosk_after_frame), after the frame that shows the press.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk_int.h"

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

/* Handles "lang-xx" presses on customer screens. Returns true when id was a language toggle. */
static bool press_lang(kiosk *k, const char *id)
{
    if (strncmp(id, "lang-", 5) != 0)
        return false;
    const char *lang = id + 5;
    if (!kiosk_lang_offered(k, lang) || strcmp(lang, k->lang) == 0)
        return true;
    tp_strlcpy(k->lang, lang, sizeof k->lang);
    k->dirty |= KIOSK_DIRTY_SCREEN;
    trace_event(k->tr, "lang", TRACE_STR("lang", k->lang), TRACE_END);
    return true;
}

static void set_lang_items(kiosk *k)
{
    int n = 0;
    for (int i = 0; i < k->cfg->n_langs && n < UI_LANGS_MAX; i++) {
        const char *l = k->cfg->langs[i];
        if (survey_lang_index(k->sv, l) < 0)
            continue;
        snprintf(k->lang_ids[n], sizeof k->lang_ids[n], "lang-%s", l);
        k->langs[n] = (ui_item){k->lang_ids[n], kiosk_lang_name(l), 0, UI_STYLE_AUTO};
        n++;
    }
    if (n > 1) {
        k->m.langs = k->langs;
        k->m.n_langs = n;
        k->m.lang = k->lang;
    }
}

/* question */

/* After [power] dim_after_s without anyone on the question, the attract state ([brand] attract;
 * the owner then keeps the screen lit instead of dimming it). */
void kiosk_arm_attract(kiosk *k)
{
    if (k->cfg->brand.attract && k->cfg->power.dim_after_s > 0)
        kiosk_arm(k, T_ATTRACT, (int64_t)k->cfg->power.dim_after_s * 1000);
}

void kiosk_question_enter(kiosk *k)
{
    k->deferred.active = false;
    kiosk_arm_attract(k);
}

kiosk_action kiosk_question_event(kiosk *k, const kev *ev)
{
    const survey_question *q = &k->sv->questions[0];
    if (ev->type == EV_TIMER && ev->timer == T_ATTRACT && !k->attract) {
        k->attract = true;
        k->dirty |= KIOSK_DIRTY_SCREEN;
        trace_event(k->tr, "attract", TRACE_BOOL("on", true),
                    TRACE_STR("brand", k->cfg->brand.name), TRACE_END);
        return KIOSK_NONE;
    }
    if (ev->type != EV_PRESS)
        return KIOSK_NONE;
    if (press_lang(k, ev->id)) {
        if (strcmp(k->lang, k->default_lang) != 0)
            kiosk_arm(k, T_IDLE, (int64_t)k->cfg->idle_timeout_s * 1000);
        else
            kiosk_disarm(k, T_IDLE);
        return KIOSK_NONE;
    }
    int v;
    int lo = 0, hi = 0;
    tp_kind_range(q->kind, &lo, &hi);
    if (!kiosk_id_number(ev->id, tp_kind_name(q->kind), &v) || v < lo || v > hi ||
        k->deferred.active)
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
    int64_t t = kiosk_now(k);
    if (k->last_thanks_end >= 0 && t - k->last_thanks_end < (int64_t)k->cfg->repeat_window_s * 1000)
        p->flags |= TP_FLAG_RAPID_REPEAT;
    return KIOSK_NONE;
}

void kiosk_question_draw(kiosk *k)
{
    const survey_question *q = &k->sv->questions[0];
    int lo = 0, hi = 0;
    tp_kind_range(q->kind, &lo, &hi);
    k->m.kind = UI_SCREEN_QUESTION;
    k->m.scale = q->kind;
    if (k->attract) {
        k->m.invite = kiosk_strings(k->lang)->invite;
        k->m.brand_name = k->cfg->brand.name;
    }
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
        snprintf(id, sizeof id, "%s-%d", tp_kind_name(q->kind), v);
        kiosk_add_item(
            k, id,
            q->has_value_labels ? survey_text_get(k->sv, &q->value_labels[v - lo], k->lang) : NULL,
            v, UI_STYLE_AUTO);
    }
    set_lang_items(k);
    k->m.staff_corner = true;
}

/* follow-up */

kiosk_action kiosk_followup_event(kiosk *k, const kev *ev)
{
    const survey_question *q = &k->sv->questions[k->followup];
    if (ev->type != EV_PRESS)
        return KIOSK_NONE;
    if (press_lang(k, ev->id) || k->deferred.active)
        return KIOSK_NONE;
    char skip[UI_ID_MAX + 1];
    snprintf(skip, sizeof skip, "%s-skip", q->id);
    if (strcmp(ev->id, skip) == 0) {
        trace_event(k->tr, "skip", TRACE_STR("question", q->id), TRACE_END);
        kiosk_after_recorded(k, k->followup);
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

void kiosk_followup_draw(kiosk *k)
{
    const survey_question *q = &k->sv->questions[k->followup];
    k->m.kind = UI_SCREEN_FOLLOWUP;
    k->m.prompt = survey_text_get(k->sv, &q->prompt, k->lang);
    for (int i = 0; i < q->n_options; i++) {
        char id[UI_ID_MAX + 1];
        snprintf(id, sizeof id, "%s-%s", q->id, q->options[i].id);
        kiosk_add_item(k, id, survey_text_get(k->sv, &q->options[i].label, k->lang), 0,
                       UI_STYLE_NEUTRAL);
    }
    char skip[UI_ID_MAX + 1];
    snprintf(skip, sizeof skip, "%s-skip", q->id);
    kiosk_add_action(k, skip, kiosk_strings(k->lang)->skip, UI_STYLE_NEUTRAL);
    set_lang_items(k);
    k->m.staff_corner = true;
}

/* thanks */

void kiosk_thanks_enter(kiosk *k)
{
    kiosk_comment_prepare(k);
    /* A QR code needs time to be noticed and scanned: the thank-you stays longer with one. */
    k->thanks_s = k->cfg->thankyou_s;
    if (k->comment_qr_size > 0 && k->cfg->comment_thanks_s > k->thanks_s)
        k->thanks_s = k->cfg->comment_thanks_s;
    kiosk_arm(k, T_THANKS, (int64_t)k->thanks_s * 1000);
    k->anim_start = kiosk_now(k);
    kiosk_arm(k, T_ANIM, KIOSK_ANIM_FRAME_MS);
}

void kiosk_anim(const kiosk *k, float *anim, float *countdown)
{
    *anim = 1.0f;
    *countdown = 0.0f;
    if (k->cur != S_THANKS)
        return;
    int64_t now = kiosk_now(k), total = (int64_t)k->thanks_s * 1000;
    float a = (float)(now - k->anim_start) / (float)KIOSK_ANIM_ENTRY_MS;
    *anim = a < 0.0f ? 0.0f : a > 1.0f ? 1.0f : a;
    if (k->timers[T_THANKS] >= 0 && total > 0) {
        float c = (float)(k->timers[T_THANKS] - now) / (float)total;
        *countdown = c < 0.001f ? 0.001f : c > 1.0f ? 1.0f : c;
    }
}

kiosk_action kiosk_thanks_event(kiosk *k, const kev *ev)
{
    if (ev->type == EV_TIMER && ev->timer == T_ANIM) {
        /* Frames only while something moves: the entry at <= 30 fps, then the ring. */
        k->dirty |= KIOSK_DIRTY_ANIM;
        bool entry = kiosk_now(k) - k->anim_start < KIOSK_ANIM_ENTRY_MS;
        if (k->timers[T_THANKS] >= 0)
            kiosk_arm(k, T_ANIM, entry ? KIOSK_ANIM_FRAME_MS : KIOSK_RING_FRAME_MS);
    } else if (ev->type == EV_TIMER && ev->timer == T_THANKS) {
        k->last_thanks_end = kiosk_now(k);
        kiosk_reset_customer(k);
    } else if (ev->type == EV_PRESS) {
        trace_event(k->tr, "ignored", TRACE_STR("widget", ev->id ? ev->id : ""), TRACE_END);
    }
    return KIOSK_NONE;
}

void kiosk_thanks_draw(kiosk *k)
{
    k->m.kind = UI_SCREEN_THANKS;
    k->m.message = survey_text_get(k->sv, &k->sv->thanks, k->lang);
    kiosk_anim(k, &k->m.anim, &k->m.countdown);
    if (k->comment_qr_size > 0) {
        k->m.qr = k->comment_qr;
        k->m.qr_size = k->comment_qr_size;
        k->m.subtitle = kiosk_strings(k->lang)->comment_scan;
    }
}
