/*
 * cfleet.h - the fleet in the central store (issue 12; sync/PROTOCOL.md section 12): the
 * organisation tree with inherited settings, devices and their tokens, admin tokens, surveys and
 * their assignments, the audit log, and each device's resolved configuration.
 *
 * Everything is read from the store on every call (no cache in the process): several
 * collectors on one PostgreSQL see a device added, moved or revoked through any of them with
 * their next request.
 *
 * Settings inheritance: a node's effective settings are its ancestors' own settings merged from
 * the root down, per top-level key; a key a node sets replaces the parent's value for that key as
 * a whole (opening_hours set on a store replaces the region's whole week).
 *
 * Thread-safety: every function may be called from any thread (each takes a store transaction).
 */
#ifndef TP_CFLEET_H
#define TP_CFLEET_H

#include <cjson/cJSON.h>

#include "cauth.h"
#include "cstore.h"

#define CFLEET_PATH_MAX 255 /* bytes of a node path */
#define CFLEET_DEPTH_MAX 8  /* segments of a node path */
#define CFLEET_REVISION_LEN 32
#define CFLEET_DOC_MAX (1u << 20)     /* bytes of a survey or settings document */
#define CFLEET_AUDIT_LISTED_S "10000" /* audit rows an audit list shows: the latest */

/* Checks a node path "a/b/c" (1..CFLEET_DEPTH_MAX segments of [A-Za-z0-9._-], each <= 64).
 * Returns TP_OK or TP_ERR_INVALID with the reason in err. */
tp_err cfleet_path_check(const char *path, char *err, size_t errlen);

/* Checks a settings object with the kiosk's parser (sync/settings.h: keys the center may set,
 * types and ranges); errors name the JSON path under prefix ("$.settings"). Returns TP_OK or
 * TP_ERR_INVALID with err. A key whose value is null is allowed (node set: remove the key). */
tp_err cfleet_settings_check(const cJSON *obj, const char *prefix, char *err, size_t errlen);

/* Merges child's keys into parent (in place): each key replaces the parent's as a whole; a null
 * value removes the key. Returns TP_OK or TP_ERR_NOMEM. */
tp_err cfleet_settings_merge(cJSON *parent, const cJSON *child);

/* Checks a survey document with the kiosk's parser (sync/survey.h) and reads its id and version;
 * name (a file name) starts error messages. Returns TP_OK or TP_ERR_INVALID ("NAME: $.json.path:
 * cause" in err). */
tp_err cfleet_survey_check(const char *name, const char *doc, size_t len, char id[TP_ID_MAX + 1],
                           int *version, char *err, size_t errlen);

/* Device auth through the store, then the devices file (may be NULL): a device the store knows
 * is decided by the store only (a revoked token stops at once, even when the file lists it).
 * Returns TP_OK with the id in device, TP_ERR_AUTH, or TP_ERR_BUSY (store unavailable). */
tp_err cfleet_auth_device(cstore *s, cauth *file, const char *token, int64_t now_ms,
                          char device[TP_ID_MAX + 1]);

/* Admin tokens: returns TP_OK with the token's name in name (64 bytes), TP_ERR_AUTH or
 * TP_ERR_BUSY. */
tp_err cfleet_auth_admin(cstore *s, const char *token, char name[65]);

/* The device's configuration (GET /v1/config): *body (free()) is the JSON body with its
 * revision, rev its first CFLEET_REVISION_LEN hex digits. Returns TP_OK; TP_ERR_NOT_FOUND when
 * the device is not in the fleet or has no survey resolved (err says which); TP_ERR_BUSY. */
tp_err cfleet_config(cstore *s, const char *device, char **body, char rev[CFLEET_REVISION_LEN + 1],
                     char *err, size_t errlen);

/* After an accepted batch: stores the device's running revision and apply error (from the batch's
 * device fields), closes its enrollment, and writes its desired revision into rev ("" when the
 * device is in the fleet but has no configuration resolved). Returns TP_OK, TP_ERR_NOT_FOUND
 * (the device is not in the fleet: no revision to send) or TP_ERR_BUSY. */
tp_err cfleet_device_seen(cstore *s, const cbatch_device *d, int64_t now_ms,
                          char rev[CFLEET_REVISION_LEN + 1], char *err, size_t errlen);

/* The fleet's columns of every device for GET /v1/devices: {id: {node, desired_revision,
 * running_revision, apply_error, apply_error_ms, revoked}}. Returns TP_OK and *out (cJSON_Delete)
 * or an error. */
tp_err cfleet_device_states(cstore *s, cJSON **out, char *err, size_t errlen);

/* One administrative operation, as the CLI and the admin API both run it (one code path). op is
 * "node.set", "node.list", "device.add", "device.move", "device.revoke", "device.rotate",
 * "device.import", "device.list", "device.approve", "survey.publish", "survey.assign",
 * "survey.list", "admin.add", "audit.list" (the latest 10,000 rows), "enroll.list", and read
 * access's "read-token.add|list|revoke", "read-audit.list", "admin.list|revoke" (cread.h); args its
 * JSON arguments (see PROTOCOL.md section 12). Every change writes an audit row naming actor, in
 * the same transaction. Returns TP_OK and *result (cJSON_Delete); TP_ERR_INVALID (bad arguments,
 * with the JSON path), TP_ERR_NOT_FOUND, TP_ERR_EXISTS, TP_ERR_BUSY or another error, with err. */
tp_err cfleet_call(cstore *s, const char *actor, const char *op, const cJSON *args, int64_t now_ms,
                   cJSON **result, char *err, size_t errlen);

/* POST /v1/enroll (cenroll.c): the status and JSON reply (*reply, free()) for the request body
 * from address addr. Returns TP_OK, or the store's error (then *status is 503 with a reply). */
tp_err cfleet_enroll(cstore *s, const char *body, size_t len, const char *addr, int64_t now_ms,
                     int *status, char **reply);

/* The HTTP status of an error of cfleet_call (400, 404, 409, 503, 500). */
int cfleet_http_status(tp_err rc);

#endif /* TP_CFLEET_H */
