/*
 * rconfig.h - the device's side of central configuration (issue 12, sync/PROTOCOL.md section 12):
 * the GET /v1/config body as plain data (checked with the very parsers the collector uses:
 * settings_parse and survey_parse), and the files the sync process and the kiosk exchange in the
 * kiosk's state folder:
 *
 *   remote-config.json  the whole /v1/config body, written by the sync process (atomically)
 *   config-status.json  {"running_revision": R, "error": E|null}, written by the kiosk
 *   pairing.json        {"code", "expires_at", "status"}, written by the sync process while it
 *                       enrolls; the kiosk shows the code
 *
 * Every file is written whole through rconfig_write_file (temp file, fsync, rename, fsync of the
 * folder), so a reader sees the old file or the new one, never a part.
 *
 * Thread-safety: reentrant.
 */
#ifndef TP_RCONFIG_H
#define TP_RCONFIG_H

#include "clink.h"
#include "settings.h"
#include "survey.h"
#include "tp.h"

#define RCONFIG_FILE "remote-config.json"
#define RCONFIG_STATUS_FILE "config-status.json"
#define RCONFIG_PAIRING_FILE "pairing.json"
#define RCONFIG_REVISION_MAX 64
#define RCONFIG_ERROR_MAX 512
#define RCONFIG_BODY_MAX (1024 * 1024) /* bytes of a /v1/config body */
#define RCONFIG_NODE_MAX 256

/* A checked /v1/config body. */
typedef struct rconfig {
    char revision[RCONFIG_REVISION_MAX + 1];
    char device_id[TP_ID_MAX + 1];
    char node[RCONFIG_NODE_MAX + 1];
    char store_id[TP_ID_MAX + 1];      /* "" when the tree gives none */
    char touchpoint_id[TP_ID_MAX + 1]; /* "" when the tree gives none */
    bool has_stage;
    settings_stage stage;
    /* "comment": {"key", "url"} (issue 15): the key the kiosk signs comment links with and the
     * comment page's URL; has_comment only when both are there. The key is a secret: the body
     * is written with mode 0600. */
    bool has_comment;
    char comment_key[CLINK_KEY_LEN + 1];
    char comment_url[CLINK_BASE_MAX + 1];
    settings set; /* owned: released by rconfig_free */
    survey *sv;   /* owned */
} rconfig;

/* Parses and checks the body (len bytes) into a new *out (free with rconfig_free). name is the
 * file named in messages. Returns TP_OK, TP_ERR_TOO_LARGE, TP_ERR_CONFIG ("NAME: $.settings...:
 * cause", also "NAME: $.comment.key: ..."), or TP_ERR_SURVEY ("NAME: $.survey...: cause" in the
 * survey parser's words). */
tp_err rconfig_parse(const char *name, const char *body, size_t len, rconfig **out, char *err,
                     size_t errlen);

/* Reads and parses dir/remote-config.json. TP_ERR_NOT_FOUND when there is none. */
tp_err rconfig_load(const char *dir, rconfig **out, char *err, size_t errlen);

/* NULL is a no-op. */
void rconfig_free(rconfig *c);

/* Writes len bytes as dir/name with mode: a temp file in dir (O_EXCL, never a file someone else
 * made), fsync, rename over name, fsync of dir. On failure the temp file is removed and the old
 * file stays. Returns TP_OK or TP_ERR_IO / TP_ERR_DISK_FULL / TP_ERR_READONLY with the cause. */
tp_err rconfig_write_file(const char *dir, const char *name, const void *data, size_t len,
                          unsigned mode, char *err, size_t errlen);

/* Reads dir/config-status.json: the running revision (rev, revlen; "" none) and the last apply
 * error (error, errorlen; "" none). A missing or unreadable file leaves both "" and returns
 * TP_ERR_NOT_FOUND / TP_ERR_CONFIG. */
tp_err rconfig_status_read(const char *dir, char *rev, size_t revlen, char *error, size_t errorlen);

/* Writes dir/config-status.json (error NULL or "": null). */
tp_err rconfig_status_write(const char *dir, const char *rev, const char *error, char *err,
                            size_t errlen);

/* Reads just the "revision" of dir/remote-config.json into rev ("" when there is no valid one).
 * Cheap enough for every sync round. */
void rconfig_file_revision(const char *dir, char *rev, size_t revlen);

#endif /* TP_RCONFIG_H */
