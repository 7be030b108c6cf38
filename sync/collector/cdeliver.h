/*
 * cdeliver.h - the outbox worker (issue 13, delivery): takes due rows of the outbox table (written
 * by the alert and digest code in the transaction of what caused them), delivers each to its
 * endpoint outside any transaction, logs every attempt in delivery_attempts and retries with
 * exponential backoff and full jitter until the message is delivered or older than the give-up
 * age (then state "dead").
 *
 *   kind webhook      POST of the canonical event JSON, signed the Standard Webhooks way
 *   kind slack        POST of a Slack message ({"text", "blocks"}) rendered from the event
 *   kind google_chat  POST of a Google Chat message ({"text", "cardsV2"})
 *   kind email        SMTP (libcurl) to the comma-separated addresses, text + HTML parts
 *
 * Claims are leases (outbox.claimed_by, claimed_until_ms): a row claimed by a collector that died
 * is taken again once its lease has run out, so delivery is at least once; receivers deduplicate
 * by the webhook-id header (the outbox id). PostgreSQL claims with FOR UPDATE SKIP LOCKED, so
 * several collectors on one store share the work; SQLite claims under its write lock.
 *
 * An endpoint whose deliveries have failed without a success for longer than failing_after_ms is
 * marked failing (endpoints.state, failing_since_ms = the first failure of the run, last_error);
 * one success sets it back to ok. Its pending messages are kept and retried as usual.
 *
 * Thread-safety: cdeliver_start/stop from one thread; cdeliver_wake from any.
 */
#ifndef TP_CDELIVER_H
#define TP_CDELIVER_H

#include <cjson/cJSON.h>

#include "cstore.h"

#define CDELIVER_WORKERS 4                  /* concurrent deliveries */
#define CDELIVER_BACKOFF_MS 30000LL         /* first retry delay bound, doubling */
#define CDELIVER_BACKOFF_CAP_MS 3600000LL   /* largest retry delay bound */
#define CDELIVER_GIVE_UP_MS 86400000LL      /* age of a message at which it is dead */
#define CDELIVER_FAILING_AFTER_MS 3600000LL /* failing run before an endpoint is "failing" */
#define CDELIVER_TIMEOUT_MS 30000LL         /* one request, all in */
#define CDELIVER_CONNECT_MS 10000LL         /* its connection */
#define CDELIVER_POLL_MS 250LL              /* look for due rows this often when idle */
#define CDELIVER_BODY_MAX (1u << 20)        /* bytes of a rendered body or message */
#define CDELIVER_ERROR_MAX 300              /* bytes of an attempt's error text */

typedef struct cdeliver_options {
    const char *smtp_url;      /* "smtp://host:port" or "smtps://..."; NULL: e-mail fails */
    const char *smtp_user;     /* NULL: no AUTH */
    const char *smtp_password; /* with smtp_user */
    const char *mail_from;     /* envelope and From: address; NULL: "touchpoint@localhost" */
    bool starttls_require;     /* CURLUSESSL_ALL (else CURLUSESSL_TRY) */
    const char *public_url;    /* dashboard base for test events; NULL: no link */
    unsigned workers;          /* 0: CDELIVER_WORKERS */
    int64_t backoff_ms;        /* 0: CDELIVER_BACKOFF_MS */
    int64_t backoff_cap_ms;    /* 0: 120 x backoff_ms (1 h at the default) */
    int64_t give_up_ms;        /* 0: CDELIVER_GIVE_UP_MS */
    int64_t failing_after_ms;  /* 0: CDELIVER_FAILING_AFTER_MS */
    int64_t timeout_ms;        /* 0: CDELIVER_TIMEOUT_MS */
    int64_t poll_ms;           /* 0: CDELIVER_POLL_MS */
} cdeliver_options;

typedef struct cdeliver cdeliver;

/* Starts the worker threads on store s (borrowed; must outlive the worker) with the wall clock
 * clk (NULL: the system's). Returns TP_OK and *out (stop with cdeliver_stop), TP_ERR_INVALID for
 * a bad option (err names it) or TP_ERR_NOMEM. */
tp_err cdeliver_start(cstore *s, const cdeliver_options *o, const tp_clock *clk, cdeliver **out,
                      char *err, size_t errlen);

/* Makes idle workers look for due rows now (after an outbox row was written). */
void cdeliver_wake(cdeliver *d);

/* Stops the workers (a request in flight is aborted; its row is released for a later attempt)
 * and frees d. NULL is a no-op. */
void cdeliver_stop(cdeliver *d);

/* ---- Endpoints (the `endpoint` CLI and /v1/admin/endpoints, run inside cfleet_call) --------- */

/* endpoint.add: args {"name", "kind", "target", "lang"?}; result {"id", "name", "kind",
 * "secret"?} (the secret of an HTTP endpoint, shown once). endpoint.list: result [{"id", "name",
 * "kind", "target", "lang", "state", "failing_since_ms", "last_error", "pending", "dead",
 * "delivered"}]. endpoint.test: args {"name"}; queues a test event; result {"outbox_id"}.
 * Each change writes its audit row in tx. Return TP_OK, TP_ERR_INVALID (err names the JSON path
 * and the cause), TP_ERR_NOT_FOUND, TP_ERR_EXISTS or the store's error. */
tp_err cdeliver_endpoint_add(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                             cJSON **result, char *err, size_t errlen);
tp_err cdeliver_endpoint_list(cstore_tx *tx, cJSON **result, char *err, size_t errlen);
tp_err cdeliver_endpoint_test(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                              cJSON **result, char *err, size_t errlen);

/* ---- Pure helpers (unit-tested) ------------------------------------------------------------ */

/* The retry delay after the attempts-th failed attempt (>= 1): full jitter, a uniform pick in
 * [0, min(cap, base * 2^(attempts-1))] made from rnd. */
int64_t cdeliver_backoff(unsigned attempts, int64_t base, int64_t cap, uint64_t rnd);

/* Standard Webhooks signature "v1,<base64>" of HMAC-SHA256(secret bytes, id.ts.body) into out
 * (at least 64 bytes); secret is "whsec_" + base64 (the prefix is optional). Returns TP_OK or
 * TP_ERR_INVALID (secret not base64). */
tp_err cdeliver_sign(const char *secret, const char *id, int64_t ts, const char *body, size_t len,
                     char *out, size_t outlen);

/* A new endpoint secret "whsec_" + base64 of 32 random bytes into out (at least 64 bytes).
 * Returns TP_OK or TP_ERR_IO. */
tp_err cdeliver_new_secret(char *out, size_t outlen);

/* RFC 2047 header text: utf8 as "=?UTF-8?B?...?=" words of at most 75 characters, separated by
 * single spaces, never splitting a character; plain ASCII without "=?" is returned as is.
 * Returns a string to free(), or NULL (out of memory). */
char *cdeliver_rfc2047(const char *utf8);

#endif /* TP_CDELIVER_H */
