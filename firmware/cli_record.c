/*
 * cli_record.c - `touchpoint record`: records one customer session through the same store call
 * the kiosk uses (store_record_session), for scripts, tests and staff checks. The ids and seqs are
 * printed only after the call returned TP_OK, i.e. once the answers are durable.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

#define CMD "record"

static void record_help(FILE *f)
{
    fputs("Usage: touchpoint [--db PATH] record --survey ID --survey-version N --store S\n"
          "           --touchpoint T --lang L --answer QID=KIND:VALUE [--answer ...]\n"
          "           [--session UUID] [--flag rapid_repeat|button ...]\n"
          "\n"
          "Records one customer session durably and prints, once it is on disk:\n"
          "  session <session id>\n"
          "  answer <answer id> seq <seq> question <question id>     (one line per answer)\n"
          "\n"
          "Options:\n"
          "  --survey ID            survey id (1-64 of A-Z a-z 0-9 . _ -)\n"
          "  --survey-version N     survey version, >= 1\n"
          "  --store S              store id\n"
          "  --touchpoint T         touchpoint id (e.g. exit, checkout)\n"
          "  --lang L               language tag (vi, en)\n"
          "  --answer QID=KIND:VALUE  one answer; KIND is nps (0-10), csat (1-5), ces (1-7),\n"
          "                         smiley4 (1-4) or choice (VALUE is the choice id); up to 16\n"
          "  --session UUID         add follow-up answers to an earlier session\n"
          "  --flag NAME            rapid_repeat or button, applied to every answer\n"
          "\n"
          "Examples:\n"
          "  touchpoint --db answers.db record --survey checkout-nps --survey-version 2 \\\n"
          "      --store hcm-01 --touchpoint exit --lang vi --answer recommend=nps:9 \\\n"
          "      --answer reason=choice:wait_time\n"
          "\n"
          "Exit status: 0 recorded; 1 a value was rejected (the option is named) or the database\n"
          "failed (disk full, read-only, locked); 2 usage error. Nothing is stored unless 0.\n",
          f);
}

/* Checks an id-valued option; prints the problem naming the option. */
static bool check_id(const struct cli_ctx *ctx, const char *opt, const char *v)
{
    if (tp_id_valid(v))
        return true;
    cli_fail(ctx, CMD, "--%s: '%s' is not a valid id (1-64 characters of A-Z a-z 0-9 . _ -)", opt,
             v);
    return false;
}

/* Parses "QID=KIND:VALUE" into a (pointing into text, which is modified). Returns CLI_OK,
 * CLI_USAGE (not of that shape) or CLI_FAIL (a value rejected, message printed). */
static int parse_answer(const struct cli_ctx *ctx, char *text, store_answer_in *a)
{
    char *orig_eq = strchr(text, '=');
    char *colon = orig_eq ? strchr(orig_eq + 1, ':') : NULL;
    if (!orig_eq || !colon)
        return cli_usage(ctx, CMD, "--answer '%s': expected QID=KIND:VALUE (e.g. recommend=nps:9)",
                         text);
    char full[TP_ID_MAX * 3 + 16];
    snprintf(full, sizeof full, "%s", text);
    *orig_eq = '\0';
    *colon = '\0';
    const char *qid = text, *kind = orig_eq + 1, *value = colon + 1;
    memset(a, 0, sizeof *a);
    a->question_id = qid;
    if (!tp_id_valid(qid))
        return cli_fail(ctx, CMD,
                        "--answer '%s': question id '%s' is not a valid id (1-64 characters of "
                        "A-Z a-z 0-9 . _ -)",
                        full, qid);
    if (tp_kind_parse(kind, &a->kind) != TP_OK)
        return cli_fail(ctx, CMD,
                        "--answer '%s': unknown kind '%s' (nps, csat, ces, smiley4, choice)", full,
                        kind);
    if (a->kind == TP_KIND_CHOICE) {
        if (!tp_id_valid(value))
            return cli_fail(ctx, CMD,
                            "--answer '%s': choice id '%s' is not a valid id (1-64 characters of "
                            "A-Z a-z 0-9 . _ -)",
                            full, value);
        a->choice_id = value;
        return CLI_OK;
    }
    int lo = 0, hi = 0;
    long long v;
    (void)tp_kind_range(a->kind, &lo, &hi);
    if (!cli_parse_int(value, lo, hi, &v))
        return cli_fail(ctx, CMD, "--answer '%s': %s value '%s' is not a whole number in %d..%d",
                        full, kind, value, lo, hi);
    a->value = (int)v;
    return CLI_OK;
}

static int record_run(const struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"survey", required_argument, NULL, 's'},
        {"survey-version", required_argument, NULL, 'v'},
        {"store", required_argument, NULL, 'S'},
        {"touchpoint", required_argument, NULL, 't'},
        {"lang", required_argument, NULL, 'l'},
        {"answer", required_argument, NULL, 'a'},
        {"session", required_argument, NULL, 'e'},
        {"flag", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    store_session_in in = {0};
    store_answer_in answers[STORE_SESSION_MAX_ANSWERS];
    char *answer_text[STORE_SESSION_MAX_ANSWERS];
    size_t n_answers = 0;
    const char *version = NULL;
    store *s = NULL;
    int rc = CLI_OK, c;

    while ((c = cli_getopt(argc, argv, ":", opts, "af")) != -1) {
        switch (c) {
        case 's': in.survey_id = optarg; break;
        case 'v': version = optarg; break;
        case 'S': in.store_id = optarg; break;
        case 't': in.touchpoint_id = optarg; break;
        case 'l': in.lang = optarg; break;
        case 'e': in.session_id = optarg; break;
        case 'a':
            if (n_answers == STORE_SESSION_MAX_ANSWERS)
                return cli_usage(ctx, CMD, "at most %d --answer options per session",
                                 STORE_SESSION_MAX_ANSWERS);
            answer_text[n_answers++] = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "rapid_repeat") == 0)
                in.flags |= TP_FLAG_RAPID_REPEAT;
            else if (strcmp(optarg, "button") == 0)
                in.flags |= TP_FLAG_BUTTON;
            else
                return cli_fail(ctx, CMD, "--flag: unknown flag '%s' (rapid_repeat, button)",
                                optarg);
            break;
        default: return cli_bad_option(ctx, CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage(ctx, CMD, "unexpected argument '%s'", argv[optind]);
    static const char *const required[] = {"--survey",     "--survey-version", "--store",
                                           "--touchpoint", "--lang",           "--answer"};
    const void *given[] = {in.survey_id,     version, in.store_id,
                           in.touchpoint_id, in.lang, n_answers ? "" : NULL};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        if (!given[i])
            return cli_usage(ctx, CMD, "missing %s", required[i]);

    /* Check each value here too, so the message names the option the user typed. */
    long long ver;
    if (!cli_parse_int(version, 1, 1000000000, &ver))
        return cli_fail(ctx, CMD, "--survey-version: '%s' is not a whole number in 1..1000000000",
                        version);
    in.survey_version = (int)ver;
    if (!check_id(ctx, "survey", in.survey_id) || !check_id(ctx, "store", in.store_id) ||
        !check_id(ctx, "touchpoint", in.touchpoint_id))
        return CLI_FAIL;
    if (!tp_lang_valid(in.lang))
        return cli_fail(ctx, CMD, "--lang: '%s' is not a language tag (2-8 of a-z A-Z -, e.g. vi)",
                        in.lang);
    if (in.session_id && !tp_uuid_valid(in.session_id))
        return cli_fail(ctx, CMD, "--session: '%s' is not a UUID", in.session_id);
    for (size_t i = 0; i < n_answers; i++) {
        rc = parse_answer(ctx, answer_text[i], &answers[i]);
        if (rc != CLI_OK)
            return rc;
    }
    in.n_answers = n_answers;
    in.answers = answers;

    rc = cli_open_store(ctx, CMD, false, &s);
    if (rc != CLI_OK)
        return rc;
    char session[TP_UUID_STR];
    store_receipt receipts[STORE_SESSION_MAX_ANSWERS];
    tp_err trc = store_record_session(s, &in, session, receipts);
    if (trc != TP_OK) {
        rc = cli_store_fail(ctx, CMD, s, trc);
        goto out;
    }
    /* Durable now: only from here on is anything printed. */
    printf("session %s\n", session);
    for (size_t i = 0; i < n_answers; i++)
        printf("answer %s seq %lld question %s\n", receipts[i].id, (long long)receipts[i].seq,
               answers[i].question_id);
out:
    store_close(s);
    return rc;
}

const struct cli_cmd cli_cmd_record = {
    .name = "record",
    .summary = "record one customer session (answers printed once durable)",
    .run = record_run,
    .help = record_help,
};
