/*
 * config.h - the device's INI configuration (parsed with inih), shared by the kiosk, the sync
 * daemon (`touchpoint sync --config`) and the staff CLI.
 *
 * Every key is known here: an unknown section or key, a bad value or a missing required key is an
 * error naming the file, the line and the key, and the program does not start. Relative paths are
 * resolved against the config file's folder. The result is plain data with fixed-size fields:
 * nothing to free.
 *
 * Sections and keys (defaults in brackets):
 *   [device]    id (required), store (required), touchpoint (required),
 *               stage = before | during | after [after]
 *   [survey]    file (required, a survey JSON), directory [folder of file] (surveys staff may
 *               switch to)
 *   [storage]   database (required), min_free_mb [8]
 *   [display]   fullscreen [true], width [800], height [480], rotation = 0|90|180|270 [0],
 *               dpi [96]
 *   [language]  default [vi], available [vi,en]
 *   [timing]    idle_timeout_s [30], thankyou_s [4], repeat_window_s [5],
 *               comment_thanks_s [15] (4..120: the thank-you's time while it shows the comment
 *               QR code), comment_link_minutes [30] (1..1440: how long a comment link stays valid
 *               after the tap, unless the survey's "comment" sets link_minutes)
 *   [staff]     pin_hash (required; from `touchpoint pin-hash`), hold_ms [3000],
 *               max_attempts [5], lockout_s [300], idle_s [60]
 *   [sync]      url ["": sync off], token_file, interval_s [300], batch_max [500],
 *               batch_max_bytes [262144], gzip [true], ca_file, pinned_pubkey,
 *               connect_timeout_s [10], low_speed_time_s [30], backoff_max_s [900],
 *               pid_file [""] (the sync daemon's pid file: the staff screen's "Sync now"
 *               sends SIGUSR1 to that pid; `touchpoint sync --daemon --pid-file`),
 *               state_dir [folder of [storage] database] (the files the sync process and the
 *               kiosk exchange: remote-config.json, config-status.json, pairing.json)
 *   [usb]       mount_root [/media] (where the board mounts sticks; the staff screen offers
 *               "Export to USB" for a stick below it), formats = csv | jsonl | csv,jsonl [csv],
 *               staff_key [false] (added by the kiosk for the staff screen's USB export)
 *   [gpio]      backend = none | gpiod | sim [none], chip [gpiochip0], buttons (comma list of
 *               LINE:VALUE, up to 11; LINE an offset or a line name like GPIO17, VALUE the
 *               answer 0..10), staff_key_line, pir_line, led_green, led_amber, led_red,
 *               ack_line (each an offset or a name; unset: none), active_low [true]
 *               (buttons and key switch; the PIR is active-high),
 *               debounce_ms [30], stuck_s [10], amber_after_s [3600]
 *   [brand]     logo (a PNG or SVG file, drawn through SDL2_image) [none], accent (#RRGGBB: the
 *               invitation's colour, at least 4.5:1 on the customer background) [#0E6E6E], name
 *               (the store's display name, <= 60 bytes) [none], attract [true] (after
 *               [power] dim_after_s without anyone: the attract state instead of dimming)
 *   [power]     open_hours = HH:MM-HH:MM | always [always], dim_after_s [300] (0: never),
 *               dim_level 0..100 [10], backlight_dir [/sys/class/backlight]
 *
 * Thread-safety: config_load is reentrant.
 */
#ifndef TP_CONFIG_H
#define TP_CONFIG_H

#include "clink.h"
#include "settings.h"
#include "tp.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_FILE_MAX (256 * 1024) /* bytes of config file read at most */
#define CONFIG_MAX_LANGS 4

typedef enum config_stage {
    CONFIG_STAGE_BEFORE = 0,
    CONFIG_STAGE_DURING = 1,
    CONFIG_STAGE_AFTER = 2,
} config_stage;

typedef struct config_sync {
    char url[CONFIG_PATH_MAX];        /* "" when sync is off; https:// or http:// */
    char token_file[CONFIG_PATH_MAX]; /* file holding the device's bearer token */
    int interval_s;                   /* 5..86400 */
    int batch_max;                    /* answers per batch, 1..5000 */
    int batch_max_bytes;              /* 4096..8388608 */
    bool gzip;
    char ca_file[CONFIG_PATH_MAX];  /* "" = system CAs */
    char pinned_pubkey[256];        /* "" or curl's "sha256//BASE64" form */
    int connect_timeout_s;          /* 1..300 */
    int low_speed_time_s;           /* 1..600 */
    int backoff_max_s;              /* 1..86400 */
    char pid_file[CONFIG_PATH_MAX]; /* "" = none: the staff screen offers no "Sync now" */

    char state_dir[CONFIG_PATH_MAX]; /* "" = the folder of [storage] database (config_state_dir) */
} config_sync;

/* [usb]: formats bits (the same values as usb_export.h's USB_FORMAT_*). */
#define CONFIG_USB_CSV 0x1u
#define CONFIG_USB_JSONL 0x2u

typedef struct config_usb {
    char mount_root[CONFIG_PATH_MAX]; /* folder the board mounts sticks below */
    unsigned formats;                 /* CONFIG_USB_* bits, at least one */
    bool staff_key;                   /* a stick's touchpoint-staff.key may open staff mode */
} config_usb;

/* [gpio]: a line is set when name[0] != '\0' (name is the text as written); offset is the
 * number when the text is a decimal offset, else -1 (resolved by name on the chip). */
#define CONFIG_GPIO_MAX_BUTTONS 11
#define CONFIG_GPIO_NAME_MAX 31

typedef enum config_gpio_backend {
    CONFIG_GPIO_NONE = 0,
    CONFIG_GPIO_GPIOD = 1,
    CONFIG_GPIO_SIM = 2,
} config_gpio_backend;

typedef struct config_gpio_line {
    int offset;
    char name[CONFIG_GPIO_NAME_MAX + 1];
} config_gpio_line;

typedef struct config_gpio_button {
    config_gpio_line line;
    int value; /* 0..10: the answer value (on a follow-up: the option number, 1-based) */
} config_gpio_button;

typedef struct config_gpio {
    config_gpio_backend backend;
    char chip[64];
    int n_buttons;
    config_gpio_button buttons[CONFIG_GPIO_MAX_BUTTONS];
    config_gpio_line staff_key, pir, led_green, led_amber, led_red, ack;
    bool active_low;
    int debounce_ms;   /* 0..1000 */
    int stuck_s;       /* 1..3600 */
    int amber_after_s; /* 60..604800 */
} config_gpio;

typedef struct config_power {
    bool always;                         /* open_hours = always */
    int open_min, close_min;             /* minutes after local midnight; close < open: overnight */
    int dim_after_s;                     /* 0 (never) ..86400 */
    int dim_level;                       /* 0..100 percent */
    char backlight_dir[CONFIG_PATH_MAX]; /* sysfs class folder; a missing folder: no backlight */

    bool weekly;            /* per-weekday hours (days) from the center: they rule */
    settings_hours days[7]; /* [0] Monday .. [6] Sunday, when weekly */
} config_power;

#define CONFIG_BRAND_NAME_MAX 60 /* bytes; config.c's message says the number */

/* [brand]: how the kiosk presents the store (the attract state). */
typedef struct config_brand {
    char logo[CONFIG_PATH_MAX];             /* "" none; .png or .svg */
    char accent[8];                         /* "#RRGGBB" */
    char name[SETTINGS_BRAND_NAME_MAX + 1]; /* "" none; the local file allows
                                             * CONFIG_BRAND_NAME_MAX, the center more */
    bool attract;                           /* idle: attract state instead of an idle dim */
} config_brand;

typedef struct config {
    char path[CONFIG_PATH_MAX]; /* the file this came from */
    /* [device] */
    char device_id[TP_ID_MAX + 1];
    char store_id[TP_ID_MAX + 1];
    char touchpoint_id[TP_ID_MAX + 1];
    config_stage stage;
    /* [survey] */
    char survey_file[CONFIG_PATH_MAX];
    char survey_dir[CONFIG_PATH_MAX];
    /* [storage] */
    char database[CONFIG_PATH_MAX];
    int min_free_mb;
    /* [display] */
    bool fullscreen;
    int width, height; /* 320..8192 */
    int rotation;      /* 0, 90, 180, 270 */
    int dpi;           /* 50..600 */
    /* [language] */
    char default_lang[TP_LANG_MAX + 1];
    int n_langs;
    char langs[CONFIG_MAX_LANGS][TP_LANG_MAX + 1];
    /* [timing] */
    int idle_timeout_s, thankyou_s, repeat_window_s;
    int comment_thanks_s, comment_link_minutes;
    /* The comment link's key and page (issue 15): never from the INI file, only from the
     * center's configuration (remote-config.json "comment"); "" = no comment links. */
    char comment_key[CLINK_KEY_LEN + 1];
    char comment_url[CLINK_BASE_MAX + 1];
    /* [staff] */
    char pin_hash[160];
    int hold_ms, max_attempts, lockout_s, staff_idle_s;
    /* [sync] */
    config_sync sync;
    /* [usb] */
    config_usb usb;
    /* [gpio], [power] */
    config_gpio gpio;
    config_power power;
    config_brand brand;
} config;

/* The one comma-list tokenizer (config values like "vi, en" and the CLI's --format csv,jsonl):
 * calls item(ctx, s, len) for each item of v, in order; items are separated by commas and/or
 * spaces, empty items are skipped, s is not NUL-terminated at len. Returns NULL when every item
 * was fine, else the first cause item returned (a static string). */
typedef const char *(*config_item_fn)(void *ctx, const char *s, size_t len);
const char *config_list_each(const char *v, config_item_fn item, void *ctx);

/* The state folder: [sync] state_dir, or the folder of [storage] database. */
void config_state_dir(const config *cfg, char *out, size_t outlen);

/* Loads and validates path (a regular file of at most CONFIG_FILE_MAX bytes) into *out. Returns
 * TP_OK, or TP_ERR_CONFIG / TP_ERR_NOT_FOUND / TP_ERR_IO with "FILE:LINE: [section] key: cause"
 * in err (size errlen, may be NULL). */
tp_err config_load(const char *path, config *out, char *err, size_t errlen);

/* Checks the config against the survey it is used with: every language of [language] available
 * must be one of the survey's langs (n_langs of them; survey.h's survey.langs). A language the
 * survey lacks would silently never be offered (a typo like "fr" for a survey in vi and en).
 * survey_path names the survey in the message. Returns TP_OK or TP_ERR_CONFIG with
 * "CONFIG: [language] available: 'fr' is not a language of SURVEY (it has vi, en)" in err.
 * Call it wherever a config and a survey are combined (the kiosk at start and on a survey
 * switch). */
tp_err config_check_survey_langs(const config *cfg, const char *survey_path,
                                 const char (*langs)[TP_LANG_MAX + 1], int n_langs, char *err,
                                 size_t errlen);

#endif /* TP_CONFIG_H */
