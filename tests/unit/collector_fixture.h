/*
 * collector_fixture.h - what the collector's unit tests share: batches built as JSON text from one
 * good answer with a field overridden or dropped (test_collector.c, test_collector_batch.c), and a
 * SQLite store in a temporary folder (test_ckey.c, test_collector_access.c,
 * test_collector_fleet.c, test_ccase.c, test_ctag.c, test_canalytics.c, test_cdeliver.c).
 */
#ifndef TP_COLLECTOR_FIXTURE_H
#define TP_COLLECTOR_FIXTURE_H

#include <stddef.h>

#include "cstore.h"

/* The receive time every test parses batches at (ms since the epoch). */
#define RECV 1763920001000LL

/* Answer n as a JSON object; key := raw overrides one field (raw NULL: the field is dropped). */
void answer_json(char *out, size_t outlen, int n, const char *key, const char *raw);
/* A batch of the answers (comma-separated JSON objects) from one device; the caller frees it. */
char *batch_json(const char *answers);

/* ---- A store in a temporary folder ---- */

/* Opens a SQLite store "c.db" in a new folder /tmp/tp-<tag>-unit-XXXXXX (its name written to
 * dir, dirlen at least 64) with pool connections; fails the test on any error. Returns the store;
 * the caller gives it and dir to fixture_store_close. */
cstore *fixture_store_open(char *dir, size_t dirlen, const char *tag, int pool);
/* Closes s (NULL allowed) and removes the store's files and the folder dir. */
void fixture_store_close(cstore *s, const char *dir);

#endif /* TP_COLLECTOR_FIXTURE_H */
