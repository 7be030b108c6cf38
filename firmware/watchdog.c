/*
 * watchdog.c - systemd notifications and the software side of the watchdog (watchdog.h).
 *
 * Every libsystemd call is in this file: sd_notify() behind the ops table, sd_watchdog_enabled()
 * to read WATCHDOG_USEC / WATCHDOG_PID.
 */
#include "watchdog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

struct watchdog {
    watchdog_ops ops;
    const tp_clock *clock;
    int64_t timeout_ms;  /* 0: pings off */
    int64_t interval_ms; /* half of timeout_ms */
    bool ready;
    int64_t next_ms; /* clock mono of the next due tick */
    int64_t last_tick_ms;
    int64_t pings, failed;
    bool was_failing;
    char status[WATCHDOG_STATUS_MAX];
};

static tp_err sd_backend_notify(void *ctx, const char *state)
{
    (void)ctx;
    int r = sd_notify(0, state);
    /* 0: no NOTIFY_SOCKET (not under systemd), nothing to do. */
    return r < 0 ? TP_ERR_IO : TP_OK;
}

static const watchdog_ops SD_OPS = {sd_backend_notify, NULL};

tp_err watchdog_new(const watchdog_options *opt, watchdog **out, char *err, size_t errlen)
{
    watchdog *w = NULL;
    tp_err rc = TP_OK;

    *out = NULL;
    w = calloc(1, sizeof *w);
    if (!w)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "watchdog: out of memory");
    w->ops = opt && opt->ops ? *opt->ops : SD_OPS;
    w->clock = opt && opt->clock ? opt->clock : tp_clock_system();
    int64_t us = opt ? opt->watchdog_us : 0;
    if (us == 0) {
        uint64_t env_us = 0;
        /* > 0: enabled for this process; 0: not asked (or WATCHDOG_PID names another process);
         * < 0: WATCHDOG_USEC / WATCHDOG_PID malformed. */
        int r = sd_watchdog_enabled(0, &env_us);
        if (r < 0) {
            rc = tp_errf(err, errlen, TP_ERR_INVALID,
                         "watchdog: WATCHDOG_USEC='%s' WATCHDOG_PID='%s' are not valid (%s); "
                         "running without watchdog pings",
                         getenv("WATCHDOG_USEC") ? getenv("WATCHDOG_USEC") : "",
                         getenv("WATCHDOG_PID") ? getenv("WATCHDOG_PID") : "", strerror(-r));
            us = -1;
        } else {
            us = r > 0 ? (int64_t)env_us : -1;
        }
    }
    if (us > 0) {
        w->timeout_ms = us / 1000 > 0 ? us / 1000 : 1;
        w->interval_ms = w->timeout_ms / 2 > 0 ? w->timeout_ms / 2 : 1;
    }
    *out = w;
    return rc;
}

void watchdog_free(watchdog *w)
{
    if (!w)
        return;
    if (w->ready)
        w->ops.notify(w->ops.ctx, "STOPPING=1\nSTATUS=stopping");
    free(w);
}

int64_t watchdog_interval_ms(const watchdog *w)
{
    return w ? w->interval_ms : 0;
}

static int64_t now_ms(const watchdog *w)
{
    return w->clock->mono_ms(w->clock->ctx);
}

tp_err watchdog_ready(watchdog *w, const char *status)
{
    char msg[WATCHDOG_STATUS_MAX + 32];
    if (!w || w->ready)
        return TP_OK;
    w->ready = true;
    tp_strlcpy(w->status, status ? status : "", sizeof w->status);
    /* The first ping goes with READY=1: the timeout runs from here on. */
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s%s", w->status,
             w->interval_ms > 0 ? "\nWATCHDOG=1" : "");
    int64_t t = now_ms(w);
    w->last_tick_ms = t;
    w->next_ms = t + w->interval_ms;
    if (w->interval_ms > 0)
        w->pings++;
    return w->ops.notify(w->ops.ctx, msg);
}

tp_err watchdog_status(watchdog *w, const char *text)
{
    char msg[WATCHDOG_STATUS_MAX + 16];
    if (!w || !text || strcmp(w->status, text) == 0)
        return TP_OK;
    tp_strlcpy(w->status, text, sizeof w->status);
    snprintf(msg, sizeof msg, "STATUS=%s", w->status);
    return w->ops.notify(w->ops.ctx, msg);
}

int64_t watchdog_next_deadline(const watchdog *w)
{
    if (!w || !w->ready || w->interval_ms <= 0)
        return -1;
    return w->next_ms;
}

bool watchdog_due(const watchdog *w)
{
    int64_t d = watchdog_next_deadline(w);
    return d >= 0 && now_ms(w) >= d;
}

bool watchdog_tick(watchdog *w, const watchdog_health *h)
{
    char text[WATCHDOG_STATUS_MAX];
    if (!watchdog_due(w))
        return false;
    int64_t t = now_ms(w);
    int64_t gap = t - w->last_tick_ms;
    w->last_tick_ms = t;
    if (gap > w->timeout_ms) {
        /* Under systemd this process would already have been killed; outside (or with a long
         * timeout) the journal still learns that the loop hung and for how long. */
        snprintf(text, sizeof text, "main loop stalled for %lld ms (watchdog %lld ms)",
                 (long long)gap, (long long)w->timeout_ms);
        fprintf(stderr, "touchpoint-kiosk: %s\n", text);
        watchdog_status(w, text);
    }
    if (!h->ok) {
        /* No ping: systemd restarts the kiosk when this lasts the whole timeout. Check again
         * at the next interval, so a passing failure (a busy database) costs nothing. */
        w->failed++;
        snprintf(text, sizeof text, "unhealthy, watchdog not fed: %.200s", h->cause);
        if (!w->was_failing)
            fprintf(stderr, "touchpoint-kiosk: %s\n", text);
        w->was_failing = true;
        watchdog_status(w, text);
        w->next_ms = t + w->interval_ms;
        return false;
    }
    if (w->was_failing)
        fprintf(stderr, "touchpoint-kiosk: healthy again, watchdog fed\n");
    w->was_failing = false;
    w->next_ms = t + w->interval_ms;
    w->pings++;
    return w->ops.notify(w->ops.ctx, "WATCHDOG=1") == TP_OK;
}

void watchdog_check_store(store *s, watchdog_health *h)
{
    store_info *info = NULL;
    char dir[4096];
    struct statvfs vfs;

    h->ok = false;
    h->pending = -1;
    h->cause[0] = '\0';
    if (!s) {
        tp_strlcpy(h->cause, "the database is not open", sizeof h->cause);
        return;
    }
    info = malloc(sizeof *info); /* two 4 KiB paths: keep them off the stack */
    if (!info) {
        tp_strlcpy(h->cause, "out of memory", sizeof h->cause);
        return;
    }
    tp_err rc = store_get_info(s, info);
    if (rc != TP_OK) {
        snprintf(h->cause, sizeof h->cause, "database check failed: %s: %.160s", tp_strerror(rc),
                 store_errmsg(s));
        goto out;
    }
    h->pending = info->n_pending;
    /* Writable: the kernel remounts a failing SD card read-only, and a file can lose its write
     * permission; both stop the next answer from being recorded. */
    tp_strlcpy(dir, info->path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else if (slash)
        dir[1] = '\0';
    else
        tp_strlcpy(dir, ".", sizeof dir);
    if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
        snprintf(h->cause, sizeof h->cause, "the database's file system is read-only (%.160s)",
                 dir);
        goto out;
    }
    if (access(info->path, W_OK) != 0) {
        snprintf(h->cause, sizeof h->cause, "the database is not writable: %.160s: %s", info->path,
                 strerror(errno));
        goto out;
    }
    h->ok = true;
out:
    free(info);
}

int64_t watchdog_pings(const watchdog *w)
{
    return w ? w->pings : 0;
}

int64_t watchdog_failed_checks(const watchdog *w)
{
    return w ? w->failed : 0;
}
