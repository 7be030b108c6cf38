/*
 * cli.c - `touchpoint`, the staff/admin command line: global options, the command table, help,
 * and the small helpers every command shares (messages, exit codes, opening the store).
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The commands, in the order `touchpoint --help` lists them. */
static const struct cli_cmd *const commands[] = {
    &cli_cmd_record, &cli_cmd_stats, &cli_cmd_export, &cli_cmd_check,
    &cli_cmd_prune,  &cli_cmd_sync,  &cli_cmd_pin,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void vmsg(const struct cli_ctx *ctx, const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", ctx && ctx->prog ? ctx->prog : "touchpoint");
    if (cmd)
        fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(ctx, cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s%s%s --help'.\n", ctx && ctx->prog ? ctx->prog : "touchpoint",
            cmd ? " " : "", cmd ? cmd : "");
    return CLI_USAGE;
}

int cli_fail(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(ctx, cmd, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

/* Options seen so far in this parse, by val (every val of our tables is below 256). */
static unsigned char opt_seen[256];
static const char *opt_twice; /* the option given twice, for cli_bad_option */

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts,
               const char *repeatable)
{
    if (optind == 0)
        memset(opt_seen, 0, sizeof opt_seen);
    int idx = -1;
    int c = getopt_long(argc, argv, shortopts, opts, &idx);
    if (c < 0 || c >= (int)sizeof opt_seen || c == '?' || c == ':')
        return c;
    if (repeatable && strchr(repeatable, c))
        return c;
    if (opt_seen[c]) {
        opt_twice = idx >= 0 ? opts[idx].name : NULL;
        if (!opt_twice) /* a short option: find its long name */
            for (const struct option *o = opts; o->name && !opt_twice; o++)
                if (o->val == c)
                    opt_twice = o->name;
        return CLI_OPT_TWICE;
    }
    opt_seen[c] = 1;
    return c;
}

int cli_bad_option(const struct cli_ctx *ctx, const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == CLI_OPT_TWICE)
        return cli_usage(ctx, cmd, "option '--%s' given twice", opt_twice ? opt_twice : "?");
    if (c == ':')
        return cli_usage(ctx, cmd, "option '%s' needs a value", arg);
    if (optopt && optopt < 256 && optopt != '?')
        return cli_usage(ctx, cmd, "unknown option '-%c'", optopt);
    return cli_usage(ctx, cmd, "unknown option '%s'", arg);
}

bool cli_parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    /* strtoll alone would take " 5" and "+5": a value is digits, as the help says. */
    if (!s || !(*s == '-' || (*s >= '0' && *s <= '9')))
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Prints "touchpoint: <db>: <cause> (<detail>)" for a store failure, without repeating the path or
 * the cause when the store's message already carries them. */
static int db_fail(const struct cli_ctx *ctx, tp_err rc, const char *msg)
{
    const char *path = ctx->db_path ? ctx->db_path : "(no database)";
    const char *cause = tp_strerror(rc);
    size_t pl = strlen(path);
    const char *rest = msg ? msg : "";
    if (strncmp(rest, path, pl) == 0 && rest[pl] == ':')
        rest += pl + 1 + (rest[pl + 1] == ' ');
    if (!rest[0])
        return cli_fail(ctx, NULL, "%s: %s", path, cause);
    if (strcasestr(rest, cause))
        return cli_fail(ctx, NULL, "%s: %s", path, rest);
    return cli_fail(ctx, NULL, "%s: %s (%s)", path, cause, rest);
}

int cli_open_store(const struct cli_ctx *ctx, const char *cmd, bool readonly, store **out)
{
    char err[TP_ERRMSG_MAX] = "";
    *out = NULL;
    if (!ctx->db_path || !ctx->db_path[0])
        return cli_usage(ctx, cmd, "no database: give --db PATH or set TOUCHPOINT_DB");
    store_options opt = {.readonly = readonly};
    tp_err rc = store_open(ctx->db_path, &opt, out, err, sizeof err);
    if (rc != TP_OK) {
        *out = NULL;
        return db_fail(ctx, rc, err);
    }
    return CLI_OK;
}

int cli_store_fail(const struct cli_ctx *ctx, const char *cmd, store *s, tp_err rc)
{
    const char *m = s ? store_errmsg(s) : "";
    if (rc == TP_ERR_INVALID && m[0]) /* a rejected value: the message names the field */
        return cli_fail(ctx, cmd, "%s", m);
    return db_fail(ctx, rc, m);
}

static const struct cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void global_help(FILE *f)
{
    fputs("Usage: touchpoint [--db PATH] <command> [options]\n"
          "\n"
          "The staff/admin tool of the Touchpoint feedback kiosk: record test answers, read\n"
          "statistics, export answers to a spreadsheet, check and prune the answer database.\n"
          "\n"
          "Global options:\n"
          "  --db PATH    the answer database (default: $TOUCHPOINT_DB)\n"
          "  -h, --help   this help; 'touchpoint <command> --help' for a command's help\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\nExit status: 0 ok, 1 failure (the message names the file or field and the cause),\n"
          "2 usage error (unknown command or option, missing or malformed argument).\n",
          f);
}

int cli_main(int argc, char **argv)
{
    struct cli_ctx ctx = {.prog = "touchpoint", .db_path = getenv("TOUCHPOINT_DB")};
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 0;
    /* '+': stop at the command name; the command parses its own options. */
    while ((c = cli_getopt(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': ctx.db_path = optarg; break;
        case 'h': global_help(stdout); return CLI_OK;
        default: return cli_bad_option(&ctx, NULL, c, argv);
        }
    }
    if (optind >= argc) {
        global_help(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[optind];
    if (strcmp(name, "help") == 0) {
        if (optind + 1 >= argc) {
            global_help(stdout);
            return CLI_OK;
        }
        const struct cli_cmd *hc = find_command(argv[optind + 1]);
        if (!hc)
            return cli_usage(&ctx, NULL, "unknown command '%s'", argv[optind + 1]);
        hc->help(stdout);
        return CLI_OK;
    }
    const struct cli_cmd *cmd = find_command(name);
    if (!cmd)
        return cli_usage(&ctx, NULL, "unknown command '%s'", name);
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    /* --help anywhere among the command's arguments wins over everything else. */
    for (int i = 1; i < sub_argc; i++) {
        if (strcmp(sub_argv[i], "--") == 0)
            break;
        if (strcmp(sub_argv[i], "--help") == 0 || strcmp(sub_argv[i], "-h") == 0) {
            cmd->help(stdout);
            return CLI_OK;
        }
    }
    optind = 0; /* GNU getopt: full re-initialisation for the command's own parse */
    opterr = 0;
    return cmd->run(&ctx, sub_argc, sub_argv);
}

int main(int argc, char **argv)
{
    int rc = cli_main(argc, argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "touchpoint: writing the output failed: %s\n", strerror(errno));
        return CLI_FAIL;
    }
    return rc;
}
