/*
 * test_store.c - unit tests of the answer store (storage/store.h): every public function, every
 * validation error, numbering, sync state, statistics maths, prune, two handles, schema versions.
 * Fault behaviour (kill -9, disk full, read-only, locked, corrupt files) is in tests/fault/.
 */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <ftw.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_int.h"

/* 2026-11-23T10:00:00Z, a multiple of 15 minutes. */
#define T0 1795428000000LL
#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

struct fx {
    char dir[64];
    char path[128];
    tp_vclock vc;
    store *s;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static store *open_at(struct fx *f, const char *device)
{
    char err[TP_ERRMSG_MAX] = "";
    store_options o = {.clock = &f->vc.clock, .device_id = device};
    store *s = NULL;
    tp_err rc = store_open(f->path, &o, &s, err, sizeof err);
    if (rc != TP_OK)
        print_message("store_open: %s\n", err);
    assert_int_equal(rc, TP_OK);
    return s;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tp-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/answers.db", f->dir);
    tp_vclock_init(&f->vc, T0);
    f->vc.mono = 5000;
    f->s = open_at(f, "kiosk-01");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    rm_tree(f->dir);
    free(f);
    store_schema_target = STORE_SCHEMA_LATEST;
    return 0;
}

/* Records one session of n answers of one kind with the given values; returns the first seq. */
static int64_t rec(store *s, const char *tp, const char *q, tp_kind kind, const int *vals, size_t n,
                   unsigned flags)
{
    store_answer_in a[STORE_SESSION_MAX_ANSWERS];
    for (size_t i = 0; i < n; i++)
        a[i] =
            (store_answer_in){q, kind, kind == TP_KIND_CHOICE ? 0 : vals[i],
                              kind == TP_KIND_CHOICE ? (vals[i] == 1 ? "staff" : "price") : NULL};
    store_session_in in = {.survey_id = "checkout-nps",
                           .survey_version = 2,
                           .store_id = "hcm-01",
                           .touchpoint_id = tp,
                           .lang = "vi",
                           .flags = flags,
                           .n_answers = n,
                           .answers = a};
    store_receipt r[STORE_SESSION_MAX_ANSWERS];
    tp_err rc = store_record_session(s, &in, NULL, r);
    if (rc != TP_OK)
        print_message("record: %s\n", store_errmsg(s));
    assert_int_equal(rc, TP_OK);
    return r[0].seq;
}

static void rec1(store *s, const char *tp, const char *q, tp_kind kind, int v, unsigned flags)
{
    rec(s, tp, q, kind, &v, 1, flags);
}

static store_info info_of(store *s)
{
    store_info i;
    assert_int_equal(store_get_info(s, &i), TP_OK);
    return i;
}

/* ---- Open, info, close ---------------------------------------------------------------------- */

static void open_creates_and_reopens(void **state)
{
    struct fx *f = *state;
    store_info i = info_of(f->s);
    assert_string_equal(i.path, f->path);
    assert_string_equal(i.device_id, "kiosk-01");
    assert_true(tp_uuid_valid(i.epoch));
    assert_int_equal(i.schema_version, STORE_SCHEMA_LATEST);
    assert_int_equal(i.epoch_first_seq, 1);
    assert_int_equal(i.highest_seq, 0);
    assert_int_equal(i.n_pending + i.n_synced + i.n_rejected, 0);
    assert_int_equal(i.export_cursor, 0);
    assert_int_equal(i.oldest_pending_ms, 0);
    assert_true(i.db_bytes > 0);
    assert_true(i.free_bytes > 0);
    assert_string_equal(i.recovered_from, "");
    char epoch[TP_UUID_STR];
    memcpy(epoch, i.epoch, sizeof epoch);
    store_close(f->s);
    store_close(NULL);
    f->s = open_at(f, NULL);
    i = info_of(f->s);
    assert_string_equal(i.epoch, epoch);
    assert_string_equal(i.device_id, "kiosk-01");
    assert_string_equal(store_errmsg(f->s), "");
    assert_string_equal(store_errmsg(NULL), "");
    /* WAL mode and synchronous=FULL are what the durability promise rests on. */
    struct stat st;
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(stat(wal, &st), 0);
    char mark[160];
    snprintf(mark, sizeof mark, "%s.seqmark", f->path);
    assert_true(store_seqmark_read(mark) >= 1);
    print_message("checked: open creates a WAL database with epoch, device id, schema %d, "
                  "seqmark; reopen keeps the epoch; close(NULL) is a no-op\n",
                  STORE_SCHEMA_LATEST);
}

static void open_argument_errors(void **state)
{
    struct fx *f = *state;
    char err[TP_ERRMSG_MAX];
    store *s = NULL;
    assert_int_equal(store_open(NULL, NULL, &s, err, sizeof err), TP_ERR_INVALID);
    assert_int_equal(store_open(f->path, NULL, NULL, err, sizeof err), TP_ERR_INVALID);
    store_options o = {.device_id = "bad id!"};
    assert_int_equal(store_open(f->path, &o, &s, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "device id"));
    o = (store_options){.busy_timeout_ms = -1};
    assert_int_equal(store_open(f->path, &o, &s, err, sizeof err), TP_ERR_INVALID);
    /* Device id mismatch: the database belongs to kiosk-01. */
    o = (store_options){.device_id = "kiosk-02"};
    assert_int_equal(store_open(f->path, &o, &s, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "kiosk-01"));
    assert_non_null(strstr(err, "kiosk-02"));
    assert_null(s);
    /* A missing folder: nothing to create the file in. */
    char missing[200];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.db", f->dir);
    assert_int_not_equal(store_open(missing, NULL, &s, err, sizeof err), TP_OK);
    assert_non_null(strstr(err, missing));
    /* NULL err buffer is allowed. */
    assert_int_equal(store_open(NULL, NULL, &s, NULL, 0), TP_ERR_INVALID);
    print_message("checked: store_open rejects NULL path/out, bad device id, negative options, "
                  "device id mismatch (both ids named), a missing folder (path named)\n");
}

static void readonly_handle(void **state)
{
    struct fx *f = *state;
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    char err[TP_ERRMSG_MAX];
    store *ro = NULL;
    store_options o = {.readonly = true, .clock = &f->vc.clock};
    assert_int_equal(store_open(f->path, &o, &ro, err, sizeof err), TP_OK);
    store_info i = info_of(ro);
    assert_int_equal(i.highest_seq, 1);
    store_answer_in a = {"recommend", TP_KIND_NPS, 9, NULL};
    store_session_in in = {.survey_id = "s",
                           .survey_version = 1,
                           .store_id = "x",
                           .touchpoint_id = "t",
                           .lang = "vi",
                           .n_answers = 1,
                           .answers = &a};
    assert_int_equal(store_record_session(ro, &in, NULL, NULL), TP_ERR_READONLY);
    assert_non_null(strstr(store_errmsg(ro), "read-only"));
    int64_t seq = 1;
    assert_int_equal(store_mark_synced(ro, &seq, 1, NULL), TP_ERR_READONLY);
    store_stats_query q = {.from_ms = T0 - DAY_MS, .to_ms = T0 + DAY_MS};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(ro, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].n, 1);
    store_stats_free(rows);
    store_close(ro);
    /* Readonly open of a file that does not exist: no creation. */
    char other[160];
    snprintf(other, sizeof other, "%s/none.db", f->dir);
    assert_int_not_equal(store_open(other, &o, &ro, err, sizeof err), TP_OK);
    assert_int_not_equal(access(other, F_OK), 0);
    print_message("checked: a readonly handle reads info and stats, refuses record and "
                  "mark_synced with TP_ERR_READONLY, and never creates a file\n");
}

/* ---- Recording ------------------------------------------------------------------------------ */

static bool is_uuid7(const char *id)
{
    return tp_uuid_valid(id) && id[14] == '7' && strchr("89ab", id[19]) != NULL;
}

static void record_and_read_every_field(void **state)
{
    struct fx *f = *state;
    f->vc.is_synced = true;
    store_answer_in a[2] = {{"recommend", TP_KIND_NPS, 9, NULL},
                            {"why", TP_KIND_CHOICE, 0, "staff"}};
    store_session_in in = {.survey_id = "checkout-nps",
                           .survey_version = 2,
                           .store_id = "hcm-01",
                           .touchpoint_id = "exit",
                           .lang = "vi",
                           .flags = TP_FLAG_BUTTON,
                           .n_answers = 2,
                           .answers = a};
    char sid[TP_UUID_STR];
    store_receipt r[2];
    assert_int_equal(store_record_session(f->s, &in, sid, r), TP_OK);
    assert_int_equal(r[0].seq, 1);
    assert_int_equal(r[1].seq, 2);
    assert_true(is_uuid7(r[0].id) && is_uuid7(r[1].id) && is_uuid7(sid));
    assert_true(strcmp(r[0].id, r[1].id) < 0);
    /* A new session is named by its first answer (the upload gzips it to a back-reference). */
    assert_string_equal(sid, r[0].id);

    tp_vclock_advance(&f->vc, 1500);
    f->vc.is_synced = false;
    in.flags = 0;
    assert_int_equal(store_record_session(f->s, &in, NULL, NULL), TP_OK);

    store_answer out[8];
    size_t n = 0;
    assert_int_equal(store_read_pending(f->s, 0, 8, out, &n), TP_OK);
    assert_int_equal(n, 4);
    assert_int_equal(out[0].seq, 1);
    assert_string_equal(out[0].id, r[0].id);
    assert_string_equal(out[0].session_id, sid);
    assert_string_equal(out[0].survey_id, "checkout-nps");
    assert_int_equal(out[0].survey_version, 2);
    assert_string_equal(out[0].question_id, "recommend");
    assert_int_equal(out[0].kind, TP_KIND_NPS);
    assert_int_equal(out[0].value, 9);
    assert_string_equal(out[0].choice_id, "");
    assert_string_equal(out[0].lang, "vi");
    assert_string_equal(out[0].store_id, "hcm-01");
    assert_string_equal(out[0].touchpoint_id, "exit");
    assert_int_equal(out[0].wall_ms, T0);
    assert_true(out[0].clock_trusted);
    assert_int_equal(out[0].mono_ms, 5000);
    assert_string_equal(out[0].boot_id, f->vc.boot);
    assert_int_equal(out[0].flags, TP_FLAG_BUTTON);
    assert_int_equal(out[0].state, STORE_PENDING);
    assert_string_equal(out[1].question_id, "why");
    assert_int_equal(out[1].kind, TP_KIND_CHOICE);
    assert_string_equal(out[1].choice_id, "staff");
    assert_string_equal(out[1].session_id, sid);
    /* The second session: untrusted clock, later times, a new session id. */
    assert_int_equal(out[2].seq, 3);
    assert_false(out[2].clock_trusted);
    assert_int_equal(out[2].wall_ms, T0 + 1500);
    assert_int_equal(out[2].mono_ms, 6500);
    assert_int_equal(out[2].flags, 0);
    assert_string_not_equal(out[2].session_id, sid);
    assert_string_equal(out[2].session_id, out[2].id);
    /* after_seq and max. */
    assert_int_equal(store_read_pending(f->s, 2, 1, out, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].seq, 3);
    assert_int_equal(store_read_pending(f->s, 0, 0, NULL, &n), TP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_read_pending(f->s, 0, 4, NULL, &n), TP_ERR_INVALID);
    store_info i = info_of(f->s);
    assert_int_equal(i.n_pending, 4);
    assert_int_equal(i.highest_seq, 4);
    assert_int_equal(i.oldest_pending_ms, T0);
    assert_int_equal(i.n_not_exported, 4);
    print_message("checked: record_session returns UUIDv7 ids, seq 1..4, session id; "
                  "read_pending returns every field (clock trusted/untrusted from the virtual "
                  "clock, mono, boot id, flags, choice), honours after_seq and max\n");
}

struct bad_case {
    const char *field; /* substring expected in store_errmsg */
    store_session_in in;
    store_answer_in a[2];
};

static void record_validation_errors(void **state)
{
    struct fx *f = *state;
    const store_session_in ok = {.survey_id = "checkout-nps",
                                 .survey_version = 2,
                                 .store_id = "hcm-01",
                                 .touchpoint_id = "exit",
                                 .lang = "vi",
                                 .n_answers = 1};
    const store_answer_in good = {"recommend", TP_KIND_NPS, 9, NULL};
    struct bad_case cases[32];
    size_t nc = 0;
#define CASE(fieldname, mod_in, mod_a)                                                             \
    do {                                                                                           \
        struct bad_case *c = &cases[nc++];                                                         \
        c->field = fieldname;                                                                      \
        c->in = ok;                                                                                \
        c->a[0] = good;                                                                            \
        c->a[1] = good;                                                                            \
        store_session_in *in = &c->in;                                                             \
        store_answer_in *a = c->a;                                                                 \
        (void)in;                                                                                  \
        (void)a;                                                                                   \
        mod_in;                                                                                    \
        mod_a;                                                                                     \
    } while (0)
    CASE("survey_id", in->survey_id = NULL, (void)0);
    CASE("survey_id", in->survey_id = "has space", (void)0);
    CASE("survey_version", in->survey_version = 0, (void)0);
    CASE("store_id", in->store_id = "", (void)0);
    CASE("store_id", in->store_id = NULL, (void)0);
    CASE("touchpoint_id", in->touchpoint_id = "x/y", (void)0);
    CASE("lang", in->lang = NULL, (void)0);
    CASE("lang", in->lang = "v", (void)0);
    CASE("lang", in->lang = "vi_VN", (void)0);
    CASE("session_id", in->session_id = "not-a-uuid", (void)0);
    CASE("flags", in->flags = 0x80, (void)0);
    CASE("n_answers", in->n_answers = 0, (void)0);
    CASE("n_answers", in->n_answers = STORE_SESSION_MAX_ANSWERS + 1, (void)0);
    CASE("answers[0].question_id", (void)0, a[0].question_id = NULL);
    CASE("answers[1].question_id", in->n_answers = 2, a[1].question_id = "bad id");
    CASE("answers[0].kind", (void)0, a[0].kind = (tp_kind)7);
    CASE("answers[0].value 11", (void)0, a[0].value = 11);
    CASE("answers[0].value -1", (void)0, a[0].value = -1);
    CASE("answers[0].value 0", (void)0, (a[0].kind = TP_KIND_CSAT, a[0].value = 0));
    CASE("answers[0].value 6", (void)0, (a[0].kind = TP_KIND_CSAT, a[0].value = 6));
    CASE("answers[0].value 8", (void)0, (a[0].kind = TP_KIND_CES, a[0].value = 8));
    CASE("answers[1].value 5", in->n_answers = 2, (a[1].kind = TP_KIND_SMILEY4, a[1].value = 5));
    CASE("answers[0].choice_id", (void)0, (a[0].kind = TP_KIND_CHOICE, a[0].choice_id = NULL));
    CASE("answers[0].choice_id", (void)0, (a[0].kind = TP_KIND_CHOICE, a[0].choice_id = "a b"));
    CASE("answers[0].choice_id", (void)0, a[0].choice_id = "staff");
#undef CASE
    for (size_t i = 0; i < nc; i++) {
        if (cases[i].in.n_answers >= 1 && cases[i].in.n_answers <= 2)
            cases[i].in.answers = cases[i].a;
        else
            cases[i].in.answers = cases[i].a; /* count itself is the error */
        assert_int_equal(store_record_session(f->s, &cases[i].in, NULL, NULL), TP_ERR_INVALID);
        const char *m = store_errmsg(f->s);
        if (!strstr(m, cases[i].field))
            fail_msg("case %zu: message '%s' does not name '%s'", i, m, cases[i].field);
        assert_non_null(strstr(m, f->path));
        assert_non_null(strstr(m, "nothing was stored"));
    }
    store_session_in none = ok;
    none.answers = NULL;
    assert_int_equal(store_record_session(f->s, &none, NULL, NULL), TP_ERR_INVALID);
    assert_int_equal(store_record_session(f->s, NULL, NULL, NULL), TP_ERR_INVALID);
    assert_int_equal(store_record_session(NULL, &ok, NULL, NULL), TP_ERR_INVALID);
    /* Range edges are accepted. */
    store_answer_in edges[8] = {{"q", TP_KIND_NPS, 0, NULL},     {"q", TP_KIND_NPS, 10, NULL},
                                {"q", TP_KIND_CSAT, 1, NULL},    {"q", TP_KIND_CSAT, 5, NULL},
                                {"q", TP_KIND_CES, 7, NULL},     {"q", TP_KIND_SMILEY4, 1, NULL},
                                {"q", TP_KIND_SMILEY4, 4, NULL}, {"q", TP_KIND_CHOICE, 99, "c"}};
    store_session_in in = ok;
    in.answers = edges;
    in.n_answers = 8;
    in.flags = TP_FLAGS_KNOWN;
    assert_int_equal(store_record_session(f->s, &in, NULL, NULL), TP_OK);
    store_info i = info_of(f->s);
    assert_int_equal(i.highest_seq, 8);
    print_message("checked: %zu invalid sessions each fail with TP_ERR_INVALID naming the field "
                  "(and the file), nothing stored; range edges of every kind accepted\n",
                  nc);
}

static void follow_up_joins_session(void **state)
{
    struct fx *f = *state;
    store_answer_in a = {"recommend", TP_KIND_NPS, 3, NULL};
    store_session_in in = {.survey_id = "checkout-nps",
                           .survey_version = 2,
                           .store_id = "hcm-01",
                           .touchpoint_id = "exit",
                           .lang = "vi",
                           .n_answers = 1,
                           .answers = &a};
    char sid[TP_UUID_STR];
    assert_int_equal(store_record_session(f->s, &in, sid, NULL), TP_OK);
    store_answer_in fu[2] = {{"why", TP_KIND_CHOICE, 0, "price"}, {"effort", TP_KIND_CES, 6, NULL}};
    store_session_in in2 = in;
    in2.session_id = sid;
    in2.answers = fu;
    in2.n_answers = 2;
    in2.lang = "en"; /* the customer switched language: allowed per answer */
    char sid2[TP_UUID_STR];
    store_receipt r[2];
    assert_int_equal(store_record_session(f->s, &in2, sid2, r), TP_OK);
    assert_string_equal(sid2, sid);
    assert_int_equal(r[0].seq, 2);
    assert_int_equal(r[1].seq, 3);
    store_answer out[4];
    size_t n;
    assert_int_equal(store_read_pending(f->s, 0, 4, out, &n), TP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out[1].session_id, sid);
    assert_string_equal(out[2].session_id, sid);
    assert_string_equal(out[2].lang, "en");

    /* Mismatches are rejected and store nothing. */
    const char *fields[4] = {"survey_id", "store_id", "touchpoint_id", "survey_version"};
    for (int k = 0; k < 4; k++) {
        store_session_in bad = in2;
        if (k == 0)
            bad.survey_id = "other-survey";
        else if (k == 1)
            bad.store_id = "hn-02";
        else if (k == 2)
            bad.touchpoint_id = "entrance";
        else
            bad.survey_version = in2.survey_version + 1;
        assert_int_equal(store_record_session(f->s, &bad, NULL, NULL), TP_ERR_INVALID);
        assert_non_null(strstr(store_errmsg(f->s), fields[k]));
        assert_non_null(strstr(store_errmsg(f->s), "does not match"));
    }
    /* Upper-case session ids are the same session. */
    char upper[TP_UUID_STR];
    for (int i = 0; i < TP_UUID_STR; i++)
        upper[i] = (char)(sid[i] >= 'a' && sid[i] <= 'f' ? sid[i] - 'a' + 'A' : sid[i]);
    in2.session_id = upper;
    in2.n_answers = 1;
    assert_int_equal(store_record_session(f->s, &in2, sid2, NULL), TP_OK);
    assert_string_equal(sid2, sid);
    /* An unknown session. */
    in2.session_id = "01900000-0000-7000-8000-000000000000";
    assert_int_equal(store_record_session(f->s, &in2, NULL, NULL), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(store_errmsg(f->s), "01900000-0000-7000-8000-000000000000"));
    assert_int_equal(info_of(f->s).highest_seq, 4);
    print_message("checked: a follow-up joins its session (same id back, seqs continue); "
                  "mismatched survey/version/store/touchpoint -> INVALID naming the field; unknown "
                  "session -> NOT_FOUND; nothing stored on error\n");
}

/* A call that fails validation (value out of range); returns its result. */
static tp_err rec_fail_probe(store *s)
{
    store_answer_in a = {"recommend", TP_KIND_NPS, 11, NULL};
    store_session_in in = {.survey_id = "s",
                           .survey_version = 1,
                           .store_id = "x",
                           .touchpoint_id = "t",
                           .lang = "vi",
                           .n_answers = 1,
                           .answers = &a};
    return store_record_session(s, &in, NULL, NULL);
}

static void seq_strictly_plus_one(void **state)
{
    struct fx *f = *state;
    int64_t expect = 1;
    for (int i = 0; i < 300; i++) {
        int vals[3] = {i % 11, (i + 3) % 11, (i + 7) % 11};
        size_t n = (size_t)(i % 3) + 1;
        assert_int_equal(rec(f->s, "exit", "recommend", TP_KIND_NPS, vals, n, 0), expect);
        expect += (int64_t)n;
        if (i == 150) { /* a reopen in the middle must not disturb numbering */
            store_close(f->s);
            f->s = open_at(f, "kiosk-01");
        }
        if (i % 7 == 0) /* a failed call must not use a seq */
            assert_int_equal(rec_fail_probe(f->s), TP_ERR_INVALID);
    }
    assert_int_equal(info_of(f->s).highest_seq, expect - 1);
    /* The sidecar mark always covers every given seq (crossed 1024 more than once? no: 600). */
    char mark[160];
    snprintf(mark, sizeof mark, "%s.seqmark", f->path);
    assert_true(store_seqmark_read(mark) >= expect - 1);
    int64_t gaps[4][2];
    size_t ng = 9;
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &ng), TP_OK);
    assert_int_equal(ng, 0);
    print_message("checked: 300 sessions of 1-3 answers get seqs 1..%lld strictly +1 across a "
                  "reopen and failed calls; seqmark covers them; find_gaps reports none\n",
                  (long long)(expect - 1));
}

/* ---- Sync state and reading ----------------------------------------------------------------- */

struct collect {
    int64_t seqs[64];
    store_answer last;
    size_t n;
    size_t stop_after;
    store *other; /* records during the walk (snapshot test) */
};

static tp_err collect_cb(const store_answer *a, void *ctx)
{
    struct collect *c = ctx;
    if (c->n < 64)
        c->seqs[c->n] = a->seq;
    c->last = *a;
    c->n++;
    if (c->other && c->n == 1)
        rec1(c->other, "exit", "recommend", TP_KIND_NPS, 10, 0);
    if (c->stop_after && c->n == c->stop_after)
        return TP_ERR_EXISTS;
    return TP_OK;
}

static void sync_state_transitions(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 5; i++)
        rec1(f->s, "exit", "recommend", TP_KIND_NPS, i, 0);
    int64_t batch[3] = {1, 2, 42};
    size_t changed = 99;
    assert_int_equal(store_mark_synced(f->s, batch, 3, &changed), TP_OK);
    assert_int_equal(changed, 2);
    assert_int_equal(store_mark_synced(f->s, batch, 3, &changed), TP_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(store_mark_synced(f->s, NULL, 0, NULL), TP_OK);
    assert_int_equal(store_mark_synced(f->s, NULL, 2, NULL), TP_ERR_INVALID);

    assert_int_equal(
        store_mark_rejected(f->s, 3, "value_out_of_range", "nps value 11 not in 0..10"), TP_OK);
    /* Re-rejecting updates the reason; rejecting a synced or unknown answer fails. */
    assert_int_equal(store_mark_rejected(f->s, 3, "invalid_field", "second reason"), TP_OK);
    assert_int_equal(store_mark_rejected(f->s, 1, "invalid_field", "x"), TP_ERR_INVALID);
    assert_non_null(strstr(store_errmsg(f->s), "already synced"));
    assert_int_equal(store_mark_rejected(f->s, 77, "invalid_field", "x"), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(store_errmsg(f->s), "77"));
    assert_int_equal(store_mark_rejected(f->s, 4, "bad code!", "x"), TP_ERR_INVALID);
    assert_int_equal(store_mark_rejected(f->s, 4, NULL, "x"), TP_ERR_INVALID);
    assert_int_equal(store_mark_rejected(f->s, 4, "invalid_field", NULL), TP_ERR_INVALID);
    assert_int_equal(store_mark_rejected(f->s, 4, "invalid_field", "\xff\xfe"), TP_ERR_INVALID);
    /* A long reason is cut at 255 bytes on a character boundary. */
    char longr[600];
    for (int i = 0; i < 299; i++)
        memcpy(longr + 2 * i, "\xc3\xa9", 2); /* e-acute */
    longr[598] = '\0';
    assert_int_equal(store_mark_rejected(f->s, 4, "too_long", longr), TP_OK);

    store_answer out[8];
    size_t n;
    assert_int_equal(store_read_pending(f->s, 0, 8, out, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].seq, 5);
    store_info i = info_of(f->s);
    assert_int_equal(i.n_pending, 1);
    assert_int_equal(i.n_synced, 2);
    assert_int_equal(i.n_rejected, 2);
    assert_int_equal(i.oldest_pending_ms, T0);

    struct collect c = {0};
    assert_int_equal(store_foreach_answer(f->s, 2, 3, collect_cb, &c), TP_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.last.state, STORE_REJECTED);
    assert_string_equal(c.last.reject_code, "invalid_field");
    assert_string_equal(c.last.reject_reason, "second reason");
    memset(&c, 0, sizeof c);
    assert_int_equal(store_foreach_answer(f->s, 3, 4, collect_cb, &c), TP_OK);
    assert_int_equal(strlen(c.last.reject_reason), 254);
    assert_true(tp_utf8_valid(c.last.reject_reason, 254));
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("checked: mark_synced counts only pending (unknown/repeated seqs unchanged), "
                  "mark_rejected stores code+reason (UTF-8-safe cut at 255), refuses synced, "
                  "unknown, bad code/reason; pending read and info counters follow\n");
}

static void foreach_walks_a_snapshot(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 6; i++)
        rec1(f->s, "exit", "recommend", TP_KIND_NPS, i, 0);
    store *other = open_at(f, NULL);
    struct collect c = {.other = other};
    assert_int_equal(store_foreach_answer(f->s, 0, -1, collect_cb, &c), TP_OK);
    /* The answer recorded by the other handle during the walk is not seen. */
    assert_int_equal(c.n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(c.seqs[i], (int64_t)i + 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_foreach_answer(f->s, 0, -1, collect_cb, &c), TP_OK);
    assert_int_equal(c.n, 7);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_foreach_answer(f->s, 2, 5, collect_cb, &c), TP_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.seqs[0], 3);
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    assert_int_equal(store_foreach_answer(f->s, 0, -1, collect_cb, &c), TP_ERR_EXISTS);
    assert_int_equal(c.n, 2);
    assert_int_equal(store_foreach_answer(f->s, 0, -1, NULL, NULL), TP_ERR_INVALID);
    /* The handle is usable after a stopped walk (the read transaction ended). */
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, 1, 0);
    store_close(other);
    print_message("checked: foreach_answer walks (after, upto] in seq order inside one snapshot "
                  "(a concurrent insert is unseen), stops with the callback's code\n");
}

static void export_cursor_never_moves_back(void **state)
{
    struct fx *f = *state;
    int64_t cur = -1;
    assert_int_equal(store_get_export_cursor(f->s, &cur), TP_OK);
    assert_int_equal(cur, 0);
    for (int i = 0; i < 4; i++)
        rec1(f->s, "exit", "recommend", TP_KIND_NPS, 5, 0);
    assert_int_equal(store_set_export_cursor(f->s, 3), TP_OK);
    assert_int_equal(store_get_export_cursor(f->s, &cur), TP_OK);
    assert_int_equal(cur, 3);
    assert_int_equal(store_set_export_cursor(f->s, 2), TP_ERR_INVALID);
    assert_non_null(strstr(store_errmsg(f->s), "never moves back"));
    assert_int_equal(store_set_export_cursor(f->s, 5), TP_ERR_INVALID);
    assert_non_null(strstr(store_errmsg(f->s), "highest"));
    assert_int_equal(store_set_export_cursor(f->s, 3), TP_OK);
    assert_int_equal(store_get_export_cursor(f->s, NULL), TP_ERR_INVALID);
    store_info i = info_of(f->s);
    assert_int_equal(i.export_cursor, 3);
    assert_int_equal(i.n_not_exported, 1);
    assert_int_equal(store_set_export_cursor(f->s, 4), TP_OK);
    assert_int_equal(info_of(f->s).n_not_exported, 0);
    print_message("checked: export cursor starts at 0, advances, refuses to move back or past "
                  "the highest seq; n_not_exported follows\n");
}

/* ---- Statistics ----------------------------------------------------------------------------- */

static void stats_math_on_known_data(void **state)
{
    struct fx *f = *state;
    int nps[6] = {10, 10, 9, 8, 7, 6};
    int csat[5] = {5, 4, 3, 2, 4};
    int ces[4] = {7, 5, 3, 1};
    int sm[4] = {4, 3, 1, 2};
    int ch[4] = {1, 1, 2, 1}; /* staff, staff, price, staff */
    for (int i = 0; i < 6; i++)
        rec1(f->s, "exit", "recommend", TP_KIND_NPS, nps[i], 0);
    rec(f->s, "exit", "sat", TP_KIND_CSAT, csat, 5, 0);
    rec(f->s, "desk", "effort", TP_KIND_CES, ces, 4, 0);
    rec(f->s, "desk", "mood", TP_KIND_SMILEY4, sm, 4, 0);
    rec(f->s, "desk", "why", TP_KIND_CHOICE, ch, 4, 0);
    /* A rapid repeat: excluded unless asked for. */
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, 0, TP_FLAG_RAPID_REPEAT);

    store_stats_query q = {.from_ms = T0, .to_ms = T0 + STORE_BUCKET_MS};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 1);
    store_stats_row *r = &rows[0];
    assert_string_equal(r->key, "all");
    assert_int_equal(r->n, 23);
    assert_int_equal(r->n_kind[TP_KIND_NPS], 6);
    /* NPS: promoters 10,10,9 = 3/6, detractors 6 = 1/6 -> 33.33 */
    assert_true(fabs(r->nps - 100.0 * 2 / 6) < 1e-9);
    assert_int_equal(r->dist_nps[10], 2);
    assert_int_equal(r->dist_nps[0], 0);
    /* CSAT: 5,4,4 of 5 -> 60 % */
    assert_true(fabs(r->csat_pct - 60.0) < 1e-9);
    assert_int_equal(r->dist_csat[3], 2);
    /* CES: mean (7+5+3+1)/4 = 4, 5..7: 2 of 4 = 50 % */
    assert_true(fabs(r->ces_mean - 4.0) < 1e-9);
    assert_true(fabs(r->ces_pct_5_7 - 50.0) < 1e-9);
    /* Smiley4: 3,4 are happy: 2 of 4 */
    assert_true(fabs(r->smiley4_pct_happy - 50.0) < 1e-9);
    assert_int_equal(r->dist_smiley4[0], 1);
    /* Choices in count order. */
    assert_string_equal(r->choices[0].id, "staff");
    assert_int_equal(r->choices[0].n, 3);
    assert_string_equal(r->choices[1].id, "price");
    assert_int_equal(r->choices[1].n, 1);
    assert_int_equal(r->choices[2].n, 0);
    store_stats_free(rows);

    q.include_flagged = true;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(rows[0].n_kind[TP_KIND_NPS], 7);
    /* promoters 3/7, detractors (6, 0) 2/7 -> 14.2857 */
    assert_true(fabs(rows[0].nps - 100.0 / 7) < 1e-9);
    store_stats_free(rows);

    q.include_flagged = false;
    q.by = STORE_BY_TOUCHPOINT;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].key, "desk");
    assert_int_equal(rows[0].n, 12);
    assert_true(isnan(rows[0].nps));
    assert_string_equal(rows[1].key, "exit");
    assert_int_equal(rows[1].n, 11);
    assert_true(isnan(rows[1].ces_mean));
    store_stats_free(rows);

    q.by = STORE_BY_QUESTION;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 5);
    const char *keys[5] = {"effort", "mood", "recommend", "sat", "why"};
    for (int k = 0; k < 5; k++)
        assert_string_equal(rows[k].key, keys[k]);
    store_stats_free(rows);

    /* An empty range has no rows. */
    q.from_ms = T0 + STORE_BUCKET_MS;
    q.to_ms = T0 + 2 * STORE_BUCKET_MS;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 0);
    store_stats_free(rows);
    /* Validation. */
    q.from_ms = T0 + 1;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_ERR_INVALID);
    assert_non_null(strstr(store_errmsg(f->s), "15 minutes"));
    q.from_ms = T0;
    q.to_ms = T0 - STORE_BUCKET_MS;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_ERR_INVALID);
    q.to_ms = T0;
    q.by = (store_group)9;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_ERR_INVALID);
    assert_int_equal(store_stats(f->s, NULL, &rows, &n), TP_ERR_INVALID);
    store_stats_free(NULL);
    print_message("checked: NPS 33.33 (14.29 with the rapid repeat), CSAT 60 %%, CES mean 4 and "
                  "50 %% 5-7, smiley 50 %%, choices top order, by touchpoint/question keys, "
                  "unaligned range and bad grouping rejected\n");
}

static void stats_by_day_across_local_midnight(void **state)
{
    struct fx *f = *state;
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    tzset();
    /* Local midnight of 2026-11-24 in UTC+7 is 2026-11-23T17:00Z. */
    int64_t midnight = T0 + 7 * HOUR_MS; /* T0 = 10:00Z */
    f->vc.wall = midnight - 15 * MIN_MS; /* 23:45 local, Nov 23 */
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, 10, 0);
    f->vc.wall = midnight - 1; /* 23:59:59.999 local */
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, 0, 0);
    f->vc.wall = midnight; /* 00:00 local, Nov 24 */
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    f->vc.wall = midnight + 20 * MIN_MS;
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    int64_t from = 0, to = 0;
    assert_int_equal(tp_parse_date_local("2026-11-23", &from), TP_OK);
    assert_int_equal(tp_parse_date_local("2026-11-25", &to), TP_OK);
    store_stats_query q = {.from_ms = from, .to_ms = to, .by = STORE_BY_DAY};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].key, "2026-11-23");
    assert_int_equal(rows[0].n, 2);
    assert_true(fabs(rows[0].nps - 0.0) < 1e-9); /* one promoter, one detractor */
    assert_string_equal(rows[1].key, "2026-11-24");
    assert_int_equal(rows[1].n, 2);
    assert_true(fabs(rows[1].nps - 100.0) < 1e-9);
    store_stats_free(rows);
    /* Only the 24th. */
    q.from_ms = midnight;
    assert_int_equal(store_stats(f->s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].key, "2026-11-24");
    store_stats_free(rows);
    print_message("checked: by-day statistics in Asia/Ho_Chi_Minh put 23:45 and 23:59:59.999 "
                  "local on 2026-11-23 and 00:00, 00:20 on 2026-11-24; from/to select days\n");
}

/* Records one answer at the given UTC time. */
static void rec_at(struct fx *f, const char *utc, int v)
{
    struct tm tm = {0};
    assert_non_null(strptime(utc, "%Y-%m-%dT%H:%M", &tm));
    f->vc.wall = (int64_t)timegm(&tm) * 1000;
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, v, 0);
}

/* Returns the day keys and counts of a by-day query over [from, to) local dates as "k=n,...". */
static void days_of(store *s, const char *from, const char *to, char *out, size_t len)
{
    int64_t f = 0, t = 0;
    assert_int_equal(tp_parse_date_local(from, &f), TP_OK);
    assert_int_equal(tp_parse_date_local(to, &t), TP_OK);
    store_stats_query q = {.from_ms = f, .to_ms = t, .by = STORE_BY_DAY};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(s, &q, &rows, &n), TP_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s=%lld", i ? "," : "", rows[i].key,
                 (long long)rows[i].n);
    }
    store_stats_free(rows);
}

static void stats_by_day_dst_and_half_hour_zones(void **state)
{
    struct fx *f = *state;
    char got[256];
    /* Europe/Berlin, 2026-10-25 has 25 hours (CEST -> CET at 03:00 local). */
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    rec_at(f, "2026-10-24T21:50", 9); /* 23:50 CEST, Oct 24 */
    rec_at(f, "2026-10-24T22:00", 9); /* 00:00 CEST, Oct 25 */
    rec_at(f, "2026-10-25T22:45", 9); /* 23:45 CET, Oct 25 (the 25-hour day's last bucket) */
    rec_at(f, "2026-10-25T23:00", 9); /* 00:00 CET, Oct 26 */
    days_of(f->s, "2026-10-24", "2026-10-27", got, sizeof got);
    assert_string_equal(got, "2026-10-24=1,2026-10-25=2,2026-10-26=1");
    /* Asia/Kolkata, +05:30: a local day starts at hh:30 UTC. */
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    rec_at(f, "2026-11-20T18:15", 5); /* 23:45 IST, Nov 20 */
    rec_at(f, "2026-11-20T18:30", 5); /* 00:00 IST, Nov 21 */
    days_of(f->s, "2026-11-20", "2026-11-22", got, sizeof got);
    assert_string_equal(got, "2026-11-20=1,2026-11-21=1");
    /* Asia/Kathmandu, +05:45: days start at hh:15 UTC, still on a 15-minute bucket. */
    setenv("TZ", "Asia/Kathmandu", 1);
    tzset();
    days_of(f->s, "2026-11-20", "2026-11-22", got, sizeof got);
    assert_string_equal(got, "2026-11-21=2"); /* 18:15Z and 18:30Z are 00:00, 00:15 NPT */
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    tzset();
    print_message("checked: by-day statistics follow local days across the 25-hour DST day in "
                  "Europe/Berlin and in the +05:30 (Kolkata) and +05:45 (Kathmandu) zones\n");
}

/* Direct count over the answers (not the rollup), per local day, for comparison. */
struct direct {
    int64_t day[64];
    store_stats_row row[64];
    size_t n;
    bool include_flagged;
};

static tp_err direct_cb(const store_answer *a, void *ctx)
{
    struct direct *d = ctx;
    if ((a->flags & TP_FLAG_RAPID_REPEAT) && !d->include_flagged)
        return TP_OK;
    int64_t day = tp_local_day_start(a->wall_ms, NULL);
    size_t i = 0;
    while (i < d->n && d->day[i] != day)
        i++;
    if (i == d->n) {
        assert_true(d->n < 64);
        d->day[d->n++] = day;
        memset(&d->row[i], 0, sizeof d->row[i]);
    }
    store_stats_row *r = &d->row[i];
    r->n++;
    r->n_kind[a->kind]++;
    if (a->kind == TP_KIND_NPS)
        r->dist_nps[a->value]++;
    else if (a->kind == TP_KIND_CSAT)
        r->dist_csat[a->value - 1]++;
    else if (a->kind == TP_KIND_CES)
        r->dist_ces[a->value - 1]++;
    else if (a->kind == TP_KIND_SMILEY4)
        r->dist_smiley4[a->value - 1]++;
    return TP_OK;
}

/* Compares store_stats (rollup) with a direct count over the answers; returns days compared. */
static size_t compare_with_direct(store *s, bool include_flagged)
{
    struct direct *d = calloc(1, sizeof *d);
    d->include_flagged = include_flagged;
    assert_int_equal(store_foreach_answer(s, 0, -1, direct_cb, d), TP_OK);
    store_stats_query q = {.from_ms = T0 - 60 * DAY_MS,
                           .to_ms = T0 + 60 * DAY_MS,
                           .by = STORE_BY_DAY,
                           .include_flagged = include_flagged};
    store_stats_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_stats(s, &q, &rows, &n), TP_OK);
    assert_int_equal(n, d->n);
    for (size_t i = 0; i < n; i++) {
        char key[11];
        size_t j = 0;
        for (; j < d->n; j++) {
            tp_local_day_start(d->day[j], key);
            if (strcmp(key, rows[i].key) == 0)
                break;
        }
        assert_true(j < d->n);
        const store_stats_row *e = &d->row[j];
        assert_int_equal(rows[i].n, e->n);
        assert_memory_equal(rows[i].n_kind, e->n_kind, sizeof e->n_kind);
        assert_memory_equal(rows[i].dist_nps, e->dist_nps, sizeof e->dist_nps);
        assert_memory_equal(rows[i].dist_csat, e->dist_csat, sizeof e->dist_csat);
        assert_memory_equal(rows[i].dist_ces, e->dist_ces, sizeof e->dist_ces);
        assert_memory_equal(rows[i].dist_smiley4, e->dist_smiley4, sizeof e->dist_smiley4);
    }
    store_stats_free(rows);
    free(d);
    return n;
}

/* Records random answers over days -40..+0 from T0. */
static void random_history(struct fx *f, int sessions, unsigned seed)
{
    srand(seed);
    static const char *const tps[3] = {"exit", "desk", "cafe"};
    for (int i = 0; i < sessions; i++) {
        f->vc.wall =
            T0 - 40 * DAY_MS + (int64_t)i * (40 * DAY_MS / sessions) + (rand() % 3600) * 1000LL;
        tp_kind k = (tp_kind)(rand() % 4);
        int lo, hi;
        tp_kind_range(k, &lo, &hi);
        int v[2] = {lo + rand() % (hi - lo + 1), lo + rand() % (hi - lo + 1)};
        rec(f->s, tps[rand() % 3], k == TP_KIND_NPS ? "recommend" : "other", k, v,
            (size_t)(1 + rand() % 2), rand() % 5 == 0 ? TP_FLAG_RAPID_REPEAT : 0);
    }
    f->vc.wall = T0;
}

static void stats_rollup_equals_direct_count(void **state)
{
    struct fx *f = *state;
    random_history(f, 400, 7);
    size_t days = compare_with_direct(f->s, false);
    assert_true(days >= 30);
    compare_with_direct(f->s, true);
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("checked: rollup-based stats by day equal a direct count over the answers "
                  "(%zu days, with and without flagged answers); store_check(full) ok\n",
                  days);
}

/* ---- Prune ---------------------------------------------------------------------------------- */

static void prune_keeps_numbering_and_stats(void **state)
{
    struct fx *f = *state;
    random_history(f, 300, 11);
    store_info before = info_of(f->s);
    int64_t hi = before.highest_seq;
    /* Sync all but seqs 10..19 (pending) and 30 (rejected); export up to hi - 50. */
    int64_t *seqs = calloc((size_t)hi, sizeof *seqs);
    size_t ns = 0;
    for (int64_t q = 1; q <= hi; q++)
        if ((q < 10 || q > 19) && q != 30)
            seqs[ns++] = q;
    assert_int_equal(store_mark_synced(f->s, seqs, ns, NULL), TP_OK);
    assert_int_equal(store_mark_rejected(f->s, 30, "invalid_field", "test"), TP_OK);
    free(seqs);
    assert_int_equal(store_set_export_cursor(f->s, hi - 50), TP_OK);

    int64_t cutoff = T0 - 20 * DAY_MS;
    int64_t deleted = -1;
    assert_int_equal(store_prune(f->s, cutoff, &deleted), TP_OK);
    assert_true(deleted > 0);
    store_info after = info_of(f->s);
    assert_int_equal(after.highest_seq, hi);
    assert_int_equal(after.n_synced, before.n_pending - 11 - deleted);
    assert_int_equal(after.n_pending, 10);
    assert_int_equal(after.n_rejected, 1);
    /* What is left: nothing synced+exported+old remains; pending and rejected are all kept. */
    struct collect c = {0};
    int64_t kept_old_synced = 0;
    (void)kept_old_synced;
    assert_int_equal(store_foreach_answer(f->s, 0, 19, collect_cb, &c), TP_OK);
    assert_int_equal(c.n, 10); /* seqs 10..19 pending, 1..9 pruned (old, synced, exported) */
    assert_int_equal(c.seqs[0], 10);
    int64_t gaps[4][2];
    size_t ng = 9;
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &ng), TP_OK);
    assert_int_equal(ng, 0);
    compare_with_direct(f->s, false);
    compare_with_direct(f->s, true);
    assert_int_equal(store_check(f->s, true), TP_OK);
    /* Numbering continues after the highest seq, never into pruned ones. */
    f->vc.wall = T0;
    int64_t next = rec(f->s, "exit", "recommend", TP_KIND_NPS, (int[]){9}, 1, 0);
    assert_int_equal(next, hi + 1);
    /* Pruning again deletes nothing more; an event was logged. */
    assert_int_equal(store_prune(f->s, cutoff, &deleted), TP_OK);
    assert_int_equal(deleted, 0);
    store_event ev[4];
    size_t nev = 0;
    assert_int_equal(store_events(f->s, ev, 4, &nev), TP_OK);
    assert_true(nev >= 1);
    assert_non_null(strstr(ev[0].message, "pruned"));
    /* Prune everything exported and synced: still no gaps, stats still equal the answers. */
    assert_int_equal(store_prune(f->s, T0 + DAY_MS, &deleted), TP_OK);
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &ng), TP_OK);
    assert_int_equal(ng, 0);
    compare_with_direct(f->s, true);
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("checked: prune deletes only synced+exported+older answers (pending and "
                  "rejected kept), seq continues at highest+1, find_gaps sees no gap, rollup "
                  "stats still equal a direct count, counters consistent, event logged\n");
}

static void prune_drops_empty_sessions(void **state)
{
    struct fx *f = *state;
    store_answer_in a = {"recommend", TP_KIND_NPS, 9, NULL};
    store_session_in in = {.survey_id = "s",
                           .survey_version = 1,
                           .store_id = "x",
                           .touchpoint_id = "t",
                           .lang = "vi",
                           .n_answers = 1,
                           .answers = &a};
    char sid[TP_UUID_STR];
    f->vc.wall = T0 - 10 * DAY_MS;
    assert_int_equal(store_record_session(f->s, &in, sid, NULL), TP_OK);
    int64_t one = 1;
    assert_int_equal(store_mark_synced(f->s, &one, 1, NULL), TP_OK);
    assert_int_equal(store_set_export_cursor(f->s, 1), TP_OK);
    int64_t deleted = 0;
    assert_int_equal(store_prune(f->s, T0, &deleted), TP_OK);
    assert_int_equal(deleted, 1);
    in.session_id = sid;
    f->vc.wall = T0;
    assert_int_equal(store_record_session(f->s, &in, NULL, NULL), TP_ERR_NOT_FOUND);
    assert_int_equal(store_prune(NULL, 0, NULL), TP_ERR_INVALID);
    print_message("checked: pruning a session's last answer removes the session (a follow-up "
                  "to it is NOT_FOUND)\n");
}

/* ---- Two handles, schema -------------------------------------------------------------------- */

static void two_handles_interleaved(void **state)
{
    struct fx *f = *state;
    store *sync = open_at(f, NULL);
    int64_t expect = 1;
    for (int round = 0; round < 20; round++) {
        assert_int_equal(rec(f->s, "exit", "recommend", TP_KIND_NPS, (int[]){7, 8}, 2, 0), expect);
        expect += 2;
        store_answer out[8];
        size_t n;
        assert_int_equal(store_read_pending(sync, 0, 8, out, &n), TP_OK);
        assert_int_equal(n, 2);
        int64_t seqs[2] = {out[0].seq, out[1].seq};
        size_t ch;
        assert_int_equal(store_mark_synced(sync, seqs, 2, &ch), TP_OK);
        assert_int_equal(ch, 2);
        store_info ik = info_of(f->s), is = info_of(sync);
        assert_int_equal(ik.n_synced, is.n_synced);
        assert_int_equal(ik.n_pending, 0);
        assert_int_equal(ik.highest_seq, is.highest_seq);
    }
    assert_int_equal(info_of(f->s).n_synced, 40);
    assert_int_equal(store_check(sync, true), TP_OK);
    store_close(sync);
    print_message("checked: kiosk handle records while a second handle reads and marks synced, "
                  "20 rounds interleaved; both see the same counters\n");
}

static void schema_too_new(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    f->s = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[TP_ERRMSG_MAX];
    store *s = NULL;
    assert_int_equal(store_open(f->path, NULL, &s, err, sizeof err), TP_ERR_TOO_NEW);
    assert_null(s);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "99"));
    char mine[16];
    snprintf(mine, sizeof mine, "%d", STORE_SCHEMA_LATEST);
    assert_non_null(strstr(err, mine));
    store_options ro = {.readonly = true};
    assert_int_equal(store_open(f->path, &ro, &s, err, sizeof err), TP_ERR_TOO_NEW);
    /* The file was not touched (not moved aside, not migrated). */
    assert_int_equal(access(f->path, F_OK), 0);
    /* A foreign SQLite file is refused, not taken over. */
    char foreign[160];
    snprintf(foreign, sizeof foreign, "%s/foreign.db", f->dir);
    assert_int_equal(sqlite3_open(foreign, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(foreign, NULL, &s, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "not a Touchpoint store"));
    print_message("checked: a database with user_version 99 -> TP_ERR_TOO_NEW naming the file "
                  "and both versions (read-write and readonly), file untouched; a foreign "
                  "SQLite file is refused\n");
}

static void migrates_from_older_version(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    rm_tree(f->dir);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    store_schema_target = 1;
    f->s = open_at(f, "kiosk-01");
    assert_int_equal(info_of(f->s).schema_version, 1);
    rec1(f->s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    store_close(f->s);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);

    store_schema_target = STORE_SCHEMA_LATEST;
    f->s = open_at(f, "kiosk-01");
    store_info i = info_of(f->s);
    assert_int_equal(i.schema_version, STORE_SCHEMA_LATEST);
    assert_int_equal(i.highest_seq, 1);
    /* The version 2 tables work and the old data is intact. */
    assert_int_equal(store_log_event(f->s, "info", "after migration"), TP_OK);
    store_sync_result r = {.at_ms = T0, .ok = true, .http_status = 200, .sent = 1};
    assert_int_equal(store_log_sync(f->s, &r), TP_OK);
    assert_int_equal(rec(f->s, "exit", "recommend", TP_KIND_NPS, (int[]){1}, 1, 0), 2);
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("checked: a version-1 database (made with the schema hook) is migrated to "
                  "version %d at open, keeps its answers and numbering, new tables usable\n",
                  STORE_SCHEMA_LATEST);
}

/* ---- Logs, gaps, check, reserve, seqmark ---------------------------------------------------- */

static void sync_log_and_last_sync(void **state)
{
    struct fx *f = *state;
    store_sync_result out, ok;
    assert_int_equal(store_last_sync(f->s, &out, &ok), TP_ERR_NOT_FOUND);
    store_sync_result r = {.at_ms = T0,
                           .ok = true,
                           .http_status = 200,
                           .sent = 10,
                           .accepted = 8,
                           .duplicates = 1,
                           .rejected = 1};
    tp_strlcpy(r.message, "ok", sizeof r.message);
    assert_int_equal(store_log_sync(f->s, &r), TP_OK);
    store_sync_result bad = {.at_ms = T0 + 1000, .ok = false, .http_status = 0};
    tp_strlcpy(bad.message, "connect: Connection refused", sizeof bad.message);
    assert_int_equal(store_log_sync(f->s, &bad), TP_OK);
    assert_int_equal(store_last_sync(f->s, &out, &ok), TP_OK);
    assert_false(out.ok);
    assert_int_equal(out.at_ms, T0 + 1000);
    assert_string_equal(out.message, "connect: Connection refused");
    assert_true(ok.ok);
    assert_int_equal(ok.accepted, 8);
    assert_int_equal(ok.duplicates, 1);
    assert_int_equal(ok.rejected, 1);
    assert_int_equal(ok.sent, 10);
    assert_int_equal(ok.http_status, 200);
    assert_int_equal(store_last_sync(f->s, &out, NULL), TP_OK);
    assert_int_equal(store_last_sync(f->s, NULL, NULL), TP_ERR_INVALID);
    bad.sent = -1;
    assert_int_equal(store_log_sync(f->s, &bad), TP_ERR_INVALID);
    assert_int_equal(store_log_sync(f->s, NULL), TP_ERR_INVALID);
    /* Only the newest 1000 are kept. */
    bad.sent = 0;
    for (int i = 0; i < 1005; i++) {
        bad.at_ms = T0 + 2000 + i;
        assert_int_equal(store_log_sync(f->s, &bad), TP_OK);
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "SELECT count(*) FROM sync_log", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1000);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(store_last_sync(f->s, &out, &ok), TP_OK);
    assert_int_equal(ok.at_ms, 0); /* the successful one rotated out */
    print_message("checked: last_sync NOT_FOUND before any attempt; newest and newest-ok "
                  "attempts read back; invalid results refused; log trimmed to 1000\n");
}

static void event_log(void **state)
{
    struct fx *f = *state;
    store_event ev[3];
    size_t n = 9;
    assert_int_equal(store_events(f->s, ev, 3, &n), TP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_log_event(f->s, "info", "first"), TP_OK);
    tp_vclock_advance(&f->vc, 1000);
    assert_int_equal(store_log_event(f->s, "warn", "second"), TP_OK);
    assert_int_equal(store_log_event(f->s, "error", "third"), TP_OK);
    assert_int_equal(store_log_event(f->s, "debug", "x"), TP_ERR_INVALID);
    assert_int_equal(store_log_event(f->s, NULL, "x"), TP_ERR_INVALID);
    assert_int_equal(store_log_event(f->s, "info", NULL), TP_ERR_INVALID);
    assert_int_equal(store_log_event(f->s, "info", "\xc3"), TP_ERR_INVALID);
    assert_int_equal(store_events(f->s, ev, 2, &n), TP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].message, "third");
    assert_string_equal(ev[0].level, "error");
    assert_int_equal(ev[0].at_ms, T0 + 1000);
    assert_string_equal(ev[1].message, "second");
    assert_int_equal(store_events(f->s, NULL, 2, &n), TP_ERR_INVALID);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(store_log_event(f->s, "info", big), TP_OK);
    assert_int_equal(store_events(f->s, ev, 1, &n), TP_OK);
    assert_int_equal(strlen(ev[0].message), 511);
    print_message("checked: events newest first with level and time, bad level/message "
                  "refused, long messages cut to 511 bytes\n");
}

static void find_gaps_and_check_detect_damage(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 10; i++)
        rec1(f->s, "exit", "recommend", TP_KIND_NPS, 5, 0);
    int64_t gaps[4][2];
    size_t n = 9;
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &n), TP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_check(f->s, false), TP_OK);
    assert_int_equal(store_check(f->s, true), TP_OK);
    /* Remove answers behind the store's back: a real gap, and counters that no longer match. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "DELETE FROM answers WHERE seq IN (4, 5, 8)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_find_gaps(f->s, gaps, 4, &n), TP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(gaps[0][0], 4);
    assert_int_equal(gaps[0][1], 5);
    assert_int_equal(gaps[1][0], 8);
    assert_int_equal(gaps[1][1], 8);
    assert_int_equal(store_find_gaps(f->s, gaps, 1, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_find_gaps(f->s, NULL, 1, &n), TP_ERR_INVALID);
    assert_int_equal(store_check(f->s, true), TP_ERR_CORRUPT);
    assert_non_null(strstr(store_errmsg(f->s), "counters"));
    print_message("checked: find_gaps reports [4,5] and [8,8] after rows vanish behind the "
                  "store's back (bounded by max); store_check(full) reports the counter "
                  "mismatch as TP_ERR_CORRUPT\n");
}

static void free_space_reserve(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    store_options o = {.clock = &f->vc.clock, .min_free_bytes = INT64_MAX / 2};
    char err[TP_ERRMSG_MAX];
    assert_int_equal(store_open(f->path, &o, &f->s, err, sizeof err), TP_OK);
    store_answer_in a = {"recommend", TP_KIND_NPS, 9, NULL};
    store_session_in in = {.survey_id = "s",
                           .survey_version = 1,
                           .store_id = "x",
                           .touchpoint_id = "t",
                           .lang = "vi",
                           .n_answers = 1,
                           .answers = &a};
    assert_int_equal(store_record_session(f->s, &in, NULL, NULL), TP_ERR_DISK_FULL);
    assert_non_null(strstr(store_errmsg(f->s), "reserve"));
    assert_int_equal(info_of(f->s).highest_seq, 0);
    print_message("checked: free space below min_free_bytes -> TP_ERR_DISK_FULL before "
                  "writing, message names the reserve; nothing stored\n");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* 2,000 writers that each open, record once and close (the `touchpoint record` pattern). The WAL
 * is kept between connections (see store.c), so without a bound it grew about 25 kB per writer
 * (51 MB after 2,000) and every open recovered that whole log. */
static void short_lived_writers_bound_the_wal(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    f->s = NULL;
    /* On /dev/shm when there is one: the WAL's growth does not depend on fsync, and 2,000
     * writers x 3 fsyncs on a busy disk would make this test slow. */
    char shm[64] = "/dev/shm/tp-wal-XXXXXX";
    if (mkdtemp(shm)) {
        rm_tree(f->dir);
        tp_strlcpy(f->dir, shm, sizeof f->dir);
        snprintf(f->path, sizeof f->path, "%s/answers.db", f->dir);
    }
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    enum { WRITERS = 2000, SAMPLE = 100 };
    double first = 0, last = 0;
    int64_t wal_max = 0;
    for (int i = 0; i < WRITERS; i++) {
        char err[TP_ERRMSG_MAX] = "";
        store_options o = {.clock = &f->vc.clock, .device_id = "kiosk-01", .quick_open = true};
        store *s = NULL;
        double t = now_ms();
        assert_int_equal(store_open(f->path, &o, &s, err, sizeof err), TP_OK);
        t = now_ms() - t;
        if (i < SAMPLE)
            first += t;
        else if (i >= WRITERS - SAMPLE)
            last += t;
        rec1(s, "exit", "recommend", TP_KIND_NPS, i % 11, 0);
        store_close(s);
        int64_t w = size_of(wal);
        if (w > wal_max)
            wal_max = w;
    }
    f->s = open_at(f, "kiosk-01");
    assert_int_equal(info_of(f->s).highest_seq, WRITERS);
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("figure: open of a store written by N earlier processes: %.2f ms (N < %d), "
                  "%.2f ms (N >= %d)\n",
                  first / SAMPLE, SAMPLE, last / SAMPLE, WRITERS - SAMPLE);
    print_message("figure: largest -wal after a writer closed: %lld bytes\n", (long long)wal_max);
    assert_true(size_of(wal) >= 0); /* kept (see store.c), only bounded */
    assert_true(wal_max <= 4 * 1024 * 1024);
    print_message("checked: %d open-record-close writers leave the -wal at most 4 MiB (largest "
                  "%lld bytes); the file is kept; all %d answers there, integrity_check ok\n",
                  WRITERS, (long long)wal_max, WRITERS);
}

/* Names, sizes and mtimes of every entry of dir, one line each, into out. */
static void listing(const char *dir, char *out, size_t len)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "cd '%s' && stat -c '%%n %%s %%Y.%%y' -- * | sort", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, len - 1, p);
    out[got] = '\0';
    pclose(p);
}

/* A reader creates and changes nothing, also where the path needs URI escaping (%, ?, #). */
static void readonly_open_changes_nothing(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    f->s = NULL;
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/a%%20b?c#d", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/answers.db", dir);
    store_options o = {.clock = &f->vc.clock};
    char err[TP_ERRMSG_MAX] = "", before[4096], after[4096];
    store *s = NULL;
    assert_int_equal(store_open(path, &o, &s, err, sizeof err), TP_OK);
    rec1(s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    store_close(s);
    listing(dir, before, sizeof before);
    usleep(20000); /* a write from here on would show in the mtimes */
    o.readonly = true;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_open(path, &o, &s, err, sizeof err), TP_OK);
        assert_int_equal(info_of(s).highest_seq, 1);
        assert_int_equal(store_check(s, true), TP_OK);
        store_close(s);
        listing(dir, after, sizeof after);
        assert_string_equal(before, after);
        /* Second round: without the -wal and -shm (a copy of the main file alone). */
        char p[200];
        snprintf(p, sizeof p, "%s-wal", path);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", path);
        unlink(p);
        listing(dir, before, sizeof before);
    }
    print_message("checked: read-only opens, info and integrity_check change no name, size or "
                  "mtime in the folder (with and without -wal/-shm; a path with %%, ? and #)\n");
}

/* A file that was never a store is refused untouched; with our sidecar it is recovered. */
static void refuses_a_file_that_is_not_ours(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    f->s = NULL;
    char dir[128], path[160], before[4096], after[4096], err[TP_ERRMSG_MAX] = "";
    snprintf(dir, sizeof dir, "%s/other", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/kiosk.conf", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("[storage]\ndatabase = kiosk.conf\n", fp);
    fclose(fp);
    listing(dir, before, sizeof before);
    store_options o = {.clock = &f->vc.clock};
    store *s = NULL;
    assert_int_equal(store_open(path, &o, &s, err, sizeof err), TP_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(err, "is not a Touchpoint database; refusing to touch it"));
    assert_non_null(strstr(err, path));
    listing(dir, after, sizeof after);
    assert_string_equal(before, after);
    /* The same bytes with our sidecar beside them: a damaged store of ours, moved aside. */
    char mark[200];
    snprintf(mark, sizeof mark, "%s.seqmark", path);
    fp = fopen(mark, "w");
    assert_non_null(fp);
    fputs("touchpoint-seqmark 1\n40\n", fp);
    fclose(fp);
    assert_int_equal(store_open(path, &o, &s, err, sizeof err), TP_OK);
    store_info i = info_of(s);
    assert_non_null(strstr(i.recovered_from, "kiosk.conf.corrupt-"));
    assert_int_equal(i.epoch_first_seq, 41);
    store_close(s);
    print_message("checked: a text file without our sidecar -> TP_ERR_INVALID 'is not a "
                  "Touchpoint database; refusing to touch it', folder unchanged; with the sidecar "
                  "it is moved aside and numbering continues after its mark\n");
}

static void deleted_database_never_reuses_seqs(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 5; i++)
        rec1(f->s, "exit", "recommend", TP_KIND_NPS, 5, 0);
    char epoch[TP_UUID_STR];
    memcpy(epoch, info_of(f->s).epoch, sizeof epoch);
    store_close(f->s);
    /* Someone deletes the database (but not the sidecar): numbering must still not restart. */
    char p[200];
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    f->s = open_at(f, "kiosk-01");
    store_info i = info_of(f->s);
    assert_string_not_equal(i.epoch, epoch);
    assert_true(i.epoch_first_seq > 5);
    assert_int_equal(i.export_cursor, i.epoch_first_seq - 1);
    assert_int_equal(rec(f->s, "exit", "recommend", TP_KIND_NPS, (int[]){1}, 1, 0),
                     i.epoch_first_seq);
    int64_t gaps[2][2];
    size_t n = 9;
    assert_int_equal(store_find_gaps(f->s, gaps, 2, &n), TP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(info_of(f->s).n_not_exported, 1);
    store_event ev[2];
    assert_int_equal(store_events(f->s, ev, 2, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_non_null(strstr(ev[0].message, "new epoch"));
    print_message("checked: after the database is deleted, a new one starts a new epoch at "
                  "seq %lld (after the seqmark), no gaps reported, event logged\n",
                  (long long)i.epoch_first_seq);
}

static void null_handle_calls(void **state)
{
    (void)state;
    store_info i;
    int64_t x;
    size_t n;
    assert_int_equal(store_get_info(NULL, &i), TP_ERR_INVALID);
    assert_int_equal(store_read_pending(NULL, 0, 0, NULL, &n), TP_ERR_INVALID);
    assert_int_equal(store_foreach_answer(NULL, 0, -1, collect_cb, NULL), TP_ERR_INVALID);
    assert_int_equal(store_mark_synced(NULL, NULL, 0, NULL), TP_ERR_INVALID);
    assert_int_equal(store_mark_rejected(NULL, 1, "a", "b"), TP_ERR_INVALID);
    assert_int_equal(store_get_export_cursor(NULL, &x), TP_ERR_INVALID);
    assert_int_equal(store_set_export_cursor(NULL, 1), TP_ERR_INVALID);
    assert_int_equal(store_check(NULL, true), TP_ERR_INVALID);
    assert_int_equal(store_find_gaps(NULL, NULL, 0, &n), TP_ERR_INVALID);
    assert_int_equal(store_events(NULL, NULL, 0, &n), TP_ERR_INVALID);
    assert_int_equal(store_log_event(NULL, "info", "x"), TP_ERR_INVALID);
    assert_int_equal(store_log_sync(NULL, NULL), TP_ERR_INVALID);
    assert_int_equal(store_last_sync(NULL, NULL, NULL), TP_ERR_INVALID);
    assert_int_equal(store_get_info((store *)((struct fx *)*state)->s, NULL), TP_ERR_INVALID);
    print_message("checked: every function refuses a NULL handle or NULL out pointer with "
                  "TP_ERR_INVALID\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_creates_and_reopens, setup, teardown),
        cmocka_unit_test_setup_teardown(open_argument_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(readonly_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(record_and_read_every_field, setup, teardown),
        cmocka_unit_test_setup_teardown(record_validation_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(follow_up_joins_session, setup, teardown),
        cmocka_unit_test_setup_teardown(seq_strictly_plus_one, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_state_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(foreach_walks_a_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(export_cursor_never_moves_back, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_math_on_known_data, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_by_day_across_local_midnight, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_by_day_dst_and_half_hour_zones, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_rollup_equals_direct_count, setup, teardown),
        cmocka_unit_test_setup_teardown(prune_keeps_numbering_and_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(prune_drops_empty_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(two_handles_interleaved, setup, teardown),
        cmocka_unit_test_setup_teardown(schema_too_new, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_from_older_version, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_log_and_last_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(event_log, setup, teardown),
        cmocka_unit_test_setup_teardown(find_gaps_and_check_detect_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(free_space_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(short_lived_writers_bound_the_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(readonly_open_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_a_file_that_is_not_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(deleted_database_never_reuses_seqs, setup, teardown),
        cmocka_unit_test_setup_teardown(null_handle_calls, setup, teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
