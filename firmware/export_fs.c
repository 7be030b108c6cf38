/*
 * export_fs.c - the real POSIX file system under the export core (export.h's export_fs_ops).
 *
 * Every call the export makes on the target folder goes through this table so that tests can
 * put ENOSPC, EIO, a removed medium or a planted symlink in its place. The one decision here is
 * how to rename without replacing on every file system a USB stick may carry: renameat2
 * RENAME_NOREPLACE, else a hard link (never replaces either), else (FAT: no hard links) an
 * existence check then renameat.
 */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat, renameat2 */
#include <unistd.h>

/* ---- POSIX file system operations ----------------------------------------------------------- */

static int px_open_dir(void *ctx, const char *path)
{
    (void)ctx;
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int px_openat(void *ctx, int dirfd, const char *name, int flags, mode_t mode)
{
    (void)ctx;
    return openat(dirfd, name, flags, mode);
}

static ssize_t px_write(void *ctx, int fd, const void *buf, size_t n)
{
    (void)ctx;
    return write(fd, buf, n);
}

static ssize_t px_read(void *ctx, int fd, void *buf, size_t n)
{
    (void)ctx;
    return read(fd, buf, n);
}

static int px_fsync(void *ctx, int fd)
{
    (void)ctx;
    return fsync(fd);
}

static int px_drop_cache(void *ctx, int fd)
{
    (void)ctx;
    /* So the read-back comes from the medium, not from the page cache we just filled. */
    return posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

static int px_close(void *ctx, int fd)
{
    (void)ctx;
    return close(fd);
}

static int px_fstatat(void *ctx, int dirfd, const char *name, struct stat *st)
{
    (void)ctx;
    return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);
}

static int px_fstatvfs(void *ctx, int fd, struct statvfs *st)
{
    (void)ctx;
    return fstatvfs(fd, st);
}

static int px_rename_noreplace(void *ctx, int dirfd, const char *from, const char *to)
{
    (void)ctx;
    if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EOPNOTSUPP)
        return -1;
    /* No RENAME_NOREPLACE here (FUSE, older kernels): a hard link never replaces either. */
    if (linkat(dirfd, from, dirfd, to, 0) == 0) {
        (void)unlinkat(dirfd, from, 0);
        return 0;
    }
    if (errno == EEXIST)
        return -1;
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != ENOSYS &&
        errno != EMLINK)
        return -1;
    /* FAT has no hard links: check, then rename. The window between the two is the best this
     * file system allows; the name was also checked free before writing. */
    struct stat st;
    if (fstatat(dirfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    if (errno != ENOENT)
        return -1;
    return renameat(dirfd, from, dirfd, to);
}

static int px_unlinkat(void *ctx, int dirfd, const char *name)
{
    (void)ctx;
    return unlinkat(dirfd, name, 0);
}

static int px_syncfs(void *ctx, int fd)
{
    (void)ctx;
    return syncfs(fd);
}

static const export_fs_ops posix_ops = {
    .open_dir = px_open_dir,
    .openat = px_openat,
    .write = px_write,
    .read = px_read,
    .fsync = px_fsync,
    .drop_cache = px_drop_cache,
    .close = px_close,
    .fstatat = px_fstatat,
    .fstatvfs = px_fstatvfs,
    .rename_noreplace = px_rename_noreplace,
    .unlinkat = px_unlinkat,
    .syncfs = px_syncfs,
    .ctx = NULL,
};

const export_fs_ops *export_fs_posix(void)
{
    return &posix_ops;
}
