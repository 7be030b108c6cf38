/* test_usb.c - unit tests of USB stick detection (usb.c) and the USB export job (usb_export.c):
 * detection on a temporary mount root through inotify and through the real mount table with
 * fusefat on a FAT image, the staff key file, and the export job's outcomes under injected file
 * system faults. Parsing the mount table: test_usb_mountinfo.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export.h"
#include "store.h"
#include "usb.h"
#include "usb_export.h"

/* ---- helpers --------------------------------------------------------------------------------- */

/* Runs argv (NULL-terminated) with output to /dev/null; returns its exit status or -1. */
static int run(const char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0) {
            dup2(dn, 1);
            dup2(dn, 2);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void rm_rf(const char *path)
{
    const char *argv[] = {"rm", "-rf", path, NULL};
    (void)run(argv);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Waits up to ms for usb_fd to be readable. */
static bool readable(usb *u, int ms)
{
    struct pollfd p = {.fd = usb_fd(u), .events = POLLIN};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static bool fuse_usable(void)
{
    return access("/dev/fuse", R_OK | W_OK) == 0 && access("/usr/bin/fusefat", X_OK) == 0 &&
           access("/usr/sbin/mkfs.vfat", X_OK) == 0;
}

/* ---- detection ---------------------------------------------------------------------------------
 */

static void detect_with_inotify_on_temp_root(void **state)
{
    (void)state;
    char dir[] = "/tmp/tp-usb-unit-XXXXXX";
    char root[256], mi[256], stick[300], line[700];
    usb *u = NULL;
    usb_event ev[4];
    size_t n = 99;
    char err[TP_ERRMSG_MAX];
    assert_non_null(mkdtemp(dir));
    snprintf(root, sizeof root, "%s/media", dir);
    snprintf(mi, sizeof mi, "%s/mountinfo", dir);
    assert_int_equal(mkdir(root, 0700), 0);
    write_file(mi, "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n");

    usb_options o = {.mount_root = root, .mountinfo_path = mi};
    assert_int_equal(usb_open(&o, &u, err, sizeof err), TP_OK);
    assert_true(readable(u, 0)); /* readable at start: report what is there */
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 0);
    assert_false(readable(u, 0)); /* drained */

    /* The mount helper makes its folder, then mounts: the folder's inotify event wakes us. */
    snprintf(stick, sizeof stick, "%s/touchpoint-usb-sdb1", root);
    snprintf(line, sizeof line,
             "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n"
             "61 22 8:17 / %s rw,nosuid,nodev,noexec - vfat /dev/sdb1 rw\n",
             stick);
    write_file(mi, line);
    assert_int_equal(mkdir(stick, 0700), 0);
    assert_true(readable(u, 2000));
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].kind, USB_EV_ADDED);
    assert_int_equal(ev[0].stick.mount_id, 61);
    assert_string_equal(ev[0].stick.mount_point, stick);
    assert_string_equal(ev[0].stick.name, "touchpoint-usb-sdb1");
    assert_false(ev[0].stick.readonly);
    assert_true(ev[0].stick.free_bytes > 0);
    usb_stick list[2];
    assert_int_equal(usb_list(u, list, 2), 1);

    /* Nothing changed: an event with the same table reports nothing. */
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 0);

    /* Removal: unmounted, folder removed. */
    write_file(mi, "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n");
    assert_int_equal(rmdir(stick), 0);
    assert_true(readable(u, 2000));
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].kind, USB_EV_REMOVED);
    assert_int_equal(ev[0].stick.mount_id, 61);
    assert_int_equal(usb_list(u, list, 2), 0);
    usb_close(u);
    usb_close(NULL);

    /* A missing root is a clear error naming it. */
    snprintf(root, sizeof root, "%s/nope", dir);
    assert_int_equal(usb_open(&o, &u, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "nope"));
    rm_rf(dir);
    print_message("checked: inotify on a temp mount root wakes the fd for a new and a removed "
                  "stick folder, usb_poll reports ADDED then REMOVED once, missing root named\n");
}

/* Mounts image at mnt with fusefat; ro selects a read-only mount. */
static int fuse_mount(const char *image, const char *mnt, bool ro)
{
    const char *argv[] = {"fusefat", "-o", ro ? "ro" : "rw+", image, mnt, NULL};
    return run(argv);
}

static void fuse_umount(const char *mnt)
{
    const char *a3[] = {"fusermount3", "-u", mnt, NULL};
    const char *a2[] = {"fusermount", "-u", mnt, NULL};
    if (run(a2) != 0)
        (void)run(a3);
}

/* The fusefat test's folder and mount point, so the teardown unmounts even after a failed
 * assertion (a mount left behind would outlive the test). */
static char g_fuse_dir[64] = "";
static char g_fuse_mnt[300] = "";
static usb *g_fuse_usb = NULL;

static int fuse_teardown(void **state)
{
    (void)state;
    usb_close(g_fuse_usb);
    g_fuse_usb = NULL;
    if (g_fuse_mnt[0])
        fuse_umount(g_fuse_mnt);
    if (g_fuse_dir[0])
        rm_rf(g_fuse_dir);
    g_fuse_mnt[0] = g_fuse_dir[0] = '\0';
    return 0;
}

static void detect_real_fusefat_mount(void **state)
{
    (void)state;
    if (!fuse_usable()) {
        print_message("skipped: /dev/fuse, fusefat or mkfs.vfat not usable here\n");
        skip();
    }
    char root[256], img[256];
    const char *mnt = g_fuse_mnt;
    usb_event ev[4];
    size_t n = 0;
    char err[TP_ERRMSG_MAX];
    snprintf(g_fuse_dir, sizeof g_fuse_dir, "/tmp/tp-usb-unit-XXXXXX");
    assert_non_null(mkdtemp(g_fuse_dir));
    snprintf(root, sizeof root, "%s/media", g_fuse_dir);
    snprintf(img, sizeof img, "%s/stick.img", g_fuse_dir);
    snprintf(g_fuse_mnt, sizeof g_fuse_mnt, "%s/touchpoint-usb-test", root);
    assert_int_equal(mkdir(root, 0700), 0);
    assert_int_equal(mkdir(mnt, 0700), 0); /* made before watching: no inotify event for it */
    const char *mkfs[] = {"mkfs.vfat", "-C", img, "4096", NULL};
    assert_int_equal(run(mkfs), 0);

    usb_options o = {.mount_root = root};
    assert_int_equal(usb_open(&o, &g_fuse_usb, err, sizeof err), TP_OK);
    usb *u = g_fuse_usb;
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 0);

    /* Only the mount table can tell about this mount: the folder already existed. */
    assert_int_equal(fuse_mount(img, mnt, false), 0);
    assert_true(readable(u, 3000));
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].kind, USB_EV_ADDED);
    assert_string_equal(ev[0].stick.mount_point, mnt);
    assert_string_equal(ev[0].stick.fstype, "fuse.fusefat");
    assert_false(ev[0].stick.readonly);
    assert_true(ev[0].stick.free_bytes > 3000 * 1024);
    assert_true(ev[0].stick.total_bytes >= ev[0].stick.free_bytes);
    int id = ev[0].stick.mount_id;
    /* The mount table's signal is consumed by usb_poll: the fd goes quiet (no busy loop). Other
     * people's mounts on this machine may wake it again meanwhile; those polls report nothing. */
    bool quiet = false;
    for (int i = 0; i < 20 && !quiet; i++) {
        quiet = !readable(u, 50);
        if (!quiet) {
            assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
            assert_int_equal(n, 0);
        }
    }
    assert_true(quiet);
    assert_true(usb_still_mounted(NULL, id, mnt));
    assert_false(usb_still_mounted(NULL, id + 100000, mnt));

    fuse_umount(mnt);
    assert_true(readable(u, 3000));
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].kind, USB_EV_REMOVED);
    assert_false(usb_still_mounted(NULL, id, mnt));

    /* A read-only mount is reported as such. */
    assert_int_equal(fuse_mount(img, mnt, true), 0);
    assert_true(readable(u, 3000));
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].kind, USB_EV_ADDED);
    assert_true(ev[0].stick.readonly);
    fuse_umount(mnt);
    assert_true(readable(u, 3000));
    assert_int_equal(usb_poll(u, ev, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].kind, USB_EV_REMOVED);
    print_message("checked: a fusefat FAT mount under the temp root wakes the fd through the "
                  "mount table (and is quiet after usb_poll), reported with type, free space, "
                  "rw/ro, and its unmount as REMOVED\n");
}

/* ---- staff key
 * ----------------------------------------------------------------------------------- */

static void staff_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/tp-usb-unit-XXXXXX";
    char key[300], err[TP_ERRMSG_MAX];
    const char *hash = "pbkdf2-sha256$120000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    assert_non_null(mkdtemp(dir));
    snprintf(key, sizeof key, "%s/%s", dir, USB_STAFF_KEY_FILE);

    assert_int_equal(usb_check_staff_key(dir, hash, err, sizeof err), TP_ERR_NOT_FOUND);
    char text[256];
    snprintf(text, sizeof text, "%s\r\n", hash);
    write_file(key, text);
    assert_int_equal(usb_check_staff_key(dir, hash, err, sizeof err), TP_OK);
    assert_int_equal(usb_check_staff_key(dir, "pbkdf2-sha256$120000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNx",
                                         err, sizeof err),
                     TP_ERR_AUTH);
    assert_null(strstr(err, "aGFz")); /* the message never carries the hash */
    assert_int_equal(usb_check_staff_key(dir, "pbkdf2-sha256", err, sizeof err), TP_ERR_AUTH);
    assert_int_equal(usb_check_staff_key(dir, "", err, sizeof err), TP_ERR_INVALID);
    snprintf(text, sizeof text, "%sX\n", hash); /* longer than the hash */
    write_file(key, text);
    assert_int_equal(usb_check_staff_key(dir, hash, err, sizeof err), TP_ERR_AUTH);

    /* too large: refused unread */
    char big[USB_STAFF_KEY_MAX + 2];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file(key, big);
    assert_int_equal(usb_check_staff_key(dir, hash, err, sizeof err), TP_ERR_TOO_LARGE);

    /* a symlink to a file holding the right key is refused */
    char real[300];
    snprintf(real, sizeof real, "%s/real", dir);
    write_file(real, hash);
    assert_int_equal(unlink(key), 0);
    assert_int_equal(symlink(real, key), 0);
    assert_int_equal(usb_check_staff_key(dir, hash, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "symlink"));

    /* a FIFO does not hang the check; a folder is refused */
    assert_int_equal(unlink(key), 0);
    assert_int_equal(mkfifo(key, 0600), 0);
    assert_int_equal(usb_check_staff_key(dir, hash, err, sizeof err), TP_ERR_INVALID);
    assert_int_equal(unlink(key), 0);
    assert_int_equal(mkdir(key, 0700), 0);
    assert_int_equal(usb_check_staff_key(dir, hash, err, sizeof err), TP_ERR_INVALID);
    rm_rf(dir);
    print_message("checked: staff key matches with CRLF, wrong/shorter/longer keys refused, too "
                  "large, symlink, FIFO and folder refused without hanging, hash never logged\n");
}

/* ---- export job ------------------------------------------------------------------------------ */

static void format_bytes(void **state)
{
    (void)state;
    char b[32];
    usb_format_bytes(1, b, sizeof b);
    assert_string_equal(b, "1 B");
    usb_format_bytes(840000, b, sizeof b);
    assert_string_equal(b, "840 kB");
    usb_format_bytes(2000001, b, sizeof b);
    assert_string_equal(b, "2.1 MB");
    usb_format_bytes(INT64_C(1400000000), b, sizeof b);
    assert_string_equal(b, "1.4 GB");
    usb_format_bytes(-1, b, sizeof b);
    assert_string_equal(b, "an unknown amount of");
    print_message("checked: sizes for staff are decimal units rounded up (never understated)\n");
}

static void parse_formats(void **state)
{
    (void)state;
    unsigned f = 0;
    char err[TP_ERRMSG_MAX];
    assert_int_equal(usb_export_parse_formats("csv", &f, err, sizeof err), TP_OK);
    assert_int_equal(f, USB_FORMAT_CSV);
    assert_int_equal(usb_export_parse_formats(" csv , jsonl ", &f, err, sizeof err), TP_OK);
    assert_int_equal(f, USB_FORMAT_CSV | USB_FORMAT_JSONL);
    assert_int_equal(usb_export_parse_formats("jsonl", &f, err, sizeof err), TP_OK);
    assert_int_equal(f, USB_FORMAT_JSONL);
    const char *bad[] = {"", "csv,", "xlsx", "csv,csv", "csv jsonl", ",csv", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(usb_export_parse_formats(bad[i], &f, err, sizeof err), TP_ERR_INVALID);
    assert_non_null(strstr(err, "formats"));
    print_message("checked: [usb] formats parses csv, jsonl, both; empty, unknown, repeated and "
                  "malformed lists are refused with the key named\n");
}

/* Injected faults over the real POSIX ops. */
typedef struct fault {
    const export_fs_ops *real;
    int fail_write_after; /* fail the write call number N (1-based) with fail_errno; 0: never */
    int fail_errno;
    int writes;
    int fail_openat_errno; /* 0: never */
    int fail_openat_n;     /* only the Nth creating open fails (0: every one) */
    int creates;
    const char *unplug_mi; /* at write N, rewrite this mountinfo file without the stick */
    const char *unplug_text;
} fault;

static fault g_fault;

static int f_open_dir(void *c, const char *p)
{
    return g_fault.real->open_dir(g_fault.real->ctx, p);
}
static int f_openat(void *c, int d, const char *n, int fl, mode_t m)
{
    if (fl & O_CREAT)
        g_fault.creates++;
    if (g_fault.fail_openat_errno && (fl & O_CREAT) &&
        (g_fault.fail_openat_n == 0 || g_fault.creates == g_fault.fail_openat_n)) {
        errno = g_fault.fail_openat_errno;
        return -1;
    }
    return g_fault.real->openat(g_fault.real->ctx, d, n, fl, m);
}
static ssize_t f_write(void *c, int fd, const void *b, size_t n)
{
    g_fault.writes++;
    if (g_fault.fail_write_after && g_fault.writes == g_fault.fail_write_after) {
        if (g_fault.unplug_mi)
            write_file(g_fault.unplug_mi, g_fault.unplug_text);
        if (g_fault.fail_errno) {
            errno = g_fault.fail_errno;
            return -1;
        }
    }
    return g_fault.real->write(g_fault.real->ctx, fd, b, n);
}
static ssize_t f_read(void *c, int fd, void *b, size_t n)
{
    return g_fault.real->read(g_fault.real->ctx, fd, b, n);
}
static int f_fsync(void *c, int fd)
{
    return g_fault.real->fsync(g_fault.real->ctx, fd);
}
static int f_drop(void *c, int fd)
{
    return g_fault.real->drop_cache(g_fault.real->ctx, fd);
}
static int f_close(void *c, int fd)
{
    return g_fault.real->close(g_fault.real->ctx, fd);
}
static int f_fstatat(void *c, int d, const char *n, struct stat *st)
{
    return g_fault.real->fstatat(g_fault.real->ctx, d, n, st);
}
static int f_fstatvfs(void *c, int fd, struct statvfs *st)
{
    return g_fault.real->fstatvfs(g_fault.real->ctx, fd, st);
}
static int f_rename(void *c, int d, const char *a, const char *b)
{
    return g_fault.real->rename_noreplace(g_fault.real->ctx, d, a, b);
}
static int f_unlinkat(void *c, int d, const char *n)
{
    return g_fault.real->unlinkat(g_fault.real->ctx, d, n);
}
static int f_syncfs(void *c, int fd)
{
    return g_fault.real->syncfs(g_fault.real->ctx, fd);
}

static const export_fs_ops fault_ops = {
    .open_dir = f_open_dir,
    .openat = f_openat,
    .write = f_write,
    .read = f_read,
    .fsync = f_fsync,
    .drop_cache = f_drop,
    .close = f_close,
    .fstatat = f_fstatat,
    .fstatvfs = f_fstatvfs,
    .rename_noreplace = f_rename,
    .unlinkat = f_unlinkat,
    .syncfs = f_syncfs,
};

typedef struct fixture {
    char dir[64];
    char out[128];
    char db[128];
    char mi[128];
    store *s;
} fixture;

/* A store with n answers (Vietnamese-free ids; the CSV content is the CLI helper's tests). */
static void fixture_setup(fixture *fx, int sessions)
{
    char err[TP_ERRMSG_MAX];
    memset(fx, 0, sizeof *fx);
    /* tmpfs when there is one: the store flushes every session and the disk is shared */
    snprintf(fx->dir, sizeof fx->dir, "%s/tp-usb-unit-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->out, sizeof fx->out, "%s/stick", fx->dir);
    snprintf(fx->db, sizeof fx->db, "%s/answers.db", fx->dir);
    snprintf(fx->mi, sizeof fx->mi, "%s/mountinfo", fx->dir);
    assert_int_equal(mkdir(fx->out, 0700), 0);
    store_options so = {.device_id = "kiosk-01"};
    assert_int_equal(store_open(fx->db, &so, &fx->s, err, sizeof err), TP_OK);
    for (int i = 0; i < sessions; i++) {
        store_answer_in a[2] = {
            {.question_id = "recommend", .kind = TP_KIND_NPS, .value = i % 11},
            {.question_id = "why", .kind = TP_KIND_CHOICE, .choice_id = "staff"}};
        store_session_in in = {.survey_id = "checkout-nps",
                               .survey_version = 1,
                               .store_id = "hcm-01",
                               .touchpoint_id = "exit",
                               .lang = "vi",
                               .n_answers = 2,
                               .answers = a};
        assert_int_equal(store_record_session(fx->s, &in, NULL, NULL), TP_OK);
    }
    char line[512];
    snprintf(line, sizeof line,
             "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n"
             "77 22 8:17 / %s rw,nosuid - vfat /dev/sdb1 rw\n",
             fx->out);
    write_file(fx->mi, line);
}

static void fixture_done(fixture *fx)
{
    store_close(fx->s);
    rm_rf(fx->dir);
}

/* Number of entries in the folder (the stick must be left as it was after a failure). */
static int entries(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static int64_t cursor(store *s)
{
    int64_t c = -1;
    assert_int_equal(store_get_export_cursor(s, &c), TP_OK);
    return c;
}

/* Reads the seq of every row of an export file (CSV: first field after the header; JSON Lines:
 * the "seq" member) into out (max entries). Returns the number of rows. */
static int file_seqs(const char *dir, const char *name, bool csv, int64_t *out, int max)
{
    char path[512], line[4096];
    int n = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    if (csv)
        assert_non_null(fgets(line, sizeof line, f)); /* BOM + header */
    while (fgets(line, sizeof line, f)) {
        const char *p = csv ? line : strstr(line, "\"seq\":");
        assert_non_null(p);
        if (!csv)
            p += 6;
        assert_true(n < max);
        out[n++] = strtoll(p, NULL, 10);
    }
    fclose(f);
    return n;
}

static void export_done_then_nothing_new(void **state)
{
    (void)state;
    fixture fx;
    usb_export_report rep;
    fixture_setup(&fx, 50);
    usb_export_request rq = {
        .mount_point = fx.out, .mount_id = 77, .mountinfo_path = fx.mi, .device_id = "kiosk-01"};
    assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
    assert_int_equal(rep.outcome, USB_EXPORT_DONE);
    assert_int_equal(rep.rows, 100);
    assert_string_equal(rep.message, "Done: 100 answers, safe to remove");
    assert_int_equal(rep.n_files, 2);
    assert_int_equal(cursor(fx.s), 100);
    assert_int_equal(entries(fx.out), 2);
    assert_non_null(strstr(rep.log, "outcome=done"));
    assert_non_null(strstr(rep.log, "cursor=0->100"));
    assert_null(strchr(rep.log, '\n'));

    assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
    assert_int_equal(rep.outcome, USB_EXPORT_NOTHING);
    assert_int_equal(entries(fx.out), 2);

    /* everything, CSV + JSON Lines: two more files each with the .sha256 */
    rq.all = true;
    rq.formats = USB_FORMAT_CSV | USB_FORMAT_JSONL;
    assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
    assert_int_equal(rep.outcome, USB_EXPORT_DONE);
    assert_int_equal(rep.n_files, 4);
    assert_non_null(strstr(rep.files[2], ".jsonl"));
    assert_int_equal(entries(fx.out), 6);

    /* new since the last export, CSV + JSON Lines: both files hold exactly the 6 new answers */
    for (int i = 0; i < 3; i++) {
        store_answer_in a[2] = {{.question_id = "recommend", .kind = TP_KIND_NPS, .value = 7},
                                {.question_id = "why", .kind = TP_KIND_CHOICE, .choice_id = "x"}};
        store_session_in in = {.survey_id = "checkout-nps",
                               .survey_version = 1,
                               .store_id = "hcm-01",
                               .touchpoint_id = "exit",
                               .lang = "vi",
                               .n_answers = 2,
                               .answers = a};
        assert_int_equal(store_record_session(fx.s, &in, NULL, NULL), TP_OK);
    }
    rq.all = false;
    assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
    assert_int_equal(rep.outcome, USB_EXPORT_DONE);
    assert_int_equal(rep.rows, 6);
    assert_int_equal(rep.n_files, 4);
    assert_non_null(strstr(rep.files[0], ".csv"));
    assert_non_null(strstr(rep.files[2], ".jsonl"));
    assert_non_null(strstr(rep.log, "formats=csv,jsonl"));
    assert_non_null(strstr(rep.log, "cursor=100->106"));
    assert_null(strstr(rep.log, "skipped"));
    assert_int_equal(cursor(fx.s), 106);
    assert_int_equal(entries(fx.out), 10);
    int64_t csv_seqs[8], json_seqs[8];
    assert_int_equal(file_seqs(fx.out, rep.files[0], true, csv_seqs, 8), 6);
    assert_int_equal(file_seqs(fx.out, rep.files[2], false, json_seqs, 8), 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(csv_seqs[i], 101 + i);
        assert_int_equal(json_seqs[i], 101 + i);
    }
    assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
    assert_int_equal(rep.outcome, USB_EXPORT_NOTHING);
    fixture_done(&fx);
    print_message("checked: a USB export says 'Done: 100 answers, safe to remove', moves the "
                  "cursor, a second 'new' export writes nothing, 'everything' writes CSV+JSONL, "
                  "'new' as CSV+JSONL writes both files with the same 6 new answers (seq "
                  "101..106) and moves the cursor to 106\n");
}

static bool cancel_now(void *ctx)
{
    (void)ctx;
    return true;
}

static void export_faults_leave_cursor(void **state)
{
    (void)state;
    static const struct {
        int write_n, err, openat_err;
        bool unplug;
        usb_export_outcome want;
        const char *words;
    } cases[] = {
        {3, ENOSPC, 0, false, USB_EXPORT_FULL, "The USB stick is full. The export needs "},
        {0, 0, EROFS, false, USB_EXPORT_READONLY, "read-only"},
        {2, EIO, 0, false, USB_EXPORT_IO, "could not be written"},
        {2, EIO, 0, true, USB_EXPORT_REMOVED, "removed before the export finished"},
        /* lazy unmount: writes keep working, only the mount table knows */
        {2, 0, 0, true, USB_EXPORT_REMOVED, "removed before the export finished"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture fx;
        usb_export_report rep;
        fixture_setup(&fx, 1500);
        memset(&g_fault, 0, sizeof g_fault);
        g_fault.real = export_fs_posix();
        g_fault.fail_write_after = cases[i].write_n;
        g_fault.fail_errno = cases[i].err;
        g_fault.fail_openat_errno = cases[i].openat_err;
        if (cases[i].unplug) {
            g_fault.unplug_mi = fx.mi;
            g_fault.unplug_text = "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n";
        }
        usb_export_request rq = {.mount_point = fx.out,
                                 .mount_id = 77,
                                 .mountinfo_path = fx.mi,
                                 .device_id = "kiosk-01",
                                 .fs = &fault_ops};
        assert_int_not_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
        if (rep.outcome != cases[i].want)
            fail_msg("case %zu: outcome %s, log %s", i, usb_export_outcome_name(rep.outcome),
                     rep.log);
        assert_non_null(strstr(rep.message, cases[i].words));
        assert_non_null(strstr(rep.message, "Nothing was marked as exported."));
        assert_int_equal(cursor(fx.s), 0);
        assert_int_equal(entries(fx.out), 0);
        assert_non_null(strstr(rep.log, "cursor=0->0"));
        if (cases[i].want == USB_EXPORT_FULL) {
            /* /tmp had room: the fault came mid-way, so the size is shown, not a shortfall */
            assert_true(rep.bytes_needed > 1500 * 2 * 50);
            assert_non_null(strstr(rep.message, "needs about"));
        }
        /* the next try, on a good stick, works */
        if (cases[i].unplug) {
            char line[512];
            snprintf(line, sizeof line,
                     "22 1 8:2 / / rw - ext4 /dev/sda2 rw\n"
                     "78 22 8:17 / %s rw - vfat /dev/sdb1 rw\n",
                     fx.out);
            write_file(fx.mi, line);
            rq.mount_id = 78;
        }
        rq.fs = NULL;
        assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
        assert_int_equal(rep.outcome, USB_EXPORT_DONE);
        assert_int_equal(cursor(fx.s), 3000);
        fixture_done(&fx);
    }
    /* CSV + JSON Lines: the JSON Lines file fails after the CSV was verified; the CSV is
     * removed again, nothing is marked, and the next try writes both */
    for (int mode_all = 0; mode_all <= 1; mode_all++) {
        fixture fx;
        usb_export_report rep;
        fixture_setup(&fx, 10);
        memset(&g_fault, 0, sizeof g_fault);
        g_fault.real = export_fs_posix();
        g_fault.fail_openat_errno = EIO;
        g_fault.fail_openat_n = 3; /* CSV temp, CSV .sha256 temp, then the JSON Lines temp */
        usb_export_request rq = {.mount_point = fx.out,
                                 .mount_id = 77,
                                 .mountinfo_path = fx.mi,
                                 .device_id = "kiosk-01",
                                 .fs = &fault_ops,
                                 .all = mode_all,
                                 .formats = USB_FORMAT_CSV | USB_FORMAT_JSONL};
        assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_ERR_IO);
        assert_int_equal(rep.outcome, USB_EXPORT_IO);
        assert_int_equal(g_fault.creates, 3);
        assert_int_equal(cursor(fx.s), 0);
        assert_non_null(strstr(rep.message, "Nothing was marked as exported."));
        assert_non_null(strstr(rep.log, "cursor=0->0"));
        assert_int_equal(entries(fx.out), 0);
        rq.fs = NULL;
        assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
        assert_int_equal(rep.n_files, 4);
        assert_int_equal(cursor(fx.s), 20);
        assert_int_equal(entries(fx.out), 4);
        fixture_done(&fx);
    }
    /* CSV + JSON Lines on a stick with room for the CSV only: "full", with the space of both */
    {
        fixture fx;
        usb_export_report rep;
        fixture_setup(&fx, 400);
        memset(&g_fault, 0, sizeof g_fault);
        g_fault.real = export_fs_posix();
        g_fault.fail_openat_errno = ENOSPC;
        g_fault.fail_openat_n = 3; /* CSV temp, CSV .sha256 temp, then the JSON Lines temp */
        usb_export_request rq = {.mount_point = fx.out,
                                 .mount_id = 77,
                                 .mountinfo_path = fx.mi,
                                 .device_id = "kiosk-01",
                                 .fs = &fault_ops,
                                 .formats = USB_FORMAT_CSV | USB_FORMAT_JSONL};
        assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_ERR_DISK_FULL);
        assert_int_equal(rep.outcome, USB_EXPORT_FULL);
        assert_int_equal(cursor(fx.s), 0);
        assert_int_equal(entries(fx.out), 0);
        /* 800 answers: CSV ~ 210 B and JSON ~ 400 B a row, each + EXPORT_SLACK_BYTES */
        if (rep.bytes_needed < 800 * 500 + 2 * EXPORT_SLACK_BYTES)
            fail_msg("bytes_needed %lld does not count both files; log %s",
                     (long long)rep.bytes_needed, rep.log);
        assert_non_null(strstr(rep.message, "The USB stick is full."));
        assert_non_null(strstr(rep.log, "CSV and JSON Lines files need about"));
        fixture_done(&fx);
    }
    /* staff press Cancel during the export: nothing left, nothing marked, and it is not an error */
    {
        fixture fx;
        usb_export_report rep;
        fixture_setup(&fx, 100);
        usb_export_request rq = {.mount_point = fx.out,
                                 .mount_id = 77,
                                 .mountinfo_path = fx.mi,
                                 .device_id = "kiosk-01",
                                 .formats = USB_FORMAT_CSV | USB_FORMAT_JSONL,
                                 .cancel = cancel_now};
        assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_OK);
        assert_int_equal(rep.outcome, USB_EXPORT_CANCELLED);
        assert_non_null(strstr(rep.message, "Export cancelled."));
        assert_non_null(strstr(rep.log, "outcome=cancelled"));
        assert_int_equal(cursor(fx.s), 0);
        assert_int_equal(entries(fx.out), 0);
        fixture_done(&fx);
    }
    /* a stick already gone before the start */
    fixture fx;
    usb_export_report rep;
    fixture_setup(&fx, 1);
    usb_export_request rq = {
        .mount_point = fx.out, .mount_id = 12345, .mountinfo_path = fx.mi, .device_id = "kiosk-01"};
    assert_int_equal(usb_export_run(fx.s, &rq, &rep), TP_ERR_NOT_FOUND);
    assert_int_equal(rep.outcome, USB_EXPORT_REMOVED);
    fixture_done(&fx);
    print_message("checked: full (with the space needed), read-only, I/O error, pulled stick "
                  "(EIO, and a lazy unmount caught at syncfs) each give their staff message, "
                  "leave no file and the cursor at 0, and the next export succeeds; a failed JSON "
                  "Lines copy after a good CSV removes the CSV and marks nothing (new and all); a "
                  "stick full at the JSON Lines copy reports the space of both files; Cancel "
                  "leaves nothing and says 'Export cancelled.'\n");
}

/* Turns each U+00A0 (the no-break space that keeps Vietnamese words whole) into a plain space, so
 * the expectations below read as the staff read them. */
static void nbsp_to_space(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if ((unsigned char)r[0] == 0xc2 && (unsigned char)r[1] == 0xa0) {
            *w++ = ' ';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Every outcome has its staff sentence in English (= rep.message's text) and Vietnamese. */
static void messages_in_both_languages(void **state)
{
    (void)state;
    static const struct {
        usb_export_outcome o;
        tp_err rc;
        const char *en, *vi;
    } want[] = {
        {USB_EXPORT_DONE, TP_OK, "Done: 42 answers, safe to remove",
         "Xong: 42 câu trả lời, có thể rút USB ra an toàn."},
        {USB_EXPORT_NOTHING, TP_OK, "No new answers since the last export.",
         "Không có câu trả lời mới kể từ lần xuất trước."},
        {USB_EXPORT_FULL, TP_ERR_IO, "The USB stick is full. The export needs 1.3 MB more",
         "USB đã đầy. Cần thêm 1.3 MB dung lượng trống (hiện còn 640 kB)."},
        {USB_EXPORT_READONLY, TP_ERR_IO, "The USB stick is read-only", "USB đang bị khóa ghi"},
        {USB_EXPORT_REMOVED, TP_ERR_IO, "The USB stick was removed", "USB đã bị rút ra"},
        {USB_EXPORT_IO, TP_ERR_IO, "input/output error", "Không ghi được vào USB (lỗi đọc/ghi)"},
        {USB_EXPORT_CANCELLED, TP_OK, "Export cancelled.", "Đã hủy xuất."},
        {USB_EXPORT_FAILED, TP_ERR_EXISTS, "no free file name", "không còn tên tệp trống"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        usb_export_report rep;
        char en[512], vi[512];
        memset(&rep, 0, sizeof rep);
        rep.outcome = want[i].o;
        rep.rc = want[i].rc;
        rep.rows = 42;
        rep.free_bytes = 640000;
        rep.bytes_needed = 1940000;
        rep.bytes_missing = 1300000;
        usb_export_message(&rep, "en", en, sizeof en);
        usb_export_message(&rep, "vi", vi, sizeof vi);
        assert_null(strstr(vi, "câu trả lời, có thể")); /* raw: the groups are no-break */
        nbsp_to_space(vi);
        if (!strstr(en, want[i].en) || !strstr(vi, want[i].vi))
            fail_msg("%s: en '%s' / vi '%s'", usb_export_outcome_name(want[i].o), en, vi);
        bool failure = want[i].o != USB_EXPORT_DONE && want[i].o != USB_EXPORT_NOTHING &&
                       want[i].o != USB_EXPORT_CANCELLED;
        if (failure && (!strstr(en, "Nothing was marked as exported.") ||
                        !strstr(vi, "Chưa có câu trả lời nào được đánh dấu là đã xuất.")))
            fail_msg("%s: a failure must say nothing was marked: '%s' / '%s'",
                     usb_export_outcome_name(want[i].o), en, vi);
        usb_export_message(&rep, NULL, vi, sizeof vi);
        assert_string_equal(vi, en); /* no language: English */
    }
    print_message("checked: done, nothing new, full (with the space needed), read-only, removed, "
                  "I/O error, cancelled and failed each have an English and a Vietnamese staff "
                  "sentence; failures say nothing was marked in both; NULL lang is English\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_in_both_languages),
        cmocka_unit_test(detect_with_inotify_on_temp_root),
        cmocka_unit_test_teardown(detect_real_fusefat_mount, fuse_teardown),
        cmocka_unit_test(staff_key_file),
        cmocka_unit_test(format_bytes),
        cmocka_unit_test(parse_formats),
        cmocka_unit_test(export_done_then_nothing_new),
        cmocka_unit_test(export_faults_leave_cursor),
    };
    return cmocka_run_group_tests_name("usb", tests, NULL, NULL);
}
