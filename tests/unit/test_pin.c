/* test_pin.c - unit tests of pin.c: PBKDF2 hashes round-trip, salts differ, wrong PINs and
 * malformed hashes are refused, and a known RFC-style vector verifies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pin.h"

static void hash_and_verify(void **state)
{
    (void)state;
    char h1[PIN_HASH_MAX], h2[PIN_HASH_MAX], err[256];
    bool match = false;
    assert_int_equal(pin_hash_new("2468", 2000, h1, sizeof h1, err, sizeof err), TP_OK);
    assert_int_equal(pin_hash_new("2468", 2000, h2, sizeof h2, err, sizeof err), TP_OK);
    assert_memory_equal(h1, "pbkdf2-sha256$2000$", 19);
    assert_string_not_equal(h1, h2); /* fresh salt each time */
    assert_int_equal(pin_hash_check(h1, err, sizeof err), TP_OK);
    assert_int_equal(pin_verify(h1, "2468", &match), TP_OK);
    assert_true(match);
    assert_int_equal(pin_verify(h2, "2468", &match), TP_OK);
    assert_true(match);
    assert_int_equal(pin_verify(h1, "2469", &match), TP_OK);
    assert_false(match);
    assert_int_equal(pin_verify(h1, "24680", &match), TP_OK);
    assert_false(match);
    assert_int_equal(pin_verify(h1, "", &match), TP_OK);
    assert_false(match);
    print_message("checked: hash of 2468 verifies, salts differ, wrong/longer/empty PINs do not "
                  "match\n");
}

static void known_vector(void **state)
{
    (void)state;
    /* PBKDF2-HMAC-SHA256("2468", salt = 16 zero bytes, 1000 iterations, 32 bytes), computed
     * independently with Python's hashlib.pbkdf2_hmac. */
    const char *known_hash = "pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$"
                             "Ykq8d914HTlE6AfdeSbW4g32Cv0BY1YiSNXNKakw88g=";
    bool match = false;
    assert_int_equal(pin_verify(known_hash, "2468", &match), TP_OK);
    assert_true(match);
    assert_int_equal(pin_verify(known_hash, "8642", &match), TP_OK);
    assert_false(match);
    print_message("checked: a hash computed by another implementation (Python hashlib) "
                  "verifies\n");
}

static void bad_input(void **state)
{
    (void)state;
    char h[PIN_HASH_MAX], err[256];
    bool match = true;
    assert_int_equal(pin_hash_new("12a4", 0, h, sizeof h, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "digits"));
    assert_int_equal(pin_hash_new("123", 0, h, sizeof h, err, sizeof err), TP_ERR_INVALID);
    assert_int_equal(pin_hash_new("1234567890123", 0, h, sizeof h, err, sizeof err),
                     TP_ERR_INVALID);
    assert_int_equal(pin_hash_new("1234", 5, h, sizeof h, err, sizeof err), TP_ERR_INVALID);
    assert_int_equal(pin_hash_new("1234", 1000, h, 20, err, sizeof err), TP_ERR_TOO_LARGE);
    const char *bad[] = {
        "",
        "sha1$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$10$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$x$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$1000$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        "pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==",
        "pbkdf2-sha256$1000$!!!!AAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(pin_hash_check(bad[i], err, sizeof err), TP_ERR_INVALID);
        assert_int_equal(pin_verify(bad[i], "2468", &match), TP_ERR_INVALID);
        assert_false(match);
    }
    print_message("checked: non-digit, short, long PINs, low iterations, small buffer and 8 "
                  "malformed stored hashes are refused\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_and_verify),
        cmocka_unit_test(known_vector),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
