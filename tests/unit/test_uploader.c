/* test_uploader.c - unit tests of the sync client (sync/uploader.c) against a real HTTP server
 * inside the test: libmicrohttpd on a free loopback port plays scripted replies (acknowledgements,
 * duplicates, rejections, captive-portal HTML, 5xx, Retry-After, 401, 413, a connection cut
 * mid-reply, a reply too slow for the low-speed limit), with a real store file underneath. Also:
 * keep-alive across batches, TLS (verification on by default, CA file, host name, pinned public
 * key) against an HTTPS server with a certificate made by the test, the backoff and jitter
 * arithmetic, the token file, and the daemon's signal handling (in a child process). */
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

/* ---- The scripted collector ----------------------------------------------------------------- */

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

typedef struct req {
    char *body;
    size_t len;
    bool too_big;
} req;

static bool seen_has(server *sv, const char *id)
{
    for (int i = 0; i < sv->n_seen; i++)
        if (strcmp(sv->seen[i], id) == 0)
            return true;
    return false;
}

static void conn_notify(void *cls, struct MHD_Connection *c, void **sock_ctx,
                        enum MHD_ConnectionNotificationCode code)
{
    server *sv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&sv->mu);
        sv->connections++;
        pthread_mutex_unlock(&sv->mu);
    }
}

static void req_done(void *cls, struct MHD_Connection *c, void **con_cls,
                     enum MHD_RequestTerminationCode toe)
{
    req *r = *con_cls;
    if (r) {
        free(r->body);
        free(r);
    }
    *con_cls = NULL;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *ctype,
                                  const char *text, const char *retry_after)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype);
    if (retry_after)
        MHD_add_response_header(resp, "Retry-After", retry_after);
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, cJSON *j,
                                  const char *retry_after)
{
    char *s = cJSON_PrintUnformatted(j);
    enum MHD_Result ret = s ? reply_text(c, status, "application/json", s, retry_after) : MHD_NO;
    free(s);
    return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *code,
                                   const char *retry_after)
{
    char text[200];
    snprintf(text, sizeof text, "{\"error\":{\"code\":\"%s\",\"message\":\"scripted %u\"}}", code,
             status);
    return reply_text(c, status, "application/json", text, retry_after);
}

/* Content reader of M_CLOSE_MID: a start of JSON, then an error (MHD closes the connection). */
static ssize_t close_mid_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    static const char head[] = "{\"protocol\":1,\"ack\":";
    if (pos >= sizeof head - 1)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = sizeof head - 1 - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, head + pos, n);
    return (ssize_t)n;
}

/* Content reader of M_SLOW: one byte every 300 ms, giving up after 40 bytes. */
static ssize_t slow_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    if (pos >= 40)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    buf[0] = ' ';
    return 1;
}

static char *gunzip_body(const char *in, size_t len, size_t *outlen)
{
    size_t cap = 16 * 1024 * 1024;
    char *out = malloc(cap + 1);
    if (!out)
        return NULL;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 31) != Z_OK) {
        free(out);
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    int zr = inflate(&zs, Z_FINISH);
    *outlen = zs.total_out;
    inflateEnd(&zs);
    if (zr != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    out[*outlen] = '\0';
    return out;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    server *sv = cls;
    req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (r->len + *upload_size > 8 * 1024 * 1024) {
            r->too_big = true;
        } else {
            char *nb = realloc(r->body, r->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            r->body = nb;
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
            r->body[r->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }

    /* A proxy gets the absolute URL as the request target. */
    const char *path = url;
    if (strncmp(url, "http://", 7) == 0) {
        path = strchr(url + 7, '/');
        pthread_mutex_lock(&sv->mu);
        sv->proxied++;
        pthread_mutex_unlock(&sv->mu);
    }
    if (!path || strcmp(path, "/v1/batches") != 0 || strcmp(method, "POST") != 0 || r->too_big)
        return reply_error(c, 404, "not_found", NULL);

    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    char *json = r->body;
    size_t jlen = r->len;
    char *plain = NULL;
    bool gz = enc && strcmp(enc, "gzip") == 0;
    if (gz) {
        plain = gunzip_body(r->body, r->len, &jlen);
        json = plain;
    }
    cJSON *root = json ? cJSON_ParseWithLength(json, jlen) : NULL;
    free(plain);
    const cJSON *bid = cJSON_GetObjectItemCaseSensitive(root, "batch_id");
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(root, "answers");
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    int n = cJSON_GetArraySize(answers);

    pthread_mutex_lock(&sv->mu);
    mode m = sv->mode;
    if (sv->requests < 64) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sv->req_ms[sv->requests] = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        sv->req_mode[sv->requests] = m;
    }
    sv->requests++;
    if (gz)
        sv->saw_gzip = true;
    if (!auth || strcmp(auth, "Bearer " TOKEN) != 0)
        sv->auth_ok = false;
    if (!root || !cJSON_IsString(bid) || !cJSON_IsArray(answers) || !cJSON_IsObject(dev) ||
        !ctype || strcmp(ctype, "application/json") != 0)
        sv->json_ok = false;
    if (n > sv->max_batch)
        sv->max_batch = n;
    pthread_mutex_unlock(&sv->mu);

    enum MHD_Result ret = MHD_NO;
    if (!root || !cJSON_IsString(bid) || !cJSON_IsArray(answers)) {
        ret = reply_error(c, 400, "malformed", NULL);
        goto out;
    }
    if (m == M_413_OVER4 && n > 4) {
        ret = reply_error(c, 413, "too_large", NULL);
        goto out;
    }
    switch (m) {
    case M_HTML:
        ret = reply_text(c, 200, "text/html",
                         "<html><body><h1>Welcome to Shop Wi-Fi</h1>Log in to continue</body>"
                         "</html>",
                         NULL);
        goto out;
    case M_500: ret = reply_error(c, 500, "internal", NULL); goto out;
    case M_503: ret = reply_error(c, 503, "store_unavailable", sv->retry_after); goto out;
    case M_429: ret = reply_error(c, 429, "rate_limited", "3"); goto out;
    case M_401: ret = reply_error(c, 401, "unauthenticated", NULL); goto out;
    case M_CLOSE_MID:
    case M_SLOW: {
        struct MHD_Response *resp = MHD_create_response_from_callback(
            1000, 64, m == M_SLOW ? slow_reader : close_mid_reader, NULL, NULL);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        goto out;
    }
    default: break;
    }

    cJSON *rep = cJSON_CreateObject();
    cJSON_AddNumberToObject(rep, "protocol", 1);
    cJSON_AddStringToObject(rep, "ack", "touchpoint-collector");
    cJSON_AddStringToObject(rep, "batch_id",
                            m == M_WRONG_BATCH ? "0193a5c2-7f1e-4b7a-9c1d-000000000000"
                                               : bid->valuestring);
    cJSON_AddNumberToObject(rep, "received_at_ms", 1763920001000.0);
    cJSON *acc = cJSON_AddArrayToObject(rep, "accepted");
    cJSON *dup = cJSON_AddArrayToObject(rep, "duplicates");
    cJSON *rej = cJSON_AddArrayToObject(rep, "rejected");
    int i = 0;
    const cJSON *a;
    pthread_mutex_lock(&sv->mu);
    cJSON_ArrayForEach(a, answers)
    {
        const char *id = cJSON_GetObjectItemCaseSensitive(a, "id")->valuestring;
        if (m == M_OMIT_LAST && i == n - 1) {
            /* not named */
        } else if (m == M_REJECT_FIRST && i == 0) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", id);
            cJSON_AddNumberToObject(o, "index", i);
            cJSON_AddStringToObject(o, "code", "value_out_of_range");
            cJSON_AddStringToObject(o, "message", "nps value 11 not in 0..10");
            cJSON_AddItemToArray(rej, o);
        } else if (m == M_DUPLICATES || seen_has(sv, id)) {
            cJSON_AddItemToArray(dup, cJSON_CreateString(id));
        } else {
            cJSON_AddItemToArray(acc, cJSON_CreateString(id));
            if (sv->n_seen < SEEN_MAX)
                tp_strlcpy(sv->seen[sv->n_seen++], id, TP_UUID_STR);
        }
        i++;
    }
    pthread_mutex_unlock(&sv->mu);
    ret = reply_json(c, 200, rep, NULL);
    cJSON_Delete(rep);
out:
    cJSON_Delete(root);
    return ret;
}

/* Starts the scripted collector; with key_pem/cert_pem it speaks HTTPS. */
static void server_start_tls(server *sv, const char *key_pem, const char *cert_pem)
{
    memset(sv, 0, sizeof *sv);
    pthread_mutex_init(&sv->mu, NULL);
    sv->auth_ok = true;
    sv->json_ok = true;
    tp_strlcpy(sv->retry_after, "7", sizeof sv->retry_after);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (key_pem)
        sv->d = MHD_start_daemon(
            flags | MHD_USE_TLS, 0, NULL, NULL, handle, sv, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_CONNECTION, conn_notify, sv,
            MHD_OPTION_NOTIFY_COMPLETED, req_done, sv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
            MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_END);
    else
        sv->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, sv, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_CONNECTION, conn_notify,
                                 sv, MHD_OPTION_NOTIFY_COMPLETED, req_done, sv,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    assert_non_null(sv->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(sv->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    sv->port = info->port;
    assert_true(sv->port > 0);
}

static void server_start(server *sv)
{
    server_start_tls(sv, NULL, NULL);
}

static void server_stop(server *sv)
{
    if (sv->d)
        MHD_stop_daemon(sv->d);
    sv->d = NULL;
    pthread_mutex_destroy(&sv->mu);
}

static void server_set(server *sv, mode m)
{
    pthread_mutex_lock(&sv->mu);
    sv->mode = m;
    pthread_mutex_unlock(&sv->mu);
}

static int server_get(server *sv, const int *field)
{
    pthread_mutex_lock(&sv->mu);
    int v = *field;
    pthread_mutex_unlock(&sv->mu);
    return v;
}

/* ---- Fixture: a server, a store with answers, an uploader ----------------------------------- */

typedef struct fx {
    server sv;
    char dir[64];
    char db[128];
    char url[64];
    store *st;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    server_start(&f->sv);
    tp_strlcpy(f->dir, "/tmp/tp-uploader-XXXXXX", sizeof f->dir);
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/kiosk.db", f->dir);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/", f->sv.port);
    store_options so = {.device_id = DEVICE};
    char err[256];
    if (store_open(f->db, &so, &f->st, err, sizeof err) != TP_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    server_stop(&f->sv);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

/* Records n single-answer NPS sessions; returns the seq of the first. */
static int64_t record(fx *f, int n)
{
    int64_t first = 0;
    for (int i = 0; i < n; i++) {
        store_answer_in a = {.question_id = "recommend", .kind = TP_KIND_NPS, .value = i % 11};
        store_session_in s = {.survey_id = "checkout-nps",
                              .survey_version = 1,
                              .store_id = "hcm-01",
                              .touchpoint_id = "exit",
                              .lang = "vi",
                              .n_answers = 1,
                              .answers = &a};
        store_receipt rc;
        assert_int_equal(store_record_session(f->st, &s, NULL, &rc), TP_OK);
        if (i == 0)
            first = rc.seq;
    }
    return first;
}

static void opts(fx *f, uploader_options *o, int batch_max)
{
    memset(o, 0, sizeof *o);
    o->url = f->url;
    o->token = TOKEN;
    o->device_id = DEVICE;
    o->app_version = "0.1.0-test";
    o->batch_max = batch_max;
    o->connect_timeout_s = 2;
    o->low_speed_time_s = 1;
    o->low_speed_limit = 100;
    o->interval_s = 5;
    o->rng_seed = 42;
}

static uploader *make_uploader(fx *f, int batch_max)
{
    uploader_options o;
    opts(f, &o, batch_max);
    uploader *u = NULL;
    char err[256];
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_OK);
    return u;
}

static store_info info_of(fx *f)
{
    store_info in;
    assert_int_equal(store_get_info(f->st, &in), TP_OK);
    return in;
}

/* Checks the newest sync log entry. */
static void expect_last_sync(fx *f, bool ok, int status, const char *msg_part)
{
    store_sync_result last, last_ok;
    assert_int_equal(store_last_sync(f->st, &last, &last_ok), TP_OK);
    if (last.ok != ok || last.http_status != status || !strstr(last.message, msg_part))
        fail_msg("last sync: ok %d http %d \"%s\"; expected ok %d http %d \"...%s...\"", last.ok,
                 last.http_status, last.message, ok, status, msg_part);
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static void accept_all_over_one_connection(void **state)
{
    fx *f = *state;
    record(f, 25);
    uploader *u = make_uploader(f, 10);
    uploader_round r;
    assert_int_equal(uploader_sync_round(u, &r), TP_OK);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.sent, 25);
    assert_int_equal(r.accepted, 25);
    assert_int_equal(r.duplicates + r.rejected + r.left_pending, 0);
    store_info in = info_of(f);
    assert_int_equal(in.n_pending, 0);
    assert_int_equal(in.n_synced, 25);
    store_sync_result last;
    assert_int_equal(store_last_sync(f->st, &last, NULL), TP_OK);
    assert_true(last.ok);
    assert_int_equal(last.http_status, 200);
    assert_int_equal(last.sent, 5);
    assert_int_equal(last.accepted, 5);
    assert_string_equal(last.message, "ok");
    assert_true(f->sv.auth_ok);
    assert_true(f->sv.json_ok);
    assert_true(f->sv.saw_gzip);
    assert_int_equal(server_get(&f->sv, &f->sv.requests), 3);

    /* Nothing pending: one status-only request, over the same connection. */
    assert_int_equal(uploader_sync_round(u, &r), TP_OK);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.sent, 0);
    assert_int_equal(server_get(&f->sv, &f->sv.connections), 1);
    uploader_free(u);
    print_message("checked: 25 answers in 3 gzip batches (10+10+5) all marked synced, bearer "
                  "token sent, log says ok/200/5 accepted; a status-only batch when nothing is "
                  "pending; 4 requests over 1 connection (keep-alive)\n");
}

static void duplicates_are_synced(void **state)
{
    fx *f = *state;
    record(f, 7);
    server_set(&f->sv, M_DUPLICATES);
    uploader *u = make_uploader(f, 100);
    uploader_round r;
    assert_int_equal(uploader_sync_round(u, &r), TP_OK);
    assert_int_equal(r.duplicates, 7);
    assert_int_equal(r.accepted, 0);
    assert_int_equal(info_of(f).n_synced, 7);
    store_sync_result last;
    assert_int_equal(store_last_sync(f->st, &last, NULL), TP_OK);
    assert_int_equal(last.duplicates, 7);
    uploader_free(u);
    print_message("checked: answers reported as duplicates are marked synced\n");
}

typedef struct census {
    int pending, synced, rejected;
    char code[TP_ID_MAX + 1];
    char reason[256];
    int64_t rejected_seq;
} census;

static tp_err census_cb(const store_answer *a, void *ctx)
{
    census *c = ctx;
    if (a->state == STORE_PENDING)
        c->pending++;
    else if (a->state == STORE_SYNCED)
        c->synced++;
    else {
        c->rejected++;
        tp_strlcpy(c->code, a->reject_code, sizeof c->code);
        tp_strlcpy(c->reason, a->reject_reason, sizeof c->reason);
        c->rejected_seq = a->seq;
    }
    return TP_OK;
}

static census count(fx *f)
{
    census c;
    memset(&c, 0, sizeof c);
    assert_int_equal(store_foreach_answer(f->st, 0, -1, census_cb, &c), TP_OK);
    return c;
}

static void rejected_are_quarantined(void **state)
{
    fx *f = *state;
    int64_t first = record(f, 6);
    server_set(&f->sv, M_REJECT_FIRST);
    uploader *u = make_uploader(f, 100);
    uploader_round r;
    assert_int_equal(uploader_sync_round(u, &r), TP_OK);
    assert_int_equal(r.rejected, 1);
    assert_int_equal(r.accepted, 5);
    census c = count(f);
    assert_int_equal(c.rejected, 1);
    assert_int_equal(c.synced, 5);
    assert_int_equal(c.pending, 0);
    assert_int_equal(c.rejected_seq, first);
    assert_string_equal(c.code, "value_out_of_range");
    assert_string_equal(c.reason, "nps value 11 not in 0..10");
    assert_int_equal(info_of(f).n_rejected, 1);
    /* A rejected answer is never sent again. */
    server_set(&f->sv, M_ACCEPT);
    assert_int_equal(uploader_sync_round(u, &r), TP_OK);
    assert_int_equal(r.sent, 0);
    uploader_free(u);
    print_message("checked: a rejected answer is quarantined with the collector's code and "
                  "message, the rest synced, and it is not sent again\n");
}

static void unnamed_answers_stay_pending(void **state)
{
    fx *f = *state;
    record(f, 9);
    server_set(&f->sv, M_OMIT_LAST);
    uploader *u = make_uploader(f, 3);
    uploader_round r;
    assert_int_equal(uploader_sync_round(u, &r), TP_OK);
    assert_int_equal(r.attempts, 3); /* walks forward: the unnamed ones are not resent at once */
    assert_int_equal(r.accepted, 6);
    assert_int_equal(r.left_pending, 3);
    assert_non_null(strstr(r.message, "3 not acknowledged"));
    census c = count(f);
    assert_int_equal(c.pending, 3);
    assert_int_equal(c.synced, 6);
    server_set(&f->sv, M_ACCEPT);
    assert_int_equal(uploader_sync_round(u, &r), TP_OK);
    assert_int_equal(r.sent, 3);
    assert_int_equal(count(f).synced, 9);
    uploader_free(u);
    print_message("checked: answers a valid reply does not name stay pending and go in the next "
                  "round\n");
}

/* A failing mode: the round fails with want, nothing is marked, the log records the failure. */
static void expect_failure(fx *f, mode m, tp_err want, int status, const char *msg_part,
                           int retry_after)
{
    server_set(&f->sv, m);
    uploader *u = make_uploader(f, 100);
    uploader_round r;
    tp_err rc = uploader_sync_round(u, &r);
    if (rc != want)
        fail_msg("mode %d: expected %s, got %s (%s)", (int)m, tp_err_name(want), tp_err_name(rc),
                 r.message);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.http_status, status);
    assert_int_equal(r.retry_after_s, retry_after);
    census c = count(f);
    assert_int_equal(c.synced + c.rejected, 0);
    expect_last_sync(f, false, status, msg_part);
    print_message("  mode %d -> %s, HTTP %d, log: %s\n", (int)m, tp_err_name(rc), r.http_status,
                  r.message);
    uploader_free(u);
}

static void failures_mark_nothing(void **state)
{
    fx *f = *state;
    record(f, 5);
    expect_failure(f, M_HTML, TP_ERR_PROTOCOL, 200, "not an acknowledgement", 0);
    expect_failure(f, M_WRONG_BATCH, TP_ERR_PROTOCOL, 200, "not this batch", 0);
    expect_failure(f, M_500, TP_ERR_BUSY, 500, "internal", 0);
    expect_failure(f, M_503, TP_ERR_BUSY, 503, "store_unavailable", 7);
    expect_failure(f, M_429, TP_ERR_BUSY, 429, "rate_limited", 3);
    expect_failure(f, M_401, TP_ERR_AUTH, 401, "unauthenticated", 0);
    expect_failure(f, M_CLOSE_MID, TP_ERR_NETWORK, 200, "", 0);
    expect_failure(f, M_SLOW, TP_ERR_NETWORK, 200, "", 0);
    assert_int_equal(info_of(f).n_pending, 5);
    /* After all that, a working collector gets everything. */
    server_set(&f->sv, M_ACCEPT);
    uploader *u = make_uploader(f, 100);
    assert_int_equal(uploader_sync_round(u, NULL), TP_OK);
    assert_int_equal(info_of(f).n_synced, 5);
    store_sync_result last, last_ok;
    assert_int_equal(store_last_sync(f->st, &last, &last_ok), TP_OK);
    /* The wrong-batch reply came from a collector that had stored them: duplicates now. */
    assert_true(last.ok && last_ok.ok);
    assert_int_equal(last_ok.sent, 5);
    assert_int_equal(last_ok.accepted + last_ok.duplicates, 5);
    uploader_free(u);
    print_message("checked: captive-portal HTML, wrong batch id, 500, 503+Retry-After 7, "
                  "429+Retry-After 3, 401, a reply cut mid-way and a reply below the low-speed "
                  "limit each fail with the right error, mark nothing and are logged; then a "
                  "good collector gets all 5\n");
}

static void too_large_halves_the_batch(void **state)
{
    fx *f = *state;
    record(f, 20);
    server_set(&f->sv, M_413_OVER4);
    uploader *u = make_uploader(f, 10);
    uploader_round r;
    assert_int_equal(uploader_sync_round(u, &r), TP_OK);
    assert_int_equal(r.accepted, 20);
    assert_int_equal(info_of(f).n_synced, 20);
    /* 10 -> 413, 5 -> 413, then batches of 2 (10 of them). */
    assert_int_equal(r.attempts, 12);
    uploader_free(u);
    print_message("checked: 413 halves the batch (10, 5, 2) until the collector takes it; all "
                  "20 synced\n");
}

static void unreachable_is_network(void **state)
{
    fx *f = *state;
    record(f, 2);
    server_stop(&f->sv);                 /* the port is now closed */
    pthread_mutex_init(&f->sv.mu, NULL); /* teardown destroys it again */
    uploader *u = make_uploader(f, 10);
    uploader_round r;
    assert_int_equal(uploader_sync_round(u, &r), TP_ERR_NETWORK);
    assert_int_equal(r.http_status, 0);
    assert_int_equal(info_of(f).n_pending, 2);
    expect_last_sync(f, false, 0, "onnect");
    uploader_free(u);
    print_message("checked: a closed port is TP_ERR_NETWORK, nothing marked, logged with HTTP 0: "
                  "%s\n",
                  r.message);
}

static void bad_options(void **state)
{
    fx *f = *state;
    uploader_options o;
    uploader *u = NULL;
    char err[256];
    opts(f, &o, 10);
    o.url = "ftp://example.com";
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_ERR_CONFIG);
    assert_non_null(strstr(err, "http"));
    opts(f, &o, 10);
    o.url = "";
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_ERR_CONFIG);
    opts(f, &o, 10);
    o.token = "";
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_ERR_CONFIG);
    opts(f, &o, 10);
    o.device_id = "no spaces";
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_ERR_CONFIG);
    opts(f, &o, 6000);
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_ERR_CONFIG);
    assert_null(u);
    /* The endpoint path may be given in full. */
    char full[96];
    snprintf(full, sizeof full, "http://127.0.0.1:%d/v1/batches", f->sv.port);
    opts(f, &o, 10);
    o.url = full;
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_OK);
    assert_int_equal(uploader_sync_round(u, NULL), TP_OK);
    uploader_free(u);
    print_message("checked: non-http URL, empty URL/token, bad device id, batch_max > 5000 "
                  "refused; a URL with /v1/batches already works\n");
}

static void proxy_from_environment(void **state)
{
    fx *f = *state;
    record(f, 2);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", f->sv.port);
    /* The collector's name does not resolve: only a proxy can deliver the batch. */
    assert_int_equal(setenv("http_proxy", proxy, 1), 0);
    uploader_options o;
    opts(f, &o, 10);
    o.url = "http://collector.invalid:8088";
    uploader *u = NULL;
    char err[256];
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_OK);
    uploader_round r;
    tp_err rc = uploader_sync_round(u, &r);
    uploader_free(u);
    unsetenv("http_proxy");
    if (rc != TP_OK)
        print_message("  round: %s\n", r.message);
    assert_int_equal(rc, TP_OK);
    assert_int_equal(r.accepted, 2);
    assert_int_equal(server_get(&f->sv, &f->sv.proxied), 1);
    print_message("checked: http_proxy from the environment is used (the batch for an "
                  "unresolvable collector went through the proxy and was acknowledged)\n");
}

static void backoff_bounded_and_capped(void **state)
{
    (void)state;
    uint64_t rng = 12345, rng2 = 12345;
    assert_int_equal(uploader_backoff_ms(&rng, 0, 5000, 900000), 0);
    for (unsigned n = 1; n <= 64; n++) {
        int64_t ceiling = 5000;
        for (unsigned k = 1; k < n && ceiling < 900000; k++)
            ceiling *= 2;
        if (ceiling > 900000)
            ceiling = 900000;
        int64_t mx = 0, mn = INT64_MAX;
        for (int i = 0; i < 2000; i++) {
            int64_t v = uploader_backoff_ms(&rng, n, 5000, 900000);
            assert_true(v >= 0 && v <= ceiling);
            assert_int_equal(v, uploader_backoff_ms(&rng2, n, 5000, 900000)); /* seeded */
            if (v > mx)
                mx = v;
            if (v < mn)
                mn = v;
        }
        /* full jitter spreads over the whole range */
        assert_true(mx > ceiling * 9 / 10);
        assert_true(mn < ceiling / 10);
    }
    /* huge failure counts do not overflow */
    int64_t v = uploader_backoff_ms(&rng, 4000000000u, 5000, 900000);
    assert_true(v >= 0 && v <= 900000);
    for (int i = 0; i < 5000; i++) {
        int64_t j = uploader_jitter_ms(&rng, 300000);
        assert_true(j >= 240000 && j <= 360000);
    }
    print_message("checked: backoff is 0 without failures, within [0, min(cap, 5 s * 2^(n-1))] "
                  "for n = 1..64 and 4e9, reproducible from the seed, spread over the range; "
                  "interval jitter within +-20%%\n");
}

static void token_file(void **state)
{
    fx *f = *state;
    char path[160], tok[UPLOADER_TOKEN_MAX], warn[300], err[300];
    snprintf(path, sizeof path, "%s/token", f->dir);
    assert_int_equal(uploader_read_token(path, tok, sizeof tok, warn, sizeof warn, err, sizeof err),
                     TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, path));
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("  \n" TOKEN "\r\n\n", fp);
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(uploader_read_token(path, tok, sizeof tok, warn, sizeof warn, err, sizeof err),
                     TP_OK);
    assert_string_equal(tok, TOKEN);
    assert_string_equal(warn, "");
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(uploader_read_token(path, tok, sizeof tok, warn, sizeof warn, err, sizeof err),
                     TP_OK);
    assert_non_null(strstr(warn, "chmod 600"));
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(" \n\t\n", fp);
    fclose(fp);
    assert_int_equal(uploader_read_token(path, tok, sizeof tok, warn, sizeof warn, err, sizeof err),
                     TP_ERR_CONFIG);
    assert_non_null(strstr(err, "empty"));
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("two words\n", fp);
    fclose(fp);
    assert_int_equal(uploader_read_token(path, tok, sizeof tok, warn, sizeof warn, err, sizeof err),
                     TP_ERR_CONFIG);
    print_message("checked: token file missing -> not_found naming it; whitespace trimmed; "
                  "world-readable -> chmod warning; empty or with spaces -> config error\n");
}

/* ---- TLS ------------------------------------------------------------------------------------ */

/* Copies what was written to the memory BIO b into a new NUL-terminated string (caller frees). */
static char *bio_string(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = malloc((size_t)n + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    return out;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

/* A self-signed P-256 certificate for IP 127.0.0.1 only (no DNS name): key, certificate and
 * public key as PEM strings (caller frees). */
static void make_cert(char **key_pem, char **cert_pem, char **pub_pem)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    assert_non_null(pk);
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, pk);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tp-test", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    assert_non_null(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
    BIO *bk = BIO_new(BIO_s_mem()), *bc = BIO_new(BIO_s_mem()), *bp = BIO_new(BIO_s_mem());
    assert_true(PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL) == 1);
    assert_true(PEM_write_bio_X509(bc, x) == 1);
    assert_true(PEM_write_bio_PUBKEY(bp, pk) == 1);
    *key_pem = bio_string(bk);
    *cert_pem = bio_string(bc);
    *pub_pem = bio_string(bp);
    BIO_free(bk);
    BIO_free(bc);
    BIO_free(bp);
    X509_free(x);
    EVP_PKEY_free(pk);
}

/* One round against the HTTPS server with the given TLS options; returns its result. */
static tp_err tls_round(fx *f, server *tls, const char *host, const char *ca, const char *pin,
                        uploader_round *r)
{
    char url[96];
    snprintf(url, sizeof url, "https://%s:%d", host, tls->port);
    uploader_options o;
    opts(f, &o, 100);
    o.url = url;
    o.ca_file = ca;
    o.pinned_pubkey = pin;
    uploader *u = NULL;
    char err[256];
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_OK);
    tp_err rc = uploader_sync_round(u, r);
    uploader_free(u);
    return rc;
}

static void tls_verification_and_pinning(void **state)
{
    fx *f = *state;
    char *key = NULL, *cert = NULL, *pub = NULL, *key2 = NULL, *cert2 = NULL, *pub2 = NULL;
    make_cert(&key, &cert, &pub);
    make_cert(&key2, &cert2, &pub2);
    char ca[160], pin[160], wrongpin[160];
    snprintf(ca, sizeof ca, "%s/ca.pem", f->dir);
    snprintf(pin, sizeof pin, "%s/pin.pem", f->dir);
    snprintf(wrongpin, sizeof wrongpin, "%s/other.pem", f->dir);
    write_file(ca, cert);
    write_file(pin, pub);
    write_file(wrongpin, pub2);
    server tls;
    server_start_tls(&tls, key, cert);
    record(f, 3);
    uploader_round r;

    /* Verification is on by default: a certificate no system CA signed is refused. */
    assert_int_equal(tls_round(f, &tls, "127.0.0.1", NULL, NULL, &r), TP_ERR_AUTH);
    print_message("  no CA file: %s\n", r.message);
    /* The private CA, but the certificate is for 127.0.0.1, not "localhost". */
    assert_int_equal(tls_round(f, &tls, "localhost", ca, NULL, &r), TP_ERR_AUTH);
    print_message("  wrong host name: %s\n", r.message);
    /* A pinned key that is not the server's, as a file and as a sha256// hash. */
    assert_int_equal(tls_round(f, &tls, "127.0.0.1", ca, wrongpin, &r), TP_ERR_AUTH);
    print_message("  wrong pinned key: %s\n", r.message);
    assert_int_equal(tls_round(f, &tls, "127.0.0.1", ca,
                               "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &r),
                     TP_ERR_AUTH);
    assert_int_equal(info_of(f).n_pending, 3);
    assert_int_equal(server_get(&tls, &tls.requests), 0);
    /* The private CA and the right pin: accepted. */
    assert_int_equal(tls_round(f, &tls, "127.0.0.1", ca, pin, &r), TP_OK);
    assert_int_equal(r.accepted, 3);
    assert_int_equal(info_of(f).n_synced, 3);
    assert_true(tls.auth_ok);
    server_stop(&tls);
    free(key);
    free(cert);
    free(pub);
    free(key2);
    free(cert2);
    free(pub2);
    print_message("checked: HTTPS verification is on by default (unknown CA, wrong host name, "
                  "wrong pinned key file or sha256// pin: TP_ERR_AUTH, no request reaches the "
                  "server); with ca_file and the right pin the batch is accepted\n");
}

/* Waits (bounded) until cond(f) holds; returns whether it did. Not a timing assertion: the
 * bound only stops a hung test. */
static bool wait_for(fx *f, bool (*cond)(fx *), int max_ms)
{
    for (int t = 0; t < max_ms; t += 50) {
        if (cond(f))
            return true;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return cond(f);
}

static bool first_round_done(fx *f)
{
    return server_get(&f->sv, &f->sv.requests) >= 1;
}

static bool all_synced(fx *f)
{
    store_info in;
    return store_get_info(f->st, &in) == TP_OK && in.n_pending == 0 && in.n_synced == 4;
}

/* Runs the daemon in a child process against f's server; returns its pid. */
static pid_t start_daemon(fx *f, int backoff_base_ms, int backoff_max_s)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    /* The child: its own store handle and uploader, an interval far beyond the test. */
    int rc = 10;
    store *cs = NULL;
    uploader *u = NULL;
    int sigfd = -1;
    store_options so = {.device_id = DEVICE};
    uploader_options o;
    opts(f, &o, 100);
    o.interval_s = 3600;
    o.backoff_base_ms = backoff_base_ms;
    o.backoff_max_s = backoff_max_s;
    if (uploader_signals_open(&sigfd, NULL, 0) == TP_OK &&
        store_open(f->db, &so, &cs, NULL, 0) == TP_OK && uploader_new(&o, cs, &u, NULL, 0) == TP_OK)
        rc = uploader_run(u, sigfd) == TP_OK ? 0 : 11;
    uploader_free(u);
    store_close(cs);
    if (sigfd >= 0)
        close(sigfd);
    _exit(rc);
}

static void stop_daemon(pid_t pid)
{
    kill(pid, SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static bool three_requests(fx *f)
{
    return server_get(&f->sv, &f->sv.requests) >= 3;
}

static int g_mark; /* request count to wait beyond */

static bool one_more_request(fx *f)
{
    return server_get(&f->sv, &f->sv.requests) > g_mark;
}

static void daemon_backs_off_and_honours_retry_after(void **state)
{
    fx *f = *state;
    record(f, 4);
    server_set(&f->sv, M_500);
    pid_t pid = start_daemon(f, 100, 1);
    /* Failures are retried on the backoff alone, without any signal. */
    bool retried = wait_for(f, three_requests, 20000);
    pthread_mutex_lock(&f->sv.mu);
    f->sv.mode = M_503;
    tp_strlcpy(f->sv.retry_after, "2", sizeof f->sv.retry_after);
    g_mark = f->sv.requests;
    pthread_mutex_unlock(&f->sv.mu);
    bool got503 = false;
    int i503 = -1;
    for (int t = 0; t < 200 && !got503; t++) { /* wait for a request answered 503 */
        if (!wait_for(f, one_more_request, 20000))
            break;
        pthread_mutex_lock(&f->sv.mu);
        for (int i = g_mark; i < f->sv.requests && i < 64; i++)
            if (f->sv.req_mode[i] == M_503) {
                got503 = true;
                i503 = i;
                break;
            }
        f->sv.mode = got503 ? M_ACCEPT : f->sv.mode;
        g_mark = f->sv.requests;
        pthread_mutex_unlock(&f->sv.mu);
    }
    kill(pid, SIGUSR1); /* "sync now" must still wait for the Retry-After */
    bool synced = wait_for(f, all_synced, 20000);
    stop_daemon(pid);
    assert_true(retried);
    assert_true(got503 && i503 >= 0 && i503 < 63);
    int64_t gap = f->sv.req_ms[i503 + 1] - f->sv.req_ms[i503];
    assert_true(synced);
    assert_int_equal(f->sv.req_mode[i503 + 1], M_ACCEPT);
    if (gap < 1900)
        fail_msg("the request after a 503 with Retry-After: 2 came %lld ms later", (long long)gap);
    print_message("checked: the daemon retries failures on its backoff without a signal, waits "
                  "out a 503's Retry-After: 2 even when SIGUSR1 asks for a sync (next request "
                  "%lld ms later), then syncs everything and exits 0 on SIGTERM\n",
                  (long long)gap);
}

static void daemon_wakes_on_usr1_and_stops_on_term(void **state)
{
    fx *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child: its own store handle and uploader, an interval far beyond the test. */
        int rc = 10;
        store *cs = NULL;
        uploader *u = NULL;
        int sigfd = -1;
        store_options so = {.device_id = DEVICE};
        uploader_options o;
        opts(f, &o, 100);
        o.interval_s = 3600;
        if (uploader_signals_open(&sigfd, NULL, 0) == TP_OK &&
            store_open(f->db, &so, &cs, NULL, 0) == TP_OK &&
            uploader_new(&o, cs, &u, NULL, 0) == TP_OK)
            rc = uploader_run(u, sigfd) == TP_OK ? 0 : 11;
        uploader_free(u);
        store_close(cs);
        if (sigfd >= 0)
            close(sigfd);
        _exit(rc);
    }
    bool ok1 = wait_for(f, first_round_done, 20000);
    record(f, 4);
    kill(pid, SIGUSR1);
    bool ok2 = wait_for(f, all_synced, 20000);
    kill(pid, SIGTERM);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(ok1);
    assert_true(ok2);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    print_message("checked: the daemon's first round runs at once, SIGUSR1 starts a round that "
                  "syncs new answers long before the 1 h interval, SIGTERM ends it with status "
                  "0\n");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* The tests talk to loopback servers; a proxy from the caller's environment must not
     * interfere (proxy_from_environment sets its own). */
    static const char *const proxy_vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
                                             "all_proxy",  "ALL_PROXY",   "no_proxy",
                                             "NO_PROXY"};
    for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
        unsetenv(proxy_vars[i]);
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(accept_all_over_one_connection),
        T(duplicates_are_synced),
        T(rejected_are_quarantined),
        T(unnamed_answers_stay_pending),
        T(failures_mark_nothing),
        T(too_large_halves_the_batch),
        T(unreachable_is_network),
        T(bad_options),
        T(tls_verification_and_pinning),
        T(proxy_from_environment),
        cmocka_unit_test(backoff_bounded_and_capped),
        T(token_file),
        T(daemon_wakes_on_usr1_and_stops_on_term),
        T(daemon_backs_off_and_honours_retry_after),
    };
#undef T
    return cmocka_run_group_tests_name("uploader", tests, NULL, NULL);
}
