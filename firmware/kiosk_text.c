/*
 * kiosk_text.c - every sentence the kiosk itself shows, in Vietnamese and English (the survey
 * brings its own texts): the screens' strings, the PIN pad's notes, and the USB export's
 * outcomes (usb_export_message and its byte figures, declared in usb_export.h). One place, so a
 * translator reads one file and the two languages cannot drift apart unnoticed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kiosk_int.h"

static const strings STRINGS[] = {
    {
        .lang = "vi",
        .lang_name = "Tiếng\u00a0Việt",
        .skip = "Bỏ\u00a0qua",
        .ooo_msg = "Xin\u00a0lỗi, máy đang tạm\u00a0ngưng.",
        .ooo_sub = "Vui\u00a0lòng báo nhân\u00a0viên.",
        .pin_prompt = "Nhập mã\u00a0PIN nhân\u00a0viên",
        .pin_cancel = "Hủy",
        .pin_del = "Xóa",
        .staff_title = "Chế\u00a0độ nhân\u00a0viên",
        .answers_today = "Câu trả\u00a0lời hôm\u00a0nay",
        .nps_today = "NPS hôm\u00a0nay",
        .csat_today = "CSAT hôm\u00a0nay",
        .ces_today = "CES hôm\u00a0nay",
        .smiley_today = "Mặt\u00a0cười hôm\u00a0nay",
        .pending = "Chờ đồng\u00a0bộ",
        .last_sync = "Đồng\u00a0bộ gần\u00a0nhất",
        .never = "chưa bao\u00a0giờ",
        .sync_ok = "thành\u00a0công",
        .sync_failed = "lỗi",
        .database = "Cơ\u00a0sở dữ\u00a0liệu",
        .db_ok = "tốt",
        .db_bad = "LỖI",
        .db_closed = "chưa mở được",
        .survey = "Khảo\u00a0sát",
        .switch_survey = "Đổi khảo\u00a0sát",
        .default_lang = "Ngôn\u00a0ngữ mặc\u00a0định",
        .exit = "Thoát kiosk",
        .back_survey = "Quay\u00a0lại khảo\u00a0sát",
        .choose_survey = "Chọn khảo\u00a0sát",
        .back = "Quay\u00a0lại",
        .none = "chưa có",
        .switched = "Đã đổi khảo\u00a0sát",
        .recovered = "đã khôi\u00a0phục từ tệp hỏng",
        .free = "còn\u00a0trống",
        .usb_export = "Xuất ra USB",
        .export_new = "Câu trả\u00a0lời mới từ lần xuất trước",
        .export_all = "Tất\u00a0cả câu trả\u00a0lời",
        .exporting = "Đang xuất",
        .export_cancel = "Hủy xuất",
        .cancelling = "Đang hủy",
        .usb_removed = "Đã rút USB.",
        .hw_inputs = "Nút\u00a0bấm và đèn",
        .sync_now = "Đồng\u00a0bộ ngay",
        .sync_state = "Tiến\u00a0trình đồng\u00a0bộ",
        .sync_not_running = "không chạy",
        .sync_requested = "Đã yêu\u00a0cầu đồng\u00a0bộ ngay",
        .customers_today = "Khách hôm\u00a0nay",
        .happy = "vui\u00a0vẻ",
        .exit_title = "Thoát kiosk?",
        .exit_sub = "Khách hàng sẽ không góp\u00a0ý được cho đến khi kiosk được mở\u00a0lại.",
        .exit_confirm = "Thoát kiosk",
        .warn_waiting = "chờ quá",
        .minutes = "phút",
        .invite = "Chạm để góp\u00a0ý – chỉ 5\u00a0giây",
        .warn_disk = "ổ\u00a0đĩa sắp\u00a0đầy",
        .comment_scan = "Quét mã để góp\u00a0ý thêm bằng điện\u00a0thoại",
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
        .customers_today = "Customers today",
        .happy = "happy",
        .exit_title = "Exit the kiosk?",
        .exit_sub = "Customers cannot give feedback until the kiosk is started again.",
        .exit_confirm = "Exit kiosk",
        .warn_waiting = "waiting over",
        .minutes = "min",
        .invite = "Tap to tell us – 5\u00a0seconds",
        .warn_disk = "disk nearly full",
        .comment_scan = "Scan to tell us more on your phone",
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
        snprintf(out, outlen, "Đã khóa do nhập sai nhiều lần. Thử\u00a0lại sau %d phút.", n);
    else if (locked)
        snprintf(out, outlen, "Locked after too many wrong PINs. Try again in %d min.", n);
    else if (vi)
        snprintf(out, outlen, "Sai mã\u00a0PIN – còn %d lần thử", n);
    else
        snprintf(out, outlen, "Wrong PIN – %d attempt%s left", n, n == 1 ? "" : "s");
}

/* ---- USB export outcomes (usb_export.h) ----------------------------------------------------- */

/* The product's one byte-size convention (tp_format_bytes: decimal kB/MB/GB), rounded up for
 * what is needed and down for what is free, so the staff are never told a stick has more room, or
 * an export needs less, than it does. */
static void fmt_bytes(int64_t bytes, bool up, char *out, size_t outlen)
{
    if (bytes < 0)
        snprintf(out, outlen, "an unknown amount of");
    else
        tp_format_bytes(bytes, up, out, outlen);
}

void usb_format_bytes(int64_t bytes, char *out, size_t outlen)
{
    fmt_bytes(bytes, true, out, outlen);
}

#define NOT_MARKED " Nothing was marked as exported."
#define NOT_MARKED_VI " Chưa có câu trả\u00a0lời nào được đánh\u00a0dấu là đã xuất."

/* The Vietnamese staff sentences (usb_export_message with lang "vi"). */
static void message_vi(const usb_export_report *rep, char *out, size_t outlen)
{
    char need[32], freeb[32];
    switch (rep->outcome) {
    case USB_EXPORT_DONE:
        snprintf(out, outlen,
                 "Xong: %" PRId64 " câu trả\u00a0lời, có\u00a0thể rút USB ra an\u00a0toàn.",
                 rep->rows);
        return;
    case USB_EXPORT_NOTHING:
        snprintf(out, outlen,
                 "Không có câu trả\u00a0lời mới kể\u00a0từ lần xuất trước. Không ghi gì; "
                 "có\u00a0thể rút USB ra "
                 "an\u00a0toàn.");
        return;
    case USB_EXPORT_FULL:
        if (rep->bytes_missing > 0) {
            usb_format_bytes(rep->bytes_missing, need, sizeof need);
            if (rep->free_bytes >= 0)
                fmt_bytes(rep->free_bytes, false, freeb, sizeof freeb);
            else
                tp_strlcpy(freeb, "không\u00a0rõ", sizeof freeb);
            snprintf(out, outlen,
                     "USB đã đầy. Cần thêm %s dung\u00a0lượng trống (hiện còn %s). Hãy xóa bớt tệp "
                     "trên USB bằng máy\u00a0tính, hoặc dùng USB lớn\u00a0hơn." NOT_MARKED_VI,
                     need, freeb);
        } else if (rep->bytes_needed >= 0) {
            usb_format_bytes(rep->bytes_needed, need, sizeof need);
            snprintf(
                out, outlen,
                "USB đã đầy. Cần khoảng %s dung\u00a0lượng trống. Hãy xóa bớt tệp trên USB bằng "
                "máy\u00a0tính, hoặc dùng USB lớn\u00a0hơn." NOT_MARKED_VI,
                need);
        } else {
            snprintf(out, outlen,
                     "USB đã đầy. Hãy xóa bớt tệp trên USB bằng máy\u00a0tính, hoặc dùng USB lớn "
                     "hơn." NOT_MARKED_VI);
        }
        return;
    case USB_EXPORT_READONLY:
        snprintf(out, outlen,
                 "USB đang bị khóa\u00a0ghi (chỉ\u00a0đọc). Gạt công\u00a0tắc khóa trên USB để mở, "
                 "hoặc dùng "
                 "USB khác." NOT_MARKED_VI);
        return;
    case USB_EXPORT_REMOVED:
        snprintf(out, outlen,
                 "USB đã bị rút ra trước khi xuất xong." NOT_MARKED_VI
                 " Hãy cắm\u00a0lại và xuất\u00a0lại.");
        return;
    case USB_EXPORT_IO:
        snprintf(out, outlen,
                 "Không ghi được vào USB (lỗi đọc/ghi). Hãy thử\u00a0lại, hoặc dùng USB "
                 "khác." NOT_MARKED_VI);
        return;
    case USB_EXPORT_CANCELLED:
        snprintf(out, outlen,
                 "Đã hủy xuất. Không ghi gì và chưa đánh\u00a0dấu câu trả\u00a0lời nào là đã xuất; "
                 "có\u00a0thể "
                 "rút USB ra an\u00a0toàn.");
        return;
    case USB_EXPORT_FAILED:
        if (rep->rc == TP_ERR_TOO_LARGE)
            snprintf(out, outlen,
                     "Dữ\u00a0liệu xuất quá\u00a0lớn cho một tệp trên USB (tối\u00a0đa 4 "
                     "GB)." NOT_MARKED_VI " Hãy gọi kỹ\u00a0thuật\u00a0viên.");
        else if (rep->rc == TP_ERR_EXISTS)
            snprintf(
                out, outlen,
                "Trên USB không còn tên\u00a0tệp trống. Hãy xóa các tệp xuất cũ bằng máy\u00a0tính "
                "rồi thử\u00a0lại." NOT_MARKED_VI);
        else
            snprintf(out, outlen,
                     "Xuất không thành\u00a0công (mã\u00a0lỗi cho kỹ\u00a0thuật\u00a0viên: "
                     "%s)." NOT_MARKED_VI
                     " Hãy thử\u00a0lại; nếu vẫn lỗi, hãy gọi kỹ\u00a0thuật\u00a0viên.",
                     tp_strerror(rep->rc));
        return;
    }
    snprintf(out, outlen, "?");
}

/* The English staff sentences (the documented ones; also usb_export_report.message). */
static void message_en(const usb_export_report *rep, char *out, size_t outlen)
{
    char need[32], freeb[32];
    tp_err rc = rep->rc;
    switch (rep->outcome) {
    case USB_EXPORT_DONE:
        snprintf(out, outlen, "Done: %" PRId64 " answer%s, safe to remove", rep->rows,
                 rep->rows == 1 ? "" : "s");
        return;
    case USB_EXPORT_NOTHING:
        snprintf(out, outlen,
                 "No new answers since the last export. Nothing was written; safe to remove.");
        return;
    case USB_EXPORT_FULL:
        if (rep->bytes_missing > 0) {
            usb_format_bytes(rep->bytes_missing, need, sizeof need);
            fmt_bytes(rep->free_bytes, false, freeb, sizeof freeb);
            snprintf(out, outlen,
                     "The USB stick is full. The export needs %s more free space (%s free now). "
                     "Delete files from the stick on a computer, or use a bigger stick." NOT_MARKED,
                     need, freeb);
        } else {
            usb_format_bytes(rep->bytes_needed, need, sizeof need);
            snprintf(out, outlen,
                     "The USB stick is full. The export needs about %s of free space. Delete "
                     "files from the stick on a computer, or use a bigger stick." NOT_MARKED,
                     need);
        }
        return;
    case USB_EXPORT_READONLY:
        snprintf(out, outlen,
                 "The USB stick is read-only (write-protected). Slide its lock switch to unlock "
                 "it, or use another stick." NOT_MARKED);
        return;
    case USB_EXPORT_REMOVED:
        snprintf(out, outlen,
                 "The USB stick was removed before the export finished." NOT_MARKED
                 " Plug it in again and export again.");
        return;
    case USB_EXPORT_IO:
        snprintf(out, outlen,
                 "The USB stick could not be written (input/output error). Try again, or use "
                 "another stick." NOT_MARKED);
        return;
    case USB_EXPORT_CANCELLED:
        snprintf(out, outlen,
                 "Export cancelled. Nothing was written and nothing was marked as exported; safe "
                 "to remove.");
        return;
    case USB_EXPORT_FAILED:
        if (rc == TP_ERR_TOO_LARGE)
            snprintf(out, outlen,
                     "The export is too big for one file on a USB stick (4 GB at most)." NOT_MARKED
                     " Please call the technician.");
        else if (rc == TP_ERR_EXISTS)
            snprintf(out, outlen,
                     "There is no free file name left on the USB stick. Delete old export files "
                     "from it on a computer, then try again." NOT_MARKED);
        else
            snprintf(out, outlen,
                     "The export did not work (%s)." NOT_MARKED
                     " Try again; if it fails again, please call the technician.",
                     tp_strerror(rc));
        return;
    }
    snprintf(out, outlen, "?");
}

void usb_export_message(const usb_export_report *rep, const char *lang, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    if (lang && strcmp(lang, "vi") == 0)
        message_vi(rep, out, outlen);
    else
        message_en(rep, out, outlen);
}
