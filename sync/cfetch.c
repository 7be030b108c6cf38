/*
 * cfetch.c - GET /v1/config into the state folder (cfetch.h), on its own libcurl handle.
 */
#include "cfetch.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "rconfig.h"

#define URL_MAX 2048

struct cfetch {
    CURL *curl;
    char url[URL_MAX];
    char auth[320];
    char state_dir[1024];
    FILE *log;
    char *body;
    size_t len;
    bool overflow;
    char curl_err[CURL_ERROR_SIZE];
};

void cfetch_base_url(const char *url, char *out, size_t outlen)
{
    size_t ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/')
        ul--;
    static const char ep[] = "/v1/batches";
    if (ul >= sizeof ep - 1 && memcmp(url + ul - (sizeof ep - 1), ep, sizeof ep - 1) == 0)
        ul -= sizeof ep - 1;
    snprintf(out, outlen, "%.*s", (int)ul, url);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
    cfetch *f = ctx;
    size_t n = size * nmemb;
    if (n > RCONFIG_BODY_MAX - f->len) {
        f->overflow = true;
        return 0;
    }
    memcpy(f->body + f->len, data, n);
    f->len += n;
    return n;
}

tp_err cfetch_new(const cfetch_options *opt, cfetch **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!opt->base_url || !opt->token || !opt->state_dir || !opt->state_dir[0])
        return tp_errf(err, errlen, TP_ERR_CONFIG,
                       "configuration delivery needs url, token and "
                       "state folder");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return tp_errf(err, errlen, TP_ERR_INTERNAL, "curl_global_init failed");
    cfetch *f = calloc(1, sizeof *f);
    if (!f) {
        curl_global_cleanup();
        return tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory");
    }
    char base[URL_MAX - 16];
    cfetch_base_url(opt->base_url, base, sizeof base);
    snprintf(f->url, sizeof f->url, "%s/v1/config", base);
    snprintf(f->auth, sizeof f->auth, "Authorization: Bearer %s", opt->token);
    tp_strlcpy(f->state_dir, opt->state_dir, sizeof f->state_dir);
    f->log = opt->log;
    f->body = malloc(RCONFIG_BODY_MAX);
    f->curl = curl_easy_init();
    if (!f->body || !f->curl) {
        cfetch_free(f);
        return tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory");
    }
    CURL *c = f->curl;
    CURLcode cc = curl_easy_setopt(c, CURLOPT_URL, f->url);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    cc = cc ? cc
            : curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                               (long)(opt->connect_timeout_s > 0 ? opt->connect_timeout_s : 10));
    cc = cc ? cc
            : curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                               (long)(opt->low_speed_time_s > 0 ? opt->low_speed_time_s : 30));
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 16L);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->curl_err);
    cc = cc ? cc : curl_easy_setopt(c, CURLOPT_USERAGENT, "touchpoint-sync");
    if (cc == CURLE_OK && opt->ca_file && *opt->ca_file)
        cc = curl_easy_setopt(c, CURLOPT_CAINFO, opt->ca_file);
    if (cc == CURLE_OK && opt->pinned_pubkey && *opt->pinned_pubkey)
        cc = curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, opt->pinned_pubkey);
    if (cc != CURLE_OK) {
        cfetch_free(f);
        return tp_errf(err, errlen, TP_ERR_CONFIG, "libcurl refused an option: %s",
                       curl_easy_strerror(cc));
    }
    *out = f;
    return TP_OK;
}

void cfetch_free(cfetch *f)
{
    if (!f)
        return;
    if (f->curl)
        curl_easy_cleanup(f->curl);
    explicit_bzero(f->auth, sizeof f->auth);
    free(f->body);
    free(f);
    curl_global_cleanup();
}

tp_err cfetch_update(cfetch *f, const char *desired, const char *running, cfetch_result *r)
{
    cfetch_result local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof *r);
    if (!desired || !desired[0] || (running && strcmp(desired, running) == 0)) {
        snprintf(r->message, sizeof r->message, "configuration up to date");
        return TP_OK;
    }
    char held[RCONFIG_REVISION_MAX + 1];
    rconfig_file_revision(f->state_dir, held, sizeof held);
    if (held[0] && strcmp(held, desired) == 0) {
        snprintf(r->message, sizeof r->message, "revision %s already delivered to the kiosk",
                 desired);
        return TP_OK;
    }
    struct curl_slist *h = NULL, *l;
    char inm[RCONFIG_REVISION_MAX + 32];
    tp_err rc = TP_OK;
    l = curl_slist_append(h, f->auth);
    h = l ? l : h;
    l = l ? curl_slist_append(h, "Accept: application/json") : NULL;
    h = l ? l : h;
    if (l && held[0]) {
        snprintf(inm, sizeof inm, "If-None-Match: \"%s\"", held);
        l = curl_slist_append(h, inm);
        h = l ? l : h;
    }
    if (!l) {
        curl_slist_free_all(h);
        return tp_errf(r->message, sizeof r->message, TP_ERR_NOMEM, "out of memory");
    }
    f->len = 0;
    f->overflow = false;
    f->curl_err[0] = '\0';
    curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, h);
    CURLcode cc = curl_easy_perform(f->curl);
    curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, NULL);
    for (struct curl_slist *x = h; x; x = x->next)
        explicit_bzero(x->data, strlen(x->data));
    curl_slist_free_all(h);
    r->requests = 1;
    long st = 0;
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &st);
    r->http_status = (int)st;
    if (cc != CURLE_OK) {
        rc = f->overflow ? TP_ERR_PROTOCOL
             : (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
                 ? TP_ERR_AUTH
                 : TP_ERR_NETWORK;
        return tp_errf(r->message, sizeof r->message, rc, "GET /v1/config: %s: %s",
                       curl_easy_strerror(cc), f->curl_err[0] ? f->curl_err : "no detail");
    }
    if (st == 304) {
        snprintf(r->message, sizeof r->message, "GET /v1/config: 304, revision %s unchanged", held);
        return TP_OK;
    }
    if (st != 200) {
        rc = st == 401 || st == 403   ? TP_ERR_AUTH
             : st == 429 || st >= 500 ? TP_ERR_BUSY
                                      : TP_ERR_PROTOCOL;
        return tp_errf(r->message, sizeof r->message, rc, "GET /v1/config: HTTP %ld", st);
    }
    rconfig *c = NULL;
    char perr[TP_ERRMSG_MAX];
    rc = rconfig_parse("GET /v1/config", f->body, f->len, &c, perr, sizeof perr);
    if (rc != TP_OK)
        return tp_errf(r->message, sizeof r->message, rc, "%s (not delivered to the kiosk)", perr);
    char rev[RCONFIG_REVISION_MAX + 1];
    tp_strlcpy(rev, c->revision, sizeof rev);
    rconfig_free(c);
    /* 0600: the body may hold the device's comment key (rconfig.h). */
    rc = rconfig_write_file(f->state_dir, RCONFIG_FILE, f->body, f->len, 0600, perr, sizeof perr);
    if (rc != TP_OK)
        return tp_errf(r->message, sizeof r->message, rc, "%s", perr);
    r->written = true;
    snprintf(r->message, sizeof r->message, "revision %s written to %.400s/%s", rev, f->state_dir,
             RCONFIG_FILE);
    return TP_OK;
}
