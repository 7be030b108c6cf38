/*
 * ccomment.h - comments from the customer's phone (issue 15), the collector's side: the comment
 * page behind the kiosk's QR code (GET/POST /c), the link check (sync/clink.h), storage with
 * local tags (ctag.h), the read side (GET /v1/comments, /v1/comments.csv, the CLI export, the
 * report hook), the retention job and a data subject's export/erase requests.
 *
 * A comment is one row per (device, session); it joins its session's answers at read time, so
 * it does not matter which arrives first. Contact details are stored only with the consent box
 * ticked, with the version of the consent text shown beside them.
 *
 * Node settings (key "comments", inherited per sub-key like the others; not sent to kiosks):
 *   consent_text     {"vi": "...", "en": "..."}   the shop's consent text shown on the page
 *   consent_version  "2026-01"                     stored beside each contact
 *   retention_days   1..3650, default 90           contact details deleted after
 *   after_retention  "keep" | "anonymise"          the text then (anonymise: e-mail addresses,
 *                                                  phone numbers and the contact's name masked)
 *   staff_names      ["Lan", "Minh"]               tagged "staff:<name>" (per store)
 * The page also shows the node's "brand" (name, accent, logo_png).
 *
 * Thread-safety: every function may be called from any thread (each takes its own store
 * transactions).
 */
#ifndef TP_CCOMMENT_H
#define TP_CCOMMENT_H

#include <cjson/cJSON.h>

#include "capi.h"
#include "cstore.h"

#define CCOMMENT_BODY_MAX (128u << 10) /* bytes of a POST /c form (1,000 emoji %-encoded) */
#define CCOMMENT_NAME_MAX 100          /* bytes of a contact name */
#define CCOMMENT_PHONE_MAX 32          /* bytes of a phone number as typed */
#define CCOMMENT_EMAIL_MAX 254         /* bytes of an e-mail address */
#define CCOMMENT_GRACE_S 900           /* a form opened before the expiry may be sent this late */
#define CCOMMENT_RETENTION_DAYS 90     /* default of the node setting retention_days */
#define CCOMMENT_LISTED_MAX 500        /* comments one /v1/comments reply lists */
#define CCOMMENT_EXPORT_MAX 1000000    /* rows of one CSV export */

/* A reply of the page (text/html) or of the read side (JSON or CSV). body is free()d by the
 * caller. */
typedef struct ccomment_reply {
    int status;
    char *body;
    size_t len;
    const char *ctype;
    int retry_after;
} ccomment_reply;

/* GET /c: the comment form, or the friendly refusal (expired, forged, already received), in the
 * link's language. arg returns a query value or NULL. */
ccomment_reply ccomment_page(cstore *s, const char *(*arg)(void *cls, const char *key), void *cls,
                             int64_t now_ms);

/* POST /c with the form body (application/x-www-form-urlencoded, len bytes): stores the
 * comment, or answers the same refusals; contact details without the consent ticked are
 * refused (400, the form again, nothing stored). */
ccomment_reply ccomment_submit(cstore *s, const char *body, size_t len, int64_t now_ms);

/* GET /v1/comments and GET /v1/comments.csv (url says which), the read handler of
 * CONTRACT.md: comments in scope ("" = all) with their session's answers, counts per group.
 * Query: from, to (YYYY-MM-DD, local days, default the last 30), node, store, tag, by
 * (store|touchpoint|device, default store), limit (1..500, default 50). The read dispatch logs
 * each read in the read audit (cread_log). */
capi_reply ccomment_get(cstore *s, const char *url, const char *scope,
                        const char *(*arg)(void *cls, const char *key), void *cls, int64_t now_ms);

/* The CSV of every comment in scope with created_ms in [from_ms, to_ms) (id, time, device,
 * session, store, touchpoint, node, lang, tags, text, contact fields, consent version, the
 * session's answers). Logged in the read audit (cread_log) as actor's "comments.export". Returns
 * TP_OK and *csv (free()) or an error. */
tp_err ccomment_export_csv(cstore *s, const char *scope, int64_t from_ms, int64_t to_ms,
                           const char *actor, int64_t now_ms, char **csv, char *err, size_t errlen);

/* For /v1/report (owned by analytics, canalytics_comments.c, which groups and picks the rows):
 * CCOMMENT_REPORT_COLS are the columns of a comment row (table aliased c) that the report may
 * show, never the contact details; ccomment_report_json makes row i of such rows the report's
 * {"id", "at", "created_ms", "lang", "text", "tags", "session", "store", "touchpoint", "device",
 * "node"}. Returns a cJSON object (cJSON_Delete) or NULL when out of memory. */
#define CCOMMENT_REPORT_COLS                                                                       \
    "c.id, c.device, c.session, c.store, c.touchpoint, c.node_path, c.lang, c.text, c.tags,"       \
    " c.created_ms"
cJSON *ccomment_report_json(const cstore_rows *rows, size_t i);

/* For alert rules of kind comment_tag (owned by alerts): the comments in scope tagged tag
 * (e.g. "urgent", "staff:Lan") with created_ms in [from_ms, to_ms): their number in *count and
 * the newest one's id in newest (TP_UUID_STR bytes; "" when none). Returns TP_OK or a store
 * error. */
tp_err ccomment_tag_count(cstore *s, const char *scope, const char *tag, int64_t from_ms,
                          int64_t to_ms, int64_t *count, char newest[TP_UUID_STR], char *err,
                          size_t errlen);

/* Checks the node setting "comments" (see above) under prefix ("$.settings.comments").
 * Returns TP_OK or TP_ERR_INVALID with the path and cause in err. */
tp_err ccomment_settings_check(const cJSON *v, const char *prefix, char *err, size_t errlen);

/* The retention job: deletes the contact details of comments older than their node's
 * retention_days (and anonymises their text where the node says so), one comment_retention row
 * each. *cleared gets the number of comments changed. Returns TP_OK or a store error. */
tp_err ccomment_retention_run(cstore *s, int64_t now_ms, int *cleared, char *err, size_t errlen);

/* A data subject's request by phone or e-mail (one of them NULL): export (*out: a JSON object
 * with every comment holding that contact and its session's answers) or erase (contact fields
 * cleared, the value masked in the text; *out says how many). Both write an audit row
 * ("privacy.export" / "privacy.erase", the target a hash, never the value). Returns TP_OK,
 * TP_ERR_INVALID (neither or both given) or a store error. */
tp_err ccomment_privacy(cstore *s, const char *actor, bool erase, const char *phone,
                        const char *email, int64_t now_ms, cJSON **out, char *err, size_t errlen);

/* tags.list: args {"chain": C} gives {"chain", "source": "chain"|"default", "lists"} (the
 * shipped defaults when the chain has none); without a chain, {"default", "chains": {C: lists}}.
 * *out (cJSON_Delete).
 * tags.set stores lists (checked with ctag_check) for a chain, audited. Run inside an admin
 * transaction (cfleet_call ops "tags.list" / "tags.set"). */
tp_err ccomment_tags_list(cstore_tx *tx, const cJSON *args, cJSON **out, char *err, size_t errlen);
tp_err ccomment_tags_set(cstore_tx *tx, const char *actor, const cJSON *args, int64_t now_ms,
                         cJSON **out, char *err, size_t errlen);

/* The CLI: `comments export`, `comments retention`, `tags set|list`, `privacy export|erase`.
 * ccomment_cli_is tells whether argv[1] is one of these groups; ccomment_cli_main returns the
 * exit status (0 done, 1 failed, 2 usage). */
bool ccomment_cli_is(int argc, char **argv);
int ccomment_cli_main(int argc, char **argv);

#endif /* TP_CCOMMENT_H */
