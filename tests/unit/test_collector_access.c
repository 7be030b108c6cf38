/* test_collector_access.c - unit tests of the collector's read access (cread.h, issue 14 item 9)
 * on a SQLite store in a temporary folder: scope math (path prefixes on '/' boundaries, a store
 * id mapped to its node, a store id that names two stores), the request filters checked against
 * a scope, the store ids of a scope, who reads (open, read token, revoked, --read-token, admin),
 * the read audit and its listing filters, the administration operations, the per-reader gate and
 * the rate limiter's check that takes nothing. The HTTP side runs in
 * tests/integration/test_access.py against the real program. */
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

#include "cfleet.h"
#include "collector_fixture.h"
#include "crate.h"
#include "cread.h"
#include "cstore.h"

#define NOW 1796000000000LL

static char dir[64];

static cstore *open_store(void)
{
    return fixture_store_open(dir, sizeof dir, "access", 2);
}

static void close_store(cstore *s)
{
    fixture_store_close(s, dir);
}

/* Runs op with args (JSON text). Returns the result (cJSON_Delete) or NULL with *rc set. */
static cJSON *call(cstore *s, const char *op, const char *args, tp_err *rc)
{
    char err[TP_ERRMSG_MAX] = "";
    cJSON *a = cJSON_Parse(args), *out = NULL;
    assert_non_null(a);
    *rc = cfleet_call(s, "unit", op, a, NOW, &out, err, sizeof err);
    cJSON_Delete(a);
    return out;
}

static cJSON *ok_call(cstore *s, const char *op, const char *args)
{
    tp_err rc;
    cJSON *out = call(s, op, args, &rc);
    if (rc != TP_OK)
        fail_msg("%s %s: %s", op, args, tp_strerror(rc));
    return out;
}

/* A read token NAME at node; returns the "Bearer ..." header in hdr. */
static void add_token(cstore *s, const char *name, const char *node, char *hdr, size_t len)
{
    char args[256];
    snprintf(args, sizeof args, "{\"name\":\"%s\",\"node\":\"%s\"}", name, node);
    cJSON *r = ok_call(s, "read-token.add", args);
    const char *tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "token"));
    assert_non_null(tok);
    snprintf(hdr, len, "Bearer %s", tok);
    cJSON_Delete(r);
}

static void tree(cstore *s)
{
    const char *nodes[] = {"vn/hcm/q1/checkout", "vn/hcm/q1/entrance", "vn/hcm/dup",
                           "vn/hcm2/q3",         "vn/hn/q2",           "vn/hn/dup"};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        char args[128];
        snprintf(args, sizeof args, "{\"path\":\"%s\"}", nodes[i]);
        cJSON_Delete(ok_call(s, "node.set", args));
    }
}

/* ---- Pure scope math ------------------------------------------------------------------------- */

static void within_on_boundaries(void **state)
{
    (void)state;
    assert_true(cread_within("", "vn/hcm"));
    assert_true(cread_within("", ""));
    assert_true(cread_within("vn/hcm", "vn/hcm"));
    assert_true(cread_within("vn/hcm", "vn/hcm/q1"));
    assert_true(cread_within("vn/hcm", "vn/hcm/q1/checkout"));
    assert_false(cread_within("vn/hcm", "vn/hcm2"));
    assert_false(cread_within("vn/hcm", "vn/hcm2/q1"));
    assert_false(cread_within("vn/hcm", "vn"));
    assert_false(cread_within("vn/hcm", "vn/hc"));
    assert_false(cread_within("vn/hcm", ""));
    assert_false(cread_within("vn/hcm/q1", "vn/hn/q1"));
}

static void segments(void **state)
{
    char seg[TP_ID_MAX + 1];
    (void)state;
    assert_true(cread_segment("vn/hcm/q1/checkout", 0, seg));
    assert_string_equal(seg, "vn");
    assert_true(cread_segment("vn/hcm/q1/checkout", 2, seg));
    assert_string_equal(seg, "q1");
    assert_true(cread_segment("vn/hcm/q1/checkout", 3, seg));
    assert_string_equal(seg, "checkout");
    assert_false(cread_segment("vn/hcm", 2, seg));
}

static void store_maps_to_its_node(void **state)
{
    const char *stores[] = {"vn/hcm/q1", "vn/hcm/dup", "vn/hcm2/q3", "vn/hn/q2", "vn/hn/dup"};
    size_t n = sizeof stores / sizeof stores[0];
    (void)state;
    assert_true(cread_store_within("vn/hcm", "q1", stores, n));
    assert_false(cread_store_within("vn/hcm", "q2", stores, n));
    assert_false(cread_store_within("vn/hcm", "q3", stores, n)); /* vn/hcm2, not vn/hcm */
    assert_true(cread_store_within("vn/hcm2", "q3", stores, n));
    /* A store id naming a store in hcm and one in hn: its answers are both, so hcm may not. */
    assert_false(cread_store_within("vn/hcm", "dup", stores, n));
    assert_true(cread_store_within("vn", "dup", stores, n));
    assert_false(cread_store_within("vn/hcm", "nowhere", stores, n));
    assert_true(cread_store_within("", "nowhere", stores, n)); /* unscoped: everything */
    assert_true(cread_store_within("vn/hcm/q1", "q1", stores, n));
    assert_true(cread_store_within("vn/hcm/q1/checkout", "q1", stores, n));
    assert_false(cread_store_within("vn/hcm/q1/checkout", "q2", stores, n));
}

/* ---- On a store ------------------------------------------------------------------------------ */

static void scope_filters(void **state)
{
    char out[CFLEET_PATH_MAX + 1], err[TP_ERRMSG_MAX];
    (void)state;
    cstore *s = open_store();
    tree(s);
    assert_int_equal(cread_scope(s, "vn/hcm", NULL, NULL, out, err, sizeof err), TP_OK);
    assert_string_equal(out, "vn/hcm");
    assert_int_equal(cread_scope(s, "vn/hcm", "vn/hcm/q1", "", out, err, sizeof err), TP_OK);
    assert_string_equal(out, "vn/hcm/q1");
    assert_int_equal(cread_scope(s, "vn/hcm", "vn/hcm2", NULL, out, err, sizeof err), TP_ERR_AUTH);
    assert_non_null(strstr(err, "node"));
    assert_int_equal(cread_scope(s, "vn/hcm", "vn", NULL, out, err, sizeof err), TP_ERR_AUTH);
    assert_int_equal(cread_scope(s, "vn/hcm", "a//b", NULL, out, err, sizeof err), TP_ERR_INVALID);
    assert_int_equal(cread_scope(s, "vn/hcm", NULL, "q1", out, err, sizeof err), TP_OK);
    assert_string_equal(out, "vn/hcm/q1");
    assert_int_equal(cread_scope(s, "vn/hcm", NULL, "q2", out, err, sizeof err), TP_ERR_AUTH);
    assert_non_null(strstr(err, "store"));
    assert_int_equal(cread_scope(s, "vn/hcm", NULL, "q3", out, err, sizeof err), TP_ERR_AUTH);
    assert_int_equal(cread_scope(s, "vn/hcm", NULL, "dup", out, err, sizeof err), TP_ERR_AUTH);
    assert_int_equal(cread_scope(s, "vn/hcm", NULL, "x y", out, err, sizeof err), TP_ERR_INVALID);
    assert_int_equal(cread_scope(s, "vn/hcm/q1/checkout", NULL, "q1", out, err, sizeof err), TP_OK);
    assert_string_equal(out, "vn/hcm/q1/checkout");
    /* Unscoped: any filter, also a store in no node. */
    assert_int_equal(cread_scope(s, "", "vn/hn", "nowhere", out, err, sizeof err), TP_OK);
    assert_string_equal(out, "vn/hn");
    close_store(s);
}

static void scope_store_ids(void **state)
{
    char err[TP_ERRMSG_MAX], tp[TP_ID_MAX + 1];
    char **ids = NULL;
    size_t n = 0;
    (void)state;
    cstore *s = open_store();
    tree(s);
    assert_int_equal(cread_scope_stores(s, "vn/hcm", &ids, &n, tp, err, sizeof err), TP_OK);
    assert_int_equal(n, 1); /* q1; not dup (also in hn), not q3 (hcm2) */
    assert_string_equal(ids[0], "q1");
    assert_string_equal(tp, "");
    cread_ids_free(ids, n);
    assert_int_equal(cread_scope_stores(s, "vn", &ids, &n, tp, err, sizeof err), TP_OK);
    assert_int_equal(n, 4);
    assert_string_equal(ids[0], "dup");
    cread_ids_free(ids, n);
    assert_int_equal(cread_scope_stores(s, "vn/hcm/q1/entrance", &ids, &n, tp, err, sizeof err),
                     TP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "q1");
    assert_string_equal(tp, "entrance");
    cread_ids_free(ids, n);
    assert_int_equal(cread_scope_stores(s, "vn/hcm/dup", &ids, &n, tp, err, sizeof err), TP_OK);
    assert_int_equal(n, 0);
    cread_ids_free(ids, n);
    close_store(s);
}

static void who_reads(void **state)
{
    char store_tok[128], region_tok[128], err[TP_ERRMSG_MAX];
    cread_ctx ctx;
    tp_err rc;
    (void)state;
    cstore *s = open_store();
    tree(s);
    /* No token configured at all: open, unscoped, whatever the header says. */
    assert_int_equal(cread_auth(s, NULL, NULL, &ctx), TP_OK);
    assert_int_equal(ctx.kind, CREAD_OPEN);
    assert_string_equal(ctx.scope, "");
    assert_int_equal(cread_auth(s, "Bearer nonsense", NULL, &ctx), TP_OK);
    assert_int_equal(ctx.kind, CREAD_OPEN);
    /* --read-token closes it. */
    assert_int_equal(cread_auth(s, NULL, "opt-secret", &ctx), TP_ERR_AUTH);
    assert_int_equal(cread_auth(s, "Bearer opt-secret", "opt-secret", &ctx), TP_OK);
    assert_int_equal(ctx.kind, CREAD_OPTION);
    assert_string_equal(ctx.scope, "");

    add_token(s, "q1-manager", "vn/hcm/q1", store_tok, sizeof store_tok);
    add_token(s, "hcm-lead", "vn/hcm", region_tok, sizeof region_tok);
    assert_int_equal(cread_auth(s, NULL, NULL, &ctx), TP_ERR_AUTH);
    assert_int_equal(cread_auth(s, "Bearer nonsense", NULL, &ctx), TP_ERR_AUTH);
    assert_int_equal(cread_auth(s, store_tok, NULL, &ctx), TP_OK);
    assert_int_equal(ctx.kind, CREAD_TOKEN);
    assert_string_equal(ctx.name, "q1-manager");
    assert_string_equal(ctx.scope, "vn/hcm/q1");
    assert_int_equal(cread_auth(s, region_tok, NULL, &ctx), TP_OK);
    assert_string_equal(ctx.scope, "vn/hcm");

    /* An admin token reads unscoped, named admin:NAME. */
    cJSON *a = ok_call(s, "admin.add", "{\"name\":\"ops\"}");
    char admin_hdr[128];
    snprintf(admin_hdr, sizeof admin_hdr, "Bearer %s",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "token")));
    cJSON_Delete(a);
    assert_int_equal(cread_auth(s, admin_hdr, NULL, &ctx), TP_OK);
    assert_int_equal(ctx.kind, CREAD_ADMIN);
    assert_string_equal(ctx.name, "admin:ops");
    assert_string_equal(ctx.scope, "");

    /* Revoked: refused at once; revoking every token keeps the read side closed. */
    cJSON_Delete(ok_call(s, "read-token.revoke", "{\"name\":\"q1-manager\"}"));
    cJSON_Delete(ok_call(s, "read-token.revoke", "{\"name\":\"hcm-lead\"}"));
    assert_int_equal(cread_auth(s, store_tok, NULL, &ctx), TP_ERR_AUTH);
    assert_int_equal(cread_auth(s, NULL, NULL, &ctx), TP_ERR_AUTH);
    cJSON_Delete(ok_call(s, "admin.revoke", "{\"name\":\"ops\"}"));
    assert_int_equal(cread_auth(s, admin_hdr, NULL, &ctx), TP_ERR_AUTH);

    /* Administration: bad names and nodes, duplicates, unknown names; audited changes. */
    assert_null(call(s, "read-token.add", "{\"name\":\"a b\",\"node\":\"vn\"}", &rc));
    assert_int_equal(rc, TP_ERR_INVALID);
    assert_null(call(s, "read-token.add", "{\"name\":\"x\"}", &rc));
    assert_int_equal(rc, TP_ERR_INVALID);
    assert_null(call(s, "read-token.add", "{\"name\":\"x\",\"node\":\"vn/none\"}", &rc));
    assert_int_equal(rc, TP_ERR_NOT_FOUND);
    assert_null(call(s, "read-token.add", "{\"name\":\"hcm-lead\",\"node\":\"vn\"}", &rc));
    assert_int_equal(rc, TP_ERR_EXISTS);
    assert_null(call(s, "read-token.revoke", "{\"name\":\"nobody\"}", &rc));
    assert_int_equal(rc, TP_ERR_NOT_FOUND);
    cJSON *list = ok_call(s, "read-token.list", "{}");
    assert_int_equal(cJSON_GetArraySize(list), 2);
    cJSON *first = cJSON_GetArrayItem(list, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "name")), "hcm-lead");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "node")), "vn/hcm");
    assert_true(cJSON_GetObjectItem(first, "revoked_ms")->valuedouble == (double)NOW);
    assert_null(cJSON_GetObjectItem(first, "token_sha256"));
    cJSON_Delete(list);
    cJSON *admins = ok_call(s, "admin.list", "{}");
    assert_int_equal(cJSON_GetArraySize(admins), 1);
    cJSON_Delete(admins);
    cJSON *audit = ok_call(s, "audit.list", "{}");
    char *text = cJSON_PrintUnformatted(audit);
    assert_non_null(strstr(text, "\"read-token.add\""));
    assert_non_null(strstr(text, "\"read-token.revoke\""));
    assert_non_null(strstr(text, "\"admin-token.revoke\""));
    free(text);
    cJSON_Delete(audit);
    (void)err;
    close_store(s);
}

static void audit_rows(void **state)
{
    cread_ctx ctx = {.kind = CREAD_TOKEN,
                     .name = "q1-manager",
                     .scope = "vn/hcm/q1",
                     .addr = "127.0.0.1",
                     .method = "GET",
                     .status = 200};
    (void)state;
    cstore *s = open_store();
    assert_int_equal(cread_log(s, &ctx, "/v1/report", "by=store&from=2026-11-01", NOW), TP_OK);
    ctx.status = 403;
    assert_int_equal(cread_log(s, &ctx, "/v1/devices", "store=q2", NOW + 86400000), TP_OK);
    cread_ctx other = {.kind = CREAD_ADMIN, .name = "admin:ops", .addr = "::1", .status = 200};
    assert_int_equal(cread_log(s, &other, "/v1/devices", NULL, NOW + 2 * 86400000), TP_OK);
    cJSON *all = ok_call(s, "read-audit.list", "{}");
    assert_int_equal(cJSON_GetArraySize(all), 3);
    cJSON *r0 = cJSON_GetArrayItem(all, 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r0, "token")), "q1-manager");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r0, "scope")), "vn/hcm/q1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r0, "path")), "/v1/report");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r0, "query")),
                        "by=store&from=2026-11-01");
    assert_true(cJSON_GetObjectItem(r0, "at_ms")->valuedouble == (double)NOW);
    assert_int_equal((int)cJSON_GetObjectItem(r0, "status")->valuedouble, 200);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r0, "addr")), "127.0.0.1");
    cJSON_Delete(all);
    cJSON *mine = ok_call(s, "read-audit.list", "{\"token\":\"q1-manager\"}");
    assert_int_equal(cJSON_GetArraySize(mine), 2);
    cJSON_Delete(mine);
    tp_err rc;
    assert_null(call(s, "read-audit.list", "{\"since\":\"yesterday\"}", &rc));
    assert_int_equal(rc, TP_ERR_INVALID);
    /* since: a local day; the rows from its midnight on. */
    char day[11], args[64];
    tp_local_day_start(NOW + 86400000, day);
    snprintf(args, sizeof args, "{\"since\":\"%s\"}", day);
    cJSON *since = ok_call(s, "read-audit.list", args);
    assert_int_equal(cJSON_GetArraySize(since), 2);
    cJSON_Delete(since);
    close_store(s);
}

static void gate_per_key(void **state)
{
    (void)state;
    assert_null(cread_gate_new(0));
    cread_gate *g = cread_gate_new(2);
    assert_true(cread_gate_enter(g, "a"));
    assert_true(cread_gate_enter(g, "a"));
    assert_false(cread_gate_enter(g, "a"));
    assert_true(cread_gate_enter(g, "b")); /* another reader is not starved */
    cread_gate_leave(g, "a");
    assert_true(cread_gate_enter(g, "a"));
    cread_gate_leave(g, "a");
    cread_gate_leave(g, "a");
    cread_gate_leave(g, "b");
    cread_gate_leave(g, "never"); /* harmless */
    assert_true(cread_gate_enter(g, "a"));
    cread_gate_leave(g, "a");
    cread_gate_free(g);
    cread_gate_free(NULL);
}

static void rate_check_takes_nothing(void **state)
{
    int retry = 0;
    (void)state;
    crate *r = crate_new(1, 2);
    assert_true(crate_check(r, "@1.2.3.4", 0, &retry)); /* never seen */
    assert_true(crate_take(r, "@1.2.3.4", 0, &retry));
    assert_true(crate_check(r, "@1.2.3.4", 0, &retry));
    assert_true(crate_check(r, "@1.2.3.4", 0, &retry)); /* checking took nothing */
    assert_true(crate_take(r, "@1.2.3.4", 0, &retry));
    assert_false(crate_check(r, "@1.2.3.4", 0, &retry));
    assert_int_equal(retry, 1);
    assert_true(crate_check(r, "@1.2.3.4", 1000, &retry)); /* refilled */
    /* Keys longer than CRATE_KEY_MAX share the bucket of their first bytes, found again. */
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_true(crate_take(r, longkey, 0, &retry));
    assert_true(crate_take(r, longkey, 0, &retry));
    assert_false(crate_take(r, longkey, 0, &retry));
    crate_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(within_on_boundaries),
        cmocka_unit_test(segments),
        cmocka_unit_test(store_maps_to_its_node),
        cmocka_unit_test(scope_filters),
        cmocka_unit_test(scope_store_ids),
        cmocka_unit_test(who_reads),
        cmocka_unit_test(audit_rows),
        cmocka_unit_test(gate_per_key),
        cmocka_unit_test(rate_check_takes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
