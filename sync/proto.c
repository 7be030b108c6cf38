/*
 * proto.c - encodes upload batches and validates the collector's replies (protocol v1, see
 * sync/PROTOCOL.md). JSON through cJSON, gzip through zlib; nothing here touches the network or the
 * store file.
 */
#include "proto.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* Integers in JSON travel as doubles (cJSON); every value we send or accept must be exact. */
#define PROTO_INT_MAX 9007199254740992.0 /* 2^53 */

static const struct {
    unsigned bit;
    const char *name;
} flag_names[] = {
    {TP_FLAG_RAPID_REPEAT, "rapid_repeat"},
    {TP_FLAG_BUTTON, "button"},
};

const char *proto_flag_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (flag_names[i].bit == bit)
            return flag_names[i].name;
    return NULL;
}

/* ---- Encoding ------------------------------------------------------------------------------- */

/* Adds an integer member; returns false when out of memory. */
/* Integers go in as raw number tokens made by snprintf: exact for every int64 (a double is
 * not beyond 2^53), and several times faster to print than cJSON's number printer, which formats
 * each double twice and parses it back to pick the precision. cJSON still writes the document. */
static bool add_int(cJSON *obj, const char *key, int64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)v);
    return cJSON_AddRawToObject(obj, key, num) != NULL;
}

static bool app_version_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len < 1 || len > PROTO_APP_VERSION_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

/* Builds the device object. Returns TP_OK, TP_ERR_INVALID (field named in err) or NOMEM. */
static tp_err device_to_json(const proto_device *d, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!d->id || !tp_id_valid(d->id))
        return tp_errf(err, errlen, TP_ERR_INVALID, "device.id \"%s\" is not a valid id",
                       d->id ? d->id : "(null)");
    if (!d->epoch || !tp_uuid_valid(d->epoch))
        return tp_errf(err, errlen, TP_ERR_INVALID, "device.epoch is not a UUID");
    if (!d->boot_id || !tp_uuid_valid(d->boot_id))
        return tp_errf(err, errlen, TP_ERR_INVALID, "device.boot_id is not a UUID");
    if (!app_version_valid(d->app_version))
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "device.app_version must be 1..%d printable ASCII characters",
                       PROTO_APP_VERSION_MAX);
    if (d->epoch_first_seq < 1 || d->pending < 0 || d->highest_seq < 0 || d->disk_free < 0 ||
        d->sent_mono_ms < 0)
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "device status out of range (epoch_first_seq %lld, pending %lld, "
                       "highest_seq %lld, disk_free %lld, sent_mono_ms %lld)",
                       (long long)d->epoch_first_seq, (long long)d->pending,
                       (long long)d->highest_seq, (long long)d->disk_free,
                       (long long)d->sent_mono_ms);
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "id", d->id) ||
        !cJSON_AddStringToObject(o, "epoch", d->epoch) ||
        !add_int(o, "epoch_first_seq", d->epoch_first_seq) ||
        !cJSON_AddStringToObject(o, "app_version", d->app_version) ||
        !add_int(o, "pending", d->pending) || !add_int(o, "highest_seq", d->highest_seq) ||
        !add_int(o, "disk_free", d->disk_free) ||
        !cJSON_AddBoolToObject(o, "clock_trusted", d->clock_trusted) ||
        !add_int(o, "sent_wall_ms", d->sent_wall_ms) ||
        !add_int(o, "sent_mono_ms", d->sent_mono_ms) ||
        !cJSON_AddStringToObject(o, "boot_id", d->boot_id)) {
        cJSON_Delete(o);
        return tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory encoding the device block");
    }
    if (d->config_revision) {
        bool ok = strlen(d->config_revision) <= PROTO_REVISION_MAX;
        for (const char *p = d->config_revision; ok && *p; p++)
            ok = *p >= 0x20 && *p <= 0x7e;
        const char *e = d->config_error && d->config_error[0] ? d->config_error : NULL;
        if (!ok || (e && (strlen(e) > PROTO_CONFIG_ERROR_MAX || !tp_utf8_valid(e, strlen(e))))) {
            cJSON_Delete(o);
            return tp_errf(err, errlen, TP_ERR_INVALID,
                           "device.config_revision or config_error out of bounds");
        }
        if (!cJSON_AddStringToObject(o, "config_revision", d->config_revision) ||
            !(e ? cJSON_AddStringToObject(o, "config_error", e)
                : cJSON_AddNullToObject(o, "config_error"))) {
            cJSON_Delete(o);
            return tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory encoding the device block");
        }
    }
    *out = o;
    return TP_OK;
}

/* Builds one answer object. Returns TP_OK, TP_ERR_INVALID (answer and field in err) or NOMEM. */
static tp_err answer_to_json(const store_answer *a, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *kind = tp_kind_name(a->kind);
    if (strcmp(kind, "?") == 0)
        return tp_errf(err, errlen, TP_ERR_INVALID, "answer seq %lld: invalid kind %d",
                       (long long)a->seq, (int)a->kind);
    if (a->kind == TP_KIND_CHOICE && !tp_id_valid(a->choice_id))
        return tp_errf(err, errlen, TP_ERR_INVALID, "answer seq %lld: choice kind without choice",
                       (long long)a->seq);
    /* Key order is free in JSON; this one helps gzip: the fields that repeat from answer to
     * answer come first (one long back-reference), the ones that change last, with the two
     * UUIDv7s side by side (they share their time prefix). */
    cJSON *o = cJSON_CreateObject();
    cJSON *flags = NULL;
    bool ok = o && cJSON_AddStringToObject(o, "survey", a->survey_id) &&
              add_int(o, "survey_version", a->survey_version) &&
              cJSON_AddStringToObject(o, "question", a->question_id) &&
              cJSON_AddStringToObject(o, "kind", kind) &&
              cJSON_AddStringToObject(o, "lang", a->lang) &&
              cJSON_AddStringToObject(o, "store", a->store_id) &&
              cJSON_AddStringToObject(o, "touchpoint", a->touchpoint_id) &&
              cJSON_AddStringToObject(o, "boot_id", a->boot_id) &&
              cJSON_AddBoolToObject(o, "clock_trusted", a->clock_trusted) &&
              (flags = cJSON_AddArrayToObject(o, "flags")) != NULL;
    if (ok && a->kind == TP_KIND_CHOICE)
        ok =
            cJSON_AddNullToObject(o, "value") && cJSON_AddStringToObject(o, "choice", a->choice_id);
    else if (ok)
        ok = cJSON_AddNullToObject(o, "choice") && add_int(o, "value", a->value);
    ok = ok && add_int(o, "seq", a->seq) && add_int(o, "wall_ms", a->wall_ms) &&
         add_int(o, "mono_ms", a->mono_ms) && cJSON_AddStringToObject(o, "id", a->id) &&
         cJSON_AddStringToObject(o, "session", a->session_id);
    for (size_t i = 0; ok && i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (!(a->flags & flag_names[i].bit))
            continue;
        cJSON *s = cJSON_CreateString(flag_names[i].name);
        ok = s && cJSON_AddItemToArray(flags, s);
        if (!ok)
            cJSON_Delete(s);
    }
    if (!ok) {
        cJSON_Delete(o);
        return tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory encoding answer seq %lld",
                       (long long)a->seq);
    }
    *out = o;
    return TP_OK;
}

/* Compresses in[0..len) as one gzip member into a new buffer (*out, caller frees). */
static tp_err gzip_buf(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen,
                       char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    *out = NULL;
    *outlen = 0;
    /* Z_FILTERED: the random hex of the ids is most of the entropy; favouring Huffman coding
     * over short matches saves about 6% on real batches at the same speed. */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_FILTERED) != Z_OK)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "gzip: deflateInit2 failed");
    tp_err rc = TP_OK;
    uLong cap = deflateBound(&zs, (uLong)len);
    unsigned char *buf = malloc(cap);
    if (!buf) {
        rc =
            tp_errf(err, errlen, TP_ERR_NOMEM, "gzip: no memory for %lu bytes", (unsigned long)cap);
        goto out;
    }
    zs.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const-correct; it only reads */
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        rc = tp_errf(err, errlen, TP_ERR_INTERNAL, "gzip: deflate did not finish within its bound");
        goto out;
    }
    *out = buf;
    *outlen = zs.total_out;
    buf = NULL;
out:
    free(buf);
    deflateEnd(&zs);
    return rc;
}

tp_err proto_encode_batch(const proto_device *dev, const store_answer *answers, size_t n,
                          size_t max_count, size_t max_bytes, bool gzip, proto_batch *out,
                          char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    cJSON *root = NULL, *dobj = NULL, *arr = NULL, *item = NULL;
    char *json = NULL, *piece = NULL;
    memset(out, 0, sizeof *out);
    if (!dev || (n > 0 && !answers))
        return tp_errf(err, errlen, TP_ERR_INVALID, "proto_encode_batch: missing argument");

    if (max_count == 0 || max_count > PROTO_MAX_ANSWERS)
        max_count = PROTO_MAX_ANSWERS;
    size_t hard = gzip ? PROTO_MAX_JSON : PROTO_MAX_BODY;
    if (max_bytes == 0 || max_bytes > hard)
        max_bytes = hard;

    rc = tp_uuid4_new(out->batch_id);
    if (rc != TP_OK) {
        tp_errf(err, errlen, rc, "no random bytes for a batch id");
        goto out;
    }
    rc = device_to_json(dev, &dobj, err, errlen);
    if (rc != TP_OK)
        goto out;
    root = cJSON_CreateObject();
    if (!root || !add_int(root, "protocol", PROTO_VERSION) ||
        !cJSON_AddStringToObject(root, "batch_id", out->batch_id) ||
        !cJSON_AddItemToObject(root, "device", dobj)) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory encoding a batch");
        goto out;
    }
    dobj = NULL; /* owned by root now */
    arr = cJSON_AddArrayToObject(root, "answers");
    if (!arr) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory encoding a batch");
        goto out;
    }

    /* The unformatted print of the whole document is the envelope with "answers":[] plus each
     * answer's own unformatted print plus one comma between answers, so the size is known before
     * an answer is added and the bound is exact. */
    json = cJSON_PrintUnformatted(root);
    if (!json) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory printing a batch");
        goto out;
    }
    size_t total = strlen(json);
    cJSON_free(json);
    json = NULL;

    size_t k = 0;
    for (; k < n && k < max_count; k++) {
        rc = answer_to_json(&answers[k], &item, err, errlen);
        if (rc != TP_OK)
            goto out;
        piece = cJSON_PrintUnformatted(item);
        if (!piece) {
            rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory printing a batch");
            goto out;
        }
        cJSON_Delete(item);
        item = NULL;
        size_t add = strlen(piece) + (k > 0 ? 1 : 0);
        if (k > 0 && total + add > max_bytes)
            break;
        /* The answer goes in as the text cJSON just printed, so it is not printed twice. */
        item = cJSON_CreateRaw(piece);
        if (!item || !cJSON_AddItemToArray(arr, item)) {
            rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory encoding a batch");
            goto out;
        }
        item = NULL;
        cJSON_free(piece);
        piece = NULL;
        total += add;
    }

    json = cJSON_PrintUnformatted(root);
    if (!json) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory printing a batch");
        goto out;
    }
    size_t jlen = strlen(json);
    if (jlen != total) {
        rc = tp_errf(err, errlen, TP_ERR_INTERNAL,
                     "batch size %zu differs from the %zu bytes predicted", jlen, total);
        goto out;
    }
    out->n_answers = k;
    out->json_len = jlen;
    if (gzip) {
        rc = gzip_buf((const unsigned char *)json, jlen, &out->body, &out->body_len, err, errlen);
        if (rc != TP_OK)
            goto out;
        out->gzipped = true;
    } else {
        /* cJSON allocates with malloc (no hooks are installed), so free() in
         * proto_batch_free() releases it. */
        out->body = (unsigned char *)json;
        out->body_len = jlen;
        json = NULL;
    }
    if (out->body_len > PROTO_MAX_BODY) {
        rc = tp_errf(err, errlen, TP_ERR_TOO_LARGE, "batch body of %zu bytes exceeds %d",
                     out->body_len, PROTO_MAX_BODY);
        goto out;
    }
out:
    cJSON_Delete(item);
    cJSON_Delete(dobj);
    cJSON_Delete(root);
    cJSON_free(piece);
    cJSON_free(json);
    if (rc != TP_OK)
        proto_batch_free(out);
    return rc;
}

void proto_batch_free(proto_batch *b)
{
    if (!b)
        return;
    free(b->body);
    memset(b, 0, sizeof *b);
}

/* ---- Reply parsing -------------------------------------------------------------------------- */

/* Sorted view of the batch's ids for lookups. */
typedef struct id_ref {
    const char *id;
    size_t index;
} id_ref;

static int id_ref_cmp(const void *a, const void *b)
{
    return strcasecmp(((const id_ref *)a)->id, ((const id_ref *)b)->id);
}

/* Parses the body as one JSON object. The copy adds the NUL cJSON needs and lets us refuse
 * embedded NULs and trailing garbage. */
static tp_err parse_object(const char *body, size_t len, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    if (len == 0)
        return tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply body is empty");
    if (memchr(body, '\0', len))
        return tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply body contains a NUL byte");
    char *copy = malloc(len + 1);
    if (!copy)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "no memory for a %zu-byte reply", len);
    memcpy(copy, body, len);
    copy[len] = '\0';
    cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
    free(copy);
    if (!root) {
        char head[41];
        size_t h = len < sizeof head - 1 ? len : sizeof head - 1;
        for (size_t i = 0; i < h; i++)
            head[i] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : '.';
        head[h] = '\0';
        return tp_errf(err, errlen, TP_ERR_PROTOCOL,
                       "reply is not JSON (%zu bytes starting \"%s\")", len, head);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply is JSON but not an object");
    }
    *out = root;
    return TP_OK;
}

/* Looks id up among the batch's answers and checks it is not named twice. */
static tp_err claim_id(const cJSON *v, const char *list, const id_ref *refs, size_t n, bool *seen,
                       size_t *index, char *err, size_t errlen)
{
    if (!cJSON_IsString(v) || !v->valuestring)
        return tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply: an element of %s is not a string id",
                       list);
    id_ref key = {.id = v->valuestring, .index = 0};
    const id_ref *hit = n ? bsearch(&key, refs, n, sizeof *refs, id_ref_cmp) : NULL;
    if (!hit)
        return tp_errf(err, errlen, TP_ERR_PROTOCOL,
                       "reply: %s names id \"%.40s\" not in the batch", list, v->valuestring);
    if (seen[hit->index])
        return tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply: id %.40s is named twice (in %s)",
                       v->valuestring, list);
    seen[hit->index] = true;
    *index = hit->index;
    return TP_OK;
}

static const cJSON *get_array(const cJSON *root, const char *key, char *err, size_t errlen,
                              tp_err *rc)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsArray(a)) {
        *rc = tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply: \"%s\" is %s", key,
                      a ? "not an array" : "missing");
        return NULL;
    }
    return a;
}

tp_err proto_parse_reply(const char *body, size_t len, const char *batch_id,
                         const store_answer *answers, size_t n, proto_reply *out, char *err,
                         size_t errlen)
{
    tp_err rc = TP_OK;
    cJSON *root = NULL;
    id_ref *refs = NULL;
    bool *seen = NULL;
    memset(out, 0, sizeof *out);
    if (!body && len > 0)
        return tp_errf(err, errlen, TP_ERR_INVALID, "proto_parse_reply: missing body");
    if (len > PROTO_MAX_REPLY)
        return tp_errf(err, errlen, TP_ERR_TOO_LARGE, "reply of %zu bytes exceeds %d", len,
                       PROTO_MAX_REPLY);
    rc = parse_object(body, len, &root, err, errlen);
    if (rc != TP_OK)
        goto out;

    const cJSON *ack = cJSON_GetObjectItemCaseSensitive(root, "ack");
    if (!cJSON_IsString(ack) || strcmp(ack->valuestring, PROTO_ACK) != 0) {
        rc = tp_errf(err, errlen, TP_ERR_PROTOCOL,
                     "reply is not a collector acknowledgement (\"ack\" is not \"%s\")", PROTO_ACK);
        goto out;
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "protocol");
    if (!cJSON_IsNumber(ver) || ver->valuedouble != PROTO_VERSION) {
        rc = tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply: \"protocol\" is not %d", PROTO_VERSION);
        goto out;
    }
    const cJSON *bid = cJSON_GetObjectItemCaseSensitive(root, "batch_id");
    if (!cJSON_IsString(bid) || !batch_id || strcasecmp(bid->valuestring, batch_id) != 0) {
        rc = tp_errf(
            err, errlen, TP_ERR_PROTOCOL, "reply acknowledges batch \"%.40s\", not this batch %s",
            cJSON_IsString(bid) ? bid->valuestring : "(missing)", batch_id ? batch_id : "(none)");
        goto out;
    }
    const cJSON *rat = cJSON_GetObjectItemCaseSensitive(root, "received_at_ms");
    if (rat && (!cJSON_IsNumber(rat) || !isfinite(rat->valuedouble) ||
                fabs(rat->valuedouble) > PROTO_INT_MAX)) {
        rc = tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply: \"received_at_ms\" is not an integer");
        goto out;
    }
    const cJSON *crev = cJSON_GetObjectItemCaseSensitive(root, "config_revision");
    if (crev && !cJSON_IsNull(crev)) {
        bool ok = cJSON_IsString(crev) && strlen(crev->valuestring) <= PROTO_REVISION_MAX;
        for (const char *p = ok ? crev->valuestring : ""; ok && *p; p++)
            ok = *p > 0x20 && *p <= 0x7e && *p != '"';
        if (!ok) {
            rc = tp_errf(err, errlen, TP_ERR_PROTOCOL,
                         "reply: \"config_revision\" is not a string of up to %d printable "
                         "characters",
                         PROTO_REVISION_MAX);
            goto out;
        }
    }
    const cJSON *acc = get_array(root, "accepted", err, errlen, &rc);
    const cJSON *dup = acc ? get_array(root, "duplicates", err, errlen, &rc) : NULL;
    const cJSON *rej = dup ? get_array(root, "rejected", err, errlen, &rc) : NULL;
    if (!rej)
        goto out;
    size_t na = (size_t)cJSON_GetArraySize(acc), nd = (size_t)cJSON_GetArraySize(dup),
           nr = (size_t)cJSON_GetArraySize(rej);
    if (na + nd + nr > n) {
        rc = tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply names %zu ids for a batch of %zu",
                     na + nd + nr, n);
        goto out;
    }

    refs = malloc((n ? n : 1) * sizeof *refs);
    seen = calloc(n ? n : 1, sizeof *seen);
    out->accepted = malloc((na ? na : 1) * sizeof *out->accepted);
    out->duplicates = malloc((nd ? nd : 1) * sizeof *out->duplicates);
    out->rejected = calloc(nr ? nr : 1, sizeof *out->rejected);
    if (!refs || !seen || !out->accepted || !out->duplicates || !out->rejected) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "no memory for a reply of %zu ids", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        refs[i].id = answers[i].id;
        refs[i].index = i;
    }
    qsort(refs, n, sizeof *refs, id_ref_cmp);

    const cJSON *v;
    cJSON_ArrayForEach(v, acc)
    {
        rc = claim_id(v, "accepted", refs, n, seen, &out->accepted[out->n_accepted], err, errlen);
        if (rc != TP_OK)
            goto out;
        out->n_accepted++;
    }
    cJSON_ArrayForEach(v, dup)
    {
        rc = claim_id(v, "duplicates", refs, n, seen, &out->duplicates[out->n_duplicates], err,
                      errlen);
        if (rc != TP_OK)
            goto out;
        out->n_duplicates++;
    }
    cJSON_ArrayForEach(v, rej)
    {
        proto_rejection *r = &out->rejected[out->n_rejected];
        if (!cJSON_IsObject(v)) {
            rc = tp_errf(err, errlen, TP_ERR_PROTOCOL,
                         "reply: an element of rejected is not an "
                         "object");
            goto out;
        }
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(v, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(v, "message");
        if (!cJSON_IsString(code) || !tp_id_valid(code->valuestring)) {
            rc = tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply: a rejection has no valid \"code\"");
            goto out;
        }
        if (!cJSON_IsString(msg)) {
            rc = tp_errf(err, errlen, TP_ERR_PROTOCOL, "reply: a rejection has no \"message\"");
            goto out;
        }
        rc = claim_id(cJSON_GetObjectItemCaseSensitive(v, "id"), "rejected", refs, n, seen,
                      &r->index, err, errlen);
        if (rc != TP_OK)
            goto out;
        tp_strlcpy(r->code, code->valuestring, sizeof r->code);
        /* A long message is cut, not refused; cut at a character boundary so the stored text
         * stays valid UTF-8. */
        tp_strlcpy(r->message, msg->valuestring, sizeof r->message);
        size_t ml = strlen(r->message);
        while (ml > 0 && !tp_utf8_valid(r->message, ml))
            r->message[--ml] = '\0';
        out->n_rejected++;
    }
    out->received_at_ms = rat ? (int64_t)rat->valuedouble : 0;
    if (cJSON_IsString(crev)) {
        out->has_config_revision = true;
        tp_strlcpy(out->config_revision, crev->valuestring, sizeof out->config_revision);
    }
out:
    cJSON_Delete(root);
    free(refs);
    free(seen);
    if (rc != TP_OK)
        proto_reply_free(out);
    return rc;
}

void proto_reply_free(proto_reply *r)
{
    if (!r)
        return;
    free(r->accepted);
    free(r->duplicates);
    free(r->rejected);
    memset(r, 0, sizeof *r);
}

tp_err proto_parse_error(const char *body, size_t len, char *code, size_t codelen, char *message,
                         size_t msglen)
{
    cJSON *root = NULL;
    tp_err rc = TP_ERR_PROTOCOL;
    if (code && codelen)
        code[0] = '\0';
    if (message && msglen)
        message[0] = '\0';
    if (!body || len > PROTO_MAX_REPLY || parse_object(body, len, &root, NULL, 0) != TP_OK)
        return TP_ERR_PROTOCOL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsString(c)) {
        if (code && codelen)
            tp_strlcpy(code, c->valuestring, codelen);
        if (cJSON_IsString(m) && message && msglen)
            tp_strlcpy(message, m->valuestring, msglen);
        rc = TP_OK;
    }
    cJSON_Delete(root);
    return rc;
}
