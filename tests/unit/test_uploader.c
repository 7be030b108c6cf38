/* test_uploader.c - unit tests of the sync client (sync/uploader.c) against a real HTTP server
 * inside the test: libmicrohttpd on a free loopback port plays scripted replies (acknowledgements,
 * duplicates, rejections, captive-portal HTML, 5xx, Retry-After, 401, 413, a connection cut
 * mid-reply, a reply too slow for the low-speed limit), with a real store file underneath. Also:
 * keep-alive across batches, proxies, the backoff and jitter arithmetic and the token file. TLS
 * and the daemon: test_uploader_daemon.c; the scripted collector: uploader_fixture.c. */
#include "uploader_fixture.h"

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

int main(void)
{
    fx_environment();
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
        T(proxy_from_environment),
        cmocka_unit_test(backoff_bounded_and_capped),
        T(token_file),
    };
#undef T
    return cmocka_run_group_tests_name("uploader", tests, NULL, NULL);
}
