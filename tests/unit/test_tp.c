/* test_tp.c - unit tests of the base layer: errors, kinds, ids, UTF-8, UUIDv7, time formats. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tp.h"

static void strerror_covers_every_code(void **state)
{
    (void)state;
    for (int rc = TP_OK; rc <= TP_ERR_INTERNAL; rc++) {
        assert_string_not_equal(tp_strerror((tp_err)rc), "unknown error");
        assert_string_not_equal(tp_err_name((tp_err)rc), "unknown");
    }
    assert_string_equal(tp_strerror((tp_err)999), "unknown error");
    print_message("checked: every tp_err code has a message and a stable name\n");
}

static void kinds_parse_and_ranges(void **state)
{
    (void)state;
    tp_kind k;
    int lo, hi;
    assert_int_equal(tp_kind_parse("smiley4", &k), TP_OK);
    assert_int_equal(k, TP_KIND_SMILEY4);
    assert_int_equal(tp_kind_parse("NPS", &k), TP_ERR_INVALID);
    assert_int_equal(tp_kind_parse(NULL, &k), TP_ERR_INVALID);
    assert_int_equal(tp_kind_range(TP_KIND_NPS, &lo, &hi), TP_OK);
    assert_true(lo == 0 && hi == 10);
    assert_int_equal(tp_kind_range(TP_KIND_CES, &lo, &hi), TP_OK);
    assert_true(lo == 1 && hi == 7);
    assert_int_equal(tp_kind_range(TP_KIND_CHOICE, &lo, &hi), TP_ERR_INVALID);
    assert_string_equal(tp_kind_name((tp_kind)77), "?");
    print_message("checked: kind names round-trip, ranges nps 0-10 ces 1-7, choice has none\n");
}

static void ids_and_langs(void **state)
{
    (void)state;
    char long_id[TP_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_true(tp_id_valid("checkout-nps.v2_a"));
    assert_false(tp_id_valid(""));
    assert_false(tp_id_valid("a b"));
    assert_false(tp_id_valid("x'; DROP TABLE"));
    assert_false(tp_id_valid(long_id));
    long_id[TP_ID_MAX] = '\0';
    assert_true(tp_id_valid(long_id));
    assert_true(tp_lang_valid("vi"));
    assert_true(tp_lang_valid("pt-BR"));
    assert_false(tp_lang_valid("v"));
    assert_false(tp_lang_valid("vi_VN.UTF-8"));
    print_message("checked: id charset and length bound, language tags\n");
}

static void utf8_validation(void **state)
{
    (void)state;
    const char *vi = "Cảm ơn quý khách! Điều gì khiến bạn không hài lòng?";
    assert_true(tp_utf8_valid(vi, strlen(vi)));
    assert_false(tp_utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
    assert_false(tp_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    assert_false(tp_utf8_valid("\xE1\xBA", 2));         /* truncated */
    assert_false(tp_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(tp_utf8_valid("\xFF", 1));
    print_message("checked: Vietnamese text valid; overlong, surrogate, truncated rejected\n");
}

static void uuid7_ordered_even_when_clock_stands_still(void **state)
{
    (void)state;
    tp_vclock vc;
    tp_vclock_init(&vc, 1763920000000);
    char prev[TP_UUID_STR] = "", cur[TP_UUID_STR];
    for (int i = 0; i < 5000; i++) {
        if (i == 2500)
            vc.wall -= 60000; /* the clock steps back a minute */
        assert_int_equal(tp_uuid7_new(&vc.clock, cur), TP_OK);
        assert_true(tp_uuid_valid(cur));
        assert_int_equal(cur[14], '7');
        assert_true(strchr("89ab", cur[19]) != NULL);
        assert_true(strcmp(prev, cur) < 0);
        memcpy(prev, cur, sizeof cur);
    }
    /* The first 48 bits are the millisecond timestamp (a later time than above: ids made by one
     * process never go back in time). */
    tp_vclock_init(&vc, 0x01A012345678LL);
    assert_int_equal(tp_uuid7_new(&vc.clock, cur), TP_OK);
    assert_memory_equal(cur, "01a01234-5678-7", 15);
    print_message("checked: 5000 UUIDv7 strictly increasing across a clock step back; "
                  "version 7, variant 10, timestamp in the first 48 bits\n");
}

static void time_formats(void **state)
{
    (void)state;
    char buf[64], day[11];
    int64_t ms;
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    tp_format_utc(1763920000123, buf, sizeof buf);
    assert_string_equal(buf, "2025-11-23T17:46:40.123Z");
    tp_format_local(1763920000123, buf, sizeof buf);
    assert_string_equal(buf, "2025-11-24T00:46:40.123+07:00");
    assert_int_equal(tp_parse_date_local("2025-11-24", &ms), TP_OK);
    assert_int_equal(ms, 1763917200000);
    assert_int_equal(tp_local_day_start(1763920000123, day), 1763917200000);
    assert_string_equal(day, "2025-11-24");
    assert_int_equal(tp_parse_date_local("2025-02-30", &ms), TP_ERR_INVALID);
    assert_int_equal(tp_parse_date_local("2025-1-1", &ms), TP_ERR_INVALID);
    assert_int_equal(tp_parse_date_local("2025-01-01x", &ms), TP_ERR_INVALID);
    print_message("checked: UTC and +07:00 local formats, local day start, bad dates rejected\n");
}

static void strlcpy_bounds(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(tp_strlcpy(small, "abc", sizeof small), TP_OK);
    assert_int_equal(tp_strlcpy(small, "abcd", sizeof small), TP_ERR_TOO_LARGE);
    assert_string_equal(small, "abc");
    char err[16];
    assert_int_equal(tp_errf(err, sizeof err, TP_ERR_IO, "file %s: %s", "x.db", "boom"), TP_ERR_IO);
    assert_string_equal(err, "file x.db: boom");
    assert_int_equal(tp_err_from_errno(28 /* ENOSPC */), TP_ERR_DISK_FULL);
    print_message("checked: bounded copies truncate and report, errno mapping\n");
}

static void bytes_format_one_convention(void **state)
{
    (void)state;
    char b[32];
    tp_format_bytes(0, false, b, sizeof b);
    assert_string_equal(b, "0 B");
    tp_format_bytes(999, true, b, sizeof b);
    assert_string_equal(b, "999 B");
    tp_format_bytes(1500, false, b, sizeof b);
    assert_string_equal(b, "1 kB");
    tp_format_bytes(1500, true, b, sizeof b);
    assert_string_equal(b, "2 kB");
    tp_format_bytes(999999, true, b, sizeof b); /* 1000 kB rounded up is shown in MB */
    assert_string_equal(b, "1.0 MB");
    tp_format_bytes(INT64_C(3450000), false, b, sizeof b);
    assert_string_equal(b, "3.4 MB");
    tp_format_bytes(INT64_C(3450001), true, b, sizeof b);
    assert_string_equal(b, "3.5 MB");
    tp_format_bytes(INT64_C(999999999), true, b, sizeof b);
    assert_string_equal(b, "1.0 GB");
    tp_format_bytes(INT64_C(15931539456), false, b, sizeof b); /* a "16 GB" stick */
    assert_string_equal(b, "15.9 GB");
    tp_format_bytes(-1, false, b, sizeof b);
    assert_string_equal(b, "?");
    print_message("checked: byte sizes in decimal units, rounded down for room and up for need\n");
}

static void nps_math(void **state)
{
    (void)state;
    int64_t d[11] = {0};
    tp_nps n;
    d[10] = 6; /* 6 promoters, 2 passives, 2 detractors */
    d[8] = 2;
    d[3] = 2;
    tp_nps_compute(d, &n);
    assert_int_equal(n.n, 10);
    assert_int_equal(n.promoters, 6);
    assert_int_equal(n.passives, 2);
    assert_int_equal(n.detractors, 2);
    assert_true(fabs(n.score - 40.0) < 1e-9);
    /* n' = 13, p' = 6.75/13, d' = 2.75/13: moe = 196 * sqrt((p'+d'-(p'-d')^2)/13) */
    double p = 6.75 / 13, q = 2.75 / 13;
    assert_true(fabs(n.moe - 196.0 * sqrt((p + q - (p - q) * (p - q)) / 13)) < 1e-9);
    memset(d, 0, sizeof d);
    tp_nps_compute(d, &n);
    assert_int_equal(n.n, 0);
    assert_true(n.score == 0 && n.moe > 50);
    assert_int_equal(tp_nps_band_of(6), TP_NPS_DETRACTOR);
    assert_int_equal(tp_nps_band_of(7), TP_NPS_PASSIVE);
    assert_int_equal(tp_nps_band_of(8), TP_NPS_PASSIVE);
    assert_int_equal(tp_nps_band_of(9), TP_NPS_PROMOTER);
    print_message("checked: NPS score, bands and adjusted-Wald margin on hand-computed values\n");
}

static void buf_has_a_maximum(void **state)
{
    (void)state;
    tp_buf b;
    tp_buf_init(&b, 10);
    assert_int_equal(tp_buf_add(&b, "hello", 5), TP_OK);
    assert_int_equal(tp_buf_addf(&b, "%d", 1234), TP_OK);
    assert_string_equal(b.p, "hello1234");
    assert_int_equal(tp_buf_add(&b, "xy", 2), TP_ERR_TOO_LARGE);
    assert_string_equal(b.p, "hello1234"); /* unchanged */
    assert_int_equal(tp_buf_addf(&b, "%s", "ab"), TP_ERR_TOO_LARGE);
    assert_int_equal(tp_buf_add(&b, "x", 1), TP_OK);
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 11);
    tp_buf_reset(&b);
    assert_string_equal(b.p, "");
    char *s = tp_buf_take(&b);
    assert_string_equal(s, "");
    free(s);
    assert_null(b.p);
    tp_buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(tp_buf_addf(&b, "%03d,", i), TP_OK);
    assert_int_equal(b.len, 4000);
    assert_memory_equal(b.p + 3996, "999,", 4);
    tp_buf_free(&b);

    int *v = NULL;
    size_t cap = 0;
    assert_int_equal(tp_array_grow((void **)&v, &cap, 3, sizeof *v, 100), TP_OK);
    assert_true(cap >= 3 && cap <= 100);
    assert_int_equal(tp_array_grow((void **)&v, &cap, 100, sizeof *v, 100), TP_OK);
    assert_int_equal(cap, 100);
    v[99] = 7;
    assert_int_equal(tp_array_grow((void **)&v, &cap, 101, sizeof *v, 100), TP_ERR_TOO_LARGE);
    assert_int_equal(cap, 100);
    free(v);
    print_message("checked: buffers and arrays grow by doubling and stop at their maximum\n");
}

static void read_file_is_bounded(void **state)
{
    (void)state;
    char dir[] = "/tmp/tp_read_XXXXXX", path[300], err[TP_ERRMSG_MAX];
    char *data;
    size_t len;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 3000; i++)
        fputs("0123456789", f);
    fclose(f);
    assert_int_equal(tp_read_file(path, 30000, &data, &len, err, sizeof err), TP_OK);
    assert_int_equal(len, 30000);
    assert_int_equal(data[len], '\0');
    assert_memory_equal(data + 29990, "0123456789", 10);
    free(data);
    assert_int_equal(tp_read_file(path, 29999, &data, &len, err, sizeof err), TP_ERR_TOO_LARGE);
    assert_null(data);
    assert_non_null(strstr(err, path));
    assert_int_equal(tp_read_file(dir, 100, &data, NULL, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "not a regular file"));
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(tp_read_file(path, 100, &data, NULL, err, sizeof err), TP_ERR_INVALID);
    unlink(path);
    snprintf(path, sizeof path, "%s/none", dir);
    assert_int_equal(tp_read_file(path, 100, &data, NULL, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "none"));
    snprintf(path, sizeof path, "%s/empty", dir);
    f = fopen(path, "w");
    fclose(f);
    assert_int_equal(tp_read_file(path, 0, &data, &len, err, sizeof err), TP_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    unlink(path);
    snprintf(path, sizeof path, "%s/f", dir);
    unlink(path);
    rmdir(dir);
    print_message(
        "checked: whole-file reads are bounded, refuse folders and FIFOs, name the file\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strerror_covers_every_code),
        cmocka_unit_test(kinds_parse_and_ranges),
        cmocka_unit_test(ids_and_langs),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(uuid7_ordered_even_when_clock_stands_still),
        cmocka_unit_test(time_formats),
        cmocka_unit_test(strlcpy_bounds),
        cmocka_unit_test(bytes_format_one_convention),
        cmocka_unit_test(nps_math),
        cmocka_unit_test(buf_has_a_maximum),
        cmocka_unit_test(read_file_is_bounded),
    };
    return cmocka_run_group_tests_name("tp", tests, NULL, NULL);
}
