/*
 * ui.c - the public ui API: SDL set-up, the copied screen model, rotation on present, hit-testing
 * and screenshots. Drawing and the theme live in ui_draw.c, layout in ui_layout.c, fonts and
 * wrapping in ui_text.c, anti-aliased shapes in ui_shape.c.
 */
#include <SDL_image.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui_int.h"

/* ---- Errors --------------------------------------------------------------------------------- */

static tp_err fail(ui *u, tp_err rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static tp_err fail(ui *u, tp_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->errmsg, sizeof u->errmsg, fmt, ap);
    va_end(ap);
    return rc;
}

const char *ui_errmsg(const ui *u)
{
    return u ? u->errmsg : "";
}

const char *ui_screen_kind_name(ui_screen_kind k)
{
    switch (k) {
    case UI_SCREEN_QUESTION: return "question";
    case UI_SCREEN_FOLLOWUP: return "followup";
    case UI_SCREEN_THANKS: return "thanks";
    case UI_SCREEN_OUT_OF_ORDER: return "out_of_order";
    case UI_SCREEN_PIN: return "pin";
    case UI_SCREEN_STAFF: return "staff";
    case UI_SCREEN_PAIRING: return "pairing";
    }
    return "?";
}

/* ---- Opening and closing -------------------------------------------------------------------- */

static void set_logical(ui *u)
{
    bool swap = u->rotation == 90 || u->rotation == 270;
    u->lw = swap ? u->wh : u->ww;
    u->lh = swap ? u->ww : u->wh;
}

static void relayout(ui *u)
{
    if (!u->have_screen) {
        u->nw = 0;
        return;
    }
    ui_measure ms = ui_fonts_measure(u->fonts);
    u->nw = ui_layout(&u->model, u->lw, u->lh, u->dpi, u->min_target, &ms, u->w);
    u->stats.layouts++;
}

/* The brand's accent (NULL or "": the theme's); the invitation is text in this colour on the
 * customer background, so it must read 4.5:1 there (WCAG AA). */
static tp_err accent_parse(const char *accent, ui_rgba *out, char *err, size_t errlen)
{
    *out = ui_theme_accent();
    if (!accent || !accent[0])
        return TP_OK;
    if (!ui_parse_rgb(accent, out))
        return tp_errf(err, errlen, TP_ERR_CONFIG, "ui: accent \"%s\" is not #RRGGBB", accent);
    ui_rgba bg = ui_theme_bg(UI_SCREEN_QUESTION);
    if (ui_contrast(*out, bg) < 4.5)
        return tp_errf(err, errlen, TP_ERR_CONFIG,
                       "ui: accent %s reads %.2f:1 on the background #F5F3EE; text needs "
                       "4.5:1 (choose a darker colour)",
                       accent, ui_contrast(*out, bg));
    return TP_OK;
}

/* Decodes a logo (PNG, or SVG rasterised at its own size) into ARGB8888; NULL when it cannot. */
static SDL_Surface *logo_decode(SDL_Surface *img)
{
    SDL_Surface *s = img ? SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_ARGB8888, 0) : NULL;
    SDL_FreeSurface(img);
    if (s && (s->w < 1 || s->h < 1)) {
        SDL_FreeSurface(s);
        s = NULL;
    }
    return s;
}

tp_err ui_set_brand(ui *u, const char *accent, const void *png, size_t png_len,
                    const char *logo_path, char *err, size_t errlen)
{
    ui_rgba rgb;
    tp_err rc = accent_parse(accent, &rgb, err, errlen);
    if (rc != TP_OK)
        return rc;
    SDL_Surface *logo = NULL;
    if (png) {
        /* From memory: nothing of the center's bytes touches the disk. */
        SDL_RWops *rw = png_len <= INT_MAX ? SDL_RWFromConstMem(png, (int)png_len) : NULL;
        logo = rw ? logo_decode(IMG_LoadTyped_RW(rw, 1, "PNG")) : NULL;
        if (!logo)
            return tp_errf(err, errlen, TP_ERR_CONFIG, "ui: logo: the PNG does not decode (%s)",
                           IMG_GetError());
    } else if (logo_path && logo_path[0]) {
        logo = logo_decode(IMG_Load(logo_path));
    }
    SDL_FreeSurface(u->logo);
    u->logo = logo;
    u->accent = rgb;
    /* Cached textures drawn in the old accent or from the old logo must not be reused. */
    ui_cache_clear(&u->cache);
    return TP_OK;
}

tp_err ui_new(const ui_options *opt, ui **out, char *err, size_t errlen)
{
    static const ui_options defaults = {0};
    tp_err rc = TP_OK;
    ui *u = NULL;
    bool sdl = false, ttf = false;

    *out = NULL;
    if (!opt)
        opt = &defaults;
    int w = opt->width > 0 ? opt->width : 800, h = opt->height > 0 ? opt->height : 480;
    if (opt->rotation != 0 && opt->rotation != 90 && opt->rotation != 180 && opt->rotation != 270)
        return tp_errf(err, errlen, TP_ERR_INVALID, "ui: rotation %d is not 0, 90, 180 or 270",
                       opt->rotation);
    if (w < 200 || h < 200 || w > 8192 || h > 8192)
        return tp_errf(err, errlen, TP_ERR_INVALID, "ui: window size %dx%d out of 200..8192", w, h);
    if (opt->dpi < 0 || opt->dpi > 1200)
        return tp_errf(err, errlen, TP_ERR_INVALID, "ui: dpi %d out of 0..1200", opt->dpi);
    u = calloc(1, sizeof *u);
    if (!u)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "ui: out of memory");
    u->rotation = opt->rotation;
    u->dpi = opt->dpi > 0 ? opt->dpi : 96;
    int mm9 = (int)ceil(9.0 * u->dpi / 25.4);
    u->min_target = mm9 > 64 ? mm9 : 64;
    u->model.hold = -1.0f;
    if ((rc = accent_parse(opt->accent, &u->accent, err, errlen)) != TP_OK) {
        free(u);
        return rc;
    }

    /* Hints are set before every SDL_Init because SDL_Quit clears them. Without
     * FRAMEBUFFER_ACCELERATION=0 the software renderer's window surface would be backed by an
     * EGL/GL context (hundreds of milliseconds to create on the offscreen driver). */
    if (opt->headless)
        SDL_SetHint(SDL_HINT_VIDEODRIVER, "offscreen");
    if (opt->headless || opt->software) {
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        rc = tp_errf(err, errlen, TP_ERR_UNSUPPORTED, "ui: SDL video: %s", SDL_GetError());
        goto out;
    }
    sdl = true;
    if (TTF_Init() != 0) {
        rc = tp_errf(err, errlen, TP_ERR_UNSUPPORTED, "ui: SDL_ttf: %s", TTF_GetError());
        goto out;
    }
    ttf = true;
    rc = ui_fonts_new(opt->font_family ? opt->font_family : UI_FONT_FAMILY, &u->fonts, err, errlen);
    if (rc != TP_OK)
        goto out;
    Uint32 flags = SDL_WINDOW_SHOWN;
    if (opt->fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS;
    u->win = SDL_CreateWindow(opt->title ? opt->title : "Touchpoint", SDL_WINDOWPOS_CENTERED,
                              SDL_WINDOWPOS_CENTERED, w, h, flags);
    if (!u->win) {
        rc = tp_errf(err, errlen, TP_ERR_UNSUPPORTED, "ui: window %dx%d: %s", w, h, SDL_GetError());
        goto out;
    }
    Uint32 rflags =
        SDL_RENDERER_TARGETTEXTURE | (opt->headless || opt->software ? SDL_RENDERER_SOFTWARE : 0);
    u->ren = SDL_CreateRenderer(u->win, -1, rflags);
    if (!u->ren && !(rflags & SDL_RENDERER_SOFTWARE))
        u->ren = SDL_CreateRenderer(u->win, -1, SDL_RENDERER_SOFTWARE | SDL_RENDERER_TARGETTEXTURE);
    if (!u->ren) {
        rc = tp_errf(err, errlen, TP_ERR_UNSUPPORTED, "ui: renderer: %s", SDL_GetError());
        goto out;
    }
    if (opt->fullscreen)
        SDL_ShowCursor(SDL_DISABLE);
    if (SDL_GetRendererOutputSize(u->ren, &u->ww, &u->wh) != 0) {
        rc = tp_errf(err, errlen, TP_ERR_UNSUPPORTED, "ui: output size: %s", SDL_GetError());
        goto out;
    }
    if (opt->logo && opt->logo[0]) {
        /* Decoded once (PNG, or SVG rasterised at its own size); scaled to its place later. */
        u->logo = logo_decode(IMG_Load(opt->logo));
        if (!u->logo) {
            rc = tp_errf(err, errlen, TP_ERR_CONFIG, "ui: logo %s: cannot decode it (%s)",
                         opt->logo, IMG_GetError());
            goto out;
        }
    }
    set_logical(u);
    *out = u;
    return TP_OK;
out:
    if (u) {
        SDL_FreeSurface(u->logo);
        ui_fonts_free(u->fonts);
        if (u->ren)
            SDL_DestroyRenderer(u->ren);
        if (u->win)
            SDL_DestroyWindow(u->win);
        free(u);
    }
    if (ttf)
        TTF_Quit();
    if (sdl)
        SDL_Quit();
    return rc;
}

void ui_free(ui *u)
{
    if (!u)
        return;
    ui_cache_clear(&u->cache);
    ui_fonts_free(u->fonts);
    SDL_FreeSurface(u->logo);
    SDL_DestroyRenderer(u->ren);
    SDL_DestroyWindow(u->win);
    free(u);
    TTF_Quit();
    IMG_Quit();
    SDL_Quit();
}

/* ---- The model ------------------------------------------------------------------------------ */

static const char *const reserved_ids[] = {
    "prompt",   "subtitle",     "message", "anchor-low", "anchor-high", "icon",
    "pin-dots", "staff-corner", "logo",    "invite",     "brand-name",  "next-ring",
};

static tp_err copy_text(ui *u, char *dst, const char *src, const char *field)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n > UI_TEXT_MAX)
        return fail(u, TP_ERR_TOO_LARGE, "ui_set_screen: %s is %zu bytes (max %d)", field, n,
                    UI_TEXT_MAX);
    if (!tp_utf8_valid(src, n))
        return fail(u, TP_ERR_INVALID, "ui_set_screen: %s is not valid UTF-8", field);
    memcpy(dst, src, n + 1);
    return TP_OK;
}

/* Copies n items of group into dst after checking ids (valid, not reserved) and labels. */
static tp_err copy_items(ui *u, ui_item_c *dst, const ui_item *src, int n, int max,
                         const char *group, bool need_label)
{
    char field[64];
    if (n < 0 || n > max)
        return fail(u, TP_ERR_INVALID, "ui_set_screen: n_%s %d out of 0..%d", group, n, max);
    if (n > 0 && !src)
        return fail(u, TP_ERR_INVALID, "ui_set_screen: n_%s is %d but %s is NULL", group, n, group);
    for (int i = 0; i < n; i++) {
        const char *id = src[i].id;
        if (!id || !tp_id_valid(id))
            return fail(u, TP_ERR_INVALID, "ui_set_screen: %s[%d].id \"%s\" is not a valid id",
                        group, i, id ? id : "(null)");
        for (size_t r = 0; r < sizeof reserved_ids / sizeof reserved_ids[0]; r++)
            if (strcmp(id, reserved_ids[r]) == 0 || strncmp(id, "line-", 5) == 0)
                return fail(u, TP_ERR_INVALID, "ui_set_screen: %s[%d].id \"%s\" is reserved", group,
                            i, id);
        tp_strlcpy(dst[i].id, id, sizeof dst[i].id);
        snprintf(field, sizeof field, "%s[%d].label", group, i);
        tp_err rc = copy_text(u, dst[i].label, src[i].label, field);
        if (rc != TP_OK)
            return rc;
        if (need_label && !dst[i].label[0])
            return fail(u, TP_ERR_INVALID, "ui_set_screen: %s is empty", field);
        if ((int)src[i].style < UI_STYLE_AUTO || (int)src[i].style > UI_STYLE_DISABLED)
            return fail(u, TP_ERR_INVALID, "ui_set_screen: %s[%d].style %d unknown", group, i,
                        (int)src[i].style);
        dst[i].value = src[i].value;
        dst[i].style = src[i].style;
    }
    return TP_OK;
}

static bool model_has_id(const ui_model *m, const char *id)
{
    for (int i = 0; i < m->n_items; i++)
        if (strcmp(m->items[i].id, id) == 0)
            return true;
    for (int i = 0; i < m->n_langs; i++)
        if (strcmp(m->langs[i].id, id) == 0)
            return true;
    for (int i = 0; i < m->n_actions; i++)
        if (strcmp(m->actions[i].id, id) == 0)
            return true;
    return m->staff_corner && strcmp(id, "staff-corner") == 0;
}

static tp_err check_model(ui *u, ui_model *m, const ui_screen *s)
{
    tp_err rc;
    char field[32];
    if ((int)s->kind < 0 || (int)s->kind >= UI_SCREEN_KIND_COUNT)
        return fail(u, TP_ERR_INVALID, "ui_set_screen: kind %d unknown", (int)s->kind);
    m->kind = s->kind;
    m->scale = s->scale;
    if ((int)s->scale_style < UI_SCALE_NEUTRAL || (int)s->scale_style > UI_SCALE_TRAFFIC)
        return fail(u, TP_ERR_INVALID, "ui_set_screen: scale_style %d unknown",
                    (int)s->scale_style);
    m->scale_style = s->scale_style;
    bool question = s->kind == UI_SCREEN_QUESTION;
    if (question && ((int)s->scale < 0 || s->scale > TP_KIND_SMILEY4))
        return fail(u, TP_ERR_INVALID, "ui_set_screen: scale %d is not a rating kind",
                    (int)s->scale);
    if ((rc = copy_text(u, m->prompt, s->prompt, "prompt")) ||
        (rc = copy_text(u, m->subtitle, s->subtitle, "subtitle")) ||
        (rc = copy_text(u, m->anchor_low, s->anchor_low, "anchor_low")) ||
        (rc = copy_text(u, m->anchor_high, s->anchor_high, "anchor_high")) ||
        (rc = copy_text(u, m->message, s->message, "message")))
        return rc;
    if ((rc = copy_items(u, m->items, s->items, s->n_items, UI_ITEMS_MAX, "items", !question)) ||
        (rc = copy_items(u, m->langs, s->langs, s->n_langs, UI_LANGS_MAX, "langs", true)) ||
        (rc = copy_items(u, m->actions, s->actions, s->n_actions, UI_ACTIONS_MAX, "actions", true)))
        return rc;
    m->n_items = s->n_items;
    m->n_langs = s->n_langs;
    m->n_actions = s->n_actions;
    if (question) {
        int lo = 0, hi = 0;
        tp_kind_range(s->scale, &lo, &hi);
        for (int i = 0; i < m->n_items; i++)
            if (m->items[i].value < lo || m->items[i].value > hi)
                return fail(u, TP_ERR_INVALID, "ui_set_screen: items[%d].value %d not in %d..%d", i,
                            m->items[i].value, lo, hi);
    }
    /* Every id once across items, langs and actions. */
    const ui_item_c *all[UI_ITEMS_MAX + UI_LANGS_MAX + UI_ACTIONS_MAX];
    int na = 0;
    for (int i = 0; i < m->n_items; i++)
        all[na++] = &m->items[i];
    for (int i = 0; i < m->n_langs; i++)
        all[na++] = &m->langs[i];
    for (int i = 0; i < m->n_actions; i++)
        all[na++] = &m->actions[i];
    for (int i = 0; i < na; i++)
        for (int j = i + 1; j < na; j++)
            if (strcmp(all[i]->id, all[j]->id) == 0)
                return fail(u, TP_ERR_INVALID, "ui_set_screen: id \"%s\" is used twice",
                            all[i]->id);
    if (s->lang && s->lang[0] && !tp_lang_valid(s->lang))
        return fail(u, TP_ERR_INVALID, "ui_set_screen: lang \"%s\" is not a language tag", s->lang);
    tp_strlcpy(m->lang, s->lang ? s->lang : "", sizeof m->lang);
    if (s->n_lines < 0 || s->n_lines > UI_LINES_MAX || (s->n_lines > 0 && !s->lines))
        return fail(u, TP_ERR_INVALID, "ui_set_screen: n_lines %d out of 0..%d", s->n_lines,
                    UI_LINES_MAX);
    for (int i = 0; i < s->n_lines; i++) {
        snprintf(field, sizeof field, "lines[%d]", i);
        if ((rc = copy_text(u, m->lines[i], s->lines[i], field)))
            return rc;
    }
    m->n_lines = s->n_lines;
    m->warn_lines = s->warn_lines;
    m->subtitle_warn = s->subtitle_warn;
    if (s->pin_max < 0 || s->pin_max > UI_PIN_MAX || s->pin_len < 0 || s->pin_len > s->pin_max)
        return fail(u, TP_ERR_INVALID, "ui_set_screen: pin_len %d / pin_max %d out of range",
                    s->pin_len, s->pin_max);
    m->pin_len = s->pin_len;
    m->pin_max = s->pin_max;
    m->staff_corner = s->staff_corner;
    m->hold = s->hold_progress > 0.0f ? fminf(s->hold_progress, 1.0f) : -1.0f;
    m->bar = s->progress_bar;
    m->progress = s->progress > 0.0f ? fminf(s->progress, 1.0f) : 0.0f;
    if ((rc = copy_text(u, m->invite, s->invite, "invite")) ||
        (rc = copy_text(u, m->brand_name, s->brand_name, "brand_name")))
        return rc;
    m->logo_w = u->logo && m->invite[0] ? u->logo->w : 0;
    m->logo_h = u->logo && m->invite[0] ? u->logo->h : 0;
    m->anim = s->anim > 0.0f && s->anim < 1.0f ? s->anim : 1.0f;
    m->countdown = s->countdown > 0.0f ? fminf(s->countdown, 1.0f) : 0.0f;
    if (s->qr_size < 0 || s->qr_size > UI_QR_MAX || (s->qr_size > 0 && !s->qr))
        return fail(u, TP_ERR_INVALID, "ui_set_screen: qr_size %d out of range", s->qr_size);
    m->qr_size = s->qr_size;
    if (s->qr_size > 0)
        memcpy(m->qr, s->qr, (size_t)s->qr_size * (size_t)s->qr_size);
    m->highlight[0] = '\0';
    if (s->highlight && s->highlight[0]) {
        if (!model_has_id(m, s->highlight))
            return fail(u, TP_ERR_INVALID, "ui_set_screen: highlight \"%s\" names no control",
                        s->highlight);
        tp_strlcpy(m->highlight, s->highlight, sizeof m->highlight);
    }
    return TP_OK;
}

tp_err ui_set_screen(ui *u, const ui_screen *scr)
{
    if (!scr)
        return fail(u, TP_ERR_INVALID, "ui_set_screen: no screen");
    memset(&u->scratch, 0, sizeof u->scratch);
    tp_err rc = check_model(u, &u->scratch, scr);
    if (rc != TP_OK)
        return rc;
    u->model = u->scratch;
    u->have_screen = true;
    u->errmsg[0] = '\0';
    relayout(u);
    return TP_OK;
}

tp_err ui_set_highlight(ui *u, const char *id)
{
    if (!id || !id[0]) {
        u->model.highlight[0] = '\0';
        return TP_OK;
    }
    if (!model_has_id(&u->model, id)) {
        u->model.highlight[0] = '\0';
        return fail(u, TP_ERR_NOT_FOUND, "ui_set_highlight: no control \"%s\" on the %s screen", id,
                    ui_screen_kind_name(u->model.kind));
    }
    tp_strlcpy(u->model.highlight, id, sizeof u->model.highlight);
    return TP_OK;
}

void ui_set_anim(ui *u, float anim, float countdown)
{
    u->model.anim = anim > 0.0f && anim < 1.0f ? anim : 1.0f;
    /* A ring placed by the layout stays; one not placed is not drawn. */
    if (u->model.countdown > 0.0f)
        u->model.countdown = countdown > 0.001f ? fminf(countdown, 1.0f) : 0.001f;
}

void ui_set_hold(ui *u, float progress)
{
    u->model.hold = progress > 0.0f ? fminf(progress, 1.0f) : -1.0f;
}

void ui_set_brightness(ui *u, int percent)
{
    u->darken = 100 - (percent < 0 ? 0 : percent > 100 ? 100 : percent);
}

/* The ui_set_brightness overlay over the whole current target. */
static void draw_darken(ui *u)
{
    if (u->darken <= 0)
        return;
    SDL_SetRenderDrawBlendMode(u->ren, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(u->ren, 0, 0, 0, (Uint8)(255 * u->darken / 100));
    SDL_RenderFillRect(u->ren, NULL);
}

tp_err ui_window_resized(ui *u)
{
    if (SDL_GetRendererOutputSize(u->ren, &u->ww, &u->wh) != 0)
        return fail(u, TP_ERR_UNSUPPORTED, "ui: output size: %s", SDL_GetError());
    set_logical(u);
    relayout(u);
    return TP_OK;
}

/* ---- Presenting and screenshots ------------------------------------------------------------- */

tp_err ui_render(ui *u)
{
    u->frame++;
    tp_err rc = ui_draw(u);
    if (rc != TP_OK)
        return rc;
    draw_darken(u);
    SDL_RenderPresent(u->ren);
    u->stats.frames++;
    return TP_OK;
}

/* Draws a frame into an offscreen target of the window's size and saves it as PNG: as the
 * panel shows it (window), or turned back upright to the logical size. */
static tp_err shot(ui *u, const char *path, bool window)
{
    tp_err rc = TP_OK;
    SDL_Texture *wt = NULL;
    SDL_Surface *ws = NULL, *ls = NULL;
    if (!path || !path[0])
        return fail(u, TP_ERR_INVALID, "screenshot: no path");
    u->frame++;
    wt =
        SDL_CreateTexture(u->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET, u->ww, u->wh);
    if (!wt || SDL_SetRenderTarget(u->ren, wt) != 0) {
        rc = fail(u, TP_ERR_UNSUPPORTED, "screenshot %s: target: %s", path, SDL_GetError());
        goto out;
    }
    rc = ui_draw(u);
    if (rc != TP_OK)
        goto out;
    if (window)
        draw_darken(u); /* as the panel shows it */
    ws = SDL_CreateRGBSurfaceWithFormat(0, u->ww, u->wh, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!ws) {
        rc = fail(u, TP_ERR_NOMEM, "screenshot %s: %s", path, SDL_GetError());
        goto out;
    }
    if (SDL_RenderReadPixels(u->ren, NULL, SDL_PIXELFORMAT_ARGB8888, ws->pixels, ws->pitch) != 0) {
        rc = fail(u, TP_ERR_UNSUPPORTED, "screenshot %s: read pixels: %s", path, SDL_GetError());
        goto out;
    }
    SDL_Surface *save = ws;
    if (!window && u->rotation != 0) {
        ls = SDL_CreateRGBSurfaceWithFormat(0, u->lw, u->lh, 32, SDL_PIXELFORMAT_ARGB8888);
        if (!ls) {
            rc = fail(u, TP_ERR_NOMEM, "screenshot %s: %s", path, SDL_GetError());
            goto out;
        }
        for (int y = 0; y < u->lh; y++) {
            uint32_t *row = (uint32_t *)((uint8_t *)ls->pixels + (size_t)y * (size_t)ls->pitch);
            for (int x = 0; x < u->lw; x++) {
                int wx, wy;
                ui_to_window(u, x, y, &wx, &wy);
                row[x] = *(const uint32_t *)((const uint8_t *)ws->pixels +
                                             (size_t)wy * (size_t)ws->pitch + (size_t)wx * 4);
            }
        }
        save = ls;
    }
    errno = 0;
    if (IMG_SavePNG(save, path) != 0)
        rc = fail(u, TP_ERR_IO, "screenshot %s: %s%s%s", path, IMG_GetError(), errno ? ": " : "",
                  errno ? strerror(errno) : "");
out:
    SDL_SetRenderTarget(u->ren, NULL);
    SDL_FreeSurface(ls);
    SDL_FreeSurface(ws);
    if (wt)
        SDL_DestroyTexture(wt);
    return rc;
}

tp_err ui_screenshot(ui *u, const char *png_path)
{
    return shot(u, png_path, false);
}

tp_err ui_screenshot_window(ui *u, const char *png_path)
{
    return shot(u, png_path, true);
}

/* ---- Geometry ------------------------------------------------------------------------------- */

void ui_to_logical(const ui *u, int wx, int wy, int *lx, int *ly)
{
    switch (u->rotation) {
    case 90: /* logical (x, y) is shown at window (lh - 1 - y, x) */
        *lx = wy;
        *ly = u->lh - 1 - wx;
        break;
    case 180:
        *lx = u->lw - 1 - wx;
        *ly = u->lh - 1 - wy;
        break;
    case 270: /* logical (x, y) is shown at window (y, lw - 1 - x) */
        *lx = u->lw - 1 - wy;
        *ly = wx;
        break;
    default: *lx = wx; *ly = wy;
    }
}

void ui_to_window(const ui *u, int lx, int ly, int *wx, int *wy)
{
    switch (u->rotation) {
    case 90:
        *wx = u->lh - 1 - ly;
        *wy = lx;
        break;
    case 180:
        *wx = u->lw - 1 - lx;
        *wy = u->lh - 1 - ly;
        break;
    case 270:
        *wx = ly;
        *wy = u->lw - 1 - lx;
        break;
    default: *wx = lx; *wy = ly;
    }
}

const char *ui_hit(const ui *u, int x, int y)
{
    int lx, ly;
    if (!u || x < 0 || y < 0 || x >= u->ww || y >= u->wh)
        return NULL;
    ui_to_logical(u, x, y, &lx, &ly);
    for (int i = 0; i < u->nw; i++) {
        const ui_widget *w = &u->w[i];
        if (w->interactive && lx >= w->rect.x && ly >= w->rect.y && lx < w->rect.x + w->rect.w &&
            ly < w->rect.y + w->rect.h)
            return w->id;
    }
    return NULL;
}

int ui_widget_count(const ui *u)
{
    return u->nw;
}

tp_err ui_widget_get(const ui *u, int i, ui_widget_info *out)
{
    if (i < 0 || i >= u->nw)
        return TP_ERR_INVALID;
    const ui_widget *w = &u->w[i];
    memset(out, 0, sizeof *out);
    out->id = w->id;
    out->kind = w->kind;
    out->interactive = w->interactive;
    out->rect = w->rect;
    bool has_text = w->text && w->text[0];
    if (has_text) {
        out->text_rect = w->text_box;
        out->ink_rect = w->ink;
        out->font_px = w->px;
        out->text_lines = w->lines;
    }
    out->text_fits = has_text ? w->fits : true;
    return TP_OK;
}

tp_err ui_widget_find(const ui *u, const char *id, ui_widget_info *out)
{
    for (int i = 0; id && i < u->nw; i++)
        if (strcmp(u->w[i].id, id) == 0)
            return ui_widget_get(u, i, out);
    return TP_ERR_NOT_FOUND;
}

tp_err ui_widget_line(const ui *u, const char *id, int i, char *out, size_t outlen)
{
    const ui_widget *w = NULL;
    for (int k = 0; id && k < u->nw && !w; k++)
        if (strcmp(u->w[k].id, id) == 0)
            w = &u->w[k];
    if (!w || !w->text || !w->text[0] || w->px <= 0 || i < 0)
        return TP_ERR_NOT_FOUND;
    ui_measure ms = ui_fonts_measure(u->fonts);
    ui_line lines[UI_WRAP_MAX];
    const char *t = w->text, *tab = w->role == UI_ROLE_LINE ? strchr(t, '\t') : NULL;
    char key[UI_TEXT_MAX + 1];
    int maxw = w->role == UI_ROLE_LINE ? w->key_w : w->wrap_w;
    if (tab) { /* the key column first, then the value column (drawn bold) */
        memcpy(key, t, (size_t)(tab - t));
        key[tab - t] = '\0';
        t = key;
    }
    int n = ui_wrap(&ms, t, w->px, w->bold, maxw, lines);
    n = n > UI_WRAP_MAX ? UI_WRAP_MAX : n;
    if (i >= n && tab) {
        i -= n;
        t = tab + 1;
        n = ui_wrap(&ms, t, w->px, true, w->val_w, lines);
        n = n > UI_WRAP_MAX ? UI_WRAP_MAX : n;
    }
    if (i >= n)
        return TP_ERR_NOT_FOUND;
    size_t len = (size_t)lines[i].len;
    if (outlen == 0)
        return TP_ERR_TOO_LARGE;
    size_t cp = len < outlen ? len : outlen - 1;
    memcpy(out, t + lines[i].off, cp);
    out[cp] = '\0';
    return cp < len ? TP_ERR_TOO_LARGE : TP_OK;
}

void ui_window_size(const ui *u, int *w, int *h)
{
    *w = u->ww;
    *h = u->wh;
}

void ui_logical_size(const ui *u, int *w, int *h)
{
    *w = u->lw;
    *h = u->lh;
}

int ui_min_target(const ui *u)
{
    return u->min_target;
}

void ui_get_stats(const ui *u, ui_stats *out)
{
    *out = u->stats;
}
