/* test_usb_mountinfo.c - unit tests of usb.c's mount table parser, pure functions on text: octal
 * escapes, read-only flags, bounds, nested and stacked mounts below the mount root, and 3000
 * randomly damaged texts (no crash, nothing out of bounds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "usb.h"

/* ---- mountinfo parsing ----------------------------------------------------------------------- */

static const char MOUNTINFO[] =
    "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n"
    "30 22 0:25 / /media rw,nosuid shared:5 - tmpfs tmpfs rw,size=1024k\n"
    /* a label with a space, a tab and a backslash, mounted read-write but superblock ro */
    "41 30 8:17 / /media/touchpoint-usb-My\\040Stick\\011x\\134y rw,nosuid,nodev,noexec "
    "shared:7 master:2 - vfat /dev/sdb1 ro,uid=1001,gid=1001\n"
    /* read-only per mount, no optional fields */
    "42 30 8:33 / /media/ro-stick ro,nosuid,nodev - exfat /dev/sdc1 rw\n"
    /* a mount nested inside the read-only stick */
    "43 42 0:40 / /media/ro-stick/inner rw - tmpfs tmpfs rw\n"
    /* outside the root, but sharing its prefix */
    "44 22 8:49 / /media2/usb rw - vfat /dev/sdd1 rw\n"
    /* malformed: no separator */
    "45 22 8:50 / /media/bad rw shared:1 vfat /dev/sde1 rw\n"
    "garbage\n"
    /* stacked: mounted over 46's mount point later */
    "46 30 8:65 / /media/stack rw - vfat /dev/sdf1 rw\n"
    "47 30 8:81 / /media/stack rw - vfat /dev/sdg1 rw,uid=0";

static void mountinfo_parse_escapes_and_flags(void **state)
{
    (void)state;
    usb_mount m[16];
    size_t n = 0, skipped = 0;
    assert_int_equal(usb_mountinfo_parse(MOUNTINFO, strlen(MOUNTINFO), m, 16, &n, &skipped), TP_OK);
    assert_int_equal(n, 8);
    assert_int_equal(skipped, 2);
    assert_int_equal(m[2].mount_id, 41);
    assert_int_equal(m[2].parent_id, 30);
    assert_string_equal(m[2].mount_point, "/media/touchpoint-usb-My Stick\tx\\y");
    assert_string_equal(m[2].fstype, "vfat");
    assert_string_equal(m[2].source, "/dev/sdb1");
    assert_true(m[2].readonly); /* superblock ro */
    assert_true(m[3].readonly); /* per-mount ro */
    assert_string_equal(m[3].fstype, "exfat");
    assert_false(m[0].readonly);
    assert_false(m[7].readonly);
    assert_string_equal(m[7].source, "/dev/sdg1");
    /* "rw,errors=remount-ro" must not read as ro */
    const char *tricky = "50 1 0:1 / /media/x rw,relatime - vfat /dev/x rw,errors=remount-ro";
    assert_int_equal(usb_mountinfo_parse(tricky, strlen(tricky), m, 16, &n, NULL), TP_OK);
    assert_int_equal(n, 1);
    assert_false(m[0].readonly);
    print_message("checked: mountinfo fields, \\040 \\011 \\134 escapes decoded, ro from mount or "
                  "superblock options (not from errors=remount-ro), malformed lines skipped\n");
}

static void mountinfo_parse_bounds(void **state)
{
    (void)state;
    usb_mount m[2];
    size_t n = 0, skipped = 0;
    /* more lines than room: counted as skipped */
    assert_int_equal(usb_mountinfo_parse(MOUNTINFO, strlen(MOUNTINFO), m, 2, &n, &skipped), TP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 8);
    /* a bad escape, a NUL escape, an over-long path, text without newline at the end */
    char big[USB_PATH_MAX + 64];
    memset(big, 'a', sizeof big);
    memcpy(big, "1 1 0:1 / /", 11);
    big[sizeof big - 1] = '\0';
    const char *bad[] = {"1 1 0:1 / /media/a\\09 rw - vfat s rw",
                         "1 1 0:1 / /media/a\\000 rw - vfat s rw",
                         "1 1 0:1 / media/relative rw - vfat s rw",
                         "x 1 0:1 / /media/a rw - vfat s rw",
                         "1 1 0:1 / /media/a rw -",
                         big};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(usb_mountinfo_parse(bad[i], strlen(bad[i]), m, 2, &n, &skipped), TP_OK);
        assert_int_equal(n, 0);
        assert_int_equal(skipped, 1);
    }
    assert_int_equal(usb_mountinfo_parse(NULL, 0, m, 2, &n, NULL), TP_ERR_INVALID);
    print_message("checked: parse is bounded by max, and bad escapes, NUL escapes, relative and "
                  "over-long paths, non-numeric ids and truncated lines are skipped\n");
}

static void mountinfo_select_nested_stacked(void **state)
{
    (void)state;
    usb_mount m[16];
    size_t n = 0, idx[8];
    assert_int_equal(usb_mountinfo_parse(MOUNTINFO, strlen(MOUNTINFO), m, 16, &n, NULL), TP_OK);
    size_t k = usb_mountinfo_select(m, n, "/media", idx, 8);
    assert_int_equal(k, 3);
    assert_int_equal(m[idx[0]].mount_id, 41);
    assert_int_equal(m[idx[1]].mount_id, 42); /* 43 is inside 42: not a stick of its own */
    assert_int_equal(m[idx[2]].mount_id, 47); /* 47 mounted over 46 */
    /* bounded output */
    assert_int_equal(usb_mountinfo_select(m, n, "/media", idx, 1), 1);
    /* the root itself is not a stick; "/" as root takes every other mount point */
    assert_int_equal(usb_mountinfo_select(m, n, "/media/ro-stick", idx, 8), 1);
    assert_int_equal(m[idx[0]].mount_id, 43);
    k = usb_mountinfo_select(m, n, "/", idx, 8);
    assert_int_equal(k, 2); /* /media (everything else is below it) and /media2/usb */
    print_message("checked: sticks are mounts strictly below the root, nested mounts belong to "
                  "their stick, the last of stacked mounts wins, /media2 is not below /media\n");
}

/* Random damage to a mountinfo text must never crash the parser or overrun its bounds (ASan
 * checks the memory side in the sanitizer build). */
static void mountinfo_parse_random_damage(void **state)
{
    (void)state;
    char buf[sizeof MOUNTINFO];
    usb_mount m[4];
    size_t idx[4];
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, MOUNTINFO, sizeof buf);
        for (int k = 0; k < 1 + round % 8; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (sizeof buf - 1);
            static const char pool[] = " \\\n-0178ro,/";
            buf[at] = (char)((seed >> 4) & 1 ? pool[(seed >> 16) % (sizeof pool - 1)]
                                             : (char)(seed >> 16));
        }
        size_t len = (seed >> 3) % sizeof buf, n = 0, skipped = 0;
        assert_int_equal(usb_mountinfo_parse(buf, len, m, 4, &n, &skipped), TP_OK);
        assert_true(n <= 4);
        for (size_t i = 0; i < n; i++)
            assert_true(strlen(m[i].mount_point) < sizeof m[i].mount_point);
        assert_true(usb_mountinfo_select(m, n, "/media", idx, 4) <= n);
    }
    print_message("checked: 3000 randomly damaged mountinfo texts parse without crash, within "
                  "bounds\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mountinfo_parse_escapes_and_flags),
        cmocka_unit_test(mountinfo_parse_bounds),
        cmocka_unit_test(mountinfo_select_nested_stacked),
        cmocka_unit_test(mountinfo_parse_random_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
