/*
 * ckey.h - devices' comment keys (issue 15, sync/PROTOCOL.md "Comment link"): the per-device
 * secret the kiosk signs its comment links with (sync/clink.h) and the comment page checks them
 * with. 32 random bytes, base64url (43 characters), in fleet_devices.comment_key; never derived
 * from the device token, so a leaked key signs links but never uploads answers.
 *
 * A key is issued with every new device token (device add, rotate-token, the enrollment reply
 * that hands out the token). Rows from before (the placeholder 'imported', an enrollment's
 * pairing code, NULL) get one at the device's first GET /v1/config (ckey_ensure). The key and
 * "<public-url>/c" travel in that reply as "comment": {"key", "url"} (ckey_config_add), only to
 * the device authenticated by its own token, and only when the collector has --public-url.
 *
 * Thread-safety: as the store's transactions.
 */
#ifndef TP_CKEY_H
#define TP_CKEY_H

#include <cjson/cJSON.h>

#include "clink.h"
#include "cstore.h"

/* Gives device a new comment key inside tx. Returns TP_OK, TP_ERR_IO (getrandom) or the store's
 * error. A device not in fleet_devices is left alone (TP_OK). */
tp_err ckey_issue(cstore_tx *tx, const char *device, char *err, size_t errlen);

/* The device's key into key (for the comment page's check with clink_check). Returns TP_OK,
 * TP_ERR_NOT_FOUND (no such device, or its row holds no key yet) or the store's error. */
tp_err ckey_get(cstore_tx *tx, const char *device, char key[CLINK_KEY_LEN + 1], char *err,
                size_t errlen);

/* Issues a key for device in a write transaction of its own when its row holds none (a
 * placeholder); costs one read otherwise. Returns TP_OK or the store's error. */
tp_err ckey_ensure(cstore *s, const char *device, char *err, size_t errlen);

/* Adds "comment": {"key", "url": "<public-url>/c"} to root (a configuration body) when the store
 * has a public URL (cstore_set_public_url). A device whose key is still a placeholder gets
 * {"url"} alone: its revision then differs from the one it runs, so it fetches, and its fetch
 * (ckey_ensure first) brings the real key. Returns TP_OK, TP_ERR_NOMEM or the store's error. */
tp_err ckey_config_add(cstore_tx *tx, const char *device, cJSON *root, char *err, size_t errlen);

#endif /* TP_CKEY_H */
