/* test_settings.c - unit tests of settings.c: a full settings object parses into the struct, each
 * fault is refused with its JSON path, and the checks shared with the INI config (hours, ranges,
 * languages) give the same answers on both sides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

static const char *FULL =
    "{\"timezone\": \"Asia/Ho_Chi_Minh\","
    " \"opening_hours\": {\"mon\": \"07:00-22:00\", \"tue\": \"07:00-22:00\", \"wed\": "
    "\"07:00-22:00\", \"thu\": \"07:00-22:00\", \"fri\": \"07:00-22:00\", \"sat\": \"22:00-02:00\","
    " \"sun\": \"closed\"},"
    " \"languages\": [\"vi\", \"en\"], \"default_language\": \"en\","
    " \"survey\": {\"id\": \"checkout-nps\", \"version\": 2},"
    " \"timing\": {\"thankyou_s\": 4, \"idle_timeout_s\": 30, \"repeat_window_s\": 5},"
    " \"screen\": {\"dim_after_s\": 300, \"dim_level\": 10},"
    " \"brand\": {\"name\": \"C\\u1eeda h\\u00e0ng Q1\", \"accent\": \"#1a73e8\","
    " \"logo_png\": \"iVBORw0KGgo=\"},"
    " \"stage\": \"before\"}";

static void full_object_parses(void **state)
{
    (void)state;
    settings s;
    char err[256] = "";
    assert_int_equal(settings_parse(FULL, strlen(FULL), &s, err, sizeof err), TP_OK);
    assert_string_equal(s.timezone, "Asia/Ho_Chi_Minh");
    assert_true(s.has & SETTINGS_HAS_HOURS);
    assert_int_equal(s.hours[0].open_min, 7 * 60);
    assert_int_equal(s.hours[0].close_min, 22 * 60);
    assert_true(s.hours[6].closed);
    assert_true(settings_hours_open(&s.hours[5], 1 * 60)); /* Saturday over midnight */
    assert_false(settings_hours_open(&s.hours[5], 3 * 60));
    assert_false(settings_hours_open(&s.hours[6], 12 * 60));
    assert_int_equal(s.n_langs, 2);
    assert_string_equal(s.default_lang, "en");
    assert_string_equal(s.survey_id, "checkout-nps");
    assert_int_equal(s.survey_version, 2);
    assert_int_equal(s.thankyou_s, 4);
    assert_int_equal(s.idle_timeout_s, 30);
    assert_int_equal(s.repeat_window_s, 5);
    assert_int_equal(s.dim_after_s, 300);
    assert_int_equal(s.dim_level, 10);
    assert_string_equal(s.brand_name, "C\xe1\xbb\xad"
                                      "a h\xc3\xa0ng Q1");
    assert_int_equal(s.accent_rgb, 0x1a73e8);
    assert_int_equal(s.logo_len, 8);
    assert_int_equal(s.stage, SETTINGS_STAGE_BEFORE);
    settings_release(&s);
    settings_release(NULL);
}

static void empty_object_sets_nothing(void **state)
{
    (void)state;
    settings s;
    assert_int_equal(settings_parse("{}", 2, &s, NULL, 0), TP_OK);
    assert_int_equal(s.has, 0);
    assert_int_equal(settings_parse("{\"opening_hours\": \"always\"}", 27, &s, NULL, 0), TP_OK);
    assert_true(s.hours[3].always);
    settings_release(&s);
}

static void expect(const char *json, const char *want)
{
    settings s;
    char err[256] = "";
    tp_err rc = settings_parse(json, strlen(json), &s, err, sizeof err);
    if (rc == TP_OK)
        fail_msg("'%s' parsed, want '%s'", json, want);
    if (strcmp(err, want) != 0)
        fail_msg("'%s':\n got  '%s'\n want '%s'", json, err, want);
    assert_null(s.logo_png);
}

static void faults_name_their_path(void **state)
{
    (void)state;
    expect("{\"opening_hours\": {\"mon\": \"7-22\", \"tue\": \"closed\"}}",
           "$.settings.opening_hours.mon: expected HH:MM-HH:MM or \"closed\"");
    expect("{\"opening_hours\": {\"mon\": \"closed\"}}",
           "$.settings.opening_hours.tue: missing (give every weekday, or \"always\")");
    expect("{\"opening_hours\": {\"mon\": \"08:00-08:00\"}}",
           "$.settings.opening_hours.mon: opening and closing times are equal (use always)");
    expect("{\"timing\": {\"thankyou_s\": 0}}",
           "$.settings.timing.thankyou_s: 0: out of range 1..60");
    expect("{\"timing\": {\"idle_timeout_s\": 3601}}",
           "$.settings.timing.idle_timeout_s: 3601: out of range 5..3600");
    expect("{\"timing\": {\"idle_s\": 3}}", "$.settings.timing.idle_s: unknown key");
    expect("{\"screen\": {\"dim_level\": 101}}",
           "$.settings.screen.dim_level: 101: out of range 0..100");
    expect("{\"screen\": {\"dim_level\": 1.5}}",
           "$.settings.screen.dim_level: expected a whole number");
    expect("{\"languages\": [\"vi\", \"vi\"]}", "$.settings.languages[1]: language listed twice");
    expect("{\"languages\": [\"vi\", \"en\", \"fr\", \"de\", \"ja\"]}",
           "$.settings.languages[4]: too many languages (at most 4)");
    expect("{\"languages\": [\"vi\"], \"default_language\": \"en\"}",
           "$.settings.default_language: 'en' is not one of $.languages");
    expect("{\"timezone\": \"Mars/Olympus\"}",
           "$.settings.timezone: unknown time zone (not in the zoneinfo database)");
    expect("{\"timezone\": \"../etc/passwd\"}",
           "$.settings.timezone: expected an IANA time zone name (like Asia/Ho_Chi_Minh)");
    expect("{\"survey\": {\"id\": \"x\"}}", "$.settings.survey.version: missing");
    expect("{\"brand\": {\"accent\": \"blue\"}}",
           "$.settings.brand.accent: expected a colour #RRGGBB");
    expect("{\"brand\": {\"logo_png\": \"aGVsbG8=\"}}",
           "$.settings.brand.logo_png: not a PNG image");
    expect("{\"stage\": \"later\"}", "$.settings.stage: expected before, during or after");
    expect("{\"device_id\": \"x\"}", "$.settings.device_id: unknown key");
    expect("[1]", "$.settings: expected an object");
    expect("{", "$.settings: not valid JSON");
}

static void logo_bound(void **state)
{
    (void)state;
    size_t n = (SETTINGS_LOGO_MAX / 3 + 2) * 4;
    char *json = malloc(n + 64);
    assert_non_null(json);
    int w = snprintf(json, 64, "{\"brand\": {\"logo_png\": \"");
    memset(json + w, 'A', n);
    strcpy(json + w + n, "\"}}");
    settings s;
    char err[256];
    assert_int_equal(settings_parse(json, strlen(json), &s, err, sizeof err), TP_ERR_CONFIG);
    assert_string_equal(err, "$.settings.brand.logo_png: logo over 256 KiB");
    free(json);
}

static void shared_checks(void **state)
{
    (void)state;
    settings_hours h;
    /* The INI form refuses "closed" (one daily window), the JSON per-weekday form takes it. */
    assert_string_equal(settings_check_hours("closed", false, &h),
                        "expected always or HH:MM-HH:MM (like 08:00-22:00)");
    assert_null(settings_check_hours("closed", true, &h));
    assert_true(h.closed);
    assert_null(settings_check_hours("22:00-06:00", false, &h));
    assert_true(settings_hours_open(&h, 23 * 60));
    assert_false(settings_hours_open(&h, 12 * 60));
    long n = 0;
    assert_null(settings_check_int_text("60", SETTINGS_THANKYOU_MIN, SETTINGS_THANKYOU_MAX, &n));
    assert_string_equal(settings_check_int_text("61", 1, 60, &n), "out of range");
    char langs[SETTINGS_MAX_LANGS][TP_LANG_MAX + 1];
    int nl = 0;
    assert_null(settings_add_lang(langs, &nl, "vi,en", 2));
    assert_string_equal(langs[0], "vi");
    assert_string_equal(settings_add_lang(langs, &nl, "vi", 2), "language listed twice");
    assert_null(settings_check_timezone("UTC"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_object_parses),     cmocka_unit_test(empty_object_sets_nothing),
        cmocka_unit_test(faults_name_their_path), cmocka_unit_test(logo_bound),
        cmocka_unit_test(shared_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
