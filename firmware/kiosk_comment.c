/*
 * kiosk_comment.c - the thank-you's comment link (issue 15): when the survey's "comment" offers
 * it after this rating, the link to the collector's comment page for this session, signed with
 * the device's comment key (sync/clink.h), as a QR code for the customer's phone.
 *
 * The link carries its own expiry (the tap + link_minutes), so the kiosk shows it only with an
 * NTP-synchronised clock: a clock hours behind would print links that are already expired, one
 * ahead links that live far too long, and nothing on the page could tell the customer why. With
 * an untrusted clock the thank-you is the plain one (traced as "clock_untrusted"); the customer
 * never sees a link that might not work.
 */
#include <qrencode.h>
#include <stdio.h>
#include <string.h>

#include "kiosk_int.h"

/* Why no link is shown ("" when one is). */
static const char *why_not(const kiosk *k)
{
    const config *c = k->cfg;
    if (!survey_comment_offered(k->sv, k->main_value))
        return "not_offered";
    if (!c->comment_key[0] || !c->comment_url[0])
        return "no_key";
    if (!k->clk->synced(k->clk->ctx))
        return "clock_untrusted";
    if (!k->session[0])
        return "no_session";
    return "";
}

void kiosk_comment_prepare(kiosk *k)
{
    k->comment_qr_size = 0;
    k->comment_link[0] = '\0';
    if (k->sv->comment_after == SURVEY_COMMENT_NONE)
        return; /* the survey never offers it: nothing to trace */
    const char *why = why_not(k);
    if (!why[0]) {
        int minutes =
            k->sv->comment_minutes > 0 ? k->sv->comment_minutes : k->cfg->comment_link_minutes;
        int64_t expiry = k->tap_wall_ms / 1000 + (int64_t)minutes * 60;
        /* The page speaks vi and en; any other language gets English. */
        const char *lang = strcmp(k->lang, "vi") == 0 ? "vi" : "en";
        if (clink_build(k->cfg->comment_url, k->cfg->comment_key, k->cfg->device_id, k->session,
                        expiry, lang, k->comment_link, sizeof k->comment_link) != TP_OK)
            why = "bad_link";
    }
    QRcode *qr = NULL;
    if (!why[0]) {
        /* Level M: a screen is clean, but glare and a shaky hand cost some modules. */
        qr = QRcode_encodeString(k->comment_link, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        if (!qr || qr->width > UI_QR_MAX)
            why = "encode_failed";
    }
    if (!why[0]) {
        for (int i = 0; i < qr->width * qr->width; i++)
            k->comment_qr[i] = qr->data[i] & 1;
        k->comment_qr_size = qr->width;
    } else {
        k->comment_link[0] = '\0';
    }
    QRcode_free(qr);
    trace_event(k->tr, "comment_link", TRACE_BOOL("shown", !why[0]),
                TRACE_STR_IF(why[0], "reason", why), TRACE_STR_IF(!why[0], "link", k->comment_link),
                TRACE_NUM_IF(!why[0], "qr_size", k->comment_qr_size), TRACE_END);
}

const char *kiosk_comment_link(const kiosk *k)
{
    return k->cur == S_THANKS && k->comment_qr_size > 0 ? k->comment_link : NULL;
}
