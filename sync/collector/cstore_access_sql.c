/*
 * cstore_access_sql.c - schema version 6 of the central store: scoped read access (issue 14,
 * item 9) in SQLite's and PostgreSQL's dialects, the same columns in both (times in ms since the
 * epoch, UTC).
 *
 *   read_tokens  tokens of the read side, each bound to a node (its subtree is all it reads);
 *                the SHA-256 of the token only, never the token. A revoked row is kept (the
 *                audit names it, and its existence keeps the read side closed: see cread.h).
 *   read_audit   one row per read of the read side: who (token name), when, with what scope,
 *                which resource and query, the status answered, from which address. Rows older
 *                than CREAD_AUDIT_KEEP_DAYS are pruned (cread.c), so the table has a bound.
 */
#include "cstore.h"

const char *const cstore_sqlite_schema_v6 =
    "CREATE TABLE read_tokens(name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE,"
    " node_path TEXT NOT NULL, created_ms INTEGER NOT NULL, created_by TEXT NOT NULL,"
    " revoked_ms INTEGER);"
    "CREATE TABLE read_audit(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
    " token_name TEXT NOT NULL, scope TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
    " query TEXT NOT NULL, status INTEGER NOT NULL, addr TEXT NOT NULL);"
    "CREATE INDEX read_audit_at ON read_audit(at_ms);"
    "CREATE INDEX read_audit_token ON read_audit(token_name, at_ms);";

const char *const cstore_pg_schema_v6 =
    "CREATE TABLE read_tokens(name text PRIMARY KEY, token_sha256 text NOT NULL UNIQUE,"
    " node_path text NOT NULL, created_ms bigint NOT NULL, created_by text NOT NULL,"
    " revoked_ms bigint);"
    "CREATE TABLE read_audit(id bigserial PRIMARY KEY, at_ms bigint NOT NULL,"
    " token_name text NOT NULL, scope text NOT NULL, method text NOT NULL, path text NOT NULL,"
    " query text NOT NULL, status integer NOT NULL, addr text NOT NULL);"
    "CREATE INDEX read_audit_at ON read_audit(at_ms);"
    "CREATE INDEX read_audit_token ON read_audit(token_name, at_ms);";
