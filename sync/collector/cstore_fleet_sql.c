/*
 * cstore_fleet_sql.c - schema version 2 of the central store: the fleet tables (sync/PROTOCOL.md
 * section 12, the names fixed by issue 12) in SQLite's and PostgreSQL's dialects. Both keep the
 * same columns with the same meaning; times are milliseconds since the epoch (UTC).
 *
 *   nodes               the organisation tree: path "vn/hcm/hcm-q1/checkout", its parent, the
 *                       settings the node itself sets (a JSON object; children inherit per key)
 *   fleet_devices       devices known to the store: their node and the SHA-256 of their token
 *   surveys             immutable survey versions, the document as published
 *   survey_assignments  history of `survey assign` (node or device), the device ones override
 *   admin_tokens        tokens of the admin API (hashes only)
 *   audit_log           every change: who, what, when, before/after
 *   enrollments         pairing codes of devices without a token
 */
#include "cstore.h"

const char *const cstore_sqlite_schema_v2 =
    "CREATE TABLE nodes(path TEXT PRIMARY KEY, parent TEXT, settings_json TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX nodes_parent ON nodes(parent);"
    "CREATE TABLE fleet_devices(id TEXT PRIMARY KEY, node_path TEXT NOT NULL,"
    " token_sha256 TEXT NOT NULL UNIQUE, comment_key TEXT, revoked_ms INTEGER,"
    " created_ms INTEGER NOT NULL, running_revision TEXT, apply_error TEXT,"
    " apply_error_ms INTEGER);"
    "CREATE TABLE surveys(id TEXT NOT NULL, version INTEGER NOT NULL, document TEXT NOT NULL,"
    " published_ms INTEGER NOT NULL, published_by TEXT NOT NULL, PRIMARY KEY(id, version));"
    "CREATE TABLE survey_assignments(id INTEGER PRIMARY KEY, node_path TEXT, device_id TEXT,"
    " survey_id TEXT NOT NULL, survey_version INTEGER NOT NULL, assigned_ms INTEGER NOT NULL,"
    " assigned_by TEXT NOT NULL);"
    "CREATE INDEX survey_assignments_device ON survey_assignments(device_id);"
    "CREATE TABLE admin_tokens(name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE,"
    " created_ms INTEGER NOT NULL, revoked_ms INTEGER);"
    "CREATE TABLE audit_log(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, target TEXT NOT NULL, before_json TEXT, after_json TEXT);"
    "CREATE TABLE enrollments(code TEXT PRIMARY KEY, key_sha256 TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, approved_ms INTEGER,"
    " device_id TEXT, node_path TEXT, delivered_ms INTEGER, closed_ms INTEGER,"
    " addr TEXT NOT NULL);"
    "CREATE INDEX enrollments_addr ON enrollments(addr, created_ms);";

const char *const cstore_pg_schema_v2 =
    "CREATE TABLE nodes(path text PRIMARY KEY, parent text, settings_json text NOT NULL,"
    " created_ms bigint NOT NULL, updated_ms bigint NOT NULL);"
    "CREATE INDEX nodes_parent ON nodes(parent);"
    "CREATE TABLE fleet_devices(id text PRIMARY KEY, node_path text NOT NULL,"
    " token_sha256 text NOT NULL UNIQUE, comment_key text, revoked_ms bigint,"
    " created_ms bigint NOT NULL, running_revision text, apply_error text,"
    " apply_error_ms bigint);"
    "CREATE TABLE surveys(id text NOT NULL, version integer NOT NULL, document text NOT NULL,"
    " published_ms bigint NOT NULL, published_by text NOT NULL, PRIMARY KEY(id, version));"
    "CREATE TABLE survey_assignments(id bigserial PRIMARY KEY, node_path text, device_id text,"
    " survey_id text NOT NULL, survey_version integer NOT NULL, assigned_ms bigint NOT NULL,"
    " assigned_by text NOT NULL);"
    "CREATE INDEX survey_assignments_device ON survey_assignments(device_id);"
    "CREATE TABLE admin_tokens(name text PRIMARY KEY, token_sha256 text NOT NULL UNIQUE,"
    " created_ms bigint NOT NULL, revoked_ms bigint);"
    "CREATE TABLE audit_log(id bigserial PRIMARY KEY, at_ms bigint NOT NULL, actor text NOT NULL,"
    " action text NOT NULL, target text NOT NULL, before_json text, after_json text);"
    "CREATE TABLE enrollments(code text PRIMARY KEY, key_sha256 text NOT NULL,"
    " created_ms bigint NOT NULL, expires_ms bigint NOT NULL, approved_ms bigint,"
    " device_id text, node_path text, delivered_ms bigint, closed_ms bigint, addr text NOT NULL);"
    "CREATE INDEX enrollments_addr ON enrollments(addr, created_ms);";
