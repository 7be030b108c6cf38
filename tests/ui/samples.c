/*
 * samples.c - the sample screens of samples.h. Texts are written as the kiosk's demo surveys
 * would phrase them; ids follow the kiosk's scheme (nps-9, csat-4, reason-wait, lang-en, pin-3).
 */
#include <string.h>

#include "samples.h"

/* U+00A0 NO-BREAK SPACE: joins a Vietnamese group the wrapper must not split. */
#define NBSP "\u00a0"

static const ui_item langs[] = {
    {"lang-vi", "Tiếng Việt", 0, UI_STYLE_AUTO},
    {"lang-en", "English", 0, UI_STYLE_AUTO},
};

static const ui_item nps[] = {
    {"nps-0", NULL, 0, 0}, {"nps-1", NULL, 1, 0}, {"nps-2", NULL, 2, 0},   {"nps-3", NULL, 3, 0},
    {"nps-4", NULL, 4, 0}, {"nps-5", NULL, 5, 0}, {"nps-6", NULL, 6, 0},   {"nps-7", NULL, 7, 0},
    {"nps-8", NULL, 8, 0}, {"nps-9", NULL, 9, 0}, {"nps-10", NULL, 10, 0},
};

static const ui_item csat_vi[] = {
    {"csat-1", "Rất không hài lòng", 1, 0}, {"csat-2", "Không hài lòng", 2, 0},
    {"csat-3", "Bình thường", 3, 0},        {"csat-4", "Hài lòng", 4, 0},
    {"csat-5", "Rất hài lòng", 5, 0},
};

static const ui_item csat_en[] = {
    {"csat-1", "Very dissatisfied", 1, 0}, {"csat-2", "Dissatisfied", 2, 0},
    {"csat-3", "Neutral", 3, 0},           {"csat-4", "Satisfied", 4, 0},
    {"csat-5", "Very satisfied", 5, 0},
};

static const ui_item ces[] = {
    {"ces-1", NULL, 1, 0}, {"ces-2", NULL, 2, 0}, {"ces-3", NULL, 3, 0}, {"ces-4", NULL, 4, 0},
    {"ces-5", NULL, 5, 0}, {"ces-6", NULL, 6, 0}, {"ces-7", NULL, 7, 0},
};

/* The product's one order for faces: unhappiest on the left, like every other scale. */
static const ui_item smiley[] = {
    {"smiley-1", NULL, 1, 0},
    {"smiley-2", NULL, 2, 0},
    {"smiley-3", NULL, 3, 0},
    {"smiley-4", NULL, 4, 0},
};

static const ui_item reasons_vi[] = {
    {"reason-wait", "Phải chờ quá lâu", 0, 0}, {"reason-staff", "Thái độ nhân viên", 0, 0},
    {"reason-price", "Giá chưa hợp lý", 0, 0}, {"reason-stock", "Không có hàng mình cần", 0, 0},
    {"reason-other", "Lý do khác", 0, 0},
};

static const ui_item reasons_en[] = {
    {"reason-wait", "Waited too long", 0, 0}, {"reason-staff", "Staff attitude", 0, 0},
    {"reason-price", "Prices", 0, 0},         {"reason-stock", "Item out of stock", 0, 0},
    {"reason-other", "Something else", 0, 0},
};

static const ui_item skip_vi[] = {{"reason-skip", "Bỏ qua", 0, 0}};
static const ui_item skip_en[] = {{"reason-skip", "Skip", 0, 0}};

static const ui_item keys[] = {
    {"pin-1", "1", 0, 0},        {"pin-2", "2", 0, 0}, {"pin-3", "3", 0, 0},
    {"pin-4", "4", 0, 0},        {"pin-5", "5", 0, 0}, {"pin-6", "6", 0, 0},
    {"pin-7", "7", 0, 0},        {"pin-8", "8", 0, 0}, {"pin-9", "9", 0, 0},
    {"pin-del", "Xoá", 0, 0},    {"pin-0", "0", 0, 0}, {"pin-ok", "OK", 0, UI_STYLE_PRIMARY},
    {"pin-cancel", "Huỷ", 0, 0}, /* alone on the last row: spans the keypad */
};

static const ui_item staff_items[] = {
    {"staff-survey-checkout-nps", "Khảo sát: Thanh toán (NPS)", 0, UI_STYLE_SELECTED},
    {"staff-survey-service-csat", "Khảo sát: Quầy dịch vụ (CSAT)", 0, 0},
    {"staff-survey-after-ces", "Khảo sát: Sau mua hàng (CES)", 0, 0},
    {"staff-lang-vi", "Ngôn ngữ mặc định: Tiếng Việt", 0, UI_STYLE_SELECTED},
    {"staff-lang-en", "Ngôn ngữ mặc định: English", 0, 0},
    {"staff-sync", "Đồng" NBSP "bộ ngay", 0, 0},
};
static const ui_item staff_back[] = {{"staff-exit", "Thoát kiosk", 0, UI_STYLE_DANGER},
                                     {"staff-back", "Quay lại khảo sát", 0, UI_STYLE_PRIMARY}};
static const ui_item exit_actions[] = {{"exit-confirm", "Thoát kiosk", 0, UI_STYLE_DANGER},
                                       {"staff-back", "Quay" NBSP "lại", 0, UI_STYLE_PRIMARY}};
static const ui_item export_items[] = {
    {"export-new", "Câu trả lời mới từ lần xuất trước", 0, UI_STYLE_DISABLED},
    {"export-all", "Tất cả câu trả lời", 0, UI_STYLE_DISABLED},
};
static const ui_item export_actions[] = {{"export-cancel", "Hủy xuất", 0, UI_STYLE_DANGER},
                                         {"staff-back", "Quay lại", 0, UI_STYLE_DISABLED}};
static const ui_item export_idle_vi[] = {
    {"export-new", "Câu" NBSP "trả" NBSP "lời mới từ lần xuất trước", 0, UI_STYLE_NEUTRAL},
    {"export-all", "Tất" NBSP "cả câu trả" NBSP "lời", 0, UI_STYLE_NEUTRAL},
};
static const ui_item export_idle_en[] = {
    {"export-new", "New since the last export", 0, UI_STYLE_NEUTRAL},
    {"export-all", "Everything", 0, UI_STYLE_NEUTRAL},
};
static const ui_item export_busy_en[] = {
    {"export-new", "New since the last export", 0, UI_STYLE_DISABLED},
    {"export-all", "Everything", 0, UI_STYLE_DISABLED},
};
static const ui_item back_vi[] = {{"staff-back", "Quay" NBSP "lại", 0, UI_STYLE_NEUTRAL}};
static const ui_item back_en[] = {{"staff-back", "Back", 0, UI_STYLE_NEUTRAL}};
static const ui_item export_actions_en[] = {{"export-cancel", "Cancel export", 0, UI_STYLE_DANGER},
                                            {"staff-back", "Back", 0, UI_STYLE_DISABLED}};
static const char *const staff_lines[] = {
    "Câu trả lời hôm nay\t42",
    "NPS hôm nay\t+38",
    "CSAT hôm nay\t4,3 / 5",
    "CES hôm nay\t5,6 / 7",
    "Chờ đồng bộ\t17",
    "Lần đồng bộ cuối\tlỗi, máy chủ từ chối: 503 store_unavailable (thử lại sau 120 giây)",
    "Cơ sở dữ liệu\tTốt (12,4 MB)",
};

const char *const ui_sample_long_vi =
    "Xin quý khách vui lòng cho chúng tôi biết, dựa trên toàn bộ trải nghiệm mua sắm hôm nay "
    "từ lúc bước vào cửa hàng, tìm kiếm sản phẩm, được nhân viên tư vấn cho đến khi thanh toán "
    "và nhận hàng, quý khách có sẵn lòng giới thiệu cửa hàng của chúng tôi cho bạn bè, đồng "
    "nghiệp và người thân trong gia đình hay không?";

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const ui_sample samples[] = {
    {"question-nps-vi",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_NPS,
      .prompt = "Bạn có sẵn" NBSP "lòng giới" NBSP "thiệu cửa" NBSP "hàng chúng" NBSP
                "tôi cho bạn" NBSP "bè và người" NBSP "thân không?",
      .anchor_low = "Chắc" NBSP "chắn không",
      .anchor_high = "Chắc" NBSP "chắn có",
      .items = nps,
      .n_items = N(nps),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .staff_corner = true,
      .hold_progress = -1}},
    {"attract-nps-vi",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_NPS,
      .prompt = "Bạn có sẵn" NBSP "lòng giới" NBSP "thiệu cửa" NBSP "hàng chúng" NBSP
                "tôi cho bạn" NBSP "bè và người" NBSP "thân không?",
      .anchor_low = "Chắc" NBSP "chắn không",
      .anchor_high = "Chắc" NBSP "chắn có",
      .items = nps,
      .n_items = N(nps),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .staff_corner = true,
      .invite = "Chạm để góp" NBSP "ý – chỉ 5" NBSP "giây",
      .brand_name = "Cửa hàng Quận 1",
      .hold_progress = -1}},
    {"thanks-ring-vi",
     {.kind = UI_SCREEN_THANKS,
      .message = "Cảm ơn quý khách!",
      .subtitle = "Ý kiến của bạn giúp chúng tôi phục vụ tốt hơn mỗi ngày.",
      .staff_corner = true,
      .anim = 0.5f,
      .countdown = 0.5f,
      .hold_progress = -1}},
    {"question-nps-traffic-vi",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_NPS,
      .scale_style = UI_SCALE_TRAFFIC,
      .prompt = "Bạn có sẵn lòng giới" NBSP "thiệu cửa" NBSP "hàng chúng" NBSP "tôi cho bạn" NBSP
                "bè không?",
      .anchor_low = "Chắc" NBSP "chắn không",
      .anchor_high = "Chắc" NBSP "chắn có",
      .items = nps,
      .n_items = N(nps),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .staff_corner = true,
      .hold_progress = -1}},
    {"question-ces-traffic-en",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_CES,
      .scale_style = UI_SCALE_TRAFFIC,
      .prompt = "How easy was it to find what you needed today?",
      .anchor_low = "Very difficult",
      .anchor_high = "Very easy",
      .items = ces,
      .n_items = N(ces),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "en",
      .staff_corner = true,
      .hold_progress = -1}},
    {"question-nps-en",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_NPS,
      .prompt = "How likely are you to recommend us to a friend or colleague?",
      .anchor_low = "Not at all likely",
      .anchor_high = "Extremely likely",
      .items = nps,
      .n_items = N(nps),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "en",
      .staff_corner = true,
      .hold_progress = -1}},
    {"question-csat-vi",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_CSAT,
      .prompt = "Bạn hài lòng thế nào với dịch vụ của quầy hôm nay?",
      .items = csat_vi,
      .n_items = N(csat_vi),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .staff_corner = true,
      .hold_progress = -1}},
    {"question-csat-en",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_CSAT,
      .prompt = "How satisfied are you with our service desk today?",
      .items = csat_en,
      .n_items = N(csat_en),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "en",
      .staff_corner = true,
      .hold_progress = -1}},
    {"question-ces-en",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_CES,
      .prompt = "How easy was it to find what you needed today?",
      .subtitle = "1 = very difficult, 7 = very easy",
      .anchor_low = "Very difficult",
      .anchor_high = "Very easy",
      .items = ces,
      .n_items = N(ces),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "en",
      .staff_corner = true,
      .hold_progress = -1}},
    {"question-ces-vi",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_CES,
      .prompt = "Hôm nay bạn tìm được thứ mình cần có dễ dàng không?",
      .anchor_low = "Rất khó",
      .anchor_high = "Rất dễ",
      .items = ces,
      .n_items = N(ces),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .staff_corner = true,
      .hold_progress = -1}},
    {"question-smiley4-vi",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_SMILEY4,
      .prompt = "Bạn thấy trải nghiệm thanh toán hôm nay thế nào?",
      .items = smiley,
      .n_items = N(smiley),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .staff_corner = true,
      .hold_progress = -1}},
    {"question-long-vi",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_NPS,
      .prompt = NULL /* set at run time */,
      .anchor_low = "Hoàn toàn không có khả năng",
      .anchor_high = "Chắc chắn sẽ giới thiệu",
      .items = nps,
      .n_items = N(nps),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .staff_corner = true,
      .hold_progress = -1}},
    {"followup-vi",
     {.kind = UI_SCREEN_FOLLOWUP,
      .prompt = "Điều gì khiến bạn chưa hài lòng nhất?",
      .subtitle = "Chọn một lý do",
      .items = reasons_vi,
      .n_items = N(reasons_vi),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .actions = skip_vi,
      .n_actions = 1,
      .staff_corner = true,
      .hold_progress = -1}},
    {"followup-en",
     {.kind = UI_SCREEN_FOLLOWUP,
      .prompt = "What was the main reason for your score?",
      .items = reasons_en,
      .n_items = N(reasons_en),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "en",
      .actions = skip_en,
      .n_actions = 1,
      .staff_corner = true,
      .hold_progress = -1}},
    {"thanks-vi",
     {.kind = UI_SCREEN_THANKS,
      .message = "Cảm ơn quý khách!",
      .subtitle = "Ý kiến của bạn giúp chúng tôi phục vụ tốt hơn mỗi ngày.",
      .staff_corner = true,
      .hold_progress = -1}},
    {"thanks-en",
     {.kind = UI_SCREEN_THANKS,
      .message = "Thank you!",
      .subtitle = "Your feedback helps us do better every day.",
      .staff_corner = true,
      .hold_progress = -1}},
    {"out-of-order-vi",
     {.kind = UI_SCREEN_OUT_OF_ORDER,
      .message = "Xin lỗi, máy đang tạm ngưng hoạt động",
      .subtitle = "Vui lòng báo cho nhân viên cửa hàng. Please tell our staff.",
      .staff_corner = true,
      .hold_progress = -1}},
    {"pin-vi",
     {.kind = UI_SCREEN_PIN,
      .prompt = "Nhập mã PIN nhân viên",
      .subtitle = "Sai mã" NBSP "PIN – còn 3 lần thử",
      .subtitle_warn = true,
      .items = keys,
      .n_items = N(keys),
      .pin_len = 2,
      .pin_max = 6,
      .hold_progress = -1}},
    {"staff-vi",
     {.kind = UI_SCREEN_STAFF,
      .prompt = "Chế độ nhân viên · kiosk-01",
      .subtitle = "Cửa hàng hcm-01 · quầy thanh toán",
      .items = staff_items,
      .n_items = N(staff_items),
      .actions = staff_back,
      .n_actions = N(staff_back),
      .lines = staff_lines,
      .n_lines = N(staff_lines),
      .hold_progress = -1}},
    {"staff-exit-vi",
     {.kind = UI_SCREEN_STAFF,
      .prompt = "Thoát kiosk?",
      .subtitle = "Khách hàng sẽ không góp" NBSP "ý được cho đến khi kiosk được mở" NBSP "lại.",
      .actions = exit_actions,
      .n_actions = N(exit_actions),
      .hold_progress = -1}},
    {"staff-export-progress-vi",
     {.kind = UI_SCREEN_STAFF,
      .prompt = "Xuất ra USB: touchpoint-usb-Thẻ nhớ",
      .subtitle = "Đang xuất… 1250 / 2500",
      .items = export_items,
      .n_items = N(export_items),
      .actions = export_actions,
      .n_actions = N(export_actions),
      .progress_bar = true,
      .progress = 0.5f,
      .hold_progress = -1}},
    /* The export screen as the kiosk draws it (kiosk_staff_export_draw, kiosk_text.c). */
    {"staff-export-progress-en",
     {.kind = UI_SCREEN_STAFF,
      .prompt = "Export to USB: touchpoint-usb-Thẻ nhớ",
      .subtitle = "Exporting… 1250 / 2500",
      .items = export_busy_en,
      .n_items = N(export_busy_en),
      .actions = export_actions_en,
      .n_actions = N(export_actions_en),
      .progress_bar = true,
      .progress = 0.5f,
      .hold_progress = -1}},
    {"staff-export-done-vi",
     {.kind = UI_SCREEN_STAFF,
      .prompt = "Xuất ra USB: touchpoint-usb-Thẻ nhớ",
      .subtitle = "Xong: 2500 câu trả" NBSP "lời, có" NBSP "thể rút USB ra an" NBSP "toàn.",
      .items = export_idle_vi,
      .n_items = N(export_idle_vi),
      .actions = back_vi,
      .n_actions = N(back_vi),
      .progress_bar = true,
      .progress = 1.0f,
      .hold_progress = -1}},
    {"staff-export-done-en",
     {.kind = UI_SCREEN_STAFF,
      .prompt = "Export to USB: touchpoint-usb-Thẻ nhớ",
      .subtitle = "Done: 2500 answers, safe to remove",
      .items = export_idle_en,
      .n_items = N(export_idle_en),
      .actions = back_en,
      .n_actions = N(back_en),
      .progress_bar = true,
      .progress = 1.0f,
      .hold_progress = -1}},
    {"staff-export-failed-vi",
     {.kind = UI_SCREEN_STAFF,
      .prompt = "Xuất ra USB: touchpoint-usb-Thẻ nhớ",
      .subtitle = "USB đã đầy. Cần thêm 1.3 MB dung" NBSP "lượng trống (hiện còn 640 kB). Hãy "
                  "xóa bớt tệp trên USB bằng máy" NBSP "tính, hoặc dùng USB lớn" NBSP "hơn. "
                  "Chưa có câu trả" NBSP "lời nào được đánh" NBSP "dấu là đã xuất.",
      .items = export_idle_vi,
      .n_items = N(export_idle_vi),
      .actions = back_vi,
      .n_actions = N(back_vi),
      .hold_progress = -1}},
    {"staff-export-failed-en",
     {.kind = UI_SCREEN_STAFF,
      .prompt = "Export to USB: touchpoint-usb-Thẻ nhớ",
      .subtitle = "The USB stick is full. The export needs 1.3 MB more free space (640 kB free "
                  "now). Delete files from the stick on a computer, or use a bigger stick. "
                  "Nothing was marked as exported.",
      .items = export_idle_en,
      .n_items = N(export_idle_en),
      .actions = back_en,
      .n_actions = N(back_en),
      .hold_progress = -1}},
    {"hold-question-vi",
     {.kind = UI_SCREEN_QUESTION,
      .scale = TP_KIND_NPS,
      .prompt = "Bạn có sẵn" NBSP "lòng giới" NBSP "thiệu cửa" NBSP "hàng chúng" NBSP
                "tôi cho bạn" NBSP "bè và người" NBSP "thân không?",
      .anchor_low = "Chắc" NBSP "chắn không",
      .anchor_high = "Chắc" NBSP "chắn có",
      .items = nps,
      .n_items = N(nps),
      .langs = langs,
      .n_langs = N(langs),
      .lang = "vi",
      .staff_corner = true,
      .hold_progress = 0.6f}},
};

int ui_sample_count(void)
{
    return N(samples);
}

const ui_sample *ui_sample_get(int i)
{
    static ui_sample copy;
    if (i < 0 || i >= N(samples))
        return NULL;
    copy = samples[i];
    if (strcmp(copy.name, "question-long-vi") == 0)
        copy.screen.prompt = ui_sample_long_vi;
    return &copy;
}

const ui_sample *ui_sample_find(const char *name)
{
    for (int i = 0; i < N(samples); i++)
        if (strcmp(samples[i].name, name) == 0)
            return ui_sample_get(i);
    return NULL;
}
