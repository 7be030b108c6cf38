/*
 * cli_prune.c - `touchpoint prune`: deletes old answers that are both synced and exported
 * (store_prune); seq numbering is unaffected.
 */
#include <getopt.h>
#include <time.h>

#include "cli.h"

#define CMD "prune"

static void prune_help(FILE *f)
{
    fputs("Usage: touchpoint [--db PATH] prune --older-than DAYS\n"
          "\n"
          "Deletes answers recorded more than DAYS days ago that are both synced to the collector\n"
          "and exported (pending, rejected and not-yet-exported answers are always kept). The\n"
          "seq numbering is not affected. Prints how many answers were deleted.\n"
          "\n"
          "Options:\n"
          "  --older-than DAYS   age in days, 0..36500 (0: every synced and exported answer)\n"
          "\n"
          "Example:\n"
          "  touchpoint --db /var/lib/touchpoint/answers.db prune --older-than 90\n",
          f);
}

static int prune_run(const struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"older-than", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *days_s = NULL;
    int rc, c;
    store *s = NULL;

    while ((c = cli_getopt(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'o': days_s = optarg; break;
        default: return cli_bad_option(ctx, CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage(ctx, CMD, "unexpected argument '%s'", argv[optind]);
    if (!days_s)
        return cli_usage(ctx, CMD, "missing --older-than DAYS");
    long long days;
    if (!cli_parse_int(days_s, 0, 36500, &days))
        return cli_fail(ctx, CMD, "--older-than: '%s' is not a whole number of days in 0..36500",
                        days_s);

    rc = cli_open_store(ctx, CMD, false, &s);
    if (rc != CLI_OK)
        return rc;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t deleted = 0;
    tp_err trc = store_prune(s, now - (int64_t)days * 86400 * 1000, &deleted);
    if (trc != TP_OK)
        rc = cli_store_fail(ctx, CMD, s, trc);
    else
        printf("pruned %lld answers older than %lld days (synced and exported)\n",
               (long long)deleted, days);
    store_close(s);
    return rc;
}

const struct cli_cmd cli_cmd_prune = {
    .name = "prune",
    .summary = "delete old answers that are synced and exported",
    .run = prune_run,
    .help = prune_help,
};
