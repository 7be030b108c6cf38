/*
 * test_ui.c - unit tests of the ui layout engine at the six target sizes for every screen kind and
 * scale: every widget inside the screen, no two overlapping, touch targets >= 64 px (or 9 mm at
 * the DPI), every text fitting its box, and the rendered pixels agreeing (nothing outside widgets
 * but background, text ink inside its rectangle). Hit-testing, highlight, text, screenshots and
 * the model's validation are in test_ui_render.c.
 *
 * Runs on SDL's offscreen driver with the software renderer: no display needed.
 */
#include "uitest.h"

static void layout_and_pixels_at_every_size(void **state)
{
    (void)state;
    int screens = 0;
    for (int s = 0; s < N_SIZES; s++) {
        ui *u = open_ui(sizes[s][0], sizes[s][1], 0);
        for (int i = 0; i < ui_sample_count(); i++) {
            const ui_sample *smp = ui_sample_get(i);
            char what[160];
            snprintf(what, sizeof what, "%s at %dx%d", smp->name, sizes[s][0], sizes[s][1]);
            if (ui_set_screen(u, &smp->screen) != TP_OK)
                fail_msg("%s: %s", what, ui_errmsg(u));
            check_geometry(u, what);
            image im = grab(u);
            check_pixels(u, &im, what);
            free(im.px);
            screens++;
        }
        ui_free(u);
    }
    print_message("checked: %d screens (every kind, nps/csat/ces/smiley4, vi+en) at 6 sizes: "
                  "widgets inside, no overlaps, targets >= 64 px, text fits its box; pixels "
                  "outside widgets are background and text ink stays in its rect\n",
                  screens);
}

/* Share of the accent colour (the fill) along the bar's middle row; -1 when no bar. */
static double bar_fill(ui *u)
{
    ui_widget_info w;
    if (ui_widget_find(u, "export-progress", &w) != TP_OK)
        return -1.0;
    image im = grab(u);
    int y = w.rect.y + w.rect.h / 2, n = 0;
    for (int x = w.rect.x; x < w.rect.x + w.rect.w; x++)
        if (pix(&im, x, y) == 0x0E6E6Eu) /* C_ACCENT (14, 110, 110) */
            n++;
    free(im.px);
    return (double)n / (double)w.rect.w;
}

static void progress_bar_at_every_size(void **state)
{
    (void)state;
    const ui_sample *smp = ui_sample_find("staff-export-progress-vi");
    assert_non_null(smp);
    for (int s = 0; s < N_SIZES; s++) {
        char what[96];
        snprintf(what, sizeof what, "export progress at %dx%d", sizes[s][0], sizes[s][1]);
        ui *u = open_ui(sizes[s][0], sizes[s][1], 0);
        ui_screen scr = smp->screen;
        scr.progress = 0.25f;
        assert_int_equal(ui_set_screen(u, &scr), TP_OK);
        check_geometry(u, what);
        ui_widget_info w, sub;
        assert_int_equal(ui_widget_find(u, "export-progress", &w), TP_OK);
        assert_int_equal(ui_widget_find(u, "subtitle", &sub), TP_OK);
        int lw, lh;
        ui_logical_size(u, &lw, &lh);
        if (w.kind != UI_WIDGET_ICON || w.interactive || w.rect.w < lw * 3 / 4 || w.rect.h < 12 ||
            w.rect.y < sub.rect.y + sub.rect.h)
            fail_msg("%s: bar %d,%d %dx%d kind %d (subtitle ends at %d)", what, w.rect.x, w.rect.y,
                     w.rect.w, w.rect.h, (int)w.kind, sub.rect.y + sub.rect.h);
        const float want[] = {0.25f, 0.0f, 0.5f, 0.999f, 1.0f, 1.7f};
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            scr.progress = want[i];
            assert_int_equal(ui_set_screen(u, &scr), TP_OK);
            double got = bar_fill(u), exp = want[i] > 1.0f ? 1.0 : want[i];
            /* The rounded ends take a few pixels off the full-colour run. */
            if (got < exp - 0.03 || got > exp + 0.005)
                fail_msg("%s: progress %.3f drew %.3f of the bar", what, (double)want[i], got);
        }
        scr.progress_bar = false;
        assert_int_equal(ui_set_screen(u, &scr), TP_OK);
        assert_int_equal(ui_widget_find(u, "export-progress", &w), TP_ERR_NOT_FOUND);
        ui_free(u);
    }
    print_message("checked: the export-progress bar is laid out at 6 sizes under the subtitle, "
                  "at least 3/4 of the width, not interactive, geometry clean; it fills 0, 25, "
                  "50, ~100 and 100 %% (clamped above 1) of its width; no bar without "
                  "progress_bar\n");
}

static void touch_target_follows_dpi(void **state)
{
    (void)state;
    char err[256];
    ui *u = NULL;
    ui_options opt = {.width = 1920, .height = 1080, .dpi = 300, .headless = true};
    assert_int_equal(ui_new(&opt, &u, err, sizeof err), TP_OK);
    assert_int_equal(ui_min_target(u), 107); /* 9 mm at 300 dpi */
    set_sample(u, "question-nps-vi");
    check_geometry(u, "nps at 1920x1080 300 dpi");
    ui_free(u);
    print_message("checked: at 300 dpi the minimum target is 9 mm = 107 px and NPS still fits\n");
}

static void many_choices_still_fit(void **state)
{
    (void)state;
    static char ids[24][24], labels[24][40];
    ui_item items[24];
    for (int i = 0; i < 24; i++) {
        snprintf(ids[i], sizeof ids[i], "reason-%d", i);
        snprintf(labels[i], sizeof labels[i], "Lý do số %d", i + 1);
        items[i] = (ui_item){ids[i], labels[i], 0, UI_STYLE_AUTO};
    }
    ui_screen scr = {.kind = UI_SCREEN_FOLLOWUP,
                     .prompt = "Điều gì khiến bạn chưa hài lòng nhất?",
                     .items = items,
                     .n_items = 24,
                     .staff_corner = true};
    for (int s = 0; s < N_SIZES; s++) {
        ui *u = open_ui(sizes[s][0], sizes[s][1], 0);
        char what[64];
        snprintf(what, sizeof what, "24 chips at %dx%d", sizes[s][0], sizes[s][1]);
        if (ui_set_screen(u, &scr) != TP_OK)
            fail_msg("%s: %s", what, ui_errmsg(u));
        check_geometry(u, what);
        ui_free(u);
    }
    print_message("checked: a follow-up with 24 choices gets more columns and still passes every "
                  "geometry check at all 6 sizes\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_and_pixels_at_every_size),
        cmocka_unit_test(progress_bar_at_every_size),
        cmocka_unit_test(touch_target_follows_dpi),
        cmocka_unit_test(many_choices_still_fit),
    };
    setenv("SDL_VIDEODRIVER", "offscreen", 0);
    return cmocka_run_group_tests_name("ui layout", tests, setup_dir, teardown_dir);
}
