/*
 * cli_export.c - `touchpoint export`: the command-line face of the export core (export.h), the
 * same code the kiosk's USB export runs.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "export.h"

#define CMD "export"

static void export_help(FILE *f)
{
    fputs("Usage: touchpoint [--db PATH] export --out DIR [--format csv|jsonl|csv,jsonl]\n"
          "           [--all | --new] [--device ID]\n"
          "\n"
          "Writes the answers to DIR/touchpoint-<device>-<from>-<to>.<csv|jsonl> (from/to: local\n"
          "dates of the first and last answer; '-2', '-3', ... when that name exists) and beside\n"
          "it <name>.sha256 (check with 'sha256sum -c'). The file is written under a temp name,\n"
          "flushed, read back and verified, then renamed; nothing existing is ever overwritten.\n"
          "Only then does the export cursor move, so '--new' next time starts after it.\n"
          "\n"
          "CSV: RFC 4180, UTF-8 with BOM (Excel shows Vietnamese correctly), CRLF, a header row,\n"
          "one row per answer with the columns seq, answer_id, session_id, device_id, epoch,\n"
          "survey_id, survey_version, question_id, kind, value, choice_id, lang, store_id,\n"
          "touchpoint_id, time_utc, time_local, clock_trusted, flags, sync_state.\n"
          "JSON Lines: one object per line with the same fields.\n"
          "With --format csv,jsonl both files hold exactly the same answers, and the cursor moves\n"
          "once, after both are verified; if the second fails, the first is removed again.\n"
          "\n"
          "Options:\n"
          "  --out DIR        existing folder to write into (a USB stick's mount point)\n"
          "  --format F       csv (default), jsonl, or both: csv,jsonl\n"
          "  --new            only answers not exported before (default)\n"
          "  --all            every answer still in the database\n"
          "  --device ID      device id for the file name and column (default: the database's\n"
          "                   device id, else the host name)\n"
          "\n"
          "Examples:\n"
          "  touchpoint --db answers.db export --out /media/touchpoint-usb-1\n"
          "  touchpoint export --out /tmp --all --format jsonl\n"
          "  touchpoint export --out /media/touchpoint-usb-1 --format csv,jsonl\n"
          "\n"
          "Exit status: 0 exported (or nothing new), 1 failed (drive full with the space needed,\n"
          "read-only, removed, I/O error; no partial file is left, the cursor is unmoved), 2 "
          "usage.\n",
          f);
}

typedef struct format_list {
    export_format f[EXPORT_MAX_FORMATS];
    size_t n;
} format_list;

/* One item of --format: a format's extension (export_format_ext), each at most once. */
static const char *format_item(void *ctx, const char *s, size_t len)
{
    format_list *l = ctx;
    static const export_format all[] = {EXPORT_CSV, EXPORT_JSONL};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        const char *ext = export_format_ext(all[k]);
        if (strlen(ext) != len || strncmp(s, ext, len) != 0)
            continue;
        for (size_t i = 0; i < l->n; i++)
            if (l->f[i] == all[k])
                return "format twice";
        l->f[l->n++] = all[k]; /* each format once: at most EXPORT_MAX_FORMATS */
        return NULL;
    }
    return "unknown format";
}

/* Parses "csv", "jsonl" or a comma-separated list of both (each once, in the order given) into
 * fmts with config.h's list tokenizer. Returns the number of formats, or 0 when s is not such a
 * list. */
static size_t parse_formats(const char *s, export_format fmts[EXPORT_MAX_FORMATS])
{
    format_list l = {.n = 0};
    size_t len = strlen(s);
    /* On the command line an empty item ("csv," or "csv,,jsonl") is a typo, not a layout. */
    if (len == 0 || s[0] == ',' || s[len - 1] == ',' || strstr(s, ",,"))
        return 0;
    if (config_list_each(s, format_item, &l) || l.n == 0)
        return 0;
    memcpy(fmts, l.f, l.n * sizeof l.f[0]);
    return l.n;
}

/* The host name with anything outside the id alphabet replaced, for a device id. */
static void host_device_id(char *out, size_t len)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        tp_strlcpy(host, "device", sizeof host);
    size_t i = 0;
    for (; host[i] && i + 1 < len && i < TP_ID_MAX; i++) {
        char c = host[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

static void progress(void *ctx, int64_t done, int64_t total)
{
    (void)ctx;
    fprintf(stderr, "\rexporting: %lld of %lld answers", (long long)done, (long long)total);
    if (done == total)
        fputc('\n', stderr);
}

static int export_run_cmd(const struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},    {"format", required_argument, NULL, 'F'},
        {"all", no_argument, NULL, 'A'},          {"new", no_argument, NULL, 'N'},
        {"device", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0},
    };
    export_options opt = {.format = EXPORT_CSV, .after_seq = -1, .upto_seq = -1};
    export_format fmts[EXPORT_MAX_FORMATS] = {EXPORT_CSV};
    size_t n_fmts = 1;
    export_result res[EXPORT_MAX_FORMATS];
    bool want_all = false, want_new = false;
    const char *device = NULL;
    char devbuf[TP_ID_MAX + 1];
    char err[TP_ERRMSG_MAX * 2];
    store *s = NULL;
    store_info *info = NULL;
    int rc = CLI_OK, c;

    while ((c = cli_getopt(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'o': opt.out_dir = optarg; break;
        case 'A': want_all = true; break;
        case 'N': want_new = true; break;
        case 'd': device = optarg; break;
        case 'F':
            n_fmts = parse_formats(optarg, fmts);
            if (n_fmts == 0)
                return cli_fail(ctx, CMD, "--format: '%s' is not csv, jsonl or csv,jsonl", optarg);
            break;
        default: return cli_bad_option(ctx, CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage(ctx, CMD, "unexpected argument '%s'", argv[optind]);
    if (!opt.out_dir)
        return cli_usage(ctx, CMD, "missing --out DIR");
    if (!opt.out_dir[0])
        return cli_usage(ctx, CMD, "--out: no output folder given");
    if (want_all && want_new)
        return cli_usage(ctx, CMD, "--all and --new exclude each other");
    opt.all = want_all;
    if (device && !tp_id_valid(device))
        return cli_fail(ctx, CMD,
                        "--device: '%s' is not a valid id (1-64 characters of A-Z a-z 0-9 . _ -)",
                        device);

    rc = cli_open_store(ctx, CMD, false, &s);
    if (rc != CLI_OK)
        return rc;
    if (!device) {
        info = calloc(1, sizeof *info);
        if (!info) {
            rc = cli_fail(ctx, CMD, "out of memory");
            goto out;
        }
        tp_err trc = store_get_info(s, info);
        if (trc != TP_OK) {
            rc = cli_store_fail(ctx, CMD, s, trc);
            goto out;
        }
        if (info->device_id[0])
            tp_strlcpy(devbuf, info->device_id, sizeof devbuf);
        else
            host_device_id(devbuf, sizeof devbuf);
        device = devbuf;
    }
    opt.device_id = device;
    if (isatty(STDERR_FILENO))
        opt.progress = progress;

    /* One core for one or several formats: the same answers in every file, the cursor moved once
     * after the last one is verified. */
    tp_err trc = export_run_formats(s, &opt, fmts, n_fmts, res, err, sizeof err);
    if (trc != TP_OK) {
        /* The core's own messages start with "export: " when they name no folder; the command
         * name is already in front of them. */
        const char *m = strncmp(err, CMD ": ", sizeof CMD + 1) == 0 ? err + sizeof CMD + 1 : err;
        rc = cli_fail(ctx, CMD, "%s", m);
        goto out;
    }
    if (res[0].rows == 0) {
        printf("nothing %sto export (export cursor at seq %lld)\n", opt.all ? "" : "new ",
               (long long)res[0].cursor_before);
        goto out;
    }
    const char *dir = opt.out_dir;
    const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
    for (size_t i = 0; i < n_fmts; i++) {
        printf("exported %lld answers (seq %lld..%lld, %lld bytes) to %s%s%s\n",
               (long long)res[i].rows, (long long)res[i].first_seq, (long long)res[i].last_seq,
               (long long)res[i].bytes, dir, sep, res[i].name);
        printf("sha256 %s  %s%s%s\n", res[i].sha256_hex, dir, sep, res[i].sha256_name);
    }
    printf("export cursor %lld -> %lld\n", (long long)res[0].cursor_before,
           (long long)res[0].cursor_after);
out:
    free(info);
    store_close(s);
    return rc;
}

const struct cli_cmd cli_cmd_export = {
    .name = "export",
    .summary = "write answers to a verified CSV or JSON Lines file (USB export core)",
    .run = export_run_cmd,
    .help = export_help,
};
