/*
 * cstore_pg_part.c - the answers table of PostgreSQL partitioned by month (schema step 7).
 *
 * A partitioned table cannot hold a global PRIMARY KEY(id) nor UNIQUE(device, epoch, seq) (its
 * unique keys must contain at_ms), so the unpartitioned answer_keys carries them (since step 12
 * the id only, the stored seqs being ranges in key_ranges: cstore_pg_keys.c) and the
 * duplicate / seq-conflict detection of ingest; answers is PARTITION BY RANGE (at_ms), one
 * partition per UTC month (answers_YYYY_MM), made on demand just before a batch's transaction
 * (pg_part_ensure). tp_answers_month() checks for the partition and only when it is missing takes
 * an advisory transaction lock and CREATE TABLE IF NOT EXISTS ... PARTITION OF, so two collectors
 * writing into a new month at once both succeed. Times outside 2000-2099 land in answers_default
 * (the safety net; no partition is made for them). A delete from answers deletes its key (a row
 * trigger); retention drops whole months (tp_answers_drop_before) and their keys (step 12 gives
 * their seqs back to key_ranges too).
 */
#include "cstore_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MONTHS_MAX 64 /* distinct months one batch may create; the rest go to default */

/* The functions first (CREATE OR REPLACE), then the conversion, which is skipped when answers
 * is partitioned already (a store whose schema_version rows were rewritten). */
const char *const cstore_pg_schema_v7 =
    "CREATE OR REPLACE FUNCTION tp_answer_key_delete() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " BEGIN DELETE FROM answer_keys WHERE id = OLD.id; RETURN NULL; END $f$;"
    /* The month of ms (UTC) gets its partition unless it has one. */
    "CREATE OR REPLACE FUNCTION tp_answers_month(ms bigint) RETURNS void LANGUAGE plpgsql AS $f$"
    " DECLARE m timestamp := date_trunc('month', to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC');"
    " n text := 'answers_' || to_char(m, 'YYYY_MM');"
    " BEGIN"
    "  IF ms < 946684800000 OR ms >= 4102444800000 OR to_regclass(n) IS NOT NULL THEN"
    "   RETURN; END IF;"
    "  PERFORM pg_advisory_xact_lock(1953525857);" /* "tppa" */
    "  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF answers"
    " FOR VALUES FROM (%s) TO (%s)', n, (extract(epoch FROM m) * 1000)::bigint,"
    " (extract(epoch FROM m + interval '1 month') * 1000)::bigint);"
    " END $f$;"
    /* Drops the months wholly before cut (a month start) and every answer and key before it;
     * returns how many keys went with the dropped months. */
    "CREATE OR REPLACE FUNCTION tp_answers_drop_before(cut bigint) RETURNS bigint"
    " LANGUAGE plpgsql AS $f$"
    " DECLARE r record; k bigint;"
    " BEGIN"
    "  DELETE FROM answers_default WHERE at_ms < cut;"
    "  FOR r IN " PG_MONTHS_BEFORE_CUT
    "  LOOP EXECUTE format('DROP TABLE %I', r.relname); END LOOP;"
    "  DELETE FROM answer_keys WHERE at_ms < cut;"
    "  GET DIAGNOSTICS k = ROW_COUNT;"
    "  RETURN k;"
    " END $f$;"
    "DO $d$ BEGIN"
    " IF EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'answers'::regclass) THEN"
    "  RETURN; END IF;"
    " ALTER TABLE answers RENAME TO answers_unpartitioned;"
    " CREATE TABLE answers("
    "  id uuid NOT NULL, device text NOT NULL, epoch uuid NOT NULL, seq bigint NOT NULL,"
    "  session uuid NOT NULL, survey text NOT NULL, survey_version integer NOT NULL,"
    "  question text NOT NULL, kind text NOT NULL, value smallint, choice text,"
    "  lang text NOT NULL, store text NOT NULL, touchpoint text NOT NULL,"
    "  wall_ms bigint NOT NULL, clock_trusted boolean NOT NULL, mono_ms bigint NOT NULL,"
    "  boot_id uuid NOT NULL, flags integer NOT NULL, at_ms bigint NOT NULL,"
    "  time_source text NOT NULL, received_at_ms bigint NOT NULL, batch_id uuid NOT NULL)"
    "  PARTITION BY RANGE (at_ms);"
    " CREATE INDEX answers_at_ms ON answers(at_ms);"
    " CREATE INDEX answers_id ON answers(id);"
    " CREATE TABLE answers_default PARTITION OF answers DEFAULT;"
    " CREATE TABLE answer_keys("
    "  id uuid PRIMARY KEY, device text NOT NULL, epoch uuid NOT NULL, seq bigint NOT NULL,"
    "  at_ms bigint NOT NULL, UNIQUE(device, epoch, seq));"
    " CREATE INDEX answer_keys_at ON answer_keys(at_ms);"
    " CREATE TRIGGER answers_key_delete AFTER DELETE ON answers"
    "  FOR EACH ROW EXECUTE FUNCTION tp_answer_key_delete();"
    /* The months of the stored answers, and this month and the next. */
    " PERFORM tp_answers_month(d) FROM (SELECT DISTINCT at_ms / 86400000 * 86400000 AS d"
    "  FROM answers_unpartitioned) t;"
    " PERFORM tp_answers_month((extract(epoch FROM now()) * 1000)::bigint + o)"
    "  FROM unnest(ARRAY[0, 2678400000]::bigint[]) o;"
    " INSERT INTO answers SELECT * FROM answers_unpartitioned;"
    " INSERT INTO answer_keys SELECT id, device, epoch, seq, at_ms FROM answers_unpartitioned;"
    " DROP TABLE answers_unpartitioned;"
    " END $d$;";

/* Step 8: what ingest writes per answer, trimmed. answers_id duplicated answer_keys' primary key
 * (the only lookup by id, retention's, also knows at_ms: the month prunes it); answer_keys_at
 * and the at_ms column served only retention, which now deletes the keys of a dropped month
 * through its partition's ids. Each index gone is one write fewer per stored answer. */
const char *const cstore_pg_schema_v8 =
    "DROP INDEX IF EXISTS answers_id;"
    "DROP INDEX IF EXISTS answer_keys_at;"
    "ALTER TABLE IF EXISTS answer_keys DROP COLUMN IF EXISTS at_ms;"
    "CREATE OR REPLACE FUNCTION tp_answers_drop_before(cut bigint) RETURNS bigint"
    " LANGUAGE plpgsql AS $f$"
    " DECLARE r record; k bigint := 0; n bigint;"
    " BEGIN"
    "  DELETE FROM answers_default WHERE at_ms < cut;" /* its keys go by the row trigger */
    "  FOR r IN " PG_MONTHS_BEFORE_CUT "  LOOP"
    "   EXECUTE format('DELETE FROM answer_keys k USING %I a WHERE k.id = a.id', r.relname);"
    "   GET DIAGNOSTICS n = ROW_COUNT;"
    "   k := k + n;"
    "   EXECUTE format('DROP TABLE %I', r.relname);"
    "  END LOOP;"
    "  RETURN k;"
    " END $f$;";

/* Step 10: the seq key of answer_keys as (ep, seq), ep a bigint naming the device epoch in
 * key_epochs, instead of (device, epoch, seq): a key entry of 24 bytes compared as two integers
 * rather than about 80 compared as text, uuid and integer. That index was the dearer half of
 * answer_keys, whose COPY cost as much as the answers' own (issue 14, ingest). ep is bigint: an
 * int would be padded to the same 24 bytes. The keys are rebuilt into a new table and the indexes
 * made after the fill (one sort each, not an insert per row). Skipped when answer_keys has ep
 * already, as step 7 is on a partitioned answers. */
const char *const cstore_pg_schema_v10 =
    "DO $d$ BEGIN"
    /* Done already (a store whose schema_version rows were rewritten): nothing to do. */
    " IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
    "  AND table_name = 'answer_keys' AND column_name = 'ep') THEN RETURN; END IF;"
    " CREATE TABLE key_epochs(ep bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  device text NOT NULL, epoch uuid NOT NULL, UNIQUE (device, epoch));"
    " INSERT INTO key_epochs(device, epoch) SELECT DISTINCT device, epoch FROM answer_keys"
    "  ORDER BY 1, 2;"
    " CREATE TABLE answer_keys_10(id uuid NOT NULL, ep bigint NOT NULL, seq bigint NOT NULL);"
    " INSERT INTO answer_keys_10 SELECT k.id, e.ep, k.seq FROM answer_keys k"
    "  JOIN key_epochs e USING (device, epoch);"
    " DROP TABLE answer_keys;"
    " ALTER TABLE answer_keys_10 RENAME TO answer_keys;"
    " ALTER TABLE answer_keys ADD PRIMARY KEY (id), ADD UNIQUE (ep, seq);"
    " END $d$;";

/* The first ms of the UTC month holding ms, and of the next one, in *lo and *hi. */
static void month_of(int64_t ms, int64_t *lo, int64_t *hi)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    *lo = (int64_t)timegm(&tm) * 1000;
    tm.tm_mon++;
    *hi = (int64_t)timegm(&tm) * 1000;
}

tp_err pg_part_ensure(ppool *p, PGconn *c, const cbatch *b, char *err, size_t errlen)
{
    int64_t lo[MONTHS_MAX], hi[MONTHS_MAX];
    size_t n = 0, last = 0;
    tp_buf arr;
    tp_buf_init(&arr, (size_t)1 << 16);
    tp_err rc = tp_buf_add(&arr, "{", 1);
    for (size_t i = 0; rc == TP_OK && i < b->n_answers; i++) {
        int64_t at = b->answers[i].at_ms;
        if (n > 0 && at >= lo[last] && at < hi[last])
            continue;
        size_t k = 0;
        while (k < n && !(at >= lo[k] && at < hi[k]))
            k++;
        if (k < n) {
            last = k;
            continue;
        }
        if (n == MONTHS_MAX)
            continue;
        month_of(at, &lo[n], &hi[n]);
        rc = tp_buf_addf(&arr, "%s%lld", n ? "," : "", (long long)lo[n]);
        last = n++;
    }
    if (rc == TP_OK)
        rc = tp_buf_add(&arr, "}", 1);
    if (rc != TP_OK) {
        tp_buf_free(&arr);
        return tp_errf(err, errlen, rc, "partitions: out of memory");
    }
    const char *params[] = {arr.p};
    PGresult *res = PQexecParams(c, "SELECT tp_answers_month(m) FROM unnest($1::bigint[]) m", 1,
                                 NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_err(p, c, res, "make month partitions", err, errlen);
    PQclear(res);
    tp_buf_free(&arr);
    return rc;
}
