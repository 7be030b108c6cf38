/* test_ctag.c - unit tests of the comments' local tagging (sync/collector/ctag.c, libunistring):
 * folding (NFD, lower case, marks dropped, đ -> d), grapheme counts as a customer sees them,
 * whole-word and multi-word matching, exact entries ("dơ" is not "do"), staff names, the
 * nonsense rule, the lists' checks with JSON paths, the shipped default lists; and the helpers
 * of the privacy side (phone and e-mail canonical forms, masking); and the report rows
 * (ccomment_report_json) on a SQLite store in a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccomment_int.h"
#include "collector_fixture.h"
#include "ctag.h"

#define NOW_MS 1796000000000LL

static cJSON *tags_of(const char *lists_json, const char *text, const char *staff_json)
{
    char err[TP_ERRMSG_MAX];
    cJSON *lists = cJSON_Parse(lists_json), *staff = staff_json ? cJSON_Parse(staff_json) : NULL;
    ctag *t = NULL;
    cJSON *out = NULL;
    assert_int_equal(ctag_new(lists, &t, err, sizeof err), TP_OK);
    assert_int_equal(ctag_text(t, text, staff, &out), TP_OK);
    ctag_free(t);
    cJSON_Delete(lists);
    cJSON_Delete(staff);
    return out;
}

/* The tags as one comma-separated string, for easy comparison. */
static void expect_tags(const char *lists, const char *text, const char *staff, const char *want)
{
    char got[256] = "";
    cJSON *arr = tags_of(lists, text, staff);
    for (cJSON *it = arr->child; it; it = it->next) {
        if (*got)
            strcat(got, ",");
        strcat(got, it->valuestring);
    }
    cJSON_Delete(arr);
    if (strcmp(got, want) != 0)
        fail_msg("tags of '%s': got '%s', want '%s'", text, got, want);
}

static void test_fold(void **state)
{
    (void)state;
    char *f = ctag_fold("Đường Phố BẨN Dơ", false);
    assert_string_equal(f, "duong pho ban do");
    free(f);
    f = ctag_fold("Đường DƠ", true);
    assert_string_equal(f, "đường dơ");
    free(f);
    /* A decomposed input folds the same as a composed one. */
    f = ctag_fold("e\xcc\x82\xcc\xa3", false); /* e + combining circumflex + dot below */
    assert_string_equal(f, "e");
    free(f);
}

static void test_graphemes(void **state)
{
    (void)state;
    const char *nfd = "e\xcc\x82\xcc\xa3"; /* ệ as 3 code points: one character seen */
    assert_int_equal(ctag_graphemes(nfd, strlen(nfd)), 1);
    assert_int_equal(ctag_graphemes("ệ", strlen("ệ")), 1);
    assert_int_equal(ctag_graphemes("Phở ngon", strlen("Phở ngon")), 8);
    assert_int_equal(ctag_graphemes("", 0), 0);
    const char *flag = "\xf0\x9f\x87\xbb\xf0\x9f\x87\xb3"; /* 🇻🇳: two code points, one flag */
    assert_int_equal(ctag_graphemes(flag, strlen(flag)), 1);
}

static const char lists[] =
    "{\"vi\": {\"urgent\": [\"bị thương\", \"=dơ\", \"trộm\"], \"praise\": [\"ngon\"],"
    " \"profanity\": [\"=lồn\"]}, \"en\": {\"urgent\": [\"fire\"], \"spam\": [\"http\"]}}";

static void test_whole_words(void **state)
{
    (void)state;
    expect_tags(lists, "Phở NGON lắm", NULL, "praise");
    expect_tags(lists, "Không ngonlắm", NULL, ""); /* not a whole word */
    expect_tags(lists, "Có người BỊ THƯƠNG ở cửa", NULL, "urgent");
    expect_tags(lists, "bị, thương", NULL, "urgent"); /* punctuation between words is no word */
    expect_tags(lists, "thương bị", NULL, "");        /* the order counts */
    expect_tags(lists, "There was a fire!", NULL, "urgent");
    expect_tags(lists, "firefighters came", NULL, "");
    expect_tags(lists, "Xem http://spam.example", NULL, "spam");
    expect_tags(lists, "bi thuong", NULL, "urgent"); /* typed without diacritics */
    expect_tags(lists, "có trom", NULL, "urgent");
}

static void test_exact(void **state)
{
    (void)state;
    expect_tags(lists, "Bàn ăn dơ quá", NULL, "urgent");
    expect_tags(lists, "Tôi đến do bạn giới thiệu", NULL, "");
    expect_tags(lists, "Đó là lý do", NULL, "");
    expect_tags(lists, "Cái bàn DƠ", NULL, "urgent"); /* exact still ignores case */
    expect_tags(lists, "lớn quá", NULL, "");          /* "=lồn" does not fire on "lớn" */
}

static void test_staff_and_nonsense(void **state)
{
    (void)state;
    expect_tags(lists, "Chị Lan phục vụ ngon lành", "[\"Lan\", \"Minh Anh\"]", "praise,staff:Lan");
    expect_tags(lists, "anh minh anh rất vui", "[\"Lan\", \"Minh Anh\"]", "staff:Minh Anh");
    expect_tags(lists, "Lanh lợi", "[\"Lan\"]", "");
    expect_tags(lists, "1234 5678", NULL, "nonsense");
    expect_tags(lists, "!!!!!!", NULL, "nonsense");
    expect_tags(lists, "aaaaaaaaa", NULL, "nonsense");
    expect_tags(lists, "ok", NULL, "");
}

static void test_checks(void **state)
{
    (void)state;
    char err[TP_ERRMSG_MAX];
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"[]", "$: expected an object"},
        {"{\"fr\": {}}", "$.fr: unknown language"},
        {"{\"vi\": {\"rude\": []}}", "$.vi.rude: unknown category"},
        {"{\"vi\": {\"spam\": \"x\"}}", "$.vi.spam: expected an array"},
        {"{\"vi\": {\"spam\": [\"ok\", \"\"]}}", "$.vi.spam[1]: expected a word"},
        {"{\"en\": {\"spam\": [\"=\"]}}", "$.en.spam[0]: expected a word"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = cJSON_Parse(bad[i].json);
        assert_int_equal(ctag_check(j, err, sizeof err), TP_ERR_INVALID);
        if (strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0)
            fail_msg("%s: got '%s'", bad[i].json, err);
        cJSON_Delete(j);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    char err[TP_ERRMSG_MAX];
    cJSON *lists_d = cJSON_ParseWithLength((const char *)assets_comments_keywords_json,
                                           assets_comments_keywords_json_len);
    ctag *t = NULL;
    cJSON *out = NULL;
    assert_int_equal(ctag_new(lists_d, &t, err, sizeof err), TP_OK);
    assert_int_equal(ctag_text(t, "Nhân viên nhiệt tình nhưng có người bị trượt ngã", NULL, &out),
                     TP_OK);
    char *s = cJSON_PrintUnformatted(out);
    assert_string_equal(s, "[\"urgent\",\"praise\"]");
    free(s);
    cJSON_Delete(out);
    ctag_free(t);
    cJSON_Delete(lists_d);
}

static void test_privacy_helpers(void **state)
{
    (void)state;
    char out[300];
    assert_true(cc_phone_canon("+84 901 234 567", out, sizeof out));
    assert_string_equal(out, "0901234567");
    assert_true(cc_phone_canon("0901.234.567", out, sizeof out));
    assert_string_equal(out, "0901234567");
    assert_true(cc_phone_canon("84901234567", out, sizeof out));
    assert_string_equal(out, "0901234567");
    assert_true(cc_phone_canon("+1 (415) 555-0100", out, sizeof out));
    assert_string_equal(out, "+14155550100");
    assert_false(cc_phone_canon("12345", out, sizeof out));
    assert_false(cc_phone_canon("0901 abc", out, sizeof out));
    assert_true(cc_email_canon("  An@Example.VN ", out, sizeof out));
    assert_string_equal(out, "an@example.vn");
    assert_false(cc_email_canon("a@b@c", out, sizeof out));
    assert_false(cc_email_canon("no-at", out, sizeof out));
    char *m = cc_mask_text("Gọi Bích: 0901 234 567 hoặc bich@x.vn, số bàn 12", "Bích", NULL);
    assert_string_equal(m, "Gọi [name]: [phone] hoặc [email], số bàn 12");
    free(m);
}

static void test_report_rows(void **state)
{
    (void)state;
    char dir[64], err[TP_ERRMSG_MAX];
    cstore *s = NULL;
    cstore_tx *tx = NULL;
    s = fixture_store_open(dir, sizeof dir, "ctag", 1);
    assert_int_equal(cstore_tx_begin(s, true, &tx, err, sizeof err), TP_OK);
    static const char *const rows[][5] = {
        {"c1", "vn/hcm/q1/exit", "q1", "1000", "Rất tốt"},
        {"c2", "vn/hcm/q1/exit", "q1", "2000", "Chậm"},
        {"c3", "vn/hn/b2/exit", "b2", "3000", "Ngon"},
        {"c4", "vn/hcm/q1/exit", "q1", "9000", "too late for the window"},
    };
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(FX(tx, NULL, err, sizeof err,
                            "INSERT INTO comments(id, device, session, store, touchpoint,"
                            " node_path, lang, text, created_ms, contact_phone) VALUES($1, 'k1',"
                            " $1, $2, 'exit', $3, 'vi', $4, $5, '0901234567')",
                            rows[i][0], rows[i][2], rows[i][1], rows[i][4], rows[i][3]),
                         TP_OK);
    assert_int_equal(cstore_tx_commit(tx, err, sizeof err), TP_OK);

    /* The report's rows (grouped by canalytics_comments.c; test_comments.py covers that). */
    cstore_rows *list = NULL;
    assert_int_equal(cstore_tx_begin(s, false, &tx, err, sizeof err), TP_OK);
    assert_int_equal(FX(tx, &list, err, sizeof err,
                        "SELECT " CCOMMENT_REPORT_COLS " FROM comments c ORDER BY c.created_ms"
                        " DESC"),
                     TP_OK);
    cstore_tx_rollback(tx);
    assert_int_equal(list->n, 4);
    cJSON *g = ccomment_report_json(list, 1);
    cstore_rows_free(list);
    char *text = cJSON_PrintUnformatted(g);
    assert_non_null(strstr(text, "\"id\":\"c3\""));
    assert_non_null(strstr(text, "\"at\":\"1970-01-01T00:00:03"));
    assert_non_null(strstr(text, "\"text\":\"Ngon\""));
    assert_null(strstr(text, "0901234567")); /* no contact details in a report */
    assert_null(strstr(text, "contact"));
    free(text);
    cJSON_Delete(g);
    /* The alert rules' count of a tag. */
    assert_int_equal(cstore_tx_begin(s, true, &tx, err, sizeof err), TP_OK);
    assert_int_equal(FX(tx, NULL, err, sizeof err,
                        "UPDATE comments SET tags = '[\"urgent\",\"staff:Lan_1\"]' WHERE id IN"
                        " ('c1', 'c2', 'c3')"),
                     TP_OK);
    assert_int_equal(cstore_tx_commit(tx, err, sizeof err), TP_OK);
    int64_t n = 0;
    char newest[TP_UUID_STR];
    assert_int_equal(
        ccomment_tag_count(s, "vn/hcm", "urgent", 0, 5000, &n, newest, err, sizeof err), TP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(newest, "c2");
    assert_int_equal(ccomment_tag_count(s, "", "staff:Lan_1", 0, 5000, &n, newest, err, sizeof err),
                     TP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(newest, "c3");
    assert_int_equal(ccomment_tag_count(s, "", "staff:LanX1", 0, 5000, &n, newest, err, sizeof err),
                     TP_OK);
    assert_int_equal(n, 0); /* '_' is no LIKE wildcard here */
    assert_string_equal(newest, "");
    assert_int_equal(ccomment_tag_count(s, "", "praise", 0, 5000, &n, newest, err, sizeof err),
                     TP_OK);
    assert_int_equal(n, 0);
    fixture_store_close(s, dir);
}

/* Query values of a fake request: "key=value" strings, NULL-terminated. */
static const char *fake_arg(void *cls, const char *key)
{
    for (const char *const *kv = cls; *kv; kv++) {
        size_t n = strlen(key);
        if (strncmp(*kv, key, n) == 0 && (*kv)[n] == '=')
            return *kv + n + 1;
    }
    return NULL;
}

static void test_read_scope(void **state)
{
    (void)state;
    char dir[64], err[TP_ERRMSG_MAX];
    cstore *s = NULL;
    cstore_tx *tx = NULL;
    s = fixture_store_open(dir, sizeof dir, "ctag", 1);
    assert_int_equal(cstore_tx_begin(s, true, &tx, err, sizeof err), TP_OK);
    assert_int_equal(cfleet_node_create(tx, "vn/hcm/q1/exit", 1, err, sizeof err), TP_OK);
    assert_int_equal(cfleet_node_create(tx, "vn/hn/b2/exit", 1, err, sizeof err), TP_OK);
    assert_int_equal(cfleet_node_create(tx, "vn/hcm_x/q9/exit", 1, err, sizeof err), TP_OK);
    static const char *const rows[][3] = {
        {"c1", "vn/hcm/q1/exit", "q1"},
        {"c2", "vn/hn/b2/exit", "b2"},
        {"c3", "vn/hcm_x/q9/exit", "q9"}, /* '_' must not act as a wildcard */
    };
    char now[24];
    cfleet_i64(now, NOW_MS);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(FX(tx, NULL, err, sizeof err,
                            "INSERT INTO comments(id, device, session, store, touchpoint,"
                            " node_path, lang, text, created_ms) VALUES($1, 'k1', $1, $2, 'exit',"
                            " $3, 'vi', 'x', $4)",
                            rows[i][0], rows[i][2], rows[i][1], now),
                         TP_OK);
    assert_int_equal(cstore_tx_commit(tx, err, sizeof err), TP_OK);
    static const struct {
        const char *scope, *args[3];
        int status, total;
    } cases[] = {
        {"", {NULL}, 200, 3},
        {"vn/hcm", {NULL}, 200, 1},
        {"vn/hcm", {"node=vn/hcm/q1", NULL}, 200, 1},
        {"vn/hcm", {"node=vn/hn", NULL}, 403, 0},
        {"vn/hcm", {"node=vn", NULL}, 403, 0},
        {"vn/hcm", {"store=b2", NULL}, 403, 0},
        {"vn/hcm", {"store=q1", NULL}, 200, 1},
        {"vn/hcm/q1", {"store=q1", NULL}, 200, 1},
        {"vn/hcm/q1", {"store=b2", NULL}, 403, 0},
        {"", {"store=b2", NULL}, 200, 1},
        {"", {"by=week", NULL}, 400, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        capi_reply r = ccomment_get(s, "/v1/comments", cases[i].scope, fake_arg,
                                    (void *)(uintptr_t)cases[i].args, NOW_MS);
        if (r.status != cases[i].status)
            fail_msg("case %zu: status %d, want %d: %s", i, r.status, cases[i].status, r.body);
        if (r.status == 200) {
            cJSON *j = cJSON_Parse(r.body);
            int total = cJSON_GetObjectItemCaseSensitive(j, "total")->valueint;
            cJSON_Delete(j);
            if (total != cases[i].total)
                fail_msg("case %zu: total %d, want %d", i, total, cases[i].total);
        }
        free(r.body);
    }
    fixture_store_close(s, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_graphemes),
        cmocka_unit_test(test_whole_words),
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_staff_and_nonsense),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_privacy_helpers),
        cmocka_unit_test(test_report_rows),
        cmocka_unit_test(test_read_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
