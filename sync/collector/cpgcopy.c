/*
 * cpgcopy.c - PostgreSQL's binary COPY format: an 11-byte signature, a 32-bit flags word and a
 * 32-bit header extension length (both 0); each row a 16-bit field count and each field a 32-bit
 * length (-1 for NULL) and its bytes in the type's binary send format (integers big-endian, a
 * boolean one byte, a uuid its 16 bytes, text its UTF-8 bytes); a row count of -1 ends the data.
 *
 * The writer keeps its own buffer rather than a tp_buf: a batch row is some 60 small writes, and
 * each tp_buf_add would re-terminate the content with a NUL that binary data does not need.
 */
#include "cpgcopy.h"

#include <stdlib.h>
#include <string.h>

/* Makes room for n more bytes; false (and w->rc set) when that fails. */
static bool grow(cpgcopy *w, size_t n)
{
    if (w->rc != TP_OK)
        return false;
    if (n > w->max - w->len) {
        w->rc = TP_ERR_TOO_LARGE;
        return false;
    }
    if (w->len + n <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + n)
        cap *= 2;
    char *p = realloc(w->p, cap);
    if (!p) {
        w->rc = TP_ERR_NOMEM;
        return false;
    }
    w->p = p;
    w->cap = cap;
    return true;
}

/* grow() where the buffer has the room already, without a call: every field comes here. */
static inline bool room(cpgcopy *w, size_t n)
{
    if (w->rc == TP_OK && n <= w->max - w->len && w->len + n <= w->cap)
        return true;
    return grow(w, n);
}

static void put(cpgcopy *w, const void *p, size_t n)
{
    if (room(w, n)) {
        memcpy(w->p + w->len, p, n);
        w->len += n;
    }
}

/* The low n (1, 2, 4 or 8) bytes of v into b, big-endian. */
static inline void be(unsigned char *b, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

/* Appends n bytes to w and returns them to be filled in, or NULL (w->rc set). The fields are
 * written in place through this, one room check per field and no memcpy call for a few bytes
 * (a batch row is some 60 of these writes). */
static unsigned char *grab(cpgcopy *w, size_t n)
{
    if (!room(w, n))
        return NULL;
    unsigned char *b = (unsigned char *)w->p + w->len;
    w->len += n;
    return b;
}

static void put_be(cpgcopy *w, uint64_t v, size_t n)
{
    unsigned char *b = grab(w, n);
    if (b)
        be(b, v, n);
}

/* A field's length word and then n bytes of v, big-endian: the integer and boolean fields. */
static inline void put_field(cpgcopy *w, uint64_t v, size_t n)
{
    unsigned char *b = grab(w, 4 + n);
    if (b) {
        be(b, n, 4);
        be(b + 4, v, n);
    }
}

void cpgcopy_init(cpgcopy *w, size_t max)
{
    static const char sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
    *w = (cpgcopy){NULL, 0, 0, max, TP_OK};
    put(w, sig, sizeof sig);
    put_be(w, 0, 4); /* flags: no OIDs */
    put_be(w, 0, 4); /* no header extension */
}

void cpgcopy_reset(cpgcopy *w)
{
    w->len = 0;
}

void cpgcopy_row(cpgcopy *w, int n)
{
    put_be(w, (uint16_t)n, 2);
}

void cpgcopy_null(cpgcopy *w)
{
    put_be(w, UINT32_MAX, 4); /* length -1 */
}

void cpgcopy_text(cpgcopy *w, const char *s)
{
    if (!s) {
        cpgcopy_null(w);
        return;
    }
    size_t n = strlen(s);
    if (n > INT32_MAX) {
        if (w->rc == TP_OK)
            w->rc = TP_ERR_TOO_LARGE;
        return;
    }
    unsigned char *b = grab(w, 4 + n);
    if (b) {
        be(b, n, 4);
        memcpy(b + 4, s, n);
    }
}

void cpgcopy_i16(cpgcopy *w, int16_t v)
{
    put_field(w, (uint16_t)v, 2);
}

void cpgcopy_i32(cpgcopy *w, int32_t v)
{
    put_field(w, (uint32_t)v, 4);
}

void cpgcopy_i64(cpgcopy *w, int64_t v)
{
    put_field(w, (uint64_t)v, 8);
}

void cpgcopy_bool(cpgcopy *w, bool v)
{
    put_field(w, v ? 1 : 0, 1);
}

/* A hex digit's value plus one; 0 for any other byte. */
static const unsigned char hexv[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16};

/* Where each of a uuid's 16 byte pairs starts in the 8-4-4-4-12 form. */
static const unsigned char pair_at[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                          19, 21, 24, 26, 28, 30, 32, 34};

/* The 16 bytes of the 8-4-4-4-12 form that libuuid's uuid_parse reads, decoded pair by pair:
 * uuid_parse costs a strtoul per group, and a batch row holds five uuids. The pairs' places are a
 * table rather than tests of each position; the bytes are still read in order, and none after
 * one that is not a hex digit or dash (a NUL), so never past a short string's end. */
void cpgcopy_uuid(cpgcopy *w, const char *s)
{
    unsigned char u[16];
    size_t k = 0;
    for (; s && k < 16; k++) {
        size_t i = pair_at[k];
        if ((k == 4 || k == 6 || k == 8 || k == 10) && s[i - 1] != '-')
            break;
        int hi = hexv[(unsigned char)s[i]]; /* not NUL: s[i + 1] is inside the string */
        int lo = hi ? hexv[(unsigned char)s[i + 1]] : 0;
        if (!lo)
            break;
        u[k] = (unsigned char)((hi - 1) << 4 | (lo - 1));
    }
    if (k != 16 || s[36] != '\0') {
        if (w->rc == TP_OK)
            w->rc = TP_ERR_INVALID;
        return;
    }
    unsigned char *b = grab(w, 4 + 16);
    if (b) {
        be(b, 16, 4);
        memcpy(b + 4, u, 16);
    }
}

tp_err cpgcopy_finish(cpgcopy *w)
{
    put_be(w, UINT16_MAX, 2); /* field count -1: the end */
    return w->rc;
}

void cpgcopy_free(cpgcopy *w)
{
    free(w->p);
    *w = (cpgcopy){NULL, 0, 0, 0, TP_OK};
}
