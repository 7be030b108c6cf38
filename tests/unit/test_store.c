/*
 * test_store.c - unit tests of the answer store's API (storage/store.h): open, info and close,
 * recording and every validation error, numbering, sync state, reading and walking, the export
 * cursor, two handles, the sync and event logs, NULL handles. Statistics and prune are in
 * test_store_stats.c, the store's files (schema versions, damage, reserve, WAL, read-only opens,
 * foreign and deleted files) in test_store_files.c, all on tests/support/store_fixture.h. Fault
 * behaviour (kill -9, disk full, read-only, locked, corrupt files) is in tests/fault/.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"
#include "support/store_fixture.h"

/* ---- Open, info, close ---------------------------------------------------------------------- */

static void open_creates_and_reopens(void **state)
{
    struct sfx *f = *state;
    store_info i = sfx_info(f->s);
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
    f->s = sfx_open_at(f, NULL);
    i = sfx_info(f->s);
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
    struct sfx *f = *state;
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
    struct sfx *f = *state;
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 9, 0);
    char err[TP_ERRMSG_MAX];
    store *ro = NULL;
    store_options o = {.readonly = true, .clock = &f->vc.clock};
    assert_int_equal(store_open(f->path, &o, &ro, err, sizeof err), TP_OK);
    store_info i = sfx_info(ro);
    assert_int_equal(i.highest_seq, 1);
    store_answer_in a = {"recommend", TP_KIND_NPS, 9, NULL};
    store_session_in in = sfx_session(&a, 1);
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
    struct sfx *f = *state;
    f->vc.is_synced = true;
    store_answer_in a[2] = {{"recommend", TP_KIND_NPS, 9, NULL},
                            {"why", TP_KIND_CHOICE, 0, "staff"}};
    store_session_in in = sfx_session(a, 2);
    in.flags = TP_FLAG_BUTTON;
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
    store_info i = sfx_info(f->s);
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
    struct sfx *f = *state;
    const store_session_in ok = sfx_session(NULL, 1);
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
    store_info i = sfx_info(f->s);
    assert_int_equal(i.highest_seq, 8);
    print_message("checked: %zu invalid sessions each fail with TP_ERR_INVALID naming the field "
                  "(and the file), nothing stored; range edges of every kind accepted\n",
                  nc);
}

static void follow_up_joins_session(void **state)
{
    struct sfx *f = *state;
    store_answer_in a = {"recommend", TP_KIND_NPS, 3, NULL};
    store_session_in in = sfx_session(&a, 1);
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
    assert_int_equal(sfx_info(f->s).highest_seq, 4);
    print_message("checked: a follow-up joins its session (same id back, seqs continue); "
                  "mismatched survey/version/store/touchpoint -> INVALID naming the field; unknown "
                  "session -> NOT_FOUND; nothing stored on error\n");
}

/* A call that fails validation (value out of range); returns its result. */
static tp_err rec_fail_probe(store *s)
{
    store_answer_in a = {"recommend", TP_KIND_NPS, 11, NULL};
    store_session_in in = sfx_session(&a, 1);
    return store_record_session(s, &in, NULL, NULL);
}

static void seq_strictly_plus_one(void **state)
{
    struct sfx *f = *state;
    int64_t expect = 1;
    for (int i = 0; i < 300; i++) {
        int vals[3] = {i % 11, (i + 3) % 11, (i + 7) % 11};
        size_t n = (size_t)(i % 3) + 1;
        assert_int_equal(sfx_rec(f->s, "exit", "recommend", TP_KIND_NPS, vals, n, 0), expect);
        expect += (int64_t)n;
        if (i == 150) { /* a reopen in the middle must not disturb numbering */
            store_close(f->s);
            f->s = sfx_open_at(f, "kiosk-01");
        }
        if (i % 7 == 0) /* a failed call must not use a seq */
            assert_int_equal(rec_fail_probe(f->s), TP_ERR_INVALID);
    }
    assert_int_equal(sfx_info(f->s).highest_seq, expect - 1);
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

static void sync_state_transitions(void **state)
{
    struct sfx *f = *state;
    for (int i = 0; i < 5; i++)
        sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, i, 0);
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
    store_info i = sfx_info(f->s);
    assert_int_equal(i.n_pending, 1);
    assert_int_equal(i.n_synced, 2);
    assert_int_equal(i.n_rejected, 2);
    assert_int_equal(i.oldest_pending_ms, T0);

    struct sfx_collect c = {0};
    assert_int_equal(store_foreach_answer(f->s, 2, 3, sfx_collect_cb, &c), TP_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.last.state, STORE_REJECTED);
    assert_string_equal(c.last.reject_code, "invalid_field");
    assert_string_equal(c.last.reject_reason, "second reason");
    memset(&c, 0, sizeof c);
    assert_int_equal(store_foreach_answer(f->s, 3, 4, sfx_collect_cb, &c), TP_OK);
    assert_int_equal(strlen(c.last.reject_reason), 254);
    assert_true(tp_utf8_valid(c.last.reject_reason, 254));
    assert_int_equal(store_check(f->s, true), TP_OK);
    print_message("checked: mark_synced counts only pending (unknown/repeated seqs unchanged), "
                  "mark_rejected stores code+reason (UTF-8-safe cut at 255), refuses synced, "
                  "unknown, bad code/reason; pending read and info counters follow\n");
}

static void foreach_walks_a_snapshot(void **state)
{
    struct sfx *f = *state;
    for (int i = 0; i < 6; i++)
        sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, i, 0);
    store *other = sfx_open_at(f, NULL);
    struct sfx_collect c = {.other = other};
    assert_int_equal(store_foreach_answer(f->s, 0, -1, sfx_collect_cb, &c), TP_OK);
    /* The answer recorded by the other handle during the walk is not seen. */
    assert_int_equal(c.n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(c.seqs[i], (int64_t)i + 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_foreach_answer(f->s, 0, -1, sfx_collect_cb, &c), TP_OK);
    assert_int_equal(c.n, 7);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_foreach_answer(f->s, 2, 5, sfx_collect_cb, &c), TP_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.seqs[0], 3);
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    assert_int_equal(store_foreach_answer(f->s, 0, -1, sfx_collect_cb, &c), TP_ERR_EXISTS);
    assert_int_equal(c.n, 2);
    assert_int_equal(store_foreach_answer(f->s, 0, -1, NULL, NULL), TP_ERR_INVALID);
    /* The handle is usable after a stopped walk (the read transaction ended). */
    sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 1, 0);
    store_close(other);
    print_message("checked: foreach_answer walks (after, upto] in seq order inside one snapshot "
                  "(a concurrent insert is unseen), stops with the callback's code\n");
}

static void export_cursor_never_moves_back(void **state)
{
    struct sfx *f = *state;
    int64_t cur = -1;
    assert_int_equal(store_get_export_cursor(f->s, &cur), TP_OK);
    assert_int_equal(cur, 0);
    for (int i = 0; i < 4; i++)
        sfx_rec1(f->s, "exit", "recommend", TP_KIND_NPS, 5, 0);
    assert_int_equal(store_set_export_cursor(f->s, 3), TP_OK);
    assert_int_equal(store_get_export_cursor(f->s, &cur), TP_OK);
    assert_int_equal(cur, 3);
    assert_int_equal(store_set_export_cursor(f->s, 2), TP_ERR_INVALID);
    assert_non_null(strstr(store_errmsg(f->s), "never moves back"));
    assert_int_equal(store_set_export_cursor(f->s, 5), TP_ERR_INVALID);
    assert_non_null(strstr(store_errmsg(f->s), "highest"));
    assert_int_equal(store_set_export_cursor(f->s, 3), TP_OK);
    assert_int_equal(store_get_export_cursor(f->s, NULL), TP_ERR_INVALID);
    store_info i = sfx_info(f->s);
    assert_int_equal(i.export_cursor, 3);
    assert_int_equal(i.n_not_exported, 1);
    assert_int_equal(store_set_export_cursor(f->s, 4), TP_OK);
    assert_int_equal(sfx_info(f->s).n_not_exported, 0);
    print_message("checked: export cursor starts at 0, advances, refuses to move back or past "
                  "the highest seq; n_not_exported follows\n");
}

/* ---- Two handles, logs, NULL handles -------------------------------------------------------- */

static void two_handles_interleaved(void **state)
{
    struct sfx *f = *state;
    store *sync = sfx_open_at(f, NULL);
    int64_t expect = 1;
    for (int round = 0; round < 20; round++) {
        assert_int_equal(sfx_rec(f->s, "exit", "recommend", TP_KIND_NPS, (int[]){7, 8}, 2, 0),
                         expect);
        expect += 2;
        store_answer out[8];
        size_t n;
        assert_int_equal(store_read_pending(sync, 0, 8, out, &n), TP_OK);
        assert_int_equal(n, 2);
        int64_t seqs[2] = {out[0].seq, out[1].seq};
        size_t ch;
        assert_int_equal(store_mark_synced(sync, seqs, 2, &ch), TP_OK);
        assert_int_equal(ch, 2);
        store_info ik = sfx_info(f->s), is = sfx_info(sync);
        assert_int_equal(ik.n_synced, is.n_synced);
        assert_int_equal(ik.n_pending, 0);
        assert_int_equal(ik.highest_seq, is.highest_seq);
    }
    assert_int_equal(sfx_info(f->s).n_synced, 40);
    assert_int_equal(store_check(sync, true), TP_OK);
    store_close(sync);
    print_message("checked: kiosk handle records while a second handle reads and marks synced, "
                  "20 rounds interleaved; both see the same counters\n");
}

static void sync_log_and_last_sync(void **state)
{
    struct sfx *f = *state;
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
    struct sfx *f = *state;
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

static void null_handle_calls(void **state)
{
    (void)state;
    store_info i;
    int64_t x;
    size_t n;
    assert_int_equal(store_get_info(NULL, &i), TP_ERR_INVALID);
    assert_int_equal(store_read_pending(NULL, 0, 0, NULL, &n), TP_ERR_INVALID);
    assert_int_equal(store_foreach_answer(NULL, 0, -1, sfx_collect_cb, NULL), TP_ERR_INVALID);
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
    assert_int_equal(store_get_info((store *)((struct sfx *)*state)->s, NULL), TP_ERR_INVALID);
    print_message("checked: every function refuses a NULL handle or NULL out pointer with "
                  "TP_ERR_INVALID\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_creates_and_reopens, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(open_argument_errors, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(readonly_handle, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(record_and_read_every_field, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(record_validation_errors, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(follow_up_joins_session, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(seq_strictly_plus_one, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(sync_state_transitions, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(foreach_walks_a_snapshot, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(export_cursor_never_moves_back, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(two_handles_interleaved, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(sync_log_and_last_sync, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(event_log, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(null_handle_calls, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
