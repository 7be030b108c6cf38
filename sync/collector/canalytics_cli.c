/*
 * canalytics_cli.c - `touchpoint-collector retention --before YYYY-MM-DD --store URL`: deletes
 * the customers (sessions) whose first answer is before that local day (the process's TZ),
 * their answers and their rollup counts in one transaction (crollup_purge), and prints what it
 * deleted as JSON.
 */
#include <stdio.h>
#include <string.h>

#include "canalytics.h"
#include "crollup.h"

int canalytics_cli_main(int argc, char **argv)
{
    const char *before = NULL, *store = NULL;
    char err[TP_ERRMSG_MAX];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--before") == 0)
            before = argv[i + 1];
        else if (strcmp(argv[i], "--store") == 0)
            store = argv[i + 1];
        else
            break;
    }
    int64_t ms = 0;
    if (!before || !store || argc % 2 != 0 || tp_parse_date_local(before, &ms) != TP_OK) {
        fprintf(stderr, "usage: touchpoint-collector retention --before YYYY-MM-DD --store URL\n"
                        "  deletes every customer whose first answer is before that day\n");
        return 2;
    }
    cstore *s = NULL;
    int64_t sessions = 0, answers = 0;
    tp_err rc = cstore_open(store, 1, &s, err, sizeof err);
    if (rc == TP_OK)
        rc = crollup_purge(s, ms, &sessions, &answers, err, sizeof err);
    cstore_close(s);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: retention: %s\n", err);
        return 1;
    }
    printf("{\"before\":\"%s\",\"customers\":%lld,\"answers\":%lld}\n", before, (long long)sessions,
           (long long)answers);
    return 0;
}
