/* test_uploader_daemon.c - unit tests of the sync client (sync/uploader.c) that need more than one
 * round or a certificate: TLS (verification on by default, CA file, host name, pinned public
 * key) against an HTTPS server with a certificate made by the test, and the daemon's backoff,
 * Retry-After and signal handling (in a child process). Fixture: uploader_fixture.h. */
#include "uploader_fixture.h"

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
    fx_environment();
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(tls_verification_and_pinning),
        T(daemon_backs_off_and_honours_retry_after),
        T(daemon_wakes_on_usr1_and_stops_on_term),
    };
#undef T
    return cmocka_run_group_tests_name("uploader_daemon", tests, NULL, NULL);
}
