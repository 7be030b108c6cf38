/*
 * faultvfs.h - a test-only SQLite VFS that wraps the default one and fails chosen I/O calls, the
 * way SQLite tests itself (its test_vfs.c / "crash" VFS): no root, no tmpfs, no bind mount.
 *
 * Every read, write and sync that SQLite makes through a file opened by this VFS is counted.
 * Armed with N, the Nth such call fails with a chosen errno (ENOSPC, EIO, EROFS: SQLite maps it
 * as the unix VFS does, and sqlite3_system_errno() reports it), either once (the process lives
 * on) or as a power cut: that call and every later read, write, sync and truncate fail without
 * touching the file, and faultvfs_power_cut() then undoes every write not yet synced, as a lost
 * page cache would.
 *
 * Not thread-safe: one test thread drives it. Register once per process.
 */
#ifndef TP_FAULTVFS_H
#define TP_FAULTVFS_H

#include <stdbool.h>

#define FAULTVFS_NAME "tpfault"

/* Registers the VFS under FAULTVFS_NAME (not as the default). Returns SQLITE_OK or an SQLite
 * error code. A second call is a no-op. */
int faultvfs_register(void);

/* Starts counting from zero; with n > 0 the nth read/write/sync fails with err: once when
 * power_cut is false, or from then on (a power cut) when true. n = 0: count only. */
void faultvfs_arm(long n, int err, bool power_cut);

/* Reads, writes and syncs counted since the last faultvfs_arm. */
long faultvfs_calls(void);

/* True once the armed call has failed. */
bool faultvfs_fired(void);

/* Undoes, newest first, every write and truncate not followed by a sync of its file (call after
 * the connections are closed), then stops failing. Returns the number of writes undone. */
long faultvfs_power_cut(void);

/* Stops failing and forgets the unsynced writes (they are now "on disk"). */
void faultvfs_disarm(void);

#endif /* TP_FAULTVFS_H */
