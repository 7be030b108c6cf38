/*
 * calert_comment.c - rule kind comment_tag (issue 15 item 5 on issue 13's rules): "a comment
 * tagged urgent" raises an alert.
 *
 * Crash safety: the comment's own transaction (ccomment.c) writes an alert_queue row for its
 * (device, store, touchpoint) beside the comment, exactly as a batch does for its answers; the
 * evaluator claims it like any other row and counts the tagged comments of the touchpoint's
 * window. So the alert cannot be lost between the comment and its evaluation, and the evaluator
 * alone fires: firing in the page's request would make a dedup conflict between collectors roll
 * back the customer's comment.
 *
 * The alert carries the count and the newest comment's id, never its text or contact details:
 * personal data stays in the comments store (retention and erasure reach it there only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calert_int.h"
#include "cfleet_int.h"

tp_err calert_queue_comment(cstore_tx *tx, const char *device, const char *store,
                            const char *touchpoint, int64_t at_ms, char *err, size_t errlen)
{
    char at[24];
    if (!store || !*store)
        return TP_OK; /* a device outside any store: no rule covers its comments */
    cfleet_i64(at, at_ms);
    return FX(tx, NULL, err, errlen,
              "INSERT INTO alert_queue(device, store, touchpoint, from_ms, to_ms, created_ms)"
              " VALUES($1, $2, $3, CAST($4 AS bigint), CAST($4 AS bigint), CAST($4 AS bigint))",
              device, store, touchpoint ? touchpoint : "", at);
}

tp_err calert_comment_window(cstore_tx *tx, const calert_rule *r, const char *store,
                             const char *touchpoint, int64_t from, int64_t to, calert_event *ev,
                             bool *trips, char *err, size_t errlen)
{
    char f[24], t[24], like[CALERT_TAG_MAX + 8];
    cstore_rows *rows = NULL;
    *trips = false;
    /* Tags are stored as a JSON array of strings; the categories hold no LIKE wildcards. */
    if (strcmp(r->p.tag, "staff") == 0)
        snprintf(like, sizeof like, "%%\"staff:%%");
    else
        snprintf(like, sizeof like, "%%\"%s\"%%", r->p.tag);
    tp_err rc = FX(tx, &rows, err, errlen,
                   "SELECT id, (SELECT count(*) FROM comments WHERE created_ms >= CAST($1 AS"
                   " bigint) AND created_ms < CAST($2 AS bigint) AND store = $3 AND"
                   " COALESCE(touchpoint, '') = $4 AND tags LIKE $5) FROM comments WHERE"
                   " created_ms >= CAST($1 AS bigint) AND created_ms < CAST($2 AS bigint) AND"
                   " store = $3 AND COALESCE(touchpoint, '') = $4 AND tags LIKE $5"
                   " ORDER BY created_ms DESC, id DESC LIMIT 1",
                   cfleet_i64(f, from), cfleet_i64(t, to), store, touchpoint, like);
    int64_t n = rc == TP_OK && rows->n == 1 ? strtoll(cstore_rows_get(rows, 0, 1), NULL, 10) : 0;
    if (rc == TP_OK && n >= r->p.min_count && n > 0) {
        cJSON_AddStringToObject(ev->numbers, "tag", r->p.tag);
        cJSON_AddNumberToObject(ev->numbers, "count", (double)n);
        cJSON_AddNumberToObject(ev->numbers, "min_count", r->p.min_count);
        cJSON_AddStringToObject(ev->numbers, "newest_comment", cstore_rows_get(rows, 0, 0));
        snprintf(ev->title_vi, sizeof ev->title_vi, "%s: %lld góp ý gắn thẻ \"%s\" tại %s/%s",
                 r->name_vi, (long long)n, r->p.tag, store, touchpoint);
        snprintf(ev->title_en, sizeof ev->title_en, "%s: %lld comment%s tagged \"%s\" at %s/%s",
                 r->name_en, (long long)n, n == 1 ? "" : "s", r->p.tag, store, touchpoint);
        *trips = true;
    }
    cstore_rows_free(rows);
    return rc;
}
