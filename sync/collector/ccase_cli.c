/*
 * ccase_cli.c - the `case` and `digest` subcommands (see ccase_cli.h) as a const table: each
 * command names its operation, the action it adds, its positional argument and the options it
 * takes, which become the same JSON arguments the admin API gets.
 */
#include "ccase_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfleet.h"
#include "cfleet_cli.h"

static const struct cmd {
    const char *group, *verb, *op, *action;
    const char *pos;      /* the JSON name of the positional argument, or NULL */
    const char *opts;     /* options taken (" name " words) */
    const char *required; /* options required */
} cmds[] = {
    {"case", "list", "case.list", NULL, NULL, " state node ", ""},
    {"case", "show", "case.list", NULL, "id", "", ""},
    {"case", "ack", "case.act", "ack", "id", " text ", ""},
    {"case", "comment", "case.act", "comment", "id", " text ", " text "},
    {"case", "assign", "case.act", "assign", "id", " assignee ", " assignee "},
    {"case", "resolve", "case.act", "resolve", "id", " text ", ""},
    {"case", "reopen", "case.act", "reopen", "id", " text ", ""},
    {"digest", "add", "digest.act", "add", NULL, " node period endpoint lang ",
     " node period endpoint "},
    {"digest", "list", "digest.list", NULL, NULL, "", ""},
    {"digest", "send-now", "digest.act", "send-now", "id", " period ", ""},
    {"digest", "remove", "digest.act", "remove", "id", "", ""},
};

bool ccase_cli_is(int argc, char **argv)
{
    return argc > 1 && (strcmp(argv[1], "case") == 0 || strcmp(argv[1], "digest") == 0);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: touchpoint-collector case list [--state open|acknowledged|resolved|active|all]"
            " [--node PATH]\n"
            "       touchpoint-collector case show ID\n"
            "       touchpoint-collector case ack ID [--text T]\n"
            "       touchpoint-collector case comment ID --text T\n"
            "       touchpoint-collector case assign ID --assignee WHO\n"
            "       touchpoint-collector case resolve ID [--text T] | reopen ID [--text T]\n"
            "       touchpoint-collector digest add --node PATH --period daily|weekly"
            " --endpoint NAME [--lang vi|en]\n"
            "       touchpoint-collector digest list\n"
            "       touchpoint-collector digest send-now ID [--period YYYY-MM-DD|YYYY-Www]\n"
            "       touchpoint-collector digest remove ID\n"
            "  every one takes --store sqlite:PATH|postgresql://... (or env TP_COLLECTOR_STORE)\n");
}

/* Whether word appears as " word " in list. */
static bool listed(const char *list, const char *word)
{
    char w[40];
    snprintf(w, sizeof w, " %s ", word);
    return strstr(list, w) != NULL;
}

/* Builds args from argv[3..]; returns the command or NULL (usage). */
static const struct cmd *build(int argc, char **argv, const char **store, cJSON *args)
{
    const struct cmd *c = NULL;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmds[i].group, argv[1]) == 0 && strcmp(cmds[i].verb, argv[2]) == 0)
            c = &cmds[i];
    if (!c)
        return NULL;
    *store = getenv("TP_COLLECTOR_STORE");
    if (c->action)
        cJSON_AddStringToObject(args, "action", c->action);
    bool have_pos = false;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strncmp(a, "--", 2) == 0) {
            if (!v)
                return NULL;
            if (strcmp(a, "--store") == 0)
                *store = v;
            else if (listed(c->opts, a + 2) && !cJSON_HasObjectItem(args, a + 2))
                cJSON_AddStringToObject(args, a + 2, v);
            else
                return NULL;
            i++;
        } else if (c->pos && !have_pos) {
            cJSON_AddStringToObject(args, c->pos, a);
            have_pos = true;
        } else {
            return NULL;
        }
    }
    if ((c->pos && !have_pos) || !*store)
        return NULL;
    /* Each required option present: " a b " walked word by word. */
    for (const char *p = c->required; *p;) {
        char w[40];
        size_t n;
        p += strspn(p, " ");
        n = strcspn(p, " ");
        if (n == 0)
            break;
        snprintf(w, sizeof w, "%.*s", (int)n, p);
        if (!cJSON_HasObjectItem(args, w))
            return NULL;
        p += n;
    }
    return c;
}

int ccase_cli_main(int argc, char **argv)
{
    const char *store = NULL;
    char err[TP_ERRMSG_MAX];
    cJSON *args = cJSON_CreateObject(), *result = NULL;
    const struct cmd *c = argc >= 3 && args ? build(argc, argv, &store, args) : NULL;
    int status = 1;
    if (!c) {
        usage();
        cJSON_Delete(args);
        return 2;
    }
    tp_err rc = cfleet_cli_call(store, c->op, args, &result, err, sizeof err);
    if (rc != TP_OK) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "id"));
        fprintf(stderr, "touchpoint-collector: %s %s%s%s: %s\n", argv[1], argv[2], id ? " " : "",
                id ? id : "", err);
    } else {
        char *text = cJSON_Print(result);
        if (text)
            printf("%s\n", text);
        free(text);
        status = 0;
    }
    cJSON_Delete(args);
    cJSON_Delete(result);
    return status;
}
