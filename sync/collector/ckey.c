/*
 * ckey.c - devices' comment keys (ckey.h). The key goes into the configuration body before its
 * revision is hashed: a rotated key or a new --public-url is a new revision, which the batch
 * replies announce and the sync process fetches like any other configuration change.
 */
#include "ckey.h"

#include <stdio.h>
#include <string.h>

#include "cfleet_int.h"
#include "clink.h"

tp_err ckey_issue(cstore_tx *tx, const char *device, char *err, size_t errlen)
{
    char key[CLINK_KEY_LEN + 1];
    if (clink_key_new(key) != TP_OK)
        return tp_errf(err, errlen, TP_ERR_IO, "getrandom failed");
    tp_err rc = FX(tx, NULL, err, errlen, "UPDATE fleet_devices SET comment_key = $2 WHERE id = $1",
                   device, key);
    memset(key, 0, sizeof key);
    return rc;
}

/* The device's key (borrowed from rows) or NULL when its row holds none or a placeholder. */
static tp_err key_of(cstore_tx *tx, const char *device, cstore_rows **rows, const char **key,
                     char *err, size_t errlen)
{
    *key = NULL;
    tp_err rc =
        FX(tx, rows, err, errlen, "SELECT comment_key FROM fleet_devices WHERE id = $1", device);
    if (rc == TP_OK && (*rows)->n == 1 && clink_key_valid(cstore_rows_get(*rows, 0, 0)))
        *key = cstore_rows_get(*rows, 0, 0);
    return rc;
}

tp_err ckey_get(cstore_tx *tx, const char *device, char key[CLINK_KEY_LEN + 1], char *err,
                size_t errlen)
{
    cstore_rows *rows = NULL;
    const char *k = NULL;
    key[0] = '\0';
    tp_err rc = key_of(tx, device, &rows, &k, err, errlen);
    if (rc == TP_OK && !k)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "device %s has no comment key", device);
    if (rc == TP_OK)
        tp_strlcpy(key, k, CLINK_KEY_LEN + 1);
    cstore_rows_free(rows);
    return rc;
}

tp_err ckey_ensure(cstore *s, const char *device, char *err, size_t errlen)
{
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL;
    const char *key = NULL;
    tp_err rc = cstore_tx_begin(s, false, &tx, err, errlen);
    if (rc == TP_OK)
        rc = key_of(tx, device, &rows, &key, err, errlen);
    bool need = rc == TP_OK && rows->n == 1 && !key;
    cstore_rows_free(rows);
    rows = NULL;
    cstore_tx_rollback(tx);
    tx = NULL;
    if (!need)
        return rc;
    /* Checked again under the write lock: two first fetches at once issue one key. */
    rc = cstore_tx_begin(s, true, &tx, err, errlen);
    if (rc == TP_OK)
        rc = key_of(tx, device, &rows, &key, err, errlen);
    if (rc == TP_OK && rows->n == 1 && !key)
        rc = ckey_issue(tx, device, err, errlen);
    cstore_rows_free(rows);
    if (rc == TP_OK)
        return cstore_tx_commit(tx, err, errlen);
    cstore_tx_rollback(tx);
    return rc;
}

tp_err ckey_config_add(cstore_tx *tx, const char *device, cJSON *root, char *err, size_t errlen)
{
    const char *base = cstore_tx_public_url(tx), *key = NULL;
    cstore_rows *rows = NULL;
    char url[CLINK_BASE_MAX + 1];
    if (!base || !*base)
        return TP_OK;
    int n = snprintf(url, sizeof url, "%s/c", base);
    if (n < 0 || (size_t)n >= sizeof url)
        return tp_errf(err, errlen, TP_ERR_TOO_LARGE, "--public-url: over %d bytes",
                       CLINK_BASE_MAX - 2);
    tp_err rc = key_of(tx, device, &rows, &key, err, errlen);
    if (rc == TP_OK) {
        cJSON *c = cJSON_AddObjectToObject(root, "comment");
        if (!c || (key && !cJSON_AddStringToObject(c, "key", key)) ||
            !cJSON_AddStringToObject(c, "url", url))
            rc = TP_ERR_NOMEM;
    }
    cstore_rows_free(rows);
    return rc;
}
