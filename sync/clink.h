/*
 * clink.h - the comment link (issue 15, sync/PROTOCOL.md "Comment link"): the URL the kiosk shows
 * as a QR code on the thank-you screen and the collector's comment page checks.
 *
 *   <base>?d=<device id>&s=<session uuid>&x=<expiry, unix seconds>&l=<vi|en>&m=<mac>
 *   mac = base64url, no padding, of the first 16 bytes of
 *         HMAC-SHA256(K, "tp-comment-v1\n" + d + "\n" + s + "\n" + x + "\n")
 *
 * K is the device's comment key: the text is 43 characters of base64url (no padding) and the HMAC
 * key is the 32 bytes it decodes to (not the text). x is written in canonical decimal (no sign,
 * no leading zero), the very characters that are MAC'd. l is not MAC'd: the page may switch it.
 * Both the kiosk (build) and the collector (parse + verify) link this one file, so they cannot
 * disagree on the format.
 *
 * Thread-safety: reentrant.
 */
#ifndef TP_CLINK_H
#define TP_CLINK_H

#include <stdint.h>

#include "tp.h"

#define CLINK_KEY_LEN 43 /* characters of a comment key (32 bytes, base64url, no padding) */
#define CLINK_KEY_BYTES 32
#define CLINK_MAC_LEN 22 /* characters of a link's mac (16 bytes, base64url, no padding) */
#define CLINK_BASE_MAX 512
#define CLINK_URL_MAX 1024 /* bytes of a whole link, NUL included */
#define CLINK_MINUTES_DEFAULT 30

/* A parsed link. Plain data. */
typedef struct clink {
    char device[TP_ID_MAX + 1];
    char session[TP_UUID_STR];
    int64_t expiry_s;
    char x[24]; /* the expiry as it was MAC'd */
    char lang[3];
    char mac[CLINK_MAC_LEN + 1];
} clink;

/* How a link checks out. */
typedef enum clink_result {
    CLINK_VALID = 0,
    CLINK_MALFORMED = 1, /* a field is missing or not in its format (or the key is bad) */
    CLINK_FORGED = 2,    /* the mac does not match the key */
    CLINK_EXPIRED = 3,   /* well-formed and genuine, but now is after the expiry */
} clink_result;

/* Returns true when key is a comment key: 43 characters of base64url decoding to 32 bytes. */
bool clink_key_valid(const char *key);

/* Writes a new comment key (32 bytes from getrandom, base64url without padding) into key.
 * Returns TP_OK or TP_ERR_IO. */
tp_err clink_key_new(char key[CLINK_KEY_LEN + 1]);

/* Writes the mac of (device, session, expiry_s) under key into mac. Returns TP_OK, or
 * TP_ERR_INVALID when the key, the device id (tp_id_valid), the session (a lowercase 36-character
 * UUID) or the expiry (negative) is malformed. */
tp_err clink_mac(const char *key, const char *device, const char *session, int64_t expiry_s,
                 char mac[CLINK_MAC_LEN + 1]);

/* Writes the link into url (urllen bytes). base is the page's URL without a query
 * ("https://fb.example.vn/c"), lang "vi" or "en". Returns TP_OK, TP_ERR_INVALID (a field as for
 * clink_mac, a base that is empty, over CLINK_BASE_MAX, holds '?', '#' or a space or control
 * character, or a lang other than vi/en) or TP_ERR_TOO_LARGE (urllen too small). */
tp_err clink_build(const char *base, const char *key, const char *device, const char *session,
                   int64_t expiry_s, const char *lang, char *url, size_t urllen);

/* Fills *out from the link's five values as they arrive (NULL = absent; lang may be absent and
 * then reads "vi"). Returns TP_OK or TP_ERR_INVALID with "d: missing" / "x: not a decimal..." in
 * err. For the collector, which gets the values one by one from its HTTP library. */
tp_err clink_fields(const char *d, const char *s, const char *x, const char *l, const char *m,
                    clink *out, char *err, size_t errlen);

/* Parses a whole link ("...?d=..&s=..") or just its query string ("d=..&s=.."). Unknown
 * parameters are ignored; a repeated one is malformed. Returns as clink_fields. */
tp_err clink_parse(const char *url, clink *out, char *err, size_t errlen);

/* Checks a parsed link against the device's key: the mac is compared in constant time, then the
 * expiry against now_s (valid while now_s <= expiry). */
clink_result clink_check(const clink *l, const char *key, int64_t now_s);

/* clink_parse then clink_check. out (may be NULL) gets the fields when the link parsed; err says
 * why it is not valid ("" when it is). */
clink_result clink_verify(const char *url, const char *key, int64_t now_s, clink *out, char *err,
                          size_t errlen);

#endif /* TP_CLINK_H */
