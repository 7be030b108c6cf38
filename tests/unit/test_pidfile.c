/* test_pidfile.c - unit tests of sync/pidfile.c: a pid file is created with our pid and locked, a
 * second holder is refused with the first one's pid, files that are not pid files (text, a
 * symlink, a FIFO) are refused and left as they were, release removes only a file still holding
 * our pid, and sync_wake sends SIGUSR1 to a live holder and to nobody else (a stale file naming a
 * live process is "not running"). Each test works in its own mkdtemp folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pidfile.h"

static char g_dir[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/test_pidfile.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(const char *name, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%s", g_dir, name);
    assert_true(n > 0 && (size_t)n < len);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Reads path into buf; returns false when it does not exist. */
static bool read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return true;
}

static void acquire_and_release(void **state)
{
    (void)state;
    char path[PATH_MAX], buf[64], want[32], err[512];
    pidfile *pf = NULL, *again = NULL;
    path_of("sync.pid", path, sizeof path);
    snprintf(want, sizeof want, "%ld\n", (long)getpid());

    assert_int_equal(pidfile_acquire(path, &pf, err, sizeof err), TP_OK);
    assert_true(read_text(path, buf, sizeof buf));
    assert_string_equal(buf, want);
    assert_string_equal(pidfile_path(pf), path);

    /* A second holder (another open file description, as another process has) is refused. */
    assert_int_equal(pidfile_acquire(path, &again, err, sizeof err), TP_ERR_BUSY);
    assert_null(again);
    char pidtxt[32];
    snprintf(pidtxt, sizeof pidtxt, "process %ld", (long)getpid());
    assert_non_null(strstr(err, pidtxt));
    assert_true(read_text(path, buf, sizeof buf));
    assert_string_equal(buf, want);

    pid_t holder = 0;
    assert_int_equal(pidfile_holder(path, &holder, err, sizeof err), TP_OK);
    assert_int_equal(holder, getpid());

    pidfile_release(pf);
    assert_false(read_text(path, buf, sizeof buf));
    pidfile_release(NULL);

    /* A stale file (a pid nobody holds) is taken over. */
    write_text(path, "4242\n");
    assert_int_equal(pidfile_holder(path, &holder, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_int_equal(pidfile_acquire(path, &pf, err, sizeof err), TP_OK);
    assert_true(read_text(path, buf, sizeof buf));
    assert_string_equal(buf, want);
    /* Rewritten by someone else meanwhile: not ours any more, so release leaves it. */
    write_text(path, "4243\n");
    pidfile_release(pf);
    assert_true(read_text(path, buf, sizeof buf));
    assert_string_equal(buf, "4243\n");
    print_message("checked: created with our pid, second holder refused naming it, removed on "
                  "release, stale file taken over, a rewritten file left alone\n");
}

static void refuses_foreign_files(void **state)
{
    (void)state;
    char path[PATH_MAX], link[PATH_MAX], fifo[PATH_MAX], dir[PATH_MAX], buf[PATH_MAX], err[512];
    pidfile *pf = NULL;
    const char *conf = "[device]\nid = kiosk-01\n";
    path_of("kiosk.conf", path, sizeof path);
    write_text(path, conf);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(pidfile_acquire(path, &pf, err, sizeof err), TP_ERR_EXISTS);
    assert_null(pf);
    assert_non_null(strstr(err, "is not a pid file"));
    assert_true(read_text(path, buf, sizeof buf));
    assert_string_equal(buf, conf);
    assert_int_equal(stat(path, &after), 0);
    assert_true(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
                before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);

    /* A symlink to a pid file is not followed; a FIFO does not hang; a folder is refused. */
    path_of("real.pid", buf, sizeof buf);
    write_text(buf, "4242\n");
    path_of("link.pid", link, sizeof link);
    assert_int_equal(symlink(buf, link), 0);
    assert_int_equal(pidfile_acquire(link, &pf, err, sizeof err), TP_ERR_EXISTS);
    assert_non_null(strstr(err, "symbolic link"));
    path_of("fifo.pid", fifo, sizeof fifo);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(pidfile_acquire(fifo, &pf, err, sizeof err), TP_ERR_EXISTS);
    pid_t holder = 0;
    assert_int_equal(pidfile_holder(fifo, &holder, err, sizeof err), TP_ERR_EXISTS);
    path_of("dir.pid", dir, sizeof dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(pidfile_acquire(dir, &pf, err, sizeof err), TP_ERR_EXISTS);
    path_of("no/such/folder.pid", buf, sizeof buf);
    assert_int_equal(pidfile_acquire(buf, &pf, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_null(pf);
    print_message("checked: a config file (bytes and mtime kept), a symlink, a FIFO, a folder "
                  "and a missing folder are refused\n");
}

/* Child: holds path, waits up to 10 s for SIGUSR1; exit 0 when it came, 1 when not, 2 when it
 * could not take the file. Tells the parent through fd ready once it holds the file. */
static int wake_child(const char *path, int ready)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pidfile *pf = NULL;
    char err[512];
    if (pidfile_acquire(path, &pf, err, sizeof err) != TP_OK)
        return 2;
    if (write(ready, "r", 1) != 1)
        return 2;
    struct timespec ts = {10, 0};
    int sig = sigtimedwait(&set, NULL, &ts);
    pidfile_release(pf);
    return sig == SIGUSR1 ? 0 : 1;
}

static void wake(void **state)
{
    (void)state;
    char path[PATH_MAX], err[512], stale[32];
    path_of("daemon.pid", path, sizeof path);

    assert_int_equal(sync_wake(path, err, sizeof err), TP_ERR_NOT_FOUND); /* no file */
    assert_int_equal(sync_wake("", err, sizeof err), TP_ERR_NOT_FOUND);   /* none configured */
    write_text(path, "");
    assert_int_equal(sync_wake(path, err, sizeof err), TP_ERR_NOT_FOUND); /* empty */
    /* A stale file naming a live process (ourselves, SIGUSR1 would kill us): not signalled. */
    snprintf(stale, sizeof stale, "%ld\n", (long)getpid());
    write_text(path, stale);
    assert_int_equal(sync_wake(path, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "stale"));
    write_text(path, "[sync]\nurl = x\n");
    assert_int_equal(sync_wake(path, err, sizeof err), TP_ERR_EXISTS);
    assert_non_null(strstr(err, path));
    unlink(path);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(fds[0]);
        _exit(wake_child(path, fds[1]));
    }
    close(fds[1]);
    char c = 0;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    pid_t holder = 0;
    assert_int_equal(pidfile_holder(path, &holder, err, sizeof err), TP_OK);
    assert_int_equal(holder, child);
    assert_int_equal(sync_wake(path, err, sizeof err), TP_OK);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0); /* it got SIGUSR1 */
    assert_int_equal(access(path, F_OK), -1); /* and removed its file on exit */
    assert_int_equal(sync_wake(path, err, sizeof err), TP_ERR_NOT_FOUND);
    print_message("checked: sync_wake says not running for no/empty/stale files, refuses a "
                  "non-pid file, and wakes a live holder with SIGUSR1\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(acquire_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(wake, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
