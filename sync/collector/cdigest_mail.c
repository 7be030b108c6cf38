/*
 * cdigest_mail.c - a digest's e-mail (see cdigest_int.h): subject, plain text, HTML and the CSV
 * attachment, in Vietnamese or English.
 *
 * The HTML is what mail clients render reliably: tables for layout, inline styles only, no
 * external resource (no images, fonts or stylesheets to fetch, nothing for a client to block),
 * no script; one column at most 600 px wide, which reads on a 390 px phone without zooming. Every
 * text from the store (node paths, case titles, reason ids) is escaped.
 */
#include "cdigest_int.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAIL_MAX (4u << 20) /* bytes of the text or HTML part */

typedef struct words {
    const char *daily, *weekly, *report, *nps, *csat, *ces, *customers, *change, *reasons, *cases,
        *silent, *none, *never, *period, *previous, *n_answers, *attachment;
    const char *numbers, *this_period;
    const char *min, *hour, *day;
} words;

static const words vi = {
    .daily = "ngày",
    .weekly = "tuần",
    .report = "Báo cáo",
    .nps = "NPS",
    .csat = "CSAT (trung bình 1-5)",
    .ces = "CES (trung bình 1-7)",
    .customers = "Lượt khách",
    .change = "So với kỳ trước",
    .reasons = "Lý do được chọn nhiều nhất",
    .cases = "Sự cố đang mở",
    .silent = "Thiết bị im lặng",
    .none = "Không có",
    .never = "chưa từng gửi",
    .period = "Kỳ",
    .previous = "Kỳ trước",
    .n_answers = "câu trả lời",
    .attachment = "Tệp CSV đính kèm: các câu trả lời của kỳ.",
    .numbers = "Chỉ số",
    .this_period = "Kỳ này",
    .min = "phút",
    .hour = "giờ",
    .day = "ngày",
};

static const words en = {
    .daily = "daily",
    .weekly = "weekly",
    .report = "report",
    .nps = "NPS",
    .csat = "CSAT (mean 1-5)",
    .ces = "CES (mean 1-7)",
    .customers = "Customers",
    .change = "vs previous period",
    .reasons = "Top follow-up reasons",
    .cases = "Open cases",
    .silent = "Silent devices",
    .none = "None",
    .never = "never sent",
    .period = "Period",
    .previous = "Previous period",
    .n_answers = "answers",
    .attachment = "Attached CSV: the period's answers.",
    .numbers = "Numbers",
    .this_period = "This period",
    .min = "min",
    .hour = "h",
    .day = "d",
};

tp_err cdigest_csv_field(tp_buf *b, const char *v)
{
    bool quote = strpbrk(v, ",\"\r\n") != NULL;
    bool formula = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@';
    /* A negative number is data, not a formula. */
    if (formula && v[0] == '-' && v[1] >= '0' && v[1] <= '9')
        formula = false;
    tp_err rc = quote ? tp_buf_add(b, "\"", 1) : TP_OK;
    if (rc == TP_OK && formula)
        rc = tp_buf_add(b, "'", 1);
    for (const char *p = v; rc == TP_OK && *p; p++)
        rc = *p == '"' ? tp_buf_add(b, "\"\"", 2) : tp_buf_add(b, p, 1);
    if (rc == TP_OK && quote)
        rc = tp_buf_add(b, "\"", 1);
    return rc;
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* A number as the report prints it (up to 2 decimals, no trailing zeros) into out. */
static const char *fmt(double v, char *out, size_t n)
{
    if (isnan(v)) {
        snprintf(out, n, "—");
        return out;
    }
    snprintf(out, n, "%.2f", v);
    char *dot = strchr(out, '.');
    if (dot) {
        char *e = out + strlen(out) - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
        if (e == dot)
            *e = '\0';
    }
    if (strcmp(out, "-0") == 0)
        snprintf(out, n, "0");
    return out;
}

/* The change cur - prev with its sign, or "—" when either is missing. */
static const char *delta(double cur, double prev, char *out, size_t n)
{
    char v[32];
    if (isnan(cur) || isnan(prev)) {
        snprintf(out, n, "—");
        return out;
    }
    snprintf(out, n, "%s%s", cur - prev > 0 ? "+" : "", fmt(cur - prev, v, sizeof v));
    return out;
}

static const char *age(const words *w, double s, char *out, size_t n)
{
    long m = (long)(s / 60);
    if (m < 60)
        snprintf(out, n, "%ld %s", m, w->min);
    else if (m < 1440)
        snprintf(out, n, "%ld %s %ld %s", m / 60, w->hour, m % 60, w->min);
    else
        snprintf(out, n, "%ld %s %ld %s", m / 1440, w->day, (m % 1440) / 60, w->hour);
    return out;
}

static void html_esc(tp_buf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '<': tp_buf_add(b, "&lt;", 4); break;
        case '>': tp_buf_add(b, "&gt;", 4); break;
        case '&': tp_buf_add(b, "&amp;", 5); break;
        case '"': tp_buf_add(b, "&quot;", 6); break;
        case '\'': tp_buf_add(b, "&#39;", 5); break;
        default: tp_buf_add(b, p, 1);
        }
    }
}

/* One row of the numbers table in both parts: label, value, change. */
static void row(tp_buf *t, tp_buf *h, const char *label, const char *value, const char *change)
{
    tp_buf_addf(t, "%-28s %-22s %s\n", label, value, change);
    tp_buf_addf(h, "<tr><td style=\"padding:8px 6px;border-bottom:1px solid #e5e5e5;"
                   "color:#333\">");
    html_esc(h, label);
    tp_buf_addf(h, "</td><td style=\"padding:8px 6px;border-bottom:1px solid #e5e5e5;"
                   "font-weight:bold;color:#111;text-align:right\">");
    html_esc(h, value);
    tp_buf_addf(h, "</td><td style=\"padding:8px 6px;border-bottom:1px solid #e5e5e5;"
                   "color:#666;text-align:right\">");
    html_esc(h, change);
    tp_buf_addf(h, "</td></tr>\n");
}

static void section(tp_buf *t, tp_buf *h, const char *title)
{
    tp_buf_addf(t, "\n%s\n", title);
    tp_buf_addf(h, "<tr><td colspan=\"3\" style=\"padding:18px 6px 6px;font-size:16px;"
                   "font-weight:bold;color:#111\">");
    html_esc(h, title);
    tp_buf_addf(h, "</td></tr>\n");
}

static void line(tp_buf *t, tp_buf *h, const char *left, const char *right)
{
    tp_buf_addf(t, "  - %s  %s\n", left, right);
    tp_buf_addf(h, "<tr><td colspan=\"2\" style=\"padding:4px 6px;color:#333\">");
    html_esc(h, left);
    tp_buf_addf(h, "</td><td style=\"padding:4px 6px;color:#666;text-align:right\">");
    html_esc(h, right);
    tp_buf_addf(h, "</td></tr>\n");
}

static char *b64(const char *data, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)n);
    return out;
}

cJSON *cdigest_mail(const cJSON *model, const char *csv, size_t csv_len)
{
    const char *lang = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "lang"));
    const words *w = lang && strcmp(lang, "en") == 0 ? &en : &vi;
    const char *node = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "node"));
    const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "period_key"));
    const char *per = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "period"));
    const char *tz = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "tz"));
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(model, "current");
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(model, "previous");
    bool weekly = per && strcmp(per, "weekly") == 0;
    char subject[512], a[64], b[64], c[64], label[128];
    tp_buf t, h;
    tp_buf_init(&t, MAIL_MAX);
    tp_buf_init(&h, MAIL_MAX);
    node = node ? node : "";
    key = key ? key : "";
    if (w == &vi)
        snprintf(subject, sizeof subject, "Touchpoint – %s %s %s – %s", w->report,
                 weekly ? w->weekly : w->daily, key, node);
    else
        snprintf(subject, sizeof subject, "Touchpoint – %s %s %s – %s", weekly ? "Weekly" : "Daily",
                 w->report, key, node);

    tp_buf_addf(&t, "%s\n%s: %s (%s)\n", subject, w->period, key, tz ? tz : "UTC");
    tp_buf_addf(&h, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                    "content=\"width=device-width,initial-scale=1\"><title>");
    html_esc(&h, subject);
    tp_buf_addf(&h, "</title></head><body style=\"margin:0;padding:0;background:#f4f4f4\">"
                    "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\" "
                    "cellspacing=\"0\" style=\"background:#f4f4f4\"><tr><td align=\"center\" "
                    "style=\"padding:12px\"><table role=\"presentation\" width=\"100%%\" "
                    "cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:600px;background:#fff;"
                    "font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.4;"
                    "border-radius:6px\"><tr><td colspan=\"3\" style=\"padding:16px 6px 4px;"
                    "font-size:20px;font-weight:bold;color:#111\">");
    html_esc(&h, subject);
    tp_buf_addf(&h, "</td></tr><tr><td colspan=\"3\" style=\"padding:0 6px 10px;color:#666\">");
    html_esc(&h, w->period);
    tp_buf_addf(&h, ": ");
    html_esc(&h, key);
    tp_buf_addf(&h, " (");
    html_esc(&h, tz ? tz : "UTC");
    tp_buf_addf(&h, ")</td></tr>\n");

    /* The numbers, with their change against the previous period. */
    section(&t, &h, w->numbers);
    row(&t, &h, "", w->this_period, w->change);
    double nps = num(cur, "nps", "score"), moe = num(cur, "nps", "moe");
    double nps_n = num(cur, "nps", "n");
    char value[96];
    if (nps_n > 0)
        snprintf(value, sizeof value, "%s ± %s (n=%s)", fmt(nps, a, sizeof a),
                 fmt(moe, b, sizeof b), fmt(nps_n, c, sizeof c));
    else
        snprintf(value, sizeof value, "— (n=0)");
    row(&t, &h, w->nps, value,
        delta(nps_n > 0 ? nps : NAN, num(old, "nps", "n") > 0 ? num(old, "nps", "score") : NAN, a,
              sizeof a));
    double cs = num(cur, "csat", "n") > 0 ? num(cur, "csat", "mean") : NAN;
    double pcs = num(old, "csat", "n") > 0 ? num(old, "csat", "mean") : NAN;
    snprintf(value, sizeof value, "%s (n=%s)", fmt(cs, b, sizeof b),
             fmt(num(cur, "csat", "n"), c, sizeof c));
    row(&t, &h, w->csat, value, delta(cs, pcs, a, sizeof a));
    double ce = num(cur, "ces", "n") > 0 ? num(cur, "ces", "mean") : NAN;
    double pce = num(old, "ces", "n") > 0 ? num(old, "ces", "mean") : NAN;
    snprintf(value, sizeof value, "%s (n=%s)", fmt(ce, b, sizeof b),
             fmt(num(cur, "ces", "n"), c, sizeof c));
    row(&t, &h, w->ces, value, delta(ce, pce, a, sizeof a));
    row(&t, &h, w->customers, fmt(num(cur, "customers", NULL), b, sizeof b),
        delta(num(cur, "customers", NULL), num(old, "customers", NULL), a, sizeof a));

    section(&t, &h, w->reasons);
    const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(model, "reasons");
    if (!cJSON_GetArraySize(reasons))
        line(&t, &h, w->none, "");
    for (const cJSON *r = reasons ? reasons->child : NULL; r; r = r->next)
        line(&t, &h, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "id")),
             fmt(num(r, "n", NULL), a, sizeof a));

    section(&t, &h, w->cases);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(model, "cases");
    if (!cJSON_GetArraySize(cases))
        line(&t, &h, w->none, "");
    for (const cJSON *k = cases ? cases->child : NULL; k; k = k->next) {
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(k, "title");
        const char *tt =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(title, w == &en ? "en" : "vi"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "store"));
        snprintf(label, sizeof label, "%s%s%s", st ? st : "", st ? ": " : "", tt ? tt : "");
        line(&t, &h, label, age(w, num(k, "age_s", NULL), a, sizeof a));
    }

    section(&t, &h, w->silent);
    const cJSON *silent = cJSON_GetObjectItemCaseSensitive(model, "silent");
    if (!cJSON_GetArraySize(silent))
        line(&t, &h, w->none, "");
    for (const cJSON *d = silent ? silent->child : NULL; d; d = d->next) {
        double s = num(d, "silent_for_s", NULL);
        snprintf(label, sizeof label, "%s (%s)",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "id")),
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "node")));
        line(&t, &h, label, isnan(s) ? w->never : age(w, s, a, sizeof a));
    }
    tp_buf_addf(&t, "\n%s\n", w->attachment);
    tp_buf_addf(&h, "<tr><td colspan=\"3\" style=\"padding:16px 6px;color:#666;font-size:13px\">");
    html_esc(&h, w->attachment);
    tp_buf_addf(&h, "</td></tr></table></td></tr></table></body></html>\n");

    char fname[320];
    snprintf(fname, sizeof fname, "touchpoint-%s-%s.csv", node, key);
    for (char *p = fname; *p; p++)
        if (*p == '/')
            *p = '-';
    char *text = tp_buf_take(&t), *html = tp_buf_take(&h), *att = b64(csv, csv_len);
    cJSON *mail = cJSON_CreateObject(), *arr = NULL, *one = NULL;
    bool ok = text && html && att && mail && cJSON_AddStringToObject(mail, "subject", subject) &&
              cJSON_AddStringToObject(mail, "text", text) &&
              cJSON_AddStringToObject(mail, "html", html) &&
              (arr = cJSON_AddArrayToObject(mail, "attachments")) && (one = cJSON_CreateObject()) &&
              cJSON_AddItemToArray(arr, one) && cJSON_AddStringToObject(one, "filename", fname) &&
              cJSON_AddStringToObject(one, "content_type", "text/csv; charset=utf-8") &&
              cJSON_AddStringToObject(one, "content_base64", att);
    free(text);
    free(html);
    free(att);
    if (!ok) {
        cJSON_Delete(mail);
        return NULL;
    }
    return mail;
}
