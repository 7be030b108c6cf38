/*
 * cdeliver_cli.c - the endpoint subcommands (see cdeliver_cli.h). An HTTP endpoint's secret is
 * printed once, alone on stdout (scripts take it from there); the store never shows it again.
 */
#include "cdeliver_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfleet.h"
#include "cfleet_cli.h"

bool cdeliver_cli_is(int argc, char **argv)
{
    return argc > 1 && strcmp(argv[1], "endpoint") == 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: touchpoint-collector endpoint add NAME --kind webhook|slack|google_chat|email\n"
            "                            --target URL|ADDR[,ADDR...] [--lang vi|en]\n"
            "       touchpoint-collector endpoint list [--json]\n"
            "       touchpoint-collector endpoint test NAME\n"
            "  every one takes --store sqlite:PATH|postgresql://... (or env TP_COLLECTOR_STORE)\n");
}

/* Prints the endpoint list as a table (--json: as the admin API's JSON). */
static void print_list(const cJSON *list)
{
    printf("%-20s %-11s %-7s %-24s %7s %5s  %s\n", "NAME", "KIND", "STATE", "FAILING SINCE",
           "PENDING", "DEAD", "LAST ERROR");
    for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
        const cJSON *fs = cJSON_GetObjectItemCaseSensitive(e, "failing_since_ms");
        const char *le = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "last_error"));
        char since[40] = "-";
        if (cJSON_IsNumber(fs))
            tp_format_local((int64_t)fs->valuedouble, since, sizeof since);
        printf("%-20s %-11s %-7s %-24.24s %7.0f %5.0f  %s\n",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "kind")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "state")), since,
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "pending")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "dead")), le ? le : "-");
    }
}

int cdeliver_cli_main(int argc, char **argv)
{
    const char *store = getenv("TP_COLLECTOR_STORE"), *kind = NULL, *target = NULL, *lang = NULL;
    const char *name = NULL, *op = NULL;
    bool json = false;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = strcmp(a, "--store") == 0    ? &store
                            : strcmp(a, "--kind") == 0   ? &kind
                            : strcmp(a, "--target") == 0 ? &target
                            : strcmp(a, "--lang") == 0   ? &lang
                                                         : NULL;
        if (slot && v) {
            *slot = v;
            i++;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (!slot && a[0] != '-' && !name) {
            name = a;
        } else {
            usage();
            return 2;
        }
    }
    const char *verb = argc > 2 ? argv[2] : "";
    bool add = strcmp(verb, "add") == 0, list = strcmp(verb, "list") == 0,
         test = strcmp(verb, "test") == 0;
    if (!store || !(add || list || test) || (list == (name != NULL)) ||
        (add && (!kind || !target)) || (!add && (kind || target || lang))) {
        usage();
        return 2;
    }
    op = add ? "endpoint.add" : list ? "endpoint.list" : "endpoint.test";
    cJSON *args = cJSON_CreateObject(), *result = NULL;
    if (name)
        cJSON_AddStringToObject(args, "name", name);
    if (kind)
        cJSON_AddStringToObject(args, "kind", kind);
    if (target)
        cJSON_AddStringToObject(args, "target", target);
    if (lang)
        cJSON_AddStringToObject(args, "lang", lang);
    char err[TP_ERRMSG_MAX];
    int status = 1;
    tp_err rc = cfleet_cli_call(store, op, args, &result, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: endpoint %s%s%s: %s\n", verb, name ? " " : "",
                name ? name : "", err);
        goto out;
    }
    const char *secret = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "secret"));
    if (secret) {
        printf("%s\n", secret);
        fprintf(stderr,
                "touchpoint-collector: signing secret of endpoint %s (shown once): give it to "
                "the receiver to check webhook-signature\n",
                name);
    } else if (list && !json) {
        print_list(result);
    } else {
        char *text = cJSON_Print(result);
        if (text)
            printf("%s\n", text);
        free(text);
    }
    status = 0;
out:
    cJSON_Delete(args);
    cJSON_Delete(result);
    return status;
}

void cdeliver_cli_usage(FILE *f)
{
    fprintf(f,
            "  --smtp URL      SMTP server of e-mail endpoints: smtp://HOST:PORT (STARTTLS when\n"
            "                  offered) or smtps://HOST:PORT\n"
            "  --smtp-user U, --smtp-password-file F   SMTP AUTH (the file's first line)\n"
            "  --mail-from A   sender address of e-mail (default touchpoint@localhost)\n"
            "  --smtp-starttls try|require   require: refuse to send without TLS (default try)\n"
            "  --deliver-workers N           concurrent deliveries (default 4)\n"
            "  --deliver-backoff-ms MS       first retry delay bound, doubling with full jitter\n"
            "                                up to 120 x MS (default 30000: 1 h)\n"
            "  --deliver-give-up-ms MS       a message older than this is dead (default 24 h)\n"
            "  --deliver-timeout-ms MS       one delivery request, all in (default 30000)\n"
            "  --deliver-poll-ms MS          look for due messages this often (default 250)\n"
            "  --endpoint-failing-after-ms MS  failing without a success this long: the\n"
            "                                endpoint is marked failing (default 1 h)\n");
}

/* Parses a count of milliseconds in [1, 10^10]. */
static int ms_arg(const char *a, const char *val, int64_t *out)
{
    char *end = NULL;
    long long v = val ? strtoll(val, &end, 10) : 0;
    if (!val || end == val || *end || v < 1 || v > 10000000000LL) {
        fprintf(stderr, "touchpoint-collector: %s: expected milliseconds (1..10^10)\n", a);
        return -1;
    }
    *out = v;
    return 1;
}

int cdeliver_cli_option(const char *a, const char *val, cdeliver_options *o)
{
    static char password[512];
    if (strcmp(a, "--smtp") == 0)
        o->smtp_url = val;
    else if (strcmp(a, "--smtp-user") == 0)
        o->smtp_user = val;
    else if (strcmp(a, "--mail-from") == 0)
        o->mail_from = val;
    else if (strcmp(a, "--smtp-starttls") == 0) {
        if (strcmp(val, "try") != 0 && strcmp(val, "require") != 0) {
            fprintf(stderr, "touchpoint-collector: --smtp-starttls: expected try or require\n");
            return -1;
        }
        o->starttls_require = val[0] == 'r';
    } else if (strcmp(a, "--smtp-password-file") == 0) {
        char *data = NULL, err[TP_ERRMSG_MAX];
        if (tp_read_file(val, sizeof password - 1, &data, NULL, err, sizeof err) != TP_OK) {
            fprintf(stderr, "touchpoint-collector: --smtp-password-file: %s\n", err);
            return -1;
        }
        data[strcspn(data, "\r\n")] = '\0';
        tp_strlcpy(password, data, sizeof password);
        free(data);
        if (!password[0]) {
            fprintf(stderr, "touchpoint-collector: --smtp-password-file: %s is empty\n", val);
            return -1;
        }
        o->smtp_password = password;
    } else if (strcmp(a, "--deliver-workers") == 0) {
        int64_t n = 0;
        if (ms_arg(a, val, &n) < 0 || n > 64) {
            fprintf(stderr, "touchpoint-collector: --deliver-workers: expected 1..64\n");
            return -1;
        }
        o->workers = (unsigned)n;
    } else if (strcmp(a, "--deliver-backoff-ms") == 0)
        return ms_arg(a, val, &o->backoff_ms);
    else if (strcmp(a, "--deliver-give-up-ms") == 0)
        return ms_arg(a, val, &o->give_up_ms);
    else if (strcmp(a, "--deliver-timeout-ms") == 0)
        return ms_arg(a, val, &o->timeout_ms);
    else if (strcmp(a, "--deliver-poll-ms") == 0)
        return ms_arg(a, val, &o->poll_ms);
    else if (strcmp(a, "--endpoint-failing-after-ms") == 0)
        return ms_arg(a, val, &o->failing_after_ms);
    else
        return 0;
    return 1;
}
