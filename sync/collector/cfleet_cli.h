/*
 * cfleet_cli.h - touchpoint-collector's fleet subcommands (node, device, survey, admin-token,
 * audit, read-token): each opens the store named by --store, runs one cfleet_call as "cli:<unix
 * user>" and prints the result.
 */
#ifndef TP_CFLEET_CLI_H
#define TP_CFLEET_CLI_H

#include <stdbool.h>

/* Whether argv[1] names a fleet subcommand. */
bool cfleet_cli_is(int argc, char **argv);

/* Runs the subcommand. Returns the exit status: 0 done, 1 refused or failed (message on
 * stderr, nothing stored), 2 usage. */
int cfleet_cli_main(int argc, char **argv);

#endif /* TP_CFLEET_CLI_H */
