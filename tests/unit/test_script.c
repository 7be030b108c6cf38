/* test_script.c - unit tests of script.c: every command parses, errors carry line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "script.h"

static void all_commands(void **state)
{
    (void)state;
    const char *text = "# a comment\n"
                       "\n"
                       "tap nps-9\n"
                       "  tap-at 10 20\n"
                       "hold 0 0 3000\n"
                       "advance 5000\r\n"
                       "key alt+f4\n"
                       "screenshot build/shots/a b.png  \n"
                       "expect-screen thanks";
    script *s = NULL;
    char err[256];
    assert_int_equal(script_parse("t.script", text, strlen(text), &s, err, sizeof err), TP_OK);
    assert_int_equal(s->n, 7);
    assert_int_equal(s->cmds[0].op, SCRIPT_TAP);
    assert_string_equal(s->cmds[0].arg, "nps-9");
    assert_int_equal(s->cmds[0].line, 3);
    assert_int_equal(s->cmds[1].op, SCRIPT_TAP_AT);
    assert_int_equal(s->cmds[1].x, 10);
    assert_int_equal(s->cmds[1].y, 20);
    assert_int_equal(s->cmds[2].op, SCRIPT_HOLD);
    assert_int_equal(s->cmds[2].ms, 3000);
    assert_int_equal(s->cmds[3].op, SCRIPT_ADVANCE);
    assert_int_equal(s->cmds[3].ms, 5000);
    assert_int_equal(s->cmds[4].op, SCRIPT_KEY);
    assert_string_equal(s->cmds[4].arg, "alt+f4");
    assert_int_equal(s->cmds[5].op, SCRIPT_SCREENSHOT);
    assert_string_equal(s->cmds[5].arg, "build/shots/a b.png");
    assert_int_equal(s->cmds[6].op, SCRIPT_EXPECT_SCREEN);
    assert_string_equal(s->cmds[6].arg, "thanks");
    assert_int_equal(s->cmds[6].line, 9);
    assert_string_equal(script_op_name(SCRIPT_HOLD), "hold");
    script_free(s);
    script_free(NULL);
    print_message("checked: all 7 commands parse with their arguments and line numbers; blank "
                  "and comment lines skipped, CRLF accepted\n");
}

static void expect_error(const char *text, const char *want)
{
    script *s = NULL;
    char err[256];
    tp_err rc = script_parse("t.script", text, strlen(text), &s, err, sizeof err);
    if (rc == TP_OK)
        fail_msg("'%s' parsed", text);
    assert_null(s);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("'%s':\n got  '%s'\n want '%s'", text, err, want);
}

static void errors_with_line_numbers(void **state)
{
    (void)state;
    expect_error("tap nps-1\nclick 3 4\n", "t.script:2: unknown command 'click'");
    expect_error("tap\n", "t.script:1: tap: expected `tap WIDGET_ID`");
    expect_error("tap a b\n", "t.script:1: tap: expected");
    expect_error("tap no/slash\n", "t.script:1: tap: 'no/slash' is not a widget id");
    expect_error("\n\ntap-at 1\n", "t.script:3: tap-at: expected `tap-at X Y`");
    expect_error("tap-at -1 5\n", "t.script:1: tap-at: X and Y must be");
    expect_error("hold 1 2 3x\n", "t.script:1: hold: MS must be");
    expect_error("advance\n", "t.script:1: advance: expected `advance MS`");
    expect_error("advance 99999999999\n", "t.script:1: advance: MS must be");
    expect_error("key f1\n", "t.script:1: key: unknown key 'f1'");
    expect_error("screenshot\n", "t.script:1: screenshot: expected");
    expect_error("expect-screen\n", "t.script:1: expect-screen: expected");
    print_message("checked: unknown commands, missing/extra arguments, bad numbers, unknown keys "
                  "and bad ids fail with FILE:LINE\n");
}

static void load_missing_file(void **state)
{
    (void)state;
    script *s = NULL;
    char err[256];
    assert_int_equal(script_load("/nonexistent/x.script", &s, err, sizeof err), TP_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "/nonexistent/x.script"));
    print_message("checked: a missing script file is NOT_FOUND naming the file\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_commands),
        cmocka_unit_test(errors_with_line_numbers),
        cmocka_unit_test(load_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
