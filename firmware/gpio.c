/*
 * gpio.c - the backend-independent part of the kiosk's GPIO (gpio.h): the line list built from
 * the config, software debounce and held/stuck buttons on the caller's clock, the status LED and
 * the acknowledgement pulse.
 *
 * Debounce, per input: an edge that changes the debounced level and comes at least debounce_ms
 * after the last accepted change is accepted at once (a press counts on its leading edge, so the
 * answer is not delayed); edges inside the window are bounce and only update the raw level. When
 * the window closes, the input settles to its raw level (a release hidden in a bounce burst is
 * not lost). A press that stays down counts once; after stuck_s it is reported stuck, once.
 */
#include "gpio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Request indexes of the outputs are fixed after the inputs. */
enum { OUT_GREEN = 0, OUT_AMBER, OUT_RED, OUT_ACK, OUT_COUNT };

typedef enum in_kind { IN_BUTTON, IN_STAFF, IN_PIR } in_kind;

typedef struct input {
    in_kind kind;
    int req;    /* index in the request array */
    int button; /* 1-based for buttons */
    int value;
    char label[64];
    const char *cfg_name; /* the line as written in the config */
    bool raw;             /* last level the backend reported */
    bool level;           /* debounced level */
    int64_t changed_at;   /* mono ms of the last accepted change; INT64_MIN/2: never */
    int64_t edge_at;      /* mono ms of the last raw edge */
    int64_t down_since;   /* mono ms the debounced level went active */
    bool stuck;           /* reported stuck, not yet released */
} input;

#define EVQ_MAX 64

struct gpio {
    const config_gpio *cfg;
    const tp_clock *clk;
    const struct gpio_ops *ops;
    void *ctx;
    int n_inputs;
    input in[GPIO_MAX_INPUTS];
    int n_req;
    gpio_line_req req[GPIO_MAX_LINES];
    int out_req[OUT_COUNT]; /* request index of each output, -1: not configured */
    gpio_led led;
    bool led_set;
    int64_t ack_until; /* -1: no pulse */
    gpio_event q[EVQ_MAX];
    size_t q_head, q_len;
    char errmsg[TP_ERRMSG_MAX];
};

static const int64_t NEVER = INT64_MIN / 2;

const char *gpio_led_name(gpio_led led)
{
    switch (led) {
    case GPIO_LED_OFF: return "off";
    case GPIO_LED_GREEN: return "green";
    case GPIO_LED_AMBER: return "amber";
    case GPIO_LED_RED: return "red";
    }
    return "?";
}

gpio_led gpio_status_for(bool store_failed, bool out_of_order, int64_t oldest_pending_wall_ms,
                         int64_t now_wall_ms, int amber_after_s)
{
    if (store_failed || out_of_order)
        return GPIO_LED_RED;
    if (oldest_pending_wall_ms > 0 &&
        now_wall_ms - oldest_pending_wall_ms > (int64_t)amber_after_s * 1000)
        return GPIO_LED_AMBER;
    return GPIO_LED_GREEN;
}

static int64_t now(const gpio *g)
{
    return g->clk->mono_ms(g->clk->ctx);
}

static int add_req(gpio *g, const config_gpio_line *l, bool output)
{
    gpio_line_req *r = &g->req[g->n_req];
    memset(r, 0, sizeof *r);
    r->offset = l->offset;
    tp_strlcpy(r->name, l->name, sizeof r->name);
    r->output = output;
    r->active_low = !output && g->cfg->active_low;
    return g->n_req++;
}

static void add_input(gpio *g, in_kind kind, const config_gpio_line *l, int button, int value)
{
    input *in = &g->in[g->n_inputs++];
    memset(in, 0, sizeof *in);
    in->kind = kind;
    in->req = add_req(g, l, false);
    /* Buttons and key switches close to ground; a PIR module drives its output high. */
    g->req[in->req].active_low = kind != IN_PIR && g->cfg->active_low;
    in->button = button;
    in->value = value;
    in->cfg_name = l->name;
    in->changed_at = NEVER;
    if (kind == IN_BUTTON)
        snprintf(in->label, sizeof in->label, "button %d (%s)", button, l->name);
    else if (kind == IN_STAFF)
        snprintf(in->label, sizeof in->label, "staff key (%s)", l->name);
    else
        snprintf(in->label, sizeof in->label, "presence sensor (%s)", l->name);
}

static void push(gpio *g, gpio_ev_type type, const input *in, int64_t at)
{
    if (g->q_len == EVQ_MAX)
        return; /* bounded: 64 events between two calls is a fault, not customers */
    gpio_event *e = &g->q[(g->q_head + g->q_len++) % EVQ_MAX];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->input = (int)(in - g->in);
    e->button = in->kind == IN_BUTTON ? in->button : 0;
    e->value = in->kind == IN_BUTTON ? in->value : 0;
    e->at_ms = at;
    tp_strlcpy(e->label, in->label, sizeof e->label);
}

tp_err gpio_open(const gpio_options *opt, gpio **out, char *err, size_t errlen)
{
    gpio *g = NULL;
    bool initial[GPIO_MAX_LINES] = {false};
    tp_err rc = TP_OK;
    const config_gpio *c = opt->cfg;

    *out = NULL;
    const struct gpio_ops *ops = opt->ops;
    if (!ops && c->backend == CONFIG_GPIO_GPIOD)
        ops = &gpio_ops_gpiod;
    if (!ops && c->backend == CONFIG_GPIO_SIM)
        ops = &gpio_ops_sim;
    if (!ops)
        return tp_errf(err, errlen, TP_ERR_INVALID, "gpio: [gpio] backend is none");
    g = calloc(1, sizeof *g);
    if (!g)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "gpio: out of memory");
    g->cfg = c;
    g->clk = opt->clock ? opt->clock : tp_clock_system();
    g->ops = ops;
    g->ack_until = -1;
    for (int i = 0; i < c->n_buttons && i < CONFIG_GPIO_MAX_BUTTONS; i++)
        add_input(g, IN_BUTTON, &c->buttons[i].line, i + 1, c->buttons[i].value);
    if (c->staff_key.name[0])
        add_input(g, IN_STAFF, &c->staff_key, 0, 0);
    if (c->pir.name[0])
        add_input(g, IN_PIR, &c->pir, 0, 0);
    const config_gpio_line *outs[OUT_COUNT] = {&c->led_green, &c->led_amber, &c->led_red, &c->ack};
    for (int i = 0; i < OUT_COUNT; i++)
        g->out_req[i] = outs[i]->name[0] ? add_req(g, outs[i], true) : -1;
    rc = ops->open(c->chip, g->req, (size_t)g->n_req, g->clk, initial, &g->ctx, err, errlen);
    if (rc != TP_OK) {
        g->ctx = NULL;
        goto out;
    }
    int64_t t = now(g);
    for (int i = 0; i < g->n_inputs; i++) {
        input *in = &g->in[i];
        in->raw = in->level = initial[in->req];
        if (in->level)
            in->down_since = t; /* held at start: never counts, may become stuck */
    }
    *out = g;
    g = NULL;
out:
    gpio_close(g);
    return rc;
}

void gpio_close(gpio *g)
{
    if (!g)
        return;
    if (g->ctx) {
        for (int i = 0; i < OUT_COUNT; i++)
            if (g->out_req[i] >= 0)
                g->ops->set(g->ctx, g->out_req[i], false, NULL, 0);
        g->ops->close(g->ctx);
    }
    free(g);
}

int gpio_fd(const gpio *g)
{
    return g && g->ctx ? g->ops->fd(g->ctx) : -1;
}

const char *gpio_errmsg(const gpio *g)
{
    return g->errmsg;
}

void *gpio_sim_ctx(gpio *g)
{
    return g && g->ops == &gpio_ops_sim ? g->ctx : NULL;
}

bool gpio_sim_led(gpio *g, gpio_led led)
{
    void *s = gpio_sim_ctx(g);
    if (!s || led == GPIO_LED_OFF)
        return false;
    int i = g->out_req[led == GPIO_LED_GREEN   ? OUT_GREEN
                       : led == GPIO_LED_AMBER ? OUT_AMBER
                                               : OUT_RED];
    return i >= 0 && gpio_sim_output(s, i);
}

int gpio_sim_ack_pulses(gpio *g)
{
    void *s = gpio_sim_ctx(g);
    return s && g->out_req[OUT_ACK] >= 0 ? gpio_sim_rises(s, g->out_req[OUT_ACK]) : 0;
}

/* A debounced level change of in at time t. */
static void accept(gpio *g, input *in, bool level, int64_t t)
{
    in->level = level;
    in->changed_at = t;
    if (level) {
        in->down_since = t;
        if (in->kind == IN_BUTTON)
            push(g, GPIO_EV_BUTTON, in, t);
        else if (in->kind == IN_STAFF)
            push(g, GPIO_EV_STAFF_KEY, in, t);
        else
            push(g, GPIO_EV_PRESENCE, in, t);
    } else if (in->stuck) {
        in->stuck = false;
        push(g, GPIO_EV_UNSTUCK, in, t);
    }
}

static void on_edge(gpio *g, input *in, bool active, int64_t t)
{
    in->raw = active;
    in->edge_at = t;
    if (active == in->level)
        return;
    if (t - in->changed_at >= g->cfg->debounce_ms)
        accept(g, in, active, t);
    /* else: bounce; settled by timers() when the window closes */
}

/* Settles bounced inputs, reports stuck ones, ends the ack pulse. */
static void timers(gpio *g, int64_t t)
{
    for (int i = 0; i < g->n_inputs; i++) {
        input *in = &g->in[i];
        int64_t settle = in->changed_at + g->cfg->debounce_ms;
        if (in->raw != in->level && t >= settle) {
            accept(g, in, in->raw, settle);
            /* The line has been still since its last edge: the next window starts there, so a
             * real press right after a settled glitch is not taken for bounce. */
            in->changed_at = in->edge_at;
        }
        /* The PIR stays active while someone stands there: that is not a fault. */
        if (in->level && !in->stuck && in->kind != IN_PIR &&
            t >= in->down_since + (int64_t)g->cfg->stuck_s * 1000) {
            in->stuck = true;
            push(g, GPIO_EV_STUCK, in, in->down_since + (int64_t)g->cfg->stuck_s * 1000);
        }
    }
    if (g->ack_until >= 0 && t >= g->ack_until) {
        g->ack_until = -1;
        if (g->out_req[OUT_ACK] >= 0)
            g->ops->set(g->ctx, g->out_req[OUT_ACK], false, NULL, 0);
    }
}

tp_err gpio_process(gpio *g, gpio_event *out, size_t max, size_t *n)
{
    gpio_raw raw[GPIO_MAX_RAW];
    size_t got = 0;
    tp_err rc = TP_OK;

    *n = 0;
    /* Read every waiting edge (bounded passes), in order, before the timers at "now". */
    for (int pass = 0; pass < 16; pass++) {
        rc = g->ops->read(g->ctx, raw, GPIO_MAX_RAW, &got, g->errmsg, sizeof g->errmsg);
        if (rc != TP_OK)
            break;
        for (size_t i = 0; i < got; i++) {
            for (int j = 0; j < g->n_inputs; j++) {
                if (g->in[j].req != raw[i].line)
                    continue;
                /* A settle that fell due before this edge happens first. */
                timers(g, raw[i].at_ms);
                on_edge(g, &g->in[j], raw[i].active, raw[i].at_ms);
            }
        }
        if (got < GPIO_MAX_RAW)
            break;
    }
    timers(g, now(g));
    while (*n < max && g->q_len > 0) {
        out[(*n)++] = g->q[g->q_head];
        g->q_head = (g->q_head + 1) % EVQ_MAX;
        g->q_len--;
    }
    return rc;
}

int64_t gpio_next_deadline(const gpio *g)
{
    int64_t d = -1;
    if (!g)
        return -1;
#define CONSIDER(x)                                                                                \
    do {                                                                                           \
        int64_t x_ = (x);                                                                          \
        if (d < 0 || x_ < d)                                                                       \
            d = x_;                                                                                \
    } while (0)
    for (int i = 0; i < g->n_inputs; i++) {
        const input *in = &g->in[i];
        if (in->raw != in->level)
            CONSIDER(in->changed_at + g->cfg->debounce_ms);
        if (in->level && !in->stuck && in->kind != IN_PIR)
            CONSIDER(in->down_since + (int64_t)g->cfg->stuck_s * 1000);
    }
    if (g->ack_until >= 0)
        CONSIDER(g->ack_until);
    if (g->q_len > 0)
        CONSIDER(0);
#undef CONSIDER
    return d;
}

tp_err gpio_set_status(gpio *g, gpio_led led)
{
    if (g->led_set && g->led == led)
        return TP_OK;
    static const gpio_led which[3] = {GPIO_LED_GREEN, GPIO_LED_AMBER, GPIO_LED_RED};
    /* Off first, then on: never two colours at once. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 3; i++) {
            bool on = which[i] == led;
            if (g->out_req[i] < 0 || on != (pass == 1))
                continue;
            tp_err rc = g->ops->set(g->ctx, g->out_req[i], on, g->errmsg, sizeof g->errmsg);
            if (rc != TP_OK)
                return rc;
        }
    }
    g->led = led;
    g->led_set = true;
    return TP_OK;
}

gpio_led gpio_status(const gpio *g)
{
    return g->led_set ? g->led : GPIO_LED_OFF;
}

tp_err gpio_pulse_ack(gpio *g)
{
    if (g->out_req[OUT_ACK] < 0)
        return TP_OK;
    tp_err rc = g->ops->set(g->ctx, g->out_req[OUT_ACK], true, g->errmsg, sizeof g->errmsg);
    if (rc == TP_OK)
        g->ack_until = now(g) + GPIO_ACK_PULSE_MS;
    return rc;
}

int gpio_input_by_name(const gpio *g, const char *name)
{
    char *end = NULL;
    long n = strtol(name, &end, 10);
    if (end != name && *end == '\0') {
        for (int i = 0; i < g->n_inputs; i++)
            if (g->in[i].kind == IN_BUTTON && g->in[i].button == n)
                return i;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const input *in = &g->in[i];
        if ((in->kind == IN_STAFF && strcmp(name, "staff") == 0) ||
            (in->kind == IN_PIR && strcmp(name, "pir") == 0) || strcmp(name, in->cfg_name) == 0)
            return i;
    }
    return -1;
}

int gpio_input_line(const gpio *g, int input_index)
{
    if (input_index < 0 || input_index >= g->n_inputs)
        return -1;
    return g->in[input_index].req;
}

int gpio_stuck(const gpio *g, char *label_out, size_t outlen)
{
    int n = 0;
    size_t used = 0;
    if (label_out && outlen)
        label_out[0] = '\0';
    for (int i = 0; g && i < g->n_inputs; i++) {
        if (!g->in[i].stuck)
            continue;
        if (label_out && used < outlen) {
            int w =
                snprintf(label_out + used, outlen - used, "%s%s", n ? "; " : "", g->in[i].label);
            if (w > 0)
                used += (size_t)w;
        }
        n++;
    }
    return n;
}
