/*
 * cli_stats.c - `touchpoint stats`: the store's statistics (store_stats) over a range of local
 * days, as a readable table or as JSON (cJSON) for scripts.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define CMD "stats"
#define DAY_MS (24LL * 3600 * 1000)

static void stats_help(FILE *f)
{
    fputs("Usage: touchpoint [--db PATH] stats [--from DATE] [--to DATE]\n"
          "           [--by day|touchpoint|question] [--all] [--json]\n"
          "\n"
          "Statistics of the answers recorded in a range of days (local time, TZ):\n"
          "  n        answers (every kind)\n"
          "  NPS      % promoters (9-10) minus % detractors (0-6), -100..+100\n"
          "  CSAT%    % of csat answers that are 4 or 5\n"
          "  CES      mean ces value (1-7), and CES5-7% the share of 5, 6 and 7\n"
          "  smiley%  % of smiley4 answers that are 3 or 4 (happy)\n"
          "followed by the distribution of each kind and the most frequent choices.\n"
          "\n"
          "Options:\n"
          "  --from DATE   first day, YYYY-MM-DD (default: 29 days before --to)\n"
          "  --to DATE     last day, included (default: today)\n"
          "  --by WHAT     one row per day, touchpoint or question, plus a total\n"
          "  --all         also count answers flagged rapid_repeat (excluded by default)\n"
          "  --json        JSON on stdout instead of the table (null where no answer)\n"
          "\n"
          "Examples:\n"
          "  touchpoint stats                       the last 30 days\n"
          "  touchpoint stats --from 2026-11-01 --to 2026-11-30 --by day\n"
          "  touchpoint stats --by touchpoint --json\n",
          f);
}

static const char *group_name(store_group g)
{
    switch (g) {
    case STORE_BY_NONE: return "none";
    case STORE_BY_DAY: return "day";
    case STORE_BY_TOUCHPOINT: return "touchpoint";
    case STORE_BY_QUESTION: return "question";
    }
    return "?";
}

static void fmt_num(char *out, size_t len, double v, bool sign, int prec)
{
    if (isnan(v))
        snprintf(out, len, "-");
    else
        snprintf(out, len, sign ? "%+.*f" : "%.*f", prec, v);
}

static void print_dist(const char *label, const int64_t *d, int n, int first)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += d[i];
    if (sum == 0)
        return;
    printf("    %-8s", label);
    for (int i = 0; i < n; i++)
        printf(" %d:%lld", first + i, (long long)d[i]);
    printf("\n");
}

static void print_row(const char *key, const store_stats_row *r)
{
    char nps[16], csat[16], ces[16], ces57[16], sm[16];
    fmt_num(nps, sizeof nps, r->nps, true, 1);
    fmt_num(csat, sizeof csat, r->csat_pct, false, 1);
    fmt_num(ces, sizeof ces, r->ces_mean, false, 2);
    fmt_num(ces57, sizeof ces57, r->ces_pct_5_7, false, 1);
    fmt_num(sm, sizeof sm, r->smiley4_pct_happy, false, 1);
    printf("%-24s %7lld %7s %7s %6s %8s %8s\n", key, (long long)r->n, nps, csat, ces, ces57, sm);
    print_dist("nps", r->dist_nps, 11, 0);
    print_dist("csat", r->dist_csat, 5, 1);
    print_dist("ces", r->dist_ces, 7, 1);
    print_dist("smiley4", r->dist_smiley4, 4, 1);
    if (r->choices[0].n > 0) {
        printf("    %-8s", "choices");
        for (int i = 0; i < STORE_CHOICE_TOP && r->choices[i].n > 0; i++)
            printf(" %s:%lld", r->choices[i].id, (long long)r->choices[i].n);
        printf("\n");
    }
}

/* Adds number v, or null when NAN. Returns false on allocation failure. */
static bool add_num(cJSON *o, const char *k, double v)
{
    return isnan(v) ? cJSON_AddNullToObject(o, k) != NULL
                    : cJSON_AddNumberToObject(o, k, v) != NULL;
}

static bool add_dist(cJSON *o, const char *k, const int64_t *d, int n)
{
    cJSON *a = cJSON_AddArrayToObject(o, k);
    if (!a)
        return false;
    for (int i = 0; i < n; i++) {
        cJSON *x = cJSON_CreateNumber((double)d[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            return false;
        }
    }
    return true;
}

static cJSON *row_json(const store_stats_row *r, const char *key)
{
    cJSON *o = cJSON_CreateObject(), *nk = NULL, *dist = NULL, *ch = NULL;
    if (!o)
        return NULL;
    bool ok = (key ? cJSON_AddStringToObject(o, "key", key) != NULL
                   : cJSON_AddNullToObject(o, "key") != NULL) &&
              cJSON_AddNumberToObject(o, "n", (double)r->n) &&
              (nk = cJSON_AddObjectToObject(o, "n_by_kind")) != NULL;
    for (int k = 0; ok && k < TP_KIND_COUNT; k++)
        ok = cJSON_AddNumberToObject(nk, tp_kind_name((tp_kind)k), (double)r->n_kind[k]) != NULL;
    ok = ok && add_num(o, "nps", r->nps) && add_num(o, "csat_pct", r->csat_pct) &&
         add_num(o, "ces_mean", r->ces_mean) && add_num(o, "ces_pct_5_7", r->ces_pct_5_7) &&
         add_num(o, "smiley4_pct_happy", r->smiley4_pct_happy) &&
         (dist = cJSON_AddObjectToObject(o, "dist")) != NULL &&
         add_dist(dist, "nps", r->dist_nps, 11) && add_dist(dist, "csat", r->dist_csat, 5) &&
         add_dist(dist, "ces", r->dist_ces, 7) && add_dist(dist, "smiley4", r->dist_smiley4, 4) &&
         (ch = cJSON_AddArrayToObject(o, "choices")) != NULL;
    for (int i = 0; ok && i < STORE_CHOICE_TOP && r->choices[i].n > 0; i++) {
        cJSON *c = cJSON_CreateObject();
        if (!c || !cJSON_AddItemToArray(ch, c)) {
            cJSON_Delete(c); /* not attached to o: ours to free */
            ok = false;
            break;
        }
        ok = cJSON_AddStringToObject(c, "id", r->choices[i].id) &&
             cJSON_AddNumberToObject(c, "n", (double)r->choices[i].n);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int print_json(const char *from, const char *to, store_group by, bool all,
                      const store_stats_row *rows, size_t n, const store_stats_row *total)
{
    int rc = CLI_FAIL;
    char *text = NULL;
    cJSON *o = cJSON_CreateObject(), *arr = NULL, *t = NULL;
    bool ok = o && cJSON_AddStringToObject(o, "from", from) &&
              cJSON_AddStringToObject(o, "to", to) &&
              cJSON_AddStringToObject(o, "by", group_name(by)) &&
              cJSON_AddBoolToObject(o, "include_flagged", all) &&
              (arr = cJSON_AddArrayToObject(o, "rows")) != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *r = row_json(&rows[i], by == STORE_BY_NONE ? NULL : rows[i].key);
        ok = r && cJSON_AddItemToArray(arr, r);
        if (!ok)
            cJSON_Delete(r);
    }
    if (ok) {
        store_stats_row empty;
        memset(&empty, 0, sizeof empty);
        empty.nps = empty.csat_pct = empty.ces_mean = empty.ces_pct_5_7 = NAN;
        empty.smiley4_pct_happy = NAN;
        t = row_json(total ? total : &empty, NULL);
        ok = t && cJSON_AddItemToObject(o, "total", t);
        if (!ok)
            cJSON_Delete(t);
    }
    if (ok)
        text = cJSON_Print(o);
    if (!text) {
        fprintf(stderr, "touchpoint: stats: out of memory building JSON\n");
        goto out;
    }
    printf("%s\n", text);
    rc = CLI_OK;
out:
    free(text);
    cJSON_Delete(o);
    return rc;
}

static int stats_run(const struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
        {"by", required_argument, NULL, 'b'},   {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},       {NULL, 0, NULL, 0},
    };
    const char *from_s = NULL, *to_s = NULL;
    store_stats_query q = {.by = STORE_BY_NONE};
    bool json = false;
    store *s = NULL;
    store_stats_row *rows = NULL, *total = NULL;
    size_t n = 0, n_total = 0;
    int rc = CLI_OK, c;

    while ((c = cli_getopt(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from_s = optarg; break;
        case 't': to_s = optarg; break;
        case 'a': q.include_flagged = true; break;
        case 'j': json = true; break;
        case 'b':
            if (strcmp(optarg, "day") == 0)
                q.by = STORE_BY_DAY;
            else if (strcmp(optarg, "touchpoint") == 0)
                q.by = STORE_BY_TOUCHPOINT;
            else if (strcmp(optarg, "question") == 0)
                q.by = STORE_BY_QUESTION;
            else
                return cli_fail(ctx, CMD, "--by: '%s' is not one of day, touchpoint, question",
                                optarg);
            break;
        default: return cli_bad_option(ctx, CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage(ctx, CMD, "unexpected argument '%s'", argv[optind]);

    /* Local days: [from 00:00, day after to 00:00). 36 h after a local midnight is always in
     * the next day, whatever daylight saving does. */
    int64_t from_day, to_day;
    char from_txt[11], to_txt[11];
    if (to_s) {
        if (tp_parse_date_local(to_s, &to_day) != TP_OK)
            return cli_fail(ctx, CMD, "--to: '%s' is not a date YYYY-MM-DD", to_s);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        to_day = tp_local_day_start((int64_t)ts.tv_sec * 1000, NULL);
    }
    if (from_s) {
        if (tp_parse_date_local(from_s, &from_day) != TP_OK)
            return cli_fail(ctx, CMD, "--from: '%s' is not a date YYYY-MM-DD", from_s);
    } else {
        from_day = tp_local_day_start(to_day - 29 * DAY_MS + DAY_MS / 2, NULL);
    }
    if (from_day > to_day)
        return cli_fail(ctx, CMD, "--from %s is after --to %s", from_s ? from_s : "(default)",
                        to_s ? to_s : "(today)");
    (void)tp_local_day_start(from_day, from_txt);
    (void)tp_local_day_start(to_day, to_txt);
    q.from_ms = from_day;
    q.to_ms = tp_local_day_start(to_day + 36 * 3600 * 1000LL, NULL);

    rc = cli_open_store(ctx, CMD, true, &s);
    if (rc != CLI_OK)
        return rc;
    tp_err trc = store_stats(s, &q, &rows, &n);
    if (trc == TP_OK && q.by != STORE_BY_NONE) {
        store_stats_query qt = q;
        qt.by = STORE_BY_NONE;
        trc = store_stats(s, &qt, &total, &n_total);
    } else if (trc == TP_OK) {
        n_total = n;
    }
    if (trc != TP_OK) {
        rc = cli_store_fail(ctx, CMD, s, trc);
        goto out;
    }
    const store_stats_row *tot =
        q.by == STORE_BY_NONE ? (n ? rows : NULL) : (n_total ? total : NULL);
    if (json) {
        rc = print_json(from_txt, to_txt, q.by, q.include_flagged, rows,
                        q.by == STORE_BY_NONE ? 0 : n, tot);
        goto out;
    }
    printf("Answers %s .. %s (local time%s%s), rapid repeats %s\n", from_txt, to_txt,
           getenv("TZ") ? ", TZ=" : "", getenv("TZ") ? getenv("TZ") : "",
           q.include_flagged ? "included" : "excluded (--all includes them)");
    if (!tot) {
        printf("no answers\n");
        goto out;
    }
    printf("%-24s %7s %7s %7s %6s %8s %8s\n", q.by == STORE_BY_NONE ? "" : group_name(q.by), "n",
           "NPS", "CSAT%", "CES", "CES5-7%", "smiley%");
    if (q.by != STORE_BY_NONE)
        for (size_t i = 0; i < n; i++)
            print_row(rows[i].key, &rows[i]);
    print_row("total", tot);
out:
    store_stats_free(rows);
    store_stats_free(total);
    store_close(s);
    return rc;
}

const struct cli_cmd cli_cmd_stats = {
    .name = "stats",
    .summary = "NPS, CSAT, CES and smiley statistics by day, touchpoint or question",
    .run = stats_run,
    .help = stats_help,
};
