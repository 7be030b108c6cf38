/*
 * uitest.h - helpers shared by the ui tests (test_ui.c, test_ui_render.c): the six target sizes,
 * opening a headless ui, reading rendered pixels back (directly or through a PNG screenshot) and
 * the geometry and pixel checks every screen must pass.
 */
#ifndef TP_UITEST_H
#define TP_UITEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <SDL.h>
#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "samples.h"
#include "ui.h"
#include "ui_int.h"

static const int sizes[][2] = {{800, 480},   {1024, 600},  {1280, 800},
                               {1920, 1080}, {1080, 1920}, {600, 1024}};
#define N_SIZES ((int)(sizeof sizes / sizeof sizes[0]))

static char tmpdir[256];

static inline int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_ui.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int teardown_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static ui *open_ui(int w, int h, int rotation)
{
    char err[512] = "";
    ui *u = NULL;
    ui_options opt = {.width = w, .height = h, .rotation = rotation, .headless = true};
    tp_err rc = ui_new(&opt, &u, err, sizeof err);
    if (rc != TP_OK)
        fail_msg("ui_new %dx%d rot %d: %s", w, h, rotation, err);
    return u;
}

static inline void set_sample(ui *u, const char *name)
{
    const ui_sample *s = ui_sample_find(name);
    assert_non_null(s);
    if (ui_set_screen(u, &s->screen) != TP_OK)
        fail_msg("ui_set_screen %s: %s", name, ui_errmsg(u));
}

/* ---- Images ------------------------------------------------------------------------------- */

typedef struct image {
    int w, h;
    uint32_t *px; /* ARGB8888 */
} image;

/* Screenshots u (logical, or the window when window) and loads the PNG back. */
static inline image shoot(ui *u, const char *tag, bool window)
{
    char path[512];
    image im = {0, 0, NULL};
    snprintf(path, sizeof path, "%s/%s.png", tmpdir, tag);
    tp_err rc = window ? ui_screenshot_window(u, path) : ui_screenshot(u, path);
    if (rc != TP_OK)
        fail_msg("screenshot %s: %s", path, ui_errmsg(u));
    SDL_Surface *s = IMG_Load(path);
    if (!s)
        fail_msg("IMG_Load %s: %s", path, IMG_GetError());
    SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(s);
    assert_non_null(c);
    im.w = c->w;
    im.h = c->h;
    im.px = malloc((size_t)im.w * (size_t)im.h * 4);
    assert_non_null(im.px);
    for (int y = 0; y < im.h; y++)
        memcpy(im.px + (size_t)y * (size_t)im.w,
               (uint8_t *)c->pixels + (size_t)y * (size_t)c->pitch, (size_t)im.w * 4);
    SDL_FreeSurface(c);
    unlink(path);
    return im;
}

/* Draws the current screen into an offscreen target and reads it back (no PNG round trip: the
 * screenshot test covers that; this keeps the many-screen checks fast). */
static inline image grab(ui *u)
{
    image im = {0, 0, NULL};
    ui_logical_size(u, &im.w, &im.h);
    im.px = malloc((size_t)im.w * (size_t)im.h * 4);
    assert_non_null(im.px);
    SDL_Texture *t =
        SDL_CreateTexture(u->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET, im.w, im.h);
    assert_non_null(t);
    assert_int_equal(SDL_SetRenderTarget(u->ren, t), 0);
    u->frame++;
    assert_int_equal(ui_draw(u), TP_OK);
    assert_int_equal(SDL_RenderReadPixels(u->ren, NULL, SDL_PIXELFORMAT_ARGB8888, im.px, im.w * 4),
                     0);
    SDL_SetRenderTarget(u->ren, NULL);
    SDL_DestroyTexture(t);
    return im;
}

static inline uint32_t pix(const image *im, int x, int y)
{
    return im->px[(size_t)y * (size_t)im->w + (size_t)x] & 0xFFFFFFu;
}

static inline bool in_rect(ui_rect r, int x, int y)
{
    return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

/* ---- Geometry checks ------------------------------------------------------------------------ */

/* Checks one laid-out screen; fails the test with the first problem found. */
static inline void check_geometry(ui *u, const char *what)
{
    int lw, lh;
    ui_logical_size(u, &lw, &lh);
    ui_rect screen = {0, 0, lw, lh};
    int n = ui_widget_count(u);
    int t = ui_min_target(u);
    if (n <= 0)
        fail_msg("%s: no widgets", what);
    for (int i = 0; i < n; i++) {
        ui_widget_info a;
        assert_int_equal(ui_widget_get(u, i, &a), TP_OK);
        if (!ui_rect_inside(a.rect, screen))
            fail_msg("%s: %s (%d,%d %dx%d) leaves the %dx%d screen", what, a.id, a.rect.x, a.rect.y,
                     a.rect.w, a.rect.h, lw, lh);
        if (a.interactive && (a.rect.w < t || a.rect.h < t))
            fail_msg("%s: touch target %s is %dx%d (< %d)", what, a.id, a.rect.w, a.rect.h, t);
        if (!a.text_fits)
            fail_msg("%s: text of %s does not fit (%d px, %d lines)", what, a.id, a.font_px,
                     a.text_lines);
        if (a.text_rect.w > 0) {
            if (!ui_rect_inside(a.text_rect, a.rect))
                fail_msg("%s: text box of %s leaves the widget", what, a.id);
            if (!ui_rect_inside(a.ink_rect, a.text_rect))
                fail_msg("%s: text of %s (%d,%d %dx%d) leaves its box (%d,%d %dx%d)", what, a.id,
                         a.ink_rect.x, a.ink_rect.y, a.ink_rect.w, a.ink_rect.h, a.text_rect.x,
                         a.text_rect.y, a.text_rect.w, a.text_rect.h);
            if (a.font_px < 10)
                fail_msg("%s: text of %s shrank to %d px", what, a.id, a.font_px);
        }
        for (int j = i + 1; j < n; j++) {
            ui_widget_info b;
            ui_widget_get(u, j, &b);
            if (ui_rect_overlap(a.rect, b.rect))
                fail_msg("%s: %s (%d,%d %dx%d) overlaps %s (%d,%d %dx%d)", what, a.id, a.rect.x,
                         a.rect.y, a.rect.w, a.rect.h, b.id, b.rect.x, b.rect.y, b.rect.w,
                         b.rect.h);
        }
    }
}

/* Checks the rendered image against the layout: every pixel outside all widgets is background;
 * inside a text widget, non-background pixels stay in the laid-out ink rectangle, and the ink
 * rectangle does hold text. */
static inline void check_pixels(ui *u, const image *im, const char *what)
{
    int lw, lh;
    ui_logical_size(u, &lw, &lh);
    assert_int_equal(im->w, lw);
    assert_int_equal(im->h, lh);
    uint32_t bg = pix(im, lw - 1, lh - 1);
    uint8_t *mask = calloc((size_t)lw * (size_t)lh, 1);
    assert_non_null(mask);
    int n = ui_widget_count(u);
    for (int i = 0; i < n; i++) {
        ui_widget_info a;
        ui_widget_get(u, i, &a);
        for (int y = a.rect.y; y < a.rect.y + a.rect.h; y++)
            memset(mask + (size_t)y * (size_t)lw + (size_t)a.rect.x, 1, (size_t)a.rect.w);
    }
    for (int y = 0; y < lh; y++)
        for (int x = 0; x < lw; x++)
            if (!mask[(size_t)y * (size_t)lw + (size_t)x] && pix(im, x, y) != bg) {
                free(mask);
                fail_msg("%s: pixel (%d,%d) = %06x outside every widget (background %06x)", what, x,
                         y, (unsigned)pix(im, x, y), (unsigned)bg);
            }
    free(mask);
    for (int i = 0; i < n; i++) {
        ui_widget_info a;
        ui_widget_get(u, i, &a);
        if (a.kind != UI_WIDGET_TEXT || a.text_rect.w == 0)
            continue;
        long inked = 0;
        for (int y = a.rect.y; y < a.rect.y + a.rect.h; y++)
            for (int x = a.rect.x; x < a.rect.x + a.rect.w; x++) {
                if (pix(im, x, y) == bg)
                    continue;
                if (!in_rect(a.ink_rect, x, y))
                    fail_msg("%s: text of %s drawn at (%d,%d), outside its ink rect", what, a.id, x,
                             y);
                inked++;
            }
        if (inked == 0)
            fail_msg("%s: text widget %s drew nothing", what, a.id);
    }
}

#endif /* TP_UITEST_H */
