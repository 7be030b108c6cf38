/*
 * rconfig.c - the /v1/config body (rconfig.h) and the state folder's files, written whole.
 */
#include "rconfig.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tp_err copy_id(const cJSON *dev, const char *key, char *out, size_t outlen, bool required,
                      const char *name, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(dev, key);
    out[0] = '\0';
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return tp_errf(err, errlen, TP_ERR_CONFIG, "%s: $.device.%s: missing", name, key);
        return TP_OK;
    }
    if (!cJSON_IsString(v) || !tp_id_valid(v->valuestring))
        return tp_errf(err, errlen, TP_ERR_CONFIG, "%s: $.device.%s: not a valid id", name, key);
    tp_strlcpy(out, v->valuestring, outlen);
    return TP_OK;
}

/* "comment": absent or null (no comment links), or {"url"} alone (the collector has not issued
 * the key yet: no links either), or {"key", "url"}. */
static tp_err parse_comment(const cJSON *cm, rconfig *c, const char *name, char *err, size_t errlen)
{
    if (!cm || cJSON_IsNull(cm))
        return TP_OK;
    if (!cJSON_IsObject(cm))
        return tp_errf(err, errlen, TP_ERR_CONFIG, "%s: $.comment: expected an object", name);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(cm, "key");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(cm, "url");
    const char *url = cJSON_GetStringValue(u);
    size_t n = url ? strlen(url) : 0;
    bool url_ok = url && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) &&
                  n <= CLINK_BASE_MAX && !strpbrk(url, "?# \"\t\r\n");
    if (!url_ok)
        return tp_errf(err, errlen, TP_ERR_CONFIG,
                       "%s: $.comment.url: expected an http(s) URL of at most %d bytes without "
                       "'?', '#' or spaces",
                       name, CLINK_BASE_MAX);
    if (!k || cJSON_IsNull(k))
        return TP_OK;
    if (!cJSON_IsString(k) || !clink_key_valid(k->valuestring))
        return tp_errf(err, errlen, TP_ERR_CONFIG,
                       "%s: $.comment.key: expected a comment key (%d base64url characters)", name,
                       CLINK_KEY_LEN);
    tp_strlcpy(c->comment_key, k->valuestring, sizeof c->comment_key);
    tp_strlcpy(c->comment_url, url, sizeof c->comment_url);
    c->has_comment = true;
    return TP_OK;
}

tp_err rconfig_parse(const char *name, const char *body, size_t len, rconfig **out, char *err,
                     size_t errlen)
{
    tp_err rc = TP_OK;
    cJSON *root = NULL;
    char *sv_json = NULL;
    rconfig *c = NULL;
    char serr[TP_ERRMSG_MAX];
    *out = NULL;
    if (len > RCONFIG_BODY_MAX)
        return tp_errf(err, errlen, TP_ERR_TOO_LARGE, "%s: over %d bytes", name, RCONFIG_BODY_MAX);
    root = cJSON_ParseWithLength(body, len);
    if (!root || !cJSON_IsObject(root)) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s: $: not a JSON object", name);
        goto out;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory");
        goto out;
    }
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(root, "revision");
    if (!cJSON_IsString(rev) || !rev->valuestring[0] ||
        tp_strlcpy(c->revision, rev->valuestring, sizeof c->revision) != TP_OK) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s: $.revision: expected a string of 1..%d", name,
                     RCONFIG_REVISION_MAX);
        goto out;
    }
    for (const char *p = c->revision; *p; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '"') {
            rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s: $.revision: not printable ASCII", name);
            goto out;
        }
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    if (!cJSON_IsObject(dev)) {
        rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s: $.device: expected an object", name);
        goto out;
    }
    if ((rc = copy_id(dev, "id", c->device_id, sizeof c->device_id, false, name, err, errlen)) ||
        (rc = copy_id(dev, "store", c->store_id, sizeof c->store_id, false, name, err, errlen)) ||
        (rc = copy_id(dev, "touchpoint", c->touchpoint_id, sizeof c->touchpoint_id, false, name,
                      err, errlen)))
        goto out;
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(dev, "node");
    if (cJSON_IsString(node))
        tp_strlcpy(c->node, node->valuestring, sizeof c->node);
    const cJSON *stage = cJSON_GetObjectItemCaseSensitive(dev, "stage");
    /* null or "": the tree sets no stage (the local one stays) */
    if (stage && !cJSON_IsNull(stage) && !(cJSON_IsString(stage) && !stage->valuestring[0])) {
        const char *t = cJSON_IsString(stage) ? stage->valuestring : "";
        c->has_stage = true;
        if (strcmp(t, "before") == 0)
            c->stage = SETTINGS_STAGE_BEFORE;
        else if (strcmp(t, "during") == 0)
            c->stage = SETTINGS_STAGE_DURING;
        else if (strcmp(t, "after") == 0)
            c->stage = SETTINGS_STAGE_AFTER;
        else {
            rc = tp_errf(err, errlen, TP_ERR_CONFIG,
                         "%s: $.device.stage: expected before, during or after", name);
            goto out;
        }
    }
    if ((rc = parse_comment(cJSON_GetObjectItemCaseSensitive(root, "comment"), c, name, err,
                            errlen)) != TP_OK)
        goto out;
    rc = settings_parse_cjson(cJSON_GetObjectItemCaseSensitive(root, "settings"), "$.settings",
                              &c->set, serr, sizeof serr);
    if (rc != TP_OK) {
        rc = tp_errf(err, errlen, rc, "%s: %s", name, serr);
        goto out;
    }
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(root, "survey");
    if (!cJSON_IsObject(sv)) {
        rc =
            tp_errf(err, errlen, TP_ERR_SURVEY, "%s: $.survey: expected the survey document", name);
        goto out;
    }
    sv_json = cJSON_PrintUnformatted(sv);
    if (!sv_json) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* The survey's own paths start at its root: say where it sits in the body. */
    char sname[300];
    snprintf(sname, sizeof sname, "%s ($.survey)", name);
    rc = survey_parse(sname, sv_json, strlen(sv_json), &c->sv, err, errlen);
    if (rc != TP_OK)
        goto out;
    *out = c;
    c = NULL;
out:
    free(sv_json);
    cJSON_Delete(root);
    rconfig_free(c);
    return rc;
}

tp_err rconfig_load(const char *dir, rconfig **out, char *err, size_t errlen)
{
    char path[1100], cause[TP_ERRMSG_MAX];
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, RCONFIG_FILE);
    tp_err rc = tp_read_file(path, RCONFIG_BODY_MAX, &buf, &len, cause, sizeof cause);
    if (rc != TP_OK)
        return tp_errf(err, errlen, rc, "%s", cause);
    rc = rconfig_parse(RCONFIG_FILE, buf, len, out, err, errlen);
    free(buf);
    return rc;
}

void rconfig_free(rconfig *c)
{
    if (!c)
        return;
    settings_release(&c->set);
    survey_free(c->sv);
    free(c);
}

static tp_err io_err(int e)
{
    return e == ENOSPC || e == EDQUOT                ? TP_ERR_DISK_FULL
           : e == EROFS || e == EACCES || e == EPERM ? TP_ERR_READONLY
                                                     : TP_ERR_IO;
}

tp_err rconfig_write_file(const char *dir, const char *name, const void *data, size_t len,
                          unsigned mode, char *err, size_t errlen)
{
    char tmp[1200], dst[1100];
    unsigned char rnd[6];
    int fd = -1, dfd = -1;
    tp_err rc = TP_OK;
    if (snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst)
        return tp_errf(err, errlen, TP_ERR_INVALID, "%s: path too long", dir);
    if (tp_random_bytes(rnd, sizeof rnd) != TP_OK)
        memset(rnd, 0, sizeof rnd);
    snprintf(tmp, sizeof tmp, "%s/.%s.%02x%02x%02x%02x%02x%02x.tmp", dir, name, rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5]);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd < 0)
        return tp_errf(err, errlen, io_err(errno), "%s: %s", tmp, strerror(errno));
    if (fchmod(fd, (mode_t)mode) != 0) { /* umask must not widen or narrow what we promise */
        rc = tp_errf(err, errlen, io_err(errno), "%s: chmod: %s", tmp, strerror(errno));
        goto fail;
    }
    const unsigned char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = tp_errf(err, errlen, io_err(errno), "%s: write: %s", tmp, strerror(errno));
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = tp_errf(err, errlen, io_err(errno), "%s: fsync: %s", tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = tp_errf(err, errlen, io_err(errno), "%s: close: %s", tmp, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, dst) != 0) {
        rc = tp_errf(err, errlen, io_err(errno), "%s: rename: %s", dst, strerror(errno));
        goto fail;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        rc = tp_errf(err, errlen, io_err(errno), "%s: fsync of the folder: %s", dir,
                     strerror(errno));
    if (dfd >= 0)
        close(dfd);
    return rc;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

tp_err rconfig_status_read(const char *dir, char *rev, size_t revlen, char *error, size_t errorlen)
{
    char path[1100], cause[TP_ERRMSG_MAX];
    char *buf = NULL;
    size_t len = 0;
    rev[0] = '\0';
    error[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, RCONFIG_STATUS_FILE);
    tp_err rc = tp_read_file(path, 8192, &buf, &len, cause, sizeof cause);
    if (rc != TP_OK)
        return rc;
    cJSON *root = cJSON_ParseWithLength(buf, len);
    free(buf);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return TP_ERR_CONFIG;
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "running_revision");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsString(r) && strlen(r->valuestring) <= RCONFIG_REVISION_MAX)
        tp_strlcpy(rev, r->valuestring, revlen);
    if (cJSON_IsString(e)) {
        /* Cut at RCONFIG_ERROR_MAX bytes without splitting a UTF-8 sequence. */
        size_t n = strlen(e->valuestring);
        size_t lim = errorlen - 1 < RCONFIG_ERROR_MAX ? errorlen - 1 : RCONFIG_ERROR_MAX;
        if (n > lim) {
            n = lim;
            while (n > 0 && ((unsigned char)e->valuestring[n] & 0xC0) == 0x80)
                n--;
        }
        memcpy(error, e->valuestring, n);
        error[n] = '\0';
        if (!tp_utf8_valid(error, n))
            error[0] = '\0';
    }
    cJSON_Delete(root);
    return TP_OK;
}

tp_err rconfig_status_write(const char *dir, const char *rev, const char *error, char *err,
                            size_t errlen)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "running_revision", rev ? rev : "") ||
        !(error && error[0] ? cJSON_AddStringToObject(o, "error", error)
                            : cJSON_AddNullToObject(o, "error"))) {
        cJSON_Delete(o);
        return tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory");
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "out of memory");
    tp_err rc = rconfig_write_file(dir, RCONFIG_STATUS_FILE, text, strlen(text), 0644, err, errlen);
    free(text);
    return rc;
}

void rconfig_file_revision(const char *dir, char *rev, size_t revlen)
{
    char path[1100], cause[TP_ERRMSG_MAX];
    char *buf = NULL;
    size_t len = 0;
    rev[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, RCONFIG_FILE);
    if (tp_read_file(path, RCONFIG_BODY_MAX, &buf, &len, cause, sizeof cause) != TP_OK)
        return;
    cJSON *root = cJSON_ParseWithLength(buf, len);
    free(buf);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "revision");
    if (cJSON_IsString(r) && strlen(r->valuestring) <= RCONFIG_REVISION_MAX)
        tp_strlcpy(rev, r->valuestring, revlen);
    cJSON_Delete(root);
}
