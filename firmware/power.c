/*
 * power.c - screen power schedule and the sysfs backlight (power.h).
 */
#include "power.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY_MS (24LL * 3600 * 1000)
#define WAKE_CLOSED_MS (300LL * 1000) /* on after a touch when closed and dim_after_s is 0 */

struct power {
    const config_power *cfg;
    const tp_clock *clk;
    power_ops ops;
    bool have_ops;
    power_level level;
    int64_t last_touch;          /* mono ms */
    int64_t last_presence;       /* mono ms; -1 none */
    char sysfs[CONFIG_PATH_MAX]; /* NAME folder of the backlight; "" none */
    int max_brightness;
    char errmsg[TP_ERRMSG_MAX];
};

const char *power_level_name(power_level l)
{
    switch (l) {
    case POWER_ON: return "on";
    case POWER_DIM: return "dim";
    case POWER_OFF: return "off";
    }
    return "?";
}

/* Milliseconds since local midnight of wall_ms. */
static int64_t local_ms_of_day(int64_t wall_ms)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return ((int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) * 1000 + wall_ms % 1000;
}

/* Per-weekday hours from the center: today's window, or yesterday's that runs past midnight. */
static bool weekly_open(const config_power *cfg, int64_t wall_ms)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return true;
    int day = (tm.tm_wday + 6) % 7; /* Monday = 0 */
    int m = tm.tm_hour * 60 + tm.tm_min;
    const settings_hours *today = &cfg->days[day], *yday = &cfg->days[(day + 6) % 7];
    if (today->always)
        return true;
    if (!today->closed) {
        if (today->open_min < today->close_min && m >= today->open_min && m < today->close_min)
            return true;
        if (today->open_min > today->close_min && m >= today->open_min)
            return true;
    }
    return !yday->always && !yday->closed && yday->open_min > yday->close_min &&
           m < yday->close_min;
}

bool power_is_open(const config_power *cfg, int64_t wall_ms)
{
    if (cfg->weekly)
        return weekly_open(cfg, wall_ms);
    if (cfg->always)
        return true;
    int64_t m = local_ms_of_day(wall_ms);
    int64_t o = (int64_t)cfg->open_min * 60000, c = (int64_t)cfg->close_min * 60000;
    return o < c ? (m >= o && m < c) : (m >= o || m < c);
}

/* Milliseconds from wall_ms to the next opening or closing time (> 0), or -1 when always. */
static int64_t to_boundary(const config_power *cfg, int64_t wall_ms)
{
    if (cfg->weekly) /* every boundary is on a whole minute: look again at the next one */
        return 60000 - local_ms_of_day(wall_ms) % 60000;
    if (cfg->always)
        return -1;
    int64_t m = local_ms_of_day(wall_ms);
    int64_t best = -1;
    int mins[2] = {cfg->open_min, cfg->close_min};
    for (int i = 0; i < 2; i++) {
        int64_t d = ((int64_t)mins[i] * 60000 - m) % DAY_MS;
        if (d <= 0)
            d += DAY_MS;
        if (best < 0 || d < best)
            best = d;
    }
    return best;
}

/* ---- sysfs backlight --------------------------------------------------------------------- */

static int read_int_file(const char *path, int *out)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end = NULL;
    long v = strtol(buf, &end, 10);
    if (end == buf || v < 0 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

/* Picks the first backlight (by name) under dir that has max_brightness. */
static void sysfs_find(power *p, const char *dir)
{
    DIR *d = opendir(dir);
    char best[256] = "";
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof best)
            continue;
        char path[CONFIG_PATH_MAX + 300];
        int mx = 0;
        snprintf(path, sizeof path, "%s/%s/max_brightness", dir, e->d_name);
        if (read_int_file(path, &mx) != 0 || mx <= 0)
            continue;
        if (!best[0] || strcmp(e->d_name, best) < 0) {
            tp_strlcpy(best, e->d_name, sizeof best);
            p->max_brightness = mx;
        }
    }
    closedir(d);
    if (best[0] && snprintf(p->sysfs, sizeof p->sysfs, "%s/%s", dir, best) >= (int)sizeof p->sysfs)
        p->sysfs[0] = '\0';
}

static tp_err sysfs_set(void *ctx, int percent, char *err, size_t errlen)
{
    power *p = ctx;
    char path[CONFIG_PATH_MAX + 16], val[24];
    if (!p->sysfs[0])
        return TP_OK;
    int v = (int)((int64_t)p->max_brightness * percent / 100);
    if (percent > 0 && v == 0)
        v = 1;
    snprintf(path, sizeof path, "%s/brightness", p->sysfs);
    int n = snprintf(val, sizeof val, "%d\n", v);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
    if (fd < 0)
        return tp_errf(err, errlen, tp_err_from_errno(errno), "backlight %s: %s", path,
                       strerror(errno));
    ssize_t w = write(fd, val, (size_t)n);
    int e = errno;
    close(fd);
    if (w != n)
        return tp_errf(err, errlen, TP_ERR_IO, "backlight %s: write: %s", path,
                       w < 0 ? strerror(e) : "short write");
    return TP_OK;
}

/* ---- Schedule ---------------------------------------------------------------------------- */

static int64_t mono(const power *p)
{
    return p->clk->mono_ms(p->clk->ctx);
}

static int64_t wall(const power *p)
{
    return p->clk->wall_ms(p->clk->ctx);
}

static int64_t dim_ms(const power *p)
{
    return (int64_t)p->cfg->dim_after_s * 1000;
}

/* Level the schedule wants now. */
static power_level wanted(const power *p, int64_t t, bool open)
{
    if (open) {
        int64_t last = p->last_touch;
        if (p->last_presence > last)
            last = p->last_presence;
        return dim_ms(p) == 0 || t - last < dim_ms(p) ? POWER_ON : POWER_DIM;
    }
    int64_t wake = dim_ms(p) ? dim_ms(p) : WAKE_CLOSED_MS;
    return t - p->last_touch < wake ? POWER_ON : POWER_OFF;
}

int power_percent(const power *p)
{
    switch (p->level) {
    case POWER_ON: return 100;
    case POWER_DIM: return p->cfg->dim_level;
    case POWER_OFF: return 0;
    }
    return 100;
}

static void apply(power *p, power_level l)
{
    p->level = l;
    char err[TP_ERRMSG_MAX];
    if (p->ops.set(p->ops.ctx, power_percent(p), err, sizeof err) != TP_OK)
        tp_strlcpy(p->errmsg, err, sizeof p->errmsg);
    else
        p->errmsg[0] = '\0';
}

tp_err power_new(const config_power *cfg, const tp_clock *clk, const power_ops *ops, power **out,
                 char *err, size_t errlen)
{
    power *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "power: out of memory");
    p->cfg = cfg;
    p->clk = clk ? clk : tp_clock_system();
    if (ops) {
        p->ops = *ops;
    } else {
        p->ops.set = sysfs_set;
        p->ops.ctx = p;
        sysfs_find(p, cfg->backlight_dir);
    }
    p->last_touch = mono(p);
    p->last_presence = -1;
    apply(p, POWER_ON);
    *out = p;
    return TP_OK;
}

void power_free(power *p)
{
    free(p);
}

bool power_update(power *p, const char **reason)
{
    bool open = power_is_open(p->cfg, wall(p));
    power_level l = wanted(p, mono(p), open);
    if (l == p->level)
        return false;
    if (reason)
        *reason = l == POWER_OFF   ? "closed"
                  : l == POWER_DIM ? (open && p->level == POWER_OFF ? "open" : "idle")
                                   : "open";
    apply(p, l);
    return true;
}

bool power_touch(power *p)
{
    bool woke = p->level != POWER_ON;
    p->last_touch = mono(p);
    if (woke)
        apply(p, POWER_ON);
    return woke;
}

void power_presence(power *p)
{
    if (!power_is_open(p->cfg, wall(p)))
        return;
    p->last_presence = mono(p);
    if (p->level != POWER_ON)
        apply(p, POWER_ON);
}

power_level power_get_level(const power *p)
{
    return p->level;
}

int64_t power_next_deadline(const power *p)
{
    int64_t t = mono(p), d = -1;
    int64_t b = to_boundary(p->cfg, wall(p));
    if (b >= 0)
        d = t + b;
    if (p->level == POWER_ON) {
        bool open = power_is_open(p->cfg, wall(p));
        int64_t last = p->last_touch;
        if (open && p->last_presence > last)
            last = p->last_presence;
        int64_t span = dim_ms(p) ? dim_ms(p) : (open ? -1 : WAKE_CLOSED_MS);
        if (span >= 0 && (d < 0 || last + span < d))
            d = last + span;
    }
    return d;
}

const char *power_backlight(const power *p)
{
    return p->sysfs;
}

const char *power_errmsg(const power *p)
{
    return p->errmsg;
}
