/*
 * power.h - screen power of the kiosk: the backlight is full on while people are around, dimmed
 * after [power] dim_after_s without anyone (no touch, no presence sensor), and off outside the
 * opening hours ([power] open_hours, local time). The first touch turns it on again, also when
 * closed; that wake-up tap must not become an answer (power_touch() says so, the owner drops it).
 * The presence sensor wakes the screen only during opening hours (a cleaner at night does not).
 *
 * The backlight sits behind an ops table: the default writes /sys/class/backlight/NAME/brightness
 * (scaled by max_brightness) under [power] backlight_dir; tests point that at a folder of their
 * own, or pass their own ops. No backlight folder: levels are still tracked and traced.
 *
 * Time comes from a tp_clock (the virtual clock in scripts): power_next_deadline() tells the
 * owner's loop when the level changes next (idle dim, opening or closing time).
 *
 * Thread-safety: one thread.
 */
#ifndef TP_POWER_H
#define TP_POWER_H

#include "config.h"
#include "tp.h"

typedef struct power power;

typedef enum power_level {
    POWER_ON = 0,  /* full brightness */
    POWER_DIM = 1, /* dim_level percent: open, nobody around for dim_after_s */
    POWER_OFF = 2, /* closed */
} power_level;

/* Returns "on", "dim", "off". */
const char *power_level_name(power_level l);

typedef struct power_ops {
    /* Sets the backlight to percent (0..100). Returns TP_OK or an error with the cause in err. */
    tp_err (*set)(void *ctx, int percent, char *err, size_t errlen);
    void *ctx;
} power_ops;

/* Starts with the screen on (as at boot). ops NULL: the sysfs backlight under cfg->backlight_dir.
 * Returns TP_OK and *out (free with power_free), or TP_ERR_NOMEM. */
tp_err power_new(const config_power *cfg, const tp_clock *clk, const power_ops *ops, power **out,
                 char *err, size_t errlen);

/* NULL is a no-op. The backlight is left as it is. */
void power_free(power *p);

/* Recomputes the level at the clock's current time. Returns true when it changed (then *reason
 * is "idle", "closed", "open", "touch" or "presence"). A backlight write error is kept in
 * power_errmsg() (the level still changes). */
bool power_update(power *p, const char **reason);

/* A touch: activity. Returns true when the screen was not fully on, i.e. this tap only woke it
 * (the owner must not pass it on as input). */
bool power_touch(power *p);

/* The presence sensor saw someone: activity during opening hours. */
void power_presence(power *p);

power_level power_get_level(const power *p);
int power_percent(const power *p); /* the backlight percent of the current level */

/* True when wall time wall_ms is inside the opening hours (pure, local time). */
bool power_is_open(const config_power *cfg, int64_t wall_ms);

/* Monotonic ms of the next level change (idle dim, open/close time), or -1. */
int64_t power_next_deadline(const power *p);

/* The sysfs backlight in use ("" none) and the last backlight error ("" none). Borrowed. */
const char *power_backlight(const power *p);
const char *power_errmsg(const power *p);

#endif /* TP_POWER_H */
