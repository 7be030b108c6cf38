/*
 * cstore_comment_sql.c - schema version 5 of the central store: comments from the customer's
 * phone (issue 15) in SQLite's and PostgreSQL's dialects, same columns in both.
 *
 *   comments            one per (device, session): the text, its tags (a JSON array), the
 *                       device's node at the time, and contact details only with a consent
 *                       (its text's version and time beside them). A comment joins its session's
 *                       answers at read time by (device, session), so answers may arrive before
 *                       or after it (a kiosk offline for days).
 *   comment_keywords    a chain's own keyword lists (JSON, the format of
 *                       assets/comments/keywords.json); no row: the shipped defaults
 *   comment_retention   what the retention job and erase requests removed, and when (never the
 *                       removed values themselves)
 */
#include "cstore.h"

const char *const cstore_sqlite_schema_v5 =
    "CREATE TABLE comments(id TEXT PRIMARY KEY, device TEXT NOT NULL, session TEXT NOT NULL,"
    " store TEXT, touchpoint TEXT, node_path TEXT, lang TEXT NOT NULL, text TEXT NOT NULL,"
    " tags TEXT NOT NULL DEFAULT '[]', created_ms INTEGER NOT NULL, contact_name TEXT,"
    " contact_phone TEXT, contact_email TEXT, consent_version TEXT, consent_ms INTEGER,"
    " contact_deleted_ms INTEGER, anonymised_ms INTEGER, UNIQUE(device, session));"
    "CREATE INDEX comments_created ON comments(created_ms);"
    "CREATE INDEX comments_node ON comments(node_path, created_ms);"
    "CREATE TABLE comment_keywords(chain TEXT PRIMARY KEY, lists_json TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE comment_retention(id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,"
    " comment_id TEXT NOT NULL, action TEXT NOT NULL, detail TEXT);";

const char *const cstore_pg_schema_v5 =
    "CREATE TABLE comments(id text PRIMARY KEY, device text NOT NULL, session text NOT NULL,"
    " store text, touchpoint text, node_path text, lang text NOT NULL, text text NOT NULL,"
    " tags text NOT NULL DEFAULT '[]', created_ms bigint NOT NULL, contact_name text,"
    " contact_phone text, contact_email text, consent_version text, consent_ms bigint,"
    " contact_deleted_ms bigint, anonymised_ms bigint, UNIQUE(device, session));"
    "CREATE INDEX comments_created ON comments(created_ms);"
    "CREATE INDEX comments_node ON comments(node_path, created_ms);"
    "CREATE TABLE comment_keywords(chain text PRIMARY KEY, lists_json text NOT NULL,"
    " updated_ms bigint NOT NULL);"
    "CREATE TABLE comment_retention(id bigserial PRIMARY KEY, at_ms bigint NOT NULL,"
    " comment_id text NOT NULL, action text NOT NULL, detail text);";
