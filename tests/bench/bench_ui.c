/*
 * bench_ui.c - frame render time of the ui with the software renderer on the offscreen driver
 * (what a Pi without GPU acceleration would do), at 800x480 and 1920x1080.
 *
 * Prints `figure:` lines for tests/bench/run.sh: the p99 of a steady frame of the NPS question
 * (target p99 <= 4 ms at 800x480, <= 12 ms at 1920x1080) with its ratio to an empty clear+present
 * frame, the p99 of a frame that moves the highlight (the tap frame), and the first frame of a
 * new screen (layout + rasterizing its texts once). Never run by `make test`.
 *
 * Each frame is timed twice: by the thread's CPU clock (the render work itself; the verdict) and
 * by the wall clock (which on a shared, loaded machine also counts time the scheduler gave to
 * other processes; printed beside it with the load average so the two can be told apart).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "samples.h"
#include "ui.h"
#include "ui_int.h"

#define FRAMES 400

typedef struct timing {
    double cpu[FRAMES], wall[FRAMES];
    int n;
} timing;

typedef struct stat4 {
    double cpu_p99, cpu_med, wall_p99, wall_med;
} stat4;

static double clock_ms(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static stat4 summarize(timing *t)
{
    stat4 s;
    qsort(t->cpu, (size_t)t->n, sizeof(double), cmp);
    qsort(t->wall, (size_t)t->n, sizeof(double), cmp);
    s.cpu_p99 = t->cpu[t->n * 99 / 100];
    s.cpu_med = t->cpu[t->n / 2];
    s.wall_p99 = t->wall[t->n * 99 / 100];
    s.wall_med = t->wall[t->n / 2];
    return s;
}

typedef struct clocks {
    double c, w;
} clocks;

static clocks start(void)
{
    clocks k = {clock_ms(CLOCK_THREAD_CPUTIME_ID), clock_ms(CLOCK_MONOTONIC)};
    return k;
}

static void stop(timing *t, clocks k)
{
    t->cpu[t->n] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - k.c;
    t->wall[t->n] = clock_ms(CLOCK_MONOTONIC) - k.w;
    t->n++;
}

static int bench_size(int w, int h, int rotation, double target, double load)
{
    char err[512];
    ui *u = NULL;
    ui_options opt = {.width = w, .height = h, .rotation = rotation, .headless = true};
    static timing t;
    if (ui_new(&opt, &u, err, sizeof err) != TP_OK) {
        fprintf(stderr, "bench_ui: %s\n", err);
        return 1;
    }
    const ui_sample *q = ui_sample_find("question-nps-vi");
    const ui_sample *thanks = ui_sample_find("thanks-vi");
    if (ui_set_screen(u, &q->screen) != TP_OK || ui_render(u) != TP_OK) {
        fprintf(stderr, "bench_ui: %s\n", ui_errmsg(u));
        ui_free(u);
        return 1;
    }

    /* Empty frame: clear + present on the same renderer. */
    t.n = 0;
    for (int i = 0; i < FRAMES; i++) {
        clocks k = start();
        SDL_SetRenderDrawColor(u->ren, 245, 243, 238, 255);
        SDL_RenderClear(u->ren);
        SDL_RenderPresent(u->ren);
        stop(&t, k);
    }
    stat4 empty = summarize(&t);

    t.n = 0;
    for (int i = 0; i < FRAMES; i++) {
        clocks k = start();
        ui_render(u);
        stop(&t, k);
    }
    stat4 steady = summarize(&t);

    /* The tap frame: the highlight moves every frame (both looks cached after the first). */
    t.n = 0;
    for (int i = 0; i < FRAMES; i++) {
        clocks k = start();
        ui_set_highlight(u, i % 2 ? "nps-9" : "nps-3");
        ui_render(u);
        stop(&t, k);
    }
    stat4 tap = summarize(&t);

    /* A new screen's first frame: layout and rasterizing its texts (cache emptied each time). */
    t.n = 0;
    for (int i = 0; i < 40; i++) {
        ui_cache_clear(&u->cache);
        ui_set_screen(u, &q->screen);
        ui_render(u);
        clocks k = start();
        ui_set_screen(u, &thanks->screen);
        ui_render(u);
        stop(&t, k);
    }
    stat4 first = summarize(&t);

    if (rotation) { /* the panel turned: only the steady frame is of interest */
        printf("figure: %.2f ms frame p99 %dx%d panel rotated %d, thread CPU (target: none, "
               "informational; median %.2f ms; wall p99 %.2f ms)\n",
               steady.cpu_p99, w, h, rotation, steady.cpu_med, steady.wall_p99);
        ui_free(u);
        return 0;
    }
    double ratio = steady.cpu_p99 / (empty.cpu_p99 > 0.001 ? empty.cpu_p99 : 0.001);
    printf("figure: %.2f ms frame p99 %dx%d NPS question, thread CPU (target: <= %.0f ms; ratio: "
           "%.1fx an empty clear+present frame of %.2f ms; median %.2f ms; wall p99 %.2f median "
           "%.2f ms at load average %.1f) %s\n",
           steady.cpu_p99, w, h, target, ratio, empty.cpu_p99, steady.cpu_med, steady.wall_p99,
           steady.wall_med, load, steady.cpu_p99 <= target ? "met" : "MISSED");
    printf("figure: %.2f ms tap frame p99 %dx%d, highlight moved, thread CPU (target: <= %.0f ms; "
           "median %.2f ms; wall p99 %.2f ms) %s\n",
           tap.cpu_p99, w, h, target, tap.cpu_med, tap.wall_p99,
           tap.cpu_p99 <= target ? "met" : "MISSED");
    printf("figure: %.2f ms first frame of a new screen p99 %dx%d, layout + texts rasterized, "
           "thread CPU (target: none, informational; median %.2f ms; wall p99 %.2f ms)\n",
           first.cpu_p99, w, h, first.cpu_med, first.wall_p99);
    ui_free(u);
    return 0;
}

int main(void)
{
    double load[1] = {0};
    if (getloadavg(load, 1) != 1)
        load[0] = -1;
    int rc = 0;
    rc |= bench_size(800, 480, 0, 4.0, load[0]);
    rc |= bench_size(1920, 1080, 0, 12.0, load[0]);
    rc |= bench_size(800, 480, 90, 4.0, load[0]);
    return rc;
}
