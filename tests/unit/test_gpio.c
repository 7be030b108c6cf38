/* test_gpio.c - unit tests of the kiosk's GPIO (gpio.c with the simulated backend gpio_sim.c, and
 * the error path of the libgpiod backend), its config keys ([gpio], [power] in config.c) and the
 * screen power schedule with its sysfs backlight (power.c), all on a virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "gpio.h"
#include "power.h"

/* 2026-11-23 12:00:00 local time in Asia/Ho_Chi_Minh (UTC+7, set in main). */
#define NOON_WALL_MS 1795410000000LL

typedef struct fx {
    tp_vclock vc;
    config_gpio cfg;
    gpio *g;
} fx;

/* Buttons GPIO17:1, GPIO27:2, 22:3; staff key 5; PIR 6; LEDs 12/13/16; ack 19. */
static void cfg_default(config_gpio *c)
{
    memset(c, 0, sizeof *c);
    c->backend = CONFIG_GPIO_SIM;
    tp_strlcpy(c->chip, "gpiochip0", sizeof c->chip);
    const char *names[3] = {"GPIO17", "GPIO27", "22"};
    for (int i = 0; i < 3; i++) {
        c->buttons[i].line.offset = i == 2 ? 22 : -1;
        tp_strlcpy(c->buttons[i].line.name, names[i], sizeof c->buttons[i].line.name);
        c->buttons[i].value = i + 1;
    }
    c->n_buttons = 3;
    struct {
        config_gpio_line *l;
        int off;
    } singles[] = {{&c->staff_key, 5},  {&c->pir, 6},      {&c->led_green, 12},
                   {&c->led_amber, 13}, {&c->led_red, 16}, {&c->ack, 19}};
    for (size_t i = 0; i < sizeof singles / sizeof singles[0]; i++) {
        singles[i].l->offset = singles[i].off;
        snprintf(singles[i].l->name, sizeof singles[i].l->name, "%d", singles[i].off);
    }
    c->active_low = true;
    c->debounce_ms = 30;
    c->stuck_s = 10;
    c->amber_after_s = 3600;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tp_vclock_init(&f->vc, NOON_WALL_MS);
    f->vc.mono = 1000000;
    cfg_default(&f->cfg);
    gpio_options o = {&f->cfg, &f->vc.clock, NULL};
    char err[TP_ERRMSG_MAX];
    assert_int_equal(gpio_open(&o, &f->g, err, sizeof err), TP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    gpio_close(f->g);
    free(f);
    return 0;
}

static void set(fx *f, const char *name, bool active)
{
    int in = gpio_input_by_name(f->g, name);
    assert_true(in >= 0);
    assert_int_equal(gpio_sim_set_input(gpio_sim_ctx(f->g), gpio_input_line(f->g, in), active),
                     TP_OK);
}

static size_t process(fx *f, gpio_event *ev, size_t max)
{
    size_t n = 0;
    assert_int_equal(gpio_process(f->g, ev, max, &n), TP_OK);
    return n;
}

/* Moves the clock to each GPIO deadline up to ms later, collecting events. */
static size_t run_for(fx *f, int64_t ms, gpio_event *ev, size_t max)
{
    int64_t target = f->vc.mono + ms;
    size_t n = 0;
    for (int guard = 0; guard < 1000; guard++) {
        int64_t d = gpio_next_deadline(f->g);
        if (d < 0 || d > target)
            break;
        if (d > f->vc.mono)
            tp_vclock_advance(&f->vc, d - f->vc.mono);
        n += process(f, ev + n, max - n);
    }
    if (target > f->vc.mono)
        tp_vclock_advance(&f->vc, target - f->vc.mono);
    n += process(f, ev + n, max - n);
    return n;
}

static void test_debounce_bounce_counts_once(void **state)
{
    fx *f = *state;
    gpio_event ev[32];
    /* A press that bounces for 12 ms: press, release at +2, press at +5, release at +9, press
     * at +12 (all inside 30 ms). */
    set(f, "1", true);
    size_t n = process(f, ev, 32);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].type, GPIO_EV_BUTTON);
    int offs[4] = {2, 3, 4, 3};
    for (int i = 0; i < 4; i++) {
        tp_vclock_advance(&f->vc, offs[i]);
        set(f, "1", i % 2 == 1);
        assert_int_equal(process(f, ev, 32), 0);
    }
    /* The window closes: still pressed, nothing new. Held 500 ms, release (with its own bounce). */
    n = run_for(f, 500, ev, 32);
    assert_int_equal(n, 0);
    set(f, "1", false);
    tp_vclock_advance(&f->vc, 3);
    set(f, "1", true);
    tp_vclock_advance(&f->vc, 3);
    set(f, "1", false);
    n = run_for(f, 100, ev, 32);
    assert_int_equal(n, 0);
    /* The next real press counts again. */
    set(f, "1", true);
    n = process(f, ev, 32);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].type, GPIO_EV_BUTTON);
    print_message("checked: a press bouncing 4 times inside the 30 ms window counts once, the "
                  "release bounce counts nothing, the next press counts again\n");
}

static void test_debounce_glitch_settles(void **state)
{
    fx *f = *state;
    gpio_event ev[8];
    /* A 3 ms pulse: counted on its leading edge; the release inside the window is applied when
     * the window closes, so the button is not left "down" (a next press still counts). */
    set(f, "2", true);
    assert_int_equal(process(f, ev, 8), 1);
    tp_vclock_advance(&f->vc, 3);
    set(f, "2", false);
    assert_int_equal(process(f, ev, 8), 0);
    int64_t d = gpio_next_deadline(f->g);
    assert_true(d > f->vc.mono && d <= f->vc.mono + 30);
    assert_int_equal(run_for(f, 40, ev, 8), 0);
    assert_int_equal(gpio_next_deadline(f->g), -1);
    set(f, "2", true);
    assert_int_equal(process(f, ev, 8), 1);
    assert_int_equal(ev[0].value, 2);
    print_message("checked: a release hidden inside the debounce window is settled when the window "
                  "closes (deadline within 30 ms), so the next press counts\n");
}

static void test_stuck_counts_once_and_reported(void **state)
{
    fx *f = *state;
    gpio_event ev[32];
    char label[160];
    set(f, "GPIO27", true);
    size_t n = run_for(f, 9999, ev, 32);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].type, GPIO_EV_BUTTON);
    assert_int_equal(gpio_stuck(f->g, NULL, 0), 0);
    n = run_for(f, 60000, ev, 32); /* a minute more: exactly one stuck report, no presses */
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].type, GPIO_EV_STUCK);
    assert_int_equal(ev[0].button, 2);
    assert_int_equal(gpio_stuck(f->g, label, sizeof label), 1);
    assert_string_equal(label, "button 2 (GPIO27)");
    set(f, "GPIO27", false);
    n = process(f, ev, 32);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].type, GPIO_EV_UNSTUCK);
    assert_int_equal(gpio_stuck(f->g, NULL, 0), 0);
    tp_vclock_advance(&f->vc, 100);
    set(f, "GPIO27", true);
    assert_int_equal(process(f, ev, 32), 1);
    print_message("checked: a button held 70 s counts once, is reported stuck once at 10 s as "
                  "'button 2 (GPIO27)', released clears it, the next press counts\n");
}

static void test_staff_key_and_pir(void **state)
{
    fx *f = *state;
    gpio_event ev[8];
    set(f, "staff", true);
    assert_int_equal(process(f, ev, 8), 1);
    assert_int_equal(ev[0].type, GPIO_EV_STAFF_KEY);
    set(f, "pir", true);
    assert_int_equal(process(f, ev, 8), 1);
    assert_int_equal(ev[0].type, GPIO_EV_PRESENCE);
    /* Somebody standing in front of the PIR for minutes is not a stuck sensor. */
    assert_int_equal(run_for(f, 120000, ev, 8), 1);
    assert_int_equal(ev[0].type, GPIO_EV_STUCK);
    assert_int_equal(ev[0].input, gpio_input_by_name(f->g, "staff"));
    print_message("checked: the staff key and the PIR give their own events; a PIR held active is "
                  "never reported stuck, a key switch left on is\n");
}

static void test_mapping(void **state)
{
    fx *f = *state;
    gpio_event ev[8];
    assert_int_equal(gpio_input_by_name(f->g, "1"), 0);
    assert_int_equal(gpio_input_by_name(f->g, "GPIO27"), 1);
    assert_int_equal(gpio_input_by_name(f->g, "3"), 2);
    assert_int_equal(gpio_input_by_name(f->g, "22"), 2);
    assert_int_equal(gpio_input_by_name(f->g, "staff"), 3);
    assert_int_equal(gpio_input_by_name(f->g, "pir"), 4);
    assert_int_equal(gpio_input_by_name(f->g, "4"), -1);
    assert_int_equal(gpio_input_by_name(f->g, "GPIO99"), -1);
    const char *names[3] = {"1", "2", "3"};
    for (int i = 0; i < 3; i++) {
        set(f, names[i], true);
        assert_int_equal(process(f, ev, 8), 1);
        assert_int_equal(ev[0].button, i + 1);
        assert_int_equal(ev[0].value, f->cfg.buttons[i].value);
    }
    print_message("checked: buttons are found by number, line name and offset; each press carries "
                  "its configured value\n");
}

static void test_leds(void **state)
{
    fx *f = *state;
    int64_t now = NOON_WALL_MS;
    assert_int_equal(gpio_status_for(false, false, 0, now, 3600), GPIO_LED_GREEN);
    assert_int_equal(gpio_status_for(false, false, now - 3600 * 1000, now, 3600), GPIO_LED_GREEN);
    assert_int_equal(gpio_status_for(false, false, now - 3601 * 1000, now, 3600), GPIO_LED_AMBER);
    assert_int_equal(gpio_status_for(true, false, 0, now, 3600), GPIO_LED_RED);
    assert_int_equal(gpio_status_for(false, true, now - 9999999, now, 3600), GPIO_LED_RED);
    gpio_led all[3] = {GPIO_LED_GREEN, GPIO_LED_AMBER, GPIO_LED_RED};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gpio_set_status(f->g, all[i]), TP_OK);
        assert_int_equal(gpio_status(f->g), all[i]);
        for (int j = 0; j < 3; j++)
            assert_int_equal(gpio_sim_led(f->g, all[j]), i == j);
    }
    assert_int_equal(gpio_sim_ack_pulses(f->g), 0);
    assert_int_equal(gpio_pulse_ack(f->g), TP_OK);
    assert_int_equal(gpio_sim_ack_pulses(f->g), 1);
    int64_t d = gpio_next_deadline(f->g);
    assert_int_equal(d, f->vc.mono + GPIO_ACK_PULSE_MS);
    gpio_event ev[4];
    run_for(f, GPIO_ACK_PULSE_MS, ev, 4);
    assert_int_equal(gpio_next_deadline(f->g), -1);
    assert_int_equal(gpio_pulse_ack(f->g), TP_OK);
    assert_int_equal(gpio_sim_ack_pulses(f->g), 2);
    print_message("checked: LED rule green / amber after amber_after_s / red for storage failure "
                  "and out of order; exactly one colour line on; ack pulses rise and end after "
                  "120 ms\n");
}

static void test_open_errors(void **state)
{
    (void)state;
    tp_vclock vc;
    tp_vclock_init(&vc, NOON_WALL_MS);
    config_gpio c;
    cfg_default(&c);
    gpio *g = NULL;
    char err[TP_ERRMSG_MAX];
    gpio_options o = {&c, &vc.clock, NULL};
    tp_strlcpy(c.chip, "missing", sizeof c.chip);
    assert_int_equal(gpio_open(&o, &g, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_null(g);
    assert_non_null(strstr(err, "missing"));
    cfg_default(&c);
    tp_strlcpy(c.led_red.name, "busy", sizeof c.led_red.name);
    c.led_red.offset = -1;
    assert_int_equal(gpio_open(&o, &g, err, sizeof err), TP_ERR_BUSY);
    assert_non_null(strstr(err, "busy"));
    /* The real libgpiod backend on a chip that does not exist. */
    cfg_default(&c);
    c.backend = CONFIG_GPIO_GPIOD;
    tp_strlcpy(c.chip, "tp-no-such-chip", sizeof c.chip);
    assert_int_equal(gpio_open(&o, &g, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "chip tp-no-such-chip"));
    c.backend = CONFIG_GPIO_NONE;
    assert_int_equal(gpio_open(&o, &g, err, sizeof err), TP_ERR_INVALID);
    gpio_close(NULL);
    print_message("checked: missing chip -> NOT_FOUND naming the chip (sim and libgpiod), busy "
                  "line -> BUSY naming the line, backend none -> INVALID\n");
}

/* ---- a scripted backend: held at start, read errors, outputs at close ---------------------- */

typedef struct fake {
    bool initial0;
    bool fail_read;
    bool out[GPIO_MAX_LINES];
    int sets;
} fake;

static fake the_fake;

static tp_err fake_open(const char *chip, const gpio_line_req *lines, size_t n, const tp_clock *clk,
                        bool *initial, void **ctx, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        initial[i] = i == 0 && the_fake.initial0;
    assert_true(lines[0].active_low);  /* button 1: to ground, pull-up */
    assert_false(lines[4].active_low); /* the PIR drives its output high */
    *ctx = &the_fake;
    return TP_OK;
}

static void fake_close(void *ctx)
{
    (void)ctx;
}

static int fake_fd(void *ctx)
{
    return -1;
}

static tp_err fake_read(void *ctx, gpio_raw *out, size_t max, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    if (the_fake.fail_read)
        return tp_errf(err, errlen, TP_ERR_IO, "gpio: chip fake line 3: event read: EIO");
    return TP_OK;
}

static tp_err fake_set(void *ctx, int i, bool value, char *err, size_t errlen)
{
    the_fake.out[i] = value;
    the_fake.sets++;
    return TP_OK;
}

static const struct gpio_ops FAKE = {"fake", fake_open, fake_close, fake_fd, fake_read, fake_set};

static void test_held_at_start_and_errors(void **state)
{
    (void)state;
    tp_vclock vc;
    tp_vclock_init(&vc, NOON_WALL_MS);
    config_gpio c;
    cfg_default(&c);
    memset(&the_fake, 0, sizeof the_fake);
    the_fake.initial0 = true;
    gpio *g = NULL;
    gpio_options o = {&c, &vc.clock, &FAKE};
    assert_int_equal(gpio_open(&o, &g, NULL, 0), TP_OK);
    assert_null(gpio_sim_ctx(g));
    assert_int_equal(gpio_fd(g), -1);
    gpio_event ev[4];
    size_t n = 0;
    assert_int_equal(gpio_process(g, ev, 4, &n), TP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gpio_next_deadline(g), vc.mono + 10000);
    tp_vclock_advance(&vc, 10000);
    assert_int_equal(gpio_process(g, ev, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].type, GPIO_EV_STUCK);
    assert_int_equal(gpio_set_status(g, GPIO_LED_RED), TP_OK);
    assert_int_equal(gpio_pulse_ack(g), TP_OK);
    int sets = the_fake.sets;
    assert_int_equal(gpio_set_status(g, GPIO_LED_RED), TP_OK);
    assert_int_equal(the_fake.sets, sets); /* unchanged state: lines untouched */
    the_fake.fail_read = true;
    assert_int_equal(gpio_process(g, ev, 4, &n), TP_ERR_IO);
    assert_non_null(strstr(gpio_errmsg(g), "event read"));
    gpio_close(g);
    for (int i = 0; i < GPIO_MAX_LINES; i++)
        assert_false(the_fake.out[i]);
    print_message("checked: a button already held at start does not count and is reported stuck "
                  "after 10 s; polarity per input; unchanged LED state writes nothing; a read "
                  "error is returned with its message; close drives every output low\n");
}

/* ---- config ---------------------------------------------------------------------------------- */

static const char *BASE = "[device]\nid = k1\nstore = s1\ntouchpoint = t1\n"
                          "[survey]\nfile = s.json\n[storage]\ndatabase = a.db\n"
                          "[staff]\npin_hash = pbkdf2-sha256$1000$AAAA$AAAA\n";

static tp_err load(const char *extra, config *c, char *err, size_t errlen)
{
    char path[] = "/tmp/tp_gpio_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "%s%s", BASE, extra);
    fclose(f);
    tp_err rc = config_load(path, c, err, errlen);
    unlink(path);
    return rc;
}

static void test_config(void **state)
{
    (void)state;
    config *c = calloc(1, sizeof *c);
    char err[TP_ERRMSG_MAX];
    assert_non_null(c);
    assert_int_equal(load("", c, err, sizeof err), TP_OK);
    assert_int_equal(c->gpio.backend, CONFIG_GPIO_NONE);
    assert_string_equal(c->gpio.chip, "gpiochip0");
    assert_int_equal(c->gpio.debounce_ms, 30);
    assert_int_equal(c->gpio.stuck_s, 10);
    assert_int_equal(c->gpio.amber_after_s, 3600);
    assert_true(c->power.always);
    assert_int_equal(c->power.dim_after_s, 300);
    assert_int_equal(c->power.dim_level, 10);
    assert_int_equal(load("[gpio]\nbackend = gpiod\nbuttons = GPIO17:1, GPIO27:2,22:3\n"
                          "staff_key_line = 5\nled_red = GPIO16\ndebounce_ms = 50\n"
                          "[power]\nopen_hours = 22:00-06:30\ndim_level = 0\n",
                          c, err, sizeof err),
                     TP_OK);
    assert_int_equal(c->gpio.backend, CONFIG_GPIO_GPIOD);
    assert_int_equal(c->gpio.n_buttons, 3);
    assert_string_equal(c->gpio.buttons[1].line.name, "GPIO27");
    assert_int_equal(c->gpio.buttons[1].line.offset, -1);
    assert_int_equal(c->gpio.buttons[2].line.offset, 22);
    assert_int_equal(c->gpio.buttons[2].value, 3);
    assert_int_equal(c->gpio.staff_key.offset, 5);
    assert_string_equal(c->gpio.pir.name, "");
    assert_false(c->power.always);
    assert_int_equal(c->power.open_min, 22 * 60);
    assert_int_equal(c->power.close_min, 6 * 60 + 30);
    struct {
        const char *extra, *want;
    } bad[] = {
        {"[gpio]\nbackend = wiringpi\n", ":12: [gpio] backend: 'wiringpi': expected none"},
        {"[gpio]\nbuttons = GPIO17:11\n", ":12: [gpio] buttons: 'GPIO17:11': VALUE must be"},
        {"[gpio]\nbuttons = GPIO17\n", "[gpio] buttons: 'GPIO17': expected LINE:VALUE"},
        {"[gpio]\nbuttons = 1:1,2:2,3:3,4:4,5:5,6:6,7:7,8:8,9:9,10:10,11:0,12:1\n",
         "too many buttons"},
        {"[gpio]\nbuttons = 4:1,4:2\n", "a line is listed twice"},
        {"[gpio]\nbuttons = 4:1\nled_green = 4\n", ":13: [gpio] led_green: line 4 is also used"},
        {"[gpio]\npir_line = 2000\n", "[gpio] pir_line: '2000': line offset out of range"},
        {"[gpio]\ndebounce_ms = 5000\n", "[gpio] debounce_ms: 5000: out of range 0..1000"},
        {"[power]\nopen_hours = 8-22\n", ":12: [power] open_hours: '8-22': expected always"},
        {"[power]\nopen_hours = 08:00-25:00\n", "hours 00..24"},
        {"[power]\ndim_level = 101\n", "[power] dim_level: 101: out of range 0..100"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(load(bad[i].extra, c, err, sizeof err), TP_ERR_CONFIG);
        if (!strstr(err, bad[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].want);
    }
    free(c);
    print_message("checked: [gpio]/[power] defaults, buttons LINE:VALUE by name and offset, "
                  "overnight opening hours, and 11 bad values each an error with file:line "
                  "[section] key\n");
}

/* ---- screen power ---------------------------------------------------------------------------- */

typedef struct bl {
    int last;
    int calls;
} bl;

static tp_err bl_set(void *ctx, int percent, char *err, size_t errlen)
{
    bl *b = ctx;
    b->last = percent;
    b->calls++;
    return TP_OK;
}

/* Moves vc to each power deadline up to ms later. Returns the number of level changes. */
static int power_run(power *p, tp_vclock *vc, int64_t ms)
{
    int changes = 0;
    int64_t target = vc->mono + ms;
    for (int guard = 0; guard < 100; guard++) {
        int64_t d = power_next_deadline(p);
        if (d < 0 || d > target)
            break;
        assert_true(d >= vc->mono);
        tp_vclock_advance(vc, d - vc->mono);
        changes += power_update(p, NULL);
    }
    tp_vclock_advance(vc, target - vc->mono);
    changes += power_update(p, NULL);
    return changes;
}

static void test_power_schedule(void **state)
{
    (void)state;
    tp_vclock vc;
    tp_vclock_init(&vc, NOON_WALL_MS);
    config_power cfg = {0};
    cfg.open_min = 8 * 60;
    cfg.close_min = 22 * 60;
    cfg.dim_after_s = 300;
    cfg.dim_level = 10;
    bl b = {-1, 0};
    power_ops ops = {bl_set, &b};
    power *p = NULL;
    assert_int_equal(power_new(&cfg, &vc.clock, &ops, &p, NULL, 0), TP_OK);
    assert_int_equal(power_get_level(p), POWER_ON);
    assert_int_equal(b.last, 100);
    assert_int_equal(power_next_deadline(p), vc.mono + 300000);
    assert_int_equal(power_run(p, &vc, 299999), 0);
    assert_int_equal(power_run(p, &vc, 1), 1);
    assert_int_equal(power_get_level(p), POWER_DIM);
    assert_int_equal(b.last, 10);
    /* The wake-up tap: reported as a wake (the caller drops it), full brightness again. */
    assert_true(power_touch(p));
    assert_int_equal(b.last, 100);
    assert_false(power_touch(p));
    /* PIR during opening hours keeps it on. */
    tp_vclock_advance(&vc, 200000);
    power_presence(p);
    assert_int_equal(power_run(p, &vc, 299000), 0);
    assert_int_equal(power_get_level(p), POWER_ON);
    /* 12:08:20 + ... to 22:00 local: dim first, then off at closing time. */
    assert_int_equal(power_run(p, &vc, 10LL * 3600 * 1000), 2);
    assert_int_equal(power_get_level(p), POWER_OFF);
    assert_int_equal(b.last, 0);
    assert_false(power_is_open(&cfg, vc.wall));
    /* Closed: the PIR does not wake it; a touch does, for dim_after_s. */
    power_presence(p);
    assert_int_equal(power_get_level(p), POWER_OFF);
    assert_true(power_touch(p));
    assert_int_equal(power_get_level(p), POWER_ON);
    assert_int_equal(power_run(p, &vc, 300000), 1);
    assert_int_equal(power_get_level(p), POWER_OFF);
    /* Opening at 08:00 the next morning: dimmed (nobody there yet), the first touch wakes. */
    assert_int_equal(power_run(p, &vc, 10LL * 3600 * 1000), 1);
    assert_int_equal(power_get_level(p), POWER_DIM);
    assert_true(power_is_open(&cfg, vc.wall));
    power_free(p);
    print_message(
        "checked: dims after exactly 300 s idle, the wake tap is reported and restores "
        "100%%, PIR keeps it on while open, off at 22:00, PIR ignored when closed, a touch "
        "wakes it for 300 s, dimmed again at 08:00\n");
}

static void test_power_sysfs(void **state)
{
    (void)state;
    char dir[] = "/tmp/tp_backlight_XXXXXX", path[128], buf[32];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/panel", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/panel/max_brightness", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("255\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/panel/brightness", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("255\n", f);
    fclose(f);
    tp_vclock vc;
    tp_vclock_init(&vc, NOON_WALL_MS);
    config_power cfg = {0};
    cfg.always = true;
    cfg.dim_after_s = 60;
    cfg.dim_level = 10;
    tp_strlcpy(cfg.backlight_dir, dir, sizeof cfg.backlight_dir);
    power *p = NULL;
    assert_int_equal(power_new(&cfg, &vc.clock, NULL, &p, NULL, 0), TP_OK);
    assert_non_null(strstr(power_backlight(p), "/panel"));
    assert_int_equal(power_run(p, &vc, 60000), 1);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "25\n");
    assert_true(power_touch(p));
    f = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "255\n");
    power_free(p);
    unlink(path);
    snprintf(path, sizeof path, "%s/panel/max_brightness", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/panel", dir);
    rmdir(path);
    rmdir(dir);
    print_message("checked: the sysfs backlight (max 255) is written 25 when dimmed to 10%% and "
                  "255 on the wake-up touch\n");
}

/* Issue 12: per-weekday opening hours from the center (config_power.weekly) decide; closed days,
 * a window over midnight carried into the next morning. */
static void test_power_weekly(void **state)
{
    (void)state;
    config_power cfg = {0};
    cfg.weekly = true;
    for (int d = 0; d < 7; d++)
        assert_null(settings_check_hours("08:00-22:00", true, &cfg.days[d]));
    assert_null(settings_check_hours("closed", true, &cfg.days[6]));      /* Sunday */
    assert_null(settings_check_hours("20:00-02:00", true, &cfg.days[5])); /* Saturday */
    /* 2026-12-07 is a Monday; local time is Asia/Ho_Chi_Minh (UTC+7, set in main). */
    int64_t mon = (int64_t)1796576400 * 1000; /* 2026-12-07 00:00 local */
    const int64_t H = 3600 * 1000, D = 24 * H;
    assert_false(power_is_open(&cfg, mon + 7 * H));
    assert_true(power_is_open(&cfg, mon + 9 * H));
    assert_false(power_is_open(&cfg, mon + 23 * H));
    assert_true(power_is_open(&cfg, mon + 5 * D + 21 * H));  /* Saturday 21:00 */
    assert_true(power_is_open(&cfg, mon + 6 * D + 1 * H));   /* Sunday 01:00: Saturday's night */
    assert_false(power_is_open(&cfg, mon + 6 * D + 3 * H));  /* Sunday 03:00 */
    assert_false(power_is_open(&cfg, mon + 6 * D + 12 * H)); /* Sunday closed */
    cfg.always = true;                                       /* weekly wins over the INI's always */
    assert_false(power_is_open(&cfg, mon + 6 * D + 12 * H));
    print_message("checked: per-weekday hours, a closed Sunday, Saturday night past midnight\n");
}

int main(void)
{
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_debounce_bounce_counts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debounce_glitch_settles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stuck_counts_once_and_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staff_key_and_pir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leds, setup, teardown),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_held_at_start_and_errors),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_power_schedule),
        cmocka_unit_test(test_power_sysfs),
        cmocka_unit_test(test_power_weekly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
