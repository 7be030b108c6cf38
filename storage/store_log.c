/*
 * store_log.c - the answer store's two logs: the event log (recoveries, prunes, failures worth
 * showing staff) and the sync attempt log (the staff screen's "last sync"). Each keeps its newest
 * STORE_LOG_KEEP rows. It sits just above store_core.c, so opening (store.c), recovery and
 * maintenance can log without calling the recording code, and the recording code never calls up.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

/* ---- Sync log ------------------------------------------------------------------------------- */

/* Runs a prepared INSERT then trims the table to the newest STORE_LOG_KEEP rows. */
static tp_err insert_and_trim(store *s, sqlite3_stmt *ins, const char *table, const char *what)
{
    tp_err rc = store_tx_begin(s, true);
    if (rc != TP_OK)
        return rc;
    int sr = sqlite3_step(ins);
    if (sr != SQLITE_DONE)
        return store_fail_rollback(s, store_sqlfail(s, sr, what));
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id <= ?1", table);
    sqlite3_stmt *st = NULL;
    sr = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (sr == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(s->db) - STORE_LOG_KEEP);
        sr = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (sr != SQLITE_DONE)
        return store_fail_rollback(s, store_sqlfail(s, sr, what));
    return store_tx_commit(s);
}

tp_err store_log_sync(store *s, const store_sync_result *r)
{
    if (!s)
        return TP_ERR_INVALID;
    tp_err rc = store_need_writable(s, "log_sync");
    if (rc != TP_OK)
        return rc;
    if (!r)
        return store_fail(s, TP_ERR_INVALID, "log_sync: no result given");
    if (r->sent < 0 || r->accepted < 0 || r->duplicates < 0 || r->rejected < 0 ||
        r->http_status < 0 || r->http_status > 999)
        return store_fail(s, TP_ERR_INVALID,
                          "log_sync: counts must be >= 0 and http_status 0..999");
    size_t mlen = strnlen(r->message, sizeof r->message);
    if (mlen == sizeof r->message || !tp_utf8_valid(r->message, mlen))
        return store_fail(s, TP_ERR_INVALID,
                          "log_sync: message is not a NUL-terminated UTF-8 string");
    sqlite3_stmt *st = NULL;
    int sr = sqlite3_prepare_v2(s->db,
                                "INSERT INTO sync_log(at_ms, ok, http_status, sent, accepted, "
                                "duplicates, rejected, message) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                                -1, &st, NULL);
    if (sr != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_sqlfail(s, sr, "log_sync");
    }
    sqlite3_bind_int64(st, 1, r->at_ms);
    sqlite3_bind_int(st, 2, r->ok ? 1 : 0);
    sqlite3_bind_int(st, 3, r->http_status);
    sqlite3_bind_int64(st, 4, r->sent);
    sqlite3_bind_int64(st, 5, r->accepted);
    sqlite3_bind_int64(st, 6, r->duplicates);
    sqlite3_bind_int64(st, 7, r->rejected);
    sqlite3_bind_text(st, 8, r->message, (int)mlen, SQLITE_STATIC);
    rc = insert_and_trim(s, st, "sync_log", "log_sync");
    sqlite3_finalize(st);
    return rc;
}

/* Reads one sync_log row by query; TP_ERR_NOT_FOUND when none. */
static tp_err read_sync(store *s, const char *sql, store_sync_result *out)
{
    sqlite3_stmt *st = NULL;
    int sr = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    tp_err rc = TP_OK;
    memset(out, 0, sizeof *out);
    if (sr == SQLITE_OK)
        sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        out->at_ms = sqlite3_column_int64(st, 0);
        out->ok = sqlite3_column_int(st, 1) != 0;
        out->http_status = sqlite3_column_int(st, 2);
        out->sent = sqlite3_column_int64(st, 3);
        out->accepted = sqlite3_column_int64(st, 4);
        out->duplicates = sqlite3_column_int64(st, 5);
        out->rejected = sqlite3_column_int64(st, 6);
        const char *m = (const char *)sqlite3_column_text(st, 7);
        store_utf8_copy(out->message, m ? m : "", sizeof out->message);
    } else if (sr == SQLITE_DONE) {
        rc = TP_ERR_NOT_FOUND;
    } else {
        rc = store_sqlfail(s, sr, "reading the sync log");
    }
    sqlite3_finalize(st);
    return rc;
}

tp_err store_last_sync(store *s, store_sync_result *out, store_sync_result *last_ok)
{
    if (!s)
        return TP_ERR_INVALID;
    if (!out)
        return store_fail(s, TP_ERR_INVALID, "last_sync: out is required");
    static const char cols[] = "SELECT at_ms, ok, http_status, sent, accepted, duplicates, "
                               "rejected, message FROM sync_log ";
    char sql[256];
    snprintf(sql, sizeof sql, "%sORDER BY id DESC LIMIT 1", cols);
    tp_err rc = read_sync(s, sql, out);
    if (rc == TP_ERR_NOT_FOUND)
        store_fail(s, rc, "last_sync: no sync attempt yet");
    if (rc == TP_OK && last_ok) {
        snprintf(sql, sizeof sql, "%sWHERE ok = 1 ORDER BY id DESC LIMIT 1", cols);
        tp_err r2 = read_sync(s, sql, last_ok);
        if (r2 != TP_OK && r2 != TP_ERR_NOT_FOUND)
            return r2;
    } else if (last_ok) {
        memset(last_ok, 0, sizeof *last_ok);
    }
    return rc;
}

/* ---- Event log ------------------------------------------------------------------------------ */

tp_err store_log_event(store *s, const char *level, const char *message)
{
    if (!s)
        return TP_ERR_INVALID;
    tp_err rc = store_need_writable(s, "log_event");
    if (rc != TP_OK)
        return rc;
    if (!level ||
        (strcmp(level, "info") != 0 && strcmp(level, "warn") != 0 && strcmp(level, "error") != 0))
        return store_fail(s, TP_ERR_INVALID, "log_event: level '%.16s' is not info, warn or error",
                          level ? level : "(null)");
    if (!message || !tp_utf8_valid(message, strlen(message)))
        return store_fail(s, TP_ERR_INVALID, "log_event: message is missing or not valid UTF-8");
    char msg[512];
    store_utf8_copy(msg, message, sizeof msg);
    sqlite3_stmt *st = NULL;
    int sr = sqlite3_prepare_v2(
        s->db, "INSERT INTO events(at_ms, level, message) VALUES (?1, ?2, ?3)", -1, &st, NULL);
    if (sr != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_sqlfail(s, sr, "log_event");
    }
    sqlite3_bind_int64(st, 1, s->clock->wall_ms(s->clock->ctx));
    sqlite3_bind_text(st, 2, level, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, msg, -1, SQLITE_STATIC);
    rc = insert_and_trim(s, st, "events", "log_event");
    sqlite3_finalize(st);
    return rc;
}

tp_err store_events(store *s, store_event *out, size_t max, size_t *n)
{
    if (!s)
        return TP_ERR_INVALID;
    if (!n || (max > 0 && !out))
        return store_fail(s, TP_ERR_INVALID, "events: out and n are required");
    *n = 0;
    sqlite3_stmt *st = NULL;
    int sr = sqlite3_prepare_v2(
        s->db, "SELECT at_ms, level, message FROM events ORDER BY id DESC LIMIT ?1", -1, &st, NULL);
    if (sr == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, max > INT32_MAX ? INT32_MAX : (int64_t)max);
        while ((sr = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
            store_event *e = &out[(*n)++];
            memset(e, 0, sizeof *e);
            e->at_ms = sqlite3_column_int64(st, 0);
            const char *lv = (const char *)sqlite3_column_text(st, 1);
            const char *m = (const char *)sqlite3_column_text(st, 2);
            tp_strlcpy(e->level, lv ? lv : "", sizeof e->level);
            store_utf8_copy(e->message, m ? m : "", sizeof e->message);
        }
    }
    sqlite3_finalize(st);
    if (sr != SQLITE_DONE && sr != SQLITE_ROW) {
        *n = 0;
        return store_sqlfail(s, sr, "reading the event log");
    }
    return TP_OK;
}
