/*
 * kiosk_remote.c - central configuration in the kiosk program (kiosk_app.h; PROTOCOL.md section
 * 12): watches the state folder with inotify for the remote-config.json the sync process writes
 * whole, and applies it between customers only (the question screen, no session, no write
 * waiting, the default language), without a restart. A configuration that fails to load changes
 * nothing: the last good one stays and the error goes to config-status.json, which the sync
 * process sends in its next batch; so does the revision now running.
 *
 * A kiosk with [sync] url but no token file yet shows the pairing screen instead of the survey:
 * the code the sync process got for it (pairing.json) with its QR code, until the token file
 * appears; taps do nothing meanwhile (no answer can be sent anywhere).
 *
 * Remote keys override the local file's values for exactly the keys of settings.h (and the store,
 * touchpoint and stage the tree gives); everything else (device id, paths, sync, PIN, GPIO,
 * display) stays local. The local file's values are kept (base) and are the defaults of every
 * key a remote configuration leaves out.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "kiosk_app.h"
#include "kiosk_int.h"
#include "rconfig.h"

#define REMOTE_POLL_MS 1000 /* the loop looks at the watch at least this often */

struct kremote {
    int fd; /* inotify on the state folder, -1: none */
    char dir[CONFIG_PATH_MAX];
    config base;  /* the local file's values */
    bool pending; /* a new remote-config.json waits for a moment between customers */
    char running[RCONFIG_REVISION_MAX + 1];
    char error[RCONFIG_ERROR_MAX + 1];
    bool pairing;        /* no token file yet: the pairing screen */
    char shown_code[32]; /* the code on screen ("-": the waiting text) */
};

/* ---- Pairing --------------------------------------------------------------------------------- */

static bool token_present(const app *a)
{
    return access(a->cfg.sync.token_file, F_OK) == 0;
}

/* Reads pairing.json's code and status ("" when there is none yet). */
static void pairing_read(const kremote *rm, char *code, size_t codelen, char *status,
                         size_t statuslen)
{
    char path[CONFIG_PATH_MAX + 32], cause[TP_ERRMSG_MAX];
    char *buf = NULL;
    size_t len = 0;
    code[0] = status[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", rm->dir, RCONFIG_PAIRING_FILE);
    if (tp_read_file(path, 4096, &buf, &len, cause, sizeof cause) != TP_OK)
        return;
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "status");
    if (cJSON_IsString(c) && strlen(c->valuestring) < codelen)
        tp_strlcpy(code, c->valuestring, codelen);
    if (cJSON_IsString(s))
        tp_strlcpy(status, s->valuestring, statuslen);
    cJSON_Delete(j);
}

/* Draws the pairing screen when the code changed. */
static void pairing_show(app *a)
{
    kremote *rm = a->rm;
    char code[32], status[32];
    pairing_read(rm, code, sizeof code, status, sizeof status);
    const char *key = code[0] ? code : "-";
    if (strcmp(key, rm->shown_code) == 0)
        return;
    tp_strlcpy(rm->shown_code, key, sizeof rm->shown_code);
    char sub[400], text[128];
    ui_screen scr;
    memset(&scr, 0, sizeof scr);
    scr.kind = UI_SCREEN_PAIRING;
    QRcode *qr = NULL;
    if (code[0]) {
        /* What a phone reads: the code and the device id the operator approves it as. */
        snprintf(text, sizeof text, "touchpoint-pair:%s:%s", code, a->cfg.device_id);
        qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    }
    unsigned char *mods = NULL;
    if (qr && qr->width <= UI_QR_MAX) {
        mods = malloc((size_t)qr->width * (size_t)qr->width);
        if (mods) {
            for (int i = 0; i < qr->width * qr->width; i++)
                mods[i] = qr->data[i] & 1;
            scr.qr = mods;
            scr.qr_size = qr->width;
        }
    }
    scr.message = code[0] ? code : "...";
    if (code[0])
        snprintf(sub, sizeof sub,
                 "Ghép nối thiết bị %s / Pair kiosk %s: touchpoint-collector device approve %s "
                 "--node PATH --id %s",
                 a->cfg.device_id, a->cfg.device_id, code, a->cfg.device_id);
    else
        snprintf(sub, sizeof sub, "Đang chờ dịch vụ đồng bộ / Waiting for the sync service (%s)",
                 a->cfg.device_id);
    scr.subtitle = sub;
    if (ui_set_screen(a->u, &scr) != TP_OK)
        trace_error(a, "ui", ui_errmsg(a->u));
    else if (ui_render(a->u) != TP_OK)
        trace_error(a, "ui", ui_errmsg(a->u));
    trace_event(a->tr, "pairing", TRACE_STR("code", code), TRACE_STR("status", status),
                TRACE_NUM("qr_size", scr.qr_size), TRACE_END);
    free(mods);
    QRcode_free(qr);
}

bool remote_present(app *a)
{
    kremote *rm = a->rm;
    if (!rm || !rm->pairing)
        return false;
    pairing_show(a);
    return true;
}

bool remote_blocks_input(const app *a)
{
    return a->rm && a->rm->pairing;
}

static int64_t mono_now(const app *a)
{
    const tp_clock *c = app_clock(a);
    return c->mono_ms(c->ctx);
}

/* True when no customer is being served: a configuration may change now. */
static bool between_customers(const app *a)
{
    const kiosk *k = a->k;
    return k->cur == S_QUESTION && k->session[0] == '\0' && !k->deferred.active &&
           !k->retry.active && !k->holding && strcmp(k->lang, k->default_lang) == 0;
}

static void status_write(app *a, const char *error)
{
    kremote *rm = a->rm;
    char err[TP_ERRMSG_MAX];
    tp_strlcpy(rm->error, error ? error : "", sizeof rm->error);
    if (rconfig_status_write(rm->dir, rm->running, rm->error, err, sizeof err) != TP_OK)
        fprintf(stderr, "touchpoint-kiosk: config: %s\n", err);
}

/* The remote values over the local ones, into *out. */
static void merge(const config *base, const rconfig *rc, config *out)
{
    *out = *base;
    const settings *s = &rc->set;
    if (rc->store_id[0])
        tp_strlcpy(out->store_id, rc->store_id, sizeof out->store_id);
    if (rc->touchpoint_id[0])
        tp_strlcpy(out->touchpoint_id, rc->touchpoint_id, sizeof out->touchpoint_id);
    if (s->has & SETTINGS_HAS_STAGE)
        out->stage = (config_stage)s->stage;
    else if (rc->has_stage)
        out->stage = (config_stage)rc->stage;
    if (s->has & SETTINGS_HAS_LANGUAGES) {
        out->n_langs = s->n_langs;
        memcpy(out->langs, s->langs, sizeof out->langs);
        /* the local default may not be offered any more: the first remote language then */
        bool found = false;
        for (int i = 0; i < out->n_langs && !found; i++)
            found = strcmp(out->langs[i], out->default_lang) == 0;
        if (!found)
            tp_strlcpy(out->default_lang, out->langs[0], sizeof out->default_lang);
    }
    if (s->has & SETTINGS_HAS_DEFAULT_LANGUAGE)
        tp_strlcpy(out->default_lang, s->default_lang, sizeof out->default_lang);
    if (s->has & SETTINGS_HAS_THANKYOU)
        out->thankyou_s = s->thankyou_s;
    if (s->has & SETTINGS_HAS_IDLE_TIMEOUT)
        out->idle_timeout_s = s->idle_timeout_s;
    if (s->has & SETTINGS_HAS_REPEAT_WINDOW)
        out->repeat_window_s = s->repeat_window_s;
    if (s->has & SETTINGS_HAS_DIM_AFTER)
        out->power.dim_after_s = s->dim_after_s;
    if (s->has & SETTINGS_HAS_DIM_LEVEL)
        out->power.dim_level = s->dim_level;
    if (s->has & SETTINGS_HAS_BRAND_NAME)
        tp_strlcpy(out->brand.name, s->brand_name, sizeof out->brand.name);
    if (s->has & SETTINGS_HAS_BRAND_ACCENT)
        snprintf(out->brand.accent, sizeof out->brand.accent, "#%06X", s->accent_rgb & 0xFFFFFFu);
    /* The comment key and page come only from the center (the local file has neither). */
    if (rc->has_comment) {
        tp_strlcpy(out->comment_key, rc->comment_key, sizeof out->comment_key);
        tp_strlcpy(out->comment_url, rc->comment_url, sizeof out->comment_url);
    }
    if (s->has & SETTINGS_HAS_HOURS) {
        out->power.weekly = true;
        memcpy(out->power.days, s->hours, sizeof out->power.days);
        out->power.always = false;
    }
}

/* Loads remote-config.json and, when it is new and good, makes it the running configuration. */
static void apply(app *a)
{
    kremote *rm = a->rm;
    rconfig *rc = NULL;
    config *next = NULL;
    char err[TP_ERRMSG_MAX * 2] = "";
    rm->pending = false;
    tp_err e = rconfig_load(rm->dir, &rc, err, sizeof err);
    if (e == TP_ERR_NOT_FOUND)
        return;
    if (e == TP_OK && strcmp(rc->revision, rm->running) == 0 && !rm->error[0])
        goto out; /* already running */
    next = malloc(sizeof *next);
    if (e == TP_OK && !next)
        e = tp_errf(err, sizeof err, TP_ERR_NOMEM, "out of memory");
    if (e == TP_OK) {
        merge(&rm->base, rc, next);
        /* The same checks as at start: languages in the survey, the font draws every text. */
        e = config_check_survey_langs(next, RCONFIG_FILE, rc->sv->langs, rc->sv->n_langs, err,
                                      sizeof err);
        bool def_ok = false;
        for (int i = 0; e == TP_OK && i < next->n_langs; i++)
            def_ok = def_ok || (strcmp(next->langs[i], next->default_lang) == 0 &&
                                survey_lang_index(rc->sv, next->default_lang) >= 0);
        if (e == TP_OK && !def_ok)
            e = tp_errf(err, sizeof err, TP_ERR_CONFIG,
                        "%s: default language '%s' is not offered by the survey", RCONFIG_FILE,
                        next->default_lang);
        if (e == TP_OK && a->k->has_glyph)
            e = survey_check_glyphs(rc->sv, a->k->has_glyph, a->k->glyph_ctx, err, sizeof err);
        /* The brand's look last (all or nothing in the UI): the center's logo is decoded from
         * memory, never written to disk; without one the local [brand] logo file stays. */
        if (e == TP_OK && a->u) {
            bool png = rc->set.has & SETTINGS_HAS_BRAND_LOGO;
            e = ui_set_brand(a->u, next->brand.accent, png ? rc->set.logo_png : NULL,
                             png ? rc->set.logo_len : 0, next->brand.logo, err, sizeof err);
        }
        if (e == TP_OK && (rc->set.has & SETTINGS_HAS_TIMEZONE)) {
            if (setenv("TZ", rc->set.timezone, 1) != 0)
                e = tp_errf(err, sizeof err, TP_ERR_CONFIG, "cannot set the time zone");
            tzset();
        }
    }
    if (e != TP_OK) {
        /* The last good configuration stays; the error travels back with the next batch. */
        fprintf(stderr, "touchpoint-kiosk: config: not applied, keeping revision '%s': %s\n",
                rm->running, err);
        trace_event(a->tr, "config", TRACE_STR("result", "error"),
                    TRACE_STR("running", rm->running), TRACE_STR("error", err), TRACE_END);
        status_write(a, err);
        goto out;
    }
    a->cfg = *next;     /* the kiosk, power and the rest read a->cfg through pointers */
    hw_power_config(a); /* the power module reads its own copy */
    kiosk *k = a->k;
    survey_free(k->sv);
    k->sv = rc->sv;
    rc->sv = NULL;
    tp_strlcpy(k->default_lang, a->cfg.default_lang, sizeof k->default_lang);
    kiosk_reset_customer(k); /* redraws the question with the new survey */
    tp_strlcpy(rm->running, rc->revision, sizeof rm->running);
    fprintf(stderr, "touchpoint-kiosk: config: revision %s applied (survey %s version %d)\n",
            rm->running, k->sv->id, k->sv->version);
    trace_event(a->tr, "config", TRACE_STR("result", "applied"), TRACE_STR("running", rm->running),
                TRACE_STR("survey", k->sv->id), TRACE_NUM("version", k->sv->version),
                TRACE_STR("prompt", survey_text_get(k->sv, &k->sv->questions[0].prompt, k->lang)),
                TRACE_STR("store", a->cfg.store_id), TRACE_END);
    status_write(a, NULL);
    if (a->pw) {
        const char *reason = NULL;
        if (power_update(a->pw, &reason))
            power_changed(a, "config");
    }
out:
    free(next);
    rconfig_free(rc);
}

void remote_open(app *a)
{
    if (!a->cfg.sync.url[0])
        return; /* no sync: nothing can arrive */
    kremote *rm = calloc(1, sizeof *rm);
    if (!rm)
        return;
    a->rm = rm;
    rm->base = a->cfg;
    config_state_dir(&a->cfg, rm->dir, sizeof rm->dir);
    rm->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (rm->fd >= 0 &&
        inotify_add_watch(rm->fd, rm->dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0) {
        fprintf(stderr, "touchpoint-kiosk: config: cannot watch %s: %s\n", rm->dir,
                strerror(errno));
        close(rm->fd);
        rm->fd = -1;
    }
    /* What ran before a restart is what runs now, if it still loads. */
    apply(a);
    if (a->cfg.sync.token_file[0] && !token_present(a)) {
        rm->pairing = true;
        fprintf(stderr, "touchpoint-kiosk: no token file %s: showing the pairing screen\n",
                a->cfg.sync.token_file);
    }
}

void remote_tick(app *a)
{
    kremote *rm = a->rm;
    if (!rm)
        return;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = rm->fd >= 0 ? read(rm->fd, buf, sizeof buf) : -1;
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->len && strcmp(ev->name, RCONFIG_FILE) == 0)
                rm->pending = true;
            p += sizeof *ev + ev->len;
        }
    }
    if (rm->pairing) {
        if (token_present(a)) {
            rm->pairing = false;
            rm->shown_code[0] = '\0';
            a->k->dirty |= KIOSK_DIRTY_SCREEN; /* the survey again */
            trace_event(a->tr, "pairing", TRACE_STR("status", "paired"), TRACE_END);
            fprintf(stderr, "touchpoint-kiosk: paired: the token file is there\n");
        } else {
            pairing_show(a);
        }
    }
    if (rm->pending && between_customers(a))
        apply(a);
}

int64_t remote_deadline(const app *a, int64_t d)
{
    if (!a->rm)
        return d;
    int64_t t = mono_now(a) + REMOTE_POLL_MS;
    return d < 0 || t < d ? t : d;
}

void remote_close(app *a)
{
    kremote *rm = a->rm;
    if (!rm)
        return;
    if (rm->fd >= 0)
        close(rm->fd);
    free(rm);
    a->rm = NULL;
}
