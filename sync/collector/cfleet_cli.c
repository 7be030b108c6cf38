/*
 * cfleet_cli.c - the fleet subcommands (see cfleet_cli.h). Arguments become the same JSON the
 * admin API takes, so both run one code path (cfleet_call).
 */
#include "cfleet_cli.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfleet.h"

static const char *const groups[] = {"node",        "device", "survey",
                                     "admin-token", "audit",  "read-token"};

bool cfleet_cli_is(int argc, char **argv)
{
    for (size_t i = 0; argc > 1 && i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(argv[1], groups[i]) == 0)
            return true;
    return false;
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: touchpoint-collector node set PATH [--settings JSON | --settings-file F]\n"
        "       touchpoint-collector node list\n"
        "       touchpoint-collector device add ID --node PATH\n"
        "       touchpoint-collector device move ID --node PATH\n"
        "       touchpoint-collector device revoke ID | rotate-token ID\n"
        "       touchpoint-collector device import FILE [--node PATH]\n"
        "       touchpoint-collector device approve CODE --node PATH [--id ID]   (default: the id\n"
        "                            the device sent with its code)\n"
        "       touchpoint-collector device list\n"
        "       touchpoint-collector survey publish FILE\n"
        "       touchpoint-collector survey assign ID@VERSION --node PATH | --devices ID,ID\n"
        "       touchpoint-collector survey list\n"
        "       touchpoint-collector admin-token add NAME | revoke NAME | list\n"
        "       touchpoint-collector audit list\n"
        "       touchpoint-collector read-token add NAME --node PATH | revoke NAME | list\n"
        "       touchpoint-collector audit reads [--token NAME] [--since YYYY-MM-DD]\n"
        "  every one takes --store sqlite:PATH|postgresql://... (or env TP_COLLECTOR_STORE)\n");
}

typedef struct cli {
    const char *store, *node, *settings, *settings_file, *id, *devices, *token, *since;
    const char *pos[2];
    int n_pos;
} cli;

static bool parse(int argc, char **argv, cli *c)
{
    memset(c, 0, sizeof *c);
    c->store = getenv("TP_COLLECTOR_STORE");
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = strcmp(a, "--store") == 0           ? &c->store
                            : strcmp(a, "--node") == 0          ? &c->node
                            : strcmp(a, "--settings") == 0      ? &c->settings
                            : strcmp(a, "--settings-file") == 0 ? &c->settings_file
                            : strcmp(a, "--id") == 0            ? &c->id
                            : strcmp(a, "--devices") == 0       ? &c->devices
                            : strcmp(a, "--token") == 0         ? &c->token
                            : strcmp(a, "--since") == 0         ? &c->since
                                                                : NULL;
        if (slot) {
            if (!v)
                return false;
            *slot = v;
            i++;
        } else if (a[0] != '-' && c->n_pos < 2) {
            c->pos[c->n_pos++] = a;
        } else {
            return false;
        }
    }
    return c->store != NULL;
}

static char *read_text(const char *path, const char *what)
{
    char *data = NULL, err[TP_ERRMSG_MAX];
    size_t len = 0;
    if (tp_read_file(path, CFLEET_DOC_MAX, &data, &len, err, sizeof err) != TP_OK) {
        fprintf(stderr, "touchpoint-collector: %s: %s\n", what, err);
        return NULL;
    }
    return data;
}

/* Builds the operation and its arguments from the command line. */
static int build(const char *group, const char *verb, cli *c, const char **op, cJSON *args)
{
    const char *p0 = c->pos[0];
    char *text = NULL;
#define WANT(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return 2;                                                                              \
    } while (0)
    if (strcmp(group, "node") == 0 && strcmp(verb, "set") == 0) {
        WANT(p0 && !(c->settings && c->settings_file));
        *op = "node.set";
        cJSON_AddStringToObject(args, "path", p0);
        if (c->settings_file && !(text = read_text(c->settings_file, "--settings-file")))
            return 1;
        const char *js = text ? text : c->settings;
        if (js) {
            cJSON *s = cJSON_Parse(js);
            free(text);
            if (!s) {
                fprintf(stderr, "touchpoint-collector: node set: $.settings: not valid JSON\n");
                return 1;
            }
            cJSON_AddItemToObject(args, "settings", s);
        }
    } else if (strcmp(verb, "list") == 0) {
        WANT(!p0);
        *op = strcmp(group, "node") == 0          ? "node.list"
              : strcmp(group, "device") == 0      ? "device.list"
              : strcmp(group, "survey") == 0      ? "survey.list"
              : strcmp(group, "audit") == 0       ? "audit.list"
              : strcmp(group, "read-token") == 0  ? "read-token.list"
              : strcmp(group, "admin-token") == 0 ? "admin.list"
                                                  : NULL;
        WANT(*op);
    } else if (strcmp(group, "device") == 0 &&
               (strcmp(verb, "add") == 0 || strcmp(verb, "move") == 0)) {
        WANT(p0 && c->node);
        *op = verb[0] == 'a' ? "device.add" : "device.move";
        cJSON_AddStringToObject(args, "id", p0);
        cJSON_AddStringToObject(args, "node", c->node);
    } else if (strcmp(group, "device") == 0 &&
               (strcmp(verb, "revoke") == 0 || strcmp(verb, "rotate-token") == 0)) {
        WANT(p0);
        *op = verb[0] == 'r' && verb[1] == 'e' ? "device.revoke" : "device.rotate";
        cJSON_AddStringToObject(args, "id", p0);
    } else if (strcmp(group, "device") == 0 && strcmp(verb, "approve") == 0) {
        WANT(p0 && c->node);
        *op = "device.approve";
        cJSON_AddStringToObject(args, "code", p0);
        cJSON_AddStringToObject(args, "node", c->node);
        if (c->id)
            cJSON_AddStringToObject(args, "id", c->id);
    } else if (strcmp(group, "device") == 0 && strcmp(verb, "import") == 0) {
        WANT(p0);
        cauth *file = NULL;
        char err[TP_ERRMSG_MAX], id[TP_ID_MAX + 1], hx[65];
        if (cauth_open(p0, &file, err, sizeof err) != TP_OK) {
            fprintf(stderr, "touchpoint-collector: device import: %s\n", err);
            return 1;
        }
        *op = "device.import";
        cJSON *arr = cJSON_AddArrayToObject(args, "devices");
        for (size_t i = 0; cauth_entry(file, i, id, hx); i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "id", id);
            cJSON_AddStringToObject(d, "token_sha256", hx);
            cJSON_AddItemToArray(arr, d);
        }
        cauth_free(file);
        if (c->node)
            cJSON_AddStringToObject(args, "node", c->node);
    } else if (strcmp(group, "survey") == 0 && strcmp(verb, "publish") == 0) {
        WANT(p0);
        if (!(text = read_text(p0, p0)))
            return 1;
        *op = "survey.publish";
        cJSON_AddStringToObject(args, "document", text);
        cJSON_AddStringToObject(args, "file", p0);
        free(text);
    } else if (strcmp(group, "survey") == 0 && strcmp(verb, "assign") == 0) {
        const char *at = p0 ? strchr(p0, '@') : NULL;
        char *end = NULL, sid[TP_ID_MAX + 1];
        WANT(at && (size_t)(at - p0) <= TP_ID_MAX && !c->node != !c->devices);
        long v = strtol(at + 1, &end, 10);
        WANT(end != at + 1 && !*end && v >= 1);
        snprintf(sid, sizeof sid, "%.*s", (int)(at - p0), p0);
        *op = "survey.assign";
        cJSON_AddStringToObject(args, "survey", sid);
        cJSON_AddNumberToObject(args, "version", (double)v);
        if (c->node) {
            cJSON_AddStringToObject(args, "node", c->node);
        } else {
            cJSON *arr = cJSON_AddArrayToObject(args, "devices");
            for (const char *p = c->devices; *p;) {
                size_t n = strcspn(p, ",");
                char id[TP_ID_MAX + 1];
                snprintf(id, sizeof id, "%.*s", (int)(n > TP_ID_MAX ? TP_ID_MAX : n), p);
                cJSON_AddItemToArray(arr, cJSON_CreateString(id));
                p += n + (p[n] == ',');
            }
        }
    } else if (strcmp(group, "read-token") == 0 && strcmp(verb, "add") == 0) {
        WANT(p0 && c->node);
        *op = "read-token.add";
        cJSON_AddStringToObject(args, "name", p0);
        cJSON_AddStringToObject(args, "node", c->node);
    } else if ((strcmp(group, "read-token") == 0 || strcmp(group, "admin-token") == 0) &&
               strcmp(verb, "revoke") == 0) {
        WANT(p0);
        *op = group[0] == 'r' ? "read-token.revoke" : "admin.revoke";
        cJSON_AddStringToObject(args, "name", p0);
    } else if (strcmp(group, "audit") == 0 && strcmp(verb, "reads") == 0) {
        WANT(!p0);
        *op = "read-audit.list";
        if (c->token)
            cJSON_AddStringToObject(args, "token", c->token);
        if (c->since)
            cJSON_AddStringToObject(args, "since", c->since);
    } else if (strcmp(group, "admin-token") == 0 && strcmp(verb, "add") == 0) {
        WANT(p0);
        *op = "admin.add";
        cJSON_AddStringToObject(args, "name", p0);
    } else {
        return 2;
    }
#undef WANT
    return 0;
}

tp_err cfleet_cli_call(const char *store_url, const char *op, const cJSON *args, cJSON **result,
                       char *err, size_t errlen)
{
    char actor[80];
    cstore *s = NULL;
    struct passwd *pw = getpwuid(geteuid());
    snprintf(actor, sizeof actor, "cli:%s", pw ? pw->pw_name : "unknown");
    tp_err rc = cstore_open(store_url, 1, &s, err, errlen);
    if (rc == TP_OK)
        rc = cfleet_call(s, actor, op, args, tp_clock_system()->wall_ms(tp_clock_system()->ctx),
                         result, err, errlen);
    cstore_close(s);
    return rc;
}

int cfleet_cli_main(int argc, char **argv)
{
    cli c;
    const char *op = NULL;
    char err[TP_ERRMSG_MAX];
    cJSON *args = cJSON_CreateObject(), *result = NULL;
    int status = 2;
    if (argc < 3 || !parse(argc, argv, &c) || !args ||
        (status = build(argv[1], argv[2], &c, &op, args)) != 0) {
        if (status == 2)
            usage();
        cJSON_Delete(args);
        return status;
    }
    status = 1;
    tp_err rc = cfleet_cli_call(c.store, op, args, &result, err, sizeof err);
    if (rc != TP_OK) {
        /* survey publish: the parser's message starts with the file already. */
        bool named = c.pos[0] && strcmp(op, "survey.publish") != 0;
        fprintf(stderr, "touchpoint-collector: %s %s%s%s: %s\n", argv[1], argv[2], named ? " " : "",
                named ? c.pos[0] : "", err);
        goto out;
    }
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(result, "token");
    if (cJSON_IsString(token)) {
        /* The token is shown once: alone on stdout, so scripts can take it. */
        printf("%s\n", token->valuestring);
        fprintf(stderr,
                "touchpoint-collector: token of %s (shown once; the store keeps its hash)\n",
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "id"))
                    ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "id"))
                    : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "name")));
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
