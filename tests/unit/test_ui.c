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
        cmocka_unit_test(touch_target_follows_dpi),
        cmocka_unit_test(many_choices_still_fit),
    };
    setenv("SDL_VIDEODRIVER", "offscreen", 0);
    return cmocka_run_group_tests_name("ui layout", tests, setup_dir, teardown_dir);
}
