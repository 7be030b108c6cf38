/*
 * cstore.h - the collector's central answer store behind one ops table, with two backends:
 * SQLite (cstore_sqlite.c, "sqlite:PATH") and PostgreSQL (cstore_pg.c, "postgresql://..." or
 * "postgres://..."). Both keep the same tables:
 *
 *   answers     one row per answer id (primary key), unique (device, epoch, seq)
 *   devices     the last status each device reported
 *   epochs      per device and epoch: first seq, highest seq reported
 *   seq_ranges  per device and epoch: the seqs heard of, as merged [lo, hi] ranges
 *
 * and the same semantics: ingesting a batch is one transaction; an id already stored is a
 * duplicate (whatever its other fields); a new id whose (device, epoch, seq) is already stored is
 * a seq conflict; every seq heard of (accepted, duplicate or rejected with a readable seq) is
 * merged into seq_ranges, so that gaps are seqs never heard of.
 *
 * Thread-safety: a cstore is shared by all the HTTP worker threads; each call takes one of
 * `pool` connections (blocking while all are busy).
 */
#ifndef TP_CSTORE_H
#define TP_CSTORE_H

#include "cbatch.h"
#include "creport.h"

typedef struct cstore cstore;

/* Opens the store named by url with up to pool (>= 1) connections (and one more kept for
 * cstore_ping), creating or migrating the schema. Returns TP_OK and *out (free with cstore_close);
 * TP_ERR_INVALID for an unknown url scheme; TP_ERR_BUSY when the database server is unreachable;
 * TP_ERR_TOO_NEW for a schema made by a newer collector; other errors with a message in err naming
 * the store and the cause. */
tp_err cstore_open(const char *url, unsigned pool, cstore **out, char *err, size_t errlen);

/* Closes every connection and frees s. NULL is a no-op. */
void cstore_close(cstore *s);

/* Returns "sqlite" or "postgresql". */
const char *cstore_kind(const cstore *s);

/* The collector's --public-url (NULL: none), kept with the store so that documents built inside a
 * transaction (a device's configuration: its comment link base, ckey.h) see it. Copies url;
 * returns TP_OK or TP_ERR_NOMEM. cstore_tx_public_url returns the copy (borrowed) or NULL. */
tp_err cstore_set_public_url(cstore *s, const char *url);
typedef struct cstore_tx cstore_tx;
const char *cstore_tx_public_url(const cstore_tx *tx);

/* The most seq ranges one device epoch may hold. A device's seqs arrive in order, so its epoch
 * holds one range plus a few transient holes; tens of thousands of ranges are a broken or hostile
 * device, whose every batch would otherwise cost the shared store more. */
#define CSTORE_RANGES_MAX 50000

/* Stores batch b (validated by cbatch_parse) received at received_at_ms in one transaction and
 * writes one cbatch_outcome per b->answers[i] into outcomes (n_answers bytes). Also updates the
 * device's status, its epoch and the seqs heard of. Returns TP_OK; TP_ERR_TOO_LARGE when the batch
 * would leave the device's epoch with more than CSTORE_RANGES_MAX seq ranges (nothing of the
 * batch is stored; HTTP 409 too_many_gaps); TP_ERR_BUSY when the store is unavailable (nothing of
 * the batch is stored; HTTP 503); or another error. */
tp_err cstore_ingest(cstore *s, const cbatch *b, int64_t received_at_ms, unsigned char *outcomes,
                     char *err, size_t errlen);

/* Checks the store answers a trivial query, on a connection kept for it (a health check does not
 * wait for the workers' connections). Returns TP_OK or TP_ERR_BUSY (with err). */
tp_err cstore_ping(cstore *s, char *err, size_t errlen);

/* A report query: answers with from_ms <= at_ms < to_ms, of survey (NULL: all) and of its
 * version survey_version (0: all). */
typedef struct cstore_query {
    int64_t from_ms, to_ms;
    const char *survey;
    int survey_version;
    creport_by by;
} cstore_query;

/* Streams the aggregated answers of q into r (for by=day, groups are local days in the process's
 * TZ). Returns TP_OK, TP_ERR_BUSY (store unavailable) or another error. */
tp_err cstore_report(cstore *s, const cstore_query *q, creport *r, char *err, size_t errlen);

/* ---- Devices --------------------------------------------------------------------------------- */

typedef struct cstore_range {
    int64_t lo, hi;
} cstore_range;

typedef struct cstore_epoch {
    char epoch[TP_UUID_STR];
    int64_t first_seq, highest_seq, first_seen_ms, last_seen_ms;
    cstore_range *ranges; /* seqs heard of, sorted, disjoint, not adjacent */
    size_t n_ranges, cap_ranges;
} cstore_epoch;

typedef struct cstore_device {
    char id[TP_ID_MAX + 1];
    int64_t first_seen_ms, last_seen_ms, pending, highest_seq, disk_free;
    int64_t sent_wall_ms, clock_skew_ms, batches, answers;
    bool clock_trusted;
    char app_version[CBATCH_VERSION_MAX + 1];
    char epoch[TP_UUID_STR]; /* the current epoch */
    char boot_id[TP_UUID_STR];
    cstore_epoch *epochs;
    size_t n_epochs, cap_epochs;
} cstore_device;

typedef struct cstore_devices {
    cstore_device *v;
    size_t n, cap;
} cstore_devices;

/* Reads every device with its epochs and seq ranges into *out (free with cstore_devices_free).
 * Returns TP_OK, TP_ERR_BUSY or another error. */
tp_err cstore_list_devices(cstore *s, cstore_devices **out, char *err, size_t errlen);
void cstore_devices_free(cstore_devices *d);

/* Backend helpers: append a device / an epoch to the last device / a range to the last epoch.
 * Return the new element or NULL (out of memory, or over the listing's bound); add_range returns
 * TP_OK, TP_ERR_NOMEM or TP_ERR_TOO_LARGE. */
cstore_device *cstore_devices_add(cstore_devices *d);
cstore_epoch *cstore_device_add_epoch(cstore_device *dev);
tp_err cstore_epoch_add_range(cstore_epoch *e, int64_t lo, int64_t hi);

/* Finds a device (the list is sorted by id) and, when epoch is not NULL, its epoch. Returns a
 * borrowed pointer or NULL. */
cstore_device *cstore_devices_find(cstore_devices *d, const char *id);
cstore_epoch *cstore_device_find_epoch(cstore_device *dev, const char *epoch);

/* ---- Generic transactions (the fleet tables, cfleet.c) -------------------------------------- */

/* The fleet's code (tree, devices, surveys, enrollment, audit) is written once over these calls
 * and runs on both backends: SQL in the dialect both share ($1.. parameters, ON CONFLICT,
 * RETURNING), every parameter and every result cell as text (NULL = SQL NULL). */
typedef struct cstore_rows {
    size_t n, cols;
    char **cell; /* n * cols, row-major; NULL for SQL NULL */
} cstore_rows;

typedef struct cstore_tx cstore_tx;

/* Most rows one statement may return (a listing beyond it is TP_ERR_TOO_LARGE). */
#define CSTORE_ROWS_MAX 200000

/* Begins a transaction on a pool connection (held until commit or rollback). write: the
 * transaction will write (SQLite takes its write lock at once). Returns TP_OK and *out, or
 * TP_ERR_BUSY / another error with err. Not for use from the thread of another open tx. */
tp_err cstore_tx_begin(cstore *s, bool write, cstore_tx **out, char *err, size_t errlen);

/* Runs one statement with n text parameters ($1..$n). When rows is not NULL, *rows receives the
 * result (free with cstore_rows_free; empty when the statement returns none). Returns TP_OK,
 * TP_ERR_EXISTS (a unique constraint), TP_ERR_BUSY or another error with err. */
tp_err cstore_tx_exec(cstore_tx *tx, const char *sql, const char *const *params, int n,
                      cstore_rows **rows, char *err, size_t errlen);

/* Commits and frees tx (also on failure). Returns TP_OK or an error with err. */
tp_err cstore_tx_commit(cstore_tx *tx, char *err, size_t errlen);

/* Rolls back and frees tx. NULL is a no-op. */
void cstore_tx_rollback(cstore_tx *tx);

/* Cell (row, col), borrowed; NULL for SQL NULL or out of range. */
const char *cstore_rows_get(const cstore_rows *r, size_t row, size_t col);
void cstore_rows_free(cstore_rows *r);

/* Backend helper: appends one row of cols cells (copied; NULL kept). Returns TP_OK,
 * TP_ERR_NOMEM or TP_ERR_TOO_LARGE. */
tp_err cstore_rows_add(cstore_rows *r, const char *const *cells, size_t cols);

/* ---- Pure helpers (unit-tested) -------------------------------------------------------------- */

/* Sorts and merges the seqs at seqs (n, modified in place) into disjoint, non-adjacent ranges
 * written to out (room for n). Returns the number of ranges. */
size_t cstore_seq_ranges(int64_t *seqs, size_t n, cstore_range *out);

/* Gaps: seqs in [first, last] not covered by ranges (sorted, disjoint). Writes up to max_out gap
 * ranges to out, sets *n_gaps to the number of gap ranges and *missing to the number of missing
 * seqs (both counted beyond max_out). */
void cstore_gaps(int64_t first, int64_t last, const cstore_range *ranges, size_t n_ranges,
                 cstore_range *out, size_t max_out, size_t *n_gaps, int64_t *missing);

/* The 15-minute bucket the backends group by=day reports on: every time zone's offset is a
 * multiple of 15 minutes, so a bucket never straddles local midnight. */
#define CSTORE_DAY_BUCKET_MS 900000

/* ---- Backend interface ----------------------------------------------------------------------- */

typedef struct cstore_ops {
    const char *name;
    tp_err (*open)(const char *url, unsigned pool, void **impl, char *err, size_t errlen);
    void (*close)(void *impl);
    tp_err (*ingest)(void *impl, const cbatch *b, int64_t received_at_ms, unsigned char *outcomes,
                     char *err, size_t errlen);
    tp_err (*ping)(void *impl, char *err, size_t errlen);
    tp_err (*report)(void *impl, const cstore_query *q, creport *r, char *err, size_t errlen);
    tp_err (*list_devices)(void *impl, cstore_devices *out, char *err, size_t errlen);
    /* Generic transactions: conn is the backend's connection slot. */
    tp_err (*tx_begin)(void *impl, bool write, void **conn, char *err, size_t errlen);
    tp_err (*tx_exec)(void *impl, void *conn, const char *sql, const char *const *params, int n,
                      cstore_rows *rows, char *err, size_t errlen);
    tp_err (*tx_end)(void *impl, void *conn, bool write, bool commit, char *err, size_t errlen);
} cstore_ops;

/* The fleet tables (schema version 2) in each dialect (cstore_fleet_sql.c). */
extern const char *const cstore_sqlite_schema_v2;
extern const char *const cstore_pg_schema_v2;
/* The alert, outbox, case and digest tables (schema version 3, cstore_alert_sql.c). */
extern const char *const cstore_sqlite_schema_v3;
extern const char *const cstore_pg_schema_v3;
/* Read tokens and the read audit (schema version 6) in each dialect (cstore_access_sql.c). */
extern const char *const cstore_sqlite_schema_v6;
extern const char *const cstore_pg_schema_v6;
/* The comment tables (schema version 5) in each dialect (cstore_comment_sql.c). */
extern const char *const cstore_sqlite_schema_v5;
extern const char *const cstore_pg_schema_v5;

extern const cstore_ops cstore_sqlite_ops;
extern const cstore_ops cstore_pg_ops;

/* Seqs a batch makes heard of (answers + rejections with a readable seq >= epoch_first_seq),
 * merged into ranges. Returns TP_OK and *out (free()), *n; or TP_ERR_NOMEM. */
tp_err cstore_batch_ranges(const cbatch *b, cstore_range **out, size_t *n);

/* The refusal of a batch that would leave held (> CSTORE_RANGES_MAX) ranges in d's epoch:
 * returns TP_ERR_TOO_LARGE with a message naming the device, the epoch and the budget. */
tp_err cstore_ranges_refused(const cbatch_device *d, int64_t held, char *err, size_t errlen);

/* Turns a (bucket or name) key of a report row into the group name: by=day maps the 15-minute
 * bucket number to its local day "YYYY-MM-DD". out has room for TP_ID_MAX + 1 bytes. */
void cstore_group_key(creport_by by, const char *raw, char *out, size_t outlen);

#endif /* TP_CSTORE_H */
