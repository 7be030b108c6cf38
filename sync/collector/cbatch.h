/*
 * cbatch.h - the collector's batch parser and validator (protocol v1, POST /v1/batches).
 *
 * A pure function of its input: no I/O, no globals, no clock (the receive time is an argument),
 * so the fuzzer (sync/fuzz_*.c) and the unit tests drive it directly. It turns a JSON body into a
 * validated device status plus two lists: answers that passed every field check (with their
 * corrected time already computed by the clock rule) and per-answer rejections with a stable code.
 * One bad answer never spoils the rest of the batch; only a malformed envelope (not JSON, wrong
 * protocol, bad batch id or device block) fails the whole batch.
 *
 * Thread-safety: every function is reentrant; a cbatch is used by one thread at a time.
 */
#ifndef TP_CBATCH_H
#define TP_CBATCH_H

#include "tp.h"

#define CBATCH_MAX_ANSWERS 5000           /* answers per batch */
#define CBATCH_VERSION_MAX 32             /* app_version bytes */
#define CBATCH_MAX_MS 4102444800000LL     /* 2100-01-01: larger wall times are nonsense */
#define CBATCH_MAX_INT 9007199254740991LL /* 2^53 - 1: exact in a JSON (double) number */
#define CBATCH_MIN_MS 1577836800000LL     /* 2020-01-01: no corrected time is earlier */
#define CBATCH_MSG_MAX 160

/* Stable rejection codes (the protocol's names, see cbatch_code_name()). Never renumbered. */
typedef enum cbatch_code {
    CBATCH_MISSING_FIELD = 0,
    CBATCH_INVALID_TYPE = 1,
    CBATCH_INVALID_ID = 2,
    CBATCH_INVALID_KIND = 3,
    CBATCH_VALUE_OUT_OF_RANGE = 4,
    CBATCH_INVALID_UTF8 = 5,
    CBATCH_TOO_LONG = 6,
    CBATCH_SEQ_CONFLICT = 7,
    CBATCH_INVALID_FIELD = 8,
} cbatch_code;
#define CBATCH_CODE_COUNT 9

/* Where a stored time came from (the protocol's clock rule). */
typedef enum cbatch_time_source {
    CBATCH_TIME_DEVICE = 0,      /* clock_trusted: wall_ms kept */
    CBATCH_TIME_CORRECTED = 1,   /* untrusted, same boot: received - (sent_mono - mono) */
    CBATCH_TIME_UNCORRECTED = 2, /* untrusted, another boot: wall_ms kept, flagged */
} cbatch_time_source;

#define CBATCH_REVISION_MAX 64
#define CBATCH_CONFIG_ERROR_MAX 512

/* The device block of a batch. */
typedef struct cbatch_device {
    char id[TP_ID_MAX + 1];
    char epoch[TP_UUID_STR];
    int64_t epoch_first_seq;
    char app_version[CBATCH_VERSION_MAX + 1];
    int64_t pending;
    int64_t highest_seq;
    int64_t disk_free;
    bool clock_trusted;
    int64_t sent_wall_ms;
    int64_t sent_mono_ms;
    char boot_id[TP_UUID_STR];
    /* Issue 12 (optional): the configuration revision the device runs ("" = local config only)
     * and its last apply error (has_config_error false: absent or null, the last apply worked). */
    bool has_config_revision, has_config_error;
    char config_revision[CBATCH_REVISION_MAX + 1];
    char config_error[CBATCH_CONFIG_ERROR_MAX + 1];
} cbatch_device;

/* One answer that passed validation. Strings are NUL-terminated; ids are lowercase UUIDs. */
typedef struct cbatch_answer {
    char id[TP_UUID_STR];
    int64_t seq;
    char session[TP_UUID_STR];
    char survey[TP_ID_MAX + 1];
    int survey_version;
    char question[TP_ID_MAX + 1];
    tp_kind kind;
    int value;                  /* rating kinds; -1 for choice */
    char choice[TP_ID_MAX + 1]; /* kind choice; "" otherwise */
    char lang[TP_LANG_MAX + 1];
    char store[TP_ID_MAX + 1];
    char touchpoint[TP_ID_MAX + 1];
    int64_t wall_ms;
    bool clock_trusted;
    int64_t mono_ms;
    char boot_id[TP_UUID_STR];
    unsigned flags; /* TP_FLAG_* */
    int64_t at_ms;  /* the time the collector stores and reports */
    cbatch_time_source time_source;
    int index; /* 0-based position in the batch's answers array */
} cbatch_answer;

/* One rejected answer. id is the answer's id as sent when it was a short valid-UTF-8 string
 * (has_id), so the device can quarantine it; seq is its seq when that parsed (else -1). */
typedef struct cbatch_reject {
    bool has_id;
    char id[TP_ID_MAX + 1];
    int64_t seq;
    int index; /* 0-based position in the batch's answers array */
    cbatch_code code;
    char message[CBATCH_MSG_MAX];
} cbatch_reject;

typedef struct cbatch {
    char batch_id[TP_UUID_STR];
    cbatch_device device;
    cbatch_answer *answers; /* n_answers valid answers, in batch order */
    size_t n_answers;
    cbatch_reject *rejects; /* n_rejects rejections, in batch order (more may be added later,
                               e.g. seq_conflict by the store: see cbatch_add_reject) */
    size_t n_rejects;
    size_t cap_rejects;
} cbatch;

/* Returns the protocol name of a code ("missing_field", ...), "?" if out of range. */
const char *cbatch_code_name(cbatch_code c);

/* Returns the time source's name: "device", "corrected" or "uncorrected". */
const char *cbatch_time_source_name(cbatch_time_source t);

/* Parses and validates the len bytes at json (need not be NUL-terminated) received at
 * received_at_ms (collector clock, UTC ms). Returns TP_OK and *out (free with cbatch_free) even
 * when some or all answers were rejected; TP_ERR_INVALID (HTTP 400, message in err) when the body
 * is not a protocol-v1 batch (or a key holds \u0000); TP_ERR_TOO_LARGE when it holds more than
 * CBATCH_MAX_ANSWERS answers; TP_ERR_NOMEM. Integers must be written as integers (9.0 and 9e0 are
 * invalid_type) and are read exactly from their text; a string holding \u0000 is invalid_utf8. */
tp_err cbatch_parse(const char *json, size_t len, int64_t received_at_ms, cbatch **out, char *err,
                    size_t errlen);

/* Applies the protocol's clock rule to one answer given its batch's device block: sets a->at_ms
 * and a->time_source. Pure; cbatch_parse calls it for every accepted answer. An untrusted answer
 * whose mono_ms is later than the device's sent_mono_ms (impossible on one boot), or whose age
 * sent_mono_ms - mono_ms would put the corrected time before CBATCH_MIN_MS (an absurd monotonic
 * clock), is not corrected: it keeps wall_ms (0..CBATCH_MAX_MS) and is flagged uncorrected. */
void cbatch_correct_time(const cbatch_device *d, int64_t received_at_ms, cbatch_answer *a);

/* Appends a rejection of the answer at index to b. Returns TP_OK, TP_ERR_NOMEM, or
 * TP_ERR_TOO_LARGE beyond CBATCH_MAX_ANSWERS rejections. */
tp_err cbatch_add_reject(cbatch *b, const char *id, int64_t seq, int index, cbatch_code code,
                         const char *message);

/* Outcome of storing one valid answer. */
typedef enum cbatch_outcome {
    CBATCH_ACCEPTED = 0,
    CBATCH_DUPLICATE = 1,
    CBATCH_CONFLICT = 2, /* same device+epoch+seq stored with another id: becomes a rejection */
} cbatch_outcome;

/* Builds the 200 reply body for b given one outcome per b->answers[i] (outcomes[i]); answers
 * with CBATCH_CONFLICT are listed under "rejected" with code seq_conflict, merged with the
 * parser's rejections in request order (each rejection carries its "index"). Returns a
 * NUL-terminated string the caller frees with free(), or NULL when out of memory. */
char *cbatch_reply_json(const cbatch *b, const unsigned char *outcomes, int64_t received_at_ms);

/* Frees b. NULL is a no-op. */
void cbatch_free(cbatch *b);

#endif /* TP_CBATCH_H */
