/*
 * pin.c - salted PBKDF2-HMAC-SHA256 PIN hashes (pin.h), using OpenSSL's libcrypto for the key
 * derivation, base64 and the constant-time comparison.
 */
#include "pin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define SALT_BYTES 16
#define KEY_BYTES 32
#define PREFIX "pbkdf2-sha256$"

bool pin_valid(const char *pin)
{
    if (!pin)
        return false;
    size_t n = strlen(pin);
    if (n < PIN_MIN_DIGITS || n > PIN_MAX_DIGITS)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pin[i] < '0' || pin[i] > '9')
            return false;
    return true;
}

static tp_err derive(const char *pin, const unsigned char *salt, size_t saltlen, int iterations,
                     unsigned char key[KEY_BYTES])
{
    if (PKCS5_PBKDF2_HMAC(pin, (int)strlen(pin), salt, (int)saltlen, iterations, EVP_sha256(),
                          KEY_BYTES, key) != 1)
        return TP_ERR_INTERNAL;
    return TP_OK;
}

/* Decodes standard base64 (with padding) of exactly want bytes. Returns false otherwise. */
static bool b64_decode(const char *s, size_t len, unsigned char *out, size_t want)
{
    unsigned char buf[64];
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof buf)
        return false;
    int n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
    if (n < 0)
        return false;
    size_t pad = 0;
    if (s[len - 1] == '=')
        pad++;
    if (len > 1 && s[len - 2] == '=')
        pad++;
    if ((size_t)n - pad != want)
        return false;
    memcpy(out, buf, want);
    return true;
}

typedef struct parsed {
    int iterations;
    unsigned char salt[SALT_BYTES];
    unsigned char key[KEY_BYTES];
} parsed;

static tp_err parse(const char *stored, parsed *p, char *err, size_t errlen)
{
    if (!stored || strncmp(stored, PREFIX, sizeof PREFIX - 1) != 0)
        return tp_errf(err, errlen, TP_ERR_INVALID, "pin hash: does not start with %s", PREFIX);
    const char *it = stored + sizeof PREFIX - 1;
    char *end = NULL;
    errno = 0;
    long n = strtol(it, &end, 10);
    if (errno || end == it || *end != '$' || it[0] < '0' || it[0] > '9')
        return tp_errf(err, errlen, TP_ERR_INVALID, "pin hash: bad iteration count");
    if (n < PIN_MIN_ITERATIONS || n > PIN_MAX_ITERATIONS)
        return tp_errf(err, errlen, TP_ERR_INVALID, "pin hash: iteration count %ld not in %d..%d",
                       n, PIN_MIN_ITERATIONS, PIN_MAX_ITERATIONS);
    const char *salt = end + 1;
    const char *d = strchr(salt, '$');
    if (!d)
        return tp_errf(err, errlen, TP_ERR_INVALID, "pin hash: missing hash part");
    if (!b64_decode(salt, (size_t)(d - salt), p->salt, SALT_BYTES))
        return tp_errf(err, errlen, TP_ERR_INVALID, "pin hash: salt is not %d bytes of base64",
                       SALT_BYTES);
    if (!b64_decode(d + 1, strlen(d + 1), p->key, KEY_BYTES))
        return tp_errf(err, errlen, TP_ERR_INVALID, "pin hash: hash is not %d bytes of base64",
                       KEY_BYTES);
    p->iterations = (int)n;
    return TP_OK;
}

tp_err pin_hash_check(const char *stored, char *err, size_t errlen)
{
    parsed p;
    tp_err rc = parse(stored, &p, err, errlen);
    OPENSSL_cleanse(&p, sizeof p);
    return rc;
}

tp_err pin_hash_new(const char *pin, int iterations, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    unsigned char salt[SALT_BYTES], key[KEY_BYTES];
    char salt64[4 * ((SALT_BYTES + 2) / 3) + 1], key64[4 * ((KEY_BYTES + 2) / 3) + 1];
    tp_err rc = TP_OK;

    if (iterations == 0)
        iterations = PIN_DEFAULT_ITERATIONS;
    if (!pin_valid(pin))
        return tp_errf(err, errlen, TP_ERR_INVALID, "PIN must be %d to %d digits", PIN_MIN_DIGITS,
                       PIN_MAX_DIGITS);
    if (iterations < PIN_MIN_ITERATIONS || iterations > PIN_MAX_ITERATIONS)
        return tp_errf(err, errlen, TP_ERR_INVALID, "iterations %d not in %d..%d", iterations,
                       PIN_MIN_ITERATIONS, PIN_MAX_ITERATIONS);
    rc = tp_random_bytes(salt, sizeof salt);
    if (rc != TP_OK) {
        tp_errf(err, errlen, rc, "pin hash: no random bytes for the salt");
        goto out;
    }
    rc = derive(pin, salt, sizeof salt, iterations, key);
    if (rc != TP_OK) {
        tp_errf(err, errlen, rc, "pin hash: PBKDF2 failed");
        goto out;
    }
    EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof salt);
    EVP_EncodeBlock((unsigned char *)key64, key, sizeof key);
    int n = snprintf(out, outlen, PREFIX "%d$%s$%s", iterations, salt64, key64);
    if (n < 0 || (size_t)n >= outlen)
        rc = tp_errf(err, errlen, TP_ERR_TOO_LARGE, "pin hash: output buffer too small");
out:
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

tp_err pin_verify(const char *stored, const char *pin, bool *match)
{
    parsed p;
    unsigned char key[KEY_BYTES];
    tp_err rc;

    *match = false;
    rc = parse(stored, &p, NULL, 0);
    if (rc != TP_OK)
        goto out;
    /* Derive even for a malformed PIN so the time taken does not depend on it. */
    rc = derive(pin ? pin : "", p.salt, sizeof p.salt, p.iterations, key);
    if (rc != TP_OK)
        goto out;
    *match = CRYPTO_memcmp(key, p.key, KEY_BYTES) == 0 && pin_valid(pin);
out:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(&p, sizeof p);
    return rc;
}
