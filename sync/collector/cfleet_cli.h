/*
 * cfleet_cli.h - touchpoint-collector's fleet subcommands (node, device, survey, admin-token,
 * audit, read-token): each opens the store named by --store, runs one cfleet_call as "cli:<unix
 * user>" and prints the result.
 */
#ifndef TP_CFLEET_CLI_H
#define TP_CFLEET_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "tp.h"

/* Whether argv[1] names a fleet subcommand. */
bool cfleet_cli_is(int argc, char **argv);

/* Runs the subcommand. Returns the exit status: 0 done, 1 refused or failed (message on
 * stderr, nothing stored), 2 usage. */
int cfleet_cli_main(int argc, char **argv);

/* What every admin subcommand (fleet, alert, case, endpoint) does after parsing: opens the store
 * at store_url, runs cfleet_call(op, args) as "cli:<unix user>" at the current time and closes
 * the store. Returns TP_OK with *result set (the caller cJSON_Deletes it), or the store's or the
 * operation's error with err filled. */
tp_err cfleet_cli_call(const char *store_url, const char *op, const cJSON *args, cJSON **result,
                       char *err, size_t errlen);

#endif /* TP_CFLEET_CLI_H */
