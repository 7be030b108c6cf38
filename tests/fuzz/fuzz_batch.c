/*
 * fuzz_batch.c - libFuzzer target for the collector's batch parser
 * (sync/collector/cbatch.h).
 *
 * Feeds each input to cbatch_parse() as a POST /v1/batches body and, beyond "no crash, no leak,
 * no undefined behaviour" (ASan + UBSan), checks the promises the collector relies on before it
 * stores anything: every accepted answer holds only valid fields (ids, UUIDs, kind and range,
 * language, flags, time source), every rejection has a known code and a terminated message, a
 * failed parse says why, and the reply built from the result is JSON that names the same batch
 * and lists every answer exactly once. A broken promise aborts, which libFuzzer reports as a crash
 * with the input saved.
 *
 * Build and run: `make fuzz` (see tests/fuzz/fuzz.mk); seeds in tests/fuzz/corpus/batch/.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbatch.h"
#include "cjarena.h"
#include "tp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed receive time: corrected times are never later than it. */
#define RECEIVED_MS 1700000000000LL

/* Aborts with the broken promise: libFuzzer saves the input as a crash. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_batch: promise broken: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static bool lower_uuid(const char *s)
{
    if (!terminated(s, TP_UUID_STR) || strlen(s) != 36 || !tp_uuid_valid(s))
        return false;
    for (const char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            return false;
    return true;
}

static void check_answer(const cbatch *b, const cbatch_answer *a)
{
    int lo = 0, hi = 0;
    CHECK(lower_uuid(a->id));
    CHECK(lower_uuid(a->session));
    CHECK(lower_uuid(a->boot_id));
    CHECK(a->seq >= b->device.epoch_first_seq && a->seq <= CBATCH_MAX_INT);
    CHECK(tp_id_valid(a->survey) && tp_id_valid(a->question));
    CHECK(tp_id_valid(a->store) && tp_id_valid(a->touchpoint));
    CHECK(a->survey_version >= 1);
    CHECK((unsigned)a->kind < TP_KIND_COUNT);
    if (a->kind == TP_KIND_CHOICE) {
        CHECK(tp_id_valid(a->choice));
    } else {
        CHECK(tp_kind_range(a->kind, &lo, &hi) == TP_OK);
        CHECK(a->value >= lo && a->value <= hi);
        CHECK(a->choice[0] == '\0');
    }
    CHECK(tp_lang_valid(a->lang));
    CHECK((a->flags & ~TP_FLAGS_KNOWN) == 0);
    CHECK(a->wall_ms >= 0 && a->wall_ms <= CBATCH_MAX_MS);
    CHECK(a->mono_ms >= 0);
    switch (a->time_source) {
    case CBATCH_TIME_DEVICE: CHECK(a->clock_trusted && a->at_ms == a->wall_ms); break;
    case CBATCH_TIME_CORRECTED:
        CHECK(!a->clock_trusted && strcmp(a->boot_id, b->device.boot_id) == 0);
        CHECK(a->at_ms <= RECEIVED_MS);
        break;
    case CBATCH_TIME_UNCORRECTED: CHECK(!a->clock_trusted && a->at_ms == a->wall_ms); break;
    default: CHECK(!"time_source out of range");
    }
}

/* Returns the length of the reply's array `name` (which must be there). */
static size_t count_list(const cJSON *root, const char *name)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, name);
    CHECK(cJSON_IsArray(arr));
    return (size_t)cJSON_GetArraySize(arr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cjarena_install(); /* the batch's tree in an arena, as the collector parses it */
    const int64_t received = RECEIVED_MS;
    char err[256];
    cbatch *b = NULL;
    unsigned char *outcomes = NULL;
    char *reply = NULL;
    cJSON *root = NULL;

    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    tp_err rc = cbatch_parse((const char *)data, size, received, &b, err, sizeof err);
    if (rc != TP_OK) {
        CHECK(b == NULL);
        CHECK(rc == TP_ERR_INVALID || rc == TP_ERR_TOO_LARGE || rc == TP_ERR_NOMEM);
        CHECK(terminated(err, sizeof err) && err[0] != '\0' && err[0] != 'x');
        return 0;
    }
    CHECK(b != NULL);
    CHECK(lower_uuid(b->batch_id));
    CHECK(tp_id_valid(b->device.id) && lower_uuid(b->device.epoch));
    CHECK(lower_uuid(b->device.boot_id));
    CHECK(terminated(b->device.app_version, sizeof b->device.app_version));
    CHECK(b->n_answers + b->n_rejects <= CBATCH_MAX_ANSWERS);
    for (size_t i = 0; i < b->n_answers; i++)
        check_answer(b, &b->answers[i]);
    for (size_t i = 0; i < b->n_rejects; i++) {
        const cbatch_reject *r = &b->rejects[i];
        CHECK((unsigned)r->code < CBATCH_CODE_COUNT && r->code != CBATCH_SEQ_CONFLICT);
        CHECK(terminated(r->message, sizeof r->message) && r->message[0] != '\0');
        CHECK(!r->has_id ||
              (terminated(r->id, sizeof r->id) && tp_utf8_valid(r->id, strlen(r->id))));
    }

    /* The reply, with outcomes chosen from the input bytes so every mix gets built. */
    size_t acc = 0, dup = 0, conflict = 0;
    outcomes = calloc(b->n_answers + 1, 1);
    CHECK(outcomes != NULL);
    for (size_t i = 0; i < b->n_answers; i++) {
        outcomes[i] = (unsigned char)(data[(i * 7) % size] % 3);
        acc += outcomes[i] == CBATCH_ACCEPTED;
        dup += outcomes[i] == CBATCH_DUPLICATE;
        conflict += outcomes[i] == CBATCH_CONFLICT;
    }
    reply = cbatch_reply_json(b, outcomes, received);
    CHECK(reply != NULL);
    root = cJSON_Parse(reply);
    CHECK(root != NULL);
    const cJSON *ack = cJSON_GetObjectItemCaseSensitive(root, "ack");
    const cJSON *bid = cJSON_GetObjectItemCaseSensitive(root, "batch_id");
    CHECK(cJSON_IsString(ack) && strcmp(ack->valuestring, "touchpoint-collector") == 0);
    CHECK(cJSON_IsString(bid) && strcmp(bid->valuestring, b->batch_id) == 0);
    CHECK(count_list(root, "accepted") == acc);
    CHECK(count_list(root, "duplicates") == dup);
    CHECK(count_list(root, "rejected") == conflict + b->n_rejects);

    cJSON_Delete(root);
    free(reply);
    free(outcomes);
    cbatch_free(b);
    return 0;
}
