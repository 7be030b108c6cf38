/*
 * test_ui_text.c - line breaking: the wrapper's rules on a fixed-width measure (no-break spaces
 * keep a group, no line starts with punctuation, breaks after punctuation preferred, lines
 * balanced), then every text of every shipped survey laid out by the real ui at the six sizes in
 * each of its languages, read back line by line with ui_widget_line(); and the kiosk's own
 * sentences (firmware/kiosk_text.c) the same way.
 */
#include "kiosk_int.h"
#include "survey.h"
#include "uitest.h"

#define NBSP "\u00a0"

/* ---- The wrapper on a fixed-width measure: every character is 10 px ------------------------ */

static int count_chars(const char *s, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int mono_width(void *ctx, const char *s, size_t n, int px, bool bold)
{
    (void)ctx, (void)px, (void)bold;
    return 10 * count_chars(s, n);
}

static int mono_height(void *ctx, int px, bool bold)
{
    (void)ctx, (void)bold;
    return px;
}

static const ui_measure mono = {mono_width, mono_height, NULL};

/* Wraps text at maxw and joins the lines with '|'. */
static const char *wrapped(const char *text, int maxw)
{
    static char out[1024];
    ui_line lines[UI_WRAP_MAX];
    int n = ui_wrap(&mono, text, 10, false, maxw, lines);
    assert_true(n >= 1 && n <= UI_WRAP_MAX);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (lines[i].w > maxw)
            fail_msg("\"%s\" at %d: line %d is %d px wide", text, maxw, i, lines[i].w);
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%.*s", i ? "|" : "", lines[i].len,
                              text + lines[i].off);
    }
    return out;
}

static void expect_wrap(const char *text, int maxw, const char *want)
{
    const char *got = wrapped(text, maxw);
    if (strcmp(got, want) != 0)
        fail_msg("\"%s\" at %d px:\n got  \"%s\"\n want \"%s\"", text, maxw, got, want);
}

static void wrap_rules(void **state)
{
    (void)state;
    /* A no-break space holds a group: "cửa hàng" moves to the next line whole. */
    expect_wrap("ab cửa" NBSP "hàng", 100, "ab|cửa" NBSP "hàng");
    expect_wrap("Vui" NBSP "lòng báo", 80, "Vui" NBSP "lòng|báo");
    /* No line starts with a punctuation mark: the space before a dash or "?" is no break. */
    expect_wrap("Chạm để góp ý – chỉ 5 giây", 150, "Chạm để góp ý –|chỉ 5 giây");
    expect_wrap("Chạm để góp ý – chỉ 5 giây", 130, "Chạm để|góp ý –|chỉ 5 giây");
    expect_wrap("aaaa bbbb ?", 90, "aaaa|bbbb ?");
    /* Balanced: the same two lines, the widest as narrow as it can be (greedy "aa bb cc dd|eee").
     */
    expect_wrap("aa bb cc dd eee", 120, "aa bb cc|dd eee");
    /* A break after punctuation wins when it costs at most an eighth more width... */
    expect_wrap("aaaaa bbbb, ccc ddddd", 160, "aaaaa bbbb,|ccc ddddd");
    expect_wrap("aaaa bbb, cccc dddd", 150, "aaaa bbb,|cccc dddd");
    /* ...but not a lopsided one. */
    expect_wrap("aa, bbbbbb cccccc dddd", 190, "aa, bbbbbb|cccccc dddd");
    /* A group wider than the line is split at its no-break space, else between characters. */
    expect_wrap("cửa" NBSP "hàng" NBSP "lớn", 90, "cửa" NBSP "hàng|lớn");
    expect_wrap("abcdefghij", 40, "abcd|efgh|ij");
    /* Paragraphs stay. */
    expect_wrap("một\nhai ba", 1000, "một|hai ba");
    print_message("checked: U+00A0 keeps a group on one line (split only when the group alone is "
                  "too wide), no line starts with \"–\" or \"?\", two lines are balanced, a break "
                  "after \",\" is preferred within 1/8 of the balanced width, newlines kept\n");
}

/* ---- Every shipped survey text at every size ------------------------------------------------- */

/* Groups that must never be split, as the shipped texts write them: each must appear joined by
 * U+00A0, never with a plain space. */
static const char *const groups[] = {
    "cửa hàng", "Cửa hàng", "giới thiệu", "chúng tôi", "Chúng tôi", "hỗ trợ",     "món hàng",
    "mua sắm",  "bạn bè",   "hài lòng",   "dịch vụ",   "nhân viên", "khách hàng", "thanh toán",
    "Vui lòng", "dễ dàng",  "khó khăn",   "chắc chắn", "Chắc chắn", "sạch sẽ",    "cảm thấy",
    "hôm nay",  "thế nào",  "cải thiện",  "Cảm ơn",    "góp ý",     "mức nào",
};

/* Whether the character at s starts with a punctuation mark that must not begin a line. */
static bool punct_start(const char *s)
{
    return (s[0] && strchr(",.:;?!)%", s[0])) || strncmp(s, "\u2013", 3) == 0 ||
           strncmp(s, "\u2014", 3) == 0 || strncmp(s, "\u2026", 3) == 0;
}

/* Checks the laid-out lines of widget id, whose text is text: read back in order, each line
 * follows the previous one in the text after at least one ASCII space (or a newline), so no word
 * and no no-break group was split; no line starts with punctuation or a no-break space. Returns
 * the number of lines. */
static int check_lines(ui *u, const char *id, const char *text, const char *what)
{
    char line[UI_TEXT_MAX + 1];
    size_t c = 0, len = strlen(text);
    int k = 0;
    if (!text || !text[0])
        return 0;
    for (; ui_widget_line(u, id, k, line, sizeof line) == TP_OK; k++) {
        size_t gap = c;
        while (gap < len && (text[gap] == ' ' || text[gap] == '\n'))
            gap++;
        if (k > 0 && gap == c)
            fail_msg("%s: %s is split inside a word or no-break group before \"%s\" (text \"%s\")",
                     what, id, line, text);
        if (strncmp(text + gap, line, strlen(line)) != 0)
            fail_msg("%s: line %d of %s \"%s\" is not the next part of \"%s\"", what, k, id, line,
                     text + gap);
        if (punct_start(line) || strncmp(line, NBSP, 2) == 0)
            fail_msg("%s: line %d of %s starts with punctuation: \"%s\"", what, k, id, line);
        c = gap + strlen(line);
    }
    if (k == 0)
        fail_msg("%s: %s has no lines", what, id);
    return k;
}

typedef struct shown {
    const char *id, *text;
} shown;

/* Sets scr and checks geometry and the lines of every text it shows; returns lines checked. */
static int show(ui *u, const ui_screen *scr, const char *what)
{
    shown t[UI_ITEMS_MAX + 8];
    int n = 0;
    if (ui_set_screen(u, scr) != TP_OK)
        fail_msg("%s: %s", what, ui_errmsg(u));
    check_geometry(u, what);
    t[n++] = (shown){"prompt", scr->prompt};
    t[n++] = (shown){"subtitle", scr->subtitle};
    t[n++] = (shown){"anchor-low", scr->anchor_low};
    t[n++] = (shown){"anchor-high", scr->anchor_high};
    t[n++] = (shown){"message", scr->message};
    for (int i = 0; i < scr->n_items; i++)
        t[n++] = (shown){scr->items[i].id, scr->items[i].label};
    for (int i = 0; i < scr->n_actions; i++)
        t[n++] = (shown){scr->actions[i].id, scr->actions[i].label};
    int lines = 0;
    for (int i = 0; i < n; i++)
        if (t[i].text && t[i].text[0])
            lines += check_lines(u, t[i].id, t[i].text, what);
    return lines;
}

/* Fails when a shipped text writes a known group with a plain space. */
static void check_groups(const char *file, const char *text)
{
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        if (strstr(text, groups[g]))
            fail_msg("%s: \"%s\" writes \"%s\" with a plain space (use U+00A0)", file, text,
                     groups[g]);
}

static void shipped_surveys_break_cleanly(void **state)
{
    (void)state;
    char names[16][SURVEY_PATH_MAX], err[512];
    size_t nf = 0;
    static const ui_item langs[] = {{"lang-vi", "Tiếng Việt", 0, 0}, {"lang-en", "English", 0, 0}};
    static const ui_item skip[] = {{"reason-skip", "Bỏ" NBSP "qua", 0, 0}};
    long lines = 0, screens = 0;
    assert_int_equal(survey_list_dir("assets/surveys", names, 16, &nf), TP_OK);
    assert_true(nf >= 4);
    for (size_t f = 0; f < nf; f++) {
        survey *sv = NULL;
        if (survey_load(names[f], &sv, err, sizeof err) != TP_OK)
            fail_msg("%s", err);
        for (int l = 0; l < sv->n_langs; l++) {
            const char *lang = sv->langs[l];
            const survey_question *q = &sv->questions[0];
            ui_item items[UI_ITEMS_MAX];
            char ids[UI_ITEMS_MAX][UI_ID_MAX + 1];
            int lo = 0, hi = 0, n = 0;
            tp_kind_range(q->kind, &lo, &hi);
            for (int v = lo; v <= hi; v++, n++) {
                snprintf(ids[n], sizeof ids[n], "%s-%d", tp_kind_name(q->kind), v);
                const char *cap = q->has_value_labels
                                      ? survey_text_get(sv, &q->value_labels[v - lo], lang)
                                      : NULL;
                items[n] = (ui_item){ids[n], cap, v, UI_STYLE_AUTO};
                if (cap)
                    check_groups(names[f], cap);
            }
            ui_screen qs = {.kind = UI_SCREEN_QUESTION,
                            .scale = q->kind,
                            .prompt = survey_text_get(sv, &q->prompt, lang),
                            .items = items,
                            .n_items = n,
                            .langs = langs,
                            .n_langs = 2,
                            .lang = lang,
                            .staff_corner = true};
            if (q->has_labels) {
                qs.anchor_low = survey_text_get(sv, &q->low_label, lang);
                qs.anchor_high = survey_text_get(sv, &q->high_label, lang);
                check_groups(names[f], qs.anchor_low);
                check_groups(names[f], qs.anchor_high);
            }
            check_groups(names[f], qs.prompt);
            ui_screen thanks = {.kind = UI_SCREEN_THANKS,
                                .message = survey_text_get(sv, &sv->thanks, lang),
                                .staff_corner = true};
            check_groups(names[f], thanks.message);
            for (int s = 0; s < N_SIZES; s++) {
                ui *u = open_ui(sizes[s][0], sizes[s][1], 0);
                char what[SURVEY_PATH_MAX + 64];
                snprintf(what, sizeof what, "%.200s %s at %dx%d", names[f], lang, sizes[s][0],
                         sizes[s][1]);
                lines += show(u, &qs, what);
                lines += show(u, &thanks, what);
                screens += 2;
                for (int fq = 1; fq < sv->n_questions; fq++) {
                    const survey_question *c = &sv->questions[fq];
                    ui_item chips[SURVEY_MAX_OPTIONS];
                    char cids[SURVEY_MAX_OPTIONS][UI_ID_MAX + 1];
                    for (int o = 0; o < c->n_options; o++) {
                        snprintf(cids[o], sizeof cids[o], "%s-%s", c->id, c->options[o].id);
                        chips[o] =
                            (ui_item){cids[o], survey_text_get(sv, &c->options[o].label, lang), 0,
                                      UI_STYLE_AUTO};
                        check_groups(names[f], chips[o].label);
                    }
                    ui_screen fs = {.kind = UI_SCREEN_FOLLOWUP,
                                    .prompt = survey_text_get(sv, &c->prompt, lang),
                                    .items = chips,
                                    .n_items = c->n_options,
                                    .langs = langs,
                                    .n_langs = 2,
                                    .lang = lang,
                                    .actions = skip,
                                    .n_actions = 1,
                                    .staff_corner = true};
                    check_groups(names[f], fs.prompt);
                    lines += show(u, &fs, what);
                    screens++;
                }
                ui_free(u);
            }
        }
        survey_free(sv);
    }
    print_message("checked: %zu shipped surveys, every language, 6 sizes (%ld screens, %ld "
                  "lines): known Vietnamese groups are joined by U+00A0, no line splits a word or "
                  "a no-break group, no line starts with punctuation, every text fits\n",
                  nf, screens, lines);
}

/* ---- The kiosk's own sentences at every size ------------------------------------------------ */

/* Groups of the kiosk's own Vietnamese sentences that must never be split. */
static const char *const kiosk_groups[] = {
    "Tiếng Việt", "Bỏ qua",     "Xin lỗi",   "tạm ngưng", "Vui lòng", "nhân viên",  "mã PIN",
    "Chế độ",     "trả lời",    "hôm nay",   "Mặt cười",  "đồng bộ",  "Đồng bộ",    "gần nhất",
    "bao giờ",    "thành công", "Cơ sở",     "dữ liệu",   "Khảo sát", "khảo sát",   "Ngôn ngữ",
    "mặc định",   "Quay lại",   "khôi phục", "còn trống", "Tất cả",   "Nút bấm",    "Tiến trình",
    "yêu cầu",    "Thử lại",    "thử lại",   "có thể",    "an toàn",  "dung lượng", "máy tính",
};

/* Fails when a kiosk sentence in Vietnamese writes a known group with a plain space. */
static void check_kiosk_groups(const char *text)
{
    for (size_t g = 0; g < sizeof kiosk_groups / sizeof kiosk_groups[0]; g++)
        if (strstr(text, kiosk_groups[g]))
            fail_msg("kiosk text \"%s\" writes \"%s\" with a plain space (use U+00A0)", text,
                     kiosk_groups[g]);
}

#define KIOSK_TEXTS_MAX 128

/* Collects every sentence the kiosk shows in lang into out (static or in bufs); returns n. */
static int kiosk_texts(const char *lang, const char **out, char (*bufs)[512])
{
    const strings *st = kiosk_strings(lang);
    const char *const *f = (const char *const *)(const void *)st;
    int n = 0, nb = 0;
    /* struct strings holds only sentence pointers: read it as an array, skipping its lang id */
    for (size_t i = 1; i < sizeof *st / sizeof(const char *); i++)
        out[n++] = f[i];
    kiosk_pin_note(lang, true, 15, bufs[nb], sizeof bufs[nb]);
    out[n++] = bufs[nb++];
    kiosk_pin_note(lang, false, 3, bufs[nb], sizeof bufs[nb]);
    out[n++] = bufs[nb++];
    for (int o = USB_EXPORT_DONE; o <= USB_EXPORT_CANCELLED; o++) {
        usb_export_report rep;
        memset(&rep, 0, sizeof rep);
        rep.outcome = (usb_export_outcome)o;
        rep.rc = o == USB_EXPORT_FAILED ? TP_ERR_EXISTS : TP_OK;
        rep.rows = 42;
        rep.free_bytes = 640000;
        rep.bytes_missing = 1300000;
        usb_export_message(&rep, lang, bufs[nb], sizeof bufs[nb]);
        out[n++] = bufs[nb++];
    }
    assert_true(n <= KIOSK_TEXTS_MAX);
    return n;
}

static void kiosk_sentences_break_cleanly(void **state)
{
    (void)state;
    static const char *const langs[] = {"vi", "en"};
    static char bufs[32][512];
    const char *texts[KIOSK_TEXTS_MAX];
    long lines = 0, screens = 0;
    for (size_t l = 0; l < 2; l++) {
        int n = kiosk_texts(langs[l], texts, bufs);
        if (strcmp(langs[l], "vi") == 0)
            for (int i = 0; i < n; i++)
                check_kiosk_groups(texts[i]);
        for (int s = 0; s < N_SIZES; s++) {
            ui *u = open_ui(sizes[s][0], sizes[s][1], 0);
            for (int i = 0; i < n; i++) {
                char what[128];
                snprintf(what, sizeof what, "kiosk text %d (%s) at %dx%d", i, langs[l], sizes[s][0],
                         sizes[s][1]);
                ui_screen ooo = {.kind = UI_SCREEN_OUT_OF_ORDER,
                                 .message = texts[i],
                                 .subtitle = texts[(i + 1) % n]};
                lines += show(u, &ooo, what);
                ui_item item = {"staff-x", texts[i], 0, UI_STYLE_NEUTRAL};
                ui_screen staff = {.kind = UI_SCREEN_STAFF,
                                   .prompt = texts[(i + 2) % n],
                                   .items = &item,
                                   .n_items = 1};
                lines += show(u, &staff, what);
                screens += 2;
            }
            ui_free(u);
        }
    }
    print_message("checked: the kiosk's own sentences (screens, PIN notes, USB export outcomes) in "
                  "vi and en at 6 sizes (%ld screens, %ld lines): Vietnamese groups joined by "
                  "U+00A0, no line splits a word or group or starts with punctuation\n",
                  screens, lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wrap_rules),
        cmocka_unit_test(shipped_surveys_break_cleanly),
        cmocka_unit_test(kiosk_sentences_break_cleanly),
    };
    setenv("SDL_VIDEODRIVER", "offscreen", 0);
    return cmocka_run_group_tests_name("ui text", tests, setup_dir, teardown_dir);
}
