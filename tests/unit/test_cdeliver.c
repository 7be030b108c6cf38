/* test_cdeliver.c - unit tests of the outbox worker's pure parts and endpoint operations: the
 * backoff (full jitter within the doubling bound and the cap), the Standard Webhooks signature
 * against the spec's published test vector, endpoint secrets, RFC 2047 subjects (words of at most
 * 75 characters that decode back to the exact UTF-8 text, never splitting a character), the
 * Slack and Google Chat renderings and the composed alert e-mail, and endpoint.add / list / test
 * with their checks on a SQLite store. Delivery itself runs against real receivers in
 * tests/integration/test_deliver.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdeliver_int.h"
#include "cfleet.h"
#include "collector_fixture.h"

#define NOW 1796000000000LL

static void backoff_bounds(void **state)
{
    (void)state;
    /* The bound doubles from the base and stops at the cap; a pick never exceeds it. */
    assert_int_equal(cdeliver_backoff(1, 30000, 3600000, UINT64_MAX), UINT64_MAX % 30001);
    assert_int_equal(cdeliver_backoff(1, 30000, 3600000, 30000), 30000);
    assert_int_equal(cdeliver_backoff(2, 30000, 3600000, 60000), 60000);
    assert_int_equal(cdeliver_backoff(3, 30000, 3600000, 120000), 120000);
    assert_int_equal(cdeliver_backoff(30, 30000, 3600000, 3600000), 3600000);
    assert_int_equal(cdeliver_backoff(64, 30000, 3600000, 3600001), 0);
    assert_int_equal(cdeliver_backoff(2, 30000, 3600000, 0), 0); /* full jitter reaches 0 */
    for (unsigned a = 1; a < 70; a++)
        for (uint64_t r = 0; r < 5; r++) {
            int64_t v = cdeliver_backoff(a, 30000, 3600000, r * 987654321987ULL);
            assert_true(v >= 0 && v <= 3600000);
        }
}

static void signature_vector(void **state)
{
    (void)state;
    /* The test vector of the Standard Webhooks reference libraries. */
    char sig[80];
    const char *body = "{\"test\": 2432232314}";
    assert_int_equal(cdeliver_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                   "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                   sig, sizeof sig),
                     TP_OK);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* The prefix is optional; a secret that is not base64 is refused. */
    assert_int_equal(cdeliver_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                   "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                   sig, sizeof sig),
                     TP_OK);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_int_equal(cdeliver_sign("whsec_abc", "x", 1, "", 0, sig, sizeof sig), TP_ERR_INVALID);
}

static void secrets(void **state)
{
    (void)state;
    char a[80], b[80];
    unsigned char raw[40];
    assert_int_equal(cdeliver_new_secret(a, sizeof a), TP_OK);
    assert_int_equal(cdeliver_new_secret(b, sizeof b), TP_OK);
    assert_int_equal(strlen(a), 6 + 44);
    assert_memory_equal(a, "whsec_", 6);
    assert_string_not_equal(a, b);
    assert_int_equal(EVP_DecodeBlock(raw, (const unsigned char *)a + 6, 44) - 1, 32);
}

/* Decodes every encoded word of h (space-separated) and checks each is <= 75 characters and
 * whole UTF-8. Returns the decoded text (free()). */
static char *decode_2047(const char *h)
{
    char *out = calloc(1, strlen(h) + 1), *copy = strdup(h), *save = NULL;
    size_t n = 0;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t len = strlen(w);
        assert_true(len <= 75);
        assert_memory_equal(w, "=?UTF-8?B?", 10);
        assert_string_equal(w + len - 2, "?=");
        unsigned char part[64];
        int k = EVP_DecodeBlock(part, (unsigned char *)w + 10, (int)(len - 12));
        assert_true(k >= 0);
        k -= (w[len - 3] == '=') + (w[len - 4] == '=');
        assert_true(tp_utf8_valid((const char *)part, (size_t)k));
        memcpy(out + n, part, (size_t)k);
        n += (size_t)k;
    }
    free(copy);
    return out;
}

static void rfc2047_subjects(void **state)
{
    (void)state;
    char *e = cdeliver_rfc2047("Plain ASCII subject");
    assert_string_equal(e, "Plain ASCII subject");
    free(e);
    const char *vi[] = {
        "Cảnh báo: Tỷ lệ đánh giá tiêu cực cao ở quầy thanh toán · vn/hcm/hcm-q1/checkout", "Đ",
        "ấấấấấấấấấấấấấấấấấấấấấấấấấấấấấấ", "a=?b",
        "Tiếng Việt có dấu: ắằẳẵặ ếềểễệ ốồổỗộ ớờởỡợ ứừửữự"};
    for (size_t i = 0; i < sizeof vi / sizeof vi[0]; i++) {
        e = cdeliver_rfc2047(vi[i]);
        assert_non_null(e);
        char *d = decode_2047(e);
        assert_string_equal(d, vi[i]);
        free(d);
        free(e);
    }
}

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

static const char EVENT[] =
    "{\"type\":\"alert.fired\",\"id\":\"0190-out\",\"created_at\":\"2026-12-06T04:00:00Z\","
    "\"alert\":{\"id\":\"a1\",\"rule_id\":\"r1\",\"rule_name\":{\"vi\":\"Tiêu cực\",\"en\":"
    "\"Negative\"},\"kind\":\"negative_share\",\"node\":\"vn/hcm/hcm-q1/checkout\",\"store\":"
    "\"hcm-q1\",\"touchpoint\":\"checkout\",\"device\":null,\"window\":{\"from\":"
    "\"2026-12-06T03:45:00Z\",\"to\":\"2026-12-06T04:00:00Z\"},\"title\":{\"vi\":\"Nhiều đánh "
    "giá tiêu cực <b>\",\"en\":\"Many negative ratings <b>\"},\"numbers\":{\"negative\":5,"
    "\"total\":6,\"share\":0.8333},\"fired_at\":\"2026-12-06T04:00:01Z\"},\"case_id\":\"c1\","
    "\"dashboard_url\":\"https://cx.example.vn/#case=c1\"}";

static void renderings(void **state)
{
    (void)state;
    cJSON *ev = parse(EVENT);
    cdeliver_msg m = {.outbox_id = "0190-out",
                      .payload = EVENT,
                      .event = ev,
                      .ep_name = "x",
                      .ep_kind = "slack",
                      .target = "https://hooks",
                      .secret = NULL,
                      .lang = "en"};
    char *s = cdeliver_render_body(&m);
    cJSON *j = parse(s);
    assert_string_equal(cJSON_GetObjectItem(j, "text")->valuestring,
                        "Alert: Many negative ratings &lt;b&gt; · vn/hcm/hcm-q1/checkout");
    cJSON *blocks = cJSON_GetObjectItem(j, "blocks");
    assert_true(cJSON_GetArraySize(blocks) == 4);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "type")->valuestring,
                        "header");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 3), "type")->valuestring,
                        "actions");
    cJSON_Delete(j);
    free(s);
    m.ep_kind = "google_chat";
    m.lang = "vi";
    s = cdeliver_render_body(&m);
    j = parse(s);
    cJSON *card = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cardsV2"), 0);
    assert_string_equal(cJSON_GetObjectItem(card, "cardId")->valuestring, "0190-out");
    assert_non_null(
        strstr(cJSON_GetObjectItem(j, "text")->valuestring, "Cảnh báo: Nhiều đánh giá tiêu cực"));
    cJSON_Delete(j);
    free(s);
    m.ep_kind = "webhook";
    s = cdeliver_render_body(&m);
    assert_string_equal(s, EVENT); /* the canonical event, byte for byte */
    free(s);
    char *subject, *text, *html, err[TP_ERRMSG_MAX];
    m.ep_kind = "email";
    assert_int_equal(cdeliver_render_mail(&m, &subject, &text, &html, err, sizeof err), TP_OK);
    assert_string_equal(subject, "[Touchpoint] Cảnh báo: Nhiều đánh giá tiêu cực <b> · "
                                 "vn/hcm/hcm-q1/checkout");
    assert_non_null(strstr(text, "Cửa hàng: hcm-q1"));
    assert_non_null(strstr(text, "share: 0.833")); /* unknown keys as they are */
    assert_non_null(strstr(text, "Đánh giá tiêu cực: 5"));
    assert_non_null(strstr(html, "tiêu cực &lt;b&gt;"));
    assert_non_null(strstr(html, "href=\"https://cx.example.vn/#case=c1\""));
    free(subject);
    free(text);
    free(html);
    cJSON_Delete(ev);
}

static void endpoint_ops(void **state)
{
    (void)state;
    char dir[64], err[TP_ERRMSG_MAX];
    cstore *s = NULL;
    cJSON *res = NULL;
    s = fixture_store_open(dir, sizeof dir, "deliver", 1);
    struct {
        const char *args;
        tp_err rc;
        const char *msg;
    } cases[] = {
        {"{\"name\":\"hook\",\"kind\":\"webhook\",\"target\":\"https://x.example/h\"}", TP_OK, ""},
        {"{\"name\":\"hook\",\"kind\":\"webhook\",\"target\":\"https://x.example/h\"}",
         TP_ERR_EXISTS, "already exists"},
        {"{\"name\":\"m\",\"kind\":\"email\",\"target\":\"a@b.vn, c@d.vn\",\"lang\":\"en\"}", TP_OK,
         ""},
        {"{\"name\":\"bad name\",\"kind\":\"webhook\",\"target\":\"https://x\"}", TP_ERR_INVALID,
         "$.name"},
        {"{\"name\":\"k\",\"kind\":\"sms\",\"target\":\"https://x\"}", TP_ERR_INVALID, "$.kind"},
        {"{\"name\":\"k\",\"kind\":\"slack\",\"target\":\"ftp://x\"}", TP_ERR_INVALID, "$.target"},
        {"{\"name\":\"k\",\"kind\":\"email\",\"target\":\"a@b.vn,nobody\"}", TP_ERR_INVALID,
         "address 2"},
        {"{\"name\":\"k\",\"kind\":\"email\",\"target\":\"a@b.vn\\r\\nBcc: x@y\"}", TP_ERR_INVALID,
         "$.target"},
        {"{\"name\":\"k\",\"kind\":\"email\",\"target\":\"a@b.vn\",\"lang\":\"fr\"}",
         TP_ERR_INVALID, "$.lang"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *a = parse(cases[i].args);
        err[0] = '\0';
        tp_err rc = cfleet_call(s, "unit", "endpoint.add", a, NOW, &res, err, sizeof err);
        cJSON_Delete(a);
        if (rc != cases[i].rc || !strstr(err, cases[i].msg))
            fail_msg("case %zu: rc %d, err '%s'", i, rc, err);
        if (rc == TP_OK) {
            const char *sec = cJSON_GetStringValue(cJSON_GetObjectItem(res, "secret"));
            const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(res, "kind"));
            assert_true(strcmp(kind, "email") == 0 ? sec == NULL : strncmp(sec, "whsec_", 6) == 0);
        }
        cJSON_Delete(res);
        res = NULL;
    }
    cJSON *a = parse("{\"name\":\"hook\"}");
    assert_int_equal(cfleet_call(s, "unit", "endpoint.test", a, NOW, &res, err, sizeof err), TP_OK);
    cJSON_Delete(a);
    assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(res, "outbox_id")));
    cJSON_Delete(res);
    a = parse("{\"name\":\"nope\"}");
    assert_int_equal(cfleet_call(s, "unit", "endpoint.test", a, NOW, &res, err, sizeof err),
                     TP_ERR_NOT_FOUND);
    cJSON_Delete(a);
    a = cJSON_CreateObject();
    assert_int_equal(cfleet_call(s, "unit", "endpoint.list", a, NOW, &res, err, sizeof err), TP_OK);
    cJSON_Delete(a);
    assert_int_equal(cJSON_GetArraySize(res), 2);
    cJSON *hook = cJSON_GetArrayItem(res, 0);
    assert_string_equal(cJSON_GetObjectItem(hook, "name")->valuestring, "hook");
    assert_string_equal(cJSON_GetObjectItem(hook, "state")->valuestring, "ok");
    assert_int_equal((int)cJSON_GetObjectItem(hook, "pending")->valuedouble, 1);
    assert_null(cJSON_GetObjectItem(hook, "secret")); /* never listed */
    cJSON_Delete(res);
    /* Every change is audited. */
    a = cJSON_CreateObject();
    assert_int_equal(cfleet_call(s, "unit", "audit.list", a, NOW, &res, err, sizeof err), TP_OK);
    cJSON_Delete(a);
    char *text = cJSON_PrintUnformatted(res);
    assert_non_null(strstr(text, "\"endpoint.add\""));
    assert_non_null(strstr(text, "\"endpoint.test\""));
    assert_null(strstr(text, "whsec_"));
    free(text);
    cJSON_Delete(res);
    fixture_store_close(s, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_bounds), cmocka_unit_test(signature_vector),
        cmocka_unit_test(secrets),        cmocka_unit_test(rfc2047_subjects),
        cmocka_unit_test(renderings),     cmocka_unit_test(endpoint_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
