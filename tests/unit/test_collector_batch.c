/* test_collector_batch.c - unit tests of the collector's batch parser (cbatch.c): every field,
 * every rejection code, kind ranges and choices, UTF-8 and identity, the envelope, strict JSON
 * edges, the clock rule and the reply listing every id. The rest of the collector's pure parts
 * are in test_collector.c; both build batches with collector_fixture.c. */
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

#include "collector_fixture.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
