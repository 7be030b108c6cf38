/*
 * uploader_fixture.h - the fixture of the uploader's unit tests (test_uploader.c,
 * test_uploader_daemon.c): a scripted collector (libmicrohttpd on a free loopback port, plain or
 * TLS) whose replies a test picks with server_set(), a real store with answers, and helpers.
 */
#ifndef TP_UPLOADER_FIXTURE_H
#define TP_UPLOADER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "proto.h"
#include "store.h"
#include "uploader.h"

#define TOKEN "tok-Abc_123"
#define DEVICE "kiosk-01"

typedef enum mode {
    M_ACCEPT,       /* a real collector: new ids accepted, known ids duplicates */
    M_DUPLICATES,   /* everything reported as a duplicate */
    M_REJECT_FIRST, /* the first answer of each batch rejected, the rest accepted */
    M_OMIT_LAST,    /* the last answer of each batch not named at all */
    M_HTML,         /* 200 with a captive portal's page */
    M_WRONG_BATCH,  /* 200 acknowledgement of another batch id */
    M_500,
    M_503, /* + Retry-After: 7 */
    M_429, /* + Retry-After: 3 */
    M_401,
    M_413_OVER4, /* 413 for batches of more than 4 answers, else as M_ACCEPT */
    M_CLOSE_MID, /* starts a 200 reply, then closes the connection */
    M_SLOW,      /* a 200 reply trickling one byte every 300 ms */
} mode;

#define SEEN_MAX 4096

typedef struct server {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    mode mode;
    int connections;
    int requests;
    int max_batch;       /* largest batch seen */
    int proxied;         /* requests whose target was an absolute URL (sent to us as a proxy) */
    char retry_after[8]; /* Retry-After of M_503 ("7" unless a test changes it) */
    int64_t req_ms[64];  /* CLOCK_MONOTONIC ms of each request (the first 64) */
    mode req_mode[64];   /* the mode each request was answered in */
    bool saw_gzip;
    bool auth_ok;                     /* every request had the right bearer token */
    bool json_ok;                     /* every body parsed and had the protocol's top-level keys */
    char seen[SEEN_MAX][TP_UUID_STR]; /* accepted ids, for duplicates */
    int n_seen;
} server;

/* A server, a store with answers, an uploader's options. */
typedef struct fx {
    server sv;
    char dir[64];
    char db[128];
    char url[64];
    store *st;
} fx;

void server_start_tls(server *sv, const char *key_pem, const char *cert_pem);
void server_stop(server *sv);
void server_set(server *sv, mode m);
int server_get(server *sv, const int *field);
int64_t record(fx *f, int n);
void opts(fx *f, uploader_options *o, int batch_max);
uploader *make_uploader(fx *f, int batch_max);
store_info info_of(fx *f);
void expect_last_sync(fx *f, bool ok, int status, const char *msg_part);
int fx_setup(void **state);
int fx_teardown(void **state);
/* For main(): SIGPIPE ignored, proxy variables of the caller's environment removed. */
void fx_environment(void);

#endif /* TP_UPLOADER_FIXTURE_H */
