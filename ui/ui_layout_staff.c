/*
 * ui_layout_staff.c - the layout of the staff side: the PIN pad and the staff screen (info lines,
 * menu grid). The metrics and the shared placing helpers are ui_layout.c's (ui_int.h).
 */
#include <stdio.h>
#include <string.h>

#include "ui_int.h"

/* ---- PIN pad -------------------------------------------------------------------------------- */

/* Prompt, subtitle and dots stacked in column (x, w), centred in [top, bottom). */
static void pin_texts(lay *L, int x, int w, int top, int bottom)
{
    const ui_model *md = L->md;
    int room = bottom - top;
    int p_px = pct(L->s, 0.06), s_px = maxi(14, pct(L->s, 0.036));
    int dot = clampi(pct(L->s, 0.045), 12, 64);
    int dots_h = md->pin_max > 0 ? dot : 0;
    int ph = md->prompt[0] ? ui_lay_text_height(L, md->prompt, w, room / 2, p_px, 14, true, 0) : 0;
    int sh = md->subtitle[0]
                 ? ui_lay_text_height(L, md->subtitle, w, maxi(0, room - ph - dots_h - 3 * L->g),
                                      s_px, 12, false, 0)
                 : 0;
    int total = ph + (sh ? L->g + sh : 0) + (dots_h ? 2 * L->g + dots_h : 0);
    int y = top + maxi(0, (room - total) / 2);
    if (ph)
        y += ui_lay_text_block(L, UI_ROLE_PROMPT, "prompt", md->prompt, x, y, w, ph, p_px, 14, true,
                               UI_ALIGN_CENTER);
    if (sh) {
        y += L->g;
        y += ui_lay_text_block(L, UI_ROLE_SUBTITLE, "subtitle", md->subtitle, x, y, w, sh, s_px, 12,
                               false, UI_ALIGN_CENTER);
    }
    if (dots_h) {
        y += 2 * L->g;
        int dw = mini(w, md->pin_max * dot * 2);
        ui_lay_add(L, UI_ROLE_PIN_DOTS, UI_WIDGET_ICON, "pin-dots",
                   rect(x + (w - dw) / 2, y, dw, dot), false);
    }
}

static void place_keys(lay *L, int x0, int y0, int kw, int kh)
{
    const ui_model *md = L->md;
    for (int i = 0; i < md->n_items; i++) {
        const ui_item_c *it = &md->items[i];
        ui_rect rc = rect(x0 + (i % 3) * (kw + L->g), y0 + (i / 3) * (kh + L->g), kw, kh);
        if (i == md->n_items - 1 && i % 3 == 0) /* alone on its row ("pin-cancel"): full width */
            rc.w = 3 * kw + 2 * L->g;
        ui_widget *w = ui_lay_add(L, UI_ROLE_KEY, UI_WIDGET_BUTTON, it->id, rc, true);
        if (!w)
            return;
        w->style = it->style;
        bool digit = strlen(it->label) == 1;
        int px = pct(mini(kw, kh), digit ? 0.42 : 0.26);
        ui_lay_fit(L, w, it->label, inset(rc, maxi(4, kw / 10), maxi(3, kh / 10)), px, 10, true,
                   UI_ALIGN_CENTER, 2);
    }
}

void ui_layout_pin(lay *L)
{
    const ui_model *md = L->md;
    int rows = (md->n_items + 2) / 3;
    int aw = L->W - 2 * L->m;
    int content_h = L->bottom - L->top;
    if (rows == 0) {
        pin_texts(L, L->m, aw, L->top, L->bottom);
        return;
    }
    if (!L->portrait) {
        int text_bottom = L->bottom;
        L->bottom = L->H - L->m;
        content_h = L->bottom - L->top;
        int right = (aw - L->g * 2) * 55 / 100;
        int kh = mini((content_h - (rows - 1) * L->g) / rows, pct(L->s, 0.2));
        kh = maxi(kh, L->T);
        int kw = mini((right - 2 * L->g) / 3, kh * 3 / 2);
        kw = maxi(kw, L->T);
        int pad_w = 3 * kw + 2 * L->g;
        int pad_h = rows * kh + (rows - 1) * L->g;
        int px0 = L->W - L->m - right + (right - pad_w) / 2;
        place_keys(L, px0, L->top + maxi(0, (content_h - pad_h) / 2), kw, kh);
        int left_w = aw - right - 2 * L->g;
        pin_texts(L, L->m, left_w, L->top, text_bottom);
    } else {
        int text_h = content_h * 30 / 100;
        int avail = content_h - text_h - L->g * 2;
        int kh = clampi((avail - (rows - 1) * L->g) / rows, L->T, pct(L->s, 0.2));
        int kw = clampi((aw - 2 * L->g) / 3, L->T, kh * 3 / 2);
        int pad_w = 3 * kw + 2 * L->g;
        int pad_h = rows * kh + (rows - 1) * L->g;
        int y = L->top + text_h + L->g * 2 + maxi(0, (avail - pad_h) / 3);
        pin_texts(L, L->m, aw, L->top, L->top + text_h);
        place_keys(L, (L->W - pad_w) / 2, y, kw, kh);
    }
}

/* ---- Staff ---------------------------------------------------------------------------------- */

/* One staff line at size px: "key\tvalue" puts the key left (at most 55% of the row) and the
 * value right-aligned beside it, each wrapping in its own column; a line without a tab wraps in
 * the whole row. Sets the column widths and returns the line's text height (0: does not fit). */
static int line_measure(lay *L, const char *t, int px, int w, int *kw, int *vw)
{
    ui_line lines[UI_WRAP_MAX];
    const char *tab = strchr(t, '\t');
    int fh = L->ms->height(L->ms->ctx, px, false);
    int step = UI_LINE_STEP(px);
    if (!tab) {
        int n = ui_wrap(L->ms, t, px, false, w, lines);
        *kw = w;
        *vw = 0;
        for (int i = 0; i < n && n <= UI_WRAP_MAX; i++)
            if (lines[i].w > w)
                return 0;
        return n > UI_WRAP_MAX ? 0 : (n - 1) * step + fh;
    }
    char key[UI_TEXT_MAX + 1];
    size_t kl = (size_t)(tab - t);
    memcpy(key, t, kl);
    key[kl] = '\0';
    int full = L->ms->width(L->ms->ctx, key, kl, px, false);
    *kw = mini(full, w * 55 / 100);
    *vw = w - *kw - L->g;
    if (*vw < L->T)
        return 0;
    int nk = ui_wrap(L->ms, key, px, false, *kw, lines);
    for (int i = 0; i < nk && nk <= UI_WRAP_MAX; i++)
        if (lines[i].w > *kw)
            return 0;
    int nv = ui_wrap(L->ms, tab + 1, px, true, *vw, lines);
    for (int i = 0; i < nv && nv <= UI_WRAP_MAX; i++)
        if (lines[i].w > *vw)
            return 0;
    if (nk > UI_WRAP_MAX || nv > UI_WRAP_MAX)
        return 0;
    return (maxi(nk, nv) - 1) * step + fh;
}

/* Places the staff lines from y in w x h; returns the height they take. */
static int place_lines(lay *L, int x, int y, int w, int h)
{
    const ui_model *md = L->md;
    int n = md->n_lines;
    int heights[UI_LINES_MAX], kws[UI_LINES_MAX], vws[UI_LINES_MAX];
    if (n == 0)
        return 0;
    int px = maxi(14, pct(L->s, 0.038));
    bool ok = false;
    /* One size for every line (a table reads better uniform): the largest at which each line
     * fits its columns and all rows fit the panel. */
    for (;;) {
        int total = 0;
        ok = true;
        for (int i = 0; ok && i < n; i++) {
            heights[i] = line_measure(L, md->lines[i], px, w, &kws[i], &vws[i]);
            ok = heights[i] > 0;
            total += heights[i] + pct(px, 0.45);
        }
        ok = ok && total <= h;
        if (ok || px <= 11)
            break;
        px--;
    }
    int yy = y;
    for (int i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "line-%d", i);
        int th = heights[i] > 0 ? heights[i] : L->ms->height(L->ms->ctx, px, false);
        int row = th + pct(px, 0.45);
        if (yy + row > y + h) /* no room at all: squeeze, and report the misfit */
            row = maxi(1, y + h - yy);
        ui_rect rc = rect(x, yy, w, row);
        ui_widget *wd = ui_lay_add(L, UI_ROLE_LINE, UI_WIDGET_TEXT, id, rc, false);
        if (!wd)
            return yy - y;
        wd->text = md->lines[i];
        wd->value = i; /* the line's index (its warning bit) */
        wd->text_box = rc;
        wd->px = px;
        wd->lines = maxi(1, (th - L->ms->height(L->ms->ctx, px, false)) / UI_LINE_STEP(px) + 1);
        wd->key_w = kws[i];
        wd->val_w = vws[i];
        wd->fits = ok && heights[i] > 0 && th <= row;
        wd->ink = rect(x, yy + (row - th) / 2, w, mini(th, row));
        yy += row;
    }
    return yy - y;
}

void ui_layout_staff(lay *L)
{
    const ui_model *md = L->md;
    int aw = L->W - 2 * L->m;
    int y = L->top;
    int t_px = pct(L->s, 0.055);
    if (md->prompt[0])
        y += ui_lay_text_block(L, UI_ROLE_PROMPT, "prompt", md->prompt, L->m, y, aw,
                               (L->bottom - L->top) / 5, t_px, 14, true, UI_ALIGN_LEFT) +
             L->g / 2;
    if (md->subtitle[0])
        y += ui_lay_text_block(L, UI_ROLE_SUBTITLE, "subtitle", md->subtitle, L->m, y, aw,
                               (L->bottom - L->top) / 6, maxi(14, t_px * 6 / 10), 12, false,
                               UI_ALIGN_LEFT) +
             L->g;
    if (md->bar) {
        /* A full-width bar: thick enough to read across the counter, thin next to the menu. */
        int bh = clampi(pct(L->s, 0.045), 12, 64);
        ui_widget *wd = ui_lay_add(L, UI_ROLE_PROGRESS, UI_WIDGET_ICON, "export-progress",
                                   rect(L->m, y, aw, bh), false);
        if (wd)
            wd->shape = wd->rect;
        y += bh + L->g;
    }
    y += L->g;
    int h = L->bottom - y;
    int n = md->n_items;
    int menu_px = ui_lay_staff_button_px(L);
    if (!L->portrait) {
        int left = md->n_lines > 0 ? (aw - 2 * L->g) * 46 / 100 : 0;
        int right = aw - left - (left ? 2 * L->g : 0);
        place_lines(L, L->m, y, left, h);
        int cols = n > 5 ? 2 : 1;
        grid gr = ui_lay_grid_plan(L, n, right, h, cols, pct(L->s, 0.13));
        ui_lay_place_grid(L, &gr, L->W - L->m - right, y, UI_ROLE_MENU, menu_px);
    } else {
        int rows = (n + 1) / 2;
        int menu_h = mini(h * 55 / 100, rows * pct(L->s, 0.14) + (rows - 1) * L->g);
        int lines_h = h - menu_h - L->g * 2;
        int used = place_lines(L, L->m, y, aw, lines_h);
        grid gr = ui_lay_grid_plan(L, n, aw, menu_h, 2, pct(L->s, 0.14));
        /* The menu follows the text (a list starts under its title, not at the far end of a
         * tall panel). */
        ui_lay_place_grid(L, &gr, L->m, y + (used > 0 ? used + L->g * 2 : 0), UI_ROLE_MENU,
                          menu_px);
    }
}
