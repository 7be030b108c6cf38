/*
 * proto.h - the sync client's side of upload protocol v1 (sync/PROTOCOL.md): encoding a batch of
 * stored answers plus the device's status as the JSON request body (optionally gzip), and strict
 * parsing of the collector's reply.
 *
 * The encoder is bounded twice: at most max_count answers and at most max_bytes of JSON; it stops
 * before the first answer that would cross either bound (a batch holds at least one answer when
 * any is given). The parser believes a reply only when it is the collector's acknowledgement of
 * exactly this batch; anything else (a captive portal's HTML, an empty or truncated body, another
 * batch's reply, ids that were not sent) is TP_ERR_PROTOCOL and marks nothing.
 *
 * No curl or cJSON types appear here: callers (uploader, tests, fuzz targets) need only tp.h and
 * store.h.
 *
 * Thread-safety: every function is reentrant; distinct objects may be used from distinct threads.
 */
#ifndef TP_PROTO_H
#define TP_PROTO_H

#include "store.h"
#include "tp.h"

/* Protocol constants (PROTOCOL.md section 3, 4, 6). */
#define PROTO_VERSION 1
#define PROTO_ACK "touchpoint-collector"
#define PROTO_MAX_ANSWERS 5000
#define PROTO_MAX_BODY (4 * 1024 * 1024)  /* as sent, compressed or not */
#define PROTO_MAX_JSON (16 * 1024 * 1024) /* after decompression */
#define PROTO_MAX_REPLY (1024 * 1024)     /* the client reads no more of a reply */
#define PROTO_APP_VERSION_MAX 32
#define PROTO_MESSAGE_MAX 256 /* rejection message kept (with NUL) */
#define PROTO_REVISION_MAX 64
#define PROTO_CONFIG_ERROR_MAX 512

/* The device block of a request (PROTOCOL.md 3.2). Strings are borrowed for the call. */
typedef struct proto_device {
    const char *id;          /* tp_id_valid() */
    const char *epoch;       /* UUID */
    int64_t epoch_first_seq; /* >= 1 */
    const char *app_version; /* 1..32 printable ASCII */
    int64_t pending;         /* >= 0 */
    int64_t highest_seq;     /* >= 0 */
    int64_t disk_free;       /* >= 0 */
    bool clock_trusted;
    int64_t sent_wall_ms;
    int64_t sent_mono_ms; /* >= 0 */
    const char *boot_id;  /* UUID */
    /* Central configuration (PROTOCOL.md section 12): the revision the kiosk runs ("": local
     * config only) and its last apply error. NULL: the key is not sent. */
    const char *config_revision; /* <= PROTO_REVISION_MAX printable ASCII */
    const char *config_error;    /* <= PROTO_CONFIG_ERROR_MAX bytes of UTF-8; NULL/"": null */
} proto_device;

/* An encoded request. Owns body; free with proto_batch_free(). */
typedef struct proto_batch {
    char batch_id[TP_UUID_STR]; /* fresh UUIDv4 */
    size_t n_answers;           /* the first n_answers of the given answers are in the body */
    unsigned char *body;        /* the request body: JSON, or its gzip when gzipped */
    size_t body_len;
    size_t json_len; /* length of the JSON before compression */
    bool gzipped;
} proto_batch;

/* Encodes dev and a prefix of answers[0..n) as a request body into *out (its previous contents are
 * not freed: pass a zeroed or freed batch). The prefix stops at max_count answers (0: no count
 * bound other than PROTO_MAX_ANSWERS) and before the first answer that would make the JSON longer
 * than max_bytes (0: PROTO_MAX_JSON); the first answer is always included, so a batch is never
 * empty when n > 0. n == 0 makes a status-only batch. With gzip the body is a gzip stream
 * (deflateInit2, window bits 31) of the JSON. Returns TP_OK; TP_ERR_INVALID (a device field or an
 * answer that cannot be encoded, named in err), TP_ERR_TOO_LARGE (the gzip body exceeds
 * PROTO_MAX_BODY), TP_ERR_NOMEM, TP_ERR_IO (no random bytes for the batch id). On error *out holds
 * nothing to free. */
tp_err proto_encode_batch(const proto_device *dev, const store_answer *answers, size_t n,
                          size_t max_count, size_t max_bytes, bool gzip, proto_batch *out,
                          char *err, size_t errlen);

/* Frees b's body and zeroes *b. NULL is a no-op. */
void proto_batch_free(proto_batch *b);

/* One rejected answer of a reply. */
typedef struct proto_rejection {
    size_t index;                    /* position in the batch's answers */
    char code[TP_ID_MAX + 1];        /* stable code ("value_out_of_range") */
    char message[PROTO_MESSAGE_MAX]; /* for people; truncated to fit */
} proto_rejection;

/* A validated acknowledgement. Index arrays refer to positions in the batch's answers and are
 * owned by the reply; free with proto_reply_free(). */
typedef struct proto_reply {
    int64_t received_at_ms;
    size_t *accepted;
    size_t n_accepted;
    size_t *duplicates;
    size_t n_duplicates;
    proto_rejection *rejected;
    size_t n_rejected;
    /* The device's desired configuration revision (section 12); has_config_revision false when
     * the collector sent none (no central configuration for this device). */
    bool has_config_revision;
    char config_revision[PROTO_REVISION_MAX + 1];
} proto_reply;

/* Parses and validates the body (len bytes, need not be NUL-terminated) of a 2xx reply to the batch
 * whose id is batch_id and whose answers were answers[0..n) (the batch's n_answers). The checks of
 * PROTOCOL.md 4.2: one JSON object, "ack" and "protocol" right, the same batch_id, the three arrays
 * present with the right element types, every id one of the batch's answers, no id named twice.
 * Returns TP_OK and *out (free with proto_reply_free), or TP_ERR_PROTOCOL with the first problem
 * in err (*out then holds nothing to free), TP_ERR_TOO_LARGE (len > PROTO_MAX_REPLY),
 * TP_ERR_NOMEM. */
tp_err proto_parse_reply(const char *body, size_t len, const char *batch_id,
                         const store_answer *answers, size_t n, proto_reply *out, char *err,
                         size_t errlen);

/* Frees the arrays of r and zeroes *r. NULL is a no-op. */
void proto_reply_free(proto_reply *r);

/* Best effort: reads {"error": {"code", "message"}} from an error reply into code (codelen) and
 * message (msglen), both "" when the body is not such an object. Returns TP_OK when found, else
 * TP_ERR_PROTOCOL. */
tp_err proto_parse_error(const char *body, size_t len, char *code, size_t codelen, char *message,
                         size_t msglen);

/* Returns the JSON name of one flag bit ("rapid_repeat", "button"), NULL for an unknown bit. */
const char *proto_flag_name(unsigned bit);

#endif /* TP_PROTO_H */
