/*
 * usb.h - USB stick detection for the kiosk: which filesystems are mounted under the configured
 * mount root (`[usb] mount_root`, default /media), as events the kiosk's main loop polls.
 *
 * No busy polling: usb_fd() is one epoll descriptor that becomes readable when the mount table of
 * this process changes (/proc/self/mountinfo signals POLLPRI), when an entry is created, removed
 * or renamed in the mount root (inotify: the board's mount helper makes and removes its
 * /media/touchpoint-usb-* folder), and once right after usb_open() so sticks already present are
 * reported. The owner polls usb_fd() for POLLIN and then calls usb_poll(), which re-reads
 * mountinfo and returns what changed ("calls go down only": this module never calls the kiosk).
 *
 * A stick is a mount whose mount point lies below the mount root (not the root itself); a mount
 * nested inside a stick's mount is part of that stick, not a second stick; when a mount point is
 * mounted over, the newest (last listed) mount counts. Read-only mounts are reported with
 * readonly = true (the staff screen says so instead of offering an export that must fail).
 *
 * Untrusted medium: nothing on a stick is ever read, run or imported, except the optional staff key
 * file (usb_check_staff_key(): O_NOFOLLOW, regular file only, size-bounded, constant-time compare).
 *
 * Thread-safety: a usb handle is used by one thread at a time. The parse and key functions are
 * reentrant.
 */
#ifndef TP_USB_H
#define TP_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tp.h"

typedef struct usb usb;

#define USB_PATH_MAX 1024 /* mount points and sources longer than this are ignored */
#define USB_FSTYPE_MAX 64
#define USB_MAX_STICKS 16 /* sticks tracked at once; more are ignored (logged in errmsg) */
#define USB_MOUNTINFO_MAX (4 * 1024 * 1024) /* bytes of mountinfo read at most */
#define USB_STAFF_KEY_FILE "touchpoint-staff.key"
#define USB_STAFF_KEY_MAX 512 /* a larger key file is refused unread */

/* ---- Parsing /proc/self/mountinfo (pure; exposed for tests and fuzzing) --------------------- */

/* One line of mountinfo (proc(5)): "36 35 98:0 /root /mnt/point rw,noatime shared:1 - vfat
 * /dev/sda1 rw,uid=1000". Octal escapes (\040 space, \011 tab, \012 newline, \134 backslash) are
 * decoded. */
typedef struct usb_mount {
    int mount_id;
    int parent_id;
    char mount_point[USB_PATH_MAX];
    char fs_root[USB_PATH_MAX];  /* root of the mount within its filesystem ("/" unless bind) */
    char fstype[USB_FSTYPE_MAX]; /* "vfat", "exfat", "fuse.fusefat", ... */
    char source[USB_PATH_MAX];   /* "/dev/sda1", or what the mounter named it */
    bool readonly;               /* "ro" in the per-mount or the superblock options */
} usb_mount;

/* Parses mountinfo text (len bytes, need not be NUL-terminated) into out (caller's array of max
 * entries) in file order. Malformed lines and lines whose fields do not fit are skipped and
 * counted in *skipped (may be NULL). *n gets the number of entries written; lines beyond max are
 * counted in *skipped too. Returns TP_OK, or TP_ERR_INVALID for NULL arguments. */
tp_err usb_mountinfo_parse(const char *text, size_t len, usb_mount *out, size_t max, size_t *n,
                           size_t *skipped);

/* Picks the sticks below root (an absolute path without a trailing slash, as usb_open() keeps it)
 * from mounts[0..n): mount point strictly below root, not nested inside another chosen mount,
 * last mount of a mount point wins. Writes the indexes of the chosen entries, in mount-point
 * order of appearance, to idx (max entries) and returns how many were chosen. */
size_t usb_mountinfo_select(const usb_mount *mounts, size_t n, const char *root, size_t *idx,
                            size_t max);

/* ---- Watching the mount root ------------------------------------------------------------------
 */

typedef struct usb_options {
    const char *mount_root;     /* NULL: "/media". Must exist; symlinks are resolved once here. */
    const char *mountinfo_path; /* NULL: "/proc/self/mountinfo". Tests pass a plain file: it is
                                   then re-read on inotify events only (a file cannot be polled). */
} usb_options;

/* A mounted stick as the staff screen shows it. Plain data. */
typedef struct usb_stick {
    int mount_id; /* the kernel's mount id: identifies this mounting */
    char mount_point[USB_PATH_MAX];
    char name[256]; /* last component of the mount point, for the screen */
    char fstype[USB_FSTYPE_MAX];
    char source[USB_PATH_MAX];
    bool readonly;       /* mounted read-only, or the folder is not writable by us */
    int64_t free_bytes;  /* available to us (statvfs f_bavail); -1 when unknown */
    int64_t total_bytes; /* -1 when unknown */
} usb_stick;

typedef enum usb_event_kind {
    USB_EV_ADDED = 1,   /* a stick was mounted (or was already there at usb_open) */
    USB_EV_REMOVED = 2, /* the mount is gone (stick pulled or unmounted) */
} usb_event_kind;

typedef struct usb_event {
    usb_event_kind kind;
    usb_stick stick; /* for REMOVED: the stick as it was last seen */
} usb_event;

/* Starts watching. Returns TP_OK and *out (free with usb_close), or TP_ERR_NOT_FOUND (the mount
 * root does not exist or is not a folder), TP_ERR_IO (inotify/epoll/mountinfo failed), with a
 * message naming the path and the cause in err (size errlen, may be NULL). opt may be NULL. */
tp_err usb_open(const usb_options *opt, usb **out, char *err, size_t errlen);

/* Stops watching and frees u. NULL is a no-op. */
void usb_close(usb *u);

/* Returns the descriptor to poll for POLLIN (owned by u; do not close). Readable when usb_poll()
 * has something to look at; usb_poll() drains it. */
int usb_fd(const usb *u);

/* Drains usb_fd() without blocking, re-reads the mount table and writes what changed since the
 * last call into ev (caller's array of max entries; changes beyond max are reported by the next
 * call), removals first. *n gets the count (0: nothing changed). Returns TP_OK or TP_ERR_IO
 * (mountinfo unreadable; the known sticks are kept). */
tp_err usb_poll(usb *u, usb_event *ev, size_t max, size_t *n);

/* Copies the sticks currently known (as of the last usb_poll) into out (max entries) with fresh
 * free-space figures; returns how many. */
size_t usb_list(usb *u, usb_stick *out, size_t max);

/* Returns true when the mount with this id is still mounted at mount_point, re-reading the mount
 * table now (used by the export to tell "stick pulled" from other I/O errors, and to refuse to say
 * "safe to remove" when the stick was detached meanwhile). Works without a usb handle: pass the
 * mountinfo path (NULL: /proc/self/mountinfo). */
bool usb_still_mounted(const char *mountinfo_path, int mount_id, const char *mount_point);

/* Returns the last error message of u ("" if none); borrowed until the next call on u. */
const char *usb_errmsg(const usb *u);

/* ---- Staff key ------------------------------------------------------------------------------- */

/* Checks the optional staff key file USB_STAFF_KEY_FILE at the top of the stick mounted at
 * mount_point against the device's PIN hash (the [staff] pin_hash string of the config): the file
 * must hold exactly that string (one trailing newline, CR LF or spaces allowed). The file is opened
 * with O_NOFOLLOW | O_NONBLOCK relative to the mount point, must be a regular file of at most
 * USB_STAFF_KEY_MAX bytes, and is compared in constant time.
 * Returns TP_OK (key matches), TP_ERR_NOT_FOUND (no key file), TP_ERR_AUTH (wrong key),
 * TP_ERR_INVALID (symlink, not a regular file, empty pin_hash), TP_ERR_TOO_LARGE, TP_ERR_IO; err
 * (may be NULL) gets a message for the log (never the key or the hash). */
tp_err usb_check_staff_key(const char *mount_point, const char *pin_hash, char *err, size_t errlen);

#endif /* TP_USB_H */
