/*
 * faultvfs.c - the fault-injecting SQLite VFS of faultvfs.h: a shim over the default VFS whose
 * file methods count reads, writes and syncs, fail the armed one, and keep an undo log of writes
 * not yet synced so a power cut can be replayed.
 *
 * The undo log is kept per path, not per open file: a write whose file was closed without a
 * sync is lost by a power cut all the same. Undo uses plain POSIX calls on the path after the
 * connections are closed. Memory-mapped reads are refused (xFetch gives no mapping) so that
 * every page read goes through xRead and is counted.
 */
#include "faultvfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct undo {
    struct undo *prev; /* older entry */
    char *path;
    sqlite3_int64 off;      /* where the write went (truncate: the new size) */
    sqlite3_int64 old_size; /* the file's size before it */
    int len;                /* bytes of old content saved in data */
    unsigned char data[];   /* the content the write overwrote (within the old size) */
};

static struct {
    sqlite3_vfs vfs;
    sqlite3_vfs *real;
    bool registered;
    long calls, fail_at;
    int err, last_err;
    bool power_cut, fired, dead;
    struct undo *log; /* newest first */
} g;

struct ffile {
    sqlite3_file base;
    sqlite3_file *real; /* allocated after this struct */
    char *path;         /* NULL for temp files (not tracked) */
};

/* Counts one call; returns the errno it must fail with, or 0 to go on. */
static int tick(void)
{
    if (g.dead)
        return EIO;
    g.calls++;
    if (g.fail_at > 0 && g.calls == g.fail_at) {
        g.fired = true;
        g.last_err = g.err;
        if (g.power_cut)
            g.dead = true;
        return g.err;
    }
    return 0;
}

static void undo_forget(const char *path)
{
    struct undo **pp = &g.log;
    while (*pp) {
        struct undo *u = *pp;
        if (!path || strcmp(u->path, path) == 0) {
            *pp = u->prev;
            free(u->path);
            free(u);
        } else {
            pp = &u->prev;
        }
    }
}

/* Saves what [off, off+len) holds now (within the current size) before it is overwritten. */
static void undo_save(struct ffile *f, sqlite3_int64 off, sqlite3_int64 len)
{
    sqlite3_int64 size = 0;
    if (!f->path || f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK)
        return;
    sqlite3_int64 keep = off >= size ? 0 : (off + len > size ? size - off : len);
    struct undo *u = calloc(1, sizeof *u + (size_t)keep);
    if (!u)
        return;
    u->path = strdup(f->path);
    u->off = off;
    u->old_size = size;
    u->len = (int)keep;
    if (!u->path ||
        (keep > 0 && f->real->pMethods->xRead(f->real, u->data, (int)keep, off) != SQLITE_OK)) {
        free(u->path);
        free(u);
        return;
    }
    u->prev = g.log;
    g.log = u;
}

static int f_close(sqlite3_file *pf)
{
    struct ffile *f = (struct ffile *)pf;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    sqlite3_free(f->path);
    f->path = NULL;
    return rc;
}

static int f_read(sqlite3_file *pf, void *buf, int n, sqlite3_int64 off)
{
    struct ffile *f = (struct ffile *)pf;
    if (tick())
        return SQLITE_IOERR_READ;
    return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int f_write(sqlite3_file *pf, const void *buf, int n, sqlite3_int64 off)
{
    struct ffile *f = (struct ffile *)pf;
    int e = tick();
    if (e)
        return e == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    undo_save(f, off, n);
    return f->real->pMethods->xWrite(f->real, buf, n, off);
}

static int f_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    struct ffile *f = (struct ffile *)pf;
    if (g.dead)
        return SQLITE_IOERR_TRUNCATE;
    sqlite3_int64 cur = 0;
    if (f->real->pMethods->xFileSize(f->real, &cur) == SQLITE_OK && cur > size)
        undo_save(f, size, cur - size);
    return f->real->pMethods->xTruncate(f->real, size);
}

static int f_sync(sqlite3_file *pf, int flags)
{
    struct ffile *f = (struct ffile *)pf;
    if (tick())
        return SQLITE_IOERR_FSYNC;
    int rc = f->real->pMethods->xSync(f->real, flags);
    if (rc == SQLITE_OK && f->path)
        undo_forget(f->path);
    return rc;
}

static int f_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int f_lock(sqlite3_file *pf, int lock)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xLock(f->real, lock);
}

static int f_unlock(sqlite3_file *pf, int lock)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int f_check_lock(sqlite3_file *pf, int *out)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int f_control(sqlite3_file *pf, int op, void *arg)
{
    struct ffile *f = (struct ffile *)pf;
    if (op == SQLITE_FCNTL_MMAP_SIZE && arg) {
        *(sqlite3_int64 *)arg = 0; /* every read through xRead, so every read is counted */
        return SQLITE_OK;
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int f_sector(sqlite3_file *pf)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xSectorSize(f->real);
}

static int f_devchar(sqlite3_file *pf)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int f_shm_map(sqlite3_file *pf, int pg, int pgsz, int extend, void volatile **pp)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, pp);
}

static int f_shm_lock(sqlite3_file *pf, int off, int n, int flags)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xShmLock(f->real, off, n, flags);
}

static void f_shm_barrier(sqlite3_file *pf)
{
    struct ffile *f = (struct ffile *)pf;
    f->real->pMethods->xShmBarrier(f->real);
}

static int f_shm_unmap(sqlite3_file *pf, int del)
{
    struct ffile *f = (struct ffile *)pf;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

static int f_fetch(sqlite3_file *pf, sqlite3_int64 off, int amt, void **pp)
{
    (void)pf;
    (void)off;
    (void)amt;
    *pp = NULL;
    return SQLITE_OK;
}

static int f_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
    (void)pf;
    (void)off;
    (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods f_methods = {
    3,          f_close,       f_read,       f_write,   f_truncate, f_sync,    f_size,
    f_lock,     f_unlock,      f_check_lock, f_control, f_sector,   f_devchar, f_shm_map,
    f_shm_lock, f_shm_barrier, f_shm_unmap,  f_fetch,   f_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags, int *out)
{
    (void)vfs;
    struct ffile *f = (struct ffile *)pf;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = g.real->xOpen(g.real, name, f->real, flags, out);
    if (rc != SQLITE_OK) {
        pf->pMethods = NULL;
        return rc;
    }
    if (name)
        f->path = sqlite3_mprintf("%s", name);
    pf->pMethods = &f_methods;
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return g.real->xDelete(g.real, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return g.real->xAccess(g.real, name, flags, out);
}

static int v_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return g.real->xFullPathname(g.real, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return g.real->xDlOpen(g.real, name);
}

static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    g.real->xDlError(g.real, n, out);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return g.real->xDlSym(g.real, h, sym);
}

static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    g.real->xDlClose(g.real, h);
}

static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return g.real->xRandomness(g.real, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return g.real->xSleep(g.real, us);
}

static int v_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return g.real->xCurrentTime(g.real, out);
}

/* The errno behind the last failure: the injected one when it was ours. */
static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    (void)n;
    (void)out;
    return g.last_err ? g.last_err : errno;
}

static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return g.real->xCurrentTimeInt64(g.real, out);
}

int faultvfs_register(void)
{
    if (g.registered)
        return SQLITE_OK;
    g.real = sqlite3_vfs_find(NULL);
    if (!g.real)
        return SQLITE_ERROR;
    g.vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct ffile) + g.real->szOsFile,
        .mxPathname = g.real->mxPathname,
        .zName = FAULTVFS_NAME,
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_fullpath,
        .xDlOpen = v_dlopen,
        .xDlError = v_dlerror,
        .xDlSym = v_dlsym,
        .xDlClose = v_dlclose,
        .xRandomness = v_random,
        .xSleep = v_sleep,
        .xCurrentTime = v_time,
        .xGetLastError = v_last_error,
        .xCurrentTimeInt64 = v_time64,
    };
    int rc = sqlite3_vfs_register(&g.vfs, 0);
    g.registered = rc == SQLITE_OK;
    return rc;
}

void faultvfs_arm(long n, int err, bool power_cut)
{
    g.calls = 0;
    g.fail_at = n;
    g.err = err;
    g.power_cut = power_cut;
    g.fired = g.dead = false;
    g.last_err = 0;
}

long faultvfs_calls(void)
{
    return g.calls;
}

bool faultvfs_fired(void)
{
    return g.fired;
}

long faultvfs_power_cut(void)
{
    long n = 0;
    for (struct undo *u = g.log; u; u = u->prev, n++) {
        int fd = open(u->path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (u->len > 0 && pwrite(fd, u->data, (size_t)u->len, u->off) != u->len)
            abort(); /* the replay itself failing would make every later check meaningless */
        if (ftruncate(fd, u->old_size) != 0)
            abort();
        close(fd);
    }
    undo_forget(NULL);
    faultvfs_disarm();
    return n;
}

void faultvfs_disarm(void)
{
    undo_forget(NULL);
    g.fail_at = 0;
    g.dead = false;
    g.last_err = 0;
}
