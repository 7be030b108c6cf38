/* test_cpgcopy.c - unit tests of cpgcopy.c (rows in PostgreSQL's binary COPY format): the
 * header and trailer bytes, each field type's length word and big-endian bytes, NULL, a uuid
 * decoded from either case, a bad uuid failing the writer (and what follows doing nothing), the
 * size limit, and data that outgrows the first allocation. The server's reading of the same data
 * is tested against a real PostgreSQL by tests/integration/test_pg_ingest.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cpgcopy.h"

static const unsigned char header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n',
                                         0,   0,   0,   0,   0,   0,   0,    0,    0};

static void header_and_trailer(void **state)
{
    (void)state;
    cpgcopy w;
    cpgcopy_init(&w, 1024);
    assert_int_equal(cpgcopy_finish(&w), TP_OK);
    assert_int_equal(w.len, 21);
    assert_memory_equal(w.p, header, sizeof header);
    assert_memory_equal(w.p + 19, "\xff\xff", 2);
    cpgcopy_free(&w);
    printf("checked: an empty COPY is the 19-byte header and the -1 trailer\n");
}

static void one_row_of_each_type(void **state)
{
    (void)state;
    cpgcopy w;
    cpgcopy_init(&w, 1024);
    cpgcopy_row(&w, 8);
    cpgcopy_i16(&w, -2);
    cpgcopy_i32(&w, 0x01020304);
    cpgcopy_i64(&w, -1);
    cpgcopy_bool(&w, true);
    cpgcopy_text(&w, "hé");
    cpgcopy_text(&w, NULL);
    cpgcopy_null(&w);
    cpgcopy_uuid(&w, "0123ABCD-89ab-4def-8000-00000000fF10");
    assert_int_equal(cpgcopy_finish(&w), TP_OK);
    static const unsigned char row[] = {
        0,    8,                                                                /* fields */
        0,    0,    0,    2,    0xff, 0xfe,                                     /* int2 -2 */
        0,    0,    0,    4,    1,    2,    3,    4,                            /* int4 */
        0,    0,    0,    8,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* int8 -1 */
        0,    0,    0,    1,    1,                                              /* bool */
        0,    0,    0,    3,    'h',  0xc3, 0xa9, /* text: UTF-8 bytes */
        0xff, 0xff, 0xff, 0xff,                   /* NULL text */
        0xff, 0xff, 0xff, 0xff,                   /* NULL */
        0,    0,    0,    16,   0x01, 0x23, 0xab, 0xcd, 0x89, 0xab, 0x4d, 0xef,
        0x80, 0,    0,    0,    0,    0,    0xff, 0x10};
    assert_int_equal(w.len, sizeof header + sizeof row + 2);
    assert_memory_equal(w.p + sizeof header, row, sizeof row);
    cpgcopy_free(&w);
    printf("checked: int2/int4/int8/bool/text/NULL/uuid fields carry their length word and "
           "big-endian bytes\n");
}

static void bad_uuid_fails_the_writer(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "0123abcd-89ab-4def-8000-00000000ff1", /* 35 characters */
                         "0123abcd-89ab-4def-8000-00000000ff100",
                         "0123abcd+89ab-4def-8000-00000000ff10",
                         "0123abcg-89ab-4def-8000-00000000ff10",
                         NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cpgcopy w;
        cpgcopy_init(&w, 1024);
        cpgcopy_row(&w, 2);
        cpgcopy_uuid(&w, bad[i]);
        size_t len = w.len;
        cpgcopy_i32(&w, 7); /* does nothing once failed */
        assert_int_equal(w.len, len);
        assert_int_equal(cpgcopy_finish(&w), TP_ERR_INVALID);
        cpgcopy_free(&w);
    }
    printf("checked: %zu malformed uuids (short, long, wrong dash, non-hex, NULL) fail with "
           "TP_ERR_INVALID and later fields write nothing\n",
           sizeof bad / sizeof bad[0]);
}

static void limit_and_growth(void **state)
{
    (void)state;
    cpgcopy w;
    cpgcopy_init(&w, 64);
    cpgcopy_row(&w, 1);
    cpgcopy_text(&w, "0123456789012345678901234567890123456789012345678901234567890123");
    assert_int_equal(cpgcopy_finish(&w), TP_ERR_TOO_LARGE);
    cpgcopy_free(&w);

    cpgcopy_init(&w, (size_t)1 << 24);
    for (int i = 0; i < 100000; i++) {
        cpgcopy_row(&w, 1);
        cpgcopy_i64(&w, i);
    }
    assert_int_equal(cpgcopy_finish(&w), TP_OK);
    assert_int_equal(w.len, 19 + 100000 * 14 + 2);
    assert_memory_equal(w.p + 19 + 99999 * 14, "\0\1\0\0\0\x08\0\0\0\0\0\x01\x86\x9f", 14);
    cpgcopy_reset(&w);
    assert_int_equal(w.len, 0);
    cpgcopy_free(&w);
    printf("checked: data past the limit fails with TP_ERR_TOO_LARGE; 100,000 rows grow the "
           "buffer and the last row is intact; reset empties it\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_and_trailer),
        cmocka_unit_test(one_row_of_each_type),
        cmocka_unit_test(bad_uuid_fails_the_writer),
        cmocka_unit_test(limit_and_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
