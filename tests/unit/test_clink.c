/* test_clink.c - unit tests of clink.c (the comment link): the mac and the URL against a vector
 * computed independently of this code, parsing errors naming the field, forged and expired
 * links, and fresh keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "clink.h"

/* The vector, computed with Python 3 (not with this code):
 *   import hmac, hashlib, base64
 *   key = bytes(range(32))
 *   base64.urlsafe_b64encode(key).rstrip(b'=')            -> KEY below
 *   msg = b"tp-comment-v1\nkiosk-01\n0190f3a0-1234-7abc-8def-0123456789ab\n1767225600\n"
 *   base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()[:16]).rstrip(b'=')
 *                                                          -> MAC below */
static const char *KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
static const char *DEV = "kiosk-01";
static const char *SES = "0190f3a0-1234-7abc-8def-0123456789ab";
static const int64_t X = 1767225600;
static const char *MAC = "MO9cP_Rl7-ytyzE233DZgA";
static const char *URL = "https://fb.example.vn/c?d=kiosk-01&s=0190f3a0-1234-7abc-8def-0123456789ab"
                         "&x=1767225600&l=vi&m=MO9cP_Rl7-ytyzE233DZgA";

static void mac_matches_vector(void **state)
{
    (void)state;
    char mac[CLINK_MAC_LEN + 1];
    assert_int_equal(clink_mac(KEY, DEV, SES, X, mac), TP_OK);
    assert_string_equal(mac, MAC);
}

static void build_matches_vector(void **state)
{
    (void)state;
    char url[CLINK_URL_MAX];
    assert_int_equal(
        clink_build("https://fb.example.vn/c", KEY, DEV, SES, X, "vi", url, sizeof url), TP_OK);
    assert_string_equal(url, URL);
    char small[40];
    assert_int_equal(
        clink_build("https://fb.example.vn/c", KEY, DEV, SES, X, "vi", small, sizeof small),
        TP_ERR_TOO_LARGE);
    assert_int_equal(clink_build("https://x/c?a=1", KEY, DEV, SES, X, "vi", url, sizeof url),
                     TP_ERR_INVALID);
    assert_int_equal(clink_build("https://x/c", KEY, DEV, SES, X, "fr", url, sizeof url),
                     TP_ERR_INVALID);
    assert_int_equal(clink_build("https://x/c", "short", DEV, SES, X, "vi", url, sizeof url),
                     TP_ERR_INVALID);
    assert_int_equal(clink_build("https://x/c", KEY, "bad id", SES, X, "vi", url, sizeof url),
                     TP_ERR_INVALID);
    assert_int_equal(clink_build("https://x/c", KEY, DEV, "0190F3A0-1234-7abc-8def-0123456789ab", X,
                                 "vi", url, sizeof url),
                     TP_ERR_INVALID);
}

static void verify_accepts_until_expiry(void **state)
{
    (void)state;
    clink l;
    char err[128];
    assert_int_equal(clink_verify(URL, KEY, X - 1800, &l, err, sizeof err), CLINK_VALID);
    assert_string_equal(err, "");
    assert_string_equal(l.device, DEV);
    assert_string_equal(l.session, SES);
    assert_true(l.expiry_s == X);
    assert_string_equal(l.lang, "vi");
    assert_int_equal(clink_verify(URL, KEY, X, &l, err, sizeof err), CLINK_VALID);
    assert_int_equal(clink_verify(URL, KEY, X + 1, &l, err, sizeof err), CLINK_EXPIRED);
    assert_string_equal(err, "x: expired");
    /* The query string alone, in another order, with an unknown parameter and a fragment. */
    const char *q = "m=MO9cP_Rl7-ytyzE233DZgA&utm=1&l=en&x=1767225600&d=kiosk-01"
                    "&s=0190f3a0-1234-7abc-8def-0123456789ab#top";
    assert_int_equal(clink_verify(q, KEY, X, &l, err, sizeof err), CLINK_VALID);
    assert_string_equal(l.lang, "en");
}

static void verify_refuses_forgeries(void **state)
{
    (void)state;
    char err[128], url[CLINK_URL_MAX];
    /* Another session, another expiry or another device under the same mac. */
    const char *other[] = {"0190f3a0-1234-7abc-8def-0123456789ac", NULL};
    snprintf(url, sizeof url, "d=%s&s=%s&x=%lld&m=%s", DEV, other[0], (long long)X, MAC);
    assert_int_equal(clink_verify(url, KEY, X, NULL, err, sizeof err), CLINK_FORGED);
    assert_string_equal(err, "m: does not match the device's key");
    snprintf(url, sizeof url, "d=%s&s=%s&x=%lld&m=%s", DEV, SES, (long long)X + 86400, MAC);
    assert_int_equal(clink_verify(url, KEY, X, NULL, err, sizeof err), CLINK_FORGED);
    snprintf(url, sizeof url, "d=kiosk-02&s=%s&x=%lld&m=%s", SES, (long long)X, MAC);
    assert_int_equal(clink_verify(url, KEY, X, NULL, err, sizeof err), CLINK_FORGED);
    /* Another key. */
    assert_int_equal(
        clink_verify(URL, "BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", X, NULL, err, sizeof err),
        CLINK_FORGED);
    /* The same expiry spelled with a leading zero is not the MAC'd text. */
    snprintf(url, sizeof url, "d=%s&s=%s&x=0%lld&m=%s", DEV, SES, (long long)X, MAC);
    assert_int_equal(clink_verify(url, KEY, X, NULL, err, sizeof err), CLINK_MALFORMED);
    assert_string_equal(err, "x: not a decimal number of seconds");
}

static void parse_errors_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *q, *want;
    } cases[] = {
        {"s=0190f3a0-1234-7abc-8def-0123456789ab&x=1&m=MO9cP_Rl7-ytyzE233DZgA", "d: missing"},
        {"d=a b&s=0190f3a0-1234-7abc-8def-0123456789ab&x=1&m=MO9cP_Rl7-ytyzE233DZgA",
         "d: not a device id"},
        {"d=k&x=1&m=MO9cP_Rl7-ytyzE233DZgA", "s: missing"},
        {"d=k&s=123&x=1&m=MO9cP_Rl7-ytyzE233DZgA", "s: not a session id (lowercase UUID)"},
        {"d=k&s=0190f3a0-1234-7abc-8def-0123456789ab&m=MO9cP_Rl7-ytyzE233DZgA", "x: missing"},
        {"d=k&s=0190f3a0-1234-7abc-8def-0123456789ab&x=-5&m=MO9cP_Rl7-ytyzE233DZgA",
         "x: not a decimal number of seconds"},
        {"d=k&s=0190f3a0-1234-7abc-8def-0123456789ab&x=1&l=fr&m=MO9cP_Rl7-ytyzE233DZgA",
         "l: not vi or en"},
        {"d=k&s=0190f3a0-1234-7abc-8def-0123456789ab&x=1", "m: missing"},
        {"d=k&s=0190f3a0-1234-7abc-8def-0123456789ab&x=1&m=abc", "m: not 22 base64url characters"},
        {"d=k&d=k&s=0190f3a0-1234-7abc-8def-0123456789ab&x=1&m=MO9cP_Rl7-ytyzE233DZgA",
         "d: given twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clink l;
        char err[128];
        assert_int_equal(clink_parse(cases[i].q, &l, err, sizeof err), TP_ERR_INVALID);
        assert_string_equal(err, cases[i].want);
        assert_int_equal(clink_verify(cases[i].q, KEY, 0, NULL, err, sizeof err), CLINK_MALFORMED);
    }
}

static void new_keys_are_valid_and_differ(void **state)
{
    (void)state;
    char a[CLINK_KEY_LEN + 1], b[CLINK_KEY_LEN + 1];
    assert_int_equal(clink_key_new(a), TP_OK);
    assert_int_equal(clink_key_new(b), TP_OK);
    assert_int_equal(strlen(a), CLINK_KEY_LEN);
    assert_true(clink_key_valid(a));
    assert_true(clink_key_valid(KEY));
    assert_string_not_equal(a, b);
    assert_false(clink_key_valid("imported"));
    assert_false(clink_key_valid("ABCD-EFGH"));
    /* 43 characters whose last one carries bits beyond the 32 bytes. */
    assert_false(clink_key_valid("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh_"));
    assert_false(clink_key_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mac_matches_vector),
        cmocka_unit_test(build_matches_vector),
        cmocka_unit_test(verify_accepts_until_expiry),
        cmocka_unit_test(verify_refuses_forgeries),
        cmocka_unit_test(parse_errors_name_the_field),
        cmocka_unit_test(new_keys_are_valid_and_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
