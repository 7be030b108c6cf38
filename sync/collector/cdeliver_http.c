/*
 * cdeliver_http.c - webhook delivery over libcurl: one POST per attempt, signed the Standard
 * Webhooks way (webhook-id = the outbox id, webhook-timestamp = unix seconds of the attempt,
 * webhook-signature = "v1," + base64 HMAC-SHA256 over "id.timestamp.body" with the endpoint's
 * secret). Any 2xx is delivered; anything else is a failed attempt with the reason.
 *
 * TLS is always verified (libcurl's defaults, never turned off); only http and https are
 * allowed, redirects are not followed (a receiver that moved must be re-registered, not chased
 * to wherever a 302 points), and the connection and the whole request have timeouts.
 */
#include "cdeliver_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_KEPT 200 /* bytes of a failed reply's body quoted in the error */

typedef struct reply {
    char text[REPLY_KEPT + 1];
    size_t len;
} reply;

/* Keeps the start of the reply body (for the error text) and drops the rest. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n, room = REPLY_KEPT - r->len;
    size_t take = len < room ? len : room;
    memcpy(r->text + r->len, p, take);
    r->len += take;
    r->text[r->len] = '\0';
    return len;
}

/* The error text without control characters (it lands in a log line and a table cell). */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            *s = ' ';
}

void cdeliver_http_send(const cdeliver_net *n, const cdeliver_msg *m, cdeliver_result *r)
{
    char sig[80], h_id[128], h_ts[64], h_sig[128];
    struct curl_slist *hdr = NULL;
    reply rep = {0};
    CURL *c = NULL;
    char *body = cdeliver_render_body(m);
    memset(r, 0, sizeof *r);
    if (!body) {
        snprintf(r->error, sizeof r->error, "out of memory rendering the body");
        return;
    }
    int64_t ts = n->now_ms / 1000;
    if (!m->secret ||
        cdeliver_sign(m->secret, m->outbox_id, ts, body, strlen(body), sig, sizeof sig) != TP_OK) {
        snprintf(r->error, sizeof r->error, "endpoint %s has no valid secret", m->ep_name);
        goto out;
    }
    snprintf(h_id, sizeof h_id, "webhook-id: %s", m->outbox_id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", (long long)ts);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
    const char *lines[] = {"Content-Type: application/json; charset=utf-8",
                           h_id,
                           h_ts,
                           h_sig,
                           "User-Agent: touchpoint-collector",
                           "Expect:"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct curl_slist *nh = curl_slist_append(hdr, lines[i]);
        if (!nh) {
            snprintf(r->error, sizeof r->error, "out of memory");
            goto out;
        }
        hdr = nh;
    }
    if (!(c = curl_easy_init())) {
        snprintf(r->error, sizeof r->error, "cannot start libcurl");
        goto out;
    }
    char ebuf[CURL_ERROR_SIZE];
    curl_easy_setopt(c, CURLOPT_URL, m->target);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
    CURLcode cc = cdeliver_perform(n, c, ebuf, r);
    if (cc != CURLE_OK) {
        if (!r->aborted) /* cdeliver_perform words a stop */
            snprintf(r->error, sizeof r->error, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
    } else if (r->status >= 200 && r->status < 300) {
        r->ok = true;
    } else {
        clean(rep.text);
        snprintf(r->error, sizeof r->error, "HTTP %ld%s%s", r->status, rep.len ? ": " : "",
                 rep.text);
    }
out:
    curl_easy_cleanup(c);
    curl_slist_free_all(hdr);
    free(body);
}
