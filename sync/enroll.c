/*
 * enroll.c - the device's side of enrollment (enroll.h): POST /v1/enroll, poll, store the token.
 */
#include "enroll.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cfetch.h"
#include "rconfig.h"

#define REPLY_MAX 8192

static const char ALPHABET[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

tp_err enroll_make_code(char *code, char *key)
{
    unsigned char r[8], k[32];
    if (tp_random_bytes(r, sizeof r) != TP_OK || tp_random_bytes(k, sizeof k) != TP_OK)
        return TP_ERR_IO;
    int o = 0;
    for (int i = 0; i < 8; i++) {
        if (i == 4)
            code[o++] = '-';
        code[o++] = ALPHABET[r[i] & 31]; /* 32 symbols: no bias */
    }
    code[o] = '\0';
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned acc = 0;
    int bits = 0;
    o = 0;
    for (size_t i = 0; i < sizeof k; i++) {
        acc = (acc << 8) | k[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            key[o++] = b64[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        key[o++] = b64[(acc << (6 - bits)) & 63];
    key[o] = '\0';
    explicit_bzero(k, sizeof k);
    return TP_OK;
}

typedef struct reply {
    char buf[REPLY_MAX];
    size_t len;
} reply;

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
    reply *r = ctx;
    size_t n = size * nmemb;
    if (n >= REPLY_MAX - r->len)
        return 0;
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    r->buf[r->len] = '\0';
    return n;
}

static void elog(const enroll_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void elog(const enroll_options *o, const char *fmt, ...)
{
    if (!o->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("sync: enroll: ", o->log);
    vfprintf(o->log, fmt, ap);
    fputc('\n', o->log);
    fflush(o->log);
    va_end(ap);
}

static void write_pairing(const enroll_options *o, const char *code, const char *expires,
                          const char *status)
{
    cJSON *j = cJSON_CreateObject();
    char err[TP_ERRMSG_MAX];
    if (!j)
        return;
    cJSON_AddStringToObject(j, "code", code);
    cJSON_AddStringToObject(j, "expires_at", expires);
    cJSON_AddStringToObject(j, "status", status);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (t && rconfig_write_file(o->state_dir, RCONFIG_PAIRING_FILE, t, strlen(t), 0644, err,
                                sizeof err) != TP_OK)
        elog(o, "%s", err);
    free(t);
}

/* Waits ms, or until a stop signal: returns true on a stop signal. */
static bool wait_or_stop(int sigfd, int ms)
{
    if (sigfd < 0) {
        usleep((useconds_t)ms * 1000);
        return false;
    }
    struct pollfd p = {.fd = sigfd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return false;
    struct signalfd_siginfo si;
    bool stop = false;
    while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
        stop = stop || si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT;
    return stop;
}

/* Writes the token file: a temp file in its folder, mode 0600, renamed into place. */
static tp_err store_token(const char *path, const char *token, char *err, size_t errlen)
{
    char dir[PATH_MAX], line[320];
    tp_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    const char *name = path;
    if (slash) {
        *slash = '\0';
        name = slash + 1;
        if (!dir[0])
            tp_strlcpy(dir, "/", sizeof dir);
    } else {
        tp_strlcpy(dir, ".", sizeof dir);
    }
    int n = snprintf(line, sizeof line, "%s\n", token);
    tp_err rc = rconfig_write_file(dir, name, line, (size_t)n, 0600, err, errlen);
    explicit_bzero(line, sizeof line);
    return rc;
}

tp_err enroll_run(const enroll_options *o, char *device_id, size_t idlen, char *err, size_t errlen)
{
    char base[2000], url[2048], code[ENROLL_CODE_LEN + 1], key[ENROLL_KEY_LEN + 1];
    char body[128 + TP_ID_MAX], expires[40] = "";
    tp_err rc = TP_OK;
    CURL *c = NULL;
    struct curl_slist *h = NULL;
    reply *rep = NULL;
    int poll_ms = (o->poll_s > 0 ? o->poll_s : 5) * 1000;
    cfetch_base_url(o->url, base, sizeof base);
    snprintf(url, sizeof url, "%s/v1/enroll", base);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return tp_errf(err, errlen, TP_ERR_INTERNAL, "curl_global_init failed");
    c = curl_easy_init();
    rep = malloc(sizeof *rep);
    h = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c || !rep || !h) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                     (long)(o->connect_timeout_s > 0 ? o->connect_timeout_s : 10));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, rep);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "touchpoint-sync");
    if (o->ca_file && *o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (o->pinned_pubkey && *o->pinned_pubkey)
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, o->pinned_pubkey);

    bool fresh = true;
    for (;;) {
        if (fresh) {
            if (enroll_make_code(code, key) != TP_OK) {
                rc = tp_errf(err, errlen, TP_ERR_IO, "no random bytes for a pairing code");
                goto out;
            }
            /* The configured id goes along, so the operator's approve need not type it (an
             * id is [A-Za-z0-9._-]: nothing to escape in JSON). */
            if (o->device_id && tp_id_valid(o->device_id))
                snprintf(body, sizeof body, "{\"code\":\"%s\",\"key\":\"%s\",\"device_id\":\"%s\"}",
                         code, key, o->device_id);
            else
                snprintf(body, sizeof body, "{\"code\":\"%s\",\"key\":\"%s\"}", code, key);
            expires[0] = '\0';
            write_pairing(o, code, expires, "starting");
            elog(o,
                 "pairing code %s (approve it with `touchpoint-collector device approve %s "
                 "--node PATH`)",
                 code, code);
            fresh = false;
        }
        rep->len = 0;
        rep->buf[0] = '\0';
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        CURLcode cc = curl_easy_perform(c);
        long st = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        int wait_ms = poll_ms;
        if (cc != CURLE_OK) {
            elog(o, "%s (trying again)", curl_easy_strerror(cc));
        } else if (st == 200 || st == 202) {
            cJSON *j = cJSON_ParseWithLength(rep->buf, rep->len);
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "status");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "device_id");
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "expires_at");
            if (st == 200 && cJSON_IsString(s) && strcmp(s->valuestring, "approved") == 0 &&
                cJSON_IsString(t) && t->valuestring[0] && strlen(t->valuestring) < 256) {
                rc = store_token(o->token_file, t->valuestring, err, errlen);
                if (cJSON_IsString(d))
                    tp_strlcpy(device_id, d->valuestring, idlen);
                explicit_bzero(t->valuestring, strlen(t->valuestring));
                cJSON_Delete(j);
                if (rc == TP_OK) {
                    write_pairing(o, code, expires, "approved");
                    elog(o, "approved as device %s; token stored in %s", device_id, o->token_file);
                }
                goto out;
            }
            if (cJSON_IsString(e) && strcmp(expires, e->valuestring) != 0) {
                tp_strlcpy(expires, e->valuestring, sizeof expires);
                write_pairing(o, code, expires, "pending");
            }
            cJSON_Delete(j);
        } else if (st == 403 || st == 410) {
            elog(o, "code %s refused (HTTP %ld): a new code", code, st);
            fresh = true;
            wait_ms = 0;
        } else if (st == 429) {
            wait_ms = poll_ms * 6;
            elog(o, "rate limited: waiting %d s", wait_ms / 1000);
        } else {
            elog(o, "HTTP %ld (trying again)", st);
        }
        if (wait_ms > 0 && wait_or_stop(o->sigfd, wait_ms)) {
            rc = TP_ERR_BUSY;
            goto out;
        }
    }
out:
    explicit_bzero(key, sizeof key);
    explicit_bzero(body, sizeof body);
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(rep);
    curl_global_cleanup();
    return rc;
}
