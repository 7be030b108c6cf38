/* test_collector_fleet.c - unit tests of the collector's fleet (issue 12) on a SQLite store in a
 * temporary folder: node paths, settings inheritance (nearest wins per key, a key replaced as a
 * whole, null removes), settings and surveys checked by the kiosk's parsers with JSON paths, the
 * generic store transactions, the operations of cfleet_call (tree, devices, tokens, surveys,
 * assignments, audit), device auth from the store and the devices file, the configuration body
 * and its revision, the batch's configuration fields. The same operations run against
 * PostgreSQL through the real program in tests/integration/test_fleet.py. */
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

#include "cbatch.h"
#include "cfleet.h"
#include "collector_fixture.h"
#include "cstore.h"

#define NOW 1796000000000LL

static char dir[64];

static cstore *open_store(void)
{
    return fixture_store_open(dir, sizeof dir, "fleet", 2);
}

static void close_store(cstore *s)
{
    fixture_store_close(s, dir);
}

/* Runs op with args (JSON text); returns the result (cJSON_Delete) or NULL with the rc. */
static cJSON *call(cstore *s, const char *op, const char *args, tp_err *rc, char *err,
                   size_t errlen)
{
    cJSON *a = cJSON_Parse(args), *out = NULL;
    assert_non_null(a);
    *rc = cfleet_call(s, "unit", op, a, NOW, &out, err, errlen);
    cJSON_Delete(a);
    return out;
}

static cJSON *ok_call(cstore *s, const char *op, const char *args)
{
    char err[TP_ERRMSG_MAX] = "";
    tp_err rc;
    cJSON *out = call(s, op, args, &rc, err, sizeof err);
    if (rc != TP_OK)
        fail_msg("%s %s: %s", op, args, err);
    return out;
}

static const char *survey_json =
    "{\"format\":1,\"id\":\"s\",\"version\":VV,\"languages\":[\"vi\"],"
    "\"title\":{\"vi\":\"T\"},\"thanks\":{\"vi\":\"C\"},"
    "\"questions\":[{\"id\":\"q\",\"kind\":\"nps\",\"prompt\":{\"vi\":\"P\"}}]}";

static char *survey_v(int v)
{
    static char buf[512];
    const char *at = strstr(survey_json, "VV");
    snprintf(buf, sizeof buf, "%.*s%d%s", (int)(at - survey_json), survey_json, v, at + 2);
    return buf;
}

/* ---- Pure parts ------------------------------------------------------------------------------ */

static void path_check(void **state)
{
    char err[TP_ERRMSG_MAX];
    (void)state;
    assert_int_equal(cfleet_path_check("vn/hcm/hcm-q1/checkout", err, sizeof err), TP_OK);
    assert_int_equal(cfleet_path_check("a", err, sizeof err), TP_OK);
    const char *bad[] = {"", "/a", "a/", "a//b", "a b", "a/../b/c d", "1/2/3/4/5/6/7/8/9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cfleet_path_check(bad[i], err, sizeof err), TP_ERR_INVALID);
}

static void settings_merge_per_key(void **state)
{
    (void)state;
    cJSON *parent = cJSON_Parse("{\"languages\":[\"vi\",\"en\"],\"timing\":{\"thankyou_s\":4,"
                                "\"idle_timeout_s\":30},\"stage\":\"after\"}");
    cJSON *child = cJSON_Parse("{\"timing\":{\"idle_timeout_s\":60},\"stage\":null}");
    assert_int_equal(cfleet_settings_merge(parent, child), TP_OK);
    char *text = cJSON_PrintUnformatted(parent);
    /* timing replaced as a whole (no thankyou_s inherited), stage removed, languages kept. */
    assert_string_equal(text, "{\"languages\":[\"vi\",\"en\"],\"timing\":{\"idle_timeout_s\":60}}");
    free(text);
    cJSON_Delete(parent);
    cJSON_Delete(child);
}

static void settings_check_paths(void **state)
{
    char err[TP_ERRMSG_MAX];
    (void)state;
    cJSON *good = cJSON_Parse("{\"timezone\":\"Asia/Ho_Chi_Minh\",\"opening_hours\":\"always\","
                              "\"screen\":{\"dim_after_s\":300,\"dim_level\":10},\"stage\":null}");
    assert_int_equal(cfleet_settings_check(good, "$.settings", err, sizeof err), TP_OK);
    cJSON *bad = cJSON_Parse("{\"screen\":{\"dim_level\":500}}");
    assert_int_equal(cfleet_settings_check(bad, "$.settings", err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "$.settings.screen.dim_level"));
    cJSON *local = cJSON_Parse("{\"token_file\":\"/etc/x\"}");
    assert_int_equal(cfleet_settings_check(local, "$.settings", err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "$.settings.token_file"));
    cJSON_Delete(good);
    cJSON_Delete(bad);
    cJSON_Delete(local);
}

static void survey_check_paths(void **state)
{
    char err[TP_ERRMSG_MAX], id[TP_ID_MAX + 1];
    int v = 0;
    (void)state;
    const char *doc = survey_v(3);
    assert_int_equal(cfleet_survey_check("f.json", doc, strlen(doc), id, &v, err, sizeof err),
                     TP_OK);
    assert_string_equal(id, "s");
    assert_int_equal(v, 3);
    const char *bad = "{\"format\":1,\"id\":\"s\",\"version\":1,\"languages\":[\"vi\"],"
                      "\"title\":{\"vi\":\"T\"},\"questions\":[{\"id\":\"q\",\"kind\":\"x\"}]}";
    assert_int_equal(cfleet_survey_check("f.json", bad, strlen(bad), id, &v, err, sizeof err),
                     TP_ERR_INVALID);
    assert_non_null(strstr(err, "f.json: $."));
}

static void batch_config_fields(void **state)
{
    char err[TP_ERRMSG_MAX];
    cbatch *b = NULL;
    (void)state;
    static const char pre[] =
        "{\"protocol\":1,\"batch_id\":\"0b0b0b0b-0000-4000-8000-00000000000a\",\"device\":{"
        "\"id\":\"k1\",\"epoch\":\"0b0b0b0b-0000-4000-8000-00000000000b\",\"epoch_first_seq\":1,"
        "\"app_version\":\"1\",\"pending\":0,\"highest_seq\":0,\"disk_free\":1,"
        "\"clock_trusted\":true,\"sent_wall_ms\":1,\"sent_mono_ms\":1,"
        "\"boot_id\":\"0b0b0b0b-0000-4000-8000-00000000000c\"";
    static const char post[] = "},\"answers\":[]}";
    char json[1024];
    snprintf(json, sizeof json, "%s%s%s", pre,
             ",\"config_revision\":\"abc\",\"config_error\":\"$.x: y\"", post);
    assert_int_equal(cbatch_parse(json, strlen(json), NOW, &b, err, sizeof err), TP_OK);
    assert_true(b->device.has_config_revision && b->device.has_config_error);
    assert_string_equal(b->device.config_revision, "abc");
    assert_string_equal(b->device.config_error, "$.x: y");
    cbatch_free(b);
    snprintf(json, sizeof json, "%s%s%s", pre, ",\"config_error\":null", post);
    assert_int_equal(cbatch_parse(json, strlen(json), NOW, &b, err, sizeof err), TP_OK);
    assert_false(b->device.has_config_revision || b->device.has_config_error);
    cbatch_free(b);
    snprintf(json, sizeof json, "%s%s%s", pre, ",\"config_revision\":7", post);
    assert_int_equal(cbatch_parse(json, strlen(json), NOW, &b, err, sizeof err), TP_ERR_INVALID);
}

/* ---- The store ------------------------------------------------------------------------------- */

static void tx_generic(void **state)
{
    char err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    (void)state;
    cstore *s = open_store();
    assert_int_equal(cstore_tx_begin(s, true, &tx, err, sizeof err), TP_OK);
    const char *p[] = {"a", NULL, "5"};
    assert_int_equal(cstore_tx_exec(tx,
                                    "INSERT INTO nodes(path, parent, settings_json, created_ms,"
                                    " updated_ms) VALUES($1, $2, '{}', $3, $3) RETURNING path",
                                    p, 3, &rows, err, sizeof err),
                     TP_OK);
    assert_int_equal(rows->n, 1);
    assert_string_equal(cstore_rows_get(rows, 0, 0), "a");
    cstore_rows_free(rows);
    assert_int_equal(cstore_tx_exec(tx,
                                    "INSERT INTO nodes(path, parent, settings_json, created_ms,"
                                    " updated_ms) VALUES($1, $2, '{}', $3, $3)",
                                    p, 3, NULL, err, sizeof err),
                     TP_ERR_EXISTS);
    cstore_tx_rollback(tx);
    /* Rolled back: nothing stored. */
    assert_int_equal(cstore_tx_begin(s, false, &tx, err, sizeof err), TP_OK);
    assert_int_equal(
        cstore_tx_exec(tx, "SELECT path, parent FROM nodes", NULL, 0, &rows, err, sizeof err),
        TP_OK);
    assert_int_equal(rows->n, 0);
    cstore_rows_free(rows);
    assert_int_equal(cstore_tx_commit(tx, err, sizeof err), TP_OK);
    close_store(s);
}

static void fleet_operations(void **state)
{
    char err[TP_ERRMSG_MAX], dev[TP_ID_MAX + 1], rev[CFLEET_REVISION_LEN + 1], rev2[33];
    char *body = NULL;
    tp_err rc;
    (void)state;
    cstore *s = open_store();
    cJSON_Delete(ok_call(s, "node.set",
                         "{\"path\":\"vn\",\"settings\":{\"languages\":[\"vi\"],"
                         "\"opening_hours\":\"always\"}}"));
    cJSON_Delete(ok_call(s, "node.set",
                         "{\"path\":\"vn/hcm/q1/till\",\"settings\":{\"stage\":\"during\"}}"));
    cJSON *r = ok_call(s, "device.add", "{\"id\":\"k1\",\"node\":\"vn/hcm/q1/till\"}");
    char token[64];
    tp_strlcpy(token, cJSON_GetObjectItem(r, "token")->valuestring, sizeof token);
    cJSON_Delete(r);
    assert_int_equal(cfleet_auth_device(s, NULL, token, 0, dev), TP_OK);
    assert_string_equal(dev, "k1");
    assert_int_equal(cfleet_auth_device(s, NULL, "nope", 0, dev), TP_ERR_AUTH);

    /* No survey yet: no configuration. */
    assert_int_equal(cfleet_config(s, "k1", &body, rev, err, sizeof err), TP_ERR_NOT_FOUND);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "document", survey_v(1));
    assert_int_equal(cfleet_call(s, "unit", "survey.publish", a, NOW, &r, err, sizeof err), TP_OK);
    cJSON_Delete(r);
    cJSON_Delete(a);
    cJSON_Delete(
        ok_call(s, "survey.assign", "{\"survey\":\"s\",\"version\":1,\"node\":\"vn/hcm\"}"));
    assert_int_equal(cfleet_config(s, "k1", &body, rev, err, sizeof err), TP_OK);
    cJSON *cfg = cJSON_Parse(body);
    free(body);
    cJSON *d = cJSON_GetObjectItem(cfg, "device");
    assert_string_equal(cJSON_GetObjectItem(d, "store")->valuestring, "q1");
    assert_string_equal(cJSON_GetObjectItem(d, "touchpoint")->valuestring, "till");
    assert_string_equal(cJSON_GetObjectItem(d, "stage")->valuestring, "during");
    assert_string_equal(cJSON_GetObjectItem(cfg, "revision")->valuestring, rev);
    cJSON *st = cJSON_GetObjectItem(cfg, "settings");
    assert_string_equal(cJSON_GetObjectItem(st, "opening_hours")->valuestring, "always");
    cJSON_Delete(cfg);
    /* The same state: the same revision (deterministic); a change: another. */
    assert_int_equal(cfleet_config(s, "k1", &body, rev2, err, sizeof err), TP_OK);
    free(body);
    assert_string_equal(rev, rev2);
    cJSON_Delete(ok_call(s, "node.set",
                         "{\"path\":\"vn/hcm\",\"settings\":{\"opening_hours\":"
                         "{\"mon\":\"closed\",\"tue\":\"closed\",\"wed\":\"closed\","
                         "\"thu\":\"closed\",\"fri\":\"closed\",\"sat\":\"closed\","
                         "\"sun\":\"08:00-12:00\"}}}"));
    assert_int_equal(cfleet_config(s, "k1", &body, rev2, err, sizeof err), TP_OK);
    free(body);
    assert_string_not_equal(rev, rev2);

    /* Immutable versions, refused operations write nothing. */
    a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "document", survey_v(1));
    cJSON *q = cJSON_GetObjectItem(a, "document");
    char *changed = strdup(q->valuestring);
    changed[strlen(changed) - 5] = 'X';
    cJSON_SetValuestring(q, changed);
    free(changed);
    assert_int_equal(cfleet_call(s, "unit", "survey.publish", a, NOW, &r, err, sizeof err),
                     TP_ERR_INVALID);
    cJSON_Delete(a);
    assert_null(call(s, "device.add", "{\"id\":\"k1\",\"node\":\"vn\"}", &rc, err, sizeof err));
    assert_int_equal(rc, TP_ERR_EXISTS);
    assert_null(call(s, "device.move", "{\"id\":\"k9\",\"node\":\"vn\"}", &rc, err, sizeof err));
    assert_int_equal(rc, TP_ERR_NOT_FOUND);

    /* Batch fields: running revision and apply error stored; the desired revision returned. */
    cbatch_device bd = {.has_config_revision = true, .has_config_error = true};
    tp_strlcpy(bd.id, "k1", sizeof bd.id);
    tp_strlcpy(bd.config_revision, "r0", sizeof bd.config_revision);
    tp_strlcpy(bd.config_error, "boom", sizeof bd.config_error);
    assert_int_equal(cfleet_device_seen(s, &bd, NOW, rev, err, sizeof err), TP_OK);
    assert_string_equal(rev, rev2);
    cJSON *states = NULL;
    assert_int_equal(cfleet_device_states(s, &states, err, sizeof err), TP_OK);
    cJSON *k1 = cJSON_GetObjectItem(states, "k1");
    assert_string_equal(cJSON_GetObjectItem(k1, "running_revision")->valuestring, "r0");
    assert_string_equal(cJSON_GetObjectItem(k1, "apply_error")->valuestring, "boom");
    assert_string_equal(cJSON_GetObjectItem(k1, "desired_revision")->valuestring, rev2);
    cJSON_Delete(states);
    tp_strlcpy(bd.id, "stranger", sizeof bd.id);
    assert_int_equal(cfleet_device_seen(s, &bd, NOW, rev, err, sizeof err), TP_ERR_NOT_FOUND);

    /* Revoke: refused at once; admin tokens are their own. */
    cJSON_Delete(ok_call(s, "device.revoke", "{\"id\":\"k1\"}"));
    assert_int_equal(cfleet_auth_device(s, NULL, token, 0, dev), TP_ERR_AUTH);
    r = ok_call(s, "admin.add", "{\"name\":\"ops\"}");
    char name[65];
    assert_int_equal(cfleet_auth_admin(s, cJSON_GetObjectItem(r, "token")->valuestring, name),
                     TP_OK);
    assert_string_equal(name, "ops");
    cJSON_Delete(r);
    assert_int_equal(cfleet_auth_admin(s, token, name), TP_ERR_AUTH);

    /* Every change audited, with actor, before and after. */
    cJSON *audit = ok_call(s, "audit.list", "{}");
    int n = cJSON_GetArraySize(audit);
    assert_true(n >= 7);
    bool saw_set = false;
    for (cJSON *it = audit->child; it; it = it->next) {
        assert_string_equal(cJSON_GetObjectItem(it, "actor")->valuestring, "unit");
        if (strcmp(cJSON_GetObjectItem(it, "target")->valuestring, "vn/hcm") == 0 &&
            cJSON_IsObject(cJSON_GetObjectItem(it, "before")) &&
            cJSON_GetObjectItem(cJSON_GetObjectItem(it, "after"), "opening_hours"))
            saw_set = true;
    }
    assert_true(saw_set);
    cJSON_Delete(audit);
    close_store(s);
}

static void devices_file_defers_to_store(void **state)
{
    char err[TP_ERRMSG_MAX], path[128], token[64], dev[TP_ID_MAX + 1];
    cauth *file = NULL;
    (void)state;
    cstore *s = open_store();
    snprintf(path, sizeof path, "%s/devices", dir);
    assert_int_equal(cauth_add_device(path, "old", token, err, sizeof err), TP_OK);
    assert_int_equal(cauth_open(path, &file, err, sizeof err), TP_OK);
    assert_int_equal(cfleet_auth_device(s, file, token, 0, dev), TP_OK);
    assert_string_equal(dev, "old");
    char id[TP_ID_MAX + 1], hx[65];
    assert_true(cauth_entry(file, 0, id, hx));
    char args[256];
    snprintf(args, sizeof args, "{\"devices\":[{\"id\":\"old\",\"token_sha256\":\"%s\"}]}", hx);
    cJSON *r = ok_call(s, "device.import", args);
    assert_int_equal(cJSON_GetObjectItem(r, "added")->valueint, 1);
    cJSON_Delete(r);
    cJSON_Delete(ok_call(s, "device.revoke", "{\"id\":\"old\"}"));
    /* Still in the file, but the store knows it now and says no. */
    assert_int_equal(cfleet_auth_device(s, file, token, 0, dev), TP_ERR_AUTH);
    cauth_free(file);
    unlink(path);
    close_store(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_check),           cmocka_unit_test(settings_merge_per_key),
        cmocka_unit_test(settings_check_paths), cmocka_unit_test(survey_check_paths),
        cmocka_unit_test(batch_config_fields),  cmocka_unit_test(tx_generic),
        cmocka_unit_test(fleet_operations),     cmocka_unit_test(devices_file_defers_to_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
