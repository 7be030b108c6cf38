/*
 * clink.c - the comment link (clink.h): its mac, its URL, its parser and its check.
 *
 * The mac is HMAC-SHA256 truncated to 16 bytes (128 bits: forging one needs 2^128 guesses, and
 * 22 characters keep the QR code small enough to scan from 40 cm at the smallest screen). It is
 * compared with CRYPTO_memcmp so a forger cannot learn it byte by byte from response times.
 * The expiry's exact characters are MAC'd, so only the canonical decimal is accepted: "0123" and
 * "123" must not both be valid spellings of one link.
 */
#include "clink.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encodes n bytes as base64url without padding into out (room for 4n/3 + 2). */
static void b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = B64URL[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = B64URL[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

static int b64url_val(unsigned char c)
{
    const char *p = c ? strchr(B64URL, c) : NULL;
    return p ? (int)(p - B64URL) : -1;
}

/* Decodes a comment key. Returns true when key is 43 base64url characters of exactly 32 bytes
 * (the unused low bits of the last character zero, so each key has one spelling). */
static bool key_decode(const char *key, unsigned char out[CLINK_KEY_BYTES])
{
    if (!key || strlen(key) != CLINK_KEY_LEN)
        return false;
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < CLINK_KEY_LEN; i++) {
        int v = b64url_val((unsigned char)key[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o == CLINK_KEY_BYTES && (acc & ((1u << bits) - 1)) == 0;
}

bool clink_key_valid(const char *key)
{
    unsigned char k[CLINK_KEY_BYTES];
    bool ok = key_decode(key, k);
    OPENSSL_cleanse(k, sizeof k);
    return ok;
}

tp_err clink_key_new(char key[CLINK_KEY_LEN + 1])
{
    unsigned char rnd[CLINK_KEY_BYTES];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
        if (n < 0)
            return TP_ERR_IO;
        got += (size_t)n;
    }
    b64url_encode(rnd, sizeof rnd, key);
    OPENSSL_cleanse(rnd, sizeof rnd);
    return TP_OK;
}

/* A session id as the kiosk makes them: 36 characters, lowercase hex and hyphens at 8/13/18/23. */
static bool session_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* The mac over the expiry's decimal text x. */
static tp_err mac_of(const char *key, const char *device, const char *session, const char *x,
                     char mac[CLINK_MAC_LEN + 1])
{
    unsigned char k[CLINK_KEY_BYTES], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char msg[16 + TP_ID_MAX + TP_UUID_STR + 32];
    if (!key_decode(key, k))
        return TP_ERR_INVALID;
    int n = snprintf(msg, sizeof msg, "tp-comment-v1\n%s\n%s\n%s\n", device, session, x);
    tp_err rc = TP_OK;
    if (n < 0 || (size_t)n >= sizeof msg ||
        !HMAC(EVP_sha256(), k, sizeof k, (const unsigned char *)msg, (size_t)n, md, &mdlen) ||
        mdlen < 16)
        rc = TP_ERR_INTERNAL;
    else
        b64url_encode(md, 16, mac);
    OPENSSL_cleanse(k, sizeof k);
    return rc;
}

tp_err clink_mac(const char *key, const char *device, const char *session, int64_t expiry_s,
                 char mac[CLINK_MAC_LEN + 1])
{
    char x[24];
    if (!device || !tp_id_valid(device) || !session_valid(session) || expiry_s < 0)
        return TP_ERR_INVALID;
    snprintf(x, sizeof x, "%lld", (long long)expiry_s);
    return mac_of(key, device, session, x, mac);
}

static bool base_valid(const char *base)
{
    size_t n = base ? strlen(base) : 0;
    if (n == 0 || n > CLINK_BASE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)base[i];
        if (c <= ' ' || c == 0x7f || c == '?' || c == '#')
            return false;
    }
    return true;
}

static bool lang_ok(const char *l)
{
    return l && (strcmp(l, "vi") == 0 || strcmp(l, "en") == 0);
}

tp_err clink_build(const char *base, const char *key, const char *device, const char *session,
                   int64_t expiry_s, const char *lang, char *url, size_t urllen)
{
    char mac[CLINK_MAC_LEN + 1];
    if (!base_valid(base) || !lang_ok(lang))
        return TP_ERR_INVALID;
    tp_err rc = clink_mac(key, device, session, expiry_s, mac);
    if (rc != TP_OK)
        return rc;
    int n = snprintf(url, urllen, "%s?d=%s&s=%s&x=%lld&l=%s&m=%s", base, device, session,
                     (long long)expiry_s, lang, mac);
    if (n < 0 || (size_t)n >= urllen) {
        if (urllen)
            url[0] = '\0';
        return TP_ERR_TOO_LARGE;
    }
    return TP_OK;
}

/* Canonical decimal of at most 12 digits (year 33658): no sign, no leading zero. */
static bool expiry_parse(const char *x, int64_t *out)
{
    size_t n = strlen(x);
    if (n == 0 || n > 12 || (n > 1 && x[0] == '0'))
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < '0' || x[i] > '9')
            return false;
        v = v * 10 + (x[i] - '0');
    }
    *out = v;
    return true;
}

tp_err clink_fields(const char *d, const char *s, const char *x, const char *l, const char *m,
                    clink *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!d)
        return tp_errf(err, errlen, TP_ERR_INVALID, "d: missing");
    if (!tp_id_valid(d))
        return tp_errf(err, errlen, TP_ERR_INVALID, "d: not a device id");
    if (!s)
        return tp_errf(err, errlen, TP_ERR_INVALID, "s: missing");
    if (!session_valid(s))
        return tp_errf(err, errlen, TP_ERR_INVALID, "s: not a session id (lowercase UUID)");
    if (!x)
        return tp_errf(err, errlen, TP_ERR_INVALID, "x: missing");
    if (!expiry_parse(x, &out->expiry_s))
        return tp_errf(err, errlen, TP_ERR_INVALID, "x: not a decimal number of seconds");
    if (l && !lang_ok(l))
        return tp_errf(err, errlen, TP_ERR_INVALID, "l: not vi or en");
    if (!m)
        return tp_errf(err, errlen, TP_ERR_INVALID, "m: missing");
    if (strlen(m) != CLINK_MAC_LEN || strspn(m, B64URL) != CLINK_MAC_LEN)
        return tp_errf(err, errlen, TP_ERR_INVALID, "m: not %d base64url characters",
                       CLINK_MAC_LEN);
    snprintf(out->device, sizeof out->device, "%s", d);
    snprintf(out->session, sizeof out->session, "%s", s);
    snprintf(out->x, sizeof out->x, "%s", x);
    snprintf(out->lang, sizeof out->lang, "%s", l ? l : "vi");
    snprintf(out->mac, sizeof out->mac, "%s", m);
    return TP_OK;
}

tp_err clink_parse(const char *url, clink *out, char *err, size_t errlen)
{
    enum { N = 5 };
    static const char names[N] = {'d', 's', 'x', 'l', 'm'};
    char buf[CLINK_URL_MAX];
    char *val[N] = {NULL};
    if (!url || strlen(url) >= sizeof buf) {
        memset(out, 0, sizeof *out);
        return tp_errf(err, errlen, TP_ERR_INVALID, "link: empty or over %d bytes",
                       CLINK_URL_MAX - 1);
    }
    const char *q = strchr(url, '?');
    snprintf(buf, sizeof buf, "%s", q ? q + 1 : url);
    char *frag = strchr(buf, '#');
    if (frag)
        *frag = '\0';
    for (char *p = buf; p && *p;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        /* One-letter names only; every value of ours is URL-safe, so no percent-decoding. */
        if (p[0] && p[1] == '=') {
            for (int i = 0; i < N; i++) {
                if (p[0] != names[i])
                    continue;
                if (val[i]) {
                    memset(out, 0, sizeof *out);
                    return tp_errf(err, errlen, TP_ERR_INVALID, "%c: given twice", names[i]);
                }
                val[i] = p + 2;
            }
        }
        p = amp ? amp + 1 : NULL;
    }
    return clink_fields(val[0], val[1], val[2], val[3], val[4], out, err, errlen);
}

clink_result clink_check(const clink *l, const char *key, int64_t now_s)
{
    char want[CLINK_MAC_LEN + 1];
    if (mac_of(key, l->device, l->session, l->x, want) != TP_OK)
        return CLINK_MALFORMED;
    if (strlen(l->mac) != CLINK_MAC_LEN || CRYPTO_memcmp(want, l->mac, CLINK_MAC_LEN) != 0)
        return CLINK_FORGED;
    return now_s <= l->expiry_s ? CLINK_VALID : CLINK_EXPIRED;
}

clink_result clink_verify(const char *url, const char *key, int64_t now_s, clink *out, char *err,
                          size_t errlen)
{
    clink tmp;
    memset(&tmp, 0, sizeof tmp);
    clink *l = out ? out : &tmp;
    if (clink_parse(url, l, err, errlen) != TP_OK)
        return CLINK_MALFORMED;
    clink_result r = clink_check(l, key, now_s);
    switch (r) {
    case CLINK_VALID: tp_errf(err, errlen, TP_OK, "%s", ""); break;
    case CLINK_MALFORMED: tp_errf(err, errlen, TP_ERR_INVALID, "key: not a comment key"); break;
    case CLINK_FORGED:
        tp_errf(err, errlen, TP_ERR_AUTH, "m: does not match the device's key");
        break;
    case CLINK_EXPIRED: tp_errf(err, errlen, TP_ERR_INVALID, "x: expired"); break;
    }
    return r;
}
