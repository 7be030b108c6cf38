/*
 * kiosk_hw.c - the kiosk program's hardware side (kiosk_app.h): GPIO buttons and the staff key
 * switch (gpio.h), the status and acknowledgement lights, and screen power (power.h). Buttons
 * answer through the same path as taps (kiosk_button); errors go to the journal and the staff
 * screen, never stop the kiosk.
 */
#include <stdio.h>
#include <string.h>

#include "kiosk_app.h"

#define LED_CHECK_MS 60000 /* the sync daemon clears pending answers: re-check this often */

static int64_t app_mono(const app *a)
{
    const tp_clock *c = app_clock(a);
    return c->mono_ms(c->ctx);
}

/* After a screen power level change: without a sysfs backlight (a laptop, an HDMI panel) the
 * picture itself is darkened; then the journal (errors) and the trace. */
void power_changed(app *a, const char *reason)
{
    const char *perr = power_errmsg(a->pw);
    bool overlay = !power_backlight(a->pw)[0];
    if (overlay && a->u) {
        ui_set_brightness(a->u, power_percent(a->pw));
        if (ui_render(a->u) != TP_OK)
            trace_error(a, "ui", ui_errmsg(a->u));
    }
    if (perr[0])
        fprintf(stderr, "touchpoint-kiosk: %s\n", perr);
    trace_event(a->tr, "power", TRACE_STR("level", power_level_name(power_get_level(a->pw))),
                TRACE_NUM("percent", power_percent(a->pw)), TRACE_STR("reason", reason),
                TRACE_STR("backlight", power_backlight(a->pw)), TRACE_BOOL("overlay", overlay),
                TRACE_STR_IF(perr[0], "error", perr), TRACE_END);
}

/* Status LED: red (store failed / out of order), amber (answers waiting too long), green. Checked
 * when the screen changes, after each answer (force) and every LED_CHECK_MS. */
void led_update(app *a, bool force)
{
    if (!a->gpio)
        return;
    kiosk_screen screen = screen_of(a);
    int64_t t = app_mono(a);
    if (!force && screen == a->led_screen && t < a->led_next)
        return;
    a->led_screen = screen;
    a->led_next = t + LED_CHECK_MS;
    store *st = kiosk_store(a->k);
    store_info info;
    int64_t oldest = 0;
    bool failed = st == NULL;
    if (st && store_get_info(st, &info) == TP_OK)
        oldest = info.oldest_pending_ms;
    else
        failed = true;
    const tp_clock *c = app_clock(a);
    gpio_led before = gpio_status(a->gpio);
    gpio_led led = gpio_status_for(failed, screen == KIOSK_SCREEN_OUT_OF_ORDER, oldest,
                                   c->wall_ms(c->ctx), a->cfg.gpio.amber_after_s);
    if (gpio_set_status(a->gpio, led) != TP_OK) {
        fprintf(stderr, "touchpoint-kiosk: %s\n", gpio_errmsg(a->gpio));
        trace_error(a, "gpio", gpio_errmsg(a->gpio));
        return;
    }
    if (led != before)
        trace_event(a->tr, "led", TRACE_STR("state", gpio_led_name(led)),
                    TRACE_BOOL("store_failed", failed), TRACE_NUM("oldest_pending_ms", oldest),
                    TRACE_END);
}

/* After a frame: each newly recorded answer gets an acknowledgement pulse. */
void hw_after_frame(app *a)
{
    kiosk_status st;
    kiosk_status_get(a->k, &st);
    int64_t n = st.answers_recorded;
    if (n == a->answers_seen)
        return;
    a->answers_seen = n;
    if (!a->gpio)
        return;
    if (gpio_pulse_ack(a->gpio) != TP_OK) {
        trace_error(a, "gpio", gpio_errmsg(a->gpio));
    } else {
        trace_event(a->tr, "ack", TRACE_NUM("answers", n), TRACE_END);
    }
    led_update(a, true);
}

/* The staff screen's line about buttons and lights: the start-up error, or stuck inputs. */
void hw_status_update(app *a)
{
    char stuck[160], text[200];
    if (a->gpio_err[0]) {
        kiosk_set_hw_status(a->k, a->gpio_err);
    } else if (gpio_stuck(a->gpio, stuck, sizeof stuck) > 0) {
        snprintf(text, sizeof text, "stuck: %s", stuck);
        kiosk_set_hw_status(a->k, text);
    } else {
        kiosk_set_hw_status(a->k, NULL);
    }
}

static const char *gpio_ev_name(gpio_ev_type t)
{
    switch (t) {
    case GPIO_EV_BUTTON: return "press";
    case GPIO_EV_STAFF_KEY: return "staff_key";
    case GPIO_EV_PRESENCE: return "presence";
    case GPIO_EV_STUCK: return "stuck";
    case GPIO_EV_UNSTUCK: return "unstuck";
    }
    return "?";
}

static void gpio_event_handle(app *a, const gpio_event *e)
{
    bool button = e->type == GPIO_EV_BUTTON;
    trace_event(a->tr, "gpio", TRACE_STR("what", gpio_ev_name(e->type)),
                TRACE_STR("input", e->label), TRACE_NUM_IF(button, "button", e->button),
                TRACE_NUM_IF(button, "value", e->value), TRACE_END);
    switch (e->type) {
    case GPIO_EV_BUTTON:
        mark_input(a);
        /* A button answers even on a dark screen (it needs no screen), and wakes it. */
        if (a->pw && power_touch(a->pw))
            power_changed(a, "button");
        handle_action(a, kiosk_button(a->k, e->value));
        present(a); /* like a tap: highlight frame, then the durable write */
        break;
    case GPIO_EV_STAFF_KEY:
        if (a->pw && power_touch(a->pw))
            power_changed(a, "staff_key");
        kiosk_staff_switch(a->k);
        present(a);
        break;
    case GPIO_EV_PRESENCE:
        if (a->pw) {
            power_level before = power_get_level(a->pw);
            power_presence(a->pw);
            if (power_get_level(a->pw) != before)
                power_changed(a, "presence");
        }
        break;
    case GPIO_EV_STUCK:
        fprintf(stderr,
                "touchpoint-kiosk: gpio: %s held for %d s: counted once, ignored until released\n",
                e->label, a->cfg.gpio.stuck_s);
        hw_status_update(a);
        break;
    case GPIO_EV_UNSTUCK:
        fprintf(stderr, "touchpoint-kiosk: gpio: %s released\n", e->label);
        hw_status_update(a);
        break;
    }
}

/* Reads GPIO edges and runs its timers; then lets the watcher thread watch the descriptor again. */
void gpio_service(app *a)
{
    gpio_event ev[16];
    size_t n = 0;
    if (!a->gpio)
        return;
    for (int pass = 0; pass < 8 && !a->quit; pass++) {
        if (gpio_process(a->gpio, ev, 16, &n) != TP_OK) {
            fprintf(stderr, "touchpoint-kiosk: %s\n", gpio_errmsg(a->gpio));
            trace_error(a, "gpio", gpio_errmsg(a->gpio));
        }
        for (size_t i = 0; i < n && !a->quit; i++)
            gpio_event_handle(a, &ev[i]);
        if (n < 16)
            break;
    }
    if (a->gpio_woken) {
        a->gpio_woken = false;
        rearm_watcher(a, "gpio");
    }
}

/* Timers of the hardware side: GPIO (debounce, stuck, ack), screen power, status LED. */
void hw_tick(app *a)
{
    const char *reason = NULL;
    gpio_service(a);
    if (a->pw && power_update(a->pw, &reason))
        power_changed(a, reason);
    led_update(a, false);
    remote_tick(a);
}

/* d (a deadline or -1) merged with the hardware side's next deadline. */
int64_t hw_deadline(const app *a, int64_t d)
{
    int64_t c[3] = {gpio_next_deadline(a->gpio), a->pw ? power_next_deadline(a->pw) : -1,
                    a->gpio ? a->led_next : -1};
    for (int i = 0; i < 3; i++)
        if (c[i] >= 0 && (d < 0 || c[i] < d))
            d = c[i];
    return remote_deadline(a, d);
}

/* [power] as the power module sees it. With the attract state, being alone is the kiosk's own
 * business (kiosk.c T_ATTRACT): the screen stays lit and only the opening hours dim or darken
 * it. Called at start and after a central configuration changed a->cfg. */
void hw_power_config(app *a)
{
    a->power_cfg = a->cfg.power;
    if (a->cfg.brand.attract)
        a->power_cfg.dim_after_s = 0;
}
