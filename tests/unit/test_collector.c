/* test_collector.c - unit tests of the collector's pure parts: batch validation (every field,
 * every rejection code, the envelope), the clock rule, the reply, report arithmetic (NPS with the
 * adjusted-Wald margin on hand-computed values, CSAT, CES, smiley), seq ranges and gaps, token
 * hashing and constant-time compare, add-device, the rate limiter, metrics text, and the SQLite
 * store through the cstore ops table (duplicates, seq conflicts, range merging, report, devices).
 * The same store semantics run against PostgreSQL in tests/integration/test_collector.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cauth.h"
#include "cbatch.h"
#include "cguard.h"
#include "cmetrics.h"
#include "cpool.h"
#include "crate.h"
#include "creport.h"
#include "cstore.h"

#define RECV 1763920001000LL

/* ---- Building batches ------------------------------------------------------------------------ */

/* One answer's fields as raw JSON values, in order; an override replaces or (NULL) drops one. */
static const char *const base_keys[] = {
    "id",      "seq",           "session", "survey",  "survey_version", "question",
    "kind",    "value",         "choice",  "lang",    "store",          "touchpoint",
    "wall_ms", "clock_trusted", "mono_ms", "boot_id", "flags"};
#define N_KEYS (sizeof base_keys / sizeof base_keys[0])

static void answer_json(char *out, size_t outlen, int n, const char *key, const char *raw)
{
    char id[40];
    snprintf(id, sizeof id, "\"0193a000-0000-7000-8000-%012d\"", n);
    char seq[24];
    snprintf(seq, sizeof seq, "%d", n);
    const char *vals[N_KEYS] = {id,
                                seq,
                                "\"5e55e55e-0000-4000-8000-000000000001\"",
                                "\"checkout-nps\"",
                                "2",
                                "\"recommend\"",
                                "\"nps\"",
                                "9",
                                "null",
                                "\"vi\"",
                                "\"hcm-01\"",
                                "\"exit\"",
                                "1763920000000",
                                "true",
                                "120000",
                                "\"b0000000-0000-4000-8000-000000000001\"",
                                "[\"rapid_repeat\"]"};
    size_t w = (size_t)snprintf(out, outlen, "{");
    bool first = true;
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *v = vals[i];
        if (key && strcmp(key, base_keys[i]) == 0) {
            if (!raw)
                continue;
            v = raw;
        }
        w += (size_t)snprintf(out + w, outlen - w, "%s\"%s\": %s", first ? "" : ", ", base_keys[i],
                              v);
        first = false;
    }
    snprintf(out + w, outlen - w, "}");
}

static const char *device_json =
    "{\"id\": \"kiosk-01\", \"epoch\": \"e0000000-0000-4000-8000-000000000001\","
    " \"epoch_first_seq\": 1, \"app_version\": \"0.1.0\", \"pending\": 5, \"highest_seq\": 9,"
    " \"disk_free\": 123456789, \"clock_trusted\": false, \"sent_wall_ms\": 1763920000000,"
    " \"sent_mono_ms\": 123456, \"boot_id\": \"b0000000-0000-4000-8000-000000000001\"}";

static char *batch_json(const char *answers)
{
    size_t n = strlen(answers) + 1024;
    char *b = malloc(n);
    assert_non_null(b);
    snprintf(b, n,
             "{\"protocol\": 1, \"batch_id\": \"ba000000-0000-4000-8000-000000000001\","
             " \"device\": %s, \"answers\": [%s]}",
             device_json, answers);
    return b;
}

/* Parses a batch of one good answer and one answer with key overridden; returns the batch. */
static cbatch *parse_with(const char *key, const char *raw)
{
    char good[2048], bad[2048], both[4200];
    answer_json(good, sizeof good, 1, NULL, NULL);
    answer_json(bad, sizeof bad, 2, key, raw);
    snprintf(both, sizeof both, "%s, %s", good, bad);
    char *json = batch_json(both);
    cbatch *b = NULL;
    char err[256];
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, err, sizeof err), TP_OK);
    free(json);
    return b;
}

/* The second answer with key := raw is rejected with code; the first is kept. */
static void expect_reject(const char *key, const char *raw, cbatch_code code)
{
    cbatch *b = parse_with(key, raw);
    if (b->n_rejects != 1 || b->rejects[0].code != code) {
        print_error("%s := %s: want %s, got %zu rejects (%s: %s)\n", key, raw ? raw : "(absent)",
                    cbatch_code_name(code), b->n_rejects,
                    b->n_rejects ? cbatch_code_name(b->rejects[0].code) : "-",
                    b->n_rejects ? b->rejects[0].message : "");
        fail();
    }
    assert_int_equal(b->n_answers, 1);
    assert_string_equal(b->answers[0].id, "0193a000-0000-7000-8000-000000000001");
    cbatch_free(b);
}

static void expect_accept(const char *key, const char *raw)
{
    cbatch *b = parse_with(key, raw);
    if (b->n_rejects != 0) {
        print_error("%s := %s: rejected %s: %s\n", key, raw ? raw : "(absent)",
                    cbatch_code_name(b->rejects[0].code), b->rejects[0].message);
        fail();
    }
    assert_int_equal(b->n_answers, 2);
    cbatch_free(b);
}

/* ---- Batch validation ------------------------------------------------------------------------ */

static void batch_good_parses_every_field(void **state)
{
    (void)state;
    char a[2048];
    answer_json(a, sizeof a, 7, NULL, NULL);
    char *json = batch_json(a);
    cbatch *b = NULL;
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
    free(json);
    assert_string_equal(b->batch_id, "ba000000-0000-4000-8000-000000000001");
    assert_string_equal(b->device.id, "kiosk-01");
    assert_int_equal(b->device.pending, 5);
    assert_int_equal(b->device.highest_seq, 9);
    assert_int_equal(b->device.disk_free, 123456789);
    assert_false(b->device.clock_trusted);
    assert_int_equal(b->n_answers, 1);
    const cbatch_answer *x = &b->answers[0];
    assert_int_equal(x->seq, 7);
    assert_string_equal(x->survey, "checkout-nps");
    assert_int_equal(x->survey_version, 2);
    assert_int_equal(x->kind, TP_KIND_NPS);
    assert_int_equal(x->value, 9);
    assert_string_equal(x->lang, "vi");
    assert_string_equal(x->store, "hcm-01");
    assert_int_equal(x->flags, TP_FLAG_RAPID_REPEAT);
    assert_true(x->clock_trusted);
    assert_int_equal(x->at_ms, 1763920000000LL);
    assert_int_equal(x->time_source, CBATCH_TIME_DEVICE);
    cbatch_free(b);
    print_message("checked: a protocol-v1 batch parses into every device and answer field\n");
}

#define ZEROS10 "0000000000"
#define ZEROS100 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10 ZEROS10

static void batch_rejects_each_field(void **state)
{
    (void)state;
    /* missing_field */
    const char *required[] = {"id",         "seq",     "session",       "survey",  "survey_version",
                              "question",   "kind",    "value",         "lang",    "store",
                              "touchpoint", "wall_ms", "clock_trusted", "mono_ms", "boot_id"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        expect_reject(required[i], NULL, CBATCH_MISSING_FIELD);
    expect_reject("store", "null", CBATCH_MISSING_FIELD);
    /* invalid_type */
    expect_reject("id", "17", CBATCH_INVALID_TYPE);
    expect_reject("seq", "\"3\"", CBATCH_INVALID_TYPE);
    expect_reject("seq", "3.5", CBATCH_INVALID_TYPE);
    expect_reject("value", "\"9\"", CBATCH_INVALID_TYPE);
    expect_reject("value", "true", CBATCH_INVALID_TYPE);
    expect_reject("survey_version", "[2]", CBATCH_INVALID_TYPE);
    expect_reject("clock_trusted", "1", CBATCH_INVALID_TYPE);
    expect_reject("wall_ms", "\"now\"", CBATCH_INVALID_TYPE);
    expect_reject("flags", "\"button\"", CBATCH_INVALID_TYPE);
    expect_reject("flags", "[1]", CBATCH_INVALID_TYPE);
    expect_reject("store", "{}", CBATCH_INVALID_TYPE);
    /* invalid_id */
    expect_reject("id", "\"not-a-uuid\"", CBATCH_INVALID_ID);
    expect_reject("session", "\"0193a000-0000-7000-8000-00000000000\"", CBATCH_INVALID_ID);
    expect_reject("boot_id", "\"\"", CBATCH_INVALID_ID);
    expect_reject("store", "\"hcm 01\"", CBATCH_INVALID_ID);
    expect_reject("store", "\"x'; DROP TABLE answers;--\"", CBATCH_INVALID_ID);
    expect_reject("touchpoint", "\"\"", CBATCH_INVALID_ID);
    expect_reject("question", "\"q\\u00e9\"", CBATCH_INVALID_ID);
    expect_reject("survey", "\"a/b\"", CBATCH_INVALID_ID);
    /* invalid_kind */
    expect_reject("kind", "\"stars\"", CBATCH_INVALID_KIND);
    expect_reject("kind", "\"NPS\"", CBATCH_INVALID_KIND);
    /* value_out_of_range */
    expect_reject("value", "11", CBATCH_VALUE_OUT_OF_RANGE);
    expect_reject("value", "-1", CBATCH_VALUE_OUT_OF_RANGE);
    expect_reject("seq", "0", CBATCH_VALUE_OUT_OF_RANGE); /* below epoch_first_seq 1 */
    /* (was "1e300", which is now invalid_type: an exponent is not an integer; the range check
     * is kept with an integer literal far beyond int64) */
    expect_reject("seq", "1" ZEROS100 ZEROS100 ZEROS100, CBATCH_VALUE_OUT_OF_RANGE);
    expect_reject("survey_version", "0", CBATCH_VALUE_OUT_OF_RANGE);
    expect_reject("wall_ms", "-1", CBATCH_VALUE_OUT_OF_RANGE);
    expect_reject("wall_ms", "9999999999999", CBATCH_VALUE_OUT_OF_RANGE);
    expect_reject("mono_ms", "-5", CBATCH_VALUE_OUT_OF_RANGE);
    /* invalid_utf8: an escape cannot smuggle it, raw bytes can (see the next test) */
    /* too_long */
    expect_reject("survey", "\"sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss\"",
                  CBATCH_TOO_LONG);
    expect_reject("lang", "\"vi-VN-north\"", CBATCH_TOO_LONG);
    /* invalid_field */
    expect_reject("lang", "\"v\"", CBATCH_INVALID_FIELD);
    expect_reject("lang", "\"v1\"", CBATCH_INVALID_FIELD);
    expect_reject("flags", "[\"bogus\"]", CBATCH_INVALID_FIELD);
    expect_reject("flags", "[\"button\", \"button\"]", CBATCH_INVALID_FIELD);
    expect_reject("choice", "\"yes\"", CBATCH_INVALID_FIELD);
    /* accepted variants */
    expect_accept("flags", NULL);
    expect_accept("flags", "[]");
    expect_accept("flags", "[\"button\", \"rapid_repeat\"]");
    expect_accept("value", "0");
    expect_accept("value", "10");
    expect_accept("id", "\"0193A000-0000-7000-8000-0000000000FF\"");
    print_message("checked: every field's missing/type/id/kind/range/length/field rejection, "
                  "one bad answer alone, and accepted variants\n");
}

static void batch_kind_ranges_and_choice(void **state)
{
    (void)state;
    char a[2048];
    struct {
        const char *kind, *value;
        bool ok;
    } cases[] = {
        {"\"csat\"", "1", true},    {"\"csat\"", "5", true},     {"\"csat\"", "0", false},
        {"\"csat\"", "6", false},   {"\"ces\"", "7", true},      {"\"ces\"", "8", false},
        {"\"smiley4\"", "4", true}, {"\"smiley4\"", "5", false}, {"\"smiley4\"", "0", false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char over[2048];
        answer_json(a, sizeof a, 3, "kind", cases[i].kind);
        /* swap the value in the text */
        char *v = strstr(a, "\"value\": 9");
        assert_non_null(v);
        snprintf(over, sizeof over, "%.*s\"value\": %s%s", (int)(v - a), a, cases[i].value,
                 v + strlen("\"value\": 9"));
        char *json = batch_json(over);
        cbatch *b = NULL;
        assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
        assert_int_equal(b->n_answers, cases[i].ok ? 1 : 0);
        if (!cases[i].ok)
            assert_int_equal(b->rejects[0].code, CBATCH_VALUE_OUT_OF_RANGE);
        cbatch_free(b);
        free(json);
    }
    /* choice: value must be null, choice a valid id */
    answer_json(a, sizeof a, 4, "kind", "\"choice\"");
    char *v = strstr(a, "\"value\": 9");
    char fixed[2048];
    snprintf(fixed, sizeof fixed, "%.*s\"value\": null%s", (int)(v - a), a, v + 10);
    char *c = strstr(fixed, "\"choice\": null");
    char fixed2[2048];
    snprintf(fixed2, sizeof fixed2, "%.*s\"choice\": \"parking\"%s", (int)(c - fixed), fixed,
             c + 14);
    char *json = batch_json(fixed2);
    cbatch *b = NULL;
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
    assert_int_equal(b->n_answers, 1);
    assert_int_equal(b->answers[0].kind, TP_KIND_CHOICE);
    assert_int_equal(b->answers[0].value, -1);
    assert_string_equal(b->answers[0].choice, "parking");
    cbatch_free(b);
    free(json);
    json = batch_json(fixed); /* choice null */
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
    assert_int_equal(b->n_rejects, 1);
    assert_int_equal(b->rejects[0].code, CBATCH_MISSING_FIELD);
    cbatch_free(b);
    free(json);
    print_message("checked: per-kind ranges csat 1-5, ces 1-7, smiley4 1-4; choice needs a "
                  "choice id and a null value\n");
}

static void batch_invalid_utf8_and_identity(void **state)
{
    (void)state;
    char a[2048], both[4200];
    answer_json(a, sizeof a, 1, "store", "\"hcm\xff\xfe\"");
    char good[2048];
    answer_json(good, sizeof good, 2, NULL, NULL);
    snprintf(both, sizeof both, "%s, %s", a, good);
    char *json = batch_json(both);
    cbatch *b = NULL;
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
    assert_int_equal(b->n_answers, 1);
    assert_int_equal(b->n_rejects, 1);
    assert_int_equal(b->rejects[0].code, CBATCH_INVALID_UTF8);
    assert_true(b->rejects[0].has_id);
    assert_int_equal(b->rejects[0].seq, 1);
    cbatch_free(b);
    free(json);
    /* An answer that is not an object: rejected without an id. */
    json = batch_json("42");
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
    assert_int_equal(b->n_rejects, 1);
    assert_false(b->rejects[0].has_id);
    assert_int_equal(b->rejects[0].code, CBATCH_INVALID_TYPE);
    char *reply = cbatch_reply_json(b, NULL, RECV);
    assert_non_null(strstr(reply, "\"id\":null"));
    free(reply);
    cbatch_free(b);
    free(json);
    print_message("checked: invalid UTF-8 rejects its answer (invalid_utf8) with id and seq kept; "
                  "a non-object answer is rejected with a null id\n");
}

static void batch_envelope_errors(void **state)
{
    (void)state;
    cbatch *b = NULL;
    char err[256];
    const char *bad[] = {
        "",
        "{",
        "[]",
        "null",
        "{\"protocol\": 2}",
        "{\"protocol\": \"1\", \"batch_id\": \"ba000000-0000-4000-8000-000000000001\"}",
        "{\"protocol\": 1, \"batch_id\": \"nope\"}",
        "{\"protocol\": 1, \"batch_id\": \"ba000000-0000-4000-8000-000000000001\"}",
        "{\"protocol\": 1, \"batch_id\": \"ba000000-0000-4000-8000-000000000001\","
        " \"device\": {\"id\": \"k 1\"}, \"answers\": []}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cbatch_parse(bad[i], strlen(bad[i]), RECV, &b, err, sizeof err),
                         TP_ERR_INVALID);
        assert_null(b);
    }
    char *json = batch_json("");
    /* answers not an array */
    char *p = strstr(json, "\"answers\": [");
    memcpy(p + 11, "{", 1);
    json[strlen(json) - 2] = '}';
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "answers"));
    free(json);
    /* more than CBATCH_MAX_ANSWERS */
    size_t cap = (CBATCH_MAX_ANSWERS + 1) * 3 + 10;
    char *many = malloc(cap);
    size_t w = 0;
    for (int i = 0; i <= CBATCH_MAX_ANSWERS; i++)
        w += (size_t)snprintf(many + w, cap - w, "%s{}", i ? "," : "");
    json = batch_json(many);
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, err, sizeof err), TP_ERR_TOO_LARGE);
    free(json);
    free(many);
    /* app_version must be printable ASCII, epoch_first_seq >= 1 */
    json = batch_json("");
    p = strstr(json, "0.1.0");
    memcpy(p, "\t", 1);
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, err, sizeof err), TP_ERR_INVALID);
    free(json);
    json = batch_json("");
    p = strstr(json, "\"epoch_first_seq\": 1");
    p[strlen("\"epoch_first_seq\": ")] = '0';
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, err, sizeof err), TP_ERR_INVALID);
    free(json);
    /* device fields are checked: negative pending */
    json = batch_json("");
    p = strstr(json, "\"pending\": 5");
    memcpy(p + 10, "-", 1); /* "pending":-5 */
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "pending"));
    free(json);
    print_message("checked: empty, truncated, non-object, wrong protocol, bad batch id, bad "
                  "device, answers not an array -> invalid; 5001 answers -> too large\n");
}

/* Issue 10 item 4: the literal form of numbers and \u0000 in strings, which cJSON's tree loses. */
static void batch_strict_edges(void **state)
{
    (void)state;
    expect_reject("value", "9.0", CBATCH_INVALID_TYPE);
    expect_reject("value", "9e0", CBATCH_INVALID_TYPE);
    expect_reject("seq", "2.0", CBATCH_INVALID_TYPE);
    expect_reject("seq", "2E0", CBATCH_INVALID_TYPE);
    expect_reject("survey_version", "02", CBATCH_INVALID_TYPE);
    expect_reject("store", "\"hcm\\u000001\"", CBATCH_INVALID_UTF8);
    expect_reject("survey", "\"\\u0000\"", CBATCH_INVALID_UTF8);
    expect_reject("flags", "[\"button\\u0000\"]", CBATCH_INVALID_UTF8);
    /* an escaped backslash, then "u0000": no NUL, just a character ids do not allow */
    expect_reject("store", "\"hcm\\\\u0000\"", CBATCH_INVALID_ID);
    expect_accept("value", "-0");

    /* seqs in messages are printed from their text, exactly */
    cbatch *b = parse_with("seq", "9223372036854775807");
    assert_int_equal(b->n_rejects, 1);
    assert_int_equal(b->rejects[0].code, CBATCH_VALUE_OUT_OF_RANGE);
    assert_non_null(strstr(b->rejects[0].message, "9223372036854775807 not in"));
    cbatch_free(b);
    b = parse_with("seq", "9223372036854775808");
    assert_int_equal(b->rejects[0].code, CBATCH_VALUE_OUT_OF_RANGE);
    assert_non_null(strstr(b->rejects[0].message, "9223372036854775808 not in"));
    cbatch_free(b);
    b = parse_with("seq", "9007199254740993"); /* 2^53 + 1: a double would say ...992 */
    assert_non_null(strstr(b->rejects[0].message, "9007199254740993 not in"));
    cbatch_free(b);

    /* a raw NUL byte inside a string is refused the same way */
    {
        char one[2048], two[2048], both[4200];
        answer_json(one, sizeof one, 1, NULL, NULL);
        answer_json(two, sizeof two, 2, "store", "\"hcmZ01\"");
        snprintf(both, sizeof both, "%s, %s", one, two);
        char *raw = batch_json(both);
        size_t n = strlen(raw);
        char *z = strstr(raw, "Z01");
        assert_non_null(z);
        *z = '\0';
        char e2[256];
        cbatch *rb = NULL;
        assert_int_equal(cbatch_parse(raw, n, RECV, &rb, e2, sizeof e2), TP_OK);
        assert_int_equal(rb->n_answers, 1);
        assert_int_equal(rb->n_rejects, 1);
        assert_int_equal(rb->rejects[0].code, CBATCH_INVALID_UTF8);
        cbatch_free(rb);
        free(raw);
    }

    /* a key holding \u0000 spoils the whole batch */
    char good[2048], *json;
    answer_json(good, sizeof good, 1, "store", NULL);
    size_t w = strlen(good);
    snprintf(good + w - 1, sizeof good - w + 1, ", \"store\\u0000x\": \"hcm-01\"}");
    json = batch_json(good);
    char err[256];
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "u0000"));
    free(json);

    /* an absurd monotonic clock is not used to correct the time */
    cbatch_device d = {.sent_mono_ms = 9007199254740991LL, .sent_wall_ms = 5};
    tp_strlcpy(d.boot_id, "b0000000-0000-4000-8000-000000000001", sizeof d.boot_id);
    cbatch_answer a = {.wall_ms = 1763910000000LL, .mono_ms = 1000, .clock_trusted = false};
    tp_strlcpy(a.boot_id, d.boot_id, sizeof a.boot_id);
    cbatch_correct_time(&d, RECV, &a);
    assert_int_equal(a.time_source, CBATCH_TIME_UNCORRECTED);
    assert_int_equal(a.at_ms, 1763910000000LL);
    d.sent_mono_ms = 86400000LL * 365 * 5; /* five years up: still corrected */
    cbatch_correct_time(&d, RECV, &a);
    assert_int_equal(a.time_source, CBATCH_TIME_CORRECTED);
    assert_true(a.at_ms >= CBATCH_MIN_MS);
    print_message("checked: 9.0, 9e0, 2.0, 02 invalid_type; \\u0000 in a value invalid_utf8, in a "
                  "key malformed; seqs printed exactly; absurd sent_mono_ms left uncorrected\n");
}

static void clock_rule(void **state)
{
    (void)state;
    cbatch_device d = {.sent_mono_ms = 100000, .sent_wall_ms = 5};
    tp_strlcpy(d.boot_id, "b0000000-0000-4000-8000-000000000001", sizeof d.boot_id);
    cbatch_answer a = {.wall_ms = 978307200000LL, .mono_ms = 40000, .clock_trusted = false};
    tp_strlcpy(a.boot_id, d.boot_id, sizeof a.boot_id);
    cbatch_correct_time(&d, RECV, &a);
    assert_int_equal(a.time_source, CBATCH_TIME_CORRECTED);
    assert_int_equal(a.at_ms, RECV - 60000); /* received - (sent_mono - mono) */
    a.clock_trusted = true;
    cbatch_correct_time(&d, RECV, &a);
    assert_int_equal(a.time_source, CBATCH_TIME_DEVICE);
    assert_int_equal(a.at_ms, 978307200000LL);
    a.clock_trusted = false;
    tp_strlcpy(a.boot_id, "b0000000-0000-4000-8000-000000000002", sizeof a.boot_id);
    cbatch_correct_time(&d, RECV, &a);
    assert_int_equal(a.time_source, CBATCH_TIME_UNCORRECTED);
    assert_int_equal(a.at_ms, 978307200000LL);
    /* same boot but mono after the send: impossible, kept uncorrected */
    tp_strlcpy(a.boot_id, d.boot_id, sizeof a.boot_id);
    a.mono_ms = 200000;
    cbatch_correct_time(&d, RECV, &a);
    assert_int_equal(a.time_source, CBATCH_TIME_UNCORRECTED);
    assert_string_equal(cbatch_time_source_name(CBATCH_TIME_CORRECTED), "corrected");
    print_message("checked: clock rule: trusted keeps wall_ms, untrusted same boot = received - "
                  "(sent_mono - mono), other boot uncorrected\n");
}

static void reply_lists_every_id(void **state)
{
    (void)state;
    char a1[2048], a2[2048], a3[2048], all[6500];
    answer_json(a1, sizeof a1, 1, NULL, NULL);
    answer_json(a2, sizeof a2, 2, NULL, NULL);
    answer_json(a3, sizeof a3, 3, "value", "12");
    snprintf(all, sizeof all, "%s,%s,%s", a1, a2, a3);
    char *json = batch_json(all);
    cbatch *b = NULL;
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
    unsigned char oc[2] = {CBATCH_DUPLICATE, CBATCH_CONFLICT};
    char *r = cbatch_reply_json(b, oc, RECV);
    assert_non_null(r);
    assert_non_null(strstr(r, "\"ack\":\"touchpoint-collector\""));
    assert_non_null(strstr(r, "\"batch_id\":\"ba000000-0000-4000-8000-000000000001\""));
    assert_non_null(strstr(r, "\"accepted\":[]"));
    assert_non_null(strstr(r, "\"duplicates\":[\"0193a000-0000-7000-8000-000000000001\"]"));
    /* request order: the conflict (index 1) before the parser's rejection (index 2) */
    char *c1 = strstr(r, "\"index\":1,\"code\":\"seq_conflict\"");
    char *c2 = strstr(r, "\"index\":2,\"code\":\"value_out_of_range\"");
    assert_true(c1 && c2 && c1 < c2);
    assert_non_null(strstr(r, "nps value 12 not in 0..10"));
    free(r);
    cbatch_free(b);
    free(json);
    for (int c = 0; c < CBATCH_CODE_COUNT; c++)
        assert_string_not_equal(cbatch_code_name((cbatch_code)c), "?");
    print_message("checked: the reply names the ack, batch id, duplicates, seq conflicts and "
                  "parser rejections with their codes and messages\n");
}

/* ---- Report arithmetic ----------------------------------------------------------------------- */

static void nps_adjusted_wald(void **state)
{
    (void)state;
    /* 10,10,9,9,9,8,7,6,3,0: P=5 D=3 n=10 -> NPS 20. By hand: n'=13, p'=5.75/13=0.442308,
     * d'=3.75/13=0.288462, var=(0.730769-0.023669)/13=0.054392, MoE=196*0.233221=45.711. */
    int64_t d[11] = {1, 0, 0, 1, 0, 0, 1, 1, 1, 3, 2};
    tp_nps r; /* the report's NPS is the base layer's (tp.h) */
    tp_nps_compute(d, &r);
    assert_int_equal(r.n, 10);
    assert_int_equal(r.promoters, 5);
    assert_int_equal(r.passives, 2);
    assert_int_equal(r.detractors, 3);
    assert_true(fabs(r.score - 20.0) < 1e-9);
    assert_true(fabs(r.moe - 45.711) < 0.01);
    /* 100 answers: 60 promoters, 10 detractors -> NPS 50. n'=103, p'=60.75/103=0.589806,
     * d'=10.75/103=0.104369, var=(0.694175-0.235649)/103=0.004452, MoE=196*0.066720=13.08. */
    int64_t e[11] = {0};
    e[10] = 60;
    e[8] = 30;
    e[2] = 10;
    tp_nps_compute(e, &r);
    assert_true(fabs(r.score - 50.0) < 1e-9);
    assert_true(fabs(r.moe - 13.08) < 0.01);
    /* no answers: score 0, and the adjusted interval is still defined (n'=3). */
    int64_t z[11] = {0};
    tp_nps_compute(z, &r);
    assert_int_equal(r.n, 0);
    assert_true(r.score == 0.0);
    assert_true(r.moe > 0);
    print_message("checked: NPS 20.0 +- 45.71 and 50.0 +- 13.08 by the adjusted-Wald method, "
                  "as computed by hand\n");
}

static void csat_ces_smiley(void **state)
{
    (void)state;
    creport_rating r;
    int64_t csat[5] = {1, 1, 2, 3, 3}; /* n=10, 4-5: 6 -> 60 %, mean (1+2+6+12+15)/10 = 3.6 */
    creport_rating_compute(csat, 1, 5, 4, &r);
    assert_int_equal(r.n, 10);
    assert_true(fabs(r.top_pct - 60.0) < 1e-9);
    assert_true(fabs(r.mean - 3.6) < 1e-9);
    int64_t ces[7] = {0, 1, 0, 1, 2, 0, 1}; /* 2,4,5,5,7: mean 23/5 = 4.6, 5-7: 3 -> 60 % */
    creport_rating_compute(ces, 1, 7, 5, &r);
    assert_true(fabs(r.mean - 4.6) < 1e-9);
    assert_true(fabs(r.top_pct - 60.0) < 1e-9);
    int64_t sm[4] = {1, 0, 0, 3}; /* 3-4: 75 % */
    creport_rating_compute(sm, 1, 4, 3, &r);
    assert_true(fabs(r.top_pct - 75.0) < 1e-9);
    int64_t none[5] = {0};
    creport_rating_compute(none, 1, 5, 4, &r);
    assert_int_equal(r.n, 0);
    assert_true(r.mean == 0 && r.top_pct == 0);
    print_message("checked: CSAT %% of 4-5 and mean, CES mean and %% of 5-7, smiley %% of 3-4 on "
                  "hand-computed values\n");
}

static void report_groups_json(void **state)
{
    (void)state;
    creport *r = creport_new(CREPORT_BY_STORE);
    assert_non_null(r);
    assert_int_equal(creport_add(r, "hcm-02", TP_KIND_NPS, 10, NULL, false, 3), TP_OK);
    assert_int_equal(creport_add(r, "hcm-01", TP_KIND_NPS, 0, NULL, true, 1), TP_OK);
    assert_int_equal(creport_add(r, "hcm-01", TP_KIND_CSAT, 5, NULL, false, 2), TP_OK);
    assert_int_equal(creport_add(r, "hcm-01", TP_KIND_CHOICE, 0, "parking", false, 4), TP_OK);
    assert_int_equal(creport_add(r, "hcm-01", TP_KIND_NPS, 11, NULL, false, 1),
                     TP_OK); /* ignored */
    char *j = creport_json(r, "2026-11-01", "2026-11-30", NULL, "Asia/Ho_Chi_Minh");
    assert_non_null(j);
    char *h1 = strstr(j, "\"key\":\"hcm-01\""), *h2 = strstr(j, "\"key\":\"hcm-02\"");
    assert_true(h1 && h2 && h1 < h2); /* sorted by key */
    assert_non_null(strstr(h1, "\"n\":7,\"uncorrected\":1"));
    assert_non_null(strstr(h1, "\"parking\":4"));
    assert_non_null(strstr(h2, "\"score\":100"));
    assert_non_null(strstr(j, "\"total\":{\"n\":10,\"uncorrected\":1"));
    assert_non_null(strstr(j, "\"survey\":null"));
    free(j);
    creport_free(r);
    creport_by by;
    assert_int_equal(creport_by_parse("touchpoint", &by), TP_OK);
    assert_int_equal(by, CREPORT_BY_TOUCHPOINT);
    assert_int_equal(creport_by_parse("color", &by), TP_ERR_INVALID);
    print_message("checked: report groups sorted by key, counts, uncorrected flag, choices, "
                  "out-of-range values ignored, totals\n");
}

/* ---- Seq ranges and gaps --------------------------------------------------------------------- */

static void ranges_and_gaps(void **state)
{
    (void)state;
    int64_t seqs[] = {7, 3, 1, 2, 3, 6, 10};
    cstore_range r[7], g[4];
    size_t n = cstore_seq_ranges(seqs, 7, r);
    assert_int_equal(n, 3);
    assert_true(r[0].lo == 1 && r[0].hi == 3 && r[1].lo == 6 && r[1].hi == 7 && r[2].lo == 10);
    size_t ng;
    int64_t missing;
    cstore_gaps(1, 12, r, n, g, 4, &ng, &missing);
    assert_int_equal(ng, 3);
    assert_int_equal(missing, 2 + 2 + 2); /* 4-5, 8-9, 11-12 */
    assert_true(g[0].lo == 4 && g[0].hi == 5 && g[1].lo == 8 && g[1].hi == 9 && g[2].lo == 11 &&
                g[2].hi == 12);
    cstore_gaps(1, 3, r, n, g, 4, &ng, &missing);
    assert_int_equal(ng, 0);
    assert_int_equal(missing, 0);
    /* first_seq above 1 (a restored device), head gap */
    cstore_range only[1] = {{105, 110}};
    cstore_gaps(100, 110, only, 1, g, 4, &ng, &missing);
    assert_int_equal(ng, 1);
    assert_true(g[0].lo == 100 && g[0].hi == 104 && missing == 5);
    /* nothing received */
    cstore_gaps(1, 5, NULL, 0, g, 4, &ng, &missing);
    assert_true(ng == 1 && missing == 5);
    /* more gaps than listed: counted */
    cstore_range many[5] = {{1, 1}, {3, 3}, {5, 5}, {7, 7}, {9, 9}};
    cstore_gaps(1, 10, many, 5, g, 2, &ng, &missing);
    assert_int_equal(ng, 5);
    assert_int_equal(missing, 5);
    print_message("checked: seqs merge into ranges; gaps between, before and after them, counted "
                  "beyond the listed bound\n");
}

/* ---- Tokens ---------------------------------------------------------------------------------- */

static void token_hash_and_compare(void **state)
{
    (void)state;
    char hx[65];
    assert_int_equal(cauth_sha256_hex("abc", 3, hx), TP_OK);
    assert_string_equal(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(cauth_equal_ct("abc", "abc"));
    assert_false(cauth_equal_ct("abc", "abd"));
    assert_false(cauth_equal_ct("abc", "abcd"));

    char dir[] = "/tmp/tp-collector-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], tok1[64], tok2[64], err[256], dev[TP_ID_MAX + 1];
    snprintf(path, sizeof path, "%s/devices", dir);
    assert_int_equal(cauth_add_device(path, "kiosk-01", tok1, err, sizeof err), TP_OK);
    assert_int_equal(strlen(tok1), 43); /* 32 bytes base64url, no padding */
    assert_null(strpbrk(tok1, "+/="));
    assert_int_equal(cauth_add_device(path, "kiosk-02", tok2, err, sizeof err), TP_OK);
    assert_int_equal(cauth_add_device(path, "kiosk-01", tok2 + 0, err, sizeof err), TP_ERR_EXISTS);
    assert_int_equal(cauth_add_device(path, "bad id", tok2 + 0, err, sizeof err), TP_ERR_INVALID);
    cauth *a = NULL;
    assert_int_equal(cauth_open(path, &a, err, sizeof err), TP_OK);
    assert_int_equal(cauth_count(a), 2);
    assert_int_equal(cauth_check(a, tok1, 1, dev), TP_OK);
    assert_string_equal(dev, "kiosk-01");
    tok1[5] ^= 1;
    assert_int_equal(cauth_check(a, tok1, 1, dev), TP_ERR_AUTH);
    assert_int_equal(cauth_check(a, "", 1, dev), TP_ERR_AUTH);
    cauth_free(a);
    /* A file whose line is broken is refused with file:line. */
    FILE *f = fopen(path, "a");
    fputs("kiosk-03 nothex\n", f);
    fclose(f);
    assert_int_equal(cauth_open(path, &a, err, sizeof err), TP_ERR_CONFIG);
    assert_non_null(strstr(err, ":3:"));
    unlink(path);
    rmdir(dir);
    print_message("checked: SHA-256 known answer, constant-time compare, add-device tokens "
                  "(43 chars base64url), duplicate ids refused, token check, bad line refused\n");
}

static void rate_limit_bucket(void **state)
{
    (void)state;
    crate *r = crate_new(0.5, 2); /* 1 token every 2 s, burst 2 */
    int retry = 0;
    assert_true(crate_take(r, "k1", 1000, &retry));
    assert_true(crate_take(r, "k1", 1000, &retry));
    assert_false(crate_take(r, "k1", 1000, &retry));
    assert_int_equal(retry, 2);
    assert_true(crate_take(r, "k2", 1000, &retry)); /* buckets are per device */
    assert_false(crate_take(r, "k1", 2500, &retry));
    assert_int_equal(retry, 1);
    assert_true(crate_take(r, "k1", 3000, &retry));
    crate_free(r);
    assert_null(crate_new(0, 1));
    print_message("checked: token bucket per device: burst, refusal with Retry-After, refill\n");
}

static void metrics_text(void **state)
{
    (void)state;
    cmetrics *m = cmetrics_new();
    cmetrics_batch(m, 200, 3.0, 10, 2);
    cmetrics_batch(m, 413, 0.5, 0, 0);
    cmetrics_rejected(m, CBATCH_SEQ_CONFLICT, 4);
    cmetrics_status(m, 200);
    char *t = cmetrics_render(m);
    assert_non_null(strstr(t, "touchpoint_batches_total{status=\"200\"} 1\n"));
    assert_non_null(strstr(t, "touchpoint_batches_total{status=\"413\"} 1\n"));
    assert_non_null(strstr(t, "touchpoint_answers_accepted_total 10\n"));
    assert_non_null(strstr(t, "touchpoint_answers_duplicate_total 2\n"));
    assert_non_null(strstr(t, "touchpoint_answers_rejected_total{code=\"seq_conflict\"} 4\n"));
    assert_non_null(strstr(t, "touchpoint_batch_duration_seconds_bucket{le=\"0.001\"} 1\n"));
    assert_non_null(strstr(t, "touchpoint_batch_duration_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr(t, "touchpoint_batch_duration_seconds_count 2\n"));
    assert_non_null(strstr(t, "# TYPE touchpoint_batch_duration_seconds histogram\n"));
    free(t);
    cmetrics_free(m);
    print_message("checked: Prometheus text: batches by status, answers, rejections by code, "
                  "cumulative latency buckets\n");
}

/* ---- The SQLite store through the ops table ----------------------------------------------------
 */

static cbatch *simple_batch(const int *seqs, int n, int id_base)
{
    char *all = calloc((size_t)n + 1, 2100);
    size_t w = 0;
    for (int i = 0; i < n; i++) {
        char a[2048], seq[16];
        answer_json(a, sizeof a, id_base + i, NULL, NULL);
        snprintf(seq, sizeof seq, "%d", seqs[i]);
        char b[2100];
        char *p = strstr(a, "\"seq\": ");
        char *q = strchr(p, ',');
        snprintf(b, sizeof b, "%.*s\"seq\": %s%s", (int)(p - a), a, seq, q);
        w += (size_t)snprintf(all + w, 2100 * ((size_t)n + 1) - w, "%s%s", i ? "," : "", b);
    }
    char *json = batch_json(all);
    cbatch *b = NULL;
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, NULL, 0), TP_OK);
    free(json);
    free(all);
    return b;
}

static void sqlite_store_semantics(void **state)
{
    (void)state;
    char dir[] = "/tmp/tp-cstore-unit-XXXXXX", url[300], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof url, "sqlite:%s/central.db", dir);
    cstore *s = NULL;
    assert_int_equal(cstore_open(url, 2, &s, err, sizeof err), TP_OK);
    assert_string_equal(cstore_kind(s), "sqlite");
    assert_int_equal(cstore_ping(s, err, sizeof err), TP_OK);

    int seqs1[] = {1, 2, 3, 6};
    cbatch *b = simple_batch(seqs1, 4, 100);
    unsigned char oc[8];
    assert_int_equal(cstore_ingest(s, b, RECV, oc, err, sizeof err), TP_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(oc[i], CBATCH_ACCEPTED);
    assert_int_equal(cstore_ingest(s, b, RECV, oc, err, sizeof err), TP_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(oc[i], CBATCH_DUPLICATE);
    cbatch_free(b);
    /* new ids: seq 2 taken -> conflict; seq 4, 5 new -> accepted, ranges merge to 1-6 */
    int seqs2[] = {2, 4, 5};
    b = simple_batch(seqs2, 3, 200);
    assert_int_equal(cstore_ingest(s, b, RECV, oc, err, sizeof err), TP_OK);
    assert_int_equal(oc[0], CBATCH_CONFLICT);
    assert_int_equal(oc[1], CBATCH_ACCEPTED);
    assert_int_equal(oc[2], CBATCH_ACCEPTED);
    cbatch_free(b);

    cstore_devices *d = NULL;
    assert_int_equal(cstore_list_devices(s, &d, err, sizeof err), TP_OK);
    assert_int_equal(d->n, 1);
    assert_string_equal(d->v[0].id, "kiosk-01");
    assert_int_equal(d->v[0].answers, 6);
    assert_int_equal(d->v[0].batches, 3);
    assert_int_equal(d->v[0].pending, 5);
    assert_int_equal(d->v[0].n_epochs, 1);
    const cstore_epoch *e = &d->v[0].epochs[0];
    assert_int_equal(e->n_ranges, 1);
    assert_true(e->ranges[0].lo == 1 && e->ranges[0].hi == 6);
    assert_int_equal(e->highest_seq, 9);
    cstore_devices_free(d);

    creport *r = creport_new(CREPORT_BY_DAY);
    cstore_query q = {
        .from_ms = RECV - 86400000LL * 2, .to_ms = RECV + 86400000LL, .by = CREPORT_BY_DAY};
    assert_int_equal(cstore_report(s, &q, r, err, sizeof err), TP_OK);
    char *j = creport_json(r, "a", "b", NULL, "");
    assert_non_null(strstr(j, "\"total\":{\"n\":6,"));
    char day[11];
    tp_local_day_start(1763920000000LL, day);
    char key[40];
    snprintf(key, sizeof key, "\"key\":\"%s\"", day);
    assert_non_null(strstr(j, key));
    free(j);
    creport_free(r);
    q.survey = "other-survey";
    r = creport_new(CREPORT_BY_STORE);
    assert_int_equal(cstore_report(s, &q, r, err, sizeof err), TP_OK);
    j = creport_json(r, "a", "b", q.survey, "");
    assert_non_null(strstr(j, "\"groups\":[]"));
    free(j);
    creport_free(r);
    cstore_close(s);

    /* Reopening migrates nothing and keeps the data. */
    assert_int_equal(cstore_open(url, 1, &s, err, sizeof err), TP_OK);
    assert_int_equal(cstore_list_devices(s, &d, err, sizeof err), TP_OK);
    assert_int_equal(d->v[0].answers, 6);
    cstore_devices_free(d);
    cstore_close(s);
    assert_int_equal(cstore_open("mysql://x", 1, &s, err, sizeof err), TP_ERR_INVALID);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    print_message("checked: sqlite store: accepted then duplicates, seq conflict, ranges merged "
                  "1-6, device status and counts, report by day and survey filter, reopen\n");
}

/* ---- Flood guard and connection pool --------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when the peer of fd has been shut down (a read returns 0 at once). */
static bool peer_shut(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* Waits up to max_ms for the peer of fd to be shut down; returns the time it was seen, or -1. */
static int64_t wait_shut(int fd, int64_t max_ms)
{
    int64_t end = now_ms() + max_ms;
    while (now_ms() < end) {
        if (peer_shut(fd))
            return now_ms();
        sleep_ms(10);
    }
    return -1;
}

static void guard_deadlines_and_budget(void **state)
{
    (void)state;
    cguard *g = cguard_new(300, 1500, 1000);
    assert_non_null(g);
    /* the budget: taken, refused over it, given back */
    assert_true(cguard_take_bytes(g, 600));
    assert_false(cguard_take_bytes(g, 401));
    assert_true(cguard_take_bytes(g, 400));
    assert_int_equal(cguard_bytes_free(g), 0);
    cguard_put_bytes(g, 1000);
    assert_int_equal(cguard_bytes_used(g), 0);

    /* head 300 ms and body 1500 ms, absolute: bytes (later calls) do not renew them */
    int head[2], body[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, head), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, body), 0);
    int64_t t0 = now_ms();
    cguard_conn *h = cguard_conn_open(g, head[0]);
    cguard_conn *b = cguard_conn_open(g, body[0]);
    assert_non_null(h);
    assert_non_null(b);
    cguard_request_started(g, b); /* b's head arrived: 1500 ms for its body from now */
    assert_false(peer_shut(head[1]));
    sleep_ms(100);
    cguard_request_started(g, b); /* more body bytes: changes nothing */
    int64_t t_head = wait_shut(head[1], 5000);
    assert_true(t_head >= t0 + 300);
    if (now_ms() < t0 + 1400)
        assert_false(peer_shut(body[1]));
    int64_t t_body = wait_shut(body[1], 10000);
    assert_true(t_body >= t0 + 1500);
    assert_int_equal(cguard_expired(g), 2);
    cguard_conn_close(g, h);
    cguard_conn_close(g, b);
    for (int i = 0; i < 2; i++) {
        close(head[i]);
        close(body[i]);
    }
    cguard_free(g);
    cguard_free(NULL);
    print_message("checked: body budget taken and refused over it; head and body deadlines are "
                  "absolute (a trickle does not renew them); expired connections counted\n");
}

static void pool_keeps_a_spare(void **state)
{
    (void)state;
    cpool *p = cpool_new(2, sizeof(int));
    assert_non_null(p);
    assert_int_equal(cpool_size(p), 3);
    int *a = cpool_acquire(p), *b = cpool_acquire(p);
    assert_true(a != b);
    int *spare = cpool_acquire_spare(p); /* both workers' slots are busy: the spare is free */
    assert_ptr_equal(spare, cpool_slot(p, 2));
    assert_true(spare != a && spare != b);
    cpool_release(p, spare);
    cpool_release(p, a);
    int *again = cpool_acquire(p);
    assert_ptr_equal(again, a); /* a worker never gets the spare */
    cpool_release(p, again);
    cpool_release(p, b);
    cpool_free(p);
    cpool_free(NULL);
    print_message("checked: the pool hands out its worker slots and keeps one spare for health "
                  "checks\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_good_parses_every_field),
        cmocka_unit_test(batch_rejects_each_field),
        cmocka_unit_test(batch_kind_ranges_and_choice),
        cmocka_unit_test(batch_invalid_utf8_and_identity),
        cmocka_unit_test(batch_envelope_errors),
        cmocka_unit_test(batch_strict_edges),
        cmocka_unit_test(clock_rule),
        cmocka_unit_test(reply_lists_every_id),
        cmocka_unit_test(nps_adjusted_wald),
        cmocka_unit_test(csat_ces_smiley),
        cmocka_unit_test(report_groups_json),
        cmocka_unit_test(ranges_and_gaps),
        cmocka_unit_test(token_hash_and_compare),
        cmocka_unit_test(rate_limit_bucket),
        cmocka_unit_test(metrics_text),
        cmocka_unit_test(sqlite_store_semantics),
        cmocka_unit_test(guard_deadlines_and_budget),
        cmocka_unit_test(pool_keeps_a_spare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
