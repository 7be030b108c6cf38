/*
 * gen_answers.c - fills a device database with N realistic answers through the real store API,
 * for the sync end-to-end test and the sync benchmarks.
 *
 * The answers look like a kiosk's: several touchpoints and surveys (NPS with a follow-up reason,
 * CSAT, CES, smiley4 from a button), Vietnamese and English, opening hours over several days,
 * a new boot each day, some days with an untrusted clock (no NTP yet), a few rapid repeats.
 * Time runs on a tp_vclock so the values are spread over the days asked for; the values and the
 * shape are reproducible from --seed (ids are still fresh UUIDv7s).
 *
 * --untrusted-tail K makes the last K answers look like ones recorded during this very boot with
 * an unset clock: the system's boot id, monotonic times from the last minutes of this boot, clock
 * untrusted and a wall clock stuck in 2000-01-01. When the device syncs in the same boot, the
 * collector's clock rule must correct their time ("corrected") to about when they were made.
 *
 * Each session is one store_record_session() call (a durable transaction), as on the kiosk; put
 * the database on /dev/shm when making large backlogs, where fsync is cheap.
 *
 * Usage: gen_answers --db PATH --device ID --answers N [--seed S] [--days D] [--end-ms MS]
 *                    [--store ID] [--untrusted-tail K]
 *        gen_answers --dump --db PATH
 * The first form prints one line "gen_answers: PATH device ID: N answers in S sessions, seq
 * A..B, D days, P pending" and exits 0, or prints the store's error and exits 1. The second
 * prints every answer of the database (store_foreach_answer, read-only) as one tab-separated
 * line: seq id session survey survey_version question kind value choice lang store touchpoint
 * wall_ms clock_trusted(0/1) mono_ms boot_id flags state(pending/synced/rejected) reject_code;
 * value is "" for kind choice and choice "" for the rating kinds. The end-to-end test compares
 * these with the collector's rows field by field.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "tp.h"

/* splitmix64: a small, good, seedable generator, so the data do not depend on libc's rand(). */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Returns a uniform integer in [0, n). */
static int rng_below(uint64_t *s, int n)
{
    return (int)(rng_next(s) % (uint64_t)n);
}

/* Picks an index by integer weights. */
static int rng_weighted(uint64_t *s, const int *w, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    int r = rng_below(s, total);
    for (int i = 0; i < n; i++) {
        if (r < w[i])
            return i;
        r -= w[i];
    }
    return n - 1;
}

/* Customers are mostly happy: skewed distributions per kind. */
static const int NPS_W[11] = {2, 1, 1, 2, 2, 4, 5, 9, 16, 26, 32};
static const int CSAT_W[5] = {4, 6, 15, 35, 40};
static const int CES_W[7] = {3, 4, 8, 15, 25, 25, 20};
static const int SMILEY_W[4] = {6, 12, 32, 50};
static const char *const REASONS[] = {"staff", "speed", "price", "cleanliness", "choice"};
static const char *const TOUCHPOINTS[] = {"entrance", "checkout", "exit", "restroom"};

typedef struct gen {
    store *s;
    tp_vclock vc;
    uint64_t rng;
    const char *store_id;
    int64_t left;
    int64_t sessions;
    int followup_lo, followup_span; /* ms between an NPS answer and its follow-up reason */
} gen;

static tp_err record(gen *g, store_session_in *in, char sid[TP_UUID_STR])
{
    tp_err rc = store_record_session(g->s, in, sid, NULL);
    if (rc != TP_OK)
        fprintf(stderr, "gen_answers: store_record_session: %s: %s\n", tp_strerror(rc),
                store_errmsg(g->s));
    g->left -= (int64_t)in->n_answers;
    return rc;
}

/* Records one customer's session at the current virtual time. */
static tp_err one_session(gen *g)
{
    store_answer_in a[3];
    store_session_in in = {0};
    char sid[TP_UUID_STR];
    tp_err rc;
    int tp = rng_below(&g->rng, 4);

    memset(a, 0, sizeof a);
    in.store_id = g->store_id;
    in.touchpoint_id = TOUCHPOINTS[tp];
    in.lang = rng_below(&g->rng, 10) < 7 ? "vi" : "en";
    in.survey_version = 1 + rng_below(&g->rng, 2);
    in.flags = rng_below(&g->rng, 100) < 3 ? TP_FLAG_RAPID_REPEAT : 0;
    in.answers = a;
    g->sessions++;

    switch (tp) {
    case 0: /* entrance: CES */
        in.survey_id = "entry-ces";
        a[0] = (store_answer_in){"effort", TP_KIND_CES, 1 + rng_weighted(&g->rng, CES_W, 7), NULL};
        in.n_answers = 1;
        return record(g, &in, sid);
    case 1: /* checkout: NPS, then often a reason as a follow-up call of the same session */
        in.survey_id = "checkout-nps";
        a[0] = (store_answer_in){"recommend", TP_KIND_NPS, rng_weighted(&g->rng, NPS_W, 11), NULL};
        in.n_answers = 1;
        if (g->left >= 3 && rng_below(&g->rng, 3) == 0) {
            a[1] = (store_answer_in){"service", TP_KIND_CSAT, 1 + rng_weighted(&g->rng, CSAT_W, 5),
                                     NULL};
            in.n_answers = 2;
        }
        rc = record(g, &in, sid);
        if (rc != TP_OK || g->left < 1 || rng_below(&g->rng, 2) == 0)
            return rc;
        tp_vclock_advance(&g->vc, g->followup_lo + rng_below(&g->rng, g->followup_span));
        a[0] = (store_answer_in){"reason", TP_KIND_CHOICE, 0, REASONS[rng_below(&g->rng, 5)]};
        in.session_id = sid;
        in.n_answers = 1;
        return record(g, &in, sid);
    case 2: /* exit: CSAT */
        in.survey_id = "exit-csat";
        a[0] =
            (store_answer_in){"overall", TP_KIND_CSAT, 1 + rng_weighted(&g->rng, CSAT_W, 5), NULL};
        in.n_answers = 1;
        return record(g, &in, sid);
    default: /* restroom: a smiley4 button box */
        in.survey_id = "restroom";
        in.flags |= TP_FLAG_BUTTON;
        a[0] = (store_answer_in){"clean", TP_KIND_SMILEY4, 1 + rng_weighted(&g->rng, SMILEY_W, 4),
                                 NULL};
        in.n_answers = 1;
        return record(g, &in, sid);
    }
}

static const char *const STATE_NAMES[] = {"pending", "synced", "rejected"};

static tp_err dump_one(const store_answer *a, void *ctx)
{
    char value[16] = "";
    (void)ctx;
    if (a->kind != TP_KIND_CHOICE)
        snprintf(value, sizeof value, "%d", a->value);
    printf("%" PRId64 "\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%" PRId64 "\t%d\t%" PRId64
           "\t%s\t%u\t%s\t%s\n",
           a->seq, a->id, a->session_id, a->survey_id, a->survey_version, a->question_id,
           tp_kind_name(a->kind), value, a->choice_id, a->lang, a->store_id, a->touchpoint_id,
           a->wall_ms, a->clock_trusted ? 1 : 0, a->mono_ms, a->boot_id, a->flags,
           (unsigned)a->state < 3 ? STATE_NAMES[a->state] : "?", a->reject_code);
    return ferror(stdout) ? TP_ERR_IO : TP_OK;
}

/* Prints every answer of the database at path. Returns the exit status. */
static int dump(const char *path)
{
    store *s = NULL;
    store_options opt = {0};
    char err[TP_ERRMSG_MAX];
    opt.readonly = true;
    tp_err rc = store_open(path, &opt, &s, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "gen_answers: %s\n", err);
        return 1;
    }
    rc = store_foreach_answer(s, 0, -1, dump_one, NULL);
    if (rc != TP_OK)
        fprintf(stderr, "gen_answers: dump %s: %s: %s\n", path, tp_strerror(rc), store_errmsg(s));
    store_close(s);
    return rc == TP_OK && fflush(stdout) == 0 ? 0 : 1;
}

/* Parses a non-negative int64 option value; exits with a message when it is not one. */
static int64_t num_arg(const char *name, const char *v)
{
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || x < 0) {
        fprintf(stderr, "gen_answers: %s: not a non-negative number: %s\n", name, v);
        exit(2);
    }
    return (int64_t)x;
}

static void usage(void)
{
    fprintf(stderr, "usage: gen_answers --db PATH --device ID --answers N [--seed S] [--days D]"
                    " [--end-ms MS] [--store ID]\n       gen_answers --dump --db PATH\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *db = NULL, *device = NULL;
    int64_t n = -1, seed = 1, days = 7, end_ms = 0, tail = 0;
    gen g;
    store_options opt = {0};
    store_info info;
    char err[TP_ERRMSG_MAX];
    tp_err rc = TP_OK;
    int status = 1;

    memset(&g, 0, sizeof g);
    g.store_id = "hcm-01";
    if (argc == 4 && strcmp(argv[1], "--dump") == 0 && strcmp(argv[2], "--db") == 0)
        return dump(argv[3]);
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--db") == 0)
            db = argv[++i];
        else if (strcmp(argv[i], "--device") == 0)
            device = argv[++i];
        else if (strcmp(argv[i], "--answers") == 0)
            n = num_arg("--answers", argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = num_arg("--seed", argv[++i]);
        else if (strcmp(argv[i], "--days") == 0)
            days = num_arg("--days", argv[++i]);
        else if (strcmp(argv[i], "--end-ms") == 0)
            end_ms = num_arg("--end-ms", argv[++i]);
        else if (strcmp(argv[i], "--untrusted-tail") == 0)
            tail = num_arg("--untrusted-tail", argv[++i]);
        else if (strcmp(argv[i], "--store") == 0)
            g.store_id = argv[++i];
        else
            usage();
    }
    if (db == NULL || device == NULL || n < 0 || tail > n || days < 1 || days > 3650 ||
        !tp_id_valid(g.store_id))
        usage();
    if (end_ms == 0)
        end_ms = (int64_t)time(NULL) * 1000;

    /* Opening hours 08:00-22:00 each day; sessions evenly spread with jitter. */
    int64_t day_ms = 86400000, open_ms = 14 * 3600000LL;
    int64_t day0 = end_ms - days * day_ms;
    int64_t per_day = (n - tail) / days + 1;
    int64_t step = per_day > 0 ? open_ms / per_day : open_ms;
    if (step < 1)
        step = 1;

    g.rng = (uint64_t)seed * 0x2545f4914f6cdd1dULL + 7;
    g.left = n - tail;
    g.followup_lo = 2000;
    g.followup_span = 6000;
    tp_vclock_init(&g.vc, day0);
    opt.clock = &g.vc.clock;
    opt.device_id = device;
    opt.quick_open = true;
    rc = store_open(db, &opt, &g.s, err, sizeof err);
    if (rc != TP_OK) {
        fprintf(stderr, "gen_answers: %s\n", err);
        goto out;
    }
    for (int64_t d = 0; d < days && g.left > 0 && rc == TP_OK; d++) {
        /* A new boot each morning; every fourth day (from the second) the clock is not
         * NTP-synced and its wall time is a stale one, three hours behind. */
        g.vc.wall = day0 + d * day_ms + 8 * 3600000LL;
        g.vc.mono = 60000 + rng_below(&g.rng, 600000);
        g.vc.is_synced = d % 4 != 1;
        if (!g.vc.is_synced)
            g.vc.wall -= 3 * 3600000LL;
        if (tp_uuid4_new(g.vc.boot) != TP_OK)
            goto out;
        int64_t quota = d == days - 1 ? g.left : per_day;
        int64_t target = (n - tail) - g.left + quota;
        while (g.left > 0 && (n - tail) - g.left < target && rc == TP_OK) {
            rc = one_session(&g);
            tp_vclock_advance(&g.vc, step / 2 + rng_below(&g.rng, (int)(step < 2 ? 1 : step)));
        }
    }
    if (rc == TP_OK && tail > 0) {
        /* This boot, clock unset: spread the tail over the last part of the real monotonic
         * time, so that every mono_ms is already in the past when the device syncs. */
        const tp_clock *sys = tp_clock_system();
        int64_t mono_now = sys->mono_ms(sys->ctx);
        int64_t span = mono_now / 2 < tail * 3000 ? mono_now / 2 : tail * 3000;
        g.vc.mono = mono_now - span - 1000;
        g.vc.wall = 946684800000LL; /* 2000-01-01: a clock that lost its time */
        g.vc.is_synced = false;
        tp_strlcpy(g.vc.boot, sys->boot_id(sys->ctx), sizeof g.vc.boot);
        g.followup_lo = 1;
        g.followup_span = 1;
        g.left = tail;
        while (g.left > 0 && rc == TP_OK) {
            rc = one_session(&g);
            tp_vclock_advance(&g.vc, span / (tail + 1) > 0 ? span / (tail + 1) : 1);
        }
    }
    if (rc != TP_OK)
        goto out;
    rc = store_get_info(g.s, &info);
    if (rc != TP_OK) {
        fprintf(stderr, "gen_answers: store_get_info: %s\n", store_errmsg(g.s));
        goto out;
    }
    printf("gen_answers: %s device %s: %" PRId64 " answers in %" PRId64 " sessions, seq %" PRId64
           "..%" PRId64 ", %" PRId64 " days, %" PRId64 " pending\n",
           db, device, n, g.sessions, info.highest_seq - n + 1, info.highest_seq, days,
           info.n_pending);
    status = 0;
out:
    store_close(g.s);
    return status;
}
