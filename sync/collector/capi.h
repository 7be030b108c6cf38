/*
 * capi.h - the fleet's HTTP resources (sync/PROTOCOL.md section 12) as plain functions from a
 * request to a reply, so collector.c only routes, reads bodies and sends:
 *
 *   GET  /v1/config        device token; ETag / If-None-Match -> 304
 *   POST /v1/enroll        no token; pairing codes (cenroll.c)
 *   *    /v1/admin/...     admin token (admin-token add), the operations of the CLI
 *
 * Thread-safety: any thread (each call takes its own store transactions).
 */
#ifndef TP_CAPI_H
#define TP_CAPI_H

#include "cauth.h"
#include "cstore.h"

#define CAPI_BODY_MAX (2u << 20) /* bytes of an admin or enroll request body */

typedef struct capi_reply {
    int status;
    char *body;    /* JSON (free()), NULL for 304 */
    char etag[40]; /* "" or the quoted ETag */
    int retry_after;
} capi_reply;

/* GET /v1/config with the Authorization and If-None-Match headers (either may be NULL). */
capi_reply capi_config(cstore *s, cauth *file, const char *authorization, const char *if_none_match,
                       int64_t now_ms);

/* POST /v1/enroll from address addr. */
capi_reply capi_enroll(cstore *s, const char *body, size_t len, const char *addr, int64_t now_ms);

/* /v1/admin/<resource> with method GET or POST. A GET's body, when not empty, is a JSON object of
 * its query arguments (filters of a listing: read-audit's token and since). */
capi_reply capi_admin(cstore *s, const char *authorization, const char *method, const char *url,
                      const char *body, size_t len, int64_t now_ms);

/* A JSON error reply {"error": {"code", "message"}}. */
capi_reply capi_error(int status, const char *code, const char *msg);

#endif /* TP_CAPI_H */
