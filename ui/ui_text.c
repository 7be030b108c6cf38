/*
 * ui_text.c - fonts (found through fontconfig, loaded once into memory, opened per size in a
 * bounded LRU), text measuring, word wrap and fit-by-shrinking.
 *
 * The layout engine measures through ui_measure so that wrapping at layout time and drawing at
 * render time use the same widths (TTF_SizeUTF8 and TTF_RenderUTF8_Blended agree).
 */
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui_int.h"

#define FONT_SLOTS 40

typedef struct font_slot {
    TTF_Font *font;
    int px;
    bool bold;
    long used;
} font_slot;

struct ui_fonts {
    char path[2][1024]; /* regular, bold */
    void *data[2];      /* file contents (SDL_LoadFile) */
    size_t size[2];
    font_slot slot[FONT_SLOTS];
    long tick;
};

/* Vietnamese letters that must exist in the font (precomposed, with stacked diacritics). */
static const uint32_t vi_probe[] = {0x1EA5, 0x1EA1, 0x1EDF, 0x01B0, 0x0111, 0x1EC7, 0x1EF9};

/* What a message about a missing font adds: the Debian package of the default family (a kiosk
 * built on a bare image lacks it; another family's package is not ours to name). */
static const char *package_hint(const char *family)
{
    return strcmp(family, UI_FONT_FAMILY) == 0 ? "; install the Debian package " UI_FONT_PACKAGE
                                               : "";
}

/* Finds the file of family at weight through fontconfig. Returns TP_OK or TP_ERR_NOT_FOUND. */
static tp_err fc_find(FcConfig *cfg, const char *family, int weight, char *out, size_t outlen,
                      char *err, size_t errlen)
{
    tp_err rc = TP_ERR_NOT_FOUND;
    FcPattern *pat = NULL, *match = NULL;
    FcResult res = FcResultNoMatch;
    FcChar8 *file = NULL, *got_family = NULL;
    FcCharSet *cs = NULL;

    pat = FcPatternCreate();
    if (!pat) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "fontconfig: out of memory");
        goto out;
    }
    FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)family);
    FcPatternAddInteger(pat, FC_WEIGHT, weight);
    FcPatternAddInteger(pat, FC_SLANT, FC_SLANT_ROMAN);
    FcConfigSubstitute(cfg, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    match = FcFontMatch(cfg, pat, &res);
    if (!match || res != FcResultMatch ||
        FcPatternGetString(match, FC_FILE, 0, &file) != FcResultMatch) {
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "fontconfig: no font for family \"%s\"%s",
                     family, package_hint(family));
        goto out;
    }
    if (FcPatternGetString(match, FC_FAMILY, 0, &got_family) != FcResultMatch ||
        strcasecmp((const char *)got_family, family) != 0) {
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND,
                     "fontconfig: family \"%s\" is not installed (closest: %s)%s", family,
                     got_family ? (const char *)got_family : "none", package_hint(family));
        goto out;
    }
    if (FcPatternGetCharSet(match, FC_CHARSET, 0, &cs) == FcResultMatch) {
        for (size_t i = 0; i < sizeof vi_probe / sizeof vi_probe[0]; i++) {
            if (!FcCharSetHasChar(cs, vi_probe[i])) {
                rc =
                    tp_errf(err, errlen, TP_ERR_NOT_FOUND, "font %s lacks Vietnamese letter U+%04X",
                            (const char *)file, (unsigned)vi_probe[i]);
                goto out;
            }
        }
    }
    if (tp_strlcpy(out, (const char *)file, outlen) != TP_OK) {
        rc = tp_errf(err, errlen, TP_ERR_TOO_LARGE, "font path too long: %s", (const char *)file);
        goto out;
    }
    rc = TP_OK;
out:
    if (match)
        FcPatternDestroy(match);
    if (pat)
        FcPatternDestroy(pat);
    return rc;
}

tp_err ui_fonts_new(const char *family, ui_fonts **out, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    ui_fonts *f = NULL;
    FcConfig *cfg = NULL;

    *out = NULL;
    f = calloc(1, sizeof *f);
    if (!f)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "fonts: out of memory");
    /* The process-wide configuration: loading it scans every installed font's cache (tens of
     * milliseconds), so it is loaded once per process and kept, like fontconfig intends. */
    if (FcInit())
        cfg = FcConfigGetCurrent();
    if (!cfg) {
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "fontconfig: cannot load its configuration");
        goto out;
    }
    rc = fc_find(cfg, family, FC_WEIGHT_REGULAR, f->path[0], sizeof f->path[0], err, errlen);
    if (rc == TP_OK)
        rc = fc_find(cfg, family, FC_WEIGHT_BOLD, f->path[1], sizeof f->path[1], err, errlen);
    if (rc != TP_OK)
        goto out;
    for (int i = 0; i < 2; i++) {
        f->data[i] = SDL_LoadFile(f->path[i], &f->size[i]);
        if (!f->data[i]) {
            rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "font %s: %s%s", f->path[i], SDL_GetError(),
                         package_hint(family));
            goto out;
        }
    }
    for (int b = 0; b < 2; b++) {
        TTF_Font *probe = ui_fonts_get(f, 24, b == 1);
        if (!probe) {
            rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "font %s: %s%s", f->path[b], TTF_GetError(),
                         package_hint(family));
            goto out;
        }
        for (size_t i = 0; i < sizeof vi_probe / sizeof vi_probe[0]; i++) {
            if (!TTF_GlyphIsProvided32(probe, vi_probe[i])) {
                rc =
                    tp_errf(err, errlen, TP_ERR_NOT_FOUND, "font %s lacks Vietnamese letter U+%04X",
                            f->path[b], (unsigned)vi_probe[i]);
                goto out;
            }
        }
    }
out:
    if (rc != TP_OK) {
        ui_fonts_free(f);
        return rc;
    }
    *out = f;
    return TP_OK;
}

void ui_fonts_free(ui_fonts *f)
{
    if (!f)
        return;
    for (int i = 0; i < FONT_SLOTS; i++)
        if (f->slot[i].font)
            TTF_CloseFont(f->slot[i].font);
    SDL_free(f->data[0]);
    SDL_free(f->data[1]);
    free(f);
}

const char *ui_fonts_path(const ui_fonts *f, bool bold)
{
    return f->path[bold ? 1 : 0];
}

bool ui_fonts_has_glyph(ui_fonts *f, uint32_t codepoint)
{
    /* The character map does not depend on the size: any open size answers. */
    for (int b = 0; b < 2; b++) {
        TTF_Font *font = ui_fonts_get(f, 24, b == 1);
        if (!font || !TTF_GlyphIsProvided32(font, codepoint))
            return false;
    }
    return true;
}

bool ui_font_has_glyph(void *u, uint32_t codepoint)
{
    return ui_fonts_has_glyph(((ui *)u)->fonts, codepoint);
}

TTF_Font *ui_fonts_get(ui_fonts *f, int px, bool bold)
{
    int lru = 0;
    f->tick++;
    for (int i = 0; i < FONT_SLOTS; i++) {
        font_slot *s = &f->slot[i];
        if (s->font && s->px == px && s->bold == bold) {
            s->used = f->tick;
            return s->font;
        }
        /* Prefer an empty slot, else the least recently used one. */
        if (f->slot[lru].font && (!s->font || s->used < f->slot[lru].used))
            lru = i;
    }
    int b = bold ? 1 : 0;
    SDL_RWops *rw = SDL_RWFromConstMem(f->data[b], (int)f->size[b]);
    if (!rw)
        return NULL;
    TTF_Font *font = TTF_OpenFontRW(rw, 1, px);
    if (!font)
        return NULL;
    TTF_SetFontHinting(font, TTF_HINTING_LIGHT);
    font_slot *s = &f->slot[lru];
    if (s->font)
        TTF_CloseFont(s->font);
    s->font = font;
    s->px = px;
    s->bold = bold;
    s->used = f->tick;
    return font;
}

static int fonts_width(void *ctx, const char *s, size_t n, int px, bool bold)
{
    char buf[UI_TEXT_MAX + 1];
    int w = 0, h = 0;
    TTF_Font *font = ui_fonts_get(ctx, px, bold);
    if (!font || n == 0)
        return 0;
    if (n > UI_TEXT_MAX)
        n = UI_TEXT_MAX;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (TTF_SizeUTF8(font, buf, &w, &h) != 0)
        return 1 << 20; /* unmeasurable: never "fits" */
    return w;
}

static int fonts_height(void *ctx, int px, bool bold)
{
    TTF_Font *font = ui_fonts_get(ctx, px, bold);
    return font ? TTF_FontHeight(font) : px * 2;
}

ui_measure ui_fonts_measure(ui_fonts *f)
{
    ui_measure m = {fonts_width, fonts_height, f};
    return m;
}

/* Byte index after the UTF-8 character starting at i. */
static size_t utf8_next(const char *s, size_t i, size_t end)
{
    i++;
    while (i < end && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

int ui_wrap(const ui_measure *m, const char *text, int px, bool bold, int maxw, ui_line *lines)
{
    int n = 0;
    size_t len = strlen(text), pos = 0;

    for (;;) {
        size_t pend = pos;
        while (pend < len && text[pend] != '\n')
            pend++;
        size_t p = pos;
        bool any = false;
        while (p < pend) {
            while (p < pend && text[p] == ' ')
                p++;
            if (p >= pend)
                break;
            size_t best = p, q = p;
            int bestw = 0;
            /* Grow the line a word at a time while it fits. */
            while (q < pend) {
                size_t we = q;
                while (we < pend && text[we] != ' ')
                    we++;
                int w = m->width(m->ctx, text + p, we - p, px, bold);
                if (w > maxw)
                    break;
                best = we;
                bestw = w;
                q = we;
                while (q < pend && text[q] == ' ')
                    q++;
            }
            if (best == p) {
                /* The first word alone is too wide: break it between characters, keeping at
                 * least one character so the loop always advances. */
                size_t c = utf8_next(text, p, pend);
                best = c;
                bestw = m->width(m->ctx, text + p, c - p, px, bold);
                while (c < pend && text[c] != ' ') {
                    size_t nc = utf8_next(text, c, pend);
                    int w = m->width(m->ctx, text + p, nc - p, px, bold);
                    if (w > maxw)
                        break;
                    best = nc;
                    bestw = w;
                    c = nc;
                }
            }
            if (n >= UI_WRAP_MAX)
                return UI_WRAP_MAX + 1;
            lines[n].off = (int)p;
            lines[n].len = (int)(best - p);
            lines[n].w = bestw;
            n++;
            any = true;
            p = best;
        }
        if (!any) { /* an empty paragraph still takes a line */
            if (n >= UI_WRAP_MAX)
                return UI_WRAP_MAX + 1;
            lines[n].off = (int)pos;
            lines[n].len = 0;
            lines[n].w = 0;
            n++;
        }
        if (pend >= len)
            break;
        pos = pend + 1;
    }
    return n;
}

/* Size and line count of text wrapped at box_w and px; returns whether it fits box. */
static bool try_fit(const ui_measure *m, const char *text, bool bold, int box_w, int box_h, int px,
                    int max_lines, int *n_lines, int *bw, int *bh)
{
    ui_line lines[UI_WRAP_MAX];
    int n = ui_wrap(m, text, px, bold, box_w, lines);
    bool ok = n <= UI_WRAP_MAX && (max_lines <= 0 || n <= max_lines);
    if (n > UI_WRAP_MAX)
        n = UI_WRAP_MAX;
    int w = 0;
    for (int i = 0; i < n; i++) {
        if (lines[i].w > w)
            w = lines[i].w;
    }
    int h = (n - 1) * UI_LINE_STEP(px) + m->height(m->ctx, px, bold);
    *n_lines = n;
    *bw = w;
    *bh = h;
    return ok && w <= box_w && h <= box_h;
}

bool ui_fit_text(const ui_measure *m, const char *text, bool bold, int box_w, int box_h, int max_px,
                 int min_px, int max_lines, int *px, int *n_lines, int *bw, int *bh)
{
    if (min_px < 6)
        min_px = 6;
    if (max_px < min_px)
        max_px = min_px;
    int p = max_px;
    for (;;) {
        if (try_fit(m, text, bold, box_w, box_h, p, max_lines, n_lines, bw, bh)) {
            *px = p;
            return true;
        }
        if (p <= min_px)
            break;
        int next = p * 94 / 100;
        if (next >= p)
            next = p - 1;
        p = next < min_px ? min_px : next;
    }
    *px = min_px;
    return false;
}
