/*
 * uploader.h - the kiosk's sync client: sends pending answers from the local store to the central
 * collector in batches over HTTP(S) (libcurl), marks them from the collector's acknowledgement
 * only, and runs as a daemon with jittered intervals, exponential backoff and a "sync now" wake-up.
 * The protocol is sync/PROTOCOL.md; encoding and reply validation are in proto.h.
 *
 * What the uploader promises: an answer is marked synced only when a valid acknowledgement of
 * its batch names it accepted or duplicate, rejected only when it names it rejected; everything
 * else stays pending and is sent again later. Every attempt (HTTP request) is recorded with
 * store_log_sync(), which the staff screen reads.
 *
 * It knows nothing of firmware/: the caller (firmware/cli_sync.c) maps the config file's [sync]
 * section into uploader_options.
 *
 * Thread-safety: an uploader is used by one thread at a time, together with its store handle.
 */
#ifndef TP_UPLOADER_H
#define TP_UPLOADER_H

#include <stdio.h>

#include "store.h"
#include "tp.h"

typedef struct uploader uploader;

#define UPLOADER_TOKEN_MAX 256

/* The defaults of the [sync] keys, written once: uploader_new() takes them for zero options and
 * firmware/config.c for keys the config file leaves out. */
#define UPLOADER_DEFAULT_INTERVAL_S 300
#define UPLOADER_DEFAULT_BATCH_MAX 500
#define UPLOADER_DEFAULT_BATCH_MAX_BYTES 262144
#define UPLOADER_DEFAULT_CONNECT_TIMEOUT_S 10
#define UPLOADER_DEFAULT_LOW_SPEED_TIME_S 30
#define UPLOADER_DEFAULT_BACKOFF_MAX_S 900

/* Mirror of the config's [sync] section plus what the device knows about itself. Strings are
 * copied by uploader_new(); the options need not outlive it. Zero values take the defaults
 * (UPLOADER_DEFAULT_* above, [in brackets] below for the others). */
typedef struct uploader_options {
    const char *url;           /* collector base URL (http:// or https://); "/v1/batches" is
                                * appended unless the URL already ends with it. Required. */
    const char *token;         /* bearer token (see uploader_read_token). Required. */
    const char *device_id;     /* tp_id_valid(). Required. */
    const char *app_version;   /* NULL: "0.1.0" */
    int interval_s;            /* daemon interval between rounds */
    int batch_max;             /* answers per batch, 1..5000 */
    int batch_max_bytes;       /* JSON bytes per batch before gzip */
    bool no_gzip;              /* send the JSON uncompressed (config gzip = false) */
    const char *ca_file;       /* NULL/"": system CAs */
    const char *pinned_pubkey; /* NULL/"": no pin; else curl's "sha256//BASE64" or a PEM/DER file */
    int connect_timeout_s;     /* seconds to connect */
    int low_speed_time_s;      /* a transfer slower than low_speed_limit this long fails */
    int low_speed_limit;       /* bytes/s [16] */
    int backoff_max_s;         /* cap of the backoff after failures */
    int backoff_base_ms;       /* first backoff ceiling [5000] */
    uint64_t rng_seed;         /* 0: seeded from getrandom (tests pass a fixed seed) */
    const tp_clock *clock;     /* times sent to the collector; NULL: tp_clock_system() */
    FILE *log;                 /* failures and daemon events go here when not NULL */
    bool verbose;              /* also one line per attempt to log */
    /* Central configuration (PROTOCOL.md section 12): the kiosk's state folder. Set: each batch
     * carries device.config_revision / config_error from its config-status.json, and a desired
     * revision in a reply that differs is fetched into remote-config.json (cfetch.h). NULL: off. */
    const char *state_dir;
} uploader_options;

/* Creates an uploader that reads and marks answers in s (borrowed: s must outlive the uploader
 * and not be used by another thread meanwhile). Returns TP_OK and *out (free with
 * uploader_free), or TP_ERR_CONFIG / TP_ERR_INVALID with the option named in err, TP_ERR_NOMEM. */
tp_err uploader_new(const uploader_options *opt, store *s, uploader **out, char *err,
                    size_t errlen);

/* Frees u and its connection. NULL is a no-op. */
void uploader_free(uploader *u);

/* What one round did, summed over its attempts. */
typedef struct uploader_round {
    int attempts; /* HTTP requests made (413 retries included) */
    int64_t sent; /* answers sent (with repeats after a 413) */
    int64_t accepted;
    int64_t duplicates;
    int64_t rejected;
    int64_t left_pending; /* answers a valid reply did not name: sent again next round */
    int http_status;      /* of the last attempt; 0 when there was no HTTP reply */
    int retry_after_s;    /* of the last attempt's reply (429/503), 0 when none */
    char message[256];    /* "ok" or the cause of the failure */
    int config_requests;  /* GET /v1/config requests made after the batches (0 or 1) */
    bool config_written;  /* a new remote-config.json was written */
    char config_message[512];
} uploader_round;

/* One round: sends every answer pending now, in seq order, batch after batch over one connection
 * (at least one request: a status-only batch when nothing is pending), until none is left or an
 * attempt fails. A 413 halves the batch and retries at once. Returns TP_OK when every attempt was
 * acknowledged (r->left_pending may still be > 0), else the first failure: TP_ERR_NETWORK
 * (connection, timeout, cut reply), TP_ERR_AUTH (401/403, TLS verification or pin), TP_ERR_BUSY
 * (429/503/5xx; r->retry_after_s), TP_ERR_PROTOCOL (not an acknowledgement, other 4xx, 3xx),
 * TP_ERR_TOO_LARGE (413 at one answer), TP_ERR_CONFIG (bad URL), or a store error. r (may be NULL)
 * gets the summary. */
tp_err uploader_sync_round(uploader *u, uploader_round *r);

/* The daemon loop: a round at once, then one every interval_s +-20% (random), after a failure the
 * backoff (uploader_backoff_ms, at least 1 s and at least any Retry-After). sigfd is a signalfd
 * from uploader_signals_open() (or -1: no signals, the loop runs until an error of the store):
 * SIGUSR1 starts a round now (not before a Retry-After has passed), SIGTERM and SIGINT end the loop
 * (a request in flight is aborted). Returns TP_OK on a signal to stop, or a store error that makes
 * going on pointless (TP_ERR_CORRUPT, TP_ERR_TOO_NEW, TP_ERR_READONLY). */
tp_err uploader_run(uploader *u, int sigfd);

/* Blocks SIGUSR1, SIGTERM and SIGINT in the calling thread (call it before starting threads, so
 * every thread inherits the mask) and returns a signalfd for them in *fd (close it with close()).
 * Returns TP_OK or TP_ERR_IO with the cause in err. */
tp_err uploader_signals_open(int *fd, char *err, size_t errlen);

/* Exponential backoff with full jitter: a uniform random delay in [0, min(cap_ms, base_ms *
 * 2^(failures-1))] ms (0 when failures is 0), drawn from the xorshift state *rng (never 0;
 * advanced). Pure apart from *rng. */
int64_t uploader_backoff_ms(uint64_t *rng, unsigned failures, int64_t base_ms, int64_t cap_ms);

/* The daemon's next interval: interval_ms scaled by a uniform factor in [0.8, 1.2]. */
int64_t uploader_jitter_ms(uint64_t *rng, int64_t interval_ms);

/* Reads the bearer token from path into out (outlen >= 2), trimming surrounding whitespace. The
 * token must be 1..UPLOADER_TOKEN_MAX-1 visible ASCII characters. When the file can be read or
 * written by others, warn (warnlen, may be NULL) gets a warning naming the file and the fix
 * (chmod 600); otherwise warn is "". Returns TP_OK, TP_ERR_NOT_FOUND (no such file), TP_ERR_IO,
 * TP_ERR_CONFIG (empty, too long or not a token), each with the file named in err. */
tp_err uploader_read_token(const char *path, char *out, size_t outlen, char *warn, size_t warnlen,
                           char *err, size_t errlen);

#endif /* TP_UPLOADER_H */
