/*
 * store.h - the kiosk's durable local buffer of customer answers (SQLite, WAL).
 *
 * The one promise: when store_record_session() returns TP_OK, the answers are on stable storage
 * and survive a crash or a power cut; when it returns an error, nothing of that call was stored
 * and the caller must not thank the customer.
 *
 * Several processes share one database file: the kiosk records, the sync process reads pending
 * answers and marks them, the staff CLI reads and exports. Each process opens its own handle.
 *
 * Numbering: every answer gets a device sequence number `seq`, strictly increasing by one per
 * answer, never reused (not after a crash, a prune, or recovery from a corrupt file). Each database
 * file has a random `epoch` id made when it is created; (device, epoch, seq) places every answer.
 *
 * Thread-safety: a store handle is used by one thread at a time. Distinct handles (in one process
 * or several) may be used concurrently.
 */
#ifndef TP_STORE_H
#define TP_STORE_H

#include "tp.h"

typedef struct store store;

/* ---- Open and close ------------------------------------------------------------------------- */

typedef struct store_options {
    const tp_clock *clock;  /* NULL: tp_clock_system() */
    const char *device_id;  /* NULL: not known (CLI); set on first open, must match later */
    int busy_timeout_ms;    /* wait this long for another process's lock; 0: 5000 */
    bool readonly;          /* open without writing (stats, check): no recovery, and no file is
                             * created or changed (not even a -wal, -shm or .suspect) */
    bool quick_open;        /* skip the integrity check at open (benchmarks only) */
    int64_t max_page_count; /* > 0: cap the database size in pages (tests simulate a full disk) */
    int64_t min_free_bytes; /* refuse to record when the filesystem has less free; 0: the
                             * store's minimum reserve, 1 MiB (see STORE_MIN_FREE_FLOOR) */
    const char *vfs;        /* SQLite VFS name, must outlive the handle; NULL: SQLite's default.
                             * For tests (tests/fault registers a fault-injecting VFS). */
} store_options;

/* Opens (creating if needed) the database at path and migrates its schema forward.
 * A file that was never a Touchpoint store (no SQLite header and no "<path>.seqmark" beside it,
 * e.g. a mistyped --db) is refused with TP_ERR_INVALID ("... is not a Touchpoint database;
 * refusing to touch it"): nothing is renamed or created. A store file that is not a database
 * or fails the integrity check is moved aside as
 * "<path>.corrupt-<UTC time>" (never deleted), a fresh database is made whose seq continues after
 * the highest seq recoverable from the old file, a new epoch starts, and the event is written to
 * stderr and to the database's event log (store_info().recovered_from, store_events()).
 * Returns TP_OK and *out (free with store_close), or an error with a message naming the file and
 * the cause in err (size errlen, may be NULL): TP_ERR_TOO_NEW (schema from a newer program),
 * TP_ERR_READONLY (also a missing folder on a read-only file system), TP_ERR_DISK_FULL,
 * TP_ERR_LOCKED, TP_ERR_CORRUPT (readonly open of a corrupt file), TP_ERR_INVALID (device id
 * mismatch, not a Touchpoint store), TP_ERR_NOT_FOUND (readonly open of a missing file, or of a
 * store whose data is in a missing -wal), TP_ERR_IO. opt may be NULL for defaults. */
tp_err store_open(const char *path, const store_options *opt, store **out, char *err,
                  size_t errlen);

/* Closes the handle and frees it. NULL is a no-op. */
void store_close(store *s);

/* Returns the message of the last failed call on s (file and cause), or "" if none. Borrowed:
 * valid until the next call on s. */
const char *store_errmsg(const store *s);

/* ---- Recording ------------------------------------------------------------------------------ */

typedef struct store_answer_in {
    const char *question_id; /* tp_id_valid() */
    tp_kind kind;
    int value;             /* rating kinds: within tp_kind_range() */
    const char *choice_id; /* TP_KIND_CHOICE: tp_id_valid(); otherwise NULL */
} store_answer_in;

#define STORE_SESSION_MAX_ANSWERS 16

typedef struct store_session_in {
    const char *session_id;    /* NULL: a new session; else an existing session's id (follow-up) */
    const char *survey_id;     /* tp_id_valid() */
    int survey_version;        /* >= 1 */
    const char *store_id;      /* tp_id_valid() */
    const char *touchpoint_id; /* tp_id_valid() */
    const char *lang;          /* tp_lang_valid() */
    unsigned flags;            /* TP_FLAG_*, applied to every answer of this call */
    size_t n_answers;          /* 1..STORE_SESSION_MAX_ANSWERS */
    const store_answer_in *answers;
} store_session_in;

/* What a recorded answer got. */
typedef struct store_receipt {
    char id[TP_UUID_STR];
    int64_t seq;
} store_receipt;

/* Records the answers of one customer session in one durable transaction. For a follow-up, pass
 * the session id the first call returned: the new answers join that session (its survey and survey
 * version, store and touchpoint must match). Validates every field first (TP_ERR_INVALID names the
 * field; nothing is written). A new session's id is the id of its first answer. On TP_OK the
 * answers are durable, session_id (may be NULL) holds the session's id and receipts (may be NULL;
 * n_answers entries) hold each answer's id and seq. Errors: TP_ERR_INVALID, TP_ERR_NOT_FOUND
 * (unknown session id), TP_ERR_DISK_FULL (also when free space is below
 * store_options.min_free_bytes), TP_ERR_READONLY, TP_ERR_LOCKED, TP_ERR_IO, TP_ERR_CORRUPT. On any
 * error nothing of this call is stored. */
tp_err store_record_session(store *s, const store_session_in *in, char session_id[TP_UUID_STR],
                            store_receipt *receipts);

/* ---- Reading answers ------------------------------------------------------------------------ */

typedef enum store_sync_state {
    STORE_PENDING = 0,
    STORE_SYNCED = 1,
    STORE_REJECTED = 2,
} store_sync_state;

/* One stored answer, every field. Plain data; strings are copies. */
typedef struct store_answer {
    int64_t seq;
    char id[TP_UUID_STR];
    char session_id[TP_UUID_STR];
    char survey_id[TP_ID_MAX + 1];
    int survey_version;
    char question_id[TP_ID_MAX + 1];
    tp_kind kind;
    int value;                     /* rating kinds */
    char choice_id[TP_ID_MAX + 1]; /* choice kind; "" otherwise */
    char lang[TP_LANG_MAX + 1];
    char store_id[TP_ID_MAX + 1];
    char touchpoint_id[TP_ID_MAX + 1];
    int64_t wall_ms;    /* UTC ms when recorded, by the device clock */
    bool clock_trusted; /* the device clock was NTP-synced then */
    int64_t mono_ms;    /* ms since boot */
    char boot_id[TP_UUID_STR];
    unsigned flags; /* TP_FLAG_* */
    store_sync_state state;
    char reject_code[TP_ID_MAX + 1]; /* STORE_REJECTED: the collector's error code */
    char reject_reason[256];         /* STORE_REJECTED: its message */
} store_answer;

/* Reads up to max pending answers with seq > after_seq, in seq order, into out (caller's array of
 * max entries). *n gets the count (0 when none are pending). */
tp_err store_read_pending(store *s, int64_t after_seq, size_t max, store_answer *out, size_t *n);

/* Callback for store_foreach_answer. Return TP_OK to go on; any other value stops the walk and
 * is returned by store_foreach_answer. The answer is borrowed for the call only. */
typedef tp_err (*store_answer_cb)(const store_answer *a, void *ctx);

/* Calls cb for every answer with after_seq < seq <= upto_seq (upto_seq < 0: no upper bound), in
 * seq order, inside one read snapshot: answers recorded meanwhile by another process are not seen.
 */
tp_err store_foreach_answer(store *s, int64_t after_seq, int64_t upto_seq, store_answer_cb cb,
                            void *ctx);

/* ---- Sync state ----------------------------------------------------------------------------- */

/* Marks the answers with the given seqs synced, in one transaction. Seqs that are not pending
 * (already synced, rejected or pruned) are left as they are. *changed (may be NULL) gets how many
 * were changed. */
tp_err store_mark_synced(store *s, const int64_t *seqs, size_t n, size_t *changed);

/* Quarantines one answer: state rejected, with the collector's stable code and message. */
tp_err store_mark_rejected(store *s, int64_t seq, const char *code, const char *reason);

/* The outcome of one sync attempt, as the staff screen shows it. */
typedef struct store_sync_result {
    int64_t at_ms;   /* wall clock when the attempt ended */
    bool ok;         /* the collector acknowledged the batch */
    int http_status; /* 0 when no HTTP reply */
    int64_t sent;    /* answers sent */
    int64_t accepted;
    int64_t duplicates;
    int64_t rejected;
    char message[256]; /* "ok", or the cause of the failure */
} store_sync_result;

/* Appends an attempt to the sync log (the newest 1000 are kept). */
tp_err store_log_sync(store *s, const store_sync_result *r);

/* Reads the newest attempt into *out; TP_ERR_NOT_FOUND when there has been none ("never"). If
 * last_ok is not NULL it gets the newest successful attempt (at_ms = 0 when none). */
tp_err store_last_sync(store *s, store_sync_result *out, store_sync_result *last_ok);

/* ---- Export cursor -------------------------------------------------------------------------- */

/* *seq gets the highest seq already exported (0 when none). */
tp_err store_get_export_cursor(store *s, int64_t *seq);

/* Moves the export cursor to seq. Only a verified export calls this. The cursor never moves
 * back: seq below the current cursor is TP_ERR_INVALID; seq above the highest seq is too. */
tp_err store_set_export_cursor(store *s, int64_t seq);

/* ---- Statistics ----------------------------------------------------------------------------- */

typedef enum store_group {
    STORE_BY_NONE = 0,       /* one row for the whole range */
    STORE_BY_DAY = 1,        /* key "YYYY-MM-DD", local time (TZ) */
    STORE_BY_TOUCHPOINT = 2, /* key = touchpoint id */
    STORE_BY_QUESTION = 3,   /* key = question id */
} store_group;

typedef struct store_stats_query {
    int64_t from_ms; /* inclusive; a multiple of 15 minutes (local day starts are) */
    int64_t to_ms;   /* exclusive; a multiple of 15 minutes */
    store_group by;
    bool include_flagged; /* count TP_FLAG_RAPID_REPEAT answers too (default: excluded) */
} store_stats_query;

#define STORE_CHOICE_TOP 8

typedef struct store_stats_row {
    char key[TP_ID_MAX + 1];
    int64_t n; /* all answers in the group, every kind */
    int64_t n_kind[TP_KIND_COUNT];
    double nps;               /* % promoters (9-10) - % detractors (0-6); NAN when no nps answer */
    double csat_pct;          /* % of csat answers that are 4 or 5; NAN when none */
    double ces_mean;          /* mean ces value; NAN when none */
    double ces_pct_5_7;       /* % of ces answers 5..7; NAN when none */
    double smiley4_pct_happy; /* % of smiley4 answers 3 or 4; NAN when none */
    int64_t dist_nps[11];     /* [v] = answers with value v */
    int64_t dist_csat[5];     /* [v-1] */
    int64_t dist_ces[7];      /* [v-1] */
    int64_t dist_smiley4[4];  /* [v-1] */
    struct {
        char id[TP_ID_MAX + 1];
        int64_t n;
    } choices[STORE_CHOICE_TOP]; /* most frequent choice ids, count order; unused: n == 0 */
} store_stats_row;

/* Computes statistics over answers recorded (device wall clock) in [from_ms, to_ms), grouped as
 * asked, rows in key order. Groups with no answers are omitted. On TP_OK *rows (free with
 * store_stats_free) has *n rows. Pruned answers no longer count. */
tp_err store_stats(store *s, const store_stats_query *q, store_stats_row **rows, size_t *n);

/* Frees rows from store_stats. NULL is a no-op. */
void store_stats_free(store_stats_row *rows);

/* ---- Health and maintenance ----------------------------------------------------------------- */

typedef struct store_info {
    char path[4096];
    char device_id[TP_ID_MAX + 1]; /* "" when not set */
    char epoch[TP_UUID_STR];
    int schema_version;
    int64_t epoch_first_seq; /* first seq of this epoch (1, or after a recovery more) */
    int64_t highest_seq;     /* highest seq ever given (0 when none) */
    int64_t n_pending, n_synced, n_rejected;
    int64_t export_cursor;
    int64_t n_not_exported;    /* answers with seq > export_cursor */
    int64_t oldest_pending_ms; /* wall ms of the oldest pending answer; 0 when none */
    int64_t db_bytes;          /* database + WAL file sizes */
    int64_t free_bytes;        /* free space on the database's filesystem */
    char recovered_from[4096]; /* the file moved aside by the newest recovery; "" if none */
} store_info;

/* Fills *out. Cheap enough for a staff screen refresh (no full scan). */
tp_err store_get_info(store *s, store_info *out);

/* Runs PRAGMA integrity_check (full=true) or quick_check. TP_OK when the database is sound;
 * TP_ERR_CORRUPT with the first problems in store_errmsg() otherwise. */
tp_err store_check(store *s, bool full);

/* Appends the seq ranges missing between epoch_first_seq and highest_seq that were not pruned
 * (there should be none) to gaps as [from,to] pairs, at most max pairs; *n gets the pair count. */
tp_err store_find_gaps(store *s, int64_t (*gaps)[2], size_t max, size_t *n);

/* Deletes answers older than older_than_ms (wall clock) that are both synced and exported; seq
 * numbering is unaffected. *deleted (may be NULL) gets the count. */
tp_err store_prune(store *s, int64_t older_than_ms, int64_t *deleted);

/* One entry of the database's event log (recoveries, prunes, failures worth showing staff). */
typedef struct store_event {
    int64_t at_ms;
    char level[8]; /* "info", "warn", "error" */
    char message[512];
} store_event;

/* Reads up to max newest events, newest first. */
tp_err store_events(store *s, store_event *out, size_t max, size_t *n);

/* Appends an event to the log (the newest 1000 are kept). */
tp_err store_log_event(store *s, const char *level, const char *message);

#endif /* TP_STORE_H */
