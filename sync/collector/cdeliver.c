/*
 * cdeliver.c - the outbox worker (see cdeliver.h): claims, attempts, retries, endpoint state.
 *
 * Each worker thread loops: a cheap read looks for a due row (so an idle collector does not take
 * SQLite's write lock four times a second), a short write transaction claims one row with a lease
 * and reads its endpoint, the delivery runs with no transaction open (a slow receiver must not
 * hold the store), and a second short transaction records the attempt, the row's new state and
 * the endpoint's. The record only applies while this worker still holds the claim: a row whose
 * lease ran out meanwhile belongs to whoever took it next.
 *
 * A crash between the delivery and its record delivers the message again after the lease: at
 * least once, never zero times; the webhook-id lets the receiver drop the copy.
 */
#include "cdeliver_int.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfleet_int.h"

#define LEASE_SLACK_MS 5000 /* a claim outlives its request's timeout by this much */
#define ERROR_PAUSE_MS 2000 /* a worker whose store fails waits this long */

struct cdeliver {
    cstore *s;
    cdeliver_options o;
    const tp_clock *clk;
    bool pg;
    char me[TP_UUID_STR]; /* claimed_by of this process's claims */
    atomic_bool stop;
    atomic_uint wakes;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t *th;
    unsigned n_th;
    int64_t logged_ms; /* last store error logged (under mu): at most one a minute */
};

/* ---- Pure helpers ---------------------------------------------------------------------------- */

int64_t cdeliver_backoff(unsigned attempts, int64_t base, int64_t cap, uint64_t rnd)
{
    int64_t bound = base > 0 ? base : 1;
    for (unsigned i = 1; i < attempts && bound < cap; i++)
        bound *= 2;
    if (bound > cap)
        bound = cap;
    return (int64_t)(rnd % ((uint64_t)bound + 1));
}

tp_err cdeliver_sign(const char *secret, const char *id, int64_t ts, const char *body, size_t len,
                     char *out, size_t outlen)
{
    unsigned char key[192], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char head[160];
    const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n > 4 * (sizeof key / 3) || outlen < 64)
        return TP_ERR_INVALID;
    int klen = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)n);
    if (klen < 0)
        return TP_ERR_INVALID;
    klen -= (b64[n - 1] == '=') + (b64[n - 2] == '=');
    int hl = snprintf(head, sizeof head, "%s.%lld.", id, (long long)ts);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return TP_ERR_INVALID;
    unsigned char *data = malloc((size_t)hl + len + 1);
    if (!data)
        return TP_ERR_NOMEM;
    memcpy(data, head, (size_t)hl);
    memcpy(data + hl, body, len);
    bool ok = HMAC(EVP_sha256(), key, klen, data, (size_t)hl + len, mac, &maclen) != NULL;
    free(data);
    if (!ok || maclen != 32)
        return TP_ERR_INTERNAL;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, 32); /* 44 characters + NUL */
    return TP_OK;
}

tp_err cdeliver_new_secret(char *out, size_t outlen)
{
    unsigned char raw[32];
    if (outlen < 64)
        return TP_ERR_INVALID;
    if (tp_random_bytes(raw, sizeof raw) != TP_OK)
        return TP_ERR_IO;
    memcpy(out, "whsec_", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, raw, sizeof raw);
    return TP_OK;
}

/* A libcurl progress callback that aborts when *(atomic_bool *)p is set. */
static int abort_cb(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                    curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load((atomic_bool *)p) ? 1 : 0;
}

CURLcode cdeliver_perform(const cdeliver_net *n, CURL *c, char ebuf[CURL_ERROR_SIZE],
                          cdeliver_result *r)
{
    long connect_ms =
        n->o->timeout_ms < CDELIVER_CONNECT_MS ? (long)n->o->timeout_ms : (long)CDELIVER_CONNECT_MS;
    ebuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)n->o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, n->stop);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        r->aborted = true;
        snprintf(r->error, sizeof r->error, "stopped");
    }
    return cc;
}

/* ---- Claims and records ---------------------------------------------------------------------- */

static void log_store(cdeliver *d, const char *what, const char *err)
{
    int64_t now = d->clk->mono_ms(d->clk->ctx);
    pthread_mutex_lock(&d->mu);
    bool say = d->logged_ms == 0 || now - d->logged_ms >= 60000;
    if (say)
        d->logged_ms = now;
    pthread_mutex_unlock(&d->mu);
    if (say)
        fprintf(stderr, "touchpoint-collector: deliver: %s: %s\n", what, err);
}

/* A claimed row and its endpoint (cells of two result sets, kept until the record). */
typedef struct claim {
    cstore_rows *row; /* id, endpoint_id, kind, payload_json, attempts, created_ms */
    cstore_rows *ep;  /* name, kind, target, secret, lang, state */
} claim;

static const char SQL_DUE[] = "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_ms "
                              "<= $1 AND (claimed_until_ms IS NULL OR claimed_until_ms < $1) "
                              "LIMIT 1";

static const char SQL_CLAIM_PG[] =
    "UPDATE outbox SET claimed_by = $1, claimed_until_ms = $2 WHERE id = (SELECT id FROM outbox "
    "WHERE state = 'pending' AND next_attempt_ms <= $3 AND (claimed_until_ms IS NULL OR "
    "claimed_until_ms < $3) ORDER BY next_attempt_ms LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, endpoint_id, kind, payload_json, attempts, created_ms";

static const char SQL_CLAIM_SQLITE[] =
    "UPDATE outbox SET claimed_by = $1, claimed_until_ms = $2 WHERE id = (SELECT id FROM outbox "
    "WHERE state = 'pending' AND next_attempt_ms <= $3 AND (claimed_until_ms IS NULL OR "
    "claimed_until_ms < $3) ORDER BY next_attempt_ms LIMIT 1) "
    "RETURNING id, endpoint_id, kind, payload_json, attempts, created_ms";

/* Claims one due row. Returns 1 (claimed, *c filled), 0 (none due) or -1 (store error). */
static int claim_one(cdeliver *d, int64_t now, claim *c)
{
    char err[TP_ERRMSG_MAX], at[24], until[24];
    cstore_tx *tx = NULL;
    cstore_rows *due = NULL;
    cfleet_i64(at, now);
    tp_err rc = cstore_tx_begin(d->s, false, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX(tx, &due, err, sizeof err, SQL_DUE, at);
    cstore_tx_rollback(tx);
    tx = NULL;
    bool any = rc == TP_OK && due->n > 0;
    cstore_rows_free(due);
    if (rc != TP_OK) {
        log_store(d, "looking for due messages", err);
        return -1;
    }
    if (!any)
        return 0;
    cfleet_i64(until, now + d->o.timeout_ms + LEASE_SLACK_MS);
    rc = cstore_tx_begin(d->s, true, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX(tx, &c->row, err, sizeof err, d->pg ? SQL_CLAIM_PG : SQL_CLAIM_SQLITE, d->me, until,
                at);
    if (rc == TP_OK && c->row->n == 1)
        rc = FX(tx, &c->ep, err, sizeof err,
                "SELECT name, kind, target, secret, lang, state FROM endpoints WHERE id = $1",
                cstore_rows_get(c->row, 0, 1));
    if (rc == TP_OK)
        rc = cstore_tx_commit(tx, err, sizeof err);
    else
        cstore_tx_rollback(tx);
    if (rc != TP_OK) {
        cstore_rows_free(c->row);
        cstore_rows_free(c->ep);
        c->row = c->ep = NULL;
        log_store(d, "claiming a message", err);
        return -1;
    }
    if (c->row->n == 1)
        return 1;
    cstore_rows_free(c->row);
    cstore_rows_free(c->ep);
    c->row = c->ep = NULL;
    return 0;
}

/* Writes the endpoint's state after an attempt; an ok <-> failing change is audited. */
static tp_err endpoint_after(cdeliver *d, cstore_tx *tx, const claim *c, const cdeliver_result *r,
                             int64_t now, char *err, size_t errlen)
{
    char at[24], thr[24];
    cstore_rows *rows = NULL;
    const char *ep_id = cstore_rows_get(c->row, 0, 1);
    const char *was = c->ep->n ? cstore_rows_get(c->ep, 0, 5) : NULL;
    tp_err rc;
    if (r->ok)
        rc = FX(tx, &rows, err, errlen,
                "UPDATE endpoints SET state = 'ok', failing_since_ms = NULL, last_error = NULL, "
                "updated_ms = $2 WHERE id = $1 AND (state <> 'ok' OR failing_since_ms IS NOT NULL "
                "OR last_error IS NOT NULL) RETURNING state",
                ep_id, cfleet_i64(at, now));
    else
        rc = FX(tx, &rows, err, errlen,
                "UPDATE endpoints SET last_error = $2, failing_since_ms = COALESCE("
                "failing_since_ms, CAST($3 AS BIGINT)), state = CASE WHEN CAST($3 AS BIGINT) - "
                "COALESCE(failing_since_ms, CAST($3 AS BIGINT)) >= CAST($4 AS BIGINT) THEN "
                "'failing' ELSE state END, updated_ms = CAST($3 AS BIGINT) WHERE id = $1 "
                "RETURNING state",
                ep_id, r->error, cfleet_i64(at, now), cfleet_i64(thr, d->o.failing_after_ms));
    const char *now_state = rc == TP_OK && rows->n ? cstore_rows_get(rows, 0, 0) : NULL;
    if (rc == TP_OK && was && now_state && strcmp(was, now_state) != 0) {
        const char *name = cstore_rows_get(c->ep, 0, 0);
        char actor[64];
        cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
        cJSON_AddStringToObject(before, "state", was);
        cJSON_AddStringToObject(after, "state", now_state);
        if (!r->ok)
            cJSON_AddStringToObject(after, "last_error", r->error);
        snprintf(actor, sizeof actor, "deliver:%s", d->me);
        rc = cfleet_audit(tx, actor, r->ok ? "endpoint.ok" : "endpoint.failing", name, before,
                          after, now, err, errlen);
        cJSON_Delete(before);
        cJSON_Delete(after);
        fprintf(stderr, "touchpoint-collector: endpoint %s is %s%s%s\n", name, now_state,
                r->ok ? "" : ": ", r->ok ? "" : r->error);
    }
    cstore_rows_free(rows);
    return rc;
}

/* Makes an error text safe for a text column and a log line: control characters become spaces,
 * a character cut by truncation is dropped, and text that is still not UTF-8 (a receiver's reply
 * in another encoding) keeps only its ASCII. PostgreSQL refuses invalid UTF-8, and a record that
 * always fails would redeliver the message forever without counting its attempts. */
static void clean_error(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = ' ';
    for (int cut = 0; cut < 3 && n > 0 && !tp_utf8_valid(s, n); cut++)
        if ((unsigned char)s[n - 1] >= 0x80)
            s[--n] = '\0';
    if (!tp_utf8_valid(s, n))
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] >= 0x80)
                s[i] = '?';
}

/* Records the attempt (latency: -1 when nothing was attempted) and the row's new state. */
static void record(cdeliver *d, const claim *c, cdeliver_result *r, int64_t latency)
{
    char err[TP_ERRMSG_MAX], at[24], st[24], lat[24], next[24], done[24];
    const char *id = cstore_rows_get(c->row, 0, 0), *ep = cstore_rows_get(c->row, 0, 1);
    int64_t now = d->clk->wall_ms(d->clk->ctx);
    int64_t attempts = strtoll(cstore_rows_get(c->row, 0, 4), NULL, 10) + 1;
    int64_t created = strtoll(cstore_rows_get(c->row, 0, 5), NULL, 10);
    int64_t next_ms = now;
    const char *state = "delivered";
    clean_error(r->error);
    if (!r->ok) {
        uint64_t rnd = 0;
        tp_random_bytes(&rnd, sizeof rnd);
        next_ms = now + cdeliver_backoff((unsigned)(attempts > 64 ? 64 : attempts), d->o.backoff_ms,
                                         d->o.backoff_cap_ms, rnd);
        if (next_ms > created + d->o.give_up_ms)
            next_ms = created + d->o.give_up_ms; /* one last try at the give-up age */
        state = now - created >= d->o.give_up_ms || latency < 0 ? "dead" : "pending";
    }
    cstore_tx *tx = NULL;
    tp_err rc = cstore_tx_begin(d->s, true, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX(tx, NULL, err, sizeof err,
                "INSERT INTO delivery_attempts(outbox_id, endpoint_id, at_ms, status, latency_ms, "
                "error) VALUES($1, $2, $3, $4, $5, $6)",
                id, ep, cfleet_i64(at, now), cfleet_i64(st, r->status),
                cfleet_i64(lat, latency < 0 ? 0 : latency), r->ok ? NULL : r->error);
    if (rc == TP_OK)
        rc = FX(tx, NULL, err, sizeof err,
                "UPDATE outbox SET state = $2, attempts = attempts + 1, next_attempt_ms = $3, "
                "delivered_ms = $4, claimed_by = NULL, claimed_until_ms = NULL WHERE id = $1 AND "
                "claimed_by = $5",
                id, state, cfleet_i64(next, next_ms), r->ok ? cfleet_i64(done, now) : NULL, d->me);
    if (rc == TP_OK && c->ep->n && latency >= 0)
        rc = endpoint_after(d, tx, c, r, now, err, sizeof err);
    if (rc == TP_OK)
        rc = cstore_tx_commit(tx, err, sizeof err);
    else
        cstore_tx_rollback(tx);
    if (rc != TP_OK)
        log_store(d, "recording an attempt (the message is sent again after its lease)", err);
    else if (strcmp(state, "dead") == 0)
        fprintf(stderr, "touchpoint-collector: deliver: message %s to %s is dead: %s\n", id,
                c->ep->n ? cstore_rows_get(c->ep, 0, 0) : ep, r->error);
}

/* Gives an aborted row back at once (the collector is stopping: not the receiver's fault). */
static void release(cdeliver *d, const claim *c)
{
    char err[TP_ERRMSG_MAX];
    cstore_tx *tx = NULL;
    tp_err rc = cstore_tx_begin(d->s, true, &tx, err, sizeof err);
    if (rc == TP_OK)
        rc = FX(tx, NULL, err, sizeof err,
                "UPDATE outbox SET claimed_by = NULL, claimed_until_ms = NULL WHERE id = $1 AND "
                "claimed_by = $2",
                cstore_rows_get(c->row, 0, 0), d->me);
    if (rc == TP_OK)
        rc = cstore_tx_commit(tx, err, sizeof err);
    else
        cstore_tx_rollback(tx);
}

/* ---- Workers --------------------------------------------------------------------------------- */

/* Delivers one due message. Returns 1 (one handled), 0 (none due) or -1 (store error). */
static int deliver_one(cdeliver *d)
{
    claim c = {0};
    cdeliver_result r = {0};
    int64_t now = d->clk->wall_ms(d->clk->ctx);
    int got = claim_one(d, now, &c);
    if (got <= 0)
        return got;
    cdeliver_wake(d); /* there may be more: let the idle workers look */
    cJSON *event = cJSON_Parse(cstore_rows_get(c.row, 0, 3));
    if (c.ep->n == 0) {
        snprintf(r.error, sizeof r.error, "endpoint %s no longer exists",
                 cstore_rows_get(c.row, 0, 1));
        record(d, &c, &r, -1);
    } else if (!cJSON_IsObject(event)) {
        snprintf(r.error, sizeof r.error, "outbox %s: payload_json is not a JSON object",
                 cstore_rows_get(c.row, 0, 0));
        record(d, &c, &r, -1);
    } else {
        cdeliver_msg m = {.outbox_id = cstore_rows_get(c.row, 0, 0),
                          .payload = cstore_rows_get(c.row, 0, 3),
                          .event = event,
                          .ep_name = cstore_rows_get(c.ep, 0, 0),
                          .ep_kind = cstore_rows_get(c.ep, 0, 1),
                          .target = cstore_rows_get(c.ep, 0, 2),
                          .secret = cstore_rows_get(c.ep, 0, 3),
                          .lang = cstore_rows_get(c.ep, 0, 4)};
        cdeliver_net net = {.o = &d->o, .stop = &d->stop, .now_ms = d->clk->wall_ms(d->clk->ctx)};
        int64_t t0 = d->clk->mono_ms(d->clk->ctx);
        if (strcmp(m.ep_kind, "email") == 0)
            cdeliver_mail_send(&net, &m, &r);
        else
            cdeliver_http_send(&net, &m, &r);
        int64_t latency = d->clk->mono_ms(d->clk->ctx) - t0;
        if (r.aborted)
            release(d, &c);
        else
            record(d, &c, &r, latency);
    }
    cJSON_Delete(event);
    cstore_rows_free(c.row);
    cstore_rows_free(c.ep);
    return 1;
}

static void wait_ms(cdeliver *d, unsigned seen, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&d->mu);
    while (!atomic_load(&d->stop) && atomic_load(&d->wakes) == seen)
        if (pthread_cond_timedwait(&d->cv, &d->mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&d->mu);
}

/* Worker 0 looks for due rows every poll_ms; the others sleep until woken (by a claim, so a
 * backlog is worked on by all) or every IDLE_POLLS polls, which keeps an idle collector at a
 * few cheap queries a second. */
#define IDLE_POLLS 8

static void *worker(void *arg)
{
    cdeliver *d = ((void **)arg)[0];
    bool first = ((void **)arg)[1] != NULL;
    free(arg);
    while (!atomic_load(&d->stop)) {
        unsigned seen = atomic_load(&d->wakes);
        int got = deliver_one(d);
        if (got > 0)
            continue;
        wait_ms(d, seen, got < 0 ? ERROR_PAUSE_MS : d->o.poll_ms * (first ? 1 : IDLE_POLLS));
    }
    return NULL;
}

void cdeliver_wake(cdeliver *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    atomic_fetch_add(&d->wakes, 1);
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

tp_err cdeliver_start(cstore *s, const cdeliver_options *o, const tp_clock *clk, cdeliver **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    if (o->smtp_url && strncmp(o->smtp_url, "smtp://", 7) != 0 &&
        strncmp(o->smtp_url, "smtps://", 8) != 0)
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "--smtp '%s': expected smtp://HOST:PORT or smtps://HOST:PORT", o->smtp_url);
    if (o->smtp_user && !o->smtp_password)
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "--smtp-user needs --smtp-password-file (the password)");
    cdeliver *d = calloc(1, sizeof *d);
    if (!d)
        return TP_ERR_NOMEM;
    d->s = s;
    d->o = *o;
    d->clk = clk ? clk : tp_clock_system();
    d->pg = strcmp(cstore_kind(s), "postgresql") == 0;
    d->o.workers = o->workers ? o->workers : CDELIVER_WORKERS;
    d->o.backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : CDELIVER_BACKOFF_MS;
    d->o.backoff_cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms : 120 * d->o.backoff_ms;
    d->o.give_up_ms = o->give_up_ms > 0 ? o->give_up_ms : CDELIVER_GIVE_UP_MS;
    d->o.failing_after_ms =
        o->failing_after_ms > 0 ? o->failing_after_ms : CDELIVER_FAILING_AFTER_MS;
    d->o.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CDELIVER_TIMEOUT_MS;
    d->o.poll_ms = o->poll_ms > 0 ? o->poll_ms : CDELIVER_POLL_MS;
    atomic_init(&d->stop, false);
    atomic_init(&d->wakes, 0);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (tp_uuid7_new(d->clk, d->me) != TP_OK || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        free(d);
        return tp_errf(err, errlen, TP_ERR_IO, "deliver: cannot initialise (random, libcurl)");
    }
    d->th = calloc(d->o.workers, sizeof *d->th);
    for (unsigned i = 0; d->th && i < d->o.workers; i++) {
        void **arg = malloc(2 * sizeof *arg);
        if (!arg)
            break;
        arg[0] = d;
        arg[1] = i == 0 ? d : NULL;
        if (pthread_create(&d->th[i], NULL, worker, arg) != 0) {
            free(arg);
            break;
        }
        d->n_th++;
    }
    if (d->n_th != d->o.workers) {
        cdeliver_stop(d);
        return tp_errf(err, errlen, TP_ERR_NOMEM, "deliver: cannot start %u worker threads",
                       o->workers);
    }
    *out = d;
    return TP_OK;
}

void cdeliver_stop(cdeliver *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    atomic_store(&d->stop, true);
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    for (unsigned i = 0; i < d->n_th; i++)
        pthread_join(d->th[i], NULL);
    free(d->th);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    curl_global_cleanup();
    free(d);
}
