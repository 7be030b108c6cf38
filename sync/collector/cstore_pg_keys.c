/*
 * cstore_pg_keys.c - the unique keys of the answers on PostgreSQL (schema step 12).
 *
 * An answer is stored once by id, whichever device sends it, and once by (device, epoch, seq).
 * The month-partitioned answers table can hold neither key (cstore_pg_part.c): answer_keys(id
 * PRIMARY KEY) holds the first, one index entry per answer. The second needs no entry per answer:
 * a device numbers its answers 1, 2, 3... so the seqs stored in one epoch are a few runs, kept as
 * merged ranges in key_ranges(ep, lo, hi), ep numbering the epoch in key_epochs. A batch adds
 * one range (or a few), not an index entry per answer. Only the holder of the epoch's key_epochs
 * row lock reads or merges its ranges, so they stay exact: a device's batches, which a kiosk
 * sends one after the other anyway, take their keys in turn.
 *
 * The ranges are the seqs stored, never the seqs heard of (seq_ranges, which also count rejected
 * answers): retention gives back the seqs of the answers it removes, so an answer sent again
 * after retention removed it is stored again, as on SQLite.
 */
#include "cstore_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Step 12: key_ranges made from the keys' (ep, seq) islands, then the unique index that held
 * them dropped (idempotent: key_ranges is (re)built while that index exists, or while it is empty
 * and answer_keys is not; otherwise nothing is done). Retention gives the seqs of the answers it
 * removes back: their keys pass through key_gone (the row trigger of a deleted answer, and
 * tp_answers_drop_before for a dropped month), and tp_key_ranges_release cuts them out of the
 * ranges at the end of retention's transaction, under the epochs' key locks (taken last and
 * briefly, in ep order). */
const char *const cstore_pg_schema_v12 =
    "CREATE TABLE IF NOT EXISTS key_ranges(ep bigint NOT NULL, lo bigint NOT NULL,"
    " hi bigint NOT NULL, PRIMARY KEY (ep, lo));"
    "CREATE TABLE IF NOT EXISTS key_gone(ep bigint NOT NULL, seq bigint NOT NULL);"
    "DO $d$ BEGIN"
    " IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'answer_keys_ep_seq_key'"
    "  AND conrelid = 'answer_keys'::regclass) AND (EXISTS (SELECT 1 FROM key_ranges)"
    "  OR NOT EXISTS (SELECT 1 FROM answer_keys)) THEN RETURN; END IF;"
    " DELETE FROM key_ranges;"
    " INSERT INTO key_ranges(ep, lo, hi) SELECT ep, min(seq), max(seq) FROM (SELECT ep, seq,"
    "  seq - row_number() OVER (PARTITION BY ep ORDER BY seq) AS g FROM answer_keys) t"
    "  GROUP BY ep, g;"
    " ALTER TABLE answer_keys DROP CONSTRAINT IF EXISTS answer_keys_ep_seq_key;"
    " END $d$;"
    "CREATE OR REPLACE FUNCTION tp_answer_key_delete() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " BEGIN"
    "  WITH k AS (DELETE FROM answer_keys WHERE id = OLD.id RETURNING ep, seq)"
    "  INSERT INTO key_gone(ep, seq) SELECT ep, seq FROM k;"
    "  RETURN NULL;"
    " END $f$;"
    /* The runs of removed seqs (d) each lie inside one stored range: the nearest starting at or
     * below them. Those ranges are deleted and what is left of each around its runs inserted
     * back (the INSERT reads the DELETE's rows, so the deletion comes first). */
    "CREATE OR REPLACE FUNCTION tp_key_ranges_release() RETURNS void LANGUAGE plpgsql AS $f$"
    " BEGIN"
    "  PERFORM 1 FROM key_epochs WHERE ep IN (SELECT ep FROM key_gone) ORDER BY ep FOR UPDATE;"
    "  WITH g AS (DELETE FROM key_gone RETURNING ep, seq),"
    "  d AS (SELECT ep, min(seq) AS lo, max(seq) AS hi FROM (SELECT ep, seq,"
    "   seq - row_number() OVER (PARTITION BY ep ORDER BY seq) AS run"
    "   FROM (SELECT DISTINCT ep, seq FROM g) u) t GROUP BY ep, run),"
    "  del AS (DELETE FROM key_ranges k WHERE (k.ep, k.lo) IN (SELECT d.ep, (SELECT r.lo"
    "   FROM key_ranges r WHERE r.ep = d.ep AND r.lo <= d.lo ORDER BY r.lo DESC LIMIT 1) FROM d)"
    "   RETURNING k.ep, k.lo, k.hi),"
    "  cuts AS (SELECT del.ep, del.lo AS klo, del.hi AS khi, d.lo AS dlo, d.hi AS dhi"
    "   FROM del JOIN d ON d.ep = del.ep AND d.lo BETWEEN del.lo AND del.hi),"
    "  left_over AS (SELECT ep, coalesce(lag(dhi) OVER w + 1, klo) AS lo, dlo - 1 AS hi"
    "   FROM cuts WINDOW w AS (PARTITION BY ep, klo ORDER BY dlo)"
    "   UNION ALL SELECT ep, max(dhi) + 1, max(khi) FROM cuts GROUP BY ep, klo)"
    "  INSERT INTO key_ranges(ep, lo, hi) SELECT ep, lo, hi FROM left_over WHERE lo <= hi;"
    " END $f$;"
    "CREATE OR REPLACE FUNCTION tp_answers_drop_before(cut bigint) RETURNS bigint"
    " LANGUAGE plpgsql AS $f$"
    " DECLARE r record; k bigint := 0; n bigint;"
    " BEGIN"
    "  DELETE FROM answers_default WHERE at_ms < cut;" /* its keys go by the row trigger */
    "  FOR r IN " PG_MONTHS_BEFORE_CUT "  LOOP"
    "   EXECUTE format('WITH k AS (DELETE FROM answer_keys k USING %I a WHERE k.id = a.id"
    " RETURNING k.ep, k.seq) INSERT INTO key_gone(ep, seq) SELECT ep, seq FROM k', r.relname);"
    "   GET DIAGNOSTICS n = ROW_COUNT;"
    "   k := k + n;"
    "   EXECUTE format('DROP TABLE %I', r.relname);"
    "  END LOOP;"
    "  PERFORM tp_key_ranges_release();"
    "  RETURN k;"
    " END $f$;";

/* Whether a seq lies in a stored range: the nearest range starting at or below it reaches it
 * (the ranges are disjoint). SEQ is an SQL expression, $1 the epoch number. */
#define SEQ_STORED(SEQ)                                                                            \
    "EXISTS (SELECT 1 FROM (SELECT hi FROM key_ranges WHERE ep = $1::bigint AND lo <= " SEQ        \
    " ORDER BY lo DESC LIMIT 1) r WHERE r.hi >= " SEQ ")"

tp_err pg_range_arrays(const cstore_range *r, size_t n, tp_buf *los, tp_buf *his)
{
    tp_err rc = tp_buf_add(los, "{", 1);
    if (rc == TP_OK)
        rc = tp_buf_add(his, "{", 1);
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        rc = tp_buf_addf(los, "%s%lld", i ? "," : "", (long long)r[i].lo);
        if (rc == TP_OK)
            rc = tp_buf_addf(his, "%s%lld", i ? "," : "", (long long)r[i].hi);
    }
    if (rc == TP_OK)
        rc = tp_buf_add(los, "}", 1);
    if (rc == TP_OK)
        rc = tp_buf_add(his, "}", 1);
    return rc;
}

tp_err pg_keys_lock(ppool *p, PGconn *c, int64_t ep, char *err, size_t errlen)
{
    char ep_s[24];
    snprintf(ep_s, sizeof ep_s, "%lld", (long long)ep);
    const char *params[] = {ep_s};
    tp_err rc = TP_OK;
    PGresult *res = pg_run(p, c, "lock device epoch",
                           "SELECT ep FROM key_epochs WHERE ep = $1::bigint FOR UPDATE", 1, params,
                           PGRES_TUPLES_OK, &rc, err, errlen);
    if (res && PQntuples(res) != 1)
        rc = tp_errf(err, errlen, TP_ERR_INTERNAL, "device epoch number %lld not found",
                     (long long)ep);
    PQclear(res);
    return rc;
}

/* The seqs of a batch as a key_ranges statement's parameters: $1 the epoch number, $2 and $3
 * the lo and hi arrays of their runs. */
typedef struct seq_params {
    char ep[24];
    tp_buf los, his;
    const char *p[3];
    size_t n;     /* runs */
    bool repeats; /* a seq came twice */
} seq_params;

/* Fills sp with the seqs of the answers of b that outcomes accepts (every answer when outcomes is
 * NULL). Returns TP_OK or TP_ERR_NOMEM; seq_params_free(sp) either way. */
static tp_err seq_params_make(seq_params *sp, int64_t ep, const cbatch *b,
                              const unsigned char *outcomes, char *err, size_t errlen)
{
    size_t k = 0;
    snprintf(sp->ep, sizeof sp->ep, "%lld", (long long)ep);
    tp_buf_init(&sp->los, (size_t)1 << 20);
    tp_buf_init(&sp->his, (size_t)1 << 20);
    sp->n = 0;
    sp->repeats = false;
    int64_t *seqs = malloc((b->n_answers ? b->n_answers : 1) * sizeof *seqs);
    cstore_range *r = malloc((b->n_answers ? b->n_answers : 1) * sizeof *r);
    tp_err rc = seqs && r ? TP_OK : TP_ERR_NOMEM;
    for (size_t i = 0; rc == TP_OK && i < b->n_answers; i++)
        if (!outcomes || outcomes[i] == CBATCH_ACCEPTED)
            seqs[k++] = b->answers[i].seq;
    if (rc == TP_OK) {
        sp->n = cstore_seq_ranges(seqs, k, r); /* sorts seqs */
        for (size_t i = 1; i < k && !sp->repeats; i++)
            sp->repeats = seqs[i] == seqs[i - 1];
        rc = pg_range_arrays(r, sp->n, &sp->los, &sp->his);
    }
    free(seqs);
    free(r);
    sp->p[0] = sp->ep;
    sp->p[1] = sp->los.p;
    sp->p[2] = sp->his.p;
    return rc == TP_OK ? TP_OK : tp_errf(err, errlen, rc, "answer keys: out of memory");
}

static void seq_params_free(seq_params *sp)
{
    tp_buf_free(&sp->los);
    tp_buf_free(&sp->his);
}

tp_err pg_keys_taken(ppool *p, PGconn *c, int64_t ep, const cbatch *b, bool *taken, char *err,
                     size_t errlen)
{
    seq_params sp = {0};
    tp_err rc = seq_params_make(&sp, ep, b, NULL, err, errlen);
    *taken = sp.repeats;
    if (rc == TP_OK && !*taken && sp.n > 0) {
        /* A stored seq in [lo, hi] means the nearest range starting at or below hi reaches lo. */
        PGresult *res =
            pg_run(p, c, "find stored seqs",
                   "SELECT EXISTS (SELECT 1 FROM unnest($2::bigint[], $3::bigint[]) AS n(lo, hi)"
                   " CROSS JOIN LATERAL (SELECT hi FROM key_ranges WHERE ep = $1::bigint"
                   "  AND lo <= n.hi ORDER BY lo DESC LIMIT 1) k WHERE k.hi >= n.lo)",
                   3, sp.p, PGRES_TUPLES_OK, &rc, err, errlen);
        if (res)
            *taken = PQntuples(res) != 1 || PQgetvalue(res, 0, 0)[0] != 'f';
        PQclear(res);
    }
    seq_params_free(&sp);
    return rc;
}

/* An answer of the batch in the order of one key (id or seq), then of its index. */
typedef struct kref {
    const char *id;
    int64_t seq;
    size_t i;
} kref;

static int by_id(const void *x, const void *y)
{
    const kref *a = x, *b = y;
    int c = strcmp(a->id, b->id);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

static int by_seq(const void *x, const void *y)
{
    const kref *a = x, *b = y;
    if (a->seq != b->seq)
        return (a->seq > b->seq) - (a->seq < b->seq);
    return (a->i > b->i) - (a->i < b->i);
}

/* Numbers the answers of b by key: group[i] is the same for two answers with the same id (cmp
 * by_id) or seq (by_seq), and below n. */
static void key_groups(const cbatch *b, kref *refs, int (*cmp)(const void *, const void *),
                       size_t *group)
{
    size_t n = b->n_answers, g = 0;
    for (size_t i = 0; i < n; i++)
        refs[i] = (kref){b->answers[i].id, b->answers[i].seq, i};
    qsort(refs, n, sizeof *refs, cmp);
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && (cmp == by_id ? strcmp(refs[k].id, refs[k - 1].id) != 0
                                   : refs[k].seq != refs[k - 1].seq))
            g++;
        group[refs[k].i] = g;
    }
}

tp_err pg_keys_classify(ppool *p, PGconn *c, int64_t ep, const cbatch *b, unsigned char *outcomes,
                        char *err, size_t errlen)
{
    size_t n = b->n_answers;
    char ep_s[24];
    snprintf(ep_s, sizeof ep_s, "%lld", (long long)ep);
    const char *params[] = {ep_s};
    tp_err rc = TP_OK;
    /* What the store holds, per staged answer: its id, its seq. */
    PGresult *res = pg_run(p, c, "find stored keys",
                           "SELECT s.ord, EXISTS (SELECT 1 FROM answer_keys k WHERE k.id = s.id),"
                           " " SEQ_STORED("s.seq") " FROM stage s",
                           1, params, PGRES_TUPLES_OK, &rc, err, errlen);
    if (!res)
        return rc;
    kref *refs = malloc((n ? n : 1) * sizeof *refs);
    size_t *gid = malloc((n ? n : 1) * sizeof *gid), *gseq = malloc((n ? n : 1) * sizeof *gseq);
    /* stored[i]: bit 1 id stored, bit 2 seq stored; taken: per group, by an accepted answer */
    unsigned char *stored = calloc(n ? n : 1, 1), *id_taken = calloc(n ? n : 1, 1),
                  *seq_taken = calloc(n ? n : 1, 1);
    if (!refs || !gid || !gseq || !stored || !id_taken || !seq_taken) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "answer keys: out of memory");
        goto out;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        long ord = strtol(PQgetvalue(res, r, 0), NULL, 10);
        if (ord >= 0 && (size_t)ord < n)
            stored[ord] = (unsigned char)((PQgetvalue(res, r, 1)[0] == 't' ? 1 : 0) |
                                          (PQgetvalue(res, r, 2)[0] == 't' ? 2 : 0));
    }
    key_groups(b, refs, by_id, gid);
    key_groups(b, refs, by_seq, gseq);
    /* In batch order, as one insert after the other with both keys unique would decide. */
    for (size_t i = 0; i < n; i++) {
        if ((stored[i] & 1) || id_taken[gid[i]]) {
            outcomes[i] = CBATCH_DUPLICATE;
        } else if ((stored[i] & 2) || seq_taken[gseq[i]]) {
            outcomes[i] = CBATCH_CONFLICT;
        } else {
            outcomes[i] = CBATCH_ACCEPTED;
            id_taken[gid[i]] = seq_taken[gseq[i]] = 1;
        }
    }
out:
    free(refs);
    free(gid);
    free(gseq);
    free(stored);
    free(id_taken);
    free(seq_taken);
    PQclear(res);
    return rc;
}

/* The old ranges the new ones touch are deleted and inserted back merged with them (the INSERT
 * reads the DELETE's rows, so the deletion comes first). Parameters: seq_params. Kept out of
 * clang-format, which breaks the macros' strings apart. */
/* clang-format off */
static const char *const merge_sql =
    PG_RANGES_NEW_OLD("key_ranges", "ep = $1::bigint", "$2", "$3")
    " del AS (DELETE FROM key_ranges s USING old WHERE s.ep = $1::bigint AND s.lo = old.lo"
    " RETURNING s.lo, s.hi),"
    PG_RANGES_ISLANDS("del")
    " INSERT INTO key_ranges(ep, lo, hi) SELECT $1::bigint, min(lo), max(hi) FROM grouped"
    " GROUP BY g";
/* clang-format on */

tp_err pg_keys_merge(ppool *p, PGconn *c, int64_t ep, const cbatch *b,
                     const unsigned char *outcomes, char *err, size_t errlen)
{
    seq_params sp = {0};
    tp_err rc = seq_params_make(&sp, ep, b, outcomes, err, errlen);
    if (rc == TP_OK && sp.n > 0)
        rc = pg_run_cmd(p, c, "merge stored seqs", merge_sql, 3, sp.p, err, errlen);
    seq_params_free(&sp);
    return rc;
}
