/*
 * ui_layout.c - the layout engine: places every widget of a screen from the logical window size,
 * the DPI's minimum touch target and a text measure function. Pure geometry: no SDL state, no
 * drawing; the same inputs always give the same rectangles, which is what the tests check.
 *
 * One set of metrics, derived from the short side s of the screen, drives every screen so they
 * share margins, spacing and a type scale:
 *   margin m = 4% of s, gap g = 1.8% of s, bar height = max(touch target, 8.5% of s),
 *   prompt up to 6.8% of s (shrinking to fit), secondary text ~55% of that.
 * Each screen is a vertical stack (prompt, subtitle, controls, anchor labels) centred in the
 * content area between the top bar (staff corner, language toggles) and the bottom action bar.
 * Scales go in one row when their buttons stay big enough, else in two rows (NPS 0-5 / 6-10);
 * faces keep their own, larger size cap (HappyOrNot-style big buttons).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ui_int.h"

bool ui_rect_overlap(ui_rect a, ui_rect b)
{
    return a.w > 0 && a.h > 0 && b.w > 0 && b.h > 0 && a.x < b.x + b.w && b.x < a.x + a.w &&
           a.y < b.y + b.h && b.y < a.y + a.h;
}

bool ui_rect_inside(ui_rect in, ui_rect out)
{
    return in.x >= out.x && in.y >= out.y && in.x + in.w <= out.x + out.w &&
           in.y + in.h <= out.y + out.h;
}

ui_widget *ui_lay_add(lay *L, ui_role role, ui_widget_kind kind, const char *id, ui_rect r,
                      bool interactive)
{
    if (L->n >= UI_WIDGETS_MAX)
        return NULL;
    ui_widget *w = &L->out[L->n++];
    memset(w, 0, sizeof *w);
    tp_strlcpy(w->id, id, sizeof w->id);
    w->role = role;
    w->kind = kind;
    w->rect = r;
    w->shape = r;
    w->interactive = interactive;
    return w;
}

/* Fits w->text into box (shrinking from max_px to min_px) and places the block by align,
 * centred vertically. */
void ui_lay_fit(lay *L, ui_widget *w, const char *text, ui_rect box, int max_px, int min_px,
                bool bold, int align, int max_lines)
{
    int px, n, bw, bh;
    if (!w)
        return;
    w->text = text;
    w->text_box = box;
    w->bold = bold;
    w->align = align;
    w->fits =
        ui_fit_text(L->ms, text, bold, box.w, box.h, max_px, min_px, max_lines, &px, &n, &bw, &bh);
    w->px = px;
    w->lines = n;
    w->wrap_w = box.w;
    int x = align == UI_ALIGN_LEFT    ? box.x
            : align == UI_ALIGN_RIGHT ? box.x + box.w - bw
                                      : box.x + (box.w - bw) / 2;
    w->ink = rect(x, box.y + (box.h - bh) / 2, bw, bh);
}

/* Height a text needs in a box of width bw at up to max_px (shrinking to min_px within max_h). */
int ui_lay_text_height(lay *L, const char *text, int bw, int max_h, int max_px, int min_px,
                       bool bold, int max_lines)
{
    int px, n, w, h;
    ui_fit_text(L->ms, text, bold, bw, max_h, max_px, min_px, max_lines, &px, &n, &w, &h);
    return mini(h, max_h);
}

/* A text widget exactly as tall as its text needs at (x, y), width bw, at most max_h. */
int ui_lay_text_block(lay *L, ui_role role, const char *id, const char *text, int x, int y, int bw,
                      int max_h, int max_px, int min_px, bool bold, int align)
{
    int h = ui_lay_text_height(L, text, bw, max_h, max_px, min_px, bold, 0);
    ui_widget *w = ui_lay_add(L, role, UI_WIDGET_TEXT, id, rect(x, y, bw, h), false);
    ui_lay_fit(L, w, text, rect(x, y, bw, h), max_px, min_px, bold, align, 0);
    return h;
}

/* ---- Bars ----------------------------------------------------------------------------------- */

/* A button whose width follows its label: at least the touch target, padded. */
static int label_width(lay *L, const char *label, int px, bool bold, int h)
{
    int tw = L->ms->width(L->ms->ctx, label, strlen(label), px, bold);
    return maxi(maxi(L->T, h), tw + 2 * maxi(L->g, h / 3));
}

static void top_bar(lay *L)
{
    const ui_model *md = L->md;
    bool any = md->staff_corner || md->n_langs > 0;
    L->top = L->m;
    if (!any)
        return;
    if (md->staff_corner) {
        int z = L->m + L->bar;
        ui_lay_add(L, UI_ROLE_ZONE, UI_WIDGET_ZONE, "staff-corner", rect(0, 0, z, z), true);
    }
    int px = pct(L->bar, 0.34);
    int x = L->W - L->m;
    int gap = maxi(L->g2, L->g / 2);
    for (int i = md->n_langs - 1; i >= 0; i--) {
        const ui_item_c *it = &md->langs[i];
        int bw = label_width(L, it->label, px, true, L->bar);
        x -= bw;
        ui_widget *w =
            ui_lay_add(L, UI_ROLE_LANG, UI_WIDGET_TOGGLE, it->id, rect(x, L->m, bw, L->bar), true);
        if (w) {
            w->style = it->style;
            ui_rect box = inset(w->rect, maxi(4, L->bar / 5), maxi(2, L->bar / 8));
            ui_lay_fit(L, w, it->label, box, px, 10, true, UI_ALIGN_CENTER, 1);
        }
        x -= gap;
    }
    L->top = L->m + L->bar + L->g;
}

/* The text size of every button on a staff screen (menu and bar alike), so the staff screens
 * read as one set at a given window size. */
int ui_lay_staff_button_px(const lay *L)
{
    return maxi(14, pct(L->s, 0.034));
}

/* The bottom bar of secondary buttons, right-aligned (left-aligned under the text column of the
 * landscape PIN screen, where the keypad takes the right side to the bottom). */
static void action_bar(lay *L, bool left)
{
    const ui_model *md = L->md;
    L->bottom = L->H - L->m;
    L->act_top = L->bottom;
    if (md->n_actions == 0)
        return;
    int h = L->bar;
    int px = md->kind == UI_SCREEN_STAFF ? ui_lay_staff_button_px(L) : pct(h, 0.34);
    int y = L->H - L->m - h;
    int x = L->W - L->m;
    int widths[UI_ACTIONS_MAX], total = 0;
    for (int i = 0; i < md->n_actions; i++) {
        int bw = mini(label_width(L, md->actions[i].label, px, true, h),
                      (L->W - 2 * L->m) / md->n_actions);
        widths[i] = maxi(bw, L->T);
        total += widths[i] + (i ? L->g : 0);
    }
    if (left)
        x = L->m + total;
    for (int i = md->n_actions - 1; i >= 0; i--) {
        const ui_item_c *it = &md->actions[i];
        int bw = widths[i];
        /* A dangerous action ("exit kiosk") sits alone at the far end, where a hurried tap
         * meant for "back" cannot land. */
        bool apart = it->style == UI_STYLE_DANGER && md->n_actions > 1 && !left;
        int bx = apart ? L->m : x - bw;
        ui_widget *w =
            ui_lay_add(L, UI_ROLE_ACTION, UI_WIDGET_BUTTON, it->id, rect(bx, y, bw, h), true);
        if (w) {
            w->style = it->style;
            ui_rect box = inset(w->rect, maxi(4, h / 4), maxi(2, h / 8));
            /* Staff screens: one text size for every button (wrap rather than shrink). */
            if (md->kind == UI_SCREEN_STAFF)
                ui_lay_fit(L, w, it->label, box, px, px, true, UI_ALIGN_CENTER, 2);
            if (md->kind != UI_SCREEN_STAFF || !w->fits)
                ui_lay_fit(L, w, it->label, box, px, 10, true, UI_ALIGN_CENTER, 2);
        }
        if (!apart)
            x = bx - L->g;
    }
    L->act_top = y;
    L->bottom = y - L->g;
}

/* ---- Question: scales ----------------------------------------------------------------------- */

typedef struct plan {
    int rows, per_row[2];
    int bw, bh;      /* cell size (the widget) */
    int d;           /* face diameter */
    int cap_h;       /* face caption height */
    int gap, height; /* gap between cells; total height of the rows */
    int row_w;       /* width of the widest row */
} plan;

static bool is_face(tp_kind k)
{
    return k == TP_KIND_CSAT || k == TP_KIND_SMILEY4;
}

static bool any_label(const ui_model *md)
{
    for (int i = 0; i < md->n_items; i++)
        if (md->items[i].label[0])
            return true;
    return false;
}

/* Room (1 mm, at least 4 px) between a captioned face's tile edge and the disc or caption in it:
 * the pressed tile lights up to its edge, and a caption touching that edge looks clipped. */
static int face_pad(const lay *L)
{
    return maxi(4, L->g2 / 2);
}

/* Lines a face caption may take: portrait's narrow tiles have height to spare for a third, so
 * "Rất không hài lòng" keeps a readable size instead of shrinking alone. */
static int cap_lines(const lay *L)
{
    return L->portrait ? 3 : 2;
}

/* Cell width for n items in a row of width aw with gap gap, capped. */
static int cell_w(int aw, int n, int gap, int cap)
{
    return n > 0 ? mini(cap, (aw - (n - 1) * gap) / n) : cap;
}

static plan scale_plan(lay *L, int avail_h, int cap_px)
{
    const ui_model *md = L->md;
    plan p;
    memset(&p, 0, sizeof p);
    int n = md->n_items;
    bool face = is_face(md->scale);
    double capf = md->scale == TP_KIND_NPS    ? 0.16
                  : md->scale == TP_KIND_CES  ? 0.17
                  : md->scale == TP_KIND_CSAT ? 0.22
                                              : 0.30;
    int cap = maxi(L->T, pct(L->s, capf));
    /* cap_h: the caption's two lines and the tile's padding above the disc and under the text */
    p.cap_h = face && any_label(md) ? cap_lines(L) * UI_LINE_STEP(cap_px) + 2 * face_pad(L) : 0;
    double aspect = face ? 1.0 : md->scale == TP_KIND_NPS ? 1.2 : 1.1; /* height / width */
    int aw = L->W - 2 * L->m;
    int gap = L->g;
    int one = cell_w(aw, n, gap, cap);
    if (one < L->T) { /* tighten the spacing (never under 2 mm) before giving up the single row */
        gap = maxi(L->g2, L->g / 2);
        aw = L->W - 2 * 12;
        one = cell_w(aw, n, gap, cap);
    }
    int n1 = (n + 1) / 2;
    int two = cell_w(L->W - 2 * L->m, n1, L->g, cap);
    /* The vertical room bounds the size too. */
    int one_h = (int)((avail_h - p.cap_h) / aspect);
    int two_h = (int)((avail_h - p.cap_h * 2 - L->g) / 2 / aspect);
    one = mini(one, one_h);
    two = mini(two, two_h);
    if ((one >= L->T && one * 4 >= two * 3) || n < 2 || two < L->T) {
        p.rows = 1;
        p.per_row[0] = n;
        p.bw = maxi(one, L->T);
        p.gap = gap;
    } else {
        p.rows = 2;
        p.per_row[0] = n1;
        p.per_row[1] = n - n1;
        p.bw = two;
        p.gap = L->g;
        aw = L->W - 2 * L->m;
    }
    if (face) {
        p.d = p.bw;
        p.bh = p.d + p.cap_h;
        /* A face cell is as wide as the caption room allows, at least the face. */
        int per = p.per_row[0];
        int wide = (aw - (per - 1) * p.gap) / per;
        if (p.cap_h > 0)
            p.bw = mini(maxi(p.d, wide), p.d * 3 / 2);
    } else {
        p.bh = maxi(L->T, (int)(p.bw * aspect));
    }
    p.height = p.rows * p.bh + (p.rows - 1) * p.gap;
    p.row_w = p.per_row[0] * p.bw + (p.per_row[0] - 1) * p.gap;
    return p;
}

static void place_scale(lay *L, const plan *p, int y0)
{
    const ui_model *md = L->md;
    bool face = is_face(md->scale);
    int idx = 0;
    int cap_px = maxi(14, pct(L->s, 0.034)), common = cap_px;
    ui_widget *caps[UI_ITEMS_MAX];
    int n_caps = 0;
    for (int r = 0; r < p->rows; r++) {
        int per = p->per_row[r];
        int rw = per * p->bw + (per - 1) * p->gap;
        int x = (L->W - rw) / 2;
        int y = y0 + r * (p->bh + p->gap);
        for (int i = 0; i < per && idx < md->n_items; i++, idx++) {
            const ui_item_c *it = &md->items[idx];
            ui_rect rc = rect(x + i * (p->bw + p->gap), y, p->bw, p->bh);
            ui_widget *w = ui_lay_add(L, face ? UI_ROLE_FACE : UI_ROLE_SCALE_BTN,
                                      face ? UI_WIDGET_FACE : UI_WIDGET_BUTTON, it->id, rc, true);
            if (!w)
                return;
            w->value = it->value;
            w->style = it->style;
            if (face) {
                int pad = p->cap_h > 0 ? face_pad(L) : 0;
                w->shape = rect(rc.x + (rc.w - p->d) / 2, rc.y + pad, p->d, p->d);
                if (it->label[0]) {
                    ui_lay_fit(
                        L, w, it->label,
                        rect(rc.x + pad, rc.y + pad + p->d, rc.w - 2 * pad, p->cap_h - 2 * pad),
                        cap_px, 11, false, UI_ALIGN_CENTER, cap_lines(L));
                    common = mini(common, w->px);
                    caps[n_caps++] = w;
                }
            } else {
                const char *label = it->label;
                if (!label[0]) {
                    snprintf(w->num, sizeof w->num, "%d", it->value);
                    label = w->num;
                }
                int side = mini(rc.w, rc.h);
                ui_lay_fit(L, w, label, inset(rc, maxi(3, rc.w / 10), maxi(3, rc.h / 8)),
                           pct(side, 0.42), 10, true, UI_ALIGN_CENTER, 2);
            }
        }
    }
    /* One caption size for the row of faces: a caption drawn smaller than its neighbours reads
     * as less important. */
    for (int i = 0; i < n_caps; i++)
        if (caps[i]->px != common)
            ui_lay_fit(L, caps[i], caps[i]->text, caps[i]->text_box, common, common, false,
                       UI_ALIGN_CENTER, cap_lines(L));
}

/* The attract band: the logo (aspect kept) and, beside it, the store's name and the invitation
 * in the accent colour. Landscape: in the top bar's row, between the staff corner and the
 * language toggles (the question keeps all its height); portrait (height to spare): a band of
 * its own above the prompt, moving L->top under it. */
static void attract_band(lay *L)
{
    const ui_model *md = L->md;
    int x = L->m, right = L->W - L->m, y0, bh;
    if (!L->portrait) {
        if (md->staff_corner)
            x = L->m + L->bar + L->g;
        for (int i = 0; i < L->n; i++)
            if (L->out[i].role == UI_ROLE_LANG && L->out[i].rect.x - L->g < right)
                right = L->out[i].rect.x - 2 * L->g;
        y0 = L->m;
        bh = L->bar;
    } else {
        y0 = L->top;
        bh = maxi(L->bar, pct(L->s, 0.16));
    }
    int aw = right - x;
    if (aw < L->T)
        return;
    if (md->logo_w > 0 && md->logo_h > 0) {
        int lh = bh, lw = (int)((long)lh * md->logo_w / md->logo_h);
        if (lw > aw / 3) {
            lw = aw / 3;
            lh = (int)((long)lw * md->logo_h / md->logo_w);
        }
        ui_lay_add(L, UI_ROLE_LOGO, UI_WIDGET_ICON, "logo", rect(x, y0 + (bh - lh) / 2, lw, lh),
                   false);
        x += lw + L->g;
    }
    int tw = right - x;
    int inv_px = L->portrait ? pct(L->s, 0.06) : maxi(14, pct(bh, 0.42));
    int name_px = L->portrait ? maxi(14, pct(L->s, 0.034)) : maxi(12, pct(bh, 0.26));
    int nh = md->brand_name[0]
                 ? ui_lay_text_height(L, md->brand_name, tw, bh / 3, name_px, 11, false, 1)
                 : 0;
    int ih = ui_lay_text_height(L, md->invite, tw, bh - nh, inv_px, 12, true, 2);
    int y = y0 + maxi(0, (bh - nh - ih) / 2);
    if (nh)
        y += ui_lay_text_block(L, UI_ROLE_SUBTITLE, "brand-name", md->brand_name, x, y, tw, nh,
                               name_px, 11, false, UI_ALIGN_LEFT);
    ui_lay_text_block(L, UI_ROLE_INVITE, "invite", md->invite, x, y, tw, ih, inv_px, 12, true,
                      UI_ALIGN_LEFT);
    if (L->portrait)
        L->top += bh + L->g;
}

static void layout_question(lay *L)
{
    const ui_model *md = L->md;
    if (md->invite[0])
        attract_band(L);
    int cw = mini(L->W - 2 * L->m, pct(L->s, 1.5));
    int cx = (L->W - cw) / 2;
    int content_h = L->bottom - L->top;
    int prompt_px = pct(L->s, 0.068), prompt_min = maxi(16, prompt_px * 45 / 100);
    int sub_px = maxi(16, prompt_px * 62 / 100);
    /* End labels carry the scale's meaning (the buttons are plain numbers): at least 60% of
     * the prompt's size. Face captions keep the smaller caption size. */
    int anc_px = maxi(14, (prompt_px * 6 + 9) / 10), cap_px = maxi(14, pct(L->s, 0.034));
    bool anchors = md->anchor_low[0] || md->anchor_high[0];
    int anc_h = anchors ? 2 * UI_LINE_STEP(anc_px) : 0;
    int big_gap = maxi(L->g * 2, pct(L->s, 0.05));

    /* Room for the controls: everything but a two-line prompt at a modest size. */
    int prompt_reserve = mini(content_h * 3 / 10, 2 * UI_LINE_STEP(prompt_px * 8 / 10));
    int ctrl_avail = content_h - prompt_reserve - big_gap;
    plan p = scale_plan(L, ctrl_avail - (anchors ? anc_h + L->g : 0), cap_px);
    if (anchors) {
        /* End labels that fit one line at their size reserve one line; the scale may then get
         * the height saved (its rows only widen with more room, so the labels still fit). */
        int aw = p.rows == 1 ? (p.row_w - L->g) / 2 : p.row_w;
        int need =
            maxi(ui_lay_text_height(L, md->anchor_low, aw, anc_h, anc_px, anc_px, false, 2),
                 ui_lay_text_height(L, md->anchor_high, aw, anc_h, anc_px, anc_px, false, 2));
        if (need < anc_h) {
            plan q = scale_plan(L, ctrl_avail - need - L->g, cap_px);
            if (q.rows == p.rows && q.row_w >= p.row_w) {
                p = q;
                anc_h = need;
            }
        }
    }
    int anc_total = 0;
    if (anchors)
        anc_total = p.rows == 1 ? anc_h + L->g / 2 : 2 * (anc_h + L->g / 2);
    int ctrl_h = p.height + anc_total;

    int text_room = content_h - ctrl_h - big_gap;
    int sub_room = md->subtitle[0] ? mini(text_room / 3, 3 * UI_LINE_STEP(sub_px)) : 0;
    int ph = md->prompt[0] ? ui_lay_text_height(L, md->prompt, cw, text_room - sub_room, prompt_px,
                                                prompt_min, true, 0)
                           : 0;
    int sh = md->subtitle[0]
                 ? ui_lay_text_height(L, md->subtitle, cw, maxi(0, text_room - ph - L->g / 2),
                                      sub_px, 12, false, 0)
                 : 0;
    int total = ph + (sh ? L->g / 2 + sh : 0) + big_gap + ctrl_h;
    if (!is_face(md->scale) && content_h > total) {
        /* Numbered buttons grow into 2/3 of the spare height (up to 1.6 times their width): a
         * taller target is easier to hit than empty panel. */
        int grow = mini((content_h - total) * 2 / 3 / p.rows, p.bw * 8 / 5 - p.bh);
        if (grow > 0) {
            p.bh += grow;
            p.height += grow * p.rows;
            total += grow * p.rows;
        }
    }
    int extra = maxi(0, content_h - total) / 4; /* spare room opens the gap a little */
    big_gap += extra;
    total += extra;
    int y = L->top + maxi(0, (content_h - total) * 45 / 100);
    int prompt_got = prompt_px;
    if (ph) {
        y += ui_lay_text_block(L, UI_ROLE_PROMPT, "prompt", md->prompt, cx, y, cw, ph, prompt_px,
                               prompt_min, true, UI_ALIGN_CENTER);
        if (L->n > 0 && L->out[L->n - 1].role == UI_ROLE_PROMPT)
            prompt_got = L->out[L->n - 1].px;
    }
    int anc_min = mini(anc_px, maxi(11, (prompt_got * 6 + 9) / 10));
    if (sh) {
        y += L->g / 2;
        y += ui_lay_text_block(L, UI_ROLE_SUBTITLE, "subtitle", md->subtitle, cx, y, cw, sh, sub_px,
                               12, false, UI_ALIGN_CENTER);
    }
    y += big_gap;
    int x0 = (L->W - p.row_w) / 2;
    if (anchors && p.rows == 2 && md->anchor_low[0]) {
        ui_widget *w = ui_lay_add(L, UI_ROLE_ANCHOR, UI_WIDGET_TEXT, "anchor-low",
                                  rect(x0, y, p.row_w, anc_h), false);
        ui_lay_fit(L, w, md->anchor_low, w ? w->rect : rect(0, 0, 0, 0), anc_px, anc_min, false,
                   UI_ALIGN_LEFT, 2);
        if (w) /* sit on the row below it */
            w->ink.y = w->rect.y + w->rect.h - w->ink.h;
    }
    if (anchors && p.rows == 2)
        y += anc_h + L->g / 2;
    place_scale(L, &p, y);
    y += p.height + L->g / 2;
    if (!anchors)
        return;
    int half = (p.row_w - L->g) / 2;
    if (p.rows == 1 && md->anchor_low[0]) {
        ui_widget *w = ui_lay_add(L, UI_ROLE_ANCHOR, UI_WIDGET_TEXT, "anchor-low",
                                  rect(x0, y, half, anc_h), false);
        ui_lay_fit(L, w, md->anchor_low, w ? w->rect : rect(0, 0, 0, 0), anc_px, anc_min, false,
                   UI_ALIGN_LEFT, 2);
        if (w)
            w->ink.y = w->rect.y;
    }
    if (md->anchor_high[0]) {
        /* Under the last button: with two rows the second, shorter row ends further left. */
        int last_w = p.per_row[p.rows - 1] * p.bw + (p.per_row[p.rows - 1] - 1) * p.gap;
        int last_right = (L->W - last_w) / 2 + last_w;
        int hx = p.rows == 1 ? x0 + p.row_w - half : x0;
        int hw = p.rows == 1 ? half : last_right - x0;
        ui_widget *w = ui_lay_add(L, UI_ROLE_ANCHOR, UI_WIDGET_TEXT, "anchor-high",
                                  rect(hx, y, hw, anc_h), false);
        ui_lay_fit(L, w, md->anchor_high, w ? w->rect : rect(0, 0, 0, 0), anc_px, anc_min, false,
                   UI_ALIGN_RIGHT, 2);
        if (w)
            w->ink.y = w->rect.y;
    }
}

/* ---- Follow-up chips, staff menu: a grid of labelled buttons ------------------------------- */

grid ui_lay_grid_plan(lay *L, int n, int aw, int ah, int cols, int max_h)
{
    grid gr;
    gr.cols = clampi(cols, 1, maxi(1, n));
    gr.rows = (n + gr.cols - 1) / gr.cols;
    /* Many items: more columns until the rows of minimum-height buttons fit the height (while a
     * column stays at least a touch target wide). */
    while (gr.cols < n && gr.rows * L->T + (gr.rows - 1) * L->g > ah &&
           (aw - gr.cols * L->g) / (gr.cols + 1) >= L->T) {
        gr.cols++;
        gr.rows = (n + gr.cols - 1) / gr.cols;
    }
    gr.cw = (aw - (gr.cols - 1) * L->g) / gr.cols;
    gr.ch = gr.rows > 0 ? (ah - (gr.rows - 1) * L->g) / gr.rows : 0;
    gr.ch = clampi(gr.ch, L->T, maxi(L->T, max_h));
    return gr;
}

void ui_lay_place_grid(lay *L, const grid *gr, int x0, int y0, ui_role role, int max_px)
{
    const ui_model *md = L->md;
    ui_widget *ws[UI_ITEMS_MAX];
    int common = max_px;
    bool bold = role != UI_ROLE_CHIP;
    for (int i = 0; i < md->n_items; i++) {
        const ui_item_c *it = &md->items[i];
        int r = i / gr->cols, c = i % gr->cols;
        /* A short last row is centred under the others. */
        int in_row = mini(gr->cols, md->n_items - r * gr->cols);
        int rw = in_row * gr->cw + (in_row - 1) * L->g;
        int full = gr->cols * gr->cw + (gr->cols - 1) * L->g;
        int x = x0 + (full - rw) / 2 + c * (gr->cw + L->g);
        ui_rect rc = rect(x, y0 + r * (gr->ch + L->g), gr->cw, gr->ch);
        ui_widget *w = ui_lay_add(L, role, UI_WIDGET_BUTTON, it->id, rc, true);
        ws[i] = w;
        if (!w)
            return;
        w->style = it->style;
        w->value = it->value;
        int padx = maxi(6, mini(gr->ch / 4, rc.w / 12)), pady = maxi(3, gr->ch / 9);
        ui_rect box = inset(rc, padx, pady);
        /* A label reads best on one line: shrink up to a fifth for that before wrapping (staff
         * menus keep the size and wrap, so their buttons match the other staff screens'). */
        if (role == UI_ROLE_MENU)
            ui_lay_fit(L, w, it->label, box, max_px, max_px, bold, UI_ALIGN_CENTER, 3);
        else
            ui_lay_fit(L, w, it->label, box, max_px, maxi(11, max_px * 4 / 5), bold,
                       UI_ALIGN_CENTER, 1);
        if (!w->fits)
            ui_lay_fit(L, w, it->label, box, max_px, 11, bold, UI_ALIGN_CENTER, 3);
        common = mini(common, w->px);
    }
    /* One size for every label of the grid, so the buttons read as a set. */
    for (int i = 0; i < md->n_items; i++) {
        ui_widget *w = ws[i];
        if (w->px == common)
            continue;
        ui_widget keep = *w;
        ui_lay_fit(L, w, w->text, w->text_box, common, common, bold, UI_ALIGN_CENTER, 3);
        if (!w->fits)
            *w = keep;
    }
}

static void layout_followup(lay *L)
{
    const ui_model *md = L->md;
    int n = md->n_items;
    int aw = L->W - 2 * L->m;
    int cw = mini(aw, pct(L->s, 1.5));
    int content_h = L->bottom - L->top;
    int prompt_px = pct(L->s, 0.062), prompt_min = maxi(16, prompt_px * 45 / 100);
    int sub_px = maxi(16, prompt_px * 62 / 100);
    int big_gap = maxi(L->g * 2, pct(L->s, 0.045));
    int cols = L->portrait ? (n <= 6 ? 1 : 2) : (n <= 3 ? n : n == 4 ? 2 : n <= 6 ? 3 : 4);
    int grid_w = L->portrait ? aw : mini(aw, pct(L->W, 0.9));
    int prompt_reserve = mini(content_h * 3 / 10, 2 * UI_LINE_STEP(prompt_px * 8 / 10));
    grid gr = ui_lay_grid_plan(L, n, grid_w, content_h - prompt_reserve - big_gap, cols,
                               pct(L->s, L->portrait ? 0.12 : 0.16));
    int grid_h = gr.rows * gr.ch + (gr.rows - 1) * L->g;
    int text_room = content_h - grid_h - big_gap;
    int sub_room = md->subtitle[0] ? mini(text_room / 3, 3 * UI_LINE_STEP(sub_px)) : 0;
    int ph = md->prompt[0] ? ui_lay_text_height(L, md->prompt, cw, text_room - sub_room, prompt_px,
                                                prompt_min, true, 0)
                           : 0;
    int sh = md->subtitle[0]
                 ? ui_lay_text_height(L, md->subtitle, cw, maxi(0, text_room - ph - L->g / 2),
                                      sub_px, 12, false, 0)
                 : 0;
    int total = ph + (sh ? L->g / 2 + sh : 0) + big_gap + grid_h;
    int extra = maxi(0, content_h - total) / 5;
    big_gap += extra;
    total += extra;
    /* Portrait: the list starts under the prompt near the top, not centred down a tall panel. */
    int y = L->top + maxi(0, L->portrait ? mini(content_h - total, big_gap)
                                         : (content_h - total) * 45 / 100);
    int cx = (L->W - cw) / 2;
    if (ph)
        y += ui_lay_text_block(L, UI_ROLE_PROMPT, "prompt", md->prompt, cx, y, cw, ph, prompt_px,
                               prompt_min, true, UI_ALIGN_CENTER);
    if (sh) {
        y += L->g / 2;
        y += ui_lay_text_block(L, UI_ROLE_SUBTITLE, "subtitle", md->subtitle, cx, y, cw, sh, sub_px,
                               12, false, UI_ALIGN_CENTER);
    }
    y += big_gap;
    int full = gr.cols * gr.cw + (gr.cols - 1) * L->g;
    ui_lay_place_grid(L, &gr, (L->W - full) / 2, y, UI_ROLE_CHIP, maxi(16, pct(L->s, 0.05)));
}

/* ---- Thanks and out of order ----------------------------------------------------------------- */

static void layout_message(lay *L, ui_role icon_role)
{
    const ui_model *md = L->md;
    /* The ring counting down to the next customer belongs to the message: it sits close under
     * the message/subtitle block and is centred with it (at the bottom it read as unrelated). */
    int rd = icon_role == UI_ROLE_ICON_OK && md->countdown > 0.0f
                 ? maxi(L->T * 2 / 3, pct(L->s, 0.08))
                 : 0;
    int ring_h = rd ? L->g * 2 + rd : 0;
    int content_h = L->bottom - L->top;
    int cw = mini(L->W - 2 * L->m, pct(L->s, 1.5));
    int cx = (L->W - cw) / 2;
    /* the pairing QR code is read by a phone across the counter: as large as leaves room */
    int d = icon_role == UI_ROLE_QR ? maxi(L->T, pct(L->s, 0.5)) : maxi(L->T, pct(L->s, 0.2));
    int msg_px = pct(L->s, 0.085), sub_px = maxi(14, pct(L->s, 0.045));
    const char *msg = md->message[0] ? md->message : md->prompt;
    int room = content_h - d - L->g * 2 - ring_h;
    int sub_room = md->subtitle[0] ? mini(room / 2, 4 * UI_LINE_STEP(sub_px)) : 0;
    int mh = msg[0] ? ui_lay_text_height(L, msg, cw, room - sub_room, msg_px, 16, true, 0) : 0;
    int sh = md->subtitle[0] ? ui_lay_text_height(L, md->subtitle, cw, maxi(0, room - mh - L->g),
                                                  sub_px, 12, false, 0)
                             : 0;
    int total = d + (mh ? L->g * 2 + mh : 0) + (sh ? L->g + sh : 0) + ring_h;
    int y = L->top + maxi(0, (content_h - total) * 45 / 100);
    ui_lay_add(L, icon_role, UI_WIDGET_ICON, icon_role == UI_ROLE_QR ? "pairing-qr" : "icon",
               rect((L->W - d) / 2, y, d, d), false);
    y += d;
    if (mh) {
        y += L->g * 2;
        y += ui_lay_text_block(L, UI_ROLE_MESSAGE, "message", msg, cx, y, cw, mh, msg_px, 16, true,
                               UI_ALIGN_CENTER);
    }
    if (sh) {
        y += L->g;
        y += ui_lay_text_block(L, UI_ROLE_SUBTITLE, "subtitle", md->subtitle, cx, y, cw, sh, sub_px,
                               12, false, UI_ALIGN_CENTER);
    }
    if (rd)
        ui_lay_add(L, UI_ROLE_RING, UI_WIDGET_ICON, "next-ring",
                   rect((L->W - rd) / 2, mini(y + L->g * 2, L->bottom - rd), rd, rd), false);
}

/* ---- Entry ---------------------------------------------------------------------------------- */

int ui_layout(const ui_model *md, int w, int h, int dpi, int min_target, const ui_measure *ms,
              ui_widget *out)
{
    lay L;
    memset(&L, 0, sizeof L);
    L.md = md;
    L.ms = ms;
    L.W = w;
    L.H = h;
    L.s = mini(w, h);
    L.portrait = h > w;
    L.T = min_target;
    L.m = clampi(pct(L.s, 0.04), 12, 72);
    /* A thumb between two targets must not land on the wrong one: at least 2 mm between
     * adjacent controls at the panel's real density (the touch target enters as min_target). */
    L.g2 = (int)ceil(2.0 * (dpi > 0 ? dpi : 96) / 25.4);
    L.g = maxi(clampi(pct(L.s, 0.018), 6, 28), L.g2);
    L.bar = maxi(L.T, pct(L.s, 0.085));
    L.out = out;

    top_bar(&L);
    action_bar(&L, md->kind == UI_SCREEN_PIN && !L.portrait);
    switch (md->kind) {
    case UI_SCREEN_QUESTION: layout_question(&L); break;
    case UI_SCREEN_FOLLOWUP: layout_followup(&L); break;
    case UI_SCREEN_THANKS:
        if (md->qr_size > 0)
            ui_layout_thanks_qr(&L);
        else
            layout_message(&L, UI_ROLE_ICON_OK);
        break;
    case UI_SCREEN_OUT_OF_ORDER: layout_message(&L, UI_ROLE_ICON_WARN); break;
    case UI_SCREEN_PIN: ui_layout_pin(&L); break;
    case UI_SCREEN_STAFF: ui_layout_staff(&L); break;
    case UI_SCREEN_PAIRING: layout_message(&L, UI_ROLE_QR); break;
    }
    return L.n;
}
