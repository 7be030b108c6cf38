/*
 * gpio.h - the kiosk's physical inputs and outputs: rating buttons, a staff key switch, a presence
 * sensor (PIR), a status LED (green / amber / red) and an acknowledgement LED or buzzer.
 *
 * Layers. A backend (struct gpio_ops) only requests lines, reports raw edges with a timestamp and
 * sets output levels: gpio_gpiod.c (libgpiod 1.6; the only file that calls libgpiod, so a 2.x
 * backend is one new file) and gpio_sim.c (simulated lines driven by tests and the kiosk's
 * `press` / `release` script lines). gpio.c holds everything else, on the caller's tp_clock:
 * software debounce (a press counts on its leading edge; further edges within debounce_ms of the
 * last accepted change are bounce; at the end of the window the line settles to its real level),
 * held buttons (a press counts once; held for stuck_s it is reported stuck, once, until released),
 * the button -> answer value map and the status LED rule.
 *
 * Events, not polling: gpio_fd() is readable when the backend has edges; the owner watches it
 * (poll in a thread that wakes the main loop) and calls gpio_process(). Timers (settling a bounce,
 * the stuck report, the end of the ack pulse) are due at gpio_next_deadline(); the owner calls
 * gpio_process() then too.
 *
 * Thread-safety: one thread (the kiosk's main loop); gpio_fd() may be polled from another thread.
 */
#ifndef TP_GPIO_H
#define TP_GPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "tp.h"

#define GPIO_ACK_PULSE_MS 120 /* length of the acknowledgement pulse */
#define GPIO_MAX_INPUTS (CONFIG_GPIO_MAX_BUTTONS + 2)
#define GPIO_MAX_LINES (GPIO_MAX_INPUTS + 4)
#define GPIO_MAX_RAW 64 /* raw edges read from a backend at once */

typedef struct gpio gpio;

typedef enum gpio_led {
    GPIO_LED_OFF = 0,
    GPIO_LED_GREEN = 1, /* ok */
    GPIO_LED_AMBER = 2, /* answers wait to sync for longer than amber_after_s */
    GPIO_LED_RED = 3,   /* storage failure or out of order */
} gpio_led;

/* ---- Backends ------------------------------------------------------------------------------ */

/* One line to request. offset < 0: resolve name (e.g. "GPIO17") on the chip. */
typedef struct gpio_line_req {
    int offset;
    char name[CONFIG_GPIO_NAME_MAX + 1];
    bool output;
    bool active_low; /* inputs: pressed = electrically low (button to ground, pull-up) */
} gpio_line_req;

/* One raw edge: line index (in the request array), new logical level, time on the tp_clock's
 * monotonic scale (ms). */
typedef struct gpio_raw {
    int line;
    bool active;
    int64_t at_ms;
} gpio_raw;

/* What a backend does. Every function returns tp_err with the cause in err (naming the chip and
 * line). */
struct gpio_ops {
    const char *name;
    /* Opens chip and requests the n lines (inputs for both edges, outputs driven low). Fills
     * initial[i] with each input's current logical level. On TP_OK *ctx is the backend's state
     * (freed by close). TP_ERR_NOT_FOUND: no such chip or line name; TP_ERR_BUSY: a line is used
     * by another program; TP_ERR_IO otherwise. */
    tp_err (*open)(const char *chip, const gpio_line_req *lines, size_t n, const tp_clock *clk,
                   bool *initial, void **ctx, char *err, size_t errlen);
    void (*close)(void *ctx); /* NULL ctx is a no-op */
    int (*fd)(void *ctx);     /* readable when edges wait; -1: none */
    /* Reads up to max waiting edges without blocking; *n = 0 when none. */
    tp_err (*read)(void *ctx, gpio_raw *out, size_t max, size_t *n, char *err, size_t errlen);
    /* Drives output line index i to value (logical). */
    tp_err (*set)(void *ctx, int i, bool value, char *err, size_t errlen);
};

/* The libgpiod 1.6 backend (gpio_gpiod.c). */
extern const struct gpio_ops gpio_ops_gpiod;
/* The simulated backend (gpio_sim.c). */
extern const struct gpio_ops gpio_ops_sim;

/* ---- Simulated lines (tests, script lines) ------------------------------------------------- */

/* Sets input line index i (in the request order, see gpio_input_line) to the logical level active,
 * as an edge at the clock's current time (no edge when the level is unchanged). Returns TP_OK or
 * TP_ERR_INVALID (not an input). */
tp_err gpio_sim_set_input(void *sim_ctx, int i, bool active);

/* Current level of output line index i, and how many times it went high. */
bool gpio_sim_output(void *sim_ctx, int i);
int gpio_sim_rises(void *sim_ctx, int i);

/* The simulated backend's state of g (NULL when g does not use the sim backend). Borrowed. */
void *gpio_sim_ctx(gpio *g);

/* With the sim backend: whether the status LED line of colour led is on, and how many
 * acknowledgement pulses were started. false / 0 with another backend or an unset line. */
bool gpio_sim_led(gpio *g, gpio_led led);
int gpio_sim_ack_pulses(gpio *g);

/* ---- The GPIO module ------------------------------------------------------------------------- */

/* Returns "off", "green", "amber", "red". */
const char *gpio_led_name(gpio_led led);

/* The status LED rule: red when the store failed or the kiosk is out of order; amber when the
 * oldest pending answer (wall ms, 0: none) is older than amber_after_s at now_wall_ms; else
 * green. Pure. */
gpio_led gpio_status_for(bool store_failed, bool out_of_order, int64_t oldest_pending_wall_ms,
                         int64_t now_wall_ms, int amber_after_s);

typedef enum gpio_ev_type {
    GPIO_EV_BUTTON = 0, /* a counted press of rating button .button with .value */
    GPIO_EV_STAFF_KEY,  /* the staff key switch was turned on */
    GPIO_EV_PRESENCE,   /* the presence sensor saw someone */
    GPIO_EV_STUCK,      /* input .input held for stuck_s (reported once) */
    GPIO_EV_UNSTUCK,    /* a stuck input was released */
} gpio_ev_type;

typedef struct gpio_event {
    gpio_ev_type type;
    int input;  /* input index: 0..n_buttons-1 buttons, then staff key, then PIR */
    int button; /* GPIO_EV_BUTTON: 1-based button number; else 0 */
    int value;  /* GPIO_EV_BUTTON: the configured answer value */
    int64_t at_ms;
    char label[64]; /* "button 3 (GPIO17)", "staff key (5)", "presence sensor (4)" */
} gpio_event;

typedef struct gpio_options {
    const config_gpio *cfg;     /* borrowed; must outlive g */
    const tp_clock *clock;      /* borrowed; NULL: tp_clock_system() */
    const struct gpio_ops *ops; /* NULL: by cfg->backend (gpiod or sim) */
} gpio_options;

/* Opens the backend and requests every configured line. Returns TP_OK and *out (free with
 * gpio_close), TP_ERR_INVALID when cfg->backend is none, or the backend's error (TP_ERR_NOT_FOUND
 * missing chip or line, TP_ERR_BUSY line in use, TP_ERR_IO) with "gpio: chip ...: cause" in err.
 * Inputs already active at start (a taped-down button) do not count; they can become stuck. */
tp_err gpio_open(const gpio_options *opt, gpio **out, char *err, size_t errlen);

/* Releases the lines (outputs go low first). NULL is a no-op. */
void gpio_close(gpio *g);

/* Descriptor readable when edges wait (-1: none). Borrowed. */
int gpio_fd(const gpio *g);

/* Reads waiting edges, runs debounce and timers due at the clock's current time, and fills up to
 * max events into out (*n of them). Returns TP_OK or the backend's read error (message in
 * gpio_errmsg). Events beyond max stay queued for the next call. */
tp_err gpio_process(gpio *g, gpio_event *out, size_t max, size_t *n);

/* Monotonic ms of the next timer (settle, stuck report, end of ack pulse), or -1. */
int64_t gpio_next_deadline(const gpio *g);

/* Sets the status LED (one of the three lines on, or all off). Returns TP_OK or the backend's
 * error. Unchanged states do not touch the lines. */
tp_err gpio_set_status(gpio *g, gpio_led led);
gpio_led gpio_status(const gpio *g);

/* Starts an acknowledgement pulse (GPIO_ACK_PULSE_MS) on the ack line; no-op without one. */
tp_err gpio_pulse_ack(gpio *g);

/* Input index of NAME: a 1-based button number ("3"), "staff", "pir", or a line as written in
 * the config ("GPIO17", "17" when no button has that number). Returns the index or -1. */
int gpio_input_by_name(const gpio *g, const char *name);

/* Request index of input index i (for gpio_sim_set_input), or -1. */
int gpio_input_line(const gpio *g, int input);

/* Number of inputs currently reported stuck; label_out (may be NULL) gets a "; "-joined list. */
int gpio_stuck(const gpio *g, char *label_out, size_t outlen);

/* Message of the last failed call, or "". Borrowed. */
const char *gpio_errmsg(const gpio *g);

#endif /* TP_GPIO_H */
