/*
 * ccomment_page.c - the comment page's HTML (see ccomment.h): one self-contained document per
 * state (form, thanks, already received, expired, forged, busy) in the link's language, with its
 * CSS and the little JavaScript inline (no CDN, no web fonts: the collector's Content-Security-
 * Policy allows nothing else).
 *
 * Everything is rendered on the server, so the page reads the same without JavaScript; the
 * script only counts characters as the customer sees them (Intl.Segmenter: grapheme clusters,
 * the count the server checks with u8_grapheme_breaks) and enables the contact fields once the
 * consent box is ticked. No maxlength on the text box: browsers count UTF-16 units there, which
 * is not what a Vietnamese customer sees. The language switch is a link to the same URL with
 * l= changed (l is not MAC'd).
 */
#include "ccomment_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct msg {
    const char *key, *vi, *en;
} msg;

static const msg msgs[] = {
    {"title", "Góp ý thêm", "Tell us more"},
    {"intro", "Cảm ơn bạn đã đánh giá. Bạn muốn kể thêm điều gì không?",
     "Thank you for your rating. Is there anything you would like to add?"},
    {"text", "Ý kiến của bạn", "Your comment"},
    {"count", "ký tự", "characters"},
    {"contact", "Thông tin liên hệ (không bắt buộc)", "Contact details (optional)"},
    {"consent", "Tôi đồng ý để cửa hàng lưu thông tin liên hệ này để trả lời tôi.",
     "I agree that the shop keeps these contact details to reply to me."},
    {"consent_default",
     "Chúng tôi chỉ dùng tên, số điện thoại hoặc e-mail của bạn để trả lời góp ý này và xóa "
     "chúng sau thời hạn lưu trữ.",
     "We use your name, phone number or e-mail only to reply to this comment and delete them "
     "after the retention period."},
    {"name", "Tên", "Name"},
    {"phone", "Số điện thoại", "Phone"},
    {"email", "E-mail", "E-mail"},
    {"send", "Gửi góp ý", "Send"},
    {"thanks_t", "Cảm ơn bạn!", "Thank you!"},
    {"thanks", "Chúng tôi đã nhận được góp ý của bạn.", "We have received your comment."},
    {"received_t", "Đã nhận", "Already received"},
    {"received", "Góp ý cho lượt đánh giá này đã được gửi trước đó. Cảm ơn bạn!",
     "A comment for this visit was already sent. Thank you!"},
    {"expired_t", "Liên kết đã hết hạn", "This link has expired"},
    {"expired",
     "Mã QR chỉ dùng được trong một thời gian ngắn sau khi đánh giá. Lần sau bạn hãy quét "
     "ngay nhé!",
     "The QR code works for a short while after the rating. Next time, scan it right away!"},
    {"forged_t", "Liên kết không hợp lệ", "This link is not valid"},
    {"forged", "Liên kết này không đúng hoặc đã bị thay đổi. Hãy quét lại mã QR trên máy đánh giá.",
     "This link is wrong or was changed. Please scan the QR code on the kiosk again."},
    {"busy_t", "Xin thử lại sau", "Please try again"},
    {"busy", "Hệ thống đang bận. Xin thử lại sau ít phút.",
     "The service is busy. Please try again in a few minutes."},
    {"err_empty", "Hãy viết vài dòng trước khi gửi.", "Please write something before sending."},
    {"err_too_long", "Góp ý dài quá 1.000 ký tự.", "The comment is longer than 1,000 characters."},
    {"err_consent", "Để gửi thông tin liên hệ, hãy đánh dấu ô đồng ý — hoặc xóa các thông tin đó.",
     "To send contact details, tick the consent box — or clear them."},
    {"err_name", "Tên dài quá 100 byte.", "The name is too long."},
    {"err_phone", "Số điện thoại không hợp lệ.", "The phone number is not valid."},
    {"err_email", "Địa chỉ e-mail không hợp lệ.", "The e-mail address is not valid."},
    {"over", "Quá giới hạn 1.000 ký tự", "Over the limit of 1,000 characters"},
};

static const char *t(const cc_view *v, const char *key)
{
    bool en = strcmp(v->lang, "en") == 0;
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
        if (strcmp(msgs[i].key, key) == 0)
            return en ? msgs[i].en : msgs[i].vi;
    return key;
}

static void esc(tp_buf *b, const char *s)
{
    for (; s && *s; s++) {
        const char *r = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        if (r)
            tp_buf_add(b, r, strlen(r));
        else
            tp_buf_add(b, s, 1);
    }
}

/* Query value for an URL (device ids, uuids, digits, base64url: only the unreserved set). */
static void link_href(tp_buf *b, const clink *l, const char *lang)
{
    tp_buf_addf(b, "/c?d=%s&amp;s=%s&amp;x=%s&amp;l=%s&amp;m=%s", l->device, l->session, l->x, lang,
                l->mac);
}

static bool b64_text(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '+' || *s == '/' || *s == '='))
            return false;
    return true;
}

static const char css[] =
    ":root{--accent:#0b6e4f;--bg:#fff;--fg:#1b1b1b;--muted:#555;--line:#bbb;--field:#fff;"
    "--err:#b00020}"
    "@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#eee;--muted:#aaa;--line:#555;"
    "--field:#1e1e1e;--err:#ff8a80}}"
    "*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}"
    "body{margin:0;background:var(--bg);color:var(--fg);font:17px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'Noto Sans',sans-serif}"
    "header{display:flex;align-items:center;gap:10px;padding:12px 16px;border-bottom:4px solid "
    "var(--accent)}"
    "header img{height:36px;width:auto}.brand{font-weight:600;flex:1;min-width:0;"
    "overflow-wrap:anywhere}"
    "nav a{color:var(--fg);padding:6px 4px}nav a[aria-current]{font-weight:700;"
    "text-decoration:none}"
    "main{max-width:560px;margin:0 auto;padding:16px}h1{font-size:1.4em;margin:.2em 0 .5em}"
    "label{display:block;font-weight:600;margin:14px 0 4px}"
    "textarea,input[type=text],input[type=tel],input[type=email]{width:100%;font:inherit;"
    "color:var(--fg);background:var(--field);border:1px solid var(--line);border-radius:8px;"
    "padding:10px}textarea{min-height:9em;resize:vertical}"
    "input:disabled{opacity:.5}"
    ":focus-visible{outline:3px solid var(--accent);outline-offset:2px}"
    ".count{color:var(--muted);font-size:.9em;margin:4px 0 0;text-align:right}"
    ".count.over{color:var(--err);font-weight:600}"
    "fieldset{border:1px solid var(--line);border-radius:8px;margin:18px 0;padding:8px 12px 14px}"
    "legend{font-weight:600;padding:0 4px}.consent-text{color:var(--muted);font-size:.95em}"
    ".check{display:flex;gap:10px;align-items:flex-start}.check input{width:24px;height:24px;"
    "accent-color:var(--accent);"
    "margin:2px 0 0;flex:none}.check label{font-weight:400;margin:0}"
    "button{width:100%;font:inherit;font-weight:600;color:#fff;background:var(--accent);"
    "border:0;border-radius:8px;padding:14px;margin-top:8px}"
    "button:disabled{opacity:.5}"
    ".error{color:var(--err);font-weight:600;border-left:4px solid var(--err);padding-left:10px}"
    ".big{font-size:3em;margin:.2em 0 0}";

static const char js[] =
    "(function(){var ta=document.getElementById('text'),c=document.getElementById('count'),"
    "b=document.getElementById('send'),k=document.getElementById('consent'),"
    "f=['name','phone','email'].map(function(i){return document.getElementById(i)});"
    "if(!ta)return;var seg=window.Intl&&Intl.Segmenter?new Intl.Segmenter(undefined,"
    "{granularity:'grapheme'}):null;"
    "function n(s){if(seg){var i=0;for(var x of seg.segment(s))i++;return i}"
    "return Array.from(s).length}"
    "function u(){var v=ta.value.replace(/\\r\\n?/g,'\\n').trim(),m=n(v),o=m>1000;"
    "c.textContent=m+' / 1000 '+c.dataset.unit+(o?' — '+c.dataset.over:'');"
    "c.className='count'+(o?' over':'');b.disabled=o;ta.setAttribute('aria-invalid',o)}"
    "function g(){f.forEach(function(e){e.disabled=!k.checked})}"
    "ta.addEventListener('input',u);k.addEventListener('change',g);"
    "if(!f.some(function(e){return e.value}))g();u()})();";

static void field(tp_buf *b, const cc_view *v, const char *id, const char *type, const char *autoc,
                  const char *value)
{
    tp_buf_addf(b,
                "<label for=\"%s\">%s</label><input type=\"%s\" id=\"%s\" name=\"%s\" "
                "autocomplete=\"%s\" value=\"",
                id, t(v, id), type, id, id, autoc);
    esc(b, value);
    tp_buf_addf(b, "\">");
}

static void form_html(tp_buf *b, const cc_view *v)
{
    const clink *l = v->link;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(v->settings, "comments"), "consent_text");
    const char *consent = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ct, v->lang));
    tp_buf_addf(b, "<h1>%s</h1><p>%s</p>", t(v, "title"), t(v, "intro"));
    if (v->error) {
        char key[32];
        snprintf(key, sizeof key, "err_%s", v->error);
        tp_buf_addf(b, "<p class=\"error\" role=\"alert\" id=\"error\">%s</p>", t(v, key));
    }
    tp_buf_addf(b,
                "<form method=\"post\" action=\"/c\" accept-charset=\"utf-8\">"
                "<input type=\"hidden\" name=\"d\" value=\"%s\"><input type=\"hidden\" name=\"s\" "
                "value=\"%s\"><input type=\"hidden\" name=\"x\" value=\"%s\"><input "
                "type=\"hidden\" name=\"l\" value=\"%s\"><input type=\"hidden\" name=\"m\" "
                "value=\"%s\">",
                l->device, l->session, l->x, v->lang, l->mac);
    tp_buf_addf(b,
                "<label for=\"text\">%s</label><textarea id=\"text\" name=\"text\" rows=\"6\" "
                "aria-describedby=\"count%s\"%s>",
                t(v, "text"), v->error ? " error" : "",
                v->error && strcmp(v->error, "consent") != 0 ? " aria-invalid=\"true\"" : "");
    esc(b, v->text);
    tp_buf_addf(b,
                "</textarea><p class=\"count\" id=\"count\" aria-live=\"polite\" "
                "data-unit=\"%s\" data-over=\"%s\">1000 %s</p>",
                t(v, "count"), t(v, "over"), t(v, "count"));
    tp_buf_addf(b, "<fieldset><legend>%s</legend><p class=\"consent-text\" id=\"consent-text\">",
                t(v, "contact"));
    esc(b, consent && *consent ? consent : t(v, "consent_default"));
    tp_buf_addf(b,
                "</p><div class=\"check\"><input type=\"checkbox\" id=\"consent\" name=\"consent\" "
                "value=\"yes\" aria-describedby=\"consent-text\"><label for=\"consent\">%s</label>"
                "</div>",
                t(v, "consent"));
    field(b, v, "name", "text", "name", v->name);
    field(b, v, "phone", "tel", "tel", v->phone);
    field(b, v, "email", "email", "email", v->email);
    tp_buf_addf(b, "</fieldset><button type=\"submit\" id=\"send\">%s</button></form>",
                t(v, "send"));
}

char *cc_page_html(const cc_view *v, size_t *len)
{
    static const char *const keys[] = {"form", "thanks", "received", "expired", "forged", "busy"};
    tp_buf b;
    tp_buf_init(&b, 1u << 20);
    const cJSON *brand = cJSON_GetObjectItemCaseSensitive(v->settings, "brand");
    const char *bname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(brand, "name"));
    const char *accent = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(brand, "accent"));
    const char *logo = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(brand, "logo_png"));
    const char *key = keys[v->state];
    char title_key[24];
    if (v->state == CC_FORM)
        snprintf(title_key, sizeof title_key, "title");
    else
        snprintf(title_key, sizeof title_key, "%s_t", key);

    tp_buf_addf(&b,
                "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\"><meta "
                "name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta "
                "name=\"color-scheme\" content=\"light dark\"><meta name=\"robots\" "
                "content=\"noindex\"><title>",
                v->lang);
    esc(&b, t(v, title_key));
    if (bname) {
        tp_buf_add(&b, " — ", strlen(" — "));
        esc(&b, bname);
    }
    tp_buf_addf(&b, "</title><style>%s", css);
    if (accent && strlen(accent) == 7 && accent[0] == '#' &&
        strspn(accent + 1, "0123456789abcdefABCDEF") == 6)
        tp_buf_addf(&b, ":root{--accent:%s}", accent);
    tp_buf_addf(&b, "</style></head><body><header>");
    if (logo && *logo && b64_text(logo))
        tp_buf_addf(&b, "<img src=\"data:image/png;base64,%s\" alt=\"\">", logo);
    tp_buf_addf(&b, "<span class=\"brand\">");
    esc(&b, bname ? bname : "");
    tp_buf_addf(&b, "</span>");
    if (v->link) {
        tp_buf_addf(&b, "<nav aria-label=\"Language / Ngôn ngữ\"><a lang=\"vi\" hreflang=\"vi\" "
                        "href=\"");
        link_href(&b, v->link, "vi");
        tp_buf_addf(&b, "\"%s>Tiếng Việt</a> <a lang=\"en\" hreflang=\"en\" href=\"",
                    strcmp(v->lang, "vi") == 0 ? " aria-current=\"true\"" : "");
        link_href(&b, v->link, "en");
        tp_buf_addf(&b, "\"%s>English</a></nav>",
                    strcmp(v->lang, "en") == 0 ? " aria-current=\"true\"" : "");
    }
    tp_buf_addf(&b, "</header><main id=\"main\" data-state=\"%s\">", key);
    if (v->state == CC_FORM) {
        form_html(&b, v);
    } else {
        tp_buf_addf(&b, "<p class=\"big\" aria-hidden=\"true\">%s</p><h1>%s</h1><p>%s</p>",
                    v->state == CC_THANKS || v->state == CC_RECEIVED ? "&#10003;" : "&#9888;",
                    t(v, title_key), t(v, key));
    }
    tp_buf_addf(&b, "</main>");
    if (v->state == CC_FORM)
        tp_buf_addf(&b, "<script>%s</script>", js);
    tp_buf_addf(&b, "</body></html>");
    /* Any add refused (memory, bound) leaves the page without its end. */
    if (b.len < 7 || memcmp(b.p + b.len - 7, "</html>", 7) != 0) {
        tp_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return tp_buf_take(&b);
}
