/*
 * uploader.c - the sync client: batches from the store, HTTP(S) through one reused libcurl easy
 * handle (keep-alive), marks from validated acknowledgements only, and the daemon loop (poll on a
 * signalfd with the next deadline as timeout: no busy loop).
 */
#include "uploader.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfetch.h"
#include "proto.h"
#include "rconfig.h"

#define DEFAULT_APP_VERSION "0.1.0"
#define RETRY_AFTER_MAX_S 3600
#define MIN_WAIT_MS 1000
#define URL_MAX 2048
#define ENDPOINT "/v1/batches"

struct uploader {
    store *st;
    CURL *curl;
    struct curl_slist *headers;
    char url[URL_MAX];
    char device_id[TP_ID_MAX + 1];
    char app_version[PROTO_APP_VERSION_MAX + 1];
    size_t batch_max;
    size_t batch_max_bytes;
    bool gzip;
    int interval_s;
    int backoff_max_s;
    int backoff_base_ms;
    uint64_t rng;
    const tp_clock *clock;
    FILE *log;
    bool verbose;
    bool watch_signals; /* abort transfers when SIGTERM/SIGINT is pending (daemon) */
    bool stopping;      /* a stop signal was seen */
    store_answer *buf;  /* batch_max answers */
    /* the current reply, bounded by PROTO_MAX_REPLY */
    char *reply;
    size_t reply_len;
    bool reply_overflow;
    char curl_err[CURL_ERROR_SIZE];
    /* central configuration (NULL: off) */
    cfetch *cf;
    char state_dir[1024];
    char running_rev[RCONFIG_REVISION_MAX + 1];
    char config_error[RCONFIG_ERROR_MAX + 1];
};

/* ---- Small helpers -------------------------------------------------------------------------- */

static void ulog(const uploader *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ulog(const uploader *u, const char *fmt, ...)
{
    if (!u->log)
        return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(u->log, "sync: %s\n", line);
    fflush(u->log);
}

static int64_t mono_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: small, seedable, good enough for jitter (not for secrets). */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n] (n >= 0). */
static int64_t rng_upto(uint64_t *s, int64_t n)
{
    if (n <= 0)
        return 0;
    return (int64_t)(rng_next(s) % ((uint64_t)n + 1));
}

int64_t uploader_backoff_ms(uint64_t *rng, unsigned failures, int64_t base_ms, int64_t cap_ms)
{
    if (failures == 0 || base_ms <= 0 || cap_ms <= 0)
        return 0;
    unsigned shift = failures - 1 > 40 ? 40 : failures - 1;
    int64_t ceiling = cap_ms;
    if (base_ms <= (cap_ms >> shift))
        ceiling = base_ms << shift;
    return rng_upto(rng, ceiling);
}

int64_t uploader_jitter_ms(uint64_t *rng, int64_t interval_ms)
{
    if (interval_ms <= 0)
        return 0;
    int64_t spread = interval_ms / 5; /* 20% */
    return interval_ms - spread + rng_upto(rng, 2 * spread);
}

/* ---- Token ---------------------------------------------------------------------------------- */

tp_err uploader_read_token(const char *path, char *out, size_t outlen, char *warn, size_t warnlen,
                           char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    char *buf = NULL;
    size_t len = 0;
    char cause[TP_ERRMSG_MAX] = "";
    if (warn && warnlen)
        warn[0] = '\0';
    if (!out || outlen < 2)
        return tp_errf(err, errlen, TP_ERR_INVALID, "token buffer too small");
    out[0] = '\0';
    if (!path || !*path)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "[sync] token_file is not set");
    rc = tp_read_file(path, UPLOADER_TOKEN_MAX * 4 - 1, &buf, &len, cause, sizeof cause);
    if (rc == TP_ERR_NOT_FOUND || rc == TP_ERR_READONLY || rc == TP_ERR_IO)
        return tp_errf(err, errlen, rc,
                       "%s (make one with `touchpoint-collector add-device ID` and store the token "
                       "it prints)",
                       cause);
    if (rc == TP_ERR_INVALID)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "%s: the token file is not a regular file",
                       path);
    if (rc == TP_ERR_TOO_LARGE)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "%s: the token file is larger than %d bytes",
                       path, UPLOADER_TOKEN_MAX * 4 - 1);
    if (rc != TP_OK)
        return tp_errf(err, errlen, rc, "%s", cause);
    struct stat sb;
    if (stat(path, &sb) == 0 && (sb.st_mode & (S_IROTH | S_IWOTH)) && warn && warnlen)
        snprintf(warn, warnlen,
                 "%s: the token file can be read or written by any user (mode %03o); "
                 "run chmod 600 %s",
                 path, (unsigned)(sb.st_mode & 0777), path);
    size_t a = 0, b = len;
    while (a < b && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r' || buf[a] == '\n'))
        a++;
    while (b > a &&
           (buf[b - 1] == ' ' || buf[b - 1] == '\t' || buf[b - 1] == '\r' || buf[b - 1] == '\n'))
        b--;
    if (a == b) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s: the token file is empty", path);
        goto out;
    }
    if (b - a >= outlen || b - a >= UPLOADER_TOKEN_MAX) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s: the token is longer than %d characters", path,
                     UPLOADER_TOKEN_MAX - 1);
        goto out;
    }
    for (size_t i = a; i < b; i++) {
        if (buf[i] < 0x21 || buf[i] > 0x7e) {
            rc = tp_errf(err, errlen, TP_ERR_CONFIG,
                         "%s: the token contains a space or a non-ASCII byte at offset %zu", path,
                         i);
            goto out;
        }
    }
    memcpy(out, buf + a, b - a);
    out[b - a] = '\0';
out:
    explicit_bzero(buf, len);
    free(buf);
    return rc;
}

/* ---- Construction --------------------------------------------------------------------------- */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
    uploader *u = ctx;
    size_t n = size * nmemb;
    if (n > PROTO_MAX_REPLY - u->reply_len) {
        u->reply_overflow = true;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    memcpy(u->reply + u->reply_len, data, n);
    u->reply_len += n;
    return n;
}

/* Aborts a transfer when the daemon was told to stop (the signal stays pending for the loop). */
static int progress_cb(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    uploader *u = ctx;
    if (!u->watch_signals)
        return 0;
    sigset_t pend;
    if (sigpending(&pend) == 0 && (sigismember(&pend, SIGTERM) || sigismember(&pend, SIGINT))) {
        u->stopping = true;
        return 1;
    }
    return 0;
}

static bool url_scheme_ok(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

tp_err uploader_new(const uploader_options *opt, store *s, uploader **out, char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    uploader *u = NULL;
    char hdr[UPLOADER_TOKEN_MAX + 64];
    *out = NULL;
    if (!opt || !s)
        return tp_errf(err, errlen, TP_ERR_INVALID, "uploader_new: missing options or store");
    if (!opt->url || !*opt->url)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "[sync] url is empty: sync is off");
    if (!url_scheme_ok(opt->url))
        return tp_errf(err, errlen, TP_ERR_CONFIG,
                       "[sync] url \"%s\" must start with http:// or https://", opt->url);
    if (!opt->token || !*opt->token || strlen(opt->token) >= UPLOADER_TOKEN_MAX)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "no bearer token (see [sync] token_file)");
    if (!opt->device_id || !tp_id_valid(opt->device_id))
        return tp_errf(err, errlen, TP_ERR_CONFIG, "device id \"%s\" is not a valid id",
                       opt->device_id ? opt->device_id : "(none)");
    if (opt->batch_max < 0 || opt->batch_max > PROTO_MAX_ANSWERS)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "[sync] batch_max %d not in 1..%d",
                       opt->batch_max, PROTO_MAX_ANSWERS);
    if (opt->batch_max_bytes < 0)
        return tp_errf(err, errlen, TP_ERR_CONFIG, "[sync] batch_max_bytes %d is negative",
                       opt->batch_max_bytes);
    const char *ver = opt->app_version ? opt->app_version : DEFAULT_APP_VERSION;
    if (strlen(ver) > PROTO_APP_VERSION_MAX)
        return tp_errf(err, errlen, TP_ERR_INVALID, "app version longer than %d",
                       PROTO_APP_VERSION_MAX);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return tp_errf(err, errlen, TP_ERR_INTERNAL, "curl_global_init failed");
    u = calloc(1, sizeof *u);
    if (!u) {
        curl_global_cleanup();
        return tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory");
    }
    u->st = s;
    tp_strlcpy(u->device_id, opt->device_id, sizeof u->device_id);
    tp_strlcpy(u->app_version, ver, sizeof u->app_version);
    u->batch_max = (size_t)(opt->batch_max > 0 ? opt->batch_max : UPLOADER_DEFAULT_BATCH_MAX);
    u->batch_max_bytes = (size_t)(opt->batch_max_bytes > 0 ? opt->batch_max_bytes
                                                           : UPLOADER_DEFAULT_BATCH_MAX_BYTES);
    u->gzip = !opt->no_gzip;
    u->interval_s = opt->interval_s > 0 ? opt->interval_s : UPLOADER_DEFAULT_INTERVAL_S;
    u->backoff_max_s = opt->backoff_max_s > 0 ? opt->backoff_max_s : UPLOADER_DEFAULT_BACKOFF_MAX_S;
    u->backoff_base_ms = opt->backoff_base_ms > 0 ? opt->backoff_base_ms : 5000;
    u->clock = opt->clock ? opt->clock : tp_clock_system();
    u->log = opt->log;
    u->verbose = opt->verbose;
    u->rng = opt->rng_seed;
    if (!u->rng && tp_random_bytes(&u->rng, sizeof u->rng) != TP_OK)
        u->rng = (uint64_t)mono_now_ms() ^ ((uint64_t)getpid() << 32);

    /* The endpoint: the base URL plus /v1/batches, unless it is already the endpoint. */
    size_t ul = strlen(opt->url);
    while (ul > 0 && opt->url[ul - 1] == '/')
        ul--;
    size_t el = strlen(ENDPOINT);
    bool has_endpoint = ul >= el && memcmp(opt->url + ul - el, ENDPOINT, el) == 0;
    if ((size_t)snprintf(u->url, sizeof u->url, "%.*s%s", (int)ul, opt->url,
                         has_endpoint ? "" : ENDPOINT) >= sizeof u->url) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "[sync] url is longer than %d bytes", URL_MAX);
        goto out;
    }

    u->buf = calloc(u->batch_max, sizeof *u->buf);
    u->reply = malloc(PROTO_MAX_REPLY);
    u->curl = curl_easy_init();
    if (!u->buf || !u->reply || !u->curl) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory setting up the uploader");
        goto out;
    }

    const char *fixed[] = {"Content-Type: application/json", "Accept: application/json",
                           "Expect:", /* no 100-continue round trip per batch */
                           u->gzip ? "Content-Encoding: gzip" : NULL};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (!fixed[i])
            continue;
        struct curl_slist *l = curl_slist_append(u->headers, fixed[i]);
        if (!l) {
            rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory building headers");
            goto out;
        }
        u->headers = l;
    }
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", opt->token);
    struct curl_slist *l = curl_slist_append(u->headers, hdr);
    explicit_bzero(hdr, sizeof hdr);
    if (!l) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory building headers");
        goto out;
    }
    u->headers = l;

    char agent[64];
    snprintf(agent, sizeof agent, "touchpoint-sync/%s", u->app_version);
    CURL *c = u->curl;
    long cto =
        opt->connect_timeout_s > 0 ? opt->connect_timeout_s : UPLOADER_DEFAULT_CONNECT_TIMEOUT_S;
    long lst =
        opt->low_speed_time_s > 0 ? opt->low_speed_time_s : UPLOADER_DEFAULT_LOW_SPEED_TIME_S;
    long lsl = opt->low_speed_limit > 0 ? opt->low_speed_limit : 16;
    /* Proxies: libcurl reads http_proxy/https_proxy/no_proxy itself; nothing here turns it off.
     * Redirects are not followed: a captive portal's 302 is a failure, not a new target. */
    CURLcode cc = curl_easy_setopt(c, CURLOPT_URL, u->url);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_HTTPHEADER, u->headers);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_POST, 1L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cto);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, lst);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, lsl);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_WRITEDATA, u);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_XFERINFODATA, u);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_ERRORBUFFER, u->curl_err);
    if (cc == CURLE_OK && opt->ca_file && *opt->ca_file)
        cc = curl_easy_setopt(c, CURLOPT_CAINFO, opt->ca_file);
    if (cc != CURLE_OK) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "libcurl refused an option: %s",
                     curl_easy_strerror(cc));
        goto out;
    }
    if (opt->pinned_pubkey && *opt->pinned_pubkey) {
        cc = curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, opt->pinned_pubkey);
        if (cc != CURLE_OK) {
            rc = tp_errf(err, errlen, TP_ERR_CONFIG,
                         "[sync] pinned_pubkey: this libcurl cannot pin keys: %s",
                         curl_easy_strerror(cc));
            goto out;
        }
    }
    if (opt->state_dir && opt->state_dir[0]) {
        cfetch_options co = {.base_url = opt->url,
                             .token = opt->token,
                             .state_dir = opt->state_dir,
                             .ca_file = opt->ca_file,
                             .pinned_pubkey = opt->pinned_pubkey,
                             .connect_timeout_s = opt->connect_timeout_s,
                             .low_speed_time_s = opt->low_speed_time_s,
                             .log = opt->log};
        rc = cfetch_new(&co, &u->cf, err, errlen);
        if (rc != TP_OK)
            goto out;
        tp_strlcpy(u->state_dir, opt->state_dir, sizeof u->state_dir);
    }
    *out = u;
    u = NULL;
out:
    uploader_free(u);
    return rc;
}

void uploader_free(uploader *u)
{
    if (!u)
        return;
    if (u->curl)
        curl_easy_cleanup(u->curl);
    if (u->headers) {
        /* the list holds the token: wipe it before it goes back to the allocator */
        for (struct curl_slist *l = u->headers; l; l = l->next)
            explicit_bzero(l->data, strlen(l->data));
        curl_slist_free_all(u->headers);
    }
    cfetch_free(u->cf);
    free(u->buf);
    free(u->reply);
    free(u);
    curl_global_cleanup();
}

/* ---- One attempt ---------------------------------------------------------------------------- */

/* The outcome of one HTTP request. */
typedef struct attempt {
    tp_err rc;
    int http_status;
    int retry_after_s;
    char message[256];
} attempt;

/* Maps a curl failure to tp_err. TLS verification and pin failures are authentication: the
 * peer is not who it claims to be. */
static tp_err map_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: return TP_ERR_AUTH;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return TP_ERR_CONFIG;
    case CURLE_OUT_OF_MEMORY: return TP_ERR_NOMEM;
    default: return TP_ERR_NETWORK;
    }
}

/* Maps an HTTP status other than a 2xx to tp_err (PROTOCOL.md section 5). */
static tp_err map_status(long st)
{
    if (st == 401 || st == 403)
        return TP_ERR_AUTH;
    if (st == 413)
        return TP_ERR_TOO_LARGE;
    if (st == 429 || st == 503)
        return TP_ERR_BUSY;
    if (st == 502 || st == 504)
        return TP_ERR_NETWORK;
    if (st >= 500)
        return TP_ERR_BUSY;
    return TP_ERR_PROTOCOL;
}

/* Posts b and, on a 2xx, validates the reply into *rep. Never marks anything. */
static void post_batch(uploader *u, const proto_batch *b, proto_reply *rep, attempt *at)
{
    memset(at, 0, sizeof *at);
    u->reply_len = 0;
    u->reply_overflow = false;
    u->curl_err[0] = '\0';
    CURL *c = u->curl;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)b->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body_len);
    CURLcode cc = curl_easy_perform(c);
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    at->http_status = (int)st;
    if (cc != CURLE_OK) {
        if (u->reply_overflow) {
            at->rc = tp_errf(at->message, sizeof at->message, TP_ERR_PROTOCOL,
                             "HTTP %ld reply larger than %d bytes", st, PROTO_MAX_REPLY);
        } else if (u->stopping) {
            at->rc = tp_errf(at->message, sizeof at->message, TP_ERR_NETWORK,
                             "interrupted by a stop signal");
        } else {
            at->rc = tp_errf(at->message, sizeof at->message, map_curl(cc), "%s: %s",
                             curl_easy_strerror(cc), u->curl_err[0] ? u->curl_err : "no detail");
        }
        return;
    }
    if (st >= 200 && st < 300) {
        char perr[200];
        at->rc = st == 200 ? proto_parse_reply(u->reply, u->reply_len, b->batch_id, u->buf,
                                               b->n_answers, rep, perr, sizeof perr)
                           : tp_errf(perr, sizeof perr, TP_ERR_PROTOCOL, "status is not 200");
        if (at->rc != TP_OK)
            snprintf(at->message, sizeof at->message, "HTTP %ld, not an acknowledgement: %s", st,
                     perr);
        return;
    }
    at->rc = map_status(st);
    curl_off_t ra = -1;
    if ((st == 429 || st == 503) && curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
        ra > 0)
        at->retry_after_s = ra > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)ra;
    char code[64], msg[160];
    if (proto_parse_error(u->reply, u->reply_len, code, sizeof code, msg, sizeof msg) == TP_OK)
        snprintf(at->message, sizeof at->message, "HTTP %ld %s: %s", st, code, msg);
    else
        snprintf(at->message, sizeof at->message, "HTTP %ld (no error body)", st);
    if (at->retry_after_s > 0) {
        size_t ml = strlen(at->message);
        snprintf(at->message + ml, sizeof at->message - ml, " (retry after %d s)",
                 at->retry_after_s);
    }
}

/* Marks what the reply names. Returns a store error or TP_OK. */
static tp_err apply_reply(uploader *u, const proto_reply *rep)
{
    size_t nmark = rep->n_accepted + rep->n_duplicates;
    if (nmark > 0) {
        int64_t *seqs = malloc(nmark * sizeof *seqs);
        if (!seqs)
            return TP_ERR_NOMEM;
        size_t k = 0;
        for (size_t i = 0; i < rep->n_accepted; i++)
            seqs[k++] = u->buf[rep->accepted[i]].seq;
        for (size_t i = 0; i < rep->n_duplicates; i++)
            seqs[k++] = u->buf[rep->duplicates[i]].seq;
        tp_err rc = store_mark_synced(u->st, seqs, nmark, NULL);
        free(seqs);
        if (rc != TP_OK)
            return rc;
    }
    for (size_t i = 0; i < rep->n_rejected; i++) {
        const proto_rejection *r = &rep->rejected[i];
        tp_err rc = store_mark_rejected(u->st, u->buf[r->index].seq, r->code, r->message);
        if (rc != TP_OK)
            return rc;
    }
    return TP_OK;
}

/* Fills the device block from the store and the clock at this moment. */
static tp_err device_status(uploader *u, store_info *info, proto_device *d)
{
    tp_err rc = store_get_info(u->st, info);
    if (rc != TP_OK)
        return rc;
    memset(d, 0, sizeof *d);
    d->id = u->device_id;
    d->epoch = info->epoch;
    d->epoch_first_seq = info->epoch_first_seq > 0 ? info->epoch_first_seq : 1;
    d->app_version = u->app_version;
    d->pending = info->n_pending;
    d->highest_seq = info->highest_seq;
    d->disk_free = info->free_bytes > 0 ? info->free_bytes : 0;
    d->clock_trusted = u->clock->synced(u->clock->ctx);
    d->sent_wall_ms = u->clock->wall_ms(u->clock->ctx);
    d->sent_mono_ms = u->clock->mono_ms(u->clock->ctx);
    d->boot_id = u->clock->boot_id(u->clock->ctx);
    if (u->cf) {
        /* What the kiosk last wrote; no file yet: "" (local configuration only). */
        rconfig_status_read(u->state_dir, u->running_rev, sizeof u->running_rev, u->config_error,
                            sizeof u->config_error);
        d->config_revision = u->running_rev;
        d->config_error = u->config_error;
    }
    return TP_OK;
}

static void log_attempt(uploader *u, const attempt *at, size_t sent, const proto_reply *rep)
{
    store_sync_result res;
    memset(&res, 0, sizeof res);
    res.at_ms = u->clock->wall_ms(u->clock->ctx);
    res.ok = at->rc == TP_OK;
    res.http_status = at->http_status;
    res.sent = (int64_t)sent;
    if (res.ok && rep) {
        res.accepted = (int64_t)rep->n_accepted;
        res.duplicates = (int64_t)rep->n_duplicates;
        res.rejected = (int64_t)rep->n_rejected;
    }
    tp_strlcpy(res.message, res.ok ? "ok" : at->message, sizeof res.message);
    if (store_log_sync(u->st, &res) != TP_OK)
        ulog(u, "could not record the attempt in the sync log: %s", store_errmsg(u->st));
}

/* ---- Rounds --------------------------------------------------------------------------------- */

/* After the batches: the desired revision of the last reply, fetched when it is new. A failure
 * is logged and left for the next round (the desired revision still differs then); the
 * answers' round stays a success. */
static void fetch_config(uploader *u, const char *desired, uploader_round *r)
{
    cfetch_result cr;
    tp_err rc = cfetch_update(u->cf, desired, u->running_rev, &cr);
    r->config_requests = cr.requests;
    r->config_written = cr.written;
    tp_strlcpy(r->config_message, cr.message, sizeof r->config_message);
    if (rc != TP_OK || cr.written || u->verbose)
        ulog(u, "config: %s", cr.message);
}

tp_err uploader_sync_round(uploader *u, uploader_round *r)
{
    uploader_round local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof *r);
    tp_err rc = TP_OK;
    proto_batch b;
    proto_reply rep;
    memset(&b, 0, sizeof b);
    memset(&rep, 0, sizeof rep);
    int64_t after = 0;
    size_t cur_max = u->batch_max;
    bool requested = false;
    bool has_desired = false;
    char desired[PROTO_REVISION_MAX + 1] = "";

    for (;;) {
        size_t n = 0;
        rc = store_read_pending(u->st, after, cur_max, u->buf, &n);
        if (rc != TP_OK) {
            snprintf(r->message, sizeof r->message, "reading pending answers: %s",
                     store_errmsg(u->st));
            goto out;
        }
        if (n == 0 && requested)
            break;
        store_info info;
        proto_device dev;
        rc = device_status(u, &info, &dev);
        if (rc != TP_OK) {
            snprintf(r->message, sizeof r->message, "reading the store's status: %s",
                     store_errmsg(u->st));
            goto out;
        }
        char eerr[200];
        rc = proto_encode_batch(&dev, u->buf, n, cur_max, u->batch_max_bytes, u->gzip, &b, eerr,
                                sizeof eerr);
        if (rc != TP_OK) {
            snprintf(r->message, sizeof r->message, "encoding a batch: %s", eerr);
            goto out;
        }
        attempt at;
        post_batch(u, &b, &rep, &at);
        requested = true;
        r->attempts++;
        r->sent += (int64_t)b.n_answers;
        r->http_status = at.http_status;
        r->retry_after_s = at.retry_after_s;
        if (at.rc == TP_OK) {
            rc = apply_reply(u, &rep);
            if (rc != TP_OK) {
                /* The collector has them; they stay pending here and come back as duplicates. */
                snprintf(at.message, sizeof at.message, "acknowledged, but marking failed: %s",
                         store_errmsg(u->st));
                at.rc = rc;
            }
        }
        log_attempt(u, &at, b.n_answers, &rep);
        if (at.rc == TP_OK) {
            size_t named = rep.n_accepted + rep.n_duplicates + rep.n_rejected;
            has_desired = rep.has_config_revision;
            tp_strlcpy(desired, rep.config_revision, sizeof desired);
            r->accepted += (int64_t)rep.n_accepted;
            r->duplicates += (int64_t)rep.n_duplicates;
            r->rejected += (int64_t)rep.n_rejected;
            r->left_pending += (int64_t)(b.n_answers - named);
            if (u->verbose)
                ulog(u,
                     "batch %s: %zu answers, %zu bytes%s: HTTP %d, %zu accepted, %zu duplicates, "
                     "%zu rejected, %zu not named",
                     b.batch_id, b.n_answers, b.body_len, b.gzipped ? " gzip" : "", at.http_status,
                     rep.n_accepted, rep.n_duplicates, rep.n_rejected, b.n_answers - named);
            if (b.n_answers == 0)
                break; /* a status-only batch ends the round */
            /* Walk forward: answers the reply did not name wait for the next round. */
            after = u->buf[b.n_answers - 1].seq;
            proto_reply_free(&rep);
            proto_batch_free(&b);
            continue;
        }
        if (u->verbose)
            ulog(u, "batch %s: %zu answers, %zu bytes: %s", b.batch_id, b.n_answers, b.body_len,
                 at.message);
        if (at.rc == TP_ERR_TOO_LARGE && b.n_answers > 1 && !u->stopping) {
            cur_max = b.n_answers / 2;
            proto_batch_free(&b);
            continue;
        }
        rc = at.rc;
        tp_strlcpy(r->message, at.message, sizeof r->message);
        goto out;
    }
    if (r->left_pending > 0)
        snprintf(r->message, sizeof r->message,
                 "ok: %lld accepted, %lld duplicates, %lld rejected, %lld not acknowledged",
                 (long long)r->accepted, (long long)r->duplicates, (long long)r->rejected,
                 (long long)r->left_pending);
    else
        snprintf(r->message, sizeof r->message, "ok: %lld accepted, %lld duplicates, %lld rejected",
                 (long long)r->accepted, (long long)r->duplicates, (long long)r->rejected);
    if (u->cf && has_desired)
        fetch_config(u, desired, r);
out:
    proto_reply_free(&rep);
    proto_batch_free(&b);
    return rc;
}

/* ---- Daemon --------------------------------------------------------------------------------- */

tp_err uploader_signals_open(int *fd, char *err, size_t errlen)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    *fd = -1;
    int e = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (e != 0)
        return tp_errf(err, errlen, TP_ERR_IO, "blocking signals: %s", strerror(e));
    int f = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (f < 0)
        return tp_errf(err, errlen, TP_ERR_IO, "signalfd: %s", strerror(errno));
    *fd = f;
    return TP_OK;
}

/* Reads every queued signal. Returns 1 on a stop signal, 2 on a wake-up only, 0 on none. */
static int read_signals(int sigfd)
{
    int what = 0;
    struct signalfd_siginfo si;
    for (;;) {
        ssize_t k = read(sigfd, &si, sizeof si);
        if (k != (ssize_t)sizeof si)
            break;
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            what = 1;
        else if (si.ssi_signo == SIGUSR1 && what == 0)
            what = 2;
    }
    return what;
}

/* Store errors after which another round cannot succeed. */
static bool fatal_store_error(tp_err rc)
{
    return rc == TP_ERR_CORRUPT || rc == TP_ERR_TOO_NEW || rc == TP_ERR_READONLY;
}

tp_err uploader_run(uploader *u, int sigfd)
{
    u->watch_signals = sigfd >= 0;
    u->stopping = false;
    unsigned failures = 0;
    int64_t next = mono_now_ms(); /* the first round starts at once */
    int64_t not_before = 0;       /* end of a Retry-After */
    ulog(u, "daemon: posting to %s every %d s (+-20%%)", u->url, u->interval_s);
    for (;;) {
        int64_t now = mono_now_ms();
        if (next > now) {
            int64_t wait = next - now;
            struct pollfd p = {.fd = sigfd, .events = POLLIN};
            int k = poll(sigfd >= 0 ? &p : NULL, sigfd >= 0 ? 1 : 0,
                         wait > INT_MAX ? INT_MAX : (int)wait);
            if (k < 0 && errno != EINTR)
                return TP_ERR_IO;
            if (k > 0) {
                int what = read_signals(sigfd);
                if (what == 1) {
                    ulog(u, "daemon: stop signal, exiting");
                    return TP_OK;
                }
                if (what == 2) {
                    now = mono_now_ms();
                    next = not_before > now ? not_before : now;
                    ulog(u, "daemon: sync now requested%s",
                         not_before > now ? " (after the collector's Retry-After)" : "");
                }
            }
            continue;
        }
        uploader_round r;
        tp_err rc = uploader_sync_round(u, &r);
        /* Signals that came during the round stay queued in the signalfd: the poll below sees
         * them at once (a SIGUSR1 then starts another round for what was recorded meanwhile). */
        if (u->stopping) {
            ulog(u, "daemon: stop signal, exiting");
            return TP_OK;
        }
        now = mono_now_ms();
        if (rc == TP_OK) {
            failures = 0;
            not_before = 0;
            next = now + uploader_jitter_ms(&u->rng, (int64_t)u->interval_s * 1000);
            if (u->verbose)
                ulog(u, "round %s; next in %lld s", r.message, (long long)((next - now) / 1000));
            continue;
        }
        if (fatal_store_error(rc)) {
            ulog(u, "daemon: giving up: %s", r.message);
            return rc;
        }
        failures++;
        int64_t wait = uploader_backoff_ms(&u->rng, failures, u->backoff_base_ms,
                                           (int64_t)u->backoff_max_s * 1000);
        if (wait < MIN_WAIT_MS)
            wait = MIN_WAIT_MS;
        not_before = 0;
        if (r.retry_after_s > 0) {
            int64_t ra = (int64_t)r.retry_after_s * 1000;
            not_before = now + ra;
            if (wait < ra)
                wait = ra;
        }
        next = now + wait;
        if (u->log)
            fprintf(u->log, "sync: round failed (%s, %u in a row): %s; retry in %lld ms\n",
                    tp_err_name(rc), failures, r.message, (long long)wait);
    }
}
