/*
 * uploader_fixture.c - the uploader tests' fixture (uploader_fixture.h): the scripted collector
 * and the store around it.
 */
#include "uploader_fixture.h"

/* ---- The scripted collector ----------------------------------------------------------------- */

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
void server_start_tls(server *sv, const char *key_pem, const char *cert_pem)
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

void server_stop(server *sv)
{
    if (sv->d)
        MHD_stop_daemon(sv->d);
    sv->d = NULL;
    pthread_mutex_destroy(&sv->mu);
}

void server_set(server *sv, mode m)
{
    pthread_mutex_lock(&sv->mu);
    sv->mode = m;
    pthread_mutex_unlock(&sv->mu);
}

int server_get(server *sv, const int *field)
{
    pthread_mutex_lock(&sv->mu);
    int v = *field;
    pthread_mutex_unlock(&sv->mu);
    return v;
}

/* ---- Fixture: a server, a store with answers, an uploader ----------------------------------- */

int fx_setup(void **state)
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

int fx_teardown(void **state)
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
int64_t record(fx *f, int n)
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

void opts(fx *f, uploader_options *o, int batch_max)
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

uploader *make_uploader(fx *f, int batch_max)
{
    uploader_options o;
    opts(f, &o, batch_max);
    uploader *u = NULL;
    char err[256];
    assert_int_equal(uploader_new(&o, f->st, &u, err, sizeof err), TP_OK);
    return u;
}

store_info info_of(fx *f)
{
    store_info in;
    assert_int_equal(store_get_info(f->st, &in), TP_OK);
    return in;
}

/* Checks the newest sync log entry. */
void expect_last_sync(fx *f, bool ok, int status, const char *msg_part)
{
    store_sync_result last, last_ok;
    assert_int_equal(store_last_sync(f->st, &last, &last_ok), TP_OK);
    if (last.ok != ok || last.http_status != status || !strstr(last.message, msg_part))
        fail_msg("last sync: ok %d http %d \"%s\"; expected ok %d http %d \"...%s...\"", last.ok,
                 last.http_status, last.message, ok, status, msg_part);
}

void fx_environment(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* The tests talk to loopback servers; a proxy from the caller's environment must not
     * interfere (proxy_from_environment sets its own). */
    static const char *const proxy_vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
                                             "all_proxy",  "ALL_PROXY",   "no_proxy",
                                             "NO_PROXY"};
    for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
        unsetenv(proxy_vars[i]);
}
