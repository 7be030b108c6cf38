/*
 * enroll.h - pairing a kiosk that has no token (PROTOCOL.md section 12, "Enrollment"): the sync
 * process (never the kiosk) makes a short code and a fresh secret key, POSTs them to
 * /v1/enroll, shows the code to people through pairing.json in the state folder (the kiosk draws
 * it with its QR code), polls until an operator approves the code (`touchpoint-collector device
 * approve CODE --node PATH`), and stores the token it then receives in the token file, mode 0600,
 * through a temp file and a rename (only a file it creates itself). Nothing is granted before
 * approval; an expired or refused code is replaced by a new one.
 *
 * Thread-safety: one call at a time.
 */
#ifndef TP_ENROLL_H
#define TP_ENROLL_H

#include <stdio.h>

#include "tp.h"

#define ENROLL_CODE_LEN 9 /* "ABCD-2345" */
#define ENROLL_KEY_LEN 43 /* base64url of 32 random bytes, no padding */

typedef struct enroll_options {
    const char *url;        /* collector base URL ("/v1/batches" is cut) */
    const char *token_file; /* where the token goes (its folder must exist) */
    const char *state_dir;  /* pairing.json goes here */
    const char *device_id;  /* the configured [device] id, sent with the code: `device approve`
                             * uses it unless given --id; NULL or "": none */
    const char *ca_file, *pinned_pubkey;
    int connect_timeout_s;
    int poll_s; /* seconds between polls [5] */
    int sigfd;  /* uploader_signals_open()'s fd: SIGTERM/SIGINT end the wait; -1: none */
    FILE *log;
} enroll_options;

/* Makes a code of 8 characters of 23456789ABCDEFGHJKLMNPQRSTUVWXYZ shown as 4-4 into code
 * (ENROLL_CODE_LEN + 1) and a key into key (ENROLL_KEY_LEN + 1). Returns TP_OK or TP_ERR_IO. */
tp_err enroll_make_code(char *code, char *key);

/* Pairs: returns TP_OK once the token file is written (device_id, idlen: the id the collector
 * gave), TP_ERR_BUSY when a stop signal came first, or TP_ERR_CONFIG / TP_ERR_IO with err. */
tp_err enroll_run(const enroll_options *opt, char *device_id, size_t idlen, char *err,
                  size_t errlen);

#endif /* TP_ENROLL_H */
