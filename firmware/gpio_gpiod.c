/*
 * gpio_gpiod.c - the libgpiod 1.6 backend of the kiosk's GPIO (gpio.h). The ONLY file that calls
 * libgpiod: a libgpiod 2.x backend (Debian 13) is one new file with the same ops table.
 *
 * Inputs are requested for both edges (with the pull-up bias when active_low, for buttons wired
 * to ground); each has its own event descriptor, so one epoll descriptor gathers them for the
 * owner's poll. The kernel stamps events with CLOCK_MONOTONIC; they are moved onto the caller's
 * tp_clock scale by the offset between the two clocks at read time.
 */
#include "gpio.h"

#include <errno.h>
#include <gpiod.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define CONSUMER "touchpoint-kiosk"

typedef struct gd {
    struct gpiod_chip *chip;
    const tp_clock *clk;
    size_t n;
    struct gpiod_line *line[GPIO_MAX_LINES];
    bool output[GPIO_MAX_LINES];
    int epfd;
    char chip_name[64];
} gd;

static void gd_close(void *ctx)
{
    gd *d = ctx;
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        if (d->line[i])
            gpiod_line_release(d->line[i]);
    if (d->chip)
        gpiod_chip_close(d->chip);
    if (d->epfd >= 0)
        close(d->epfd);
    free(d);
}

static tp_err from_errno(int e)
{
    if (e == EBUSY)
        return TP_ERR_BUSY;
    if (e == ENOENT || e == ENODEV || e == ENXIO)
        return TP_ERR_NOT_FOUND;
    if (e == EACCES || e == EPERM)
        return TP_ERR_READONLY;
    return TP_ERR_IO;
}

static tp_err gd_open(const char *chip, const gpio_line_req *lines, size_t n, const tp_clock *clk,
                      bool *initial, void **ctx, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    gd *d = calloc(1, sizeof *d);
    *ctx = NULL;
    if (!d)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "gpio: out of memory");
    d->epfd = -1;
    d->clk = clk;
    tp_strlcpy(d->chip_name, chip, sizeof d->chip_name);
    if (n > GPIO_MAX_LINES) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "gpio: too many lines");
        goto out;
    }
    d->chip = gpiod_chip_open_lookup(chip);
    if (!d->chip) {
        int e = errno;
        rc = tp_errf(err, errlen, e == EACCES ? TP_ERR_READONLY : TP_ERR_NOT_FOUND,
                     "gpio: chip %s: cannot open: %s (is the chip name right and the user in the "
                     "gpio group?)",
                     chip, strerror(e));
        goto out;
    }
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (d->epfd < 0) {
        rc = tp_errf(err, errlen, TP_ERR_IO, "gpio: epoll: %s", strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const gpio_line_req *r = &lines[i];
        struct gpiod_line *l = r->offset >= 0 ? gpiod_chip_get_line(d->chip, (unsigned)r->offset)
                                              : gpiod_chip_find_line(d->chip, r->name);
        if (!l) {
            rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "gpio: chip %s: no line %s", chip, r->name);
            goto out;
        }
        int ok;
        if (r->output) {
            ok = gpiod_line_request_output(l, CONSUMER, 0);
        } else {
            int flags = r->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW |
                                            GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP
                                      : 0;
            ok = gpiod_line_request_both_edges_events_flags(l, CONSUMER, flags);
        }
        if (ok < 0) {
            int e = errno;
            const char *user = gpiod_line_consumer(l);
            rc =
                tp_errf(err, errlen, from_errno(e), "gpio: chip %s line %s: cannot request: %s%s%s",
                        chip, r->name, strerror(e), e == EBUSY && user ? "; used by " : "",
                        e == EBUSY && user ? user : "");
            goto out;
        }
        d->line[i] = l;
        d->n = i + 1;
        d->output[i] = r->output;
        if (r->output) {
            initial[i] = false;
            continue;
        }
        int v = gpiod_line_get_value(l);
        if (v < 0) {
            rc = tp_errf(err, errlen, TP_ERR_IO, "gpio: chip %s line %s: read: %s", chip, r->name,
                         strerror(errno));
            goto out;
        }
        initial[i] = v == 1;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLPRI, .data.u64 = i};
        if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, gpiod_line_event_get_fd(l), &ev) < 0) {
            rc = tp_errf(err, errlen, TP_ERR_IO, "gpio: chip %s line %s: epoll: %s", chip, r->name,
                         strerror(errno));
            goto out;
        }
    }
    *ctx = d;
    d = NULL;
out:
    gd_close(d);
    return rc;
}

static int gd_fd(void *ctx)
{
    return ((gd *)ctx)->epfd;
}

static int64_t ts_ms(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static tp_err gd_read(void *ctx, gpio_raw *out, size_t max, size_t *n, char *err, size_t errlen)
{
    gd *d = ctx;
    struct epoll_event evs[GPIO_MAX_LINES];
    struct timespec mono;
    *n = 0;
    int ne = epoll_wait(d->epfd, evs, GPIO_MAX_LINES, 0);
    if (ne < 0)
        return errno == EINTR ? TP_OK
                              : tp_errf(err, errlen, TP_ERR_IO, "gpio: epoll: %s", strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &mono);
    int64_t offset = d->clk->mono_ms(d->clk->ctx) - ts_ms(&mono);
    for (int k = 0; k < ne && *n < max; k++) {
        size_t i = (size_t)evs[k].data.u64;
        struct gpiod_line_event le;
        if (gpiod_line_event_read(d->line[i], &le) < 0)
            return tp_errf(err, errlen, TP_ERR_IO, "gpio: chip %s line %u: event read: %s",
                           d->chip_name, gpiod_line_offset(d->line[i]), strerror(errno));
        out[*n].line = (int)i;
        out[*n].active = le.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
        out[*n].at_ms = ts_ms(&le.ts) + offset;
        (*n)++;
    }
    /* Events are ordered per line; order the batch by time across lines (tiny n). */
    for (size_t a = 1; a < *n; a++)
        for (size_t b = a; b > 0 && out[b].at_ms < out[b - 1].at_ms; b--) {
            gpio_raw t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    return TP_OK;
}

static tp_err gd_set(void *ctx, int i, bool value, char *err, size_t errlen)
{
    gd *d = ctx;
    if (i < 0 || (size_t)i >= d->n || !d->output[i])
        return tp_errf(err, errlen, TP_ERR_INVALID, "gpio: line %d is not an output", i);
    if (gpiod_line_set_value(d->line[i], value ? 1 : 0) < 0)
        return tp_errf(err, errlen, TP_ERR_IO, "gpio: chip %s line %u: write: %s", d->chip_name,
                       gpiod_line_offset(d->line[i]), strerror(errno));
    return TP_OK;
}

const struct gpio_ops gpio_ops_gpiod = {
    .name = "gpiod",
    .open = gd_open,
    .close = gd_close,
    .fd = gd_fd,
    .read = gd_read,
    .set = gd_set,
};
