/*
 * cstore_rollup_sql.c - schema version 4 of the central store: the rollups of the read side
 * (sync/PROTOCOL.md 13.10), kept in the batch's transaction by crollup.c, in SQLite's and
 * PostgreSQL's dialects (same columns, same meaning).
 *
 *   ru_sessions  one row per customer (session): the earliest answer's store, touchpoint,
 *                device, survey, version, local day/hour/weekday, the UTC offset used, the band
 *                of its main rating, and how many follow-ups wait for that rating
 *   ru_cust      customers and answers per period and (store, touchpoint, device, survey, version)
 *   ru_rating    histograms (c0..c10) of the rating answers per period and question
 *   ru_choice    follow-up answers per period, question, choice and band of the session's rating
 *   ru_hour      customers, answers, ratings and negative ratings per period, weekday and hour
 *   ru_orphans   follow-up answers whose session's rating has not arrived yet
 *   ru_device    per device: answers whose time was corrected / could not be, the pending count
 *                the device reported with its last batch and what it holds after that batch
 *   ru_state     'backfill': 'pending' until the answers stored before version 4 are counted
 *
 * `period` is a local day YYYYMMDD (day rows) or a local month YYYYMM (month rows): each answer
 * is counted at both levels so that a year reads month rows. The primary keys lead with period:
 * every read is a range of periods.
 *
 * ru_sessions keeps its rowid on SQLite: session ids arrive in no key order, and a rowid table
 * appends its rows and puts only the ~50-byte (session, rowid) entries of its key's index in
 * random places, where WITHOUT ROWID would rewrite a page of whole rows per new customer.
 */
#include "crollup.h"

#define RU_DIMS                                                                                    \
    " store TEXT NOT NULL, touchpoint TEXT NOT NULL, device TEXT NOT NULL, survey TEXT NOT NULL,"  \
    " version INTEGER NOT NULL,"
#define RU_HIST                                                                                    \
    " c0 INTEGER NOT NULL, c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, c3 INTEGER NOT NULL,"         \
    " c4 INTEGER NOT NULL, c5 INTEGER NOT NULL, c6 INTEGER NOT NULL, c7 INTEGER NOT NULL,"         \
    " c8 INTEGER NOT NULL, c9 INTEGER NOT NULL, c10 INTEGER NOT NULL,"

#define RU_TABLES(ROWID)                                                                           \
    "CREATE TABLE ru_sessions(session TEXT PRIMARY KEY," RU_DIMS                                   \
    " first_ms BIGINT NOT NULL, tz_off INTEGER NOT NULL, day INTEGER NOT NULL,"                    \
    " hour INTEGER NOT NULL, dow INTEGER NOT NULL, band TEXT NOT NULL,"                            \
    " rating_kind TEXT NOT NULL, orphans INTEGER NOT NULL);"                                       \
    "CREATE TABLE ru_cust(period INTEGER NOT NULL," RU_DIMS                                        \
    " customers BIGINT NOT NULL, answers BIGINT NOT NULL, corrected BIGINT NOT NULL,"              \
    " uncorrected BIGINT NOT NULL,"                                                                \
    " PRIMARY KEY(period, store, touchpoint, device, survey, version))" ROWID ";"                  \
    "CREATE TABLE ru_rating(period INTEGER NOT NULL," RU_DIMS                                      \
    " question TEXT NOT NULL, kind TEXT NOT NULL," RU_HIST                                         \
    " PRIMARY KEY(period, store, touchpoint, device, survey, version, question, kind))" ROWID ";"  \
    "CREATE TABLE ru_choice(period INTEGER NOT NULL," RU_DIMS                                      \
    " question TEXT NOT NULL, choice TEXT NOT NULL, band TEXT NOT NULL,"                           \
    " rating_kind TEXT NOT NULL, n BIGINT NOT NULL,"                                               \
    " PRIMARY KEY(period, store, touchpoint, device, survey, version, question, choice, band,"     \
    " rating_kind))" ROWID ";"                                                                     \
    "CREATE TABLE ru_hour(period INTEGER NOT NULL," RU_DIMS                                        \
    " dow INTEGER NOT NULL, hour INTEGER NOT NULL, customers BIGINT NOT NULL,"                     \
    " answers BIGINT NOT NULL, rated BIGINT NOT NULL, negative BIGINT NOT NULL,"                   \
    " PRIMARY KEY(period, store, touchpoint, device, survey, version, dow, hour))" ROWID ";"       \
    "CREATE TABLE ru_orphans(id TEXT PRIMARY KEY, session TEXT NOT NULL, day INTEGER NOT "         \
    "NULL," RU_DIMS " question TEXT NOT NULL, choice TEXT NOT NULL)" ROWID ";"                     \
    "CREATE INDEX ru_orphans_session ON ru_orphans(session);"                                      \
    "CREATE TABLE ru_device(device TEXT PRIMARY KEY, corrected BIGINT NOT NULL,"                   \
    " uncorrected BIGINT NOT NULL, pending_reported BIGINT NOT NULL DEFAULT 0,"                    \
    " pending_after BIGINT NOT NULL DEFAULT 0)" ROWID ";"                                          \
    "CREATE TABLE ru_state(key TEXT PRIMARY KEY, value TEXT NOT NULL)" ROWID ";"                   \
    "INSERT INTO ru_state(key, value) VALUES ('backfill', 'pending');"

const char *const cstore_sqlite_schema_v4 = RU_TABLES(" WITHOUT ROWID");
const char *const cstore_pg_schema_v4 = RU_TABLES("");

/* PostgreSQL schema step 9 (step 8 is the ingest's): the month rows of the three tables a year
 * reads, in indexes of their own that carry the counts. A heap table keeps rows in arrival order,
 * so a year's month rows lie one or two per page among the day rows (every page of the table
 * read for 6,000 rows); these partial indexes hold them side by side in key order, and a query
 * over whole months reads them by an index-only scan (pages that VACUUM, the autovacuum, marked
 * all-visible: every month but the current one). Only month rows enter them: a day row's write
 * adds no index entry (though no update of a count is HOT any more: counts are indexed). SQLite
 * needs none of this: its WITHOUT ROWID tables are stored in key order, which leads with the
 * period. */
const char *const cstore_pg_schema_v9 =
    "CREATE INDEX IF NOT EXISTS ru_cust_months ON ru_cust(period, store, touchpoint, device,"
    " survey, version) INCLUDE (customers, answers, corrected, uncorrected)"
    " WHERE period < 1000000;"
    "CREATE INDEX IF NOT EXISTS ru_rating_months ON ru_rating(period, store, touchpoint, device,"
    " survey, version, question, kind) INCLUDE (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)"
    " WHERE period < 1000000;"
    "CREATE INDEX IF NOT EXISTS ru_choice_months ON ru_choice(period, store, touchpoint, device,"
    " survey, version, question, choice, band, rating_kind) INCLUDE (n)"
    " WHERE period < 1000000;";

/* PostgreSQL step 11: ru_sessions.session as uuid, not text. Ingest writes a row per new customer
 * into this key, as many as answers' and answer_keys' rows: a 16-byte key compared as bytes costs
 * the COPY about a third less than 36 bytes of text (issue 14, ingest). The kiosk makes session
 * ids as lowercase UUIDs and the collector checks them, so every stored one converts; their text
 * form reads back the same. Skipped when the column is uuid already. */
const char *const cstore_pg_schema_v11 =
    "DO $d$ BEGIN"
    " IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
    "  AND table_name = 'ru_sessions' AND column_name = 'session' AND data_type = 'text') THEN"
    "  ALTER TABLE ru_sessions ALTER COLUMN session TYPE uuid USING session::uuid;"
    " END IF;"
    " END $d$;";
