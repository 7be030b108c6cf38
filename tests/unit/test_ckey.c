/* test_ckey.c - unit tests of the devices' comment keys (ckey.c, issue 15) on a SQLite store in a
 * temporary folder: device add and rotate-token issue a key (never the token), a placeholder row
 * has none until ckey_ensure makes one (once), the configuration's "comment" object with and
 * without --public-url, and a link built by the kiosk's code checks out with the stored key (the
 * comment page's path: clink_parse, ckey_get, clink_check). */
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
#include "ckey.h"
#include "clink.h"
#include "collector_fixture.h"
#include "cstore.h"

#define NOW 1796000000000LL

static char dir[64];

static cstore *open_store(void)
{
    return fixture_store_open(dir, sizeof dir, "ckey", 2);
}

static void close_store(cstore *s)
{
    fixture_store_close(s, dir);
}

static cJSON *ok_call(cstore *s, const char *op, const char *args)
{
    char err[TP_ERRMSG_MAX];
    cJSON *a = cJSON_Parse(args), *out = NULL;
    assert_non_null(a);
    tp_err rc = cfleet_call(s, "unit", op, a, NOW, &out, err, sizeof err);
    cJSON_Delete(a);
    if (rc != TP_OK)
        fail_msg("%s: %s", op, err);
    return out;
}

/* The stored key of device into key; returns ckey_get's result. */
static tp_err get(cstore *s, const char *device, char key[CLINK_KEY_LEN + 1])
{
    char err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    assert_int_equal(cstore_tx_begin(s, false, &tx, err, sizeof err), TP_OK);
    tp_err rc = ckey_get(tx, device, key, err, sizeof err);
    cstore_tx_rollback(tx);
    return rc;
}

/* The "comment" object ckey_config_add gives device (a new cJSON the caller deletes, or NULL). */
static cJSON *config_comment(cstore *s, const char *device)
{
    char err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    cJSON *root = cJSON_CreateObject();
    assert_int_equal(cstore_tx_begin(s, false, &tx, err, sizeof err), TP_OK);
    assert_int_equal(ckey_config_add(tx, device, root, err, sizeof err), TP_OK);
    cstore_tx_rollback(tx);
    cJSON *c = cJSON_DetachItemFromObject(root, "comment");
    cJSON_Delete(root);
    return c;
}

static void set_placeholder(cstore *s, const char *device, const char *value)
{
    char err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    const char *p[] = {device, value};
    assert_int_equal(cstore_tx_begin(s, true, &tx, err, sizeof err), TP_OK);
    assert_int_equal(cstore_tx_exec(tx, "UPDATE fleet_devices SET comment_key = $2 WHERE id = $1",
                                    p, 2, NULL, err, sizeof err),
                     TP_OK);
    assert_int_equal(cstore_tx_commit(tx, err, sizeof err), TP_OK);
}

static void keys_issued_ensured_delivered(void **state)
{
    (void)state;
    char k1[CLINK_KEY_LEN + 1], k2[CLINK_KEY_LEN + 1], again[CLINK_KEY_LEN + 1], token[64];
    char err[TP_ERRMSG_MAX];
    cstore *s = open_store();
    cJSON_Delete(ok_call(s, "node.set", "{\"path\":\"vn/hcm/q1/till\"}"));
    cJSON *r = ok_call(s, "device.add", "{\"id\":\"k1\",\"node\":\"vn/hcm/q1/till\"}");
    tp_strlcpy(token, cJSON_GetObjectItem(r, "token")->valuestring, sizeof token);
    cJSON_Delete(r);
    cJSON_Delete(ok_call(s, "device.add", "{\"id\":\"k2\",\"node\":\"vn/hcm/q1/till\"}"));
    assert_int_equal(get(s, "k1", k1), TP_OK);
    assert_int_equal(get(s, "k2", k2), TP_OK);
    assert_true(clink_key_valid(k1) && clink_key_valid(k2));
    assert_string_not_equal(k1, k2);
    assert_string_not_equal(k1, token);
    assert_null(strstr(token, k1));
    assert_int_equal(get(s, "nobody", again), TP_ERR_NOT_FOUND);

    /* No --public-url: no "comment" in the configuration. */
    assert_null(config_comment(s, "k1"));
    assert_int_equal(cstore_set_public_url(s, "https://gopy.example.vn"), TP_OK);
    cJSON *c = config_comment(s, "k1");
    assert_string_equal(cJSON_GetObjectItem(c, "key")->valuestring, k1);
    assert_string_equal(cJSON_GetObjectItem(c, "url")->valuestring, "https://gopy.example.vn/c");
    cJSON_Delete(c);

    /* rotate-token: a new key. */
    cJSON_Delete(ok_call(s, "device.rotate", "{\"id\":\"k1\"}"));
    assert_int_equal(get(s, "k1", again), TP_OK);
    assert_true(clink_key_valid(again));
    assert_string_not_equal(again, k1);

    /* A placeholder: no key, the url alone; ckey_ensure makes one, once. */
    set_placeholder(s, "k2", "imported");
    assert_int_equal(get(s, "k2", k2), TP_ERR_NOT_FOUND);
    c = config_comment(s, "k2");
    assert_null(cJSON_GetObjectItem(c, "key"));
    assert_string_equal(cJSON_GetObjectItem(c, "url")->valuestring, "https://gopy.example.vn/c");
    cJSON_Delete(c);
    assert_int_equal(ckey_ensure(s, "k2", err, sizeof err), TP_OK);
    assert_int_equal(get(s, "k2", k2), TP_OK);
    assert_int_equal(ckey_ensure(s, "k2", err, sizeof err), TP_OK);
    assert_int_equal(get(s, "k2", again), TP_OK);
    assert_string_equal(again, k2);
    assert_int_equal(ckey_ensure(s, "nobody", err, sizeof err), TP_OK);

    /* The page's path: parse the link, look up the device's key, check. */
    char url[CLINK_URL_MAX];
    assert_int_equal(clink_build("https://gopy.example.vn/c", k2, "k2",
                                 "0190f3a0-1234-7abc-8def-0123456789ab", NOW / 1000 + 1800, "vi",
                                 url, sizeof url),
                     TP_OK);
    clink l;
    assert_int_equal(clink_parse(url, &l, err, sizeof err), TP_OK);
    assert_int_equal(get(s, l.device, again), TP_OK);
    assert_int_equal(clink_check(&l, again, NOW / 1000), CLINK_VALID);
    assert_int_equal(get(s, "k1", again), TP_OK);
    assert_int_equal(clink_check(&l, again, NOW / 1000), CLINK_FORGED);
    close_store(s);
    print_message("checked: device add / rotate-token issue per-device keys (not the token); a "
                  "placeholder gets one from ckey_ensure, once; \"comment\" only with a public "
                  "URL; a link checks out with its device's stored key and not another's\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_issued_ensured_delivered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
