/*
 * calert_cli.c - `touchpoint-collector alert add|list|test|remove|disable|enable`: the arguments
 * become the JSON /v1/admin/alert-rules takes and run through cfleet_call (one code path, one
 * audit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert.h"
#include "cfleet.h"
#include "cfleet_cli.h"

bool calert_cli_is(int argc, char **argv)
{
    return argc > 1 && strcmp(argv[1], "alert") == 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: touchpoint-collector alert add --node PATH --kind KIND --name-vi TEXT"
            " --name-en TEXT\n"
            "                            [--param KEY=VALUE]... [--cooldown SECONDS]"
            " [--endpoint NAME]...\n"
            "       touchpoint-collector alert list\n"
            "       touchpoint-collector alert test|remove|disable|enable RULE_ID\n"
            "  kinds: negative_share, low_score, reason, praise, device_silent,\n"
            "         device_pending_age, device_seq_holes, device_clock, device_disk,\n"
            "         device_config_error, comment_tag (parameters: see README, Alert rules)\n"
            "  every one takes --store sqlite:PATH|postgresql://... (or env TP_COLLECTOR_STORE)\n");
}

/* Builds op and args from argv[2..]. Returns 0, or 2 for a usage error. */
static int build(int argc, char **argv, const char **store, const char **op, cJSON *args)
{
    const char *verb = argv[2], *id = NULL;
    cJSON *params = cJSON_CreateObject(), *eps = cJSON_CreateArray();
    cJSON_AddItemToObject(args, "params", params);
    cJSON_AddItemToObject(args, "endpoints", eps);
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char *key = strcmp(a, "--node") == 0      ? "node"
                          : strcmp(a, "--kind") == 0    ? "kind"
                          : strcmp(a, "--name-vi") == 0 ? "name_vi"
                          : strcmp(a, "--name-en") == 0 ? "name_en"
                                                        : NULL;
        if (a[0] == '-' && !v)
            return 2;
        if (strcmp(a, "--store") == 0)
            *store = argv[++i];
        else if (key)
            cJSON_AddStringToObject(args, key, argv[++i]);
        else if (strcmp(a, "--cooldown") == 0)
            cJSON_AddStringToObject(args, "cooldown_s", argv[++i]);
        else if (strcmp(a, "--endpoint") == 0)
            cJSON_AddItemToArray(eps, cJSON_CreateString(argv[++i]));
        else if (strcmp(a, "--param") == 0) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) {
                fprintf(stderr, "touchpoint-collector: alert add: --param %s: expected KEY=VALUE\n",
                        v);
                return 1;
            }
            char k[65];
            snprintf(k, sizeof k, "%.*s", (int)(eq - v > 64 ? 64 : eq - v), v);
            cJSON_AddStringToObject(params, k, eq + 1);
            i++;
        } else if (a[0] != '-' && !id)
            id = a;
        else
            return 2;
    }
    if (strcmp(verb, "add") == 0 && !id) {
        *op = "alert.add";
    } else if (strcmp(verb, "list") == 0 && !id) {
        *op = "alert.list";
    } else if (id && (strcmp(verb, "test") == 0 || strcmp(verb, "remove") == 0 ||
                      strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0)) {
        static const char *const ops[] = {"alert.test", "alert.remove", "alert.disable",
                                          "alert.enable"};
        *op = ops[verb[0] == 't' ? 0 : verb[0] == 'r' ? 1 : verb[0] == 'd' ? 2 : 3];
        cJSON_AddStringToObject(args, "id", id);
    } else {
        return 2;
    }
    return 0;
}

int calert_cli_main(int argc, char **argv)
{
    const char *store = getenv("TP_COLLECTOR_STORE"), *op = NULL;
    char err[TP_ERRMSG_MAX];
    cJSON *args = cJSON_CreateObject(), *result = NULL;
    int status = argc < 3 || !args ? 2 : build(argc, argv, &store, &op, args);
    if (status == 0 && !store)
        status = 2;
    if (status != 0) {
        if (status == 2)
            usage();
        cJSON_Delete(args);
        return status;
    }
    status = 1;
    tp_err rc = cfleet_cli_call(store, op, args, &result, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: alert %s: %s\n", argv[2], err);
        goto out;
    }
    char *text = cJSON_Print(result);
    if (text)
        printf("%s\n", text);
    free(text);
    if (strcmp(op, "alert.test") == 0) {
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result, "outbox"));
        if (n == 0)
            fprintf(stderr,
                    "touchpoint-collector: alert test: the rule has no endpoint that exists"
                    " (add one with endpoint add, then --endpoint NAME on the rule); nothing"
                    " was sent\n");
        else
            fprintf(stderr, "touchpoint-collector: alert test: %d test message(s) queued\n", n);
    }
    status = 0;
out:
    cJSON_Delete(args);
    cJSON_Delete(result);
    return status;
}
