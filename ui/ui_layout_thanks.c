/*
 * ui_layout_thanks.c - the thank-you with the comment link's QR code (issue 15): the check mark,
 * the survey's thanks and the line "Scan to tell us more on your phone" (the subtitle) beside the
 * code in landscape, above it in portrait; the countdown ring under the text.
 *
 * The code gets the room: a phone must read it from about 40 cm, so its side is a whole number
 * of pixels per module (the quiet zone of 4 modules included) and as large as the screen allows
 * after the text, at most 85% of the short side. The text column is what is left, and the text
 * shrinks to fit it rather than the code.
 */
#include "ui_int.h"

/* The code's side for n modules in at most avail pixels: a multiple of n + 8. */
static int qr_side(int n, int avail)
{
    int mods = n + 8;
    return maxi(mods, avail / mods * mods);
}

/* The text column (icon, message, subtitle, ring) at x, width cw, centred in [y0, y0 + h).
 * Returns nothing: places its widgets. */
static void text_column(lay *L, int x, int cw, int y0, int h, int d, int rd)
{
    const ui_model *md = L->md;
    int msg_px = pct(L->s, 0.075), sub_px = maxi(14, pct(L->s, 0.045));
    const char *msg = md->message[0] ? md->message : md->prompt;
    int ring_h = rd ? L->g * 2 + rd : 0;
    int room = maxi(0, h - d - L->g * 2 - ring_h);
    int mh = msg[0] ? ui_lay_text_height(L, msg, cw, room / 2, msg_px, 16, true, 0) : 0;
    int sh = md->subtitle[0] ? ui_lay_text_height(L, md->subtitle, cw, maxi(0, room - mh - L->g),
                                                  sub_px, 12, false, 0)
                             : 0;
    int total = d + (mh ? L->g * 2 + mh : 0) + (sh ? L->g + sh : 0) + ring_h;
    int y = y0 + maxi(0, (h - total) / 2);
    ui_lay_add(L, UI_ROLE_ICON_OK, UI_WIDGET_ICON, "icon", rect(x + (cw - d) / 2, y, d, d), false);
    y += d;
    if (mh) {
        y += L->g * 2;
        y += ui_lay_text_block(L, UI_ROLE_MESSAGE, "message", msg, x, y, cw, mh, msg_px, 16, true,
                               UI_ALIGN_CENTER);
    }
    if (sh) {
        y += L->g;
        y += ui_lay_text_block(L, UI_ROLE_SUBTITLE, "subtitle", md->subtitle, x, y, cw, sh, sub_px,
                               12, false, UI_ALIGN_CENTER);
    }
    if (rd)
        ui_lay_add(L, UI_ROLE_RING, UI_WIDGET_ICON, "next-ring",
                   rect(x + (cw - rd) / 2, y + L->g * 2, rd, rd), false);
}

void ui_layout_thanks_qr(lay *L)
{
    const ui_model *md = L->md;
    int n = md->qr_size;
    int content_h = L->bottom - L->top;
    int rd = md->countdown > 0.0f ? maxi(L->T * 2 / 3, pct(L->s, 0.07)) : 0;
    int d = maxi(L->T * 2 / 3, pct(L->s, 0.11)); /* the check mark, smaller than without a code */
    int cap = pct(L->s, 0.85);
    if (!L->portrait) {
        /* Code on the right, as tall as the content area; text on the left. */
        int q = qr_side(n, mini(mini(content_h, cap), (L->W - 2 * L->m - L->g * 2) * 55 / 100));
        int qx = L->W - L->m - q;
        ui_lay_add(L, UI_ROLE_QR, UI_WIDGET_ICON, "comment-qr",
                   rect(qx, L->top + (content_h - q) / 2, q, q), false);
        int cw = qx - L->g * 2 - L->m;
        text_column(L, L->m, cw, L->top, content_h, d, rd);
        return;
    }
    /* Portrait: text above, the code below it, the ring last. */
    int cw = L->W - 2 * L->m;
    int msg_px = pct(L->s, 0.075), sub_px = maxi(14, pct(L->s, 0.045));
    const char *msg = md->message[0] ? md->message : md->prompt;
    int text_h = d + L->g * 2 +
                 (msg[0] ? ui_lay_text_height(L, msg, cw, content_h / 4, msg_px, 16, true, 0) : 0) +
                 (md->subtitle[0] ? L->g + ui_lay_text_height(L, md->subtitle, cw, content_h / 5,
                                                              sub_px, 12, false, 0)
                                  : 0);
    int ring_h = rd ? L->g * 2 + rd : 0;
    int q = qr_side(n, mini(mini(cw, cap), content_h - text_h - L->g * 3 - ring_h));
    int total = text_h + L->g * 3 + q + ring_h;
    int y = L->top + maxi(0, (content_h - total) * 45 / 100);
    text_column(L, L->m, cw, y, text_h, d, 0);
    y += text_h + L->g * 3;
    ui_lay_add(L, UI_ROLE_QR, UI_WIDGET_ICON, "comment-qr", rect((L->W - q) / 2, y, q, q), false);
    if (rd)
        ui_lay_add(L, UI_ROLE_RING, UI_WIDGET_ICON, "next-ring",
                   rect((L->W - rd) / 2, y + q + L->g * 2, rd, rd), false);
}
