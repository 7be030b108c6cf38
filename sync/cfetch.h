/*
 * cfetch.h - the sync process's half of configuration delivery (PROTOCOL.md section 12): when a
 * batch reply names a desired revision the device neither runs nor already holds, GET /v1/config
 * (If-None-Match with the revision held), check the body with the collector's own parsers
 * (rconfig_parse: settings_parse + survey_parse) and write it whole into the state folder as
 * remote-config.json (rconfig_write_file), where the kiosk's inotify watch sees it. The kiosk
 * never talks to the network.
 *
 * No request is made when the desired revision is the running one or the one already on disk:
 * a round in which nothing changed costs nothing extra.
 *
 * Thread-safety: one thread at a time per cfetch.
 */
#ifndef TP_CFETCH_H
#define TP_CFETCH_H

#include <stdio.h>

#include "tp.h"

typedef struct cfetch cfetch;

typedef struct cfetch_options {
    const char *base_url;  /* collector base URL (the batch endpoint's "/v1/batches" is cut) */
    const char *token;     /* bearer token */
    const char *state_dir; /* the kiosk's state folder */
    const char *ca_file, *pinned_pubkey;
    int connect_timeout_s, low_speed_time_s;
    FILE *log;
} cfetch_options;

/* Returns TP_OK and *out (free with cfetch_free), TP_ERR_CONFIG / TP_ERR_NOMEM with err. */
tp_err cfetch_new(const cfetch_options *opt, cfetch **out, char *err, size_t errlen);
void cfetch_free(cfetch *f);

typedef struct cfetch_result {
    int requests;      /* HTTP requests made (0 or 1) */
    int http_status;   /* of that request */
    bool written;      /* a new remote-config.json was written */
    char message[512]; /* what happened, for the log */
} cfetch_result;

/* Brings remote-config.json to revision desired (""/NULL: nothing). running is the revision the
 * kiosk reports running. Returns TP_OK (nothing needed, 304, or written), TP_ERR_NETWORK /
 * TP_ERR_AUTH / TP_ERR_BUSY / TP_ERR_PROTOCOL (the file is left as it was), TP_ERR_CONFIG /
 * TP_ERR_SURVEY (the body failed the parsers: not written) or a file error. */
tp_err cfetch_update(cfetch *f, const char *desired, const char *running, cfetch_result *r);

/* The base URL without a trailing "/" or "/v1/batches" into out. */
void cfetch_base_url(const char *url, char *out, size_t outlen);

#endif /* TP_CFETCH_H */
