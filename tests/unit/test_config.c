/* test_config.c - unit tests of config.c: defaults, every key type's errors with file, line and
 * key, unknown sections and keys, missing required keys, relative paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define HASH                                                                                       \
    "pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static char dir[64];
static char path[128];

/* A minimal valid file; the placeholder %s is replaced by extra lines in the [display] section. */
static const char *BASE = "# demo\n"
                          "[device]\n"
                          "id = kiosk-01\n"
                          "store = hcm-q1\n"
                          "touchpoint = checkout\n"
                          "[survey]\n"
                          "file = surveys/checkout.json\n"
                          "[storage]\n"
                          "database = var/answers.db\n"
                          "[staff]\n"
                          "pin_hash = " HASH "\n";

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tp_config_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/kiosk.conf", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void write_conf(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads BASE + extra; returns the rc and the message in err. */
static tp_err load_with(const char *extra, config *c, char *err, size_t errlen)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", BASE, extra);
    write_conf(text);
    err[0] = '\0';
    return config_load(path, c, err, errlen);
}

static void expect_error(const char *extra, int line, const char *want)
{
    config c;
    char err[512], prefix[256];
    tp_err rc = load_with(extra, &c, err, sizeof err);
    if (rc != TP_ERR_CONFIG)
        fail_msg("extra '%s': rc %d (%s), want config error", extra, rc, err);
    snprintf(prefix, sizeof prefix, "%s:%d: %s", path, line, want);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("extra '%s':\n got  '%s'\n want '%s...'", extra, err, prefix);
}

static void defaults_and_relative_paths(void **state)
{
    (void)state;
    config c;
    char err[512], want[256];
    assert_int_equal(load_with("", &c, err, sizeof err), TP_OK);
    assert_string_equal(c.device_id, "kiosk-01");
    assert_string_equal(c.store_id, "hcm-q1");
    assert_string_equal(c.touchpoint_id, "checkout");
    assert_int_equal(c.stage, CONFIG_STAGE_AFTER);
    snprintf(want, sizeof want, "%s/surveys/checkout.json", dir);
    assert_string_equal(c.survey_file, want);
    snprintf(want, sizeof want, "%s/surveys", dir);
    assert_string_equal(c.survey_dir, want);
    snprintf(want, sizeof want, "%s/var/answers.db", dir);
    assert_string_equal(c.database, want);
    assert_int_equal(c.min_free_mb, 8);
    assert_true(c.fullscreen);
    assert_int_equal(c.width, 800);
    assert_int_equal(c.height, 480);
    assert_int_equal(c.rotation, 0);
    assert_int_equal(c.dpi, 96);
    assert_string_equal(c.default_lang, "vi");
    assert_int_equal(c.n_langs, 2);
    assert_string_equal(c.langs[0], "vi");
    assert_string_equal(c.langs[1], "en");
    assert_int_equal(c.idle_timeout_s, 30);
    assert_int_equal(c.thankyou_s, 4);
    assert_int_equal(c.repeat_window_s, 5);
    assert_string_equal(c.pin_hash, HASH);
    assert_int_equal(c.hold_ms, 3000);
    assert_int_equal(c.max_attempts, 5);
    assert_int_equal(c.lockout_s, 300);
    assert_int_equal(c.staff_idle_s, 60);
    assert_string_equal(c.sync.url, "");
    assert_int_equal(c.sync.interval_s, 300);
    assert_int_equal(c.sync.batch_max, 500);
    assert_int_equal(c.sync.batch_max_bytes, 262144);
    assert_true(c.sync.gzip);
    assert_int_equal(c.sync.connect_timeout_s, 10);
    assert_int_equal(c.sync.low_speed_time_s, 30);
    assert_int_equal(c.sync.backoff_max_s, 900);
    assert_string_equal(c.usb.mount_root, "/media");
    assert_int_equal(c.usb.formats, CONFIG_USB_CSV);
    assert_false(c.usb.staff_key);
    assert_string_equal(c.path, path);
    print_message("checked: every default of config.h, relative paths resolved against the "
                  "config folder, survey directory defaults to the survey file's folder\n");
}

static void every_key_set(void **state)
{
    (void)state;
    config c;
    char err[512];
    const char *extra = "[display]\nfullscreen = no\nwidth = 1920\nheight=1080\nrotation = 270\n"
                        "dpi = 160\n"
                        "[language]\ndefault = en\navailable = en, vi\n"
                        "[timing]\nidle_timeout_s = 45\nthankyou_s = 3\nrepeat_window_s = 0\n"
                        "[sync]\nurl = https://collector.example/v1\ntoken_file = /etc/tok\n"
                        "interval_s = 60\nbatch_max = 100\nbatch_max_bytes = 65536\ngzip = off\n"
                        "ca_file = ca.pem\npinned_pubkey = sha256//abc=\nconnect_timeout_s = 5\n"
                        "low_speed_time_s = 20\nbackoff_max_s = 600\n"
                        "[usb]\nmount_root = sticks\nformats = csv,jsonl\nstaff_key = yes\n"
                        "[device]\nstage = before\n";
    /* [device] appears twice: inih merges sections, and stage is set only once. */
    assert_int_equal(load_with(extra, &c, err, sizeof err), TP_OK);
    assert_false(c.fullscreen);
    assert_int_equal(c.width, 1920);
    assert_int_equal(c.rotation, 270);
    assert_int_equal(c.dpi, 160);
    assert_string_equal(c.default_lang, "en");
    assert_string_equal(c.langs[0], "en");
    assert_int_equal(c.idle_timeout_s, 45);
    assert_int_equal(c.repeat_window_s, 0);
    assert_string_equal(c.sync.url, "https://collector.example/v1");
    assert_string_equal(c.sync.token_file, "/etc/tok");
    assert_false(c.sync.gzip);
    assert_int_equal(c.stage, CONFIG_STAGE_BEFORE);
    assert_string_equal(c.sync.pinned_pubkey, "sha256//abc=");
    assert_int_equal(c.sync.backoff_max_s, 600);
    char want[256];
    snprintf(want, sizeof want, "%s/sticks", dir);
    assert_string_equal(c.usb.mount_root, want);
    assert_int_equal(c.usb.formats, CONFIG_USB_CSV | CONFIG_USB_JSONL);
    assert_true(c.usb.staff_key);
    print_message("checked: every key of every type can be set and is parsed\n");
}

static void errors_name_file_line_key(void **state)
{
    (void)state;
    /* BASE has 11 lines, so the first extra line is line 12. */
    expect_error("[display]\nwidth = wide\n", 13, "[display] width: ");
    expect_error("[display]\nwidth = 100\n", 13, "[display] width: 100: out of range 320..8192");
    expect_error("[display]\nheight = 9000\n", 13, "[display] height: ");
    expect_error("[display]\nrotation = 45\n", 13, "[display] rotation: ");
    expect_error("[display]\nfullscreen = maybe\n", 13, "[display] fullscreen: ");
    expect_error("[display]\ndpi = 12x\n", 13, "[display] dpi: ");
    expect_error("[display]\ncolour = red\n", 13, "[display] colour: unknown key");
    expect_error("[displey]\nwidth = 800\n", 13, "[displey]: unknown section");
    expect_error("[device]\nstage = later\n", 13, "[device] stage: ");
    expect_error("[device]\nid = other\n", 13, "[device] id: set twice (first on line 3)");
    expect_error("[language]\ndefault = vietnamese!\n", 13, "[language] default: ");
    expect_error("[language]\navailable = vi,en,fr,de,ja\n", 13, "[language] available: ");
    expect_error("[language]\ndefault = fr\n", 13, "[language] default: not one of");
    expect_error("[timing]\nthankyou_s = 0\n", 13, "[timing] thankyou_s: ");
    expect_error("[timing]\nidle_timeout_s = -5\n", 13, "[timing] idle_timeout_s: ");
    expect_error("[staff]\nmax_attempts = 1e3\n", 13, "[staff] max_attempts: ");
    expect_error("[sync]\nurl = ftp://x\n", 13, "[sync] url: ");
    expect_error("[sync]\nurl = https://x\n", 13, "[sync] token_file: missing");
    expect_error("[sync]\npinned_pubkey = md5//x\n", 13, "[sync] pinned_pubkey: ");
    expect_error("[sync]\ngzip = 2\n", 13, "[sync] gzip: ");
    expect_error("[sync]\nbatch_max = 0\n", 13, "[sync] batch_max: ");
    expect_error("[storage]\nmin_free_mb = lots\n", 13, "[storage] min_free_mb: ");
    expect_error("[usb]\nformats = xml\n", 13, "[usb] formats: ");
    expect_error("[usb]\nstaff_key = 2\n", 13, "[usb] staff_key: ");
    expect_error("this is not ini\n", 12, "syntax error");
    print_message("checked: bad values of every type (int, bool, enum, rotation, id, language, "
                  "url, pubkey), unknown key/section, duplicate key, syntax error: all name "
                  "file:line: [section] key\n");
}

static void bad_strings_and_pin_hash(void **state)
{
    (void)state;
    config c;
    char err[512], want[256];
    write_conf("[device]\nid = kiosk 01\n");
    assert_int_equal(config_load(path, &c, err, sizeof err), TP_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:2: [device] id: ", path);
    assert_memory_equal(err, want, strlen(want));

    write_conf("[device]\nid=a\nstore=b\ntouchpoint=c\n[survey]\nfile=s.json\n[storage]\n"
               "database=d.db\n[staff]\npin_hash = 2468\n");
    assert_int_equal(config_load(path, &c, err, sizeof err), TP_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:10: [staff] pin_hash: ", path);
    assert_memory_equal(err, want, strlen(want));

    /* A line longer than inih's buffer is refused, not split. */
    char text[1024];
    char longv[400];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    snprintf(text, sizeof text, "[device]\nid = %s\n", longv);
    write_conf(text);
    assert_int_equal(config_load(path, &c, err, sizeof err), TP_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:2: line too long", path);
    assert_memory_equal(err, want, strlen(want));
    print_message("checked: invalid id, malformed PIN hash and over-long line are refused with "
                  "their line\n");
}

static void missing_required_keys(void **state)
{
    (void)state;
    config c;
    char err[512], want[256];
    write_conf("[device]\nid=a\nstore=b\n[survey]\nfile=s.json\n");
    assert_int_equal(config_load(path, &c, err, sizeof err), TP_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:2: [device] touchpoint: missing", path);
    assert_memory_equal(err, want, strlen(want));

    write_conf("[device]\nid=a\nstore=b\ntouchpoint=c\n[survey]\nfile=s.json\n[storage]\n"
               "database=d.db\n");
    assert_int_equal(config_load(path, &c, err, sizeof err), TP_ERR_CONFIG);
    assert_non_null(strstr(err, "[staff] pin_hash: missing"));

    char nopath[160];
    snprintf(nopath, sizeof nopath, "%s/nope.conf", dir);
    assert_int_equal(config_load(nopath, &c, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "nope.conf"));
    print_message("checked: a missing required key names its section and key; a missing file "
                  "is NOT_FOUND with its name\n");
}

/* The one comma-list tokenizer behind available, formats and buttons. */
static void comma_lists(void **state)
{
    (void)state;
    config c;
    char err[512];
    static const struct {
        const char *v;
        unsigned want;
    } fmts[] = {
        {"csv", CONFIG_USB_CSV},
        {"jsonl", CONFIG_USB_JSONL},
        {"csv,jsonl", CONFIG_USB_CSV | CONFIG_USB_JSONL},
        {"jsonl, csv", CONFIG_USB_CSV | CONFIG_USB_JSONL},
        {"csv ,jsonl", CONFIG_USB_CSV | CONFIG_USB_JSONL},
    };
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char extra[128];
        snprintf(extra, sizeof extra, "[usb]\nformats = %s\n", fmts[i].v);
        assert_int_equal(load_with(extra, &c, err, sizeof err), TP_OK);
        assert_int_equal(c.usb.formats, fmts[i].want);
    }
    expect_error("[usb]\nformats = csv,csv\n", 13, "[usb] formats: 'csv,csv': a format is listed");
    expect_error("[usb]\nformats = csv,xml\n", 13, "[usb] formats: ");
    expect_error("[usb]\nformats = ,\n", 13, "[usb] formats: ");
    assert_int_equal(load_with("[language]\navailable = en , vi,\n", &c, err, sizeof err), TP_OK);
    assert_int_equal(c.n_langs, 2);
    assert_string_equal(c.langs[0], "en");
    assert_string_equal(c.langs[1], "vi");
    expect_error("[language]\navailable = vi, vi\n", 13,
                 "[language] available: 'vi, vi': "
                 "language listed twice");
    expect_error("[language]\navailable = ,\n", 13, "[language] available: ',': no language");
    assert_int_equal(load_with("[gpio]\nbuttons = 5:0, GPIO6:10\n", &c, err, sizeof err), TP_OK);
    assert_int_equal(c.gpio.n_buttons, 2);
    assert_int_equal(c.gpio.buttons[1].value, 10);
    expect_error("[gpio]\nbuttons = 5:0, 5:1\n", 13,
                 "[gpio] buttons: '5:0, 5:1': a line is listed");
    print_message("checked: formats, languages and buttons through one tokenizer: spaces and "
                  "empty items, repeats and unknown items refused\n");
}

/* Issue 10 item 9: available = vi, en, fr with a survey in vi and en is refused. */
static void survey_languages(void **state)
{
    (void)state;
    config c;
    char err[512];
    const char survey_langs[2][TP_LANG_MAX + 1] = {"vi", "en"};
    assert_int_equal(load_with("[language]\navailable = vi, en, fr\n", &c, err, sizeof err), TP_OK);
    assert_int_equal(
        config_check_survey_langs(&c, "checkout.json", survey_langs, 2, err, sizeof err),
        TP_ERR_CONFIG);
    char want[512];
    snprintf(want, sizeof want,
             "%s: [language] available: 'fr' is not a language of checkout.json (it has vi, en)",
             path);
    assert_string_equal(err, want);
    assert_int_equal(load_with("[language]\navailable = en, vi\n", &c, err, sizeof err), TP_OK);
    assert_int_equal(
        config_check_survey_langs(&c, "checkout.json", survey_langs, 2, err, sizeof err), TP_OK);
    const char only_vi[1][TP_LANG_MAX + 1] = {"vi"};
    assert_int_equal(config_check_survey_langs(&c, "x.json", only_vi, 1, err, sizeof err),
                     TP_ERR_CONFIG);
    assert_non_null(strstr(err, "'en' is not a language of x.json (it has vi)"));
    print_message("checked: a configured language the survey lacks is refused, naming it and "
                  "the survey's languages\n");
}

/* The file is read with tp_read_file: a FIFO or a folder named as the config is refused at once
 * (it would hang or fail later), a missing file is not_found. */
static void config_file_kinds(void **state)
{
    (void)state;
    config c;
    char err[512], fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo.conf", dir);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(config_load(fifo, &c, err, sizeof err), TP_ERR_CONFIG);
    assert_non_null(strstr(err, "fifo.conf:0: cannot open: "));
    unlink(fifo);
    assert_int_equal(config_load(dir, &c, err, sizeof err), TP_ERR_CONFIG);
    snprintf(fifo, sizeof fifo, "%s/absent.conf", dir);
    assert_int_equal(config_load(fifo, &c, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "absent.conf:0: cannot open: "));
    print_message("checked: a FIFO and a folder are refused without blocking, a missing file is "
                  "not_found, each naming the file\n");
}

/* [brand]: defaults, a logo resolved against the file's folder, and clear errors. */
static void brand_section(void **state)
{
    (void)state;
    config c;
    char err[512], logo[160], extra[512];
    assert_int_equal(load_with("", &c, err, sizeof err), TP_OK);
    assert_string_equal(c.brand.logo, "");
    assert_string_equal(c.brand.accent, "#0E6E6E");
    assert_string_equal(c.brand.name, "");
    assert_true(c.brand.attract);
    snprintf(logo, sizeof logo, "%s/logo.svg", dir);
    FILE *f = fopen(logo, "w");
    assert_non_null(f);
    fputs("<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/>\n", f);
    fclose(f);
    assert_int_equal(load_with("[brand]\nlogo = logo.svg\naccent = #1a2B3c\nname = Cửa hàng "
                               "Quận 1\nattract = false\n",
                               &c, err, sizeof err),
                     TP_OK);
    assert_string_equal(c.brand.logo, logo);
    assert_string_equal(c.brand.accent, "#1a2B3c");
    assert_string_equal(c.brand.name, "Cửa hàng Quận 1");
    assert_false(c.brand.attract);
    unlink(logo);
    expect_error("[brand]\nlogo = logo.gif\n", 13, "[brand] logo: must be a .png or .svg file");
    snprintf(extra, sizeof extra, "[brand]\nlogo = missing.png\n"); /* the kiosk checks the file */
    assert_int_equal(load_with(extra, &c, err, sizeof err), TP_OK);
    expect_error("[brand]\naccent = teal\n", 13, "[brand] accent: not a colour #RRGGBB");
    expect_error("[brand]\naccent = #12345G\n", 13, "[brand] accent: not a colour #RRGGBB");
    expect_error("[brand]\nname = \xff\xfe\n", 13, "[brand] name: not valid UTF-8");
    expect_error("[brand]\nname = "
                 "0123456789012345678901234567890123456789012345678901234567890123\n",
                 13, "[brand] name: ");
    expect_error("[brand]\nattract = sometimes\n", 13, "[brand] attract: ");
    print_message(
        "checked: [brand] defaults (no logo, #0E6E6E, attract on); a logo resolved "
        "against the config's folder (a missing file is the kiosk's error, not the config's); a "
        "wrong extension, a bad accent, "
        "a name not UTF-8 or too long each name file:line: [brand] key\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defaults_and_relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(every_key_set, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_name_file_line_key, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_strings_and_pin_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_required_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(comma_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(survey_languages, setup, teardown),
        cmocka_unit_test_setup_teardown(config_file_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(brand_section, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
