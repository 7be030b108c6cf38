/*
 * store_rec.c - recording sessions, reading answers, sync state and the export cursor of the
 * answer store (the logs are in store_log.c, the names cache in store_core.c).
 *
 * The recording transaction is kept lean because the customer waits for it: cached prepared
 * statements, one BEGIN IMMEDIATE ... COMMIT (one WAL fsync), one statvfs for the free-space
 * reserve, and the seq sidecar rewritten only once per STORE_SEQMARK_STEP answers.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Validation ----------------------------------------------------------------------------- */

/* An invalid field: names the field, shows the value and says why. */
static tp_err bad(store *s, const char *field, const char *val, const char *why)
{
    if (!val)
        return store_fail(s, TP_ERR_INVALID, "record_session: %s is missing; nothing was stored",
                          field);
    return store_fail(s, TP_ERR_INVALID, "record_session: %s '%.80s' %s; nothing was stored", field,
                      val, why);
}

static tp_err check_id(store *s, const char *field, const char *v)
{
    if (!v || !tp_id_valid(v))
        return bad(s, field, v, "is not a valid id (1-64 of A-Z a-z 0-9 . _ -)");
    return TP_OK;
}

static tp_err validate_session(store *s, const store_session_in *in)
{
    tp_err rc;
    if (!in)
        return store_fail(s, TP_ERR_INVALID, "record_session: no session given");
    if (in->session_id && !tp_uuid_valid(in->session_id))
        return bad(s, "session_id", in->session_id, "is not a UUID");
    if ((rc = check_id(s, "survey_id", in->survey_id)) != TP_OK ||
        (rc = check_id(s, "store_id", in->store_id)) != TP_OK ||
        (rc = check_id(s, "touchpoint_id", in->touchpoint_id)) != TP_OK)
        return rc;
    if (in->survey_version < 1)
        return store_fail(s, TP_ERR_INVALID,
                          "record_session: survey_version %d must be >= 1; nothing was stored",
                          in->survey_version);
    if (!in->lang || !tp_lang_valid(in->lang))
        return bad(s, "lang", in->lang, "is not a language tag (2-8 of a-z A-Z -)");
    if (in->flags & ~TP_FLAGS_KNOWN)
        return store_fail(s, TP_ERR_INVALID,
                          "record_session: flags 0x%x has unknown bits (known: 0x%x); nothing "
                          "was stored",
                          in->flags, TP_FLAGS_KNOWN);
    if (in->n_answers < 1 || in->n_answers > STORE_SESSION_MAX_ANSWERS || !in->answers)
        return store_fail(s, TP_ERR_INVALID,
                          "record_session: n_answers %zu must be 1..%d (with answers given); "
                          "nothing was stored",
                          in->n_answers, STORE_SESSION_MAX_ANSWERS);
    for (size_t i = 0; i < in->n_answers; i++) {
        const store_answer_in *a = &in->answers[i];
        char field[48];
        snprintf(field, sizeof field, "answers[%zu].question_id", i);
        if ((rc = check_id(s, field, a->question_id)) != TP_OK)
            return rc;
        if ((unsigned)a->kind >= TP_KIND_COUNT)
            return store_fail(s, TP_ERR_INVALID,
                              "record_session: answers[%zu].kind %d is not a kind; nothing was "
                              "stored",
                              i, (int)a->kind);
        if (a->kind == TP_KIND_CHOICE) {
            snprintf(field, sizeof field, "answers[%zu].choice_id", i);
            if ((rc = check_id(s, field, a->choice_id)) != TP_OK)
                return rc;
        } else {
            int lo = 0, hi = 0;
            tp_kind_range(a->kind, &lo, &hi);
            if (a->value < lo || a->value > hi)
                return store_fail(s, TP_ERR_INVALID,
                                  "record_session: answers[%zu].value %d not in %d..%d for %s; "
                                  "nothing was stored",
                                  i, a->value, lo, hi, tp_kind_name(a->kind));
            if (a->choice_id)
                return store_fail(s, TP_ERR_INVALID,
                                  "record_session: answers[%zu].choice_id must be NULL for %s; "
                                  "nothing was stored",
                                  i, tp_kind_name(a->kind));
        }
    }
    return TP_OK;
}

/* ---- Recording ------------------------------------------------------------------------------ */

/* Finds an existing session for a follow-up and checks it matches. */
static tp_err join_session(store *s, const unsigned char blob[16], const store_session_in *in,
                           int64_t survey, int64_t shop, int64_t tp, int64_t *sess)
{
    sqlite3_stmt *st = store_stmt(s, ST_SESS_FIND);
    if (!st)
        return TP_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, blob, 16, SQLITE_STATIC);
    int sr = sqlite3_step(st);
    tp_err rc = TP_OK;
    if (sr == SQLITE_ROW) {
        *sess = sqlite3_column_int64(st, 0);
        if (sqlite3_column_int64(st, 1) != survey)
            rc = store_fail(s, TP_ERR_INVALID,
                            "record_session: follow-up survey_id '%s' does not match session "
                            "%s's survey; nothing was stored",
                            in->survey_id, in->session_id);
        else if (sqlite3_column_int(st, 2) != in->survey_version)
            rc = store_fail(s, TP_ERR_INVALID,
                            "record_session: follow-up survey_version %d does not match session "
                            "%s's version %d; nothing was stored",
                            in->survey_version, in->session_id, sqlite3_column_int(st, 2));
        else if (sqlite3_column_int64(st, 3) != shop)
            rc = store_fail(s, TP_ERR_INVALID,
                            "record_session: follow-up store_id '%s' does not match session %s's "
                            "store; nothing was stored",
                            in->store_id, in->session_id);
        else if (sqlite3_column_int64(st, 4) != tp)
            rc = store_fail(s, TP_ERR_INVALID,
                            "record_session: follow-up touchpoint_id '%s' does not match session "
                            "%s's touchpoint; nothing was stored",
                            in->touchpoint_id, in->session_id);
    } else if (sr == SQLITE_DONE) {
        rc = store_fail(s, TP_ERR_NOT_FOUND,
                        "record_session: session_id %s is not a known session (pruned or never "
                        "recorded); nothing was stored",
                        in->session_id);
    } else {
        rc = store_sqlfail(s, sr, "looking up the session");
    }
    sqlite3_reset(st);
    return rc;
}

static tp_err step_done(store *s, sqlite3_stmt *st, const char *what)
{
    int sr = sqlite3_step(st);
    sqlite3_reset(st);
    return sr == SQLITE_DONE ? TP_OK : store_sqlfail(s, sr, what);
}

tp_err store_record_session(store *s, const store_session_in *in, char session_id[TP_UUID_STR],
                            store_receipt *receipts)
{
    if (!s)
        return TP_ERR_INVALID;
    tp_err rc = validate_session(s, in);
    if (rc != TP_OK)
        return rc;
    if (s->readonly)
        return store_fail(s, TP_ERR_READONLY, "record_session: the store was opened read-only");

    /* The reserve check: better "out of order" now than SQLITE_FULL half-way through a day. */
    int64_t free_b = store_free_bytes(s);
    if (free_b >= 0 && free_b < s->min_free_bytes)
        return store_fail(s, TP_ERR_DISK_FULL,
                          "record_session: only %lld bytes free on the filesystem, below the "
                          "reserve of %lld%s; nothing was stored",
                          (long long)free_b, (long long)s->min_free_bytes,
                          s->min_free_floor ? " (the store's minimum, kept even when the "
                                              "configured reserve is 0)"
                                            : "");

    const tp_clock *c = s->clock;
    int64_t wall = c->wall_ms(c->ctx);
    int64_t mono = c->mono_ms(c->ctx);
    bool trusted = c->synced(c->ctx);
    const char *boot = c->boot_id(c->ctx);
    if (!boot || !tp_uuid_valid(boot))
        boot = "00000000-0000-0000-0000-000000000000";
    unsigned flags = in->flags | (trusted ? STORE_FLAG_TRUSTED : 0u);
    int excl = (in->flags & TP_FLAG_RAPID_REPEAT) ? 1 : 0;

    char ids[STORE_SESSION_MAX_ANSWERS][TP_UUID_STR];
    unsigned char blobs[STORE_SESSION_MAX_ANSWERS][16];
    char sess_str[TP_UUID_STR];
    unsigned char sess_blob[16];
    for (size_t i = 0; i < in->n_answers; i++) {
        if (tp_uuid7_new(c, ids[i]) != TP_OK || !store_uuid_to_blob(ids[i], blobs[i]))
            return store_fail(s, TP_ERR_IO, "record_session: making an answer id failed");
    }
    if (in->session_id) {
        tp_strlcpy(sess_str, in->session_id, sizeof sess_str);
        for (char *p = sess_str; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p - 'A' + 'a');
    } else {
        /* A new session is named by its first answer's id: unique by construction, and in an
         * upload the session then gzips to a back-reference (most sessions have one answer). */
        memcpy(sess_str, ids[0], TP_UUID_STR);
    }
    store_uuid_to_blob(sess_str, sess_blob);

    int64_t survey = 0, shop = 0, tp = 0, lang = 0, bootref = 0, sess = 0;
    int64_t next = 0, mark = 0;
    rc = store_tx_begin(s, true);
    if (rc != TP_OK)
        return rc;
    if ((rc = store_name_intern(s, in->survey_id, &survey)) != TP_OK ||
        (rc = store_name_intern(s, in->store_id, &shop)) != TP_OK ||
        (rc = store_name_intern(s, in->touchpoint_id, &tp)) != TP_OK ||
        (rc = store_name_intern(s, in->lang, &lang)) != TP_OK ||
        (rc = store_name_intern(s, boot, &bootref)) != TP_OK)
        goto fail;

    sqlite3_stmt *st = NULL;
    if (in->session_id) {
        if ((rc = join_session(s, sess_blob, in, survey, shop, tp, &sess)) != TP_OK)
            goto fail;
        st = store_stmt(s, ST_SESS_GROW);
        if (!st)
            goto internal;
        sqlite3_bind_int64(st, 1, sess);
        sqlite3_bind_int64(st, 2, (int64_t)in->n_answers);
        if ((rc = step_done(s, st, "updating the session")) != TP_OK)
            goto fail;
    } else {
        st = store_stmt(s, ST_SESS_ADD);
        if (!st)
            goto internal;
        sqlite3_bind_blob(st, 1, sess_blob, 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, survey);
        sqlite3_bind_int(st, 3, in->survey_version);
        sqlite3_bind_int64(st, 4, shop);
        sqlite3_bind_int64(st, 5, tp);
        sqlite3_bind_int64(st, 6, (int64_t)in->n_answers);
        if ((rc = step_done(s, st, "storing the session")) != TP_OK)
            goto fail;
        sess = sqlite3_last_insert_rowid(s->db);
    }

    st = store_stmt(s, ST_META_SEQ);
    if (!st)
        goto internal;
    int sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        next = sqlite3_column_int64(st, 0);
        mark = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (sr != SQLITE_ROW) {
        rc = store_sqlfail(s, sr == SQLITE_DONE ? SQLITE_CORRUPT : sr, "reading next_seq");
        goto fail;
    }

    int64_t bucket = store_bucket_of(wall);
    for (size_t i = 0; i < in->n_answers; i++) {
        const store_answer_in *a = &in->answers[i];
        int64_t q = 0, val = a->value;
        if ((rc = store_name_intern(s, a->question_id, &q)) != TP_OK)
            goto fail;
        if (a->kind == TP_KIND_CHOICE && (rc = store_name_intern(s, a->choice_id, &val)) != TP_OK)
            goto fail;
        st = store_stmt(s, ST_ANS_ADD);
        if (!st)
            goto internal;
        sqlite3_bind_int64(st, 1, next + (int64_t)i);
        sqlite3_bind_blob(st, 2, blobs[i], 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, sess);
        sqlite3_bind_int64(st, 4, q);
        sqlite3_bind_int(st, 5, (int)a->kind);
        sqlite3_bind_int64(st, 6, val);
        sqlite3_bind_int64(st, 7, lang);
        sqlite3_bind_int64(st, 8, bootref);
        sqlite3_bind_int64(st, 9, wall);
        sqlite3_bind_int64(st, 10, mono);
        sqlite3_bind_int(st, 11, (int)flags);
        if ((rc = step_done(s, st, "storing an answer")) != TP_OK)
            goto fail;
        st = store_stmt(s, ST_ROLLUP_ADD);
        if (!st)
            goto internal;
        sqlite3_bind_int64(st, 1, bucket);
        sqlite3_bind_int64(st, 2, tp);
        sqlite3_bind_int64(st, 3, q);
        sqlite3_bind_int(st, 4, (int)a->kind);
        sqlite3_bind_int64(st, 5, val);
        sqlite3_bind_int(st, 6, excl);
        sqlite3_bind_int(st, 7, 1);
        if ((rc = step_done(s, st, "updating the statistics rollup")) != TP_OK)
            goto fail;
    }

    int64_t new_next = next + (int64_t)in->n_answers;
    if (new_next - 1 > mark) {
        /* Reserve ahead in the sidecar BEFORE these seqs can commit: even a file that is later
         * unreadable can never lead to a seq being given twice. */
        mark = new_next - 1 + STORE_SEQMARK_STEP;
        if ((rc = store_seqmark_write(s, mark)) != TP_OK)
            goto fail;
    }
    st = store_stmt(s, ST_META_SET_SEQ);
    if (!st)
        goto internal;
    sqlite3_bind_int64(st, 1, new_next);
    sqlite3_bind_int64(st, 2, mark);
    sqlite3_bind_int64(st, 3, (int64_t)in->n_answers);
    if ((rc = step_done(s, st, "advancing next_seq")) != TP_OK)
        goto fail;

    rc = store_tx_commit(s);
    if (rc != TP_OK)
        return rc;
    if (session_id)
        memcpy(session_id, sess_str, TP_UUID_STR);
    if (receipts) {
        for (size_t i = 0; i < in->n_answers; i++) {
            memcpy(receipts[i].id, ids[i], TP_UUID_STR);
            receipts[i].seq = next + (int64_t)i;
        }
    }
    return TP_OK;

internal:
    rc = TP_ERR_INTERNAL;
fail:
    return store_fail_rollback(s, rc);
}

/* ---- Reading -------------------------------------------------------------------------------- */

static void copy_name(store *s, char *dst, size_t len, int64_t id)
{
    tp_strlcpy(dst, store_name_get(s, id), len);
}

/* Fills *a from a row of ST_READ_PENDING / ST_READ_RANGE (column order of ANSWER_COLS). */
static void fill_answer(store *s, sqlite3_stmt *st, store_answer *a)
{
    memset(a, 0, sizeof *a);
    a->seq = sqlite3_column_int64(st, 0);
    store_uuid_from_blob(sqlite3_column_blob(st, 1), sqlite3_column_bytes(st, 1), a->id);
    store_uuid_from_blob(sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2), a->session_id);
    copy_name(s, a->survey_id, sizeof a->survey_id, sqlite3_column_int64(st, 3));
    a->survey_version = sqlite3_column_int(st, 4);
    copy_name(s, a->question_id, sizeof a->question_id, sqlite3_column_int64(st, 5));
    a->kind = (tp_kind)sqlite3_column_int(st, 6);
    if (a->kind == TP_KIND_CHOICE)
        copy_name(s, a->choice_id, sizeof a->choice_id, sqlite3_column_int64(st, 7));
    else
        a->value = sqlite3_column_int(st, 7);
    copy_name(s, a->lang, sizeof a->lang, sqlite3_column_int64(st, 8));
    copy_name(s, a->store_id, sizeof a->store_id, sqlite3_column_int64(st, 9));
    copy_name(s, a->touchpoint_id, sizeof a->touchpoint_id, sqlite3_column_int64(st, 10));
    a->wall_ms = sqlite3_column_int64(st, 11);
    a->mono_ms = sqlite3_column_int64(st, 12);
    copy_name(s, a->boot_id, sizeof a->boot_id, sqlite3_column_int64(st, 13));
    unsigned f = (unsigned)sqlite3_column_int(st, 14);
    a->clock_trusted = (f & STORE_FLAG_TRUSTED) != 0;
    a->flags = f & TP_FLAGS_KNOWN;
    a->state = (store_sync_state)sqlite3_column_int(st, 15);
    if (sqlite3_column_type(st, 16) != SQLITE_NULL) {
        tp_strlcpy(a->reject_code, (const char *)sqlite3_column_text(st, 16),
                   sizeof a->reject_code);
        tp_strlcpy(a->reject_reason, (const char *)sqlite3_column_text(st, 17),
                   sizeof a->reject_reason);
    }
}

tp_err store_read_pending(store *s, int64_t after_seq, size_t max, store_answer *out, size_t *n)
{
    if (!s)
        return TP_ERR_INVALID;
    if (!n || (max > 0 && !out))
        return store_fail(s, TP_ERR_INVALID, "read_pending: out and n are required");
    *n = 0;
    if (max == 0)
        return TP_OK;
    sqlite3_stmt *st = store_stmt(s, ST_READ_PENDING);
    if (!st)
        return TP_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, max > INT32_MAX ? INT32_MAX : (int64_t)max);
    int sr;
    /* One statement is one snapshot: the batch is consistent without an explicit transaction. */
    while ((sr = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        fill_answer(s, st, &out[(*n)++]);
    sqlite3_reset(st);
    if (sr != SQLITE_DONE && sr != SQLITE_ROW) {
        *n = 0;
        return store_sqlfail(s, sr, "reading pending answers");
    }
    return TP_OK;
}

tp_err store_foreach_answer(store *s, int64_t after_seq, int64_t upto_seq, store_answer_cb cb,
                            void *ctx)
{
    if (!s)
        return TP_ERR_INVALID;
    if (!cb)
        return store_fail(s, TP_ERR_INVALID, "foreach_answer: no callback");
    if (upto_seq < 0)
        upto_seq = INT64_MAX;
    store_answer *a = malloc(sizeof *a);
    if (!a)
        return store_fail(s, TP_ERR_NOMEM, "foreach_answer: out of memory");
    /* An explicit read transaction: the snapshot is taken at the first step and held until
     * COMMIT, so answers recorded meanwhile by another process are not seen. */
    tp_err rc = store_tx_begin(s, false);
    if (rc != TP_OK) {
        free(a);
        return rc;
    }
    sqlite3_stmt *st = store_stmt(s, ST_READ_RANGE);
    if (!st) {
        rc = TP_ERR_INTERNAL;
        goto out;
    }
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, upto_seq);
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        fill_answer(s, st, a);
        rc = cb(a, ctx);
        if (rc != TP_OK)
            break;
    }
    if (rc == TP_OK && sr != SQLITE_DONE)
        rc = store_sqlfail(s, sr, "reading answers");
    sqlite3_reset(st);
out:
    rc = rc == TP_OK ? store_tx_commit(s) : store_fail_rollback(s, rc);
    free(a);
    return rc;
}

/* ---- Sync state ----------------------------------------------------------------------------- */

static tp_err add_counts(store *s, int64_t pending, int64_t synced, int64_t rejected)
{
    sqlite3_stmt *st = store_stmt(s, ST_META_ADD_COUNTS);
    if (!st)
        return TP_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, pending);
    sqlite3_bind_int64(st, 2, synced);
    sqlite3_bind_int64(st, 3, rejected);
    return step_done(s, st, "updating the counters");
}

tp_err store_mark_synced(store *s, const int64_t *seqs, size_t n, size_t *changed)
{
    if (!s)
        return TP_ERR_INVALID;
    if (changed)
        *changed = 0;
    if (n > 0 && !seqs)
        return store_fail(s, TP_ERR_INVALID, "mark_synced: seqs is NULL");
    tp_err rc = store_need_writable(s, "mark_synced");
    if (rc != TP_OK || n == 0)
        return rc;
    size_t total = 0;
    if ((rc = store_tx_begin(s, true)) != TP_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = store_stmt(s, ST_MARK_SYNCED);
        if (!st)
            return store_fail_rollback(s, TP_ERR_INTERNAL);
        sqlite3_bind_int64(st, 1, seqs[i]);
        if ((rc = step_done(s, st, "marking answers synced")) != TP_OK)
            return store_fail_rollback(s, rc);
        total += (size_t)sqlite3_changes(s->db);
    }
    if (total > 0 && (rc = add_counts(s, -(int64_t)total, (int64_t)total, 0)) != TP_OK)
        return store_fail_rollback(s, rc);
    if ((rc = store_tx_commit(s)) != TP_OK)
        return rc;
    if (changed)
        *changed = total;
    return TP_OK;
}

tp_err store_mark_rejected(store *s, int64_t seq, const char *code, const char *reason)
{
    if (!s)
        return TP_ERR_INVALID;
    tp_err rc = store_need_writable(s, "mark_rejected");
    if (rc != TP_OK)
        return rc;
    if (!code || !tp_id_valid(code))
        return store_fail(s, TP_ERR_INVALID, "mark_rejected: code '%.80s' is not a valid id",
                          code ? code : "(null)");
    if (!reason || !tp_utf8_valid(reason, strlen(reason)))
        return store_fail(s, TP_ERR_INVALID, "mark_rejected: reason is missing or not valid UTF-8");
    char why[256];
    store_utf8_copy(why, reason, sizeof why);
    if ((rc = store_tx_begin(s, true)) != TP_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    int sr = sqlite3_prepare_v2(s->db, "SELECT state FROM answers WHERE seq = ?1", -1, &st, NULL);
    int state = -1;
    if (sr == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq);
        sr = sqlite3_step(st);
        if (sr == SQLITE_ROW)
            state = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sr != SQLITE_ROW && sr != SQLITE_DONE)
        return store_fail_rollback(s, store_sqlfail(s, sr, "mark_rejected: reading the answer"));
    if (state < 0)
        return store_fail_rollback(s, store_fail(s, TP_ERR_NOT_FOUND,
                                                 "mark_rejected: no answer with seq %lld",
                                                 (long long)seq));
    if (state == STORE_SYNCED)
        return store_fail_rollback(s, store_fail(s, TP_ERR_INVALID,
                                                 "mark_rejected: answer seq %lld is already synced",
                                                 (long long)seq));
    sr = sqlite3_prepare_v2(s->db,
                            "INSERT OR REPLACE INTO rejects(seq, code, reason) VALUES (?1, ?2, ?3)",
                            -1, &st, NULL);
    if (sr == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
        sr = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sr == SQLITE_DONE && state == STORE_PENDING) {
        sr =
            sqlite3_prepare_v2(s->db, "UPDATE answers SET state = 2 WHERE seq = ?1", -1, &st, NULL);
        if (sr == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, seq);
            sr = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (sr == SQLITE_DONE && (rc = add_counts(s, -1, 0, 1)) != TP_OK)
            return store_fail_rollback(s, rc);
    }
    if (sr != SQLITE_DONE)
        return store_fail_rollback(s, store_sqlfail(s, sr, "mark_rejected"));
    return store_tx_commit(s);
}

/* ---- Export cursor -------------------------------------------------------------------------- */

static tp_err meta_int(store *s, const char *col_sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int sr = sqlite3_prepare_v2(s->db, col_sql, -1, &st, NULL);
    if (sr == SQLITE_OK)
        sr = sqlite3_step(st);
    if (sr == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sr == SQLITE_ROW)
        return TP_OK;
    return store_sqlfail(s, sr == SQLITE_DONE ? SQLITE_CORRUPT : sr, "reading the meta row");
}

tp_err store_get_export_cursor(store *s, int64_t *seq)
{
    if (!s)
        return TP_ERR_INVALID;
    if (!seq)
        return store_fail(s, TP_ERR_INVALID, "get_export_cursor: seq is required");
    return meta_int(s, "SELECT export_cursor FROM meta WHERE id = 1", seq);
}

tp_err store_set_export_cursor(store *s, int64_t seq)
{
    if (!s)
        return TP_ERR_INVALID;
    tp_err rc = store_need_writable(s, "set_export_cursor");
    if (rc != TP_OK)
        return rc;
    int64_t cur = 0, next = 0;
    if ((rc = store_tx_begin(s, true)) != TP_OK)
        return rc;
    if ((rc = meta_int(s, "SELECT export_cursor FROM meta WHERE id = 1", &cur)) != TP_OK ||
        (rc = meta_int(s, "SELECT next_seq FROM meta WHERE id = 1", &next)) != TP_OK)
        return store_fail_rollback(s, rc);
    if (seq < cur)
        return store_fail_rollback(s,
                                   store_fail(s, TP_ERR_INVALID,
                                              "set_export_cursor: %lld is below the current cursor "
                                              "%lld (the cursor never moves back)",
                                              (long long)seq, (long long)cur));
    if (seq > next - 1)
        return store_fail_rollback(s, store_fail(s, TP_ERR_INVALID,
                                                 "set_export_cursor: %lld is above the highest seq "
                                                 "%lld",
                                                 (long long)seq, (long long)(next - 1)));
    sqlite3_stmt *st = NULL;
    int sr =
        sqlite3_prepare_v2(s->db, "UPDATE meta SET export_cursor = ?1 WHERE id = 1", -1, &st, NULL);
    if (sr == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq);
        sr = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (sr != SQLITE_DONE)
        return store_fail_rollback(s, store_sqlfail(s, sr, "set_export_cursor"));
    return store_tx_commit(s);
}
