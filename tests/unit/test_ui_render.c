/*
 * test_ui_render.c - unit tests of ui rendering and input: the highlight changes exactly the
 * highlighted control and shows in the next frame, hit-testing maps touch points to ids with the
 * panel rotated 0/90/180/270, long Vietnamese prompts wrap and shrink, Vietnamese glyphs render,
 * ui_font_has_glyph tells Vietnamese letters from emoji and CJK, a missing font names its Debian
 * package, screenshots round-trip through PNG, bad screen models are refused, and texts and shapes
 * are rasterized once.
 *
 * Runs on SDL's offscreen driver with the software renderer: no display needed.
 */
#include <fontconfig/fontconfig.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "uitest.h"

/* ---- Highlight ------------------------------------------------------------------------------ */

static void check_highlight(ui *u, const char *sample, const char *id, const char *what)
{
    set_sample(u, sample);
    image before = grab(u);
    assert_int_equal(ui_set_highlight(u, id), TP_OK);
    image after = grab(u);
    ui_widget_info w;
    assert_int_equal(ui_widget_find(u, id, &w), TP_OK);
    long inside = 0, outside = 0;
    for (int y = 0; y < before.h; y++)
        for (int x = 0; x < before.w; x++)
            if (pix(&before, x, y) != pix(&after, x, y)) {
                if (in_rect(w.rect, x, y))
                    inside++;
                else
                    outside++;
            }
    free(before.px);
    free(after.px);
    if (outside != 0)
        fail_msg("%s: highlighting %s changed %ld pixels outside it", what, id, outside);
    if (inside * 4 < (long)w.rect.w * w.rect.h)
        fail_msg("%s: highlighting %s changed only %ld of %d pixels", what, id, inside,
                 w.rect.w * w.rect.h);
}

static void highlight_changes_only_the_control(void **state)
{
    (void)state;
    for (int s = 0; s < N_SIZES; s++) {
        ui *u = open_ui(sizes[s][0], sizes[s][1], 0);
        char what[64];
        snprintf(what, sizeof what, "%dx%d", sizes[s][0], sizes[s][1]);
        check_highlight(u, "question-nps-vi", "nps-9", what);
        check_highlight(u, "question-csat-vi", "csat-4", what);
        check_highlight(u, "question-smiley4-vi", "smiley-1", what);
        check_highlight(u, "followup-vi", "reason-wait", what);
        check_highlight(u, "pin-vi", "pin-3", what);
        ui_free(u);
    }
    print_message("checked: highlighting nps-9, csat-4, smiley-1, reason-wait, pin-3 changes at "
                  "least a quarter of the control's pixels and none outside it, at 6 sizes\n");
}

static void highlight_in_the_next_frame(void **state)
{
    (void)state;
    ui *u = open_ui(800, 480, 0);
    set_sample(u, "question-nps-vi");
    assert_int_equal(ui_render(u), TP_OK);
    assert_int_equal(ui_set_highlight(u, "nps-10"), TP_OK);
    assert_int_equal(ui_render(u), TP_OK);
    /* The presented frame is what ui_draw produced; read the window back. */
    ui_widget_info w;
    assert_int_equal(ui_widget_find(u, "nps-10", &w), TP_OK);
    uint32_t p = 0;
    SDL_Rect r = {w.rect.x + w.rect.w / 10, w.rect.y + w.rect.h / 4, 1, 1};
    assert_int_equal(ui_draw(u), TP_OK);
    assert_int_equal(SDL_RenderReadPixels(u->ren, &r, SDL_PIXELFORMAT_ARGB8888, &p, 4), 0);
    /* Pressed green is darker than the resting green (34,139,84). */
    assert_true(((p >> 8) & 0xFF) < 139);
    assert_int_equal(ui_set_highlight(u, "nps-11"), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(ui_errmsg(u), "nps-11"));
    ui_free(u);
    print_message("checked: after ui_set_highlight the very next frame shows nps-10 pressed; an "
                  "unknown id is TP_ERR_NOT_FOUND naming it\n");
}

/* ---- Hit-testing and rotation ---------------------------------------------------------------- */

static void hit_testing_with_rotation(void **state)
{
    (void)state;
    static const int rots[] = {0, 90, 180, 270};
    int hits = 0;
    for (int r = 0; r < 4; r++) {
        ui *u = open_ui(800, 480, rots[r]);
        int ww, wh, lw, lh;
        ui_window_size(u, &ww, &wh);
        ui_logical_size(u, &lw, &lh);
        assert_int_equal(ww, 800);
        assert_int_equal(wh, 480);
        if (rots[r] % 180) {
            assert_int_equal(lw, 480);
            assert_int_equal(lh, 800);
        }
        set_sample(u, "question-nps-traffic-vi"); /* nps-0 red: the pixel check below */
        check_geometry(u, "rotated nps");
        for (int i = 0; i < ui_widget_count(u); i++) {
            ui_widget_info w;
            ui_widget_get(u, i, &w);
            int wx, wy, lx, ly;
            ui_to_window(u, w.rect.x + w.rect.w / 2, w.rect.y + w.rect.h / 2, &wx, &wy);
            ui_to_logical(u, wx, wy, &lx, &ly);
            assert_int_equal(lx, w.rect.x + w.rect.w / 2);
            assert_int_equal(ly, w.rect.y + w.rect.h / 2);
            const char *id = ui_hit(u, wx, wy);
            if (w.interactive) {
                if (!id || strcmp(id, w.id) != 0)
                    fail_msg("rot %d: centre of %s hit %s", rots[r], w.id, id ? id : "nothing");
                hits++;
            } else if (id) {
                fail_msg("rot %d: centre of text %s hit %s", rots[r], w.id, id);
            }
        }
        /* The gap between nps-0 and nps-1 is nothing; so is outside the window. */
        ui_widget_info a, b;
        ui_widget_find(u, "nps-0", &a);
        ui_widget_find(u, "nps-1", &b);
        int gx = (a.rect.x + a.rect.w + b.rect.x) / 2, gy = a.rect.y + a.rect.h / 2, wx, wy;
        assert_true(b.rect.x > a.rect.x + a.rect.w);
        ui_to_window(u, gx, gy, &wx, &wy);
        assert_null(ui_hit(u, wx, wy));
        assert_null(ui_hit(u, -1, 5));
        assert_null(ui_hit(u, 800, 5));
        /* The staff corner is the logical top-left, wherever the panel puts it. */
        int cx = rots[r] == 90 || rots[r] == 180 ? ww - 2 : 1;
        int cy = rots[r] == 180 || rots[r] == 270 ? wh - 2 : 1;
        const char *c = ui_hit(u, cx, cy);
        if (!c || strcmp(c, "staff-corner") != 0)
            fail_msg("rot %d: window (%d,%d) hit %s, not staff-corner", rots[r], cx, cy,
                     c ? c : "nothing");
        /* Pixels: the window as presented shows nps-0's red where the mapping says. */
        image im = shoot(u, "rot", true);
        assert_int_equal(im.w, 800);
        assert_int_equal(im.h, 480);
        ui_to_window(u, a.rect.x + a.rect.w / 8, a.rect.y + a.rect.h / 4, &wx, &wy);
        uint32_t p = pix(&im, wx, wy);
        if (!(((p >> 16) & 0xFF) > 200 && ((p >> 8) & 0xFF) < 110))
            fail_msg("rot %d: window pixel (%d,%d) of nps-0 is %06x, not red", rots[r], wx, wy,
                     (unsigned)p);
        free(im.px);
        ui_free(u);
    }
    print_message("checked: at rotation 0/90/180/270 every control's centre maps to its id (%d "
                  "hits), texts and gaps hit nothing, the staff corner follows the rotation, and "
                  "the presented window shows nps-0 where the mapping says\n",
                  hits);
}

/* ---- Text ------------------------------------------------------------------------------------ */

static void long_vietnamese_prompt_wraps_and_shrinks(void **state)
{
    (void)state;
    for (int s = 0; s < N_SIZES; s++) {
        ui *u = open_ui(sizes[s][0], sizes[s][1], 0);
        set_sample(u, "question-long-vi");
        ui_widget_info p;
        assert_int_equal(ui_widget_find(u, "prompt", &p), TP_OK);
        int short_side = sizes[s][0] < sizes[s][1] ? sizes[s][0] : sizes[s][1];
        int max_px = (int)(short_side * 0.068 + 0.5);
        if (!p.text_fits || p.text_lines < 3 || p.font_px >= max_px)
            fail_msg("%dx%d: long prompt fits=%d lines=%d px=%d (max %d)", sizes[s][0], sizes[s][1],
                     p.text_fits, p.text_lines, p.font_px, max_px);
        check_geometry(u, "long prompt");
        ui_free(u);
    }
    print_message("checked: a 330-character Vietnamese prompt wraps to >= 3 lines, shrinks below "
                  "the top size, and fits its box at all 6 sizes\n");
}

/* Decodes the next UTF-8 code point of *s (the input is known valid). */
static uint32_t next_cp(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    uint32_t c;
    int n;
    if (p[0] < 0x80)
        c = p[0], n = 1;
    else if (p[0] < 0xE0)
        c = p[0] & 0x1Fu, n = 2;
    else if (p[0] < 0xF0)
        c = p[0] & 0x0Fu, n = 3;
    else
        c = p[0] & 0x07u, n = 4;
    for (int i = 1; i < n; i++)
        c = c << 6 | (p[i] & 0x3Fu);
    *s += n;
    return c;
}

static void vietnamese_glyphs_render(void **state)
{
    (void)state;
    ui *u = open_ui(800, 480, 0);
    assert_non_null(strstr(ui_fonts_path(u->fonts, false), "NotoSans-Regular"));
    assert_non_null(strstr(ui_fonts_path(u->fonts, true), "NotoSans-Bold"));
    const char *text = "Rất không hài lòng Cảm ơn quý khách Đồng ý Ở Ữ ỹ";
    TTF_Font *f = ui_fonts_get(u->fonts, 32, false);
    assert_non_null(f);
    for (const char *p = text; *p;) {
        uint32_t cp = next_cp(&p);
        if (!TTF_GlyphIsProvided32(f, cp))
            fail_msg("Noto Sans lacks U+%04X", (unsigned)cp);
    }
    /* "Rất" and "Rat" must render differently (the diacritics are drawn, not dropped). */
    ui_screen a = {.kind = UI_SCREEN_THANKS, .message = "Rất", .hold_progress = -1};
    ui_screen b = {.kind = UI_SCREEN_THANKS, .message = "Rat", .hold_progress = -1};
    assert_int_equal(ui_set_screen(u, &a), TP_OK);
    image ia = shoot(u, "vi-a", false);
    ui_widget_info wa, wb;
    ui_widget_find(u, "message", &wa);
    assert_int_equal(ui_set_screen(u, &b), TP_OK);
    image ib = shoot(u, "vi-b", false);
    ui_widget_find(u, "message", &wb);
    long diff = 0;
    for (int y = 0; y < ia.h; y++)
        for (int x = 0; x < ia.w; x++)
            diff += pix(&ia, x, y) != pix(&ib, x, y);
    free(ia.px);
    free(ib.px);
    assert_true(diff > 50);
    ui_free(u);
    print_message("checked: fontconfig picked NotoSans-Regular/Bold, every letter of \"Rất "
                  "không hài lòng ... Ữ ỹ\" has a glyph, and \"Rất\" renders differently from "
                  "\"Rat\" (%ld pixels)\n",
                  diff);
}

/* ---- What the font can draw ------------------------------------------------------------------ */

static void font_has_glyph_for_surveys(void **state)
{
    (void)state;
    ui *u = open_ui(800, 480, 0);
    const char *vi = "Rất không hài lòng Cảm ơn quý khách Đồng ý Ở Ữ ỹ ư ơ đ Ặ ẵ";
    for (const char *p = vi; *p;) {
        uint32_t cp = next_cp(&p);
        if (!ui_font_has_glyph(u, cp))
            fail_msg("ui_font_has_glyph says the font lacks U+%04X", (unsigned)cp);
    }
    /* An emoji (grinning face, thumbs up) and CJK (one, thanks) are drawn as boxes. */
    static const uint32_t missing[] = {0x1F600, 0x1F44D, 0x4E00, 0x8C22};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
        if (ui_font_has_glyph(u, missing[i]))
            fail_msg("ui_font_has_glyph says the font has U+%04X", (unsigned)missing[i]);
    ui_free(u);
    print_message("checked: ui_font_has_glyph is true for every Vietnamese letter of a sample and "
                  "false for two emoji and two CJK characters, in the real font\n");
}

static void missing_font_names_its_package(void **state)
{
    (void)state;
    /* A fontconfig that knows no font (an empty folder), like an image without the font
     * package. In a child: fontconfig's configuration is process-wide. */
    char dir[300], conf[320], got[600] = "";
    snprintf(dir, sizeof dir, "%s/nofonts", tmpdir);
    snprintf(conf, sizeof conf, "%s/fonts.conf", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "<?xml version=\"1.0\"?>\n<fontconfig><dir>%s</dir><cachedir>%s</cachedir>"
            "</fontconfig>\n",
            dir, dir);
    assert_int_equal(fclose(f), 0);
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512] = "";
        ui *v = NULL;
        ui_options opt = {.headless = true};
        close(fd[0]);
        setenv("FONTCONFIG_FILE", conf, 1);
        if (!FcInitReinitialize())
            snprintf(err, sizeof err, "FcInitReinitialize failed");
        else if (ui_new(&opt, &v, err, sizeof err) == TP_OK)
            snprintf(err, sizeof err, "ui_new found a font");
        _exit(write(fd[1], err, strlen(err)) < 0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n < sizeof got - 1 && (r = read(fd[0], got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)r;
    got[n] = '\0';
    close(fd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!strstr(got, "\"Noto Sans\"") || !strstr(got, "Debian package fonts-noto-core"))
        fail_msg("missing font: \"%s\"", got);
    print_message("checked: without the font, ui_new says: %s\n", got);
}

/* ---- Screenshots, validation, cache -----------------------------------------------------------
 */

static void screenshot_round_trip(void **state)
{
    (void)state;
    char path[512];
    ui *u = open_ui(800, 480, 90);
    set_sample(u, "thanks-vi");
    snprintf(path, sizeof path, "%s/shot.png", tmpdir);
    assert_int_equal(ui_screenshot(u, path), TP_OK);
    SDL_Surface *s = IMG_Load(path);
    assert_non_null(s);
    assert_int_equal(s->w, 480);
    assert_int_equal(s->h, 800);
    SDL_FreeSurface(s);
    assert_int_equal(ui_screenshot_window(u, path), TP_OK);
    s = IMG_Load(path);
    assert_non_null(s);
    assert_int_equal(s->w, 800);
    assert_int_equal(s->h, 480);
    SDL_FreeSurface(s);
    snprintf(path, sizeof path, "%s/no/such/dir/shot.png", tmpdir);
    assert_int_equal(ui_screenshot(u, path), TP_ERR_IO);
    assert_non_null(strstr(ui_errmsg(u), "no/such/dir"));
    ui_free(u);
    print_message("checked: ui_screenshot writes an upright 480x800 PNG of a 90-degree panel, "
                  "ui_screenshot_window an 800x480 one, IMG_Load reads both; an unwritable path "
                  "is TP_ERR_IO naming the path\n");
}

static void screen_model_validation(void **state)
{
    (void)state;
    ui *u = open_ui(800, 480, 0);
    set_sample(u, "question-nps-vi");
    int before = ui_widget_count(u);
    const ui_item dup[] = {{"nps-1", NULL, 1, 0}, {"nps-1", NULL, 2, 0}};
    const ui_item bad_id[] = {{"nps 1", NULL, 1, 0}};
    const ui_item reserved[] = {{"prompt", "x", 0, 0}};
    const ui_item out_of_range[] = {{"nps-11", NULL, 11, 0}};
    const ui_item no_label[] = {{"reason-wait", "", 0, 0}};
    char big[UI_TEXT_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct {
        ui_screen s;
        tp_err want;
        const char *needle;
    } cases[] = {
        {{.kind = UI_SCREEN_QUESTION, .scale = TP_KIND_NPS, .items = dup, .n_items = 2},
         TP_ERR_INVALID,
         "used twice"},
        {{.kind = UI_SCREEN_QUESTION, .scale = TP_KIND_NPS, .items = bad_id, .n_items = 1},
         TP_ERR_INVALID,
         "items[0].id"},
        {{.kind = UI_SCREEN_FOLLOWUP, .items = reserved, .n_items = 1}, TP_ERR_INVALID, "reserved"},
        {{.kind = UI_SCREEN_QUESTION, .scale = TP_KIND_NPS, .items = out_of_range, .n_items = 1},
         TP_ERR_INVALID,
         "items[0].value"},
        {{.kind = UI_SCREEN_FOLLOWUP, .items = no_label, .n_items = 1},
         TP_ERR_INVALID,
         "items[0].label"},
        {{.kind = UI_SCREEN_QUESTION, .scale = TP_KIND_CHOICE}, TP_ERR_INVALID, "scale"},
        {{.kind = (ui_screen_kind)9}, TP_ERR_INVALID, "kind"},
        {{.kind = UI_SCREEN_THANKS, .message = big}, TP_ERR_TOO_LARGE, "message"},
        {{.kind = UI_SCREEN_THANKS, .message = "\xC3\x28"}, TP_ERR_INVALID, "UTF-8"},
        {{.kind = UI_SCREEN_PIN, .pin_len = 5, .pin_max = 4}, TP_ERR_INVALID, "pin_len"},
        {{.kind = UI_SCREEN_THANKS, .highlight = "nps-3"}, TP_ERR_INVALID, "highlight"},
        {{.kind = UI_SCREEN_QUESTION, .scale = TP_KIND_NPS, .n_items = UI_ITEMS_MAX + 1},
         TP_ERR_INVALID,
         "n_items"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tp_err rc = ui_set_screen(u, &cases[i].s);
        if (rc != cases[i].want || !strstr(ui_errmsg(u), cases[i].needle))
            fail_msg("case %zu: rc %d msg \"%s\", want %d with \"%s\"", i, rc, ui_errmsg(u),
                     cases[i].want, cases[i].needle);
        assert_int_equal(ui_widget_count(u), before); /* the previous screen stays */
    }
    assert_string_equal(ui_screen_kind_name(UI_SCREEN_OUT_OF_ORDER), "out_of_order");
    assert_string_equal(ui_screen_kind_name((ui_screen_kind)77), "?");
    ui_free(NULL);
    ui_options bad = {.rotation = 45, .headless = true};
    char err[256];
    ui *v = NULL;
    assert_int_equal(ui_new(&bad, &v, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "rotation 45"));
    assert_null(v);
    ui_options nofont = {.headless = true, .font_family = "No Such Font Family"};
    ui_free(u);
    assert_int_equal(ui_new(&nofont, &v, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "No Such Font Family"));
    print_message("checked: %zu bad screen models rejected with the field named and the previous "
                  "screen kept; bad rotation and a missing font family refused by ui_new\n",
                  sizeof cases / sizeof cases[0]);
}

static void text_rasterized_once(void **state)
{
    (void)state;
    ui *u = open_ui(1024, 600, 0);
    set_sample(u, "question-csat-vi");
    ui_stats a, b, c;
    assert_int_equal(ui_render(u), TP_OK);
    ui_get_stats(u, &a);
    assert_true(a.text_rasterized >= 8); /* prompt, 2 langs, 5 captions */
    for (int i = 0; i < 5; i++)
        assert_int_equal(ui_render(u), TP_OK);
    ui_get_stats(u, &b);
    assert_int_equal(b.text_rasterized, a.text_rasterized);
    assert_int_equal(b.shapes_rasterized, a.shapes_rasterized);
    assert_int_equal(b.frames, a.frames + 5);
    assert_true(b.cache_hits > a.cache_hits);
    /* Back to a screen seen before: nothing new to rasterize. */
    set_sample(u, "thanks-vi");
    assert_int_equal(ui_render(u), TP_OK);
    set_sample(u, "question-csat-vi");
    ui_get_stats(u, &b);
    assert_int_equal(ui_render(u), TP_OK);
    ui_get_stats(u, &c);
    assert_int_equal(c.text_rasterized, b.text_rasterized);
    assert_int_equal(c.shapes_rasterized, b.shapes_rasterized);
    /* The hold ring: a new shape per visible step, no new text. */
    ui_set_hold(u, 0.5f);
    assert_int_equal(ui_render(u), TP_OK);
    ui_get_stats(u, &b);
    assert_int_equal(b.text_rasterized, c.text_rasterized);
    assert_int_equal(b.shapes_rasterized, c.shapes_rasterized + 1);
    /* No ring at 0 (what a zeroed ui_screen holds): pixels equal the frame without any hold. */
    ui_set_hold(u, 0.0f);
    image none = grab(u);
    ui_set_hold(u, -1.0f);
    image off = grab(u);
    assert_memory_equal(none.px, off.px, (size_t)none.w * (size_t)none.h * 4);
    free(none.px);
    free(off.px);
    ui_free(u);
    print_message("checked: texts and shapes are rasterized on first use only: 5 more frames and "
                  "a return to a seen screen rasterize nothing; the hold ring adds one shape and "
                  "is absent at 0\n");
}

static void wrap_breaks_words_and_long_words(void **state)
{
    (void)state;
    ui *u = open_ui(800, 480, 0);
    ui_measure m = ui_fonts_measure(u->fonts);
    ui_line lines[UI_WRAP_MAX];
    int n = ui_wrap(&m, "Phải chờ quá lâu", 20, false, 10000, lines);
    assert_int_equal(n, 1);
    n = ui_wrap(&m, "Phải chờ quá lâu", 20, false, 60, lines);
    assert_true(n >= 2);
    for (int i = 0; i < n; i++)
        assert_true(lines[i].w <= 60);
    n = ui_wrap(&m, "Siêudàikhôngcókhoảngtrắngnàocả", 20, false, 80, lines);
    assert_true(n >= 3);
    for (int i = 0; i < n; i++)
        assert_true(lines[i].w <= 80 && lines[i].len > 0);
    n = ui_wrap(&m, "một\nhai", 20, false, 1000, lines);
    assert_int_equal(n, 2);
    int px, nl, bw, bh;
    assert_true(ui_fit_text(&m, ui_sample_long_vi, true, 700, 300, 60, 14, 0, &px, &nl, &bw, &bh));
    assert_true(px < 60 && bw <= 700 && bh <= 300);
    assert_false(ui_fit_text(&m, ui_sample_long_vi, true, 100, 30, 40, 14, 0, &px, &nl, &bw, &bh));
    assert_int_equal(px, 14);
    ui_free(u);
    print_message("checked: wrap breaks at spaces, inside over-long words without overflow, at "
                  "newlines; fit shrinks until it fits and reports a misfit at the minimum\n");
}

static void window_resize_relayouts(void **state)
{
    (void)state;
    ui *u = open_ui(800, 480, 0);
    set_sample(u, "question-nps-vi");
    ui_widget_info before, after;
    assert_int_equal(ui_widget_find(u, "nps-10", &before), TP_OK);
    SDL_SetWindowSize(u->win, 1280, 800);
    assert_int_equal(ui_window_resized(u), TP_OK);
    int lw, lh;
    ui_logical_size(u, &lw, &lh);
    assert_int_equal(lw, 1280);
    assert_int_equal(lh, 800);
    assert_int_equal(ui_widget_find(u, "nps-10", &after), TP_OK);
    assert_true(after.rect.x > before.rect.x && after.rect.w > before.rect.w);
    check_geometry(u, "after resize to 1280x800");
    assert_int_equal(ui_render(u), TP_OK);
    ui_free(u);
    print_message("checked: after the window grows to 1280x800, ui_window_resized lays the screen "
                  "out again for the new size (nps-10 moves and grows, all checks pass)\n");
}

static void rotated_panel_shows_the_upright_frame(void **state)
{
    (void)state;
    static const int rots[] = {90, 180, 270};
    ui *u = open_ui(480, 800, 0);
    set_sample(u, "question-csat-vi");
    image up = shoot(u, "upright", false);
    ui_free(u);
    for (int r = 0; r < 3; r++) {
        int w = rots[r] == 180 ? 480 : 800, h = rots[r] == 180 ? 800 : 480;
        u = open_ui(w, h, rots[r]);
        set_sample(u, "question-csat-vi");
        image lg = shoot(u, "logical", false);
        image win = shoot(u, "window", true);
        assert_int_equal(lg.w, 480);
        assert_int_equal(lg.h, 800);
        assert_int_equal(win.w, w);
        assert_int_equal(win.h, h);
        long diff = 0;
        for (int y = 0; y < 800; y++)
            for (int x = 0; x < 480; x++) {
                int wx, wy;
                ui_to_window(u, x, y, &wx, &wy);
                diff += pix(&up, x, y) != pix(&lg, x, y);
                diff += pix(&up, x, y) != pix(&win, wx, wy);
            }
        if (diff)
            fail_msg("rotation %d: %ld pixels differ from the upright 480x800 frame", rots[r],
                     diff);
        free(lg.px);
        free(win.px);
        ui_free(u);
    }
    free(up.px);
    print_message("checked: a panel rotated 90/180/270 shows exactly the upright 480x800 frame "
                  "(every pixel, at the mapped window position), and its logical screenshot "
                  "equals the upright one\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(highlight_changes_only_the_control),
        cmocka_unit_test(highlight_in_the_next_frame),
        cmocka_unit_test(hit_testing_with_rotation),
        cmocka_unit_test(long_vietnamese_prompt_wraps_and_shrinks),
        cmocka_unit_test(vietnamese_glyphs_render),
        cmocka_unit_test(font_has_glyph_for_surveys),
        cmocka_unit_test(missing_font_names_its_package),
        cmocka_unit_test(screenshot_round_trip),
        cmocka_unit_test(screen_model_validation),
        cmocka_unit_test(text_rasterized_once),
        cmocka_unit_test(wrap_breaks_words_and_long_words),
        cmocka_unit_test(window_resize_relayouts),
        cmocka_unit_test(rotated_panel_shows_the_upright_frame),
    };
    setenv("SDL_VIDEODRIVER", "offscreen", 0);
    return cmocka_run_group_tests_name("ui render", tests, setup_dir, teardown_dir);
}
