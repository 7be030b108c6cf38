/*
 * ccomment_int.h - internals shared by the comment files: ccomment.c (link check, storage,
 * settings, keyword lists), ccomment_page.c (the HTML), ccomment_read.c (read side),
 * ccomment_privacy.c (retention, export/erase), ccomment_cli.c.
 */
#ifndef TP_CCOMMENT_INT_H
#define TP_CCOMMENT_INT_H

#include "ccomment.h"
#include "cfleet_int.h"
#include "clink.h"
#include "ctag.h"

/* What the page shows. */
typedef enum cc_state {
    CC_FORM,     /* the form (again, with error set, after a refused submission) */
    CC_THANKS,   /* stored */
    CC_RECEIVED, /* this link's comment is already stored */
    CC_EXPIRED,
    CC_FORGED, /* bad mac, unknown or revoked device, malformed link */
    CC_BUSY,   /* the store cannot answer now */
} cc_state;

typedef struct cc_view {
    cc_state state;
    char lang[3];
    const clink *link;     /* CC_FORM: the hidden fields */
    const cJSON *settings; /* {"comments": {...}, "brand": {...}} or NULL */
    const char *error;     /* CC_FORM: a message key ("consent", "empty", "too_long", ...) */
    const char *text, *name, *phone, *email; /* CC_FORM: what was typed, refilled */
} cc_view;

/* The page of v (ccomment_page.c). Returns HTML to free() with its length, or NULL. */
char *cc_page_html(const cc_view *v, size_t *len);

/* The effective "comments" and "brand" settings of node path (NULL or "": none) as
 * {"comments": {...}, "brand": {...}}. Returns TP_OK and *out (cJSON_Delete) or a store error. */
tp_err cc_settings(cstore_tx *tx, const char *path, cJSON **out, char *err, size_t errlen);

/* A setting of "comments" in settings (from cc_settings): string, int (dflt when absent). */
const char *cc_setting_str(const cJSON *settings, const char *key);
int cc_setting_int(const cJSON *settings, const char *key, int dflt);

/* Canonical forms used to store and to find a person: digits only with a Vietnamese "+84"/"84"
 * prefix made "0"; e-mail trimmed and lower-cased. Return false when the value is not one. */
bool cc_phone_canon(const char *in, char *out, size_t outlen);
bool cc_email_canon(const char *in, char *out, size_t outlen);

/* The keyword matcher of chain (its stored lists, else the shipped defaults). Returns TP_OK
 * and *out (ctag_free) or an error. */
tp_err cc_tagger(cstore_tx *tx, const char *chain, ctag **out, char *err, size_t errlen);

/* Writes "store" and "touchpoint" of a node path (segments 3 and 4; "" when shallower). */
void cc_node_parts(const char *path, char store[65], char touchpoint[65]);

/* The scope condition on column col (a node path) with the scope as parameter $n, for SQL
 * (both dialects): matches the node itself and its subtree; an empty scope matches all. Writes
 * into buf; returns buf. */
const char *cc_scope_sql(char *buf, size_t len, const char *col, int n);

/* The columns of a comment row (table aliased c), and that row as JSON (contact: with the
 * contact fields); an answer row (comment id, survey, survey_version, question, kind, value,
 * choice, at_ms) as JSON. Return NULL when out of memory. */
#define CC_COLS                                                                                    \
    "c.id, c.device, c.session, c.store, c.touchpoint, c.node_path, c.lang, c.text, c.tags,"       \
    " c.created_ms, c.contact_name, c.contact_phone, c.contact_email, c.consent_version,"          \
    " c.consent_ms, c.contact_deleted_ms, c.anonymised_ms"
cJSON *cc_comment_json(const cstore_rows *r, size_t i, bool contact);
cJSON *cc_answer_json(const cstore_rows *a, size_t j);

/* text with e-mail addresses, runs of 6+ digits (phone numbers) and name (may be NULL) masked,
 * and also the literal value extra (may be NULL). Returns a string to free() or NULL. */
char *cc_mask_text(const char *text, const char *name, const char *extra);

/* The shipped default keyword lists (assets/comments/keywords.json, embedded at build). */
extern unsigned char assets_comments_keywords_json[];
extern unsigned int assets_comments_keywords_json_len;

#endif /* TP_CCOMMENT_INT_H */
