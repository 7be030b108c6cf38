/* test_proto.c - unit tests of the sync protocol codec (sync/proto.c): batch encoding (fields,
 * count and byte bounds, gzip) and strict validation of the collector's reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "proto.h"

#define BOOT "6a1e0f7c-0b8e-4d55-a2c4-8b3b0f0e9d11"
#define EPOCH "5d0c7a52-7a49-4f0e-9c55-3c1fb8c5a0e2"

/* A deterministic answer with seq i (ids differ per i). */
static void make_answer(store_answer *a, int64_t i, tp_kind kind)
{
    memset(a, 0, sizeof *a);
    a->seq = i;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "0193a5c1-2b40-7c3e-8f00-%012lld", (long long)i);
    tp_strlcpy(a->id, tmp, sizeof a->id);
    snprintf(tmp, sizeof tmp, "0193a5c1-2b3f-7a00-b000-%012lld", (long long)(i / 2));
    tp_strlcpy(a->session_id, tmp, sizeof a->session_id);
    tp_strlcpy(a->survey_id, "checkout-nps", sizeof a->survey_id);
    a->survey_version = 2;
    tp_strlcpy(a->question_id, "recommend", sizeof a->question_id);
    a->kind = kind;
    if (kind == TP_KIND_CHOICE)
        tp_strlcpy(a->choice_id, "staff-friendly", sizeof a->choice_id);
    else
        a->value = (int)(i % 5) + 1;
    tp_strlcpy(a->lang, "vi", sizeof a->lang);
    tp_strlcpy(a->store_id, "hcm-01", sizeof a->store_id);
    tp_strlcpy(a->touchpoint_id, "exit", sizeof a->touchpoint_id);
    a->wall_ms = 1763920000000 + i * 1000;
    a->clock_trusted = (i % 2) == 0;
    a->mono_ms = 120000 + i;
    tp_strlcpy(a->boot_id, BOOT, sizeof a->boot_id);
    a->flags = (unsigned)(i % 4) & TP_FLAGS_KNOWN;
}

static void make_device(proto_device *d)
{
    memset(d, 0, sizeof *d);
    d->id = "kiosk-01";
    d->epoch = EPOCH;
    d->epoch_first_seq = 1;
    d->app_version = "0.1.0";
    d->pending = 1234;
    d->highest_seq = 5678;
    d->disk_free = 123456789;
    d->clock_trusted = false;
    d->sent_wall_ms = 1763920000000;
    d->sent_mono_ms = 123456;
    d->boot_id = BOOT;
}

static cJSON *parse_body(const proto_batch *b)
{
    assert_false(b->gzipped);
    cJSON *root = cJSON_ParseWithLength((const char *)b->body, b->body_len);
    assert_non_null(root);
    return root;
}

static int64_t jint(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsNumber(v));
    return (int64_t)v->valuedouble;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void encode_round_trip(void **state)
{
    (void)state;
    store_answer a[3];
    make_answer(&a[0], 17, TP_KIND_NPS);
    a[0].value = 9;
    a[0].flags = TP_FLAG_RAPID_REPEAT | TP_FLAG_BUTTON;
    make_answer(&a[1], 18, TP_KIND_CHOICE);
    make_answer(&a[2], 19, TP_KIND_SMILEY4);
    a[2].value = 4;
    a[2].flags = 0;
    proto_device d;
    make_device(&d);
    proto_batch b;
    char err[256];
    assert_int_equal(proto_encode_batch(&d, a, 3, 0, 0, false, &b, err, sizeof err), TP_OK);
    assert_int_equal(b.n_answers, 3);
    assert_true(tp_uuid_valid(b.batch_id));
    assert_int_equal(b.json_len, b.body_len);
    cJSON *root = parse_body(&b);
    assert_int_equal(jint(root, "protocol"), 1);
    assert_string_equal(jstr(root, "batch_id"), b.batch_id);
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    assert_string_equal(jstr(dev, "id"), "kiosk-01");
    assert_string_equal(jstr(dev, "epoch"), EPOCH);
    assert_int_equal(jint(dev, "epoch_first_seq"), 1);
    assert_string_equal(jstr(dev, "app_version"), "0.1.0");
    assert_int_equal(jint(dev, "pending"), 1234);
    assert_int_equal(jint(dev, "highest_seq"), 5678);
    assert_int_equal(jint(dev, "disk_free"), 123456789);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(dev, "clock_trusted")));
    assert_int_equal(jint(dev, "sent_wall_ms"), 1763920000000);
    assert_int_equal(jint(dev, "sent_mono_ms"), 123456);
    assert_string_equal(jstr(dev, "boot_id"), BOOT);
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(root, "answers");
    assert_int_equal(cJSON_GetArraySize(ans), 3);
    const cJSON *x = cJSON_GetArrayItem(ans, 0);
    assert_string_equal(jstr(x, "id"), a[0].id);
    assert_int_equal(jint(x, "seq"), 17);
    assert_string_equal(jstr(x, "session"), a[0].session_id);
    assert_string_equal(jstr(x, "survey"), "checkout-nps");
    assert_int_equal(jint(x, "survey_version"), 2);
    assert_string_equal(jstr(x, "question"), "recommend");
    assert_string_equal(jstr(x, "kind"), "nps");
    assert_int_equal(jint(x, "value"), 9);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x, "choice")));
    assert_string_equal(jstr(x, "lang"), "vi");
    assert_string_equal(jstr(x, "store"), "hcm-01");
    assert_string_equal(jstr(x, "touchpoint"), "exit");
    assert_int_equal(jint(x, "wall_ms"), a[0].wall_ms);
    assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(x, "clock_trusted")));
    assert_int_equal(jint(x, "mono_ms"), a[0].mono_ms);
    assert_string_equal(jstr(x, "boot_id"), BOOT);
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(x, "flags");
    assert_int_equal(cJSON_GetArraySize(fl), 2);
    assert_string_equal(cJSON_GetArrayItem(fl, 0)->valuestring, "rapid_repeat");
    assert_string_equal(cJSON_GetArrayItem(fl, 1)->valuestring, "button");
    const cJSON *y = cJSON_GetArrayItem(ans, 1);
    assert_string_equal(jstr(y, "kind"), "choice");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(y, "value")));
    assert_string_equal(jstr(y, "choice"), "staff-friendly");
    const cJSON *z = cJSON_GetArrayItem(ans, 2);
    assert_string_equal(jstr(z, "kind"), "smiley4");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(z, "flags")), 0);
    cJSON_Delete(root);
    proto_batch_free(&b);
    proto_batch_free(&b); /* zeroed: a second free is harmless */
    print_message("checked: every device and answer field of PROTOCOL.md 3 is encoded with its "
                  "value; choice/value nulls; flag names\n");
}

static void encode_status_only_and_invalid(void **state)
{
    (void)state;
    proto_device d;
    make_device(&d);
    proto_batch b;
    char err[256];
    assert_int_equal(proto_encode_batch(&d, NULL, 0, 0, 0, false, &b, err, sizeof err), TP_OK);
    assert_int_equal(b.n_answers, 0);
    cJSON *root = parse_body(&b);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "answers")), 0);
    cJSON_Delete(root);
    proto_batch_free(&b);

    d.id = "bad id";
    assert_int_equal(proto_encode_batch(&d, NULL, 0, 0, 0, false, &b, err, sizeof err),
                     TP_ERR_INVALID);
    assert_non_null(strstr(err, "device.id"));
    assert_null(b.body);
    make_device(&d);
    d.app_version = "";
    assert_int_equal(proto_encode_batch(&d, NULL, 0, 0, 0, false, &b, err, sizeof err),
                     TP_ERR_INVALID);
    assert_non_null(strstr(err, "app_version"));
    make_device(&d);
    store_answer a;
    make_answer(&a, 1, TP_KIND_NPS);
    a.kind = (tp_kind)42;
    assert_int_equal(proto_encode_batch(&d, &a, 1, 0, 0, false, &b, err, sizeof err),
                     TP_ERR_INVALID);
    assert_non_null(strstr(err, "seq 1"));
    assert_null(b.body);
    print_message("checked: status-only batch has an empty answers array; invalid device fields "
                  "and kinds are refused with the field named and nothing allocated\n");
}

static void encode_count_and_byte_bounds(void **state)
{
    (void)state;
    enum { N = 300 };
    store_answer *a = calloc(N, sizeof *a);
    assert_non_null(a);
    for (int i = 0; i < N; i++)
        make_answer(&a[i], i + 1, i % 7 == 0 ? TP_KIND_CHOICE : TP_KIND_CSAT);
    proto_device d;
    make_device(&d);
    proto_batch b;
    char err[256];

    assert_int_equal(proto_encode_batch(&d, a, N, 50, 0, false, &b, err, sizeof err), TP_OK);
    assert_int_equal(b.n_answers, 50);
    proto_batch_free(&b);

    /* Find the size of the first k answers, then bound just below/at it. */
    size_t sizes[6];
    for (size_t k = 1; k <= 5; k++) {
        assert_int_equal(proto_encode_batch(&d, a, k, k, 0, false, &b, err, sizeof err), TP_OK);
        sizes[k] = b.body_len;
        proto_batch_free(&b);
    }
    assert_int_equal(proto_encode_batch(&d, a, N, 0, sizes[3], false, &b, err, sizeof err), TP_OK);
    assert_int_equal(b.n_answers, 3);
    assert_int_equal(b.body_len, sizes[3]);
    proto_batch_free(&b);
    assert_int_equal(proto_encode_batch(&d, a, N, 0, sizes[3] - 1, false, &b, err, sizeof err),
                     TP_OK);
    assert_int_equal(b.n_answers, 2);
    proto_batch_free(&b);
    /* The first answer is always taken, even when alone it is over the bound. */
    assert_int_equal(proto_encode_batch(&d, a, N, 0, 10, false, &b, err, sizeof err), TP_OK);
    assert_int_equal(b.n_answers, 1);
    proto_batch_free(&b);

    /* A mid-size bound: never over, and one more answer would have been over. */
    for (size_t bound = 4096; bound <= 65536; bound *= 2) {
        assert_int_equal(proto_encode_batch(&d, a, N, 0, bound, false, &b, err, sizeof err), TP_OK);
        assert_true(b.body_len <= bound);
        size_t k = b.n_answers;
        assert_true(k < N);
        proto_batch_free(&b);
        assert_int_equal(proto_encode_batch(&d, a, k + 1, 0, 0, false, &b, err, sizeof err), TP_OK);
        assert_true(b.body_len > bound);
        proto_batch_free(&b);
    }
    free(a);
    print_message("checked: batch_max caps the count; batch_max_bytes is exact (fits at the "
                  "size, one answer fewer one byte below, never over, never one short)\n");
}

static unsigned char *gunzip(const unsigned char *in, size_t len, size_t *outlen)
{
    size_t cap = 64 * 1024 * 1024;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 31), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.avail_in, 0);
    *outlen = zs.total_out;
    inflateEnd(&zs);
    return out;
}

static void gzip_decompresses_to_the_json(void **state)
{
    (void)state;
    enum { N = 500 };
    store_answer *a = calloc(N, sizeof *a);
    assert_non_null(a);
    for (int i = 0; i < N; i++)
        make_answer(&a[i], i + 1, TP_KIND_NPS);
    proto_device d;
    make_device(&d);
    proto_batch plain, gz;
    char err[256];
    assert_int_equal(proto_encode_batch(&d, a, N, 0, 0, false, &plain, err, sizeof err), TP_OK);
    assert_int_equal(proto_encode_batch(&d, a, N, 0, 0, true, &gz, err, sizeof err), TP_OK);
    assert_true(gz.gzipped);
    assert_int_equal(gz.n_answers, N);
    assert_true(gz.body[0] == 0x1f && gz.body[1] == 0x8b); /* gzip magic */
    assert_true(gz.body_len < plain.body_len / 4);
    size_t ul = 0;
    unsigned char *u = gunzip(gz.body, gz.body_len, &ul);
    assert_int_equal(ul, gz.json_len);
    /* Only the batch ids differ between the two encodings. */
    assert_int_equal(ul, plain.body_len);
    char *p = strstr((char *)plain.body, plain.batch_id);
    assert_non_null(p);
    memcpy(p, gz.batch_id, 36);
    assert_memory_equal(u, plain.body, ul);
    print_message("checked: gzip body (magic 1f8b) inflates to the same JSON, %zu answers in %zu "
                  "bytes (%zu bytes/answer)\n",
                  gz.n_answers, gz.body_len, gz.body_len / gz.n_answers);
    free(u);
    proto_batch_free(&plain);
    proto_batch_free(&gz);
    free(a);
}

/* ---- Replies -------------------------------------------------------------------------------- */

#define BATCH "0193a5c2-7f1e-4b7a-9c1d-2f6e8a4b1c3d"

typedef struct reply_fixture {
    store_answer a[4];
} reply_fixture;

static int reply_setup(void **state)
{
    reply_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    for (int i = 0; i < 4; i++)
        make_answer(&f->a[i], 10 + i, TP_KIND_NPS);
    *state = f;
    return 0;
}

static int reply_teardown(void **state)
{
    free(*state);
    return 0;
}

static tp_err parse(reply_fixture *f, const char *body, proto_reply *r, char *err, size_t errlen)
{
    return proto_parse_reply(body, strlen(body), BATCH, f->a, 4, r, err, errlen);
}

static void reply_valid(void **state)
{
    reply_fixture *f = *state;
    char body[2048];
    snprintf(body, sizeof body,
             "{\"protocol\":1,\"ack\":\"touchpoint-collector\",\"batch_id\":\"%s\","
             "\"received_at_ms\":1763920001000,\"accepted\":[\"%s\",\"%s\"],\"duplicates\":"
             "[\"%s\"],\"rejected\":[{\"id\":\"%s\",\"index\":3,\"code\":\"value_out_of_range\","
             "\"message\":\"nps value 11 not in 0..10\"}],\"extra\":{\"ignored\":true}}",
             BATCH, f->a[0].id, f->a[2].id, f->a[1].id, f->a[3].id);
    proto_reply r;
    char err[256] = "";
    assert_int_equal(parse(f, body, &r, err, sizeof err), TP_OK);
    assert_int_equal(r.received_at_ms, 1763920001000);
    assert_int_equal(r.n_accepted, 2);
    assert_int_equal(r.accepted[0], 0);
    assert_int_equal(r.accepted[1], 2);
    assert_int_equal(r.n_duplicates, 1);
    assert_int_equal(r.duplicates[0], 1);
    assert_int_equal(r.n_rejected, 1);
    assert_int_equal(r.rejected[0].index, 3);
    assert_string_equal(r.rejected[0].code, "value_out_of_range");
    assert_string_equal(r.rejected[0].message, "nps value 11 not in 0..10");
    proto_reply_free(&r);

    /* A partial acknowledgement (not every id named) is valid; an upper-case id matches too. */
    char upper[TP_UUID_STR];
    for (size_t i = 0; i < TP_UUID_STR; i++)
        upper[i] = (char)((f->a[0].id[i] >= 'a' && f->a[0].id[i] <= 'f') ? f->a[0].id[i] - 32
                                                                         : f->a[0].id[i]);
    snprintf(body, sizeof body,
             "{\"protocol\":1,\"ack\":\"touchpoint-collector\",\"batch_id\":\"%s\","
             "\"accepted\":[\"%s\"],\"duplicates\":[],\"rejected\":[]}",
             BATCH, upper);
    assert_int_equal(parse(f, body, &r, err, sizeof err), TP_OK);
    assert_int_equal(r.n_accepted, 1);
    assert_int_equal(r.n_duplicates + r.n_rejected, 0);
    proto_reply_free(&r);

    /* A long rejection message is cut (at a UTF-8 boundary), not refused. */
    char msg[600];
    size_t ml = 0;
    while (ml + 3 < 500) {
        memcpy(msg + ml, "\xe1\xbb\x87", 3); /* U+1EC7 */
        ml += 3;
    }
    msg[ml] = '\0';
    snprintf(body, sizeof body,
             "{\"protocol\":1,\"ack\":\"touchpoint-collector\",\"batch_id\":\"%s\","
             "\"accepted\":[],\"duplicates\":[],\"rejected\":[{\"id\":\"%s\",\"code\":"
             "\"too_long\",\"message\":\"%s\"}]}",
             BATCH, f->a[1].id, msg);
    assert_int_equal(parse(f, body, &r, err, sizeof err), TP_OK);
    assert_int_equal(r.n_rejected, 1);
    size_t kept = strlen(r.rejected[0].message);
    assert_true(kept > 0 && kept < PROTO_MESSAGE_MAX);
    assert_true(tp_utf8_valid(r.rejected[0].message, kept));
    proto_reply_free(&r);
    print_message("checked: a valid acknowledgement gives accepted/duplicate/rejected indexes, "
                  "code and message; partial acks and upper-case ids accepted; long messages cut "
                  "at a character boundary\n");
}

/* Each body must be refused with TP_ERR_PROTOCOL (and allocate nothing). */
static void expect_protocol_error(reply_fixture *f, const char *what, const char *body, size_t len)
{
    proto_reply r;
    char err[256] = "";
    tp_err rc = proto_parse_reply(body, len, BATCH, f->a, 4, &r, err, sizeof err);
    if (rc != TP_ERR_PROTOCOL)
        fail_msg("%s: expected TP_ERR_PROTOCOL, got %s (%s)", what, tp_err_name(rc), err);
    assert_true(err[0] != '\0');
    assert_null(r.accepted);
    assert_null(r.rejected);
    print_message("  refused %s: %s\n", what, err);
}

static void reply_invalid(void **state)
{
    reply_fixture *f = *state;
    char b[2048];
#define OKHEAD "{\"protocol\":1,\"ack\":\"touchpoint-collector\",\"batch_id\":\"" BATCH "\","
    const char *html = "<!DOCTYPE html><html><head><title>Wi-Fi login</title></head>"
                       "<body>Please accept the terms</body></html>";
    expect_protocol_error(f, "captive portal HTML", html, strlen(html));
    expect_protocol_error(f, "empty body", "", 0);
    expect_protocol_error(f, "whitespace body", "  \n", 3);
    expect_protocol_error(f, "a JSON array", "[1,2]", 5);
    expect_protocol_error(f, "a JSON string", "\"ok\"", 4);
    expect_protocol_error(f, "an empty object", "{}", 2);

    snprintf(b, sizeof b,
             "{\"protocol\":1,\"ack\":\"touchpoint-collector\",\"batch_id\":\"%s\","
             "\"accepted\":[\"%s\"],\"duplicates\":[],\"rejected\":[]}",
             "0193a5c2-7f1e-4b7a-9c1d-000000000000", f->a[0].id);
    expect_protocol_error(f, "another batch's id", b, strlen(b));
    snprintf(b, sizeof b,
             "{\"protocol\":1,\"ack\":\"touchpoint-proxy\",\"batch_id\":\"" BATCH "\","
             "\"accepted\":[\"%s\"],\"duplicates\":[],\"rejected\":[]}",
             f->a[0].id);
    expect_protocol_error(f, "a wrong ack", b, strlen(b));
    snprintf(b, sizeof b,
             "{\"protocol\":1,\"batch_id\":\"" BATCH "\","
             "\"accepted\":[\"%s\"],\"duplicates\":[],\"rejected\":[]}",
             f->a[0].id);
    expect_protocol_error(f, "no ack", b, strlen(b));
    snprintf(b, sizeof b,
             "{\"protocol\":2,\"ack\":\"touchpoint-collector\",\"batch_id\":\"" BATCH "\","
             "\"accepted\":[\"%s\"],\"duplicates\":[],\"rejected\":[]}",
             f->a[0].id);
    expect_protocol_error(f, "protocol 2", b, strlen(b));

    snprintf(b, sizeof b, OKHEAD "\"accepted\":[\"%s\"],\"duplicates\":[],\"rejected\":[]}",
             f->a[0].id);
    size_t full = strlen(b);
    for (size_t cut = 1; cut < full; cut += 7)
        if (cut == 1 || cut + 7 >= full) /* print two, check all */
            expect_protocol_error(f, "truncated JSON", b, cut);
        else {
            proto_reply r;
            assert_int_equal(proto_parse_reply(b, cut, BATCH, f->a, 4, &r, NULL, 0),
                             TP_ERR_PROTOCOL);
        }
    char trail[2100];
    snprintf(trail, sizeof trail, "%s<html>", b);
    expect_protocol_error(f, "JSON followed by garbage", trail, strlen(trail));
    char nul[2100];
    memcpy(nul, b, full);
    nul[full] = '\0';
    memcpy(nul + full + 1, "xx", 2);
    expect_protocol_error(f, "JSON with an embedded NUL", nul, full + 3);

    expect_protocol_error(f, "missing accepted", OKHEAD "\"duplicates\":[],\"rejected\":[]}",
                          strlen(OKHEAD "\"duplicates\":[],\"rejected\":[]}"));
    expect_protocol_error(f, "missing duplicates", OKHEAD "\"accepted\":[],\"rejected\":[]}",
                          strlen(OKHEAD "\"accepted\":[],\"rejected\":[]}"));
    expect_protocol_error(f, "missing rejected", OKHEAD "\"accepted\":[],\"duplicates\":[]}",
                          strlen(OKHEAD "\"accepted\":[],\"duplicates\":[]}"));
    expect_protocol_error(f, "accepted not an array",
                          OKHEAD "\"accepted\":{},\"duplicates\":[],\"rejected\":[]}",
                          strlen(OKHEAD "\"accepted\":{},\"duplicates\":[],\"rejected\":[]}"));
    expect_protocol_error(f, "a number as an id",
                          OKHEAD "\"accepted\":[17],\"duplicates\":[],\"rejected\":[]}",
                          strlen(OKHEAD "\"accepted\":[17],\"duplicates\":[],\"rejected\":[]}"));

    snprintf(b, sizeof b, OKHEAD "\"accepted\":[\"%s\"],\"duplicates\":[],\"rejected\":[]}",
             "0193a5c1-2b40-7c3e-8f00-999999999999");
    expect_protocol_error(f, "an id not in the batch", b, strlen(b));
    snprintf(b, sizeof b, OKHEAD "\"accepted\":[\"%s\"],\"duplicates\":[\"%s\"],\"rejected\":[]}",
             f->a[0].id, f->a[0].id);
    expect_protocol_error(f, "an id named twice", b, strlen(b));
    snprintf(b, sizeof b,
             OKHEAD "\"accepted\":[],\"duplicates\":[],\"rejected\":[{\"id\":\"%s\","
                    "\"message\":\"x\"}]}",
             f->a[0].id);
    expect_protocol_error(f, "a rejection without code", b, strlen(b));
    snprintf(b, sizeof b,
             OKHEAD "\"accepted\":[],\"duplicates\":[],\"rejected\":[{\"id\":\"%s\","
                    "\"code\":\"x\"}]}",
             f->a[0].id);
    expect_protocol_error(f, "a rejection without message", b, strlen(b));
    snprintf(b, sizeof b,
             OKHEAD "\"accepted\":[],\"duplicates\":[],\"rejected\":[{\"id\":null,\"index\":0,"
                    "\"code\":\"invalid_id\",\"message\":\"x\"}]}");
    expect_protocol_error(f, "a rejection with a null id", b, strlen(b));
    snprintf(b, sizeof b, OKHEAD "\"accepted\":[],\"duplicates\":[],\"rejected\":[\"%s\"]}",
             f->a[0].id);
    expect_protocol_error(f, "a rejection that is a string", b, strlen(b));

    /* A reply larger than the bound is refused before parsing. */
    proto_reply r;
    assert_int_equal(proto_parse_reply(b, PROTO_MAX_REPLY + 1, BATCH, f->a, 4, &r, NULL, 0),
                     TP_ERR_TOO_LARGE);
#undef OKHEAD
    print_message("checked: HTML 200, empty, non-object, wrong batch id, wrong/missing ack, "
                  "protocol 2, every truncation, trailing garbage, NUL, missing arrays, wrong "
                  "element types, foreign and repeated ids, incomplete rejections: all "
                  "TP_ERR_PROTOCOL; oversize TP_ERR_TOO_LARGE\n");
}

static void error_bodies(void **state)
{
    (void)state;
    char code[32], msg[64];
    const char *e = "{\"error\":{\"code\":\"rate_limited\",\"message\":\"slow down\"}}";
    assert_int_equal(proto_parse_error(e, strlen(e), code, sizeof code, msg, sizeof msg), TP_OK);
    assert_string_equal(code, "rate_limited");
    assert_string_equal(msg, "slow down");
    assert_int_equal(proto_parse_error("<html>", 6, code, sizeof code, msg, sizeof msg),
                     TP_ERR_PROTOCOL);
    assert_string_equal(code, "");
    assert_string_equal(proto_flag_name(TP_FLAG_BUTTON), "button");
    assert_null(proto_flag_name(0x80));
    print_message("checked: error bodies give code and message; HTML gives none\n");
}

/* Issue 12: device.config_revision / config_error out, the reply's config_revision in. */
static void config_revision_fields(void **state)
{
    reply_fixture *f = *state;
    proto_device d;
    make_device(&d);
    proto_batch b;
    char err[256];
    assert_int_equal(proto_encode_batch(&d, NULL, 0, 0, 0, false, &b, err, sizeof err), TP_OK);
    cJSON *root = parse_body(&b);
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    assert_null(cJSON_GetObjectItemCaseSensitive(dev, "config_revision"));
    cJSON_Delete(root);
    proto_batch_free(&b);
    d.config_revision = "abc";
    d.config_error = "remote-config.json: $.settings.x: unknown key";
    assert_int_equal(proto_encode_batch(&d, NULL, 0, 0, 0, false, &b, err, sizeof err), TP_OK);
    root = parse_body(&b);
    dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(dev, "config_revision")->valuestring,
                        "abc");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(dev, "config_error")->valuestring,
                        d.config_error);
    cJSON_Delete(root);
    proto_batch_free(&b);
    d.config_error = "";
    assert_int_equal(proto_encode_batch(&d, NULL, 0, 0, 0, false, &b, err, sizeof err), TP_OK);
    root = parse_body(&b);
    dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(dev, "config_error")));
    cJSON_Delete(root);
    proto_batch_free(&b);
    char longrev[80];
    memset(longrev, 'a', sizeof longrev - 1);
    longrev[sizeof longrev - 1] = '\0';
    d.config_revision = longrev;
    assert_int_equal(proto_encode_batch(&d, NULL, 0, 0, 0, false, &b, err, sizeof err),
                     TP_ERR_INVALID);

    char body[1024];
    proto_reply r;
    snprintf(body, sizeof body,
             "{\"protocol\":1,\"ack\":\"touchpoint-collector\",\"batch_id\":\"%s\","
             "\"accepted\":[],\"duplicates\":[],\"rejected\":[],\"config_revision\":\"r2\"}",
             BATCH);
    assert_int_equal(parse(f, body, &r, err, sizeof err), TP_OK);
    assert_true(r.has_config_revision);
    assert_string_equal(r.config_revision, "r2");
    proto_reply_free(&r);
    snprintf(body, sizeof body,
             "{\"protocol\":1,\"ack\":\"touchpoint-collector\",\"batch_id\":\"%s\","
             "\"accepted\":[],\"duplicates\":[],\"rejected\":[]}",
             BATCH);
    assert_int_equal(parse(f, body, &r, err, sizeof err), TP_OK);
    assert_false(r.has_config_revision);
    proto_reply_free(&r);
    snprintf(body, sizeof body,
             "{\"protocol\":1,\"ack\":\"touchpoint-collector\",\"batch_id\":\"%s\","
             "\"accepted\":[],\"duplicates\":[],\"rejected\":[],\"config_revision\":7}",
             BATCH);
    assert_int_equal(parse(f, body, &r, err, sizeof err), TP_ERR_PROTOCOL);
    assert_non_null(strstr(err, "config_revision"));
    print_message("checked: config_revision/config_error sent only when set, null error, bounds; "
                  "the reply's config_revision read, absent, or refused when not a string\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_round_trip),
        cmocka_unit_test(encode_status_only_and_invalid),
        cmocka_unit_test(encode_count_and_byte_bounds),
        cmocka_unit_test(gzip_decompresses_to_the_json),
        cmocka_unit_test_setup_teardown(reply_valid, reply_setup, reply_teardown),
        cmocka_unit_test_setup_teardown(reply_invalid, reply_setup, reply_teardown),
        cmocka_unit_test(error_bodies),
        cmocka_unit_test_setup_teardown(config_revision_fields, reply_setup, reply_teardown),
    };
    return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
