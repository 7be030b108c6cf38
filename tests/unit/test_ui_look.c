/*
 * test_ui_look.c - what a customer's thumb and eye meet: at least 2 mm between adjacent controls
 * at the configured DPI on every sample screen at the six sizes, end labels at least 60% of the
 * prompt, numbered buttons grown into spare height, portrait lists under their prompt, the
 * neutral scale by default, and the contrast of every widget kind and state (WCAG 2.1: 3:1 for a
 * control's boundary, 4.5:1 for text) computed from the theme.
 */
#include <math.h>

#include "uitest.h"

static ui *open_dpi(int w, int h, int dpi)
{
    char err[512] = "";
    ui *u = NULL;
    ui_options opt = {.width = w, .height = h, .dpi = dpi, .headless = true};
    if (ui_new(&opt, &u, err, sizeof err) != TP_OK)
        fail_msg("ui_new %dx%d %d dpi: %s", w, h, dpi, err);
    return u;
}

/* Room between two rectangles: the larger of the horizontal and vertical clearances. */
static int clearance(ui_rect a, ui_rect b)
{
    int dx = b.x - (a.x + a.w) > a.x - (b.x + b.w) ? b.x - (a.x + a.w) : a.x - (b.x + b.w);
    int dy = b.y - (a.y + a.h) > a.y - (b.y + b.h) ? b.y - (a.y + a.h) : a.y - (b.y + b.h);
    return dx > dy ? dx : dy;
}

/* Every two visible controls are at least 2 mm apart (the invisible staff corner excepted: it
 * is a hold zone, not a target one aims at). Returns the smallest clearance seen. */
static int check_gaps(ui *u, int dpi, const char *what)
{
    int need = (int)ceil(2.0 * dpi / 25.4), least = 1 << 30;
    for (int i = 0; i < ui_widget_count(u); i++) {
        ui_widget_info a;
        ui_widget_get(u, i, &a);
        if (!a.interactive || a.kind == UI_WIDGET_ZONE)
            continue;
        for (int j = i + 1; j < ui_widget_count(u); j++) {
            ui_widget_info b;
            ui_widget_get(u, j, &b);
            if (!b.interactive || b.kind == UI_WIDGET_ZONE)
                continue;
            int c = clearance(a.rect, b.rect);
            if (c < need)
                fail_msg("%s: %s and %s are %d px apart (2 mm at %d dpi = %d px)", what, a.id, b.id,
                         c, dpi, need);
            least = c < least ? c : least;
        }
    }
    return least;
}

/* The density of a typical panel of each size (diagonal pixels / diagonal inches): 7" 800x480
 * and 1024x600, 10.1" 1280x800, 21.5" 1920x1080 (and portrait), 7" 600x1024; as
 * board/screenshots.py renders them. */
static const int panel_dpi[] = {133, 170, 149, 102, 102, 170};

static void controls_2mm_apart(void **state)
{
    (void)state;
    static const int dpis[] = {96, 133, 0}; /* 0: the size's own panel */
    int screens = 0;
    assert_int_equal(sizeof panel_dpi / sizeof panel_dpi[0], N_SIZES);
    for (size_t d = 0; d < sizeof dpis / sizeof dpis[0]; d++)
        for (int s = 0; s < N_SIZES; s++) {
            int dpi = dpis[d] ? dpis[d] : panel_dpi[s];
            ui *u = open_dpi(sizes[s][0], sizes[s][1], dpi);
            for (int i = 0; i < ui_sample_count(); i++) {
                const ui_sample *smp = ui_sample_get(i);
                char what[160];
                snprintf(what, sizeof what, "%s at %dx%d, %d dpi", smp->name, sizes[s][0],
                         sizes[s][1], dpi);
                if (ui_set_screen(u, &smp->screen) != TP_OK)
                    fail_msg("%s: %s", what, ui_errmsg(u));
                check_geometry(u, what);
                check_gaps(u, dpi, what);
                screens++;
            }
            ui_free(u);
        }
    print_message("checked: %d screens (every kind and scale, 6 sizes, at 96 and 133 dpi and at "
                  "each size's own panel density): every two controls at least 2 mm apart, "
                  "geometry clean\n",
                  screens);
}

static void end_labels_and_button_height(void **state)
{
    (void)state;
    int checked = 0;
    for (int s = 0; s < N_SIZES; s++) {
        ui *u = open_dpi(sizes[s][0], sizes[s][1], 133);
        int lw, lh;
        ui_logical_size(u, &lw, &lh);
        for (int i = 0; i < ui_sample_count(); i++) {
            const ui_sample *smp = ui_sample_get(i);
            const ui_screen *scr = &smp->screen;
            if (scr->kind != UI_SCREEN_QUESTION || !scr->anchor_low)
                continue;
            char what[160];
            snprintf(what, sizeof what, "%s at %dx%d", smp->name, sizes[s][0], sizes[s][1]);
            assert_int_equal(ui_set_screen(u, scr), TP_OK);
            ui_widget_info p, lo, hi, b;
            assert_int_equal(ui_widget_find(u, "prompt", &p), TP_OK);
            assert_int_equal(ui_widget_find(u, "anchor-low", &lo), TP_OK);
            assert_int_equal(ui_widget_find(u, "anchor-high", &hi), TP_OK);
            if (lo.font_px * 10 < p.font_px * 6 || hi.font_px * 10 < p.font_px * 6)
                fail_msg("%s: end labels %d / %d px, prompt %d px (want >= 60%%)", what, lo.font_px,
                         hi.font_px, p.font_px);
            /* Spare height goes into the buttons: either they reach their tallest shape (1.6
             * times as tall as wide) or at most 15% of the panel stays empty below the lowest
             * widget (it was about 20% at 800x480). */
            int bottom = 0;
            ui_widget_info first = {0};
            for (int k = 0; k < ui_widget_count(u); k++) {
                ui_widget_get(u, k, &b);
                if (b.rect.y + b.rect.h > bottom)
                    bottom = b.rect.y + b.rect.h;
                if (b.kind == UI_WIDGET_BUTTON && !first.id && strcmp(b.id, "lang-vi") != 0 &&
                    strcmp(b.id, "lang-en") != 0)
                    first = b;
            }
            assert_non_null(first.id);
            bool tallest = first.rect.h * 5 >= first.rect.w * 8 - 5;
            if (!tallest && (lh - bottom) * 100 > lh * 15)
                fail_msg("%s: %d px (%d%%) empty under the scale, %s is %dx%d", what, lh - bottom,
                         (lh - bottom) * 100 / lh, first.id, first.rect.w, first.rect.h);
            checked++;
        }
        ui_free(u);
    }
    print_message("checked: %d scale screens at 6 sizes: end labels >= 60%% of the prompt's "
                  "size; buttons grown to 1.6 times their width or at most 15%% of the height left "
                  "empty under the scale\n",
                  checked);
}

/* The first item starts right under the prompt (or the title's text) in portrait. */
static void portrait_lists_start_under_prompt(void **state)
{
    (void)state;
    static const int port[][2] = {{1080, 1920}, {600, 1024}};
    static const char *const names[] = {"followup-vi", "followup-en", "staff-vi"};
    static const ui_item surveys[] = {
        {"staff-survey-a", "Khảo sát tại quầy thanh toán (checkout-nps)", 0, UI_STYLE_SELECTED},
        {"staff-survey-b", "Lối ra (exit-smiley)", 0, 0},
        {"staff-survey-c", "Sau khi mua hàng (purchase-ces)", 0, 0},
        {"staff-survey-d", "Quầy dịch vụ khách hàng (service-csat)", 0, 0},
    };
    static const ui_item back[] = {{"staff-back", "Quay lại", 0, 0}};
    ui_screen choose = {.kind = UI_SCREEN_STAFF,
                        .prompt = "Chọn khảo sát",
                        .items = surveys,
                        .n_items = 4,
                        .actions = back,
                        .n_actions = 1};
    for (int s = 0; s < 2; s++) {
        ui *u = open_dpi(port[s][0], port[s][1], 133);
        for (int i = 0; i < 4; i++) {
            const ui_screen *scr = i < 3 ? &ui_sample_find(names[i])->screen : &choose;
            char what[128];
            snprintf(what, sizeof what, "%s at %dx%d", i < 3 ? names[i] : "staff survey switch",
                     port[s][0], port[s][1]);
            assert_int_equal(ui_set_screen(u, scr), TP_OK);
            check_geometry(u, what);
            int text_bottom = 0, first = 1 << 30;
            for (int k = 0; k < ui_widget_count(u); k++) {
                ui_widget_info w;
                ui_widget_get(u, k, &w);
                if (w.kind == UI_WIDGET_TEXT && w.rect.y + w.rect.h > text_bottom)
                    text_bottom = w.rect.y + w.rect.h;
                if (w.kind == UI_WIDGET_BUTTON && strcmp(w.id, "staff-back") != 0 &&
                    strcmp(w.id, "reason-skip") != 0 && w.rect.y < first)
                    first = w.rect.y;
            }
            int room = port[s][1] / 10;
            if (first - text_bottom > room || first > port[s][1] / 2)
                fail_msg("%s: the list starts at y=%d, %d px under the text (ends at %d)", what,
                         first, first - text_bottom, text_bottom);
        }
        ui_free(u);
    }
    print_message("checked: in portrait (1080x1920, 600x1024) follow-up chips, the staff menu and "
                  "the survey switch start within a tenth of the height under their text, in the "
                  "upper half\n");
}

/* ---- Contrast ---------------------------------------------------------------------------- */

static const ui_role controls[] = {UI_ROLE_SCALE_BTN, UI_ROLE_FACE,    UI_ROLE_CHIP,
                                   UI_ROLE_KEY,       UI_ROLE_MENU,    UI_ROLE_ACTION,
                                   UI_ROLE_LANG,      UI_ROLE_PROGRESS};

static void contrast_every_kind_and_state(void **state)
{
    (void)state;
    int looks = 0;
    double worst_edge = 99, worst_text = 99;
    for (size_t r = 0; r < sizeof controls / sizeof controls[0]; r++) {
        ui_role role = controls[r];
        bool scale_role = role == UI_ROLE_SCALE_BTN || role == UI_ROLE_FACE;
        for (int kind = 0; kind < UI_SCREEN_KIND_COUNT; kind++)
            for (int k = 0; k <= TP_KIND_SMILEY4; k++) {
                tp_kind scale = (tp_kind)k;
                if (scale == TP_KIND_CHOICE || (!scale_role && scale != TP_KIND_NPS))
                    continue;
                if (role == UI_ROLE_FACE && scale != TP_KIND_CSAT && scale != TP_KIND_SMILEY4)
                    continue;
                if (role == UI_ROLE_SCALE_BTN && scale != TP_KIND_NPS && scale != TP_KIND_CES)
                    continue;
                int lo = 0, hi = 0;
                tp_kind_range(scale, &lo, &hi);
                if (!scale_role)
                    lo = hi = 0;
                for (int ss = UI_SCALE_NEUTRAL; ss <= UI_SCALE_TRAFFIC; ss++)
                    for (int st = UI_STYLE_AUTO; st <= UI_STYLE_DISABLED; st++)
                        for (int v = lo; v <= hi; v++)
                            for (int sel = 0; sel < 2; sel++)
                                for (int pr = 0; pr < 2; pr++) {
                                    ui_look l = ui_theme_look(role, (ui_style)st, v, scale,
                                                              (ui_scale_style)ss,
                                                              (ui_screen_kind)kind, sel, pr);
                                    double edge = fmax(ui_contrast(l.fill, l.bg),
                                                       ui_contrast(l.border, l.bg));
                                    double text = ui_contrast(l.text, l.text_bg);
                                    double mark = ui_contrast(l.mark, l.fill);
                                    if (edge < 3.0 || text < 4.5 ||
                                        (role == UI_ROLE_FACE && mark < 3.0))
                                        fail_msg("role %d style %d scale %s/%d value %d screen %s "
                                                 "selected %d pressed %d: boundary %.2f:1, text "
                                                 "%.2f:1, face features %.2f:1",
                                                 (int)role, st, tp_kind_name(scale), ss, v,
                                                 ui_screen_kind_name((ui_screen_kind)kind), sel, pr,
                                                 edge, text, mark);
                                    worst_edge = fmin(worst_edge, edge);
                                    worst_text = fmin(worst_text, text);
                                    looks++;
                                }
            }
    }
    print_message("checked: %d looks (scale buttons, faces, chips, keys, menu, actions, toggles, "
                  "progress bar; every style, value, scale style, screen; normal/selected and "
                  "pressed): boundary >= 3:1 (worst %.2f), text >= 4.5:1 (worst %.2f), face "
                  "features >= 3:1\n",
                  looks, worst_edge, worst_text);
}

/* The default scale is neutral: every NPS button is drawn the same (only its number differs);
 * traffic colours them by band. */
static void neutral_scale_by_default(void **state)
{
    (void)state;
    ui *u = open_ui(800, 480, 0);
    const char *names[] = {"question-nps-vi", "question-nps-traffic-vi"};
    for (int t = 0; t < 2; t++) {
        set_sample(u, names[t]);
        image im = grab(u);
        uint32_t fills[11];
        for (int v = 0; v <= 10; v++) {
            char id[16];
            ui_widget_info w;
            snprintf(id, sizeof id, "nps-%d", v);
            assert_int_equal(ui_widget_find(u, id, &w), TP_OK);
            fills[v] = pix(&im, w.rect.x + w.rect.w / 6, w.rect.y + w.rect.h / 2);
        }
        free(im.px);
        bool same = true;
        for (int v = 1; v <= 10; v++)
            same = same && fills[v] == fills[0];
        if (t == 0 && !same)
            fail_msg("neutral nps: buttons differ in colour (0: %06x, 10: %06x)",
                     (unsigned)fills[0], (unsigned)fills[10]);
        if (t == 1 && (fills[6] == fills[7] || fills[8] == fills[9] || fills[0] != fills[6]))
            fail_msg("traffic nps: bands not coloured (%06x %06x %06x)", (unsigned)fills[0],
                     (unsigned)fills[7], (unsigned)fills[9]);
    }
    ui_free(u);
    print_message("checked: NPS buttons share one colour by default; scale_style traffic colours "
                  "0-6, 7-8 and 9-10 apart\n");
}

/* Finds widget id on the current screen; false when absent. */
static bool find_widget(ui *u, const char *id, ui_widget_info *out)
{
    for (int i = 0; i < ui_widget_count(u); i++) {
        ui_widget_get(u, i, out);
        if (strcmp(out->id, id) == 0)
            return true;
    }
    return false;
}

/* Issue 11 item 8: every button of every staff screen has one text size at a given window size;
 * "exit kiosk" (a danger action) sits apart, at the bar's far end; the PIN pad's Cancel is
 * inside the keypad block; texts (the warning subtitle included) are at least 4.5:1. */
static void staff_buttons_and_exit_apart(void **state)
{
    (void)state;
    static const char *const staff[] = {"staff-vi", "staff-exit-vi", "staff-export-progress-vi"};
    for (int s = 0; s < N_SIZES; s++) {
        int dpi = panel_dpi[s], need = (int)ceil(2.0 * dpi / 25.4);
        ui *u = open_dpi(sizes[s][0], sizes[s][1], dpi);
        int px = 0;
        for (size_t k = 0; k < sizeof staff / sizeof staff[0]; k++) {
            set_sample(u, staff[k]);
            for (int i = 0; i < ui_widget_count(u); i++) {
                ui_widget_info w;
                ui_widget_get(u, i, &w);
                if (w.kind != UI_WIDGET_BUTTON)
                    continue;
                if (!w.text_fits)
                    fail_msg("%s at %dx%d: %s does not fit at %d px", staff[k], sizes[s][0],
                             sizes[s][1], w.id, w.font_px);
                if (px == 0)
                    px = w.font_px;
                if (w.font_px != px)
                    fail_msg("%s at %dx%d: %s's text is %d px, other staff buttons %d px", staff[k],
                             sizes[s][0], sizes[s][1], w.id, w.font_px, px);
            }
        }
        /* Exit: at the left end of the bar, at least three 2 mm gaps from every other control. */
        set_sample(u, "staff-vi");
        ui_widget_info ex, o;
        assert_true(find_widget(u, "staff-exit", &ex));
        for (int i = 0; i < ui_widget_count(u); i++) {
            ui_widget_get(u, i, &o);
            if (!o.interactive || o.kind == UI_WIDGET_ZONE || strcmp(o.id, "staff-exit") == 0)
                continue;
            if (clearance(ex.rect, o.rect) < 3 * need)
                fail_msg("staff at %dx%d: exit is %d px from %s (want >= %d)", sizes[s][0],
                         sizes[s][1], clearance(ex.rect, o.rect), o.id, 3 * need);
        }
        /* PIN: Cancel spans the keypad's last row, under "0". */
        set_sample(u, "pin-vi");
        ui_widget_info c, k1, k3, k0;
        assert_true(find_widget(u, "pin-cancel", &c) && find_widget(u, "pin-1", &k1) &&
                    find_widget(u, "pin-3", &k3) && find_widget(u, "pin-0", &k0));
        if (c.rect.x != k1.rect.x || c.rect.x + c.rect.w != k3.rect.x + k3.rect.w ||
            c.rect.y < k0.rect.y + k0.rect.h)
            fail_msg("pin at %dx%d: cancel (%d,%d %dx%d) is not the keypad's last row", sizes[s][0],
                     sizes[s][1], c.rect.x, c.rect.y, c.rect.w, c.rect.h);
        ui_free(u);
    }
    static const ui_role texts[] = {UI_ROLE_PROMPT, UI_ROLE_SUBTITLE, UI_ROLE_MESSAGE,
                                    UI_ROLE_ANCHOR};
    double worst = 99;
    for (size_t r = 0; r < sizeof texts / sizeof texts[0]; r++)
        for (int kind = 0; kind < UI_SCREEN_KIND_COUNT; kind++)
            for (int warn = 0; warn < 2; warn++) {
                ui_rgba bg;
                ui_rgba fg = ui_theme_text(texts[r], (ui_screen_kind)kind, warn, &bg);
                double c = ui_contrast(fg, bg);
                if (c < 4.5)
                    fail_msg("text role %d on %s (warn %d): %.2f:1", (int)texts[r],
                             ui_screen_kind_name((ui_screen_kind)kind), warn, c);
                worst = fmin(worst, c);
            }
    print_message("checked: at 6 sizes every button of the staff, exit-confirmation and export "
                  "screens has one text size, all fitting; 'exit kiosk' is >= 6 mm from every "
                  "other control; the PIN Cancel spans the keypad's last row; prompt, subtitle "
                  "(plain and warning), message and anchor texts >= 4.5:1 (worst %.2f)\n",
                  worst);
}

/* Issue 11 item 7: the attract band (logo, store name, invitation) and the thank-you's ring are
 * laid out at every size inside the screen, apart from everything else, texts fitting; the logo
 * keeps its aspect; the invitation reads >= 4.5:1 and the ring >= 3:1; a logo that cannot be
 * decoded or an accent too pale is refused at start with the reason. */
static void brand_attract_and_ring(void **state)
{
    (void)state;
    char err[512] = "";
    for (int s = 0; s < N_SIZES; s++) {
        ui *u = NULL;
        ui_options opt = {.width = sizes[s][0],
                          .height = sizes[s][1],
                          .dpi = panel_dpi[s],
                          .headless = true,
                          .logo = "assets/brand/logo.svg",
                          .accent = "#0E6E6E"};
        if (ui_new(&opt, &u, err, sizeof err) != TP_OK)
            fail_msg("ui_new with the demo logo: %s", err);
        char what[64];
        snprintf(what, sizeof what, "attract at %dx%d", sizes[s][0], sizes[s][1]);
        set_sample(u, "attract-nps-vi");
        check_geometry(u, what);
        check_gaps(u, panel_dpi[s], what);
        ui_widget_info logo, inv, name, prompt;
        assert_true(find_widget(u, "logo", &logo) && find_widget(u, "invite", &inv) &&
                    find_widget(u, "brand-name", &name) && find_widget(u, "prompt", &prompt));
        if (abs(logo.rect.w - logo.rect.h) > 1) /* the demo logo is square */
            fail_msg("%s: logo %dx%d lost its aspect", what, logo.rect.w, logo.rect.h);
        if (logo.rect.h < ui_min_target(u) / 2 || inv.rect.y + inv.rect.h > prompt.rect.y)
            fail_msg("%s: logo %d px high, invitation ends at %d, prompt starts at %d", what,
                     logo.rect.h, inv.rect.y + inv.rect.h, prompt.rect.y);
        image im = grab(u); /* the logo is drawn: its teal body where the SVG has it */
        uint32_t c = pix(&im, logo.rect.x + logo.rect.w / 2, logo.rect.y + logo.rect.h * 40 / 240);
        free(im.px);
        if (abs((int)(c >> 16) - 14) > 12 || abs((int)((c >> 8) & 255) - 110) > 12 ||
            abs((int)(c & 255) - 110) > 12)
            fail_msg("%s: the logo's pixel is #%06X, not the SVG's teal", what, (unsigned)c);
        snprintf(what, sizeof what, "thanks ring at %dx%d", sizes[s][0], sizes[s][1]);
        set_sample(u, "thanks-ring-vi");
        check_geometry(u, what);
        ui_widget_info ring;
        assert_true(find_widget(u, "next-ring", &ring));
        if (ring.rect.w < ui_min_target(u) / 2)
            fail_msg("%s: ring %d px", what, ring.rect.w);
        ui_free(u);
    }
    ui_rgba bg;
    ui_theme_text(UI_ROLE_INVITE, UI_SCREEN_QUESTION, false, &bg);
    double inv_c = ui_contrast(ui_theme_accent(), bg);
    ui_theme_text(UI_ROLE_MESSAGE, UI_SCREEN_THANKS, false, &bg);
    double ring_c = ui_contrast(ui_theme_accent(), bg);
    if (inv_c < 4.5 || ring_c < 3.0)
        fail_msg("accent: invitation %.2f:1, ring %.2f:1", inv_c, ring_c);
    ui *u = NULL;
    ui_options pale = {.headless = true, .accent = "#9FD8D8"};
    assert_int_equal(ui_new(&pale, &u, err, sizeof err), TP_ERR_CONFIG);
    assert_non_null(strstr(err, "4.5:1"));
    ui_options bad = {.headless = true, .accent = "teal"};
    assert_int_equal(ui_new(&bad, &u, err, sizeof err), TP_ERR_CONFIG);
    char junk[300];
    snprintf(junk, sizeof junk, "%s/not-a-logo.png", tmpdir);
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    fputs("this is not a PNG\n", f);
    fclose(f);
    ui_options broken = {.headless = true, .logo = junk};
    assert_int_equal(ui_new(&broken, &u, err, sizeof err), TP_ERR_CONFIG);
    assert_non_null(strstr(err, "not-a-logo.png: cannot decode"));
    assert_null(u);
    print_message("checked: at 6 sizes the attract band (SVG logo square, store name, "
                  "invitation above the prompt) and the thank-you ring lie inside the screen, "
                  "overlap nothing, texts fit, controls 2 mm apart; invitation %.2f:1, ring "
                  "%.2f:1; a pale accent, a non-colour and an undecodable logo are refused\n",
                  inv_c, ring_c);
}

/* What the look review of the issue 11 screenshots found: a pressed face's caption touched its
 * lit tile's edge at 800x480 (the caption box was the whole tile), and the thank-you ring sat
 * at the screen's bottom, far under the message in portrait. Now every face caption (and disc)
 * keeps 1 mm from its tile's edges, the captions of a row share one size (portrait drew "Rất
 * không hài lòng" at 11 px beside 20 px neighbours), and the ring sits close under the
 * message/subtitle block, centred with it. */
static void face_captions_padded_ring_close(void **state)
{
    (void)state;
    int faces = 0, rings = 0;
    for (int s = 0; s < N_SIZES; s++) {
        int dpi = panel_dpi[s], pad = (int)(dpi / 25.4) > 4 ? (int)(dpi / 25.4) : 4;
        ui *u = open_dpi(sizes[s][0], sizes[s][1], dpi);
        for (int i = 0; i < ui_sample_count(); i++) {
            const ui_sample *smp = ui_sample_get(i);
            char what[160];
            snprintf(what, sizeof what, "%s at %dx%d", smp->name, sizes[s][0], sizes[s][1]);
            assert_int_equal(ui_set_screen(u, &smp->screen), TP_OK);
            ui_widget_info ring, w;
            int text_bottom = 0, cap_px = 0;
            for (int k = 0; k < ui_widget_count(u); k++) {
                ui_widget_get(u, k, &w);
                if (w.kind == UI_WIDGET_TEXT && w.rect.y + w.rect.h > text_bottom)
                    text_bottom = w.rect.y + w.rect.h;
                if (w.kind != UI_WIDGET_FACE || w.ink_rect.w == 0)
                    continue;
                ui_rect t = w.rect, c = w.ink_rect;
                if (c.x - t.x < pad || t.x + t.w - (c.x + c.w) < pad ||
                    t.y + t.h - (c.y + c.h) < pad)
                    fail_msg("%s: %s's caption %d,%d %dx%d is within %d px of its tile %d,%d "
                             "%dx%d's edge",
                             what, w.id, c.x, c.y, c.w, c.h, pad, t.x, t.y, t.w, t.h);
                if (cap_px && w.font_px != cap_px)
                    fail_msg("%s: %s's caption is %d px, its neighbour's %d px", what, w.id,
                             w.font_px, cap_px);
                if (!w.text_fits)
                    fail_msg("%s: %s's caption does not fit", what, w.id);
                cap_px = w.font_px;
                faces++;
            }
            if (!find_widget(u, "next-ring", &ring))
                continue;
            int lw, lh;
            ui_logical_size(u, &lw, &lh);
            int gap = ring.rect.y - text_bottom, centre = ring.rect.x * 2 + ring.rect.w - lw;
            if (gap < pad || gap > ring.rect.h || abs(centre) > 2)
                fail_msg("%s: the ring is %d px under the text (want %d..%d), %d px off centre",
                         what, gap, pad, ring.rect.h, centre / 2);
            rings++;
        }
        ui_free(u);
    }
    assert_true(faces > 0 && rings > 0);
    print_message("checked: %d face captions keep 1 mm from their tile's sides and bottom, one "
                  "size a row; %d "
                  "thank-you rings sit centred within their own height under the message\n",
                  faces, rings);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(controls_2mm_apart),
        cmocka_unit_test(end_labels_and_button_height),
        cmocka_unit_test(portrait_lists_start_under_prompt),
        cmocka_unit_test(contrast_every_kind_and_state),
        cmocka_unit_test(neutral_scale_by_default),
        cmocka_unit_test(staff_buttons_and_exit_apart),
        cmocka_unit_test(brand_attract_and_ring),
        cmocka_unit_test(face_captions_padded_ring_close),
    };
    setenv("SDL_VIDEODRIVER", "offscreen", 0);
    return cmocka_run_group_tests_name("ui look", tests, setup_dir, teardown_dir);
}
