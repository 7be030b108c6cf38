/* test_rconfig.c - unit tests of rconfig.c: the atomic writer (whole file or the old one, the
 * mode asked, no temp file left on failure), config-status.json round trip and bounds, and the
 * /v1/config body checked with the settings and survey parsers (JSON paths in errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rconfig.h"

static const char *SURVEY_JSON =
    "{\"format\": 1, \"id\": \"t\", \"version\": 2, \"languages\": [\"vi\", \"en\"],"
    " \"title\": {\"vi\": \"T\", \"en\": \"T\"},"
    " \"questions\": [{\"id\": \"recommend\", \"kind\": \"nps\", \"prompt\": {\"vi\": \"Q\", "
    "\"en\": \"Q\"}}],"
    " \"thanks\": {\"vi\": \"C\", \"en\": \"T\"}}";

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/tp_rconfig_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[400];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static int count_files(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void writer_replaces_whole(void **state)
{
    (void)state;
    char err[256], path[128], buf[64] = "";
    assert_int_equal(rconfig_write_file(dir, "f.json", "first", 5, 0600, err, sizeof err), TP_OK);
    assert_int_equal(rconfig_write_file(dir, "f.json", "second", 6, 0600, err, sizeof err), TP_OK);
    snprintf(path, sizeof path, "%s/f.json", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof buf - 1, f), 6);
    fclose(f);
    assert_string_equal(buf, "second");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(count_files(), 1); /* no temp file left */
}

static void writer_failure_keeps_old(void **state)
{
    (void)state;
    char err[256], missing[128];
    assert_int_equal(rconfig_write_file(dir, "g.json", "old", 3, 0644, err, sizeof err), TP_OK);
    snprintf(missing, sizeof missing, "%s/no-such-folder", dir);
    assert_int_not_equal(rconfig_write_file(missing, "g.json", "new", 3, 0644, err, sizeof err),
                         TP_OK);
    assert_non_null(strstr(err, "no-such-folder"));
    /* a folder where the file should go: rename fails, the temp file is removed */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/h.json", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    FILE *x = fopen(sub, "r"); /* keep it non-empty so rename cannot replace it */
    if (x)
        fclose(x);
    char inner[200];
    snprintf(inner, sizeof inner, "%s/x", sub);
    x = fopen(inner, "w");
    assert_non_null(x);
    fclose(x);
    assert_int_not_equal(rconfig_write_file(dir, "h.json", "new", 3, 0644, err, sizeof err), TP_OK);
    assert_int_equal(count_files(), 2); /* g.json and the folder h.json: no temp file */
    unlink(inner);
    rmdir(sub);
}

static void status_round_trip(void **state)
{
    (void)state;
    char err[256], rev[RCONFIG_REVISION_MAX + 1], e[RCONFIG_ERROR_MAX + 1];
    assert_int_equal(rconfig_status_read(dir, rev, sizeof rev, e, sizeof e), TP_ERR_NOT_FOUND);
    assert_string_equal(rev, "");
    assert_int_equal(rconfig_status_write(dir, "abc", NULL, err, sizeof err), TP_OK);
    assert_int_equal(rconfig_status_read(dir, rev, sizeof rev, e, sizeof e), TP_OK);
    assert_string_equal(rev, "abc");
    assert_string_equal(e, "");
    char longerr[2000];
    memset(longerr, 'x', sizeof longerr - 3);
    memcpy(longerr + 509, "\xc3\xa0", 2); /* a 2-byte character across the 512-byte bound */
    longerr[sizeof longerr - 1] = '\0';
    longerr[sizeof longerr - 2] = 'y';
    longerr[sizeof longerr - 3] = 'y';
    assert_int_equal(rconfig_status_write(dir, "abc", longerr, err, sizeof err), TP_OK);
    assert_int_equal(rconfig_status_read(dir, rev, sizeof rev, e, sizeof e), TP_OK);
    assert_true(strlen(e) <= RCONFIG_ERROR_MAX);
    assert_true(tp_utf8_valid(e, strlen(e)));
}

static void body_checked_by_both_parsers(void **state)
{
    (void)state;
    char body[4096], err[512];
    rconfig *c = NULL;
    snprintf(body, sizeof body,
             "{\"revision\": \"r1\", \"device\": {\"id\": \"d\", \"node\": \"a/b/c/d\", "
             "\"store\": \"c\", \"touchpoint\": \"d\", \"stage\": \"\"},"
             " \"settings\": {\"timing\": {\"thankyou_s\": 3}}, \"survey\": %s}",
             SURVEY_JSON);
    assert_int_equal(rconfig_parse("x", body, strlen(body), &c, err, sizeof err), TP_OK);
    assert_string_equal(c->revision, "r1");
    assert_string_equal(c->store_id, "c");
    assert_false(c->has_stage);
    assert_int_equal(c->set.thankyou_s, 3);
    assert_int_equal(c->sv->version, 2);
    rconfig_free(c);
    rconfig_free(NULL);

    snprintf(body, sizeof body,
             "{\"revision\": \"r1\", \"device\": {}, \"settings\": {\"timing\": {\"thankyou_s\": "
             "0}}, \"survey\": %s}",
             SURVEY_JSON);
    assert_int_equal(rconfig_parse("x", body, strlen(body), &c, err, sizeof err), TP_ERR_CONFIG);
    assert_string_equal(err, "x: $.settings.timing.thankyou_s: 0: out of range 1..60");
    assert_null(c);

    snprintf(body, sizeof body,
             "{\"revision\": \"r1\", \"device\": {}, \"settings\": {}, \"survey\": {\"format\": "
             "1}}");
    assert_int_equal(rconfig_parse("x", body, strlen(body), &c, err, sizeof err), TP_ERR_SURVEY);
    assert_non_null(strstr(err, "x ($.survey): $."));

    const char *nor = "{\"device\": {}, \"settings\": {}, \"survey\": {}}";
    assert_int_equal(rconfig_parse("x", nor, strlen(nor), &c, err, sizeof err), TP_ERR_CONFIG);
    assert_string_equal(err, "x: $.revision: expected a string of 1..64");
    assert_int_equal(rconfig_parse("x", "{\"rev", 5, &c, err, sizeof err), TP_ERR_CONFIG);
}

/* Issue 15: "comment": {"key", "url"} from the center. */
static void comment_key_and_url(void **state)
{
    (void)state;
    static const struct {
        const char *comment, *want; /* want NULL: parses */
        bool has;
    } cases[] = {
        {"", NULL, false},
        {", \"comment\": null", NULL, false},
        {", \"comment\": {\"url\": \"https://fb.example.vn/c\"}", NULL, false},
        {", \"comment\": {\"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\", \"url\": "
         "\"https://fb.example.vn/c\"}",
         NULL, true},
        {", \"comment\": []", "x: $.comment: expected an object", false},
        {", \"comment\": {\"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}",
         "x: $.comment.url: expected an http(s) URL", false},
        {", \"comment\": {\"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\", \"url\": "
         "\"ftp://x/c\"}",
         "x: $.comment.url: expected an http(s) URL", false},
        {", \"comment\": {\"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\", \"url\": "
         "\"https://x/c?a=1\"}",
         "x: $.comment.url: expected an http(s) URL", false},
        {", \"comment\": {\"key\": \"imported\", \"url\": \"https://x/c\"}",
         "x: $.comment.key: expected a comment key (43 base64url characters)", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[4096], err[512] = "";
        rconfig *c = NULL;
        snprintf(body, sizeof body,
                 "{\"revision\": \"r1\", \"device\": {}, \"settings\": {}, \"survey\": %s%s}",
                 SURVEY_JSON, cases[i].comment);
        tp_err rc = rconfig_parse("x", body, strlen(body), &c, err, sizeof err);
        if (!cases[i].want) {
            if (rc != TP_OK)
                fail_msg("case %zu: %s", i, err);
            assert_int_equal(c->has_comment, cases[i].has);
            if (cases[i].has) {
                assert_string_equal(c->comment_url, "https://fb.example.vn/c");
                assert_int_equal(strlen(c->comment_key), 43);
            }
            rconfig_free(c);
        } else {
            assert_int_equal(rc, TP_ERR_CONFIG);
            if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
                fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
            assert_null(c);
        }
    }
}

static void file_revision(void **state)
{
    (void)state;
    char rev[RCONFIG_REVISION_MAX + 1], err[256];
    rconfig_file_revision(dir, rev, sizeof rev);
    assert_string_equal(rev, "");
    const char *b = "{\"revision\": \"abc123\"}";
    assert_int_equal(rconfig_write_file(dir, RCONFIG_FILE, b, strlen(b), 0644, err, sizeof err),
                     TP_OK);
    rconfig_file_revision(dir, rev, sizeof rev);
    assert_string_equal(rev, "abc123");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writer_replaces_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(writer_failure_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(status_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(body_checked_by_both_parsers, setup, teardown),
        cmocka_unit_test_setup_teardown(file_revision, setup, teardown),
        cmocka_unit_test_setup_teardown(comment_key_and_url, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
