/*
 * fuzz_reply.c - libFuzzer target for the sync client's reply parser (sync/proto.h
 * proto_parse_reply) and for the agreement between the collector's reply and that parser.
 *
 * Each input is used twice:
 *  1. as a reply body to a fixed batch of six answers (the ids of tests/fuzz/corpus/reply/):
 *     whatever the bytes, the parser either refuses them with a message or returns indexes that
 *     are inside the batch and name no answer twice - so a hostile or broken reply can never
 *     mark an answer that was not sent, or one answer two ways;
 *  2. as a batch body for the collector's parser (sync/collector/cbatch.h): when it parses, the
 *     collector's reply for its valid answers (outcomes picked from the input) is fed to the
 *     client's parser, which must accept it and see the same accepted / duplicate / conflict
 *     split - the two halves of protocol v1 agree on every batch the collector accepts.
 * A broken promise aborts, which libFuzzer reports with the input saved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbatch.h"
#include "proto.h"
#include "tp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_reply: promise broken: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define FIXED_N 6
static const char FIXED_BATCH[] = "3f2b8c1e-9a7d-4e21-b6c3-5d4e3f2a1b0c";

/* The ids make_corpus.py gives answers 1..6: uid(1000 + i). */
static void fixed_answers(store_answer *a)
{
    memset(a, 0, FIXED_N * sizeof *a);
    for (int i = 0; i < FIXED_N; i++) {
        unsigned n = 1001u + (unsigned)i;
        snprintf(a[i].id, sizeof a[i].id, "0192e4a8-%04x-7%03x-8%03x-%012x", n & 0xffffu,
                 n & 0xfffu, (n * 7u) & 0xfffu, n * 977u);
        a[i].seq = i + 1;
    }
}

/* Checks the parser's promises on any reply; returns true when it was accepted. */
static bool check_reply(const char *body, size_t len, const char *batch_id,
                        const store_answer *answers, size_t n, proto_reply *r)
{
    char err[256];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    memset(r, 0, sizeof *r);
    tp_err rc = proto_parse_reply(body, len, batch_id, answers, n, r, err, sizeof err);
    if (rc != TP_OK) {
        CHECK(rc == TP_ERR_PROTOCOL || rc == TP_ERR_TOO_LARGE || rc == TP_ERR_NOMEM);
        CHECK(memchr(err, '\0', sizeof err) && err[0] != '\0' && err[0] != 'x');
        CHECK(r->accepted == NULL && r->duplicates == NULL && r->rejected == NULL);
        return false;
    }
    CHECK(r->n_accepted + r->n_duplicates + r->n_rejected <= n);
    bool *seen = calloc(n + 1, sizeof *seen);
    CHECK(seen != NULL);
    for (size_t i = 0; i < r->n_accepted; i++) {
        CHECK(r->accepted[i] < n && !seen[r->accepted[i]]);
        seen[r->accepted[i]] = true;
    }
    for (size_t i = 0; i < r->n_duplicates; i++) {
        CHECK(r->duplicates[i] < n && !seen[r->duplicates[i]]);
        seen[r->duplicates[i]] = true;
    }
    for (size_t i = 0; i < r->n_rejected; i++) {
        const proto_rejection *x = &r->rejected[i];
        CHECK(x->index < n && !seen[x->index]);
        seen[x->index] = true;
        CHECK(memchr(x->code, '\0', sizeof x->code) && tp_id_valid(x->code));
        CHECK(memchr(x->message, '\0', sizeof x->message));
        CHECK(tp_utf8_valid(x->message, strlen(x->message)));
    }
    free(seen);
    return true;
}

/* Collector reply -> client parser, for a batch the collector parsed. */
static void round_trip(const uint8_t *data, size_t size, const cbatch *b0)
{
    const int64_t received = 1763920001000LL;
    cbatch b = *b0;
    store_answer *answers = calloc(b.n_answers + 1, sizeof *answers);
    unsigned char *outcomes = calloc(b.n_answers + 1, 1);
    size_t want[3] = {0, 0, 0};
    bool unique = true;
    proto_reply r;
    CHECK(answers && outcomes);

    /* The collector's own rejections can carry ids the client never sends (not UUIDs, or no
     * id at all), so the reply checked here is for the valid answers only. */
    b.n_rejects = 0;
    for (size_t i = 0; i < b.n_answers; i++) {
        tp_strlcpy(answers[i].id, b.answers[i].id, sizeof answers[i].id);
        answers[i].seq = b.answers[i].seq;
        outcomes[i] = (unsigned char)(data[(i * 13 + 1) % size] % 3);
        want[outcomes[i]]++;
        for (size_t j = 0; j < i && unique; j++)
            unique = strcmp(b.answers[i].id, b.answers[j].id) != 0;
    }
    char *reply = cbatch_reply_json(&b, outcomes, received);
    CHECK(reply != NULL);
    bool ok = check_reply(reply, strlen(reply), b.batch_id, answers, b.n_answers, &r);
    /* A batch naming one id twice gets a reply naming it twice, which the client refuses; the
     * client never sends such a batch. Otherwise the client must take the reply as it is. */
    if (unique) {
        CHECK(ok);
        CHECK(r.n_accepted == want[CBATCH_ACCEPTED]);
        CHECK(r.n_duplicates == want[CBATCH_DUPLICATE]);
        CHECK(r.n_rejected == want[CBATCH_CONFLICT]);
        CHECK(r.received_at_ms == received);
        for (size_t i = 0; i < r.n_rejected; i++)
            CHECK(strcmp(r.rejected[i].code, "seq_conflict") == 0);
    }
    proto_reply_free(&r);
    free(reply);
    free(outcomes);
    free(answers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store_answer fixed[FIXED_N];
    proto_reply r;
    cbatch *b = NULL;
    char err[256];

    fixed_answers(fixed);
    check_reply((const char *)data, size, FIXED_BATCH, fixed, FIXED_N, &r);
    proto_reply_free(&r);

    if (size > 0 &&
        cbatch_parse((const char *)data, size, 1763920001000LL, &b, err, sizeof err) == TP_OK) {
        round_trip(data, size, b);
        cbatch_free(b);
    }
    return 0;
}
