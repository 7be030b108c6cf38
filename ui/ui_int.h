/*
 * ui_int.h - internals of the ui module shared by its files (ui.c: SDL set-up, the model and the
 * public API; ui_draw.c: the theme, the texture cache and drawing; ui_layout.c: the layout engine,
 * pure geometry, with the staff side's screens in ui_layout_staff.c; ui_text.c: fonts, word wrap,
 * fitting and the texture cache; ui_shape.c: anti-aliased shapes rasterized into pixel buffers).
 *
 * Only the ui sources, the ui tests and the ui benchmark include this header.
 */
#ifndef TP_UI_INT_H
#define TP_UI_INT_H

#include <SDL.h>
#include <SDL_ttf.h>
#include <math.h>
#include <stdint.h>

#include "ui.h"

/* ---- The copied screen model ---------------------------------------------------------------- */

typedef struct ui_item_c {
    char id[UI_ID_MAX + 1];
    char label[UI_TEXT_MAX + 1];
    int value;
    ui_style style;
} ui_item_c;

typedef struct ui_model {
    ui_screen_kind kind;
    tp_kind scale;
    ui_scale_style scale_style;
    char prompt[UI_TEXT_MAX + 1];
    char subtitle[UI_TEXT_MAX + 1];
    bool subtitle_warn; /* the subtitle in the warning colour */
    char anchor_low[UI_TEXT_MAX + 1];
    char anchor_high[UI_TEXT_MAX + 1];
    char message[UI_TEXT_MAX + 1];
    ui_item_c items[UI_ITEMS_MAX];
    int n_items;
    ui_item_c langs[UI_LANGS_MAX];
    int n_langs;
    char lang[TP_LANG_MAX + 1];
    ui_item_c actions[UI_ACTIONS_MAX];
    int n_actions;
    char lines[UI_LINES_MAX][UI_TEXT_MAX + 1];
    int n_lines;
    unsigned warn_lines; /* bit i: lines[i]'s value in the warning colour */
    int pin_len, pin_max;
    bool staff_corner;
    float hold;
    bool bar;       /* progress bar shown */
    float progress; /* 0..1 */
    char highlight[UI_ID_MAX + 1];
    char invite[UI_TEXT_MAX + 1]; /* attract band ("" none) */
    char brand_name[UI_TEXT_MAX + 1];
    int logo_w, logo_h; /* the logo's size (0: none), for its place in the band */
    float anim;         /* thanks entry animation 0..1 */
    float countdown;    /* thanks ring: fraction left (<= 0: no ring) */
    int qr_size;        /* pairing: modules per side, 0: none */
    unsigned char qr[UI_QR_MAX * UI_QR_MAX];
} ui_model;

/* ---- Laid-out widgets ----------------------------------------------------------------------- */

/* What a widget is, for drawing (ui_widget_kind is the coarse public view of it). */
typedef enum ui_role {
    UI_ROLE_PROMPT,
    UI_ROLE_SUBTITLE,
    UI_ROLE_MESSAGE,
    UI_ROLE_ANCHOR,
    UI_ROLE_LINE,      /* staff info line, "key\tvalue" */
    UI_ROLE_SCALE_BTN, /* nps / ces numbered button */
    UI_ROLE_FACE,      /* csat / smiley4 face */
    UI_ROLE_CHIP,      /* follow-up choice */
    UI_ROLE_KEY,       /* PIN keypad key */
    UI_ROLE_MENU,      /* staff menu button */
    UI_ROLE_ACTION,    /* bottom-bar button */
    UI_ROLE_LANG,      /* language toggle */
    UI_ROLE_ZONE,      /* staff corner */
    UI_ROLE_ICON_OK,   /* thanks check mark */
    UI_ROLE_ICON_WARN, /* out-of-order sign */
    UI_ROLE_PIN_DOTS,
    UI_ROLE_PROGRESS, /* staff progress bar "export-progress" */
    UI_ROLE_LOGO,     /* the brand's logo (attract band) */
    UI_ROLE_INVITE,   /* the attract invitation, in the accent colour */
    UI_ROLE_RING,     /* thanks: the countdown ring to the next customer */
    UI_ROLE_QR,       /* QR code: pairing "pairing-qr", the thank-you's "comment-qr" */
} ui_role;

enum { UI_ALIGN_LEFT = 0, UI_ALIGN_CENTER = 1, UI_ALIGN_RIGHT = 2 };

/* Bound on widgets per screen: items + langs + actions + lines + texts + icons + zone. */
#define UI_WIDGETS_MAX (UI_ITEMS_MAX + UI_LANGS_MAX + UI_ACTIONS_MAX + UI_LINES_MAX + 12)

typedef struct ui_widget {
    char id[UI_ID_MAX + 1];
    ui_role role;
    ui_widget_kind kind;
    bool interactive;
    ui_rect rect;     /* the widget (touch target) */
    ui_rect shape;    /* where its shape is drawn (the face circle, the button body) */
    ui_rect text_box; /* the box its text must fit in (w = 0: no text) */
    ui_rect ink;      /* where the text lands */
    const char *text; /* points into the model (or num) */
    char num[8];      /* the number of a scale button */
    int px;           /* font size */
    int wrap_w;       /* width the text wraps at (text_box.w; ui_wrap balances the lines) */
    bool bold;
    int align; /* UI_ALIGN_* */
    int lines;
    bool fits;
    int value; /* scale value */
    ui_style style;
    int key_w, val_w; /* staff line: key column and value column widths (val_w 0: no tab) */
} ui_widget;

/* Text measuring for the layout engine, so layout stays pure geometry over a measure function. */
typedef struct ui_measure {
    /* Width in pixels of the n bytes at s at size px. */
    int (*width)(void *ctx, const char *s, size_t n, int px, bool bold);
    /* Height of one line box (ascent + descent) at size px. */
    int (*height)(void *ctx, int px, bool bold);
    void *ctx;
} ui_measure;

/* Line distance for wrapped text: tighter than the font's line skip, still clear of stacked
 * Vietnamese diacritics. */
#define UI_LINE_STEP(px) (((px)*5 + 2) / 4)

/* One wrapped line: bytes [off, off + len) of the text; split: it ends inside a word or
 * no-break group that was too wide for the line on its own. */
typedef struct ui_line {
    int off, len, w;
    bool split;
} ui_line;
#define UI_WRAP_MAX 24

/* Wraps text at width maxw at size px into lines (at most UI_WRAP_MAX). Breaks at runs of ASCII
 * spaces only: U+00A0 (no-break space, drawn as a space) keeps a group such as "cửa hàng"
 * together, and no line starts with a punctuation mark (",", ".", ":", "?", "–", ...: the space
 * before one is no break). Honours '\n'. With the fewest lines that fit, the lines are balanced
 * (the breaking whose widest line is narrowest), preferring breaks after punctuation when that
 * widens the widest line by at most an eighth. A group wider than maxw is split at a no-break
 * space that fits, else between characters. Returns the number of lines, or UI_WRAP_MAX + 1
 * when more are needed. */
int ui_wrap(const ui_measure *m, const char *text, int px, bool bold, int maxw, ui_line *lines);

/* Finds the largest size in [min_px, max_px] (stepping down ~6%) at which text wrapped to box.w
 * fits box.h, with at most max_lines lines (0: any), splitting no word or no-break group (a split
 * is accepted only at min_px). Sets *px, *n_lines, *bw, *bh (block size).
 * Returns true if it fits; false with the results at min_px otherwise. */
bool ui_fit_text(const ui_measure *m, const char *text, bool bold, int box_w, int box_h, int max_px,
                 int min_px, int max_lines, int *px, int *n_lines, int *bw, int *bh);

/* The layout engine: places every widget of model for a logical screen of w x h pixels.
 * Pure: the result depends only on its arguments. Returns the number of widgets written to out
 * (at most UI_WIDGETS_MAX). */
int ui_layout(const ui_model *model, int w, int h, int dpi, int min_target, const ui_measure *m,
              ui_widget *out);

/* Whether two rectangles share any pixel; whether inner lies inside outer. */
bool ui_rect_overlap(ui_rect a, ui_rect b);
bool ui_rect_inside(ui_rect inner, ui_rect outer);

/* ---- Layout internals (ui_layout.c, ui_layout_staff.c) ------------------------------------ */

/* One layout in progress: the model, the metrics of the screen and the widgets placed so far. */
typedef struct lay {
    const ui_model *md;
    const ui_measure *ms;
    int W, H, s, T, m, g, bar;
    int g2; /* 2 mm at the panel's DPI: the least room between two controls */
    bool portrait;
    int top, bottom; /* content area [top, bottom) */
    int act_top;     /* top of the action bar (bottom margin when none) */
    ui_widget *out;
    int n;
} lay;

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static inline int maxi(int a, int b)
{
    return a > b ? a : b;
}

static inline int mini(int a, int b)
{
    return a < b ? a : b;
}

static inline int pct(int s, double f)
{
    return (int)lround((double)s * f);
}

static inline ui_rect rect(int x, int y, int w, int h)
{
    ui_rect r = {x, y, w, h};
    return r;
}

static inline ui_rect inset(ui_rect r, int dx, int dy)
{
    return rect(r.x + dx, r.y + dy, maxi(0, r.w - 2 * dx), maxi(0, r.h - 2 * dy));
}

typedef struct grid {
    int cols, rows, cw, ch;
} grid;
/* Adds a widget of role at r (NULL when UI_WIDGETS_MAX are placed). */
ui_widget *ui_lay_add(lay *L, ui_role role, ui_widget_kind kind, const char *id, ui_rect r,
                      bool interactive);
/* Fits w->text into box (shrinking from max_px to min_px) and places the block by align,
 * centred vertically. */
void ui_lay_fit(lay *L, ui_widget *w, const char *text, ui_rect box, int max_px, int min_px,
                bool bold, int align, int max_lines);
/* Height a text needs in a box of width bw at up to max_px (shrinking to min_px within max_h). */
int ui_lay_text_height(lay *L, const char *text, int bw, int max_h, int max_px, int min_px,
                       bool bold, int max_lines);
/* A text widget exactly as tall as its text needs at (x, y), width bw, at most max_h. */
int ui_lay_text_block(lay *L, ui_role role, const char *id, const char *text, int x, int y, int bw,
                      int max_h, int max_px, int min_px, bool bold, int align);
/* The text size of every button on a staff screen (menu and bar alike). */
int ui_lay_staff_button_px(const lay *L);
/* A grid of n labelled buttons in aw x ah (cols wanted, rows at most max_h high), and its
 * placing at (x0, y0) with one common text size of at most max_px. */
grid ui_lay_grid_plan(lay *L, int n, int aw, int ah, int cols, int max_h);
void ui_lay_place_grid(lay *L, const grid *gr, int x0, int y0, ui_role role, int max_px);
/* The PIN pad and the staff screen (ui_layout_staff.c). */
void ui_layout_pin(lay *L);
void ui_layout_staff(lay *L);
/* The thank-you with the comment link's QR code "comment-qr" (ui_layout_thanks.c). */
void ui_layout_thanks_qr(lay *L);

/* ---- Shapes (ui_shape.c): RGBA pixels, straight alpha, row-major, w*h uint32 ARGB8888 ----- */

typedef struct ui_rgba {
    uint8_t r, g, b, a;
} ui_rgba;

/* Each writes into pix (w x h, cleared by the caller to transparent) with anti-aliased edges. */
void ui_shape_rrect(uint32_t *pix, int w, int h, float radius, ui_rgba fill, float border,
                    ui_rgba border_col, float shadow);
/* A face: disc of colour fill; mood -1 (very unhappy) .. +1 (very happy); ink for features.
 * ring > 0: a highlight ring of that width in ring_col with a gap; ring < 0: an outline of width
 * -ring in ring_col on the disc's edge. */
void ui_shape_face(uint32_t *pix, int w, int h, ui_rgba fill, float mood, ui_rgba ink, float ring,
                   ui_rgba ring_col);
void ui_shape_check(uint32_t *pix, int w, int h, ui_rgba fill, ui_rgba ink);
void ui_shape_warn(uint32_t *pix, int w, int h, ui_rgba fill, ui_rgba ink);
/* progress 0..1 as a ring arc clockwise from 12 o'clock over a faint track. */
void ui_shape_ring(uint32_t *pix, int w, int h, float progress, ui_rgba col, ui_rgba track);
/* n dots in a row, the first filled of them solid, the rest outlined. */
void ui_shape_dots(uint32_t *pix, int w, int h, int n, int filled, ui_rgba col);

/* ---- Theme (ui_draw.c) ---------------------------------------------------------------------- */

/* The colours one control is drawn with. */
typedef struct ui_look {
    ui_rgba bg;      /* the screen behind the control */
    ui_rgba fill;    /* its body: button fill, face disc */
    ui_rgba border;  /* its outline (equal to fill: none drawn) */
    ui_rgba text;    /* its label */
    ui_rgba text_bg; /* what the label sits on: the fill; a face's caption: bg or the lit tile */
    ui_rgba mark;    /* a face's eyes and mouth (buttons: the label colour) */
} ui_look;

/* The theme's colours for a control of role with style st (value, scale and scale style for
 * scale items; screen picks the background), selected (the current language) and pressed
 * (highlighted). Drawing uses it, and the contrast test reads it. */
ui_look ui_theme_look(ui_role role, ui_style st, int value, tp_kind scale, ui_scale_style ss,
                      ui_screen_kind screen, bool selected, bool pressed);

/* The colour of a text of role (prompt, subtitle, message, anchor, line; warn: the warning
 * colour of a wrong PIN or a staff warning) on a screen of kind, with its background in *bg.
 * Drawing uses it, and the contrast test reads it. */
ui_rgba ui_theme_text(ui_role role, ui_screen_kind screen, bool warn, ui_rgba *bg);

/* The theme's accent (the brand's colour when none is configured). */
ui_rgba ui_theme_accent(void);
/* The background of screen (the staff and PIN screens have their own). */
ui_rgba ui_theme_bg(ui_screen_kind screen);

/* Parses "#RRGGBB" into *out. Returns false when s is not that. */
bool ui_parse_rgb(const char *s, ui_rgba *out);

/* WCAG 2.1 contrast ratio of two colours (alpha ignored): 1 .. 21. */
double ui_contrast(ui_rgba a, ui_rgba b);

/* ---- Fonts and the texture cache (ui_text.c) ------------------------------------------------ */

typedef struct ui_fonts ui_fonts;

#define UI_FONT_FAMILY "Noto Sans"        /* the default family */
#define UI_FONT_PACKAGE "fonts-noto-core" /* the Debian package that ships it (dpkg -S) */

/* Loads the regular and bold faces of family through fontconfig into memory and checks that they
 * provide Vietnamese glyphs. Returns TP_OK and *out (free with ui_fonts_free) or TP_ERR_NOT_FOUND
 * with the cause in err. */
tp_err ui_fonts_new(const char *family, ui_fonts **out, char *err, size_t errlen);
void ui_fonts_free(ui_fonts *f);
/* Returns the font at size px (opened on first use, kept in a bounded LRU), or NULL. */
TTF_Font *ui_fonts_get(ui_fonts *f, int px, bool bold);
/* A measure table reading these fonts. */
ui_measure ui_fonts_measure(ui_fonts *f);
/* The file paths fontconfig chose (for error messages and tests). */
const char *ui_fonts_path(const ui_fonts *f, bool bold);
/* Returns true when both faces provide a glyph for codepoint. */
bool ui_fonts_has_glyph(ui_fonts *f, uint32_t codepoint);

#define UI_CACHE_MAX 384                  /* textures */
#define UI_CACHE_BYTES (24 * 1024 * 1024) /* pixel bytes kept */

typedef struct ui_tex {
    uint64_t hash;
    char *key;
    SDL_Texture *tex; /* pixels already turned by the panel's rotation */
    int w, h;         /* logical (upright) size */
    long bytes;
    long used; /* frame number of the last use */
} ui_tex;

typedef struct ui_cache {
    ui_tex e[UI_CACHE_MAX];
    int n;
    long bytes;
} ui_cache;

/* Destroys every cached texture (ui_free; the benchmark measures cold first frames with it). */
void ui_cache_clear(ui_cache *c);

/* ---- The handle ----------------------------------------------------------------------------- */

struct ui {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *rot; /* logical-size target when rotated */
    int rotation, dpi, min_target;
    int ww, wh; /* window (output) size */
    int lw, lh; /* logical size */
    ui_fonts *fonts;
    ui_cache cache;
    ui_model model;
    ui_model scratch; /* validation copy for ui_set_screen */
    bool have_screen;
    ui_widget w[UI_WIDGETS_MAX];
    int nw;
    ui_stats stats;
    long frame;
    int darken;        /* ui_set_brightness: black overlay, percent 0 (none)..100 (black) */
    SDL_Surface *logo; /* the brand's logo, ARGB8888 (NULL: none) */
    ui_rgba accent;    /* the invitation's and the ring's colour */
    char errmsg[TP_ERRMSG_MAX];
};

/* Draws the current screen into the current render target (window size: with a rotated panel
 * every texture is stored pre-rotated and placed at its mapped rectangle, so a rotated frame
 * costs the same as an upright one). Used by ui_render, the screenshots, the tests and the
 * benchmark. Returns TP_OK or an error with u->errmsg set. */
tp_err ui_draw(ui *u);

#endif /* TP_UI_INT_H */
