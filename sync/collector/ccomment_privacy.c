/*
 * ccomment_privacy.c - personal data in comments (see ccomment.h; Vietnam's Law 91/2025/QH15 on
 * personal data protection): the retention job and a data subject's export and erase requests.
 *
 * What is personal here: the contact fields (name, phone, e-mail), which are stored only with
 * the consent ticked, and whatever a customer typed into the text. Retention clears the contact
 * fields after the node's retention_days and, where the node says "anonymise", masks e-mail
 * addresses, phone numbers and the contact's name in the text; counts, tags and scores stay.
 * Every change is logged in comment_retention by field name, never by value; an erase request
 * is recorded in the audit log under a hash of the phone or e-mail, not the value itself (the
 * log must not keep what was erased).
 */
#include "ccomment_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cauth.h"

/* ---- Masking --------------------------------------------------------------------------------- */

static bool email_char(char ch)
{
    return isalnum((unsigned char)ch) || strchr("._%+-", ch) || (unsigned char)ch >= 0x80;
}

char *cc_mask_text(const char *text, const char *name, const char *extra)
{
    tp_buf b;
    size_t n = strlen(text);
    tp_buf_init(&b, n * 2 + 64);
    for (size_t i = 0; i < n;) {
        /* An e-mail address: the word around an '@'. */
        if (email_char(text[i]) && (i == 0 || !email_char(text[i - 1]))) {
            size_t j = i;
            while (j < n && email_char(text[j]))
                j++;
            if (j < n && text[j] == '@') {
                size_t k = j + 1;
                while (k < n && (email_char(text[k]) || text[k] == '@'))
                    k++;
                if (k > j + 1) {
                    tp_buf_add(&b, "[email]", 7);
                    i = k;
                    continue;
                }
            }
        }
        /* A phone number: 6+ digits, maybe with spaces, dots or dashes between. */
        if (isdigit((unsigned char)text[i]) ||
            (text[i] == '+' && isdigit((unsigned char)text[i + 1]))) {
            size_t j = i + (text[i] == '+'), digits = 0, end = j;
            while (j < n && (isdigit((unsigned char)text[j]) || strchr(" .-", text[j]))) {
                if (isdigit((unsigned char)text[j])) {
                    digits++;
                    end = j + 1;
                }
                j++;
            }
            if (digits >= 6) {
                tp_buf_add(&b, "[phone]", 7);
                i = end;
                continue;
            }
        }
        const char *lit[2] = {name, extra};
        bool hit = false;
        for (int k = 0; k < 2 && !hit; k++)
            if (lit[k] && strlen(lit[k]) >= 2 && strncmp(text + i, lit[k], strlen(lit[k])) == 0) {
                tp_buf_add(&b, k == 0 ? "[name]" : "[contact]", k == 0 ? 6 : 9);
                i += strlen(lit[k]);
                hit = true;
            }
        if (!hit)
            tp_buf_add(&b, text + i++, 1);
    }
    return tp_buf_take(&b);
}

/* ---- Retention ------------------------------------------------------------------------------- */

/* Clears what retention clears in the comments of one node (path, "" for none). */
static tp_err retain_node(cstore_tx *tx, const char *path, int64_t now_ms, int *cleared, char *err,
                          size_t errlen)
{
    cJSON *settings = NULL;
    cstore_rows *rows = NULL;
    char cut[24], at[24];
    tp_err rc = cc_settings(tx, path, &settings, err, errlen);
    if (rc != TP_OK)
        return rc;
    int days = cc_setting_int(settings, "retention_days", CCOMMENT_RETENTION_DAYS);
    const char *after = cc_setting_str(settings, "after_retention");
    bool anon = after && strcmp(after, "anonymise") == 0;
    cJSON_Delete(settings);
    cfleet_i64(cut, now_ms - (int64_t)days * 86400000);
    cfleet_i64(at, now_ms);
    rc = FX(tx, &rows, err, errlen,
            "SELECT id, contact_name, contact_phone, contact_email, text FROM comments"
            " WHERE COALESCE(node_path, '') = $1 AND created_ms < CAST($2 AS BIGINT) AND"
            " (contact_name IS NOT NULL OR contact_phone IS NOT NULL OR contact_email IS NOT NULL"
            " OR ($3 = 'y' AND anonymised_ms IS NULL))",
            path, cut, anon ? "y" : "n");
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *id = cstore_rows_get(rows, i, 0);
        bool contact = cstore_rows_get(rows, i, 1) || cstore_rows_get(rows, i, 2) ||
                       cstore_rows_get(rows, i, 3);
        char detail[128];
        snprintf(detail, sizeof detail, "{\"fields\":\"%s%s%s\",\"text\":\"%s\",\"days\":%d}",
                 cstore_rows_get(rows, i, 1) ? "name " : "",
                 cstore_rows_get(rows, i, 2) ? "phone " : "",
                 cstore_rows_get(rows, i, 3) ? "email" : "", anon ? "anonymised" : "kept", days);
        char *text =
            anon ? cc_mask_text(cstore_rows_get(rows, i, 4), cstore_rows_get(rows, i, 1), NULL)
                 : NULL;
        if (anon && !text) {
            rc = TP_ERR_NOMEM;
            break;
        }
        rc = FX(tx, NULL, err, errlen,
                "UPDATE comments SET contact_name = NULL, contact_phone = NULL,"
                " contact_email = NULL, contact_deleted_ms = CASE WHEN $2 = 'y' THEN"
                " CAST($3 AS BIGINT) ELSE contact_deleted_ms END, text = COALESCE($4, text),"
                " anonymised_ms = CASE WHEN $4 IS NULL THEN anonymised_ms ELSE"
                " CAST($3 AS BIGINT) END WHERE id = $1",
                id, contact ? "y" : "n", at, text);
        free(text);
        if (rc == TP_OK)
            rc = FX(tx, NULL, err, errlen,
                    "INSERT INTO comment_retention(at_ms, comment_id, action, detail)"
                    " VALUES($1, $2, 'retention', $3)",
                    at, id, detail);
        if (rc == TP_OK)
            (*cleared)++;
    }
    cstore_rows_free(rows);
    return rc;
}

tp_err ccomment_retention_run(cstore *s, int64_t now_ms, int *cleared, char *err, size_t errlen)
{
    cstore_tx *tx = NULL;
    cstore_rows *nodes = NULL;
    *cleared = 0;
    tp_err rc = cstore_tx_begin(s, true, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    if (strcmp(cstore_kind(s), "postgresql") == 0) {
        /* Several collectors on one database: one of them runs the job, the others skip it
         * (SQLite's write lock already makes the runs take turns). */
        rc = FX0(tx, &nodes, err, errlen, "SELECT pg_try_advisory_xact_lock(1952670573)");
        bool mine = rc == TP_OK && nodes->n == 1 && strcmp(cstore_rows_get(nodes, 0, 0), "t") == 0;
        cstore_rows_free(nodes);
        nodes = NULL;
        if (rc != TP_OK || !mine) {
            cstore_tx_rollback(tx);
            return rc;
        }
    }
    rc = FX0(tx, &nodes, err, errlen,
             "SELECT DISTINCT COALESCE(node_path, '') FROM comments WHERE contact_name IS NOT NULL"
             " OR contact_phone IS NOT NULL OR contact_email IS NOT NULL OR anonymised_ms IS NULL");
    for (size_t i = 0; rc == TP_OK && i < nodes->n; i++)
        rc = retain_node(tx, cstore_rows_get(nodes, i, 0), now_ms, cleared, err, errlen);
    cstore_rows_free(nodes);
    if (rc == TP_OK)
        return cstore_tx_commit(tx, err, errlen);
    cstore_tx_rollback(tx);
    *cleared = 0;
    return rc;
}

/* ---- A data subject's requests --------------------------------------------------------------- */

tp_err ccomment_privacy(cstore *s, const char *actor, bool erase, const char *phone,
                        const char *email, int64_t now_ms, cJSON **out, char *err, size_t errlen)
{
    char value[CCOMMENT_EMAIL_MAX + 1], hash[65], target[80], at[24], like[2 * sizeof value + 3];
    cstore_tx *tx = NULL;
    cstore_rows *rows = NULL, *ans = NULL;
    *out = NULL;
    if (!!phone == !!email)
        return tp_errf(err, errlen, TP_ERR_INVALID, "give one of --phone or --email");
    if (phone && !cc_phone_canon(phone, value, sizeof value))
        return tp_errf(err, errlen, TP_ERR_INVALID, "--phone '%.40s': not a phone number", phone);
    if (email && !cc_email_canon(email, value, sizeof value))
        return tp_errf(err, errlen, TP_ERR_INVALID, "--email '%.80s': not an e-mail address",
                       email);
    size_t k = 0;
    like[k++] = '%';
    for (const char *p = value; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            like[k++] = '\\';
        like[k++] = *p;
    }
    like[k++] = '%';
    like[k] = '\0';
    cauth_sha256_hex(value, strlen(value), hash);
    snprintf(target, sizeof target, "%s:sha256:%.16s", phone ? "phone" : "email", hash);
    tp_err rc = cstore_tx_begin(s, true, &tx, err, errlen);
    if (rc != TP_OK)
        return rc;
    char sql[800];
    snprintf(sql, sizeof sql,
             "SELECT " CC_COLS " FROM comments c WHERE c.%s = $1 OR c.text LIKE $2 ESCAPE '\\'"
             " ORDER BY c.created_ms",
             phone ? "contact_phone" : "contact_email");
    rc = FX(tx, &rows, err, errlen, sql, value, like);
    if (rc == TP_OK && !erase) {
        snprintf(sql, sizeof sql,
                 "SELECT c.id, a.survey, a.survey_version, a.question, a.kind, a.value, a.choice,"
                 " a.at_ms FROM comments c JOIN answers a ON a.device = c.device AND"
                 " CAST(a.session AS TEXT) = c.session WHERE c.%s = $1 OR c.text LIKE $2"
                 " ESCAPE '\\' ORDER BY c.id, a.at_ms",
                 phone ? "contact_phone" : "contact_email");
        rc = FX(tx, &ans, err, errlen, sql, value, like);
    }
    cJSON *res = cJSON_CreateObject(), *arr = NULL;
    if (rc == TP_OK && (!res || !cJSON_AddStringToObject(res, phone ? "phone" : "email", value) ||
                        !(arr = cJSON_AddArrayToObject(res, "comments"))))
        rc = TP_ERR_NOMEM;
    cfleet_i64(at, now_ms);
    for (size_t i = 0; rc == TP_OK && i < rows->n; i++) {
        const char *id = cstore_rows_get(rows, i, 0);
        if (!erase) {
            cJSON *o = cc_comment_json(rows, i, true), *aa = NULL;
            if (!o || !cJSON_AddItemToArray(arr, o) || !(aa = cJSON_AddArrayToObject(o, "answers")))
                rc = TP_ERR_NOMEM;
            for (size_t j = 0; rc == TP_OK && j < ans->n; j++)
                if (strcmp(cstore_rows_get(ans, j, 0), id) == 0 &&
                    !cJSON_AddItemToArray(aa, cc_answer_json(ans, j)))
                    rc = TP_ERR_NOMEM;
            continue;
        }
        char *text = cc_mask_text(cstore_rows_get(rows, i, 7), cstore_rows_get(rows, i, 10), value);
        if (!text) {
            rc = TP_ERR_NOMEM;
            break;
        }
        rc = FX(tx, NULL, err, errlen,
                "UPDATE comments SET contact_name = NULL, contact_phone = NULL, contact_email ="
                " NULL, contact_deleted_ms = CAST($2 AS BIGINT), text = $3 WHERE id = $1",
                id, at, text);
        free(text);
        if (rc == TP_OK)
            rc = FX(tx, NULL, err, errlen,
                    "INSERT INTO comment_retention(at_ms, comment_id, action, detail)"
                    " VALUES($1, $2, 'erase', $3)",
                    at, id, target);
        if (rc == TP_OK && !cJSON_AddItemToArray(arr, cJSON_CreateString(id)))
            rc = TP_ERR_NOMEM;
    }
    if (rc == TP_OK) {
        cJSON *after = cJSON_CreateObject();
        cJSON_AddNumberToObject(after, "comments", (double)rows->n);
        rc = cfleet_audit(tx, actor, erase ? "privacy.erase" : "privacy.export", target, NULL,
                          after, now_ms, err, errlen);
        cJSON_Delete(after);
    }
    cstore_rows_free(rows);
    cstore_rows_free(ans);
    if (rc == TP_OK)
        rc = cstore_tx_commit(tx, err, errlen);
    else
        cstore_tx_rollback(tx);
    if (rc != TP_OK) {
        cJSON_Delete(res);
        return rc;
    }
    if (erase)
        cJSON_DeleteItemFromObjectCaseSensitive(res, phone ? "phone" : "email");
    *out = res;
    return TP_OK;
}
