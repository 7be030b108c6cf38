/*
 * cdeliver_render.c - what each endpoint kind receives, rendered from the canonical event
 * (CONTRACT.md "Outbox payload_json") in the endpoint's language (vi or en):
 *
 *   webhook      the canonical event itself, byte for byte as stored (what was signed is what
 *                the alert's transaction wrote)
 *   slack        {"text": headline, "blocks": [header, fields, numbers, button]}
 *   google_chat  {"text": headline, "cardsV2": [{"cardId", "card": {header, sections}}]}
 *   email        subject, plain text and HTML (digests bring their own in the "email" part)
 *
 * Every renderer works from one list of facts (label, value) so the four agree.
 */
#include "cdeliver_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FACTS_MAX 10
#define SLACK_TEXT_MAX 2900 /* Slack's section text is at most 3000 characters */

typedef struct label_set {
    const char *alert, *test, *node, *store, *touchpoint, *device, *window, *rule, *fired, *numbers,
        *open, *footer;
} label_set;

static const label_set LABELS_VI = {
    .alert = "Cảnh báo",
    .test = "Thử nghiệm",
    .node = "Vị trí",
    .store = "Cửa hàng",
    .touchpoint = "Điểm khảo sát",
    .device = "Thiết bị",
    .window = "Khoảng thời gian",
    .rule = "Quy tắc",
    .fired = "Thời điểm",
    .numbers = "Số liệu",
    .open = "Mở trên bảng điều khiển",
    .footer = "Thư tự động từ Touchpoint.",
};

static const label_set LABELS_EN = {
    .alert = "Alert",
    .test = "Test",
    .node = "Node",
    .store = "Store",
    .touchpoint = "Touchpoint",
    .device = "Device",
    .window = "Window",
    .rule = "Rule",
    .fired = "Fired at",
    .numbers = "Numbers",
    .open = "Open in the dashboard",
    .footer = "Sent automatically by Touchpoint.",
};

/* The event as the renderers see it: all strings borrowed from the event or held in bufs. */
typedef struct facts {
    const label_set *l;
    char headline[600];
    const char *node, *url;
    const char *label[FACTS_MAX], *value[FACTS_MAX];
    size_t n;
    char window[128];
    const cJSON *numbers;
    const cJSON *email; /* digests */
} facts;

static const char *str_of(const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v && *v ? v : NULL;
}

/* {"vi": ..., "en": ...} in lang, else the other language. */
static const char *in_lang(const cJSON *o, const char *key, const char *lang)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(t))
        return t->valuestring;
    const char *v = str_of(t, lang);
    return v ? v : str_of(t, strcmp(lang, "vi") == 0 ? "en" : "vi");
}

static void add_fact(facts *f, const char *label, const char *value)
{
    if (value && f->n < FACTS_MAX) {
        f->label[f->n] = label;
        f->value[f->n++] = value;
    }
}

/* A window end: RFC 3339 text as given, or milliseconds formatted in UTC. */
static void time_text(const cJSON *v, char *out, size_t outlen)
{
    if (cJSON_IsString(v))
        snprintf(out, outlen, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        tp_format_utc((int64_t)v->valuedouble, out, outlen);
    else
        snprintf(out, outlen, "?");
}

static void facts_of(const cdeliver_msg *m, facts *f)
{
    const char *lang = m->lang && strcmp(m->lang, "en") == 0 ? "en" : "vi";
    const cJSON *ev = m->event, *a = cJSON_GetObjectItemCaseSensitive(ev, "alert");
    const char *type = str_of(ev, "type");
    memset(f, 0, sizeof *f);
    f->l = lang[0] == 'e' ? &LABELS_EN : &LABELS_VI;
    f->url = str_of(ev, "dashboard_url");
    f->email = cJSON_GetObjectItemCaseSensitive(ev, "email");
    if (type && strcmp(type, "digest") == 0) {
        const char *subject = str_of(f->email, "subject");
        snprintf(f->headline, sizeof f->headline, "%s", subject ? subject : "Touchpoint");
        return;
    }
    const char *title = in_lang(a, "title", lang);
    f->node = str_of(a, "node");
    bool test = type && strcmp(type, "alert.test") == 0;
    const char *label = test ? f->l->test : f->l->alert;
    size_t ll = strlen(label);
    bool labelled = title && strncmp(title, label, ll) == 0 && title[ll] == ':';
    snprintf(f->headline, sizeof f->headline, "%s%s%s%s%s", labelled ? "" : label,
             labelled ? "" : ": ", title ? title : "?", f->node ? " · " : "",
             f->node ? f->node : "");
    add_fact(f, f->l->node, f->node);
    add_fact(f, f->l->store, str_of(a, "store"));
    add_fact(f, f->l->touchpoint, str_of(a, "touchpoint"));
    add_fact(f, f->l->device, str_of(a, "device"));
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(a, "window");
    if (cJSON_IsObject(w)) {
        char from[48], to[48];
        time_text(cJSON_GetObjectItemCaseSensitive(w, "from"), from, sizeof from);
        time_text(cJSON_GetObjectItemCaseSensitive(w, "to"), to, sizeof to);
        snprintf(f->window, sizeof f->window, "%s – %s", from, to);
        add_fact(f, f->l->window, f->window);
    }
    add_fact(f, f->l->rule, in_lang(a, "rule_name", lang));
    add_fact(f, f->l->fired, str_of(a, "fired_at"));
    f->numbers = cJSON_GetObjectItemCaseSensitive(a, "numbers");
}

/* People's names of the numbers the alert rules write (calert*.c); other keys show as is. */
static const struct {
    const char *key, *vi, *en;
} NUMBER_LABELS[] = {
    {"ratings", "Số đánh giá", "Ratings"},
    {"negative", "Đánh giá tiêu cực", "Negative ratings"},
    {"share_pct", "Tỷ lệ tiêu cực (%)", "Negative share (%)"},
    {"min_share_pct", "Ngưỡng tỷ lệ (%)", "Share threshold (%)"},
    {"min_count", "Số đánh giá tối thiểu", "Minimum ratings"},
    {"window_local", "Từ (giờ cửa hàng)", "From (store time)"},
    {"window_local_end", "Đến (giờ cửa hàng)", "To (store time)"},
    {"metric", "Chỉ số", "Metric"},
    {"value", "Giá trị", "Value"},
    {"threshold", "Ngưỡng", "Threshold"},
    {"ci_low", "Khoảng tin cậy 95%: từ", "95% interval: low"},
    {"ci_high", "Khoảng tin cậy 95%: đến", "95% interval: high"},
    {"n", "Số câu trả lời", "Answers"},
    {"count", "Số lần", "Count"},
    {"choice", "Lựa chọn", "Choice"},
    {"silent_minutes", "Im lặng (phút)", "Silent (minutes)"},
    {"minutes", "Ngưỡng (phút)", "Threshold (minutes)"},
    {"pending", "Câu trả lời chờ gửi", "Pending answers"},
    {"oldest_pending_minutes_at_least", "Chờ lâu nhất (phút, ít nhất)",
     "Oldest pending (minutes, at least)"},
    {"missing", "Số thứ tự bị thiếu", "Missing seqs"},
    {"first_hole", "Chỗ thiếu đầu tiên", "First hole"},
    {"disk_free_mb", "Dung lượng trống (MB)", "Free disk (MB)"},
    {"min_free_mb", "Ngưỡng dung lượng (MB)", "Disk threshold (MB)"},
    {"apply_error", "Lỗi áp dụng cấu hình", "Configuration error"},
    {"boot_id", "Lần khởi động", "Boot id"},
    {"test", "Thử nghiệm", "Test"},
};

static const char *number_label(const facts *f, const char *key)
{
    for (size_t i = 0; key && i < sizeof NUMBER_LABELS / sizeof NUMBER_LABELS[0]; i++)
        if (strcmp(NUMBER_LABELS[i].key, key) == 0)
            return f->l == &LABELS_EN ? NUMBER_LABELS[i].en : NUMBER_LABELS[i].vi;
    return key ? key : "?";
}

/* One number of the alert as text: integers without a fraction, others with up to 3 digits. */
static void number_text(const cJSON *v, char *out, size_t outlen)
{
    if (cJSON_IsNumber(v) && fabs(v->valuedouble) < 1e15 &&
        v->valuedouble == (double)(long long)v->valuedouble)
        snprintf(out, outlen, "%lld", (long long)v->valuedouble);
    else if (cJSON_IsNumber(v))
        snprintf(out, outlen, "%.3g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(out, outlen, "%s", v->valuestring);
    else {
        char *t = cJSON_PrintUnformatted(v);
        snprintf(out, outlen, "%s", t ? t : "?");
        free(t);
    }
}

/* Appends s with HTML's special characters escaped. */
static void add_html(tp_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': tp_buf_add(b, "&amp;", 5); break;
        case '<': tp_buf_add(b, "&lt;", 4); break;
        case '>': tp_buf_add(b, "&gt;", 4); break;
        case '"': tp_buf_add(b, "&quot;", 6); break;
        case '\'': tp_buf_add(b, "&#39;", 5); break;
        default: tp_buf_add(b, s, 1);
        }
    }
}

/* Appends s with Slack mrkdwn's control characters escaped. */
static void add_slack(tp_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': tp_buf_add(b, "&amp;", 5); break;
        case '<': tp_buf_add(b, "&lt;", 4); break;
        case '>': tp_buf_add(b, "&gt;", 4); break;
        default: tp_buf_add(b, s, 1);
        }
    }
}

/* Cuts s (in place) to at most max bytes on a character boundary. */
static void cut_utf8(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    s[max] = '\0';
}

/* ---- Slack ---------------------------------------------------------------------------------- */

static char *render_slack(const cdeliver_msg *m, const facts *f)
{
    cJSON *root = cJSON_CreateObject(), *blocks = NULL, *o = NULL;
    char head[160];
    _Static_assert(sizeof head < sizeof((facts *)0)->headline, "head is a prefix");
    tp_buf b;
    tp_buf_init(&b, CDELIVER_BODY_MAX);
    memcpy(head, f->headline, sizeof head - 1); /* headline is longer and NUL-terminated */
    head[sizeof head - 1] = '\0';
    cut_utf8(head, 150);
    add_slack(&b, f->headline); /* the notification's text: mrkdwn, escaped */
    cJSON_AddStringToObject(root, "text", b.p ? b.p : "");
    blocks = cJSON_AddArrayToObject(root, "blocks");
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "header");
    cJSON *t = cJSON_AddObjectToObject(o, "text");
    cJSON_AddStringToObject(t, "type", "plain_text");
    cJSON_AddStringToObject(t, "text", head);
    cJSON_AddItemToArray(blocks, o);
    if (f->n) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "section");
        cJSON *fields = cJSON_AddArrayToObject(o, "fields");
        for (size_t i = 0; i < f->n; i++) {
            tp_buf_reset(&b);
            tp_buf_addf(&b, "*%s*\n", f->label[i]);
            add_slack(&b, f->value[i]);
            cJSON *fl = cJSON_CreateObject();
            cJSON_AddStringToObject(fl, "type", "mrkdwn");
            cJSON_AddStringToObject(fl, "text", b.p ? b.p : "");
            cJSON_AddItemToArray(fields, fl);
        }
        cJSON_AddItemToArray(blocks, o);
    }
    tp_buf_reset(&b);
    if (cJSON_IsObject(f->numbers) && f->numbers->child) {
        tp_buf_addf(&b, "*%s*", f->l->numbers);
        for (const cJSON *it = f->numbers->child; it; it = it->next) {
            char v[128];
            number_text(it, v, sizeof v);
            tp_buf_add(&b, "\n• ", strlen("\n• "));
            add_slack(&b, number_label(f, it->string));
            tp_buf_add(&b, ": ", 2);
            add_slack(&b, v);
        }
    } else if (f->email) {
        add_slack(&b, str_of(f->email, "text"));
    }
    if (b.len) {
        cut_utf8(b.p, SLACK_TEXT_MAX);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "section");
        t = cJSON_AddObjectToObject(o, "text");
        cJSON_AddStringToObject(t, "type", "mrkdwn");
        cJSON_AddStringToObject(t, "text", b.p);
        cJSON_AddItemToArray(blocks, o);
    }
    if (f->url) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "actions");
        cJSON *btn = cJSON_CreateObject();
        cJSON_AddStringToObject(btn, "type", "button");
        t = cJSON_AddObjectToObject(btn, "text");
        cJSON_AddStringToObject(t, "type", "plain_text");
        cJSON_AddStringToObject(t, "text", f->l->open);
        cJSON_AddStringToObject(btn, "url", f->url);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "elements"), btn);
        cJSON_AddItemToArray(blocks, o);
    }
    (void)m;
    tp_buf_free(&b);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

/* ---- Google Chat ---------------------------------------------------------------------------- */

static cJSON *widget(const char *kind, const char *key, const char *value)
{
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(w, kind), key, value);
    return w;
}

static char *render_chat(const cdeliver_msg *m, const facts *f)
{
    cJSON *root = cJSON_CreateObject();
    tp_buf b;
    tp_buf_init(&b, CDELIVER_BODY_MAX);
    tp_buf_addf(&b, "%s", f->headline);
    if (f->url)
        tp_buf_addf(&b, "\n%s", f->url);
    cJSON_AddStringToObject(root, "text", b.p ? b.p : f->headline);
    cJSON *card = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "cardsV2"), card);
    cJSON_AddStringToObject(card, "cardId", m->outbox_id);
    cJSON *c = cJSON_AddObjectToObject(card, "card");
    cJSON *h = cJSON_AddObjectToObject(c, "header");
    cJSON_AddStringToObject(h, "title", f->headline);
    if (f->node)
        cJSON_AddStringToObject(h, "subtitle", f->node);
    cJSON *sec = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "sections"), sec);
    cJSON *ws = cJSON_AddArrayToObject(sec, "widgets");
    for (size_t i = 0; i < f->n; i++) {
        cJSON *w = cJSON_CreateObject(), *dt = cJSON_AddObjectToObject(w, "decoratedText");
        cJSON_AddStringToObject(dt, "topLabel", f->label[i]);
        cJSON_AddStringToObject(dt, "text", f->value[i]);
        cJSON_AddItemToArray(ws, w);
    }
    tp_buf_reset(&b);
    if (cJSON_IsObject(f->numbers) && f->numbers->child) {
        tp_buf_add(&b, "<b>", 3);
        add_html(&b, f->l->numbers);
        tp_buf_add(&b, "</b>", 4);
        for (const cJSON *it = f->numbers->child; it; it = it->next) {
            char v[128];
            number_text(it, v, sizeof v);
            tp_buf_add(&b, "<br>", 4);
            add_html(&b, number_label(f, it->string));
            tp_buf_add(&b, ": ", 2);
            add_html(&b, v);
        }
    } else if (f->email) {
        add_html(&b, str_of(f->email, "text"));
    }
    if (b.len)
        cJSON_AddItemToArray(ws, widget("textParagraph", "text", b.p));
    if (f->url) {
        cJSON *w = cJSON_CreateObject(), *btn = cJSON_CreateObject();
        cJSON_AddItemToArray(
            cJSON_AddArrayToObject(cJSON_AddObjectToObject(w, "buttonList"), "buttons"), btn);
        cJSON_AddStringToObject(btn, "text", f->l->open);
        cJSON_AddStringToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(btn, "onClick"), "openLink"), "url",
            f->url);
        cJSON_AddItemToArray(ws, w);
    }
    tp_buf_free(&b);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

char *cdeliver_render_body(const cdeliver_msg *m)
{
    facts f;
    if (strcmp(m->ep_kind, "slack") == 0 || strcmp(m->ep_kind, "google_chat") == 0) {
        facts_of(m, &f);
        return m->ep_kind[0] == 's' ? render_slack(m, &f) : render_chat(m, &f);
    }
    return strdup(m->payload);
}

/* ---- E-mail --------------------------------------------------------------------------------- */

tp_err cdeliver_render_mail(const cdeliver_msg *m, char **subject, char **text, char **html,
                            char *err, size_t errlen)
{
    facts f;
    tp_buf t, h;
    *subject = *text = *html = NULL;
    facts_of(m, &f);
    if (f.email && cJSON_IsObject(f.email)) { /* a digest composed by its author */
        const char *s = str_of(f.email, "subject"), *tx = str_of(f.email, "text"),
                   *hx = str_of(f.email, "html");
        if (!s || (!tx && !hx))
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "outbox %s: $.email needs subject and text or html", m->outbox_id);
        *subject = strdup(s);
        *text = tx ? strdup(tx) : NULL;
        *html = hx ? strdup(hx) : NULL;
        return *subject && (!tx || *text) && (!hx || *html) ? TP_OK : TP_ERR_NOMEM;
    }
    tp_buf_init(&t, CDELIVER_BODY_MAX);
    tp_buf_init(&h, CDELIVER_BODY_MAX);
    tp_buf_addf(&t, "%s\n\n", f.headline);
    tp_buf_add(&h,
               "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
               "content=\"width=device-width\"></head><body style=\"font-family:Arial,sans-serif;"
               "color:#222;max-width:600px;margin:0 auto;padding:12px\"><h2 style=\"font-size:"
               "18px;color:#b3261e\">",
               strlen("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                      "content=\"width=device-width\"></head><body style=\"font-family:Arial,"
                      "sans-serif;color:#222;max-width:600px;margin:0 auto;padding:12px\"><h2 "
                      "style=\"font-size:18px;color:#b3261e\">"));
    add_html(&h, f.headline);
    tp_buf_addf(&h, "</h2><table style=\"border-collapse:collapse;font-size:14px\">");
    for (size_t i = 0; i < f.n; i++) {
        tp_buf_addf(&t, "%s: %s\n", f.label[i], f.value[i]);
        tp_buf_addf(&h, "<tr><td style=\"padding:4px 12px 4px 0;color:#555\">");
        add_html(&h, f.label[i]);
        tp_buf_addf(&h, "</td><td style=\"padding:4px 0\">");
        add_html(&h, f.value[i]);
        tp_buf_addf(&h, "</td></tr>");
    }
    tp_buf_addf(&h, "</table>");
    if (cJSON_IsObject(f.numbers) && f.numbers->child) {
        tp_buf_addf(&t, "\n%s:\n", f.l->numbers);
        tp_buf_addf(&h, "<h3 style=\"font-size:15px\">");
        add_html(&h, f.l->numbers);
        tp_buf_addf(&h, "</h3><ul>");
        for (const cJSON *it = f.numbers->child; it; it = it->next) {
            char v[128];
            number_text(it, v, sizeof v);
            tp_buf_addf(&t, "  %s: %s\n", number_label(&f, it->string), v);
            tp_buf_addf(&h, "<li>");
            add_html(&h, number_label(&f, it->string));
            tp_buf_addf(&h, ": <b>");
            add_html(&h, v);
            tp_buf_addf(&h, "</b></li>");
        }
        tp_buf_addf(&h, "</ul>");
    }
    if (f.url) {
        tp_buf_addf(&t, "\n%s: %s\n", f.l->open, f.url);
        tp_buf_addf(&h, "<p><a href=\"");
        add_html(&h, f.url);
        tp_buf_addf(&h, "\" style=\"display:inline-block;padding:10px 16px;background:#1a73e8;"
                        "color:#fff;text-decoration:none;border-radius:4px\">");
        add_html(&h, f.l->open);
        tp_buf_addf(&h, "</a></p>");
    }
    tp_buf_addf(&t, "\n-- \n%s\n", f.l->footer);
    tp_buf_addf(&h, "<p style=\"color:#888;font-size:12px\">");
    add_html(&h, f.l->footer);
    tp_buf_addf(&h, "</p></body></html>");
    size_t sl = strlen("[Touchpoint] ") + strlen(f.headline) + 1;
    *subject = malloc(sl);
    if (*subject)
        snprintf(*subject, sl, "[Touchpoint] %s", f.headline);
    *text = tp_buf_take(&t);
    *html = tp_buf_take(&h);
    if (!*subject || !*text || !*html) {
        free(*subject);
        free(*text);
        free(*html);
        *subject = *text = *html = NULL;
        return TP_ERR_NOMEM;
    }
    return TP_OK;
}
