/*
 * collector_fixture.h - what the collector's unit tests (test_collector.c, test_collector_batch.c)
 * share: batches built as JSON text from one good answer with a field overridden or dropped.
 */
#ifndef TP_COLLECTOR_FIXTURE_H
#define TP_COLLECTOR_FIXTURE_H

#include <stddef.h>

/* The receive time every test parses batches at (ms since the epoch). */
#define RECV 1763920001000LL

/* Answer n as a JSON object; key := raw overrides one field (raw NULL: the field is dropped). */
void answer_json(char *out, size_t outlen, int n, const char *key, const char *raw);
/* A batch of the answers (comma-separated JSON objects) from one device; the caller frees it. */
char *batch_json(const char *answers);

#endif /* TP_COLLECTOR_FIXTURE_H */
