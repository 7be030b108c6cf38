/*
 * cstore_alert_sql.c - schema version 3 of the central store: the tables of issue 13 (alert
 * rules, the batch queue the evaluator claims, alerts, endpoints, the outbox and its delivery
 * attempts, cases with their timeline, digests) in SQLite's and PostgreSQL's dialects, exactly as
 * /work/wt/CONTRACT.md lists them. Times are milliseconds since the epoch (UTC); ids are UUIDv7
 * text unless an integer key is said.
 *
 *   alert_rules        rules attached to a node, inherited by its subtree
 *   alert_queue        (device, store, touchpoint, at_ms range) a batch stored: the evaluator's
 * work alerts             fired alerts; dedup_key (rule + unit + window start) fires a window once
 *   endpoints          webhook / slack / google_chat / email destinations
 *   outbox             messages to deliver, written in the alert's (or digest's) transaction
 *   delivery_attempts  every attempt: time, status, latency, error
 *   cases, case_events one case per alert and its timeline
 *   digests, digest_runs  scheduled summaries and the periods already sent
 */
#include "cstore.h"

const char *const cstore_sqlite_schema_v3 =
    "CREATE TABLE alert_rules(id TEXT PRIMARY KEY, node_path TEXT NOT NULL, kind TEXT NOT NULL,"
    " name_vi TEXT NOT NULL, name_en TEXT NOT NULL, params_json TEXT NOT NULL,"
    " cooldown_s INTEGER NOT NULL, endpoints_json TEXT NOT NULL DEFAULT '[]',"
    " enabled INTEGER NOT NULL DEFAULT 1, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE alert_queue(id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL,"
    " store TEXT NOT NULL, touchpoint TEXT NOT NULL, from_ms INTEGER NOT NULL,"
    " to_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE alerts(id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, dedup_key TEXT NOT NULL "
    "UNIQUE,"
    " node_path TEXT NOT NULL, store TEXT, touchpoint TEXT, device TEXT, window_from_ms INTEGER,"
    " window_to_ms INTEGER, fired_ms INTEGER NOT NULL, title_vi TEXT NOT NULL,"
    " title_en TEXT NOT NULL, numbers_json TEXT NOT NULL);"
    "CREATE TABLE endpoints(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    " target TEXT NOT NULL, secret TEXT, lang TEXT NOT NULL DEFAULT 'vi',"
    " state TEXT NOT NULL DEFAULT 'ok', failing_since_ms INTEGER, last_error TEXT,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE outbox(id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " ref_id TEXT, payload_json TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " next_attempt_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'pending', delivered_ms INTEGER, claimed_by TEXT,"
    " claimed_until_ms INTEGER);"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_ms);"
    "CREATE TABLE delivery_attempts(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " outbox_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, at_ms INTEGER NOT NULL,"
    " status INTEGER NOT NULL, latency_ms INTEGER NOT NULL, error TEXT);"
    "CREATE TABLE cases(id TEXT PRIMARY KEY, alert_id TEXT UNIQUE, node_path TEXT NOT NULL,"
    " store TEXT, title_vi TEXT NOT NULL, title_en TEXT NOT NULL, state TEXT NOT NULL,"
    " assignee TEXT, opened_ms INTEGER NOT NULL, acknowledged_ms INTEGER, resolved_ms INTEGER,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX cases_state ON cases(state, opened_ms);"
    "CREATE TABLE case_events(id INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL,"
    " at_ms INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, text TEXT);"
    "CREATE TABLE digests(id TEXT PRIMARY KEY, node_path TEXT NOT NULL, period TEXT NOT NULL,"
    " endpoint_id TEXT NOT NULL, lang TEXT NOT NULL DEFAULT 'vi', created_ms INTEGER NOT NULL);"
    "CREATE TABLE digest_runs(digest_id TEXT NOT NULL, period_key TEXT NOT NULL,"
    " outbox_id TEXT NOT NULL, sent_ms INTEGER NOT NULL, PRIMARY KEY(digest_id, period_key));";

const char *const cstore_pg_schema_v3 =
    "CREATE TABLE alert_rules(id text PRIMARY KEY, node_path text NOT NULL, kind text NOT NULL,"
    " name_vi text NOT NULL, name_en text NOT NULL, params_json text NOT NULL,"
    " cooldown_s bigint NOT NULL, endpoints_json text NOT NULL DEFAULT '[]',"
    " enabled bigint NOT NULL DEFAULT 1, created_ms bigint NOT NULL,"
    " updated_ms bigint NOT NULL);"
    "CREATE TABLE alert_queue(id bigserial PRIMARY KEY, device text NOT NULL,"
    " store text NOT NULL, touchpoint text NOT NULL, from_ms bigint NOT NULL,"
    " to_ms bigint NOT NULL, created_ms bigint NOT NULL);"
    "CREATE TABLE alerts(id text PRIMARY KEY, rule_id text NOT NULL, dedup_key text NOT NULL "
    "UNIQUE,"
    " node_path text NOT NULL, store text, touchpoint text, device text, window_from_ms bigint,"
    " window_to_ms bigint, fired_ms bigint NOT NULL, title_vi text NOT NULL,"
    " title_en text NOT NULL, numbers_json text NOT NULL);"
    "CREATE TABLE endpoints(id text PRIMARY KEY, name text NOT NULL UNIQUE, kind text NOT NULL,"
    " target text NOT NULL, secret text, lang text NOT NULL DEFAULT 'vi',"
    " state text NOT NULL DEFAULT 'ok', failing_since_ms bigint, last_error text,"
    " created_ms bigint NOT NULL, updated_ms bigint NOT NULL);"
    "CREATE TABLE outbox(id text PRIMARY KEY, endpoint_id text NOT NULL, kind text NOT NULL,"
    " ref_id text, payload_json text NOT NULL, created_ms bigint NOT NULL,"
    " next_attempt_ms bigint NOT NULL, attempts bigint NOT NULL DEFAULT 0,"
    " state text NOT NULL DEFAULT 'pending', delivered_ms bigint, claimed_by text,"
    " claimed_until_ms bigint);"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_ms);"
    "CREATE TABLE delivery_attempts(id bigserial PRIMARY KEY, outbox_id text NOT NULL,"
    " endpoint_id text NOT NULL, at_ms bigint NOT NULL, status bigint NOT NULL,"
    " latency_ms bigint NOT NULL, error text);"
    "CREATE TABLE cases(id text PRIMARY KEY, alert_id text UNIQUE, node_path text NOT NULL,"
    " store text, title_vi text NOT NULL, title_en text NOT NULL, state text NOT NULL,"
    " assignee text, opened_ms bigint NOT NULL, acknowledged_ms bigint, resolved_ms bigint,"
    " updated_ms bigint NOT NULL);"
    "CREATE INDEX cases_state ON cases(state, opened_ms);"
    "CREATE TABLE case_events(id bigserial PRIMARY KEY, case_id text NOT NULL,"
    " at_ms bigint NOT NULL, actor text NOT NULL, action text NOT NULL, text text);"
    "CREATE TABLE digests(id text PRIMARY KEY, node_path text NOT NULL, period text NOT NULL,"
    " endpoint_id text NOT NULL, lang text NOT NULL DEFAULT 'vi', created_ms bigint NOT NULL);"
    "CREATE TABLE digest_runs(digest_id text NOT NULL, period_key text NOT NULL,"
    " outbox_id text NOT NULL, sent_ms bigint NOT NULL, PRIMARY KEY(digest_id, period_key));";
