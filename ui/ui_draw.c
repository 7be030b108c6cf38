/*
 * ui_draw.c - drawing: the theme (colours and looks), the texture cache, shapes and text as cached
 * textures, and every widget of the laid-out screen (ui_draw). ui.c owns the handle and the model.
 */
#include <math.h>
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

/* ---- Texture cache -------------------------------------------------------------------------- */

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
    uint64_t h = tp_hash_str(key);
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
    uint64_t h = tp_hash_str(key);
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

ui_rgba ui_theme_bg(ui_screen_kind screen)
{
    return screen == UI_SCREEN_STAFF || screen == UI_SCREEN_PIN ? C_BG_STAFF : C_BG;
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
    uint64_t h = tp_hash_str(key);
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
        return tp_errf(u->errmsg, sizeof u->errmsg, TP_ERR_UNSUPPORTED, "render: clear failed: %s",
                       SDL_GetError());
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
