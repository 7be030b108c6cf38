/*
 * pidfile.h - the sync daemon's pid file and its lock beside the database: one daemon per pid
 * file and per database, a pid file that is never anything but ours, and the "Sync now" wake-up.
 *
 * A pid file is held with flock(LOCK_EX) on the file itself for the holder's whole life. The lock
 * is the truth, the number inside only names the holder: a file nobody has locked is stale (its
 * daemon died), whatever pid it holds, so a reused pid is never signalled. Why flock on the file
 * itself and not a lock elsewhere: the kiosk only knows the pid file's path ([sync] pid_file),
 * and the same test tells it whether the daemon is alive. Why not the old "write a temp file and
 * rename it over": a rename replaces whatever was at the path (a mistyped path to the config
 * file) and gives the lock's inode a new name.
 *
 * The same call guards the database: `touchpoint sync --daemon` also holds "<db>.sync.lock", so
 * a second daemon on the same database refuses to start even with another or no --pid-file.
 *
 * What is never touched: a path that is not a regular file (symlink, FIFO, folder, device), or a
 * regular file holding anything but a pid (a config file given by mistake); such a file is left
 * byte-identical, with its mtime. An empty file is taken (a daemon killed between creating and
 * writing it leaves one; nothing is lost by it). On release the file is removed only when it is
 * still the one we locked and still holds our pid.
 *
 * Thread-safety: a pidfile handle is used by one thread; pidfile_holder and sync_wake are
 * reentrant.
 */
#ifndef TP_PIDFILE_H
#define TP_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "tp.h"

typedef struct pidfile pidfile;

/* Longest pid file content accepted: a pid, optional whitespace. */
#define PIDFILE_MAX_BYTES 32

/* Takes path: creates it (mode 0644) or opens an existing regular file that is empty or holds
 * only a pid, locks it without waiting, and writes our pid into it. Returns TP_OK and *out (free
 * with pidfile_release), or, with path and cause in err (size errlen, may be NULL):
 * TP_ERR_BUSY (another live process holds it: err names its pid), TP_ERR_EXISTS (the path is not
 * a regular file or holds something else than a pid: left untouched), TP_ERR_NOT_FOUND (no such
 * folder), TP_ERR_READONLY, TP_ERR_IO. */
tp_err pidfile_acquire(const char *path, pidfile **out, char *err, size_t errlen);

/* Unlocks and frees pf; removes the file first when the path still names the file we locked and
 * it still holds our pid (nobody replaced or rewrote it). NULL is a no-op. */
void pidfile_release(pidfile *pf);

/* The path pf holds (borrowed from pf). */
const char *pidfile_path(const pidfile *pf);

/* Reads path (a pid file of pidfile_acquire) and tells whether a live process holds it. Returns
 * TP_OK with its pid in *pid, TP_ERR_NOT_FOUND when nobody holds it (no file, empty, or a stale
 * file whose process is gone: nothing is running), TP_ERR_EXISTS when the path is not a regular
 * file or holds something else than a pid, TP_ERR_IO; err names the file. Changes nothing. */
tp_err pidfile_holder(const char *path, pid_t *pid, char *err, size_t errlen);

/* "Sync now": wakes the sync daemon holding pid_file with SIGUSR1 (it starts a round at once).
 * Returns TP_OK (sent), TP_ERR_NOT_FOUND (sync is not running), or pidfile_holder's and kill's
 * errors (TP_ERR_EXISTS, TP_ERR_IO, TP_ERR_AUTH when we may not signal it), with err naming the
 * file. */
tp_err sync_wake(const char *pid_file, char *err, size_t errlen);

#endif /* TP_PIDFILE_H */
