/*
 * config.c - loads the device's INI configuration (config.h) with inih.
 *
 * Every section and key is described by one row of a const table (section, key, type, bounds,
 * field offset), so parsing, defaults and "missing required key" checks are table walks rather
 * than a chain of strcmp()s. Line numbers come from our own line reader around inih: the
 * distribution's inih is built without INI_HANDLER_LINENO, and counting lines ourselves also lets
 * us reject over-long lines instead of letting inih split them silently.
 */
#include "config.h"
#include "settings.h" /* the value checks shared with the center's settings (sync/) */
#include "uploader.h" /* UPLOADER_DEFAULT_*: the [sync] defaults */

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest line accepted (bytes, without the newline); inih's own buffer is INI_MAX_LINE. */
#define LINE_MAX_BYTES (INI_MAX_LINE - 2)

typedef enum key_type {
    K_ID,           /* tp_id_valid() string */
    K_STR,          /* free text, bounded by the field size */
    K_PATH,         /* a path, resolved against the config file's folder */
    K_INT,          /* integer within [lo, hi] */
    K_BOOL,         /* true/false, yes/no, on/off, 1/0 */
    K_STAGE,        /* before | during | after */
    K_ROT,          /* 0 | 90 | 180 | 270 */
    K_LANG,         /* tp_lang_valid() */
    K_LANGS,        /* comma list of languages */
    K_PINHASH,      /* pbkdf2-sha256$ITER$SALT$HASH */
    K_URL,          /* "" or http(s)://... */
    K_PUBKEY,       /* "" or sha256//BASE64 */
    K_FORMATS,      /* csv | jsonl | csv,jsonl */
    K_GPIO_BACKEND, /* none | gpiod | sim */
    K_GPIO_LINE,    /* "" or an offset or a line name */
    K_GPIO_BUTTONS, /* comma list of LINE:VALUE */
    K_HOURS,        /* always | HH:MM-HH:MM */
} key_type;

typedef struct key_def {
    const char *section;
    const char *key;
    key_type type;
    bool required;
    const char *def; /* default value text, parsed like a file value; NULL: none */
    long lo, hi;     /* K_INT bounds */
    size_t off;      /* offset of the field in struct config */
    size_t size;     /* field size (strings) */
} key_def;

_Static_assert(CONFIG_MAX_LANGS == SETTINGS_MAX_LANGS, "one language bound for INI and settings");

#define F(field) offsetof(config, field), sizeof(((config *)0)->field)
/* A number macro as the default's text: the [sync] defaults are the uploader's, written once. */
#define STR_(x) #x
#define STR(x) STR_(x)

static const key_def KEYS[] = {
    {"device", "id", K_ID, true, NULL, 0, 0, F(device_id)},
    {"device", "store", K_ID, true, NULL, 0, 0, F(store_id)},
    {"device", "touchpoint", K_ID, true, NULL, 0, 0, F(touchpoint_id)},
    {"device", "stage", K_STAGE, false, "after", 0, 0, F(stage)},
    {"survey", "file", K_PATH, true, NULL, 0, 0, F(survey_file)},
    {"survey", "directory", K_PATH, false, NULL, 0, 0, F(survey_dir)},
    {"storage", "database", K_PATH, true, NULL, 0, 0, F(database)},
    {"storage", "min_free_mb", K_INT, false, "8", 0, 1048576, F(min_free_mb)},
    {"display", "fullscreen", K_BOOL, false, "true", 0, 0, F(fullscreen)},
    {"display", "width", K_INT, false, "800", 320, 8192, F(width)},
    {"display", "height", K_INT, false, "480", 320, 8192, F(height)},
    {"display", "rotation", K_ROT, false, "0", 0, 0, F(rotation)},
    {"display", "dpi", K_INT, false, "96", 50, 600, F(dpi)},
    {"language", "default", K_LANG, false, "vi", 0, 0, F(default_lang)},
    {"language", "available", K_LANGS, false, "vi,en", 0, 0, F(langs)},
    {"timing", "idle_timeout_s", K_INT, false, "30", SETTINGS_IDLE_TIMEOUT_MIN,
     SETTINGS_IDLE_TIMEOUT_MAX, F(idle_timeout_s)},
    {"timing", "thankyou_s", K_INT, false, "4", SETTINGS_THANKYOU_MIN, SETTINGS_THANKYOU_MAX,
     F(thankyou_s)},
    {"timing", "repeat_window_s", K_INT, false, "5", SETTINGS_REPEAT_MIN, SETTINGS_REPEAT_MAX,
     F(repeat_window_s)},
    {"timing", "comment_thanks_s", K_INT, false, "15", 4, 120, F(comment_thanks_s)},
    {"timing", "comment_link_minutes", K_INT, false, "30", 1, 1440, F(comment_link_minutes)},
    {"staff", "pin_hash", K_PINHASH, true, NULL, 0, 0, F(pin_hash)},
    {"staff", "hold_ms", K_INT, false, "3000", 500, 30000, F(hold_ms)},
    {"staff", "max_attempts", K_INT, false, "5", 1, 100, F(max_attempts)},
    {"staff", "lockout_s", K_INT, false, "300", 0, 86400, F(lockout_s)},
    {"staff", "idle_s", K_INT, false, "60", 5, 3600, F(staff_idle_s)},
    {"sync", "url", K_URL, false, "", 0, 0, F(sync.url)},
    {"sync", "token_file", K_PATH, false, "", 0, 0, F(sync.token_file)},
    {"sync", "interval_s", K_INT, false, STR(UPLOADER_DEFAULT_INTERVAL_S), 5, 86400,
     F(sync.interval_s)},
    {"sync", "batch_max", K_INT, false, STR(UPLOADER_DEFAULT_BATCH_MAX), 1, 5000,
     F(sync.batch_max)},
    {"sync", "batch_max_bytes", K_INT, false, STR(UPLOADER_DEFAULT_BATCH_MAX_BYTES), 4096, 8388608,
     F(sync.batch_max_bytes)},
    {"sync", "gzip", K_BOOL, false, "true", 0, 0, F(sync.gzip)},
    {"sync", "ca_file", K_PATH, false, "", 0, 0, F(sync.ca_file)},
    {"sync", "pinned_pubkey", K_PUBKEY, false, "", 0, 0, F(sync.pinned_pubkey)},
    {"sync", "connect_timeout_s", K_INT, false, STR(UPLOADER_DEFAULT_CONNECT_TIMEOUT_S), 1, 300,
     F(sync.connect_timeout_s)},
    {"sync", "low_speed_time_s", K_INT, false, STR(UPLOADER_DEFAULT_LOW_SPEED_TIME_S), 1, 600,
     F(sync.low_speed_time_s)},
    {"sync", "backoff_max_s", K_INT, false, STR(UPLOADER_DEFAULT_BACKOFF_MAX_S), 1, 86400,
     F(sync.backoff_max_s)},
    {"sync", "pid_file", K_PATH, false, "", 0, 0, F(sync.pid_file)},
    {"sync", "state_dir", K_PATH, false, "", 0, 0, F(sync.state_dir)},
    {"usb", "mount_root", K_PATH, false, "/media", 0, 0, F(usb.mount_root)},
    {"usb", "formats", K_FORMATS, false, "csv", 0, 0, F(usb.formats)},
    {"usb", "staff_key", K_BOOL, false, "false", 0, 0, F(usb.staff_key)},
    {"gpio", "backend", K_GPIO_BACKEND, false, "none", 0, 0, F(gpio.backend)},
    {"gpio", "chip", K_STR, false, "gpiochip0", 0, 0, F(gpio.chip)},
    {"gpio", "buttons", K_GPIO_BUTTONS, false, "", 0, 0, F(gpio.buttons)},
    {"gpio", "staff_key_line", K_GPIO_LINE, false, "", 0, 0, F(gpio.staff_key)},
    {"gpio", "pir_line", K_GPIO_LINE, false, "", 0, 0, F(gpio.pir)},
    {"gpio", "led_green", K_GPIO_LINE, false, "", 0, 0, F(gpio.led_green)},
    {"gpio", "led_amber", K_GPIO_LINE, false, "", 0, 0, F(gpio.led_amber)},
    {"gpio", "led_red", K_GPIO_LINE, false, "", 0, 0, F(gpio.led_red)},
    {"gpio", "ack_line", K_GPIO_LINE, false, "", 0, 0, F(gpio.ack)},
    {"gpio", "active_low", K_BOOL, false, "true", 0, 0, F(gpio.active_low)},
    {"gpio", "debounce_ms", K_INT, false, "30", 0, 1000, F(gpio.debounce_ms)},
    {"gpio", "stuck_s", K_INT, false, "10", 1, 3600, F(gpio.stuck_s)},
    {"gpio", "amber_after_s", K_INT, false, "3600", 60, 604800, F(gpio.amber_after_s)},
    {"power", "open_hours", K_HOURS, false, "always", 0, 0, F(power)},
    {"power", "dim_after_s", K_INT, false, "300", SETTINGS_DIM_AFTER_MIN, SETTINGS_DIM_AFTER_MAX,
     F(power.dim_after_s)},
    {"power", "dim_level", K_INT, false, "10", SETTINGS_DIM_LEVEL_MIN, SETTINGS_DIM_LEVEL_MAX,
     F(power.dim_level)},
    {"power", "backlight_dir", K_PATH, false, "/sys/class/backlight", 0, 0, F(power.backlight_dir)},
    {"brand", "logo", K_PATH, false, "", 0, 0, F(brand.logo)},
    {"brand", "accent", K_STR, false, "#0E6E6E", 0, 0, F(brand.accent)},
    {"brand", "name", K_STR, false, "", 0, 0, F(brand.name)},
    {"brand", "attract", K_BOOL, false, "true", 0, 0, F(brand.attract)},
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

#define N_SECTIONS 12
static const char *const SECTIONS[N_SECTIONS] = {"device",   "survey", "storage", "display",
                                                 "language", "timing", "staff",   "sync",
                                                 "usb",      "gpio",   "power",   "brand"};

typedef struct parse_ctx {
    config *cfg;
    const char *path;
    char dir[CONFIG_PATH_MAX]; /* folder of the config file, for relative paths */
    char *text;                /* the whole file (tp_read_file) */
    size_t len, pos;
    int line;              /* number of the line inih is working on */
    int seen_line[N_KEYS]; /* line where each key was set; 0 = not set */
    int section_line[N_SECTIONS];
    int long_line; /* first over-long line, 0 if none */
    tp_err rc;
    char *err;
    size_t errlen;
} parse_ctx;

/* ---- Value parsers: each returns NULL when fine, else a static cause ---------------------- */

/* Whole numbers are checked by the code the center's settings use (settings.c). */
static const char *parse_int(const char *v, long lo, long hi, long *out)
{
    return settings_check_int_text(v, lo, hi, out);
}

static const char *parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return NULL;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return NULL;
        }
    }
    return "expected true or false";
}

static bool b64_chars(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

/* A syntactic check of "pbkdf2-sha256$ITER$SALT_B64$HASH_B64" so that a typo is caught at start;
 * pin.c decodes and checks it fully. Kept here so config.c needs no libcrypto. */
static const char *check_pin_hash(const char *v)
{
    static const char prefix[] = "pbkdf2-sha256$";
    if (strncmp(v, prefix, sizeof prefix - 1) != 0)
        return "expected pbkdf2-sha256$ITER$SALT$HASH (make one with `touchpoint pin-hash`)";
    const char *p = v + sizeof prefix - 1;
    const char *d1 = strchr(p, '$');
    if (!d1 || d1 == p)
        return "missing iteration count";
    for (const char *q = p; q < d1; q++)
        if (*q < '0' || *q > '9')
            return "iteration count is not a number";
    const char *d2 = strchr(d1 + 1, '$');
    if (!d2 || !b64_chars(d1 + 1, (size_t)(d2 - d1 - 1)))
        return "salt is not base64";
    if (!b64_chars(d2 + 1, strlen(d2 + 1)))
        return "hash is not base64";
    return NULL;
}

/* Joins a relative path onto the config file's folder. */
static const char *resolve_path(const parse_ctx *pc, const char *v, char *out, size_t outlen)
{
    int n;
    if (v[0] == '/' || v[0] == '\0' || pc->dir[0] == '\0')
        n = snprintf(out, outlen, "%s", v);
    else
        n = snprintf(out, outlen, "%s/%s", pc->dir, v);
    if (n < 0 || (size_t)n >= outlen)
        return "path too long";
    return NULL;
}

const char *config_list_each(const char *v, config_item_fn item, void *ctx)
{
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '\0')
            return NULL;
        size_t len = strcspn(p, ", ");
        const char *cause = item(ctx, p, len);
        if (cause)
            return cause;
        p += len;
    }
}

static const char *lang_item(void *ctx, const char *s, size_t len)
{
    config *cfg = ctx;
    return settings_add_lang(cfg->langs, &cfg->n_langs, s, len);
}

static const char *parse_langs(const char *v, config *cfg)
{
    cfg->n_langs = 0;
    const char *cause = config_list_each(v, lang_item, cfg);
    if (!cause && cfg->n_langs == 0)
        cause = "no language listed";
    return cause;
}

static const char *format_item(void *ctx, const char *s, size_t len)
{
    unsigned *bits = ctx, bit;
    if (len == 3 && memcmp(s, "csv", 3) == 0)
        bit = CONFIG_USB_CSV;
    else if (len == 5 && memcmp(s, "jsonl", 5) == 0)
        bit = CONFIG_USB_JSONL;
    else
        return "expected csv, jsonl or csv,jsonl";
    if (*bits & bit)
        return "a format is listed twice";
    *bits |= bit;
    return NULL;
}

static const char *parse_formats(const char *v, unsigned *bits)
{
    *bits = 0;
    const char *cause = config_list_each(v, format_item, bits);
    if (!cause && *bits == 0)
        cause = "expected csv, jsonl or csv,jsonl";
    return cause;
}

/* A GPIO line: an offset 0..1023 or a line name (like GPIO17) of up to 31 characters. */
static const char *parse_gpio_line(const char *v, size_t len, config_gpio_line *out)
{
    memset(out, 0, sizeof *out);
    out->offset = -1;
    if (len == 0)
        return NULL;
    if (len > CONFIG_GPIO_NAME_MAX)
        return "line name too long (at most 31 characters)";
    bool digits = true;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok)
            return "not a line offset or name (like 17 or GPIO17)";
        digits = digits && c >= '0' && c <= '9';
    }
    memcpy(out->name, v, len);
    out->name[len] = '\0';
    if (digits) {
        long n = 0;
        if (parse_int(out->name, 0, 1023, &n))
            return "line offset out of range 0..1023";
        out->offset = (int)n;
    }
    return NULL;
}

/* One LINE:VALUE of buttons (up to CONFIG_GPIO_MAX_BUTTONS, no line twice). */
static const char *button_item(void *ctx, const char *p, size_t len)
{
    config_gpio *g = ctx;
    int n = g->n_buttons;
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return "expected LINE:VALUE (like GPIO17:1)";
    if (n == CONFIG_GPIO_MAX_BUTTONS)
        return "too many buttons (at most 11)";
    config_gpio_button *b = &g->buttons[n];
    const char *cause = parse_gpio_line(p, (size_t)(colon - p), &b->line);
    if (cause)
        return cause;
    if (!b->line.name[0])
        return "expected LINE:VALUE (like GPIO17:1)";
    char num[8];
    size_t nl = len - (size_t)(colon - p) - 1;
    long val = 0;
    if (nl == 0 || nl >= sizeof num)
        return "VALUE must be a whole number 0..10";
    memcpy(num, colon + 1, nl);
    num[nl] = '\0';
    if (parse_int(num, 0, 10, &val))
        return "VALUE must be a whole number 0..10";
    b->value = (int)val;
    for (int i = 0; i < n; i++)
        if (strcmp(g->buttons[i].line.name, b->line.name) == 0)
            return "a line is listed twice";
    g->n_buttons = n + 1;
    return NULL;
}

/* buttons = LINE:VALUE, ... */
static const char *parse_gpio_buttons(const char *v, config_gpio *g)
{
    g->n_buttons = 0;
    return config_list_each(v, button_item, g);
}

/* open_hours = always | HH:MM-HH:MM (local time; the end may be before the start: overnight),
 * checked by the same code as the center's per-weekday opening hours (settings.c). */
static const char *parse_hours(const char *v, config_power *pw)
{
    settings_hours h;
    const char *cause = settings_check_hours(v, false, &h);
    if (cause)
        return cause;
    pw->always = h.always;
    pw->open_min = h.open_min;
    pw->close_min = h.close_min;
    return NULL;
}

/* Parses value v for key d into the config; returns NULL or the cause. */
static const char *set_value(parse_ctx *pc, const key_def *d, const char *v)
{
    char *base = (char *)pc->cfg;
    void *field = base + d->off;
    long n = 0;
    const char *cause = NULL;

    switch (d->type) {
    case K_ID:
        if (!tp_id_valid(v))
            return "not a valid id (1-64 characters of A-Z a-z 0-9 . _ -)";
        tp_strlcpy(field, v, d->size);
        return NULL;
    case K_STR:
    case K_URL:
    case K_PUBKEY:
        if (d->type == K_URL && v[0] && strncmp(v, "http://", 7) != 0 &&
            strncmp(v, "https://", 8) != 0)
            return "expected an http:// or https:// URL (or nothing: sync off)";
        if (d->type == K_PUBKEY && v[0] && strncmp(v, "sha256//", 8) != 0)
            return "expected sha256//BASE64";
        if (tp_strlcpy(field, v, d->size) != TP_OK)
            return "too long";
        return NULL;
    case K_PATH: return resolve_path(pc, v, field, d->size);
    case K_INT:
        cause = parse_int(v, d->lo, d->hi, &n);
        if (cause)
            return cause;
        *(int *)field = (int)n;
        return NULL;
    case K_BOOL: return parse_bool(v, (bool *)field);
    case K_STAGE:
        if (strcmp(v, "before") == 0)
            *(config_stage *)field = CONFIG_STAGE_BEFORE;
        else if (strcmp(v, "during") == 0)
            *(config_stage *)field = CONFIG_STAGE_DURING;
        else if (strcmp(v, "after") == 0)
            *(config_stage *)field = CONFIG_STAGE_AFTER;
        else
            return "expected before, during or after";
        return NULL;
    case K_ROT:
        cause = parse_int(v, 0, 270, &n);
        if (cause || n % 90 != 0)
            return "expected 0, 90, 180 or 270";
        *(int *)field = (int)n;
        return NULL;
    case K_LANG:
        if (!tp_lang_valid(v))
            return "not a language tag (like vi or en)";
        tp_strlcpy(field, v, d->size);
        return NULL;
    case K_LANGS: return parse_langs(v, pc->cfg);
    case K_FORMATS: return parse_formats(v, field);
    case K_GPIO_BACKEND:
        if (strcmp(v, "none") == 0)
            *(config_gpio_backend *)field = CONFIG_GPIO_NONE;
        else if (strcmp(v, "gpiod") == 0)
            *(config_gpio_backend *)field = CONFIG_GPIO_GPIOD;
        else if (strcmp(v, "sim") == 0)
            *(config_gpio_backend *)field = CONFIG_GPIO_SIM;
        else
            return "expected none, gpiod or sim";
        return NULL;
    case K_GPIO_LINE: return parse_gpio_line(v, strlen(v), field);
    case K_GPIO_BUTTONS: return parse_gpio_buttons(v, &pc->cfg->gpio);
    case K_HOURS: return parse_hours(v, field);
    case K_PINHASH:
        cause = check_pin_hash(v);
        if (cause)
            return cause;
        if (tp_strlcpy(field, v, d->size) != TP_OK)
            return "too long";
        return NULL;
    }
    return "internal: unknown key type";
}

static void fail(parse_ctx *pc, int line, const char *section, const char *key, const char *cause)
{
    if (pc->rc != TP_OK)
        return; /* the first error is the one reported */
    pc->rc = TP_ERR_CONFIG;
    if (key)
        tp_errf(pc->err, pc->errlen, TP_ERR_CONFIG, "%s:%d: [%s] %s: %s", pc->path, line, section,
                key, cause);
    else
        tp_errf(pc->err, pc->errlen, TP_ERR_CONFIG, "%s:%d: [%s]: %s", pc->path, line, section,
                cause);
}

/* The line of [brand] key (or of the section), for a message. */
static int brand_line(const parse_ctx *pc, const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(KEYS[i].section, "brand") == 0 && strcmp(KEYS[i].key, key) == 0 &&
            pc->seen_line[i])
            return pc->seen_line[i];
    return pc->section_line[N_SECTIONS - 1];
}

/* [brand]: a logo named .png or .svg, an accent "#RRGGBB", a display name of valid UTF-8.
 * Whether the logo file is there and decodes is the kiosk's check at start (ui_new: exit 2
 * naming the file), not every reader's: the sync daemon and the CLI share this file and must not
 * stop over a picture. Returns pc->rc. */
static tp_err brand_check(parse_ctx *pc)
{
    const config_brand *b = &pc->cfg->brand;
    if (b->logo[0]) {
        const char *dot = strrchr(b->logo, '.');
        if (!dot || (strcasecmp(dot, ".png") != 0 && strcasecmp(dot, ".svg") != 0))
            fail(pc, brand_line(pc, "logo"), "brand", "logo", "must be a .png or .svg file");
    }
    bool hex = strlen(b->accent) == 7 && b->accent[0] == '#';
    for (int i = 1; hex && i < 7; i++)
        hex = isxdigit((unsigned char)b->accent[i]) != 0;
    if (!hex)
        fail(pc, brand_line(pc, "accent"), "brand", "accent", "not a colour #RRGGBB");
    if (!tp_utf8_valid(b->name, strlen(b->name)))
        fail(pc, brand_line(pc, "name"), "brand", "name", "not valid UTF-8");
    else if (strlen(b->name) >
             CONFIG_BRAND_NAME_MAX) /* the field holds the center's longer names */
        fail(pc, brand_line(pc, "name"), "brand", "name", "too long (at most 60 bytes)");
    return pc->rc;
}

static int section_index(const char *section)
{
    for (int i = 0; i < N_SECTIONS; i++)
        if (strcmp(SECTIONS[i], section) == 0)
            return i;
    return -1;
}

/* inih callback: one key = value pair. Returns 1 to go on, 0 on error. */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *pc = user;
    int si = section_index(section);
    if (section[0] == '\0') {
        fail(pc, pc->line, "", name, "key outside any section");
        return 0;
    }
    if (si < 0) {
        fail(pc, pc->line, section, NULL, "unknown section");
        return 0;
    }
    if (pc->section_line[si] == 0)
        pc->section_line[si] = pc->line;
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_def *d = &KEYS[i];
        if (strcmp(d->section, section) != 0 || strcmp(d->key, name) != 0)
            continue;
        if (pc->seen_line[i]) {
            char cause[64];
            snprintf(cause, sizeof cause, "set twice (first on line %d)", pc->seen_line[i]);
            fail(pc, pc->line, section, name, cause);
            return 0;
        }
        const char *cause = set_value(pc, d, value);
        if (cause) {
            char msg[256];
            if (d->type == K_INT && strcmp(cause, "out of range") == 0)
                snprintf(msg, sizeof msg, "%s: out of range %ld..%ld", value, d->lo, d->hi);
            else
                snprintf(msg, sizeof msg, "'%.120s': %s", value, cause);
            fail(pc, pc->line, section, name, msg);
            return 0;
        }
        pc->seen_line[i] = pc->line;
        return 1;
    }
    fail(pc, pc->line, section, name, "unknown key");
    return 0;
}

/* inih reader: one whole line per call, so pc->line is the line of the pair being handled. */
static char *read_line(char *str, int num, void *stream)
{
    parse_ctx *pc = stream;
    int c;
    int len = 0;
    bool any = false;
    while (pc->pos < pc->len) {
        c = (unsigned char)pc->text[pc->pos++];
        any = true;
        if (c == '\n')
            break;
        if (len < num - 2)
            str[len] = (char)c;
        len++;
    }
    if (!any)
        return NULL;
    pc->line++;
    if (len > num - 2 || len > LINE_MAX_BYTES) {
        if (pc->long_line == 0)
            pc->long_line = pc->line;
        len = 0; /* hand inih an empty line; the error is reported after parsing */
    }
    str[len] = '\n';
    str[len + 1] = '\0';
    return str;
}

tp_err config_load(const char *path, config *out, char *err, size_t errlen)
{
    parse_ctx *pc = NULL;
    tp_err rc = TP_OK;
    config *cfg = NULL;

    if (!path || !out)
        return tp_errf(err, errlen, TP_ERR_INVALID, "config_load: no path");
    pc = calloc(1, sizeof *pc);
    cfg = calloc(1, sizeof *cfg);
    if (!pc || !cfg) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    pc->cfg = cfg;
    pc->path = path;
    pc->err = err;
    pc->errlen = errlen;
    if (tp_strlcpy(cfg->path, path, sizeof cfg->path) != TP_OK) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s: path too long", path);
        goto out;
    }
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t dl = (size_t)(slash - path);
        if (dl == 0)
            dl = 1; /* "/kiosk.conf" lives in "/" */
        if (dl >= sizeof pc->dir) {
            rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s: path too long", path);
            goto out;
        }
        memcpy(pc->dir, path, dl);
        pc->dir[dl] = '\0';
    }

    /* Bounded, and a FIFO or a folder named as the config cannot hang or fool the reader. */
    char rmsg[TP_ERRMSG_MAX];
    tp_err frc = tp_read_file(path, CONFIG_FILE_MAX, &pc->text, &pc->len, rmsg, sizeof rmsg);
    if (frc != TP_OK) {
        size_t pl = strlen(path);
        const char *why = strncmp(rmsg, path, pl) == 0 && rmsg[pl] == ':' ? rmsg + pl + 1 : rmsg;
        while (*why == ' ')
            why++;
        if (frc == TP_ERR_INVALID || frc == TP_ERR_TOO_LARGE)
            frc = TP_ERR_CONFIG;
        else if (frc != TP_ERR_NOT_FOUND)
            frc = TP_ERR_IO;
        rc = tp_errf(err, errlen, frc, "%s:0: cannot open: %s", path, why);
        goto out;
    }

    /* Defaults first; file values then overwrite them (a key set twice is an error). */
    for (size_t i = 0; i < N_KEYS; i++) {
        if (!KEYS[i].def)
            continue;
        const char *cause = set_value(pc, &KEYS[i], KEYS[i].def);
        if (cause) {
            rc = tp_errf(err, errlen, TP_ERR_INTERNAL, "config default [%s] %s: %s",
                         KEYS[i].section, KEYS[i].key, cause);
            goto out;
        }
    }

    int line = ini_parse_stream(read_line, pc, on_pair, pc);
    if (pc->rc != TP_OK) {
        rc = pc->rc;
        goto out;
    }
    if (line < 0) {
        rc = tp_errf(err, errlen, TP_ERR_IO, "%s:0: read error", path);
        goto out;
    }
    if (pc->long_line && (line == 0 || pc->long_line < line)) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s:%d: line too long (at most %d bytes)", path,
                     pc->long_line, LINE_MAX_BYTES);
        goto out;
    }
    if (line > 0) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG,
                     "%s:%d: syntax error (expected [section], key = value or a # comment)", path,
                     line);
        goto out;
    }

    /* Required keys, then cross-key rules. */
    for (size_t i = 0; i < N_KEYS; i++) {
        if (!KEYS[i].required || pc->seen_line[i])
            continue;
        int si = section_index(KEYS[i].section);
        int at = pc->section_line[si] ? pc->section_line[si] : pc->line;
        fail(pc, at, KEYS[i].section, KEYS[i].key,
             pc->section_line[si] ? "missing (required)" : "missing (required; no such section)");
        rc = pc->rc;
        goto out;
    }
    if (cfg->survey_dir[0] == '\0') {
        const char *s = strrchr(cfg->survey_file, '/');
        size_t dl = s ? (size_t)(s - cfg->survey_file) : 0;
        if (s && dl == 0)
            dl = 1;
        if (dl == 0)
            tp_strlcpy(cfg->survey_dir, ".", sizeof cfg->survey_dir);
        else {
            memcpy(cfg->survey_dir, cfg->survey_file, dl);
            cfg->survey_dir[dl] = '\0';
        }
    }
    bool found = false;
    for (int i = 0; i < cfg->n_langs; i++)
        found = found || strcmp(cfg->langs[i], cfg->default_lang) == 0;
    if (!found) {
        size_t ki = 0;
        while (strcmp(KEYS[ki].key, "default") != 0)
            ki++;
        int at =
            pc->seen_line[ki] ? pc->seen_line[ki] : pc->section_line[section_index("language")];
        fail(pc, at, "language", "default", "not one of [language] available");
        rc = pc->rc;
        goto out;
    }
    if (brand_check(pc) != TP_OK) {
        rc = pc->rc;
        goto out;
    }
    if (cfg->sync.url[0] && cfg->sync.token_file[0] == '\0') {
        size_t ki = 0;
        while (strcmp(KEYS[ki].key, "url") != 0)
            ki++;
        fail(pc, pc->seen_line[ki], "sync", "token_file", "missing (required when url is set)");
        rc = pc->rc;
        goto out;
    }
    /* [gpio]: one line, one job (a LED on a button's line would read its own output). */
    const config_gpio_line *gl[CONFIG_GPIO_MAX_BUTTONS + 6];
    const char *gk[CONFIG_GPIO_MAX_BUTTONS + 6];
    int ng = 0;
    for (int i = 0; i < cfg->gpio.n_buttons; i++) {
        gl[ng] = &cfg->gpio.buttons[i].line;
        gk[ng++] = "buttons";
    }
    const config_gpio_line *single[6] = {&cfg->gpio.staff_key, &cfg->gpio.pir,
                                         &cfg->gpio.led_green, &cfg->gpio.led_amber,
                                         &cfg->gpio.led_red,   &cfg->gpio.ack};
    static const char *const single_key[6] = {"staff_key_line", "pir_line", "led_green",
                                              "led_amber",      "led_red",  "ack_line"};
    for (int i = 0; i < 6; i++) {
        gl[ng] = single[i];
        gk[ng++] = single_key[i];
    }
    for (int i = 0; i < ng; i++) {
        for (int j = 0; j < i && gl[i]->name[0]; j++) {
            if (strcmp(gl[i]->name, gl[j]->name) != 0)
                continue;
            size_t ki = 0;
            while (strcmp(KEYS[ki].section, "gpio") != 0 || strcmp(KEYS[ki].key, gk[i]) != 0)
                ki++;
            char cause[128];
            snprintf(cause, sizeof cause, "line %s is also used by %s", gl[i]->name, gk[j]);
            fail(pc, pc->seen_line[ki], "gpio", gk[i], cause);
            rc = pc->rc;
            goto out;
        }
    }
    *out = *cfg;

out:
    if (pc)
        free(pc->text);
    free(pc);
    free(cfg);
    return rc;
}

void config_state_dir(const config *cfg, char *out, size_t outlen)
{
    if (cfg->sync.state_dir[0]) {
        tp_strlcpy(out, cfg->sync.state_dir, outlen);
        return;
    }
    tp_strlcpy(out, cfg->database, outlen);
    char *slash = strrchr(out, '/');
    if (!slash)
        tp_strlcpy(out, ".", outlen);
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

tp_err config_check_survey_langs(const config *cfg, const char *survey_path,
                                 const char (*langs)[TP_LANG_MAX + 1], int n_langs, char *err,
                                 size_t errlen)
{
    for (int i = 0; i < cfg->n_langs; i++) {
        bool found = false;
        for (int j = 0; j < n_langs && !found; j++)
            found = strcmp(cfg->langs[i], langs[j]) == 0;
        if (found)
            continue;
        char has[CONFIG_MAX_LANGS * (TP_LANG_MAX + 2) + 8] = "";
        size_t used = 0;
        for (int j = 0; j < n_langs; j++) {
            int w = snprintf(has + used, sizeof has - used, "%s%s", j ? ", " : "", langs[j]);
            if (w < 0 || (size_t)w >= sizeof has - used)
                break;
            used += (size_t)w;
        }
        return tp_errf(err, errlen, TP_ERR_CONFIG,
                       "%s: [language] available: '%s' is not a language of %s (it has %s)",
                       cfg->path, cfg->langs[i], survey_path ? survey_path : "the survey",
                       n_langs ? has : "none");
    }
    return TP_OK;
}
