/*
 * cdeliver_mail.c - e-mail delivery over SMTP through libcurl: one message per attempt to all
 * the endpoint's addresses, MIME built with curl_mime (multipart/alternative plain text + HTML,
 * inside multipart/mixed with the digest's attachments), a UTF-8 subject encoded per RFC 2047,
 * Date and Message-ID headers (the Message-ID is the outbox id, so a message sent twice after a
 * crash is recognisably the same message).
 *
 * STARTTLS is asked for whenever the server offers it (CURLUSESSL_TRY) or required
 * (--smtp-starttls require: CURLUSESSL_ALL); smtps:// is TLS from the start. Certificates are
 * always verified. A message succeeds when the server accepted it (250 after DATA).
 */
#include "cdeliver_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBJECT_MAX 240 /* bytes of a subject before encoding: its header stays one line */
#define RCPT_MAX 50     /* addresses of one endpoint */

char *cdeliver_rfc2047(const char *s)
{
    size_t n = strlen(s);
    bool plain = strstr(s, "=?") == NULL;
    for (size_t i = 0; plain && i < n; i++)
        plain = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f;
    if (plain)
        return strdup(s);
    /* 75 = "=?UTF-8?B?" (10) + 60 base64 characters + "?=" (2) + slack: 45 bytes per word. */
    tp_buf b;
    tp_buf_init(&b, n * 2 + 64 + (n / 45 + 1) * 16);
    for (size_t i = 0; i < n;) {
        size_t j = i + 45 < n ? i + 45 : n;
        while (j < n && j > i && ((unsigned char)s[j] & 0xC0) == 0x80)
            j--;
        if (j == i) /* not UTF-8 at all: cut anyway rather than loop */
            j = i + 45 < n ? i + 45 : n;
        unsigned char enc[64];
        EVP_EncodeBlock(enc, (const unsigned char *)s + i, (int)(j - i));
        if (tp_buf_addf(&b, "%s=?UTF-8?B?%s?=", i ? " " : "", enc) != TP_OK) {
            tp_buf_free(&b);
            return NULL;
        }
        i = j;
    }
    return tp_buf_take(&b);
}

/* Decodes standard base64 (line breaks allowed) into *out (free()). Returns its length or -1. */
static long decode_b64(const char *in, unsigned char **out)
{
    size_t n = strlen(in), k = 0;
    char *clean = malloc(n + 1);
    *out = NULL;
    if (!clean)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (in[i] != '\r' && in[i] != '\n' && in[i] != ' ')
            clean[k++] = in[i];
    clean[k] = '\0';
    if (k % 4 != 0 || !(*out = malloc(k / 4 * 3 + 1))) {
        free(clean);
        return -1;
    }
    int len = k ? EVP_DecodeBlock(*out, (const unsigned char *)clean, (int)k) : 0;
    if (len >= 0 && k)
        len -= (clean[k - 1] == '=') + (clean[k - 2] == '=');
    free(clean);
    if (len < 0) {
        free(*out);
        *out = NULL;
    }
    return len;
}

/* Adds the digest's attachments to mime. Returns TP_OK or TP_ERR_INVALID (err says which). */
static tp_err add_attachments(curl_mime *mime, const cJSON *email, char *err, size_t errlen)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(email, "attachments");
    int i = 0;
    for (const cJSON *a = cJSON_IsArray(list) ? list->child : NULL; a; a = a->next, i++) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "filename"));
        const char *type =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "content_type"));
        const char *data =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "content_base64"));
        unsigned char *raw = NULL;
        long len = data ? decode_b64(data, &raw) : -1;
        if (!name || len < 0)
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "$.email.attachments[%d]: needs filename and content_base64 (base64)",
                           i);
        curl_mimepart *p = curl_mime_addpart(mime);
        curl_mime_data(p, (const char *)raw, (size_t)len);
        curl_mime_filename(p, name);
        curl_mime_type(p, type ? type : "application/octet-stream");
        curl_mime_encoder(p, "base64");
        free(raw);
    }
    return TP_OK;
}

/* Appends "<addr>" of each comma-separated address to *rcpt. Returns TP_OK or TP_ERR_INVALID. */
static tp_err recipients(const char *target, struct curl_slist **rcpt, char *err, size_t errlen)
{
    int count = 0;
    for (const char *p = target; *p;) {
        size_t len = strcspn(p, ",");
        const char *a = p;
        while (len && *a == ' ')
            a++, len--;
        while (len && a[len - 1] == ' ')
            len--;
        char box[300];
        if (len == 0 || len > 254 || memchr(a, '@', len) == NULL || ++count > RCPT_MAX)
            return tp_errf(err, errlen, TP_ERR_INVALID, "bad address list '%.80s'", target);
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)a[i] <= 0x20 || a[i] == '<' || a[i] == '>')
                return tp_errf(err, errlen, TP_ERR_INVALID, "bad address '%.*s'", (int)len, a);
        snprintf(box, sizeof box, "<%.*s>", (int)len, a);
        struct curl_slist *n = curl_slist_append(*rcpt, box);
        if (!n)
            return TP_ERR_NOMEM;
        *rcpt = n;
        p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p);
    }
    return count ? TP_OK : tp_errf(err, errlen, TP_ERR_INVALID, "no address");
}

void cdeliver_mail_send(const cdeliver_net *n, const cdeliver_msg *m, cdeliver_result *r)
{
    char *subject = NULL, *text = NULL, *html = NULL, *enc = NULL, err[TP_ERRMSG_MAX];
    char from[300];
    struct curl_slist *rcpt = NULL, *hdr = NULL;
    curl_mime *mime = NULL, *alt = NULL;
    CURL *c = NULL;
    const char *mail_from = n->o->mail_from ? n->o->mail_from : "touchpoint@localhost";
    memset(r, 0, sizeof *r);
    if (!n->o->smtp_url) {
        snprintf(r->error, sizeof r->error, "no SMTP server configured (--smtp)");
        return;
    }
    if (cdeliver_render_mail(m, &subject, &text, &html, err, sizeof err) != TP_OK ||
        recipients(m->target, &rcpt, err, sizeof err) != TP_OK) {
        tp_strlcpy(r->error, err, sizeof r->error);
        goto out;
    }
    if (strlen(subject) > SUBJECT_MAX) {
        size_t k = SUBJECT_MAX;
        while (k && ((unsigned char)subject[k] & 0xC0) == 0x80)
            k--;
        subject[k] = '\0';
    }
    if (!(enc = cdeliver_rfc2047(subject)) || !(c = curl_easy_init())) {
        snprintf(r->error, sizeof r->error, "out of memory");
        goto out;
    }
    /* Headers: Date (RFC 5322, UTC), From, To, Subject, Message-ID. */
    time_t t = (time_t)(n->now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const char *at = strrchr(mail_from, '@');
    snprintf(from, sizeof from, "<%s>", mail_from);
    char lines[5][1200];
    snprintf(lines[0], sizeof lines[0], "Date: %s, %02d %s %04d %02d:%02d:%02d +0000",
             days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    snprintf(lines[1], sizeof lines[1], "From: %s", mail_from);
    snprintf(lines[2], sizeof lines[2], "To: %s", m->target);
    snprintf(lines[3], sizeof lines[3], "Subject: %s", enc);
    snprintf(lines[4], sizeof lines[4], "Message-ID: <%s@%s>", m->outbox_id,
             at && at[1] ? at + 1 : "touchpoint.invalid");
    for (int i = 0; i < 5; i++) {
        struct curl_slist *nh = curl_slist_append(hdr, lines[i]);
        if (!nh) {
            snprintf(r->error, sizeof r->error, "out of memory");
            goto out;
        }
        hdr = nh;
    }
    /* Body: multipart/alternative (text, then HTML: clients show the last they can). */
    mime = curl_mime_init(c);
    alt = curl_mime_init(c);
    if (text) {
        curl_mimepart *p = curl_mime_addpart(alt);
        curl_mime_data(p, text, CURL_ZERO_TERMINATED);
        curl_mime_type(p, "text/plain; charset=utf-8");
        curl_mime_encoder(p, "base64");
    }
    if (html) {
        curl_mimepart *p = curl_mime_addpart(alt);
        curl_mime_data(p, html, CURL_ZERO_TERMINATED);
        curl_mime_type(p, "text/html; charset=utf-8");
        curl_mime_encoder(p, "base64");
    }
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_subparts(part, alt); /* mime owns alt from here */
    alt = NULL;
    curl_mime_type(part, "multipart/alternative");
    const cJSON *email = cJSON_GetObjectItemCaseSensitive(m->event, "email");
    if (email && add_attachments(mime, email, err, sizeof err) != TP_OK) {
        tp_strlcpy(r->error, err, sizeof r->error);
        goto out;
    }
    char ebuf[CURL_ERROR_SIZE];
    curl_easy_setopt(c, CURLOPT_URL, n->o->smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     n->o->starttls_require ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    if (n->o->smtp_user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, n->o->smtp_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, n->o->smtp_password);
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    CURLcode cc = cdeliver_perform(n, c, ebuf, r);
    if (cc != CURLE_OK && !r->aborted) { /* cdeliver_perform words a stop */
        char code[24] = "";
        if (r->status)
            snprintf(code, sizeof code, " %ld", r->status);
        snprintf(r->error, sizeof r->error, "SMTP%s: %s", code,
                 ebuf[0] ? ebuf : curl_easy_strerror(cc));
    } else if (cc == CURLE_OK) {
        r->ok = true;
    }
out:
    curl_mime_free(alt);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    curl_slist_free_all(rcpt);
    curl_slist_free_all(hdr);
    free(enc);
    free(subject);
    free(text);
    free(html);
}
