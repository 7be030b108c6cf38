/*
 * usb.c - USB stick detection: parse /proc/self/mountinfo, watch the mount root with inotify and
 * the mount table with epoll (POLLPRI), report sticks added and removed; the staff key check.
 *
 * Why both inotify and mountinfo: a mount does not create an inotify event in its parent folder,
 * but the mount table's descriptor signals every mount and unmount of this mount namespace; the
 * inotify watch catches the mount helper creating and removing its folder (and keeps working when
 * a test feeds a plain file instead of /proc/self/mountinfo). Either way the answer comes from
 * re-reading mountinfo, so a missed or duplicate wake-up costs one re-read, never a wrong state.
 */
#include "usb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DEFAULT_ROOT "/media"
#define DEFAULT_MOUNTINFO "/proc/self/mountinfo"
/* Mounts below the root kept per scan before picking sticks (nested and stacked ones included). */
#define SCAN_MAX (USB_MAX_STICKS * 4)
#define USB_READ_CHUNK 16384 /* bytes read per call from the mount table */

struct usb {
    char root[PATH_MAX];
    char mountinfo[USB_PATH_MAX];
    int epfd; /* what the owner polls */
    int ifd;  /* inotify on the root */
    int mfd;  /* mountinfo, open for POLLPRI (or -1 when it is a plain file) */
    int efd;  /* eventfd: "look again" (after open, after a truncated report) */
    size_t n_known;
    usb_stick known[USB_MAX_STICKS];
    char errmsg[TP_ERRMSG_MAX];
};

/* ---- Parsing ------------------------------------------------------------------------------- */

/* Copies one mountinfo field (start..end) into out, decoding the kernel's \ooo escapes. Returns
 * false when it does not fit or an escape is malformed. */
static bool field_decode(const char *s, const char *end, char *out, size_t outlen)
{
    size_t o = 0;
    while (s < end) {
        char c = *s++;
        if (c == '\\') {
            if (end - s < 3)
                return false;
            int v = 0;
            for (int i = 0; i < 3; i++) {
                if (s[i] < '0' || s[i] > '7')
                    return false;
                v = v * 8 + (s[i] - '0');
            }
            if (v == 0 || v > 255)
                return false;
            c = (char)v;
            s += 3;
        }
        if (o + 1 >= outlen)
            return false;
        out[o++] = c;
    }
    if (outlen == 0)
        return false;
    out[o] = '\0';
    return true;
}

/* Returns true when the comma-separated option list [s, end) contains exactly "ro". */
static bool opts_have_ro(const char *s, const char *end)
{
    while (s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *e = comma ? comma : end;
        if (e - s == 2 && s[0] == 'r' && s[1] == 'o')
            return true;
        s = comma ? comma + 1 : end;
    }
    return false;
}

static bool parse_int(const char *s, const char *end, int *out)
{
    long v = 0;
    if (s == end || end - s > 9)
        return false;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = (int)v;
    return true;
}

/* Parses one line [s, end) without its newline. Returns false for a malformed line. */
static bool parse_line(const char *s, const char *end, usb_mount *m)
{
    /* Fields are separated by single spaces; spaces inside values are escaped as \040. */
    const char *f[64][2];
    size_t nf = 0;
    const char *p = s;
    while (p < end) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *e = sp ? sp : end;
        if (nf == 64)
            return false;
        f[nf][0] = p;
        f[nf][1] = e;
        nf++;
        p = sp ? sp + 1 : end;
    }
    /* id parent maj:min root mountpoint options [optional...] - fstype source superoptions */
    size_t dash = 0;
    for (size_t i = 6; i < nf; i++) {
        if (f[i][1] - f[i][0] == 1 && f[i][0][0] == '-') {
            dash = i;
            break;
        }
    }
    if (dash == 0 || dash + 3 > nf)
        return false;
    memset(m, 0, sizeof *m);
    if (!parse_int(f[0][0], f[0][1], &m->mount_id) || !parse_int(f[1][0], f[1][1], &m->parent_id))
        return false;
    if (!field_decode(f[3][0], f[3][1], m->fs_root, sizeof m->fs_root) ||
        !field_decode(f[4][0], f[4][1], m->mount_point, sizeof m->mount_point) ||
        !field_decode(f[dash + 1][0], f[dash + 1][1], m->fstype, sizeof m->fstype) ||
        !field_decode(f[dash + 2][0], f[dash + 2][1], m->source, sizeof m->source))
        return false;
    if (m->mount_point[0] != '/')
        return false;
    m->readonly = opts_have_ro(f[5][0], f[5][1]) ||
                  (dash + 3 < nf && opts_have_ro(f[dash + 3][0], f[dash + 3][1]));
    return true;
}

/* Calls keep(m, ctx) for every well-formed line; counts the others in *skipped. */
static void parse_all(const char *text, size_t len, bool (*keep)(const usb_mount *, void *),
                      void *ctx, size_t *skipped)
{
    const char *p = text, *end = text + len;
    usb_mount *m = malloc(sizeof *m);
    if (!m) {
        if (skipped)
            (*skipped)++;
        return;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e > p) {
            if (parse_line(p, e, m))
                keep(m, ctx);
            else if (skipped)
                (*skipped)++;
        }
        p = nl ? nl + 1 : end;
    }
    free(m);
}

typedef struct collect {
    usb_mount *out;
    size_t max, n;
    size_t *skipped;
    const char *root; /* NULL: keep all */
} collect;

/* Returns true when path lies strictly below root ("/" root: any path but "/"). */
static bool below(const char *path, const char *root)
{
    size_t rl = strlen(root);
    if (rl == 1 && root[0] == '/')
        rl = 0;
    return strncmp(path, root, rl) == 0 && path[rl] == '/' && path[rl + 1] != '\0';
}

static bool collect_one(const usb_mount *m, void *ctx)
{
    collect *c = ctx;
    if (c->root && !below(m->mount_point, c->root))
        return true;
    if (c->n < c->max)
        c->out[c->n++] = *m;
    else if (c->skipped)
        (*c->skipped)++;
    return true;
}

tp_err usb_mountinfo_parse(const char *text, size_t len, usb_mount *out, size_t max, size_t *n,
                           size_t *skipped)
{
    if (!text || !n || (!out && max > 0))
        return TP_ERR_INVALID;
    if (skipped)
        *skipped = 0;
    collect c = {.out = out, .max = max, .skipped = skipped};
    parse_all(text, len, collect_one, &c, skipped);
    *n = c.n;
    return TP_OK;
}

size_t usb_mountinfo_select(const usb_mount *mounts, size_t n, const char *root, size_t *idx,
                            size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        const char *mp = mounts[i].mount_point;
        if (!below(mp, root))
            continue;
        bool drop = false;
        /* Mounted over later: the later mount is what the path shows. */
        for (size_t j = i + 1; j < n && !drop; j++)
            drop = strcmp(mounts[j].mount_point, mp) == 0;
        /* Inside another mount below the root: part of that stick. */
        for (size_t j = 0; j < n && !drop; j++) {
            if (j != i && below(mounts[j].mount_point, root) && below(mp, mounts[j].mount_point))
                drop = true;
        }
        if (!drop)
            idx[k++] = i;
    }
    return k;
}

/* ---- Reading the mount table -------------------------------------------------------------- */

/* Reads the whole of fd (from offset 0) into a new NUL-terminated buffer (*out, free()), at most
 * USB_MOUNTINFO_MAX - 1 bytes. (tp_read_file opens a path; this reads the fd kept open for
 * polling, so it grows a tp_buf itself.) */
static tp_err read_all(int fd, char **out, size_t *len)
{
    tp_buf b;
    tp_err rc = TP_OK;
    *out = NULL;
    tp_buf_init(&b, USB_MOUNTINFO_MAX - 1);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return tp_err_from_errno(errno);
    for (;;) {
        size_t room = b.max - b.len;
        if (room == 0) {
            rc = TP_ERR_TOO_LARGE;
            goto out;
        }
        if (room > USB_READ_CHUNK)
            room = USB_READ_CHUNK;
        rc = tp_buf_reserve(&b, room);
        if (rc != TP_OK)
            goto out;
        ssize_t r = read(fd, b.p + b.len, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = tp_err_from_errno(errno);
            goto out;
        }
        if (r == 0)
            break;
        tp_buf_commit(&b, (size_t)r);
    }
    *len = b.len;
    *out = tp_buf_take(&b);
    if (!*out)
        rc = TP_ERR_NOMEM;
out:
    tp_buf_free(&b);
    return rc;
}

/* Reads the mount table at fd and fills sticks (USB_MAX_STICKS) with the current sticks. */
static tp_err scan(int fd, const char *root, usb_stick *sticks, size_t *n_sticks, char *err,
                   size_t errlen)
{
    char *text = NULL;
    size_t len = 0, skipped = 0;
    usb_mount *mounts = NULL;
    tp_err rc = read_all(fd, &text, &len);
    if (rc != TP_OK) {
        tp_errf(err, errlen, rc, "reading the mount table: %s", tp_strerror(rc));
        goto out;
    }
    mounts = calloc(SCAN_MAX, sizeof *mounts);
    if (!mounts) {
        rc = TP_ERR_NOMEM;
        goto out;
    }
    collect c = {.out = mounts, .max = SCAN_MAX, .skipped = &skipped, .root = root};
    parse_all(text, len, collect_one, &c, NULL);
    size_t idx[USB_MAX_STICKS];
    size_t k = usb_mountinfo_select(mounts, c.n, root, idx, USB_MAX_STICKS);
    for (size_t i = 0; i < k; i++) {
        const usb_mount *m = &mounts[idx[i]];
        usb_stick *s = &sticks[i];
        memset(s, 0, sizeof *s);
        s->mount_id = m->mount_id;
        tp_strlcpy(s->mount_point, m->mount_point, sizeof s->mount_point);
        const char *slash = strrchr(m->mount_point, '/');
        tp_strlcpy(s->name, slash ? slash + 1 : m->mount_point, sizeof s->name);
        tp_strlcpy(s->fstype, m->fstype, sizeof s->fstype);
        tp_strlcpy(s->source, m->source, sizeof s->source);
        s->readonly = m->readonly;
        s->free_bytes = s->total_bytes = -1;
    }
    *n_sticks = k;
    if (skipped > 0)
        tp_errf(err, errlen, TP_OK, "%zu mounts below %s ignored (more than %d)", skipped, root,
                SCAN_MAX);
out:
    free(mounts);
    free(text);
    return rc;
}

/* Fills the free-space and writability figures of s (statvfs, access). */
static void stick_refresh(usb_stick *s)
{
    struct statvfs v;
    if (statvfs(s->mount_point, &v) == 0) {
        s->free_bytes = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
        s->total_bytes = (int64_t)v.f_blocks * (int64_t)v.f_frsize;
        if (v.f_flag & ST_RDONLY)
            s->readonly = true;
    }
    if (!s->readonly && access(s->mount_point, W_OK) != 0)
        s->readonly = true;
}

/* ---- Watching -------------------------------------------------------------------------------- */

tp_err usb_open(const usb_options *opt, usb **out, char *err, size_t errlen)
{
    const char *root = opt && opt->mount_root ? opt->mount_root : DEFAULT_ROOT;
    const char *mi = opt && opt->mountinfo_path ? opt->mountinfo_path : DEFAULT_MOUNTINFO;
    tp_err rc = TP_OK;
    usb *u = NULL;
    struct stat st;
    if (!out)
        return tp_errf(err, errlen, TP_ERR_INVALID, "usb_open: no output pointer");
    *out = NULL;
    u = calloc(1, sizeof *u);
    if (!u)
        return tp_errf(err, errlen, TP_ERR_NOMEM, "usb_open: out of memory");
    u->epfd = u->ifd = u->mfd = u->efd = -1;
    errno = 0;
    if (!realpath(root, u->root) || stat(u->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "USB mount root %s: %s", root,
                     errno ? strerror(errno) : "not a folder");
        goto out;
    }
    if (tp_strlcpy(u->mountinfo, mi, sizeof u->mountinfo) != TP_OK) {
        rc = tp_errf(err, errlen, TP_ERR_INVALID, "mountinfo path too long: %s", mi);
        goto out;
    }
    u->epfd = epoll_create1(EPOLL_CLOEXEC);
    u->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    u->efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC); /* 1: report what is there at start */
    u->mfd = open(mi, O_RDONLY | O_CLOEXEC);
    if (u->epfd < 0 || u->ifd < 0 || u->efd < 0 || u->mfd < 0) {
        rc = tp_errf(err, errlen, TP_ERR_IO, "USB watch set-up (%s): %s",
                     u->mfd < 0 ? mi : "epoll/inotify/eventfd", strerror(errno));
        goto out;
    }
    if (inotify_add_watch(u->ifd, u->root,
                          IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |
                              IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT) < 0) {
        rc = tp_errf(err, errlen, TP_ERR_IO, "inotify on %s: %s", u->root, strerror(errno));
        goto out;
    }
    struct epoll_event e = {.events = EPOLLIN};
    e.data.fd = u->ifd;
    if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, u->ifd, &e) != 0)
        goto epoll_fail;
    e.data.fd = u->efd;
    if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, u->efd, &e) != 0)
        goto epoll_fail;
    /* The mount table signals changes as POLLPRI (proc(5)); EPOLLIN on the epoll fd follows. */
    e.events = EPOLLPRI;
    e.data.fd = u->mfd;
    if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, u->mfd, &e) != 0) {
        if (errno != EPERM)
            goto epoll_fail;
        /* A plain file (tests): cannot be polled; inotify events trigger the re-read. */
    }
    *out = u;
    return TP_OK;
epoll_fail:
    rc = tp_errf(err, errlen, TP_ERR_IO, "epoll for USB watch: %s", strerror(errno));
out:
    usb_close(u);
    return rc;
}

void usb_close(usb *u)
{
    if (!u)
        return;
    if (u->epfd >= 0)
        close(u->epfd);
    if (u->ifd >= 0)
        close(u->ifd);
    if (u->mfd >= 0)
        close(u->mfd);
    if (u->efd >= 0)
        close(u->efd);
    free(u);
}

int usb_fd(const usb *u)
{
    return u ? u->epfd : -1;
}

const char *usb_errmsg(const usb *u)
{
    return u ? u->errmsg : "";
}

static void drain(int fd)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static bool same_mount(const usb_stick *a, const usb_stick *b)
{
    return a->mount_id == b->mount_id && strcmp(a->mount_point, b->mount_point) == 0;
}

tp_err usb_poll(usb *u, usb_event *ev, size_t max, size_t *n)
{
    usb_stick *now = NULL;
    size_t n_now = 0, k = 0;
    tp_err rc = TP_OK;
    if (!u || !n || (!ev && max > 0))
        return TP_ERR_INVALID;
    *n = 0;
    drain(u->ifd);
    drain(u->efd);
    now = calloc(USB_MAX_STICKS, sizeof *now);
    if (!now)
        return TP_ERR_NOMEM;
    u->errmsg[0] = '\0';
    rc = scan(u->mfd, u->root, now, &n_now, u->errmsg, sizeof u->errmsg);
    if (rc != TP_OK)
        goto out;
    bool more = false;
    /* Removals first, so a stick re-plugged at the same folder reads as remove + add. */
    for (size_t i = 0; i < u->n_known;) {
        bool present = false;
        for (size_t j = 0; j < n_now && !present; j++)
            present = same_mount(&u->known[i], &now[j]);
        if (present) {
            i++;
            continue;
        }
        if (k == max) {
            more = true;
            break;
        }
        ev[k].kind = USB_EV_REMOVED;
        ev[k].stick = u->known[i];
        k++;
        memmove(&u->known[i], &u->known[i + 1], (u->n_known - i - 1) * sizeof u->known[0]);
        u->n_known--;
    }
    for (size_t j = 0; j < n_now && !more; j++) {
        bool known = false;
        for (size_t i = 0; i < u->n_known && !known; i++)
            known = same_mount(&u->known[i], &now[j]);
        if (known)
            continue;
        if (k == max || u->n_known == USB_MAX_STICKS) {
            more = k == max;
            break;
        }
        stick_refresh(&now[j]);
        u->known[u->n_known++] = now[j];
        ev[k].kind = USB_EV_ADDED;
        ev[k].stick = now[j];
        k++;
    }
    if (more) {
        /* Keep usb_fd() readable so the owner comes back for the rest. */
        uint64_t one = 1;
        if (write(u->efd, &one, sizeof one) != (ssize_t)sizeof one)
            rc = tp_errf(u->errmsg, sizeof u->errmsg, TP_ERR_IO, "eventfd: %s", strerror(errno));
    }
    *n = k;
out:
    free(now);
    return rc;
}

size_t usb_list(usb *u, usb_stick *out, size_t max)
{
    size_t k = 0;
    if (!u || !out)
        return 0;
    for (size_t i = 0; i < u->n_known && k < max; i++) {
        out[k] = u->known[i];
        stick_refresh(&out[k]);
        k++;
    }
    return k;
}

typedef struct find_ctx {
    int mount_id;
    const char *mount_point;
    bool found;
} find_ctx;

static bool find_one(const usb_mount *m, void *ctx)
{
    find_ctx *f = ctx;
    if (m->mount_id == f->mount_id && strcmp(m->mount_point, f->mount_point) == 0)
        f->found = true;
    return true;
}

bool usb_still_mounted(const char *mountinfo_path, int mount_id, const char *mount_point)
{
    char *text = NULL;
    size_t len = 0;
    find_ctx f = {.mount_id = mount_id, .mount_point = mount_point};
    if (!mount_point)
        return false;
    int fd = open(mountinfo_path ? mountinfo_path : DEFAULT_MOUNTINFO, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    if (read_all(fd, &text, &len) == TP_OK)
        parse_all(text, len, find_one, &f, NULL);
    free(text);
    close(fd);
    return f.found;
}

/* ---- Staff key ------------------------------------------------------------------------------- */

tp_err usb_check_staff_key(const char *mount_point, const char *pin_hash, char *err, size_t errlen)
{
    char name[USB_PATH_MAX], *buf = NULL;
    int dfd = -1, fd = -1;
    tp_err rc = TP_OK;
    size_t len = 0, got = 0;
    if (!mount_point || !pin_hash || !pin_hash[0])
        return tp_errf(err, errlen, TP_ERR_INVALID, "staff key: no mount point or no PIN hash");
    dfd = open(mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = tp_errf(err, errlen, tp_err_from_errno(errno), "staff key: opening %s: %s",
                     mount_point, strerror(errno));
        goto out;
    }
    /* O_NONBLOCK: a FIFO planted under the key's name must not hang the kiosk. */
    fd = openat(dfd, USB_STAFF_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "staff key: no %s on %s",
                         USB_STAFF_KEY_FILE, mount_point);
        else if (e == ELOOP)
            rc = tp_errf(err, errlen, TP_ERR_INVALID, "staff key: %s/%s is a symlink, refused",
                         mount_point, USB_STAFF_KEY_FILE);
        else
            rc = tp_errf(err, errlen, tp_err_from_errno(e), "staff key: opening %s/%s: %s",
                         mount_point, USB_STAFF_KEY_FILE, strerror(e));
        goto out;
    }
    /* The base layer's bounded reader: regular files only, refused unread above the limit. */
    snprintf(name, sizeof name, "staff key: %s/%s", mount_point, USB_STAFF_KEY_FILE);
    if ((rc = tp_read_fd(fd, name, USB_STAFF_KEY_MAX, &buf, &got, err, errlen)) != TP_OK)
        goto out;
    len = got;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                       buf[len - 1] == '\t'))
        len--;
    /* Constant time over the key's length: the comparison does not stop at the first mismatch. */
    size_t hl = strlen(pin_hash);
    volatile unsigned char diff = (unsigned char)(len != hl);
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(buf[i] ^ pin_hash[i < hl ? i : 0]);
    if (diff != 0)
        rc = tp_errf(err, errlen, TP_ERR_AUTH, "staff key: %s/%s does not match this device",
                     mount_point, USB_STAFF_KEY_FILE);
out:
    if (buf) {
        explicit_bzero(buf, got); /* the whole key as read, trimmed or not */
        free(buf);
    }
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    return rc;
}
