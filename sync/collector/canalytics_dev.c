/*
 * canalytics_dev.c - GET /v1/devices (sync/PROTOCOL.md 13.7, moved here from collector.c): per
 * device its status, epochs and gaps, the fleet's configuration columns, and from issue 14 the
 * pending count as the device holds it after its last accepted batch, the clock in plain words
 * (not yet synchronised with the count of corrected answers; failed only when corrections
 * failed), all restricted to the reader's scope.
 */
#include "canalytics_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfleet.h"

#define GAPS_LISTED 20

static bool add_i64(cJSON *o, const char *name, int64_t v)
{
    return cJSON_AddNumberToObject(o, name, (double)v) != NULL;
}

static cJSON *epoch_json(const cstore_device *d, const cstore_epoch *e, int64_t *missing_total,
                         int64_t *holes_total)
{
    cstore_range gaps[GAPS_LISTED];
    size_t n_gaps = 0;
    int64_t missing = 0;
    int64_t received_max = e->n_ranges ? e->ranges[e->n_ranges - 1].hi : e->first_seq - 1;
    int64_t last = e->highest_seq > received_max ? e->highest_seq : received_max;
    cstore_gaps(e->first_seq, last, e->ranges, e->n_ranges, gaps, GAPS_LISTED, &n_gaps, &missing);
    int64_t tail = last - received_max;
    if (tail < 0)
        tail = 0;
    cJSON *o = cJSON_CreateObject(), *g = NULL;
    bool ok = o && cJSON_AddStringToObject(o, "epoch", e->epoch) &&
              cJSON_AddBoolToObject(o, "current", strcmp(e->epoch, d->epoch) == 0) &&
              add_i64(o, "first_seq", e->first_seq) && add_i64(o, "highest_seq", last) &&
              add_i64(o, "received_max", received_max) && add_i64(o, "missing", missing) &&
              add_i64(o, "missing_tail", tail) && add_i64(o, "gap_count", (int64_t)n_gaps) &&
              add_i64(o, "first_seen_ms", e->first_seen_ms) &&
              add_i64(o, "last_seen_ms", e->last_seen_ms) &&
              (g = cJSON_AddArrayToObject(o, "gaps"));
    for (size_t i = 0; ok && i < n_gaps && i < GAPS_LISTED; i++) {
        cJSON *pair = cJSON_CreateArray();
        ok = pair && cJSON_AddItemToArray(g, pair) &&
             cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)gaps[i].lo)) &&
             cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)gaps[i].hi));
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    *missing_total += missing;
    *holes_total += missing - tail;
    return o;
}

/* Per device: corrected, uncorrected, pending_after (-1: no row), and the stores it answered
 * for ("s1,s2,"). */
typedef struct devx {
    char id[TP_ID_MAX + 1];
    int64_t corrected, uncorrected, pending_after;
    char stores[512];
} devx;

static devx *find(devx *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].id, id) == 0)
            return &v[i];
    return NULL;
}

static void ago(int64_t s, bool vi, char *out, size_t outlen)
{
    if (s < 120)
        snprintf(out, outlen, vi ? "%lld giây trước" : "%lld seconds ago", (long long)s);
    else if (s < 7200)
        snprintf(out, outlen, vi ? "%lld phút trước" : "%lld minutes ago", (long long)(s / 60));
    else if (s < 172800)
        snprintf(out, outlen, vi ? "%lld giờ trước" : "%lld hours ago", (long long)(s / 3600));
    else
        snprintf(out, outlen, vi ? "%lld ngày trước" : "%lld days ago", (long long)(s / 86400));
}

static void add_words(cJSON *o, const cstore_device *d, const devx *x, int64_t pending, bool silent,
                      int64_t now)
{
    char t[2][160], a[2][48];
    for (int vi = 0; vi < 2; vi++) {
        ago((now - d->last_seen_ms) / 1000, vi, a[vi], sizeof a[vi]);
        if (silent)
            snprintf(t[vi], sizeof t[vi], vi ? "Mất liên lạc, lần cuối %s" : "Silent, last seen %s",
                     a[vi]);
        else if (pending == 0)
            snprintf(t[vi], sizeof t[vi],
                     vi ? "Đã gửi hết, lần cuối %s" : "Sent everything, last seen %s", a[vi]);
        else
            snprintf(t[vi], sizeof t[vi],
                     vi ? "%lld câu trả lời đang chờ gửi, lần cuối %s"
                        : "%lld answers waiting to be sent, last seen %s",
                     (long long)pending, a[vi]);
    }
    cJSON *w = cJSON_AddObjectToObject(o, "words");
    cJSON_AddStringToObject(w, "vi", t[1]);
    cJSON_AddStringToObject(w, "en", t[0]);
    /* The clock. */
    int64_t corr = x ? x->corrected : 0, unc = x ? x->uncorrected : 0;
    const char *status = d->clock_trusted ? "synchronised"
                         : unc > 0        ? "failed"
                                          : "not_synchronised";
    char en[160], vi[160];
    if (d->clock_trusted) {
        snprintf(en, sizeof en, "Clock synchronised");
        snprintf(vi, sizeof vi, "Đồng hồ đã đồng bộ");
    } else if (unc > 0) {
        snprintf(en, sizeof en, "Clock not synchronised: %lld answers could not be corrected",
                 (long long)unc);
        snprintf(vi, sizeof vi, "Đồng hồ chưa đồng bộ: %lld câu trả lời không chỉnh được giờ",
                 (long long)unc);
    } else {
        snprintf(en, sizeof en, "Not yet synchronised (%lld answers with corrected time)",
                 (long long)corr);
        snprintf(vi, sizeof vi, "Chưa đồng bộ (%lld câu trả lời đã được chỉnh giờ)",
                 (long long)corr);
    }
    cJSON *c = cJSON_AddObjectToObject(o, "clock");
    cJSON_AddStringToObject(c, "status", status);
    add_i64(c, "corrected", corr);
    add_i64(c, "uncorrected", unc);
    cJSON *ct = cJSON_AddObjectToObject(c, "text");
    cJSON_AddStringToObject(ct, "vi", vi);
    cJSON_AddStringToObject(ct, "en", en);
}

/* Whether a device is in the reader's view: its fleet node's store, or a store it answered for. */
static bool visible(const an_req *r, const cJSON *fleet_entry, const devx *x)
{
    if (!r->f.has_stores)
        return true;
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(fleet_entry, "node");
    if (cJSON_IsString(node)) {
        char seg[TP_ID_MAX + 1] = "";
        const char *p = node->valuestring;
        for (int k = 0; k < 2 && p; k++)
            p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL;
        if (p) {
            size_t n = strcspn(p, "/");
            tp_strlcpy(seg, p, n + 1 < sizeof seg ? n + 1 : sizeof seg);
            if (an_store_visible(r, seg))
                return true;
        }
    }
    const char *s = x ? x->stores : "";
    while (*s) {
        char st[TP_ID_MAX + 1];
        size_t n = strcspn(s, ",");
        tp_strlcpy(st, s, n + 1 < sizeof st ? n + 1 : sizeof st);
        if (an_store_visible(r, st))
            return true;
        s += n + (s[n] == ',');
    }
    return false;
}

cJSON *an_devices(an_req *r, int silent_after_s, int *status)
{
    cstore_rows *rows = NULL;
    devx *xs = NULL;
    size_t nx = 0, cap = 0;
    tp_err rc =
        cstore_tx_exec(r->tx,
                       "SELECT d.device, d.corrected, d.uncorrected, d.pending_after, c.store"
                       " FROM ru_device d LEFT JOIN (SELECT DISTINCT device, store FROM"
                       " ru_cust WHERE period < 1000000) c ON c.device = d.device",
                       NULL, 0, &rows, r->err, sizeof r->err);
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *id = cstore_rows_get(rows, i, 0), *st = cstore_rows_get(rows, i, 4);
        devx *x = find(xs, nx, id ? id : "");
        if (!x) {
            if ((rc = tp_array_grow((void **)&xs, &cap, nx + 1, sizeof *xs, 1000000)) != TP_OK)
                break;
            x = &xs[nx++];
            memset(x, 0, sizeof *x);
            tp_strlcpy(x->id, id ? id : "", sizeof x->id);
            x->corrected = strtoll(cstore_rows_get(rows, i, 1), NULL, 10);
            x->uncorrected = strtoll(cstore_rows_get(rows, i, 2), NULL, 10);
            x->pending_after = strtoll(cstore_rows_get(rows, i, 3), NULL, 10);
        }
        size_t used = strlen(x->stores);
        if (st && used + strlen(st) + 2 < sizeof x->stores)
            snprintf(x->stores + used, sizeof x->stores - used, "%s,", st);
    }
    cstore_rows_free(rows);
    /* The listings below take their own connections: give this one back first. */
    cstore_tx_rollback(r->tx);
    r->tx = NULL;
    cstore_devices *list = NULL;
    if (rc != TP_OK || cstore_list_devices(r->s, &list, r->err, sizeof r->err) != TP_OK) {
        free(xs);
        *status = 503;
        return NULL;
    }
    cJSON *fleet = NULL;
    char ferr[TP_ERRMSG_MAX];
    if (cfleet_device_states(r->s, &fleet, ferr, sizeof ferr) != TP_OK)
        fprintf(stderr, "touchpoint-collector: devices: fleet: %s\n", ferr);
    int64_t now = r->now_ms;
    cJSON *root = cJSON_CreateObject(), *arr = NULL;
    bool ok = root && add_i64(root, "now_ms", now) &&
              add_i64(root, "silent_after_s", silent_after_s) &&
              cJSON_AddStringToObject(root, "scope", r->scope) &&
              (arr = cJSON_AddArrayToObject(root, "devices"));
    for (size_t i = 0; ok && i < list->n; i++) {
        const cstore_device *d = &list->v[i];
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(fleet, d->id);
        const devx *x = find(xs, nx, d->id);
        if (!visible(r, f, x))
            continue;
        cJSON *o = cJSON_CreateObject(), *eps = NULL;
        char when[40];
        int64_t missing = 0, holes = 0, pending_tail = 0;
        int64_t pending = x ? x->pending_after : d->pending;
        bool silent = now - d->last_seen_ms > (int64_t)silent_after_s * 1000;
        tp_format_local(d->last_seen_ms, when, sizeof when);
        ok = o && cJSON_AddItemToArray(arr, o) && cJSON_AddStringToObject(o, "id", d->id) &&
             add_i64(o, "last_seen_ms", d->last_seen_ms) &&
             cJSON_AddStringToObject(o, "last_seen", when) &&
             add_i64(o, "silent_for_s", (now - d->last_seen_ms) / 1000) &&
             cJSON_AddBoolToObject(o, "silent", silent) &&
             add_i64(o, "first_seen_ms", d->first_seen_ms) && add_i64(o, "pending", pending) &&
             add_i64(o, "pending_reported", d->pending) &&
             add_i64(o, "highest_seq", d->highest_seq) &&
             add_i64(o, "last_answer_no", d->highest_seq) &&
             add_i64(o, "disk_free", d->disk_free) &&
             cJSON_AddStringToObject(o, "app_version", d->app_version) &&
             cJSON_AddBoolToObject(o, "clock_trusted", d->clock_trusted) &&
             add_i64(o, "clock_skew_ms", d->clock_skew_ms) && add_i64(o, "batches", d->batches) &&
             add_i64(o, "answers", d->answers) && cJSON_AddStringToObject(o, "epoch", d->epoch) &&
             cJSON_AddStringToObject(o, "boot_id", d->boot_id) &&
             (eps = cJSON_AddArrayToObject(o, "epochs"));
        for (size_t e = 0; ok && e < d->n_epochs; e++) {
            const cstore_epoch *ep = &d->epochs[e];
            int64_t before = missing, holes_before = holes;
            cJSON *ej = epoch_json(d, ep, &missing, &holes);
            ok = ej && cJSON_AddItemToArray(eps, ej);
            if (ok && strcmp(ep->epoch, d->epoch) == 0)
                pending_tail = (missing - before) - (holes - holes_before);
        }
        /* "gaps": seqs skipped below what arrived, or a missing tail longer than what the device
         * still holds after its last batch: answers that will never come. */
        ok = ok && add_i64(o, "missing", missing) && add_i64(o, "answers_missing", missing) &&
             add_i64(o, "holes", holes) &&
             cJSON_AddBoolToObject(o, "has_gaps", holes > 0 || pending_tail > pending);
        if (ok)
            add_words(o, d, x, pending, silent, now);
        for (const cJSON *it = f ? f->child : NULL; ok && it; it = it->next)
            ok = cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, true));
    }
    /* Every device of the fleet in view, also those that never sent a batch. */
    if (ok && fleet && r->f.has_stores) {
        cJSON *next = NULL;
        for (cJSON *it = fleet->child; it; it = next) {
            next = it->next;
            if (!visible(r, it, find(xs, nx, it->string ? it->string : "")))
                cJSON_Delete(cJSON_DetachItemViaPointer(fleet, it));
        }
    }
    if (ok && fleet)
        ok = cJSON_AddItemToObject(root, "fleet", fleet);
    else
        cJSON_Delete(fleet);
    cstore_devices_free(list);
    free(xs);
    if (!ok) {
        cJSON_Delete(root);
        *status = 500;
        return NULL;
    }
    return root;
}
