/*
 * cli_pin.c - `touchpoint pin-hash`: makes the salted PBKDF2 hash of a staff PIN for the kiosk's
 * [staff] pin_hash key. The PIN is read from stdin (one line) or, on a terminal, prompted for
 * twice without echo; it never appears on the command line (where `ps` would show it).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "pin.h"

static void pin_help(FILE *f)
{
    fprintf(f,
            "usage: touchpoint pin-hash [--iterations N]\n"
            "\n"
            "Reads a staff PIN (4 to 12 digits) and prints its salted PBKDF2-HMAC-SHA256 hash\n"
            "for the kiosk config's [staff] pin_hash key. On a terminal the PIN is asked for\n"
            "twice without echo; otherwise the first line of stdin is the PIN.\n"
            "\n"
            "  --iterations N   PBKDF2 iterations (%d..%d, default %d)\n"
            "\n"
            "example:\n"
            "  echo 2468 | touchpoint pin-hash\n",
            PIN_MIN_ITERATIONS, PIN_MAX_ITERATIONS, PIN_DEFAULT_ITERATIONS);
}

/* Reads one line into buf without its newline. With echo off when fd 0 is a terminal. */
static bool read_pin(const char *prompt, bool tty, char *buf, size_t len)
{
    struct termios old, quiet;
    bool restore = false;
    if (tty) {
        fputs(prompt, stderr);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
    bool ok = fgets(buf, (int)len, stdin) != NULL;
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!ok)
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

static int pin_run(const struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"iterations", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long long iterations = PIN_DEFAULT_ITERATIONS;
    int c;
    while ((c = cli_getopt(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (!cli_parse_int(optarg, PIN_MIN_ITERATIONS, PIN_MAX_ITERATIONS, &iterations))
                return cli_usage(ctx, "pin-hash", "--iterations: '%s' is not in %d..%d", optarg,
                                 PIN_MIN_ITERATIONS, PIN_MAX_ITERATIONS);
            break;
        case 'h': pin_help(stdout); return CLI_OK;
        default: return cli_bad_option(ctx, "pin-hash", c, argv);
        }
    }
    if (optind < argc)
        return cli_usage(ctx, "pin-hash", "unexpected argument '%s' (the PIN is read from stdin)",
                         argv[optind]);

    char pin[64] = "", again[64] = "", hash[PIN_HASH_MAX], err[256];
    int rc = CLI_OK;
    bool tty = isatty(STDIN_FILENO);
    if (!read_pin("Staff PIN (4-12 digits): ", tty, pin, sizeof pin)) {
        rc = cli_fail(ctx, "pin-hash", "no PIN on stdin");
        goto out;
    }
    if (tty) {
        if (!read_pin("Again: ", tty, again, sizeof again) || strcmp(pin, again) != 0) {
            rc = cli_fail(ctx, "pin-hash", "the two PINs differ");
            goto out;
        }
    }
    if (pin_hash_new(pin, (int)iterations, hash, sizeof hash, err, sizeof err) != TP_OK) {
        rc = cli_fail(ctx, "pin-hash", "%s", err);
        goto out;
    }
    printf("%s\n", hash);
out:
    explicit_bzero(pin, sizeof pin);
    explicit_bzero(again, sizeof again);
    return rc;
}

const struct cli_cmd cli_cmd_pin = {
    .name = "pin-hash",
    .summary = "print the salted hash of a staff PIN (read from stdin) for the kiosk config",
    .run = pin_run,
    .help = pin_help,
};
