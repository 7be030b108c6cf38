/*
 * pin.h - the staff PIN, stored only as a salted PBKDF2-HMAC-SHA256 hash (OpenSSL libcrypto).
 *
 * Stored form (one line, fits config.pin_hash):
 *     pbkdf2-sha256$ITERATIONS$SALT_BASE64$HASH_BASE64
 * with a 16-byte random salt and a 32-byte derived key. Verification recomputes the key with the
 * stored salt and iteration count and compares in constant time (CRYPTO_memcmp).
 *
 * Thread-safety: every function is reentrant.
 */
#ifndef TP_PIN_H
#define TP_PIN_H

#include "tp.h"

#define PIN_MIN_DIGITS 4
#define PIN_MAX_DIGITS 12
#define PIN_DEFAULT_ITERATIONS 100000
#define PIN_MIN_ITERATIONS 1000
#define PIN_MAX_ITERATIONS 10000000
#define PIN_HASH_MAX 160 /* bytes including NUL; matches config.pin_hash */

/* Returns true when pin is PIN_MIN_DIGITS..PIN_MAX_DIGITS decimal digits. */
bool pin_valid(const char *pin);

/* Makes a new stored hash of pin with a fresh random salt into out (size outlen, at least
 * PIN_HASH_MAX is always enough). iterations 0 means PIN_DEFAULT_ITERATIONS.
 * Returns TP_OK, TP_ERR_INVALID (pin not 4-12 digits, iterations out of range, with the cause in
 * err), TP_ERR_IO (no randomness) or TP_ERR_INTERNAL (libcrypto failed). */
tp_err pin_hash_new(const char *pin, int iterations, char *out, size_t outlen, char *err,
                    size_t errlen);

/* Checks that stored is a well-formed hash (format, iteration range, salt and hash lengths).
 * Returns TP_OK or TP_ERR_INVALID with the cause in err. */
tp_err pin_hash_check(const char *stored, char *err, size_t errlen);

/* Compares pin against stored in constant time (for a given stored hash). *match gets the result.
 * Returns TP_OK (whether or not it matched), TP_ERR_INVALID when stored is malformed, or
 * TP_ERR_INTERNAL. A pin that is not 4-12 digits simply does not match. */
tp_err pin_verify(const char *stored, const char *pin, bool *match);

#endif /* TP_PIN_H */
