/*
 * render_samples.c - writes every sample screen (tests/ui/samples.c) as PNG at the six target
 * sizes, so a person can look at the layout: `build/tests/ui_samples OUTDIR [WxH ...]`.
 * Files are OUTDIR/<sample>-<W>x<H>.png; "-hl" files show a highlighted control. Headless
 * (SDL offscreen driver); no display needed. Exit status 0 when every file was written and every
 * text fitted its box, 1 otherwise (the misfits are listed on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "samples.h"
#include "ui.h"

static const int sizes[][2] = {{800, 480},   {1024, 600},  {1280, 800},
                               {1920, 1080}, {1080, 1920}, {600, 1024}};

/* Renders every sample at w x h into dir. Returns the number of problems. */
static int render_size(const char *dir, int w, int h)
{
    char err[512], path[1024];
    ui *u = NULL;
    ui_options opt = {.width = w, .height = h, .headless = true};
    int bad = 0;
    if (ui_new(&opt, &u, err, sizeof err) != TP_OK) {
        fprintf(stderr, "ui_samples: %s\n", err);
        return 1;
    }
    for (int i = 0; i < ui_sample_count(); i++) {
        const ui_sample *s = ui_sample_get(i);
        for (int hl = 0; hl < 2; hl++) {
            ui_screen scr = s->screen;
            if (hl) {
                if (scr.n_items == 0)
                    continue;
                scr.highlight = scr.items[scr.n_items > 3 ? scr.n_items - 2 : 0].id;
            }
            if (ui_set_screen(u, &scr) != TP_OK) {
                fprintf(stderr, "ui_samples: %s: %s\n", s->name, ui_errmsg(u));
                bad++;
                continue;
            }
            snprintf(path, sizeof path, "%s/%s-%dx%d%s.png", dir, s->name, w, h, hl ? "-hl" : "");
            if (ui_screenshot(u, path) != TP_OK) {
                fprintf(stderr, "ui_samples: %s\n", ui_errmsg(u));
                bad++;
            }
            for (int k = 0; k < ui_widget_count(u); k++) {
                ui_widget_info wi;
                ui_widget_get(u, k, &wi);
                if (!wi.text_fits) {
                    fprintf(stderr, "ui_samples: %s %dx%d: text of %s does not fit\n", s->name, w,
                            h, wi.id);
                    bad++;
                }
            }
        }
    }
    ui_free(u);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s OUTDIR [WxH ...]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    mkdir(dir, 0755);
    int bad = 0;
    if (argc == 2) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            bad += render_size(dir, sizes[i][0], sizes[i][1]);
    }
    for (int a = 2; a < argc; a++) {
        char *x = NULL;
        long w = strtol(argv[a], &x, 10);
        long h = x && *x == 'x' ? strtol(x + 1, NULL, 10) : 0;
        if (w < 200 || h < 200 || w > 8192 || h > 8192) {
            fprintf(stderr, "ui_samples: bad size %s (want WxH)\n", argv[a]);
            return 2;
        }
        bad += render_size(dir, (int)w, (int)h);
    }
    printf("ui_samples: wrote %s, %d problem(s)\n", dir, bad);
    return bad ? 1 : 0;
}
