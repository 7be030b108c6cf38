/*
 * kiosk_text.c - every sentence the kiosk itself shows, in Vietnamese and English (the survey
 * brings its own texts). One place, so a translator reads one file and the two languages cannot
 * drift apart unnoticed.
 */
#include <stdio.h>
#include <string.h>

#include "kiosk_int.h"

static const strings STRINGS[] = {
    {
        .lang = "vi",
        .lang_name = "Tiếng Việt",
        .skip = "Bỏ qua",
        .ooo_msg = "Xin lỗi, máy đang tạm ngưng.",
        .ooo_sub = "Vui lòng báo nhân viên.",
        .pin_prompt = "Nhập mã PIN nhân viên",
        .pin_cancel = "Hủy",
        .pin_del = "Xóa",
        .staff_title = "Chế độ nhân viên",
        .answers_today = "Câu trả lời hôm nay",
        .nps_today = "NPS hôm nay",
        .csat_today = "CSAT hôm nay",
        .ces_today = "CES hôm nay",
        .smiley_today = "Mặt cười hôm nay",
        .pending = "Chờ đồng bộ",
        .last_sync = "Đồng bộ gần nhất",
        .never = "chưa bao giờ",
        .sync_ok = "thành công",
        .sync_failed = "lỗi",
        .database = "Cơ sở dữ liệu",
        .db_ok = "tốt",
        .db_bad = "LỖI",
        .db_closed = "chưa mở được",
        .survey = "Khảo sát",
        .switch_survey = "Đổi khảo sát",
        .default_lang = "Ngôn ngữ mặc định",
        .exit = "Thoát kiosk",
        .back_survey = "Quay lại khảo sát",
        .choose_survey = "Chọn khảo sát",
        .back = "Quay lại",
        .none = "chưa có",
        .switched = "Đã đổi khảo sát",
        .recovered = "đã khôi phục từ tệp hỏng",
        .free = "còn trống",
        .usb_export = "Xuất ra USB",
        .export_new = "Câu trả lời mới từ lần xuất trước",
        .export_all = "Tất cả câu trả lời",
        .exporting = "Đang xuất",
        .export_cancel = "Hủy xuất",
        .cancelling = "Đang hủy",
        .usb_removed = "Đã rút USB.",
        .hw_inputs = "Nút bấm và đèn",
        .sync_now = "Đồng bộ ngay",
        .sync_state = "Tiến trình đồng bộ",
        .sync_not_running = "không chạy",
        .sync_requested = "Đã yêu cầu đồng bộ ngay",
    },
    {
        .lang = "en",
        .lang_name = "English",
        .skip = "Skip",
        .ooo_msg = "Sorry, this kiosk is out of order.",
        .ooo_sub = "Please tell our staff.",
        .pin_prompt = "Enter staff PIN",
        .pin_cancel = "Cancel",
        .pin_del = "Delete",
        .staff_title = "Staff mode",
        .answers_today = "Answers today",
        .nps_today = "NPS today",
        .csat_today = "CSAT today",
        .ces_today = "CES today",
        .smiley_today = "Smileys today",
        .pending = "Pending sync",
        .last_sync = "Last sync",
        .never = "never",
        .sync_ok = "ok",
        .sync_failed = "failed",
        .database = "Database",
        .db_ok = "OK",
        .db_bad = "ERROR",
        .db_closed = "not open",
        .survey = "Survey",
        .switch_survey = "Switch survey",
        .default_lang = "Default language",
        .exit = "Exit kiosk",
        .back_survey = "Back to survey",
        .choose_survey = "Choose survey",
        .back = "Back",
        .none = "none yet",
        .switched = "Survey switched",
        .recovered = "recovered from a damaged file",
        .free = "free",
        .usb_export = "Export to USB",
        .export_new = "New since the last export",
        .export_all = "Everything",
        .exporting = "Exporting",
        .export_cancel = "Cancel export",
        .cancelling = "Cancelling",
        .usb_removed = "The USB stick was removed.",
        .hw_inputs = "Buttons and lights",
        .sync_now = "Sync now",
        .sync_state = "Sync process",
        .sync_not_running = "not running",
        .sync_requested = "Sync requested",
    },
};

const strings *kiosk_strings(const char *lang)
{
    for (size_t i = 0; i < sizeof STRINGS / sizeof STRINGS[0]; i++)
        if (strcmp(STRINGS[i].lang, lang) == 0)
            return &STRINGS[i];
    return &STRINGS[1];
}

const char *kiosk_lang_name(const char *lang)
{
    for (size_t i = 0; i < sizeof STRINGS / sizeof STRINGS[0]; i++)
        if (strcmp(STRINGS[i].lang, lang) == 0)
            return STRINGS[i].lang_name;
    return lang;
}

void kiosk_pin_note(const char *lang, bool locked, int n, char *out, size_t outlen)
{
    bool vi = strcmp(kiosk_strings(lang)->lang, "vi") == 0;
    if (locked && vi)
        snprintf(out, outlen, "Đã khóa do nhập sai nhiều lần. Thử lại sau %d phút.", n);
    else if (locked)
        snprintf(out, outlen, "Locked after too many wrong PINs. Try again in %d min.", n);
    else if (vi)
        snprintf(out, outlen, "Sai mã PIN. Còn %d lần thử.", n);
    else
        snprintf(out, outlen, "Wrong PIN. %d attempts left.", n);
}
