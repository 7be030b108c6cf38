/*
 * cli.h - the `touchpoint` staff/admin command line: one const table of commands (cli.c), each
 * command in its own file firmware/cli_<name>.c defining `const struct cli_cmd cli_cmd_<name>`.
 *
 *   touchpoint [--db PATH] <command> [options]      (--db may also come from $TOUCHPOINT_DB)
 *
 * Exit codes: CLI_OK 0, CLI_FAIL 1 (the command ran and failed, or a value was rejected: the
 * message names the field or the file and the cause), CLI_USAGE 2 (unknown command or option, a
 * missing or malformed argument).
 *
 * Adding a command: write firmware/cli_<name>.c, add it to CLI_SRCS in firmware/cli.mk, declare
 * its struct below and add it to the table in cli.c.
 */
#ifndef TP_CLI_H
#define TP_CLI_H

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "store.h"
#include "tp.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* What every command gets from the global options. Plain data, borrowed for the call. */
struct cli_ctx {
    const char *prog;    /* "touchpoint", for messages */
    const char *db_path; /* --db or $TOUCHPOINT_DB; NULL when neither was given */
};

struct cli_cmd {
    const char *name;    /* "record" */
    const char *summary; /* one line for `touchpoint --help` */
    /* Runs the command. argv[0] is the command name and argv[argc] is NULL, as getopt_long
     * expects (cli.c resets optind before the call). Returns CLI_OK, CLI_FAIL or CLI_USAGE. */
    int (*run)(const struct cli_ctx *ctx, int argc, char **argv);
    /* Prints the command's full help (usage, options, examples) to f. */
    void (*help)(FILE *f);
};

extern const struct cli_cmd cli_cmd_record;
extern const struct cli_cmd cli_cmd_stats;
extern const struct cli_cmd cli_cmd_export;
extern const struct cli_cmd cli_cmd_check;
extern const struct cli_cmd cli_cmd_prune;
extern const struct cli_cmd cli_cmd_sync;
extern const struct cli_cmd cli_cmd_pin;

/* Runs the whole command line (main() calls this). Returns the exit code. */
int cli_main(int argc, char **argv);

/* ---- Helpers for commands ------------------------------------------------------------------- */

/* Prints "touchpoint: <cmd>: <message>\n" to stderr and returns CLI_USAGE, with a hint to run
 * `touchpoint <cmd> --help`. */
int cli_usage(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints "touchpoint: <cmd>: <message>\n" to stderr and returns CLI_FAIL. */
int cli_fail(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Opens the database named by ctx->db_path for cmd. On failure prints the store's message
 * (naming the file and the cause) and returns CLI_FAIL, or CLI_USAGE when no --db was given.
 * Returns CLI_OK with *out (free with store_close). */
int cli_open_store(const struct cli_ctx *ctx, const char *cmd, bool readonly, store **out);

/* Reports a failed store call rc on s: the store's message when it names the file, else
 * "<db>: <cause> (<message>)". Returns CLI_FAIL. */
int cli_store_fail(const struct cli_ctx *ctx, const char *cmd, store *s, tp_err rc);

/* Parses a whole decimal integer in [lo, hi]: digits with an optional leading '-', nothing
 * else (no spaces, no '+'). Returns false for anything else. */
bool cli_parse_int(const char *s, long long lo, long long hi, long long *out);

/* getopt_long(argc, argv, ":" short, opts, NULL) for commands, with one rule added: an option
 * given twice is an error, except those whose val is in repeatable (a string of vals, like "af"
 * for --answer and --flag; NULL: none). Returns the option's val, -1 at the end, '?' / ':' as
 * getopt_long does, or CLI_OPT_TWICE for a repeat; hand the last three to cli_bad_option. The
 * "seen" state starts afresh whenever optind is 0 (as cli.c sets it before each command). */
#define CLI_OPT_TWICE 0x7ffe
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts,
               const char *repeatable);

/* Reports an unknown option, a missing argument or an option given twice, the way cli_getopt
 * saw it (optopt/argv), and returns CLI_USAGE. Commands call it for cli_getopt's '?', ':' and
 * CLI_OPT_TWICE results. */
int cli_bad_option(const struct cli_ctx *ctx, const char *cmd, int c, char **argv);

#endif /* TP_CLI_H */
