/*
 * cdeliver_cli.h - `touchpoint-collector endpoint add|list|test`: opens the store named by
 * --store (or env TP_COLLECTOR_STORE), runs one cfleet_call as "cli:<unix user>" (the same
 * operation as /v1/admin/endpoints) and prints the result.
 */
#ifndef TP_CDELIVER_CLI_H
#define TP_CDELIVER_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "cdeliver.h"

/* Whether argv[1] is "endpoint". */
bool cdeliver_cli_is(int argc, char **argv);

/* Runs the subcommand. Returns the exit status: 0 done, 1 refused or failed (message on stderr),
 * 2 usage. */
int cdeliver_cli_main(int argc, char **argv);

/* The collector's delivery options (--smtp, --smtp-user, --smtp-password-file, --mail-from,
 * --smtp-starttls, --deliver-*, --endpoint-failing-after-ms): takes option a with its value val
 * into o. Returns 1 (taken), 0 (not a delivery option) or -1 (bad value: message on stderr). The
 * password read from its file is kept in static storage. */
int cdeliver_cli_option(const char *a, const char *val, cdeliver_options *o);

/* Prints the delivery options' help lines. */
void cdeliver_cli_usage(FILE *f);

#endif /* TP_CDELIVER_CLI_H */
