/*
 * ccase_cli.h - touchpoint-collector's `case` and `digest` subcommands (issue 13): each opens the
 * store named by --store (or TP_COLLECTOR_STORE), runs one cfleet_call as "cli:<unix user>" (the
 * same operation the admin API runs) and prints the JSON result.
 */
#ifndef TP_CCASE_CLI_H
#define TP_CCASE_CLI_H

#include <stdbool.h>

/* Whether argv[1] is "case" or "digest". */
bool ccase_cli_is(int argc, char **argv);

/* Runs the subcommand. Returns the exit status: 0 done, 1 refused or failed (message on stderr,
 * nothing stored), 2 usage. */
int ccase_cli_main(int argc, char **argv);

#endif /* TP_CCASE_CLI_H */
