/*
 * test_ui_comment.c - the thank-you with the comment link's QR code (issue 15) at the six screen
 * sizes, landscape and portrait, through SDL's offscreen driver: the layout passes the checks
 * every screen passes, the code is drawn with whole pixels per module, a white ground and a quiet
 * zone of 4 modules, at least 1 mm per module at each size's panel density (a phone reads it from
 * 40 cm), and Debian's zbarimg decodes the saved PNG to exactly the link, which clink_verify
 * accepts. TP_QR_SHOTS=DIR keeps the PNGs there (to look at them).
 */
#include <qrencode.h>

#include "clink.h"
#include "uitest.h"

/* The panels these sizes stand for, and their densities: 7" 800x480, 7" 1024x600, 10.1"
 * 1280x800, 21.5" 1920x1080 and 1080x1920 (a totem; board/screenshots.py PANEL_DPI), 7" 600x1024
 * (portrait). */
static const int dpis[] = {133, 170, 149, 102, 102, 170};

static const char *KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
static const char *SESSION = "0190f3a0-1234-7abc-8def-0123456789ab";
static const int64_t EXPIRY = 1767225600;

static ui *open_dpi(int w, int h, int dpi)
{
    char err[512] = "";
    ui *u = NULL;
    ui_options opt = {.width = w, .height = h, .dpi = dpi, .headless = true};
    if (ui_new(&opt, &u, err, sizeof err) != TP_OK)
        fail_msg("ui_new %dx%d: %s", w, h, err);
    return u;
}

/* Decodes path with zbarimg into out ("" when it finds nothing). */
static void zbar(const char *path, char *out, size_t outlen)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "zbarimg --quiet --raw -Sdisable -Sqrcode.enable '%s' 2>/dev/null",
             path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    pclose(p);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
}

static void one_size(int s, const char *lang, const char *dir, bool keep)
{
    int W = sizes[s][0], H = sizes[s][1], dpi = dpis[s];
    char link[CLINK_URL_MAX], what[96], path[512], got[CLINK_URL_MAX + 64];
    assert_int_equal(clink_build("https://gopy.example.vn/c", KEY, "hcm-q1-checkout-01", SESSION,
                                 EXPIRY, lang, link, sizeof link),
                     TP_OK);
    QRcode *qr = QRcode_encodeString(link, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    assert_non_null(qr);
    unsigned char *mods = malloc((size_t)qr->width * (size_t)qr->width);
    assert_non_null(mods);
    for (int i = 0; i < qr->width * qr->width; i++)
        mods[i] = qr->data[i] & 1;
    bool vi = strcmp(lang, "vi") == 0;
    ui_screen scr = {
        .kind = UI_SCREEN_THANKS,
        .message = vi ? "Cảm ơn quý khách!" : "Thank you!",
        .subtitle = vi ? "Quét mã để góp\u00a0ý thêm bằng điện\u00a0thoại"
                       : "Scan to tell us more on your phone",
        .anim = 1.0f,
        .countdown = 0.6f,
        .qr = mods,
        .qr_size = qr->width,
    };
    snprintf(what, sizeof what, "thanks-qr-%s %dx%d", lang, W, H);
    ui *u = open_dpi(W, H, dpi);
    if (ui_set_screen(u, &scr) != TP_OK)
        fail_msg("%s: %s", what, ui_errmsg(u));
    check_geometry(u, what);
    image im = grab(u);
    check_pixels(u, &im, what);
    /* The code: whole modules, white ground with the quiet zone, >= 1 mm per module. */
    ui_widget_info w;
    assert_int_equal(ui_widget_find(u, "comment-qr", &w), TP_OK);
    int n = qr->width, mod = w.rect.w / (n + 8);
    double mm = mod * 25.4 / dpi;
    if (w.rect.w != w.rect.h || w.rect.w % (n + 8) != 0)
        fail_msg("%s: code %dx%d is not a whole number of %d-module sides", what, w.rect.w,
                 w.rect.h, n + 8);
    if (mm < 1.0)
        fail_msg("%s: %d px per module = %.2f mm at %d dpi (< 1 mm)", what, mod, mm, dpi);
    for (int y = w.rect.y; y < w.rect.y + 4 * mod; y++)
        for (int x = w.rect.x; x < w.rect.x + w.rect.w; x++)
            if (pix(&im, x, y) != 0xFFFFFFu)
                fail_msg("%s: quiet zone pixel (%d,%d) = %06x, not white", what, x, y,
                         (unsigned)pix(&im, x, y));
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++) {
            int x = w.rect.x + (c + 4) * mod, y = w.rect.y + (r + 4) * mod;
            uint32_t want = mods[r * n + c] ? 0x000000u : 0xFFFFFFu;
            if (pix(&im, x, y) != want || pix(&im, x + mod - 1, y + mod - 1) != want)
                fail_msg("%s: module (%d,%d) not drawn crisp", what, r, c);
        }
    free(im.px);
    snprintf(path, sizeof path, "%s/thanks-qr-%s-%dx%d.png", dir, lang, W, H);
    if (ui_screenshot(u, path) != TP_OK)
        fail_msg("%s: %s", path, ui_errmsg(u));
    zbar(path, got, sizeof got);
    if (strcmp(got, link) != 0)
        fail_msg("%s: zbarimg read '%s', want '%s'", what, got, link);
    clink l;
    char err[128];
    assert_int_equal(clink_verify(got, KEY, EXPIRY - 60, &l, err, sizeof err), CLINK_VALID);
    assert_string_equal(l.lang, lang);
    print_message("%s: %d modules, %d px each = %.2f mm at %d dpi; zbarimg reads the link\n", what,
                  n, mod, mm, dpi);
    if (!keep)
        unlink(path);
    ui_free(u);
    QRcode_free(qr);
    free(mods);
}

static void thanks_qr_at_every_size(void **state)
{
    (void)state;
    const char *keep = getenv("TP_QR_SHOTS");
    for (int s = 0; s < N_SIZES; s++) {
        one_size(s, "vi", keep && *keep ? keep : tmpdir, keep && *keep);
        one_size(s, "en", keep && *keep ? keep : tmpdir, keep && *keep);
    }
    print_message("checked: the thank-you with its QR code at 6 sizes in vi and en: layout and "
                  "pixel checks, whole-pixel modules >= 1 mm, quiet zone white, zbarimg decodes "
                  "exactly the link and clink_verify accepts it\n");
}

/* Without a code the thank-you is laid out as before: no "comment-qr". */
static void thanks_without_qr_unchanged(void **state)
{
    (void)state;
    for (int s = 0; s < N_SIZES; s++) {
        ui *u = open_ui(sizes[s][0], sizes[s][1], 0);
        set_sample(u, "thanks-vi");
        ui_widget_info w;
        assert_int_equal(ui_widget_find(u, "comment-qr", &w), TP_ERR_NOT_FOUND);
        assert_int_equal(ui_widget_find(u, "icon", &w), TP_OK);
        ui_free(u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thanks_qr_at_every_size),
        cmocka_unit_test(thanks_without_qr_unchanged),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
