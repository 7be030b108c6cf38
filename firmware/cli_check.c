/*
 * cli_check.c - `touchpoint check`: the database's integrity check and a health summary for staff
 * and support (counts by state, seq numbering, epoch, export cursor, gaps, last sync, quarantined
 * answers, recovery events). Opens read-only, so a corrupt file is reported, not recovered.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CMD "check"
#define CHECK_MAX_GAPS 64
#define CHECK_MAX_REJECTED 100
#define CHECK_MAX_EVENTS 20

static void check_help(FILE *f)
{
    fputs("Usage: touchpoint [--db PATH] check [--quick]\n"
          "\n"
          "Runs SQLite's integrity check on the answer database (read-only: a corrupt file is\n"
          "reported, not moved aside) and prints a summary: answers by sync state, highest seq,\n"
          "epoch, export cursor, seq gaps (there should be none), the last sync attempt,\n"
          "quarantined (rejected) answers with the collector's reasons, and the newest events\n"
          "of the database's log (recoveries from corrupt files, prunes, failures).\n"
          "\n"
          "Options:\n"
          "  --quick     quick_check instead of the full integrity_check\n"
          "\n"
          "Example:\n"
          "  touchpoint --db /var/lib/touchpoint/answers.db check\n"
          "\n"
          "Exit status: 0 sound, 1 corrupt, seq gaps found or the database cannot be read,\n"
          "2 usage error.\n",
          f);
}

typedef struct rejected_walk {
    int64_t n;
} rejected_walk;

static tp_err print_rejected(const store_answer *a, void *ctx)
{
    rejected_walk *w = ctx;
    if (a->state != STORE_REJECTED)
        return TP_OK;
    if (w->n < CHECK_MAX_REJECTED)
        printf("  seq %lld  %s  %s=%s  %s: %s\n", (long long)a->seq, a->id, a->question_id,
               tp_kind_name(a->kind), a->reject_code[0] ? a->reject_code : "-",
               a->reject_reason[0] ? a->reject_reason : "(no reason given)");
    w->n++;
    return TP_OK;
}

static void print_time(const char *label, int64_t ms, const char *none)
{
    char t[48];
    if (ms <= 0) {
        printf("%-16s %s\n", label, none);
        return;
    }
    tp_format_local(ms, t, sizeof t);
    printf("%-16s %s\n", label, t);
}

static int check_run(const struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"quick", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    bool quick = false;
    int rc = CLI_OK, c;
    store *s = NULL;
    store_info *info = NULL;
    store_event *ev = NULL;
    int64_t(*gaps)[2] = NULL;

    while ((c = cli_getopt(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quick = true; break;
        default: return cli_bad_option(ctx, CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage(ctx, CMD, "unexpected argument '%s'", argv[optind]);

    rc = cli_open_store(ctx, CMD, true, &s);
    if (rc != CLI_OK)
        return rc;
    info = calloc(1, sizeof *info);
    ev = calloc(CHECK_MAX_EVENTS, sizeof *ev);
    gaps = calloc(CHECK_MAX_GAPS, sizeof *gaps);
    if (!info || !ev || !gaps) {
        rc = cli_fail(ctx, CMD, "out of memory");
        goto out;
    }

    tp_err integrity = store_check(s, !quick);
    if (integrity != TP_OK && integrity != TP_ERR_CORRUPT) {
        rc = cli_store_fail(ctx, CMD, s, integrity);
        goto out;
    }
    printf("%-16s %s\n", "database", ctx->db_path);
    if (integrity == TP_ERR_CORRUPT) {
        /* Report now: the summary below may fail on a damaged file. */
        fprintf(stderr, "touchpoint: %s: corrupt: %s\n", ctx->db_path, store_errmsg(s));
        printf("%-16s CORRUPT: %s\n", "integrity", store_errmsg(s));
        rc = CLI_FAIL;
    } else {
        printf("%-16s ok (%s)\n", "integrity", quick ? "quick_check" : "integrity_check");
    }

    tp_err trc = store_get_info(s, info);
    if (trc != TP_OK) {
        rc = cli_store_fail(ctx, CMD, s, trc);
        goto out;
    }
    printf("%-16s %s\n", "device", info->device_id[0] ? info->device_id : "(not set)");
    printf("%-16s %s (first seq %lld)\n", "epoch", info->epoch, (long long)info->epoch_first_seq);
    printf("%-16s %d\n", "schema", info->schema_version);
    printf("%-16s %lld pending, %lld synced, %lld rejected (%lld total)\n", "answers",
           (long long)info->n_pending, (long long)info->n_synced, (long long)info->n_rejected,
           (long long)(info->n_pending + info->n_synced + info->n_rejected));
    printf("%-16s %lld\n", "highest seq", (long long)info->highest_seq);
    printf("%-16s %lld (%lld answers not exported)\n", "export cursor",
           (long long)info->export_cursor, (long long)info->n_not_exported);
    print_time("oldest pending", info->oldest_pending_ms, "none");
    printf("%-16s %lld bytes, %lld bytes free\n", "size", (long long)info->db_bytes,
           (long long)info->free_bytes);

    size_t n_gaps = 0;
    trc = store_find_gaps(s, gaps, CHECK_MAX_GAPS, &n_gaps);
    if (trc != TP_OK) {
        rc = cli_store_fail(ctx, CMD, s, trc);
        goto out;
    }
    if (n_gaps == 0) {
        printf("%-16s none\n", "seq gaps");
    } else {
        printf("%-16s", "seq gaps");
        for (size_t i = 0; i < n_gaps; i++)
            printf(" %lld-%lld", (long long)gaps[i][0], (long long)gaps[i][1]);
        printf("%s\n", n_gaps == CHECK_MAX_GAPS ? " ..." : "");
        fprintf(stderr, "touchpoint: %s: %zu%s gap(s) in the seq numbering: answers are missing\n",
                ctx->db_path, n_gaps, n_gaps == CHECK_MAX_GAPS ? "+" : "");
        rc = CLI_FAIL;
    }

    store_sync_result last, last_ok;
    trc = store_last_sync(s, &last, &last_ok);
    if (trc == TP_ERR_NOT_FOUND) {
        printf("%-16s never\n", "last sync");
    } else if (trc != TP_OK) {
        rc = cli_store_fail(ctx, CMD, s, trc);
        goto out;
    } else {
        char t[48];
        tp_format_local(last.at_ms, t, sizeof t);
        printf("%-16s %s %s (HTTP %d, sent %lld, accepted %lld, duplicates %lld, rejected "
               "%lld): %s\n",
               "last sync", t, last.ok ? "ok" : "FAILED", last.http_status, (long long)last.sent,
               (long long)last.accepted, (long long)last.duplicates, (long long)last.rejected,
               last.message);
        print_time("last good sync", last_ok.at_ms, "never");
    }

    if (info->recovered_from[0])
        printf("%-16s %s (a corrupt file was moved aside; this database started epoch %s)\n",
               "recovered from", info->recovered_from, info->epoch);

    if (info->n_rejected > 0) {
        rejected_walk w = {0};
        printf("quarantined answers (rejected by the collector):\n");
        trc = store_foreach_answer(s, 0, -1, print_rejected, &w);
        if (trc != TP_OK) {
            rc = cli_store_fail(ctx, CMD, s, trc);
            goto out;
        }
        if (w.n > CHECK_MAX_REJECTED)
            printf("  ... and %lld more\n", (long long)(w.n - CHECK_MAX_REJECTED));
    }

    size_t n_ev = 0;
    trc = store_events(s, ev, CHECK_MAX_EVENTS, &n_ev);
    if (trc != TP_OK) {
        rc = cli_store_fail(ctx, CMD, s, trc);
        goto out;
    }
    printf("events (newest first):%s\n", n_ev ? "" : " none");
    for (size_t i = 0; i < n_ev; i++) {
        char t[48];
        tp_format_local(ev[i].at_ms, t, sizeof t);
        printf("  %s %-5s %s\n", t, ev[i].level, ev[i].message);
    }
out:
    free(gaps);
    free(ev);
    free(info);
    store_close(s);
    return rc;
}

const struct cli_cmd cli_cmd_check = {
    .name = "check",
    .summary = "integrity check and health summary (exit 1 when corrupt)",
    .run = check_run,
    .help = check_help,
};
