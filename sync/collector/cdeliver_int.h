/*
 * cdeliver_int.h - internals shared by the outbox worker's files: cdeliver.c (claims, attempts,
 * backoff, endpoint state), cdeliver_render.c (what each endpoint kind receives),
 * cdeliver_http.c (webhooks over libcurl) and cdeliver_mail.c (SMTP over libcurl).
 */
#ifndef TP_CDELIVER_INT_H
#define TP_CDELIVER_INT_H

#include <curl/curl.h>
#include <stdatomic.h>

#include "cdeliver.h"

/* One message on its way: the claimed outbox row and its endpoint. */
typedef struct cdeliver_msg {
    const char *outbox_id;
    const char *payload; /* the canonical event as stored */
    const cJSON *event;  /* payload parsed */
    const char *ep_name, *ep_kind, *target, *secret, *lang;
} cdeliver_msg;

/* The outcome of one attempt. */
typedef struct cdeliver_result {
    bool ok;
    bool aborted; /* stopped by cdeliver_stop: not an attempt */
    long status;  /* HTTP or SMTP reply code, 0 when there was none */
    char error[CDELIVER_ERROR_MAX];
} cdeliver_result;

/* What the transports need of the worker. */
typedef struct cdeliver_net {
    const cdeliver_options *o; /* defaults filled in */
    atomic_bool *stop;         /* set: abort the transfer */
    int64_t now_ms;            /* wall time of the attempt (webhook-timestamp, Date:) */
} cdeliver_net;

/* POSTs m to its URL (webhook, slack, google_chat), signed. Fills *r. */
void cdeliver_http_send(const cdeliver_net *n, const cdeliver_msg *m, cdeliver_result *r);

/* Sends m as e-mail to its addresses. Fills *r. */
void cdeliver_mail_send(const cdeliver_net *n, const cdeliver_msg *m, cdeliver_result *r);

/* The HTTP body for endpoint kind of m (the canonical event, a Slack or a Google Chat message).
 * Returns a string to free() or NULL (out of memory). */
char *cdeliver_render_body(const cdeliver_msg *m);

/* An e-mail's subject, plain text and HTML (each to free()) for m in its endpoint's language:
 * composed for alert events, taken from the payload's "email" part for digests. Returns TP_OK,
 * TP_ERR_INVALID (err says what the payload lacks) or TP_ERR_NOMEM. */
tp_err cdeliver_render_mail(const cdeliver_msg *m, char **subject, char **text, char **html,
                            char *err, size_t errlen);

/* Runs the transfer c (its URL, protocol and payload already set) with what both transports
 * share: no signals, the connect and total timeouts, an abort when the worker stops, the error
 * text in ebuf. Sets r->status (the server's last code) and, when stopped, r->aborted with
 * "stopped". Returns libcurl's code; the caller words any other failure. */
CURLcode cdeliver_perform(const cdeliver_net *n, CURL *c, char ebuf[CURL_ERROR_SIZE],
                          cdeliver_result *r);

#endif /* TP_CDELIVER_INT_H */
