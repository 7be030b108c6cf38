/*
 * calert_health.c - the device rules, evaluated by the evaluator's timer over every fleet device
 * under each rule's node, from what devices report with each batch (devices table) and what the
 * fleet knows (fleet_devices):
 *
 *   device_silent        no batch for `minutes` of the store's opening hours (node settings
 *                        timezone + opening_hours, inherited): silent since max(last batch,
 *                        today's opening); one alert per silence (dedup on the last batch)
 *   device_pending_age   the oldest pending answer is older than `minutes`. Devices report how
 *                        many answers are pending, not their age; an answer pending at the last
 *                        batch has waited at least since that batch, so the age is taken as
 *                        now - last batch while the last report had pending > 0 (a lower bound)
 *   device_seq_holes     seqs never heard of in the current epoch below the highest received
 *                        (cstore_gaps), at least min_missing; dedup on the first hole
 *   device_clock         the device's clock is not trusted; one alert per boot
 *   device_disk          free disk below min_free_mb; one alert per device and UTC day
 *   device_config_error  the configuration failed to apply (fleet_devices.apply_error)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert_eval_int.h"
#include "cfleet_int.h"
#include "settings.h"

bool calert_open_at(const char *opening_hours, int weekday, int minute, int *open_min)
{
    static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    settings_hours h = {.always = true};
    *open_min = 0;
    if (opening_hours && *opening_hours && strcmp(opening_hours, "always") != 0) {
        cJSON *o = cJSON_Parse(opening_hours);
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, days[weekday]));
        if (!v || settings_check_hours(v, true, &h) != NULL)
            h = (settings_hours){.always = true};
        cJSON_Delete(o);
    }
    if (!settings_hours_open(&h, minute))
        return false;
    if (!h.always)
        *open_min = h.open_min;
    return true;
}

/* One fleet device with its last report. */
enum {
    D_ID,
    D_NODE,
    D_APPLY_ERR,
    D_APPLY_MS,
    D_LAST,
    D_PENDING,
    D_DISK,
    D_CLOCK,
    D_EPOCH,
    D_BOOT,
    D_CREATED,
    D_COLS
};

static tp_err seq_holes(cstore_tx *tx, const char *device, const char *epoch, int64_t *missing,
                        int64_t *first_hole, char *err, size_t errlen)
{
    cstore_rows *rows = NULL;
    *missing = 0;
    *first_hole = -1;
    tp_err rc = FX(tx, &rows, err, errlen,
                   "SELECT r.lo, r.hi, e.first_seq FROM seq_ranges r JOIN epochs e ON"
                   " e.device = r.device AND e.epoch = r.epoch WHERE r.device = $1 AND"
                   " r.epoch = $2 ORDER BY r.lo",
                   device, epoch);
    if (rc != TP_OK || rows->n == 0) {
        cstore_rows_free(rows);
        return rc;
    }
    cstore_range *v = malloc(rows->n * sizeof *v), gap;
    if (!v) {
        cstore_rows_free(rows);
        return TP_ERR_NOMEM;
    }
    for (size_t i = 0; i < rows->n; i++)
        v[i] = (cstore_range){strtoll(cstore_rows_get(rows, i, 0), NULL, 10),
                              strtoll(cstore_rows_get(rows, i, 1), NULL, 10)};
    int64_t first = strtoll(cstore_rows_get(rows, 0, 2), NULL, 10);
    size_t n_gaps = 0;
    /* Up to the highest seq received: above it are answers still pending on the device. */
    cstore_gaps(first, v[rows->n - 1].hi, v, rows->n, &gap, 1, &n_gaps, missing);
    if (n_gaps > 0)
        *first_hole = gap.lo;
    free(v);
    cstore_rows_free(rows);
    return TP_OK;
}

/* Evaluates rule r on one device row; fills ev (titles, numbers, window, dedup) when it trips. */
static tp_err check(cstore_tx *tx, const calert_rule *r, const cstore_rows *d, size_t i,
                    int64_t now, calert_tzcache *tzc, calert_event *ev, bool *trips, char *err,
                    size_t errlen)
{
    const char *id = cstore_rows_get(d, i, D_ID), *node = cstore_rows_get(d, i, D_NODE);
    const char *last_s = cstore_rows_get(d, i, D_LAST);
    int64_t last = strtoll(last_s ? last_s : cstore_rows_get(d, i, D_CREATED), NULL, 10);
    bool reported = last_s != NULL;
    tp_err rc = TP_OK;
    *trips = false;
    ev->from_ms = last;
    ev->to_ms = now;
    switch (r->kind) {
    case CALERT_DEVICE_SILENT: {
        char zone[128], hours[1024];
        const ctz *z = NULL;
        int minute, wd, open_min;
        rc = calert_node_setting(tx, node, "timezone", zone, sizeof zone, err, errlen);
        if (rc == TP_OK)
            rc = calert_node_setting(tx, node, "opening_hours", hours, sizeof hours, err, errlen);
        if (rc == TP_OK)
            rc = calert_tz_get(tzc, zone, &z);
        if (rc != TP_OK)
            return rc;
        ctz_local_clock(z, now, &minute, &wd);
        if (!calert_open_at(hours, wd, minute, &open_min))
            return TP_OK;
        int64_t open_for =
            (int64_t)(minute >= open_min ? minute - open_min : minute + 1440 - open_min) * 60000;
        int64_t since = last > now - open_for ? last : now - open_for;
        if (hours[0] == '\0' || strcmp(hours, "always") == 0)
            since = last;
        int64_t silent = now - since;
        if (silent < (int64_t)r->p.minutes * 60000)
            return TP_OK;
        cJSON_AddNumberToObject(ev->numbers, "silent_minutes", (double)(silent / 60000));
        cJSON_AddNumberToObject(ev->numbers, "minutes", r->p.minutes);
        snprintf(ev->title_vi, sizeof ev->title_vi,
                 "%s: thiết bị %s im lặng %lld phút trong giờ mở cửa", r->name_vi, id,
                 (long long)(silent / 60000));
        snprintf(ev->title_en, sizeof ev->title_en,
                 "%s: device %s silent for %lld minutes while open", r->name_en, id,
                 (long long)(silent / 60000));
        ev->dedup_at = last;
        *trips = true;
        return TP_OK;
    }
    case CALERT_DEVICE_PENDING_AGE: {
        int64_t pending = reported ? strtoll(cstore_rows_get(d, i, D_PENDING), NULL, 10) : 0;
        int64_t age = now - last;
        if (pending <= 0 || age < (int64_t)r->p.minutes * 60000)
            return TP_OK;
        cJSON_AddNumberToObject(ev->numbers, "pending", (double)pending);
        cJSON_AddNumberToObject(ev->numbers, "oldest_pending_minutes_at_least",
                                (double)(age / 60000));
        snprintf(ev->title_vi, sizeof ev->title_vi,
                 "%s: thiết bị %s có %lld câu trả lời chờ gửi hơn %lld phút", r->name_vi, id,
                 (long long)pending, (long long)(age / 60000));
        snprintf(ev->title_en, sizeof ev->title_en,
                 "%s: device %s has %lld answers pending for over %lld minutes", r->name_en, id,
                 (long long)pending, (long long)(age / 60000));
        ev->dedup_at = last;
        *trips = true;
        return TP_OK;
    }
    case CALERT_DEVICE_SEQ_HOLES: {
        int64_t missing = 0, hole = -1;
        if (!reported)
            return TP_OK;
        rc = seq_holes(tx, id, cstore_rows_get(d, i, D_EPOCH), &missing, &hole, err, errlen);
        if (rc != TP_OK || missing < r->p.min_missing)
            return rc;
        cJSON_AddNumberToObject(ev->numbers, "missing", (double)missing);
        cJSON_AddNumberToObject(ev->numbers, "first_hole", (double)hole);
        snprintf(ev->title_vi, sizeof ev->title_vi, "%s: thiết bị %s thiếu %lld câu trả lời (seq)",
                 r->name_vi, id, (long long)missing);
        snprintf(ev->title_en, sizeof ev->title_en, "%s: device %s is missing %lld seqs",
                 r->name_en, id, (long long)missing);
        ev->dedup_at = hole;
        *trips = true;
        return TP_OK;
    }
    case CALERT_DEVICE_CLOCK: {
        const char *ct = cstore_rows_get(d, i, D_CLOCK);
        if (!reported || !ct || strcmp(ct, "0") != 0)
            return TP_OK;
        snprintf(ev->title_vi, sizeof ev->title_vi, "%s: đồng hồ của thiết bị %s không tin cậy",
                 r->name_vi, id);
        snprintf(ev->title_en, sizeof ev->title_en, "%s: device %s has an untrusted clock",
                 r->name_en, id);
        cJSON_AddStringToObject(ev->numbers, "boot_id", cstore_rows_get(d, i, D_BOOT));
        /* One alert per boot: the boot id's first 8 hex digits stand for it. */
        ev->dedup_at = (int64_t)strtoull(cstore_rows_get(d, i, D_BOOT), NULL, 16);
        *trips = true;
        return TP_OK;
    }
    case CALERT_DEVICE_DISK: {
        int64_t free_b = reported ? strtoll(cstore_rows_get(d, i, D_DISK), NULL, 10) : -1;
        if (free_b < 0 || free_b >= r->p.min_free_mb * 1000000)
            return TP_OK;
        cJSON_AddNumberToObject(ev->numbers, "disk_free_mb", (double)(free_b / 1000000));
        cJSON_AddNumberToObject(ev->numbers, "min_free_mb", (double)r->p.min_free_mb);
        snprintf(ev->title_vi, sizeof ev->title_vi, "%s: thiết bị %s sắp hết dung lượng (%lld MB)",
                 r->name_vi, id, (long long)(free_b / 1000000));
        snprintf(ev->title_en, sizeof ev->title_en, "%s: device %s is low on disk (%lld MB free)",
                 r->name_en, id, (long long)(free_b / 1000000));
        ev->dedup_at = now / 86400000 * 86400000;
        *trips = true;
        return TP_OK;
    }
    case CALERT_DEVICE_CONFIG_ERROR: {
        const char *e = cstore_rows_get(d, i, D_APPLY_ERR);
        if (!e || !*e)
            return TP_OK;
        cJSON_AddStringToObject(ev->numbers, "apply_error", e);
        snprintf(ev->title_vi, sizeof ev->title_vi, "%s: thiết bị %s không áp dụng được cấu hình",
                 r->name_vi, id);
        snprintf(ev->title_en, sizeof ev->title_en,
                 "%s: device %s failed to apply its configuration", r->name_en, id);
        const char *at = cstore_rows_get(d, i, D_APPLY_MS);
        ev->dedup_at = at ? strtoll(at, NULL, 10) : 0;
        *trips = true;
        return TP_OK;
    }
    default: return TP_OK;
    }
}

/* A trip kept for the write transaction (SQLite): the event with its own copy of the segments;
 * node and device point into the device rows, which live until the end of the pass. */
typedef struct hpend {
    calert_event ev;
    char seg[4][65];
} hpend;

tp_err calert_health_pass(cstore *s, const char *public_url, int64_t now_ms, calert_tzcache *tzc,
                          int *fired, char *err, size_t errlen)
{
    /* PostgreSQL fires in the evaluating transaction, under each (rule, device) advisory lock;
     * SQLite reads in a read transaction and fires in one short write transaction, so the
     * batches are not held back by the device checks. */
    bool pg = strcmp(cstore_kind(s), "postgresql") == 0;
    cstore_tx *tx = NULL;
    cstore_rows *d = NULL;
    calert_rule *rules = NULL;
    hpend **pend = NULL;
    size_t n_rules = 0, n_pend = 0, cap_pend = 0;
    tp_err rc = cstore_tx_begin(s, pg, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    rc = calert_load_rules(tx, true, &rules, &n_rules, err, errlen);
    if (rc == TP_OK && n_rules > 0)
        rc = FX0(tx, &d, err, errlen,
                 "SELECT f.id, f.node_path, f.apply_error, f.apply_error_ms, d.last_seen_ms,"
                 " d.pending, d.disk_free, CASE WHEN d.clock_trusted THEN '1' ELSE '0' END,"
                 " d.epoch, d.boot_id, f.created_ms FROM fleet_devices f LEFT JOIN devices d"
                 " ON d.id = f.id WHERE f.revoked_ms IS NULL ORDER BY f.id");
    for (size_t i = 0; rc == TP_OK && d && i < d->n; i++) {
        const char *node = cstore_rows_get(d, i, D_NODE), *id = cstore_rows_get(d, i, D_ID);
        for (size_t k = 0; rc == TP_OK && k < n_rules; k++) {
            const calert_rule *r = &rules[k];
            if (!calert_covers(r->node, node))
                continue;
            hpend *h = calloc(1, sizeof *h);
            if (!h) {
                rc = TP_ERR_NOMEM;
                break;
            }
            const char *p = node;
            for (int sgi = 0; sgi < 4 && p && *p; sgi++) {
                size_t n = strcspn(p, "/");
                snprintf(h->seg[sgi], sizeof h->seg[sgi], "%.*s", (int)(n > 64 ? 64 : n), p);
                p = p[n] ? p + n + 1 : NULL;
            }
            h->ev = (calert_event){.rule = r,
                                   .node = node,
                                   .device = id,
                                   .store = h->seg[2][0] ? h->seg[2] : NULL,
                                   .touchpoint = h->seg[3][0] ? h->seg[3] : NULL,
                                   .numbers = cJSON_CreateObject()};
            bool trips = false, f = false;
            if (!h->ev.numbers)
                rc = TP_ERR_NOMEM;
            if (rc == TP_OK)
                rc = calert_lock_unit(tx, pg, r->id, id, err, errlen);
            if (rc == TP_OK)
                rc = check(tx, r, d, i, now_ms, tzc, &h->ev, &trips, err, errlen);
            if (rc == TP_OK && trips && pg)
                rc = calert_fire(tx, &h->ev, public_url, now_ms, &f, err, errlen);
            *fired += f;
            if (rc == TP_OK && trips && !pg &&
                (rc = tp_array_grow((void **)&pend, &cap_pend, n_pend + 1, sizeof *pend,
                                    1u << 20)) == TP_OK) {
                pend[n_pend++] = h;
                continue;
            }
            cJSON_Delete(h->ev.numbers);
            free(h);
        }
    }
    if (rc == TP_OK)
        rc = cstore_tx_commit(tx, err, errlen);
    else
        cstore_tx_rollback(tx);
    tx = NULL;
    if (rc == TP_OK && n_pend > 0 && (rc = cstore_tx_begin(s, true, &tx, err, errlen)) == TP_OK) {
        for (size_t i = 0; rc == TP_OK && i < n_pend; i++) {
            bool f = false;
            rc = calert_fire(tx, &pend[i]->ev, public_url, now_ms, &f, err, errlen);
            *fired += f;
        }
        if (rc == TP_OK)
            rc = cstore_tx_commit(tx, err, errlen);
        else
            cstore_tx_rollback(tx);
    }
    for (size_t i = 0; i < n_pend; i++) {
        cJSON_Delete(pend[i]->ev.numbers);
        free(pend[i]);
    }
    free(pend);
    cstore_rows_free(d);
    calert_free_rules(rules, n_rules);
    return rc;
}
