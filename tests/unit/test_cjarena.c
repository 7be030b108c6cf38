/* test_cjarena.c - unit tests of cjarena.c (a batch's JSON tree in one arena): the same tree as
 * cJSON's own parse before and after the hooks are installed, bad JSON (cJSON frees its partial
 * tree into the arena), a document larger than one chunk, trees made with cJSON_Create* still on
 * malloc, and a batch parsed through cbatch_parse with the arena. LeakSanitizer (SAN=1) checks
 * that a release frees everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbatch.h"
#include "cjarena.h"
#include "collector_fixture.h"

static const char doc[] = "{\"a\": [1, 2.5, \"x\\u00e9\", null, true], \"b\": {\"c\": \"d\"}}";

static void check_doc(const cJSON *t)
{
    assert_non_null(t);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "a");
    assert_int_equal(cJSON_GetArraySize(a), 5);
    assert_true(cJSON_GetArrayItem(a, 1)->valuedouble == 2.5);
    assert_string_equal(cJSON_GetArrayItem(a, 2)->valuestring, "x\xc3\xa9");
    assert_true(cJSON_IsTrue(cJSON_GetArrayItem(a, 4)));
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(t, "b");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(b, "c")->valuestring, "d");
}

/* Runs first (cmocka keeps the order): before cjarena_install the parse is cJSON's own. */
static void before_install_plain_parse(void **state)
{
    (void)state;
    cjarena *a = (cjarena *)1;
    cJSON *t = cjarena_parse(doc, sizeof doc - 1, &a);
    assert_null(a);
    check_doc(t);
    cjarena_release(a, t);
    printf("# before cjarena_install: a plain cJSON tree, released by cJSON_Delete\n");
}

static void arena_tree_equals_plain_tree(void **state)
{
    (void)state;
    cjarena_install();
    cjarena_install(); /* idempotent */
    cjarena *a = NULL;
    cJSON *t = cjarena_parse(doc, sizeof doc - 1, &a);
    assert_non_null(a);
    check_doc(t);
    char *printed = cJSON_PrintUnformatted(t); /* malloc'd: the arena is not active now */
    cJSON *plain = cJSON_Parse(doc);
    char *want = cJSON_PrintUnformatted(plain);
    assert_string_equal(printed, want);
    cJSON_free(printed);
    cJSON_free(want);
    cJSON_Delete(plain);
    cjarena_release(a, t);
    printf("# the arena's tree prints as cJSON's own; trees parsed elsewhere still on malloc\n");
}

static void bad_json_leaves_nothing(void **state)
{
    (void)state;
    cjarena_install();
    const char *bad[] = {"{\"a\": [1, 2, \"unterminated", "[1, 2,, 3]", "{\"a\" 1}", "nul",
                         "{\"a\": {\"b\": [true, fals]}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cjarena *a = (cjarena *)1;
        assert_null(cjarena_parse(bad[i], strlen(bad[i]), &a));
        assert_null(a);
        cjarena_release(a, NULL);
    }
    printf("# five malformed documents: NULL, no arena left (partial trees freed into it)\n");
}

static void larger_than_a_chunk(void **state)
{
    (void)state;
    cjarena_install();
    enum { N = 60000 }; /* 180,000 items and 120,000 strings: several 1 MiB chunks */
    size_t cap = (size_t)N * 32 + 16, used = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    used += (size_t)snprintf(text + used, cap - used, "[");
    for (int i = 0; i < N; i++)
        used +=
            (size_t)snprintf(text + used, cap - used, "%s{\"k%d\":\"v%d\"}", i ? "," : "", i, i);
    used += (size_t)snprintf(text + used, cap - used, "]");
    cjarena *a = NULL;
    cJSON *t = cjarena_parse(text, used, &a);
    assert_non_null(t);
    assert_int_equal(cJSON_GetArraySize(t), N);
    const cJSON *last = cJSON_GetArrayItem(t, N - 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(last, "k59999")->valuestring, "v59999");
    cjarena_release(a, t);
    free(text);
    printf("# a %zu-byte array of %d objects spans several chunks and is released at once\n", used,
           N);
}

static void batch_parses_through_the_arena(void **state)
{
    (void)state;
    cjarena_install();
    char a1[1024], a2[1024], a3[1024], all[3200];
    answer_json(a1, sizeof a1, 1, NULL, NULL);
    answer_json(a2, sizeof a2, 2, NULL, NULL);
    answer_json(a3, sizeof a3, 3, NULL, NULL);
    snprintf(all, sizeof all, "%s,%s,%s", a1, a2, a3);
    char *json = batch_json(all);
    cbatch *b = NULL;
    char err[256];
    assert_int_equal(cbatch_parse(json, strlen(json), RECV, &b, err, sizeof err), TP_OK);
    assert_int_equal(b->n_answers, 3);
    assert_int_equal(b->n_rejects, 0);
    cbatch_free(b);
    free(json);
    printf("# a batch of 3 answers parses with its tree in an arena\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(before_install_plain_parse),
        cmocka_unit_test(arena_tree_equals_plain_tree),
        cmocka_unit_test(bad_json_leaves_nothing),
        cmocka_unit_test(larger_than_a_chunk),
        cmocka_unit_test(batch_parses_through_the_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
