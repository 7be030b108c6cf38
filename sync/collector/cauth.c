/*
 * cauth.c - devices file, token hashing and constant-time checks (see cauth.h).
 */
#include "cauth.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES 512

typedef struct cdev {
    char id[TP_ID_MAX + 1];
    char hash[65];
} cdev;

struct cauth {
    char *path;
    pthread_rwlock_t lock;
    cdev *devs;
    size_t n;
    struct timespec mtime;
    off_t size;
    ino_t ino;
    int64_t checked_ms;
    pthread_mutex_t check_lock;
};

tp_err cauth_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return TP_ERR_INTERNAL;
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return TP_OK;
}

bool cauth_equal_ct(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return false;
    return CRYPTO_memcmp(a, b, n) == 0;
}

static bool hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 64;
}

/* Parses the file into a fresh array. */
static tp_err load(const char *path, cdev **out, size_t *n_out, struct stat *st, char *err,
                   size_t errlen)
{
    tp_err rc = TP_OK;
    char line[LINE_MAX_BYTES];
    cdev *v = NULL;
    size_t n = 0, cap = 0;
    int lineno = 0;
    FILE *f = fopen(path, "re");
    *out = NULL;
    *n_out = 0;
    if (!f)
        return tp_errf(err, errlen, tp_err_from_errno(errno), "devices file %s: %s", path,
                       strerror(errno));
    if (fstat(fileno(f), st) != 0) {
        rc = tp_errf(err, errlen, TP_ERR_IO, "devices file %s: %s", path, strerror(errno));
        goto out;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s:%d: line too long", path, lineno);
            goto out;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char id[LINE_MAX_BYTES], hx[LINE_MAX_BYTES], extra[2];
        int got = sscanf(line, "%511s %511s %1s", id, hx, extra);
        if (got <= 0)
            continue;
        if (got != 2 || !tp_id_valid(id) || !hex64(hx)) {
            rc = tp_errf(err, errlen, TP_ERR_CONFIG,
                         "%s:%d: expected 'DEVICE_ID SHA256_HEX' (id of [A-Za-z0-9._-], 64 "
                         "lowercase hex digits)",
                         path, lineno);
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            if (strcmp(v[i].id, id) == 0) {
                rc = tp_errf(err, errlen, TP_ERR_CONFIG, "%s:%d: device %s listed twice", path,
                             lineno, id);
                goto out;
            }
        }
        if (n >= CAUTH_MAX_DEVICES) {
            rc = tp_errf(err, errlen, TP_ERR_TOO_LARGE, "%s: more than %d devices", path,
                         CAUTH_MAX_DEVICES);
            goto out;
        }
        if ((rc = tp_array_grow((void **)&v, &cap, n + 1, sizeof *v, CAUTH_MAX_DEVICES)) != TP_OK)
            goto out;
        tp_strlcpy(v[n].id, id, sizeof v[n].id);
        tp_strlcpy(v[n].hash, hx, sizeof v[n].hash);
        n++;
    }
    if (ferror(f))
        rc = tp_errf(err, errlen, TP_ERR_IO, "devices file %s: read error", path);
out:
    fclose(f);
    if (rc != TP_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return TP_OK;
}

tp_err cauth_open(const char *path, cauth **out, char *err, size_t errlen)
{
    struct stat st;
    cauth *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!a || !(a->path = strdup(path))) {
        free(a);
        return TP_ERR_NOMEM;
    }
    pthread_rwlock_init(&a->lock, NULL);
    pthread_mutex_init(&a->check_lock, NULL);
    tp_err rc = load(path, &a->devs, &a->n, &st, err, errlen);
    if (rc != TP_OK) {
        cauth_free(a);
        return rc;
    }
    a->mtime = st.st_mtim;
    a->size = st.st_size;
    a->ino = st.st_ino;
    *out = a;
    return TP_OK;
}

void cauth_free(cauth *a)
{
    if (!a)
        return;
    pthread_rwlock_destroy(&a->lock);
    pthread_mutex_destroy(&a->check_lock);
    free(a->devs);
    free(a->path);
    free(a);
}

size_t cauth_count(cauth *a)
{
    pthread_rwlock_rdlock(&a->lock);
    size_t n = a->n;
    pthread_rwlock_unlock(&a->lock);
    return n;
}

/* Re-reads the file when it changed (add-device renames a new file into place). A file that
 * became invalid is reported and the previous list kept. */
static void maybe_reload(cauth *a, int64_t now_ms)
{
    struct stat st;
    if (pthread_mutex_trylock(&a->check_lock) != 0)
        return;
    if (now_ms - a->checked_ms < 1000 && a->checked_ms != 0)
        goto out;
    a->checked_ms = now_ms;
    if (stat(a->path, &st) != 0)
        goto out;
    if (st.st_ino == a->ino && st.st_size == a->size && st.st_mtim.tv_sec == a->mtime.tv_sec &&
        st.st_mtim.tv_nsec == a->mtime.tv_nsec)
        goto out;
    cdev *v = NULL;
    size_t n = 0;
    char err[TP_ERRMSG_MAX];
    if (load(a->path, &v, &n, &st, err, sizeof err) != TP_OK) {
        fprintf(stderr, "touchpoint-collector: keeping the previous device list: %s\n", err);
        a->ino = st.st_ino;
        a->size = st.st_size;
        a->mtime = st.st_mtim;
        goto out;
    }
    pthread_rwlock_wrlock(&a->lock);
    free(a->devs);
    a->devs = v;
    a->n = n;
    a->ino = st.st_ino;
    a->size = st.st_size;
    a->mtime = st.st_mtim;
    pthread_rwlock_unlock(&a->lock);
out:
    pthread_mutex_unlock(&a->check_lock);
}

tp_err cauth_check(cauth *a, const char *token, int64_t now_ms, char device[TP_ID_MAX + 1])
{
    char hx[65];
    bool found = false;
    device[0] = '\0';
    if (!token || !*token || strlen(token) > CAUTH_TOKEN_MAX)
        return TP_ERR_AUTH;
    maybe_reload(a, now_ms);
    if (cauth_sha256_hex(token, strlen(token), hx) != TP_OK)
        return TP_ERR_AUTH;
    pthread_rwlock_rdlock(&a->lock);
    /* Every line is compared (no early exit), each in constant time. */
    for (size_t i = 0; i < a->n; i++) {
        if (CRYPTO_memcmp(a->devs[i].hash, hx, 64) == 0 && !found) {
            found = true;
            tp_strlcpy(device, a->devs[i].id, TP_ID_MAX + 1);
        }
    }
    pthread_rwlock_unlock(&a->lock);
    return found ? TP_OK : TP_ERR_AUTH;
}

/* ---- add-device ------------------------------------------------------------------------------ */

static void base64url(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    unsigned char b64[128];
    int len = EVP_EncodeBlock(b64, in, (int)n);
    size_t k = 0;
    for (int i = 0; i < len && k + 1 < outlen; i++) {
        char c = (char)b64[i];
        if (c == '=')
            break;
        out[k++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[k] = '\0';
}

static tp_err write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return tp_err_from_errno(errno);
        }
        buf += w;
        n -= (size_t)w;
    }
    return TP_OK;
}

tp_err cauth_add_device(const char *path, const char *id, char token[64], char *err, size_t errlen)
{
    tp_err rc = TP_OK;
    unsigned char rnd[32];
    char hx[65], tmp[4200], dirbuf[4200], line[160];
    char *old = NULL;
    size_t old_len = 0;
    int fd = -1;
    cdev *devs = NULL;
    size_t n = 0;
    struct stat st;
    token[0] = '\0';

    if (!tp_id_valid(id))
        return tp_errf(err, errlen, TP_ERR_INVALID,
                       "device id '%.80s': expected 1-64 characters of A-Z a-z 0-9 . _ -", id);
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return tp_errf(err, errlen, TP_ERR_INVALID, "devices file path too long");

    /* Existing content: validated (so a broken file is not extended) and copied verbatim. */
    rc = load(path, &devs, &n, &st, err, errlen);
    if (rc == TP_ERR_NOT_FOUND) {
        rc = TP_OK;
    } else if (rc != TP_OK) {
        goto out;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(devs[i].id, id) == 0) {
                rc = tp_errf(err, errlen, TP_ERR_EXISTS, "device %s is already in %s", id, path);
                goto out;
            }
        }
        if ((rc = tp_read_file(path, 64u << 20, &old, &old_len, err, errlen)) != TP_OK)
            goto out;
    }
    if ((rc = tp_random_bytes(rnd, sizeof rnd)) != TP_OK) {
        tp_errf(err, errlen, rc, "getrandom failed");
        goto out;
    }
    base64url(rnd, sizeof rnd, token, 64);
    if ((rc = cauth_sha256_hex(token, strlen(token), hx)) != TP_OK)
        goto out;
    snprintf(line, sizeof line, "%s%s %s\n", old_len > 0 && old[old_len - 1] != '\n' ? "\n" : "",
             id, hx);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = tp_errf(err, errlen, tp_err_from_errno(errno), "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if ((rc = write_all(fd, old ? old : "", old_len)) != TP_OK ||
        (rc = write_all(fd, line, strlen(line))) != TP_OK || fsync(fd) != 0) {
        if (rc == TP_OK)
            rc = tp_err_from_errno(errno);
        tp_errf(err, errlen, rc, "%s: write failed: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = tp_errf(err, errlen, TP_ERR_IO, "%s: close: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = tp_errf(err, errlen, tp_err_from_errno(errno), "rename %s -> %s: %s", tmp, path,
                     strerror(errno));
        goto out;
    }
    /* The rename itself is made durable by syncing the directory. */
    tp_strlcpy(dirbuf, path, sizeof dirbuf);
    int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc != TP_OK) {
        unlink(tmp);
        token[0] = '\0';
    }
    free(old);
    free(devs);
    return rc;
}

tp_err cauth_new_token(char token[64], char hex[65])
{
    unsigned char rnd[32];
    tp_err rc = tp_random_bytes(rnd, sizeof rnd);
    if (rc != TP_OK)
        return rc;
    base64url(rnd, sizeof rnd, token, 64);
    return cauth_sha256_hex(token, strlen(token), hex);
}

bool cauth_entry(cauth *a, size_t i, char id[TP_ID_MAX + 1], char hex[65])
{
    bool ok = false;
    pthread_rwlock_rdlock(&a->lock);
    if (i < a->n) {
        tp_strlcpy(id, a->devs[i].id, TP_ID_MAX + 1);
        tp_strlcpy(hex, a->devs[i].hash, 65);
        ok = true;
    }
    pthread_rwlock_unlock(&a->lock);
    return ok;
}

bool cauth_has(cauth *a, const char *id)
{
    bool found = false;
    pthread_rwlock_rdlock(&a->lock);
    for (size_t i = 0; i < a->n && !found; i++)
        found = strcmp(a->devs[i].id, id) == 0;
    pthread_rwlock_unlock(&a->lock);
    return found;
}
