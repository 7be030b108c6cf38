/* collector_fixture.c - the collector unit tests' batch builders and temporary store
 * (collector_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector_fixture.h"

/* ---- Building batches ------------------------------------------------------------------------ */

/* One answer's fields as raw JSON values, in order; an override replaces or (NULL) drops one. */
static const char *const base_keys[] = {
    "id",      "seq",           "session", "survey",  "survey_version", "question",
    "kind",    "value",         "choice",  "lang",    "store",          "touchpoint",
    "wall_ms", "clock_trusted", "mono_ms", "boot_id", "flags"};
#define N_KEYS (sizeof base_keys / sizeof base_keys[0])

void answer_json(char *out, size_t outlen, int n, const char *key, const char *raw)
{
    char id[40];
    snprintf(id, sizeof id, "\"0193a000-0000-7000-8000-%012d\"", n);
    char seq[24];
    snprintf(seq, sizeof seq, "%d", n);
    const char *vals[N_KEYS] = {id,
                                seq,
                                "\"5e55e55e-0000-4000-8000-000000000001\"",
                                "\"checkout-nps\"",
                                "2",
                                "\"recommend\"",
                                "\"nps\"",
                                "9",
                                "null",
                                "\"vi\"",
                                "\"hcm-01\"",
                                "\"exit\"",
                                "1763920000000",
                                "true",
                                "120000",
                                "\"b0000000-0000-4000-8000-000000000001\"",
                                "[\"rapid_repeat\"]"};
    size_t w = (size_t)snprintf(out, outlen, "{");
    bool first = true;
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *v = vals[i];
        if (key && strcmp(key, base_keys[i]) == 0) {
            if (!raw)
                continue;
            v = raw;
        }
        w += (size_t)snprintf(out + w, outlen - w, "%s\"%s\": %s", first ? "" : ", ", base_keys[i],
                              v);
        first = false;
    }
    snprintf(out + w, outlen - w, "}");
}

static const char *device_json =
    "{\"id\": \"kiosk-01\", \"epoch\": \"e0000000-0000-4000-8000-000000000001\","
    " \"epoch_first_seq\": 1, \"app_version\": \"0.1.0\", \"pending\": 5, \"highest_seq\": 9,"
    " \"disk_free\": 123456789, \"clock_trusted\": false, \"sent_wall_ms\": 1763920000000,"
    " \"sent_mono_ms\": 123456, \"boot_id\": \"b0000000-0000-4000-8000-000000000001\"}";

char *batch_json(const char *answers)
{
    size_t n = strlen(answers) + 1024;
    char *b = malloc(n);
    assert_non_null(b);
    snprintf(b, n,
             "{\"protocol\": 1, \"batch_id\": \"ba000000-0000-4000-8000-000000000001\","
             " \"device\": %s, \"answers\": [%s]}",
             device_json, answers);
    return b;
}

/* ---- A store in a temporary folder ----------------------------------------------------------- */

cstore *fixture_store_open(char *dir, size_t dirlen, const char *tag, int pool)
{
    char url[128], err[TP_ERRMSG_MAX];
    cstore *s = NULL;
    snprintf(dir, dirlen, "/tmp/tp-%s-unit-XXXXXX", tag);
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof url, "sqlite:%s/c.db", dir);
    assert_int_equal(cstore_open(url, pool, &s, err, sizeof err), TP_OK);
    return s;
}

void fixture_store_close(cstore *s, const char *dir)
{
    char path[128];
    cstore_close(s);
    const char *files[] = {"c.db", "c.db-wal", "c.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}
