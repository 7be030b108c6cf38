/*
 * ui.c - the public ui API: SDL set-up, the copied screen model, drawing through the texture
 * cache, rotation on present, hit-testing and screenshots. Layout lives in ui_layout.c, fonts and
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

/* ---- Theme: a calm warm background, dark ink, one teal accent ------------------------------
 *
 * Contrast (WCAG 2.1): every control's boundary (its fill, or its outline when the fill is light)
 * is at least 3:1 against the screen behind it (1.4.11), every label at least 4.5:1 against what
 * it sits on (1.4.3), in every state: normal, selected, pressed, disabled. test_ui_look checks
 * the ratios for every widget kind and state through ui_theme_look(). Numbered scales are neutral
 * by default (white keys, the number is the label); "traffic" keeps the coloured look. */

static const ui_rgba C_BG = {245, 243, 238, 255};
static const ui_rgba C_BG_STAFF = {236, 240, 244, 255};
static const ui_rgba C_INK = {29, 39, 51, 255};
static const ui_rgba C_SOFT = {84, 94, 108, 255};
static const ui_rgba C_WHITE = {255, 255, 255, 255};
static const ui_rgba C_BORDER = {110, 118, 130, 255}; /* 4:1 on both backgrounds */
static const ui_rgba C_ACCENT = {14, 110, 110, 255};
static const ui_rgba C_ACCENT_SOFT = {221, 240, 238, 255};
static const ui_rgba C_DANGER = {196, 52, 52, 255};
static const ui_rgba C_DISABLED = {234, 236, 240, 255};
static const ui_rgba C_DISABLED_LINE = {128, 136, 148, 255};
static const ui_rgba C_DISABLED_INK = {92, 100, 112, 255};
static const ui_rgba C_RED = {204, 48, 54, 255};
static const ui_rgba C_AMBER = {242, 169, 59, 255};
static const ui_rgba C_AMBER_LINE = {150, 100, 20, 255};
static const ui_rgba C_AMBER_INK = {59, 37, 0, 255};
static const ui_rgba C_GREEN = {25, 125, 72, 255};
static const ui_rgba C_OK_GREEN = {34, 139, 84, 255}; /* the thank-you check mark */

static const ui_rgba C_CSAT[5] = {
    {224, 72, 75, 255},  {240, 138, 60, 255}, {242, 192, 75, 255},
    {156, 203, 91, 255}, {34, 139, 84, 255},
};
/* smiley4 by value: 1 dark red, 2 light red, 3 light green, 4 dark green. */
static const ui_rgba C_SMILEY[4] = {
    {190, 40, 44, 255},
    {240, 124, 114, 255},
    {140, 203, 94, 255},
    {24, 133, 66, 255},
};

static ui_rgba shade(ui_rgba c, float f)
{
    ui_rgba o = {(uint8_t)(c.r * f), (uint8_t)(c.g * f), (uint8_t)(c.b * f), c.a};
    return o;
}

static double lin(uint8_t v)
{
    double c = v / 255.0;
    return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

double ui_contrast(ui_rgba a, ui_rgba b)
{
    double la = 0.2126 * lin(a.r) + 0.7152 * lin(a.g) + 0.0722 * lin(a.b);
    double lb = 0.2126 * lin(b.r) + 0.7152 * lin(b.g) + 0.0722 * lin(b.b);
    return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

/* Ink that reads on fill: white or the dark ink, whichever contrasts more. */
static ui_rgba ink_on(ui_rgba fill)
{
    return ui_contrast(C_WHITE, fill) >= ui_contrast(C_INK, fill) ? C_WHITE : C_INK;
}

static uint32_t rgba_u32(ui_rgba c)
{
    return (uint32_t)c.r << 24 | (uint32_t)c.g << 16 | (uint32_t)c.b << 8 | c.a;
}

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

/* ---- Texture cache -------------------------------------------------------------------------- */

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void ui_cache_clear(ui_cache *c)
{
    for (int i = 0; i < c->n; i++) {
        SDL_DestroyTexture(c->e[i].tex);
        free(c->e[i].key);
    }
    c->n = 0;
    c->bytes = 0;
}

static ui_tex *cache_find(ui *u, const char *key, uint64_t h)
{
    for (int i = 0; i < u->cache.n; i++) {
        ui_tex *t = &u->cache.e[i];
        if (t->hash == h && strcmp(t->key, key) == 0) {
            t->used = u->frame;
            u->stats.cache_hits++;
            return t;
        }
    }
    return NULL;
}

/* Drops least recently used textures (never one used in this frame) until there is room for
 * one more entry of bytes. */
static void cache_make_room(ui *u, long bytes)
{
    ui_cache *c = &u->cache;
    while (c->n > 0 && (c->n >= UI_CACHE_MAX || c->bytes + bytes > UI_CACHE_BYTES)) {
        int lru = -1;
        for (int i = 0; i < c->n; i++)
            if (c->e[i].used < u->frame && (lru < 0 || c->e[i].used < c->e[lru].used))
                lru = i;
        if (lru < 0)
            return;
        SDL_DestroyTexture(c->e[lru].tex);
        free(c->e[lru].key);
        c->bytes -= c->e[lru].bytes;
        c->e[lru] = c->e[--c->n];
    }
}

/* Takes ownership of tex. Returns the entry or NULL (tex destroyed) when the cache is full. */
static ui_tex *cache_put(ui *u, const char *key, uint64_t h, SDL_Texture *tex, int w, int hgt)
{
    long bytes = (long)w * hgt * 4;
    cache_make_room(u, bytes);
    size_t kl = strlen(key) + 1;
    char *k = malloc(kl);
    if (!k || u->cache.n >= UI_CACHE_MAX) {
        free(k);
        SDL_DestroyTexture(tex);
        return NULL;
    }
    memcpy(k, key, kl);
    ui_tex *t = &u->cache.e[u->cache.n++];
    t->hash = h;
    t->key = k;
    t->tex = tex;
    t->w = w;
    t->h = hgt;
    t->bytes = bytes;
    t->used = u->frame;
    u->cache.bytes += bytes;
    return t;
}

/* ---- Shapes as cached textures -------------------------------------------------------------- */

typedef enum shape_kind { SH_RRECT, SH_FACE, SH_CHECK, SH_WARN, SH_RING, SH_DOTS } shape_kind;

typedef struct shape_req {
    shape_kind kind;
    int w, h;
    ui_rgba a, b;     /* fill, second colour (border / ink / track) */
    ui_rgba c;        /* ring colour (face) */
    float f1, f2, f3; /* radius/mood/progress, border/ring, shadow */
    int i1, i2;       /* dots: n, filled */
} shape_req;

/* Makes a static texture of the w x h ARGB pixels (row pitch in bytes), turned by the panel's
 * rotation so that drawing it needs a plain copy (no per-frame rotation). NULL on failure. */
static SDL_Texture *make_tex(ui *u, const uint32_t *pix, int w, int h, int pitch)
{
    int tw = w, th = h;
    uint32_t *rot = NULL;
    const void *src = pix;
    int src_pitch = pitch;
    if (u->rotation != 0) {
        if (u->rotation != 180)
            tw = h, th = w;
        rot = malloc((size_t)w * (size_t)h * sizeof *rot);
        if (!rot)
            return NULL;
        for (int y = 0; y < h; y++) {
            const uint32_t *row = (const uint32_t *)((const uint8_t *)pix + (size_t)y * pitch);
            for (int x = 0; x < w; x++) {
                int dx, dy; /* where logical (x, y) lands, as in ui_to_window */
                if (u->rotation == 90)
                    dx = h - 1 - y, dy = x;
                else if (u->rotation == 180)
                    dx = w - 1 - x, dy = h - 1 - y;
                else
                    dx = y, dy = w - 1 - x;
                rot[(size_t)dy * (size_t)tw + (size_t)dx] = row[x];
            }
        }
        src = rot;
        src_pitch = tw * 4;
    }
    SDL_Texture *tex =
        SDL_CreateTexture(u->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC, tw, th);
    if (tex) {
        SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
        if (SDL_UpdateTexture(tex, NULL, src, src_pitch) != 0) {
            SDL_DestroyTexture(tex);
            tex = NULL;
        }
    }
    free(rot);
    return tex;
}

static ui_tex *shape_tex(ui *u, const shape_req *r)
{
    char key[160];
    snprintf(key, sizeof key, "S%d|%dx%d|%08x|%08x|%08x|%.3f|%.3f|%.3f|%d|%d", (int)r->kind, r->w,
             r->h, (unsigned)rgba_u32(r->a), (unsigned)rgba_u32(r->b), (unsigned)rgba_u32(r->c),
             (double)r->f1, (double)r->f2, (double)r->f3, r->i1, r->i2);
    uint64_t h = fnv(key);
    ui_tex *t = cache_find(u, key, h);
    if (t || r->w <= 0 || r->h <= 0)
        return t;
    uint32_t *pix = calloc((size_t)r->w * (size_t)r->h, sizeof *pix);
    if (!pix)
        return NULL;
    switch (r->kind) {
    case SH_RRECT: ui_shape_rrect(pix, r->w, r->h, r->f1, r->a, r->f2, r->b, r->f3); break;
    case SH_FACE: ui_shape_face(pix, r->w, r->h, r->a, r->f1, r->b, r->f2, r->c); break;
    case SH_CHECK: ui_shape_check(pix, r->w, r->h, r->a, r->b); break;
    case SH_WARN: ui_shape_warn(pix, r->w, r->h, r->a, r->b); break;
    case SH_RING: ui_shape_ring(pix, r->w, r->h, r->f1, r->a, r->b); break;
    case SH_DOTS: ui_shape_dots(pix, r->w, r->h, r->i1, r->i2, r->a); break;
    }
    SDL_Texture *tex = make_tex(u, pix, r->w, r->h, r->w * 4);
    if (tex) {
        u->stats.shapes_rasterized++;
        t = cache_put(u, key, h, tex, r->w, r->h);
    }
    free(pix);
    return t;
}

/* Copies t to the logical position (x, y): mapped to the panel, as its pixels already are. */
static void copy_tex(ui *u, const ui_tex *t, int x, int y)
{
    if (!t)
        return;
    SDL_Rect dst = {x, y, t->w, t->h};
    switch (u->rotation) {
    case 90: dst = (SDL_Rect){u->lh - y - t->h, x, t->h, t->w}; break;
    case 180: dst = (SDL_Rect){u->lw - x - t->w, u->lh - y - t->h, t->w, t->h}; break;
    case 270: dst = (SDL_Rect){y, u->lw - x - t->w, t->h, t->w}; break;
    default: break;
    }
    SDL_RenderCopy(u->ren, t->tex, NULL, &dst);
}

/* ---- Text as cached textures ---------------------------------------------------------------- */

/* The texture of text wrapped at maxw, lines aligned within the block. */
static ui_tex *text_tex(ui *u, const char *text, int px, bool bold, int maxw, int align,
                        ui_rgba col)
{
    char key[UI_TEXT_MAX + 96];
    snprintf(key, sizeof key, "T%d|%d|%08x|%d|%d|%s", px, bold ? 1 : 0, (unsigned)rgba_u32(col),
             maxw, align, text);
    uint64_t h = fnv(key);
    ui_tex *t = cache_find(u, key, h);
    if (t || !text[0] || px <= 0)
        return t;
    TTF_Font *font = ui_fonts_get(u->fonts, px, bold);
    if (!font)
        return NULL;
    ui_measure ms = ui_fonts_measure(u->fonts);
    ui_line lines[UI_WRAP_MAX];
    int n = ui_wrap(&ms, text, px, bold, maxw, lines);
    if (n > UI_WRAP_MAX)
        n = UI_WRAP_MAX;
    int bw = 1;
    for (int i = 0; i < n; i++)
        if (lines[i].w > bw)
            bw = lines[i].w;
    int bh = (n - 1) * UI_LINE_STEP(px) + TTF_FontHeight(font);
    SDL_Surface *block = SDL_CreateRGBSurfaceWithFormat(0, bw, bh, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!block)
        return NULL;
    /* Transparent pixels of the text's own colour, so blending lines that touch (the line step
     * is tighter than the font's line box) keeps the colour exact. */
    SDL_FillRect(block, NULL, SDL_MapRGBA(block->format, col.r, col.g, col.b, 0));
    SDL_Color sc = {col.r, col.g, col.b, 255};
    for (int i = 0; i < n; i++) {
        char buf[UI_TEXT_MAX + 1];
        if (lines[i].len <= 0)
            continue;
        memcpy(buf, text + lines[i].off, (size_t)lines[i].len);
        buf[lines[i].len] = '\0';
        SDL_Surface *ls = TTF_RenderUTF8_Blended(font, buf, sc);
        if (!ls)
            continue;
        SDL_SetSurfaceBlendMode(ls, SDL_BLENDMODE_BLEND);
        int x = align == UI_ALIGN_LEFT    ? 0
                : align == UI_ALIGN_RIGHT ? bw - ls->w
                                          : (bw - ls->w) / 2;
        SDL_Rect dst = {x, i * UI_LINE_STEP(px), ls->w, ls->h};
        SDL_BlitSurface(ls, NULL, block, &dst);
        SDL_FreeSurface(ls);
    }
    SDL_Texture *tex = make_tex(u, block->pixels, bw, bh, block->pitch);
    SDL_FreeSurface(block);
    if (!tex)
        return NULL;
    u->stats.text_rasterized++;
    return cache_put(u, key, h, tex, bw, bh);
}

/* Draws w's text block at its ink position. */
static void draw_text(ui *u, const ui_widget *w, ui_rgba col)
{
    if (!w->text || !w->text[0] || w->text_box.w <= 0)
        return;
    ui_tex *t = text_tex(u, w->text, w->px, w->bold, w->wrap_w, w->align, col);
    copy_tex(u, t, w->ink.x, w->ink.y);
}

/* ---- Drawing widgets ------------------------------------------------------------------------ */

/* Fill of a traffic-style numbered button, or of a face, by value. */
static ui_rgba scale_fill(tp_kind k, int v)
{
    switch (k) {
    case TP_KIND_NPS: {
        tp_nps_band b = tp_nps_band_of(v);
        return b == TP_NPS_DETRACTOR ? C_RED : b == TP_NPS_PASSIVE ? C_AMBER : C_GREEN;
    }
    case TP_KIND_CES: {
        /* 1 (very hard) .. 7 (very easy): pale to full accent, skipping the middle tones on
         * which neither dark nor white ink reaches 4.5:1. */
        ui_rgba a = {226, 240, 238, 255}, b = {150, 204, 200, 255};
        float t = (float)(v - 1) / 3.0f;
        if (v >= 5)
            a = (ui_rgba){34, 126, 124, 255}, b = C_ACCENT, t = (float)(v - 5) / 2.0f;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        ui_rgba c = {(uint8_t)lroundf(a.r + (b.r - a.r) * t),
                     (uint8_t)lroundf(a.g + (b.g - a.g) * t),
                     (uint8_t)lroundf(a.b + (b.b - a.b) * t), 255};
        return c;
    }
    case TP_KIND_CSAT: return C_CSAT[v < 1 ? 0 : v > 5 ? 4 : v - 1];
    case TP_KIND_SMILEY4: return C_SMILEY[v < 1 ? 0 : v > 4 ? 3 : v - 1];
    case TP_KIND_CHOICE: break;
    }
    return C_WHITE;
}

static float face_mood(tp_kind k, int v)
{
    if (k == TP_KIND_SMILEY4) {
        static const float m[4] = {-1.0f, -0.45f, 0.45f, 1.0f};
        return m[v < 1 ? 0 : v > 4 ? 3 : v - 1];
    }
    return ((float)(v < 1 ? 1 : v > 5 ? 5 : v) - 3.0f) / 2.0f;
}

ui_look ui_theme_look(ui_role role, ui_style st, int value, tp_kind scale, ui_scale_style ss,
                      ui_screen_kind screen, bool selected, bool pressed)
{
    ui_look l;
    l.bg = screen == UI_SCREEN_STAFF || screen == UI_SCREEN_PIN ? C_BG_STAFF : C_BG;
    if (role == UI_ROLE_FACE) {
        l.fill = st == UI_STYLE_DISABLED ? C_DISABLED : scale_fill(scale, value);
        if (pressed)
            l.fill = shade(l.fill, 0.85f);
        /* The disc's own outline: a dark tone of its colour, so a pale face still stands out. */
        l.border = pressed                   ? C_INK
                   : st == UI_STYLE_DISABLED ? C_DISABLED_LINE
                                             : shade(l.fill, 0.55f);
        l.mark = ink_on(l.fill);
        l.text_bg = pressed ? C_ACCENT_SOFT : l.bg; /* a pressed captioned face lights its tile */
        l.text = pressed ? C_INK : C_SOFT;
        return l;
    }
    if (role == UI_ROLE_PROGRESS) {
        l.fill = C_WHITE, l.border = C_BORDER, l.text = C_INK, l.text_bg = l.fill,
        l.mark = C_ACCENT;
        return l;
    }
    if (role == UI_ROLE_SCALE_BTN && st == UI_STYLE_AUTO && ss == UI_SCALE_TRAFFIC) {
        l.fill = scale_fill(scale, value);
        l.border = scale == TP_KIND_CES                                              ? C_ACCENT
                   : scale == TP_KIND_NPS && tp_nps_band_of(value) == TP_NPS_PASSIVE ? C_AMBER_LINE
                                                                                     : l.fill;
        l.text = scale == TP_KIND_NPS && tp_nps_band_of(value) == TP_NPS_PASSIVE ? C_AMBER_INK
                                                                                 : ink_on(l.fill);
    } else if (st == UI_STYLE_PRIMARY) {
        l.fill = C_ACCENT, l.border = C_ACCENT, l.text = C_WHITE;
    } else if (st == UI_STYLE_DANGER) {
        l.fill = C_DANGER, l.border = C_DANGER, l.text = C_WHITE;
    } else if (st == UI_STYLE_DISABLED) {
        l.fill = C_DISABLED, l.border = C_DISABLED_LINE, l.text = C_DISABLED_INK;
    } else if (st == UI_STYLE_SELECTED || selected) {
        l.fill = C_ACCENT_SOFT, l.border = C_ACCENT, l.text = C_ACCENT;
    } else { /* neutral: chips, keys, menu buttons, the neutral scale */
        l.fill = C_WHITE, l.border = C_BORDER, l.text = C_INK;
    }
    if (pressed) {
        bool light = st == UI_STYLE_NEUTRAL || st == UI_STYLE_AUTO || st == UI_STYLE_SELECTED;
        bool colored = role == UI_ROLE_SCALE_BTN && st == UI_STYLE_AUTO && ss == UI_SCALE_TRAFFIC;
        l.fill = colored ? shade(l.fill, 0.8f) : shade(light ? C_ACCENT : l.fill, 0.85f);
        l.border = C_INK;
        l.text = ink_on(l.fill);
    }
    l.text_bg = l.fill;
    l.mark = l.text;
    return l;
}

ui_rgba ui_theme_text(ui_role role, ui_screen_kind screen, bool warn, ui_rgba *bg)
{
    *bg = screen == UI_SCREEN_STAFF || screen == UI_SCREEN_PIN ? C_BG_STAFF : C_BG;
    if (warn)
        return C_DANGER;
    return role == UI_ROLE_SUBTITLE || role == UI_ROLE_ANCHOR ? C_SOFT : C_INK;
}

ui_rgba ui_theme_accent(void)
{
    return C_ACCENT;
}

bool ui_parse_rgb(const char *s, ui_rgba *out)
{
    unsigned v = 0;
    if (!s || strlen(s) != 7 || s[0] != '#')
        return false;
    for (int i = 1; i < 7; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return false;
        v = v * 16 + (unsigned)d;
    }
    *out = (ui_rgba){(Uint8)(v >> 16), (Uint8)(v >> 8), (Uint8)v, 255};
    return true;
}

static ui_look widget_look(const ui *u, const ui_widget *w, bool selected, bool hl)
{
    const ui_model *md = &u->model;
    return ui_theme_look(w->role, w->style, w->value, md->scale, md->scale_style, md->kind,
                         selected, hl);
}

static void draw_button(ui *u, const ui_widget *w, bool hl, bool selected, float radius_f)
{
    ui_look l = widget_look(u, w, selected, hl);
    int side = w->rect.w < w->rect.h ? w->rect.w : w->rect.h;
    float shadow = hl ? 0.0f : fmaxf(2.0f, roundf((float)side * 0.04f));
    float bw = hl ? fmaxf(3.0f, roundf((float)side * 0.05f)) : fmaxf(2.0f, (float)side / 50.0f);
    bool solid = memcmp(&l.fill, &l.border, sizeof l.fill) == 0 && !hl;
    shape_req r = {SH_RRECT,
                   w->rect.w,
                   w->rect.h,
                   l.fill,
                   l.border,
                   {0, 0, 0, 0},
                   radius_f < 0 ? (float)side / 2.0f : roundf((float)side * radius_f),
                   solid ? 0.0f : bw,
                   shadow,
                   0,
                   0};
    ui_tex *t = shape_tex(u, &r);
    /* Pressed: the body moves down into its shadow strip. */
    copy_tex(u, t, w->rect.x, w->rect.y);
    draw_text(u, w, l.text);
}

static void draw_face(ui *u, const ui_widget *w, bool hl)
{
    ui_look l = widget_look(u, w, false, hl);
    float ring = hl ? fmaxf(3.0f, roundf((float)w->shape.w * 0.04f))
                    : -fmaxf(2.0f, roundf((float)w->shape.w * 0.02f));
    if (hl && w->text && w->text[0]) { /* a captioned face: its whole tile lights up */
        int side = w->rect.w < w->rect.h ? w->rect.w : w->rect.h;
        shape_req card = {SH_RRECT,
                          w->rect.w,
                          w->rect.h,
                          l.text_bg,
                          C_ACCENT,
                          {0, 0, 0, 0},
                          roundf((float)side * 0.18f),
                          fmaxf(2.0f, roundf((float)side / 50.0f)),
                          0,
                          0,
                          0};
        copy_tex(u, shape_tex(u, &card), w->rect.x, w->rect.y);
    }
    shape_req r = {SH_FACE,
                   w->shape.w,
                   w->shape.h,
                   l.fill,
                   l.mark,
                   l.border,
                   face_mood(u->model.scale, w->value),
                   ring,
                   0,
                   0,
                   0};
    copy_tex(u, shape_tex(u, &r), w->shape.x, w->shape.y);
    draw_text(u, w, l.text);
}

static void draw_line(ui *u, const ui_widget *w)
{
    const char *tab = strchr(w->text, '\t');
    if (!tab) {
        ui_tex *t = text_tex(u, w->text, w->px, false, w->key_w, UI_ALIGN_LEFT, C_INK);
        copy_tex(u, t, w->ink.x, w->ink.y);
        return;
    }
    char key[UI_TEXT_MAX + 1];
    size_t kl = (size_t)(tab - w->text);
    memcpy(key, w->text, kl);
    key[kl] = '\0';
    ui_tex *k = text_tex(u, key, w->px, false, w->key_w, UI_ALIGN_LEFT, C_SOFT);
    bool warn = w->value >= 0 && w->value < UI_LINES_MAX && (u->model.warn_lines >> w->value) & 1u;
    ui_tex *v =
        text_tex(u, tab + 1, w->px, true, w->val_w, UI_ALIGN_RIGHT, warn ? C_DANGER : C_INK);
    copy_tex(u, k, w->ink.x, w->ink.y);
    if (v)
        copy_tex(u, v, w->text_box.x + w->text_box.w - v->w, w->ink.y);
}

/* The progress bar: a track with the filled part from the left in the accent colour. The fill
 * is quantised to 1/200 of the width, so its texture cache stays bounded. */
static void draw_progress(ui *u, const ui_widget *w)
{
    float radius = (float)w->rect.h / 2.0f;
    shape_req track = {SH_RRECT,  w->rect.w,
                       w->rect.h, C_WHITE,
                       C_BORDER,  {0, 0, 0, 0},
                       radius,    fmaxf(1.5f, (float)w->rect.h / 12.0f),
                       0,         0,
                       0};
    copy_tex(u, shape_tex(u, &track), w->rect.x, w->rect.y);
    float q = roundf(u->model.progress * 200.0f) / 200.0f;
    int fw = (int)lroundf(q * (float)w->rect.w);
    if (fw <= 0)
        return;
    if (fw < w->rect.h) /* a sliver still reads as "started" and keeps its round ends */
        fw = w->rect.h < w->rect.w ? w->rect.h : w->rect.w;
    shape_req fill = {SH_RRECT, fw, w->rect.h, C_ACCENT, C_ACCENT, {0, 0, 0, 0},
                      radius,   0,  0,         0,        0};
    copy_tex(u, shape_tex(u, &fill), w->rect.x, w->rect.y);
}

static void draw_logo(ui *u, const ui_widget *w);

/* The pairing QR code: whole pixels per module, black on white, a quiet zone of 4 modules,
 * centred in the widget; drawn as rectangles (no texture, no scaling blur). */
static void draw_qr(ui *u, const ui_widget *w)
{
    const ui_model *md = &u->model;
    int n = md->qr_size;
    if (n <= 0)
        return;
    int mod = (w->rect.w < w->rect.h ? w->rect.w : w->rect.h) / (n + 8);
    if (mod < 1)
        mod = 1;
    int side = mod * (n + 8);
    int x0 = w->rect.x + (w->rect.w - side) / 2, y0 = w->rect.y + (w->rect.h - side) / 2;
    SDL_SetRenderDrawBlendMode(u->ren, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(u->ren, 255, 255, 255, 255);
    SDL_Rect bg = {x0, y0, side, side};
    SDL_RenderFillRect(u->ren, &bg);
    SDL_SetRenderDrawColor(u->ren, 0, 0, 0, 255);
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++)
            if (md->qr[r * n + c]) {
                SDL_Rect m = {x0 + (c + 4) * mod, y0 + (r + 4) * mod, mod, mod};
                SDL_RenderFillRect(u->ren, &m);
            }
}

static void draw_widget(ui *u, const ui_widget *w, bool hl)
{
    const ui_model *md = &u->model;
    switch (w->role) {
    case UI_ROLE_PROMPT:
    case UI_ROLE_MESSAGE:
    case UI_ROLE_SUBTITLE:
    case UI_ROLE_ANCHOR: {
        ui_rgba bg;
        bool warn = w->role == UI_ROLE_SUBTITLE && md->subtitle_warn;
        draw_text(u, w, ui_theme_text(w->role, md->kind, warn, &bg));
        break;
    }
    case UI_ROLE_LINE: draw_line(u, w); break;
    case UI_ROLE_SCALE_BTN: draw_button(u, w, hl, false, 0.16f); break;
    case UI_ROLE_FACE: draw_face(u, w, hl); break;
    case UI_ROLE_CHIP:
    case UI_ROLE_MENU: draw_button(u, w, hl, false, 0.2f); break;
    case UI_ROLE_KEY:
    case UI_ROLE_ACTION: draw_button(u, w, hl, false, 0.18f); break;
    case UI_ROLE_LANG: {
        char want[UI_ID_MAX + 1];
        snprintf(want, sizeof want, "lang-%s", md->lang);
        bool sel = md->lang[0] && strcmp(want, w->id) == 0;
        ui_widget tw = *w;
        if (sel && tw.style == UI_STYLE_AUTO)
            tw.style = UI_STYLE_PRIMARY;
        draw_button(u, &tw, hl, false, -1.0f);
        break;
    }
    case UI_ROLE_ZONE: break; /* invisible; the hold ring is drawn last, on top */
    case UI_ROLE_ICON_OK: {
        /* Entry animation: the mark grows from half size with an ease-out, in 12 steps (so at
         * most 12 cached sizes). */
        float a = roundf(md->anim * 12.0f) / 12.0f;
        float e = 1.0f - (1.0f - a) * (1.0f - a);
        int d = (int)lroundf((float)w->rect.w * (0.5f + 0.5f * e));
        shape_req r = {SH_CHECK, d, d, C_OK_GREEN, C_WHITE, {0, 0, 0, 0}, 0, 0, 0, 0, 0};
        copy_tex(u, shape_tex(u, &r), w->rect.x + (w->rect.w - d) / 2,
                 w->rect.y + (w->rect.h - d) / 2);
        break;
    }
    case UI_ROLE_RING: {
        if (!(md->countdown > 0.0f))
            break;
        float q = roundf(md->countdown * 100.0f) / 100.0f; /* at most 101 cached rings */
        shape_req r = {SH_RING, w->rect.w, w->rect.h, u->accent, {29, 39, 51, 40}, {0, 0, 0, 0}, q,
                       0,       0,         0,         0};
        copy_tex(u, shape_tex(u, &r), w->rect.x, w->rect.y);
        break;
    }
    case UI_ROLE_LOGO: draw_logo(u, w); break;
    case UI_ROLE_INVITE: draw_text(u, w, u->accent); break;
    case UI_ROLE_ICON_WARN: {
        shape_req r = {SH_WARN, w->rect.w, w->rect.h, C_AMBER, C_INK, {0, 0, 0, 0}, 0, 0, 0, 0, 0};
        copy_tex(u, shape_tex(u, &r), w->rect.x, w->rect.y);
        break;
    }
    case UI_ROLE_PROGRESS: draw_progress(u, w); break;
    case UI_ROLE_QR: draw_qr(u, w); break;
    case UI_ROLE_PIN_DOTS: {
        shape_req r = {SH_DOTS, w->rect.w, w->rect.h, C_INK,       C_INK,      {0, 0, 0, 0},
                       0,       0,         0,         md->pin_max, md->pin_len};
        copy_tex(u, shape_tex(u, &r), w->rect.x, w->rect.y);
        break;
    }
    }
}

/* The logo, scaled once to its place (aspect kept by the layout) and cached like a shape. */
static void draw_logo(ui *u, const ui_widget *w)
{
    if (!u->logo || w->rect.w < 1 || w->rect.h < 1)
        return;
    char key[64];
    snprintf(key, sizeof key, "LOGO|%dx%d", w->rect.w, w->rect.h);
    uint64_t h = fnv(key);
    ui_tex *t = cache_find(u, key, h);
    if (!t) {
        SDL_Surface *s =
            SDL_CreateRGBSurfaceWithFormat(0, w->rect.w, w->rect.h, 32, SDL_PIXELFORMAT_ARGB8888);
        if (!s)
            return;
        SDL_SetSurfaceBlendMode(u->logo, SDL_BLENDMODE_NONE);
        if (SDL_BlitScaled(u->logo, NULL, s, NULL) == 0) {
            SDL_Texture *tex = make_tex(u, (const uint32_t *)s->pixels, s->w, s->h, s->pitch);
            if (tex)
                t = cache_put(u, key, h, tex, s->w, s->h);
        }
        SDL_FreeSurface(s);
    }
    copy_tex(u, t, w->rect.x, w->rect.y);
}

/* The hold ring: inside the staff corner (or the top-left target square without one). */
static void draw_hold(ui *u)
{
    float p = u->model.hold;
    if (!(p > 0.0f))
        return;
    ui_rect z = {0, 0, ui_min_target(u), ui_min_target(u)};
    for (int i = 0; i < u->nw; i++)
        if (u->w[i].role == UI_ROLE_ZONE)
            z = u->w[i].rect;
    int d = (z.w < z.h ? z.w : z.h) * 7 / 10;
    /* Quantised to 1/100 so the cache holds at most 101 rings. */
    float q = roundf(p * 100.0f) / 100.0f;
    shape_req r = {SH_RING, d, d, C_ACCENT, {29, 39, 51, 40}, {0, 0, 0, 0}, q, 0, 0, 0, 0};
    copy_tex(u, shape_tex(u, &r), z.x + (z.w - d) / 2, z.y + (z.h - d) / 2);
}

tp_err ui_draw(ui *u)
{
    ui_rgba bg =
        u->model.kind == UI_SCREEN_STAFF || u->model.kind == UI_SCREEN_PIN ? C_BG_STAFF : C_BG;
    SDL_SetRenderDrawBlendMode(u->ren, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(u->ren, bg.r, bg.g, bg.b, 255);
    if (SDL_RenderClear(u->ren) != 0)
        return fail(u, TP_ERR_UNSUPPORTED, "render: clear failed: %s", SDL_GetError());
    if (!u->have_screen)
        return TP_OK;
    for (int i = 0; i < u->nw; i++) {
        const ui_widget *w = &u->w[i];
        bool hl = u->model.highlight[0] && strcmp(u->model.highlight, w->id) == 0;
        draw_widget(u, w, hl);
    }
    draw_hold(u);
    return TP_OK;
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
    *out = C_ACCENT;
    if (!accent || !accent[0])
        return TP_OK;
    if (!ui_parse_rgb(accent, out))
        return tp_errf(err, errlen, TP_ERR_CONFIG, "ui: accent \"%s\" is not #RRGGBB", accent);
    if (ui_contrast(*out, C_BG) < 4.5)
        return tp_errf(err, errlen, TP_ERR_CONFIG,
                       "ui: accent %s reads %.2f:1 on the background #F5F3EE; text needs "
                       "4.5:1 (choose a darker colour)",
                       accent, ui_contrast(*out, C_BG));
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
