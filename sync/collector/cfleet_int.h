/*
 * cfleet_int.h - helpers shared by the fleet's files (cfleet.c, cfleet_ops.c, cenroll.c).
 */
#ifndef TP_CFLEET_INT_H
#define TP_CFLEET_INT_H

#include "cfleet.h"

/* Runs sql with the text parameters that follow (a NULL one is SQL NULL). */
#define FX(tx, rows, err, errlen, sql, ...)                                                        \
    cstore_tx_exec((tx), (sql), (const char *const[]){__VA_ARGS__},                                \
                   (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)),       \
                   (rows), (err), (errlen))

/* Runs sql without parameters. */
#define FX0(tx, rows, err, errlen, sql)                                                            \
    cstore_tx_exec((tx), (sql), NULL, 0, (rows), (err), (errlen))

/* Decimal text of v in buf (24 bytes); returns buf. */
const char *cfleet_i64(char buf[24], int64_t v);

/* {k1: v1, k2: v2} (a NULL key is left out) for audit rows; NULL when out of memory. */
cJSON *cfleet_pair(const char *k1, const char *v1, const char *k2, const char *v2);

/* Writes one audit row (before/after: JSON or NULL). Returns TP_OK or the store's error. */
tp_err cfleet_audit(cstore_tx *tx, const char *actor, const char *action, const char *target,
                    const cJSON *before, const cJSON *after, int64_t now_ms, char *err,
                    size_t errlen);

/* Whether node path exists. Returns TP_OK, TP_ERR_NOT_FOUND (err names it) or a store error. */
tp_err cfleet_node_exists(cstore_tx *tx, const char *path, char *err, size_t errlen);

/* Creates path and its missing ancestors with empty settings. */
tp_err cfleet_node_create(cstore_tx *tx, const char *path, int64_t now_ms, char *err,
                          size_t errlen);

/* A device's resolved configuration inside tx; see cfleet_config. in_fleet tells whether the
 * device is in fleet_devices at all. */
tp_err cfleet_config_tx(cstore_tx *tx, const char *device, bool *in_fleet, char **body,
                        char rev[CFLEET_REVISION_LEN + 1], char *err, size_t errlen);

/* device.approve and enroll.list of cfleet_call (cenroll.c). */
tp_err cenroll_approve(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                       cJSON **result, char *err, size_t errlen);
tp_err cenroll_list(cstore_tx *tx, int64_t now_ms, cJSON **result, char *err, size_t errlen);

/* Codes issued per address in CENROLL_WINDOW_MS before POST /v1/enroll answers 429. */
#define CENROLL_PER_ADDR 10
#define CENROLL_WINDOW_MS (10 * 60 * 1000)
#define CENROLL_TTL_MS (24LL * 3600 * 1000)

#endif /* TP_CFLEET_INT_H */
