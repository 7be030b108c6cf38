/* test_ccase.c - unit tests of the cases' read side under a reader's scope (issue 13/14: the
 * handler signature every read endpoint shares): on a SQLite store in a temporary folder with
 * two regions, a scoped reader sees only the cases under its node (also a case opened on a
 * chain-level node whose store lies under it), gets 403 for a node= or store= filter outside its
 * scope, and 404 for one case outside it (no existence leak); the report groups only its cases. */
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

#include "ccase.h"
#include "cfleet.h"
#include "collector_fixture.h"
#include "cstore.h"

#define NOW 1796568000000LL

static char dir[64];

typedef struct query {
    const char *k[4], *v[4];
} query;

static const char *qarg(void *cls, const char *key)
{
    const query *q = cls;
    for (int i = 0; i < 4 && q->k[i]; i++)
        if (strcmp(q->k[i], key) == 0)
            return q->v[i];
    return NULL;
}

static void exec(cstore *s, const char *sql, const char *const *p, int n)
{
    char err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    assert_int_equal(cstore_tx_begin(s, true, &tx, err, sizeof err), TP_OK);
    assert_int_equal(cstore_tx_exec(tx, sql, p, n, NULL, err, sizeof err), TP_OK);
    assert_int_equal(cstore_tx_commit(tx, err, sizeof err), TP_OK);
}

static void add_case(cstore *s, const char *id, const char *node, const char *store)
{
    const char *p[] = {id, node, store};
    exec(s,
         "INSERT INTO cases(id, node_path, store, title_vi, title_en, state, opened_ms,"
         " updated_ms) VALUES($1, $2, $3, 'x', 'x', 'open', 1796560000000, 1796560000000)",
         p, 3);
}

static void node(cstore *s, const char *path)
{
    char err[TP_ERRMSG_MAX];
    cJSON *args = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(args, "path", path);
    assert_int_equal(cfleet_call(s, "test", "node.set", args, NOW, &res, err, sizeof err), TP_OK);
    cJSON_Delete(args);
    cJSON_Delete(res);
}

#define C_HCM "01a24bd8-76fe-770c-b59f-abda373c0e61"
#define C_HN "01a24bd8-76fe-770c-b59f-abda373c0e62"
#define C_CHAIN "01a24bd8-76fe-770c-b59f-abda373c0e63"

static cstore *setup(void)
{
    cstore *s = fixture_store_open(dir, sizeof dir, "ccase", 2);
    node(s, "vn/hcm/hcm-q1/checkout");
    node(s, "vn/hn/hn-bd/checkout");
    add_case(s, C_HCM, "vn/hcm/hcm-q1/checkout", "hcm-q1");
    add_case(s, C_HN, "vn/hn/hn-bd/checkout", "hn-bd");
    add_case(s, C_CHAIN, "vn", "hn-bd"); /* a chain-level rule's case at a store of vn/hn */
    return s;
}

static void teardown(cstore *s)
{
    fixture_store_close(s, dir);
}

/* The ids listed by GET url under scope, comma-joined into out. */
static int get(cstore *s, const char *url, const char *scope, query *q, char *out, size_t n)
{
    capi_reply r = ccase_get(s, url, scope, qarg, q, NOW);
    out[0] = '\0';
    cJSON *js = cJSON_Parse(r.body);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(js, "cases");
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
        snprintf(out + strlen(out), n - strlen(out), "%s%c", id + 35, c->next ? ',' : '\0');
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(js, "error");
    if (err)
        snprintf(out, n, "%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code")));
    cJSON_Delete(js);
    free(r.body);
    return r.status;
}

static void scoped_reads(void **state)
{
    (void)state;
    cstore *s = setup();
    char ids[256];
    query none = {{NULL}, {NULL}};
    /* Unscoped: all three, newest first (same time: id descending). */
    assert_int_equal(get(s, "/v1/cases", "", &none, ids, sizeof ids), 200);
    assert_string_equal(ids, "3,2,1");
    /* vn/hn sees its case and the chain-level case of its store. */
    assert_int_equal(get(s, "/v1/cases", "vn/hn", &none, ids, sizeof ids), 200);
    assert_string_equal(ids, "3,2");
    assert_int_equal(get(s, "/v1/cases", "vn/hcm/hcm-q1", &none, ids, sizeof ids), 200);
    assert_string_equal(ids, "1");
    /* A touchpoint scope: only cases opened on that touchpoint's node. */
    assert_int_equal(get(s, "/v1/cases", "vn/hn/hn-bd/checkout", &none, ids, sizeof ids), 200);
    assert_string_equal(ids, "2");
    query out_node = {{"node"}, {"vn/hcm"}}, out_store = {{"store"}, {"hcm-q1"}};
    query in_store = {{"store"}, {"hn-bd"}};
    assert_int_equal(get(s, "/v1/cases", "vn/hn", &out_node, ids, sizeof ids), 403);
    assert_string_equal(ids, "forbidden");
    assert_int_equal(get(s, "/v1/cases", "vn/hn", &out_store, ids, sizeof ids), 403);
    assert_int_equal(get(s, "/v1/cases/report", "vn/hn", &out_store, ids, sizeof ids), 403);
    assert_int_equal(get(s, "/v1/cases", "vn/hn", &in_store, ids, sizeof ids), 200);
    assert_string_equal(ids, "3,2");
    /* One case outside the scope is "not found", inside it is served. */
    assert_int_equal(get(s, "/v1/cases/" C_HCM, "vn/hn", &none, ids, sizeof ids), 404);
    assert_int_equal(get(s, "/v1/cases/" C_CHAIN, "vn/hn", &none, ids, sizeof ids), 200);
    assert_int_equal(get(s, "/v1/cases/nope", "", &none, ids, sizeof ids), 400);
    assert_int_equal(get(s, "/v1/casesx", "", &none, ids, sizeof ids), 404);
    /* The report of vn/hn by store: one group hn-bd with its two cases. */
    capi_reply r = ccase_get(s, "/v1/cases/report", "vn/hn", qarg, &none, NOW);
    cJSON *js = cJSON_Parse(r.body);
    const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(js, "groups"), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(js, "groups")), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "key")), "hn-bd");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(g, "opened")->valueint, 2);
    cJSON_Delete(js);
    free(r.body);
    teardown(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scoped_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
