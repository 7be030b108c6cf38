/*
 * export_format.c - the pure half of the export core (export.h): one answer as a CSV row or a JSON
 * line, the CSV header, and the FAT-safe file name. No I/O, so the tests pin every byte.
 *
 * Every CSV line (the header and each row) goes through one writer, csv_line(): fields joined by
 * commas, each quoted as RFC 4180 requires, CRLF at the end.
 */
#include "export.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const csv_columns[] = {
    "seq",        "answer_id",      "session_id",  "device_id",     "epoch",
    "survey_id",  "survey_version", "question_id", "kind",          "value",
    "choice_id",  "lang",           "store_id",    "touchpoint_id", "time_utc",
    "time_local", "clock_trusted",  "flags",       "sync_state",
};
#define N_COLUMNS (sizeof csv_columns / sizeof csv_columns[0])

static tp_err buf_put(char *buf, size_t len, size_t *used, const char *s, size_t n)
{
    if (*used + n >= len) /* keep room for a NUL so buffers stay printable */
        return TP_ERR_TOO_LARGE;
    memcpy(buf + *used, s, n);
    *used += n;
    buf[*used] = '\0';
    return TP_OK;
}

tp_err export_csv_field(const char *field, char *buf, size_t len, size_t *used)
{
    if (!field)
        field = "";
    if (!strpbrk(field, ",\"\r\n"))
        return buf_put(buf, len, used, field, strlen(field));
    tp_err rc = buf_put(buf, len, used, "\"", 1);
    for (const char *p = field; rc == TP_OK && *p; p++) {
        if (*p == '"')
            rc = buf_put(buf, len, used, "\"\"", 2);
        else
            rc = buf_put(buf, len, used, p, 1);
    }
    if (rc == TP_OK)
        rc = buf_put(buf, len, used, "\"", 1);
    return rc;
}

/* The one CSV line writer: n fields, comma-separated, quoted where needed, CRLF. */
static tp_err csv_line(const char *const *fields, size_t n, char *buf, size_t len, size_t *used)
{
    tp_err rc = TP_OK;
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        if (i > 0)
            rc = buf_put(buf, len, used, ",", 1);
        if (rc == TP_OK)
            rc = export_csv_field(fields[i], buf, len, used);
    }
    if (rc == TP_OK)
        rc = buf_put(buf, len, used, "\r\n", 2);
    return rc;
}

tp_err export_csv_header(char *buf, size_t len, size_t *used)
{
    return csv_line(csv_columns, N_COLUMNS, buf, len, used);
}

static const char *state_name(store_sync_state st)
{
    switch (st) {
    case STORE_PENDING: return "pending";
    case STORE_SYNCED: return "synced";
    case STORE_REJECTED: return "rejected";
    }
    return "unknown";
}

/* Flags as names joined by ';' ("" when none); unknown bits as "0x..". */
static void flags_text(unsigned flags, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    if (flags & TP_FLAG_RAPID_REPEAT)
        (void)buf_put(out, outlen, &used, "rapid_repeat", 12);
    if (flags & TP_FLAG_BUTTON) {
        if (used)
            (void)buf_put(out, outlen, &used, ";", 1);
        (void)buf_put(out, outlen, &used, "button", 6);
    }
    if (flags & ~TP_FLAGS_KNOWN) {
        char hex[16];
        int n = snprintf(hex, sizeof hex, "%s0x%x", used ? ";" : "", flags & ~TP_FLAGS_KNOWN);
        if (n > 0 && (size_t)n < sizeof hex)
            (void)buf_put(out, outlen, &used, hex, (size_t)n);
    }
}

static tp_err csv_row(const store_answer *a, const char *device_id, const char *epoch, char *buf,
                      size_t len, size_t *used)
{
    char seq[24], ver[16], value[16] = "", utc[40], local[48], flags[64];
    snprintf(seq, sizeof seq, "%" PRId64, a->seq);
    snprintf(ver, sizeof ver, "%d", a->survey_version);
    if (a->kind != TP_KIND_CHOICE)
        snprintf(value, sizeof value, "%d", a->value);
    tp_format_utc(a->wall_ms, utc, sizeof utc);
    tp_format_local(a->wall_ms, local, sizeof local);
    flags_text(a->flags, flags, sizeof flags);
    const char *fields[] = {
        seq,
        a->id,
        a->session_id,
        device_id,
        epoch,
        a->survey_id,
        ver,
        a->question_id,
        tp_kind_name(a->kind),
        value,
        a->kind == TP_KIND_CHOICE ? a->choice_id : "",
        a->lang,
        a->store_id,
        a->touchpoint_id,
        utc,
        local,
        a->clock_trusted ? "true" : "false",
        flags,
        state_name(a->state),
    };
    _Static_assert(sizeof fields / sizeof fields[0] == N_COLUMNS, "a value for every column");
    return csv_line(fields, N_COLUMNS, buf, len, used);
}

static tp_err json_row(const store_answer *a, const char *device_id, const char *epoch, char *buf,
                       size_t len, size_t *used)
{
    char utc[40], local[48];
    tp_err rc = TP_ERR_NOMEM;
    cJSON *o = cJSON_CreateObject();
    cJSON *fl = NULL;
    if (!o)
        goto out;
    tp_format_utc(a->wall_ms, utc, sizeof utc);
    tp_format_local(a->wall_ms, local, sizeof local);
    bool ok = cJSON_AddNumberToObject(o, "seq", (double)a->seq) &&
              cJSON_AddStringToObject(o, "answer_id", a->id) &&
              cJSON_AddStringToObject(o, "session_id", a->session_id) &&
              cJSON_AddStringToObject(o, "device_id", device_id) &&
              cJSON_AddStringToObject(o, "epoch", epoch) &&
              cJSON_AddStringToObject(o, "survey_id", a->survey_id) &&
              cJSON_AddNumberToObject(o, "survey_version", a->survey_version) &&
              cJSON_AddStringToObject(o, "question_id", a->question_id) &&
              cJSON_AddStringToObject(o, "kind", tp_kind_name(a->kind));
    if (ok)
        ok = a->kind == TP_KIND_CHOICE ? cJSON_AddNullToObject(o, "value") != NULL
                                       : cJSON_AddNumberToObject(o, "value", a->value) != NULL;
    if (ok)
        ok = a->kind == TP_KIND_CHOICE
                 ? cJSON_AddStringToObject(o, "choice_id", a->choice_id) != NULL
                 : cJSON_AddNullToObject(o, "choice_id") != NULL;
    ok = ok && cJSON_AddStringToObject(o, "lang", a->lang) &&
         cJSON_AddStringToObject(o, "store_id", a->store_id) &&
         cJSON_AddStringToObject(o, "touchpoint_id", a->touchpoint_id) &&
         cJSON_AddStringToObject(o, "time_utc", utc) &&
         cJSON_AddStringToObject(o, "time_local", local) &&
         cJSON_AddBoolToObject(o, "clock_trusted", a->clock_trusted);
    if (!ok)
        goto out;
    fl = cJSON_AddArrayToObject(o, "flags");
    if (!fl)
        goto out;
    if (a->flags & TP_FLAG_RAPID_REPEAT) {
        cJSON *x = cJSON_CreateString("rapid_repeat");
        if (!x || !cJSON_AddItemToArray(fl, x)) {
            cJSON_Delete(x);
            goto out;
        }
    }
    if (a->flags & TP_FLAG_BUTTON) {
        cJSON *x = cJSON_CreateString("button");
        if (!x || !cJSON_AddItemToArray(fl, x)) {
            cJSON_Delete(x);
            goto out;
        }
    }
    if (!cJSON_AddStringToObject(o, "sync_state", state_name(a->state)))
        goto out;
    /* cJSON asks for 5 spare bytes because it estimates number widths; keep 1 more for '\n'. */
    if (*used + 8 >= len) {
        rc = TP_ERR_TOO_LARGE;
        goto out;
    }
    if (!cJSON_PrintPreallocated(o, buf + *used, (int)(len - *used - 2), 0)) {
        rc = TP_ERR_TOO_LARGE;
        goto out;
    }
    *used += strlen(buf + *used);
    rc = buf_put(buf, len, used, "\n", 1);
out:
    cJSON_Delete(o);
    return rc;
}

tp_err export_format_row(export_format f, const store_answer *a, const char *device_id,
                         const char *epoch, char *buf, size_t len, size_t *used)
{
    if (f == EXPORT_JSONL)
        return json_row(a, device_id, epoch, buf, len, used);
    return csv_row(a, device_id, epoch, buf, len, used);
}

tp_err export_file_name(const char *device, int64_t from_ms, int64_t to_ms, int n, const char *ext,
                        char *out, size_t outlen)
{
    char dev[TP_ID_MAX + 1], d1[11], d2[11], suffix[16] = "";
    size_t i = 0;
    for (; device && device[i] && i < TP_ID_MAX; i++) {
        char c = device[i];
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
        dev[i] = safe ? c : '_';
    }
    dev[i] = '\0';
    if (i == 0)
        tp_strlcpy(dev, "device", sizeof dev);
    (void)tp_local_day_start(from_ms, d1);
    (void)tp_local_day_start(to_ms, d2);
    if (n > 1)
        snprintf(suffix, sizeof suffix, "-%d", n);
    int w = snprintf(out, outlen, "touchpoint-%s-%s-%s%s.%s", dev, d1, d2, suffix, ext);
    if (w < 0 || (size_t)w >= outlen)
        return TP_ERR_TOO_LARGE;
    return TP_OK;
}

const char *export_format_ext(export_format f)
{
    return f == EXPORT_JSONL ? "jsonl" : "csv";
}

const char *export_format_label(export_format f)
{
    return f == EXPORT_JSONL ? "JSON Lines" : "CSV";
}
