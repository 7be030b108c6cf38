/*
 * cpgcopy.h - rows in PostgreSQL's binary COPY format (COPY ... FROM STDIN WITH (FORMAT binary)),
 * built in memory for PQputCopyData.
 *
 * Why binary: the server then reads each field as it is stored (a uuid as 16 bytes, a bigint as
 * 8) instead of parsing text, about a third of the server's work for an answer row (issue 14).
 * The fields of a row must follow the table's column types exactly (int2/int4/int8, bool, uuid,
 * text): the server checks the lengths and refuses a mismatch with "incorrect binary data
 * format".
 *
 * Use: cpgcopy_init, then for each row cpgcopy_row(n fields) and n field calls, then
 * cpgcopy_finish, which returns the first error of the whole sequence (the calls in between
 * return nothing: a failure is kept and later calls do nothing). The writer owns its buffer until
 * cpgcopy_free. Not thread-safe; one writer per batch.
 */
#ifndef TP_CPGCOPY_H
#define TP_CPGCOPY_H

#include "tp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields are the writer's; read only p and len (the data so far). */
typedef struct cpgcopy {
    char *p;    /* the COPY data: header, rows, and after cpgcopy_finish the trailer */
    size_t len; /* bytes in p */
    size_t cap; /* bytes allocated */
    size_t max; /* the most len may grow to */
    tp_err rc;  /* the first failure, TP_OK until then */
} cpgcopy;

/* Starts w with the binary COPY header; its data may grow to max bytes. */
void cpgcopy_init(cpgcopy *w, size_t max);

/* Empties w's data, keeping its allocation (after sending a piece of it: the header is not
 * written again). */
void cpgcopy_reset(cpgcopy *w);

/* Starts a row of n fields. */
void cpgcopy_row(cpgcopy *w, int n);

/* A text field (NULL: SQL NULL), a NULL field, integers of the column's width, a boolean, and a
 * uuid from its 36-character form (anything else fails the writer with TP_ERR_INVALID). */
void cpgcopy_text(cpgcopy *w, const char *s);
void cpgcopy_null(cpgcopy *w);
void cpgcopy_i16(cpgcopy *w, int16_t v);
void cpgcopy_i32(cpgcopy *w, int32_t v);
void cpgcopy_i64(cpgcopy *w, int64_t v);
void cpgcopy_bool(cpgcopy *w, bool v);
void cpgcopy_uuid(cpgcopy *w, const char *s);

/* Appends the trailer. Returns TP_OK, or the first failure of the writer (TP_ERR_NOMEM,
 * TP_ERR_TOO_LARGE past max, TP_ERR_INVALID for a bad uuid). The data is w->p, w->len bytes
 * (it holds NUL bytes: send it by length). */
tp_err cpgcopy_finish(cpgcopy *w);

/* Frees w's buffer. */
void cpgcopy_free(cpgcopy *w);

#endif
