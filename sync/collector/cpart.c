/*
 * cpart.c - retention's side of the month partitions of answers (see cpart.h). Retention folds
 * every purged answer out of the rollups as before (crollup_purge reads them), but the answers of
 * months wholly before the cut are not deleted one by one: their partitions are dropped in the
 * same transaction, which costs the same for a month of ten answers or of ten million.
 */
#include "cpart.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

tp_err cpart_cut(cstore *s, cstore_tx *tx, int64_t before_ms, int64_t *whole, char *err,
                 size_t errlen)
{
    cstore_rows *rows = NULL;
    *whole = INT64_MIN;
    if (strcmp(cstore_kind(s), "postgresql") != 0)
        return TP_OK;
    tp_err rc = cstore_tx_exec(tx,
                               "SELECT count(*) FROM pg_partitioned_table"
                               " WHERE partrelid = to_regclass('answers')",
                               NULL, 0, &rows, err, errlen);
    const char *n = rc == TP_OK ? cstore_rows_get(rows, 0, 0) : NULL;
    if (n && strcmp(n, "1") == 0) {
        time_t t = (time_t)(before_ms >= 0 ? before_ms / 1000 : (before_ms - 999) / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        tm.tm_mday = 1;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        *whole = (int64_t)timegm(&tm) * 1000;
    }
    cstore_rows_free(rows);
    return rc;
}

tp_err cpart_drop(cstore_tx *tx, int64_t whole, char *err, size_t errlen)
{
    char cut[24];
    if (whole == INT64_MIN)
        return TP_OK;
    snprintf(cut, sizeof cut, "%lld", (long long)whole);
    const char *params[] = {cut};
    cstore_rows *rows = NULL;
    tp_err rc = cstore_tx_exec(tx, "SELECT tp_answers_drop_before($1::bigint)", params, 1, &rows,
                               err, errlen);
    cstore_rows_free(rows);
    return rc;
}
