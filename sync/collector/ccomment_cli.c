/*
 * ccomment_cli.c - touchpoint-collector's comment subcommands (see ccomment.h):
 *
 *   comments export [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--node PATH]   CSV on stdout
 *   comments retention [--now-ms MS]      the retention job once (the collector runs it daily)
 *   tags list [--chain C] | tags set --chain C --file F                   keyword lists
 *   privacy export --phone P | --email E  everything about a person, JSON on stdout
 *   privacy erase --phone P | --email E   their contact details removed everywhere
 *
 * Each takes --store (or TP_COLLECTOR_STORE) and acts as "cli:<unix user>" in the audit log.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccomment.h"
#include "cfleet.h"

static const char *const groups[] = {"comments", "tags", "privacy"};

bool ccomment_cli_is(int argc, char **argv)
{
    for (size_t i = 0; argc > 1 && i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(argv[1], groups[i]) == 0)
            return true;
    return false;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: touchpoint-collector comments export [--from YYYY-MM-DD] [--to YYYY-MM-DD]"
            " [--node PATH]\n"
            "       touchpoint-collector comments retention [--now-ms MS]\n"
            "       touchpoint-collector tags list [--chain CHAIN]\n"
            "       touchpoint-collector tags set --chain CHAIN --file LISTS.json\n"
            "       touchpoint-collector privacy export --phone P | --email E\n"
            "       touchpoint-collector privacy erase --phone P | --email E\n"
            "  every one takes --store sqlite:PATH|postgresql://... (or env TP_COLLECTOR_STORE)\n");
    return 2;
}

typedef struct opts {
    const char *store, *from, *to, *node, *now, *chain, *file, *phone, *email;
} opts;

static bool parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->store = getenv("TP_COLLECTOR_STORE");
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--store") == 0    ? &o->store
                            : strcmp(a, "--from") == 0   ? &o->from
                            : strcmp(a, "--to") == 0     ? &o->to
                            : strcmp(a, "--node") == 0   ? &o->node
                            : strcmp(a, "--now-ms") == 0 ? &o->now
                            : strcmp(a, "--chain") == 0  ? &o->chain
                            : strcmp(a, "--file") == 0   ? &o->file
                            : strcmp(a, "--phone") == 0  ? &o->phone
                            : strcmp(a, "--email") == 0  ? &o->email
                                                         : NULL;
        if (!slot || i + 1 >= argc)
            return false;
        *slot = argv[++i];
    }
    return o->store != NULL;
}

static int print_json(cJSON *o)
{
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return 1;
    printf("%s\n", text);
    free(text);
    return 0;
}

static int run(cstore *s, const char *actor, int argc, char **argv, const opts *o, int64_t now)
{
    char err[TP_ERRMSG_MAX] = "";
    const char *g = argv[1], *sub = argv[2];
    tp_err rc = TP_OK;
    cJSON *out = NULL;
    if (strcmp(g, "comments") == 0 && strcmp(sub, "export") == 0) {
        int64_t from = 0, to = INT64_MAX / 2;
        if ((o->from && tp_parse_date_local(o->from, &from) != TP_OK) ||
            (o->to && tp_parse_date_local(o->to, &to) != TP_OK)) {
            fprintf(stderr, "touchpoint-collector: comments export: --from/--to: expected "
                            "YYYY-MM-DD\n");
            return 2;
        }
        if (o->to)
            to = tp_local_day_start(to + 36LL * 3600000, NULL);
        if (o->node && cfleet_path_check(o->node, err, sizeof err) != TP_OK) {
            fprintf(stderr, "touchpoint-collector: comments export: --node: %s\n", err);
            return 2;
        }
        char *csv = NULL;
        rc = ccomment_export_csv(s, o->node ? o->node : "", from, to, actor, now, &csv, err,
                                 sizeof err);
        if (rc == TP_OK) {
            fputs(csv, stdout);
            free(csv);
            return 0;
        }
    } else if (strcmp(g, "comments") == 0 && strcmp(sub, "retention") == 0) {
        int cleared = 0;
        rc = ccomment_retention_run(s, o->now ? strtoll(o->now, NULL, 10) : now, &cleared, err,
                                    sizeof err);
        if (rc == TP_OK) {
            printf("{\"cleared\": %d}\n", cleared);
            return 0;
        }
    } else if (strcmp(g, "tags") == 0 && (strcmp(sub, "list") == 0 || strcmp(sub, "set") == 0)) {
        bool set = strcmp(sub, "set") == 0;
        cJSON *args = cJSON_CreateObject();
        if ((set && !o->chain) || (set && !o->file)) {
            cJSON_Delete(args);
            return usage();
        }
        if (o->chain)
            cJSON_AddStringToObject(args, "chain", o->chain);
        if (set) {
            char *text = NULL;
            size_t len = 0;
            rc = tp_read_file(o->file, 1u << 20, &text, &len, err, sizeof err);
            cJSON *lists = rc == TP_OK ? cJSON_ParseWithLength(text, len) : NULL;
            free(text);
            if (rc == TP_OK && !lists)
                rc = tp_errf(err, sizeof err, TP_ERR_INVALID, "%s: not valid JSON", o->file);
            cJSON_AddItemToObject(args, "lists", lists);
        }
        if (rc == TP_OK)
            rc = cfleet_call(s, actor, set ? "tags.set" : "tags.list", args, now, &out, err,
                             sizeof err);
        cJSON_Delete(args);
        if (rc == TP_OK)
            return print_json(out);
    } else if (strcmp(g, "privacy") == 0 &&
               (strcmp(sub, "export") == 0 || strcmp(sub, "erase") == 0)) {
        rc = ccomment_privacy(s, actor, strcmp(sub, "erase") == 0, o->phone, o->email, now, &out,
                              err, sizeof err);
        if (rc == TP_OK)
            return print_json(out);
    } else {
        return usage();
    }
    fprintf(stderr, "touchpoint-collector: %s %s: %s\n", g, sub, *err ? err : tp_strerror(rc));
    return rc == TP_ERR_INVALID ? 2 : 1;
}

int ccomment_cli_main(int argc, char **argv)
{
    char err[TP_ERRMSG_MAX], actor[80];
    opts o;
    if (argc < 3 || !parse(argc, argv, &o))
        return usage();
    struct passwd *pw = getpwuid(geteuid());
    snprintf(actor, sizeof actor, "cli:%s", pw ? pw->pw_name : "unknown");
    cstore *s = NULL;
    tp_err rc = cstore_open(o.store, 1, &s, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "touchpoint-collector: %s: %s\n", argv[1], err);
        return 1;
    }
    int st = run(s, actor, argc, argv, &o, tp_clock_system()->wall_ms(tp_clock_system()->ctx));
    cstore_close(s);
    return st;
}
