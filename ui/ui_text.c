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

/* U+00A0 NO-BREAK SPACE in UTF-8: it glues a group ("cửa hàng") and is drawn as a space. */
static bool is_nbsp(const char *s, size_t i, size_t end)
{
    return i + 1 < end && (unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xA0;
}

/* Whether the character at i is a mark that must not begin a line (",", ".", "?", "–", ...):
 * the space before it is no break opportunity. */
static bool no_line_start(const char *s, size_t i, size_t end)
{
    if (i >= end)
        return false;
    if (s[i] != '\0' && strchr(",.:;?!)%", s[i]))
        return true;
    /* U+2013 EN DASH, U+2014 EM DASH, U+2026 HORIZONTAL ELLIPSIS */
    return i + 2 < end && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
           ((unsigned char)s[i + 2] == 0x93 || (unsigned char)s[i + 2] == 0x94 ||
            (unsigned char)s[i + 2] == 0xA6);
}

/* Whether the text [.., e) ends in punctuation a line may end after: ",", ".", ":", ";", "?",
 * "!", "–", "—". A break there reads as a pause, so the balancer prefers it. */
static bool ends_in_punct(const char *s, size_t b, size_t e)
{
    if (e > b && strchr(",.:;?!", s[e - 1]))
        return true;
    return e >= b + 3 && (unsigned char)s[e - 3] == 0xE2 && (unsigned char)s[e - 2] == 0x80 &&
           ((unsigned char)s[e - 1] == 0x93 || (unsigned char)s[e - 1] == 0x94);
}

/* Start of the first break opportunity at or after q in [.., pend): a run of ASCII spaces that is
 * followed by a character allowed to start a line. Returns pend when there is none. */
static size_t next_break(const char *s, size_t q, size_t pend)
{
    while (q < pend) {
        if (s[q] != ' ') {
            q++;
            continue;
        }
        size_t j = q;
        while (j < pend && s[j] == ' ')
            j++;
        if (j < pend && !no_line_start(s, j, pend))
            return q;
        q = j;
    }
    return pend;
}

static size_t skip_spaces(const char *s, size_t q, size_t pend)
{
    while (q < pend && s[q] == ' ')
        q++;
    return q;
}

/* The first line of a group [p, we) too wide for maxw: up to the last no-break space that still
 * fits, else as many characters as fit (at least one, so the caller always advances). Sets *w. */
static size_t split_group(const ui_measure *m, const char *text, size_t p, size_t we, int px,
                          bool bold, int maxw, int *w)
{
    size_t best = 0;
    for (size_t i = p; i < we; i = utf8_next(text, i, we)) {
        if (!is_nbsp(text, i, we) || i == p)
            continue;
        int cw = m->width(m->ctx, text + p, i - p, px, bold);
        if (cw > maxw)
            break;
        best = i;
        *w = cw;
    }
    if (best > p)
        return best;
    size_t c = utf8_next(text, p, we);
    best = c;
    *w = m->width(m->ctx, text + p, c - p, px, bold);
    while (c < we) {
        size_t nc = utf8_next(text, c, we);
        int cw = m->width(m->ctx, text + p, nc - p, px, bold);
        if (cw > maxw)
            break;
        best = nc;
        *w = cw;
        c = nc;
    }
    return best;
}

#define BAL_MAX 80 /* break opportunities one paragraph may have for balancing */

typedef struct bal {
    int punct;  /* breaks after punctuation so far (more is better) */
    int widest; /* widest line so far (less is better) */
    int from;   /* previous break index, -1: none */
} bal;

/* Re-breaks the k greedy lines of one paragraph [p0, pend) into k lines that are as even as
 * possible, preferring breaks after punctuation while the widest line stays within an eighth of
 * the most even breaking. Widths are estimated from prefix widths (one measure per opportunity)
 * and the result is measured exactly; lines[] is only replaced when every line fits maxw. */
static void balance(const ui_measure *m, const char *text, size_t p0, size_t pend, int px,
                    bool bold, int maxw, ui_line *lines, int k)
{
    size_t we[BAL_MAX + 2], ns[BAL_MAX + 2]; /* word end before, next line start after */
    int xe[BAL_MAX + 2], xs[BAL_MAX + 2];    /* prefix widths up to we / ns */
    bool pu[BAL_MAX + 2];
    int c = 0;
    ns[0] = p0, xs[0] = 0, pu[0] = false;
    c = 1;
    for (size_t q = next_break(text, p0, pend); q < pend; q = next_break(text, q, pend)) {
        if (c > BAL_MAX)
            return;
        we[c] = q;
        ns[c] = skip_spaces(text, q, pend);
        xe[c] = m->width(m->ctx, text + p0, q - p0, px, bold);
        xs[c] = m->width(m->ctx, text + p0, ns[c] - p0, px, bold);
        pu[c] = ends_in_punct(text, p0, q);
        q = ns[c];
        c++;
    }
    size_t e = pend;
    while (e > p0 && text[e - 1] == ' ')
        e--;
    we[c] = e;
    xe[c] = m->width(m->ctx, text + p0, e - p0, px, bold);
    pu[c] = false;
    int n = c + 1; /* points 0 (start) .. c (end) */
    if (k < 2 || k > n - 1)
        return;
    static const bal none = {-1, 1 << 30, -1};
    bal dp[UI_WRAP_MAX + 1][BAL_MAX + 2];
    int limit = maxw;
    for (int pass = 0; pass < 2; pass++) {
        for (int l = 0; l <= k; l++)
            for (int j = 0; j < n; j++)
                dp[l][j] = none;
        dp[0][0] = (bal){0, 0, -1};
        for (int l = 1; l <= k; l++)
            for (int j = 1; j < n; j++)
                for (int i = 0; i < j; i++) {
                    if (dp[l - 1][i].punct < 0)
                        continue;
                    int w = xe[j] - xs[i];
                    if (w > limit)
                        continue;
                    bal b = {dp[l - 1][i].punct + (pass && j < c && pu[j] ? 1 : 0),
                             dp[l - 1][i].widest > w ? dp[l - 1][i].widest : w, i};
                    bal *d = &dp[l][j];
                    if (b.punct > d->punct || (b.punct == d->punct && b.widest < d->widest))
                        *d = b;
                }
        if (dp[k][c].punct < 0)
            return;
        if (pass == 0) /* the most even breaking sets how far a pause may stretch a line */
            limit = dp[k][c].widest + dp[k][c].widest / 8 < maxw
                        ? dp[k][c].widest + dp[k][c].widest / 8
                        : maxw;
    }
    ui_line out[UI_WRAP_MAX] = {{0}}; /* (filled from the end below; zeroed for cppcheck) */
    for (int l = k, j = c; l > 0; l--) {
        int i = dp[l][j].from;
        out[l - 1].off = (int)ns[i];
        out[l - 1].len = (int)(we[j] - ns[i]);
        out[l - 1].w = m->width(m->ctx, text + ns[i], we[j] - ns[i], px, bold);
        out[l - 1].split = false;
        if (out[l - 1].w > maxw)
            return;
        j = i;
    }
    memcpy(lines, out, (size_t)k * sizeof *out);
}

int ui_wrap(const ui_measure *m, const char *text, int px, bool bold, int maxw, ui_line *lines)
{
    int n = 0;
    size_t len = strlen(text), pos = 0;

    for (;;) {
        size_t pend = pos;
        while (pend < len && text[pend] != '\n')
            pend++;
        size_t p = skip_spaces(text, pos, pend);
        int first = n;
        bool split = false;
        while (p < pend) {
            size_t best = p, q = p;
            int bestw = 0;
            /* Grow the line a word (or no-break group) at a time while it fits. */
            while (q < pend) {
                size_t we = next_break(text, q, pend);
                size_t end = we;
                while (end > p && text[end - 1] == ' ')
                    end--;
                int w = m->width(m->ctx, text + p, end - p, px, bold);
                if (w > maxw)
                    break;
                best = end;
                bestw = w;
                q = skip_spaces(text, we, pend);
            }
            bool cut = best == p;
            if (cut) {
                /* The first group alone is too wide: split it at a no-break space, else between
                 * characters. */
                best = split_group(m, text, p, next_break(text, p, pend), px, bold, maxw, &bestw);
                split = true;
            }
            if (n >= UI_WRAP_MAX)
                return UI_WRAP_MAX + 1;
            lines[n].off = (int)p;
            lines[n].len = (int)(best - p);
            lines[n].w = bestw;
            lines[n].split = cut;
            n++;
            p = skip_spaces(text, best, pend);
            if (is_nbsp(text, p, pend) && split) /* a split group: its space is not drawn */
                p += 2;
        }
        if (n == first) { /* an empty paragraph still takes a line */
            if (n >= UI_WRAP_MAX)
                return UI_WRAP_MAX + 1;
            lines[n].off = (int)pos;
            lines[n].len = 0;
            lines[n].w = 0;
            lines[n].split = false;
            n++;
        } else if (!split && n - first >= 2) {
            balance(m, text, skip_spaces(text, pos, pend), pend, px, bold, maxw, lines + first,
                    n - first);
        }
        if (pend >= len)
            break;
        pos = pend + 1;
    }
    return n;
}

/* Size and line count of text wrapped at box_w and px; returns whether it fits box. */
static bool try_fit(const ui_measure *m, const char *text, bool bold, int box_w, int box_h, int px,
                    int max_lines, bool may_split, int *n_lines, int *bw, int *bh)
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
        ok = ok && (may_split || !lines[i].split);
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
        /* A word or no-break group is split only at the smallest size. */
        if (try_fit(m, text, bold, box_w, box_h, p, max_lines, p <= min_px, n_lines, bw, bh)) {
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
