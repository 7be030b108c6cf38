/*
 * ui.h - the kiosk's screen: layout, text, drawing, hit-testing and screenshots (SDL2).
 *
 * The caller (firmware/kiosk) builds a plain-data screen model (ui_screen: what to show, never
 * where) and hands it over with ui_set_screen(); ui copies it, places every element from the
 * window size and DPI with one layout engine (pure functions on rectangles), and draws it on
 * ui_render(). Each control has a stable string id ("nps-9", "reason-wait", "lang-en", "pin-3");
 * ui_hit() maps a touch point to that id. ui knows nothing about surveys, answers or SQLite.
 *
 * Coordinates. "Window" coordinates are the physical panel's pixels, as SDL mouse/touch events
 * report them. With rotation 90/270 the screen is laid out upright in "logical" coordinates
 * (w and h swapped); every cached texture is stored turned by the rotation and copied to its
 * mapped place, so the panel shows the upright frame at no per-frame cost (no full-screen
 * rotation when presenting). ui_hit() and ui_to_logical() take window coordinates; widget
 * rectangles (ui_widget_info) are logical. Screenshots are logical (upright, what the customer
 * reads); ui_screenshot_window() shows the panel as mounted.
 *
 * Drawing. Everything is rasterized once into textures and cached (text keyed by text + size +
 * weight + colour; faces, buttons and icons by shape + size + colour), so a frame is a clear and a
 * list of texture copies. Faces and rounded shapes are drawn with analytic anti-aliasing (signed
 * distance per pixel), so they are crisp at every size. Fonts are found through fontconfig
 * (default "Noto Sans", from the Debian package fonts-noto-core); a font without Vietnamese glyphs
 * is refused at ui_new(). ui_font_has_glyph() says which characters the font can draw.
 *
 * Events. ui does not read SDL events: the kiosk owns the event loop (SDL_WaitEventTimeout) and
 * passes touch/mouse positions to ui_hit(). Call ui_window_resized() on a size-change event.
 *
 * Thread-safety: a ui handle is used by one thread (the one that called ui_new, as SDL requires).
 * Only one ui handle exists per process (SDL video is process-global).
 */
#ifndef TP_UI_H
#define TP_UI_H

#include <stdbool.h>
#include <stddef.h>

#include "tp.h"

typedef struct ui ui;

/* ---- Bounds ------------------------------------------------------------------------------- */

#define UI_ID_MAX 64     /* widget id, bytes excluding NUL (like TP_ID_MAX) */
#define UI_TEXT_MAX 600  /* any one text (prompt, label, line), bytes excluding NUL */
#define UI_ITEMS_MAX 40  /* main controls on one screen */
#define UI_LANGS_MAX 4   /* language toggles */
#define UI_ACTIONS_MAX 4 /* secondary buttons in the bottom bar */
#define UI_LINES_MAX 16  /* staff info lines */
#define UI_PIN_MAX 12    /* PIN dots */

/* ---- Opening ------------------------------------------------------------------------------ */

typedef struct ui_options {
    int width, height;       /* window size in pixels (the panel, before rotation); 0: 800x480.
                              * With fullscreen the display's size wins. */
    bool fullscreen;         /* borderless fullscreen, no cursor (the kiosk's lockdown) */
    int rotation;            /* 0, 90, 180 or 270: degrees the panel is turned clockwise */
    int dpi;                 /* panel dots per inch for the 9 mm touch-target rule; 0: 96 */
    bool headless;           /* SDL "offscreen" video driver and the software renderer */
    bool software;           /* use the software renderer even with a display (benchmarks) */
    const char *font_family; /* fontconfig family; NULL: "Noto Sans" */
    const char *title;       /* window title; NULL: "Touchpoint" */
    const char *logo;        /* the brand's logo, a PNG or SVG file (SDL2_image); NULL: none */
    const char *accent;      /* the brand's colour "#RRGGBB" for the invitation and the ring;
                              * NULL: the theme's; it must be 4.5:1 on the customer background */
} ui_options;

/* Initialises SDL video, SDL_ttf and SDL_image, finds the font through fontconfig (regular and
 * bold), opens the window and renderer. With headless, sets the offscreen driver first (the
 * caller need not set SDL_VIDEODRIVER). Returns TP_OK and *out (free with ui_free), or
 * TP_ERR_INVALID (bad rotation/size), TP_ERR_NOT_FOUND (no font for the family, naming the Debian
 * package of the default one; or the font lacks Vietnamese glyphs), TP_ERR_UNSUPPORTED (no video
 * driver / renderer), TP_ERR_CONFIG (a logo that cannot be decoded, an accent that is not
 * #RRGGBB or reads below 4.5:1 on the background) with the cause in err. */
tp_err ui_new(const ui_options *opt, ui **out, char *err, size_t errlen);

/* Frees every texture and font, closes the window and shuts SDL down. NULL is a no-op. */
void ui_free(ui *u);

/* Changes the brand's look while running (a configuration from the center, applied between
 * customers): accent "#RRGGBB" (NULL or "": the theme's) and the logo, decoded from the PNG
 * bytes png/png_len when png is set (read from memory, not kept), else from the file logo_path
 * (a file that cannot be decoded counts as no logo, as the kiosk treats it at start), else none.
 * All or nothing: on TP_ERR_CONFIG (an accent that is not #RRGGBB or reads below 4.5:1 on the
 * background, PNG bytes that do not decode) nothing changed and err says why. */
tp_err ui_set_brand(ui *u, const char *accent, const void *png, size_t png_len,
                    const char *logo_path, char *err, size_t errlen);

/* Returns the message of the last failed call on u, or "". Borrowed until the next call. */
const char *ui_errmsg(const ui *u);

/* Returns true when the fonts u draws with (regular and bold; there is no fallback font) both
 * provide a glyph for codepoint, false when it would be drawn as a box. u is a ui * given as
 * void * so that this is the predicate survey_check_glyphs() takes:
 *   survey_check_glyphs(sv, ui_font_has_glyph, u, err, errlen). Same thread as every ui call. */
bool ui_font_has_glyph(void *u, uint32_t codepoint);

/* ---- The screen model (plain data; the caller owns it, ui copies it) ------------------------ */

typedef enum ui_screen_kind {
    UI_SCREEN_QUESTION = 0,     /* prompt + rating scale (scale) + anchor labels + languages */
    UI_SCREEN_FOLLOWUP = 1,     /* prompt + choice chips (items) + languages + actions (skip) */
    UI_SCREEN_THANKS = 2,       /* check mark + message + subtitle (+ qr: the comment link) */
    UI_SCREEN_OUT_OF_ORDER = 3, /* warning sign + message + subtitle (staff detail) */
    UI_SCREEN_PIN = 4,          /* prompt + subtitle (lockout / wrong PIN) + dots + keypad */
    UI_SCREEN_STAFF = 5,        /* prompt (title) + info lines + menu buttons (items) */
    UI_SCREEN_PAIRING = 6,      /* QR code (qr) + message (the pairing code) + subtitle */
} ui_screen_kind;
#define UI_SCREEN_KIND_COUNT 7
#define UI_QR_MAX 177 /* modules per side of the largest QR code (version 40) */

/* Returns "question", "followup", "thanks", "out_of_order", "pin", "staff", "pairing"; "?" if
 * invalid. */
const char *ui_screen_kind_name(ui_screen_kind k);

/* How a numbered scale (nps, ces) is coloured. Neutral (the default, a zeroed ui_screen): one
 * colour for every value, the number is the label and the end labels carry the meaning.
 * Traffic: nps red 0-6 / amber 7-8 / green 9-10 (tp_nps_band_of), ces a pale-to-teal gradient. */
typedef enum ui_scale_style {
    UI_SCALE_NEUTRAL = 0,
    UI_SCALE_TRAFFIC = 1,
} ui_scale_style;

/* How a control looks. UI_STYLE_AUTO derives it from the screen: a numbered scale item by the
 * scale style, a csat or smiley4 face coloured by its value, a chip, key or menu button
 * neutral. */
typedef enum ui_style {
    UI_STYLE_AUTO = 0,
    UI_STYLE_NEUTRAL = 1,  /* light button, dark text */
    UI_STYLE_PRIMARY = 2,  /* accent-filled button (PIN OK, "back to survey") */
    UI_STYLE_DANGER = 3,   /* red-filled button (staff "exit kiosk") */
    UI_STYLE_SELECTED = 4, /* a chosen option in a list (the current survey or language) */
    UI_STYLE_DISABLED = 5, /* greyed out; still reported by ui_hit (the caller ignores it) */
} ui_style;

typedef struct ui_item {
    const char *id;    /* stable id, 1..UI_ID_MAX of [A-Za-z0-9._-] ("nps-9", "pin-ok") */
    const char *label; /* text shown; NULL or "" on a scale item: the value's number (nps,
                        * ces) or no caption (faces); on a face: a caption under the face
                        * (the survey's words for that value: "Rất hài lòng") */
    int value;         /* rating value for scale items (nps 0-10, csat 1-5, ces 1-7,
                        * smiley4 1-4: 1 very unhappy .. 4 very happy); ignored elsewhere */
    ui_style style;
} ui_item;

typedef struct ui_screen {
    ui_screen_kind kind;
    tp_kind scale;           /* UI_SCREEN_QUESTION: which scale the items form (not CHOICE) */
    const char *prompt;      /* the question / title; NULL: none */
    const char *subtitle;    /* smaller text under the prompt (or under the thanks message) */
    bool subtitle_warn;      /* the subtitle in the warning colour (a wrong PIN, a refusal) */
    const char *anchor_low;  /* question: label at the scale's low end ("Not at all likely") */
    const char *anchor_high; /* question: label at the high end ("Extremely likely") */
    const char *message;     /* thanks / out-of-order: the big message ("Cảm ơn quý khách!") */

    /* question, nps / ces: UI_SCALE_NEUTRAL (0, a zeroed struct) or UI_SCALE_TRAFFIC colours */
    ui_scale_style scale_style;

    const ui_item *items;     /* the main controls in reading order: scale items (question), chips
                               * (followup), keypad keys row-major 3 per row (pin: 1..9, then e.g.
                               * "pin-del", "pin-0", "pin-ok"; a last key alone on its row, e.g.
                               * "pin-cancel", spans the keypad's width), menu buttons (staff) */
    int n_items;              /* 0..UI_ITEMS_MAX */
    const ui_item *langs;     /* language toggles, shown top-right on customer screens; ids like
                               * "lang-vi", labels like "VI" / "Tiếng Việt" */
    int n_langs;              /* 0..UI_LANGS_MAX */
    const char *lang;         /* current language tag: the toggle whose id is "lang-<lang>" is
                               * drawn as selected; NULL: none */
    const ui_item *actions;   /* secondary buttons in a bottom bar ("reason-skip", "staff-back"),
                               * right-aligned; a UI_STYLE_DANGER one ("staff-exit") sits alone
                               * at the left end, away from the others */
    int n_actions;            /* 0..UI_ACTIONS_MAX */
    const char *const *lines; /* staff info lines ("Answers today: 42"); "Key\tValue" draws the
                               * value right-aligned in a second column */
    int n_lines;              /* 0..UI_LINES_MAX */
    unsigned warn_lines;      /* bit i: the value of lines[i] in the warning colour */
    int pin_len;              /* PIN screen: digits entered (filled dots) */
    int pin_max;              /* PIN screen: dots shown (0: no dots), <= UI_PIN_MAX */

    bool staff_corner;      /* reserve the top-left corner as the invisible hold zone with the id
                             * "staff-corner" (ui_hit returns it; nothing else is placed there) */
    float hold_progress;    /* <= 0 (a zeroed struct) or NaN: no overlay; (0, 1]: the
                             * staff-corner hold is under way, drawn as a filling ring in the
                             * corner (redraw as it advances) */
    const char *highlight;  /* id of the control to draw pressed/selected; NULL: none */
    bool progress_bar;      /* staff: a progress bar "export-progress" (UI_WIDGET_ICON, full
                             * width under the subtitle, laid out at every size) */
    float progress;         /* its filled fraction 0..1 (clamped; NaN: 0); drawn quantised to
                             * 1/200 so a long export caches at most 201 fills */
    const char *invite;     /* question: the attract state's invitation ("Tap to tell us – 5
                             * seconds"), in a band above the prompt with the logo ("logo") and
                             * brand_name; NULL: no band */
    const char *brand_name; /* the store's name in that band; NULL: none */
    float anim;             /* thanks: the entry animation's progress (0 < anim < 1: the check
                             * mark grows in); otherwise still. Change it with ui_set_anim */
    float countdown;        /* thanks: > 0 places a ring "next-ring" showing the fraction of
                             * the wait left before the next customer (ui_set_anim) */

    const unsigned char *qr; /* pairing, and thanks with a comment link (its "comment-qr"; the
                              * subtitle is then the line that invites a scan): qr_size *
                              * qr_size modules row-major, non-zero = dark;
                              * drawn crisp (whole pixels per module, black on white) with a
                              * quiet zone of 4 modules */
    int qr_size;             /* 0 (no code) or 21..UI_QR_MAX */
} ui_screen;

/* Validates scr and copies everything it needs (texts, items) into u, then lays the screen out
 * for the current window size. The caller may free or reuse scr and its strings afterwards.
 * Returns TP_OK, or TP_ERR_INVALID (bad kind/scale, an id that is not valid or is repeated, a
 * count above its bound, text that is not UTF-8) or TP_ERR_TOO_LARGE (a text over UI_TEXT_MAX)
 * with the field named in ui_errmsg(); on error the previous screen stays. Does not draw. */
tp_err ui_set_screen(ui *u, const ui_screen *scr);

/* Changes only the highlighted control (NULL: none) without a new layout. Returns TP_OK, or
 * TP_ERR_NOT_FOUND when no control has that id (the highlight is then cleared). */
tp_err ui_set_highlight(ui *u, const char *id);

/* Changes only the thank-you's animation values (see ui_screen.anim, countdown; both drawn
 * quantised, so the cache stays bounded). Cheap: no new layout. */
void ui_set_anim(ui *u, float anim, float countdown);

/* Changes only the hold overlay (<= 0 or NaN: none; clamped to 1). Cheap: no new layout. */
void ui_set_hold(ui *u, float progress);

/* Screen brightness without a hardware backlight (the kiosk's screen power): frames presented
 * by ui_render (and ui_screenshot_window) get a black overlay so that percent (0..100, clamped)
 * of the picture's light remains; 100 (the start) is no overlay. Cheap: no new layout. */
void ui_set_brightness(ui *u, int percent);

/* Re-reads the window size (call on SDL_WINDOWEVENT_SIZE_CHANGED) and lays the screen out again.
 * Returns TP_OK or TP_ERR_UNSUPPORTED (the render target could not be re-made). */
tp_err ui_window_resized(ui *u);

/* ---- Drawing ------------------------------------------------------------------------------ */

/* Draws the current screen and presents it. Texts and shapes new since the last frame are
 * rasterized now (once); everything else comes from the cache. Returns TP_OK or
 * TP_ERR_UNSUPPORTED / TP_ERR_NOMEM with the SDL cause in ui_errmsg(). */
tp_err ui_render(ui *u);

/* Draws the current screen into an offscreen texture of the logical size, reads it back and
 * saves it as PNG at png_path (IMG_SavePNG). Does not present. Returns TP_OK, or TP_ERR_IO (the
 * file could not be written) / TP_ERR_UNSUPPORTED with the path and cause in ui_errmsg(). */
tp_err ui_screenshot(ui *u, const char *png_path);

/* Like ui_screenshot but of the whole window as presented (physical orientation: rotated when
 * the rotation is not 0), so tests can check what the panel shows. Returns as ui_screenshot. */
tp_err ui_screenshot_window(ui *u, const char *png_path);

/* ---- Geometry and hit-testing -------------------------------------------------------------- */

typedef struct ui_rect {
    int x, y, w, h;
} ui_rect;

typedef enum ui_widget_kind {
    UI_WIDGET_TEXT = 0,   /* a text block: "prompt", "subtitle", "message", "anchor-low",
                           * "anchor-high", "line-N" (not interactive) */
    UI_WIDGET_BUTTON = 1, /* numbered scale button, chip, key, menu button, action */
    UI_WIDGET_FACE = 2,   /* a csat / smiley4 face (with optional caption) */
    UI_WIDGET_TOGGLE = 3, /* a language toggle */
    UI_WIDGET_ICON = 4,   /* "icon" on thanks / out-of-order, "pin-dots", "export-progress"
                           * (not interactive) */
    UI_WIDGET_ZONE = 5,   /* "staff-corner": invisible hold zone (interactive) */
} ui_widget_kind;

typedef struct ui_widget_info {
    const char *id; /* borrowed: valid until the next ui_set_screen / ui_free */
    ui_widget_kind kind;
    bool interactive;  /* ui_hit can return it */
    ui_rect rect;      /* logical coordinates: the whole widget (touch target) */
    ui_rect text_rect; /* logical: the box its text must stay in (w = 0: no text) */
    ui_rect ink_rect;  /* logical: where the laid-out text actually lands (w = 0: none) */
    bool text_fits;    /* the text, wrapped at font_px, fits text_rect */
    int font_px;       /* chosen font size in pixels (0: no text) */
    int text_lines;    /* lines after word wrap (0: no text) */
} ui_widget_info;

/* Returns the number of widgets of the current screen (texts, controls, icons, zone). */
int ui_widget_count(const ui *u);

/* Fills *out with widget i (0 <= i < ui_widget_count). Returns TP_OK or TP_ERR_INVALID. */
tp_err ui_widget_get(const ui *u, int i, ui_widget_info *out);

/* Finds the widget with that id. Returns TP_OK or TP_ERR_NOT_FOUND. */
tp_err ui_widget_find(const ui *u, const char *id, ui_widget_info *out);

/* Copies line i (0-based, reading order) of widget id's laid-out text into out (outlen bytes,
 * NUL-terminated): the lines exactly as the wrapper broke them at the widget's font size, so
 * tests can check where texts break. A staff line "key\tvalue" gives the key's lines, then the
 * value's. Returns TP_OK, TP_ERR_NOT_FOUND (no such widget, no text, or fewer lines) or
 * TP_ERR_TOO_LARGE (out too small; out holds as much as fits). */
tp_err ui_widget_line(const ui *u, const char *id, int i, char *out, size_t outlen);

/* Returns the id of the interactive widget under window point (x, y), or NULL for none (a gap,
 * a text, outside the window). Borrowed until the next ui_set_screen / ui_free. */
const char *ui_hit(const ui *u, int x, int y);

/* Maps a window point to logical coordinates (undoing the rotation), and back. */
void ui_to_logical(const ui *u, int wx, int wy, int *lx, int *ly);
void ui_to_window(const ui *u, int lx, int ly, int *wx, int *wy);

/* Window size (the panel) and logical size (after rotation), in pixels. */
void ui_window_size(const ui *u, int *w, int *h);
void ui_logical_size(const ui *u, int *w, int *h);

/* Smallest touch target in pixels: max(64, 9 mm at the configured DPI). */
int ui_min_target(const ui *u);

/* ---- Counters (tests and benchmarks) ------------------------------------------------------- */

typedef struct ui_stats {
    long frames;            /* ui_render calls that presented */
    long text_rasterized;   /* texts turned into textures (cache misses) */
    long shapes_rasterized; /* faces / buttons / icons turned into textures (cache misses) */
    long cache_hits;        /* texture lookups served from the cache */
    long layouts;           /* layout passes (set_screen, resize) */
} ui_stats;

/* Copies the counters into *out. */
void ui_get_stats(const ui *u, ui_stats *out);

#endif /* TP_UI_H */
