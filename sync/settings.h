/*
 * settings.h - the "settings" object a collector sends a device (issue 12, sync/PROTOCOL.md
 * section 12), parsed and validated into plain data; and the value checks the kiosk's INI config
 * (firmware/config.c) shares with it, so that a range or an opening-hours rule has one code path.
 *
 * JSON (every key optional; a tree node sets only what it overrides, the collector resolves the
 * inheritance, a device sees resolved settings):
 *
 *   {"timezone": "Asia/Ho_Chi_Minh",                         (must exist in /usr/share/zoneinfo)
 *    "opening_hours": "always" | {"mon": "07:00-22:00", ..., "sun": "closed"},
 *    "languages": ["vi", "en"], "default_language": "vi",
 *    "survey": {"id": "checkout-nps", "version": 2},
 *    "timing": {"thankyou_s": 4, "idle_timeout_s": 30, "repeat_window_s": 5},
 *    "screen": {"dim_after_s": 300, "dim_level": 10},
 *    "brand": {"name": "...", "accent": "#1a73e8", "logo_png": "<base64, <= 256 KiB decoded>"},
 *    "stage": "before" | "during" | "after"}
 *
 * Errors name the JSON path: "$.settings.opening_hours.mon: expected HH:MM-HH:MM or \"closed\"".
 * Unknown keys are refused (a misspelt key would otherwise vanish silently).
 *
 * Thread-safety: reentrant.
 */
#ifndef TP_SETTINGS_H
#define TP_SETTINGS_H

#include "tp.h"

struct cJSON;

/* Ranges shared with the INI config (config.c's key table uses these). */
#define SETTINGS_IDLE_TIMEOUT_MIN 5
#define SETTINGS_IDLE_TIMEOUT_MAX 3600
#define SETTINGS_THANKYOU_MIN 1
#define SETTINGS_THANKYOU_MAX 60
#define SETTINGS_REPEAT_MIN 0
#define SETTINGS_REPEAT_MAX 3600
#define SETTINGS_DIM_AFTER_MIN 0
#define SETTINGS_DIM_AFTER_MAX 86400
#define SETTINGS_DIM_LEVEL_MIN 0
#define SETTINGS_DIM_LEVEL_MAX 100

#define SETTINGS_MAX_LANGS 4
#define SETTINGS_TZ_MAX 64
#define SETTINGS_BRAND_NAME_MAX 128    /* bytes of UTF-8 */
#define SETTINGS_LOGO_MAX (256 * 1024) /* decoded bytes */
#define SETTINGS_JSON_MAX (512 * 1024) /* bytes of settings JSON text */

/* One day's opening hours: always open, closed, or open_min..close_min (minutes after local
 * midnight; close < open: open over midnight). */
typedef struct settings_hours {
    bool always;
    bool closed;
    int open_min, close_min;
} settings_hours;

/* Which keys were given (settings.has). */
enum {
    SETTINGS_HAS_TIMEZONE = 1u << 0,
    SETTINGS_HAS_HOURS = 1u << 1,
    SETTINGS_HAS_LANGUAGES = 1u << 2,
    SETTINGS_HAS_DEFAULT_LANGUAGE = 1u << 3,
    SETTINGS_HAS_SURVEY = 1u << 4,
    SETTINGS_HAS_THANKYOU = 1u << 5,
    SETTINGS_HAS_IDLE_TIMEOUT = 1u << 6,
    SETTINGS_HAS_REPEAT_WINDOW = 1u << 7,
    SETTINGS_HAS_DIM_AFTER = 1u << 8,
    SETTINGS_HAS_DIM_LEVEL = 1u << 9,
    SETTINGS_HAS_BRAND_NAME = 1u << 10,
    SETTINGS_HAS_BRAND_ACCENT = 1u << 11,
    SETTINGS_HAS_BRAND_LOGO = 1u << 12,
    SETTINGS_HAS_STAGE = 1u << 13,
};

typedef enum settings_stage {
    SETTINGS_STAGE_BEFORE = 0, /* the same values as config.h's config_stage */
    SETTINGS_STAGE_DURING = 1,
    SETTINGS_STAGE_AFTER = 2,
} settings_stage;

typedef struct settings {
    unsigned has; /* SETTINGS_HAS_* bits */
    char timezone[SETTINGS_TZ_MAX + 1];
    settings_hours hours[7]; /* [0] = Monday .. [6] = Sunday */
    int n_langs;
    char langs[SETTINGS_MAX_LANGS][TP_LANG_MAX + 1];
    char default_lang[TP_LANG_MAX + 1];
    char survey_id[TP_ID_MAX + 1];
    int survey_version; /* >= 1 */
    int thankyou_s, idle_timeout_s, repeat_window_s;
    int dim_after_s, dim_level;
    char brand_name[SETTINGS_BRAND_NAME_MAX + 1];
    unsigned accent_rgb;     /* 0xRRGGBB */
    unsigned char *logo_png; /* owned: settings_release() frees; NULL when not given */
    size_t logo_len;
    settings_stage stage;
} settings;

/* Parses the settings object in the len bytes of JSON text at json into *out (cleared first).
 * Paths in messages start with "$.settings". Returns TP_OK, TP_ERR_TOO_LARGE (over
 * SETTINGS_JSON_MAX) or TP_ERR_CONFIG with "$.settings.KEY: cause" in err (size errlen, may be
 * NULL). On success release *out with settings_release(); on error nothing is left to free. */
tp_err settings_parse(const char *json, size_t len, settings *out, char *err, size_t errlen);

/* The same on an already parsed object; jpath is the path of obj in messages (like
 * "$.settings"). obj NULL or JSON null: empty settings. */
tp_err settings_parse_cjson(const struct cJSON *obj, const char *jpath, settings *out, char *err,
                            size_t errlen);

/* Frees what *s owns (the logo) and clears it. NULL is a no-op. */
void settings_release(settings *s);

/* ---- Value checks shared with config.c: each returns NULL when fine, else a static cause ---- */

/* A whole number in text v within [lo, hi] into *out. */
const char *settings_check_int_text(const char *v, long lo, long hi, long *out);

/* "always", "closed" (only when allow_closed) or "HH:MM-HH:MM" into *out. */
const char *settings_check_hours(const char *v, bool allow_closed, settings_hours *out);

/* Adds the language tag s (len bytes, not NUL-terminated) to langs[*n] (at most
 * SETTINGS_MAX_LANGS, none twice). */
const char *settings_add_lang(char (*langs)[TP_LANG_MAX + 1], int *n, const char *s, size_t len);

/* An IANA time zone name that exists under /usr/share/zoneinfo (or $TZDIR). */
const char *settings_check_timezone(const char *v);

/* Returns true when minute-of-day m (0..1439) is inside the opening hours h. */
bool settings_hours_open(const settings_hours *h, int m);

#endif /* TP_SETTINGS_H */
