/*
 * pidfile.c - pid files held by flock (pidfile.h): acquire, release, who holds one, and the
 * "Sync now" wake-up.
 *
 * The pid is written in place (pwrite, then ftruncate to its length) instead of through a temp
 * file and rename: the lock lives on the inode, and a rename would also replace whatever the path
 * named. A reader may see the old number followed by a newline for an instant, never a torn one.
 * Every path is looked at with lstat before it is opened, and opened with O_NOFOLLOW|O_NONBLOCK,
 * so a symlink, FIFO or device planted under the name is neither followed nor waited on.
 */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PIDFILE_TRIES 5         /* opens retried when the holder removed the file as we locked it */
#define PIDFILE_BUSY_TRIES 5    /* a reader's brief shared lock is waited out this many times ... */
#define PIDFILE_BUSY_WAIT_MS 20 /* ... this long each */

struct pidfile {
    int fd;
    pid_t pid;
    char path[];
};

/* Parses a pid file's text: a pid > 1 and whitespace, or only whitespace (*pid = 0). Returns
 * false for anything else. */
static bool parse_pid(const char *buf, size_t n, pid_t *pid)
{
    size_t i = 0;
    long long v = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    size_t d0 = i;
    while (i < n && buf[i] >= '0' && buf[i] <= '9' && v <= INT_MAX)
        v = v * 10 + (buf[i++] - '0');
    size_t digits = i - d0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    if (i != n || v > INT_MAX || (digits > 0 && v <= 1))
        return false;
    *pid = (pid_t)v;
    return true;
}

/* Reads the whole (small) file fd into *pid. Returns TP_OK, TP_ERR_EXISTS (not a pid file) or
 * TP_ERR_IO, with path in err. */
static tp_err read_pid(int fd, const char *path, pid_t *pid, char *err, size_t errlen)
{
    char buf[PIDFILE_MAX_BYTES + 1];
    ssize_t n;
    do
        n = pread(fd, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return tp_errf(err, errlen, TP_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    if ((size_t)n > PIDFILE_MAX_BYTES || !parse_pid(buf, (size_t)n, pid))
        return tp_errf(err, errlen, TP_ERR_EXISTS,
                       "%s: is not a pid file (it holds something else than a process id); "
                       "refusing to touch it",
                       path);
    return TP_OK;
}

/* Opens path for the pid file calls: never follows a symlink, never opens anything but a regular
 * file. create: make it (O_EXCL) when missing, *created tells. Returns TP_OK and *fd. */
static tp_err open_regular(const char *path, bool create, bool *created, int *fd, char *err,
                           size_t errlen)
{
    struct stat st, fst;
    *fd = -1;
    if (created)
        *created = false;
    if (lstat(path, &st) != 0) {
        int e = errno;
        if (e != ENOENT || !create)
            return tp_errf(err, errlen, e == ENOENT ? TP_ERR_NOT_FOUND : TP_ERR_IO, "%s: %s", path,
                           strerror(e));
        *fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (*fd >= 0) {
            *created = true;
            return TP_OK;
        }
        e = errno;
        if (e == EEXIST)
            return TP_ERR_BUSY; /* made meanwhile: the caller tries again */
        return tp_errf(err, errlen, tp_err_from_errno(e), "%s: cannot create: %s", path,
                       strerror(e));
    }
    if (!S_ISREG(st.st_mode))
        return tp_errf(err, errlen, TP_ERR_EXISTS,
                       "%s: is not a regular file (a %s); refusing to touch it", path,
                       S_ISLNK(st.st_mode)   ? "symbolic link"
                       : S_ISDIR(st.st_mode) ? "folder"
                                             : "special file");
    *fd = open(path, (create ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (*fd < 0) {
        int e = errno;
        return tp_errf(err, errlen, tp_err_from_errno(e), "%s: cannot open: %s", path, strerror(e));
    }
    if (fstat(*fd, &fst) != 0 || !S_ISREG(fst.st_mode) || fst.st_ino != st.st_ino ||
        fst.st_dev != st.st_dev) {
        close(*fd);
        *fd = -1;
        return TP_ERR_BUSY; /* replaced between lstat and open: the caller tries again */
    }
    return TP_OK;
}

/* True when path still names the file open as fd. */
static bool same_file(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Writes "<pid>\n" over fd's content. */
static bool write_pid(int fd, pid_t pid)
{
    char line[24];
    int len = snprintf(line, sizeof line, "%ld\n", (long)pid);
    return pwrite(fd, line, (size_t)len, 0) == len && ftruncate(fd, len) == 0 && fsync(fd) == 0;
}

tp_err pidfile_acquire(const char *path, pidfile **out, char *err, size_t errlen)
{
    tp_err rc = TP_ERR_BUSY;
    int fd = -1;
    bool created = false, locked_new = false; /* locked_new: we made it and we hold it */
    pid_t holder = 0;

    *out = NULL;
    if (!path || !path[0])
        return tp_errf(err, errlen, TP_ERR_INVALID, "pid file: no path given");
    for (int t = 0; t < PIDFILE_TRIES && rc == TP_ERR_BUSY; t++) {
        rc = open_regular(path, true, &created, &fd, err, errlen);
        if (rc != TP_OK)
            continue;
        if (!created) {
            rc = read_pid(fd, path, &holder, err, errlen);
            if (rc != TP_OK)
                goto out;
        }
        int locked = -1;
        for (int b = 0; b < PIDFILE_BUSY_TRIES && locked != 0; b++) {
            locked = flock(fd, LOCK_EX | LOCK_NB);
            if (locked != 0 && errno != EWOULDBLOCK && errno != EINTR) {
                rc = tp_errf(err, errlen, TP_ERR_IO, "%s: cannot lock: %s", path, strerror(errno));
                goto out;
            }
            if (locked != 0)
                sleep_ms(PIDFILE_BUSY_WAIT_MS); /* maybe a reader's shared lock */
        }
        if (locked != 0) {
            (void)read_pid(fd, path, &holder, NULL, 0);
            if (holder > 0)
                rc = tp_errf(err, errlen, TP_ERR_BUSY,
                             "%s: held by process %ld (another sync daemon is running)", path,
                             (long)holder);
            else
                rc = tp_errf(err, errlen, TP_ERR_BUSY,
                             "%s: locked by another process (a sync daemon starting?)", path);
            goto out;
        }
        locked_new = created;
        if (!same_file(fd, path)) {
            /* The holder removed it as it exited, after we opened it: take the path anew. */
            close(fd);
            fd = -1;
            locked_new = false;
            rc = TP_ERR_BUSY;
            continue;
        }
        /* Locked: re-read, a stale file must still hold only a pid before it is rewritten. */
        if (!created) {
            rc = read_pid(fd, path, &holder, err, errlen);
            if (rc != TP_OK)
                goto out;
        }
    }
    if (rc == TP_ERR_BUSY)
        rc = tp_errf(err, errlen, TP_ERR_BUSY, "%s: keeps changing while being taken", path);
    if (rc != TP_OK)
        goto out;

    size_t pl = strlen(path) + 1;
    pidfile *pf = malloc(sizeof *pf + pl);
    if (!pf) {
        rc = tp_errf(err, errlen, TP_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    pf->fd = fd;
    pf->pid = getpid();
    memcpy(pf->path, path, pl);
    if (!write_pid(fd, pf->pid)) {
        int e = errno;
        rc = tp_errf(err, errlen, tp_err_from_errno(e), "%s: cannot write the pid: %s", path,
                     strerror(e));
        free(pf);
        goto out;
    }
    *out = pf;
    return TP_OK;

out:
    if (fd >= 0) {
        if (locked_new && rc != TP_OK && same_file(fd, path))
            (void)unlink(path); /* only a file this call created and still holds */
        close(fd);
    }
    return rc;
}

void pidfile_release(pidfile *pf)
{
    if (!pf)
        return;
    pid_t now = 0;
    /* Still ours? The lock is held until close, so nobody else can have taken it legitimately. */
    if (same_file(pf->fd, pf->path) && read_pid(pf->fd, pf->path, &now, NULL, 0) == TP_OK &&
        now == pf->pid)
        (void)unlink(pf->path);
    close(pf->fd);
    free(pf);
}

const char *pidfile_path(const pidfile *pf)
{
    return pf ? pf->path : "";
}

tp_err pidfile_holder(const char *path, pid_t *pid, char *err, size_t errlen)
{
    int fd = -1;
    tp_err rc = TP_ERR_BUSY;
    *pid = 0;
    if (!path || !path[0])
        return tp_errf(err, errlen, TP_ERR_NOT_FOUND, "no pid file configured");
    for (int t = 0; t < PIDFILE_TRIES && rc == TP_ERR_BUSY; t++)
        rc = open_regular(path, false, NULL, &fd, err, errlen);
    if (rc == TP_ERR_BUSY)
        rc = tp_errf(err, errlen, TP_ERR_BUSY, "%s: keeps changing", path);
    if (rc != TP_OK)
        return rc;
    pid_t p = 0;
    rc = read_pid(fd, path, &p, err, errlen);
    if (rc == TP_OK && p == 0)
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND, "%s: empty: sync is not running", path);
    if (rc == TP_OK && flock(fd, LOCK_SH | LOCK_NB) == 0) {
        /* Nobody holds it: its daemon is gone, and p may be some other process by now. */
        (void)flock(fd, LOCK_UN);
        rc = tp_errf(err, errlen, TP_ERR_NOT_FOUND,
                     "%s: stale (process %ld no longer holds it): sync is not running", path,
                     (long)p);
    } else if (rc == TP_OK && errno != EWOULDBLOCK) {
        rc = tp_errf(err, errlen, TP_ERR_IO, "%s: cannot test the lock: %s", path, strerror(errno));
    }
    close(fd);
    if (rc == TP_OK)
        *pid = p;
    return rc;
}

tp_err sync_wake(const char *pid_file, char *err, size_t errlen)
{
    pid_t pid = 0;
    tp_err rc = pidfile_holder(pid_file, &pid, err, errlen);
    if (rc != TP_OK)
        return rc;
    if (kill(pid, SIGUSR1) != 0) {
        int e = errno;
        return tp_errf(err, errlen,
                       e == ESRCH   ? TP_ERR_NOT_FOUND
                       : e == EPERM ? TP_ERR_AUTH
                                    : TP_ERR_IO,
                       "%s: signalling process %ld: %s", pid_file, (long)pid, strerror(e));
    }
    return TP_OK;
}
