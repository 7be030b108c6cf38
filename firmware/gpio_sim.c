/*
 * gpio_sim.c - the simulated GPIO backend (gpio.h): lines that exist only in memory, driven by
 * gpio_sim_set_input() from tests and from the kiosk's `press` / `release` script lines. Edges
 * are stamped with the clock given at open (the virtual clock in scripts), queued, and signalled
 * on an eventfd exactly like the kernel's line-event descriptors, so the kiosk's loop treats both
 * backends alike. Outputs record their level and how often they went high, for assertions.
 *
 * A chip named "missing" fails like an absent chip and a line named "busy" like a line held by
 * another program, so the start-up error paths can be tested without hardware.
 */
#include "gpio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SIM_QUEUE 256

typedef struct sim {
    const tp_clock *clk;
    size_t n;
    gpio_line_req lines[GPIO_MAX_LINES];
    bool level[GPIO_MAX_LINES];
    int rises[GPIO_MAX_LINES];
    gpio_raw q[SIM_QUEUE];
    size_t q_head, q_len;
    int efd;
} sim;

static tp_err sim_open(const char *chip, const gpio_line_req *lines, size_t n, const tp_clock *clk,
                       bool *initial, void **ctx, char *err, size_t errlen)
{
    *ctx = NULL;
    if (strcmp(chip, "missing") == 0)
        return tp_errf(err, errlen, TP_ERR_NOT_FOUND, "gpio: chip %s: no such GPIO chip (sim)",
                       chip);
    if (n > GPIO_MAX_LINES)
        return tp_errf(err, errlen, TP_ERR_INVALID, "gpio: too many lines");
    for (size_t i = 0; i < n; i++)
        if (strcmp(lines[i].name, "busy") == 0)
            return tp_errf(err, errlen, TP_ERR_BUSY,
                           "gpio: chip %s line %s: line busy (used by another program, sim)", chip,
                           lines[i].name);
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "gpio: out of memory");
    s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->efd < 0) {
        int e = errno;
        free(s);
        return tp_errf(err, errlen, TP_ERR_IO, "gpio: sim eventfd: %s", strerror(e));
    }
    s->clk = clk;
    s->n = n;
    memcpy(s->lines, lines, n * sizeof *lines);
    for (size_t i = 0; i < n; i++)
        initial[i] = false;
    *ctx = s;
    return TP_OK;
}

static void sim_close(void *ctx)
{
    sim *s = ctx;
    if (!s)
        return;
    if (s->efd >= 0)
        close(s->efd);
    free(s);
}

static int sim_fd(void *ctx)
{
    return ((sim *)ctx)->efd;
}

static tp_err sim_read(void *ctx, gpio_raw *out, size_t max, size_t *n, char *err, size_t errlen)
{
    sim *s = ctx;
    uint64_t v;
    *n = 0;
    while (*n < max && s->q_len > 0) {
        out[(*n)++] = s->q[s->q_head];
        s->q_head = (s->q_head + 1) % SIM_QUEUE;
        s->q_len--;
    }
    if (s->q_len == 0 && read(s->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        return tp_errf(err, errlen, TP_ERR_IO, "gpio: sim eventfd: %s", strerror(errno));
    return TP_OK;
}

static tp_err sim_set(void *ctx, int i, bool value, char *err, size_t errlen)
{
    sim *s = ctx;
    if (i < 0 || (size_t)i >= s->n || !s->lines[i].output)
        return tp_errf(err, errlen, TP_ERR_INVALID, "gpio: sim line %d is not an output", i);
    if (value && !s->level[i])
        s->rises[i]++;
    s->level[i] = value;
    return TP_OK;
}

tp_err gpio_sim_set_input(void *sim_ctx, int i, bool active)
{
    sim *s = sim_ctx;
    if (!s || i < 0 || (size_t)i >= s->n || s->lines[i].output)
        return TP_ERR_INVALID;
    if (s->level[i] == active)
        return TP_OK;
    if (s->q_len == SIM_QUEUE)
        return TP_ERR_TOO_LARGE; /* like a kernel queue overflow: the edge is lost */
    s->level[i] = active;
    s->q[(s->q_head + s->q_len++) % SIM_QUEUE] =
        (gpio_raw){i, active, s->clk->mono_ms(s->clk->ctx)};
    uint64_t one = 1;
    if (write(s->efd, &one, sizeof one) != (ssize_t)sizeof one)
        return TP_ERR_IO;
    return TP_OK;
}

bool gpio_sim_output(void *sim_ctx, int i)
{
    sim *s = sim_ctx;
    return s && i >= 0 && (size_t)i < s->n && s->level[i];
}

int gpio_sim_rises(void *sim_ctx, int i)
{
    sim *s = sim_ctx;
    return s && i >= 0 && (size_t)i < s->n ? s->rises[i] : 0;
}

const struct gpio_ops gpio_ops_sim = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .fd = sim_fd,
    .read = sim_read,
    .set = sim_set,
};
