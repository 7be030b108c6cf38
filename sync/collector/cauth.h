/*
 * cauth.h - device tokens: the devices file, token checks and `add-device`.
 *
 * The devices file holds text lines "DEVICE_ID SHA256_HEX_OF_TOKEN" ('#' starts a comment); the
 * collector never stores a token itself. A bearer token is checked by hashing it (SHA-256,
 * OpenSSL libcrypto) and comparing the hash with every line's in constant time, so the time taken
 * says nothing about which bytes or which device matched. The file is re-read when it changes
 * (checked at most once a second), so `add-device` on a running collector takes effect.
 *
 * Thread-safety: cauth_check may be called from many threads at once.
 */
#ifndef TP_CAUTH_H
#define TP_CAUTH_H

#include "tp.h"

#define CAUTH_MAX_DEVICES 100000
#define CAUTH_TOKEN_MAX 256 /* bytes of a bearer token we look at */

typedef struct cauth cauth;

/* Loads the devices file at path. Returns TP_OK and *out (free with cauth_free), or
 * TP_ERR_CONFIG (a bad line, with file:line in err), TP_ERR_NOT_FOUND, TP_ERR_NOMEM. */
tp_err cauth_open(const char *path, cauth **out, char *err, size_t errlen);
void cauth_free(cauth *a);

/* Checks a bearer token. Returns TP_OK and the device id in device (TP_ID_MAX + 1 bytes), or
 * TP_ERR_AUTH. now_ms paces the file's change check. */
tp_err cauth_check(cauth *a, const char *token, int64_t now_ms, char device[TP_ID_MAX + 1]);

/* Number of devices known. */
size_t cauth_count(cauth *a);

/* Writes the lowercase hex SHA-256 of the len bytes at data into hex (65 bytes). Returns TP_OK or
 * TP_ERR_INTERNAL. */
tp_err cauth_sha256_hex(const void *data, size_t len, char hex[65]);

/* Compares two equal-length strings in time independent of their contents. Returns true when
 * they are equal (false also when the lengths differ). */
bool cauth_equal_ct(const char *a, const char *b);

/* Makes a new token (32 bytes from getrandom, base64url without padding) into token (64 bytes),
 * and appends "ID HASH" to the devices file at path through a temporary file, fsync and rename
 * (the file is created when missing). Returns TP_OK, TP_ERR_INVALID (bad id), TP_ERR_EXISTS (id
 * already in the file), TP_ERR_CONFIG (the file has a bad line) or an I/O error, with err. */
tp_err cauth_add_device(const char *path, const char *id, char token[64], char *err, size_t errlen);

/* Makes a new token (32 random bytes, base64url without padding) into token (64 bytes) and its
 * SHA-256 hex into hex. Returns TP_OK or TP_ERR_IO. */
tp_err cauth_new_token(char token[64], char hex[65]);

/* Entry i (< cauth_count) of the devices file: its id and token hash. Returns false past the
 * end. */
bool cauth_entry(cauth *a, size_t i, char id[TP_ID_MAX + 1], char hex[65]);

/* Whether id is listed in the devices file. */
bool cauth_has(cauth *a, const char *id);

#endif /* TP_CAUTH_H */
