/*
 * fuzz_encode.c - libFuzzer target for the other direction of protocol v1: what the sync client
 * encodes (sync/proto.h proto_encode_batch) the collector must read back unchanged
 * (sync/collector/cbatch.h cbatch_parse).
 *
 * The input bytes drive a device block and 1..8 answers that the kiosk's store could hold (ids of
 * 1..64 characters of the id alphabet, lowercase UUIDs, language tags, values in their kind's
 * range, flags, seqs from epoch_first_seq up to 2^53-1, times from 0 to 2100), with and without
 * gzip and with tight byte bounds. Whenever the encoder makes a batch, the collector must accept
 * every answer in it - none rejected - with every field equal to what was encoded, and the
 * device block equal too. A disagreement aborts, which libFuzzer reports with the input saved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cbatch.h"
#include "proto.h"
#include "tp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_encode: promise broken: %s (line %d)\n", #cond, __LINE__);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Reads the input as a stream of choices; zeros once it runs out. */
typedef struct bytes {
    const uint8_t *p;
    size_t n;
} bytes;

static unsigned take(bytes *b)
{
    if (b->n == 0)
        return 0;
    b->n--;
    return *b->p++;
}

static uint64_t take64(bytes *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | take(b);
    return v;
}

/* An integer in [lo, hi], biased to the bounds now and then. */
static int64_t take_range(bytes *b, int64_t lo, int64_t hi)
{
    unsigned sel = take(b) % 8;
    if (sel == 0)
        return lo;
    if (sel == 1)
        return hi;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(span ? take64(b) % span : take64(b));
}

static void take_id(bytes *b, char *out, size_t cap)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    size_t len = 1 + take(b) % TP_ID_MAX;
    if (len > cap - 1)
        len = cap - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[take(b) % (sizeof alphabet - 1)];
    out[len] = '\0';
}

static void take_uuid(bytes *b, char out[TP_UUID_STR])
{
    unsigned char r[16];
    for (int i = 0; i < 16; i++)
        r[i] = (unsigned char)take(b);
    snprintf(out, TP_UUID_STR,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
}

static void take_lang(bytes *b, char *out)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-";
    size_t len = 2 + take(b) % (TP_LANG_MAX - 1);
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[take(b) % (sizeof alphabet - 1)];
    out[len] = '\0';
}

/* Inflates a gzip body (zlib, window bits 31) into a new NUL-terminated buffer. */
static char *gunzip(const unsigned char *in, size_t len, size_t want)
{
    char *out = malloc(want + 1);
    z_stream zs;
    CHECK(out != NULL);
    memset(&zs, 0, sizeof zs);
    CHECK(inflateInit2(&zs, 31) == Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)want;
    CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
    CHECK(zs.total_out == want);
    inflateEnd(&zs);
    out[want] = '\0';
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bytes b = {data, size};
    char dev_id[TP_ID_MAX + 1], epoch[TP_UUID_STR], boot[TP_UUID_STR], version[16];
    store_answer answers[8];
    proto_device dev;
    proto_batch batch;
    cbatch *cb = NULL;
    char err[256];

    memset(&dev, 0, sizeof dev);
    take_id(&b, dev_id, sizeof dev_id);
    take_uuid(&b, epoch);
    take_uuid(&b, boot);
    snprintf(version, sizeof version, "0.%u.%u~x", take(&b), take(&b));
    dev.id = dev_id;
    dev.epoch = epoch;
    dev.epoch_first_seq = take_range(&b, 1, CBATCH_MAX_INT - 100);
    dev.app_version = version;
    dev.pending = take_range(&b, 0, CBATCH_MAX_INT);
    dev.highest_seq = take_range(&b, 0, CBATCH_MAX_INT);
    dev.disk_free = take_range(&b, 0, CBATCH_MAX_INT);
    dev.clock_trusted = take(&b) & 1;
    dev.sent_wall_ms = take_range(&b, 0, CBATCH_MAX_MS);
    dev.sent_mono_ms = take_range(&b, 0, CBATCH_MAX_INT);
    dev.boot_id = take(&b) & 1 ? boot : epoch;

    size_t n = 1 + take(&b) % 8;
    memset(answers, 0, sizeof answers);
    for (size_t i = 0; i < n; i++) {
        store_answer *a = &answers[i];
        int lo = 0, hi = 0;
        a->seq = dev.epoch_first_seq + (int64_t)i;
        take_uuid(&b, a->id);
        take_uuid(&b, a->session_id);
        take_id(&b, a->survey_id, sizeof a->survey_id);
        a->survey_version = (int)take_range(&b, 1, 1000000);
        take_id(&b, a->question_id, sizeof a->question_id);
        a->kind = (tp_kind)(take(&b) % TP_KIND_COUNT);
        if (a->kind == TP_KIND_CHOICE) {
            take_id(&b, a->choice_id, sizeof a->choice_id);
        } else {
            tp_kind_range(a->kind, &lo, &hi);
            a->value = (int)take_range(&b, lo, hi);
        }
        take_lang(&b, a->lang);
        take_id(&b, a->store_id, sizeof a->store_id);
        take_id(&b, a->touchpoint_id, sizeof a->touchpoint_id);
        a->wall_ms = take_range(&b, 0, CBATCH_MAX_MS);
        a->clock_trusted = take(&b) & 1;
        a->mono_ms = take_range(&b, 0, CBATCH_MAX_INT);
        if (take(&b) & 1)
            memcpy(a->boot_id, dev.boot_id, TP_UUID_STR);
        else
            take_uuid(&b, a->boot_id);
        a->flags = take(&b) & TP_FLAGS_KNOWN;
    }
    bool gz = take(&b) & 1;
    size_t max_bytes = take(&b) & 1 ? 300 + take(&b) * 16 : 0;

    tp_err rc = proto_encode_batch(&dev, answers, n, 0, max_bytes, gz, &batch, err, sizeof err);
    /* Every field is one the store could hold, so only a byte bound may refuse... and the
     * encoder always takes the first answer. */
    CHECK(rc == TP_OK);
    CHECK(batch.n_answers >= 1 && batch.n_answers <= n);
    CHECK(batch.gzipped == gz);

    char *json = gz ? gunzip(batch.body, batch.body_len, batch.json_len) : NULL;
    const char *text = gz ? json : (const char *)batch.body;
    size_t text_len = gz ? batch.json_len : batch.body_len;
    rc = cbatch_parse(text, text_len, CBATCH_MAX_MS, &cb, err, sizeof err);
    if (rc != TP_OK)
        fprintf(stderr, "fuzz_encode: collector refused the batch: %s\n", err);
    CHECK(rc == TP_OK);
    if (cb->n_rejects > 0)
        fprintf(stderr, "fuzz_encode: collector rejected seq %lld: %s: %s\n",
                (long long)cb->rejects[0].seq, cbatch_code_name(cb->rejects[0].code),
                cb->rejects[0].message);
    CHECK(cb->n_rejects == 0);
    CHECK(cb->n_answers == batch.n_answers);
    CHECK(strcmp(cb->batch_id, batch.batch_id) == 0);
    CHECK(strcmp(cb->device.id, dev.id) == 0 && strcmp(cb->device.epoch, dev.epoch) == 0);
    CHECK(cb->device.epoch_first_seq == dev.epoch_first_seq);
    CHECK(strcmp(cb->device.app_version, dev.app_version) == 0);
    CHECK(cb->device.pending == dev.pending && cb->device.highest_seq == dev.highest_seq);
    CHECK(cb->device.disk_free == dev.disk_free && cb->device.clock_trusted == dev.clock_trusted);
    CHECK(cb->device.sent_wall_ms == dev.sent_wall_ms);
    CHECK(cb->device.sent_mono_ms == dev.sent_mono_ms);
    CHECK(strcmp(cb->device.boot_id, dev.boot_id) == 0);
    for (size_t i = 0; i < cb->n_answers; i++) {
        const store_answer *a = &answers[i];
        const cbatch_answer *c = &cb->answers[i];
        CHECK(strcmp(c->id, a->id) == 0 && c->seq == a->seq);
        CHECK(strcmp(c->session, a->session_id) == 0);
        CHECK(strcmp(c->survey, a->survey_id) == 0 && c->survey_version == a->survey_version);
        CHECK(strcmp(c->question, a->question_id) == 0 && c->kind == a->kind);
        if (a->kind == TP_KIND_CHOICE)
            CHECK(strcmp(c->choice, a->choice_id) == 0);
        else
            CHECK(c->value == a->value && c->choice[0] == '\0');
        CHECK(strcmp(c->lang, a->lang) == 0 && strcmp(c->store, a->store_id) == 0);
        CHECK(strcmp(c->touchpoint, a->touchpoint_id) == 0);
        CHECK(c->wall_ms == a->wall_ms && c->clock_trusted == a->clock_trusted);
        CHECK(c->mono_ms == a->mono_ms && strcmp(c->boot_id, a->boot_id) == 0);
        CHECK(c->flags == a->flags);
    }
    cbatch_free(cb);
    free(json);
    proto_batch_free(&batch);
    return 0;
}
